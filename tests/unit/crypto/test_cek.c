/* bo_cek_unwrap: every RecipientInfo shape the real `openssl cms` writes (issuer+serial and
 * subject key identifiers, PKCS#1 v1.5, OAEP with various hashes, KARI with several KDFs),
 * public refusals with their own codes, and one uniform code for everything that touches the
 * private key. */
#include "sealed_test_util.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/seal.h"

static bo_pki_ca *g_ca;
static st_party g_rsa, g_ec, g_rsa2, g_ec2;
static char *g_dir;
static char *g_plain;
static bo_secret *g_cek;

static void write_party_files(const st_party *p, const char *name)
{
    char n[64];
    snprintf(n, sizeof n, "%s-cert.pem", name);
    char *c = st_path(g_dir, n);
    st_spit(c, p->cert_pem.data, p->cert_pem.len);
    free(c);
}

static int setup(void **state)
{
    g_ca = st_ca();
    st_party_make(g_ca, BO_KEY_RSA, BO_PKI_ENC, "enc-rsa", &g_rsa);
    st_party_make(g_ca, BO_KEY_EC_P256, BO_PKI_ENC, "enc-ec", &g_ec);
    st_party_make(g_ca, BO_KEY_RSA, BO_PKI_ENC, "enc-rsa-2", &g_rsa2);
    st_party_make(g_ca, BO_KEY_EC_P256, BO_PKI_ENC, "enc-ec-2", &g_ec2);
    g_dir = st_tmpdir();
    write_party_files(&g_rsa, "rsa");
    write_party_files(&g_ec, "ec");
    g_plain = st_path(g_dir, "plain.bin");
    st_spit(g_plain, "a short bid", 11);
    uint8_t k[32];
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(0xa0 ^ i);
    bo_err e = BO_E_OK;
    g_cek = bo_secret_from(k, 32, &e);
    return 0;
}

static int teardown(void **state)
{
    st_party_free(&g_rsa);
    st_party_free(&g_ec);
    st_party_free(&g_rsa2);
    st_party_free(&g_ec2);
    bo_pki_ca_free(g_ca);
    bo_secret_free(g_cek);
    tu_rmtree(g_dir);
    free(g_dir);
    free(g_plain);
    return 0;
}

/* The first RecipientInfo of an envelope made by `openssl cms -encrypt <args>`. */
static bo_buf cli_ri(const char *who, const char *args)
{
    char *env = st_path(g_dir, "cli.cms");
    assert_int_equal(st_sh("openssl cms -encrypt -binary -aes-256-gcm -outform DER -in '%s' "
                           "-out '%s' -recip '%s/%s-cert.pem' %s",
                           g_plain, env, g_dir, who, args),
                     0);
    bo_envelope_info info;
    char detail[256] = "";
    bo_err e = bo_envelope_info_file(env, &info, detail, sizeof detail);
    if (e != BO_E_OK)
        fail_msg("%s %s: %s %s", who, args, bo_err_name(e), detail);
    bo_buf ri;
    bo_buf_init(&ri, 1 << 16);
    st_put(&ri, info.ri[0].der.p, info.ri[0].der.len);
    bo_envelope_info_cleanup(&info);
    free(env);
    return ri;
}

static void unwrap_ok(const bo_buf *ri, const st_party *p)
{
    bo_secret *cek = NULL;
    assert_int_equal(bo_cek_unwrap(ri->data, ri->len, p->key, p->der, p->len, &cek), BO_E_OK);
    assert_non_null(cek);
    assert_int_equal(bo_secret_len(cek), BO_CEK_LEN);
    bo_secret_free(cek);
}

/* The RecipientInfos of a seal with g_cek. */
static bo_buf our_ri(const st_party *to, bo_seal_rsa pad)
{
    bo_buf out, ri;
    bo_buf_init(&out, 1 << 20);
    bo_buf_init(&ri, 1 << 16);
    bo_seal_opts o = {.oid = "o", .uscc = ST_USCC, .cek = g_cek, .rsa_padding = pad};
    bo_bytes c = st_bytes(to);
    bo_err e = BO_E_OK;
    bo_seal *s = bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0);
    assert_non_null(s);
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_finish(s, &res), BO_E_OK);
    st_put(&ri, res.ri.list.v[0].p, res.ri.list.v[0].len);
    bo_seal_result_cleanup(&res);
    bo_seal_free(s);
    bo_buf_cleanup(&out);
    return ri;
}

static void shapes_from_openssl(void **state)
{
    struct {
        const char *who;
        const st_party *p;
        const char *args;
    } cases[] = {
        {"rsa", &g_rsa, ""},
        {"rsa", &g_rsa, "-keyid"}, /* KTRI v2, subjectKeyIdentifier */
        {"rsa", &g_rsa, "-keyopt rsa_padding_mode:oaep"},
        {"rsa", &g_rsa,
         "-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256"},
        {"rsa", &g_rsa,
         "-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha384 -keyopt rsa_mgf1_md:sha1"},
        {"rsa", &g_rsa,
         "-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha512 -keyopt rsa_mgf1_md:sha512"},
        {"ec", &g_ec, ""},
        {"ec", &g_ec, "-keyid"}, /* rKeyId */
        {"ec", &g_ec, "-keyopt ecdh_kdf_md:sha256"},
        {"ec", &g_ec, "-keyopt ecdh_kdf_md:sha384"},
        {"ec", &g_ec, "-keyopt ecdh_kdf_md:sha512"},
        {"ec", &g_ec, "-keyopt ecdh_kdf_md:sha224"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bo_buf ri = cli_ri(cases[i].who, cases[i].args);
        unwrap_ok(&ri, cases[i].p);
        assert_int_equal(bo_envelope_recipient_matches(ri.data, ri.len, cases[i].p->der,
                                                       cases[i].p->len),
                         BO_E_OK);
        /* the same shape for another certificate of the same kind is not ours */
        const st_party *other = cases[i].p == &g_rsa ? &g_rsa2 : &g_ec2;
        bo_secret *cek = (bo_secret *)1;
        assert_int_equal(bo_cek_unwrap(ri.data, ri.len, other->key, other->der, other->len, &cek),
                         BO_E_RECIPIENT_MISMATCH);
        assert_null(cek);
        bo_buf_cleanup(&ri);
    }
    /* a non-empty OAEP label is not taken */
    char *env = st_path(g_dir, "label.cms");
    assert_int_equal(st_sh("openssl cms -encrypt -binary -aes-256-gcm -outform DER -in '%s' "
                           "-out '%s' -recip '%s/rsa-cert.pem' -keyopt rsa_padding_mode:oaep "
                           "-keyopt rsa_oaep_label:0011",
                           g_plain, env, g_dir),
                     0);
    bo_envelope_info info;
    assert_int_equal(bo_envelope_info_file(env, &info, NULL, 0), BO_E_ENVELOPE_CIPHER);
    free(env);
}

static void public_refusals(void **state)
{
    bo_buf ktri = our_ri(&g_rsa, BO_SEAL_RSA_OAEP_SHA256);
    bo_buf kari = our_ri(&g_ec, BO_SEAL_RSA_OAEP_SHA256);
    bo_secret *cek = NULL;
    /* the right certificate with somebody else's key (e.g. a renewed certificate) */
    assert_int_equal(bo_cek_unwrap(ktri.data, ktri.len, g_rsa2.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    /* kinds crossed */
    assert_int_equal(bo_cek_unwrap(ktri.data, ktri.len, g_ec.key, g_ec.der, g_ec.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_cek_unwrap(kari.data, kari.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_envelope_recipient_matches(kari.data, kari.len, g_rsa.der, g_rsa.len),
                     BO_E_RECIPIENT_MISMATCH);
    /* not a certificate */
    assert_int_equal(bo_cek_unwrap(ktri.data, ktri.len, g_rsa.key, (const uint8_t *)"\x30\x00", 2,
                                   &cek),
                     BO_E_CERT_INVALID);
    assert_int_equal(bo_envelope_recipient_matches(ktri.data, ktri.len, (const uint8_t *)"x", 1),
                     BO_E_CERT_INVALID);
    /* every truncation, a trailing byte, nothing */
    for (size_t cut = 0; cut < ktri.len; cut++)
        assert_int_equal(bo_cek_unwrap(ktri.data, cut, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                         BO_E_ENVELOPE_MALFORMED);
    for (size_t cut = 0; cut < kari.len; cut++)
        assert_int_equal(bo_cek_unwrap(kari.data, cut, g_ec.key, g_ec.der, g_ec.len, &cek),
                         BO_E_ENVELOPE_MALFORMED);
    st_put(&ktri, "", 1);
    assert_int_equal(bo_cek_unwrap(ktri.data, ktri.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_ENVELOPE_MALFORMED);
    assert_int_equal(bo_cek_unwrap(NULL, 0, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_ENVELOPE_MALFORMED);
    /* recipient kinds bidopen does not take */
    static const uint8_t kekri[] = {0xa2, 0x1f, 0x02, 0x01, 0x04, 0x30, 0x03, 0x04, 0x01, 0x01,
                                    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
                                    0x04, 0x01, 0x2d, 0x04, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(bo_cek_unwrap(kekri, sizeof kekri, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_ENVELOPE_CIPHER);
    static const uint8_t pwri[] = {0xa3, 0x03, 0x02, 0x01, 0x00};
    assert_int_equal(bo_cek_unwrap(pwri, sizeof pwri, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_ENVELOPE_CIPHER);
    assert_null(cek);
    bo_buf_cleanup(&ktri);
    bo_buf_cleanup(&kari);
}

/* A KTRI for p with the given key-encryption AlgorithmIdentifier and encrypted key. */
static bo_buf make_ktri(const st_party *p, const uint8_t *alg, size_t alg_len, const uint8_t *ek,
                        size_t ek_len)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 16);
    st_put(&b, (uint8_t[]){0x02, 0x01, 0x00}, 3);
    const unsigned char *q = p->der;
    X509 *x = d2i_X509(NULL, &q, (long)p->len);
    assert_non_null(x);
    unsigned char *nm = NULL, *sn = NULL;
    int nl = i2d_X509_NAME(X509_get_issuer_name(x), &nm);
    int sl = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &sn);
    size_t is = b.len;
    st_put(&b, nm, (size_t)nl);
    st_put(&b, sn, (size_t)sl);
    st_wrap(&b, is, 0x30);
    st_put(&b, alg, alg_len);
    st_put_hdr(&b, 0x04, ek_len);
    st_put(&b, ek, ek_len);
    st_wrap(&b, 0, 0x30);
    OPENSSL_free(nm);
    OPENSSL_free(sn);
    X509_free(x);
    return b;
}

static const uint8_t ALG_PKCS1[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                    0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

static size_t rsa_encrypt(const st_party *p, int pad, const uint8_t *m, size_t n, uint8_t *out)
{
    const unsigned char *q = p->der;
    X509 *x = d2i_X509(NULL, &q, (long)p->len);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, X509_get0_pubkey(x), NULL);
    size_t ol = 512;
    assert_int_equal(EVP_PKEY_encrypt_init(c), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(c, pad) > 0);
    assert_int_equal(EVP_PKEY_encrypt(c, out, &ol, m, n), 1);
    EVP_PKEY_CTX_free(c);
    X509_free(x);
    return ol;
}

/* Everything after the public checks fails with the one code: a flipped byte anywhere in the
 * encrypted key, a key of the wrong length, a point not on the curve. */
static void uniform_failures(void **state)
{
    bo_secret *cek = NULL;
    for (int kind = 0; kind < 3; kind++) {
        const st_party *p = kind == 2 ? &g_ec : &g_rsa;
        bo_buf ri = our_ri(p, kind == 1 ? BO_SEAL_RSA_PKCS1 : BO_SEAL_RSA_OAEP_SHA256);
        /* the encryptedKey is the last element of both kinds */
        size_t ek_len = kind == 2 ? 40 : 256;
        for (size_t i = ri.len - ek_len; i < ri.len; i++) {
            ri.data[i] ^= 0x04;
            bo_err e = bo_cek_unwrap(ri.data, ri.len, p->key, p->der, p->len, &cek);
            if (e != BO_E_UNWRAP_FAILED)
                fail_msg("kind %d byte %zu: %s", kind, i, bo_err_name(e));
            assert_null(cek);
            ri.data[i] ^= 0x04;
        }
        unwrap_ok(&ri, p);
        bo_buf_cleanup(&ri);
    }
    /* PKCS#1 v1.5 / OAEP with a perfectly good padding around a 16-byte key */
    uint8_t k16[16] = {1, 2, 3}, ek[512];
    size_t el = rsa_encrypt(&g_rsa, RSA_PKCS1_PADDING, k16, 16, ek);
    bo_buf ri = make_ktri(&g_rsa, ALG_PKCS1, sizeof ALG_PKCS1, ek, el);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_UNWRAP_FAILED);
    bo_buf_cleanup(&ri);
    /* and the same builder with 32 bytes works (so the failure above is the length) */
    uint8_t k32[32] = {9};
    el = rsa_encrypt(&g_rsa, RSA_PKCS1_PADDING, k32, 32, ek);
    ri = make_ktri(&g_rsa, ALG_PKCS1, sizeof ALG_PKCS1, ek, el);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_OK);
    assert_memory_equal(bo_secret_cdata(cek), k32, 32);
    bo_secret_free(cek);
    cek = NULL;
    /* the same ciphertext announced as OAEP: a padding failure, same code */
    static const uint8_t ALG_OAEP_SHA1[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                            0xf7, 0x0d, 0x01, 0x01, 0x07, 0x30, 0x00};
    bo_buf_cleanup(&ri);
    ri = make_ktri(&g_rsa, ALG_OAEP_SHA1, sizeof ALG_OAEP_SHA1, ek, el);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_UNWRAP_FAILED);
    bo_buf_cleanup(&ri);
    /* OAEP (SHA-1 defaults: empty parameters) around the right key works */
    el = rsa_encrypt(&g_rsa, RSA_PKCS1_OAEP_PADDING, k32, 32, ek);
    ri = make_ktri(&g_rsa, ALG_OAEP_SHA1, sizeof ALG_OAEP_SHA1, ek, el);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_OK);
    assert_memory_equal(bo_secret_cdata(cek), k32, 32);
    bo_secret_free(cek);
    cek = NULL;
    bo_buf_cleanup(&ri);
    /* OAEP with an MD5 hash is refused before any key operation */
    static const uint8_t ALG_OAEP_MD5[] = {0x30, 0x1d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                           0x0d, 0x01, 0x01, 0x07, 0x30, 0x10, 0xa0, 0x0e, 0x30,
                                           0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                           0x02, 0x05, 0x05, 0x00};
    ri = make_ktri(&g_rsa, ALG_OAEP_MD5, sizeof ALG_OAEP_MD5, ek, el);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_ENVELOPE_CIPHER);
    bo_buf_cleanup(&ri);
    /* KARI: an originator point that is not on the curve */
    bo_buf kari = our_ri(&g_ec, BO_SEAL_RSA_OAEP_SHA256);
    uint8_t *pt = memmem(kari.data, kari.len, "\x03\x42\x00\x04", 4);
    assert_non_null(pt);
    pt[40] ^= 0x01;
    assert_int_equal(bo_cek_unwrap(kari.data, kari.len, g_ec.key, g_ec.der, g_ec.len, &cek),
                     BO_E_UNWRAP_FAILED);
    assert_null(cek);
    bo_buf_cleanup(&kari);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_from_openssl),
        cmocka_unit_test(public_refusals),
        cmocka_unit_test(uniform_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
