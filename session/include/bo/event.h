/* bidopen: events of an opening's log, their hash chain and their encodings.
 *
 * Storage record (one Redis stream entry, field "e"), canonical msgpack map:
 *   {aud, body, hash, kind, prev, seq, ts}
 * Wire frame (docs/protocol.md §7):
 *   {t:"ev", oid, st, seq, at?, ts, kind, body, hash}
 */
#ifndef BO_EVENT_H
#define BO_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/err.h"

typedef enum bo_event_kind {
    BO_EV_NONE = 0,
    BO_EV_OPENING_CREATED,
    BO_EV_PHASE_CHANGED,
    BO_EV_BIDDER_REGISTERED,
    BO_EV_TALLY,
    BO_EV_BIDDER_SIGNED_IN,
    BO_EV_BIDDER_INTERCEPTED,
    BO_EV_BIDDERS_REVEALED,
    BO_EV_PAUSED,
    BO_EV_RESUMED,
    BO_EV_HEAD_SIGNED,
    /* sealed bids and remote decryption (docs/protocol.md §10) */
    BO_EV_BID_SUBMITTED,
    BO_EV_DECRYPTION_STARTED,
    BO_EV_DECRYPT_REQUEST,
    BO_EV_DECRYPT_REFUSED,
    BO_EV_DECRYPT_DIAGNOSTIC,
    BO_EV_BID_DECRYPTED,
    BO_EV_BID_FORM,
    BO_EV_DECRYPTION_EXTENDED,
    BO_EV_DECRYPTION_WINDOW_CLOSED,
    BO_EV_BID_CLASSIFIED,
    /* announcement, draws, confirmation and the record (docs/protocol.md §11) */
    BO_EV_BID_ANNOUNCED,
    BO_EV_DRAW_RESULT,
    BO_EV_BENCHMARK_PRICE,
    BO_EV_CONFIRMATION_OPENED,
    BO_EV_BIDDER_CONFIRMED,
    BO_EV_OBJECTION,
    BO_EV_OBJECTION_ANSWERED,
    BO_EV_MESSAGE,
    BO_EV_CONFIRMATION_WINDOW_CLOSED,
    BO_EV_OPENING_CLOSED,
    BO_EV__COUNT
} bo_event_kind;

/** "opening_created", ...; NULL out of range. */
const char *bo_event_kind_name(bo_event_kind k);
/** Errors: BO_E_BAD_FIELD for an unknown name. */
bo_err bo_event_kind_parse(const char *s, bo_event_kind *out);

typedef enum bo_aud {
    BO_AUD_PUB = 1,
    BO_AUD_STAFF,
    BO_AUD_BIDDER, /* aud_uscc names the bidder */
    BO_AUD_SUP,
} bo_aud;

typedef struct bo_event {
    uint64_t seq;
    bo_time_ms ts;
    bo_event_kind kind;
    bo_aud aud;
    char aud_uscc[19];
    uint8_t *body; /* canonical msgpack map, owned (malloc) */
    size_t body_len;
    uint8_t prev_hash[32];
    uint8_t hash[32];
    /* Stream positions, written by bo_session_fold (not hashed, not stored): */
    uint64_t pub_pos;  /* aud PUB: its seq in pub; else the number of pub events before it */
    uint64_t priv_pos; /* aud STAFF or BIDDER: its seq in that stream; else 0 */
} bo_event;

/** The audience string hashed into the chain: "pub", "staff", "sup", "b:<uscc>".
 * out must hold 24 bytes. */
const char *bo_event_aud_string(const bo_event *ev, char *out, size_t n);

/** Compute body hash and chain hash for ev (uses ev->seq, ts, kind, aud, body, prev_hash). */
void bo_event_compute_hash(const char *oid, const bo_event *ev, uint8_t out[32]);

/** The same chain hash from the body's hash instead of the body (ev->body is not read): a
 * transcript that withholds a private body keeps its body_hash, and the chain still
 * verifies (docs/transcript.md). Context: any thread. */
void bo_event_chain_hash(const char *oid, const bo_event *ev, const uint8_t body_hash[32],
                         uint8_t out[32]);

/** Release the body. Safe on a zeroed event. */
void bo_event_cleanup(bo_event *ev);

/** Deep copy. Errors: BO_E_NOMEM. */
bo_err bo_event_copy(bo_event *dst, const bo_event *src);

/** Encode the storage record. */
bo_err bo_event_encode_record(const bo_event *ev, bo_buf *out);

/** Decode a storage record (checks caps and types, and that hash matches when oid is given).
 * Errors: BO_E_MALFORMED, BO_E_BAD_FIELD. Ownership: *ev's body is the caller's
 * (bo_event_cleanup). */
bo_err bo_event_decode_record(const char *oid, const uint8_t *p, size_t len, bo_event *ev);

/** Encode the wire frame for one stream: st BO_STREAM_PUB uses ev->pub_pos as seq;
 * STAFF/BIDDER use ev->priv_pos and add at = ev->pub_pos; ALL uses ev->seq.
 * (st is a bo_stream from session.h, passed as int to keep this header below session.h.) */
bo_err bo_event_encode_wire(const char *oid, const bo_event *ev, int st, bo_buf *out);

/* A growable list of events. */
typedef struct bo_event_list {
    bo_event *v;
    size_t n;
    size_t alloc;
} bo_event_list;

void bo_event_list_init(bo_event_list *l);
/** Frees every event's body and the array. */
void bo_event_list_cleanup(bo_event_list *l);
/** Append (takes ownership of ev->body; ev is zeroed). Errors: BO_E_NOMEM. */
bo_err bo_event_list_push(bo_event_list *l, bo_event *ev);

#endif
