/* bidopen: the canonical payloads that participants and the server sign
 * (docs/protocol.md §2). Each appends canonical msgpack to out; the signature itself is
 * made over "bidopen/sig/v1" 0x00 ctx 0x00 payload by crypto/ (bo_key_sign, bo_sig_verify).
 * Errors: those of bo_buf_append. Context: any thread. */
#ifndef BO_SIGPAYLOAD_H
#define BO_SIGPAYLOAD_H

#include <stdint.h>

#include "bo/buf.h"
#include "bo/clock.h"

#define BO_CTX_AUTH "auth"
#define BO_CTX_REGISTER "register"
#define BO_CTX_SIGNIN "signin"
#define BO_CTX_HEAD "head"

/** [nonce(bin 32), role(str), time(int)] */
bo_err bo_sigpayload_auth(bo_buf *out, const uint8_t nonce[32], const char *role, int64_t time);

/** [oid, uscc, sign_fpr(bin 32), enc_fpr(bin 32), nonce(bin 32)] */
bo_err bo_sigpayload_register(bo_buf *out, const char *oid, const char *uscc,
                              const uint8_t sign_fpr[32], const uint8_t enc_fpr[32],
                              const uint8_t nonce[32]);

/** [oid, uscc, nonce(bin 32)] */
bo_err bo_sigpayload_signin(bo_buf *out, const char *oid, const char *uscc,
                            const uint8_t nonce[32]);

#endif
