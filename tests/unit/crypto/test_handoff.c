/* bo_handoff: the CEK handoff of remote decryption. The construction is re-done here with
 * plain OpenSSL (as a client in another language would), every bound field is changed, every
 * byte flipped; the client's guard; and the whole remote decryption from sealing to plaintext. */
#include "sealed_test_util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/handoff.h"
#include "bo/hash.h"
#include "bo/seal.h"

static bo_secret *g_cek;
static const uint8_t ENV_HASH[32] = {0xe1, 0xe2, 0xe3};
static const uint8_t RI[] = {0x30, 0x03, 0x02, 0x01, 0x00};

static int setup(void **state)
{
    uint8_t k[32];
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(i + 100);
    bo_err e = BO_E_OK;
    g_cek = bo_secret_from(k, 32, &e);
    return 0;
}

static int teardown(void **state)
{
    bo_secret_free(g_cek);
    return 0;
}

static bo_handoff_bind bind0(void)
{
    bo_handoff_bind b = {.oid = "op-2026-001", .bid = "bid-7", .env_sha256 = ENV_HASH,
                         .ri_der = RI, .ri_len = sizeof RI};
    return b;
}

static void round_trip(void **state)
{
    bo_err e = BO_E_OK;
    bo_handoff_server *h = bo_handoff_server_new(&e);
    assert_non_null(h);
    bo_handoff_bind b = bind0();
    bo_buf blob;
    bo_buf_init(&blob, 1024);
    assert_int_equal(bo_handoff_client_wrap(&b, bo_handoff_server_pub(h), g_cek, &blob), BO_E_OK);
    assert_int_equal(blob.len, BO_HANDOFF_BLOB_LEN);
    assert_int_equal(blob.data[0], 1);
    bo_secret *cek = NULL;
    assert_int_equal(bo_handoff_server_unwrap(h, &b, blob.data, blob.len, &cek), BO_E_OK);
    assert_true(bo_secret_equal(cek, g_cek));
    bo_secret_free(cek);
    /* a second wrap of the same CEK looks entirely different (fresh key and nonce) */
    bo_buf blob2;
    bo_buf_init(&blob2, 1024);
    assert_int_equal(bo_handoff_client_wrap(&b, bo_handoff_server_pub(h), g_cek, &blob2), BO_E_OK);
    assert_memory_not_equal(blob.data + 1, blob2.data + 1, 32);
    assert_memory_not_equal(blob.data + 45, blob2.data + 45, 48);
    bo_buf_cleanup(&blob2);
    bo_buf_cleanup(&blob);
    bo_handoff_server_free(h);
}

/* The documented construction, computed with OpenSSL directly from a server key of our own. */
static void construction(void **state)
{
    EVP_PKEY *srv = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    uint8_t spub[32];
    size_t l = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(srv, spub, &l), 1);
    bo_handoff_bind b = bind0();
    bo_buf blob;
    bo_buf_init(&blob, 1024);
    assert_int_equal(bo_handoff_client_wrap(&b, spub, g_cek, &blob), BO_E_OK);
    const uint8_t *cpub = blob.data + 1, *nonce = cpub + 32, *ct = nonce + 12, *tag = ct + 32;

    /* T = SHA-256(msgpack [label, oid, bid, env_sha256, SHA-256(ri), client_pub, server_pub]) */
    bo_buf t;
    bo_buf_init(&t, 1024);
    st_put(&t, "\x97\xb6" "bidopen/cek-handoff/v1", 24);
    st_put(&t, "\xab" "op-2026-001", 12);
    st_put(&t, "\xa5" "bid-7", 6);
    st_put(&t, "\xc4\x20", 2);
    st_put(&t, ENV_HASH, 32);
    uint8_t rih[32];
    bo_sha256(RI, sizeof RI, rih);
    st_put(&t, "\xc4\x20", 2);
    st_put(&t, rih, 32);
    st_put(&t, "\xc4\x20", 2);
    st_put(&t, cpub, 32);
    st_put(&t, "\xc4\x20", 2);
    st_put(&t, spub, 32);
    uint8_t th[32], th2[32];
    bo_sha256(t.data, t.len, th);
    assert_int_equal(bo_handoff_transcript(&b, cpub, spub, th2), BO_E_OK);
    assert_memory_equal(th, th2, 32);

    /* Z = X25519, K = HKDF-SHA256(Z, no salt, info = T) */
    EVP_PKEY *cp = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, cpub, 32);
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new_from_pkey(NULL, srv, NULL);
    uint8_t z[32], k[32];
    size_t zl = 32;
    assert_int_equal(EVP_PKEY_derive_init(dc), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(dc, cp), 1);
    assert_int_equal(EVP_PKEY_derive(dc, z, &zl), 1);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, th, 32),
        OSSL_PARAM_construct_end(),
    };
    assert_int_equal(EVP_KDF_derive(kc, k, 32, params), 1);
    /* AES-256-GCM(K, nonce, aad = T) */
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t pt[48];
    int pl = 0, fl = 0;
    assert_int_equal(EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), k, nonce, NULL), 1);
    assert_int_equal(EVP_DecryptUpdate(c, NULL, &pl, th, 32), 1);
    assert_int_equal(EVP_DecryptUpdate(c, pt, &pl, ct, 32), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, (void *)tag), 1);
    assert_int_equal(EVP_DecryptFinal_ex(c, pt + pl, &fl), 1);
    assert_int_equal(pl + fl, 32);
    assert_memory_equal(pt, bo_secret_cdata(g_cek), 32);
    EVP_CIPHER_CTX_free(c);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(cp);
    EVP_PKEY_free(srv);
    bo_buf_cleanup(&t);
    bo_buf_cleanup(&blob);
}

static void binding(void **state)
{
    bo_err e = BO_E_OK;
    bo_handoff_server *h = bo_handoff_server_new(&e);
    bo_handoff_server *other = bo_handoff_server_new(&e);
    bo_handoff_bind b = bind0();
    bo_buf blob;
    bo_buf_init(&blob, 1024);
    assert_int_equal(bo_handoff_client_wrap(&b, bo_handoff_server_pub(h), g_cek, &blob), BO_E_OK);
    bo_secret *cek = NULL;
    uint8_t env2[32] = {0xe1, 0xe2, 0xe4};
    uint8_t ri2[sizeof RI];
    memcpy(ri2, RI, sizeof RI);
    ri2[4] = 1;
    bo_handoff_bind changed[5];
    for (int i = 0; i < 5; i++)
        changed[i] = b;
    changed[0].oid = "op-2026-002";
    changed[1].bid = "bid-8";
    changed[2].env_sha256 = env2;
    changed[3].ri_der = ri2;
    changed[4].ri_len = sizeof RI - 1;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(bo_handoff_server_unwrap(h, &changed[i], blob.data, blob.len, &cek),
                         BO_E_HANDOFF_FAILED);
        assert_null(cek);
    }
    /* another server key (another request) */
    assert_int_equal(bo_handoff_server_unwrap(other, &b, blob.data, blob.len, &cek),
                     BO_E_HANDOFF_FAILED);
    /* every byte and the length */
    for (size_t i = 0; i < blob.len; i++) {
        blob.data[i] ^= 0x10;
        assert_int_equal(bo_handoff_server_unwrap(h, &b, blob.data, blob.len, &cek),
                         BO_E_HANDOFF_FAILED);
        blob.data[i] ^= 0x10;
    }
    assert_int_equal(bo_handoff_server_unwrap(h, &b, blob.data, blob.len - 1, &cek),
                     BO_E_HANDOFF_FAILED);
    assert_int_equal(bo_handoff_server_unwrap(h, &b, NULL, 0, &cek), BO_E_HANDOFF_FAILED);
    /* and the intact one still works */
    assert_int_equal(bo_handoff_server_unwrap(h, &b, blob.data, blob.len, &cek), BO_E_OK);
    bo_secret_free(cek);
    /* bad arguments */
    bo_handoff_bind bad = b;
    bad.oid = "";
    assert_int_equal(bo_handoff_server_unwrap(h, &bad, blob.data, blob.len, &cek),
                     BO_E_INVALID_ARG);
    assert_int_equal(bo_handoff_client_wrap(&bad, bo_handoff_server_pub(h), g_cek, &blob),
                     BO_E_INVALID_ARG);
    bo_secret *k16 = bo_secret_new(16, &e);
    assert_int_equal(bo_handoff_client_wrap(&b, bo_handoff_server_pub(h), k16, &blob),
                     BO_E_CEK_INVALID);
    bo_secret_free(k16);
    /* a low-order server key (all zeros) gives an all-zero secret: refused */
    uint8_t zero[32] = {0};
    assert_int_equal(bo_handoff_client_wrap(&b, zero, g_cek, &blob), BO_E_INVALID_ARG);
    bo_buf_cleanup(&blob);
    bo_handoff_server_free(h);
    bo_handoff_server_free(other);
}

static void client_guard(void **state)
{
    bo_seal_record recs[2];
    memset(recs, 0, sizeof recs);
    strcpy(recs[0].oid, "op-2026-000");
    strcpy(recs[1].oid, "op-2026-001");
    memcpy(recs[1].env_sha256, ENV_HASH, 32);
    bo_sha256(RI, sizeof RI, recs[1].ri_sha256);
    bo_handoff_bind b = bind0();
    size_t idx = 9;
    const bo_time_ms start = 1800000000000LL;
    assert_int_equal(bo_handoff_check_request(recs, 2, &b, start, start, &idx), BO_E_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(bo_handoff_check_request(recs, 2, &b, start, start + 5000, NULL), BO_E_OK);
    /* before the opening, or with no opening at all */
    assert_int_equal(bo_handoff_check_request(recs, 2, &b, start, start - 1, &idx),
                     BO_E_TOO_EARLY);
    assert_int_equal(bo_handoff_check_request(recs, 2, &b, 0, start, &idx), BO_E_TOO_EARLY);
    /* anything not recorded */
    uint8_t env2[32] = {1};
    uint8_t ri2[] = {0x30, 0x03, 0x02, 0x01, 0x02};
    bo_handoff_bind x = b;
    x.oid = "op-2026-000";
    assert_int_equal(bo_handoff_check_request(recs, 2, &x, start, start, &idx),
                     BO_E_NOT_MY_ENVELOPE);
    x = b;
    x.env_sha256 = env2;
    assert_int_equal(bo_handoff_check_request(recs, 2, &x, start, start, &idx),
                     BO_E_NOT_MY_ENVELOPE);
    x = b;
    x.ri_der = ri2;
    assert_int_equal(bo_handoff_check_request(recs, 2, &x, start, start, &idx),
                     BO_E_NOT_MY_ENVELOPE);
    assert_int_equal(bo_handoff_check_request(NULL, 0, &b, start, start, &idx),
                     BO_E_NOT_MY_ENVELOPE);
    x = b;
    x.bid = NULL;
    assert_int_equal(bo_handoff_check_request(recs, 2, &x, start, start, &idx), BO_E_INVALID_ARG);
}

/* Seal (client) -> inspect and record (server) -> request -> guard, unwrap, check, re-wrap
 * (client) -> unwrap, commitment, streaming decrypt (server). */
static void remote_decryption(void **state)
{
    bo_pki_ca *ca = st_ca();
    st_party enc;
    st_party_make(ca, BO_KEY_EC_P256, BO_PKI_ENC, "enc", &enc);
    char *dir = st_tmpdir();
    char *in = st_path(dir, "bid.bin"), *env = st_path(dir, "bid.cms"), *out = st_path(dir, "out");
    st_spit(in, "price=1234567.89", 16);
    /* client: seal and keep the record */
    bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC};
    bo_bytes c = st_bytes(&enc);
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_file(in, env, &o, &c, 1, &res, NULL, 0), BO_E_OK);
    bo_seal_record rec = res.record;
    /* server: inspect, check the recipient, store hash, size, RecipientInfo, commitment */
    bo_envelope_info info;
    assert_int_equal(bo_envelope_info_file(env, &info, NULL, 0), BO_E_OK);
    size_t idx;
    assert_int_equal(bo_envelope_find_recipient(&info, enc.der, enc.len, &idx), BO_E_OK);
    assert_memory_equal(info.sha256, rec.env_sha256, 32);
    /* opening: a request for this bid */
    bo_err e = BO_E_OK;
    bo_handoff_server *h = bo_handoff_server_new(&e);
    bo_handoff_bind b = {.oid = "op-1", .bid = "b-1", .env_sha256 = info.sha256,
                         .ri_der = info.ri[idx].der.p, .ri_len = info.ri[idx].der.len};
    /* client */
    assert_int_equal(bo_handoff_check_request(&rec, 1, &b, 1000, 2000, NULL), BO_E_OK);
    bo_secret *cek = NULL;
    assert_int_equal(bo_cek_unwrap(b.ri_der, b.ri_len, enc.key, enc.der, enc.len, &cek), BO_E_OK);
    assert_int_equal(bo_cek_commitment_check(cek, rec.oid, rec.uscc, rec.commitment), BO_E_OK);
    bo_buf blob;
    bo_buf_init(&blob, 1024);
    assert_int_equal(bo_handoff_client_wrap(&b, bo_handoff_server_pub(h), cek, &blob), BO_E_OK);
    bo_secret_free(cek);
    cek = NULL;
    /* server */
    assert_int_equal(bo_handoff_server_unwrap(h, &b, blob.data, blob.len, &cek), BO_E_OK);
    bo_handoff_server_free(h);
    assert_int_equal(bo_cek_commitment_check(cek, "op-1", ST_USCC, rec.commitment), BO_E_OK);
    bo_decrypt_opts dop = {.expect_sha256 = rec.env_sha256};
    assert_int_equal(bo_envelope_decrypt(env, cek, out, &dop, NULL, NULL, 0), BO_E_OK);
    size_t n;
    uint8_t *pt = st_slurp(out, &n);
    assert_int_equal(n, 16);
    assert_memory_equal(pt, "price=1234567.89", 16);
    free(pt);
    bo_secret_free(cek);
    bo_buf_cleanup(&blob);
    bo_envelope_info_cleanup(&info);
    bo_seal_result_cleanup(&res);
    st_party_free(&enc);
    bo_pki_ca_free(ca);
    tu_rmtree(dir);
    free(dir);
    free(in);
    free(env);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),   cmocka_unit_test(construction),
        cmocka_unit_test(binding),      cmocka_unit_test(client_guard),
        cmocka_unit_test(remote_decryption),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
