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
#define TENDER_DEFAULT_PLACES 2

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

#define ORDER_DRAW_PREFIX "draw:"
#define COEF_MAX "1000" /* a benchmark coefficient is in (0, 1000] */

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
    int64_t x = 0;
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
    int64_t x = 0;
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
    int64_t x = 0;
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


/* -------------------------------------------------- announcement and draws ---- */

static const char *const draw_kinds[] = {
    [BO_DRAW_COEFFICIENT] = "coefficient",
    [BO_DRAW_ORDER] = "order",
};

/* "draw:<id>" with a valid id into id; false otherwise. */
static bool draw_ref(const char *s, char id[33])
{
    size_t n = strlen(ORDER_DRAW_PREFIX);
    if (strncmp(s, ORDER_DRAW_PREFIX, n) || !field_key_valid(s + n))
        return false;
    snprintf(id, 33, "%s", s + n);
    return true;
}

static bo_err k_announce_order(tparse *p, const char *key, const msgpack_object *v)
{
    char s[48];
    if (read_text(p, key, v, s, sizeof(s), 40, true) == BO_E_OK) {
        if (!strcmp(s, "submission")) {
            p->t->announce_order = BO_ORDER_SUBMISSION;
            return BO_E_OK;
        }
        if (!strcmp(s, "uscc")) {
            p->t->announce_order = BO_ORDER_USCC;
            return BO_E_OK;
        }
        if (draw_ref(s, p->t->announce_draw)) {
            p->t->announce_order = BO_ORDER_DRAW;
            return BO_E_OK;
        }
    }
    return rule(p, key, "must be submission, uscc or draw:<id>");
}

/* A decimal written as a string (values of draws, the benchmark coefficient). */
static bo_err read_decimal(tparse *p, const char *key, const msgpack_object *v, bo_decimal *out)
{
    if (v->type != MSGPACK_OBJECT_STR || v->via.str.size > BO_DECIMAL_TEXT_MAX ||
        bo_decimal_parse(v->via.str.ptr, v->via.str.size, out))
        return rule(p, key, "must be a decimal string (at most 18 digits before the point "
                            "and 6 after)");
    return BO_E_OK;
}

static bo_err draw_values(tparse *p, const char *path, const msgpack_object *v,
                          bo_tender_draw *d)
{
    char key[64];
    snprintf(key, sizeof(key), "%s.values", path);
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return rule(p, key, "must be a list of decimal strings");
    if (v->via.array.size < BO_DRAW_MIN_VALUES || v->via.array.size > BO_DRAW_MAX_VALUES)
        return rule(p, key, "must have %d to %d values", BO_DRAW_MIN_VALUES,
                    BO_DRAW_MAX_VALUES);
    for (uint32_t i = 0; i < v->via.array.size; i++) {
        snprintf(key, sizeof(key), "%s.values[%u]", path, i);
        bo_err err = read_decimal(p, key, &v->via.array.ptr[i], &d->values[i]);
        if (err)
            return err;
        for (uint32_t j = 0; j < i; j++)
            if (!bo_decimal_cmp(&d->values[j], &d->values[i]))
                return rule(p, key, "repeats values[%u]", j);
    }
    d->n_values = v->via.array.size;
    return BO_E_OK;
}

/* Which member of a map a key names among names (bit i for names[i]), 0 for none. */
static unsigned member_bit(const msgpack_object *k, const char *const *names, size_t n_names,
                           char name[24])
{
    memset(name, 0, 24);
    if (k->type != MSGPACK_OBJECT_STR || k->via.str.size >= 24 ||
        !bo_utf8_valid(k->via.str.ptr, k->via.str.size))
        return 0;
    if (k->via.str.size)
        memcpy(name, k->via.str.ptr, k->via.str.size);
    if (memchr(name, 0, k->via.str.size))
        return 0;
    for (size_t i = 0; i < n_names; i++)
        if (!strcmp(name, names[i]))
            return 1u << i;
    return 0;
}

static bo_err draw_member(tparse *p, const char *path, const msgpack_object_kv *kv,
                          bo_tender_draw *d, unsigned *seen)
{
    static const char *const names[] = {"id", "kind", "label", "values"};
    char key[64], name[24];
    unsigned bit = member_bit(&kv->key, names, 4, name);
    snprintf(key, sizeof(key), "%s.%s", path, name);
    if (!bit)
        return rule(p, name[0] ? key : path, "each draw has only id, kind, label and values");
    if (*seen & bit)
        return rule(p, key, "duplicate key");
    *seen |= bit;
    if (bit == 1) {
        bo_err err = read_text(p, key, &kv->val, d->id, sizeof(d->id), 32, true);
        if (!err && !field_key_valid(d->id))
            return rule(p, key, "must match [a-z0-9_]{1,32}");
        return err;
    }
    if (bit == 2) {
        char s[16];
        if (read_text(p, key, &kv->val, s, sizeof(s), 15, true) == BO_E_OK)
            for (int k = BO_DRAW_COEFFICIENT; k <= BO_DRAW_ORDER; k++)
                if (!strcmp(s, draw_kinds[k])) {
                    d->kind = (bo_draw_kind)k;
                    return BO_E_OK;
                }
        return rule(p, key, "must be coefficient or order");
    }
    if (bit == 4)
        return read_text(p, key, &kv->val, d->label, sizeof(d->label), 64, true);
    return draw_values(p, path, &kv->val, d);
}

static bo_err one_draw(tparse *p, size_t i, const msgpack_object *v)
{
    char path[32];
    snprintf(path, sizeof(path), "draws[%zu]", i);
    if (v->type != MSGPACK_OBJECT_MAP)
        return rule(p, path, "must be a map {id, kind, label, values?}");
    bo_tender_draw *d = &p->t->draws[i];
    memset(d, 0, sizeof(*d));
    unsigned seen = 0;
    for (uint32_t j = 0; j < v->via.map.size; j++) {
        bo_err err = draw_member(p, path, &v->via.map.ptr[j], d, &seen);
        if (err)
            return err;
    }
    if ((seen & 7) != 7)
        return rule(p, path, "needs id, kind and label");
    char key[48];
    snprintf(key, sizeof(key), "%s.values", path);
    if (d->kind == BO_DRAW_COEFFICIENT && !(seen & 8))
        return rule(p, key, "a coefficient draw needs %d to %d values", BO_DRAW_MIN_VALUES,
                    BO_DRAW_MAX_VALUES);
    if (d->kind == BO_DRAW_ORDER && (seen & 8))
        return rule(p, key, "an order draw has no values");
    for (size_t j = 0; j < i; j++)
        if (!strcmp(p->t->draws[j].id, d->id))
            return rule(p, path, "id \"%s\" is used twice", d->id);
    return BO_E_OK;
}

static bo_err k_draws(tparse *p, const char *key, const msgpack_object *v)
{
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return rule(p, key, "must be a list");
    if (v->via.array.size > BO_TENDER_MAX_DRAWS)
        return rule(p, key, "at most %d draws", BO_TENDER_MAX_DRAWS);
    for (uint32_t i = 0; i < v->via.array.size; i++) {
        bo_err err = one_draw(p, i, &v->via.array.ptr[i]);
        if (err)
            return err;
    }
    p->t->n_draws = v->via.array.size;
    return BO_E_OK;
}

/* ---------------------------------------------------------------- benchmark ---- */

/* 0 < c <= 1000 */
static bool coefficient_ok(const bo_decimal *c)
{
    bo_decimal zero = {0, 0}, max;
    bo_decimal_parse(COEF_MAX, strlen(COEF_MAX), &max);
    return bo_decimal_cmp(c, &zero) > 0 && bo_decimal_cmp(c, &max) <= 0;
}

static bo_err bench_coefficient(tparse *p, const char *key, const msgpack_object *v)
{
    bo_tender_benchmark *b = &p->t->benchmark;
    char s[48];
    if (v->type == MSGPACK_OBJECT_STR && v->via.str.size < sizeof(s) &&
        v->via.str.size >= strlen(ORDER_DRAW_PREFIX) &&
        !memcmp(v->via.str.ptr, ORDER_DRAW_PREFIX, strlen(ORDER_DRAW_PREFIX))) {
        memcpy(s, v->via.str.ptr, v->via.str.size);
        s[v->via.str.size] = 0;
        if (!memchr(s, 0, v->via.str.size) && draw_ref(s, b->coef_id)) {
            b->coef_draw = true;
            return BO_E_OK;
        }
    } else if (v->type == MSGPACK_OBJECT_STR && v->via.str.size <= BO_DECIMAL_TEXT_MAX &&
               !bo_decimal_parse(v->via.str.ptr, v->via.str.size, &b->coefficient) &&
               coefficient_ok(&b->coefficient)) {
        b->coef_draw = false;
        return BO_E_OK;
    }
    return rule(p, key, "must be a decimal greater than 0 and at most %s, or draw:<id>",
                COEF_MAX);
}

static bo_err bench_member(tparse *p, const msgpack_object_kv *kv, unsigned *seen)
{
    static const char *const names[] = {"field",  "trim_min", "trim",
                                        "coefficient", "places", "rounding"};
    bo_tender_benchmark *b = &p->t->benchmark;
    char key[48], name[24];
    unsigned bit = member_bit(&kv->key, names, 6, name);
    snprintf(key, sizeof(key), "benchmark.%s", name);
    if (!bit)
        return rule(p, name[0] ? key : "benchmark", "unknown key");
    if (*seen & bit)
        return rule(p, key, "duplicate key");
    *seen |= bit;
    int64_t x = 0;
    bo_err err = BO_E_OK;
    switch (bit) {
    case 1:
        err = read_text(p, key, &kv->val, b->field, sizeof(b->field), 32, true);
        if (!err && !field_key_valid(b->field))
            err = rule(p, key, "must match [a-z0-9_]{1,32}");
        break;
    case 2:
        if (!(err = read_int(p, key, &kv->val, 0, BO_BENCHMARK_MAX_TRIM_MIN, &x)))
            b->trim_min = (uint32_t)x;
        break;
    case 4:
        if (!(err = read_int(p, key, &kv->val, 0, BO_BENCHMARK_MAX_TRIM, &x)))
            b->trim = (uint32_t)x;
        break;
    case 8:
        err = bench_coefficient(p, key, &kv->val);
        break;
    case 16:
        if (!(err = read_int(p, key, &kv->val, 0, BO_BENCHMARK_MAX_PLACES, &x)))
            b->places = (unsigned)x;
        break;
    default: {
        char s[16];
        if (read_text(p, key, &kv->val, s, sizeof(s), 15, true) ||
            bo_rounding_parse(s, &b->rounding))
            err = rule(p, key, "must be half_up, half_even or down");
        break;
    }
    }
    return err;
}

static bo_err k_benchmark(tparse *p, const char *key, const msgpack_object *v)
{
    bo_tender_benchmark *b = &p->t->benchmark;
    if (v->type != MSGPACK_OBJECT_MAP)
        return rule(p, key, "must be a map {field, trim_min, trim, coefficient, places, "
                            "rounding}");
    unsigned seen = 0;
    for (uint32_t i = 0; i < v->via.map.size; i++) {
        bo_err err = bench_member(p, &v->via.map.ptr[i], &seen);
        if (err)
            return err;
    }
    if (!(seen & 1))
        return rule(p, "benchmark.field", "required");
    if (b->trim && b->trim_min < 2 * b->trim + 1)
        return rule(p, "benchmark.trim_min", "must be at least 2 * trim + 1 (%u)",
                    2 * b->trim + 1);
    if (!b->trim && b->trim_min)
        return rule(p, "benchmark.trim_min", "must be 0 when trim is 0");
    b->present = true;
    return BO_E_OK;
}

/* Rules between keys: the draws that announce_order and the benchmark name, the field the
 * benchmark averages. */
static bo_err check_draws(tparse *p)
{
    const bo_tender *t = p->t;
    const bo_tender_draw *d;
    if (t->announce_order == BO_ORDER_DRAW &&
        (!(d = bo_tender_draw_find(t, t->announce_draw)) || d->kind != BO_DRAW_ORDER))
        return rule(p, "announce_order", "names no order draw");
    for (size_t i = 0; i < t->n_draws; i++) {
        char path[32];
        snprintf(path, sizeof(path), "draws[%zu]", i);
        if (t->draws[i].kind == BO_DRAW_ORDER &&
            (t->announce_order != BO_ORDER_DRAW || strcmp(t->announce_draw, t->draws[i].id)))
            return rule(p, path, "an order draw must be named by announce_order");
    }
    const bo_tender_benchmark *b = &t->benchmark;
    if (!b->present)
        return BO_E_OK;
    const bo_tender_field *f = bo_tender_field_find(t, b->field);
    if (!f || f->type != BO_FIELD_DECIMAL)
        return rule(p, "benchmark.field", "must name a decimal field");
    if (!b->coef_draw)
        return BO_E_OK;
    if (!(d = bo_tender_draw_find(t, b->coef_id)) || d->kind != BO_DRAW_COEFFICIENT)
        return rule(p, "benchmark.coefficient", "names no coefficient draw");
    for (size_t i = 0; i < d->n_values; i++)
        if (!coefficient_ok(&d->values[i]))
            return rule(p, "benchmark.coefficient",
                        "every value of draw %s must be greater than 0 and at most %s",
                        d->id, COEF_MAX);
    return BO_E_OK;
}

/* ------------------------------------------------------------------- parse ---- */

static const struct tender_key {
    const char *key;
    key_reader read;
} tender_keys[] = {
    {"agency", k_agency},
    {"announce_order", k_announce_order},
    {"benchmark", k_benchmark},
    {"buyer", k_buyer},
    {"checkin_at", k_checkin_at},
    {"code", k_code},
    {"counts_early", k_counts_early},
    {"currency", k_currency},
    {"deadline", k_deadline},
    {"decrypt_window_s", k_decrypt_window_s},
    {"draws", k_draws},
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
    t->announce_order = BO_ORDER_SUBMISSION;
    t->benchmark.coefficient = bo_decimal_from_int(1);
    t->benchmark.places = TENDER_DEFAULT_PLACES;
    t->benchmark.rounding = BO_ROUND_HALF_UP;
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
    return check_draws(p);
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

/* ------------------------------------------------------------------ lookup ---- */

const bo_tender_draw *bo_tender_draw_find(const bo_tender *t, const char *id)
{
    for (size_t i = 0; id && i < t->n_draws; i++)
        if (!strcmp(t->draws[i].id, id))
            return &t->draws[i];
    return NULL;
}

const bo_tender_field *bo_tender_field_find(const bo_tender *t, const char *key)
{
    for (size_t i = 0; key && i < t->n_fields; i++)
        if (!strcmp(t->fields[i].key, key))
            return &t->fields[i];
    return NULL;
}

/* ---------------------------------------------------------- the opening form ---- */

/* An optional sign (when signed), then 1..max digits. */
static bool digits_ok(const char *s, size_t len, size_t max, bool signed_ok)
{
    size_t i = signed_ok && len && s[0] == '-' ? 1 : 0;
    if (len - i < 1 || len - i > max)
        return false;
    for (; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool bo_tender_value_ok(bo_field_type type, const char *value, size_t len)
{
    if (!value)
        return false;
    switch (type) {
    case BO_FIELD_DECIMAL:
        return bo_decimal_valid(value, len);
    case BO_FIELD_INT:
        return digits_ok(value, len, BO_FORM_INT_DIGITS, true);
    case BO_FIELD_DAYS:
        return digits_ok(value, len, BO_FORM_DAYS_DIGITS, false);
    case BO_FIELD_TEXT:
        return len <= BO_FORM_TEXT_MAX && (!len || bo_utf8_valid(value, len)) &&
               !memchr(value, 0, len);
    default:
        return false;
    }
}

static const char *value_rule(bo_field_type type)
{
    switch (type) {
    case BO_FIELD_DECIMAL:
        return "must be a decimal (at most 18 digits before the point and 6 after)";
    case BO_FIELD_INT:
        return "must be a whole number of at most 18 digits";
    case BO_FIELD_DAYS:
        return "must be a number of days of at most 6 digits";
    default:
        return "must be text of at most 1024 bytes";
    }
}

/* The form's value of key, or NULL. */
static const msgpack_object *form_value(const msgpack_object *form, const char *key)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; i < form->via.map.size; i++) {
        const msgpack_object *k = &form->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            !memcmp(k->via.str.ptr, key, n))
            return &form->via.map.ptr[i].val;
    }
    return NULL;
}

static bo_err form_refuse(char *detail, size_t n, const char *key, const char *what)
{
    if (detail && n)
        snprintf(detail, n, "%s: %s", key, what);
    return BO_E_BAD_FIELD;
}

/* The first problem in key order: the keys of the form and of the tender merged. */
static bo_err check_form(const bo_tender *t, const msgpack_object *form, char *detail, size_t n)
{
    const char *first = NULL, *what = NULL;
    char shown[40], extra[40];
    for (uint32_t i = 0; i < form->via.map.size; i++) { /* keys that are not fields */
        const msgpack_object *k = &form->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR || !k->via.str.size || k->via.str.size > 32)
            return form_refuse(detail, n, "form", "keys must be field keys");
        snprintf(shown, sizeof(shown), "%.*s", (int)k->via.str.size, k->via.str.ptr);
        if (strlen(shown) != k->via.str.size || !field_key_valid(shown))
            return form_refuse(detail, n, "form", "keys must be field keys");
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *o = &form->via.map.ptr[j].key;
            if (o->via.str.size == k->via.str.size &&
                !memcmp(o->via.str.ptr, k->via.str.ptr, k->via.str.size))
                return form_refuse(detail, n, shown, "duplicate key");
        }
    }
    for (uint32_t i = 0; i < form->via.map.size; i++) {
        const msgpack_object *k = &form->via.map.ptr[i].key;
        snprintf(shown, sizeof(shown), "%.*s", (int)k->via.str.size, k->via.str.ptr);
        if (!bo_tender_field_find(t, shown) && (!first || strcmp(shown, first) < 0)) {
            memcpy(extra, shown, sizeof(shown));
            first = extra;
            what = "not a field of this tender";
        }
    }
    for (size_t i = 0; i < t->n_fields; i++) {
        const bo_tender_field *f = &t->fields[i];
        const msgpack_object *v = form_value(form, f->key);
        const char *problem = NULL;
        if (!v)
            problem = "missing";
        else if (v->type != MSGPACK_OBJECT_STR)
            problem = "must be a string";
        else if (!bo_tender_value_ok(f->type, v->via.str.ptr, v->via.str.size))
            problem = value_rule(f->type);
        if (problem && (!first || strcmp(f->key, first) < 0)) {
            first = f->key;
            what = problem;
        }
    }
    return first ? form_refuse(detail, n, first, what) : BO_E_OK;
}

bo_err bo_tender_check_form(const bo_tender *t, const uint8_t *form_mp, size_t len,
                            char *detail, size_t detail_len)
{
    if (detail && detail_len)
        detail[0] = 0;
    msgpack_zone *z = NULL;
    msgpack_object o;
    bo_err err = bo_mp_parse(form_mp, len, &z, &o);
    if (err == BO_E_NOMEM)
        return err;
    if (err || o.type != MSGPACK_OBJECT_MAP)
        err = form_refuse(detail, detail_len, "form", "must be a map of field keys to strings");
    else
        err = check_form(t, &o, detail, detail_len);
    msgpack_zone_free(z);
    return err;
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

static bo_err encode_draws(const bo_tender *t, bo_buf *out)
{
    bo_err err = bo_mp_array_header(out, (uint32_t)t->n_draws);
    for (size_t i = 0; i < t->n_draws && !err; i++) {
        const bo_tender_draw *d = &t->draws[i];
        if (d->kind < BO_DRAW_COEFFICIENT || d->kind > BO_DRAW_ORDER ||
            d->n_values > BO_DRAW_MAX_VALUES)
            return BO_E_INVALID_ARG;
        bo_buf vals;
        bo_buf_init(&vals, SIZE_MAX / 4);
        err = bo_mp_array_header(&vals, (uint32_t)d->n_values);
        for (size_t j = 0; j < d->n_values && !err; j++) {
            char s[BO_DECIMAL_STR_MAX];
            err = bo_decimal_canonical(&d->values[j], s, sizeof(s));
            if (!err)
                err = bo_mp_str(&vals, s, strlen(s));
        }
        bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
        if (m) {
            bo_mpmap_str(m, "id", d->id);
            bo_mpmap_str(m, "kind", draw_kinds[d->kind]);
            bo_mpmap_str(m, "label", d->label);
            if (d->kind == BO_DRAW_COEFFICIENT)
                bo_mpmap_raw(m, "values", vals.data, vals.len);
            err = bo_mpmap_finish(m, out);
        }
        bo_mpmap_free(m);
        bo_buf_cleanup(&vals);
    }
    return err;
}

/* The benchmark formula as stored: every member, defaults filled in. */
static bo_err encode_benchmark(const bo_tender_benchmark *b, bo_buf *out)
{
    char coef[BO_DECIMAL_STR_MAX + 8];
    bo_err err = BO_E_OK;
    if (b->coef_draw)
        snprintf(coef, sizeof(coef), ORDER_DRAW_PREFIX "%s", b->coef_id);
    else
        err = bo_decimal_canonical(&b->coefficient, coef, sizeof(coef));
    if (err || !bo_rounding_name(b->rounding))
        return BO_E_INVALID_ARG;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "field", b->field);
    bo_mpmap_u64(m, "trim_min", b->trim_min);
    bo_mpmap_u64(m, "trim", b->trim);
    bo_mpmap_str(m, "coefficient", coef);
    bo_mpmap_u64(m, "places", b->places);
    bo_mpmap_str(m, "rounding", bo_rounding_name(b->rounding));
    err = bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    return err;
}

bo_err bo_tender_encode_benchmark(const bo_tender *t, bo_buf *out)
{
    return t->benchmark.present ? encode_benchmark(&t->benchmark, out) : BO_E_INVALID_ARG;
}

static void optional_text(bo_mpmap *m, const char *key, const char *val)
{
    if (val[0])
        bo_mpmap_str(m, key, val);
}

/* announce_order, draws (when any) and benchmark (when set) into m. */
static bo_err encode_opening(const bo_tender *t, bo_mpmap *m)
{
    char order[48];
    if (t->announce_order == BO_ORDER_DRAW)
        snprintf(order, sizeof(order), ORDER_DRAW_PREFIX "%s", t->announce_draw);
    else
        snprintf(order, sizeof(order), "%s",
                 t->announce_order == BO_ORDER_USCC ? "uscc" : "submission");
    bo_mpmap_str(m, "announce_order", order);
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = BO_E_OK;
    if (t->n_draws > BO_TENDER_MAX_DRAWS)
        err = BO_E_INVALID_ARG;
    else if (t->n_draws && !(err = encode_draws(t, &b)))
        err = bo_mpmap_raw(m, "draws", b.data, b.len);
    bo_buf_reset(&b);
    if (!err && t->benchmark.present && !(err = encode_benchmark(&t->benchmark, &b)))
        err = bo_mpmap_raw(m, "benchmark", b.data, b.len);
    bo_buf_cleanup(&b);
    return err;
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
        err = encode_opening(t, m);
        if (!err)
            err = bo_mpmap_finish(m, out);
    }
    bo_mpmap_free(m);
    bo_buf_cleanup(&fields);
    return err;
}
