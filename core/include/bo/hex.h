/* bidopen: hex and base64 encoding. */
#ifndef BO_HEX_H
#define BO_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

/** Lower-case hex of n bytes into out (2n+1 bytes including NUL). Returns out. */
char *bo_hex_encode(const uint8_t *in, size_t n, char *out);

/** Decode hex (either case) of exactly 2*outlen characters. Errors: BO_E_BAD_FIELD. */
bo_err bo_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);

/** Standard base64 with padding; out must hold 4*((n+2)/3)+1 bytes. Returns the length. */
size_t bo_b64_encode(const uint8_t *in, size_t n, char *out);

/** Decode standard or URL-safe base64 (padding optional). out must hold 3*(inlen/4)+3 bytes.
 * Errors: BO_E_BAD_FIELD. */
bo_err bo_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t *outlen);

#endif
