/* bidopen: sealing a bid (docs/sealed-bids.md §3).
 *
 * A sealed bid is a CMS ContentInfo (RFC 5652) holding AuthEnvelopedData with AES-256-GCM
 * (RFC 5083/5084: 12-byte nonce, 16-byte tag, no authAttrs), or EnvelopedData with
 * AES-256-CBC for compatibility, with the content embedded, written by this module in
 * constant memory, BER indefinite-length (like `openssl cms -stream`) or DER. Recipients:
 * RSA certificates get a KeyTransRecipientInfo (RSAES-OAEP with SHA-256 and MGF1-SHA-256 by
 * default, or PKCS#1 v1.5), EC P-256 certificates a KeyAgreeRecipientInfo
 * (dhSinglePass-stdDH-sha256kdf-scheme, ephemeral key, id-aes256-wrap), SM2 certificates a
 * KeyTransRecipientInfo with sm2encrypt (the GM/T 0009 SM2 ciphertext of the CEK; the content
 * cipher stays AES, docs/sealed-bids.md §3.1). The CEK is generated here, so the sealer can
 * also compute the key commitment (bo/cek.h) the server records.
 */
#ifndef BO_SEAL_H
#define BO_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "bo/bytes.h"
#include "bo/err.h"
#include "bo/package.h"
#include "bo/secret.h"
#include "bo/stream.h"

#define BO_SEAL_MAX_RECIPIENTS 4u

typedef enum bo_seal_cipher {
    BO_SEAL_AES256_GCM = 0, /* AuthEnvelopedData (the default) */
    BO_SEAL_AES256_CBC = 1, /* EnvelopedData: no integrity of its own; compatibility only */
} bo_seal_cipher;

typedef enum bo_seal_rsa {
    BO_SEAL_RSA_OAEP_SHA256 = 0, /* RSAES-OAEP, SHA-256, MGF1-SHA-256, empty label (RSA only:
                                    EC and SM2 recipients ignore it) */
    BO_SEAL_RSA_PKCS1 = 1,       /* RSAES-PKCS1-v1_5, for tokens without OAEP-SHA256 */
} bo_seal_rsa;

/* Options; zero them and fill in oid and uscc. */
typedef struct bo_seal_opts {
    bo_seal_cipher cipher;
    bo_seal_rsa rsa_padding;
    int der;                /* 1: DER, definite lengths (content_len required); 0: BER indefinite */
    uint64_t content_len;   /* DER only: the exact number of plaintext bytes that will follow */
    const char *oid;        /* the opening: bound into the key commitment */
    const char *uscc;       /* the bidder: bound into the key commitment */
    const bo_secret *cek;   /* NULL (production): a fresh random CEK. Tests and corpus
                               generation only: this 32-byte CEK */
} bo_seal_opts;

/* What the bidder's client keeps locally after a submission, to answer the opening later:
 * it unwraps only RecipientInfos recorded here (bo_handoff_check_request). */
typedef struct bo_seal_record {
    char oid[65];
    char uscc[19];
    uint8_t env_sha256[32];  /* SHA-256 of the whole envelope file */
    uint64_t env_size;
    uint8_t ri_sha256[32];   /* SHA-256 of the DER of the first recipient's RecipientInfo */
    uint8_t commitment[32];  /* bo_cek_commitment(CEK, oid, uscc) */
} bo_seal_record;

/* The outcome of sealing. */
typedef struct bo_seal_result {
    bo_seal_record record;
    bo_blob_list ri;         /* DER of each RecipientInfo, in the order of the certificates */
} bo_seal_result;

typedef struct bo_seal bo_seal;

/** Start sealing to the given recipient certificates (DER; the first is the bidder's own
 * encryption certificate, others e.g. an escrow). The envelope's header is written to out
 * at once; content follows with each bo_seal_update.
 * Errors: NULL with *err = BO_E_INVALID_ARG (no or more than BO_SEAL_MAX_RECIPIENTS
 * certificates, an oid not [A-Za-z0-9._-]{1,64}, a USCC failing the GB 32100 check, a CEK
 * that is not 32 bytes), BO_E_CERT_INVALID,
 * BO_E_UNSUPPORTED_KEY (not RSA 2048..8192, P-256 or SM2: e.g. Ed25519 or P-384 cannot be
 * recipients), BO_E_INTERNAL, and what out returns; detail (may be NULL) gets a sentence.
 * Ownership: bo_seal_free; out and ud must stay valid until then.
 * Context: any thread; one thread per bo_seal. */
bo_seal *bo_seal_new(const bo_seal_opts *o, const bo_bytes *certs, size_t n_certs, bo_write_fn out,
                     void *ud, bo_err *err, char *detail, size_t n);

/** Encrypt and write more content. Errors: BO_E_INVALID_ARG (DER: more than content_len
 * bytes; or after finish or an error), BO_E_INTERNAL, and what out returns. After an error
 * the bo_seal only accepts bo_seal_free. Context: the bo_seal's thread. */
bo_err bo_seal_update(bo_seal *s, const void *p, size_t len);

/** Finish: write the tag (GCM) or the last block (CBC) and the closing bytes, and fill res.
 * Errors: BO_E_INVALID_ARG (DER: fewer than content_len bytes were given), BO_E_INTERNAL,
 * and what out returns. Ownership: res must be zeroed by the caller, who frees it with
 * bo_seal_result_cleanup. Context: the bo_seal's thread. */
bo_err bo_seal_finish(bo_seal *s, bo_seal_result *res);

/** Free; wipes the CEK. Accepts NULL. Context: the bo_seal's thread. */
void bo_seal_free(bo_seal *s);

/** Free what a result holds. Safe on a zeroed result. Context: any thread. */
void bo_seal_result_cleanup(bo_seal_result *res);

/** Seal a file into an envelope file (written to out_path + ".partial", renamed at the
 * end). With o->der, content_len is taken from the file.
 * Errors: those of bo_seal_new/_update/_finish, BO_E_IO. Ownership: res as bo_seal_finish.
 * Context: any thread (blocking file I/O). */
bo_err bo_seal_file(const char *in_path, const char *out_path, const bo_seal_opts *o,
                    const bo_bytes *certs, size_t n_certs, bo_seal_result *res, char *detail,
                    size_t n);

/** Build the bid package of spec (bo/package.h), signed with sign_key, and seal it into
 * out_path in one streaming pass (documents are read twice: hash, then copy). With o->der
 * the package size is computed first.
 * Errors: those of bo_package_prepare, bo_package_emit and bo_seal_file.
 * Ownership: res as bo_seal_finish. Context: any thread (blocking file I/O). */
bo_err bo_seal_package(const bo_package_spec *spec, const bo_key *sign_key,
                       const bo_seal_opts *o, const bo_bytes *certs, size_t n_certs,
                       const char *out_path, bo_seal_result *res, char *detail, size_t n);

#endif
