/* bidopen: one opening as a pure state machine.
 *
 *   apply(state, command, actor, now) -> events | error      (state unchanged)
 *   seal(state, events)                -> seq, prev_hash, hash set
 *   fold(state, event)                 -> state'              (the only mutation)
 *
 * No I/O, no clock reads, no randomness it did not receive. The server, the client SDK
 * and the offline verifier all use this same code, so they cannot disagree about what
 * happened. Signature *validity* is checked by the caller (crypto/, on the worker pool)
 * before apply; apply records the signatures and checks role, phase and identity.
 */
#ifndef BO_SESSION_H
#define BO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/err.h"
#include "bo/event.h"
#include "bo/tender.h"
#include "bo/wire.h"

typedef enum bo_role {
    BO_ROLE_NONE = 0,
    BO_ROLE_OPERATOR,
    BO_ROLE_HOST,
    BO_ROLE_SUPERVISOR,
    BO_ROLE_BIDDER,
    BO_ROLE_SITE,
    BO_ROLE_OBSERVER,
    BO_ROLE_SYSTEM, /* timers; never from the wire */
} bo_role;

/** "operator", "host", ...; "none"/"system" for the others. */
const char *bo_role_name(bo_role r);
/** Parse a wire role (operator, host, supervisor, bidder, site, observer).
 * Errors: BO_E_BAD_FIELD. */
bo_err bo_role_parse(const char *s, bo_role *out);

typedef enum bo_phase {
    BO_PHASE_NONE = 0, /* no opening_created yet */
    BO_PHASE_SCHEDULED,
    BO_PHASE_CHECKIN,
    BO_PHASE_AWAITING_OPEN,
    BO_PHASE_DECRYPTING,
    BO_PHASE_ANNOUNCING,
    BO_PHASE_CONFIRMING,
    BO_PHASE_CLOSED,
    BO_PHASE_FAILED,
} bo_phase;

const char *bo_phase_name(bo_phase p);
bo_err bo_phase_parse(const char *s, bo_phase *out);

/* Who issues a command, as the server authenticated them. All pointers are borrowed for
 * the duration of the call. */
typedef struct bo_actor {
    bo_role role;
    uint8_t fpr[32];   /* SHA-256 of the signing certificate; zero for observers/system */
    char uscc[19];     /* bidders: the organisation's USCC; "" otherwise */
    char org[256];     /* organisation (subject O), or the staff/site name */
    char person[128];  /* subject CN */
    bo_bytes_list sign_chain; /* DER, leaf first (bidders, for registration) */
    bo_bytes_list enc_chain;  /* DER, leaf first (bidders, for registration) */
    uint8_t enc_fpr[32];
    bool has_enc;
    uint8_t nonce[32]; /* the connection's hello nonce */
} bo_actor;

typedef enum bo_cmd_type {
    BO_CMD_CREATE = 1,
    BO_CMD_TICK,     /* timers: role SYSTEM; emits due transitions or nothing */
    BO_CMD_REGISTER,
    BO_CMD_SIGNIN,
    BO_CMD_PAUSE,
    BO_CMD_RESUME,
    BO_CMD_FAIL,
    /* sealed bids and remote decryption (docs/protocol.md §10) */
    BO_CMD_SUBMIT,          /* bidder: a stored, checked envelope (server did the checks) */
    BO_CMD_DECRYPT_START,   /* host */
    BO_CMD_DECRYPT_REFUSED, /* system: a bidder's decrypt_response was refused (code) */
    BO_CMD_DECRYPT_DIAG,    /* bidder: decrypt_failed with its diagnostics */
    BO_CMD_BID_DECRYPTED,   /* system: the server opened a bid; form extracted */
    BO_CMD_DECRYPT_EXTEND,  /* host, once */
    BO_CMD_CLASSIFY,        /* host: 撤销 (revoked) or 撤回 (withdrawn) after the window */
    BO_CMD_DECRYPT_REISSUE, /* system: a new decrypt_request for cmd->uscc (the node that got
                               the response lost the request's key: restart, other node) */
    /* announcement, draws, confirmation and the record (docs/protocol.md §11); the
     * confirmation window's end is a TICK */
    BO_CMD_ANNOUNCE,     /* host: the next bid (cmd->all: every bid that remains) */
    BO_CMD_DRAW,         /* host: cmd->draw with the server's revealed cmd->seed */
    BO_CMD_BENCHMARK,    /* host */
    BO_CMD_CONFIRM_OPEN, /* host: cmd->window_s (0: 600 s) */
    BO_CMD_CONFIRM,      /* bidder: cmd->record_hash, cmd->sig (ctx "confirm") */
    BO_CMD_OBJECT,       /* bidder: cmd->text, cmd->sig (ctx "objection") */
    BO_CMD_ANSWER,       /* host: cmd->objection, cmd->text, cmd->sig (ctx "answer") */
    BO_CMD_MESSAGE,      /* host, supervisor, site, bidder: cmd->text */
    BO_CMD_CLOSE,        /* host */
} bo_cmd_type;

/* A decryption request the server prepared for one bidder (fresh X25519 key, signed):
 * apply turns each into a decrypt_request event in that bidder's stream. */
typedef struct bo_decrypt_req {
    char uscc[19];
    char req[33];          /* request id: 32 hex characters */
    uint8_t server_pub[32];
    bo_bytes sig;          /* server signature, ctx "decrypt_request" */
} bo_decrypt_req;

/* What the server knows about a stored envelope (BO_CMD_SUBMIT). */
typedef struct bo_bid_info {
    uint8_t hash[32];     /* SHA-256 of the envelope file */
    uint64_t size;
    uint8_t commit[32];   /* key commitment the bidder sent */
    const char *cipher;   /* "aes-256-gcm" or "aes-256-cbc" */
    bo_bytes ri;          /* DER of the RecipientInfo for the registered encryption cert */
    bo_bytes receipt_sig; /* server signature over the receipt (ctx "receipt"), ts = now */
} bo_bid_info;

typedef struct bo_cmd {
    bo_cmd_type type;
    const bo_actor *actor;
    bo_time_ms now; /* server clock; becomes the events' ts */
    /* create */
    const bo_tender *tender;
    uint8_t seed_commit[32]; /* SHA-256 of the server's secret seed for later draws */
    /* register, signin, confirm (ctx "confirm"), object ("objection"), answer ("answer"):
     * the caller verified sig against the actor's certificate */
    bo_bytes sig;
    /* pause, fail */
    const char *reason;
    /* register, signin: the caller looked the USCC up on the credit blacklist */
    bool blacklisted;
    const char *bl_reason; /* when blacklisted */
    const char *bl_source;
    /* submit */
    const bo_bid_info *bid;
    /* decrypt_start, signin while decrypting: requests for the bidders that get one now
     * (bo_session_decrypt_due tells which); others are ignored */
    const bo_decrypt_req *reqs;
    size_t n_reqs;
    uint32_t window_s; /* decrypt_start: 0 = the tender's; decrypt_extend: seconds;
                          confirm_open: 0 = 600 s */
    /* decrypt_refused, decrypt_diag, bid_decrypted, classify: the bidder concerned (system
     * commands; for decrypt_diag the actor's USCC is used) */
    const char *uscc;
    const char *req;  /* decrypt_refused, decrypt_diag */
    bo_err code;      /* decrypt_refused */
    const char *stage, *error; /* decrypt_diag */
    uint8_t cert_fpr[32];      /* decrypt_diag */
    bo_bytes form;    /* bid_decrypted: canonical msgpack map of the opening form */
    /* bid_decrypted: the decrypt_response the bid was opened with, recorded as evidence
     * (bid_decrypted.resp) so that anyone can check the bidder's signature (ctx
     * "decrypt_response" over [oid, uscc, req, bid, client_pub, wrapped]). resp_req NULL
     * records none; otherwise all four are required (resp_wrapped 1..256 bytes, resp_sig
     * 1..1024 bytes, resp_req 32 lowercase hex characters). */
    const char *resp_req;
    uint8_t resp_client_pub[32];
    bo_bytes resp_wrapped;
    bo_bytes resp_sig;
    const char *outcome; /* classify: "revoked" or "withdrawn" */
    /* announcement, draws, confirmation (§11); sig and window_s above serve them too */
    bool all;                /* announce: every bid that remains */
    const char *draw;        /* draw: the id of the tender's draw */
    uint8_t seed[32];        /* draw: the seed whose SHA-256 is opening_created.seed_commit */
    uint8_t record_hash[32]; /* confirm: the hash the bidder signed */
    const char *text;        /* object, answer, message */
    uint64_t objection;      /* answer: the objection's n */
} bo_cmd;

/* What apply tells the caller besides the events. */
typedef struct bo_apply_info {
    bool needs_head;      /* a phase changed: the caller appends a signed head after these */
    bool already;         /* signin repeated: nothing to append, reply ok{already:true} */
    bool replaced;        /* register repeated with other certificates */
    bo_err refuse_after;  /* non-OK: append the events (e.g. an interception) but reply
                             with this error (e.g. BO_E_BLACKLISTED) */
} bo_apply_info;

typedef struct bo_session bo_session;

/** A new, empty opening (phase NONE, seq 0). Ownership: free with bo_session_free.
 * Errors: NULL with *err = BO_E_NOMEM or BO_E_BAD_FIELD (invalid oid). */
bo_session *bo_session_new(const char *oid, bo_err *err);
void bo_session_free(bo_session *s);

/** Decide what a command does. On success *out holds the new events (unsealed: seq and
 * hashes are not set) and *info is filled; the state is not changed. On refusal returns
 * the error (BO_E_FORBIDDEN, BO_E_NOT_HOST, BO_E_PHASE, BO_E_PAUSED, BO_E_QUORUM,
 * BO_E_NOT_REGISTERED, BO_E_DEADLINE_PASSED, BO_E_EXISTS, BO_E_BAD_TENDER,
 * BO_E_OBJECTION_PENDING, BO_E_RATE_LIMITED, ...), out is
 * empty and detail (if not NULL) explains it in one sentence for the user.
 * Ownership: *out is the caller's (bo_event_list_cleanup). Context: any thread. */
bo_err bo_session_apply(const bo_session *s, const bo_cmd *cmd, bo_event_list *out,
                        bo_apply_info *info, char *detail, size_t detail_len);

/** Build the head_signed event covering the state *after* the given sealed events would be
 * folded (last_seq, last_hash), with the server's signature (ctx "head", payload
 * [oid, last_seq, last_hash, ts]) and key fingerprint. The audience follows the phase.
 * Appends one unsealed event to out. */
bo_err bo_session_head_event(const bo_session *s, bo_phase phase_after, uint64_t last_seq,
                             const uint8_t last_hash[32], bo_time_ms ts, const uint8_t *sig,
                             size_t sig_len, const uint8_t key_fpr[32], bo_event_list *out);

/** The canonical payload a chain head signature covers (ctx "head"). */
bo_err bo_session_head_payload(const char *oid, uint64_t seq, const uint8_t hash[32],
                               bo_time_ms ts, bo_buf *out);

/** Assign seq, prev_hash and hash to unsealed events, continuing the state's chain
 * (the first gets seq = current seq + 1). The state is not changed. */
bo_err bo_session_seal(const bo_session *s, bo_event_list *evs);

/** Apply one sealed event: checks seq == current + 1, prev_hash == current head and the
 * hash, then moves the state and writes the event's stream positions (ev->pub_pos,
 * ev->priv_pos). Errors: BO_E_CONFLICT (wrong seq or prev), BO_E_BAD_FIELD (bad hash or
 * body); the state is unchanged on error. Context: any thread, one caller per session. */
bo_err bo_session_fold(bo_session *s, bo_event *ev);

/* ---- reading the state ---- */
const char *bo_session_oid(const bo_session *s);
uint64_t bo_session_seq(const bo_session *s);
const uint8_t *bo_session_head(const bo_session *s); /* 32 bytes */
bo_phase bo_session_phase(const bo_session *s);
bool bo_session_paused(const bo_session *s);
const bo_tender *bo_session_tender(const bo_session *s); /* NULL before opening_created */
const uint8_t *bo_session_host_fpr(const bo_session *s);   /* 32 bytes */
/** Number of pub events so far, and of events in the staff stream and in one bidder's. */
uint64_t bo_session_pub_count(const bo_session *s);
uint64_t bo_session_staff_count(const bo_session *s);
uint64_t bo_session_bidder_count(const bo_session *s, const char *uscc);
/** Whether a USCC is registered / signed in. */
bool bo_session_is_registered(const bo_session *s, const char *uscc);
bool bo_session_is_signed_in(const bo_session *s, const char *uscc);
/** Counts. */
void bo_session_counts(const bo_session *s, unsigned *registered, unsigned *signed_in,
                       unsigned *intercepted);
/** Whether the list of bidders is public (the deadline has passed). */
bool bo_session_revealed(const bo_session *s);

/** The next time at which a TICK would change something, or 0 if none (paused, closed,
 * failed, or no timer in this phase). */
bo_time_ms bo_session_next_timer(const bo_session *s);

/* ---- sealed bids ---- */

/* One bidder's bid as the state knows it. Pointers are valid until the next fold. */
typedef struct bo_bid_view {
    char uscc[19];
    char org[256];
    uint8_t hash[32];
    uint64_t size;
    uint8_t commit[32];
    char cipher[16];
    bo_bytes ri;
    uint8_t sign_fpr[32]; /* the registered signing certificate (package signature) */
    bo_bytes sign_chain;  /* its DER (leaf) */
    bo_time_ms ts;        /* when the server accepted the bid (the receipt's ts) */
    bo_bytes receipt_sig; /* the receipt's signature from bid_submitted */
    bool signed_in;
    bool decrypted;
    bool classified;
    char req[33];           /* the current decryption request, "" if none */
    uint8_t server_pub[32]; /* of that request */
} bo_bid_view;

/** The current bid of a bidder; false if it has none. */
bool bo_session_bid(const bo_session *s, const char *uscc, bo_bid_view *out);

/** The bidder whose current request has this id; false if none (unknown, or superseded). */
bool bo_session_find_request(const bo_session *s, const char *req, bo_bid_view *out);

/** The bidders that need a decryption request if the given command were applied now:
 * for decrypt_start (in awaiting_open) every signed-in bidder with a bid opened here; for a
 * signin during decrypting with the window open that bidder (uscc) if it is not signed in
 * yet, has a bid not yet decrypted or classified, and no request; for a reissue that bidder
 * if it is signed in and its bid, neither decrypted nor classified, has a request (which the
 * new one supersedes) while the window is open. apply refuses the command (BO_E_INVALID_ARG)
 * when one of them has no request in cmd->reqs. Fills up to max USCCs in USCC order, returns
 * how many it wrote. */
size_t bo_session_decrypt_due(const bo_session *s, bo_cmd_type type, const char *uscc,
                              char (*out)[19], size_t max);

/** Whether decrypt_response and decrypt_failed are still accepted at now: decrypting, and
 * the window not closed (its end not reached, or the opening paused, which freezes it). */
bool bo_session_window_open(const bo_session *s, bo_time_ms now);

/** Decryption progress: bids to open, decrypted, classified; the window's end (0 if none).
 * Any pointer may be NULL. */
void bo_session_decrypt_progress(const bo_session *s, unsigned *bids, unsigned *decrypted,
                                 unsigned *classified, bo_time_ms *ends_at);

/* ---- announcement, draws, confirmation, the record (docs/protocol.md §11) ---- */

/** The opening's seed commitment (opening_created.seed_commit), 32 bytes. */
const uint8_t *bo_session_seed_commit(const bo_session *s);

/** Announcement progress: bids announced so far and bids to announce (the opened bids,
 * 0 before the deadline). Any pointer may be NULL. */
void bo_session_announce_progress(const bo_session *s, unsigned *announced, unsigned *total);

/** Whether the tender's draw id has been made. */
bool bo_session_draw_done(const bo_session *s, const char *id);

/** Whether the benchmark price has been computed. */
bool bo_session_benchmark_done(const bo_session *s);

/** The record hash bidders confirm (confirmation_opened.record_hash) into out; false before
 * the confirmation window opened. */
bool bo_session_confirm_hash(const bo_session *s, uint8_t out[32]);

/** The hash of the final record (opening_closed.record_hash) into out; false before close. */
bool bo_session_closed_hash(const bo_session *s, uint8_t out[32]);

/** Whether confirm and object are still accepted at now: confirming, the window opened and
 * not closed (its end not reached, or the opening paused, which freezes it). */
bool bo_session_confirm_window_open(const bo_session *s, bo_time_ms now);

/** Whether every objection has been answered (true when there are none). */
bool bo_session_objections_answered(const bo_session *s);

/** The opening record (开标记录, docs/protocol.md §11) as canonical msgpack, appended to
 * out: a pure function of the log, self-contained (the tender with its title, lot, buyer,
 * agency and times; every opened bid with its status, announcement, form and the bidder's
 * decryption evidence; draws with their seed and inputs; the benchmark price; the
 * confirmation window, objections with their answers and every valid bidder's
 * confirmation; the chain head it covers). Once the opening is closed it is the record
 * whose SHA-256 opening_closed carries, byte for byte; before, it is the record as it
 * stands (the head is the current one). Everything in it comes from public events.
 * Errors: BO_E_NOT_FOUND (no opening_created yet), BO_E_NOMEM, BO_E_TOO_BIG (out's cap).
 * Ownership: out is the caller's. Context: any thread, no concurrent fold. */
bo_err bo_session_record(const bo_session *s, bo_buf *out);

/** The record bidders confirmed, derived from a later record of the same opening (one whose
 * confirmation window has opened: the final record, say): without confirmation,
 * objections, confirmations and failed_reason, phase "announcing", the timeline up to
 * announcing and head = confirmation.head. Its SHA-256 (bo_sigpayload_record_hash) is
 * confirmation.record_hash, which every confirmation and objection signed: an offline
 * verifier checks them from the record alone. Appends canonical msgpack to out.
 * Errors: BO_E_BAD_FIELD (not a record with a confirmation), BO_E_MALFORMED,
 * BO_E_TOO_BIG, BO_E_TOO_DEEP, BO_E_TOO_MANY, BO_E_NOMEM; out unchanged on error.
 * Context: any thread. */
bo_err bo_record_confirmable(const uint8_t *record_mp, size_t len, bo_buf *out);

/* The payloads of the signatures above are built by bo/sigpayload.h. */

/* ---- views, streams and snapshots ---- */

/* Who is looking. */
typedef struct bo_view {
    bo_role role;
    const uint8_t *fpr; /* 32 bytes or NULL; a host is this opening's host if it matches */
    const char *uscc;   /* bidders */
} bo_view;

typedef enum bo_stream {
    BO_STREAM_NONE = 0, /* not visible to this view */
    BO_STREAM_PUB,
    BO_STREAM_STAFF,
    BO_STREAM_BIDDER,
    BO_STREAM_ALL, /* supervisors: everything, by global seq */
} bo_stream;

/** "pub", "staff", "b", "all". */
const char *bo_stream_name(bo_stream st);

/** The private stream a view reads besides pub (STAFF for this opening's host, BIDDER for a
 * bidder, ALL for supervisors, NONE otherwise). */
bo_stream bo_session_private_stream(const bo_session *s, const bo_view *v);

/** Through which stream a view receives an event (after fold set its positions), or NONE. */
bo_stream bo_session_event_stream(const bo_session *s, const bo_view *v, const bo_event *ev);

/** Snapshot of the opening as this view may see it (docs/protocol.md §7), canonical
 * msgpack map appended to out. now is the server time written into it. */
bo_err bo_session_snapshot(const bo_session *s, const bo_view *v, bo_time_ms now, bo_buf *out);

#endif
