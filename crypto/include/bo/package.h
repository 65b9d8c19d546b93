/* bidopen: the bid package, what a sealed bid envelope carries (docs/sealed-bids.md §2).
 *
 *     magic "BOPKG\0" | version u16 = 1 | manifest length u32 | manifest (canonical msgpack)
 *     | signature length u16 | signature | document bytes, in manifest order
 *
 * The manifest names the opening, the bidder's USCC, the opening form (the tender's
 * announced fields, key -> string), a random salt, the SHA-256 fingerprint of the bidder's
 * signing certificate, and every document with its size and SHA-256. The signature is
 * bo_key_sign(signing key, BO_PACKAGE_SIG_CTX, manifest). Everything before the documents is
 * small (capped), so a reader verifies the signature and reads the form without touching the
 * documents, and then streams the documents, checking each digest.
 */
#ifndef BO_PACKAGE_H
#define BO_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/bytes.h"
#include "bo/err.h"
#include "bo/hash.h"
#include "bo/sign.h"
#include "bo/stream.h"

#define BO_PACKAGE_VERSION 1
#define BO_PACKAGE_SIG_CTX "package"
#define BO_PACKAGE_MANIFEST_MAX (1u << 20)       /* bytes of manifest */
#define BO_PACKAGE_FORM_MAX 32u                  /* fields in the opening form */
#define BO_PACKAGE_KEY_MAX 32u                   /* bytes in a field key, [a-z0-9_] */
#define BO_PACKAGE_VALUE_MAX 1024u               /* bytes in a field value (UTF-8) */
#define BO_PACKAGE_DOCS_MAX 256u                 /* documents */
#define BO_PACKAGE_NAME_MAX 255u                 /* bytes in a document name (UTF-8) */
#define BO_PACKAGE_TOTAL_MAX (60ull << 30)       /* bytes of a whole package (GCM allows 64 GiB) */
#define BO_PACKAGE_SALT_LEN 32u

/* One field of the opening form, e.g. {"price", "1234567.89"}. */
typedef struct bo_package_field {
    const char *key;
    const char *value;
} bo_package_field;

/* One document: read from path, or (path NULL) taken from data[0..len). */
typedef struct bo_package_doc {
    const char *name;  /* shown to people; UTF-8, no '/', '\\', control characters */
    const char *path;
    const uint8_t *data;
    size_t len;
} bo_package_doc;

/* What goes into a package. The caller keeps every pointer valid until the package is freed. */
typedef struct bo_package_spec {
    const char *oid;                       /* the opening, [A-Za-z0-9._-]{1,64} */
    const char *uscc;                      /* the bidder's USCC (GB 32100 checked) */
    const bo_package_field *form;          /* any order; written sorted by key */
    size_t n_form;
    const bo_package_doc *docs;            /* written in this order */
    size_t n_docs;
    const uint8_t *sign_cert_der;          /* the bidder's signing certificate */
    size_t sign_cert_len;
} bo_package_spec;

typedef struct bo_package bo_package;

/** Prepare a package: check the spec, read every document once to hash it, build and sign
 * the manifest (the salt is fresh). Nothing is written yet; bo_package_size is then known, so
 * the envelope can be DER with definite lengths.
 * Errors: NULL with *err = BO_E_INVALID_ARG (a bad oid, USCC, field key or value, document
 * name, duplicate key or name, a certificate that does not parse or is not sign_key's),
 * BO_E_TOO_MANY, BO_E_TOO_BIG (caps above), BO_E_IO (a document cannot be read), errors of
 * bo_key_sign; detail (may be NULL) gets a sentence.
 * Ownership: bo_package_free. Context: any thread (blocking file I/O). */
bo_package *bo_package_prepare(const bo_package_spec *spec, const bo_key *sign_key, bo_err *err,
                               char *detail, size_t n);

/** Bytes the package will have. Context: any thread. */
uint64_t bo_package_size(const bo_package *p);

/** Write the package to out: header, manifest and signature, then each document, read again
 * in 64 KiB pieces and hashed on the way.
 * Errors: BO_E_PACKAGE_DIGEST (a document changed since bo_package_prepare), BO_E_IO, and
 * whatever out returns. Context: any thread (blocking file I/O). */
bo_err bo_package_emit(bo_package *p, bo_write_fn out, void *ud, char *detail, size_t n);

/** Free a package. Accepts NULL. Context: any thread. */
void bo_package_free(bo_package *p);

/** Prepare and write a package to a file (written to path + ".partial", renamed at the end),
 * e.g. to seal it with another tool such as `openssl cms -encrypt -binary -stream`.
 * Errors: those of bo_package_prepare and bo_package_emit, BO_E_IO. Context: any thread. */
bo_err bo_package_write_file(const bo_package_spec *spec, const bo_key *sign_key,
                             const char *path, char *detail, size_t n);

/* ---- reading ----------------------------------------------------------------------------- */

typedef struct bo_package_reader bo_package_reader;

/** Read the head of a package (everything before the documents) from in and check it: magic,
 * version, caps, a canonical manifest with every field valid, the document sizes within
 * BO_PACKAGE_TOTAL_MAX. The signature is NOT checked here (bo_package_verify).
 * Errors: NULL with *err = BO_E_PACKAGE_MALFORMED (detail says what), errors of in.
 * Ownership: bo_package_close; in and ud must stay valid while the reader is used.
 * Context: any thread. */
bo_package_reader *bo_package_open_read(bo_read_fn in, void *ud, bo_err *err, char *detail,
                                        size_t n);

/** Same, on a file (a decrypted bid). Errors: as bo_package_open_read, BO_E_IO.
 * Ownership: bo_package_close closes the file. Context: any thread (blocking file I/O). */
bo_package_reader *bo_package_open(const char *path, bo_err *err, char *detail, size_t n);

/** Verify the manifest signature with the bidder's signing certificate (DER), which must be
 * the one the manifest names (its SHA-256 fingerprint).
 * Errors: BO_E_PACKAGE_SIGNATURE (another certificate, or a bad signature),
 * BO_E_CERT_INVALID, BO_E_UNSUPPORTED_KEY. Context: any thread, one caller per reader. */
bo_err bo_package_verify(const bo_package_reader *r, const uint8_t *cert_der, size_t cert_len);

/** The manifest's fields. Strings are NUL-terminated UTF-8; pointers are borrowed, valid
 * until bo_package_close. Context: any thread. */
const char *bo_package_oid(const bo_package_reader *r);
const char *bo_package_uscc(const bo_package_reader *r);
const uint8_t *bo_package_salt(const bo_package_reader *r);      /* BO_PACKAGE_SALT_LEN bytes */
const uint8_t *bo_package_sign_fpr(const bo_package_reader *r);  /* 32 bytes */
size_t bo_package_form_count(const bo_package_reader *r);
/** Field i (sorted by key) or NULL past the end. */
const bo_package_field *bo_package_form_at(const bo_package_reader *r, size_t i);
/** A field's value by key, or NULL. */
const char *bo_package_form_get(const bo_package_reader *r, const char *key);
size_t bo_package_doc_count(const bo_package_reader *r);
/** Document i's name, size and SHA-256 (any pointer may be NULL). Returns false past the end. */
bool bo_package_doc_at(const bo_package_reader *r, size_t i, const char **name, uint64_t *size,
                       const uint8_t **sha256);
/** The manifest and signature bytes exactly as in the package (to store or forward). */
bo_bytes bo_package_manifest(const bo_package_reader *r);
bo_bytes bo_package_signature(const bo_package_reader *r);

/* Called with each document's bytes in order: index, the bytes; a call with n == 0 ends a
 * document (after its digest was checked). A non-OK return stops reading. */
typedef bo_err (*bo_package_doc_fn)(void *ud, size_t index, const uint8_t *p, size_t n);

/** Stream every document through fn (may be NULL: just check), checking each SHA-256 and
 * that the package ends right after the last document. Call once, after bo_package_open*.
 * Errors: BO_E_PACKAGE_DIGEST (detail names the document), BO_E_PACKAGE_MALFORMED (short,
 * or bytes after the last document), errors of the input and of fn.
 * Context: any thread, one caller per reader. */
bo_err bo_package_read_docs(bo_package_reader *r, bo_package_doc_fn fn, void *ud, char *detail,
                            size_t n);

/** Close and free. Accepts NULL. Context: any thread. */
void bo_package_close(bo_package_reader *r);

#endif
