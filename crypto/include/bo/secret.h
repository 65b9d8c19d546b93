/* bidopen: secret bytes (CEKs, key material, plaintext fragments).
 *
 * A bo_secret lives in OpenSSL's secure heap when one is set up (CRYPTO_secure_malloc_init),
 * else in ordinary memory; either way it is wiped when freed. Compare secrets with
 * bo_secret_equal (constant time), never memcmp.
 */
#ifndef BO_SECRET_H
#define BO_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

typedef struct bo_secret bo_secret;

/** A zero-filled secret of len bytes (len may be 0).
 * Errors: NULL with *err = BO_E_NOMEM (or BO_E_TOO_BIG above 1 MiB: secrets are keys, not
 * documents). Ownership: the caller frees with bo_secret_free. Context: any thread. */
bo_secret *bo_secret_new(size_t len, bo_err *err);

/** A secret holding a copy of p[0..len). The caller still wipes its own copy.
 * Errors and ownership: as bo_secret_new. Context: any thread. */
bo_secret *bo_secret_from(const void *p, size_t len, bo_err *err);

/** The bytes (writable, len bytes). Ownership: borrowed, valid until bo_secret_free.
 * Context: any thread, one writer at a time. */
uint8_t *bo_secret_data(bo_secret *s);
const uint8_t *bo_secret_cdata(const bo_secret *s);

/** The length in bytes. Context: any thread. */
size_t bo_secret_len(const bo_secret *s);

/** Constant-time equality of length and content (the length itself is not secret).
 * NULL equals only NULL. Context: any thread. */
bool bo_secret_equal(const bo_secret *a, const bo_secret *b);

/** Wipe and free. Accepts NULL. Context: any thread. */
void bo_secret_free(bo_secret *s);

#endif
