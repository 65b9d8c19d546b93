/* bidopen: canonical msgpack building blocks, the non-allocating cap check and readers.
 *
 * bo_mp_check walks the raw bytes before msgpack-c sees them: msgpack-c allocates what
 * an array or map header claims, so a 5-byte frame could otherwise ask for 64 GiB. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/utf8.h"
#include "bo/wire.h"
#include "bo_wire_internal.h"

/* ---------------------------------------------------------------- writers ---- */

static bo_err put_u8(bo_buf *out, uint8_t tag)
{
    return bo_buf_append(out, &tag, 1);
}

static bo_err put_be(bo_buf *out, uint8_t tag, uint64_t v, unsigned bytes)
{
    uint8_t b[9];
    b[0] = tag;
    for (unsigned i = 0; i < bytes; i++)
        b[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return bo_buf_append(out, b, 1 + bytes);
}

bo_err bo_mp_u64(bo_buf *out, uint64_t v)
{
    if (v <= 0x7f)
        return put_u8(out, (uint8_t)v);
    if (v <= 0xff)
        return put_be(out, 0xcc, v, 1);
    if (v <= 0xffff)
        return put_be(out, 0xcd, v, 2);
    if (v <= 0xffffffffu)
        return put_be(out, 0xce, v, 4);
    return put_be(out, 0xcf, v, 8);
}

bo_err bo_mp_i64(bo_buf *out, int64_t v)
{
    if (v >= 0)
        return bo_mp_u64(out, (uint64_t)v);
    uint64_t u = (uint64_t)v;
    if (v >= -32)
        return put_u8(out, (uint8_t)(0xe0 | (u & 0x1f)));
    if (v >= INT8_MIN)
        return put_be(out, 0xd0, u, 1);
    if (v >= INT16_MIN)
        return put_be(out, 0xd1, u, 2);
    if (v >= INT32_MIN)
        return put_be(out, 0xd2, u, 4);
    return put_be(out, 0xd3, u, 8);
}

bo_err bo_mp_bool(bo_buf *out, bool v)
{
    return put_u8(out, v ? 0xc3 : 0xc2);
}

bo_err bo_mp_nil(bo_buf *out)
{
    return put_u8(out, 0xc0);
}

bo_err bo_mp_array_header(bo_buf *out, uint32_t n)
{
    if (n <= 15)
        return put_u8(out, (uint8_t)(0x90 | n));
    if (n <= 0xffff)
        return put_be(out, 0xdc, n, 2);
    return put_be(out, 0xdd, n, 4);
}

bo_err bo__mp_map_header(bo_buf *out, uint32_t n)
{
    if (n <= 15)
        return put_u8(out, (uint8_t)(0x80 | n));
    if (n <= 0xffff)
        return put_be(out, 0xde, n, 2);
    return put_be(out, 0xdf, n, 4);
}

static bo_err str_header(bo_buf *out, size_t len)
{
    if (len <= 31)
        return put_u8(out, (uint8_t)(0xa0 | len));
    if (len <= 0xff)
        return put_be(out, 0xd9, len, 1);
    if (len <= 0xffff)
        return put_be(out, 0xda, len, 2);
    if (len <= 0xffffffffu)
        return put_be(out, 0xdb, len, 4);
    return BO_E_TOO_BIG;
}

static bo_err bin_header(bo_buf *out, size_t len)
{
    if (len <= 0xff)
        return put_be(out, 0xc4, len, 1);
    if (len <= 0xffff)
        return put_be(out, 0xc5, len, 2);
    if (len <= 0xffffffffu)
        return put_be(out, 0xc6, len, 4);
    return BO_E_TOO_BIG;
}

/* Writes header and bytes, or nothing. */
static bo_err put_with_header(bo_buf *out, bo_err (*header)(bo_buf *, size_t), const void *p,
                              size_t len)
{
    size_t mark = out->len;
    bo_err err = header(out, len);
    if (!err && len)
        err = bo_buf_append(out, p, len);
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

bo_err bo_mp_str(bo_buf *out, const char *s, size_t len)
{
    if (len && !s)
        return BO_E_INVALID_ARG;
    if (!bo_utf8_valid(s, len))
        return BO_E_INVALID_ARG;
    return put_with_header(out, str_header, s, len);
}

bo_err bo_mp_bin(bo_buf *out, const void *p, size_t len)
{
    if (len && !p)
        return BO_E_INVALID_ARG;
    return put_with_header(out, bin_header, p, len);
}

/* ------------------------------------------------------------------ mpmap ---- */

typedef struct mpmap_entry {
    size_t key_off, key_len;
    size_t val_off, val_len;
} mpmap_entry;

struct bo_mpmap {
    bo_buf arena; /* keys and values back to back */
    mpmap_entry *v;
    size_t n, alloc;
    bo_err sticky; /* first error of an add; finish reports it */
};

bo_mpmap *bo_mpmap_new(bo_err *err)
{
    bo_mpmap *m = calloc(1, sizeof(*m));
    if (!m) {
        if (err)
            *err = BO_E_NOMEM;
        return NULL;
    }
    bo_buf_init(&m->arena, SIZE_MAX / 4);
    return m;
}

void bo_mpmap_free(bo_mpmap *m)
{
    if (!m)
        return;
    bo_buf_cleanup(&m->arena);
    free(m->v);
    free(m);
}

static bo_err mpmap_grow(bo_mpmap *m)
{
    if (m->n < m->alloc)
        return BO_E_OK;
    size_t na = m->alloc ? m->alloc * 2 : 16;
    mpmap_entry *v = realloc(m->v, na * sizeof(*v));
    if (!v)
        return BO_E_NOMEM;
    m->v = v;
    m->alloc = na;
    return BO_E_OK;
}

/* Starts an entry: stores the key; the caller then appends the value to the arena. */
static bo_err mpmap_begin(bo_mpmap *m, const char *key)
{
    if (m->sticky)
        return m->sticky;
    size_t klen = key ? strlen(key) : 0;
    bo_err err = key && bo_utf8_valid(key, klen) ? mpmap_grow(m) : BO_E_INVALID_ARG;
    if (!err) {
        mpmap_entry *e = &m->v[m->n];
        e->key_off = m->arena.len;
        e->key_len = klen;
        err = bo_buf_append(&m->arena, key, klen);
        e->val_off = m->arena.len;
    }
    return err;
}

static bo_err mpmap_end(bo_mpmap *m, bo_err err)
{
    if (err) {
        if (!m->sticky)
            m->sticky = err;
        return err;
    }
    mpmap_entry *e = &m->v[m->n];
    e->val_len = m->arena.len - e->val_off;
    m->n++;
    return BO_E_OK;
}

bo_err bo_mpmap_str(bo_mpmap *m, const char *key, const char *val)
{
    if (!val)
        return mpmap_end(m, BO_E_INVALID_ARG);
    return bo_mpmap_strn(m, key, val, strlen(val));
}

bo_err bo_mpmap_strn(bo_mpmap *m, const char *key, const char *val, size_t len)
{
    bo_err err = mpmap_begin(m, key);
    return mpmap_end(m, err ? err : bo_mp_str(&m->arena, val, len));
}

bo_err bo_mpmap_bin(bo_mpmap *m, const char *key, const void *val, size_t len)
{
    bo_err err = mpmap_begin(m, key);
    return mpmap_end(m, err ? err : bo_mp_bin(&m->arena, val, len));
}

bo_err bo_mpmap_u64(bo_mpmap *m, const char *key, uint64_t val)
{
    bo_err err = mpmap_begin(m, key);
    return mpmap_end(m, err ? err : bo_mp_u64(&m->arena, val));
}

bo_err bo_mpmap_i64(bo_mpmap *m, const char *key, int64_t val)
{
    bo_err err = mpmap_begin(m, key);
    return mpmap_end(m, err ? err : bo_mp_i64(&m->arena, val));
}

bo_err bo_mpmap_bool(bo_mpmap *m, const char *key, bool val)
{
    bo_err err = mpmap_begin(m, key);
    return mpmap_end(m, err ? err : bo_mp_bool(&m->arena, val));
}

bo_err bo_mpmap_raw(bo_mpmap *m, const char *key, const void *mp, size_t len)
{
    bo_err err = mpmap_begin(m, key);
    if (!err && (!mp || !len))
        err = BO_E_INVALID_ARG;
    return mpmap_end(m, err ? err : bo_buf_append(&m->arena, mp, len));
}

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0; /* an empty key may have a NULL pointer */
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static void mpmap_sort(bo_mpmap *m)
{
    /* insertion sort: maps built here are small, and qsort would need a global */
    const uint8_t *base = m->arena.data;
    for (size_t i = 1; i < m->n; i++) {
        mpmap_entry e = m->v[i];
        size_t j = i;
        while (j > 0 && key_cmp(base + m->v[j - 1].key_off, m->v[j - 1].key_len,
                                base + e.key_off, e.key_len) > 0) {
            m->v[j] = m->v[j - 1];
            j--;
        }
        m->v[j] = e;
    }
}

bo_err bo_mpmap_finish(bo_mpmap *m, bo_buf *out)
{
    if (m->sticky)
        return m->sticky;
    if (m->n > UINT32_MAX)
        return BO_E_TOO_BIG;
    mpmap_sort(m);
    const uint8_t *base = m->arena.data;
    for (size_t i = 1; i < m->n; i++)
        if (!key_cmp(base + m->v[i - 1].key_off, m->v[i - 1].key_len, base + m->v[i].key_off,
                     m->v[i].key_len))
            return BO_E_INVALID_ARG;
    size_t mark = out->len;
    bo_err err = bo__mp_map_header(out, (uint32_t)m->n);
    for (size_t i = 0; !err && i < m->n; i++) {
        const mpmap_entry *e = &m->v[i];
        err = bo_mp_str(out, (const char *)base + e->key_off, e->key_len);
        if (!err)
            err = bo_buf_append(out, base + e->val_off, e->val_len);
    }
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

/* ------------------------------------------------------------------ paths ---- */

size_t bo__wire_path_key(bo__wire_path *p, const char *key, size_t key_len)
{
    size_t mark = p->len;
    size_t room = sizeof(p->s) - 1 - p->len;
    size_t dot = p->len ? 1 : 0;
    if (dot + key_len <= room) {
        if (dot)
            p->s[p->len++] = '.';
        if (key_len) /* msgpack-c gives an empty string a NULL pointer */
            memcpy(p->s + p->len, key, key_len);
        p->len += key_len;
    }
    p->s[p->len] = 0;
    return mark;
}

size_t bo__wire_path_index(bo__wire_path *p, size_t i)
{
    size_t mark = p->len;
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "[%zu]", i);
    if (n > 0 && (size_t)n <= sizeof(p->s) - 1 - p->len) {
        memcpy(p->s + p->len, tmp, (size_t)n);
        p->len += (size_t)n;
    }
    p->s[p->len] = 0;
    return mark;
}

void bo__wire_path_pop(bo__wire_path *p, size_t mark)
{
    p->len = mark;
    p->s[mark] = 0;
}

/* -------------------------------------------------------------- canonical ---- */

static bo_err canon_any(bo_buf *out, const msgpack_object *o, bo__wire_path *path,
                        unsigned depth);

static int kv_cmp(const void *x, const void *y)
{
    const msgpack_object_kv *a = *(const msgpack_object_kv *const *)x;
    const msgpack_object_kv *b = *(const msgpack_object_kv *const *)y;
    return key_cmp((const uint8_t *)a->key.via.str.ptr, a->key.via.str.size,
                   (const uint8_t *)b->key.via.str.ptr, b->key.via.str.size);
}

static bo_err canon_str(bo_buf *out, const msgpack_object_str *s)
{
    if (!bo_utf8_valid(s->ptr, s->size))
        return BO_E_BAD_FIELD;
    return put_with_header(out, str_header, s->ptr, s->size);
}

static bo_err canon_check_keys(const msgpack_object_map *m, bo__wire_path *path)
{
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR)
            return BO_E_BAD_FIELD;
        if (!bo_utf8_valid(k->via.str.ptr, k->via.str.size)) {
            if (path)
                bo__wire_path_index(path, i);
            return BO_E_BAD_FIELD;
        }
    }
    return BO_E_OK;
}

static bo_err canon_map(bo_buf *out, const msgpack_object_map *m, bo__wire_path *path,
                        unsigned depth)
{
    bo_err err = canon_check_keys(m, path);
    if (err)
        return err;
    const msgpack_object_kv **sorted = malloc((m->size ? m->size : 1) * sizeof(*sorted));
    if (!sorted)
        return BO_E_NOMEM;
    for (uint32_t i = 0; i < m->size; i++)
        sorted[i] = &m->ptr[i];
    qsort(sorted, m->size, sizeof(*sorted), kv_cmp);
    for (uint32_t i = 1; i < m->size && !err; i++)
        if (!kv_cmp(&sorted[i - 1], &sorted[i])) {
            err = BO_E_BAD_FIELD;
            if (path)
                bo__wire_path_key(path, sorted[i]->key.via.str.ptr, sorted[i]->key.via.str.size);
        }
    if (!err)
        err = bo__mp_map_header(out, m->size);
    for (uint32_t i = 0; i < m->size && !err; i++) {
        const msgpack_object_kv *kv = sorted[i];
        err = canon_str(out, &kv->key.via.str);
        size_t mark = path ? bo__wire_path_key(path, kv->key.via.str.ptr, kv->key.via.str.size)
                           : 0;
        if (!err)
            err = canon_any(out, &kv->val, path, depth + 1);
        if (path && !err)
            bo__wire_path_pop(path, mark);
    }
    free(sorted);
    return err;
}

static bo_err canon_array(bo_buf *out, const msgpack_object_array *a, bo__wire_path *path,
                          unsigned depth)
{
    bo_err err = bo_mp_array_header(out, a->size);
    for (uint32_t i = 0; i < a->size && !err; i++) {
        size_t mark = path ? bo__wire_path_index(path, i) : 0;
        err = canon_any(out, &a->ptr[i], path, depth + 1);
        if (path && !err)
            bo__wire_path_pop(path, mark);
    }
    return err;
}

static bo_err canon_any(bo_buf *out, const msgpack_object *o, bo__wire_path *path,
                        unsigned depth)
{
    if (depth > BO__WIRE_MAX_DEPTH)
        return BO_E_TOO_DEEP;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return bo_mp_nil(out);
    case MSGPACK_OBJECT_BOOLEAN:
        return bo_mp_bool(out, o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return bo_mp_u64(out, o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return bo_mp_i64(out, o->via.i64);
    case MSGPACK_OBJECT_STR:
        return canon_str(out, &o->via.str);
    case MSGPACK_OBJECT_BIN:
        return put_with_header(out, bin_header, o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY:
        return canon_array(out, &o->via.array, path, depth);
    case MSGPACK_OBJECT_MAP:
        return canon_map(out, &o->via.map, path, depth);
    default: /* floats, ext */
        return BO_E_BAD_FIELD;
    }
}

bo_err bo__wire_canonical(bo_buf *out, const msgpack_object *obj, bo__wire_path *path)
{
    size_t mark = out->len;
    bo_err err = canon_any(out, obj, path, 1);
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

bo_err bo_mp_canonical(bo_buf *out, const msgpack_object *obj)
{
    return bo__wire_canonical(out, obj, NULL);
}

/* ------------------------------------------------------------------ check ---- */

typedef struct mp_cursor {
    const uint8_t *p, *end;
} mp_cursor;

typedef enum mp_shape { MP_SCALAR, MP_STR, MP_BIN, MP_ARRAY, MP_MAP } mp_shape;

typedef struct mp_head {
    mp_shape shape;
    uint64_t n; /* STR/BIN: bytes; ARRAY: elements; MAP: pairs; SCALAR: payload bytes */
} mp_head;

static bool read_be(mp_cursor *c, unsigned bytes, uint64_t *v)
{
    if ((size_t)(c->end - c->p) < bytes)
        return false;
    uint64_t x = 0;
    for (unsigned i = 0; i < bytes; i++)
        x = (x << 8) | c->p[i];
    c->p += bytes;
    *v = x;
    return true;
}

/* Sized formats: tag -> shape and the width of the length field (0: fixed payload). */
static bool head_sized(mp_cursor *c, uint8_t tag, mp_head *h)
{
    static const struct {
        uint8_t tag;
        mp_shape shape;
        unsigned width; /* bytes of the length field */
        unsigned fixed; /* payload bytes when width is 0 */
    } t[] = {
        {0xc4, MP_BIN, 1, 0},    {0xc5, MP_BIN, 2, 0},    {0xc6, MP_BIN, 4, 0},
        {0xc7, MP_SCALAR, 1, 1}, {0xc8, MP_SCALAR, 2, 1}, {0xc9, MP_SCALAR, 4, 1},
        {0xca, MP_SCALAR, 0, 4}, {0xcb, MP_SCALAR, 0, 8}, {0xcc, MP_SCALAR, 0, 1},
        {0xcd, MP_SCALAR, 0, 2}, {0xce, MP_SCALAR, 0, 4}, {0xcf, MP_SCALAR, 0, 8},
        {0xd0, MP_SCALAR, 0, 1}, {0xd1, MP_SCALAR, 0, 2}, {0xd2, MP_SCALAR, 0, 4},
        {0xd3, MP_SCALAR, 0, 8}, {0xd4, MP_SCALAR, 0, 2}, {0xd5, MP_SCALAR, 0, 3},
        {0xd6, MP_SCALAR, 0, 5}, {0xd7, MP_SCALAR, 0, 9}, {0xd8, MP_SCALAR, 0, 17},
        {0xd9, MP_STR, 1, 0},    {0xda, MP_STR, 2, 0},    {0xdb, MP_STR, 4, 0},
        {0xdc, MP_ARRAY, 2, 0},  {0xdd, MP_ARRAY, 4, 0},  {0xde, MP_MAP, 2, 0},
        {0xdf, MP_MAP, 4, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (t[i].tag != tag)
            continue;
        h->shape = t[i].shape;
        if (!t[i].width) {
            h->n = t[i].fixed;
            return true;
        }
        if (!read_be(c, t[i].width, &h->n))
            return false;
        h->n += t[i].fixed; /* ext: the type byte */
        return true;
    }
    return false; /* 0xc1 */
}

/* Reads one header; false when truncated or not msgpack. */
static bool read_head(mp_cursor *c, mp_head *h)
{
    if (c->p >= c->end)
        return false;
    uint8_t tag = *c->p++;
    h->n = 0;
    if (tag <= 0x7f || tag >= 0xe0 || tag == 0xc0 || tag == 0xc2 || tag == 0xc3) {
        h->shape = MP_SCALAR;
        return true;
    }
    if (tag >= 0x80 && tag <= 0x8f) {
        h->shape = MP_MAP;
        h->n = tag & 0x0f;
        return true;
    }
    if (tag >= 0x90 && tag <= 0x9f) {
        h->shape = MP_ARRAY;
        h->n = tag & 0x0f;
        return true;
    }
    if (tag >= 0xa0 && tag <= 0xbf) {
        h->shape = MP_STR;
        h->n = tag & 0x1f;
        return true;
    }
    return head_sized(c, tag, h);
}

typedef struct mp_walk {
    uint64_t left[BO__WIRE_MAX_DEPTH + 1]; /* items still to read in each open container */
    unsigned depth;                        /* open containers */
    uint64_t elems;
} mp_walk;

static bo_err walk_payload(mp_cursor *c, const mp_head *h, const bo_wire_caps *caps)
{
    if (h->shape == MP_STR && h->n > caps->str)
        return BO_E_TOO_BIG;
    if (h->shape == MP_BIN && h->n > caps->bin)
        return BO_E_TOO_BIG;
    if (h->n > (uint64_t)(c->end - c->p))
        return BO_E_MALFORMED;
    c->p += h->n;
    return BO_E_OK;
}

static bo_err walk_open(mp_cursor *c, mp_walk *w, const mp_head *h, const bo_wire_caps *caps)
{
    uint64_t items = h->shape == MP_MAP ? 2 * h->n : h->n;
    unsigned max_depth = caps->depth < BO__WIRE_MAX_DEPTH ? caps->depth : BO__WIRE_MAX_DEPTH;
    if (w->depth + 1 > max_depth)
        return BO_E_TOO_DEEP;
    w->elems += items;
    if (w->elems > caps->elems)
        return BO_E_TOO_MANY;
    if (items > (uint64_t)(c->end - c->p)) /* every item takes at least one byte */
        return BO_E_MALFORMED;
    if (items)
        w->left[++w->depth] = items;
    return BO_E_OK;
}

/* Consumes exactly one object (with everything inside it) from c. */
static bo_err walk_one(mp_cursor *c, const bo_wire_caps *caps)
{
    mp_walk w = {.depth = 0, .elems = 0};
    do {
        mp_head h;
        if (!read_head(c, &h))
            return BO_E_MALFORMED;
        bo_err err = h.shape == MP_ARRAY || h.shape == MP_MAP ? walk_open(c, &w, &h, caps)
                                                              : walk_payload(c, &h, caps);
        if (err)
            return err;
        bool opened = (h.shape == MP_ARRAY || h.shape == MP_MAP) && h.n;
        if (!opened)
            while (w.depth && --w.left[w.depth] == 0)
                w.depth--;
    } while (w.depth);
    return BO_E_OK;
}

bo_err bo_mp_check(const uint8_t *p, size_t len, const bo_wire_caps *caps)
{
    if (len > caps->frame)
        return BO_E_TOO_BIG;
    if (!p || !len)
        return BO_E_MALFORMED;
    mp_cursor c = {p, p + len};
    bo_err err = walk_one(&c, caps);
    if (!err && c.p != c.end)
        err = BO_E_MALFORMED;
    return err;
}

static void permissive_caps(bo_wire_caps *caps, size_t len)
{
    caps->frame = caps->elems = caps->str = caps->bin = len;
    caps->depth = BO__WIRE_MAX_DEPTH;
}

bool bo__wire_scan_id(const uint8_t *p, size_t len, uint64_t *id)
{
    bo_wire_caps caps;
    permissive_caps(&caps, len);
    mp_cursor c = {p, p + len};
    mp_head h;
    if (!p || !read_head(&c, &h) || h.shape != MP_MAP)
        return false;
    for (uint64_t i = 0; i < h.n; i++) {
        mp_head kh;
        if (!read_head(&c, &kh) || kh.shape == MP_ARRAY || kh.shape == MP_MAP ||
            walk_payload(&c, &kh, &caps) != BO_E_OK)
            return false;
        bool is_id = kh.shape == MP_STR && kh.n == 2 && !memcmp(c.p - 2, "id", 2);
        const uint8_t *val = c.p;
        if (walk_one(&c, &caps) != BO_E_OK)
            return false;
        if (!is_id)
            continue;
        uint64_t v = 0;
        mp_cursor vc = {val + 1, c.p};
        if (*val <= 0x7f)
            v = *val;
        else if (*val < 0xcc || *val > 0xcf || !read_be(&vc, (unsigned)(c.p - val - 1), &v))
            return false;
        *id = v;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ parse ---- */

bo_err bo_mp_parse(const uint8_t *mp, size_t len, msgpack_zone **zone, msgpack_object *out)
{
    *zone = NULL;
    bo_wire_caps caps;
    permissive_caps(&caps, len);
    bo_err err = bo_mp_check(mp, len, &caps);
    if (err)
        return BO_E_MALFORMED;
    msgpack_zone *z = msgpack_zone_new(len + 256 > 2048 ? len + 256 : 2048);
    if (!z)
        return BO_E_NOMEM;
    char *copy = msgpack_zone_malloc_no_align(z, len); /* strings point into it */
    if (!copy) {
        msgpack_zone_free(z);
        return BO_E_NOMEM;
    }
    memcpy(copy, mp, len);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack(copy, len, &off, z, out);
    if (r != MSGPACK_UNPACK_SUCCESS) {
        msgpack_zone_free(z);
        return r == MSGPACK_UNPACK_NOMEM_ERROR ? BO_E_NOMEM : BO_E_MALFORMED;
    }
    *zone = z;
    return BO_E_OK;
}

/* ---------------------------------------------------------------- readers ---- */

const msgpack_object *bo_mpo_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP || !key)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            (!klen || !memcmp(k->via.str.ptr, key, klen)))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

bool bo_mpo_str(const msgpack_object *map, const char *key, const char **s, size_t *len)
{
    const msgpack_object *o = bo_mpo_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return false;
    *s = o->via.str.ptr;
    *len = o->via.str.size;
    return true;
}

bool bo_mpo_bin(const msgpack_object *map, const char *key, const uint8_t **p, size_t *len)
{
    const msgpack_object *o = bo_mpo_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_BIN)
        return false;
    *p = (const uint8_t *)o->via.bin.ptr;
    *len = o->via.bin.size;
    return true;
}

bool bo_mpo_u64(const msgpack_object *map, const char *key, uint64_t *v)
{
    const msgpack_object *o = bo_mpo_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *v = o->via.u64;
    return true;
}

bool bo_mpo_i64(const msgpack_object *map, const char *key, int64_t *v)
{
    const msgpack_object *o = bo_mpo_get(map, key);
    if (!o)
        return false;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return true;
    }
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > INT64_MAX)
        return false;
    *v = (int64_t)o->via.u64;
    return true;
}

bool bo_mpo_bool(const msgpack_object *map, const char *key, bool *v)
{
    const msgpack_object *o = bo_mpo_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *v = o->via.boolean;
    return true;
}
