/* The fixed recipient of the envelope fuzz corpus, shared by fuzz_envelope.c and
 * gen_envelope_corpus.c so the fuzzer reaches the private-key paths: an EC P-256 key from a
 * fixed, public test scalar (never a real key), a certificate for it with a fixed name and
 * serial, signed by a fixed Ed25519 key (deterministic signatures: the certificate, and so its
 * fingerprint in the packages' manifests, is the same in every process), and the fixed CEK the
 * corpus envelopes are sealed with. */
#ifndef BO_ENVELOPE_FIXTURE_H
#define BO_ENVELOPE_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bo/secret.h"
#include "bo/sign.h"

static const uint8_t FX_CEK[32] = {0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                   0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                   0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                   0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};
#define FX_OID "op-fuzz"
#define FX_USCC "91350100M000100Y43"

/* ECPrivateKey { 1, scalar, [0] prime256v1 } (RFC 5915), the public key left to OpenSSL. */
static const uint8_t FX_EC_KEY[] = {
    0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20, 0x1b, 0x1d, 0x0f, 0x5e, 0x3c, 0x60, 0x77, 0x11,
    0x2a, 0x9d, 0x44, 0x5c, 0x0e, 0x7b, 0x31, 0x66, 0x29, 0x48, 0x73, 0x05, 0x5a, 0x12, 0x3e,
    0x21, 0x70, 0x0c, 0x1f, 0x6b, 0x58, 0x40, 0x4d, 0x37, 0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* The issuer's Ed25519 seed (a public test constant). */
static const uint8_t FX_ED_SEED[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
                                       0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
                                       0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
                                       0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};

typedef struct fx {
    bo_key *key;
    uint8_t *cert;
    size_t cert_len;
    bo_secret *cek;
} fx;

static inline int fx_init(fx *f)
{
    memset(f, 0, sizeof(*f));
    bo_err e = BO_E_OK;
    const unsigned char *p = FX_EC_KEY;
    EVP_PKEY *pk = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)sizeof FX_EC_KEY);
    if (!pk)
        return -1;
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"bidopen fuzz", -1,
                               -1, 0);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, nm);
    ASN1_TIME_set(X509_getm_notBefore(x), 1700000000);
    ASN1_TIME_set(X509_getm_notAfter(x), 2000000000);
    X509_set_pubkey(x, pk);
    EVP_PKEY *ed = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, FX_ED_SEED,
                                                sizeof FX_ED_SEED);
    if (!ed || X509_sign(x, ed, NULL) <= 0) {
        EVP_PKEY_free(ed);
        return -1;
    }
    EVP_PKEY_free(ed);
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    if (dl > 0) {
        f->cert = malloc((size_t)dl);
        memcpy(f->cert, der, (size_t)dl);
        f->cert_len = (size_t)dl;
    }
    OPENSSL_free(der);
    /* the same key as a bo_key, through PEM */
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
    char *pem = NULL;
    long pl = BIO_get_mem_data(b, &pem);
    f->key = bo_key_from_mem(pem, (size_t)pl, NULL, &e, NULL, 0);
    BIO_free(b);
    X509_NAME_free(nm);
    X509_free(x);
    EVP_PKEY_free(pk);
    f->cek = bo_secret_from(FX_CEK, sizeof FX_CEK, &e);
    return f->key && f->cert && f->cek ? 0 : -1;
}

static inline void fx_cleanup(fx *f)
{
    bo_key_free(f->key);
    free(f->cert);
    bo_secret_free(f->cek);
    memset(f, 0, sizeof(*f));
}

#endif
