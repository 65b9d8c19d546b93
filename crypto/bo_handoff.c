/* The CEK handoff: X25519 + HKDF-SHA256 + AES-256-GCM bound to a transcript. */
#include "bo/handoff.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "bo/cek.h"
#include "bo/hash.h"

#define NONCE 12
#define TAG 16
#define BID_MAX 128u
#define OID_MAX 64u

struct bo_handoff_server {
    EVP_PKEY *key;
    uint8_t pub[BO_HANDOFF_PUB_LEN];
};

static bool bind_ok(const bo_handoff_bind *b)
{
    size_t ol = b && b->oid ? strnlen(b->oid, OID_MAX + 1) : 0;
    size_t bl = b && b->bid ? strnlen(b->bid, BID_MAX + 1) : 0;
    return ol > 0 && ol <= OID_MAX && bl > 0 && bl <= BID_MAX && b->env_sha256 && b->ri_der &&
           b->ri_len > 0 && b->ri_len <= 16u * 1024u;
}

/* msgpack str (fixstr or str8: every string here is < 256 bytes) and bin8. */
static size_t put_str(uint8_t *p, const char *s, size_t l)
{
    size_t h = 0;
    if (l < 32) {
        p[h++] = (uint8_t)(0xa0 | l);
    } else {
        p[h++] = 0xd9;
        p[h++] = (uint8_t)l;
    }
    memcpy(p + h, s, l);
    return h + l;
}

static size_t put_bin32(uint8_t *p, const uint8_t *b)
{
    p[0] = 0xc4;
    p[1] = 32;
    memcpy(p + 2, b, 32);
    return 34;
}

bo_err bo_handoff_transcript(const bo_handoff_bind *b, const uint8_t client_pub[32],
                             const uint8_t server_pub[32], uint8_t out[32])
{
    if (!bind_ok(b) || !client_pub || !server_pub)
        return BO_E_INVALID_ARG;
    uint8_t buf[1 + 2 + sizeof(BO_HANDOFF_LABEL) + 2 + OID_MAX + 2 + BID_MAX + 4 * 34];
    uint8_t ri_hash[32];
    bo_sha256(b->ri_der, b->ri_len, ri_hash);
    size_t l = 0;
    buf[l++] = 0x97; /* fixarray of 7 */
    l += put_str(buf + l, BO_HANDOFF_LABEL, sizeof(BO_HANDOFF_LABEL) - 1);
    l += put_str(buf + l, b->oid, strlen(b->oid));
    l += put_str(buf + l, b->bid, strlen(b->bid));
    l += put_bin32(buf + l, b->env_sha256);
    l += put_bin32(buf + l, ri_hash);
    l += put_bin32(buf + l, client_pub);
    l += put_bin32(buf + l, server_pub);
    bo_sha256(buf, l, out);
    return BO_E_OK;
}

/* Z = X25519(priv, peer_pub); K = HKDF-SHA256(Z, info = T). */
static bool derive_key(EVP_PKEY *priv, const uint8_t peer_pub[32], const uint8_t t[32],
                       uint8_t key[32])
{
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pub, 32);
    EVP_PKEY_CTX *dc = peer ? EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL) : NULL;
    uint8_t z[32];
    size_t zl = sizeof z;
    /* OpenSSL refuses an all-zero shared secret (a low-order peer key). */
    bool ok = dc && EVP_PKEY_derive_init(dc) > 0 && EVP_PKEY_derive_set_peer(dc, peer) > 0 &&
              EVP_PKEY_derive(dc, z, &zl) > 0 && zl == 32;
    EVP_KDF *kdf = ok ? EVP_KDF_fetch(NULL, "HKDF", NULL) : NULL;
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kc) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, zl),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)t, 32),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_KDF_derive(kc, key, 32, params) > 0;
    } else {
        ok = false;
    }
    OPENSSL_cleanse(z, sizeof z);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(peer);
    ERR_clear_error();
    return ok;
}

static bool gcm(bool enc, const uint8_t key[32], const uint8_t nonce[NONCE], const uint8_t t[32],
                const uint8_t *in, uint8_t *out, uint8_t tag[TAG])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, l2 = 0;
    bool ok = c && EVP_CipherInit_ex2(c, EVP_aes_256_gcm(), key, nonce, enc ? 1 : 0, NULL) > 0 &&
              EVP_CipherUpdate(c, NULL, &l, t, 32) > 0 &&
              EVP_CipherUpdate(c, out, &l, in, BO_CEK_LEN) > 0 && l == BO_CEK_LEN;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG, tag) > 0;
    ok = ok && EVP_CipherFinal_ex(c, out + l, &l2) > 0 && l2 == 0;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG, tag) > 0;
    EVP_CIPHER_CTX_free(c);
    ERR_clear_error();
    return ok;
}

bo_handoff_server *bo_handoff_server_new(bo_err *err)
{
    bo_handoff_server *h = OPENSSL_zalloc(sizeof(*h));
    if (!h) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    size_t pl = sizeof h->pub;
    h->key = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    if (!h->key || EVP_PKEY_get_raw_public_key(h->key, h->pub, &pl) <= 0 || pl != 32) {
        bo_handoff_server_free(h);
        ERR_clear_error();
        *err = BO_E_INTERNAL;
        return NULL;
    }
    return h;
}

const uint8_t *bo_handoff_server_pub(const bo_handoff_server *h)
{
    return h->pub;
}

void bo_handoff_server_free(bo_handoff_server *h)
{
    if (!h)
        return;
    EVP_PKEY_free(h->key);
    OPENSSL_clear_free(h, sizeof(*h));
}

bo_err bo_handoff_client_wrap(const bo_handoff_bind *b, const uint8_t server_pub[32],
                              const bo_secret *cek, bo_buf *out)
{
    if (!cek || bo_secret_len(cek) != BO_CEK_LEN)
        return BO_E_CEK_INVALID;
    if (!bind_ok(b) || !server_pub)
        return BO_E_INVALID_ARG;
    uint8_t blob[BO_HANDOFF_BLOB_LEN];
    size_t pl = BO_HANDOFF_PUB_LEN;
    blob[0] = BO_HANDOFF_VERSION;
    uint8_t *cpub = blob + 1, *nonce = cpub + 32, *ct = nonce + NONCE, *tag = ct + BO_CEK_LEN;
    EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    uint8_t t[32], key[32];
    bo_err e = eph && EVP_PKEY_get_raw_public_key(eph, cpub, &pl) > 0 && pl == 32
                   ? bo_random_bytes(nonce, NONCE)
                   : BO_E_INTERNAL;
    if (e == BO_E_OK)
        e = bo_handoff_transcript(b, cpub, server_pub, t);
    if (e == BO_E_OK && !derive_key(eph, server_pub, t, key))
        e = BO_E_INVALID_ARG;
    if (e == BO_E_OK && !gcm(true, key, nonce, t, bo_secret_cdata(cek), ct, tag))
        e = BO_E_INTERNAL;
    if (e == BO_E_OK)
        e = bo_buf_append(out, blob, sizeof blob);
    OPENSSL_cleanse(key, sizeof key);
    EVP_PKEY_free(eph);
    ERR_clear_error();
    return e;
}

bo_err bo_handoff_server_unwrap(const bo_handoff_server *h, const bo_handoff_bind *b,
                                const uint8_t *blob, size_t len, bo_secret **cek)
{
    *cek = NULL;
    if (!bind_ok(b))
        return BO_E_INVALID_ARG;
    if (!blob || len != BO_HANDOFF_BLOB_LEN || blob[0] != BO_HANDOFF_VERSION)
        return BO_E_HANDOFF_FAILED;
    const uint8_t *cpub = blob + 1, *nonce = cpub + 32, *ct = nonce + NONCE, *tag0 = ct + BO_CEK_LEN;
    uint8_t t[32], key[32], tag[TAG];
    memcpy(tag, tag0, TAG);
    bo_err e = BO_E_OK;
    bo_secret *out = bo_secret_new(BO_CEK_LEN, &e);
    if (!out)
        return e;
    e = bo_handoff_transcript(b, cpub, h->pub, t);
    if (e == BO_E_OK && (!derive_key(h->key, cpub, t, key) ||
                         !gcm(false, key, nonce, t, ct, bo_secret_data(out), tag)))
        e = BO_E_HANDOFF_FAILED;
    OPENSSL_cleanse(key, sizeof key);
    if (e == BO_E_OK)
        *cek = out;
    else
        bo_secret_free(out);
    return e;
}

bo_err bo_handoff_check_request(const bo_seal_record *records, size_t n_records,
                                const bo_handoff_bind *req, bo_time_ms opening_started_at,
                                bo_time_ms now, size_t *idx)
{
    if (!bind_ok(req) || (!records && n_records))
        return BO_E_INVALID_ARG;
    if (opening_started_at <= 0 || now < opening_started_at)
        return BO_E_TOO_EARLY;
    uint8_t ri_hash[32];
    bo_sha256(req->ri_der, req->ri_len, ri_hash);
    for (size_t i = 0; i < n_records; i++) {
        const bo_seal_record *r = &records[i];
        if (strcmp(r->oid, req->oid) == 0 && memcmp(r->env_sha256, req->env_sha256, 32) == 0 &&
            memcmp(r->ri_sha256, ri_hash, 32) == 0) {
            if (idx)
                *idx = i;
            return BO_E_OK;
        }
    }
    return BO_E_NOT_MY_ENVELOPE;
}
