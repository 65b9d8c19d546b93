#include "bo/sign.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bo_crypto_internal.h"
#include "bo_pkcs11_internal.h"

struct bo_key {
    EVP_PKEY *pk;
    bo_keyalg alg;
};

EVP_PKEY *bo__key_pkey(const bo_key *k)
{
    return k->pk;
}

bo_key *bo__key_wrap(EVP_PKEY *pk, bo_err *err)
{
    if (!bo__crypto_pkey_supported(pk)) {
        EVP_PKEY_free(pk);
        *err = BO_E_UNSUPPORTED_KEY;
        return NULL;
    }
    bo_key *k = OPENSSL_zalloc(sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pk);
        *err = BO_E_NOMEM;
        return NULL;
    }
    k->pk = pk;
    k->alg = bo__crypto_pkey_alg(pk, NULL);
    return k;
}

void bo_key_free(bo_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pk);
    OPENSSL_free(k);
}

bo_keyalg bo_key_alg(const bo_key *k)
{
    return k->alg;
}

/* ---- TBS, sign, verify ------------------------------------------------------------------ */

bo_err bo_sig_tbs(const char *ctx, const uint8_t *payload, size_t len, bo_buf *out)
{
    size_t cl = ctx ? strnlen(ctx, BO_SIG_CTX_MAX + 1) : 0;
    if (cl == 0 || cl > BO_SIG_CTX_MAX)
        return BO_E_INVALID_ARG;
    if (len > BO_SIG_PAYLOAD_MAX)
        return BO_E_TOO_BIG;
    static const uint8_t zero = 0;
    bo_err e = bo_buf_append(out, BO_SIG_DOMAIN, sizeof(BO_SIG_DOMAIN) - 1);
    if (e == BO_E_OK)
        e = bo_buf_append(out, &zero, 1);
    if (e == BO_E_OK)
        e = bo_buf_append(out, ctx, cl);
    if (e == BO_E_OK)
        e = bo_buf_append(out, &zero, 1);
    if (e == BO_E_OK && len)
        e = bo_buf_append(out, payload, len);
    return e;
}

static const char *digest_for(bo_keyalg alg)
{
    switch (alg) {
    case BO_KEY_SM2:
        return "SM3";
    case BO_KEY_ED25519:
        return NULL;
    default:
        return "SHA256";
    }
}

/* Fix the parameters after *Init: OpenSSL 3.0 silently ignores "distid" passed to the init
 * call itself, so the SM2 ID must be set on the context here (research/crypto.md §2). */
static bool setup_pctx(EVP_PKEY_CTX *pctx, bo_keyalg alg)
{
    if (alg == BO_KEY_RSA)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    if (alg == BO_KEY_SM2)
        return bo__crypto_pctx_set_sm2_id(pctx);
    return true;
}

bool bo__crypto_sign_init(EVP_MD_CTX *md, EVP_PKEY *pk)
{
    bo_keyalg alg = bo__crypto_pkey_alg(pk, NULL);
    EVP_PKEY_CTX *pctx = NULL;
    if (EVP_DigestSignInit_ex(md, &pctx, digest_for(alg), NULL, NULL, pk, NULL) <= 0)
        return false;
    return setup_pctx(pctx, alg);
}

bo_err bo_key_sign(const bo_key *k, const char *ctx, const uint8_t *payload, size_t len,
                   bo_buf *sig_out)
{
    bo_buf tbs;
    bo_buf_init(&tbs, BO_SIG_PAYLOAD_MAX + BO_SIG_CTX_MAX + 32);
    bo_err e = bo_sig_tbs(ctx, payload, len, &tbs);
    if (e != BO_E_OK) {
        bo_buf_cleanup(&tbs);
        return e;
    }
    size_t max = (size_t)EVP_PKEY_get_size(k->pk);
    uint8_t *p = NULL;
    e = bo_buf_reserve(sig_out, max, &p);
    if (e == BO_E_OK) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t siglen = max;
        if (md && bo__crypto_sign_init(md, k->pk) &&
            EVP_DigestSign(md, p, &siglen, tbs.data, tbs.len) > 0)
            bo_buf_commit(sig_out, siglen);
        else
            e = BO_E_INTERNAL;
        EVP_MD_CTX_free(md);
    }
    ERR_clear_error();
    bo_buf_cleanup(&tbs);
    return e;
}

static bo_err verify_pkey(EVP_PKEY *pk, const char *ctx, const uint8_t *payload, size_t len,
                          const uint8_t *sig, size_t sig_len)
{
    if (!bo__crypto_pkey_supported(pk))
        return BO_E_UNSUPPORTED_KEY;
    bo_buf tbs;
    bo_buf_init(&tbs, BO_SIG_PAYLOAD_MAX + BO_SIG_CTX_MAX + 32);
    bo_err e = bo_sig_tbs(ctx, payload, len, &tbs);
    if (e == BO_E_TOO_BIG)
        e = BO_E_BAD_SIGNATURE;
    if (e == BO_E_OK && (!sig || sig_len == 0 || sig_len > BO_SIG_MAX))
        e = BO_E_BAD_SIGNATURE;
    if (e == BO_E_OK) {
        bo_keyalg alg = bo__crypto_pkey_alg(pk, NULL);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        if (!md || EVP_DigestVerifyInit_ex(md, &pctx, digest_for(alg), NULL, NULL, pk, NULL) <= 0 ||
            !setup_pctx(pctx, alg))
            e = BO_E_INTERNAL;
        else if (EVP_DigestVerify(md, sig, sig_len, tbs.data, tbs.len) != 1)
            e = BO_E_BAD_SIGNATURE;
        EVP_MD_CTX_free(md);
    }
    ERR_clear_error();
    bo_buf_cleanup(&tbs);
    return e;
}

bo_err bo_sig_verify(const uint8_t *cert_der, size_t cert_len, const char *ctx,
                     const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len)
{
    X509 *x = bo__crypto_x509_from_der(cert_der, cert_len);
    if (!x)
        return BO_E_CERT_INVALID;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    bo_err e = pk ? verify_pkey(pk, ctx, payload, len, sig, sig_len) : BO_E_CERT_INVALID;
    X509_free(x);
    ERR_clear_error();
    return e;
}

bo_err bo_sig_verify_spki(const uint8_t *spki, size_t spki_len, const char *ctx,
                          const uint8_t *payload, size_t len, const uint8_t *sig,
                          size_t sig_len)
{
    if (!spki || spki_len == 0 || spki_len > BO_CERT_MAX_DER)
        return BO_E_BAD_FIELD;
    const unsigned char *p = spki;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki_len);
    bo_err e;
    if (!pk || p != spki + spki_len)
        e = BO_E_BAD_FIELD;
    else
        e = verify_pkey(pk, ctx, payload, len, sig, sig_len);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return e;
}

/* ---- loading -------------------------------------------------------------------------- */

typedef struct pw_data {
    const char *pass;
    int asked;
} pw_data;

/* Never prompts: a key that needs a password and got none fails. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
    pw_data *d = u;
    d->asked = 1;
    if (!d->pass)
        return -1;
    size_t l = strlen(d->pass);
    if (l > (size_t)size)
        return -1;
    memcpy(buf, d->pass, l);
    return (int)l;
}

static bo_key *fail_null(bo_err *err, bo_err code, char *detail, size_t n, const char *msg)
{
    *err = bo__crypto_fail(code, detail, n, "%s", msg);
    ERR_clear_error();
    return NULL;
}

static bo_key *wrap_checked(EVP_PKEY *pk, bo_err *err, char *detail, size_t n)
{
    bo_key *k = bo__key_wrap(pk, err);
    if (!k && *err == BO_E_UNSUPPORTED_KEY)
        bo__crypto_fail(*err, detail, n,
                        "unsupported key (bidopen takes RSA 2048..8192, EC P-256, SM2, Ed25519)");
    return k;
}

static bool der_is_p12(const uint8_t *p, size_t len, PKCS12 **out)
{
    const unsigned char *q = p;
    PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)len);
    if (!p12 || q != p + len) {
        PKCS12_free(p12);
        ERR_clear_error();
        return false;
    }
    *out = p12;
    return true;
}

static bool is_issuer(X509 *issuer, X509 *x)
{
    return X509_check_issued(issuer, x) == X509_V_OK;
}

/* Order a PKCS#12 bag: the key's certificate first, then each one's issuer, then the rest. */
static bo_err p12_chain(X509 *leaf, STACK_OF(X509) *ca, bo_blob_list *chain)
{
    int n = ca ? sk_X509_num(ca) : 0;
    char used[64] = {0};
    if (n > (int)sizeof used)
        return BO_E_TOO_BIG;
    X509 *cur = leaf;
    bo_err e = BO_E_OK;
    for (int round = 0; e == BO_E_OK && cur; round++) {
        unsigned char *der = NULL;
        int dl = i2d_X509(cur, &der);
        e = dl > 0 ? bo_blob_list_push(chain, der, (size_t)dl) : BO_E_INTERNAL;
        OPENSSL_free(der);
        X509 *next = NULL;
        for (int i = 0; i < n && !next; i++) {
            X509 *c = sk_X509_value(ca, i);
            if (!used[i] && X509_cmp(c, cur) != 0 && is_issuer(c, cur)) {
                used[i] = 1;
                next = c;
            }
        }
        cur = next;
    }
    for (int i = 0; e == BO_E_OK && i < n; i++) {
        X509 *c = sk_X509_value(ca, i);
        if (used[i] || X509_cmp(c, leaf) == 0)
            continue;
        unsigned char *der = NULL;
        int dl = i2d_X509(c, &der);
        e = dl > 0 ? bo_blob_list_push(chain, der, (size_t)dl) : BO_E_INTERNAL;
        OPENSSL_free(der);
    }
    return e;
}

static bo_key *load_p12(PKCS12 *p12, const char *pass, bo_blob_list *chain, bo_err *err,
                        char *detail, size_t n)
{
    if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, pass, pass ? -1 : 0) &&
        !(pass == NULL && PKCS12_verify_mac(p12, "", 0)))
        return fail_null(err, BO_E_INVALID_ARG, detail, n,
                         pass ? "wrong password for the PKCS#12 file"
                              : "the PKCS#12 file needs a password");
    EVP_PKEY *pk = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    if (!PKCS12_parse(p12, pass, &pk, &cert, &ca) || !pk) {
        EVP_PKEY_free(pk);
        X509_free(cert);
        sk_X509_pop_free(ca, X509_free);
        *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "cannot read the PKCS#12 file");
        bo__crypto_ossl_reason(detail, n);
        return NULL;
    }
    bo_key *k = wrap_checked(pk, err, detail, n);
    if (k && chain) {
        bo_err e = cert ? p12_chain(cert, ca, chain) : BO_E_CERT_INVALID;
        if (e != BO_E_OK) {
            bo_blob_list_cleanup(chain);
            bo_key_free(k);
            k = NULL;
            *err = bo__crypto_fail(e, detail, n, "the PKCS#12 file holds no certificate for its key");
        }
    }
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    ERR_clear_error();
    return k;
}

static bo_key *load_mem(const void *data, size_t len, const char *pass, bo_blob_list *chain,
                        bo_err *err, char *detail, size_t n)
{
    if (len > BO_KEY_FILE_MAX)
        return fail_null(err, BO_E_TOO_BIG, detail, n, "key file too large");
    PKCS12 *p12 = NULL;
    if (der_is_p12(data, len, &p12)) {
        bo_key *k = load_p12(p12, pass, chain, err, detail, n);
        PKCS12_free(p12);
        return k;
    }
    if (chain)
        return fail_null(err, BO_E_INVALID_ARG, detail, n, "not a PKCS#12 file");
    bool pem = memmem(data, len, "-----BEGIN", 10) != NULL;
    BIO *b = BIO_new_mem_buf(data, (int)len);
    if (!b)
        return fail_null(err, BO_E_NOMEM, detail, n, "out of memory");
    pw_data pw = {pass, 0};
    EVP_PKEY *pk = pem ? PEM_read_bio_PrivateKey_ex(b, NULL, pw_cb, &pw, NULL, NULL)
                       : d2i_PrivateKey_ex_bio(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!pk) {
        if (pw.asked && !pass)
            return fail_null(err, BO_E_INVALID_ARG, detail, n,
                             "the key is encrypted and no password was given");
        if (pw.asked)
            return fail_null(err, BO_E_INVALID_ARG, detail, n,
                             "wrong password, or the key file is damaged");
        return fail_null(err, BO_E_INVALID_ARG, detail, n, "no private key found");
    }
    ERR_clear_error();
    return wrap_checked(pk, err, detail, n);
}

static bo_err read_file(const char *path, bo_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return BO_E_IO;
    bo_err e = BO_E_OK;
    char chunk[8192];
    size_t r;
    while (e == BO_E_OK && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
        e = bo_buf_append(out, chunk, r);
    if (e == BO_E_OK && ferror(f))
        e = BO_E_IO;
    OPENSSL_cleanse(chunk, sizeof chunk);
    fclose(f);
    return e;
}

static bo_key *load_file(const char *path, const char *pass, bo_blob_list *chain, bo_err *err,
                         char *detail, size_t n)
{
    bo_buf buf;
    bo_buf_init(&buf, BO_KEY_FILE_MAX);
    bo_err e = read_file(path, &buf);
    bo_key *k = NULL;
    if (e == BO_E_IO)
        *err = bo__crypto_fail(e, detail, n, "cannot read %s", path);
    else if (e != BO_E_OK)
        *err = bo__crypto_fail(e, detail, n, "%s is too large for a key file", path);
    else
        k = load_mem(buf.data ? (const void *)buf.data : "", buf.len, pass, chain, err, detail, n);
    bo_buf_cleanup_wipe(&buf);
    return k;
}

static bo_key *load_store(const char *uri, const char *pass, bo_err *err, char *detail, size_t n)
{
    pw_data pw = {pass, 0};
    UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(pw_cb, 0);
    if (!ui)
        return fail_null(err, BO_E_NOMEM, detail, n, "out of memory");
    OSSL_STORE_CTX *sc = OSSL_STORE_open_ex(uri, NULL, NULL, ui, &pw, NULL, NULL, NULL);
    EVP_PKEY *pk = NULL;
    if (sc) {
        OSSL_STORE_expect(sc, OSSL_STORE_INFO_PKEY);
        while (!pk && !OSSL_STORE_eof(sc)) {
            OSSL_STORE_INFO *info = OSSL_STORE_load(sc);
            if (!info)
                break;
            if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
                pk = OSSL_STORE_INFO_get1_PKEY(info);
            OSSL_STORE_INFO_free(info);
        }
        OSSL_STORE_close(sc);
    }
    UI_destroy_method(ui);
    if (!sc) { /* no PKCS#11 provider: the libp11 ENGINE (bo_pkcs11.c) */
        ERR_clear_error();
        return bo__pkcs11_engine_key(uri, pass, err, detail, n);
    }
    if (!pk)
        return fail_null(err, BO_E_INVALID_ARG, detail, n,
                         "no private key at this PKCS#11 URI (or wrong PIN)");
    ERR_clear_error();
    return wrap_checked(pk, err, detail, n);
}

bo_key *bo_key_load(const char *spec, const char *pass, bo_err *err, char *detail, size_t n)
{
    if (!spec || !*spec)
        return fail_null(err, BO_E_INVALID_ARG, detail, n, "no key given");
    if (strncmp(spec, "pkcs11:", 7) == 0)
        return load_store(spec, pass, err, detail, n);
    return load_file(spec, pass, NULL, err, detail, n);
}

bo_key *bo_key_from_mem(const void *data, size_t len, const char *pass, bo_err *err,
                        char *detail, size_t n)
{
    return load_mem(data, len, pass, NULL, err, detail, n);
}

bo_key *bo_key_load_p12(const char *path, const char *pass, bo_blob_list *chain, bo_err *err,
                        char *detail, size_t n)
{
    bo_blob_list dummy = {0};
    bo_key *k = load_file(path, pass, chain ? chain : &dummy, err, detail, n);
    bo_blob_list_cleanup(&dummy);
    return k;
}

bo_key *bo_key_generate(bo_keyalg alg, bo_err *err)
{
    EVP_PKEY *pk = NULL;
    switch (alg) {
    case BO_KEY_RSA:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case BO_KEY_EC_P256:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case BO_KEY_SM2:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
        break;
    case BO_KEY_ED25519:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    default:
        *err = BO_E_INVALID_ARG;
        return NULL;
    }
    ERR_clear_error();
    if (!pk) {
        *err = BO_E_INTERNAL;
        return NULL;
    }
    return bo__key_wrap(pk, err);
}

static bo_err bio_to_buf(BIO *b, bo_buf *out)
{
    char *p = NULL;
    long len = BIO_get_mem_data(b, &p);
    return len > 0 ? bo_buf_append(out, p, (size_t)len) : BO_E_INTERNAL;
}

bo_err bo_key_to_pem(const bo_key *k, const char *pass, bo_buf *out)
{
    BIO *b = BIO_new(BIO_s_secmem());
    if (!b)
        return BO_E_NOMEM;
    bo_err e = BO_E_INTERNAL;
    if (PEM_write_bio_PKCS8PrivateKey(b, k->pk, pass ? EVP_aes_256_cbc() : NULL, pass,
                                      pass ? (int)strlen(pass) : 0, NULL, NULL) > 0)
        e = bio_to_buf(b, out);
    BIO_free(b);
    ERR_clear_error();
    return e;
}

bo_err bo_key_public_der(const bo_key *k, bo_buf *out)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(k->pk, &der);
    bo_err e = len > 0 ? bo_buf_append(out, der, (size_t)len) : BO_E_INTERNAL;
    OPENSSL_free(der);
    ERR_clear_error();
    return e;
}

bo_err bo_key_matches_cert(const bo_key *k, const uint8_t *der, size_t len)
{
    X509 *x = bo__crypto_x509_from_der(der, len);
    if (!x)
        return BO_E_CERT_INVALID;
    EVP_PKEY *pub = X509_get0_pubkey(x);
    bo_err e = pub && EVP_PKEY_eq(pub, k->pk) == 1 ? BO_E_OK : BO_E_NOT_FOUND;
    X509_free(x);
    ERR_clear_error();
    return e;
}
