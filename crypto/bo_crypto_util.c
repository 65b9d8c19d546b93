/* Helpers shared inside crypto/ (see bo_crypto_internal.h). */
#include "bo_crypto_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>

X509 *bo__crypto_x509_from_der(const uint8_t *der, size_t len)
{
    if (!der || len == 0 || len > BO_CERT_MAX_DER)
        return NULL;
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x || p != der + len || !bo__crypto_x509_fix_sm2(x)) {
        X509_free(x);
        ERR_clear_error();
        return NULL;
    }
    return x;
}

static ASN1_OCTET_STRING *sm2_id(void)
{
    ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
    if (id && !ASN1_OCTET_STRING_set(id, (const unsigned char *)BO__SM2_ID, BO__SM2_ID_LEN)) {
        ASN1_OCTET_STRING_free(id);
        id = NULL;
    }
    return id;
}

bool bo__crypto_x509_fix_sm2(X509 *x)
{
    if (X509_get_signature_nid(x) != NID_SM2_with_SM3)
        return true;
    ASN1_OCTET_STRING *id = sm2_id();
    if (!id)
        return false;
    X509_set0_distinguishing_id(x, id);
    return true;
}

bool bo__crypto_pctx_set_sm2_id(EVP_PKEY_CTX *pctx)
{
    return EVP_PKEY_CTX_set1_id(pctx, BO__SM2_ID, BO__SM2_ID_LEN) > 0;
}

bo_keyalg bo__crypto_pkey_alg(const EVP_PKEY *pk, int *bits)
{
    int b = pk ? EVP_PKEY_get_bits(pk) : 0;
    if (bits)
        *bits = b > 0 ? b : 0;
    if (!pk)
        return BO_KEY_OTHER;
    if (EVP_PKEY_is_a(pk, "SM2"))
        return BO_KEY_SM2;
    if (EVP_PKEY_is_a(pk, "RSA"))
        return BO_KEY_RSA;
    if (EVP_PKEY_is_a(pk, "ED25519"))
        return BO_KEY_ED25519;
    if (EVP_PKEY_is_a(pk, "EC")) {
        char group[64];
        size_t glen = 0;
        if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                            &glen)) {
            ERR_clear_error();
            return BO_KEY_OTHER;
        }
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
            return BO_KEY_EC_P256;
        if (strcmp(group, "SM2") == 0)
            return BO_KEY_SM2;
    }
    return BO_KEY_OTHER;
}

bool bo__crypto_pkey_supported(const EVP_PKEY *pk)
{
    int bits = 0;
    switch (bo__crypto_pkey_alg(pk, &bits)) {
    case BO_KEY_RSA:
        return bits >= 2048 && bits <= 8192;
    case BO_KEY_EC_P256:
        return true;
    case BO_KEY_SM2:
        /* An EC key on the SM2 curve that OpenSSL did not type as SM2 would be used with
         * ECDSA instead of SM2; refuse it rather than sign the wrong way. */
        return EVP_PKEY_is_a(pk, "SM2");
    case BO_KEY_ED25519:
        return true;
    default:
        return false;
    }
}

bo_time_ms bo__crypto_asn1_time_ms(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        ERR_clear_error();
        return 0;
    }
    return (bo_time_ms)timegm(&tm) * 1000;
}

char *bo__crypto_time_str(bo_time_ms t, char *out, size_t n)
{
    time_t s = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, n, "?");
    return out;
}

void bo__crypto_utf8_copy(char *out, size_t n, const char *src, size_t len)
{
    if (n == 0)
        return;
    if (len >= n) {
        len = n - 1;
        /* Back off continuation bytes so that no character is cut in half. */
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, src, len);
    out[len] = '\0';
}

bool bo__crypto_name_get(const X509_NAME *nm, int nid, char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    int i = nm ? X509_NAME_get_index_by_NID(nm, nid, -1) : -1;
    if (i < 0)
        return false;
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
    unsigned char *u = NULL;
    int len = ASN1_STRING_to_UTF8(&u, s);
    if (len < 0) {
        ERR_clear_error();
        return false;
    }
    /* An embedded NUL would truncate silently on display: cut there explicitly. */
    size_t l = strnlen((const char *)u, (size_t)len);
    bo__crypto_utf8_copy(out, n, (const char *)u, l);
    OPENSSL_free(u);
    return true;
}

void bo__crypto_name_oneline(const X509_NAME *nm, char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p = NULL;
        long len = BIO_get_mem_data(b, &p);
        if (len > 0)
            bo__crypto_utf8_copy(out, n, p, strnlen(p, (size_t)len));
    }
    BIO_free(b);
    ERR_clear_error();
}

bo_err bo__crypto_fail(bo_err err, char *detail, size_t n, const char *fmt, ...)
{
    if (detail && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, n, fmt, ap);
        va_end(ap);
    }
    return err;
}

void bo__crypto_ossl_reason(char *detail, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (e && detail && n) {
        const char *r = ERR_reason_error_string(e);
        size_t used = strnlen(detail, n);
        if (r && used + 3 < n)
            snprintf(detail + used, n - used, ": %s", r);
    }
    ERR_clear_error();
}
