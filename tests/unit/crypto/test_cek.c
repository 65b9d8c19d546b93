/* bo_cek_unwrap: every RecipientInfo shape the real `openssl cms` writes (issuer+serial and
 * subject key identifiers, PKCS#1 v1.5, OAEP with various hashes, KARI with several KDFs) and the
 * SM2 KTRI shapes (ours, NULL parameters, a subject key identifier; raw ciphertext layouts
 * refused), public refusals with their own codes, and one uniform code for everything that
 * touches the private key. */
#include "sealed_test_util.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/seal.h"

static bo_pki_ca *g_ca;
static st_party g_rsa, g_ec, g_rsa2, g_ec2, g_sm2, g_sm2b;
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
    st_party_make(g_ca, BO_KEY_SM2, BO_PKI_ENC, "enc-sm2", &g_sm2);
    st_party_make(g_ca, BO_KEY_SM2, BO_PKI_ENC, "enc-sm2-2", &g_sm2b);
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
    st_party_free(&g_sm2);
    st_party_free(&g_sm2b);
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

/* ---- SM2 key transport ------------------------------------------------------------------------ */

/* SM2-encrypt m (n bytes) to p's certificate: the GM/T 0009 SM2Cipher DER OpenSSL writes. */
static size_t sm2_encrypt(const st_party *p, const uint8_t *m, size_t n, uint8_t *out)
{
    const unsigned char *q = p->der;
    X509 *x = d2i_X509(NULL, &q, (long)p->len);
    assert_non_null(x);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, X509_get0_pubkey(x), NULL);
    size_t ol = 512;
    assert_int_equal(EVP_PKEY_encrypt_init(c), 1);
    assert_int_equal(EVP_PKEY_encrypt(c, out, &ol, m, n), 1);
    EVP_PKEY_CTX_free(c);
    X509_free(x);
    return ol;
}

/* An SM2Cipher taken apart: x, y (32 bytes each, left-padded), C3 (32), C2. */
typedef struct sm2_parts {
    uint8_t x[32], y[32], c3[32], c2[256];
    size_t c2_len;
} sm2_parts;

static const uint8_t *der_tlv(const uint8_t *p, uint8_t tag, size_t *len)
{
    assert_int_equal(p[0], tag);
    if (p[1] == 0x81) {
        *len = p[2];
        return p + 3;
    }
    assert_true(p[1] < 0x80);
    *len = p[1];
    return p + 2;
}

static void sm2_split(const uint8_t *ct, size_t n, sm2_parts *o)
{
    size_t l;
    const uint8_t *p = der_tlv(ct, 0x30, &l);
    assert_int_equal((size_t)(p - ct) + l, n);
    uint8_t *xy[2] = {o->x, o->y};
    for (int i = 0; i < 2; i++) {
        const uint8_t *v = der_tlv(p, 0x02, &l);
        p = v + l;
        while (l > 32) { /* a sign octet */
            assert_int_equal(*v, 0);
            v++;
            l--;
        }
        memset(xy[i], 0, 32);
        memcpy(xy[i] + 32 - l, v, l);
    }
    const uint8_t *v = der_tlv(p, 0x04, &l);
    assert_int_equal(l, 32);
    memcpy(o->c3, v, 32);
    v = der_tlv(v + l, 0x04, &l);
    assert_true(l <= sizeof o->c2);
    memcpy(o->c2, v, l);
    o->c2_len = l;
}

static const uint8_t ALG_SM2[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x81, 0x1c, 0xcf,
                                  0x55, 0x01, 0x82, 0x2d, 0x03};
static const uint8_t ALG_SM2_NULL[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x81, 0x1c, 0xcf,
                                       0x55, 0x01, 0x82, 0x2d, 0x03, 0x05, 0x00};

static void sm2_shapes(void **state)
{
    uint8_t k32[32], ct[512];
    for (int i = 0; i < 32; i++)
        k32[i] = (uint8_t)(0xa0 ^ i); /* g_cek */
    bo_secret *cek = NULL;
    /* ours */
    bo_buf ri = our_ri(&g_sm2, BO_SEAL_RSA_OAEP_SHA256);
    assert_non_null(memmem(ri.data, ri.len, ALG_SM2, sizeof ALG_SM2));
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_OK);
    assert_true(bo_secret_equal(cek, g_cek));
    bo_secret_free(cek);
    cek = NULL;
    assert_int_equal(bo_envelope_recipient_matches(ri.data, ri.len, g_sm2.der, g_sm2.len), BO_E_OK);
    /* another SM2 certificate, or the right one with another SM2 key (a renewed certificate) */
    assert_int_equal(bo_envelope_recipient_matches(ri.data, ri.len, g_sm2b.der, g_sm2b.len),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2b.key, g_sm2b.der, g_sm2b.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2b.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    /* kinds crossed: an SM2 KTRI is not for RSA, an RSA KTRI or a KARI not for SM2 */
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_rsa.key, g_rsa.der, g_rsa.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    bo_buf ktri = our_ri(&g_rsa, BO_SEAL_RSA_OAEP_SHA256);
    bo_buf kari = our_ri(&g_ec, BO_SEAL_RSA_OAEP_SHA256);
    assert_int_equal(bo_cek_unwrap(ktri.data, ktri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_cek_unwrap(kari.data, kari.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_envelope_recipient_matches(ktri.data, ktri.len, g_sm2.der, g_sm2.len),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_envelope_recipient_matches(kari.data, kari.len, g_sm2.der, g_sm2.len),
                     BO_E_RECIPIENT_MISMATCH);
    assert_null(cek);
    bo_buf_cleanup(&ktri);
    bo_buf_cleanup(&kari);
    /* every truncation and a trailing byte */
    for (size_t cut = 0; cut < ri.len; cut++)
        assert_int_equal(bo_cek_unwrap(ri.data, cut, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                         BO_E_ENVELOPE_MALFORMED);
    bo_buf_cleanup(&ri);

    /* hand-built: parameters NULL (also read), absent (what we and GmSSL write); others not */
    size_t cl = sm2_encrypt(&g_sm2, k32, 32, ct);
    ri = make_ktri(&g_sm2, ALG_SM2_NULL, sizeof ALG_SM2_NULL, ct, cl);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_OK);
    assert_memory_equal(bo_secret_cdata(cek), k32, 32);
    bo_secret_free(cek);
    cek = NULL;
    bo_buf_cleanup(&ri);
    static const uint8_t ALG_SM2_PARAM[] = {0x30, 0x0f, 0x06, 0x09, 0x2a, 0x81, 0x1c, 0xcf, 0x55,
                                            0x01, 0x82, 0x2d, 0x03, 0x04, 0x02, 0x01, 0x02};
    ri = make_ktri(&g_sm2, ALG_SM2_PARAM, sizeof ALG_SM2_PARAM, ct, cl);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_ENVELOPE_MALFORMED);
    bo_buf_cleanup(&ri);

    /* KTRI version 2 with the subject key identifier */
    const unsigned char *q = g_sm2.der;
    X509 *x = d2i_X509(NULL, &q, (long)g_sm2.len);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    assert_non_null(ski);
    bo_buf_init(&ri, 1 << 12);
    st_put(&ri, (uint8_t[]){0x02, 0x01, 0x02}, 3);
    st_put_hdr(&ri, 0x80, (size_t)ASN1_STRING_length(ski));
    st_put(&ri, ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski));
    st_put(&ri, ALG_SM2, sizeof ALG_SM2);
    st_put_hdr(&ri, 0x04, cl);
    st_put(&ri, ct, cl);
    st_wrap(&ri, 0, 0x30);
    X509_free(x);
    assert_int_equal(bo_envelope_recipient_matches(ri.data, ri.len, g_sm2.der, g_sm2.len), BO_E_OK);
    assert_int_equal(bo_envelope_recipient_matches(ri.data, ri.len, g_sm2b.der, g_sm2b.len),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_OK);
    assert_memory_equal(bo_secret_cdata(cek), k32, 32);
    bo_secret_free(cek);
    cek = NULL;
    bo_buf_cleanup(&ri);

    /* raw layouts of other tools (04 || x || y || C3 || C2 and 04 || x || y || C2 || C3): refused
     * before any key operation, as a ciphertext form bidopen does not take */
    sm2_parts sp;
    sm2_split(ct, cl, &sp);
    for (int order = 0; order < 2; order++) {
        uint8_t raw[1 + 96 + 256];
        size_t rl = 0;
        raw[rl++] = 0x04;
        memcpy(raw + rl, sp.x, 32);
        rl += 32;
        memcpy(raw + rl, sp.y, 32);
        rl += 32;
        if (order == 0) {
            memcpy(raw + rl, sp.c3, 32);
            memcpy(raw + rl + 32, sp.c2, sp.c2_len);
        } else {
            memcpy(raw + rl, sp.c2, sp.c2_len);
            memcpy(raw + rl + sp.c2_len, sp.c3, 32);
        }
        rl += 32 + sp.c2_len;
        ri = make_ktri(&g_sm2, ALG_SM2, sizeof ALG_SM2, raw, rl);
        assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                         BO_E_ENVELOPE_CIPHER);
        assert_int_equal(bo_envelope_recipient_matches(ri.data, ri.len, g_sm2.der, g_sm2.len),
                         BO_E_ENVELOPE_CIPHER);
        bo_buf_cleanup(&ri);
    }
    /* the ASN.1 form with C2 and C3 swapped (C2 is 32 bytes too, so it parses): the hash fails */
    {
        uint8_t sw[512];
        memcpy(sw, ct, cl);
        uint8_t *c3 = memmem(sw, cl, sp.c3, 32);
        uint8_t *c2 = memmem(sw, cl, sp.c2, 32);
        assert_non_null(c3);
        assert_non_null(c2);
        memcpy(c3, sp.c2, 32);
        memcpy(c2, sp.c3, 32);
        ri = make_ktri(&g_sm2, ALG_SM2, sizeof ALG_SM2, sw, cl);
        assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                         BO_E_UNWRAP_FAILED);
        bo_buf_cleanup(&ri);
    }
    assert_null(cek);
}

/* Everything after the public checks is the one code: any flipped byte of x, y, C3 or C2, a key
 * of another length inside a perfectly good SM2 ciphertext, the wrong SM2 key. */
static void sm2_uniform_failures(void **state)
{
    bo_secret *cek = NULL;
    uint8_t ct[512];
    uint8_t k32[32] = {7, 7, 7};
    size_t cl = sm2_encrypt(&g_sm2, k32, 32, ct);
    bo_buf ri = make_ktri(&g_sm2, ALG_SM2, sizeof ALG_SM2, ct, cl);
    /* every byte inside the SM2Cipher SEQUENCE (30 81 L): the 8 tag and length octets of x, y,
     * C3 and C2 are a public refusal of the layout, every other byte the one code */
    assert_int_equal(ri.data[ri.len - cl], 0x30);
    assert_int_equal(ri.data[ri.len - cl + 1], 0x81);
    int unwrap = 0, layout = 0;
    for (size_t i = ri.len - cl + 3; i < ri.len; i++) {
        ri.data[i] ^= 0x10;
        bo_err e = bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek);
        ri.data[i] ^= 0x10;
        assert_null(cek);
        if (e == BO_E_UNWRAP_FAILED)
            unwrap++;
        else if (e == BO_E_ENVELOPE_CIPHER)
            layout++;
        else
            fail_msg("byte %zu of the SM2 ciphertext: %s", i - (ri.len - cl), bo_err_name(e));
    }
    assert_int_equal(layout, 8);
    assert_int_equal(unwrap, (int)cl - 3 - 8);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_OK);
    assert_memory_equal(bo_secret_cdata(cek), k32, 32);
    bo_secret_free(cek);
    cek = NULL;
    bo_buf_cleanup(&ri);
    /* good SM2 ciphertexts of keys of another length */
    static const size_t lens[] = {16, 31, 33, 48, 64, 65, 200};
    uint8_t m[200] = {1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        cl = sm2_encrypt(&g_sm2, m, lens[i], ct);
        ri = make_ktri(&g_sm2, ALG_SM2, sizeof ALG_SM2, ct, cl);
        bo_err e = bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek);
        if (e != BO_E_UNWRAP_FAILED)
            fail_msg("a %zu-byte key: %s", lens[i], bo_err_name(e));
        assert_null(cek);
        bo_buf_cleanup(&ri);
    }
    /* sealed to g_sm2b's key but claiming g_sm2's certificate: the key really is g_sm2's, the
     * decryption fails */
    cl = sm2_encrypt(&g_sm2b, k32, 32, ct);
    ri = make_ktri(&g_sm2, ALG_SM2, sizeof ALG_SM2, ct, cl);
    assert_int_equal(bo_cek_unwrap(ri.data, ri.len, g_sm2.key, g_sm2.der, g_sm2.len, &cek),
                     BO_E_UNWRAP_FAILED);
    assert_null(cek);
    bo_buf_cleanup(&ri);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_from_openssl),
        cmocka_unit_test(public_refusals),
        cmocka_unit_test(uniform_failures),
        cmocka_unit_test(sm2_shapes),
        cmocka_unit_test(sm2_uniform_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
