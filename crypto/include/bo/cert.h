/* bidopen: X.509 certificates as DER blobs: PEM chain files, fingerprints, display fields.
 *
 * Everything above crypto/ handles certificates as DER bytes (bo_bytes, bo_blob_list); only
 * this layer parses them.
 */
#ifndef BO_CERT_H
#define BO_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/clock.h"
#include "bo/err.h"

/* Caps for certificate material read from files or the network. */
#define BO_CERT_MAX_DER (64u * 1024u)      /* one certificate */
#define BO_PEM_MAX_FILE (1024u * 1024u)    /* one PEM file */
#define BO_PEM_MAX_CERTS 16u               /* certificates in one chain file */

/* The key algorithms bidopen knows. BO_KEY_OTHER covers everything unsupported (RSA below
 * 2048 bits is still BO_KEY_RSA here; bo_identity_verify refuses it). */
typedef enum bo_keyalg {
    BO_KEY_RSA = 0,
    BO_KEY_EC_P256 = 1,
    BO_KEY_SM2 = 2,
    BO_KEY_ED25519 = 3,
    BO_KEY_OTHER = 4,
} bo_keyalg;

/** Stable lower-case name: "rsa", "p256", "sm2", "ed25519", "other". Never NULL.
 * Context: any thread. */
const char *bo_keyalg_name(bo_keyalg alg);

/** Parse a name from bo_keyalg_name (also "ec", "ecdsa", "rsa2048"). "other" is refused.
 * Errors: BO_E_INVALID_ARG. Context: any thread. */
bo_err bo_keyalg_parse(const char *name, bo_keyalg *out);

/** Read every certificate of a PEM file (blocks "CERTIFICATE"; other blocks such as keys are
 * skipped), as DER, in file order (a chain file has the leaf first).
 * Errors: BO_E_IO (cannot read), BO_E_TOO_BIG (file > BO_PEM_MAX_FILE or more than
 * BO_PEM_MAX_CERTS certificates), BO_E_CERT_INVALID (no certificate, or one that does not
 * parse), BO_E_NOMEM. On error *out is left empty.
 * Ownership: out must be zeroed by the caller, who frees it with bo_blob_list_cleanup.
 * Context: any thread (blocking file I/O). */
bo_err bo_pem_chain_load(const char *path, bo_blob_list *out);

/** Same as bo_pem_chain_load, from memory. Errors as above except BO_E_IO.
 * Ownership: as bo_pem_chain_load. Context: any thread. */
bo_err bo_pem_chain_parse(const void *pem, size_t len, bo_blob_list *out);

/** DER to PEM ("-----BEGIN CERTIFICATE-----" block) appended to out.
 * Errors: BO_E_CERT_INVALID, those of bo_buf_append. Ownership: out is the caller's.
 * Context: any thread. */
bo_err bo_cert_to_pem(const uint8_t *der, size_t len, bo_buf *out);

/** The fingerprint: SHA-256 over the DER as given (not re-encoded). Context: any thread. */
void bo_cert_fpr(const uint8_t *der, size_t len, uint8_t out[32]);

/* Fields of a certificate for display. Strings are UTF-8, NUL-terminated, "" when absent,
 * truncated on a character boundary when too long. */
typedef struct bo_cert_info {
    char cn[128];            /* subject commonName */
    char org[256];           /* subject organizationName */
    char ou[128];            /* first subject organizationalUnitName */
    char subject_serial[64]; /* subject serialNumber attribute (often the USCC) */
    char subject[512];       /* whole subject, RFC 2253 style */
    char issuer_cn[128];     /* issuer commonName */
    char issuer[512];        /* whole issuer, RFC 2253 style */
    char serial[65];         /* certificate serial number, upper-case hex, no separators */
    bo_time_ms not_before;
    bo_time_ms not_after;
    bo_keyalg alg;
    int key_bits;  /* RSA modulus size, 256 for P-256/SM2/Ed25519-equivalent, 0 unknown */
    int is_ca;     /* basicConstraints cA=TRUE */
} bo_cert_info;

/** Parse one DER certificate (the whole buffer must be the certificate) and fill *out.
 * Errors: BO_E_CERT_INVALID (not a certificate, trailing bytes, > BO_CERT_MAX_DER).
 * Ownership: out is the caller's. Context: any thread. */
bo_err bo_cert_describe(const uint8_t *der, size_t len, bo_cert_info *out);

#endif
