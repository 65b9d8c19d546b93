/* bidopen: private keys and the canonical signatures of docs/protocol.md §2.
 *
 * Every signature is made over
 *     TBS = "bidopen/sig/v1" || 0x00 || ctx || 0x00 || payload
 * with the algorithm fixed by the key: RSA -> RSASSA-PKCS1-v1_5 with SHA-256; EC P-256 ->
 * ECDSA with SHA-256 (DER Ecdsa-Sig-Value); SM2 -> SM2 with SM3 and the distinguishing ID
 * "1234567812345678" (GM/T 0009; OpenSSL's own default would be the empty ID); Ed25519 ->
 * pure Ed25519. Other keys (RSA < 2048 bits, other curves, RSA-PSS keys) are refused with
 * BO_E_UNSUPPORTED_KEY.
 *
 * All functions are safe to call from several threads at once, also on the same bo_key.
 */
#ifndef BO_SIGN_H
#define BO_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/cert.h"
#include "bo/err.h"

#define BO_SIG_DOMAIN "bidopen/sig/v1"
#define BO_SIG_CTX_MAX 64                  /* bytes in a context string */
#define BO_SIG_MAX 1024                    /* bytes in a signature (RSA-8192) */
#define BO_SIG_PAYLOAD_MAX (16u << 20)     /* bytes in a signed payload */
#define BO_KEY_FILE_MAX (1024u * 1024u)    /* bytes in a key file */

/** Build the TBS bytes for ctx and payload (appended to out). Exposed for tests and for
 * verifiers written in other languages to compare against.
 * Errors: BO_E_INVALID_ARG (ctx NULL, empty, longer than BO_SIG_CTX_MAX), BO_E_TOO_BIG
 * (payload > BO_SIG_PAYLOAD_MAX), those of bo_buf_append. Context: any thread. */
bo_err bo_sig_tbs(const char *ctx, const uint8_t *payload, size_t len, bo_buf *out);

typedef struct bo_key bo_key;

/** Load a private key.
 * spec is a file path: PEM (PKCS#8 "PRIVATE KEY", "ENCRYPTED PRIVATE KEY" or traditional
 * RSA/EC, encrypted or not; certificate blocks in the same file are ignored), DER PKCS#8, or
 * PKCS#12 (.p12/.pfx: the key is taken, the certificates ignored; see bo_key_load_p12).
 * A spec starting with "pkcs11:" (RFC 7512) is opened through OSSL_STORE when an OpenSSL 3
 * PKCS#11 provider is configured (pkcs11-provider), else through the libp11 ENGINE "pkcs11"
 * (Debian: libengine-pkcs11-openssl; query attributes module-path and pin-value are taken;
 * the first load of the process fixes the module); with neither the result is
 * BO_E_UNSUPPORTED. pass is the password or PIN (NULL: none; a key that needs one fails
 * instead of prompting).
 * Errors: NULL with *err = BO_E_IO (unreadable file), BO_E_TOO_BIG (> BO_KEY_FILE_MAX),
 * BO_E_INVALID_ARG (no key found, wrong or missing password, damaged file),
 * BO_E_UNSUPPORTED_KEY, BO_E_UNSUPPORTED, BO_E_NOMEM; detail (may be NULL) gets a sentence.
 * Ownership: the caller frees the key with bo_key_free. Context: any thread (blocking I/O). */
bo_key *bo_key_load(const char *spec, const char *pass, bo_err *err, char *detail, size_t n);

/** Load a private key from PEM or DER bytes in memory (same formats as bo_key_load, PKCS#12
 * included). Errors, ownership and context as bo_key_load. */
bo_key *bo_key_from_mem(const void *data, size_t len, const char *pass, bo_err *err,
                        char *detail, size_t n);

/** Load a PKCS#12 file: the key, and in *chain (if not NULL; zeroed by the caller) the
 * certificate that matches the key first, then the other certificates in issuer order.
 * Errors as bo_key_load; BO_E_CERT_INVALID if the file holds no certificate for the key.
 * Ownership: key as bo_key_load; chain freed with bo_blob_list_cleanup (empty on error). */
bo_key *bo_key_load_p12(const char *path, const char *pass, bo_blob_list *chain, bo_err *err,
                        char *detail, size_t n);

/** Generate a fresh key (RSA: 2048 bits). Errors: NULL with *err = BO_E_INVALID_ARG
 * (BO_KEY_OTHER), BO_E_INTERNAL. Ownership: bo_key_free. Context: any thread. */
bo_key *bo_key_generate(bo_keyalg alg, bo_err *err);

/** Free a key (the private key material is wiped by OpenSSL). Accepts NULL.
 * Context: any thread, once no other thread uses the key. */
void bo_key_free(bo_key *k);

/** The key's algorithm. Context: any thread. */
bo_keyalg bo_key_alg(const bo_key *k);

/** Append the private key as PKCS#8 PEM, encrypted with AES-256-CBC when pass is not NULL.
 * Errors: BO_E_INTERNAL, those of bo_buf_append. Ownership: out's content is secret: clean it
 * with bo_buf_cleanup_wipe. Context: any thread. */
bo_err bo_key_to_pem(const bo_key *k, const char *pass, bo_buf *out);

/** Append the public key as DER SubjectPublicKeyInfo (what bo_sig_verify_spki takes).
 * Errors: BO_E_INTERNAL, those of bo_buf_append. Context: any thread. */
bo_err bo_key_public_der(const bo_key *k, bo_buf *out);

/** Sign ctx and payload (see the top of this file); the signature is appended to sig_out.
 * Errors: BO_E_INVALID_ARG (ctx), BO_E_TOO_BIG (payload, or sig_out's cap), BO_E_INTERNAL
 * (the provider or token refused). Context: any thread. */
bo_err bo_key_sign(const bo_key *k, const char *ctx, const uint8_t *payload, size_t len,
                   bo_buf *sig_out);

/** Whether the certificate (DER) carries this key's public key.
 * Errors: BO_E_NOT_FOUND (another key), BO_E_CERT_INVALID (unparsable certificate).
 * Context: any thread. */
bo_err bo_key_matches_cert(const bo_key *k, const uint8_t *der, size_t len);

/** Verify a signature with the public key of a certificate (DER). Only the signature is
 * checked here, not the certificate (that is bo_identity_verify's job).
 * Errors: BO_E_BAD_SIGNATURE, BO_E_CERT_INVALID (unparsable certificate),
 * BO_E_UNSUPPORTED_KEY, BO_E_INVALID_ARG (ctx). Context: any thread. */
bo_err bo_sig_verify(const uint8_t *cert_der, size_t cert_len, const char *ctx,
                     const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len);

/** Same with a raw public key, DER SubjectPublicKeyInfo (the server's head-signing key).
 * Errors: as bo_sig_verify, BO_E_BAD_FIELD for an unparsable key. Context: any thread. */
bo_err bo_sig_verify_spki(const uint8_t *spki, size_t spki_len, const char *ctx,
                          const uint8_t *payload, size_t len, const uint8_t *sig,
                          size_t sig_len);

#endif
