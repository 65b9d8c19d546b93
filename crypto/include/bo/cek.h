/* bidopen: the content-encryption key (CEK) of a sealed bid: its key commitment, and the
 * bidder-side unwrap from one RecipientInfo (docs/sealed-bids.md §4, §5).
 *
 * GCM does not commit to its key: a bidder could craft a ciphertext that decrypts validly
 * under two CEKs and pick one at the opening. So at submission the bidder's client sends
 *     commitment = HMAC-SHA256(key = CEK, "bidopen/cek-commit/v1" || 0x00 || oid || 0x00 || uscc)
 * which the server records and checks before it decrypts with the CEK it gets at the opening.
 */
#ifndef BO_CEK_H
#define BO_CEK_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"
#include "bo/secret.h"
#include "bo/sign.h"

#define BO_CEK_LEN 32u /* AES-256: the only content cipher key size bidopen takes */
#define BO_CEK_COMMIT_LABEL "bidopen/cek-commit/v1"

/** Compute the key commitment of cek for (oid, uscc) into out.
 * Errors: BO_E_CEK_INVALID (cek NULL or not BO_CEK_LEN bytes), BO_E_INVALID_ARG (oid or uscc
 * NULL, empty or longer than 64 bytes), BO_E_INTERNAL. Context: any thread. */
bo_err bo_cek_commitment(const bo_secret *cek, const char *oid, const char *uscc,
                         uint8_t out[32]);

/** Check cek against a recorded commitment, in constant time.
 * Errors: BO_E_COMMITMENT_MISMATCH, and those of bo_cek_commitment. Context: any thread. */
bo_err bo_cek_commitment_check(const bo_secret *cek, const char *oid, const char *uscc,
                               const uint8_t expected[32]);

/** Recover the CEK from one RecipientInfo (DER, as the server sends it) with the bidder's
 * encryption key (a file, PKCS#12 or PKCS#11 bo_key) and its certificate (DER).
 * KTRI: RSA decryption with the padding the RecipientInfo names (PKCS#1 v1.5, or OAEP with
 * its hash, MGF1 hash and empty label), or SM2 decryption (GM/T 0009 ciphertext, SM3; SM2 keys
 * as files or PKCS#12, not in tokens). KARI: ECDH with the ephemeral originator key, the X9.63
 * KDF over ECC-CMS-SharedInfo, AES key unwrap. The result must be BO_CEK_LEN bytes.
 * Errors, public checks first: BO_E_ENVELOPE_MALFORMED (not a RecipientInfo),
 * BO_E_ENVELOPE_CIPHER (a recipient type or algorithm bidopen does not take, e.g. a raw SM2
 * ciphertext layout), BO_E_CERT_INVALID (cert), BO_E_RECIPIENT_MISMATCH (the RecipientInfo does
 * not name cert, or key is not cert's key: e.g. a renewed certificate). Then every failure that
 * involves the private key, whatever its cause (bad padding, an SM2 point or hash that does not
 * check, wrong length, token error), is the one BO_E_UNWRAP_FAILED, so the client is no
 * padding oracle.
 * Ownership: *cek is the caller's (bo_secret_free); NULL on error.
 * Context: any thread (a token may block). The client must call bo_handoff_check_request
 * first: an unwrap of an arbitrary RecipientInfo is a decryption oracle. */
bo_err bo_cek_unwrap(const uint8_t *ri_der, size_t ri_len, const bo_key *key,
                     const uint8_t *cert_der, size_t cert_len, bo_secret **cek);

#endif
