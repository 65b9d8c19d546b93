/* bidopen: the state of one opening, shared by bo_session.c (fold, accessors),
 * bo_phase.c (apply: what commands and timers do), bo_bid.c (apply for sealed bids and
 * remote decryption), bo_bid_fold.c (their fold and accessors) and bo_view.c (streams,
 * snapshots). Not a public header. */
#ifndef BO_SESSION_INTERNAL_H
#define BO_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bo/session.h"

#define BO__REASON_MAX_CHARS 500
#define BO__ERROR_MAX_CHARS 200 /* decrypt_diagnostic.error */
#define BO__WINDOW_MIN_S 60
#define BO__WINDOW_MAX_S 86400

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

/** Whether every listed bid is decrypted or classified. */
bool bo__session_all_resolved(const bo_session *s);

/** The state of a listed bid: "submitted", "requested", "decrypted", "revoked" or
 * "withdrawn". */
const char *bo__bid_state(const bo__bid *b);

/** "revoked", "withdrawn"; NULL for NONE. And back: false if neither. */
const char *bo__outcome_name(bo__outcome o);
bool bo__outcome_parse(const char *s, bo__outcome *out);

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

/* ------------------------------------------------------------------ fold ---- */

/** Folds the body of one of the kinds of §10 (and checks it against the state); the state
 * is unchanged on error. Errors: BO_E_BAD_FIELD, BO_E_NOMEM. */
bo_err bo__bid_fold(bo_session *s, const bo_event *ev, const msgpack_object *o);

#endif
