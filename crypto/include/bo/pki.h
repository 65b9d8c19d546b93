/* bidopen: a throwaway PKI for tests and the demo (`bidopen pki`).
 *
 * Root and intermediate CAs in RSA-2048, EC P-256, SM2 or Ed25519; leaves with the key
 * usages of Chinese dual certificates (signing: digitalSignature + nonRepudiation;
 * encryption: keyEncipherment + dataEncipherment for RSA/SM2, keyAgreement for EC), TLS
 * server and client certificates, revocation and CRLs. SM2 certificates and CRLs are signed
 * with SM3 and the GM/T 0009 distinguishing ID 1234567812345678 (like `openssl x509 -sigopt
 * distid:1234567812345678`), as real Chinese CAs do. Nothing here is meant for production
 * keys: private keys are written unencrypted unless a password is given.
 */
#ifndef BO_PKI_H
#define BO_PKI_H

#include <stdint.h>

#include "bo/buf.h"
#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/err.h"
#include "bo/sign.h"

/* Subject fields (UTF-8; NULL = absent). */
typedef struct bo_pki_name {
    const char *c;
    const char *st;
    const char *l;
    const char *o;
    const char *ou;
    const char *cn;
    const char *serial_number; /* the subject serialNumber attribute */
} bo_pki_name;

typedef struct bo_pki_ca bo_pki_ca;

/** A self-signed root CA with a fresh key (BO_KEY_OTHER is refused).
 * Errors: NULL with *err = BO_E_INVALID_ARG, BO_E_INTERNAL, BO_E_NOMEM.
 * Ownership: bo_pki_ca_free. Context: any thread (one CA is used by one thread at a time). */
bo_pki_ca *bo_pki_ca_root(const bo_pki_name *subj, bo_keyalg alg, bo_time_ms not_before,
                          bo_time_ms not_after, bo_err *err);

/** An intermediate CA issued by parent (which may itself be an intermediate). The new CA
 * copies what it needs: parent may be freed first. Errors and ownership as bo_pki_ca_root. */
bo_pki_ca *bo_pki_ca_intermediate(bo_pki_ca *parent, const bo_pki_name *subj, bo_keyalg alg,
                                  bo_time_ms not_before, bo_time_ms not_after, bo_err *err);

/** Free a CA (its key is wiped by OpenSSL). Accepts NULL. Context: any thread. */
void bo_pki_ca_free(bo_pki_ca *ca);

/** The CA's own certificate as DER. Ownership: borrowed, valid until bo_pki_ca_free.
 * Context: any thread. */
const uint8_t *bo_pki_ca_cert_der(const bo_pki_ca *ca, size_t *len);

/** Append the CA's certificate as PEM. Errors: those of bo_buf_append.
 * Ownership: out is the caller's. Context: any thread. */
bo_err bo_pki_ca_cert_pem(const bo_pki_ca *ca, bo_buf *out);

/** Append what a leaf's chain file carries after the leaf: this CA's certificate and its
 * parents', root excluded (nothing for a root). Errors: those of bo_buf_append.
 * Ownership: out is the caller's. Context: any thread. */
bo_err bo_pki_ca_chain_pem(const bo_pki_ca *ca, bo_buf *out);

/* Usage flags for leaves (combine freely). */
#define BO_PKI_SIGN 1u       /* digitalSignature, nonRepudiation */
#define BO_PKI_ENC 2u        /* keyEncipherment + dataEncipherment (RSA, SM2) / keyAgreement (EC) */
#define BO_PKI_TLS_SERVER 4u /* digitalSignature (+keyEncipherment for RSA), EKU serverAuth,
                                SAN DNS:localhost, IP:127.0.0.1, IP:::1 */
#define BO_PKI_TLS_CLIENT 8u /* digitalSignature, EKU clientAuth */
#define BO_PKI_NO_KU 16u     /* tests: no keyUsage extension at all */

typedef struct bo_pki_leaf_opts {
    bo_keyalg alg;          /* BO_KEY_OTHER: a P-384 key, which bidopen refuses (tests) */
    bo_pki_name subj;
    const char *uscc;       /* if set: written to uscc_attr (overrides subj.serial_number) */
    const char *uscc_attr;  /* "serialNumber" (NULL), "OU", "organizationIdentifier", or a
                               dotted OID (then as a subject attribute) */
    unsigned usage;         /* BO_PKI_* */
    bo_time_ms not_before;
    bo_time_ms not_after;
    uint64_t serial;        /* 0: the CA's next serial */
    const char *key_pass;   /* encrypt key_pem (PKCS#8, AES-256-CBC) with this password */
} bo_pki_leaf_opts;

/** Issue a leaf with a fresh key. key_pem (may be NULL) gets the private key, cert_pem the
 * leaf certificate followed by bo_pki_ca_chain_pem (a ready chain file); serial_out (may be
 * NULL) the serial number used.
 * Errors: BO_E_INVALID_ARG (bad name, usage or USCC attribute; ENC with an Ed25519 key),
 * BO_E_INTERNAL, those of bo_buf_append. Ownership: key_pem holds a secret (wipe it).
 * Context: any thread, one CA per thread. */
bo_err bo_pki_issue(bo_pki_ca *ca, const bo_pki_leaf_opts *o, bo_buf *key_pem,
                    bo_buf *cert_pem, uint64_t *serial_out);

/** Put a serial on the CA's revocation list (effective at `when`); the next bo_pki_crl
 * lists it. Errors: BO_E_NOMEM, BO_E_TOO_BIG (more than 10,000 revocations).
 * Context: the thread using ca. */
bo_err bo_pki_revoke(bo_pki_ca *ca, uint64_t serial, bo_time_ms when);

/** Append a CRL (PEM, v2, with CRL number and authority key id) listing every revoked
 * serial. Errors: BO_E_INTERNAL, those of bo_buf_append. Ownership: pem is the caller's.
 * Context: the thread using ca. */
bo_err bo_pki_crl(bo_pki_ca *ca, bo_time_ms this_update, bo_time_ms next_update, bo_buf *pem);

/** Append a PKCS#12 file (AES-256-CBC, PBKDF2, HMAC-SHA256 MAC) holding the key in key_pem
 * (unencrypted PEM) and the certificates in chain_pem (leaf first), protected by pass.
 * Errors: BO_E_INVALID_ARG (unreadable PEM), BO_E_INTERNAL, those of bo_buf_append.
 * Ownership: out is the caller's. Context: any thread. */
bo_err bo_pki_pkcs12(const bo_buf *key_pem, const bo_buf *chain_pem, const char *pass,
                     const char *friendly_name, bo_buf *out);

/** Write the demo and integration-test PKI under dir (created if missing; existing files
 * are overwritten). Layout: crypto/README.md. Everything is valid around `now`.
 * Errors: BO_E_IO (cannot write; detail names the path), BO_E_INTERNAL.
 * Context: any thread; takes a few seconds (RSA key generation). */
bo_err bo_pki_write_demo(const char *dir, bo_time_ms now, char *detail, size_t n);

#endif
