/* The bid package (docs/sealed-bids.md §2): written in two passes over the documents (hash,
 * then copy), read as a small checked head followed by streamed documents. The manifest is
 * canonical msgpack written and parsed by hand here (crypto/ sits below session/). */
#include "bo/package.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bo/uscc.h"
#include "bo/utf8.h"
#include "bo_cms_internal.h"
#include "bo_crypto_internal.h"

static const uint8_t MAGIC[6] = {'B', 'O', 'P', 'K', 'G', 0};
#define HEAD_FIXED 12u          /* magic, version, manifest length */
#define CHUNK (64u * 1024u)

/* ---- validation shared by writer and reader ------------------------------------------------- */

static bool oid_ok(const char *s, size_t l)
{
    if (l == 0 || l > 64)
        return false;
    for (size_t i = 0; i < l; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool key_ok(const char *s, size_t l)
{
    if (l == 0 || l > BO_PACKAGE_KEY_MAX)
        return false;
    for (size_t i = 0; i < l; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static bool value_ok(const char *s, size_t l)
{
    return l <= BO_PACKAGE_VALUE_MAX && bo_utf8_valid(s, l);
}

static bool name_ok(const char *s, size_t l)
{
    if (l == 0 || l > BO_PACKAGE_NAME_MAX || !bo_utf8_valid(s, l))
        return false;
    if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < l; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

static bool uscc_ok(const char *s, size_t l)
{
    char tmp[BO_USCC_LEN + 1];
    if (l != BO_USCC_LEN)
        return false;
    memcpy(tmp, s, l);
    tmp[l] = 0;
    return bo_uscc_valid(tmp);
}

/* ---- canonical msgpack writer ---------------------------------------------------------------- */

static bo_err mp_hdr(bo_buf *b, uint8_t fix, uint8_t fixmax, uint8_t c8, uint8_t c16, uint8_t c32,
                     uint64_t n)
{
    uint8_t h[9];
    size_t hl;
    if (fix && n <= fixmax) {
        h[0] = (uint8_t)(fix | n);
        hl = 1;
    } else if (c8 && n <= 0xff) {
        h[0] = c8;
        h[1] = (uint8_t)n;
        hl = 2;
    } else if (n <= 0xffff) {
        h[0] = c16;
        h[1] = (uint8_t)(n >> 8);
        h[2] = (uint8_t)n;
        hl = 3;
    } else {
        h[0] = c32;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (uint8_t)(n >> (24 - 8 * i));
        hl = 5;
    }
    return bo_buf_append(b, h, hl);
}

static bo_err mp_str(bo_buf *b, const char *s, size_t l)
{
    bo_err e = mp_hdr(b, 0xa0, 31, 0xd9, 0xda, 0xdb, l);
    return e == BO_E_OK && l ? bo_buf_append(b, s, l) : e;
}

static bo_err mp_cstr(bo_buf *b, const char *s)
{
    return mp_str(b, s, strlen(s));
}

static bo_err mp_bin(bo_buf *b, const uint8_t *p, size_t l)
{
    bo_err e = mp_hdr(b, 0, 0, 0xc4, 0xc5, 0xc6, l);
    return e == BO_E_OK && l ? bo_buf_append(b, p, l) : e;
}

static bo_err mp_map(bo_buf *b, size_t n)
{
    return mp_hdr(b, 0x80, 15, 0, 0xde, 0xdf, n);
}

static bo_err mp_arr(bo_buf *b, size_t n)
{
    return mp_hdr(b, 0x90, 15, 0, 0xdc, 0xdd, n);
}

static bo_err mp_uint(bo_buf *b, uint64_t v)
{
    uint8_t h[9];
    size_t hl;
    if (v < 0x80) {
        h[0] = (uint8_t)v;
        hl = 1;
    } else if (v <= 0xff) {
        h[0] = 0xcc;
        h[1] = (uint8_t)v;
        hl = 2;
    } else if (v <= 0xffff) {
        h[0] = 0xcd;
        h[1] = (uint8_t)(v >> 8);
        h[2] = (uint8_t)v;
        hl = 3;
    } else if (v <= 0xffffffffu) {
        h[0] = 0xce;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
        hl = 5;
    } else {
        h[0] = 0xcf;
        for (int i = 0; i < 8; i++)
            h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
        hl = 9;
    }
    return bo_buf_append(b, h, hl);
}

/* ---- the manifest in memory ----------------------------------------------------------------- */

typedef struct doc_meta {
    char *name;
    uint64_t size;
    uint8_t sha256[32];
} doc_meta;

typedef struct manifest {
    char oid[65];
    char uscc[BO_USCC_LEN + 1];
    uint8_t salt[BO_PACKAGE_SALT_LEN];
    uint8_t fpr[32];
    size_t n_form;
    bo_package_field form[BO_PACKAGE_FORM_MAX]; /* key/value strings owned (OPENSSL_malloc) */
    size_t n_docs;
    doc_meta docs[BO_PACKAGE_DOCS_MAX];         /* names owned */
} manifest;

/* The form is the bid (its price): wiped like any plaintext. */
static void free_str(const char *s)
{
    if (s)
        OPENSSL_clear_free((char *)s, strlen(s) + 1);
}

static void manifest_cleanup(manifest *m)
{
    for (size_t i = 0; i < m->n_form; i++) {
        free_str(m->form[i].key);
        free_str(m->form[i].value);
    }
    for (size_t i = 0; i < m->n_docs; i++)
        OPENSSL_free(m->docs[i].name);
    m->n_form = m->n_docs = 0;
}

/* Keys sorted by their bytes; the canonical order of protocol.md §2. */
static int field_cmp(const void *a, const void *b)
{
    const bo_package_field *x = a, *y = b;
    return strcmp(x->key, y->key);
}

/* {docs:[{name,sha256,size}], form:{k:v}, oid, salt, sign_fpr, uscc} */
static bo_err manifest_encode(const manifest *m, bo_buf *out)
{
    bo_err e = mp_map(out, 6);
    if (e == BO_E_OK)
        e = mp_cstr(out, "docs");
    if (e == BO_E_OK)
        e = mp_arr(out, m->n_docs);
    for (size_t i = 0; e == BO_E_OK && i < m->n_docs; i++) {
        e = mp_map(out, 3);
        if (e == BO_E_OK)
            e = mp_cstr(out, "name");
        if (e == BO_E_OK)
            e = mp_cstr(out, m->docs[i].name);
        if (e == BO_E_OK)
            e = mp_cstr(out, "sha256");
        if (e == BO_E_OK)
            e = mp_bin(out, m->docs[i].sha256, 32);
        if (e == BO_E_OK)
            e = mp_cstr(out, "size");
        if (e == BO_E_OK)
            e = mp_uint(out, m->docs[i].size);
    }
    if (e == BO_E_OK)
        e = mp_cstr(out, "form");
    if (e == BO_E_OK)
        e = mp_map(out, m->n_form);
    for (size_t i = 0; e == BO_E_OK && i < m->n_form; i++) {
        e = mp_cstr(out, m->form[i].key);
        if (e == BO_E_OK)
            e = mp_cstr(out, m->form[i].value);
    }
    if (e == BO_E_OK)
        e = mp_cstr(out, "oid");
    if (e == BO_E_OK)
        e = mp_cstr(out, m->oid);
    if (e == BO_E_OK)
        e = mp_cstr(out, "salt");
    if (e == BO_E_OK)
        e = mp_bin(out, m->salt, sizeof m->salt);
    if (e == BO_E_OK)
        e = mp_cstr(out, "sign_fpr");
    if (e == BO_E_OK)
        e = mp_bin(out, m->fpr, sizeof m->fpr);
    if (e == BO_E_OK)
        e = mp_cstr(out, "uscc");
    if (e == BO_E_OK)
        e = mp_cstr(out, m->uscc);
    return e;
}

/* ---- strict msgpack reader (canonical forms only) ---------------------------------------- */

typedef struct mp_rd {
    const uint8_t *p;
    size_t len;
    bool bad;
} mp_rd;

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static const uint8_t *take(mp_rd *r, size_t n)
{
    if (r->bad || r->len < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->len -= n;
    return p;
}

/* A header of one of the kinds (fix range, 8/16/32-bit codes), with the shortest-form rule. */
static uint64_t rd_hdr(mp_rd *r, uint8_t fix, uint8_t fixmask, uint8_t fixmax, uint8_t c8,
                       uint8_t c16, uint8_t c32)
{
    const uint8_t *t = take(r, 1);
    if (!t)
        return 0;
    uint64_t n;
    uint64_t min;
    if (fix && (t[0] & fixmask) == fix) {
        return t[0] & (uint8_t)~fixmask;
    } else if (c8 && t[0] == c8) {
        const uint8_t *q = take(r, 1);
        n = q ? q[0] : 0;
        min = fix ? (uint64_t)fixmax + 1 : 0;
    } else if (t[0] == c16) {
        const uint8_t *q = take(r, 2);
        n = q ? be(q, 2) : 0;
        min = c8 ? 0x100 : (uint64_t)fixmax + 1;
    } else if (t[0] == c32) {
        const uint8_t *q = take(r, 4);
        n = q ? be(q, 4) : 0;
        min = 0x10000;
    } else {
        r->bad = true;
        return 0;
    }
    if (n < min)
        r->bad = true;
    return n;
}

static size_t rd_map(mp_rd *r)
{
    return (size_t)rd_hdr(r, 0x80, 0xf0, 15, 0, 0xde, 0xdf);
}

static size_t rd_arr(mp_rd *r)
{
    return (size_t)rd_hdr(r, 0x90, 0xf0, 15, 0, 0xdc, 0xdd);
}

static const char *rd_str(mp_rd *r, size_t *len)
{
    size_t n = (size_t)rd_hdr(r, 0xa0, 0xe0, 31, 0xd9, 0xda, 0xdb);
    const uint8_t *p = r->bad ? NULL : take(r, n);
    *len = p ? n : 0;
    return (const char *)p;
}

static const uint8_t *rd_bin(mp_rd *r, size_t want)
{
    size_t n = (size_t)rd_hdr(r, 0, 0, 0, 0xc4, 0xc5, 0xc6);
    if (!r->bad && n != want)
        r->bad = true;
    return r->bad ? NULL : take(r, n);
}

static uint64_t rd_uint(mp_rd *r)
{
    const uint8_t *t = take(r, 1);
    if (!t)
        return 0;
    if (t[0] < 0x80)
        return t[0];
    static const struct {
        uint8_t code;
        size_t n;
        uint64_t min;
    } kinds[] = {{0xcc, 1, 0x80}, {0xcd, 2, 0x100}, {0xce, 4, 0x10000}, {0xcf, 8, 0x100000000ull}};
    for (size_t i = 0; i < 4; i++) {
        if (t[0] != kinds[i].code)
            continue;
        const uint8_t *q = take(r, kinds[i].n);
        uint64_t v = q ? be(q, kinds[i].n) : 0;
        if (v < kinds[i].min)
            r->bad = true;
        return v;
    }
    r->bad = true;
    return 0;
}

static bool rd_key(mp_rd *r, const char *want)
{
    size_t l;
    const char *s = rd_str(r, &l);
    return s && l == strlen(want) && memcmp(s, want, l) == 0;
}

static char *dup_str(const char *s, size_t l)
{
    char *d = OPENSSL_malloc(l + 1);
    if (d) {
        memcpy(d, s, l);
        d[l] = 0;
    }
    return d;
}

/* Parse a manifest; every field is required and checked. Returns a sentence on failure. */
static const char *manifest_parse(const uint8_t *p, size_t len, manifest *m)
{
    mp_rd r = {p, len, false};
    if (rd_map(&r) != 6 || r.bad)
        return "the manifest is not a map of the six manifest keys";
    if (!rd_key(&r, "docs"))
        return "the manifest's first key is not \"docs\"";
    size_t nd = rd_arr(&r);
    if (r.bad || nd > BO_PACKAGE_DOCS_MAX)
        return "bad document list";
    uint64_t total = 0;
    for (size_t i = 0; i < nd; i++) {
        if (rd_map(&r) != 3 || !rd_key(&r, "name"))
            return "bad document entry";
        size_t nl;
        const char *name = rd_str(&r, &nl);
        if (!name || !name_ok(name, nl))
            return "bad document name";
        for (size_t j = 0; j < i; j++)
            if (strlen(m->docs[j].name) == nl && memcmp(m->docs[j].name, name, nl) == 0)
                return "duplicate document name";
        if (!rd_key(&r, "sha256"))
            return "bad document entry";
        const uint8_t *h = rd_bin(&r, 32);
        if (!h || !rd_key(&r, "size"))
            return "bad document entry";
        uint64_t size = rd_uint(&r);
        if (r.bad)
            return "bad document size";
        if (size > BO_PACKAGE_TOTAL_MAX || total + size > BO_PACKAGE_TOTAL_MAX)
            return "the documents are larger than a package may be";
        total += size;
        doc_meta *d = &m->docs[m->n_docs];
        if (!(d->name = dup_str(name, nl)))
            return "out of memory";
        m->n_docs++;
        d->size = size;
        memcpy(d->sha256, h, 32);
    }
    if (!rd_key(&r, "form"))
        return "the manifest's second key is not \"form\"";
    size_t nf = rd_map(&r);
    if (r.bad || nf > BO_PACKAGE_FORM_MAX)
        return "bad opening form";
    for (size_t i = 0; i < nf; i++) {
        size_t kl, vl;
        const char *k = rd_str(&r, &kl);
        if (!k || !key_ok(k, kl))
            return "bad opening-form key";
        const char *v = rd_str(&r, &vl);
        if (!v || !value_ok(v, vl))
            return "bad opening-form value";
        if (i > 0) {
            const char *pk = m->form[i - 1].key;
            size_t pl = strlen(pk);
            int c = memcmp(pk, k, pl < kl ? pl : kl);
            if (c > 0 || (c == 0 && pl >= kl))
                return "opening-form keys are not sorted and unique";
        }
        bo_package_field *f = &m->form[m->n_form];
        f->key = dup_str(k, kl);
        f->value = dup_str(v, vl);
        m->n_form++;
        if (!f->key || !f->value)
            return "out of memory";
    }
    size_t l;
    const char *s;
    if (!rd_key(&r, "oid") || !(s = rd_str(&r, &l)) || !oid_ok(s, l))
        return "bad oid";
    memcpy(m->oid, s, l);
    m->oid[l] = 0;
    const uint8_t *b;
    if (!rd_key(&r, "salt") || !(b = rd_bin(&r, BO_PACKAGE_SALT_LEN)))
        return "bad salt";
    memcpy(m->salt, b, BO_PACKAGE_SALT_LEN);
    if (!rd_key(&r, "sign_fpr") || !(b = rd_bin(&r, 32)))
        return "bad sign_fpr";
    memcpy(m->fpr, b, 32);
    if (!rd_key(&r, "uscc") || !(s = rd_str(&r, &l)) || !uscc_ok(s, l))
        return "bad uscc";
    memcpy(m->uscc, s, l);
    m->uscc[l] = 0;
    if (r.bad || r.len)
        return "bytes after the manifest map";
    return NULL;
}

/* ---- writer ------------------------------------------------------------------------------ */

struct bo_package {
    const bo_package_spec *spec;
    manifest m;
    bo_buf head; /* magic .. signature */
    uint64_t size;
};

uint64_t bo_package_size(const bo_package *p)
{
    return p->size;
}

void bo_package_free(bo_package *p)
{
    if (!p)
        return;
    manifest_cleanup(&p->m);
    bo_buf_cleanup_wipe(&p->head);
    OPENSSL_free(p);
}

/* Stream one document (file or memory) through fn in CHUNK pieces; hash and count. */
static bo_err doc_stream(const bo_package_doc *d, uint8_t *buf, bo_write_fn fn, void *ud,
                         uint8_t sha[32], uint64_t *size)
{
    bo_err e = BO_E_OK;
    bo_sha256_ctx *h = bo_sha256_new(&e);
    if (!h)
        return e;
    *size = 0;
    if (!d->path) {
        const uint8_t *p = d->data;
        size_t left = d->len;
        while (e == BO_E_OK && left) {
            size_t n = left < CHUNK ? left : CHUNK;
            bo_sha256_update(h, p, n);
            if (fn)
                e = fn(ud, p, n);
            p += n;
            left -= n;
            *size += n;
        }
    } else {
        int fd = open(d->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            e = BO_E_IO;
        while (e == BO_E_OK) {
            size_t got = 0;
            e = bo__fd_read(&fd, buf, CHUNK, &got);
            if (e != BO_E_OK || got == 0)
                break;
            bo_sha256_update(h, buf, got);
            if (fn)
                e = fn(ud, buf, got);
            *size += got;
            if (*size > BO_PACKAGE_TOTAL_MAX)
                e = BO_E_TOO_BIG;
        }
        if (fd >= 0)
            close(fd);
    }
    bo_sha256_final(h, sha);
    bo_sha256_free(h);
    return e;
}

static bo_err check_spec(const bo_package_spec *s, const bo_key *key, char *detail, size_t n)
{
    if (!s || !key)
        return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "no package spec or key");
    if (!s->oid || !oid_ok(s->oid, strlen(s->oid)))
        return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad oid");
    if (!s->uscc || !uscc_ok(s->uscc, strlen(s->uscc)))
        return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad USCC");
    if (s->n_form > BO_PACKAGE_FORM_MAX)
        return bo__crypto_fail(BO_E_TOO_MANY, detail, n, "more than %u form fields",
                               BO_PACKAGE_FORM_MAX);
    if (s->n_docs > BO_PACKAGE_DOCS_MAX)
        return bo__crypto_fail(BO_E_TOO_MANY, detail, n, "more than %u documents",
                               BO_PACKAGE_DOCS_MAX);
    for (size_t i = 0; i < s->n_form; i++) {
        const bo_package_field *f = &s->form[i];
        if (!f->key || !key_ok(f->key, strlen(f->key)))
            return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad form key #%zu", i);
        if (!f->value || !value_ok(f->value, strlen(f->value)))
            return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad value for form key %s",
                                   f->key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->form[j].key, f->key) == 0)
                return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "form key %s twice", f->key);
    }
    for (size_t i = 0; i < s->n_docs; i++) {
        const bo_package_doc *d = &s->docs[i];
        if (!d->name || !name_ok(d->name, strlen(d->name)))
            return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad document name #%zu", i);
        if (!d->path && !d->data && d->len)
            return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "document %s has no content",
                                   d->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->docs[j].name, d->name) == 0)
                return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "document name %s twice",
                                       d->name);
    }
    if (!s->sign_cert_der || bo_key_matches_cert(key, s->sign_cert_der, s->sign_cert_len) != BO_E_OK)
        return bo__crypto_fail(BO_E_INVALID_ARG, detail, n,
                               "the signing certificate is missing or not the signing key's");
    return BO_E_OK;
}

static bo_err put_be(bo_buf *b, uint64_t v, size_t n)
{
    uint8_t t[8];
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return bo_buf_append(b, t, n);
}

bo_package *bo_package_prepare(const bo_package_spec *spec, const bo_key *sign_key, bo_err *err,
                               char *detail, size_t n)
{
    bo_err e = check_spec(spec, sign_key, detail, n);
    if (e != BO_E_OK) {
        *err = e;
        return NULL;
    }
    bo_package *p = OPENSSL_zalloc(sizeof(*p));
    uint8_t *buf = OPENSSL_malloc(CHUNK);
    if (!p || !buf) {
        OPENSSL_free(p);
        OPENSSL_free(buf);
        *err = BO_E_NOMEM;
        return NULL;
    }
    p->spec = spec;
    bo_buf_init(&p->head, HEAD_FIXED + BO_PACKAGE_MANIFEST_MAX + 2 + BO_SIG_MAX);
    manifest *m = &p->m;
    snprintf(m->oid, sizeof m->oid, "%s", spec->oid);
    snprintf(m->uscc, sizeof m->uscc, "%s", spec->uscc);
    bo_cert_fpr(spec->sign_cert_der, spec->sign_cert_len, m->fpr);
    e = bo_random_bytes(m->salt, sizeof m->salt);
    uint64_t total = 0;
    for (size_t i = 0; e == BO_E_OK && i < spec->n_docs; i++) {
        doc_meta *d = &m->docs[i];
        e = doc_stream(&spec->docs[i], buf, NULL, NULL, d->sha256, &d->size);
        if (e == BO_E_IO)
            bo__crypto_fail(e, detail, n, "cannot read %s", spec->docs[i].path);
        else if (e == BO_E_OK && (total += d->size) > BO_PACKAGE_TOTAL_MAX)
            e = BO_E_TOO_BIG;
        if (e == BO_E_TOO_BIG)
            bo__crypto_fail(e, detail, n, "the documents exceed %llu bytes",
                            (unsigned long long)BO_PACKAGE_TOTAL_MAX);
        if (e == BO_E_OK && !(d->name = dup_str(spec->docs[i].name, strlen(spec->docs[i].name))))
            e = BO_E_NOMEM;
        if (e == BO_E_OK)
            m->n_docs++;
    }
    for (size_t i = 0; e == BO_E_OK && i < spec->n_form; i++) {
        bo_package_field *f = &m->form[i];
        f->key = dup_str(spec->form[i].key, strlen(spec->form[i].key));
        f->value = dup_str(spec->form[i].value, strlen(spec->form[i].value));
        m->n_form++;
        if (!f->key || !f->value)
            e = BO_E_NOMEM;
    }
    if (e == BO_E_OK)
        qsort(m->form, m->n_form, sizeof m->form[0], field_cmp);
    OPENSSL_clear_free(buf, CHUNK);

    bo_buf man, sig;
    bo_buf_init(&man, BO_PACKAGE_MANIFEST_MAX);
    bo_buf_init(&sig, BO_SIG_MAX);
    if (e == BO_E_OK && (e = manifest_encode(m, &man)) == BO_E_TOO_BIG)
        bo__crypto_fail(e, detail, n, "the manifest exceeds %u bytes", BO_PACKAGE_MANIFEST_MAX);
    if (e == BO_E_OK && (e = bo_key_sign(sign_key, BO_PACKAGE_SIG_CTX, man.data, man.len, &sig)) !=
                            BO_E_OK)
        bo__crypto_fail(e, detail, n, "cannot sign the manifest");
    if (e == BO_E_OK)
        e = bo_buf_append(&p->head, MAGIC, sizeof MAGIC);
    if (e == BO_E_OK)
        e = put_be(&p->head, BO_PACKAGE_VERSION, 2);
    if (e == BO_E_OK)
        e = put_be(&p->head, man.len, 4);
    if (e == BO_E_OK)
        e = bo_buf_append(&p->head, man.data, man.len);
    if (e == BO_E_OK)
        e = put_be(&p->head, sig.len, 2);
    if (e == BO_E_OK)
        e = bo_buf_append(&p->head, sig.data, sig.len);
    bo_buf_cleanup_wipe(&man);
    bo_buf_cleanup(&sig);
    if (e != BO_E_OK) {
        bo_package_free(p);
        *err = e;
        return NULL;
    }
    p->size = p->head.len + total;
    return p;
}

bo_err bo_package_emit(bo_package *p, bo_write_fn out, void *ud, char *detail, size_t n)
{
    bo_err e = out(ud, p->head.data, p->head.len);
    uint8_t *buf = e == BO_E_OK ? OPENSSL_malloc(CHUNK) : NULL;
    if (e == BO_E_OK && !buf)
        e = BO_E_NOMEM;
    for (size_t i = 0; e == BO_E_OK && i < p->m.n_docs; i++) {
        uint8_t sha[32];
        uint64_t size = 0;
        const bo_package_doc *d = &p->spec->docs[i];
        e = doc_stream(d, buf, out, ud, sha, &size);
        if (e == BO_E_IO)
            bo__crypto_fail(e, detail, n, "cannot read %s", d->path ? d->path : d->name);
        else if (e == BO_E_OK &&
                 (size != p->m.docs[i].size || memcmp(sha, p->m.docs[i].sha256, 32) != 0))
            e = bo__crypto_fail(BO_E_PACKAGE_DIGEST, detail, n,
                                "document %s changed while it was being sealed", d->name);
    }
    OPENSSL_clear_free(buf, CHUNK);
    return e;
}

bo_err bo_package_write_file(const bo_package_spec *spec, const bo_key *sign_key,
                             const char *path, char *detail, size_t n)
{
    bo_err e = BO_E_OK;
    bo_package *p = bo_package_prepare(spec, sign_key, &e, detail, n);
    if (!p)
        return e;
    bo__partial pt;
    e = bo__partial_open(&pt, path);
    if (e != BO_E_OK)
        bo__crypto_fail(e, detail, n, "cannot create %s.partial", path);
    if (e == BO_E_OK)
        e = bo_package_emit(p, bo__fd_write, &pt.fd, detail, n);
    if (e == BO_E_OK && (e = bo__partial_commit(&pt, path)) != BO_E_OK)
        bo__crypto_fail(e, detail, n, "cannot write %s", path);
    if (e != BO_E_OK)
        bo__partial_abort(&pt);
    bo_package_free(p);
    return e;
}

/* ---- reader ------------------------------------------------------------------------------ */

struct bo_package_reader {
    bo_read_fn in;
    void *ud;
    int fd; /* bo_package_open: the file, else -1 */
    manifest m;
    uint8_t *manifest;
    size_t mlen;
    uint8_t sig[BO_SIG_MAX];
    size_t slen;
    bool docs_read;
};

/* Read exactly n bytes; *short_read when the input ended first. */
static bo_err read_exact(bo_package_reader *r, uint8_t *p, size_t n, bool *short_read)
{
    *short_read = false;
    while (n) {
        size_t got = 0;
        bo_err e = r->in(r->ud, p, n, &got);
        if (e != BO_E_OK)
            return e;
        if (got == 0) {
            *short_read = true;
            return BO_E_PACKAGE_MALFORMED;
        }
        p += got;
        n -= got;
    }
    return BO_E_OK;
}

void bo_package_close(bo_package_reader *r)
{
    if (!r)
        return;
    manifest_cleanup(&r->m);
    OPENSSL_clear_free(r->manifest, r->mlen);
    if (r->fd >= 0)
        close(r->fd);
    OPENSSL_free(r);
}

static bo_err open_head(bo_package_reader *r, char *detail, size_t n)
{
    uint8_t h[HEAD_FIXED];
    bool sr;
    bo_err e = read_exact(r, h, sizeof h, &sr);
    if (e != BO_E_OK)
        return sr ? bo__crypto_fail(e, detail, n, "the package is shorter than its header") : e;
    if (memcmp(h, MAGIC, sizeof MAGIC) != 0)
        return bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n, "not a bid package (magic)");
    if (be(h + 6, 2) != BO_PACKAGE_VERSION)
        return bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n, "unknown package version %u",
                               (unsigned)be(h + 6, 2));
    r->mlen = (size_t)be(h + 8, 4);
    if (r->mlen == 0 || r->mlen > BO_PACKAGE_MANIFEST_MAX)
        return bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n, "bad manifest length %zu",
                               r->mlen);
    if (!(r->manifest = OPENSSL_malloc(r->mlen)))
        return BO_E_NOMEM;
    if ((e = read_exact(r, r->manifest, r->mlen, &sr)) != BO_E_OK)
        return sr ? bo__crypto_fail(e, detail, n, "the manifest is truncated") : e;
    uint8_t sl[2];
    if ((e = read_exact(r, sl, 2, &sr)) != BO_E_OK)
        return sr ? bo__crypto_fail(e, detail, n, "the signature is missing") : e;
    r->slen = (size_t)be(sl, 2);
    if (r->slen == 0 || r->slen > BO_SIG_MAX)
        return bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n, "bad signature length %zu",
                               r->slen);
    if ((e = read_exact(r, r->sig, r->slen, &sr)) != BO_E_OK)
        return sr ? bo__crypto_fail(e, detail, n, "the signature is truncated") : e;
    const char *why = manifest_parse(r->manifest, r->mlen, &r->m);
    if (why)
        return bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n, "manifest: %s", why);
    /* Belt and braces: the canonical encoding of what was parsed must be the bytes read. */
    bo_buf again;
    bo_buf_init(&again, BO_PACKAGE_MANIFEST_MAX);
    e = manifest_encode(&r->m, &again);
    if (e == BO_E_OK && (again.len != r->mlen || memcmp(again.data, r->manifest, r->mlen) != 0))
        e = bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n, "the manifest is not canonical");
    bo_buf_cleanup_wipe(&again);
    return e == BO_E_TOO_BIG ? BO_E_PACKAGE_MALFORMED : e;
}

bo_package_reader *bo_package_open_read(bo_read_fn in, void *ud, bo_err *err, char *detail,
                                        size_t n)
{
    bo_package_reader *r = OPENSSL_zalloc(sizeof(*r));
    if (!r) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    r->in = in;
    r->ud = ud;
    r->fd = -1;
    bo_err e = open_head(r, detail, n);
    if (e != BO_E_OK) {
        bo_package_close(r);
        *err = e;
        return NULL;
    }
    return r;
}

bo_package_reader *bo_package_open(const char *path, bo_err *err, char *detail, size_t n)
{
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        *err = bo__crypto_fail(BO_E_IO, detail, n, "cannot open %s", path ? path : "(null)");
        return NULL;
    }
    bo_package_reader *r = OPENSSL_zalloc(sizeof(*r));
    if (!r) {
        close(fd);
        *err = BO_E_NOMEM;
        return NULL;
    }
    r->fd = fd;
    r->in = bo__fd_read;
    r->ud = &r->fd;
    bo_err e = open_head(r, detail, n);
    if (e != BO_E_OK) {
        bo_package_close(r);
        *err = e;
        return NULL;
    }
    return r;
}

bo_err bo_package_verify(const bo_package_reader *r, const uint8_t *cert_der, size_t cert_len)
{
    uint8_t fpr[32];
    if (!cert_der || cert_len == 0)
        return BO_E_CERT_INVALID;
    bo_cert_fpr(cert_der, cert_len, fpr);
    if (!bo_ct_equal(fpr, r->m.fpr, 32))
        return BO_E_PACKAGE_SIGNATURE;
    bo_err e = bo_sig_verify(cert_der, cert_len, BO_PACKAGE_SIG_CTX, r->manifest, r->mlen, r->sig,
                             r->slen);
    return e == BO_E_BAD_SIGNATURE ? BO_E_PACKAGE_SIGNATURE : e;
}

const char *bo_package_oid(const bo_package_reader *r)
{
    return r->m.oid;
}

const char *bo_package_uscc(const bo_package_reader *r)
{
    return r->m.uscc;
}

const uint8_t *bo_package_salt(const bo_package_reader *r)
{
    return r->m.salt;
}

const uint8_t *bo_package_sign_fpr(const bo_package_reader *r)
{
    return r->m.fpr;
}

size_t bo_package_form_count(const bo_package_reader *r)
{
    return r->m.n_form;
}

const bo_package_field *bo_package_form_at(const bo_package_reader *r, size_t i)
{
    return i < r->m.n_form ? &r->m.form[i] : NULL;
}

const char *bo_package_form_get(const bo_package_reader *r, const char *key)
{
    for (size_t i = 0; key && i < r->m.n_form; i++)
        if (strcmp(r->m.form[i].key, key) == 0)
            return r->m.form[i].value;
    return NULL;
}

size_t bo_package_doc_count(const bo_package_reader *r)
{
    return r->m.n_docs;
}

bool bo_package_doc_at(const bo_package_reader *r, size_t i, const char **name, uint64_t *size,
                       const uint8_t **sha256)
{
    if (i >= r->m.n_docs)
        return false;
    if (name)
        *name = r->m.docs[i].name;
    if (size)
        *size = r->m.docs[i].size;
    if (sha256)
        *sha256 = r->m.docs[i].sha256;
    return true;
}

bo_bytes bo_package_manifest(const bo_package_reader *r)
{
    bo_bytes b = {r->manifest, r->mlen};
    return b;
}

bo_bytes bo_package_signature(const bo_package_reader *r)
{
    bo_bytes b = {r->sig, r->slen};
    return b;
}

bo_err bo_package_read_docs(bo_package_reader *r, bo_package_doc_fn fn, void *ud, char *detail,
                            size_t n)
{
    if (r->docs_read)
        return bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "the documents were already read");
    r->docs_read = true;
    bo_err e = BO_E_OK;
    uint8_t *buf = OPENSSL_malloc(CHUNK);
    bo_sha256_ctx *h = buf ? bo_sha256_new(&e) : NULL;
    if (!buf || !h)
        e = BO_E_NOMEM;
    for (size_t i = 0; e == BO_E_OK && i < r->m.n_docs; i++) {
        const doc_meta *d = &r->m.docs[i];
        uint64_t left = d->size;
        bo_sha256_reset(h);
        while (e == BO_E_OK && left) {
            size_t want = left < CHUNK ? (size_t)left : CHUNK;
            size_t got = 0;
            e = r->in(r->ud, buf, want, &got);
            if (e == BO_E_OK && got == 0)
                e = bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n,
                                    "the package ends inside document %s", d->name);
            if (e == BO_E_OK) {
                bo_sha256_update(h, buf, got);
                left -= got;
                if (fn)
                    e = fn(ud, i, buf, got);
            }
        }
        uint8_t sha[32];
        bo_sha256_final(h, sha);
        if (e == BO_E_OK && !bo_ct_equal(sha, d->sha256, 32))
            e = bo__crypto_fail(BO_E_PACKAGE_DIGEST, detail, n,
                                "document %s does not match its SHA-256", d->name);
        if (e == BO_E_OK && fn)
            e = fn(ud, i, NULL, 0);
    }
    if (e == BO_E_OK) {
        size_t got = 0;
        e = r->in(r->ud, buf, 1, &got);
        if (e == BO_E_OK && got)
            e = bo__crypto_fail(BO_E_PACKAGE_MALFORMED, detail, n,
                                "bytes after the last document");
    }
    bo_sha256_free(h);
    OPENSSL_clear_free(buf, CHUNK);
    return e;
}
