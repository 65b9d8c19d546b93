/* bidopen: the CEK handoff of remote decryption (docs/sealed-bids.md §5).
 *
 * At the opening the server makes a fresh ephemeral X25519 key for each bid and sends the
 * bidder its RecipientInfo and that public key (signed, in the session layer). The bidder's
 * client checks the request against its own record (bo_handoff_check_request), unwraps the
 * CEK with its private key (bo_cek_unwrap), and re-wraps it for the server:
 *
 *     T    = SHA-256(canonical msgpack ["bidopen/cek-handoff/v1", oid, bid, env_sha256,
 *                    SHA-256(RecipientInfo DER), client_pub, server_pub])
 *     Z    = X25519(client ephemeral private, server_pub)
 *     K    = HKDF-SHA256(ikm = Z, salt = empty, info = T), 32 bytes
 *     blob = 0x01 || client_pub (32) || nonce (12) || AES-256-GCM(K, nonce, aad = T, CEK)
 *            (32 bytes of ciphertext, then the 16-byte tag): 93 bytes
 *
 * Changing the opening, the bid, the envelope hash, the RecipientInfo or either public key
 * makes the server's unwrap fail.
 */
#ifndef BO_HANDOFF_H
#define BO_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/err.h"
#include "bo/seal.h"
#include "bo/secret.h"

#define BO_HANDOFF_LABEL "bidopen/cek-handoff/v1"
#define BO_HANDOFF_PUB_LEN 32u
#define BO_HANDOFF_BLOB_LEN 93u
#define BO_HANDOFF_VERSION 1u

/* What a handoff is bound to; server and client must fill it identically. */
typedef struct bo_handoff_bind {
    const char *oid;            /* the opening, 1..64 bytes */
    const char *bid;            /* the server's id of the bid, 1..128 bytes */
    const uint8_t *env_sha256;  /* 32 bytes: SHA-256 of the envelope */
    const uint8_t *ri_der;      /* the RecipientInfo the client unwraps */
    size_t ri_len;
} bo_handoff_bind;

/** The transcript hash T for b and the two public keys (exposed for tests and for clients
 * written in other languages). Errors: BO_E_INVALID_ARG (a missing or oversized field).
 * Context: any thread. */
bo_err bo_handoff_transcript(const bo_handoff_bind *b, const uint8_t client_pub[32],
                             const uint8_t server_pub[32], uint8_t out[32]);

typedef struct bo_handoff_server bo_handoff_server;

/** A fresh ephemeral X25519 key for one handoff request.
 * Errors: NULL with *err = BO_E_INTERNAL, BO_E_NOMEM.
 * Ownership: bo_handoff_server_free (which wipes the key); free it as soon as the request is
 * answered or abandoned. Context: any thread. */
bo_handoff_server *bo_handoff_server_new(bo_err *err);

/** The public key to send to the client (BO_HANDOFF_PUB_LEN bytes). Ownership: borrowed,
 * valid until bo_handoff_server_free. Context: any thread. */
const uint8_t *bo_handoff_server_pub(const bo_handoff_server *h);

/** Recover the CEK from the client's blob.
 * Errors: BO_E_HANDOFF_FAILED for every failure of the blob (wrong length or version, a
 * changed bound field, another server key, a tampered byte, a CEK that is not 32 bytes),
 * BO_E_INVALID_ARG (b), BO_E_NOMEM. Check the key commitment next (bo_cek_commitment_check).
 * Ownership: *cek is the caller's (bo_secret_free); NULL on error. Context: any thread. */
bo_err bo_handoff_server_unwrap(const bo_handoff_server *h, const bo_handoff_bind *b,
                                const uint8_t *blob, size_t len, bo_secret **cek);

/** Free and wipe. Accepts NULL. Context: any thread. */
void bo_handoff_server_free(bo_handoff_server *h);

/** The client's side: wrap cek for the server's public key (a fresh ephemeral key and nonce
 * per call); BO_HANDOFF_BLOB_LEN bytes are appended to out.
 * Errors: BO_E_CEK_INVALID, BO_E_INVALID_ARG (b, or a server key X25519 refuses: low order),
 * BO_E_INTERNAL, those of bo_buf_append. Context: any thread. */
bo_err bo_handoff_client_wrap(const bo_handoff_bind *b, const uint8_t server_pub[32],
                              const bo_secret *cek, bo_buf *out);

/** The client's guard before any unwrap (research/crypto.md §7.1): the opening must have
 * started (opening_started_at != 0 and <= now, both from the signed event log / server
 * time), and the request must name an envelope this client submitted: a record with the same
 * oid, envelope hash and RecipientInfo hash. *idx (may be NULL) gets the record's index.
 * Errors: BO_E_TOO_EARLY, BO_E_NOT_MY_ENVELOPE, BO_E_INVALID_ARG. Context: any thread. */
bo_err bo_handoff_check_request(const bo_seal_record *records, size_t n_records,
                                const bo_handoff_bind *req, bo_time_ms opening_started_at,
                                bo_time_ms now, size_t *idx);

#endif
