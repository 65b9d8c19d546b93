/* bidopen: the bidopen.v1 codec (docs/protocol.md). Decoding and encoding are driven by the
 * schemas in bo_wire_schema.c; the msgpack building blocks are in bo_wire_mp.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/utf8.h"
#include "bo/wire.h"
#include "bo_wire_internal.h"

/* The memory layout shared by bo_str_list, bo_bytes_list and the entry lists. */
typedef struct any_list {
    void *v;
    size_t n;
} any_list;

void bo_wire_caps_default(bo_wire_caps *caps)
{
    caps->frame = 256 * 1024;
    caps->depth = 8;
    caps->elems = 20000;
    caps->str = 64 * 1024;
    caps->bin = BO_WIRE_CHUNK_MAX;
}

const char *bo_msg_type_name(bo_msg_type t)
{
    const bo__wire_schema *s = bo__wire_schema_of(t);
    return s ? s->name : NULL;
}

bool bo_msg_type_from_client(bo_msg_type t)
{
    const bo__wire_schema *s = bo__wire_schema_of(t);
    return s && s->from_client;
}

/* ================================================================= decoding ==== */

typedef struct dec {
    msgpack_zone *z;
    const bo_wire_caps *caps;
    bo__wire_path path;
} dec;

static bo_err dec_table(dec *d, const bo__wire_table *t, const msgpack_object *o, char *base,
                        const bo__wire_schema *top, bo_msg *m);

static void *zalloc(dec *d, size_t n)
{
    void *p = msgpack_zone_malloc(d->z, n ? n : 1);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

static bool str_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return true;
    return false;
}

/* A valid UTF-8 string without NUL, copied NUL-terminated into the zone. */
static bo_err dec_cstr(dec *d, const msgpack_object *o, uint64_t max_chars, const char **out)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return BO_E_BAD_FIELD;
    const msgpack_object_str *s = &o->via.str;
    if (!bo_utf8_valid(s->ptr, s->size))
        return BO_E_BAD_FIELD;
    if (max_chars && bo_utf8_count(s->ptr, s->size) > max_chars)
        return BO_E_BAD_FIELD;
    char *copy = msgpack_zone_malloc_no_align(d->z, (size_t)s->size + 1);
    if (!copy)
        return BO_E_NOMEM;
    if (s->size)
        memcpy(copy, s->ptr, s->size);
    copy[s->size] = 0;
    *out = copy;
    return BO_E_OK;
}

static bo_err dec_str(dec *d, const bo__wire_field *f, const msgpack_object *o, char *at)
{
    const char *s;
    bo_err err = dec_cstr(d, o, f->cap, &s);
    if (err)
        return err;
    if ((f->oneof && !str_in(s, f->oneof)) || (f->valid && !f->valid(s)))
        return BO_E_BAD_FIELD;
    memcpy(at, &s, sizeof(s));
    return BO_E_OK;
}

static bo_err dec_bin(const bo__wire_field *f, const msgpack_object *o, char *at)
{
    if (o->type != MSGPACK_OBJECT_BIN)
        return BO_E_BAD_FIELD;
    size_t len = o->via.bin.size;
    if (f->cap && (f->exact ? len != f->cap : len > f->cap))
        return BO_E_BAD_FIELD;
    bo_bytes b = {(const uint8_t *)o->via.bin.ptr, len};
    memcpy(at, &b, sizeof(b));
    return BO_E_OK;
}

/* Any msgpack integer into [min, max] (as int64 when negative). */
static bo_err dec_int(const msgpack_object *o, bool is_signed, uint64_t max, uint64_t *u,
                      int64_t *i)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > max)
            return BO_E_BAD_FIELD;
        *u = o->via.u64;
        *i = (int64_t)(o->via.u64 & INT64_MAX);
        return BO_E_OK;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && is_signed) {
        *i = o->via.i64;
        return BO_E_OK;
    }
    return BO_E_BAD_FIELD;
}

static bo_err dec_number(const bo__wire_field *f, const msgpack_object *o, char *at)
{
    uint64_t u = 0;
    int64_t i = 0;
    bo_err err;
    switch (f->kind) {
    case BO__WK_U64:
        if (!(err = dec_int(o, false, f->cap ? f->cap : UINT64_MAX, &u, &i)) && u < f->min)
            err = BO_E_BAD_FIELD;
        if (!err)
            memcpy(at, &u, sizeof(u));
        return err;
    case BO__WK_I64:
        if (!(err = dec_int(o, true, INT64_MAX, &u, &i)))
            memcpy(at, &i, sizeof(i));
        return err;
    case BO__WK_SIZE: {
        if ((err = dec_int(o, false, SIZE_MAX, &u, &i)))
            return err;
        size_t v = (size_t)u;
        memcpy(at, &v, sizeof(v));
        return BO_E_OK;
    }
    default: { /* BO__WK_UINT */
        if ((err = dec_int(o, false, UINT_MAX, &u, &i)))
            return err;
        unsigned v = (unsigned)u;
        memcpy(at, &v, sizeof(v));
        return BO_E_OK;
    }
    }
}

static bo_err dec_bool(const msgpack_object *o, char *at)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return BO_E_BAD_FIELD;
    bool v = o->via.boolean;
    memcpy(at, &v, sizeof(v));
    return BO_E_OK;
}

/* Checks an array's type and count; *arr is set. */
static bo_err dec_array(const bo__wire_field *f, const msgpack_object *o,
                        const msgpack_object_array **arr)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return BO_E_BAD_FIELD;
    if (f->cap && o->via.array.size > f->cap)
        return BO_E_BAD_FIELD;
    *arr = &o->via.array;
    return BO_E_OK;
}

static bo_err dec_list(dec *d, const bo__wire_field *f, const msgpack_object *o, char *at)
{
    const msgpack_object_array *a;
    bo_err err = dec_array(f, o, &a);
    if (err)
        return err;
    size_t esz = f->kind == BO__WK_BIN_LIST ? sizeof(bo_bytes)
                 : f->kind == BO__WK_STR_LIST ? sizeof(const char *)
                                              : f->elem_size;
    any_list l = {zalloc(d, (size_t)a->size * esz), a->size};
    if (!l.v)
        return BO_E_NOMEM;
    static const bo__wire_field bin_elem = {.kind = BO__WK_BIN};
    for (uint32_t i = 0; i < a->size && !err; i++) {
        size_t mark = bo__wire_path_index(&d->path, i);
        char *eat = (char *)l.v + i * esz;
        if (f->kind == BO__WK_BIN_LIST)
            err = dec_bin(&bin_elem, &a->ptr[i], eat);
        else if (f->kind == BO__WK_STR_LIST)
            err = dec_cstr(d, &a->ptr[i], f->elem_cap, (const char **)(void *)eat);
        else
            err = dec_table(d, f->sub, &a->ptr[i], eat, NULL, NULL);
        if (!err)
            bo__wire_path_pop(&d->path, mark);
    }
    if (!err)
        memcpy(at, &l, sizeof(l));
    return err;
}

static bo_err dec_raw(dec *d, const msgpack_object *o, char *at)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return BO_E_BAD_FIELD;
    bo_buf b;
    bo_buf_init(&b, d->caps->frame);
    bo_err err = bo__wire_canonical(&b, o, &d->path);
    bo_raw raw = {{NULL, 0}, o};
    if (!err) {
        uint8_t *copy = msgpack_zone_malloc_no_align(d->z, b.len);
        if (copy) {
            memcpy(copy, b.data, b.len);
            raw.mp.p = copy;
            raw.mp.len = b.len;
            memcpy(at, &raw, sizeof(raw));
        } else {
            err = BO_E_NOMEM;
        }
    }
    bo_buf_cleanup(&b);
    return err;
}

static bo_err dec_value(dec *d, const bo__wire_field *f, const msgpack_object *o, char *base)
{
    char *at = base + f->off;
    switch (f->kind) {
    case BO__WK_STR:
        return dec_str(d, f, o, at);
    case BO__WK_BIN:
        return dec_bin(f, o, at);
    case BO__WK_BOOL:
        return dec_bool(o, at);
    case BO__WK_BIN_LIST:
    case BO__WK_STR_LIST:
    case BO__WK_MAP_LIST:
        return dec_list(d, f, o, at);
    case BO__WK_RAW_MAP:
        return dec_raw(d, o, at);
    case BO__WK_MAP:
        return dec_table(d, f->sub, o, at, NULL, NULL);
    default:
        return dec_number(f, o, at);
    }
}

static bool key_is(const msgpack_object_str *k, const char *s)
{
    return k->size && strlen(s) == k->size && !memcmp(s, k->ptr, k->size);
}

static const bo__wire_field *find_field(const bo__wire_table *t, const msgpack_object_str *k,
                                        size_t *idx)
{
    for (size_t i = 0; i < t->n; i++)
        if (key_is(k, t->f[i].key)) {
            *idx = i;
            return &t->f[i];
        }
    return NULL;
}

/* The top-level keys every message shares: "t" (checked by the caller) and "id". */
static bo_err dec_top_key(const bo__wire_schema *top, const msgpack_object_kv *kv, bo_msg *m,
                          unsigned *seen, bool *handled)
{
    const msgpack_object_str *k = &kv->key.via.str;
    unsigned bit = key_is(k, "t") ? 1u : key_is(k, "id") && top->request ? 2u : 0u;
    *handled = bit != 0;
    if (!bit)
        return BO_E_OK;
    if (*seen & bit)
        return BO_E_BAD_FIELD;
    *seen |= bit;
    if (bit == 1)
        return BO_E_OK;
    int64_t i;
    bo_err err = dec_int(&kv->val, false, UINT64_MAX, &m->id, &i);
    m->has_id = !err;
    return err;
}

static bo_err dec_key(dec *d, const bo__wire_table *t, const msgpack_object_kv *kv, char *base,
                      uint64_t *seen)
{
    const msgpack_object_str *k = &kv->key.via.str;
    size_t idx;
    const bo__wire_field *f = find_field(t, k, &idx);
    if (!f)
        return BO_E_UNKNOWN_FIELD;
    if (*seen & (1ull << idx))
        return BO_E_BAD_FIELD; /* duplicate key */
    *seen |= 1ull << idx;
    bo_err err = dec_value(d, f, &kv->val, base);
    if (!err && f->has_off >= 0)
        *(bool *)(void *)(base + f->has_off) = true;
    return err;
}

static bo_err dec_missing(dec *d, const bo__wire_table *t, uint64_t seen)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->f[i].required && !(seen & (1ull << i))) {
            bo__wire_path_key(&d->path, t->f[i].key, strlen(t->f[i].key));
            return BO_E_MISSING_FIELD;
        }
    return BO_E_OK;
}

/* Decodes a map against a table into base; top/m are set for the message itself. */
static bo_err dec_table(dec *d, const bo__wire_table *t, const msgpack_object *o, char *base,
                        const bo__wire_schema *top, bo_msg *m)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return BO_E_BAD_FIELD;
    uint64_t seen = 0;
    unsigned top_seen = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR) {
            bo__wire_path_index(&d->path, i);
            return BO_E_BAD_FIELD;
        }
        const msgpack_object_str *k = &kv->key.via.str;
        if (!bo_utf8_valid(k->ptr, k->size)) {
            bo__wire_path_index(&d->path, i);
            return BO_E_BAD_FIELD;
        }
        size_t mark = bo__wire_path_key(&d->path, k->ptr, k->size);
        bool handled = false;
        bo_err err = top ? dec_top_key(top, kv, m, &top_seen, &handled) : BO_E_OK;
        if (!err && !handled)
            err = dec_key(d, t, kv, base, &seen);
        if (err)
            return err;
        bo__wire_path_pop(&d->path, mark);
    }
    if (top && top->request && !(top_seen & 2u)) {
        bo__wire_path_key(&d->path, "id", 2);
        return BO_E_MISSING_FIELD;
    }
    return dec_missing(d, t, seen);
}

/* Finds the schema named by "t". */
static bo_err dec_type(dec *d, const msgpack_object *o, bool from_client,
                       const bo__wire_schema **out)
{
    const msgpack_object *t = bo_mpo_get(o, "t");
    bo__wire_path_key(&d->path, "t", 1);
    if (!t)
        return BO_E_MISSING_FIELD;
    if (t->type != MSGPACK_OBJECT_STR)
        return BO_E_BAD_FIELD;
    const bo__wire_schema *s = bo__wire_schema_named(t->via.str.ptr, t->via.str.size);
    if (!s || s->from_client != from_client)
        return BO_E_UNKNOWN_TYPE;
    bo__wire_path_pop(&d->path, 0);
    *out = s;
    return BO_E_OK;
}

static bool is_map_tag(uint8_t b)
{
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

/* Cap checks on the raw bytes, then msgpack-c into the zone; *o is the top-level map. */
static bo_err dec_unpack(dec *d, const uint8_t *frame, size_t len, msgpack_object *o)
{
    if (len > d->caps->frame)
        return BO_E_TOO_BIG;
    if (!frame || !len || !is_map_tag(frame[0]))
        return BO_E_MALFORMED;
    bo_err err = bo_mp_check(frame, len, d->caps);
    if (err)
        return err;
    char *copy = msgpack_zone_malloc_no_align(d->z, len); /* strings and bins point here */
    if (!copy)
        return BO_E_NOMEM;
    memcpy(copy, frame, len);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack(copy, len, &off, d->z, o);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        return BO_E_NOMEM;
    return r == MSGPACK_UNPACK_SUCCESS ? BO_E_OK : BO_E_MALFORMED;
}

static bo_err dec_frame(dec *d, const uint8_t *frame, size_t len, bool from_client,
                        bo_msg **out)
{
    msgpack_object o;
    bo_err err = dec_unpack(d, frame, len, &o);
    const bo__wire_schema *s = NULL;
    if (!err)
        err = dec_type(d, &o, from_client, &s);
    bo_msg *m = err ? NULL : zalloc(d, sizeof(*m));
    if (!err && !m)
        err = BO_E_NOMEM;
    if (!err) {
        m->type = s->type;
        err = dec_table(d, &s->fields, &o, (char *)m, s, m);
    }
    if (!err) {
        m->mem = d->z;
        *out = m;
    }
    return err;
}

static const char *cap_name(bo_err err)
{
    switch (err) {
    case BO_E_TOO_BIG:
        return "size";
    case BO_E_TOO_DEEP:
        return "depth";
    case BO_E_TOO_MANY:
        return "elements";
    default:
        return "";
    }
}

bo_err bo_wire_decode(const uint8_t *frame, size_t len, const bo_wire_caps *caps,
                      bool from_client, bo_msg **out, uint64_t *id_out, char *detail,
                      size_t detail_len)
{
    *out = NULL;
    if (id_out)
        *id_out = 0;
    if (detail && detail_len)
        detail[0] = 0;
    dec d = {.caps = caps};
    d.z = msgpack_zone_new(len + 1024 > 4096 ? len + 1024 : 4096);
    if (!d.z)
        return BO_E_NOMEM;
    bo_err err = dec_frame(&d, frame, len, from_client, out);
    if (!err) {
        if (id_out)
            *id_out = (*out)->id;
        return BO_E_OK;
    }
    msgpack_zone_free(d.z);
    uint64_t id;
    if (id_out && frame && bo__wire_scan_id(frame, len, &id))
        *id_out = id;
    if (detail && detail_len)
        snprintf(detail, detail_len, "%s", d.path.len ? d.path.s : cap_name(err));
    return err;
}

void bo_msg_free(bo_msg *m)
{
    if (!m)
        return;
    if (m->mem)
        msgpack_zone_free(m->mem); /* m lives in it */
    else
        free(m);
}

/* ================================================================= encoding ==== */

static bo_err enc_table(bo_buf *out, const bo__wire_table *t, const char *base,
                        const bo__wire_schema *top, const bo_msg *m);

static bool is_map_mp(const bo_bytes *b)
{
    return b->len && b->p && is_map_tag(b->p[0]);
}

/* Encodes into a scratch buffer and adds it under key. */
typedef bo_err (*enc_fn)(bo_buf *tmp, const bo__wire_field *f, const char *at);

static bo_err enc_nested(bo_mpmap *mm, const bo__wire_field *f, const char *at, enc_fn fn)
{
    bo_buf tmp;
    bo_buf_init(&tmp, SIZE_MAX / 4);
    bo_err err = fn(&tmp, f, at);
    if (!err)
        err = bo_mpmap_raw(mm, f->key, tmp.data, tmp.len);
    bo_buf_cleanup(&tmp);
    return err;
}

static bo_err enc_list_items(bo_buf *tmp, const bo__wire_field *f, const char *at)
{
    any_list l;
    memcpy(&l, at, sizeof(l));
    if (l.n > UINT32_MAX || (l.n && !l.v))
        return BO_E_INVALID_ARG;
    bo_err err = bo_mp_array_header(tmp, (uint32_t)l.n);
    for (size_t i = 0; i < l.n && !err; i++) {
        if (f->kind == BO__WK_BIN_LIST) {
            const bo_bytes *b = (const bo_bytes *)l.v + i;
            err = bo_mp_bin(tmp, b->p, b->len);
        } else if (f->kind == BO__WK_STR_LIST) {
            const char *s = ((const char **)l.v)[i];
            err = s ? bo_mp_str(tmp, s, strlen(s)) : BO_E_INVALID_ARG;
        } else {
            err = enc_table(tmp, f->sub, (const char *)l.v + i * f->elem_size, NULL, NULL);
        }
    }
    return err;
}

static bo_err enc_sub_map(bo_buf *tmp, const bo__wire_field *f, const char *at)
{
    return enc_table(tmp, f->sub, at, NULL, NULL);
}

static bo_err enc_raw_obj(bo_buf *tmp, const bo__wire_field *f, const char *at)
{
    const bo_raw *r = (const bo_raw *)(const void *)at;
    if (r->obj->type != MSGPACK_OBJECT_MAP)
        return BO_E_INVALID_ARG;
    return bo_mp_canonical(tmp, r->obj);
}

static bo_err enc_raw(bo_mpmap *mm, const bo__wire_field *f, const char *at)
{
    bo_raw r;
    memcpy(&r, at, sizeof(r));
    if (r.mp.len)
        return is_map_mp(&r.mp) ? bo_mpmap_raw(mm, f->key, r.mp.p, r.mp.len)
                                : BO_E_INVALID_ARG;
    if (r.obj)
        return enc_nested(mm, f, at, enc_raw_obj);
    return f->required ? BO_E_INVALID_ARG : BO_E_OK;
}

static bo_err enc_str(bo_mpmap *mm, const bo__wire_field *f, const char *at)
{
    const char *s;
    memcpy(&s, at, sizeof(s));
    if (!s)
        return f->required ? BO_E_INVALID_ARG : BO_E_OK;
    return bo_mpmap_str(mm, f->key, s);
}

static bo_err enc_bin(bo_mpmap *mm, const bo__wire_field *f, const char *at)
{
    bo_bytes b;
    memcpy(&b, at, sizeof(b));
    if (!b.len && !f->required)
        return BO_E_OK;
    return bo_mpmap_bin(mm, f->key, b.p, b.len);
}

static bo_err enc_number(bo_mpmap *mm, const bo__wire_field *f, const char *at)
{
    switch (f->kind) {
    case BO__WK_U64: {
        uint64_t v;
        memcpy(&v, at, sizeof(v));
        return bo_mpmap_u64(mm, f->key, v);
    }
    case BO__WK_I64: {
        int64_t v;
        memcpy(&v, at, sizeof(v));
        return bo_mpmap_i64(mm, f->key, v);
    }
    case BO__WK_SIZE: {
        size_t v;
        memcpy(&v, at, sizeof(v));
        return bo_mpmap_u64(mm, f->key, v);
    }
    case BO__WK_UINT: {
        unsigned v;
        memcpy(&v, at, sizeof(v));
        return bo_mpmap_u64(mm, f->key, v);
    }
    default: { /* BO__WK_BOOL */
        bool v;
        memcpy(&v, at, sizeof(v));
        return bo_mpmap_bool(mm, f->key, v);
    }
    }
}

static bo_err enc_field(bo_mpmap *mm, const bo__wire_field *f, const char *base)
{
    const char *at = base + f->off;
    if (f->has_off >= 0 && !*(const bool *)(const void *)(base + f->has_off))
        return BO_E_OK;
    switch (f->kind) {
    case BO__WK_STR:
        return enc_str(mm, f, at);
    case BO__WK_BIN:
        return enc_bin(mm, f, at);
    case BO__WK_BIN_LIST:
    case BO__WK_STR_LIST:
    case BO__WK_MAP_LIST: {
        any_list l;
        memcpy(&l, at, sizeof(l));
        if (!l.n && !f->required)
            return BO_E_OK;
        return enc_nested(mm, f, at, enc_list_items);
    }
    case BO__WK_RAW_MAP:
        return enc_raw(mm, f, at);
    case BO__WK_MAP:
        return enc_nested(mm, f, at, enc_sub_map);
    default:
        return enc_number(mm, f, at);
    }
}

static bo_err enc_table(bo_buf *out, const bo__wire_table *t, const char *base,
                        const bo__wire_schema *top, const bo_msg *m)
{
    bo_err err = BO_E_OK;
    bo_mpmap *mm = bo_mpmap_new(&err);
    if (!mm)
        return err;
    if (top) {
        err = bo_mpmap_str(mm, "t", top->name);
        if (!err && top->request)
            err = bo_mpmap_u64(mm, "id", m->id);
    }
    for (size_t i = 0; i < t->n && !err; i++)
        err = enc_field(mm, &t->f[i], base);
    if (!err)
        err = bo_mpmap_finish(mm, out);
    bo_mpmap_free(mm);
    return err;
}

bo_err bo_wire_encode(bo_buf *out, const bo_msg *m)
{
    const bo__wire_schema *s = m ? bo__wire_schema_of(m->type) : NULL;
    if (!s)
        return BO_E_INVALID_ARG;
    size_t mark = out->len;
    bo_err err = enc_table(out, &s->fields, (const char *)m, s, m);
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

bo_err bo_wire_encode_ok(bo_buf *out, uint64_t re, const uint8_t *data_mp, size_t data_len)
{
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_OK;
    m.u.ok.re = re;
    m.u.ok.has_re = true;
    if (data_mp && data_len) {
        m.u.ok.data.mp.p = data_mp;
        m.u.ok.data.mp.len = data_len;
    }
    return bo_wire_encode(out, &m);
}

bo_err bo_wire_encode_err(bo_buf *out, bool has_re, uint64_t re, bo_err code, const char *msg)
{
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_ERR;
    m.u.err.re = re;
    m.u.err.has_re = has_re;
    m.u.err.code = bo_err_name(code);
    m.u.err.msg = msg ? msg : bo_strerror(code);
    return bo_wire_encode(out, &m);
}
