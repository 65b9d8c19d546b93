#include "bo/cert.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "bo/hash.h"
#include "bo_crypto_internal.h"

const char *bo_keyalg_name(bo_keyalg alg)
{
    switch (alg) {
    case BO_KEY_RSA:
        return "rsa";
    case BO_KEY_EC_P256:
        return "p256";
    case BO_KEY_SM2:
        return "sm2";
    case BO_KEY_ED25519:
        return "ed25519";
    default:
        return "other";
    }
}

bo_err bo_keyalg_parse(const char *name, bo_keyalg *out)
{
    static const struct {
        const char *name;
        bo_keyalg alg;
    } names[] = {
        {"rsa", BO_KEY_RSA},         {"rsa2048", BO_KEY_RSA}, {"p256", BO_KEY_EC_P256},
        {"p-256", BO_KEY_EC_P256},   {"ec", BO_KEY_EC_P256},  {"ecdsa", BO_KEY_EC_P256},
        {"sm2", BO_KEY_SM2},         {"ed25519", BO_KEY_ED25519},
    };
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].alg;
            return BO_E_OK;
        }
    }
    return BO_E_INVALID_ARG;
}

static bool is_cert_block(const char *name)
{
    return strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0;
}

static bo_err parse_bio(BIO *b, bo_blob_list *out)
{
    bo_err e = BO_E_OK;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        if (!PEM_read_bio(b, &name, &header, &data, &len)) {
            /* End of input is reported as PEM_R_NO_START_LINE. */
            unsigned long err = ERR_peek_last_error();
            if (!(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE))
                e = BO_E_CERT_INVALID;
            ERR_clear_error();
            break;
        }
        if (is_cert_block(name)) {
            X509 *x = NULL;
            if (out->list.n >= BO_PEM_MAX_CERTS)
                e = BO_E_TOO_BIG;
            else if (len <= 0 || (size_t)len > BO_CERT_MAX_DER ||
                     !(x = bo__crypto_x509_from_der(data, (size_t)len)))
                e = BO_E_CERT_INVALID;
            else
                e = bo_blob_list_push(out, data, (size_t)len);
            X509_free(x);
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (e != BO_E_OK)
            break;
    }
    if (e == BO_E_OK && out->list.n == 0)
        e = BO_E_CERT_INVALID;
    if (e != BO_E_OK)
        bo_blob_list_cleanup(out);
    return e;
}

bo_err bo_pem_chain_parse(const void *pem, size_t len, bo_blob_list *out)
{
    if (len > BO_PEM_MAX_FILE)
        return BO_E_TOO_BIG;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return BO_E_NOMEM;
    bo_err e = parse_bio(b, out);
    BIO_free(b);
    return e;
}

bo_err bo_pem_chain_load(const char *path, bo_blob_list *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return BO_E_IO;
    bo_buf buf;
    bo_buf_init(&buf, BO_PEM_MAX_FILE);
    bo_err e = BO_E_OK;
    char chunk[8192];
    size_t n;
    while (e == BO_E_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        e = bo_buf_append(&buf, chunk, n);
    if (e == BO_E_OK && ferror(f))
        e = BO_E_IO;
    fclose(f);
    if (e == BO_E_OK)
        e = bo_pem_chain_parse(buf.data ? (const void *)buf.data : "", buf.len, out);
    bo_buf_cleanup(&buf);
    return e;
}

bo_err bo_cert_to_pem(const uint8_t *der, size_t len, bo_buf *out)
{
    X509 *x = bo__crypto_x509_from_der(der, len);
    if (!x)
        return BO_E_CERT_INVALID;
    BIO *b = BIO_new(BIO_s_mem());
    bo_err e = BO_E_NOMEM;
    if (b && PEM_write_bio(b, PEM_STRING_X509, "", der, (long)len) > 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        e = bo_buf_append(out, p, (size_t)n);
    }
    BIO_free(b);
    X509_free(x);
    ERR_clear_error();
    return e;
}

void bo_cert_fpr(const uint8_t *der, size_t len, uint8_t out[32])
{
    bo_sha256(der, len, out);
}

static void serial_hex(const ASN1_INTEGER *ai, char *out, size_t n)
{
    out[0] = '\0';
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    char *h = bn ? BN_bn2hex(bn) : NULL;
    if (h)
        bo__crypto_utf8_copy(out, n, h, strlen(h));
    OPENSSL_free(h);
    BN_free(bn);
    ERR_clear_error();
}

bo_err bo_cert_describe(const uint8_t *der, size_t len, bo_cert_info *out)
{
    memset(out, 0, sizeof(*out));
    X509 *x = bo__crypto_x509_from_der(der, len);
    if (!x)
        return BO_E_CERT_INVALID;
    const X509_NAME *sub = X509_get_subject_name(x);
    const X509_NAME *iss = X509_get_issuer_name(x);
    bo__crypto_name_get(sub, NID_commonName, out->cn, sizeof out->cn);
    bo__crypto_name_get(sub, NID_organizationName, out->org, sizeof out->org);
    bo__crypto_name_get(sub, NID_organizationalUnitName, out->ou, sizeof out->ou);
    bo__crypto_name_get(sub, NID_serialNumber, out->subject_serial, sizeof out->subject_serial);
    bo__crypto_name_oneline(sub, out->subject, sizeof out->subject);
    bo__crypto_name_get(iss, NID_commonName, out->issuer_cn, sizeof out->issuer_cn);
    bo__crypto_name_oneline(iss, out->issuer, sizeof out->issuer);
    serial_hex(X509_get0_serialNumber(x), out->serial, sizeof out->serial);
    out->not_before = bo__crypto_asn1_time_ms(X509_get0_notBefore(x));
    out->not_after = bo__crypto_asn1_time_ms(X509_get0_notAfter(x));
    out->alg = bo__crypto_pkey_alg(X509_get0_pubkey(x), &out->key_bits);
    out->is_ca = X509_check_ca(x) != 0 && (X509_get_extension_flags(x) & EXFLAG_CA);
    X509_free(x);
    ERR_clear_error();
    return BO_E_OK;
}
