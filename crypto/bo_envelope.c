/* The streaming envelope reader: inspection without keys and decryption with only the CEK
 * (research/crypto.md §1.4, option A). One walk over the BER serves both; with a CEK the
 * content octets go through EVP in 64 KiB pieces on the way. */
#include "bo/envelope.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bo/cek.h"
#include "bo/hash.h"
#include "bo_cms_internal.h"
#include "bo_crypto_internal.h"

#define BUF (64u * 1024u)          /* input window */
#define CHUNK (64u * 1024u)        /* ciphertext per EVP call */
#define SMALL_MAX 256u             /* OIDs, version, algorithm identifiers, mac */
#define FRAMES 24u                 /* open constructed elements */
#define PROGRESS_STEP (1u << 20)
#define LEN_MAX (1ull << 62)

/* ---- input ------------------------------------------------------------------------------- */

typedef struct frame {
    bool indef;
    uint64_t end; /* definite: offset just past the element */
} frame;

typedef struct rd {
    bo_read_fn in;
    void *ud;
    uint8_t *buf;
    size_t pos, end;
    uint64_t off; /* stream offset of buf[pos] */
    bool eof;
    bo_err ioerr;
    bo_sha256_ctx *sha;
    uint64_t total;
    bo_progress_fn progress;
    void *pud;
    uint64_t next_report;
    frame fr[FRAMES];
    size_t depth;
    char *detail;
    size_t dn;
} rd;

static bo_err fail(rd *r, bo_err e, const char *what)
{
    if (r->detail && r->dn && !r->detail[0])
        bo__crypto_fail(e, r->detail, r->dn, "%s (at byte %llu)", what,
                        (unsigned long long)r->off);
    return e;
}

/* Make need bytes available (need <= BUF). False at the end of the input or on a read error
 * (r->ioerr). Every byte read is hashed once. */
static bool fill(rd *r, size_t need)
{
    if (r->end - r->pos >= need)
        return true;
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    while (r->end < need && !r->eof && r->ioerr == BO_E_OK) {
        size_t got = 0;
        bo_err e = r->in(r->ud, r->buf + r->end, BUF - r->end, &got);
        if (e != BO_E_OK)
            r->ioerr = e;
        else if (got == 0)
            r->eof = true;
        else {
            bo_sha256_update(r->sha, r->buf + r->end, got);
            r->end += got;
        }
    }
    return r->end >= need;
}

static bo_err short_input(rd *r)
{
    if (r->ioerr != BO_E_OK)
        return fail(r, r->ioerr, "cannot read the envelope");
    return fail(r, BO_E_ENVELOPE_TRUNCATED, "the envelope ends early");
}

static void consume(rd *r, size_t n)
{
    r->pos += n;
    r->off += n;
    if (r->progress && r->off >= r->next_report) {
        r->progress(r->pud, r->off, r->total);
        r->next_report = r->off + PROGRESS_STEP;
    }
}

typedef struct hdr {
    uint8_t tag;
    bool indef;
    uint64_t len;
} hdr;

/* The innermost definite frame's end, or UINT64_MAX. */
static uint64_t limit(const rd *r)
{
    for (size_t i = r->depth; i > 0; i--)
        if (!r->fr[i - 1].indef)
            return r->fr[i - 1].end;
    return UINT64_MAX;
}

static bo_err read_hdr(rd *r, hdr *h)
{
    if (!fill(r, 2))
        return short_input(r);
    const uint8_t *p = r->buf + r->pos;
    h->tag = p[0];
    if ((h->tag & 0x1f) == 0x1f)
        return fail(r, BO_E_ENVELOPE_MALFORMED, "unexpected high tag number");
    size_t hl = 2;
    h->indef = false;
    if (p[1] < 0x80) {
        h->len = p[1];
    } else if (p[1] == 0x80) {
        if (!(h->tag & 0x20))
            return fail(r, BO_E_ENVELOPE_MALFORMED, "indefinite length on a primitive element");
        h->indef = true;
        h->len = 0;
    } else {
        size_t nb = p[1] & 0x7f;
        if (nb > 8)
            return fail(r, BO_E_ENVELOPE_MALFORMED, "length field too long");
        if (!fill(r, 2 + nb))
            return short_input(r);
        p = r->buf + r->pos;
        uint64_t v = 0;
        for (size_t i = 0; i < nb; i++)
            v = (v << 8) | p[2 + i];
        if (v >= LEN_MAX)
            return fail(r, BO_E_ENVELOPE_MALFORMED, "length out of range");
        h->len = v;
        hl += nb;
    }
    uint64_t lim = limit(r);
    if (lim != UINT64_MAX && (r->off + hl > lim || (!h->indef && h->len > lim - r->off - hl)))
        return fail(r, BO_E_ENVELOPE_MALFORMED, "element longer than its container");
    consume(r, hl);
    return BO_E_OK;
}

/* Read a header and require tag (and, unless any_len, the primitive/constructed form's
 * length kind: definite for primitives). */
static bo_err expect(rd *r, uint8_t tag, hdr *h, const char *what)
{
    bo_err e = read_hdr(r, h);
    if (e != BO_E_OK)
        return e;
    if (h->tag != tag)
        return fail(r, BO_E_ENVELOPE_MALFORMED, what);
    return BO_E_OK;
}

static bo_err push(rd *r, const hdr *h)
{
    if (r->depth == FRAMES)
        return fail(r, BO_E_ENVELOPE_MALFORMED, "nested too deeply");
    r->fr[r->depth].indef = h->indef;
    r->fr[r->depth].end = h->indef ? 0 : r->off + h->len;
    r->depth++;
    return BO_E_OK;
}

/* Whether the innermost open element has no more content. */
static bo_err at_end(rd *r, bool *yes)
{
    const frame *f = &r->fr[r->depth - 1];
    if (!f->indef) {
        *yes = r->off == f->end;
        return BO_E_OK;
    }
    if (!fill(r, 2))
        return short_input(r);
    *yes = r->buf[r->pos] == 0 && r->buf[r->pos + 1] == 0;
    return BO_E_OK;
}

/* Close the innermost element: its end-of-contents octets, or its exact length. */
static bo_err pop(rd *r)
{
    frame f = r->fr[--r->depth];
    if (f.indef) {
        if (!fill(r, 2))
            return short_input(r);
        if (r->buf[r->pos] != 0 || r->buf[r->pos + 1] != 0)
            return fail(r, BO_E_ENVELOPE_MALFORMED, "unexpected element before end-of-contents");
        consume(r, 2);
        uint64_t lim = limit(r);
        if (lim != UINT64_MAX && r->off > lim)
            return fail(r, BO_E_ENVELOPE_MALFORMED, "element longer than its container");
        return BO_E_OK;
    }
    if (r->off != f.end)
        return fail(r, BO_E_ENVELOPE_MALFORMED, "unexpected element at the end of a SEQUENCE");
    return BO_E_OK;
}

static bo_err peek_tag(rd *r, uint8_t *tag)
{
    if (!fill(r, 1))
        return short_input(r);
    *tag = r->buf[r->pos];
    return BO_E_OK;
}

/* Copy len bytes of content into dst. */
static bo_err read_into(rd *r, uint8_t *dst, size_t len)
{
    while (len) {
        if (!fill(r, 1))
            return short_input(r);
        size_t take = r->end - r->pos < len ? r->end - r->pos : len;
        if (dst) {
            memcpy(dst, r->buf + r->pos, take);
            dst += take;
        }
        consume(r, take);
        len -= take;
    }
    return BO_E_OK;
}

/* A small definite element (tag, then the content into out[0..*len), at most cap bytes). */
static bo_err small(rd *r, uint8_t tag, uint8_t *out, size_t cap, size_t *len, const char *what)
{
    hdr h;
    bo_err e = expect(r, tag, &h, what);
    if (e != BO_E_OK)
        return e;
    if (h.indef || h.len > cap)
        return fail(r, BO_E_ENVELOPE_MALFORMED, what);
    *len = (size_t)h.len;
    return read_into(r, out, (size_t)h.len);
}

/* ---- the walk ---------------------------------------------------------------------------- */

typedef struct walk {
    rd r;
    bo_envelope_info *info;
    /* decryption; ctx NULL when only inspecting */
    const bo_secret *cek;
    EVP_CIPHER_CTX *ctx;
    bo_write_fn out;
    void *oud;
    uint8_t *pt;
    uint8_t mac[16];
    uint8_t iv[16];
    size_t iv_len;
} walk;

static const char *ri_alg_name(const bo__ri *ri)
{
    if (ri->kind == BO__RI_KTRI) {
        if (ri->sm2)
            return "sm2encrypt";
        if (!ri->oaep)
            return "rsaes-pkcs1-v1_5";
        static const char *const md[] = {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
        static const char *const names[5][5] = {
#define ROW(h)                                                                                     \
    {"rsaes-oaep(" h ",mgf1-SHA1)", "rsaes-oaep(" h ",mgf1-SHA224)",                               \
     "rsaes-oaep(" h ",mgf1-SHA256)", "rsaes-oaep(" h ",mgf1-SHA384)",                             \
     "rsaes-oaep(" h ",mgf1-SHA512)"}
            ROW("SHA1"), ROW("SHA224"), ROW("SHA256"), ROW("SHA384"), ROW("SHA512"),
#undef ROW
        };
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                if (strcmp(ri->oaep_md, md[i]) == 0 && strcmp(ri->mgf1_md, md[j]) == 0)
                    return names[i][j];
        return "rsaes-oaep";
    }
    static const char *const kdf[] = {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
    static const char *const wraps[] = {"AES-128-WRAP", "AES-192-WRAP", "AES-256-WRAP"};
    static const char *const names[5][3] = {
#define ROW(h)                                                                                     \
    {"ecdh(" h "-kdf)+AES-128-WRAP", "ecdh(" h "-kdf)+AES-192-WRAP", "ecdh(" h "-kdf)+AES-256-WRAP"}
        ROW("SHA1"), ROW("SHA224"), ROW("SHA256"), ROW("SHA384"), ROW("SHA512"),
#undef ROW
    };
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 3; j++)
            if (strcmp(ri->kdf_md, kdf[i]) == 0 && strcmp(ri->wrap_cipher, wraps[j]) == 0)
                return names[i][j];
    return "ecdh";
}

static bo_err walk_ris(walk *w)
{
    rd *r = &w->r;
    hdr h;
    bo_err e = expect(r, 0x31, &h, "no RecipientInfos SET");
    if (e != BO_E_OK)
        return e;
    if (h.indef || h.len == 0 || h.len > BO_ENVELOPE_RIS_MAX)
        return fail(r, BO_E_ENVELOPE_MALFORMED, "RecipientInfos: indefinite, empty or too large");
    uint8_t *set = OPENSSL_malloc((size_t)h.len);
    if (!set)
        return BO_E_NOMEM;
    e = read_into(r, set, (size_t)h.len);
    bo__der d = {set, (size_t)h.len};
    bo__ri *ri = e == BO_E_OK ? OPENSSL_zalloc(sizeof(*ri)) : NULL;
    if (e == BO_E_OK && !ri)
        e = BO_E_NOMEM;
    while (e == BO_E_OK && d.len) {
        bo__tlv t;
        if (w->info->n_ri == BO_ENVELOPE_MAX_RI) {
            e = fail(r, BO_E_ENVELOPE_MALFORMED, "too many RecipientInfos");
            break;
        }
        if (!bo__der_next(&d, &t)) {
            e = fail(r, BO_E_ENVELOPE_MALFORMED, "a RecipientInfo is not DER");
            break;
        }
        e = bo__ri_parse(t.raw, t.raw_len, ri);
        if (e != BO_E_OK) {
            fail(r, e, e == BO_E_ENVELOPE_CIPHER ? "a RecipientInfo of a type or algorithm "
                                                   "bidopen does not take"
                                                 : "a malformed RecipientInfo");
            break;
        }
        bo_envelope_ri *out = &w->info->ri[w->info->n_ri++];
        out->type = ri->kind == BO__RI_KTRI ? BO_RI_KTRI : BO_RI_KARI;
        out->alg = ri_alg_name(ri);
        out->rid_is_ski = ri->kind == BO__RI_KTRI ? ri->rid.is_ski : ri->rek[0].rid.is_ski;
        e = bo_blob_list_push(&w->info->_store, t.raw, t.raw_len);
    }
    OPENSSL_free(ri);
    OPENSSL_free(set);
    return e;
}

/* contentEncryptionAlgorithm: AES-256-GCM (AuthEnveloped) or AES-256-CBC (Enveloped). */
static bo_err walk_alg(walk *w)
{
    rd *r = &w->r;
    uint8_t alg[SMALL_MAX];
    size_t al;
    bo_err e = small(r, 0x30, alg, sizeof alg, &al, "bad contentEncryptionAlgorithm");
    if (e != BO_E_OK)
        return e;
    bo__der d = {alg, al};
    bo__tlv oid, params;
    if (!bo__der_expect(&d, 0x06, &oid) || !bo__der_next(&d, &params) || d.len)
        return fail(r, BO_E_ENVELOPE_MALFORMED, "bad contentEncryptionAlgorithm");
    bool auth = w->info->type == BO_ENVELOPE_AUTH_ENVELOPED;
    if (auth && bo__der_is_oid(&oid, &BO__OID_AES256_GCM)) {
        w->info->cipher = BO_ENVELOPE_AES256_GCM;
        bo__der g = bo__der_in(&params);
        bo__tlv nonce, icv;
        long icvlen = 12; /* the DEFAULT of RFC 5084 */
        if (params.tag != 0x30 || !bo__der_expect(&g, 0x04, &nonce))
            return fail(r, BO_E_ENVELOPE_MALFORMED, "bad GCMParameters");
        if (g.len && (!bo__der_expect(&g, 0x02, &icv) || !bo__der_small_int(&icv, &icvlen) ||
                      g.len))
            return fail(r, BO_E_ENVELOPE_MALFORMED, "bad GCMParameters");
        if (nonce.len != 12)
            return fail(r, BO_E_ENVELOPE_CIPHER, "the GCM nonce is not 12 bytes");
        if (icvlen != 16)
            return fail(r, BO_E_ENVELOPE_CIPHER, "the GCM tag length is not 16");
        memcpy(w->iv, nonce.val, 12);
        w->iv_len = 12;
        return BO_E_OK;
    }
    if (!auth && bo__der_is_oid(&oid, &BO__OID_AES256_CBC)) {
        w->info->cipher = BO_ENVELOPE_AES256_CBC;
        if (params.tag != 0x04 || params.len != 16)
            return fail(r, BO_E_ENVELOPE_MALFORMED, "bad CBC IV");
        memcpy(w->iv, params.val, 16);
        w->iv_len = 16;
        return BO_E_OK;
    }
    return fail(r, BO_E_ENVELOPE_CIPHER,
                auth ? "AuthEnvelopedData content cipher is not AES-256-GCM"
                     : "EnvelopedData content cipher is not AES-256-CBC");
}

static bo_err start_decrypt(walk *w)
{
    if (!w->cek)
        return BO_E_OK;
    bool gcm = w->info->cipher == BO_ENVELOPE_AES256_GCM;
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, gcm ? "AES-256-GCM" : "AES-256-CBC", NULL);
    w->ctx = EVP_CIPHER_CTX_new();
    bool ok = c && w->ctx && EVP_DecryptInit_ex2(w->ctx, c, NULL, NULL, NULL) > 0 &&
              EVP_CIPHER_CTX_get_key_length(w->ctx) == (int)bo_secret_len(w->cek);
    if (ok && gcm)
        ok = EVP_CIPHER_CTX_ctrl(w->ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) > 0;
    ok = ok && EVP_DecryptInit_ex2(w->ctx, NULL, bo_secret_cdata(w->cek), w->iv, NULL) > 0;
    EVP_CIPHER_free(c);
    ERR_clear_error();
    return ok ? BO_E_OK : BO_E_INTERNAL;
}

/* Content octets: counted, and decrypted when there is a CEK. */
static bo_err content(walk *w, uint64_t len)
{
    rd *r = &w->r;
    w->info->content_len += len;
    while (len) {
        if (!fill(r, 1))
            return short_input(r);
        size_t take = r->end - r->pos;
        if (take > len)
            take = (size_t)len;
        if (take > CHUNK)
            take = CHUNK;
        if (w->ctx) {
            int pl = 0;
            if (EVP_DecryptUpdate(w->ctx, w->pt, &pl, r->buf + r->pos, (int)take) <= 0) {
                ERR_clear_error();
                return BO_E_INTERNAL;
            }
            if (pl > 0) {
                bo_err e = w->out(w->oud, w->pt, (size_t)pl);
                if (e != BO_E_OK)
                    return e;
            }
        }
        consume(r, take);
        len -= take;
    }
    return BO_E_OK;
}

/* The segments of a constructed encryptedContent (or of a nested constructed segment). */
static bo_err segments(walk *w, unsigned nest)
{
    rd *r = &w->r;
    for (;;) {
        bool done;
        bo_err e = at_end(r, &done);
        if (e != BO_E_OK)
            return e;
        if (done)
            return pop(r);
        hdr h = {0};
        if ((e = read_hdr(r, &h)) != BO_E_OK)
            return e;
        if (h.tag == 0x04) {
            e = content(w, h.len);
        } else if (h.tag == 0x24) {
            if (nest >= BO_ENVELOPE_SEG_DEPTH)
                return fail(r, BO_E_ENVELOPE_MALFORMED, "content segments nested too deeply");
            e = push(r, &h);
            if (e == BO_E_OK)
                e = segments(w, nest + 1);
        } else {
            return fail(r, BO_E_ENVELOPE_MALFORMED, "a content segment is not an OCTET STRING");
        }
        if (e != BO_E_OK)
            return e;
    }
}

/* Skip optional attributes ([1] or [2]): definite and capped. */
static bo_err skip_attrs(rd *r, uint8_t tag)
{
    hdr h;
    bo_err e = read_hdr(r, &h);
    if (e != BO_E_OK)
        return e;
    if (h.tag != tag || h.indef || h.len > BO_ENVELOPE_ATTRS_MAX)
        return fail(r, BO_E_ENVELOPE_MALFORMED, "attributes: indefinite or too large");
    return read_into(r, NULL, (size_t)h.len);
}

static bo_err walk_envelope(walk *w)
{
    rd *r = &w->r;
    bo_envelope_info *info = w->info;
    uint8_t small_buf[SMALL_MAX];
    size_t sl;
    hdr h;
    /* ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content } */
    bo_err e = expect(r, 0x30, &h, "not a CMS ContentInfo");
    if (e == BO_E_OK) {
        info->indefinite = h.indef;
        e = push(r, &h);
    }
    if (e == BO_E_OK)
        e = small(r, 0x06, small_buf, 32, &sl, "not a CMS ContentInfo");
    if (e == BO_E_OK) {
        bo__tlv t = {0x06, small_buf, sl, NULL, 0};
        if (bo__der_is_oid(&t, &BO__OID_AUTH_ENVELOPED))
            info->type = BO_ENVELOPE_AUTH_ENVELOPED;
        else if (bo__der_is_oid(&t, &BO__OID_ENVELOPED))
            info->type = BO_ENVELOPE_ENVELOPED;
        else
            e = fail(r, BO_E_ENVELOPE_MALFORMED,
                     "the content type is neither AuthEnvelopedData nor EnvelopedData");
    }
    if (e == BO_E_OK && (e = expect(r, 0xa0, &h, "no [0] content")) == BO_E_OK)
        e = push(r, &h);
    if (e == BO_E_OK && (e = expect(r, 0x30, &h, "the envelope is not a SEQUENCE")) == BO_E_OK)
        e = push(r, &h);
    /* version: 0 (AuthEnvelopedData), 0 or 2 (EnvelopedData with KTRI / KARI) */
    if (e == BO_E_OK)
        e = small(r, 0x02, small_buf, 4, &sl, "bad version");
    if (e == BO_E_OK) {
        bool ok = sl == 1 && (small_buf[0] == 0 ||
                              (small_buf[0] == 2 && info->type == BO_ENVELOPE_ENVELOPED));
        if (!ok)
            e = fail(r, BO_E_ENVELOPE_MALFORMED, "unexpected version");
    }
    uint8_t tag = 0;
    if (e == BO_E_OK && (e = peek_tag(r, &tag)) == BO_E_OK && tag == 0xa0)
        e = fail(r, BO_E_ENVELOPE_MALFORMED, "originatorInfo is not accepted");
    if (e == BO_E_OK)
        e = walk_ris(w);
    /* EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
     *                                     [0] IMPLICIT encryptedContent OPTIONAL } */
    if (e == BO_E_OK && (e = expect(r, 0x30, &h, "no EncryptedContentInfo")) == BO_E_OK)
        e = push(r, &h);
    if (e == BO_E_OK)
        e = small(r, 0x06, small_buf, 32, &sl, "bad inner content type");
    if (e == BO_E_OK) {
        bo__tlv t = {0x06, small_buf, sl, NULL, 0};
        if (!bo__der_is_oid(&t, &BO__OID_DATA))
            e = fail(r, BO_E_ENVELOPE_MALFORMED, "the inner content type is not id-data");
    }
    if (e == BO_E_OK)
        e = walk_alg(w);
    if (e == BO_E_OK)
        e = start_decrypt(w);
    bool done = false;
    if (e == BO_E_OK && (e = at_end(r, &done)) == BO_E_OK && done)
        e = fail(r, BO_E_ENVELOPE_MALFORMED, "no content (detached envelopes are not accepted)");
    if (e == BO_E_OK)
        e = read_hdr(r, &h);
    if (e == BO_E_OK) {
        if (h.tag == 0x80)
            e = content(w, h.len);
        else if (h.tag == 0xa0 && (e = push(r, &h)) == BO_E_OK)
            e = segments(w, 0);
        else if (h.tag != 0xa0)
            e = fail(r, BO_E_ENVELOPE_MALFORMED, "bad encryptedContent");
    }
    if (e == BO_E_OK)
        e = pop(r); /* EncryptedContentInfo */
    if (e == BO_E_OK && info->type == BO_ENVELOPE_AUTH_ENVELOPED) {
        if ((e = peek_tag(r, &tag)) == BO_E_OK && tag == 0xa1)
            e = fail(r, BO_E_ENVELOPE_MALFORMED, "authAttrs are not accepted");
        if (e == BO_E_OK)
            e = small(r, 0x04, small_buf, SMALL_MAX, &sl, "no mac");
        if (e == BO_E_OK && sl != 16)
            e = fail(r, BO_E_ENVELOPE_MALFORMED, "the mac is not 16 bytes");
        if (e == BO_E_OK)
            memcpy(w->mac, small_buf, 16);
        if (e == BO_E_OK && (e = at_end(r, &done)) == BO_E_OK && !done)
            e = skip_attrs(r, 0xa2);
    } else if (e == BO_E_OK) {
        if ((e = at_end(r, &done)) == BO_E_OK && !done)
            e = skip_attrs(r, 0xa1);
    }
    for (int i = 0; e == BO_E_OK && i < 3; i++)
        e = pop(r); /* (Auth)EnvelopedData, [0], ContentInfo */
    if (e == BO_E_OK && fill(r, 1))
        e = fail(r, BO_E_ENVELOPE_MALFORMED, "bytes after the envelope");
    if (e == BO_E_OK && r->ioerr != BO_E_OK)
        e = fail(r, r->ioerr, "cannot read the envelope");
    return e;
}

/* The tag (GCM) or the padding (CBC), after the whole envelope was read. */
static bo_err finish_decrypt(walk *w)
{
    if (!w->ctx)
        return BO_E_OK;
    bool ok = true;
    if (w->info->cipher == BO_ENVELOPE_AES256_GCM)
        ok = EVP_CIPHER_CTX_ctrl(w->ctx, EVP_CTRL_AEAD_SET_TAG, 16, w->mac) > 0;
    int pl = 0;
    ok = ok && EVP_DecryptFinal_ex(w->ctx, w->pt, &pl) > 0;
    ERR_clear_error();
    if (!ok)
        return fail(&w->r, BO_E_TAG_MISMATCH,
                    w->info->cipher == BO_ENVELOPE_AES256_GCM
                        ? "the GCM tag does not verify (wrong key or tampered content)"
                        : "bad CBC padding (wrong key or tampered content)");
    return pl > 0 ? w->out(w->oud, w->pt, (size_t)pl) : BO_E_OK;
}

void bo_envelope_info_cleanup(bo_envelope_info *info)
{
    if (!info)
        return;
    bo_blob_list_cleanup(&info->_store);
    memset(info, 0, sizeof(*info));
}

static bo_err run(bo_read_fn in, void *ud, uint64_t total, const bo_secret *cek, bo_write_fn out,
                  void *oud, const bo_decrypt_opts *o, bo_envelope_info *info, char *detail,
                  size_t n)
{
    memset(info, 0, sizeof(*info));
    if (detail && n)
        detail[0] = 0;
    if (cek && bo_secret_len(cek) != BO_CEK_LEN)
        return bo__crypto_fail(BO_E_CEK_INVALID, detail, n, "the CEK is %zu bytes, not %u",
                               bo_secret_len(cek), BO_CEK_LEN);
    walk w;
    memset(&w, 0, sizeof w);
    w.info = info;
    w.cek = cek;
    w.out = out;
    w.oud = oud;
    rd *r = &w.r;
    r->in = in;
    r->ud = ud;
    r->total = total;
    r->detail = detail;
    r->dn = n;
    if (o) {
        r->progress = o->progress;
        r->pud = o->progress_ud;
    }
    r->next_report = PROGRESS_STEP;
    bo_err e = BO_E_OK;
    r->buf = OPENSSL_malloc(BUF);
    r->sha = bo_sha256_new(&e);
    if (cek && !(w.pt = OPENSSL_malloc(CHUNK + 64)))
        e = BO_E_NOMEM;
    if (!r->buf || !r->sha)
        e = BO_E_NOMEM;
    if (e == BO_E_OK)
        e = walk_envelope(&w);
    if (e == BO_E_OK) {
        info->size = r->off;
        bo_sha256_final(r->sha, info->sha256);
        if (o && o->expect_sha256 && !bo_ct_equal(info->sha256, o->expect_sha256, 32))
            e = fail(r, BO_E_ENVELOPE_MALFORMED,
                     "the envelope is not the one recorded at submission (SHA-256 differs)");
    }
    if (e == BO_E_OK)
        e = finish_decrypt(&w);
    if (e == BO_E_OK && r->progress)
        r->progress(r->pud, r->off, total ? total : r->off);
    EVP_CIPHER_CTX_free(w.ctx);
    if (w.pt)
        OPENSSL_clear_free(w.pt, CHUNK + 64);
    bo_sha256_free(r->sha);
    OPENSSL_free(r->buf);
    if (e != BO_E_OK)
        bo_envelope_info_cleanup(info);
    return e;
}

/* Fix ri[].der to point into the store (pushed in order). */
static void link_store(bo_envelope_info *info)
{
    for (size_t i = 0; i < info->n_ri; i++)
        info->ri[i].der = info->_store.list.v[i];
}

bo_err bo_envelope_info_read(bo_read_fn in, void *ud, uint64_t total, bo_envelope_info *info,
                             char *detail, size_t n)
{
    bo_err e = run(in, ud, total, NULL, NULL, NULL, NULL, info, detail, n);
    if (e == BO_E_OK)
        link_store(info);
    return e;
}

static int open_in(const char *path, uint64_t *size)
{
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) != 0) {
        close(fd);
        fd = -1;
    }
    *size = fd >= 0 ? (uint64_t)st.st_size : 0;
    return fd;
}

bo_err bo_envelope_info_file(const char *path, bo_envelope_info *info, char *detail, size_t n)
{
    uint64_t size;
    int fd = open_in(path, &size);
    if (fd < 0) {
        memset(info, 0, sizeof(*info));
        return bo__crypto_fail(BO_E_IO, detail, n, "cannot open %s", path ? path : "");
    }
    bo_err e = bo_envelope_info_read(bo__fd_read, &fd, size, info, detail, n);
    close(fd);
    return e;
}

bo_err bo_envelope_decrypt_stream(bo_read_fn in, void *ud, uint64_t total, const bo_secret *cek,
                                  bo_write_fn out, void *oud, const bo_decrypt_opts *o,
                                  bo_envelope_info *info, char *detail, size_t n)
{
    if (!cek)
        return bo__crypto_fail(BO_E_CEK_INVALID, detail, n, "no CEK");
    bo_envelope_info local;
    bo_err e = run(in, ud, total, cek, out, oud, o, info ? info : &local, detail, n);
    if (e == BO_E_OK && info)
        link_store(info);
    if (!info)
        bo_envelope_info_cleanup(&local);
    return e;
}

bo_err bo_envelope_decrypt(const char *in_path, const bo_secret *cek, const char *out_path,
                           const bo_decrypt_opts *o, bo_envelope_info *info, char *detail,
                           size_t n)
{
    if (info)
        memset(info, 0, sizeof(*info));
    if (!in_path || !out_path || strcmp(in_path, out_path) == 0)
        return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad input or output path");
    if (!cek || bo_secret_len(cek) != BO_CEK_LEN)
        return bo__crypto_fail(BO_E_CEK_INVALID, detail, n, "the CEK is not %u bytes",
                               BO_CEK_LEN);
    uint64_t size;
    int fd = open_in(in_path, &size);
    if (fd < 0)
        return bo__crypto_fail(BO_E_IO, detail, n, "cannot open %s", in_path);
    bo__partial pt;
    bo_err e = bo__partial_open(&pt, out_path);
    if (e != BO_E_OK) {
        close(fd);
        return bo__crypto_fail(e, detail, n, "cannot create %s.partial", out_path);
    }
    e = bo_envelope_decrypt_stream(bo__fd_read, &fd, size, cek, bo__fd_write, &pt.fd, o, info,
                                   detail, n);
    close(fd);
    if (e == BO_E_OK && (e = bo__partial_commit(&pt, out_path)) != BO_E_OK) {
        bo__crypto_fail(e, detail, n, "cannot write %s", out_path);
        bo_envelope_info_cleanup(info);
    }
    if (e != BO_E_OK)
        bo__partial_abort(&pt);
    return e;
}

/* ---- recipients ---------------------------------------------------------------------------- */

bo_err bo_envelope_recipient_matches(const uint8_t *ri_der, size_t ri_len, const uint8_t *cert_der,
                                     size_t cert_len)
{
    bo__ri *ri = OPENSSL_zalloc(sizeof(*ri));
    if (!ri)
        return BO_E_NOMEM;
    bo_err e = bo__ri_parse(ri_der, ri_len, ri);
    X509 *x = e == BO_E_OK ? bo__crypto_x509_from_der(cert_der, cert_len) : NULL;
    if (e == BO_E_OK && !x)
        e = BO_E_CERT_INVALID;
    if (e == BO_E_OK) {
        EVP_PKEY *pub = X509_get0_pubkey(x);
        bo_keyalg alg = pub ? bo__crypto_pkey_alg(pub, NULL) : BO_KEY_OTHER;
        bool ok = false;
        if (ri->kind == BO__RI_KTRI)
            ok = alg == (ri->sm2 ? BO_KEY_SM2 : BO_KEY_RSA) && bo__rid_matches(&ri->rid, x);
        else
            for (size_t i = 0; i < ri->n_rek && !ok; i++)
                ok = alg == BO_KEY_EC_P256 && bo__rid_matches(&ri->rek[i].rid, x);
        if (!ok)
            e = BO_E_RECIPIENT_MISMATCH;
    }
    X509_free(x);
    OPENSSL_free(ri);
    ERR_clear_error();
    return e;
}

bo_err bo_envelope_find_recipient(const bo_envelope_info *info, const uint8_t *cert_der,
                                  size_t cert_len, size_t *idx)
{
    bo_err e = BO_E_RECIPIENT_MISMATCH;
    for (size_t i = 0; i < info->n_ri; i++) {
        e = bo_envelope_recipient_matches(info->ri[i].der.p, info->ri[i].der.len, cert_der,
                                          cert_len);
        if (e == BO_E_OK) {
            *idx = i;
            return e;
        }
        if (e != BO_E_RECIPIENT_MISMATCH)
            return e;
    }
    return e;
}

static bo_err discard(void *ud, const uint8_t *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    return BO_E_OK;
}

bo_err bo_envelope_commitment_from_key(const char *envelope_path, const bo_key *enc_key,
                                       const uint8_t *enc_cert_der, size_t enc_cert_len,
                                       const char *oid, const char *uscc, uint8_t out[32],
                                       char *detail, size_t n)
{
    bo_envelope_info info;
    bo_err e = bo_envelope_info_file(envelope_path, &info, detail, n);
    if (e != BO_E_OK)
        return e;
    size_t idx = 0;
    bo_secret *cek = NULL;
    e = bo_envelope_find_recipient(&info, enc_cert_der, enc_cert_len, &idx);
    if (e != BO_E_OK)
        bo__crypto_fail(e, detail, n, "no RecipientInfo of the envelope is addressed to this "
                                      "encryption certificate");
    if (e == BO_E_OK && (e = bo_cek_unwrap(info.ri[idx].der.p, info.ri[idx].der.len, enc_key,
                                           enc_cert_der, enc_cert_len, &cek)) != BO_E_OK)
        bo__crypto_fail(e, detail, n, "cannot unwrap the CEK: %s", bo_strerror(e));
    if (e == BO_E_OK) {
        uint64_t size;
        int fd = open_in(envelope_path, &size);
        if (fd < 0) {
            e = bo__crypto_fail(BO_E_IO, detail, n, "cannot open %s", envelope_path);
        } else {
            bo_decrypt_opts o = {.expect_sha256 = info.sha256};
            e = bo_envelope_decrypt_stream(bo__fd_read, &fd, size, cek, discard, NULL, &o, NULL,
                                           detail, n);
            close(fd);
        }
    }
    if (e == BO_E_OK)
        e = bo_cek_commitment(cek, oid, uscc, out);
    bo_secret_free(cek);
    bo_envelope_info_cleanup(&info);
    return e;
}
