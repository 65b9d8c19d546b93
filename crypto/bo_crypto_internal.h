/* bidopen crypto/: helpers shared by the files of this layer (not a public header). */
#ifndef BO_CRYPTO_INTERNAL_H
#define BO_CRYPTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/err.h"

/* GM/T 0009 default distinguishing ID for SM2 (OpenSSL 3.0's default is the empty ID). */
#define BO__SM2_ID "1234567812345678"
#define BO__SM2_ID_LEN 16

/* Parse exactly one DER certificate (no trailing bytes, at most BO_CERT_MAX_DER) and set the
 * SM2 distinguishing ID on it when it is SM2-signed. NULL on failure (error queue cleared). */
X509 *bo__crypto_x509_from_der(const uint8_t *der, size_t len);

/* Set the SM2 distinguishing ID on a certificate whose signature algorithm is SM2-with-SM3,
 * so that X509_verify / X509_verify_cert check the issuer's signature with the right Z.
 * Returns false on allocation failure. Must run before the X509 is shared between threads. */
bool bo__crypto_x509_fix_sm2(X509 *x);

/* Set the distinguishing ID on an SM2 signing/verifying context: after *Init, before data. */
bool bo__crypto_pctx_set_sm2_id(EVP_PKEY_CTX *pctx);

/* Classify a key; *bits gets the size (may be NULL). */
bo_keyalg bo__crypto_pkey_alg(const EVP_PKEY *pk, int *bits);

/* Whether bidopen accepts this key for identities and signatures: RSA 2048..8192,
 * EC P-256, SM2, Ed25519. */
bool bo__crypto_pkey_supported(const EVP_PKEY *pk);

/* ASN1_TIME to ms since the epoch; 0 if unparsable. */
bo_time_ms bo__crypto_asn1_time_ms(const ASN1_TIME *t);

/* "2026-10-01T00:00:00Z" (seconds). out needs 21 bytes. */
char *bo__crypto_time_str(bo_time_ms t, char *out, size_t n);

/* First entry of nid in a name as UTF-8 into out ("" if absent). Returns false if absent. */
bool bo__crypto_name_get(const X509_NAME *nm, int nid, char *out, size_t n);

/* The whole name, RFC 2253 style, UTF-8. */
void bo__crypto_name_oneline(const X509_NAME *nm, char *out, size_t n);

/* Copy UTF-8 src into out (n bytes incl. NUL), cutting on a character boundary. */
void bo__crypto_utf8_copy(char *out, size_t n, const char *src, size_t len);

/* Write a formatted sentence into detail (if detail && n) and return err. */
bo_err bo__crypto_fail(bo_err err, char *detail, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* bo_key internals (bo_sign.c), shared with bo_pki.c and bo_identity.c. */
struct bo_key;
EVP_PKEY *bo__key_pkey(const struct bo_key *k);
/* Wrap a key; takes ownership of pk (freed on failure). NULL with *err on failure. */
struct bo_key *bo__key_wrap(EVP_PKEY *pk, bo_err *err);

/* Initialise md for signing with pk the bidopen way: SHA-256 (RSA PKCS#1 v1.5, ECDSA), SM3
 * with the GM/T 0009 ID (SM2), none (Ed25519). Used for certificates and CRLs too. */
bool bo__crypto_sign_init(EVP_MD_CTX *md, EVP_PKEY *pk);

/* Append ": <first OpenSSL error reason>" to detail if there is one, then clear the queue. */
void bo__crypto_ossl_reason(char *detail, size_t n);

#endif
