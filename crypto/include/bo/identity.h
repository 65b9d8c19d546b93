/* bidopen: the trust store and the identity checks the server runs at sign-in
 * (docs/protocol.md §3).
 *
 * A trust store is a directory of CA certificates and CRLs, loaded once and read-only
 * afterwards, so any number of worker threads may call bo_identity_verify on it at once.
 * To pick up new CAs or fresh CRLs, load a new store and swap it in; threads still
 * verifying hold a reference (bo_trust_ref) and the old store goes away with the last one.
 */
#ifndef BO_IDENTITY_H
#define BO_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/bytes.h"
#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/err.h"

#define BO_CHAIN_MAX 4 /* certificates a client may send in one chain (leaf included) */

typedef struct bo_trust_opts {
    /* Directory of *.pem, *.crt, *.cer, *.der (certificates) and *.crl (CRLs, PEM or DER;
     * PEM files may mix certificates and "X509 CRL" blocks). Self-signed CA certificates
     * become trust anchors; other CA certificates only help build chains (they are not
     * trusted by themselves); non-CA certificates are ignored. */
    const char *dir;
    /* Where the USCC is: "serialNumber" (NULL means this), "OU", "organizationIdentifier",
     * or a dotted OID, looked up as a subject attribute first, then as an extension whose
     * value is a UTF8String, PrintableString or IA5String. */
    const char *uscc_attr;
    /* true (the default of BO_TRUST_OPTS_INIT): the leaf's issuing CA must have a current
     * CRL, else BO_E_CRL_UNAVAILABLE (an expired CRL counts as missing). false: missing or
     * stale CRLs are skipped; a CRL that is there still revokes. CRLs of the CAs higher up
     * are checked where present (and must then be current when crl_required). */
    bool crl_required;
} bo_trust_opts;

#define BO_TRUST_OPTS_INIT {NULL, "serialNumber", true}

typedef struct bo_trust bo_trust;

/** Load a trust store.
 * Errors: NULL with *err = BO_E_CONFIG (no directory, no trust anchor in it, unknown
 * uscc_attr, a file that cannot be parsed, an SM2 CRL whose signature does not verify),
 * BO_E_IO, BO_E_TOO_BIG (more than 4096 files or a file > 4 MiB), BO_E_NOMEM; detail gets a
 * sentence naming the file. Ownership: the caller owns one reference; bo_trust_free drops it.
 * Context: any thread (blocking file I/O; run it off the loop). */
bo_trust *bo_trust_load(const bo_trust_opts *o, bo_err *err, char *detail, size_t n);

/** Take another reference (for a worker that verifies while the store may be replaced).
 * Returns t. Context: any thread. */
bo_trust *bo_trust_ref(bo_trust *t);

/** Drop a reference; the last one frees the store. Accepts NULL. Context: any thread. */
void bo_trust_free(bo_trust *t);

typedef struct bo_trust_stats {
    size_t anchors;         /* self-signed CA certificates */
    size_t intermediates;   /* other CA certificates */
    size_t crls;
    size_t ignored;         /* non-CA certificates */
    size_t cas_without_crl; /* CAs for which no CRL was loaded */
} bo_trust_stats;

/** Counts for the start-up log. Context: any thread. */
void bo_trust_get_stats(const bo_trust *t, bo_trust_stats *out);

#define BO_ID_REQUIRE_USCC 1u /* bidders: the signing certificate must carry a valid USCC */

typedef struct bo_identity {
    uint8_t fpr[32];     /* SHA-256 of the signing certificate's DER */
    char uscc[19];       /* "" when absent (only without BO_ID_REQUIRE_USCC) */
    char org[256];       /* subject O, else CN */
    char person[128];    /* subject CN */
    char anchor[256];    /* subject of the trust anchor the chain ended at (RFC 2253) */
    bo_keyalg alg;       /* of the signing key */
    bo_time_ms not_after;
    uint8_t enc_fpr[32]; /* SHA-256 of the encryption certificate, when has_enc */
    bool has_enc;
    bo_keyalg enc_alg;
    bo_time_ms enc_not_after;
} bo_identity;

/** Verify a signing chain (leaf first, then intermediates; at most BO_CHAIN_MAX) and an
 * optional encryption chain (NULL or n == 0: none) at time `now`:
 *  - each chain ends at a trust anchor, every certificate is within its validity at `now`,
 *    unrevoked, with CRLs as bo_trust_opts says; SM2-signed certificates are checked with the
 *    GM/T 0009 ID 1234567812345678;
 *  - the leaf keys are RSA 2048..8192, EC P-256, SM2 or Ed25519 (Ed25519 not for encryption);
 *  - the signing leaf has a keyUsage extension with digitalSignature or nonRepudiation; the
 *    encryption leaf has keyEncipherment (RSA, SM2) or keyAgreement (EC);
 *  - with BO_ID_REQUIRE_USCC the signing leaf carries a USCC passing GB 32100; an encryption
 *    leaf must carry the same USCC as the signing leaf.
 * Errors (the first failing check, signing chain first): BO_E_CERT_INVALID (malformed DER,
 * empty or too long chain, a certificate signature that does not verify, a broken CA),
 * BO_E_CERT_EXPIRED, BO_E_CERT_NOT_YET_VALID, BO_E_CERT_REVOKED, BO_E_CERT_UNKNOWN_ISSUER,
 * BO_E_CRL_UNAVAILABLE, BO_E_UNSUPPORTED_KEY, BO_E_CERT_KEY_USAGE, BO_E_CERT_BAD_USCC,
 * BO_E_CERT_USCC_MISMATCH, BO_E_NOMEM, BO_E_INTERNAL. detail (may be NULL) gets one sentence,
 * e.g. "signing certificate expired 2026-10-01T00:00:00Z".
 * Ownership: out is the caller's, filled on success (zeroed on error).
 * Context: any thread, concurrently on the same store. */
bo_err bo_identity_verify(const bo_trust *t, const bo_bytes_list *sign_chain,
                          const bo_bytes_list *enc_chain, bo_time_ms now, unsigned flags,
                          bo_identity *out, char *detail, size_t n);

/** Read the USCC of one certificate (DER) from uscc_attr (as in bo_trust_opts), without any
 * other check (for a client that needs its own USCC for a signed payload).
 * Errors: BO_E_CERT_INVALID (unparsable), BO_E_CERT_BAD_USCC (absent or wrong check
 * character), BO_E_CONFIG (unknown uscc_attr). Context: any thread. */
bo_err bo_cert_uscc(const uint8_t *der, size_t len, const char *uscc_attr, char out[19]);

#endif
