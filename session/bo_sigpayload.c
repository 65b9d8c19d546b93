#include "bo/sigpayload.h"

#include <string.h>

#include "bo/hash.h"
#include "bo/wire.h"

/* What a record read back from outside may hold: far more than one frame. */
static const bo_wire_caps record_caps = {
    .frame = 16u << 20, .depth = 8, .elems = 2000000, .str = 64u << 10, .bin = 64u << 10};

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

static bo_err put_str(bo_buf *out, const char *s)
{
    return bo_mp_str(out, s, strlen(s));
}

bo_err bo_sigpayload_receipt(bo_buf *out, const char *oid, const char *uscc,
                             const uint8_t hash[32], uint64_t size, const uint8_t commit[32],
                             int64_t ts)
{
    bo_err err = bo_mp_array_header(out, 6);
    if (!err)
        err = put_str(out, oid);
    if (!err)
        err = put_str(out, uscc);
    if (!err)
        err = bo_mp_bin(out, hash, 32);
    if (!err)
        err = bo_mp_u64(out, size);
    if (!err)
        err = bo_mp_bin(out, commit, 32);
    if (!err)
        err = bo_mp_i64(out, ts);
    return err;
}

bo_err bo_sigpayload_decrypt_request(bo_buf *out, const char *oid, const char *uscc,
                                     const char *req, const uint8_t bid[32],
                                     const uint8_t ri_hash[32], const uint8_t server_pub[32],
                                     int64_t ends_at)
{
    bo_err err = bo_mp_array_header(out, 7);
    if (!err)
        err = put_str(out, oid);
    if (!err)
        err = put_str(out, uscc);
    if (!err)
        err = put_str(out, req);
    if (!err)
        err = bo_mp_bin(out, bid, 32);
    if (!err)
        err = bo_mp_bin(out, ri_hash, 32);
    if (!err)
        err = bo_mp_bin(out, server_pub, 32);
    if (!err)
        err = bo_mp_i64(out, ends_at);
    return err;
}

bo_err bo_sigpayload_decrypt_response(bo_buf *out, const char *oid, const char *uscc,
                                      const char *req, const uint8_t bid[32],
                                      const uint8_t client_pub[32], const uint8_t *wrapped,
                                      size_t wrapped_len)
{
    bo_err err = bo_mp_array_header(out, 6);
    if (!err)
        err = put_str(out, oid);
    if (!err)
        err = put_str(out, uscc);
    if (!err)
        err = put_str(out, req);
    if (!err)
        err = bo_mp_bin(out, bid, 32);
    if (!err)
        err = bo_mp_bin(out, client_pub, 32);
    if (!err)
        err = bo_mp_bin(out, wrapped, wrapped_len);
    return err;
}

bo_err bo_sigpayload_decrypt_diag(bo_buf *out, const char *oid, const char *uscc,
                                  const char *req, const char *stage, const char *error,
                                  const uint8_t cert_fpr[32])
{
    bo_err err = bo_mp_array_header(out, 6);
    if (!err)
        err = put_str(out, oid);
    if (!err)
        err = put_str(out, uscc);
    if (!err)
        err = put_str(out, req);
    if (!err)
        err = put_str(out, stage);
    if (!err)
        err = put_str(out, error);
    if (!err)
        err = bo_mp_bin(out, cert_fpr, 32);
    return err;
}

bo_err bo_sigpayload_confirm(bo_buf *out, const char *oid, const char *uscc,
                             const uint8_t record_hash[32])
{
    bo_err err = bo_mp_array_header(out, 3);
    if (!err)
        err = put_str(out, oid);
    if (!err)
        err = put_str(out, uscc);
    if (!err)
        err = bo_mp_bin(out, record_hash, 32);
    return err;
}

bo_err bo_sigpayload_objection(bo_buf *out, const char *oid, const char *uscc,
                               const uint8_t record_hash[32], const char *text)
{
    bo_err err = bo_mp_array_header(out, 4);
    if (!err)
        err = put_str(out, oid);
    if (!err)
        err = put_str(out, uscc);
    if (!err)
        err = bo_mp_bin(out, record_hash, 32);
    if (!err)
        err = put_str(out, text);
    return err;
}

bo_err bo_sigpayload_answer(bo_buf *out, const char *oid, uint64_t n, const char *text)
{
    bo_err err = bo_mp_array_header(out, 3);
    if (!err)
        err = put_str(out, oid);
    if (!err)
        err = bo_mp_u64(out, n);
    if (!err)
        err = put_str(out, text);
    return err;
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
