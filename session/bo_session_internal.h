/* bidopen: the state of one opening, shared by bo_session.c (fold, accessors),
 * bo_phase.c (apply: what commands and timers do) and bo_view.c (streams, snapshots).
 * Not a public header. */
#ifndef BO_SESSION_INTERNAL_H
#define BO_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bo/session.h"

#define BO__REASON_MAX_CHARS 500

/* One organisation this opening has heard of: registered, intercepted, or both. */
typedef struct bo__bidder {
    char uscc[19];
    char org[256];
    uint8_t sign_fpr[32];
    uint8_t enc_fpr[32];
    bool registered;  /* a bidder_registered was folded */
    bool signed_in;   /* cleared by a new registration or an interception */
    bool intercepted; /* the last attempt was refused by the blacklist */
    uint64_t stream;  /* events in its b:<uscc> stream */
} bo__bidder;

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
};

/** The bidder with this USCC, or NULL. */
const bo__bidder *bo__session_bidder(const bo_session *s, const char *uscc);

/** Whether a fingerprint is this opening's host. */
bool bo__session_is_host(const bo_session *s, const uint8_t *fpr);

/** Counts as the snapshot and tally show them: registrations that are not intercepted,
 * sign-ins, interceptions. */
void bo__session_counts(const bo_session *s, unsigned *registered, unsigned *signed_in,
                        unsigned *intercepted);

/** Whether the phase is before the deadline (scheduled, checkin, or failed before it). */
bool bo__session_before_deadline(const bo_session *s);

/** Writes "fmt..." into detail (if any) and returns err. */
bo_err bo__session_refuse(char *detail, size_t detail_len, bo_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Adds key: [{uscc, org, signed_in}] of the bidders that count (registered, not
 * intercepted) in USCC order; *count (if not NULL) is their number. */
bo_err bo__session_put_bidders(bo_mpmap *m, const bo_session *s, unsigned *count);

/** Finishes inner (which is freed in any case) and adds it under key to outer. */
bo_err bo__session_put_map(bo_mpmap *outer, const char *key, bo_mpmap *inner);

/** Appends an unsealed event with the given body (taken over: *body is stolen). */
bo_err bo__session_push(bo_event_list *out, bo_event_kind kind, bo_aud aud, const char *uscc,
                        bo_time_ms ts, bo_buf *body);

#endif
