/* bo_cert: PEM chains, fingerprints and display fields. The certificates are made here with
 * plain OpenSSL calls so that this test does not depend on bo_pki. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bo/cert.h"

#define ORG_UTF8 "\xe7\xa6\x8f\xe5\xbb\xba\xe5\xbb\xba\xe8\xae\xbe\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8" /* 福建建设有限公司 */

/* A self-signed EC certificate with a known subject, serial 0x1234ABCD, valid 1e9..2e9 s. */
static X509 *make_cert(const char *cn, EVP_PKEY **key_out)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234ABCD);
    X509_NAME *nm = X509_NAME_new();
    X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_UTF8, (const unsigned char *)"CN", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)ORG_UTF8, -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "serialNumber", MBSTRING_UTF8,
                               (const unsigned char *)"91350100M000100Y43", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, nm);
    X509_NAME_free(nm);
    ASN1_TIME_set(X509_getm_notBefore(x), 1000000000);
    ASN1_TIME_set(X509_getm_notAfter(x), 2000000000);
    X509_set_pubkey(x, k);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    *key_out = k;
    return x;
}

static char *write_tmp(const char *content)
{
    char *path = strdup("/tmp/bo_test_cert_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static char *pem_of(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = strndup(p, (size_t)n);
    BIO_free(b);
    return s;
}

static void chain_load_order_and_fpr(void **state)
{
    EVP_PKEY *k1, *k2;
    X509 *a = make_cert("leaf", &k1), *b = make_cert("ca", &k2);
    char *pa = pem_of(a), *pb = pem_of(b);
    /* a key block between the certificates is skipped */
    BIO *kb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, k1, NULL, NULL, 0, NULL, NULL);
    char *kp;
    long kn = BIO_get_mem_data(kb, &kp);
    size_t total = strlen(pa) + (size_t)kn + strlen(pb) + 1;
    char *all = calloc(1, total);
    strcat(all, pa);
    strncat(all, kp, (size_t)kn);
    strcat(all, pb);
    char *path = write_tmp(all);

    bo_blob_list l = {0};
    assert_int_equal(bo_pem_chain_load(path, &l), BO_E_OK);
    assert_int_equal(l.list.n, 2);
    unsigned char *der = NULL;
    int dl = i2d_X509(a, &der);
    assert_int_equal(l.list.v[0].len, dl);
    assert_memory_equal(l.list.v[0].p, der, dl);
    uint8_t fpr[32], want[32];
    bo_cert_fpr(l.list.v[0].p, l.list.v[0].len, fpr);
    SHA256(der, (size_t)dl, want);
    assert_memory_equal(fpr, want, 32);
    OPENSSL_free(der);

    {
        bo_cert_info ci;
        assert_int_equal(bo_cert_describe(l.list.v[1].p, l.list.v[1].len, &ci), BO_E_OK);
        assert_string_equal(ci.cn, "ca");
    }

    /* PEM back and forth */
    bo_buf pem;
    bo_buf_init(&pem, 1 << 16);
    assert_int_equal(bo_cert_to_pem(l.list.v[0].p, l.list.v[0].len, &pem), BO_E_OK);
    bo_blob_list l2 = {0};
    assert_int_equal(bo_pem_chain_parse(pem.data, pem.len, &l2), BO_E_OK);
    assert_int_equal(l2.list.n, 1);
    assert_memory_equal(l2.list.v[0].p, l.list.v[0].p, l.list.v[0].len);
    bo_blob_list_cleanup(&l2);
    bo_buf_cleanup(&pem);

    bo_blob_list_cleanup(&l);
    unlink(path);
    free(path);
    free(all);
    free(pa);
    free(pb);
    BIO_free(kb);
    X509_free(a);
    X509_free(b);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
}

static void chain_load_errors(void **state)
{
    bo_blob_list l = {0};
    assert_int_equal(bo_pem_chain_load("/nonexistent/bo/chain.pem", &l), BO_E_IO);
    char *p = write_tmp("no pem here\n");
    assert_int_equal(bo_pem_chain_load(p, &l), BO_E_CERT_INVALID);
    unlink(p);
    free(p);
    /* a CERTIFICATE block that is not a certificate */
    p = write_tmp("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assert_int_equal(bo_pem_chain_load(p, &l), BO_E_CERT_INVALID);
    assert_int_equal(l.list.n, 0);
    unlink(p);
    free(p);
    /* more than BO_PEM_MAX_CERTS certificates */
    EVP_PKEY *k;
    X509 *x = make_cert("x", &k);
    char *one = pem_of(x);
    char *many = calloc(1, strlen(one) * (BO_PEM_MAX_CERTS + 1) + 1);
    for (unsigned i = 0; i < BO_PEM_MAX_CERTS + 1; i++)
        strcat(many, one);
    assert_int_equal(bo_pem_chain_parse(many, strlen(many), &l), BO_E_TOO_BIG);
    assert_int_equal(l.list.n, 0);
    free(many);
    free(one);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void describe_fields(void **state)
{
    EVP_PKEY *k;
    X509 *x = make_cert("\xe5\xbc\xa0\xe4\xb8\x89", &k); /* 张三 */
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    bo_cert_info ci;
    assert_int_equal(bo_cert_describe(der, (size_t)dl, &ci), BO_E_OK);
    assert_string_equal(ci.cn, "\xe5\xbc\xa0\xe4\xb8\x89");
    assert_string_equal(ci.org, ORG_UTF8);
    assert_string_equal(ci.subject_serial, "91350100M000100Y43");
    assert_string_equal(ci.issuer_cn, ci.cn);
    assert_string_equal(ci.serial, "1234ABCD");
    assert_int_equal(ci.not_before, 1000000000LL * 1000);
    assert_int_equal(ci.not_after, 2000000000LL * 1000);
    assert_int_equal(ci.alg, BO_KEY_EC_P256);
    assert_int_equal(ci.key_bits, 256);
    assert_non_null(strstr(ci.subject, "O=" ORG_UTF8));
    assert_false(ci.is_ca);

    /* trailing garbage and truncation are refused */
    unsigned char *longer = malloc((size_t)dl + 1);
    memcpy(longer, der, (size_t)dl);
    longer[dl] = 0;
    assert_int_equal(bo_cert_describe(longer, (size_t)dl + 1, &ci), BO_E_CERT_INVALID);
    assert_int_equal(bo_cert_describe(der, (size_t)dl - 1, &ci), BO_E_CERT_INVALID);
    assert_int_equal(bo_cert_describe(der, 0, &ci), BO_E_CERT_INVALID);
    free(longer);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void keyalg_names(void **state)
{
    bo_keyalg a;
    for (int i = BO_KEY_RSA; i < BO_KEY_OTHER; i++) {
        assert_int_equal(bo_keyalg_parse(bo_keyalg_name((bo_keyalg)i), &a), BO_E_OK);
        assert_int_equal(a, i);
    }
    assert_int_equal(bo_keyalg_parse("other", &a), BO_E_INVALID_ARG);
    assert_int_equal(bo_keyalg_parse("EC", &a), BO_E_OK);
    assert_int_equal(a, BO_KEY_EC_P256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_load_order_and_fpr),
        cmocka_unit_test(chain_load_errors),
        cmocka_unit_test(describe_fields),
        cmocka_unit_test(keyalg_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
