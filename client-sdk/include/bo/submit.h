/* bidopen client: submitting a sealed bid (docs/protocol.md §10, "Submitting").
 *
 * bo_client_submit inspects the envelope file (size, SHA-256, the RecipientInfo addressed
 * to the bidder's encryption certificate) on the libuv worker pool, records it in the local
 * bid store (bo/bidstore.h), then streams it with submit_begin / submit_chunk in 128 KiB
 * chunks, several in flight, paced under the server's message rate, reading the file in
 * constant memory. After a dropped connection the client reconnects by itself; the upload
 * then sends the same submit_begin, which returns the offset the server already holds, and
 * goes on from there. It commits, checks the receipt (回执) against what it sent and verifies
 * its signature with the server's key (server_key), and stores the receipt with the record.
 *
 * The pure parts (the chunk plan, receipts and the server key) are exposed for tests and
 * for the CLI.
 */
#ifndef BO_SUBMIT_H
#define BO_SUBMIT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/bidstore.h"
#include "bo/client.h"
#include "bo/err.h"
#include "bo/sign.h"

#define BO_SUBMIT_CHUNK (128u * 1024u) /* default bytes per submit_chunk (BO_WIRE_CHUNK_MAX) */
#define BO_SUBMIT_WINDOW 8u            /* default chunks in flight (the server queues 16) */
#define BO_SUBMIT_RATE 1000u           /* default chunks per second: the server does not count
                                          chunks against its message rate, so the window
                                          paces the upload */
#define BO_SUBMIT_STALL_MS 60000u      /* default: no reply this long -> reconnect */
#define BO_SUBMIT_RESYNC_MAX 8u        /* consecutive resynchronisations without progress */

/* ------------------------------------------------------- the chunk plan (pure) ---- */

/* Which bytes go next. Chunks are sent in order from the offset the server holds; each is
 * chunk bytes except the last; replies come back in order. */
typedef struct bo_upload_plan {
    uint64_t size;     /* bytes of the envelope */
    uint32_t chunk;    /* bytes per chunk */
    unsigned window;   /* chunks in flight at most */
    uint64_t acked;    /* bytes the server confirmed */
    uint64_t sent;     /* acked + bytes in flight */
    unsigned inflight; /* chunks sent and not answered */
    bool stalled;      /* a reply went wrong: nothing goes out before bo_upload_plan_resume */
} bo_upload_plan;

/** Start a plan (nothing held yet). chunk 0: BO_SUBMIT_CHUNK; window 0: 1. Pure. */
void bo_upload_plan_init(bo_upload_plan *p, uint64_t size, uint32_t chunk, unsigned window);

/** Start again from the offset the server holds (submit_begin's reply); forgets what was
 * in flight. Errors: BO_E_BAD_FIELD (offset > size). Pure. */
bo_err bo_upload_plan_resume(bo_upload_plan *p, uint64_t offset);

/** The next chunk to send if the window allows one: returns true with its offset and
 * length and counts it as in flight. Pure. */
bool bo_upload_plan_next(bo_upload_plan *p, uint64_t *offset, size_t *len);

/** The reply to the oldest chunk in flight: the offset the server now holds.
 * Errors: BO_E_BAD_FIELD (not the end of that chunk: the server and the client disagree;
 * resynchronise with submit_begin), BO_E_INVALID_ARG (nothing in flight). Pure. */
bo_err bo_upload_plan_ack(bo_upload_plan *p, uint64_t offset);

/** A chunk in flight got no usable reply (error, canceled): one less in flight, nothing
 * more goes out until bo_upload_plan_resume. Pure. */
void bo_upload_plan_lost(bo_upload_plan *p);

/** Every byte acknowledged. Pure. */
bool bo_upload_plan_complete(const bo_upload_plan *p);

/* --------------------------------------------------- receipts and server key ---- */

/* The server's signing key, from server_key's reply. */
typedef struct bo_server_key {
    uint8_t cert[8192]; /* DER certificate (cert_len 0: none, spki only) */
    size_t cert_len;
    uint8_t spki[4096]; /* DER SubjectPublicKeyInfo */
    size_t spki_len;
    uint8_t fpr[32];    /* key_fpr: SHA-256 of the certificate, or of the SPKI without one */
} bo_server_key;

/** Parse server_key's ok.data {cert?, spki, key_fpr}; key_fpr must be the fingerprint of
 * cert (when present) or the SHA-256 of spki.
 * Errors: BO_E_MALFORMED (detail names the field), BO_E_TOO_BIG. Pure. */
bo_err bo_server_key_parse(const msgpack_object *data, bo_server_key *out, char *detail,
                           size_t n);

/** Verify a server signature (ctx, payload) with the key: the certificate when there is
 * one, else the SPKI. Errors: those of bo_sig_verify / bo_sig_verify_spki. */
bo_err bo_server_key_verify(const bo_server_key *k, const char *ctx, const uint8_t *payload,
                            size_t len, const uint8_t *sig, size_t sig_len);

/* A receipt (回执): {oid, uscc, hash, size, commit, ts} and the server's signature. */
typedef struct bo_receipt {
    char oid[65];
    char uscc[19];
    uint8_t hash[32];
    uint64_t size;
    uint8_t commit[32];
    int64_t ts;
    uint8_t sig[BO_SIG_MAX];
    size_t sig_len;
    bool replaced; /* submit_commit's reply only */
} bo_receipt;

/** Parse {receipt:{oid, uscc, hash, size, commit, ts}, sig, replaced?} (submit_commit's and
 * receipt's ok.data). Errors: BO_E_MALFORMED (detail names the field). Pure. */
bo_err bo_receipt_parse(const msgpack_object *data, bo_receipt *out, char *detail, size_t n);

/** Verify the receipt's signature (ctx "receipt" over [oid, uscc, hash, size, commit, ts]).
 * Errors: BO_E_BAD_SIGNATURE, those of bo_server_key_verify. */
bo_err bo_receipt_verify(const bo_receipt *r, const bo_server_key *k);

/** Whether the receipt is for this record: same oid, USCC, envelope hash, size and
 * commitment. Errors: BO_E_NOT_MY_ENVELOPE (detail names the field). Pure. */
bo_err bo_receipt_matches(const bo_receipt *r, const bo_bid_record *rec, char *detail,
                          size_t n);

/* ------------------------------------------------------------ the submission ---- */

typedef struct bo_submission bo_submission;

/* The outcome, valid during the done callback. */
typedef struct bo_submit_result {
    const bo_bid_record *record; /* the record as stored (with the receipt when err is OK) */
    const bo_receipt *receipt;   /* NULL unless err is OK */
    bool receipt_verified;       /* the receipt's signature verified */
    uint64_t resumed_at;         /* the largest offset a submit_begin found already held
                                    (0: everything was sent in this run) */
    unsigned begins;             /* submit_begin requests sent */
} bo_submit_result;

/* Progress: bytes of the envelope the server holds, of total. On the loop thread. */
typedef void (*bo_submit_progress_cb)(void *ud, uint64_t done, uint64_t total);

/* The end, exactly once: err BO_E_OK with the receipt; else the refusal (code is the
 * server's "E_..." code when it refused, else NULL; msg a sentence). res->record may be
 * NULL when the envelope could not even be inspected. On the loop thread. */
typedef void (*bo_submit_done_cb)(void *ud, bo_err err, const char *code, const char *msg,
                                  const bo_submit_result *res);

typedef struct bo_submit_opts {
    const char *oid;          /* NULL: the client's own */
    const char *envelope;     /* the sealed bid file */
    const uint8_t *commit;    /* 32 bytes: the key commitment (from sealing, or
                                 bo_envelope_commitment_from_key) */
    const char *store_dir;    /* bid store; NULL: bo_bidstore_default_dir() */
    bool no_store;            /* do not write records (tests of the upload alone) */
    const uint8_t *enc_cert;  /* the certificate it is sealed to; NULL: the client's own
                                 encryption certificate (enc_chain[0]) */
    size_t enc_cert_len;
    uint32_t chunk;           /* 0: BO_SUBMIT_CHUNK; at most BO_SUBMIT_CHUNK */
    unsigned window;          /* 0: BO_SUBMIT_WINDOW; at most 16 (the server's queue) */
    unsigned rate;            /* chunks per second at most; 0: BO_SUBMIT_RATE */
    unsigned stall_ms;        /* 0: BO_SUBMIT_STALL_MS */
    bo_submit_progress_cb progress; /* may be NULL */
    bo_submit_done_cb done;         /* required */
    void *ud;
} bo_submit_opts;

/** Submit a sealed bid over c (a bidder client, authenticated, registered for the opening).
 * Async contract: if this returns an error, done never runs; otherwise done runs exactly
 * once (BO_E_CANCELED when the submission is canceled or the client freed first).
 * Errors: BO_E_INVALID_ARG (no envelope, commit or done; no oid; chunk, window out of
 * range; no encryption certificate), BO_E_UNAUTHENTICATED (the client has not
 * authenticated yet: the USCC is not known), BO_E_EXISTS (another submission runs on this
 * client), BO_E_NOMEM. Ownership: *out (may be NULL) is valid until done has run; options
 * are copied. Context: loop thread. */
bo_err bo_client_submit_ex(bo_client *c, const bo_submit_opts *o, bo_submission **out);

/** The short form: default store, chunk, window and rate. Same contract. */
bo_err bo_client_submit(bo_client *c, const char *oid, const char *envelope_path,
                        const uint8_t commit[32], bo_submit_progress_cb progress,
                        bo_submit_done_cb done, void *ud);

/** Cancel: done runs with BO_E_CANCELED (at once, or once the work in flight returned).
 * What the server holds stays there (a later submission resumes from it).
 * Context: loop thread, before done has run. */
void bo_submission_cancel(bo_submission *s);

/** Bytes the server holds and the total (for a progress bar); 0/0 before the envelope was
 * inspected. Context: loop thread. */
void bo_submission_progress(const bo_submission *s, uint64_t *done, uint64_t *total);

#endif
