/* bidopen: hashes, MACs and randomness (OpenSSL EVP underneath). */
#ifndef BO_HASH_H
#define BO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

#define BO_SHA256_LEN 32

/** SHA-256 of one buffer. Context: any thread. */
void bo_sha256(const void *data, size_t len, uint8_t out[BO_SHA256_LEN]);

/** Incremental SHA-256. Ownership: _new returns a context the caller frees with _free
 * (which accepts NULL). Errors: NULL with *err = BO_E_NOMEM. Context: any thread. */
typedef struct bo_sha256_ctx bo_sha256_ctx;
bo_sha256_ctx *bo_sha256_new(bo_err *err);
void bo_sha256_update(bo_sha256_ctx *ctx, const void *data, size_t len);
/** Writes the digest; the context may be reused after bo_sha256_reset. */
void bo_sha256_final(bo_sha256_ctx *ctx, uint8_t out[BO_SHA256_LEN]);
void bo_sha256_reset(bo_sha256_ctx *ctx);
void bo_sha256_free(bo_sha256_ctx *ctx);

/** HMAC-SHA256. Errors: BO_E_INTERNAL. Context: any thread. */
bo_err bo_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[BO_SHA256_LEN]);

/** Cryptographically secure random bytes. Errors: BO_E_INTERNAL. Context: any thread. */
bo_err bo_random_bytes(void *out, size_t n);

/** Constant-time comparison: 1 if equal. */
int bo_ct_equal(const void *a, const void *b, size_t n);

#endif
