#include "bo/sigpayload.h"

#include <string.h>

#include "bo/wire.h"

bo_err bo_sigpayload_auth(bo_buf *out, const uint8_t nonce[32], const char *role, int64_t time)
{
    bo_err err = bo_mp_array_header(out, 3);
    if (!err)
        err = bo_mp_bin(out, nonce, 32);
    if (!err)
        err = bo_mp_str(out, role, strlen(role));
    if (!err)
        err = bo_mp_i64(out, time);
    return err;
}

bo_err bo_sigpayload_register(bo_buf *out, const char *oid, const char *uscc,
                              const uint8_t sign_fpr[32], const uint8_t enc_fpr[32],
                              const uint8_t nonce[32])
{
    bo_err err = bo_mp_array_header(out, 5);
    if (!err)
        err = bo_mp_str(out, oid, strlen(oid));
    if (!err)
        err = bo_mp_str(out, uscc, strlen(uscc));
    if (!err)
        err = bo_mp_bin(out, sign_fpr, 32);
    if (!err)
        err = bo_mp_bin(out, enc_fpr, 32);
    if (!err)
        err = bo_mp_bin(out, nonce, 32);
    return err;
}

bo_err bo_sigpayload_signin(bo_buf *out, const char *oid, const char *uscc,
                            const uint8_t nonce[32])
{
    bo_err err = bo_mp_array_header(out, 3);
    if (!err)
        err = bo_mp_str(out, oid, strlen(oid));
    if (!err)
        err = bo_mp_str(out, uscc, strlen(uscc));
    if (!err)
        err = bo_mp_bin(out, nonce, 32);
    return err;
}
