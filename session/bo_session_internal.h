/* bidopen: the state of one opening, shared by bo_session.c (fold, accessors),
 * bo_phase.c (apply: what commands and timers do), bo_bid.c (apply for sealed bids and
 * remote decryption), bo_bid_fold.c (their fold and accessors) and bo_view.c (streams,
 * snapshots). Not a public header. */
#ifndef BO_SESSION_INTERNAL_H
#define BO_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bo/decimal.h"
#include "bo/session.h"

#define BO__REASON_MAX_CHARS 500
#define BO__ERROR_MAX_CHARS 200 /* decrypt_diagnostic.error */
#define BO__WINDOW_MIN_S 60
#define BO__WINDOW_MAX_S 86400
#define BO__CONFIRM_WINDOW_S 600    /* confirm_open's default window */
#define BO__FORM_ERROR_MAX 160      /* bytes of a form_error */
#define BO__OBJECTIONS_PER_BIDDER 5
#define BO__OBJECTIONS_MAX 100      /* per opening */
#define BO__MESSAGE_GAP_MS 5000     /* one message per 5 s per participant */
#define BO__NAME_MAX 256            /* bytes of a message's from */

/* How a bid that was not decrypted in the window was classified (20号令 §31). */
typedef enum bo__outcome {
    BO__OUTCOME_NONE = 0,
    BO__OUTCOME_REVOKED,   /* 撤销: the bidder caused it */
    BO__OUTCOME_WITHDRAWN, /* 撤回: someone else did */
} bo__outcome;

/* A bidder's current sealed bid and its decryption. Owns ri, receipt_sig, sign_cert and
 * req_body (malloc). */
typedef struct bo__bid {
    bool present;
    uint8_t hash[32];
    uint64_t size;
    uint8_t commit[32];
    char cipher[16];
    bo_time_ms ts;
    uint8_t *ri;
    size_t ri_len;
    uint8_t *receipt_sig;
    size_t receipt_sig_len;
    uint8_t sign_fpr[32]; /* the registration's signing certificate when it was submitted */
    uint8_t *sign_cert;
    size_t sign_cert_len;
    bool listed; /* named in bidders_revealed: this bid is opened */
    char req[33]; /* the current decrypt_request, "" if none */
    uint8_t server_pub[32];
    uint8_t *req_body; /* that event's body (canonical), for the bidder's snapshot */
    size_t req_body_len;
    bool decrypted;
    bool formed; /* its bid_form was folded */
    bo__outcome outcome;
    /* the opening form and the announcement (docs/protocol.md §11) */
    uint64_t seq;        /* of its bid_submitted: the order bids were accepted */
    char form_error[BO__FORM_ERROR_MAX]; /* from bid_decrypted; "" when well-formed */
    uint8_t *form;       /* canonical, from bid_form */
    size_t form_len;
    uint8_t *resp;       /* bid_decrypted.resp (canonical map), the bidder's evidence */
    size_t resp_len;
    char *reason;        /* bid_classified.reason */
    unsigned announced;  /* its n in the announcement; 0 before */
} bo__bid;

/* One organisation this opening has heard of: registered, intercepted, or both. */
typedef struct bo__bidder {
    char uscc[19];
    char org[256];
    uint8_t sign_fpr[32];
    uint8_t enc_fpr[32];
    uint8_t *sign_cert; /* leaf of the registered sign_chain (malloc) */
    size_t sign_cert_len;
    bool registered;  /* a bidder_registered was folded */
    bool signed_in;   /* cleared by a new registration or an interception */
    bool intercepted; /* the last attempt was refused by the blacklist */
    uint64_t stream;  /* events in its b:<uscc> stream */
    bo__bid bid;
    uint8_t *signin_sig; /* of its last bidder_signed_in (draw inputs) */
    size_t signin_sig_len;
    /* confirmation (§11) */
    bool confirmed;
    bo_time_ms confirmed_at;
    uint8_t *confirm_sig;
    size_t confirm_sig_len;
    unsigned objections; /* raised */
    bool spoke;          /* sent a message */
    bo_time_ms last_message;
} bo__bidder;

/* The decryption window (decryption_started onwards). */
typedef struct bo__decrypt {
    bool started;
    uint32_t window_s;
    bo_time_ms ends_at; /* moved by decryption_extended and by resumed */
    unsigned bids;      /* bids to open */
    bool extended;
    bool window_closed;
} bo__decrypt;

/* The phases an opening went through, for the record. */
typedef struct bo__entered {
    bo_phase phase;
    bo_time_ms at;
} bo__entered;
#define BO__TIMELINE_MAX 16

/* A draw of the tender that has been made (draw_result). */
typedef struct bo__drawn {
    bool done;
    bo_time_ms at;
    bo_decimal value; /* coefficient */
    uint8_t *body;    /* the draw_result body (canonical) */
    size_t body_len;
} bo__drawn;

/* An objection and its answer. Owns text, sig, answer, answer_sig. */
typedef struct bo__objection {
    unsigned n;
    char uscc[19];
    char *text;
    uint8_t *sig;
    size_t sig_len;
    bo_time_ms at;
    bool answered;
    char *answer;
    uint8_t *answer_sig;
    size_t answer_sig_len;
    uint8_t host_fpr[32];
    bo_time_ms answered_at;
} bo__objection;

/* The last message of a participant who is not a bidder (host, supervisor, site). */
typedef struct bo__speaker {
    bo_role role;
    uint8_t fpr[32];
    bo_time_ms last;
} bo__speaker;

/* The confirmation of the record (confirmation_opened onwards). */
typedef struct bo__confirm {
    bool opened;
    uint8_t record_hash[32]; /* what bidders confirm */
    uint64_t head_seq;       /* the head that record covers */
    uint8_t head_hash[32];
    bo_time_ms opened_at;
    bo_time_ms ends_at;      /* moved by resumed */
    bool window_closed;
    bool closed;             /* opening_closed was folded */
    uint8_t final_hash[32];  /* its record_hash */
    uint64_t final_seq;      /* the head the final record covers */
    uint8_t final_head[32];
    bo_time_ms closed_at;
} bo__confirm;

struct bo_session {
    char oid[65];
    uint64_t seq;
    uint8_t head[32];
    bo_phase phase;
    bool paused;
    bo_time_ms paused_at;
    bool has_tender;
    bo_tender tender;
    uint8_t *tender_mp; /* the tender as stored in opening_created (canonical) */
    size_t tender_len;
    uint8_t host_fpr[32];
    uint8_t seed_commit[32];
    char failed_reason[2001]; /* 500 characters of up to 4 bytes */
    bool revealed;            /* bidders_revealed was folded: the deadline has passed */
    bool quorum;
    bo__bidder *bidders; /* sorted by uscc */
    size_t n_bidders, alloc_bidders;
    uint64_t pub_count, staff_count;
    bo__decrypt dec;
    /* announcement, draws, confirmation (docs/protocol.md §11) */
    char host_name[BO__NAME_MAX];
    bo__entered timeline[BO__TIMELINE_MAX];
    size_t n_timeline;
    unsigned announced;          /* bids announced so far */
    bo__drawn drawn[BO_TENDER_MAX_DRAWS]; /* by the tender's draw index */
    char (*order)[19];           /* the order draw's result: the valid bids */
    size_t n_order;
    uint8_t *benchmark;          /* the benchmark_price body (canonical) */
    size_t benchmark_len;
    bo_time_ms benchmark_at;
    bo__confirm conf;
    bo__objection *objections;
    size_t n_objections;
    bo__speaker *speakers;
    size_t n_speakers;
};

/* ------------------------------------------------------------------ state ---- */

/** The bidder with this USCC, or NULL. */
const bo__bidder *bo__session_bidder(const bo_session *s, const char *uscc);

/** Whether a fingerprint is this opening's host. */
bool bo__session_is_host(const bo_session *s, const uint8_t *fpr);

/* Counts as the snapshot and tally show them. */
typedef struct bo__counts {
    unsigned registered;  /* registered and not intercepted */
    unsigned signed_in;
    unsigned intercepted;
    unsigned submitted;   /* of the registered: with a bid */
} bo__counts;

/** The counts now, or as they would be if the bidder with changed->uscc were *changed
 * (added if new); changed may be NULL. */
bo__counts bo__session_counts_if(const bo_session *s, const bo__bidder *changed);

/** Whether the phase is before the deadline (scheduled, checkin, or failed before it). */
bool bo__session_before_deadline(const bo_session *s);

/** Bids opened at this opening (listed), decrypted, classified. */
void bo__session_bid_counts(const bo_session *s, unsigned *bids, unsigned *decrypted,
                            unsigned *classified);

/** The end of the window that is open now (decryption's while decrypting, confirmation's
 * while confirming), 0 if none: a pause freezes it and resume moves it. */
bo_time_ms bo__session_open_window_end(const bo_session *s);

/** Whether every listed bid is decrypted or classified. */
bool bo__session_all_resolved(const bo_session *s);

/** The state of a listed bid: "submitted", "requested", "decrypted", "revoked" or
 * "withdrawn". */
const char *bo__bid_state(const bo__bid *b);

/** "revoked", "withdrawn"; NULL for NONE. And back: false if neither. */
const char *bo__outcome_name(bo__outcome o);
bool bo__outcome_parse(const char *s, bo__outcome *out);

/** Whether a listed bid is valid: decrypted, not classified, its form well-formed. */
bool bo__bid_valid(const bo__bid *b);
/** Valid bids now (listed ones). */
unsigned bo__session_valid_count(const bo_session *s);
/** "valid", "invalid", "revoked", "withdrawn" or "missing" (neither decrypted nor
 * classified) for a listed bid. */
const char *bo__bid_status(const bo__bid *b);

/** Whether s is a decryption request id: 32 lowercase hexadecimal characters. */
bool bo__req_valid(const char *s);

/** Whether a cipher name is one bidopen accepts ("aes-256-gcm", "aes-256-cbc"). */
bool bo__cipher_valid(const char *s);

/** Releases what a bid owns and zeroes it. */
void bo__bid_cleanup(bo__bid *b);

/** Writes "fmt..." into detail (if any) and returns err. */
bo_err bo__session_refuse(char *detail, size_t detail_len, bo_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- bodies ---- */

/* Which bidders a list shows (bo__session_put_bidders). */
typedef enum bo__list {
    BO__LIST_REGISTERED, /* registered, not intercepted: {uscc, org, signed_in, bid?} */
    BO__LIST_BIDS,       /* those of them with a bid: {uscc, org, signed_in, bid} */
    BO__LIST_OPENED,     /* the listed bids: {uscc, org, signed_in, bid, state} */
} bo__list;

/** Adds "bidders": [...] in USCC order; *count (if not NULL) is their number. */
bo_err bo__session_put_bidders(bo_mpmap *m, const bo_session *s, bo__list which,
                               unsigned *count);

/** Finishes inner (which is freed in any case) and adds it under key to outer. */
bo_err bo__session_put_map(bo_mpmap *outer, const char *key, bo_mpmap *inner);

/** Appends an unsealed event with the given body (taken over: *body is stolen). */
bo_err bo__session_push(bo_event_list *out, bo_event_kind kind, bo_aud aud, const char *uscc,
                        bo_time_ms ts, bo_buf *body);

/** A string member of a body, copied NUL-terminated; false if absent, too long for n or not
 * clean UTF-8. */
bool bo__body_str(const msgpack_object *o, const char *key, char *dst, size_t n);
/** A bin member of exactly 32 bytes. */
bool bo__body_fpr(const msgpack_object *o, const char *key, uint8_t out[32]);
/** A text of 1..max characters (reason, error: 0..max when empty_ok). */
bool bo__text_ok(const char *s, size_t len, size_t max_chars, bool empty_ok);

/* ----------------------------------------------------------------- apply ---- */

/* One apply in progress. */
typedef struct bo__actx {
    const bo_session *s;
    const bo_cmd *cmd;
    const bo_actor *a;
    bo_event_list *evs;
    bo_apply_info *info;
    char *detail;
    size_t detail_len;
    /* a bid this command decrypts (not yet folded) and whether it is valid: counted when
     * the opening moves to announcing in the same command */
    const bo__bidder *pending;
    bool pending_valid;
} bo__actx;

#define BO__REFUSE(c, err, ...) bo__session_refuse((c)->detail, (c)->detail_len, err, __VA_ARGS__)

/** Finishes a body map (freed in any case) and appends the event (ts = cmd->now). */
bo_err bo__apply_emit(bo__actx *c, bo_mpmap *m, bo_event_kind kind, bo_aud aud,
                      const char *uscc);
/** phase_changed {from, to, reason?}; sets info->needs_head. */
bo_err bo__apply_phase(bo__actx *c, bo_phase from, bo_phase to, const char *reason);
/** tally with counts n and cause. */
bo_err bo__apply_tally(bo__actx *c, bo__counts n, const char *cause);
/** bidder_intercepted and its tally; info->refuse_after = BO_E_BLACKLISTED. */
bo_err bo__apply_intercept(bo__actx *c, const bo__bidder *b);

/* Guards: BO_E_OK, or the refusal with its detail written. */
bo_err bo__need_opening(bo__actx *c);
bo_err bo__need_not_over(bo__actx *c);
bo_err bo__need_host(bo__actx *c, bool operator_too);
bo_err bo__need_role(bo__actx *c, bo_role role);
bo_err bo__need_host_may_act(bo__actx *c);
bo_err bo__need_reason(bo__actx *c);

/* The commands of sealed bids and remote decryption (bo_bid.c). */
bo_err bo__apply_submit(bo__actx *c);
bo_err bo__apply_decrypt_start(bo__actx *c);
bo_err bo__apply_decrypt_refused(bo__actx *c);
bo_err bo__apply_decrypt_diag(bo__actx *c);
bo_err bo__apply_bid_decrypted(bo__actx *c);
bo_err bo__apply_decrypt_extend(bo__actx *c);
bo_err bo__apply_classify(bo__actx *c);
bo_err bo__apply_decrypt_reissue(bo__actx *c);
/** After a sign-in during decrypting: its decrypt_request when due. */
bo_err bo__apply_signin_request(bo__actx *c, const bo__bidder *b);
/** The timer of the decryption window (TICK in decrypting, not paused). */
bo_err bo__apply_window_tick(bo__actx *c);

/* The commands of announcement, draws and confirmation (bo_announce.c). */
bo_err bo__apply_announce(bo__actx *c);
bo_err bo__apply_draw(bo__actx *c);
bo_err bo__apply_benchmark(bo__actx *c);
bo_err bo__apply_confirm_open(bo__actx *c);
bo_err bo__apply_confirm(bo__actx *c);
bo_err bo__apply_object(bo__actx *c);
bo_err bo__apply_answer(bo__actx *c);
bo_err bo__apply_message(bo__actx *c);
bo_err bo__apply_close(bo__actx *c);
/** The timer of the confirmation window (TICK in confirming, not paused). */
bo_err bo__apply_confirm_tick(bo__actx *c);

/* ------------------------------------------------------- §11 computations ---- */
/* Pure functions of the state shared by apply (which builds the bodies) and fold (which
 * rebuilds them and compares bytes), in bo_compute.c. */

/** The listed bids in the tender's announcement order (BO_ORDER_DRAW: the valid bids in the
 * order draw's order, then the others in USCC order; before that draw only *n = 0). out
 * holds s->n_bidders entries. Errors: BO_E_PHASE (the order draw is not made yet). */
bo_err bo__announce_order(const bo_session *s, const bo__bidder **out, size_t *n);

/** The bid announced next, NULL when every bid is. Errors as bo__announce_order, NOMEM. */
bo_err bo__announce_next(const bo_session *s, const bo__bidder **out);

/** bid_announced {n, uscc, org, status, bid, fields? form_error? commit? signin_sig?}. */
bo_err bo__body_announced(const bo_session *s, const bo__bidder *b, unsigned n, bo_buf *out);

/** The draw_result body {id, kind, seed, inputs, value? | order?} of draw d of opening oid
 * from its seed and inputs; valid: the USCCs of the valid bids (an order draw sorts them by
 * HMAC-SHA256(seed, ...), protocol.md §11). The one derivation the session and the
 * verifier's recomputation share. Errors: BO_E_INVALID_ARG (a coefficient draw without
 * values), BO_E_NOMEM. */
bo_err bo__draw_body(const char *oid, const bo_tender_draw *d, const uint8_t seed[32],
                     const uint8_t inputs[32], const char *const *valid, size_t n_valid,
                     bo_buf *out);

/** draw_result {id, kind, seed, inputs, value? | order?} of the tender's draw d with seed. */
bo_err bo__body_draw(const bo_session *s, const bo_tender_draw *d, const uint8_t seed[32],
                     bo_buf *out);

/** benchmark_price {value, mean, sum, count, inputs, dropped, coefficient, rule}. Errors:
 * BO_E_TOO_BIG (out of the decimal range), BO_E_PHASE (coefficient not drawn). */
bo_err bo__body_benchmark(const bo_session *s, bo_buf *out, char *detail, size_t detail_len);

/** The coefficient a draw gave (the draw is done), false if not. */
bool bo__drawn_value(const bo_session *s, const char *id, bo_decimal *out);

/** Whether every valid bidder has confirmed. */
bool bo__all_confirmed(const bo_session *s);
/** Valid bidders who neither confirmed nor objected, in USCC order, as a msgpack array. */
bo_err bo__put_undecided(const bo_session *s, bo_buf *out, unsigned *n);
/** Valid bidders who confirmed, in USCC order, as a msgpack array. */
bo_err bo__put_confirmed(const bo_session *s, bo_buf *out, unsigned *n);

/** confirmation_window_closed {deemed}. */
bo_err bo__body_window_closed(const bo_session *s, bo_buf *out);
/** opening_closed {record_hash, confirmed, deemed} when closing at at. */
bo_err bo__body_closed(const bo_session *s, bo_time_ms at, bo_buf *out);

/** The record (docs/protocol.md §11) as it stands (closing_at NULL), or as it will be when
 * closed at *closing_at (the close command: the head is the current one). Canonical. */
bo_err bo__record(const bo_session *s, const bo_time_ms *closing_at, bo_buf *out);
/** SHA-256 of that record. */
bo_err bo__record_hash(const bo_session *s, const bo_time_ms *closing_at, uint8_t out[32]);

/* ------------------------------------------------------------------ fold ---- */

/** Folds the body of one of the kinds of §10 (and checks it against the state); the state
 * is unchanged on error. Errors: BO_E_BAD_FIELD, BO_E_NOMEM. */
bo_err bo__bid_fold(bo_session *s, const bo_event *ev, const msgpack_object *o);

/** Folds the body of one of the kinds of §11 (bo_announce_fold.c). */
bo_err bo__announce_fold(bo_session *s, const bo_event *ev, const msgpack_object *o);

/** Frees what the §11 state owns (objections, speakers, draws, order, benchmark). */
void bo__announce_cleanup(bo_session *s);

/** A copy of n bytes (NULL on NOMEM; 1 byte allocated for n == 0). */
uint8_t *bo__dup(const void *p, size_t n);

#endif
