/* Sealing: our own CMS writer, because OpenSSL generates the CEK inside CMS_encrypt and never
 * hands it out, while the bidder's client needs it for the key commitment. The output is the
 * same structure `openssl cms -encrypt -binary [-stream]` writes (research/crypto.md §1). */
#include "bo/seal.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "bo/cek.h"
#include "bo/hash.h"
#include "bo/uscc.h"
#include "bo_cms_internal.h"
#include "bo_crypto_internal.h"

#define SEG (64u * 1024u)     /* plaintext per EVP call and ciphertext per BER segment */
#define STAGE (2 * SEG + 64)  /* ciphertext staging */
#define GCM_NONCE 12
#define GCM_TAG 16
#define CBC_IV 16
#define HEADER_MAX (BO_SEAL_MAX_RECIPIENTS * BO__RI_MAX_LEN + 1024)

struct bo_seal {
    bo_write_fn out;
    void *ud;
    bo_seal_cipher cipher;
    int der;
    uint64_t content_len;
    uint64_t in_total;
    EVP_CIPHER_CTX *ctx;
    bo_secret *cek;
    uint8_t *stage;
    size_t staged;
    bo_sha256_ctx *sha;
    bo_seal_record rec;
    bo_blob_list ri;
    bool dead;      /* an error happened or finish ran */
};

/* Everything written goes through here: hashed and counted for the record. */
static bo_err emit(bo_seal *s, const uint8_t *p, size_t n)
{
    if (!n)
        return BO_E_OK;
    bo_sha256_update(s->sha, p, n);
    s->rec.env_size += n;
    return s->out(s->ud, p, n);
}

/* ---- RecipientInfos -------------------------------------------------------------------------- */

/* AlgorithmIdentifier rsaesOaep { [0] sha256, [1] mgf1(sha256) }, exactly as OpenSSL writes it
 * (hash parameters absent). */
static bo_err put_oaep_alg(bo_buf *b)
{
    size_t a = b->len;
    bo_err e = bo__der_put_oid(b, &BO__OID_RSAES_OAEP);
    size_t p = b->len;
    size_t h = b->len;
    if (e == BO_E_OK)
        e = bo__der_put_oid(b, &BO__OID_SHA256);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, h, 0x30);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, h, 0xa0);
    size_t m = b->len;
    if (e == BO_E_OK)
        e = bo__der_put_oid(b, &BO__OID_MGF1);
    size_t mh = b->len;
    if (e == BO_E_OK)
        e = bo__der_put_oid(b, &BO__OID_SHA256);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, mh, 0x30);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, m, 0x30);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, m, 0xa1);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, p, 0x30);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, a, 0x30);
    return e;
}

/* KTRI version 0 with IssuerAndSerialNumber. RSA: OAEP or PKCS#1 v1.5. SM2 (sm2 true): the
 * GM/T 0009 SM2Cipher DER OpenSSL's EVP_PKEY_encrypt writes, keyEncryptionAlgorithm sm2encrypt
 * without parameters (as GmSSL writes and requires), which `openssl cms -decrypt` opens through
 * its generic KTRI path although OpenSSL 3.0 cannot write it. */
static bo_err make_ktri(X509 *cert, EVP_PKEY *pub, bool sm2, bo_seal_rsa pad,
                        const bo_secret *cek, bo_buf *ri)
{
    uint8_t ek[1024];
    size_t ekl = sizeof ek;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
    bool ok = pc && EVP_PKEY_encrypt_init(pc) > 0;
    if (ok && !sm2 && pad == BO_SEAL_RSA_PKCS1)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0;
    else if (ok && !sm2) /* SM2: SM3 inside, nothing to choose */
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_oaep_md_name(pc, "SHA256", NULL) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, "SHA256", NULL) > 0;
    ok = ok && EVP_PKEY_encrypt(pc, ek, &ekl, bo_secret_cdata(cek), bo_secret_len(cek)) > 0;
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    if (!ok)
        return BO_E_INTERNAL;
    static const uint8_t v0[] = {0x02, 0x01, 0x00};
    bo_err e = bo_buf_append(ri, v0, sizeof v0);
    if (e == BO_E_OK)
        e = bo__der_put_issuer_serial(ri, cert);
    if (e == BO_E_OK && sm2) {
        size_t a = ri->len;
        e = bo__der_put_oid(ri, &BO__OID_SM2_ENCRYPT);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, a, 0x30);
    } else if (e == BO_E_OK && pad == BO_SEAL_RSA_PKCS1) {
        static const uint8_t alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                      0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
        e = bo_buf_append(ri, alg, sizeof alg);
    } else if (e == BO_E_OK) {
        e = put_oaep_alg(ri);
    }
    if (e == BO_E_OK)
        e = bo__der_put(ri, 0x04, ek, ekl);
    if (e == BO_E_OK)
        e = bo__der_wrap(ri, 0, 0x30);
    return e;
}

/* KARI, ephemeral-static ECDH (RFC 5753 §3.1.1) with dhSinglePass-stdDH-sha256kdf-scheme and
 * id-aes256-wrap, no ukm: as `openssl cms -encrypt -recip ec.pem -keyopt ecdh_kdf_md:sha256`. */
static bo_err make_kari(X509 *cert, EVP_PKEY *pub, const bo_secret *cek, bo_buf *ri)
{
    bo_err e = BO_E_INTERNAL;
    EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY_CTX *dc = eph ? EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL) : NULL;
    unsigned char *point = NULL;
    size_t pl = eph ? EVP_PKEY_get1_encoded_public_key(eph, &point) : 0;
    uint8_t z[66], kek[32], wrapped[64];
    size_t zl = 0, wl = 0;
    bool ok = dc && pl > 0 && pl < 100 && EVP_PKEY_derive_init(dc) > 0 &&
              EVP_PKEY_derive_set_peer(dc, pub) > 0 && EVP_PKEY_derive(dc, NULL, &zl) > 0 &&
              zl <= sizeof z && EVP_PKEY_derive(dc, z, &zl) > 0;
    static const uint8_t wrap_alg[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                       0x65, 0x03, 0x04, 0x01, 0x2d};
    bo__tlv wa = {0x30, wrap_alg + 2, sizeof wrap_alg - 2, wrap_alg, sizeof wrap_alg};
    ok = ok && bo__kari_kek("SHA256", z, zl, &wa, NULL, false, 32, kek) &&
         bo__aes_wrap("AES-256-WRAP", kek, true, bo_secret_cdata(cek), bo_secret_len(cek),
                      wrapped, &wl);
    OPENSSL_cleanse(z, sizeof z);
    OPENSSL_cleanse(kek, sizeof kek);
    if (ok) {
        static const uint8_t v3[] = {0x02, 0x01, 0x03};
        e = bo_buf_append(ri, v3, sizeof v3);
        /* originator [0] { originatorKey [1] { AlgId id-ecPublicKey, BIT STRING point } } */
        size_t o = ri->len;
        if (e == BO_E_OK)
            e = bo__der_put_oid(ri, &BO__OID_EC_PUBKEY);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, o, 0x30);
        size_t bs = ri->len;
        static const uint8_t zero = 0;
        if (e == BO_E_OK)
            e = bo_buf_append(ri, &zero, 1);
        if (e == BO_E_OK)
            e = bo_buf_append(ri, point, pl);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, bs, 0x03);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, o, 0xa1);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, o, 0xa0);
        /* keyEncryptionAlgorithm */
        size_t k = ri->len;
        if (e == BO_E_OK)
            e = bo__der_put_oid(ri, &BO__OID_ECDH_SHA256KDF);
        if (e == BO_E_OK)
            e = bo_buf_append(ri, wrap_alg, sizeof wrap_alg);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, k, 0x30);
        /* recipientEncryptedKeys */
        size_t r = ri->len;
        if (e == BO_E_OK)
            e = bo__der_put_issuer_serial(ri, cert);
        if (e == BO_E_OK)
            e = bo__der_put(ri, 0x04, wrapped, wl);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, r, 0x30);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, r, 0x30);
        if (e == BO_E_OK)
            e = bo__der_wrap(ri, 0, 0xa1);
    }
    OPENSSL_free(point);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(eph);
    ERR_clear_error();
    return e;
}

static bo_err make_ri(const bo_bytes *c, bo_seal_rsa pad, const bo_secret *cek, bo_buf *ri,
                      bool *v0, char *detail, size_t n)
{
    X509 *x = bo__crypto_x509_from_der(c->p, c->len);
    if (!x)
        return bo__crypto_fail(BO_E_CERT_INVALID, detail, n,
                               "a recipient certificate does not parse");
    EVP_PKEY *pub = X509_get0_pubkey(x);
    int bits = 0;
    bo_keyalg alg = pub ? bo__crypto_pkey_alg(pub, &bits) : BO_KEY_OTHER;
    bo_err e;
    if ((alg == BO_KEY_RSA && bits >= 2048 && bits <= 8192) || alg == BO_KEY_SM2) {
        e = make_ktri(x, pub, alg == BO_KEY_SM2, pad, cek, ri);
        *v0 = true;
    } else if (alg == BO_KEY_EC_P256) {
        e = make_kari(x, pub, cek, ri);
        *v0 = false;
    } else {
        e = bo__crypto_fail(BO_E_UNSUPPORTED_KEY, detail, n,
                            "a recipient certificate has a %s key: only RSA 2048..8192, "
                            "EC P-256 and SM2 can receive sealed bids",
                            bo_keyalg_name(alg));
    }
    X509_free(x);
    ERR_clear_error();
    return e;
}

/* DER SET OF: elements in ascending order of their encodings. */
static int blob_cmp(const void *a, const void *b)
{
    const bo_bytes *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, m);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* ---- header ---------------------------------------------------------------------------------- */

static bo_err put_content_alg(bo_buf *b, bo_seal_cipher c, const uint8_t *iv)
{
    bo_err e = bo__der_put_oid(b, c == BO_SEAL_AES256_GCM ? &BO__OID_AES256_GCM
                                                          : &BO__OID_AES256_CBC);
    if (e != BO_E_OK)
        return e;
    if (c == BO_SEAL_AES256_CBC)
        return bo__der_put(b, 0x04, iv, CBC_IV);
    /* GCMParameters { aes-nonce OCTET STRING (12), aes-ICVlen 16 } */
    size_t p = b->len;
    static const uint8_t icv[] = {0x02, 0x01, GCM_TAG};
    e = bo__der_put(b, 0x04, iv, GCM_NONCE);
    if (e == BO_E_OK)
        e = bo_buf_append(b, icv, sizeof icv);
    if (e == BO_E_OK)
        e = bo__der_wrap(b, p, 0x30);
    return e;
}

static uint64_t tlv_len(uint64_t content)
{
    return bo__der_hdr_len(content) + content;
}

static bo_err put_hdr(bo_buf *b, uint8_t tag, bool der, uint64_t len)
{
    if (!der) {
        uint8_t h[2] = {tag, 0x80};
        return bo_buf_append(b, h, 2);
    }
    uint8_t h[10];
    return bo_buf_append(b, h, bo__der_hdr(h, tag, len));
}

/* ContentInfo .. up to the content octets of encryptedContent. */
static bo_err build_header(bo_seal *s, const bo_buf *ris, bool all_v0, const uint8_t *iv,
                           bo_buf *h)
{
    bool gcm = s->cipher == BO_SEAL_AES256_GCM;
    const bo__oid *ct = gcm ? &BO__OID_AUTH_ENVELOPED : &BO__OID_ENVELOPED;
    bo_buf alg;
    bo_buf_init(&alg, 128);
    bo_err e = put_content_alg(&alg, s->cipher, iv);
    e = e == BO_E_OK ? bo__der_wrap(&alg, 0, 0x30) : e;
    uint64_t ct_len = 0, eci = 0, aed = 0, a0 = 0, ci = 0;
    if (s->der) {
        ct_len = gcm ? s->content_len : (s->content_len / 16 + 1) * 16;
        eci = tlv_len(BO__OID_DATA.len) + alg.len + tlv_len(ct_len);
        aed = 3 + ris->len + tlv_len(eci) + (gcm ? 2 + GCM_TAG : 0);
        a0 = tlv_len(aed);               /* content of [0]: the (Auth)EnvelopedData */
        ci = tlv_len(ct->len) + tlv_len(a0);
    }
    uint8_t ver[] = {0x02, 0x01, (uint8_t)(gcm || all_v0 ? 0 : 2)};
    if (e == BO_E_OK)
        e = put_hdr(h, 0x30, s->der, ci);
    if (e == BO_E_OK)
        e = bo__der_put_oid(h, ct);
    if (e == BO_E_OK)
        e = put_hdr(h, 0xa0, s->der, a0);
    if (e == BO_E_OK)
        e = put_hdr(h, 0x30, s->der, aed);
    if (e == BO_E_OK)
        e = bo_buf_append(h, ver, sizeof ver);
    if (e == BO_E_OK)
        e = bo_buf_append(h, ris->data, ris->len);
    if (e == BO_E_OK)
        e = put_hdr(h, 0x30, s->der, eci);
    if (e == BO_E_OK)
        e = bo__der_put_oid(h, &BO__OID_DATA);
    if (e == BO_E_OK)
        e = bo_buf_append(h, alg.data, alg.len);
    if (e == BO_E_OK)
        e = s->der ? put_hdr(h, 0x80, true, ct_len) : put_hdr(h, 0xa0, false, 0);
    bo_buf_cleanup(&alg);
    return e;
}

/* ---- the seal -------------------------------------------------------------------------------- */

/* The opening id as in protocol.md: [A-Za-z0-9._-]{1,64}. */
static bool oid_ok(const char *s)
{
    size_t l = s ? strnlen(s, 65) : 0;
    if (l == 0 || l > 64)
        return false;
    for (size_t i = 0; i < l; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

void bo_seal_free(bo_seal *s)
{
    if (!s)
        return;
    EVP_CIPHER_CTX_free(s->ctx);
    bo_secret_free(s->cek);
    OPENSSL_free(s->stage);
    bo_sha256_free(s->sha);
    bo_blob_list_cleanup(&s->ri);
    OPENSSL_free(s);
}

void bo_seal_result_cleanup(bo_seal_result *res)
{
    if (!res)
        return;
    bo_blob_list_cleanup(&res->ri);
    memset(&res->record, 0, sizeof res->record);
}

static bo_err start_cipher(bo_seal *s, const uint8_t *iv)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, s->cipher == BO_SEAL_AES256_GCM ? "AES-256-GCM"
                                                                             : "AES-256-CBC",
                                     NULL);
    s->ctx = EVP_CIPHER_CTX_new();
    bool ok = c && s->ctx && EVP_EncryptInit_ex2(s->ctx, c, NULL, NULL, NULL) > 0;
    if (ok && s->cipher == BO_SEAL_AES256_GCM)
        ok = EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_IVLEN, GCM_NONCE, NULL) > 0;
    ok = ok && EVP_EncryptInit_ex2(s->ctx, NULL, bo_secret_cdata(s->cek), iv, NULL) > 0;
    EVP_CIPHER_free(c);
    ERR_clear_error();
    return ok ? BO_E_OK : BO_E_INTERNAL;
}

bo_seal *bo_seal_new(const bo_seal_opts *o, const bo_bytes *certs, size_t n_certs, bo_write_fn out,
                     void *ud, bo_err *err, char *detail, size_t n)
{
    if (!o || !out || !certs || n_certs == 0 || n_certs > BO_SEAL_MAX_RECIPIENTS ||
        !oid_ok(o->oid) || !bo_uscc_valid(o->uscc) ||
        (o->cipher != BO_SEAL_AES256_GCM && o->cipher != BO_SEAL_AES256_CBC) ||
        (o->rsa_padding != BO_SEAL_RSA_OAEP_SHA256 && o->rsa_padding != BO_SEAL_RSA_PKCS1) ||
        (o->cek && bo_secret_len(o->cek) != BO_CEK_LEN) ||
        (o->der && o->content_len > BO_PACKAGE_TOTAL_MAX)) {
        *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad sealing options");
        return NULL;
    }
    bo_err e = BO_E_OK;
    bo_seal *s = OPENSSL_zalloc(sizeof(*s));
    if (!s) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    s->out = out;
    s->ud = ud;
    s->cipher = o->cipher;
    s->der = o->der ? 1 : 0;
    s->content_len = o->content_len;
    s->stage = OPENSSL_malloc(STAGE);
    s->sha = bo_sha256_new(&e);
    s->cek = o->cek ? bo_secret_from(bo_secret_cdata(o->cek), BO_CEK_LEN, &e)
                    : bo_secret_new(BO_CEK_LEN, &e);
    if (!s->stage || !s->sha || !s->cek)
        e = BO_E_NOMEM;
    if (e == BO_E_OK && !o->cek)
        e = bo_random_bytes(bo_secret_data(s->cek), BO_CEK_LEN);
    snprintf(s->rec.oid, sizeof s->rec.oid, "%s", o->oid);
    snprintf(s->rec.uscc, sizeof s->rec.uscc, "%s", o->uscc);
    if (e == BO_E_OK)
        e = bo_cek_commitment(s->cek, o->oid, o->uscc, s->rec.commitment);

    /* RecipientInfos */
    bo_buf ris;
    bo_buf_init(&ris, HEADER_MAX);
    bo_bytes sorted[BO_SEAL_MAX_RECIPIENTS];
    bool all_v0 = true;
    for (size_t i = 0; e == BO_E_OK && i < n_certs; i++) {
        bo_buf ri;
        bo_buf_init(&ri, BO__RI_MAX_LEN);
        bool v0 = false;
        e = make_ri(&certs[i], o->rsa_padding, s->cek, &ri, &v0, detail, n);
        all_v0 = all_v0 && v0;
        if (e == BO_E_OK)
            e = bo_blob_list_push(&s->ri, ri.data, ri.len);
        bo_buf_cleanup(&ri);
    }
    if (e == BO_E_OK) {
        for (size_t i = 0; i < n_certs; i++)
            sorted[i] = s->ri.list.v[i];
        qsort(sorted, n_certs, sizeof sorted[0], blob_cmp);
        for (size_t i = 0; e == BO_E_OK && i < n_certs; i++)
            e = bo_buf_append(&ris, sorted[i].p, sorted[i].len);
        if (e == BO_E_OK)
            e = bo__der_wrap(&ris, 0, 0x31);
        bo_sha256(s->ri.list.v[0].p, s->ri.list.v[0].len, s->rec.ri_sha256);
    }

    uint8_t iv[CBC_IV];
    if (e == BO_E_OK)
        e = bo_random_bytes(iv, sizeof iv);
    if (e == BO_E_OK)
        e = start_cipher(s, iv);
    bo_buf h;
    bo_buf_init(&h, HEADER_MAX + 256);
    if (e == BO_E_OK)
        e = build_header(s, &ris, all_v0, iv, &h);
    if (e == BO_E_OK)
        e = emit(s, h.data, h.len);
    bo_buf_cleanup(&h);
    bo_buf_cleanup(&ris);
    if (e != BO_E_OK) {
        bo_seal_free(s);
        *err = e;
        return NULL;
    }
    return s;
}

static bo_err flush(bo_seal *s)
{
    if (!s->staged)
        return BO_E_OK;
    bo_err e = BO_E_OK;
    if (!s->der) {
        uint8_t h[10];
        e = emit(s, h, bo__der_hdr(h, 0x04, s->staged));
    }
    if (e == BO_E_OK)
        e = emit(s, s->stage, s->staged);
    s->staged = 0;
    return e;
}

bo_err bo_seal_update(bo_seal *s, const void *p, size_t len)
{
    if (s->dead)
        return BO_E_INVALID_ARG;
    if (s->der && (len > s->content_len || s->in_total > s->content_len - len)) {
        s->dead = true;
        return BO_E_INVALID_ARG;
    }
    const uint8_t *q = p;
    bo_err e = BO_E_OK;
    while (e == BO_E_OK && len) {
        size_t take = len < SEG ? len : SEG;
        int cl = 0;
        if (EVP_EncryptUpdate(s->ctx, s->stage + s->staged, &cl, q, (int)take) <= 0) {
            ERR_clear_error();
            e = BO_E_INTERNAL;
            break;
        }
        s->staged += (size_t)cl;
        s->in_total += take;
        q += take;
        len -= take;
        if (s->staged >= SEG)
            e = flush(s);
    }
    if (e != BO_E_OK)
        s->dead = true;
    return e;
}

bo_err bo_seal_finish(bo_seal *s, bo_seal_result *res)
{
    if (s->dead)
        return BO_E_INVALID_ARG;
    s->dead = true;
    if (s->der && s->in_total != s->content_len)
        return BO_E_INVALID_ARG;
    int cl = 0;
    if (EVP_EncryptFinal_ex(s->ctx, s->stage + s->staged, &cl) <= 0) {
        ERR_clear_error();
        return BO_E_INTERNAL;
    }
    s->staged += (size_t)cl;
    bo_err e = flush(s);
    static const uint8_t eoc2[4] = {0};
    if (e == BO_E_OK && !s->der)
        e = emit(s, eoc2, 4); /* end of [0] encryptedContent and of EncryptedContentInfo */
    if (e == BO_E_OK && s->cipher == BO_SEAL_AES256_GCM) {
        uint8_t mac[2 + GCM_TAG] = {0x04, GCM_TAG};
        if (EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG, mac + 2) <= 0) {
            ERR_clear_error();
            e = BO_E_INTERNAL;
        }
        if (e == BO_E_OK)
            e = emit(s, mac, sizeof mac);
    }
    static const uint8_t eoc3[6] = {0};
    if (e == BO_E_OK && !s->der)
        e = emit(s, eoc3, 6); /* end of (Auth)EnvelopedData, [0], ContentInfo */
    if (e != BO_E_OK)
        return e;
    bo_sha256_final(s->sha, s->rec.env_sha256);
    memset(res, 0, sizeof(*res));
    res->record = s->rec;
    res->ri = s->ri;
    memset(&s->ri, 0, sizeof s->ri);
    return BO_E_OK;
}

/* ---- files --------------------------------------------------------------------------------- */

static bo_err seal_to_partial(bo_seal_opts *o, const bo_bytes *certs, size_t n_certs,
                              const char *out_path, bo_err (*feed)(bo_seal *, void *, char *,
                                                                   size_t),
                              void *feed_ud, bo_seal_result *res, char *detail, size_t n)
{
    bo__partial pt;
    bo_err e = bo__partial_open(&pt, out_path);
    if (e != BO_E_OK)
        return bo__crypto_fail(e, detail, n, "cannot create %s.partial", out_path);
    bo_seal *s = bo_seal_new(o, certs, n_certs, bo__fd_write, &pt.fd, &e, detail, n);
    if (s)
        e = feed(s, feed_ud, detail, n);
    if (s && e == BO_E_OK)
        e = bo_seal_finish(s, res);
    if (e == BO_E_OK && (e = bo__partial_commit(&pt, out_path)) != BO_E_OK) {
        bo__crypto_fail(e, detail, n, "cannot write %s", out_path);
        bo_seal_result_cleanup(res);
    }
    if (e != BO_E_OK)
        bo__partial_abort(&pt);
    bo_seal_free(s);
    return e;
}

static bo_err feed_fd(bo_seal *s, void *ud, char *detail, size_t n)
{
    int fd = *(int *)ud;
    uint8_t *buf = OPENSSL_malloc(SEG);
    bo_err e = buf ? BO_E_OK : BO_E_NOMEM;
    while (e == BO_E_OK) {
        size_t got = 0;
        if ((e = bo__fd_read(&fd, buf, SEG, &got)) != BO_E_OK)
            bo__crypto_fail(e, detail, n, "cannot read the input");
        if (e != BO_E_OK || got == 0)
            break;
        e = bo_seal_update(s, buf, got);
    }
    OPENSSL_clear_free(buf, SEG);
    return e;
}

bo_err bo_seal_file(const char *in_path, const char *out_path, const bo_seal_opts *o,
                    const bo_bytes *certs, size_t n_certs, bo_seal_result *res, char *detail,
                    size_t n)
{
    int fd = in_path ? open(in_path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return bo__crypto_fail(BO_E_IO, detail, n, "cannot open %s", in_path ? in_path : "");
    }
    bo_seal_opts oo = o ? *o : (bo_seal_opts){0};
    if (oo.der)
        oo.content_len = (uint64_t)st.st_size;
    bo_err e = seal_to_partial(&oo, certs, n_certs, out_path, feed_fd, &fd, res, detail, n);
    close(fd);
    return e;
}

static bo_err seal_write(void *ud, const uint8_t *p, size_t n)
{
    return bo_seal_update(ud, p, n);
}

static bo_err feed_package(bo_seal *s, void *ud, char *detail, size_t n)
{
    return bo_package_emit(ud, seal_write, s, detail, n);
}

bo_err bo_seal_package(const bo_package_spec *spec, const bo_key *sign_key,
                       const bo_seal_opts *o, const bo_bytes *certs, size_t n_certs,
                       const char *out_path, bo_seal_result *res, char *detail, size_t n)
{
    bo_err e = BO_E_OK;
    bo_package *p = bo_package_prepare(spec, sign_key, &e, detail, n);
    if (!p)
        return e;
    bo_seal_opts oo = o ? *o : (bo_seal_opts){0};
    if (oo.der)
        oo.content_len = bo_package_size(p);
    e = seal_to_partial(&oo, certs, n_certs, out_path, feed_package, p, res, detail, n);
    bo_package_free(p);
    return e;
}
