/* bidopen client: the bidder's own memory of the bids it sealed and submitted.
 *
 * A record says which envelope this client submitted to which opening: its SHA-256 and size,
 * the RecipientInfo addressed to the bidder's encryption certificate (and that certificate),
 * the key commitment, and once submitted the server's signed receipt. At the opening the
 * client unwraps only RecipientInfos it finds here (bo_handoff_check_request): a server that
 * sends anything else gets no answer, so the client is no decryption oracle.
 *
 * Records live as JSON files in a directory, one per envelope: DIR/<oid>/<sha256>.json,
 * written atomically (temporary file, fsync, rename, fsync of the directory), mode 0600 in
 * directories of mode 0700. The same JSON is the sidecar `bidopen seal` writes next to a
 * bid (BID.cms.json), so a record can be carried to another machine.
 */
#ifndef BO_BIDSTORE_H
#define BO_BIDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/err.h"
#include "bo/seal.h"

#define BO_BIDSTORE_RECORD_MAX (256u * 1024u) /* bytes of one record file */
#define BO_BIDSTORE_RI_MAX (16u * 1024u)      /* bytes of a RecipientInfo */
#define BO_BIDSTORE_CERT_MAX (64u * 1024u)    /* bytes of a certificate */
#define BO_BIDSTORE_MAX_RECORDS 1024u          /* records of one opening */
#define BO_BIDSTORE_ENV "BIDOPEN_BIDS"         /* overrides the default directory */

typedef struct bo_bid_record {
    bo_seal_record seal;   /* oid, uscc, env_sha256, env_size, ri_sha256, commitment */
    char cipher[16];       /* "aes-256-gcm", "aes-256-cbc"; "" when unknown */
    char envelope[1024];   /* path of the envelope file as given when recorded; may be "" */
    uint8_t *ri;           /* DER of the RecipientInfo addressed to enc_cert (owned) */
    size_t ri_len;
    uint8_t *enc_cert;     /* DER of the encryption certificate the bid is sealed to (owned) */
    size_t enc_cert_len;
    uint8_t enc_fpr[32];   /* its SHA-256 fingerprint */
    int64_t created;       /* when the record was made (local clock, ms) */
    /* the receipt (回执), once the server accepted the bid */
    bool has_receipt;
    int64_t receipt_ts;     /* server time in the receipt */
    uint8_t *receipt_sig;   /* owned */
    size_t receipt_sig_len;
    uint8_t server_key_fpr[32]; /* SHA-256 of the key that signed it (server_key.key_fpr) */
    bool receipt_verified;  /* the signature verified with that key */
    bool replaced;          /* the submission replaced an earlier bid */
} bo_bid_record;

/** Free what a record owns and zero it. Safe on a zeroed record. Context: any thread. */
void bo_bid_record_cleanup(bo_bid_record *r);

/** Deep copy. Errors: BO_E_NOMEM (dst is left zeroed). Ownership: dst (need not be zeroed)
 * is freed with bo_bid_record_cleanup. Context: any thread. */
bo_err bo_bid_record_copy(bo_bid_record *dst, const bo_bid_record *src);

/** Make a record for an envelope file: inspect it without any key (size, SHA-256, cipher,
 * RecipientInfos; bo_envelope_info_file), pick the RecipientInfo addressed to enc_cert, and
 * fill oid, uscc and commitment (32 bytes) as given.
 * Errors: those of bo_envelope_info_file; BO_E_RECIPIENT_MISMATCH (the envelope is not
 * sealed to enc_cert: detail says so), BO_E_INVALID_ARG (bad oid or USCC), BO_E_TOO_BIG
 * (a RecipientInfo or certificate over the caps), BO_E_NOMEM.
 * Ownership: out need not be zeroed; free it with bo_bid_record_cleanup (zeroed on error).
 * Context: any thread (blocking: reads the whole file). */
bo_err bo_bid_record_make(const char *envelope_path, const uint8_t *enc_cert, size_t enc_len,
                          const char *oid, const char *uscc, const uint8_t commitment[32],
                          bo_bid_record *out, char *detail, size_t n);

/** The record as one JSON object (hashes and DER in hex) appended to out.
 * Errors: those of bo_buf_append, BO_E_NOMEM. Context: any thread. */
bo_err bo_bid_record_to_json(const bo_bid_record *r, bo_buf *out);

/** Parse a record from JSON (what bo_bid_record_to_json writes). Every field is checked:
 * oid and USCC syntax, hash lengths, caps, and that ri_sha256 is the SHA-256 of ri and
 * enc_fpr that of enc_cert.
 * Errors: BO_E_MALFORMED (detail names the field), BO_E_TOO_BIG, BO_E_NOMEM.
 * Ownership: as bo_bid_record_make. Context: any thread. */
bo_err bo_bid_record_from_json(const char *json, size_t len, bo_bid_record *out, char *detail,
                               size_t n);

/** Read a record file (a store file or a sidecar). Errors: BO_E_IO, BO_E_TOO_BIG and those
 * of bo_bid_record_from_json. Ownership: as bo_bid_record_make. Context: any thread. */
bo_err bo_bid_record_read(const char *path, bo_bid_record *out, char *detail, size_t n);

/** Write a record to a file atomically (path + ".tmp", fsync, rename, fsync of the
 * directory), mode 0600. Errors: BO_E_IO (detail names the path and the reason), those of
 * bo_bid_record_to_json. Context: any thread (blocking file I/O). */
bo_err bo_bid_record_write(const char *path, const bo_bid_record *r, char *detail, size_t n);

/** The default store directory into out: $BIDOPEN_BIDS if set and not empty, else
 * $HOME/.bidopen/bids. Errors: BO_E_CONFIG (neither is set), BO_E_TOO_BIG (n too small).
 * Context: any thread. */
bo_err bo_bidstore_default_dir(char *out, size_t n);

/** Store a record as DIR/<oid>/<sha256 hex>.json (created with mode 0700 as needed),
 * replacing a record of the same envelope. dir NULL: the default directory.
 * Errors: BO_E_INVALID_ARG (oid "." or ".."), BO_E_CONFIG (no default directory), those of
 * bo_bid_record_write. Context: any thread (blocking file I/O). */
bo_err bo_bidstore_save(const char *dir, const bo_bid_record *r, char *detail, size_t n);

/** Every record of an opening, newest first (by created); uscc NULL: every bidder's, else
 * only that bidder's. Files that do not parse are skipped (detail names the last one, the
 * call still succeeds); none at all is success with *n_out = 0.
 * Errors: BO_E_CONFIG (no default directory), BO_E_INVALID_ARG (oid), BO_E_TOO_MANY (more
 * than BO_BIDSTORE_MAX_RECORDS), BO_E_IO (the directory exists but cannot be read),
 * BO_E_NOMEM. Ownership: *out is freed with bo_bid_records_free (NULL when none).
 * Context: any thread (blocking file I/O). */
bo_err bo_bidstore_load(const char *dir, const char *oid, const char *uscc,
                        bo_bid_record **out, size_t *n_out, char *detail, size_t n);

/** One record: of the envelope env_sha256, or (NULL) the newest of the opening for uscc
 * (NULL: any bidder). Errors: BO_E_NOT_FOUND, and those of bo_bidstore_load.
 * Ownership: as bo_bid_record_make. Context: any thread (blocking file I/O). */
bo_err bo_bidstore_find(const char *dir, const char *oid, const char *uscc,
                        const uint8_t *env_sha256, bo_bid_record *out, char *detail, size_t n);

/** Free what bo_bidstore_load returned. Accepts NULL. Context: any thread. */
void bo_bid_records_free(bo_bid_record *v, size_t n);

#endif
