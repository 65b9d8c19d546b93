/* bidopen: reading sealed bids (docs/sealed-bids.md §3, §6): inspection without keys (the
 * server at submission) and streaming decryption with only the CEK (the server at the
 * opening, research/crypto.md §1.4 option A).
 *
 * The reader is a hand-written streaming BER parser: definite and indefinite lengths,
 * encryptedContent primitive or as (nested) segments; everything except the content has a
 * hard cap, so an envelope of any size is read in constant memory (two 64 KiB buffers).
 * Accepted: ContentInfo with AuthEnvelopedData + AES-256-GCM (12-byte nonce, ICVlen 16, no
 * authAttrs) or EnvelopedData + AES-256-CBC, no originatorInfo, inner content type id-data,
 * content embedded, 1..16 RecipientInfos, each a KTRI (rsaEncryption or rsaesOaep with SHA-1/
 * SHA-2 and an empty label, or sm2encrypt with a GM/T 0009 SM2Cipher) or a KARI (ephemeral EC originator key,
 * dhSinglePass-stdDH-sha{1,224,256,384,512}kdf-scheme, AES key wrap). Nothing may follow the
 * ContentInfo.
 */
#ifndef BO_ENVELOPE_H
#define BO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "bo/bytes.h"
#include "bo/err.h"
#include "bo/secret.h"
#include "bo/sign.h"
#include "bo/stream.h"

#define BO_ENVELOPE_MAX_RI 16u                 /* RecipientInfos in one envelope */
#define BO_ENVELOPE_RIS_MAX (64u * 1024u)      /* bytes of the RecipientInfos SET */
#define BO_ENVELOPE_ATTRS_MAX (64u * 1024u)    /* bytes of unauth/unprotected attributes */
#define BO_ENVELOPE_SEG_DEPTH 5u               /* nesting of constructed content segments
                                                  (OpenSSL's ASN1_MAX_STRING_NEST) */

typedef enum bo_envelope_type {
    BO_ENVELOPE_AUTH_ENVELOPED = 1, /* id-ct-authEnvelopedData, 1.2.840.113549.1.9.16.1.23 */
    BO_ENVELOPE_ENVELOPED = 2,      /* id-envelopedData, 1.2.840.113549.1.7.3 */
} bo_envelope_type;

typedef enum bo_envelope_cipher {
    BO_ENVELOPE_AES256_GCM = 1,
    BO_ENVELOPE_AES256_CBC = 2,
} bo_envelope_cipher;

typedef enum bo_ri_type {
    BO_RI_KTRI = 1, /* key transport (RSA, SM2) */
    BO_RI_KARI = 2, /* key agreement (ECDH) */
} bo_ri_type;

typedef struct bo_envelope_ri {
    bo_ri_type type;
    const char *alg;   /* static text: "rsaes-pkcs1-v1_5", "rsaes-oaep(SHA256,mgf1-SHA256)",
                          "sm2encrypt", "ecdh(SHA256-kdf)+AES-256-WRAP", ... */
    int rid_is_ski;    /* the (first) recipient identifier is a subject key identifier; else
                          IssuerAndSerialNumber */
    bo_bytes der;      /* the RecipientInfo's DER, exactly as in the envelope */
} bo_envelope_ri;

typedef struct bo_envelope_info {
    bo_envelope_type type;
    bo_envelope_cipher cipher;
    int indefinite;        /* the ContentInfo uses indefinite lengths (BER, `-stream`) */
    uint64_t size;         /* bytes of the envelope */
    uint8_t sha256[32];    /* SHA-256 of the envelope */
    uint64_t content_len;  /* bytes of ciphertext */
    size_t n_ri;
    bo_envelope_ri ri[BO_ENVELOPE_MAX_RI];
    bo_blob_list _store;   /* owns the DER that ri[].der points into */
} bo_envelope_info;

/** Inspect an envelope from a stream without any key: structure, algorithms, caps,
 * RecipientInfos, size and SHA-256 (the whole input is read). total is the expected size for
 * progress (0: unknown).
 * Errors: BO_E_ENVELOPE_MALFORMED, BO_E_ENVELOPE_TRUNCATED, BO_E_ENVELOPE_CIPHER, BO_E_NOMEM,
 * and errors of in; detail (may be NULL) gets a sentence naming the byte offset.
 * Ownership: info is the caller's (need not be zeroed); on success free it with
 * bo_envelope_info_cleanup, on error it is left empty. Context: any thread. */
bo_err bo_envelope_info_read(bo_read_fn in, void *ud, uint64_t total, bo_envelope_info *info,
                             char *detail, size_t n);

/** Same on a file. Errors: as bo_envelope_info_read, BO_E_IO. Context: any thread
 * (blocking file I/O). */
bo_err bo_envelope_info_file(const char *path, bo_envelope_info *info, char *detail, size_t n);

/** Free what an info holds. Safe on a zeroed or cleaned info. Context: any thread. */
void bo_envelope_info_cleanup(bo_envelope_info *info);

/** Whether a RecipientInfo (DER) is addressed to a certificate (DER): its recipient
 * identifier names it (issuer and serial, or subject key identifier) and the kinds fit (an RSA
 * KTRI for an RSA certificate, an sm2encrypt KTRI for an SM2 one, a KARI for an EC one).
 * Errors: BO_E_RECIPIENT_MISMATCH, BO_E_ENVELOPE_MALFORMED, BO_E_ENVELOPE_CIPHER,
 * BO_E_CERT_INVALID. Context: any thread. */
bo_err bo_envelope_recipient_matches(const uint8_t *ri_der, size_t ri_len, const uint8_t *cert_der,
                                     size_t cert_len);

/** The index of the first RecipientInfo of info addressed to cert into *idx.
 * Errors: as bo_envelope_recipient_matches (BO_E_RECIPIENT_MISMATCH: none is).
 * Context: any thread. */
bo_err bo_envelope_find_recipient(const bo_envelope_info *info, const uint8_t *cert_der,
                                  size_t cert_len, size_t *idx);

/* Options of a decryption; zero means none. */
typedef struct bo_decrypt_opts {
    bo_progress_fn progress;      /* envelope bytes read of the envelope's size */
    void *progress_ud;
    const uint8_t *expect_sha256; /* if set: the envelope must hash to these 32 bytes (the
                                     hash recorded at submission), else
                                     BO_E_ENVELOPE_MALFORMED and no plaintext */
} bo_decrypt_opts;

/** Decrypt an envelope file with its CEK into out_path, in constant memory. Plaintext is
 * written to out_path + ".partial" and renamed to out_path only after the whole envelope was
 * read and checked, the GCM tag verified (CBC: the padding) and the file synced; on any
 * failure the partial file is removed and out_path is not touched. info (may be NULL) gets
 * what bo_envelope_info_file would (free with bo_envelope_info_cleanup on success).
 * Errors: BO_E_CEK_INVALID (not 32 bytes), BO_E_TAG_MISMATCH (wrong CEK or tampered
 * content), BO_E_ENVELOPE_TRUNCATED, BO_E_ENVELOPE_MALFORMED, BO_E_ENVELOPE_CIPHER,
 * BO_E_IO, BO_E_INVALID_ARG (in_path equals out_path), BO_E_NOMEM.
 * Context: any thread (blocking file I/O: run it on a worker, never on the loop). */
bo_err bo_envelope_decrypt(const char *in_path, const bo_secret *cek, const char *out_path,
                           const bo_decrypt_opts *o, bo_envelope_info *info, char *detail,
                           size_t n);

/** The streaming core of bo_envelope_decrypt, for callers with their own I/O.
 * WARNING: out receives plaintext BEFORE it is authenticated; only BO_E_OK means it is
 * genuine, so the caller must discard everything it got on any error.
 * Errors: as bo_envelope_decrypt, plus those of in and out. Ownership and context: as
 * bo_envelope_decrypt. */
bo_err bo_envelope_decrypt_stream(bo_read_fn in, void *ud, uint64_t total, const bo_secret *cek,
                                  bo_write_fn out, void *oud, const bo_decrypt_opts *o,
                                  bo_envelope_info *info, char *detail, size_t n);

/** For bids sealed by another tool (`openssl cms -encrypt ...`): unwrap the CEK once
 * locally with the bidder's encryption key, check that it decrypts the envelope (a full
 * streaming pass, nothing written), and compute the key commitment for (oid, uscc) that goes
 * with the submission. The RecipientInfo used is the first one addressed to enc_cert.
 * Errors: those of bo_envelope_info_file, bo_cek_unwrap, bo_envelope_decrypt_stream and
 * bo_cek_commitment. Context: any thread (blocking file I/O; a token may block). */
bo_err bo_envelope_commitment_from_key(const char *envelope_path, const bo_key *enc_key,
                                       const uint8_t *enc_cert_der, size_t enc_cert_len,
                                       const char *oid, const char *uscc, uint8_t out[32],
                                       char *detail, size_t n);

#endif
