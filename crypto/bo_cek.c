/* The CEK: key commitment, and the client-side unwrap from one RecipientInfo with public
 * OpenSSL API only (research/crypto.md §1.3). */
#include "bo/cek.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "bo/hash.h"
#include "bo_cms_internal.h"
#include "bo_crypto_internal.h"

#define NAME_MAX_LEN 64u

bo_err bo_cek_commitment(const bo_secret *cek, const char *oid, const char *uscc,
                         uint8_t out[32])
{
    if (!cek || bo_secret_len(cek) != BO_CEK_LEN)
        return BO_E_CEK_INVALID;
    size_t ol = oid ? strnlen(oid, NAME_MAX_LEN + 1) : 0;
    size_t ul = uscc ? strnlen(uscc, NAME_MAX_LEN + 1) : 0;
    if (ol == 0 || ol > NAME_MAX_LEN || ul == 0 || ul > NAME_MAX_LEN)
        return BO_E_INVALID_ARG;
    uint8_t msg[sizeof(BO_CEK_COMMIT_LABEL) + 2 * NAME_MAX_LEN + 2];
    size_t l = 0;
    memcpy(msg, BO_CEK_COMMIT_LABEL, sizeof(BO_CEK_COMMIT_LABEL) - 1);
    l += sizeof(BO_CEK_COMMIT_LABEL) - 1;
    msg[l++] = 0;
    memcpy(msg + l, oid, ol);
    l += ol;
    msg[l++] = 0;
    memcpy(msg + l, uscc, ul);
    l += ul;
    return bo_hmac_sha256(bo_secret_cdata(cek), BO_CEK_LEN, msg, l, out);
}

bo_err bo_cek_commitment_check(const bo_secret *cek, const char *oid, const char *uscc,
                               const uint8_t expected[32])
{
    uint8_t got[32];
    bo_err e = bo_cek_commitment(cek, oid, uscc, got);
    if (e == BO_E_OK && !bo_ct_equal(got, expected, 32))
        e = BO_E_COMMITMENT_MISMATCH;
    OPENSSL_cleanse(got, sizeof got);
    return e;
}

/* ---- unwrap ---------------------------------------------------------------------------------- */

/* RSA with the RecipientInfo's padding, or SM2 (GM/T 0009 ciphertext, SM3; OpenSSL checks C3
 * and refuses a plaintext longer than the buffer, so max only has to hold the CEK and a bit). */
static bool ktri_decrypt(const bo__ri *ri, EVP_PKEY *pk, bo_secret *cek)
{
    size_t max = ri->sm2 ? 2 * BO_CEK_LEN : (size_t)EVP_PKEY_get_size(pk);
    if (max == 0 || max > 1024)
        return false;
    uint8_t *out = OPENSSL_secure_zalloc(max);
    size_t outl = max;
    EVP_PKEY_CTX *pc = out ? EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL) : NULL;
    bool ok = pc && EVP_PKEY_decrypt_init(pc) > 0;
    if (ok && !ri->sm2 && !ri->oaep)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0;
    else if (ok && !ri->sm2) /* EVP_MD objects: the *_md_name setters fail on legacy (ENGINE)
                                 keys in 3.0 */
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_get_digestbyname(ri->oaep_md)) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_get_digestbyname(ri->mgf1_md)) > 0;
    ok = ok && EVP_PKEY_decrypt(pc, out, &outl, ri->ek.val, ri->ek.len) > 0;
    /* One result for every failure, and the length check folded in without a branch on the
     * padding outcome's details. */
    ok = ok && outl == BO_CEK_LEN;
    if (ok)
        memcpy(bo_secret_data(cek), out, BO_CEK_LEN);
    EVP_PKEY_CTX_free(pc);
    OPENSSL_secure_clear_free(out, max);
    ERR_clear_error();
    return ok;
}

static bool kari_decrypt(const bo__ri *ri, const bo__rek *rek, EVP_PKEY *pk, EVP_PKEY *cert_pub,
                         bo_secret *cek)
{
    /* OpenSSL writes the originator key without curve parameters: take them from our own
     * certificate (not from the private key, which may live in a token). */
    EVP_PKEY *peer = EVP_PKEY_new();
    bool ok = peer && EVP_PKEY_copy_parameters(peer, cert_pub) > 0 &&
              EVP_PKEY_set1_encoded_public_key(peer, ri->orig_pub.val, ri->orig_pub.len) > 0;
    EVP_PKEY_CTX *dc = ok ? EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL) : NULL;
    uint8_t z[132], kek[32], out[72];
    size_t zl = 0, outl = 0;
    /* Ask for the length first: a token told an oversized length fails (research §1.3). */
    ok = ok && dc && EVP_PKEY_derive_init(dc) > 0 && EVP_PKEY_derive_set_peer(dc, peer) > 0 &&
         EVP_PKEY_derive(dc, NULL, &zl) > 0 && zl > 0 && zl <= sizeof z &&
         EVP_PKEY_derive(dc, z, &zl) > 0;
    ok = ok && bo__kari_kek(ri->kdf_md, z, zl, &ri->wrap_alg, &ri->ukm, ri->has_ukm, ri->kek_len,
                            kek);
    ok = ok && rek->ek.len <= sizeof out - 8 &&
         bo__aes_wrap(ri->wrap_cipher, kek, false, rek->ek.val, rek->ek.len, out, &outl);
    ok = ok && outl == BO_CEK_LEN;
    if (ok)
        memcpy(bo_secret_data(cek), out, BO_CEK_LEN);
    OPENSSL_cleanse(z, sizeof z);
    OPENSSL_cleanse(kek, sizeof kek);
    OPENSSL_cleanse(out, sizeof out);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(peer);
    ERR_clear_error();
    return ok;
}

bo_err bo_cek_unwrap(const uint8_t *ri_der, size_t ri_len, const bo_key *key,
                     const uint8_t *cert_der, size_t cert_len, bo_secret **cek)
{
    *cek = NULL;
    if (!key)
        return BO_E_INVALID_ARG;
    bo__ri *ri = OPENSSL_zalloc(sizeof(*ri));
    if (!ri)
        return BO_E_NOMEM;
    bo_err e = bo__ri_parse(ri_der, ri_len, ri);
    X509 *x = NULL;
    EVP_PKEY *pub = NULL;
    const bo__rek *rek = NULL;
    if (e == BO_E_OK && !(x = bo__crypto_x509_from_der(cert_der, cert_len)))
        e = BO_E_CERT_INVALID;
    if (e == BO_E_OK && !(pub = X509_get0_pubkey(x)))
        e = BO_E_CERT_INVALID;
    if (e == BO_E_OK && bo_key_matches_cert(key, cert_der, cert_len) != BO_E_OK)
        e = BO_E_RECIPIENT_MISMATCH;
    bo_keyalg alg = e == BO_E_OK ? bo_key_alg(key) : BO_KEY_OTHER;
    if (e == BO_E_OK && ri->kind == BO__RI_KTRI &&
        (alg != (ri->sm2 ? BO_KEY_SM2 : BO_KEY_RSA) || !bo__rid_matches(&ri->rid, x)))
        e = BO_E_RECIPIENT_MISMATCH;
    if (e == BO_E_OK && ri->kind == BO__RI_KARI) {
        for (size_t i = 0; i < ri->n_rek && !rek; i++)
            if (bo__rid_matches(&ri->rek[i].rid, x))
                rek = &ri->rek[i];
        if (alg != BO_KEY_EC_P256 || !rek)
            e = BO_E_RECIPIENT_MISMATCH;
    }
    bo_secret *out = NULL;
    if (e == BO_E_OK && !(out = bo_secret_new(BO_CEK_LEN, &e)))
        e = BO_E_NOMEM;
    if (e == BO_E_OK) {
        EVP_PKEY *pk = bo__key_pkey(key);
        bool ok = ri->kind == BO__RI_KTRI ? ktri_decrypt(ri, pk, out)
                                          : kari_decrypt(ri, rek, pk, pub, out);
        if (!ok)
            e = BO_E_UNWRAP_FAILED;
    }
    if (e == BO_E_OK) {
        *cek = out;
        out = NULL;
    }
    bo_secret_free(out);
    X509_free(x);
    OPENSSL_free(ri);
    ERR_clear_error();
    return e;
}
