/* Trust store and identity verification (see bo/identity.h).
 *
 * Concurrency: after bo_trust_load returns, nothing in a bo_trust is written again except the
 * reference count. Every verification builds its own X509_STORE_CTX and its own untrusted
 * stack (a shallow copy of the pool plus the client's certificates).
 */
#include "bo/identity.h"

#include <ctype.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "bo/hash.h"
#include "bo/uscc.h"
#include "bo_crypto_internal.h"

#define TRUST_MAX_FILES 4096
#define TRUST_MAX_FILE_SIZE (4u << 20)

struct bo_trust {
    atomic_int refs;
    X509_STORE *store;
    STACK_OF(X509) *anchors;
    STACK_OF(X509) *pool;          /* intermediates: used to build chains, never trusted */
    STACK_OF(X509_CRL) *sm2_crls;  /* SM2 CRLs verified here with the GM/T 0009 ID */
    ASN1_OBJECT *uscc_obj;
    bool crl_required;
    bo_trust_stats stats;
};

/* ---- USCC ------------------------------------------------------------------------------ */

static ASN1_OBJECT *uscc_object(const char *attr)
{
    int nid = NID_undef;
    if (!attr || strcmp(attr, "serialNumber") == 0)
        nid = NID_serialNumber;
    else if (strcmp(attr, "OU") == 0)
        nid = NID_organizationalUnitName;
    else if (strcmp(attr, "organizationIdentifier") == 0)
        nid = NID_organizationIdentifier;
    if (nid != NID_undef)
        return OBJ_dup(OBJ_nid2obj(nid));
    for (const char *p = attr; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.')
            return NULL;
    ASN1_OBJECT *o = OBJ_txt2obj(attr, 1);
    ERR_clear_error();
    return o;
}

/* Check one candidate string: trimmed of surrounding spaces, it must be a valid USCC. */
static bool take_uscc(const ASN1_STRING *s, char out[19], char *seen, size_t seen_n)
{
    unsigned char *u = NULL;
    int len = ASN1_STRING_to_UTF8(&u, s);
    if (len < 0) {
        ERR_clear_error();
        return false;
    }
    const char *p = (const char *)u;
    size_t l = strnlen(p, (size_t)len);
    while (l && *p == ' ') {
        p++;
        l--;
    }
    while (l && p[l - 1] == ' ')
        l--;
    bool ok = false;
    if (l == BO_USCC_LEN) {
        char c[BO_USCC_LEN + 1];
        memcpy(c, p, BO_USCC_LEN);
        c[BO_USCC_LEN] = '\0';
        if (bo_uscc_valid(c)) {
            memcpy(out, c, BO_USCC_LEN + 1);
            ok = true;
        }
    }
    if (!ok && seen && seen_n && !seen[0])
        bo__crypto_utf8_copy(seen, seen_n, p, l);
    OPENSSL_free(u);
    return ok;
}

/* 0: found (out filled); 1: absent; 2: present but none valid (seen gets the first value). */
static int find_uscc(X509 *x, const ASN1_OBJECT *obj, char out[19], char *seen, size_t seen_n)
{
    out[0] = '\0';
    if (seen_n)
        seen[0] = '\0';
    const X509_NAME *nm = X509_get_subject_name(x);
    bool present = false;
    for (int i = -1; (i = X509_NAME_get_index_by_OBJ(nm, obj, i)) >= 0;) {
        present = true;
        if (take_uscc(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)), out, seen, seen_n))
            return 0;
    }
    if (present)
        return 2;
    int ei = X509_get_ext_by_OBJ(x, obj, -1);
    if (ei < 0)
        return 1;
    const ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(X509_get_ext(x, ei));
    const unsigned char *p = ASN1_STRING_get0_data(d);
    ASN1_TYPE *t = d2i_ASN1_TYPE(NULL, &p, ASN1_STRING_length(d));
    int r = 2;
    if (t && (t->type == V_ASN1_UTF8STRING || t->type == V_ASN1_PRINTABLESTRING ||
              t->type == V_ASN1_IA5STRING) &&
        take_uscc(t->value.asn1_string, out, seen, seen_n))
        r = 0;
    ASN1_TYPE_free(t);
    ERR_clear_error();
    return r;
}

bo_err bo_cert_uscc(const uint8_t *der, size_t len, const char *uscc_attr, char out[19])
{
    out[0] = '\0';
    ASN1_OBJECT *obj = uscc_object(uscc_attr);
    if (!obj)
        return BO_E_CONFIG;
    X509 *x = bo__crypto_x509_from_der(der, len);
    bo_err e = !x ? BO_E_CERT_INVALID
                  : find_uscc(x, obj, out, NULL, 0) == 0 ? BO_E_OK : BO_E_CERT_BAD_USCC;
    X509_free(x);
    ASN1_OBJECT_free(obj);
    return e;
}

/* ---- loading ------------------------------------------------------------------------- */

static bo_trust *trust_new(void)
{
    bo_trust *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    atomic_init(&t->refs, 1);
    t->store = X509_STORE_new();
    t->anchors = sk_X509_new_null();
    t->pool = sk_X509_new_null();
    t->sm2_crls = sk_X509_CRL_new_null();
    if (!t->store || !t->anchors || !t->pool || !t->sm2_crls) {
        bo_trust_free(t);
        return NULL;
    }
    return t;
}

bo_trust *bo_trust_ref(bo_trust *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void bo_trust_free(bo_trust *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) > 1)
        return;
    X509_STORE_free(t->store);
    sk_X509_pop_free(t->anchors, X509_free);
    sk_X509_pop_free(t->pool, X509_free);
    sk_X509_CRL_pop_free(t->sm2_crls, X509_CRL_free);
    ASN1_OBJECT_free(t->uscc_obj);
    free(t);
}

void bo_trust_get_stats(const bo_trust *t, bo_trust_stats *out)
{
    *out = t->stats;
}

static bool has_suffix(const char *name, const char *suf)
{
    size_t a = strlen(name), b = strlen(suf);
    return a > b && strcasecmp(name + a - b, suf) == 0;
}

static bool wanted_file(const char *name)
{
    return name[0] != '.' && (has_suffix(name, ".pem") || has_suffix(name, ".crt") ||
                              has_suffix(name, ".cer") || has_suffix(name, ".der") ||
                              has_suffix(name, ".crl"));
}

static int no_prompt(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static bool add_cert(bo_trust *t, X509 *x)
{
    if (!bo__crypto_x509_fix_sm2(x))
        return false;
    if (X509_check_ca(x) == 0) {
        t->stats.ignored++;
        return true;
    }
    if (X509_self_signed(x, 0) == 1) {
        if (!X509_STORE_add_cert(t->store, x) || !X509_up_ref(x))
            return false;
        if (!sk_X509_push(t->anchors, x)) {
            X509_free(x);
            return false;
        }
        t->stats.anchors++;
        return true;
    }
    if (!X509_up_ref(x))
        return false;
    if (!sk_X509_push(t->pool, x)) {
        X509_free(x);
        return false;
    }
    t->stats.intermediates++;
    return true;
}

static bool keep_crl(STACK_OF(X509_CRL) *crls, X509_CRL *c)
{
    if (!X509_CRL_up_ref(c))
        return false;
    if (!sk_X509_CRL_push(crls, c)) {
        X509_CRL_free(c);
        return false;
    }
    return true;
}

static bo_err read_all(const char *path, bo_buf *buf)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return BO_E_IO;
    bo_err e = BO_E_OK;
    char chunk[16384];
    size_t r;
    while (e == BO_E_OK && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
        e = bo_buf_append(buf, chunk, r);
    if (e == BO_E_OK && ferror(f))
        e = BO_E_IO;
    fclose(f);
    return e;
}

static bo_err load_one(bo_trust *t, STACK_OF(X509_CRL) *crls, const char *path, char *detail,
                       size_t n)
{
    bo_buf buf;
    bo_buf_init(&buf, TRUST_MAX_FILE_SIZE);
    bo_err e = read_all(path, &buf);
    if (e != BO_E_OK) {
        bo_buf_cleanup(&buf);
        return bo__crypto_fail(e, detail, n, e == BO_E_IO ? "cannot read %s" : "%s is too large",
                               path);
    }
    bool ok = true, any = false;
    if (buf.len && memmem(buf.data, buf.len, "-----BEGIN", 10)) {
        BIO *b = BIO_new_mem_buf(buf.data, (int)buf.len);
        STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, no_prompt, NULL) : NULL;
        for (int i = 0; ok && infos && i < sk_X509_INFO_num(infos); i++) {
            X509_INFO *xi = sk_X509_INFO_value(infos, i);
            if (xi->x509) {
                any = true;
                ok = add_cert(t, xi->x509);
            }
            if (xi->crl) {
                any = true;
                ok = ok && keep_crl(crls, xi->crl);
            }
        }
        sk_X509_INFO_pop_free(infos, X509_INFO_free);
        BIO_free(b);
    } else if (buf.len) {
        const unsigned char *p = buf.data;
        X509 *x = d2i_X509(NULL, &p, (long)buf.len);
        if (x && p == buf.data + buf.len) {
            any = true;
            ok = add_cert(t, x);
        } else {
            p = buf.data;
            X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)buf.len);
            if (c && p == buf.data + buf.len) {
                any = true;
                ok = keep_crl(crls, c);
            }
            X509_CRL_free(c);
        }
        X509_free(x);
    }
    bo_buf_cleanup(&buf);
    if (!ok || !any) {
        bo__crypto_fail(BO_E_CONFIG, detail, n, "%s: no usable certificate or CRL", path);
        bo__crypto_ossl_reason(detail, n);
        return BO_E_CONFIG;
    }
    ERR_clear_error();
    return BO_E_OK;
}

/* OpenSSL 3.0 checks CRL signatures with the empty SM2 ID and has no setter for a CRL's ID.
 * Check SM2 CRLs here with the GM/T 0009 ID instead; verify_cb accepts the ones that pass. */
static int sm2_crl_verify(X509_CRL *c, EVP_PKEY *pk)
{
    const ASN1_BIT_STRING *sig = NULL;
    const X509_ALGOR *alg = NULL;
    X509_CRL_get0_signature(c, &sig, &alg);
    unsigned char *tbs = NULL;
    int tl = i2d_re_X509_CRL_tbs(c, &tbs);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int r = 0;
    if (tl > 0 && md && sig &&
        EVP_DigestVerifyInit_ex(md, &pctx, "SM3", NULL, NULL, pk, NULL) > 0 &&
        bo__crypto_pctx_set_sm2_id(pctx))
        r = EVP_DigestVerify(md, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), tbs,
                             (size_t)tl) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(tbs);
    ERR_clear_error();
    return r;
}

static bool crl_issuer_match(X509_CRL *c, STACK_OF(X509) *certs, bool *found, bool *gm_ok,
                             bool *plain_ok)
{
    for (int i = 0; i < sk_X509_num(certs); i++) {
        X509 *ca = sk_X509_value(certs, i);
        if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(c)) != 0)
            continue;
        *found = true;
        EVP_PKEY *pk = X509_get0_pubkey(ca);
        if (!pk)
            continue;
        if (X509_CRL_get_signature_nid(c) == NID_SM2_with_SM3 && sm2_crl_verify(c, pk))
            *gm_ok = true;
        if (X509_CRL_verify(c, pk) == 1)
            *plain_ok = true;
        ERR_clear_error();
    }
    return true;
}

static bo_err add_crls(bo_trust *t, STACK_OF(X509_CRL) *crls, char *detail, size_t n)
{
    for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(crls, i);
        if (X509_CRL_get_signature_nid(c) == NID_SM2_with_SM3) {
            bool found = false, gm_ok = false, plain_ok = false;
            crl_issuer_match(c, t->anchors, &found, &gm_ok, &plain_ok);
            crl_issuer_match(c, t->pool, &found, &gm_ok, &plain_ok);
            if (found && !gm_ok && !plain_ok) {
                char who[256];
                bo__crypto_name_oneline(X509_CRL_get_issuer(c), who, sizeof who);
                return bo__crypto_fail(BO_E_CONFIG, detail, n,
                                       "the SM2 CRL of '%s' has a bad signature", who);
            }
            if (gm_ok && !plain_ok && !keep_crl(t->sm2_crls, c))
                return BO_E_NOMEM;
        }
        if (!X509_STORE_add_crl(t->store, c))
            return BO_E_NOMEM;
        t->stats.crls++;
    }
    ERR_clear_error();
    return BO_E_OK;
}

static size_t count_without_crl(STACK_OF(X509) *cas, STACK_OF(X509_CRL) *crls)
{
    size_t missing = 0;
    for (int i = 0; i < sk_X509_num(cas); i++) {
        const X509_NAME *sub = X509_get_subject_name(sk_X509_value(cas, i));
        bool have = false;
        for (int j = 0; !have && j < sk_X509_CRL_num(crls); j++)
            have = X509_NAME_cmp(sub, X509_CRL_get_issuer(sk_X509_CRL_value(crls, j))) == 0;
        missing += !have;
    }
    return missing;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bo_trust *bo_trust_load(const bo_trust_opts *o, bo_err *err, char *detail, size_t n)
{
    if (detail && n)
        detail[0] = '\0';
    if (!o || !o->dir) {
        *err = bo__crypto_fail(BO_E_CONFIG, detail, n, "no trust directory given");
        return NULL;
    }
    bo_trust *t = trust_new();
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    char **names = NULL;
    size_t nnames = 0;
    bo_err e = t && crls ? BO_E_OK : BO_E_NOMEM;
    if (e == BO_E_OK) {
        t->crl_required = o->crl_required;
        t->uscc_obj = uscc_object(o->uscc_attr);
        if (!t->uscc_obj)
            e = bo__crypto_fail(BO_E_CONFIG, detail, n,
                                "unknown USCC attribute '%s' (use serialNumber, OU, "
                                "organizationIdentifier or a dotted OID)",
                                o->uscc_attr);
    }
    DIR *d = NULL;
    if (e == BO_E_OK && !(d = opendir(o->dir)))
        e = bo__crypto_fail(BO_E_CONFIG, detail, n, "cannot open trust directory %s", o->dir);
    /* Sorted, so that loading does not depend on directory order. */
    for (struct dirent *de; e == BO_E_OK && (de = readdir(d));) {
        if (!wanted_file(de->d_name))
            continue;
        if (nnames >= TRUST_MAX_FILES) {
            e = bo__crypto_fail(BO_E_TOO_BIG, detail, n, "more than %d files in %s",
                                TRUST_MAX_FILES, o->dir);
            break;
        }
        char **nn = realloc(names, (nnames + 1) * sizeof(*nn));
        char *s = NULL;
        if (nn)
            names = nn;
        if (!nn || asprintf(&s, "%s/%s", o->dir, de->d_name) < 0) {
            e = BO_E_NOMEM;
            break;
        }
        names[nnames++] = s;
    }
    if (d)
        closedir(d);
    if (names)
        qsort(names, nnames, sizeof(*names), cmp_str);
    for (size_t i = 0; e == BO_E_OK && i < nnames; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && !S_ISREG(st.st_mode))
            continue;
        e = load_one(t, crls, names[i], detail, n);
    }
    if (e == BO_E_OK)
        e = add_crls(t, crls, detail, n);
    if (e == BO_E_OK && t->stats.anchors == 0)
        e = bo__crypto_fail(BO_E_CONFIG, detail, n, "no self-signed CA certificate in %s",
                            o->dir);
    if (e == BO_E_OK) {
        t->stats.cas_without_crl =
            count_without_crl(t->anchors, crls) + count_without_crl(t->pool, crls);
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    ERR_clear_error();
    if (e != BO_E_OK) {
        bo_trust_free(t);
        *err = e;
        return NULL;
    }
    return t;
}

/* ---- verification ------------------------------------------------------------------------ */

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
    if (ok)
        return 1;
    const bo_trust *t = X509_STORE_CTX_get_app_data(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        /* Required for the leaf's issuer only; higher up, "where CRLs exist". */
        return depth > 0 || !t->crl_required;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        return !t->crl_required;
    case X509_V_ERR_CRL_SIGNATURE_FAILURE: {
        X509_CRL *c = X509_STORE_CTX_get0_current_crl(ctx);
        for (int i = 0; c && i < sk_X509_CRL_num(t->sm2_crls); i++)
            if (sk_X509_CRL_value(t->sm2_crls, i) == c)
                return 1;
        return 0;
    }
    default:
        return 0;
    }
}

/* "signing certificate" / "CA certificate 'X' of the signing chain" */
static void describe(X509 *x, int depth, const char *role, char *out, size_t n)
{
    if (depth == 0 || !x) {
        snprintf(out, n, "%s certificate", role);
        return;
    }
    char cn[128];
    if (!bo__crypto_name_get(X509_get_subject_name(x), NID_commonName, cn, sizeof cn))
        bo__crypto_name_oneline(X509_get_subject_name(x), cn, sizeof cn);
    snprintf(out, n, "CA certificate '%s' of the %s chain", cn, role);
}

static void issuer_cn(X509 *x, char *out, size_t n)
{
    if (!x || !bo__crypto_name_get(X509_get_issuer_name(x), NID_commonName, out, n)) {
        if (x)
            bo__crypto_name_oneline(X509_get_issuer_name(x), out, n);
        else if (n)
            out[0] = '\0';
    }
}

static bo_err map_error(X509_STORE_CTX *ctx, const char *role, char *detail, size_t n)
{
    int err = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    char who[200], iss[128], ts[32];
    describe(cur, depth, role, who, sizeof who);
    issuer_cn(cur, iss, sizeof iss);
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return bo__crypto_fail(
            BO_E_CERT_EXPIRED, detail, n, "%s expired %s", who,
            bo__crypto_time_str(bo__crypto_asn1_time_ms(cur ? X509_get0_notAfter(cur) : NULL), ts,
                                sizeof ts));
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return bo__crypto_fail(
            BO_E_CERT_NOT_YET_VALID, detail, n, "%s is not valid before %s", who,
            bo__crypto_time_str(bo__crypto_asn1_time_ms(cur ? X509_get0_notBefore(cur) : NULL),
                                ts, sizeof ts));
    case X509_V_ERR_CERT_REVOKED: {
        char serial[80] = "";
        if (cur) {
            BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cur), NULL);
            char *h = bn ? BN_bn2hex(bn) : NULL;
            if (h)
                snprintf(serial, sizeof serial, " (serial %s)", h);
            OPENSSL_free(h);
            BN_free(bn);
        }
        return bo__crypto_fail(BO_E_CERT_REVOKED, detail, n, "%s%s was revoked by '%s'", who,
                               serial, iss);
    }
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        return bo__crypto_fail(BO_E_CERT_UNKNOWN_ISSUER, detail, n,
                               "the %s chain ends at '%s', a self-signed CA that is not trusted",
                               role, iss);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return bo__crypto_fail(BO_E_CERT_UNKNOWN_ISSUER, detail, n,
                               "%s was issued by '%s', which is not a trusted CA", who, iss);
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
        return bo__crypto_fail(BO_E_CRL_UNAVAILABLE, detail, n,
                               "no CRL from '%s' is loaded to check the %s", iss, who);
    case X509_V_ERR_CRL_HAS_EXPIRED: {
        /* The newest CRL the store has for this issuer says until when it was current. */
        bo_time_ms latest = 0;
        STACK_OF(X509_CRL) *crls = cur ? X509_STORE_CTX_get1_crls(ctx, X509_get_issuer_name(cur))
                                       : NULL;
        for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
            bo_time_ms t = bo__crypto_asn1_time_ms(
                X509_CRL_get0_nextUpdate(sk_X509_CRL_value(crls, i)));
            latest = t > latest ? t : latest;
        }
        sk_X509_CRL_pop_free(crls, X509_CRL_free);
        return bo__crypto_fail(BO_E_CRL_UNAVAILABLE, detail, n,
                               "the CRL of '%s' expired %s (checking the %s)", iss,
                               bo__crypto_time_str(latest, ts, sizeof ts), who);
    }
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
        return bo__crypto_fail(BO_E_CRL_UNAVAILABLE, detail, n,
                               "the CRL of '%s' cannot be used to check the %s (%s)", iss, who,
                               X509_verify_cert_error_string(err));
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        return bo__crypto_fail(BO_E_CERT_INVALID, detail, n,
                               "the signature on the %s does not verify", who);
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
        return bo__crypto_fail(BO_E_CERT_INVALID, detail, n, "the %s chain is too long", role);
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
        return bo__crypto_fail(BO_E_UNSUPPORTED_KEY, detail, n, "%s: %s", who,
                               X509_verify_cert_error_string(err));
    default:
        return bo__crypto_fail(BO_E_CERT_INVALID, detail, n, "%s: %s", who,
                               X509_verify_cert_error_string(err));
    }
}

static const char *key_desc(EVP_PKEY *pk, char *out, size_t n)
{
    int bits = pk ? EVP_PKEY_get_bits(pk) : 0;
    snprintf(out, n, "%s %d bits", pk ? EVP_PKEY_get0_type_name(pk) : "no key", bits);
    return out;
}

static bo_err validity_first(X509_STORE_CTX *ctx, bo_time_ms now, const char *role, bo_err e,
                             char *detail, size_t n)
{
    STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
    time_t t = (time_t)(now / 1000);
    char who[200], ts[32];
    for (int i = 0; i < sk_X509_num(built); i++) {
        X509 *x = sk_X509_value(built, i);
        if (X509_cmp_time(X509_get0_notAfter(x), &t) < 0) {
            describe(x, i, role, who, sizeof who);
            return bo__crypto_fail(
                BO_E_CERT_EXPIRED, detail, n, "%s expired %s", who,
                bo__crypto_time_str(bo__crypto_asn1_time_ms(X509_get0_notAfter(x)), ts, sizeof ts));
        }
        if (X509_cmp_time(X509_get0_notBefore(x), &t) > 0) {
            describe(x, i, role, who, sizeof who);
            return bo__crypto_fail(
                BO_E_CERT_NOT_YET_VALID, detail, n, "%s is not valid before %s", who,
                bo__crypto_time_str(bo__crypto_asn1_time_ms(X509_get0_notBefore(x)), ts,
                                    sizeof ts));
        }
    }
    return e;
}

/* Verify one chain; on success *leaf_out holds a reference to the parsed leaf. */
static bo_err verify_chain(const bo_trust *t, const bo_bytes_list *chain, const char *role,
                           bo_time_ms now, X509 **leaf_out, char *anchor, size_t anchor_n,
                           char *detail, size_t n)
{
    *leaf_out = NULL;
    if (!chain || chain->n == 0)
        return bo__crypto_fail(BO_E_CERT_INVALID, detail, n, "no %s certificate given", role);
    if (chain->n > BO_CHAIN_MAX)
        return bo__crypto_fail(BO_E_CERT_INVALID, detail, n,
                               "the %s chain has %zu certificates; at most %d are accepted", role,
                               chain->n, BO_CHAIN_MAX);
    X509 *certs[BO_CHAIN_MAX] = {0};
    bo_err e = BO_E_OK;
    for (size_t i = 0; e == BO_E_OK && i < chain->n; i++) {
        certs[i] = bo__crypto_x509_from_der(chain->v[i].p, chain->v[i].len);
        if (!certs[i])
            e = i == 0 ? bo__crypto_fail(BO_E_CERT_INVALID, detail, n,
                                         "the %s certificate is not a valid DER certificate",
                                         role)
                       : bo__crypto_fail(BO_E_CERT_INVALID, detail, n,
                                         "certificate %zu of the %s chain is not a valid DER "
                                         "certificate",
                                         i + 1, role);
    }
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *ctx = NULL;
    if (e == BO_E_OK) {
        untrusted = sk_X509_dup(t->pool);
        ctx = X509_STORE_CTX_new();
        if (!untrusted || !ctx)
            e = BO_E_NOMEM;
        for (size_t i = 1; e == BO_E_OK && i < chain->n; i++)
            if (!sk_X509_push(untrusted, certs[i]))
                e = BO_E_NOMEM;
    }
    if (e == BO_E_OK && !X509_STORE_CTX_init(ctx, t->store, certs[0], untrusted))
        e = BO_E_NOMEM;
    if (e == BO_E_OK) {
        X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_time(p, (time_t)(now / 1000));
        X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
        X509_VERIFY_PARAM_set_depth(p, BO_CHAIN_MAX + 1);
        X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
        X509_STORE_CTX_set_app_data(ctx, (void *)t);
        if (X509_verify_cert(ctx) != 1) {
            e = map_error(ctx, role, detail, n);
            /* Revocation is checked before validity periods; an expired certificate whose
             * CA's CRL is stale too is better reported as expired. */
            if (e == BO_E_CRL_UNAVAILABLE)
                e = validity_first(ctx, now, role, e, detail, n);
        } else {
            STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
            X509 *top = sk_X509_value(built, sk_X509_num(built) - 1);
            if (anchor)
                bo__crypto_name_oneline(X509_get_subject_name(top), anchor, anchor_n);
        }
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted); /* shallow: the pool and certs[] own their certificates */
    if (e == BO_E_OK) {
        *leaf_out = certs[0];
        certs[0] = NULL;
    }
    for (size_t i = 0; i < BO_CHAIN_MAX; i++)
        X509_free(certs[i]);
    ERR_clear_error();
    return e;
}

static bo_err check_sign_leaf(X509 *x, char *detail, size_t n)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    char kd[64];
    if (!pk || !bo__crypto_pkey_supported(pk))
        return bo__crypto_fail(BO_E_UNSUPPORTED_KEY, detail, n,
                               "the signing certificate has an unsupported key (%s)",
                               key_desc(pk, kd, sizeof kd));
    if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE))
        return bo__crypto_fail(BO_E_CERT_KEY_USAGE, detail, n,
                               "the signing certificate has no keyUsage extension");
    if (!(X509_get_key_usage(x) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
        return bo__crypto_fail(BO_E_CERT_KEY_USAGE, detail, n,
                               "the signing certificate is not for signatures (no "
                               "digitalSignature or nonRepudiation key usage)");
    return BO_E_OK;
}

static bo_err check_enc_leaf(X509 *x, char *detail, size_t n)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    char kd[64];
    bo_keyalg alg = bo__crypto_pkey_alg(pk, NULL);
    if (!pk || !bo__crypto_pkey_supported(pk) || alg == BO_KEY_ED25519)
        return bo__crypto_fail(BO_E_UNSUPPORTED_KEY, detail, n,
                               "the encryption certificate has an unsupported key (%s)",
                               key_desc(pk, kd, sizeof kd));
    if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE))
        return bo__crypto_fail(BO_E_CERT_KEY_USAGE, detail, n,
                               "the encryption certificate has no keyUsage extension");
    /* Explicit bits, not X509_check_purpose(SMIME_ENCRYPT): that one demands keyEncipherment
     * and refuses a correct keyAgreement-only EC certificate (research/crypto.md §3). */
    uint32_t want = alg == BO_KEY_EC_P256 ? KU_KEY_AGREEMENT : KU_KEY_ENCIPHERMENT;
    if (!(X509_get_key_usage(x) & want))
        return bo__crypto_fail(BO_E_CERT_KEY_USAGE, detail, n,
                               "the encryption certificate is not for encryption (no %s key "
                               "usage)",
                               alg == BO_KEY_EC_P256 ? "keyAgreement" : "keyEncipherment");
    return BO_E_OK;
}

static void leaf_fpr(const bo_bytes_list *chain, uint8_t out[32])
{
    bo_sha256(chain->v[0].p, chain->v[0].len, out);
}

bo_err bo_identity_verify(const bo_trust *t, const bo_bytes_list *sign_chain,
                          const bo_bytes_list *enc_chain, bo_time_ms now, unsigned flags,
                          bo_identity *out, char *detail, size_t n)
{
    memset(out, 0, sizeof(*out));
    if (detail && n)
        detail[0] = '\0';
    X509 *leaf = NULL, *enc = NULL;
    bo_identity id;
    memset(&id, 0, sizeof id);
    bo_err e = verify_chain(t, sign_chain, "signing", now, &leaf, id.anchor, sizeof id.anchor,
                            detail, n);
    if (e == BO_E_OK)
        e = check_sign_leaf(leaf, detail, n);
    char seen[64];
    if (e == BO_E_OK) {
        int r = find_uscc(leaf, t->uscc_obj, id.uscc, seen, sizeof seen);
        if (r != 0 && (flags & BO_ID_REQUIRE_USCC))
            e = r == 1 ? bo__crypto_fail(BO_E_CERT_BAD_USCC, detail, n,
                                         "the signing certificate carries no unified social "
                                         "credit code")
                       : bo__crypto_fail(BO_E_CERT_BAD_USCC, detail, n,
                                         "'%s' in the signing certificate is not a valid "
                                         "unified social credit code (GB 32100 check failed)",
                                         seen);
    }
    if (e == BO_E_OK) {
        const X509_NAME *sub = X509_get_subject_name(leaf);
        bo__crypto_name_get(sub, NID_commonName, id.person, sizeof id.person);
        if (!bo__crypto_name_get(sub, NID_organizationName, id.org, sizeof id.org))
            bo__crypto_utf8_copy(id.org, sizeof id.org, id.person, strlen(id.person));
        id.alg = bo__crypto_pkey_alg(X509_get0_pubkey(leaf), NULL);
        id.not_after = bo__crypto_asn1_time_ms(X509_get0_notAfter(leaf));
        leaf_fpr(sign_chain, id.fpr);
    }
    if (e == BO_E_OK && enc_chain && enc_chain->n > 0) {
        e = verify_chain(t, enc_chain, "encryption", now, &enc, NULL, 0, detail, n);
        if (e == BO_E_OK)
            e = check_enc_leaf(enc, detail, n);
        if (e == BO_E_OK) {
            char enc_uscc[19];
            int r = find_uscc(enc, t->uscc_obj, enc_uscc, seen, sizeof seen);
            if (r != 0 && id.uscc[0])
                e = bo__crypto_fail(BO_E_CERT_BAD_USCC, detail, n,
                                    "the encryption certificate carries no valid unified social "
                                    "credit code");
            else if (strcmp(enc_uscc, id.uscc) != 0)
                e = bo__crypto_fail(BO_E_CERT_USCC_MISMATCH, detail, n,
                                    "the encryption certificate names %s, the signing "
                                    "certificate %s",
                                    enc_uscc[0] ? enc_uscc : "no organisation",
                                    id.uscc[0] ? id.uscc : "none");
        }
        if (e == BO_E_OK) {
            id.has_enc = true;
            id.enc_alg = bo__crypto_pkey_alg(X509_get0_pubkey(enc), NULL);
            id.enc_not_after = bo__crypto_asn1_time_ms(X509_get0_notAfter(enc));
            leaf_fpr(enc_chain, id.enc_fpr);
        }
    }
    X509_free(leaf);
    X509_free(enc);
    ERR_clear_error();
    if (e == BO_E_OK)
        *out = id;
    return e;
}
