/* bidopen: the tender definition an opening is created from (docs/protocol.md §5).
 *
 * One row per key (how to read it, its rule); details read "key: rule" so the person who
 * wrote the tender knows what to change. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bo/tender.h"
#include "bo/utf8.h"
#include "bo/wire.h"

#define TENDER_DEFAULT_MIN_BIDDERS 3
#define TENDER_DEFAULT_WINDOW_S 1800
#define TENDER_DEFAULT_TZ 480

bool bo_oid_valid(const char *oid)
{
    if (!oid)
        return false;
    size_t n = strlen(oid);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = oid[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

typedef struct tparse {
    bo_tender *t;
    char *detail;
    size_t detail_len;
    bool have_title, have_checkin, have_deadline;
} tparse;

static bo_err rule(tparse *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bo_err rule(tparse *p, const char *key, const char *fmt, ...)
{
    if (p->detail && p->detail_len) {
        int n = snprintf(p->detail, p->detail_len, "%s: ", key);
        if (n >= 0 && (size_t)n < p->detail_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->detail + n, p->detail_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return BO_E_BAD_TENDER;
}

/* ---------------------------------------------------------------- readers ---- */

/* A string of at most max_chars characters (and 1 at least when nonempty) into dst. */
static bo_err read_text(tparse *p, const char *key, const msgpack_object *v, char *dst,
                        size_t dst_size, size_t max_chars, bool nonempty)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return rule(p, key, "must be a string");
    const char *s = v->via.str.ptr;
    size_t n = v->via.str.size;
    if (!bo_utf8_valid(s, n))
        return rule(p, key, "must be valid UTF-8 without NUL");
    if (bo_utf8_count(s, n) > max_chars || n >= dst_size)
        return rule(p, key, "must be at most %zu characters", max_chars);
    if (nonempty && n == 0)
        return rule(p, key, "must not be empty");
    if (n)
        memcpy(dst, s, n);
    dst[n] = 0;
    return BO_E_OK;
}

static bo_err read_int(tparse *p, const char *key, const msgpack_object *v, int64_t min,
                       int64_t max, int64_t *out)
{
    int64_t x;
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        x = v->via.i64;
    else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
        x = (int64_t)v->via.u64;
    else
        return rule(p, key, "must be an integer");
    if (x < min || x > max)
        return rule(p, key, "must be between %lld and %lld", (long long)min, (long long)max);
    *out = x;
    return BO_E_OK;
}

/* ------------------------------------------------------------ one per key ---- */

typedef bo_err (*key_reader)(tparse *p, const char *key, const msgpack_object *v);

static bo_err k_oid(tparse *p, const char *key, const msgpack_object *v)
{
    bo_err err = read_text(p, key, v, p->t->oid, sizeof(p->t->oid), 64, true);
    if (!err && !bo_oid_valid(p->t->oid))
        return rule(p, key, "must match [A-Za-z0-9._-]{1,64}");
    return err;
}

static bo_err k_title(tparse *p, const char *key, const msgpack_object *v)
{
    p->have_title = true;
    return read_text(p, key, v, p->t->title, sizeof(p->t->title), 200, true);
}

static bo_err k_lot(tparse *p, const char *key, const msgpack_object *v)
{
    return read_text(p, key, v, p->t->lot, sizeof(p->t->lot), 100, false);
}

static bo_err k_code(tparse *p, const char *key, const msgpack_object *v)
{
    return read_text(p, key, v, p->t->code, sizeof(p->t->code), 64, false);
}

static bo_err k_buyer(tparse *p, const char *key, const msgpack_object *v)
{
    return read_text(p, key, v, p->t->buyer, sizeof(p->t->buyer), 200, false);
}

static bo_err k_agency(tparse *p, const char *key, const msgpack_object *v)
{
    return read_text(p, key, v, p->t->agency, sizeof(p->t->agency), 200, false);
}

static bo_err k_checkin_at(tparse *p, const char *key, const msgpack_object *v)
{
    p->have_checkin = true;
    return read_int(p, key, v, 0, INT64_MAX, &p->t->checkin_at);
}

static bo_err k_deadline(tparse *p, const char *key, const msgpack_object *v)
{
    p->have_deadline = true;
    return read_int(p, key, v, 0, INT64_MAX, &p->t->deadline);
}

static bo_err k_min_bidders(tparse *p, const char *key, const msgpack_object *v)
{
    int64_t x;
    bo_err err = read_int(p, key, v, 1, 1000, &x);
    if (!err)
        p->t->min_bidders = (uint32_t)x;
    return err;
}

static bo_err k_counts_early(tparse *p, const char *key, const msgpack_object *v)
{
    if (v->type != MSGPACK_OBJECT_BOOLEAN)
        return rule(p, key, "must be true or false");
    p->t->counts_early = v->via.boolean;
    return BO_E_OK;
}

static bo_err k_decrypt_window_s(tparse *p, const char *key, const msgpack_object *v)
{
    int64_t x;
    bo_err err = read_int(p, key, v, 60, 86400, &x);
    if (!err)
        p->t->decrypt_window_s = (uint32_t)x;
    return err;
}

static bo_err k_currency(tparse *p, const char *key, const msgpack_object *v)
{
    char c[4];
    bo_err err = read_text(p, key, v, c, sizeof(c), 3, true);
    bool upper3 = !err && strlen(c) == 3;
    for (int i = 0; upper3 && i < 3; i++)
        upper3 = c[i] >= 'A' && c[i] <= 'Z';
    if (!upper3)
        return rule(p, key, "must be an ISO 4217 code of 3 capital letters");
    memcpy(p->t->currency, c, sizeof(c));
    return BO_E_OK;
}

static bo_err k_tz_offset_min(tparse *p, const char *key, const msgpack_object *v)
{
    int64_t x;
    bo_err err = read_int(p, key, v, -720, 840, &x);
    if (!err)
        p->t->tz_offset_min = (int32_t)x;
    return err;
}

static bo_err k_host_fpr(tparse *p, const char *key, const msgpack_object *v)
{
    if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 32)
        return rule(p, key, "must be 32 bytes (a SHA-256 certificate fingerprint)");
    memcpy(p->t->host_fpr, v->via.bin.ptr, 32);
    p->t->has_host_fpr = true;
    return BO_E_OK;
}

/* ------------------------------------------------------------------ fields ---- */

static const char *const field_types[] = {
    [BO_FIELD_DECIMAL] = "decimal",
    [BO_FIELD_TEXT] = "text",
    [BO_FIELD_INT] = "int",
    [BO_FIELD_DAYS] = "days",
};

static bool field_key_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bo_err field_type(tparse *p, const char *key, const msgpack_object *v,
                         bo_field_type *out)
{
    char s[16];
    if (read_text(p, key, v, s, sizeof(s), 15, true) == BO_E_OK)
        for (int t = BO_FIELD_DECIMAL; t <= BO_FIELD_DAYS; t++)
            if (!strcmp(s, field_types[t])) {
                *out = (bo_field_type)t;
                return BO_E_OK;
            }
    return rule(p, key, "must be decimal, text, int or days");
}

/* Which member of a field a key names: 1 key, 2 label, 4 type, 0 none. */
static unsigned field_member_bit(const msgpack_object *k, char name[8])
{
    static const char *const names[] = {"key", "label", "type"};
    if (k->type != MSGPACK_OBJECT_STR || k->via.str.size >= 8)
        return 0;
    memset(name, 0, 8);
    if (k->via.str.size)
        memcpy(name, k->via.str.ptr, k->via.str.size);
    for (unsigned i = 0; i < 3; i++)
        if (!strcmp(name, names[i]))
            return 1u << i;
    return 0;
}

static bo_err field_member(tparse *p, const char *path, const msgpack_object_kv *kv,
                           bo_tender_field *f, unsigned *seen)
{
    char key[48], name[8] = "";
    unsigned bit = field_member_bit(&kv->key, name);
    snprintf(key, sizeof(key), "%s.%s", path, name);
    if (!bit)
        return rule(p, name[0] ? key : path, "each field has only key, label and type");
    if (*seen & bit)
        return rule(p, key, "duplicate key");
    *seen |= bit;
    if (bit == 1) {
        bo_err err = read_text(p, key, &kv->val, f->key, sizeof(f->key), 32, true);
        if (!err && !field_key_valid(f->key))
            return rule(p, key, "must match [a-z0-9_]{1,32}");
        return err;
    }
    if (bit == 2)
        return read_text(p, key, &kv->val, f->label, sizeof(f->label), 64, true);
    return field_type(p, key, &kv->val, &f->type);
}

static bo_err one_field(tparse *p, size_t i, const msgpack_object *v)
{
    char path[32];
    snprintf(path, sizeof(path), "fields[%zu]", i);
    if (v->type != MSGPACK_OBJECT_MAP)
        return rule(p, path, "must be a map {key, label, type}");
    bo_tender_field *f = &p->t->fields[i];
    unsigned seen = 0;
    for (uint32_t j = 0; j < v->via.map.size; j++) {
        bo_err err = field_member(p, path, &v->via.map.ptr[j], f, &seen);
        if (err)
            return err;
    }
    if (seen != 7)
        return rule(p, path, "needs key, label and type");
    for (size_t j = 0; j < i; j++)
        if (!strcmp(p->t->fields[j].key, f->key))
            return rule(p, path, "key \"%s\" is used twice", f->key);
    return BO_E_OK;
}

static bo_err k_fields(tparse *p, const char *key, const msgpack_object *v)
{
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return rule(p, key, "must be a list");
    if (v->via.array.size > BO_TENDER_MAX_FIELDS)
        return rule(p, key, "at most %d fields", BO_TENDER_MAX_FIELDS);
    for (uint32_t i = 0; i < v->via.array.size; i++) {
        bo_err err = one_field(p, i, &v->via.array.ptr[i]);
        if (err)
            return err;
    }
    p->t->n_fields = v->via.array.size;
    return BO_E_OK;
}

/* ------------------------------------------------------------------- parse ---- */

static const struct tender_key {
    const char *key;
    key_reader read;
} tender_keys[] = {
    {"agency", k_agency},
    {"buyer", k_buyer},
    {"checkin_at", k_checkin_at},
    {"code", k_code},
    {"counts_early", k_counts_early},
    {"currency", k_currency},
    {"deadline", k_deadline},
    {"decrypt_window_s", k_decrypt_window_s},
    {"fields", k_fields},
    {"host_fpr", k_host_fpr},
    {"lot", k_lot},
    {"min_bidders", k_min_bidders},
    {"oid", k_oid},
    {"title", k_title},
    {"tz_offset_min", k_tz_offset_min},
};
#define N_TENDER_KEYS (sizeof(tender_keys) / sizeof(tender_keys[0]))

static bo_err read_key(tparse *p, const msgpack_object_kv *kv, uint32_t *seen)
{
    const msgpack_object_str *k = &kv->key.via.str;
    if (kv->key.type != MSGPACK_OBJECT_STR)
        return rule(p, "tender", "keys must be strings");
    for (size_t i = 0; i < N_TENDER_KEYS; i++) {
        const char *name = tender_keys[i].key;
        if (strlen(name) != k->size || memcmp(name, k->ptr, k->size))
            continue;
        if (*seen & (1u << i))
            return rule(p, name, "duplicate key");
        *seen |= 1u << i;
        return tender_keys[i].read(p, name, &kv->val);
    }
    char shown[48];
    size_t n = k->size < 40 ? k->size : 40;
    if (!bo_utf8_valid(k->ptr, n))
        return rule(p, "tender", "keys must be valid UTF-8");
    snprintf(shown, sizeof(shown), "%.*s", (int)n, n ? k->ptr : "");
    return rule(p, shown, "unknown key");
}

static void set_defaults(bo_tender *t)
{
    memset(t, 0, sizeof(*t));
    t->min_bidders = TENDER_DEFAULT_MIN_BIDDERS;
    t->decrypt_window_s = TENDER_DEFAULT_WINDOW_S;
    memcpy(t->currency, "CNY", 4);
    t->tz_offset_min = TENDER_DEFAULT_TZ;
}

static bo_err check_whole(tparse *p, bool future, bo_time_ms now)
{
    if (!p->have_title)
        return rule(p, "title", "required");
    if (!p->have_checkin)
        return rule(p, "checkin_at", "required");
    if (!p->have_deadline)
        return rule(p, "deadline", "required");
    if (p->t->deadline <= p->t->checkin_at)
        return rule(p, "deadline", "must be after checkin_at");
    if (future && p->t->deadline <= now)
        return rule(p, "deadline", "must be in the future");
    return BO_E_OK;
}

static bo_err parse(const uint8_t *mp, size_t len, bool future, bo_time_ms now, bo_tender *out,
                    char *detail, size_t detail_len)
{
    tparse p = {out, detail, detail_len, false, false, false};
    if (detail && detail_len)
        detail[0] = 0;
    set_defaults(out);
    msgpack_zone *z = NULL;
    msgpack_object o;
    bo_err err = bo_mp_parse(mp, len, &z, &o);
    if (err == BO_E_NOMEM)
        return err;
    if (err || o.type != MSGPACK_OBJECT_MAP)
        err = rule(&p, "tender", "must be a map");
    uint32_t seen = 0;
    for (uint32_t i = 0; !err && i < o.via.map.size; i++)
        err = read_key(&p, &o.via.map.ptr[i], &seen);
    if (!err)
        err = check_whole(&p, future, now);
    msgpack_zone_free(z);
    if (err)
        set_defaults(out);
    return err;
}

bo_err bo_tender_parse(const uint8_t *mp, size_t len, bo_time_ms now, bo_tender *out,
                       char *detail, size_t detail_len)
{
    return parse(mp, len, true, now, out, detail, detail_len);
}

bo_err bo_tender_decode_stored(const uint8_t *mp, size_t len, bo_tender *out)
{
    return parse(mp, len, false, 0, out, NULL, 0);
}

/* ------------------------------------------------------------------ encode ---- */

static bo_err encode_fields(const bo_tender *t, bo_buf *out)
{
    bo_err err = bo_mp_array_header(out, (uint32_t)t->n_fields);
    for (size_t i = 0; i < t->n_fields && !err; i++) {
        const bo_tender_field *f = &t->fields[i];
        if (f->type < BO_FIELD_DECIMAL || f->type > BO_FIELD_DAYS)
            return BO_E_INVALID_ARG;
        bo_mpmap *m = bo_mpmap_new(&err);
        if (!m)
            return err;
        bo_mpmap_str(m, "key", f->key);
        bo_mpmap_str(m, "label", f->label);
        bo_mpmap_str(m, "type", field_types[f->type]);
        err = bo_mpmap_finish(m, out);
        bo_mpmap_free(m);
    }
    return err;
}

static void optional_text(bo_mpmap *m, const char *key, const char *val)
{
    if (val[0])
        bo_mpmap_str(m, key, val);
}

static bo_err encode_map(const bo_tender *t, bo_mpmap *m, const bo_buf *fields)
{
    optional_text(m, "oid", t->oid);
    bo_mpmap_str(m, "title", t->title);
    optional_text(m, "lot", t->lot);
    optional_text(m, "code", t->code);
    optional_text(m, "buyer", t->buyer);
    optional_text(m, "agency", t->agency);
    bo_mpmap_i64(m, "checkin_at", t->checkin_at);
    bo_mpmap_i64(m, "deadline", t->deadline);
    bo_mpmap_u64(m, "min_bidders", t->min_bidders);
    bo_mpmap_bool(m, "counts_early", t->counts_early);
    bo_mpmap_u64(m, "decrypt_window_s", t->decrypt_window_s);
    bo_mpmap_str(m, "currency", t->currency);
    bo_mpmap_i64(m, "tz_offset_min", t->tz_offset_min);
    if (t->has_host_fpr)
        bo_mpmap_bin(m, "host_fpr", t->host_fpr, 32);
    return bo_mpmap_raw(m, "fields", fields->data, fields->len); /* errors are sticky */
}

bo_err bo_tender_encode(const bo_tender *t, bo_buf *out)
{
    if (t->n_fields > BO_TENDER_MAX_FIELDS)
        return BO_E_INVALID_ARG;
    bo_buf fields;
    bo_buf_init(&fields, SIZE_MAX / 4);
    bo_err err = encode_fields(t, &fields);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        encode_map(t, m, &fields);
        err = bo_mpmap_finish(m, out);
    }
    bo_mpmap_free(m);
    bo_buf_cleanup(&fields);
    return err;
}
