/* bidopen crypto/: the CMS pieces shared by sealing, inspection, decryption and the client
 * unwrap: object identifiers, a strict in-memory DER cursor, a DER writer, and the parser of
 * one RecipientInfo (not a public header). */
#ifndef BO_CMS_INTERNAL_H
#define BO_CMS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "bo/buf.h"
#include "bo/err.h"

/* ---- object identifiers (DER content octets, without tag and length) ---------------------- */

typedef struct bo__oid {
    const uint8_t *p;
    size_t len;
} bo__oid;

#define BO__OID(name) extern const bo__oid name
BO__OID(BO__OID_DATA);
BO__OID(BO__OID_ENVELOPED);
BO__OID(BO__OID_AUTH_ENVELOPED);
BO__OID(BO__OID_AES256_GCM);
BO__OID(BO__OID_AES256_CBC);
BO__OID(BO__OID_AES128_WRAP);
BO__OID(BO__OID_AES192_WRAP);
BO__OID(BO__OID_AES256_WRAP);
BO__OID(BO__OID_RSA);
BO__OID(BO__OID_RSAES_OAEP);
BO__OID(BO__OID_MGF1);
BO__OID(BO__OID_PSPECIFIED);
BO__OID(BO__OID_SHA1);
BO__OID(BO__OID_SHA224);
BO__OID(BO__OID_SHA256);
BO__OID(BO__OID_SHA384);
BO__OID(BO__OID_SHA512);
BO__OID(BO__OID_EC_PUBKEY);
BO__OID(BO__OID_P256);
BO__OID(BO__OID_ECDH_SHA1KDF);
BO__OID(BO__OID_ECDH_SHA224KDF);
BO__OID(BO__OID_ECDH_SHA256KDF);
BO__OID(BO__OID_ECDH_SHA384KDF);
BO__OID(BO__OID_ECDH_SHA512KDF);
BO__OID(BO__OID_SM2_ENCRYPT);
#undef BO__OID

/* ---- strict DER cursor over memory -------------------------------------------------------- */

/* Everything not yet read of one constructed value. */
typedef struct bo__der {
    const uint8_t *p;
    size_t len;
} bo__der;

typedef struct bo__tlv {
    uint8_t tag;          /* one identifier octet (tag numbers 0..30 only) */
    const uint8_t *val;   /* content octets */
    size_t len;
    const uint8_t *raw;   /* the whole element, identifier octet included */
    size_t raw_len;
} bo__tlv;

/* Read the next element: single-octet tags, definite minimal lengths only. False on anything
 * else (also at the end). */
bool bo__der_next(bo__der *d, bo__tlv *out);
/* Read the next element and require its tag. */
bool bo__der_expect(bo__der *d, uint8_t tag, bo__tlv *out);
/* The tag of the next element, 0 at the end. */
uint8_t bo__der_peek(const bo__der *d);
/* A cursor over the content of a constructed element. */
bo__der bo__der_in(const bo__tlv *t);
/* Whether the element is an OBJECT IDENTIFIER equal to oid. */
bool bo__der_is_oid(const bo__tlv *t, const bo__oid *oid);
/* A small non-negative INTEGER (at most 2^31 - 1). */
bool bo__der_small_int(const bo__tlv *t, long *out);

/* ---- DER writer --------------------------------------------------------------------------- */

/* Bytes of an identifier octet plus a definite length field for a value of len bytes. */
size_t bo__der_hdr_len(uint64_t len);
/* Encode tag + definite length into out (at least 10 bytes); returns the bytes written. */
size_t bo__der_hdr(uint8_t *out, uint8_t tag, uint64_t len);
/* Append tag + length, then (if v is not NULL) the value. */
bo_err bo__der_put(bo_buf *b, uint8_t tag, const void *v, size_t len);
/* Append an OBJECT IDENTIFIER. */
bo_err bo__der_put_oid(bo_buf *b, const bo__oid *oid);
/* Wrap b[from..len) in tag + length (moves the content). */
bo_err bo__der_wrap(bo_buf *b, size_t from, uint8_t tag);

/* ---- RecipientInfo ------------------------------------------------------------------------ */

#define BO__RI_MAX_LEN (16u * 1024u)  /* bytes in one RecipientInfo */
#define BO__RI_MAX_REK 16u            /* RecipientEncryptedKeys in one KARI */

typedef enum bo__ri_kind { BO__RI_KTRI = 1, BO__RI_KARI = 2 } bo__ri_kind;

/* A recipient identifier: IssuerAndSerialNumber (issuer Name and serial INTEGER elements)
 * or a subject key identifier. */
typedef struct bo__rid {
    bool is_ski;
    bo__tlv issuer; /* Name */
    bo__tlv serial; /* INTEGER */
    bo__tlv ski;    /* content = the identifier */
} bo__rid;

typedef struct bo__rek {
    bo__rid rid;
    bo__tlv ek; /* encryptedKey content */
} bo__rek;

/* One parsed RecipientInfo. Pointers point into the DER that was parsed. */
typedef struct bo__ri {
    bo__ri_kind kind;
    /* KTRI */
    bo__rid rid;
    bool sm2;             /* sm2encrypt (GM/T 0009 ciphertext in ek); else RSA, as below */
    bool oaep;            /* rsaesOaep, else rsaEncryption (PKCS#1 v1.5) */
    const char *oaep_md;  /* "SHA1", "SHA256", ... */
    const char *mgf1_md;
    bo__tlv ek;
    /* KARI */
    bo__tlv orig_pub;     /* BIT STRING content after the unused-bits octet: the EC point */
    bool has_ukm;
    bo__tlv ukm;          /* OCTET STRING content */
    const char *kdf_md;   /* digest of the X9.63 KDF */
    bo__tlv wrap_alg;     /* the whole wrap AlgorithmIdentifier (for ECC-CMS-SharedInfo) */
    const char *wrap_cipher; /* "AES-256-WRAP", ... */
    int kek_len;          /* bytes */
    size_t n_rek;
    bo__rek rek[BO__RI_MAX_REK];
} bo__ri;

/* Parse one RecipientInfo (the whole buffer). BO_E_ENVELOPE_MALFORMED for structure errors,
 * BO_E_ENVELOPE_CIPHER for recipient types and algorithms bidopen does not take. */
bo_err bo__ri_parse(const uint8_t *der, size_t len, bo__ri *out);

/* Whether rid names this certificate. */
bool bo__rid_matches(const bo__rid *rid, X509 *cert);

/* Append the IssuerAndSerialNumber of cert (a SEQUENCE). */
bo_err bo__der_put_issuer_serial(bo_buf *b, X509 *cert);

/* ---- key agreement and key wrap (KARI) ------------------------------------------------- */

/* The KEK of a KARI (RFC 5753): X9.63 KDF with digest kdf_md over Z and the DER of
 * ECC-CMS-SharedInfo { keyInfo = wrap_alg, entityUInfo = ukm (if has_ukm), suppPubInfo =
 * kek_len * 8 as 4 octets }. False on any failure (queue cleared). */
bool bo__kari_kek(const char *kdf_md, const uint8_t *z, size_t zlen, const bo__tlv *wrap_alg,
                  const bo__tlv *ukm, bool has_ukm, int kek_len, uint8_t *kek);

/* RFC 3394 AES key wrap (enc) or unwrap with cipher "AES-{128,192,256}-WRAP". out needs
 * inlen + 8 bytes. False on any failure, including an integrity failure of the unwrap. */
bool bo__aes_wrap(const char *cipher, const uint8_t *kek, bool enc, const uint8_t *in,
                  size_t inlen, uint8_t *out, size_t *outlen);

/* ---- files ------------------------------------------------------------------------------ */

/* bo_write_fn / bo_read_fn over a file descriptor (ud points to the int). Errors: BO_E_IO. */
bo_err bo__fd_write(void *ud, const uint8_t *p, size_t n);
bo_err bo__fd_read(void *ud, uint8_t *p, size_t cap, size_t *got);

/* Output that appears at path only when complete: written to path + ".partial" (mode 0600,
 * truncated if it exists), then fsync + rename by bo__partial_commit, or removed by
 * bo__partial_abort. */
typedef struct bo__partial {
    int fd;
    char *tmp;
} bo__partial;
bo_err bo__partial_open(bo__partial *pt, const char *path);
bo_err bo__partial_commit(bo__partial *pt, const char *path);
void bo__partial_abort(bo__partial *pt);

#endif
