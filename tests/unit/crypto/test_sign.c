/* bo_sign: canonical signatures for every algorithm, key loading, and cross-checks against
 * plain OpenSSL calls (so that the SM2 ID and the padding are really what protocol.md says). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "bo/sign.h"

static const bo_keyalg ALGS[] = {BO_KEY_RSA, BO_KEY_EC_P256, BO_KEY_SM2, BO_KEY_ED25519};
static const uint8_t PAYLOAD[] = {0x93, 0xc4, 0x03, 'a', 'b', 'c', 0xa6, 'b', 'i', 'd', 'd', 'e', 'r'};

/* One key per algorithm, generated once for the whole file (RSA keygen is the slow part). */
static bo_key *g_keys[4];

static int setup(void **state)
{
    for (int i = 0; i < 4; i++) {
        bo_err e = BO_E_OK;
        g_keys[i] = bo_key_generate(ALGS[i], &e);
        if (!g_keys[i])
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    for (int i = 0; i < 4; i++)
        bo_key_free(g_keys[i]);
    return 0;
}

static EVP_PKEY *ossl_pub(const bo_key *k)
{
    bo_buf spki;
    bo_buf_init(&spki, 4096);
    assert_int_equal(bo_key_public_der(k, &spki), BO_E_OK);
    const unsigned char *p = spki.data;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki.len);
    assert_non_null(pk);
    bo_buf_cleanup(&spki);
    return pk;
}

static EVP_PKEY *ossl_priv(const bo_key *k)
{
    bo_buf pem;
    bo_buf_init(&pem, 1 << 16);
    assert_int_equal(bo_key_to_pem(k, NULL, &pem), BO_E_OK);
    BIO *b = BIO_new_mem_buf(pem.data, (int)pem.len);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    assert_non_null(pk);
    BIO_free(b);
    bo_buf_cleanup_wipe(&pem);
    return pk;
}

/* A self-signed certificate for key k (the certificate's own signature does not matter to
 * bo_sig_verify, which only uses its public key). */
static uint8_t *cert_for(const bo_key *k, size_t *len)
{
    EVP_PKEY *pk = ossl_priv(k);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    ASN1_TIME_set(X509_getm_notBefore(x), 1000000000);
    ASN1_TIME_set(X509_getm_notAfter(x), 2000000000);
    X509_set_pubkey(x, pk);
    const EVP_MD *md = bo_key_alg(k) == BO_KEY_ED25519 ? NULL
                       : bo_key_alg(k) == BO_KEY_SM2   ? EVP_sm3()
                                                       : EVP_sha256();
    assert_true(X509_sign(x, pk, md) > 0);
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    assert_true(dl > 0);
    uint8_t *out = malloc((size_t)dl);
    memcpy(out, der, (size_t)dl);
    *len = (size_t)dl;
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(pk);
    return out;
}

static void tbs_bytes(void **state)
{
    bo_buf t;
    bo_buf_init(&t, 1024);
    assert_int_equal(bo_sig_tbs("auth", (const uint8_t *)"xy", 2, &t), BO_E_OK);
    static const char want[] = "bidopen/sig/v1\0auth\0xy";
    assert_int_equal(t.len, sizeof want - 1);
    assert_memory_equal(t.data, want, sizeof want - 1);
    bo_buf_reset(&t);
    assert_int_equal(bo_sig_tbs("", (const uint8_t *)"xy", 2, &t), BO_E_INVALID_ARG);
    assert_int_equal(bo_sig_tbs(NULL, (const uint8_t *)"xy", 2, &t), BO_E_INVALID_ARG);
    char long_ctx[BO_SIG_CTX_MAX + 2];
    memset(long_ctx, 'c', sizeof long_ctx - 1);
    long_ctx[sizeof long_ctx - 1] = '\0';
    assert_int_equal(bo_sig_tbs(long_ctx, NULL, 0, &t), BO_E_INVALID_ARG);
    long_ctx[BO_SIG_CTX_MAX] = '\0';
    assert_int_equal(bo_sig_tbs(long_ctx, NULL, 0, &t), BO_E_OK);
    bo_buf_cleanup(&t);
}

static void round_trip_all_algs(void **state)
{
    for (int i = 0; i < 4; i++) {
        const bo_key *k = g_keys[i];
        assert_int_equal(bo_key_alg(k), ALGS[i]);
        bo_buf sig, spki;
        bo_buf_init(&sig, BO_SIG_MAX);
        bo_buf_init(&spki, 4096);
        assert_int_equal(bo_key_sign(k, "auth", PAYLOAD, sizeof PAYLOAD, &sig), BO_E_OK);
        assert_int_equal(bo_key_public_der(k, &spki), BO_E_OK);
        assert_int_equal(bo_sig_verify_spki(spki.data, spki.len, "auth", PAYLOAD, sizeof PAYLOAD,
                                            sig.data, sig.len),
                         BO_E_OK);
        size_t cl;
        uint8_t *cert = cert_for(k, &cl);
        assert_int_equal(bo_key_matches_cert(k, cert, cl), BO_E_OK);
        assert_int_equal(bo_sig_verify(cert, cl, "auth", PAYLOAD, sizeof PAYLOAD, sig.data, sig.len),
                         BO_E_OK);
        /* another context, payload or signature is refused */
        assert_int_equal(bo_sig_verify(cert, cl, "signin", PAYLOAD, sizeof PAYLOAD, sig.data, sig.len),
                         BO_E_BAD_SIGNATURE);
        uint8_t tampered[sizeof PAYLOAD];
        memcpy(tampered, PAYLOAD, sizeof PAYLOAD);
        tampered[5] ^= 0x01;
        assert_int_equal(bo_sig_verify(cert, cl, "auth", tampered, sizeof tampered, sig.data, sig.len),
                         BO_E_BAD_SIGNATURE);
        assert_int_equal(bo_sig_verify(cert, cl, "auth", PAYLOAD, sizeof PAYLOAD - 1, sig.data, sig.len),
                         BO_E_BAD_SIGNATURE);
        sig.data[sig.len / 2] ^= 0x40;
        assert_int_equal(bo_sig_verify(cert, cl, "auth", PAYLOAD, sizeof PAYLOAD, sig.data, sig.len),
                         BO_E_BAD_SIGNATURE);
        sig.data[sig.len / 2] ^= 0x40;
        assert_int_equal(bo_sig_verify(cert, cl, "auth", PAYLOAD, sizeof PAYLOAD, sig.data, sig.len - 1),
                         BO_E_BAD_SIGNATURE);
        assert_int_equal(bo_sig_verify(cert, cl, "auth", PAYLOAD, sizeof PAYLOAD, sig.data, 0),
                         BO_E_BAD_SIGNATURE);
        /* another key's certificate */
        size_t ol;
        uint8_t *other = cert_for(g_keys[(i + 1) % 4], &ol);
        assert_int_equal(bo_key_matches_cert(k, other, ol), BO_E_NOT_FOUND);
        assert_int_equal(bo_sig_verify(other, ol, "auth", PAYLOAD, sizeof PAYLOAD, sig.data, sig.len),
                         BO_E_BAD_SIGNATURE);
        /* an unparsable certificate or key */
        assert_int_equal(bo_sig_verify(cert, cl - 1, "auth", PAYLOAD, sizeof PAYLOAD, sig.data, sig.len),
                         BO_E_CERT_INVALID);
        assert_int_equal(bo_key_matches_cert(k, cert, 3), BO_E_CERT_INVALID);
        assert_int_equal(bo_sig_verify_spki(spki.data, spki.len - 1, "auth", PAYLOAD, sizeof PAYLOAD,
                                            sig.data, sig.len),
                         BO_E_BAD_FIELD);
        free(other);
        free(cert);
        bo_buf_cleanup(&sig);
        bo_buf_cleanup(&spki);
    }
}

/* The SM2 signature really uses ID 1234567812345678: OpenSSL with that ID set explicitly
 * accepts it, OpenSSL with its default (empty) ID refuses it; and the reverse direction. */
static void sm2_uses_gm_default_id(void **state)
{
    const bo_key *k = g_keys[2];
    bo_buf sig, tbs;
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_buf_init(&tbs, 1024);
    assert_int_equal(bo_key_sign(k, "signin", PAYLOAD, sizeof PAYLOAD, &sig), BO_E_OK);
    assert_int_equal(bo_sig_tbs("signin", PAYLOAD, sizeof PAYLOAD, &tbs), BO_E_OK);
    EVP_PKEY *pub = ossl_pub(k);
    assert_true(EVP_PKEY_is_a(pub, "SM2"));

    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sm3(), NULL, pub), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_id(pctx, "1234567812345678", 16), 1);
    assert_int_equal(EVP_DigestVerify(md, sig.data, sig.len, tbs.data, tbs.len), 1);
    EVP_MD_CTX_free(md);

    md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sm3(), NULL, pub), 1);
    assert_int_not_equal(EVP_DigestVerify(md, sig.data, sig.len, tbs.data, tbs.len), 1);
    EVP_MD_CTX_free(md);

    /* OpenSSL signs with the explicit ID: bidopen verifies; with the empty ID: it refuses */
    EVP_PKEY *priv = ossl_priv(k);
    for (int with_id = 1; with_id >= 0; with_id--) {
        md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sm3(), NULL, priv), 1);
        if (with_id)
            assert_int_equal(EVP_PKEY_CTX_set1_id(pctx, "1234567812345678", 16), 1);
        uint8_t s2[128];
        size_t s2l = sizeof s2;
        assert_int_equal(EVP_DigestSign(md, s2, &s2l, tbs.data, tbs.len), 1);
        EVP_MD_CTX_free(md);
        bo_buf spki;
        bo_buf_init(&spki, 4096);
        assert_int_equal(bo_key_public_der(k, &spki), BO_E_OK);
        assert_int_equal(bo_sig_verify_spki(spki.data, spki.len, "signin", PAYLOAD, sizeof PAYLOAD,
                                            s2, s2l),
                         with_id ? BO_E_OK : BO_E_BAD_SIGNATURE);
        bo_buf_cleanup(&spki);
    }
    EVP_PKEY_free(priv);
    EVP_PKEY_free(pub);
    bo_buf_cleanup(&sig);
    bo_buf_cleanup(&tbs);
}

/* RSA is PKCS#1 v1.5 with SHA-256 (deterministic: OpenSSL's own signature is identical);
 * ECDSA is SHA-256 with a DER signature that plain OpenSSL verifies. */
static void rsa_and_ecdsa_match_openssl(void **state)
{
    bo_buf sig, tbs;
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_buf_init(&tbs, 1024);
    assert_int_equal(bo_sig_tbs("head", PAYLOAD, sizeof PAYLOAD, &tbs), BO_E_OK);

    assert_int_equal(bo_key_sign(g_keys[0], "head", PAYLOAD, sizeof PAYLOAD, &sig), BO_E_OK);
    EVP_PKEY *priv = ossl_priv(g_keys[0]);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, priv), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
    uint8_t s2[512];
    size_t s2l = sizeof s2;
    assert_int_equal(EVP_DigestSign(md, s2, &s2l, tbs.data, tbs.len), 1);
    assert_int_equal(s2l, sig.len);
    assert_memory_equal(s2, sig.data, s2l);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(priv);

    bo_buf_reset(&sig);
    assert_int_equal(bo_key_sign(g_keys[1], "head", PAYLOAD, sizeof PAYLOAD, &sig), BO_E_OK);
    EVP_PKEY *pub = ossl_pub(g_keys[1]);
    md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
    assert_int_equal(EVP_DigestVerify(md, sig.data, sig.len, tbs.data, tbs.len), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pub);
    assert_int_equal(sig.data[0], 0x30); /* DER SEQUENCE */

    /* Ed25519 is pure Ed25519 over the TBS */
    bo_buf_reset(&sig);
    assert_int_equal(bo_key_sign(g_keys[3], "head", PAYLOAD, sizeof PAYLOAD, &sig), BO_E_OK);
    assert_int_equal(sig.len, 64);
    pub = ossl_pub(g_keys[3]);
    md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub), 1);
    assert_int_equal(EVP_DigestVerify(md, sig.data, sig.len, tbs.data, tbs.len), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pub);

    bo_buf_cleanup(&sig);
    bo_buf_cleanup(&tbs);
}

static char *tmp_write(const void *p, size_t n)
{
    char *path = strdup("/tmp/bo_test_sign_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
    return path;
}

static void load_pem_plain_and_encrypted(void **state)
{
    char detail[256];
    for (int i = 0; i < 4; i++) {
        bo_buf pem;
        bo_buf_init(&pem, 1 << 16);
        assert_int_equal(bo_key_to_pem(g_keys[i], "s3cret", &pem), BO_E_OK);
        assert_non_null(strstr((char *)pem.data, "ENCRYPTED PRIVATE KEY"));
        char *path = tmp_write(pem.data, pem.len);
        bo_err e = BO_E_OK;
        bo_key *k = bo_key_load(path, NULL, &e, detail, sizeof detail);
        assert_null(k);
        assert_int_equal(e, BO_E_INVALID_ARG);
        assert_non_null(strstr(detail, "password"));
        k = bo_key_load(path, "wrong", &e, detail, sizeof detail);
        assert_null(k);
        assert_int_equal(e, BO_E_INVALID_ARG);
        k = bo_key_load(path, "s3cret", &e, detail, sizeof detail);
        assert_non_null(k);
        assert_int_equal(bo_key_alg(k), ALGS[i]);
        size_t cl;
        uint8_t *cert = cert_for(g_keys[i], &cl);
        assert_int_equal(bo_key_matches_cert(k, cert, cl), BO_E_OK);
        free(cert);
        bo_key_free(k);
        unlink(path);
        free(path);

        bo_buf_reset(&pem);
        assert_int_equal(bo_key_to_pem(g_keys[i], NULL, &pem), BO_E_OK);
        path = tmp_write(pem.data, pem.len);
        k = bo_key_load(path, NULL, &e, detail, sizeof detail);
        assert_non_null(k);
        assert_int_equal(bo_key_alg(k), ALGS[i]);
        bo_key_free(k);
        unlink(path);
        free(path);
        bo_buf_cleanup_wipe(&pem);
    }
    /* a certificate block before the key (a combined PEM file) is skipped */
    {
        size_t cl;
        uint8_t *cert = cert_for(g_keys[1], &cl);
        bo_buf both;
        bo_buf_init(&both, 1 << 16);
        assert_int_equal(bo_cert_to_pem(cert, cl, &both), BO_E_OK);
        assert_int_equal(bo_key_to_pem(g_keys[1], NULL, &both), BO_E_OK);
        bo_err e = BO_E_OK;
        bo_key *k = bo_key_from_mem(both.data, both.len, NULL, &e, detail, sizeof detail);
        assert_non_null(k);
        assert_int_equal(bo_key_matches_cert(k, cert, cl), BO_E_OK);
        bo_key_free(k);
        bo_buf_cleanup_wipe(&both);
        free(cert);
    }
    bo_err e = BO_E_OK;
    assert_null(bo_key_load("/nonexistent/key.pem", NULL, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_IO);
    assert_null(bo_key_from_mem("garbage", 7, NULL, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_INVALID_ARG);
    /* no PKCS#11 provider is configured here: a clear refusal, never a prompt */
    assert_null(bo_key_load("pkcs11:token=none;object=none", "1234", &e, detail, sizeof detail));
    assert_int_not_equal(e, BO_E_OK);
}

static void unsupported_keys_refused(void **state)
{
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *keys[] = {small, p384};
    for (int i = 0; i < 2; i++) {
        assert_non_null(keys[i]);
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(b, keys[i], NULL, NULL, 0, NULL, NULL);
        char *p;
        long n = BIO_get_mem_data(b, &p);
        bo_err e = BO_E_OK;
        char detail[200];
        assert_null(bo_key_from_mem(p, (size_t)n, NULL, &e, detail, sizeof detail));
        assert_int_equal(e, BO_E_UNSUPPORTED_KEY);
        BIO_free(b);

        /* and a signature by such a key is not accepted either */
        unsigned char *spki = NULL;
        int sl = i2d_PUBKEY(keys[i], &spki);
        uint8_t sig[256] = {1};
        assert_int_equal(bo_sig_verify_spki(spki, (size_t)sl, "auth", PAYLOAD, sizeof PAYLOAD, sig, 64),
                         BO_E_UNSUPPORTED_KEY);
        OPENSSL_free(spki);
        EVP_PKEY_free(keys[i]);
    }
}

static void pkcs12_load(void **state)
{
    /* key + its certificate + an unrelated "CA" certificate, as a CA hands them out */
    EVP_PKEY *pk = ossl_priv(g_keys[1]);
    size_t cl, ol;
    uint8_t *cder = cert_for(g_keys[1], &cl), *oder = cert_for(g_keys[0], &ol);
    const unsigned char *p = cder;
    X509 *cert = d2i_X509(NULL, &p, (long)cl);
    p = oder;
    X509 *other = d2i_X509(NULL, &p, (long)ol);
    STACK_OF(X509) *ca = sk_X509_new_null();
    sk_X509_push(ca, other);
    PKCS12 *p12 = PKCS12_create("bidopen", "bidder", pk, cert, ca, 0, 0, 0, 0, 0);
    assert_non_null(p12);
    unsigned char *der = NULL;
    int dl = i2d_PKCS12(p12, &der);
    char *path = tmp_write(der, (size_t)dl);

    bo_err e = BO_E_OK;
    char detail[200];
    bo_blob_list chain = {0};
    bo_key *k = bo_key_load_p12(path, "bidopen", &chain, &e, detail, sizeof detail);
    assert_non_null(k);
    assert_int_equal(bo_key_alg(k), BO_KEY_EC_P256);
    assert_int_equal(chain.list.n, 2);
    assert_int_equal(chain.list.v[0].len, cl);
    assert_memory_equal(chain.list.v[0].p, cder, cl);
    assert_int_equal(bo_key_matches_cert(k, chain.list.v[0].p, chain.list.v[0].len), BO_E_OK);
    bo_blob_list_cleanup(&chain);
    bo_key_free(k);

    k = bo_key_load(path, "bidopen", &e, detail, sizeof detail);
    assert_non_null(k);
    bo_key_free(k);
    assert_null(bo_key_load_p12(path, "nope", &chain, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_INVALID_ARG);
    assert_int_equal(chain.list.n, 0);
    assert_null(bo_key_load(path, NULL, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_INVALID_ARG);

    unlink(path);
    free(path);
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_pop_free(ca, X509_free);
    X509_free(cert);
    EVP_PKEY_free(pk);
    free(cder);
    free(oder);
}

/* Several threads sign and verify with the same keys at once. */
static void *thread_body(void *arg)
{
    intptr_t bad = 0;
    for (int round = 0; round < 20; round++) {
        const bo_key *k = g_keys[(round + (intptr_t)arg) % 4];
        bo_buf sig, spki;
        bo_buf_init(&sig, BO_SIG_MAX);
        bo_buf_init(&spki, 4096);
        if (bo_key_sign(k, "auth", PAYLOAD, sizeof PAYLOAD, &sig) != BO_E_OK ||
            bo_key_public_der(k, &spki) != BO_E_OK ||
            bo_sig_verify_spki(spki.data, spki.len, "auth", PAYLOAD, sizeof PAYLOAD, sig.data,
                               sig.len) != BO_E_OK)
            bad++;
        bo_buf_cleanup(&sig);
        bo_buf_cleanup(&spki);
    }
    return (void *)bad;
}

static void concurrent_use(void **state)
{
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_body, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_int_equal((intptr_t)r, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tbs_bytes),
        cmocka_unit_test(round_trip_all_algs),
        cmocka_unit_test(sm2_uses_gm_default_id),
        cmocka_unit_test(rsa_and_ecdsa_match_openssl),
        cmocka_unit_test(load_pem_plain_and_encrypted),
        cmocka_unit_test(unsupported_keys_refused),
        cmocka_unit_test(pkcs12_load),
        cmocka_unit_test(concurrent_use),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
