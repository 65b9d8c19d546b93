/* A throwaway PKI (see bo/pki.h). The demo layout writer is in bo_pki_demo.c. */
#include "bo/pki.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bo_crypto_internal.h"

#define MAX_REVOKED 10000

typedef struct revoked {
    uint64_t serial;
    bo_time_ms when;
} revoked;

struct bo_pki_ca {
    EVP_PKEY *key;
    X509 *cert;
    uint8_t *der;
    size_t der_len;
    bo_buf chain_pem; /* this certificate and its parents, root excluded */
    uint64_t next_serial;
    uint64_t crl_number;
    revoked *rev;
    size_t nrev;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static EVP_PKEY *new_key(bo_keyalg alg)
{
    if (alg == BO_KEY_OTHER)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    bo_err e = BO_E_OK;
    bo_key *k = bo_key_generate(alg, &e);
    if (!k)
        return NULL;
    EVP_PKEY *pk = bo__key_pkey(k);
    EVP_PKEY_up_ref(pk);
    bo_key_free(k);
    return pk;
}

static bool add_entry(X509_NAME *nm, int nid, const char *v)
{
    if (!v)
        return true;
    return X509_NAME_add_entry_by_NID(nm, nid, MBSTRING_UTF8, (const unsigned char *)v, -1, -1,
                                      0) == 1;
}

/* uscc_attr: NULL/"serialNumber", "OU", "organizationIdentifier" or a dotted OID. */
static bool add_uscc(X509_NAME *nm, const char *uscc, const char *attr)
{
    if (!uscc)
        return true;
    if (!attr || strcmp(attr, "serialNumber") == 0)
        return add_entry(nm, NID_serialNumber, uscc);
    if (strcmp(attr, "OU") == 0)
        return add_entry(nm, NID_organizationalUnitName, uscc);
    if (strcmp(attr, "organizationIdentifier") == 0)
        return add_entry(nm, NID_organizationIdentifier, uscc);
    ASN1_OBJECT *obj = OBJ_txt2obj(attr, 1);
    if (!obj)
        return false;
    bool ok = X509_NAME_add_entry_by_OBJ(nm, obj, MBSTRING_UTF8, (const unsigned char *)uscc, -1,
                                         -1, 0) == 1;
    ASN1_OBJECT_free(obj);
    return ok;
}

static X509_NAME *make_name(const bo_pki_name *s, const char *uscc, const char *uscc_attr)
{
    X509_NAME *nm = X509_NAME_new();
    bool serial_is_uscc = uscc && (!uscc_attr || strcmp(uscc_attr, "serialNumber") == 0);
    if (!nm || !add_entry(nm, NID_countryName, s->c) ||
        !add_entry(nm, NID_stateOrProvinceName, s->st) || !add_entry(nm, NID_localityName, s->l) ||
        !add_entry(nm, NID_organizationName, s->o) ||
        !add_entry(nm, NID_organizationalUnitName, s->ou) || !add_entry(nm, NID_commonName, s->cn) ||
        !add_entry(nm, NID_serialNumber, serial_is_uscc ? NULL : s->serial_number) ||
        !add_uscc(nm, uscc, uscc_attr)) {
        X509_NAME_free(nm);
        return NULL;
    }
    return nm;
}

static bool add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    bool ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static bool set_time(ASN1_TIME *t, bo_time_ms ms)
{
    return ASN1_TIME_set(t, (time_t)(ms / 1000)) != NULL;
}

static bool sign_cert(X509 *x, EVP_PKEY *issuer_key)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && bo__crypto_sign_init(md, issuer_key) && X509_sign_ctx(x, md) > 0;
    EVP_MD_CTX_free(md);
    return ok;
}

static bo_err append_pem_x509(X509 *x, bo_buf *out)
{
    BIO *b = BIO_new(BIO_s_mem());
    bo_err e = BO_E_INTERNAL;
    if (b && PEM_write_bio_X509(b, x) > 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        e = bo_buf_append(out, p, (size_t)n);
    }
    BIO_free(b);
    return e;
}

/* A certificate for subject/pubkey, issued by issuer_cert/issuer_key (NULL: self-signed). */
static X509 *build_cert(const X509_NAME *subject, EVP_PKEY *pub, X509 *issuer_cert,
                        uint64_t serial, bo_time_ms nb, bo_time_ms na)
{
    X509 *x = X509_new();
    if (!x || !X509_set_version(x, 2) ||
        !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
        !X509_set_subject_name(x, subject) ||
        !X509_set_issuer_name(x, issuer_cert ? X509_get_subject_name(issuer_cert) : subject) ||
        !set_time(X509_getm_notBefore(x), nb) || !set_time(X509_getm_notAfter(x), na) ||
        !X509_set_pubkey(x, pub)) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static bool finish_der(bo_pki_ca *ca)
{
    unsigned char *der = NULL;
    int len = i2d_X509(ca->cert, &der);
    if (len <= 0)
        return false;
    ca->der = malloc((size_t)len);
    if (!ca->der) {
        OPENSSL_free(der);
        return false;
    }
    memcpy(ca->der, der, (size_t)len);
    ca->der_len = (size_t)len;
    OPENSSL_free(der);
    return true;
}

/* ---- CAs --------------------------------------------------------------------------------- */

static bo_pki_ca *make_ca(bo_pki_ca *parent, const bo_pki_name *subj, bo_keyalg alg,
                          bo_time_ms nb, bo_time_ms na, bo_err *err)
{
    if (!subj || alg == BO_KEY_OTHER) {
        *err = BO_E_INVALID_ARG;
        return NULL;
    }
    bo_pki_ca *ca = calloc(1, sizeof(*ca));
    if (!ca) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    bo_buf_init(&ca->chain_pem, 1 << 20);
    ca->next_serial = 0x1001;
    ca->crl_number = 1;
    X509_NAME *nm = make_name(subj, NULL, NULL);
    ca->key = new_key(alg);
    uint64_t serial = parent ? parent->next_serial++ : 1;
    bool ok = nm && ca->key;
    if (ok)
        ca->cert = build_cert(nm, ca->key, parent ? parent->cert : NULL, serial, nb, na);
    ok = ok && ca->cert;
    if (ok) {
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, parent ? parent->cert : ca->cert, ca->cert, NULL, NULL, 0);
        ok = add_ext(ca->cert, &v3, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(ca->cert, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(ca->cert, &v3, NID_subject_key_identifier, "hash") &&
             (!parent || add_ext(ca->cert, &v3, NID_authority_key_identifier, "keyid:always")) &&
             sign_cert(ca->cert, parent ? parent->key : ca->key) &&
             bo__crypto_x509_fix_sm2(ca->cert) && finish_der(ca);
    }
    if (ok && parent) {
        ok = append_pem_x509(ca->cert, &ca->chain_pem) == BO_E_OK &&
             (parent->chain_pem.len == 0 ||
              bo_buf_append(&ca->chain_pem, parent->chain_pem.data, parent->chain_pem.len) ==
                  BO_E_OK);
    }
    X509_NAME_free(nm);
    ERR_clear_error();
    if (!ok) {
        bo_pki_ca_free(ca);
        *err = BO_E_INTERNAL;
        return NULL;
    }
    return ca;
}

bo_pki_ca *bo_pki_ca_root(const bo_pki_name *subj, bo_keyalg alg, bo_time_ms not_before,
                          bo_time_ms not_after, bo_err *err)
{
    return make_ca(NULL, subj, alg, not_before, not_after, err);
}

bo_pki_ca *bo_pki_ca_intermediate(bo_pki_ca *parent, const bo_pki_name *subj, bo_keyalg alg,
                                  bo_time_ms not_before, bo_time_ms not_after, bo_err *err)
{
    if (!parent) {
        *err = BO_E_INVALID_ARG;
        return NULL;
    }
    return make_ca(parent, subj, alg, not_before, not_after, err);
}

void bo_pki_ca_free(bo_pki_ca *ca)
{
    if (!ca)
        return;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    free(ca->der);
    free(ca->rev);
    bo_buf_cleanup(&ca->chain_pem);
    free(ca);
}

const uint8_t *bo_pki_ca_cert_der(const bo_pki_ca *ca, size_t *len)
{
    *len = ca->der_len;
    return ca->der;
}

bo_err bo_pki_ca_cert_pem(const bo_pki_ca *ca, bo_buf *out)
{
    return append_pem_x509(ca->cert, out);
}

bo_err bo_pki_ca_chain_pem(const bo_pki_ca *ca, bo_buf *out)
{
    return ca->chain_pem.len ? bo_buf_append(out, ca->chain_pem.data, ca->chain_pem.len)
                             : BO_E_OK;
}

/* ---- leaves ------------------------------------------------------------------------------ */

static bool is_ec(bo_keyalg alg)
{
    return alg == BO_KEY_EC_P256 || alg == BO_KEY_OTHER;
}

static bo_err leaf_key_usage(const bo_pki_leaf_opts *o, char *ku, size_t kun, char *eku,
                             size_t ekun)
{
    ku[0] = eku[0] = '\0';
    bool ds = false, nr = false, ke = false, de = false, ka = false;
    if (o->usage & BO_PKI_SIGN)
        ds = nr = true;
    if (o->usage & BO_PKI_ENC) {
        if (o->alg == BO_KEY_ED25519)
            return BO_E_INVALID_ARG;
        if (is_ec(o->alg))
            ka = true;
        else
            ke = de = true;
    }
    if (o->usage & BO_PKI_TLS_SERVER) {
        ds = true;
        if (o->alg == BO_KEY_RSA)
            ke = true;
        strcat(eku, "serverAuth");
    }
    if (o->usage & BO_PKI_TLS_CLIENT) {
        ds = true;
        strcat(eku, *eku ? ",clientAuth" : "clientAuth");
    }
    if (!(ds || nr || ke || de || ka))
        return BO_E_INVALID_ARG;
    snprintf(ku, kun, "critical%s%s%s%s%s", ds ? ",digitalSignature" : "",
             nr ? ",nonRepudiation" : "", ke ? ",keyEncipherment" : "",
             de ? ",dataEncipherment" : "", ka ? ",keyAgreement" : "");
    (void)ekun;
    return BO_E_OK;
}

static bo_err append_key_pem(EVP_PKEY *pk, const char *pass, bo_buf *out)
{
    BIO *b = BIO_new(BIO_s_secmem());
    bo_err e = BO_E_INTERNAL;
    if (b && PEM_write_bio_PKCS8PrivateKey(b, pk, pass ? EVP_aes_256_cbc() : NULL, pass,
                                           pass ? (int)strlen(pass) : 0, NULL, NULL) > 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        e = bo_buf_append(out, p, (size_t)n);
    }
    BIO_free(b);
    return e;
}

bo_err bo_pki_issue(bo_pki_ca *ca, const bo_pki_leaf_opts *o, bo_buf *key_pem,
                    bo_buf *cert_pem, uint64_t *serial_out)
{
    char ku[128], eku[64];
    bo_err e = leaf_key_usage(o, ku, sizeof ku, eku, sizeof eku);
    if (e != BO_E_OK)
        return e;
    X509_NAME *nm = make_name(&o->subj, o->uscc, o->uscc_attr);
    if (!nm)
        return BO_E_INVALID_ARG;
    EVP_PKEY *pk = new_key(o->alg);
    uint64_t serial = o->serial ? o->serial : ca->next_serial++;
    X509 *x = pk ? build_cert(nm, pk, ca->cert, serial, o->not_before, o->not_after)
                 : NULL;
    bool ok = x != NULL;
    if (ok) {
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
        ok = add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
             ((o->usage & BO_PKI_NO_KU) || add_ext(x, &v3, NID_key_usage, ku)) &&
             (!*eku || add_ext(x, &v3, NID_ext_key_usage, eku)) &&
             (!(o->usage & BO_PKI_TLS_SERVER) ||
              add_ext(x, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1")) &&
             add_ext(x, &v3, NID_subject_key_identifier, "hash") &&
             add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") &&
             sign_cert(x, ca->key);
    }
    e = ok ? BO_E_OK : BO_E_INTERNAL;
    if (e == BO_E_OK && key_pem)
        e = append_key_pem(pk, o->key_pass, key_pem);
    if (e == BO_E_OK && cert_pem)
        e = append_pem_x509(x, cert_pem);
    if (e == BO_E_OK && cert_pem)
        e = bo_pki_ca_chain_pem(ca, cert_pem);
    if (e == BO_E_OK && serial_out)
        *serial_out = serial;
    X509_free(x);
    EVP_PKEY_free(pk);
    X509_NAME_free(nm);
    ERR_clear_error();
    return e;
}

/* ---- revocation ------------------------------------------------------------------------ */

bo_err bo_pki_revoke(bo_pki_ca *ca, uint64_t serial, bo_time_ms when)
{
    if (ca->nrev >= MAX_REVOKED)
        return BO_E_TOO_BIG;
    revoked *r = realloc(ca->rev, (ca->nrev + 1) * sizeof(*r));
    if (!r)
        return BO_E_NOMEM;
    ca->rev = r;
    ca->rev[ca->nrev].serial = serial;
    ca->rev[ca->nrev].when = when;
    ca->nrev++;
    return BO_E_OK;
}

static bool add_revoked(X509_CRL *crl, const revoked *r)
{
    X509_REVOKED *rv = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_TIME *t = ASN1_TIME_new();
    bool ok = rv && sn && t && ASN1_INTEGER_set_uint64(sn, r->serial) &&
              X509_REVOKED_set_serialNumber(rv, sn) && set_time(t, r->when) &&
              X509_REVOKED_set_revocationDate(rv, t) && X509_CRL_add0_revoked(crl, rv);
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(t);
    if (!ok)
        X509_REVOKED_free(rv);
    return ok;
}

bo_err bo_pki_crl(bo_pki_ca *ca, bo_time_ms this_update, bo_time_ms next_update, bo_buf *pem)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *tu = ASN1_TIME_new(), *nu = ASN1_TIME_new();
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    bool ok = crl && tu && nu && num && X509_CRL_set_version(crl, 1) &&
              X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) &&
              set_time(tu, this_update) && set_time(nu, next_update) &&
              X509_CRL_set1_lastUpdate(crl, tu) && X509_CRL_set1_nextUpdate(crl, nu) &&
              ASN1_INTEGER_set_uint64(num, ca->crl_number++);
    for (size_t i = 0; ok && i < ca->nrev; i++)
        ok = add_revoked(crl, &ca->rev[i]);
    if (ok) {
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, ca->cert, NULL, NULL, crl, 0);
        X509_EXTENSION *aki =
            X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
        ok = aki && X509_CRL_add_ext(crl, aki, -1) &&
             X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1 && X509_CRL_sort(crl);
        X509_EXTENSION_free(aki);
    }
    if (ok) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md && bo__crypto_sign_init(md, ca->key) && X509_CRL_sign_ctx(crl, md) > 0;
        EVP_MD_CTX_free(md);
    }
    bo_err e = ok ? BO_E_OK : BO_E_INTERNAL;
    if (ok) {
        BIO *b = BIO_new(BIO_s_mem());
        e = BO_E_INTERNAL;
        if (b && PEM_write_bio_X509_CRL(b, crl) > 0) {
            char *p = NULL;
            long n = BIO_get_mem_data(b, &p);
            e = bo_buf_append(pem, p, (size_t)n);
        }
        BIO_free(b);
    }
    X509_CRL_free(crl);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_INTEGER_free(num);
    ERR_clear_error();
    return e;
}

/* ---- PKCS#12 ------------------------------------------------------------------------------ */

bo_err bo_pki_pkcs12(const bo_buf *key_pem, const bo_buf *chain_pem, const char *pass,
                     const char *friendly_name, bo_buf *out)
{
    BIO *kb = BIO_new_mem_buf(key_pem->data, (int)key_pem->len);
    EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    BIO_free(kb);
    bo_blob_list chain = {0};
    if (!pk || bo_pem_chain_parse(chain_pem->data, chain_pem->len, &chain) != BO_E_OK) {
        EVP_PKEY_free(pk);
        ERR_clear_error();
        return BO_E_INVALID_ARG;
    }
    X509 *leaf = bo__crypto_x509_from_der(chain.list.v[0].p, chain.list.v[0].len);
    STACK_OF(X509) *ca = sk_X509_new_null();
    bool ok = leaf && ca;
    for (size_t i = 1; ok && i < chain.list.n; i++) {
        X509 *c = bo__crypto_x509_from_der(chain.list.v[i].p, chain.list.v[i].len);
        ok = c && sk_X509_push(ca, c) > 0;
        if (!ok)
            X509_free(c);
    }
    PKCS12 *p12 = ok ? PKCS12_create(pass, friendly_name, pk, leaf, ca, 0, 0, 0, 0, 0) : NULL;
    bo_err e = BO_E_INTERNAL;
    unsigned char *der = NULL;
    int dl = p12 ? i2d_PKCS12(p12, &der) : 0;
    if (dl > 0)
        e = bo_buf_append(out, der, (size_t)dl);
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_pop_free(ca, X509_free);
    X509_free(leaf);
    EVP_PKEY_free(pk);
    bo_blob_list_cleanup(&chain);
    ERR_clear_error();
    return e;
}
