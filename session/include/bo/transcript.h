/* bidopen: the transcript of an opening, its whole log in one file (docs/transcript.md).
 *
 * Canonical msgpack map:
 *   {events: [record...], kind: "full" | "public", oid, server: {cert?, key_fpr, spki}, v: 1}
 * Each record is the storage record of bo/event.h, {aud, body, hash, kind, prev, seq, ts}.
 * A public transcript keeps the body of every `pub` event and replaces the others by
 *   {aud, body_hash, hash, kind, prev, seq, ts}     body_hash = SHA-256(canonical(body))
 * The chain hash covers only body_hash (docs/protocol.md §7), so the chain of a public
 * transcript verifies as well as the full one's. `bidopen verify` reads either.
 */
#ifndef BO_TRANSCRIPT_H
#define BO_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/err.h"
#include "bo/event.h"

#define BO_TRANSCRIPT_VERSION 1
#define BO_TRANSCRIPT_MAX_BYTES (256u << 20) /* a transcript read back */
#define BO_TRANSCRIPT_MAX_EVENTS 1000000u
#define BO_TRANSCRIPT_MIME "application/vnd.bidopen.transcript+msgpack"

typedef enum bo_transcript_kind {
    BO_TRANSCRIPT_FULL = 1, /* every body */
    BO_TRANSCRIPT_PUBLIC,   /* the bodies of pub events; the others by their hash */
} bo_transcript_kind;

/** "full", "public"; NULL for other values. Context: any thread. */
const char *bo_transcript_kind_name(bo_transcript_kind k);

/* The server's signing key, as `server_key` gives it (docs/protocol.md §10): what the head
 * signatures, receipts and decryption requests verify against. */
typedef struct bo_transcript_server {
    bo_bytes cert;      /* DER of the server's signing certificate; len 0 when none */
    bo_bytes spki;      /* DER SubjectPublicKeyInfo of the key */
    uint8_t key_fpr[32]; /* the fingerprint its signatures name (head_signed.key_fpr) */
} bo_transcript_server;

/** The i-th event (0-based) of a log, for bo_transcript_build. */
typedef const bo_event *(*bo_transcript_get_fn)(void *ud, size_t i);

/** Write the transcript of oid's n events (sealed, in seq order) to out.
 * Errors: BO_E_INVALID_ARG (bad oid or kind, an empty spki, an event without a body),
 * BO_E_TOO_BIG (out's cap), BO_E_NOMEM; out is unchanged on error.
 * Ownership: out is the caller's; events are borrowed. Context: any thread. */
bo_err bo_transcript_build(const char *oid, bo_transcript_kind kind,
                           const bo_transcript_server *server, size_t n, bo_transcript_get_fn get,
                           void *ud, bo_buf *out);

/** Same from a list of events. Errors and ownership as bo_transcript_build. */
bo_err bo_transcript_build_list(const char *oid, bo_transcript_kind kind,
                                const bo_transcript_server *server, const bo_event_list *evs,
                                bo_buf *out);

/* One event of a parsed transcript. */
typedef struct bo_transcript_event {
    bo_event ev;           /* body NULL (body_len 0) when withheld */
    bool withheld;         /* the record had body_hash instead of body */
    uint8_t body_hash[32]; /* SHA-256 of the canonical body (computed when the body is there) */
} bo_transcript_event;

/* A parsed transcript. Everything points into memory it owns. */
typedef struct bo_transcript {
    unsigned v;
    char oid[65];
    bo_transcript_kind kind;
    bo_transcript_server server;
    bo_transcript_event *events; /* in file order (not necessarily seq order) */
    size_t n_events;
    void *mem; /* internal */
} bo_transcript;

/** Parse a transcript within the caps above (BO_TRANSCRIPT_MAX_BYTES, at most
 * BO_TRANSCRIPT_MAX_EVENTS events, each record within the storage record's caps). Only the
 * form is checked here, not the hashes: a tampered transcript parses, and bo_verify says
 * what is wrong with it. Any encoding of the same content is accepted (bodies are
 * re-encoded canonically, as the chain hashes them).
 * Errors: BO_E_MALFORMED (not msgpack, truncated, trailing bytes, not a map), BO_E_TOO_BIG,
 * BO_E_TOO_DEEP, BO_E_TOO_MANY, BO_E_BAD_FIELD (a missing or wrong member; v other than 1),
 * BO_E_NOMEM; detail (may be NULL) gets one sentence naming the member or the event, e.g.
 * "event 12 (position 11): kind: not an event kind". On error *out is NULL.
 * Ownership: *out is the caller's, freed with bo_transcript_free. Context: any thread. */
bo_err bo_transcript_parse(const uint8_t *p, size_t len, bo_transcript **out, char *detail,
                           size_t detail_len);

/** Free a parsed transcript. Accepts NULL. */
void bo_transcript_free(bo_transcript *t);

/** The public transcript of a full one (already public: the same content), re-encoded
 * canonically into out. Errors: those of bo_transcript_parse and bo_transcript_build.
 * Ownership: out is the caller's. Context: any thread. */
bo_err bo_transcript_redact(const uint8_t *p, size_t len, bo_buf *out, char *detail,
                            size_t detail_len);

#endif
