#include "bo/sigpayload.h"

#include <stdarg.h>
#include <string.h>

#include "bo/hash.h"
#include "bo/wire.h"

/* What a record read back from outside may hold: far more than one frame. */
static const bo_wire_caps record_caps = {
    .frame = 16u << 20, .depth = 8, .elems = 2000000, .str = 64u << 10, .bin = 64u << 10};

/* A canonical msgpack array from a format: s = string, h = 32-byte hash or key (bin),
 * B = bytes (pointer, length), u = uint64_t, i = int64_t. */
static bo_err tuple(bo_buf *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bo_err err = bo_mp_array_header(out, (uint32_t)strlen(fmt));
    for (const char *f = fmt; !err && *f; f++) {
        switch (*f) {
        case 's': {
            const char *str = va_arg(ap, const char *);
            err = bo_mp_str(out, str, strlen(str));
            break;
        }
        case 'h':
            err = bo_mp_bin(out, va_arg(ap, const uint8_t *), 32);
            break;
        case 'B': {
            const uint8_t *p = va_arg(ap, const uint8_t *);
            err = bo_mp_bin(out, p, va_arg(ap, size_t));
            break;
        }
        case 'u':
            err = bo_mp_u64(out, va_arg(ap, uint64_t));
            break;
        case 'i':
            err = bo_mp_i64(out, va_arg(ap, int64_t));
            break;
        default:
            err = BO_E_INVALID_ARG;
        }
    }
    va_end(ap);
    return err;
}

bo_err bo_sigpayload_auth(bo_buf *out, const uint8_t nonce[32], const char *role, int64_t time)
{
    return tuple(out, "hsi", nonce, role, time);
}

bo_err bo_sigpayload_register(bo_buf *out, const char *oid, const char *uscc,
                              const uint8_t sign_fpr[32], const uint8_t enc_fpr[32],
                              const uint8_t nonce[32])
{
    return tuple(out, "sshhh", oid, uscc, sign_fpr, enc_fpr, nonce);
}

bo_err bo_sigpayload_signin(bo_buf *out, const char *oid, const char *uscc,
                            const uint8_t nonce[32])
{
    return tuple(out, "ssh", oid, uscc, nonce);
}

bo_err bo_sigpayload_receipt(bo_buf *out, const char *oid, const char *uscc,
                             const uint8_t hash[32], uint64_t size, const uint8_t commit[32],
                             int64_t ts)
{
    return tuple(out, "sshuhi", oid, uscc, hash, size, commit, ts);
}

bo_err bo_sigpayload_decrypt_request(bo_buf *out, const char *oid, const char *uscc,
                                     const char *req, const uint8_t bid[32],
                                     const uint8_t ri_hash[32], const uint8_t server_pub[32],
                                     int64_t ends_at)
{
    return tuple(out, "ssshhhi", oid, uscc, req, bid, ri_hash, server_pub, ends_at);
}

bo_err bo_sigpayload_decrypt_response(bo_buf *out, const char *oid, const char *uscc,
                                      const char *req, const uint8_t bid[32],
                                      const uint8_t client_pub[32], const uint8_t *wrapped,
                                      size_t wrapped_len)
{
    return tuple(out, "ssshhB", oid, uscc, req, bid, client_pub, wrapped, wrapped_len);
}

bo_err bo_sigpayload_decrypt_diag(bo_buf *out, const char *oid, const char *uscc,
                                  const char *req, const char *stage, const char *error,
                                  const uint8_t cert_fpr[32])
{
    return tuple(out, "sssssh", oid, uscc, req, stage, error, cert_fpr);
}

bo_err bo_sigpayload_confirm(bo_buf *out, const char *oid, const char *uscc,
                             const uint8_t record_hash[32])
{
    return tuple(out, "ssh", oid, uscc, record_hash);
}

bo_err bo_sigpayload_objection(bo_buf *out, const char *oid, const char *uscc,
                               const uint8_t record_hash[32], const char *text)
{
    return tuple(out, "sshs", oid, uscc, record_hash, text);
}

bo_err bo_sigpayload_answer(bo_buf *out, const char *oid, uint64_t n, const char *text)
{
    return tuple(out, "sus", oid, n, text);
}

bo_err bo_sigpayload_record_hash(const uint8_t *record_mp, size_t len, uint8_t out[32])
{
    bo_err err = bo_mp_check(record_mp, len, &record_caps);
    if (err)
        return err;
    msgpack_zone *z = NULL;
    msgpack_object o;
    err = bo_mp_parse(record_mp, len, &z, &o);
    bo_buf b;
    bo_buf_init(&b, record_caps.frame);
    if (!err)
        err = o.type == MSGPACK_OBJECT_MAP ? bo_mp_canonical(&b, &o) : BO_E_BAD_FIELD;
    if (!err)
        bo_sha256(b.data, b.len, out);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);
    return err;
}
