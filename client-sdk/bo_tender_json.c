#include "bo/tender_json.h"

#include <errno.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hex.h"
#include "bo/tender.h"
#include "bo/utf8.h"

/* The keys of a tender, in canonical (byte-wise sorted) order. */
typedef enum kind { K_TEXT, K_TIME, K_UINT, K_INT, K_BOOL, K_OID, K_CURRENCY, K_FIELDS,
                    K_FPR, K_ORDER, K_DRAWS, K_BENCHMARK } kind;

typedef struct key_rule {
    const char *key;
    kind kind;
    long long min, max; /* characters for text; value for numbers */
    bool required;
} key_rule;

static const key_rule rules[] = {
    {"agency", K_TEXT, 0, 200, false},
    {"announce_order", K_ORDER, 0, 0, false},
    {"benchmark", K_BENCHMARK, 0, 0, false},
    {"buyer", K_TEXT, 0, 200, false},
    {"checkin_at", K_TIME, 0, 0, false},
    {"code", K_TEXT, 0, 64, false},
    {"counts_early", K_BOOL, 0, 0, false},
    {"currency", K_CURRENCY, 0, 0, false},
    {"deadline", K_TIME, 0, 0, true},
    {"decrypt_window_s", K_UINT, 60, 86400, false},
    {"draws", K_DRAWS, 0, BO_TENDER_MAX_DRAWS, false},
    {"fields", K_FIELDS, 0, 32, false},
    {"host_fpr", K_FPR, 0, 0, false},
    {"lot", K_TEXT, 0, 100, false},
    {"min_bidders", K_UINT, 1, 1000, false},
    {"oid", K_OID, 1, 64, false},
    {"title", K_TEXT, 1, 200, true},
    {"tz_offset_min", K_INT, -840, 840, false},
};
#define N_RULES (sizeof(rules) / sizeof(rules[0]))

static const char *const field_types[] = {"decimal", "text", "int", "days"};

typedef struct conv {
    bo_time_ms now;
    char *detail;
    size_t detail_len;
    msgpack_packer pk;
    bo_buf *out;
    bo_err werr; /* first write error of the packer */
} conv;

static bo_err refuse(conv *cv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bo_err refuse(conv *cv, const char *fmt, ...)
{
    if (cv->detail && cv->detail_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cv->detail, cv->detail_len, fmt, ap);
        va_end(ap);
    }
    return BO_E_BAD_TENDER;
}

static int buf_write(void *data, const char *p, size_t len)
{
    conv *cv = data;
    if (cv->werr)
        return -1;
    cv->werr = bo_buf_append(cv->out, p, len);
    return cv->werr ? -1 : 0;
}

bo_err bo_tender_json_time(const char *s, bo_time_ms now, bo_time_ms *out)
{
    if (!s || !*s)
        return BO_E_BAD_FIELD;
    if (s[0] != '+')
        return bo_time_parse_rfc3339(s, out);
    const char *p = s + 1;
    if (*p < '0' || *p > '9')
        return BO_E_BAD_FIELD;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(p, &end, 10);
    if (errno || end == p)
        return BO_E_BAD_FIELD;
    long long unit;
    if (strcmp(end, "ms") == 0)
        unit = 1;
    else if (strcmp(end, "s") == 0)
        unit = 1000;
    else if (strcmp(end, "m") == 0)
        unit = 60000;
    else if (strcmp(end, "h") == 0)
        unit = 3600000;
    else if (strcmp(end, "d") == 0)
        unit = 86400000;
    else
        return BO_E_BAD_FIELD;
    /* at most ten years ahead: anything more is a typo, and it keeps the sum in range */
    if (n > 3650ULL * 86400000ULL / (unsigned long long)unit)
        return BO_E_BAD_FIELD;
    *out = now + (bo_time_ms)n * unit;
    return BO_E_OK;
}

/* A JSON string that is valid text (jansson guarantees UTF-8, but \u0000 can hide a NUL). */
static bool text_of(const json_t *v, const char **s, size_t *len)
{
    if (!json_is_string(v))
        return false;
    *s = json_string_value(v);
    *len = json_string_length(v);
    return strlen(*s) == *len && bo_utf8_valid(*s, *len);
}

static bool oid_ok(const char *s, size_t n)
{
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bo_err get_time(conv *cv, const char *key, const json_t *v, bo_time_ms *t)
{
    if (json_is_integer(v)) {
        *t = json_integer_value(v);
        if (*t < 0)
            return refuse(cv, "%s: must not be before 1970", key);
        return BO_E_OK;
    }
    if (!json_is_string(v))
        return refuse(cv, "%s: must be a time (ms, RFC 3339, or +90s/+5m/+2h/+1d)", key);
    if (bo_tender_json_time(json_string_value(v), cv->now, t))
        return refuse(cv, "%s: \"%s\" is not a time (RFC 3339, or +90s/+5m/+2h/+1d)", key,
                      json_string_value(v));
    return BO_E_OK;
}

/* The draws and the benchmark formula: JSON made of objects, arrays, strings (decimals are
 * written as strings: "0.95"), integers and booleans only; their rules are the tender's
 * (bo_tender_parse), checked once the whole tender is converted. */
static bo_err plain_json(conv *cv, const char *key, const json_t *v, int depth)
{
    const char *s;
    size_t n;
    if (depth > 4)
        return refuse(cv, "%s: nested too deeply", key);
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (!text_of(v, &s, &n))
            return refuse(cv, "%s: strings must be valid UTF-8 without NUL", key);
        return BO_E_OK;
    case JSON_INTEGER:
    case JSON_TRUE:
    case JSON_FALSE:
        return BO_E_OK;
    case JSON_REAL:
        return refuse(cv, "%s: write decimals as strings (\"0.95\"), not as JSON numbers", key);
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(v); i++) {
            bo_err err = plain_json(cv, key, json_array_get(v, i), depth + 1);
            if (err)
                return err;
        }
        return BO_E_OK;
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (!bo_utf8_valid(k, strlen(k)))
                return refuse(cv, "%s: keys must be valid UTF-8", key);
            bo_err err = plain_json(cv, key, x, depth + 1);
            if (err)
                return err;
        }
        return BO_E_OK;
    }
    default:
        return refuse(cv, "%s: null is not a value", key);
    }
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void pack_str(conv *cv, const char *s);

/* Write JSON checked by plain_json canonically (object keys in byte order). */
static void emit_json(conv *cv, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        pack_str(cv, json_string_value(v));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(&cv->pk, json_integer_value(v));
        break;
    case JSON_TRUE:
        msgpack_pack_true(&cv->pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(&cv->pk);
        break;
    case JSON_ARRAY:
        msgpack_pack_array(&cv->pk, json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++)
            emit_json(cv, json_array_get(v, i));
        break;
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof(*keys));
        if (!keys) {
            cv->werr = BO_E_NOMEM;
            return;
        }
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof(*keys), key_cmp);
        msgpack_pack_map(&cv->pk, n);
        for (i = 0; i < n; i++) {
            pack_str(cv, keys[i]);
            emit_json(cv, json_object_get(v, keys[i]));
        }
        free(keys);
        break;
    }
    default:
        break;
    }
}

/* Check one value against its rule (no output). */
static bo_err check(conv *cv, const key_rule *r, const json_t *v)
{
    const char *s;
    size_t n;
    switch (r->kind) {
    case K_TEXT:
        if (!text_of(v, &s, &n))
            return refuse(cv, "%s: must be a string of valid UTF-8 without NUL", r->key);
        if (bo_utf8_count(s, n) < (size_t)r->min)
            return refuse(cv, "%s: must not be empty", r->key);
        if (bo_utf8_count(s, n) > (size_t)r->max)
            return refuse(cv, "%s: at most %lld characters", r->key, r->max);
        return BO_E_OK;
    case K_OID:
        if (!text_of(v, &s, &n) || !oid_ok(s, n))
            return refuse(cv, "%s: must match [A-Za-z0-9._-]{1,64}", r->key);
        return BO_E_OK;
    case K_CURRENCY:
        if (!text_of(v, &s, &n) || n != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' ||
            s[1] > 'Z' || s[2] < 'A' || s[2] > 'Z')
            return refuse(cv, "%s: must be an ISO 4217 code such as \"CNY\"", r->key);
        return BO_E_OK;
    case K_UINT:
    case K_INT:
        if (!json_is_integer(v))
            return refuse(cv, "%s: must be an integer", r->key);
        if (json_integer_value(v) < r->min || json_integer_value(v) > r->max)
            return refuse(cv, "%s: must be between %lld and %lld", r->key, r->min, r->max);
        return BO_E_OK;
    case K_BOOL:
        if (!json_is_boolean(v))
            return refuse(cv, "%s: must be true or false", r->key);
        return BO_E_OK;
    case K_FPR: {
        uint8_t fpr[32];
        if (!text_of(v, &s, &n) || bo_hex_decode(s, n, fpr, sizeof(fpr)))
            return refuse(cv, "%s: must be 64 hex digits (SHA-256 of the certificate)",
                          r->key);
        return BO_E_OK;
    }
    case K_TIME: {
        bo_time_ms t;
        return get_time(cv, r->key, v, &t);
    }
    case K_ORDER:
        if (!text_of(v, &s, &n) || n < 1 || n > 40)
            return refuse(cv, "%s: must be \"submission\", \"uscc\" or \"draw:<id>\"", r->key);
        return BO_E_OK; /* the rest is the tender's rule, checked after conversion */
    case K_DRAWS:
        if (!json_is_array(v))
            return refuse(cv, "draws: must be an array of {id, kind, label, values?}");
        if (json_array_size(v) > (size_t)r->max)
            return refuse(cv, "draws: at most %lld draws", r->max);
        return plain_json(cv, r->key, v, 0);
    case K_BENCHMARK:
        if (!json_is_object(v))
            return refuse(cv, "benchmark: must be an object {field, trim_min?, trim?, "
                              "coefficient?, places?, rounding?}");
        return plain_json(cv, r->key, v, 0);
    case K_FIELDS: {
        if (!json_is_array(v))
            return refuse(cv, "fields: must be an array");
        if (json_array_size(v) > (size_t)r->max)
            return refuse(cv, "fields: at most %lld fields", r->max);
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *f = json_array_get(v, i);
            if (!json_is_object(f))
                return refuse(cv, "fields[%zu]: must be an object {key, label, type}", i);
            const char *k;
            json_t *fv;
            json_object_foreach((json_t *)f, k, fv)
            {
                if (strcmp(k, "key") && strcmp(k, "label") && strcmp(k, "type"))
                    return refuse(cv, "fields[%zu].%s: unknown key", i, k);
            }
            const json_t *key = json_object_get(f, "key"), *label = json_object_get(f, "label"),
                         *type = json_object_get(f, "type");
            if (!key || !label || !type)
                return refuse(cv, "fields[%zu]: key, label and type are required", i);
            if (!text_of(key, &s, &n) || n < 1 || n > 32 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
                                                                      "0123456789_") != n)
                return refuse(cv, "fields[%zu].key: must match [a-z0-9_]{1,32}", i);
            for (size_t j = 0; j < i; j++)
                if (strcmp(json_string_value(json_object_get(json_array_get(v, j), "key")),
                           s) == 0)
                    return refuse(cv, "fields[%zu].key: \"%s\" is used twice", i, s);
            if (!text_of(label, &s, &n) || n == 0 || bo_utf8_count(s, n) > 64)
                return refuse(cv, "fields[%zu].label: must be 1 to 64 characters", i);
            bool known = false;
            for (size_t t = 0; json_is_string(type) && t < 4; t++)
                known |= strcmp(json_string_value(type), field_types[t]) == 0;
            if (!known)
                return refuse(cv, "fields[%zu].type: must be decimal, text, int or days", i);
        }
        return BO_E_OK;
    }
    }
    return BO_E_INTERNAL;
}

static void pack_str(conv *cv, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(&cv->pk, n);
    msgpack_pack_str_body(&cv->pk, s, n);
}

/* Write one checked value canonically. */
static void emit(conv *cv, const key_rule *r, const json_t *v)
{
    pack_str(cv, r->key);
    switch (r->kind) {
    case K_TEXT:
    case K_OID:
    case K_CURRENCY:
    case K_ORDER:
        pack_str(cv, json_string_value(v));
        break;
    case K_DRAWS:
    case K_BENCHMARK:
        emit_json(cv, v);
        break;
    case K_UINT:
    case K_INT:
        msgpack_pack_int64(&cv->pk, json_integer_value(v));
        break;
    case K_BOOL:
        if (json_is_true(v))
            msgpack_pack_true(&cv->pk);
        else
            msgpack_pack_false(&cv->pk);
        break;
    case K_FPR: {
        uint8_t fpr[32];
        bo_hex_decode(json_string_value(v), 64, fpr, sizeof(fpr));
        msgpack_pack_bin(&cv->pk, sizeof(fpr));
        msgpack_pack_bin_body(&cv->pk, fpr, sizeof(fpr));
        break;
    }
    case K_TIME: {
        bo_time_ms t = 0;
        get_time(cv, r->key, v, &t);
        msgpack_pack_int64(&cv->pk, t);
        break;
    }
    case K_FIELDS:
        msgpack_pack_array(&cv->pk, json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *f = json_array_get(v, i);
            msgpack_pack_map(&cv->pk, 3);
            pack_str(cv, "key");
            pack_str(cv, json_string_value(json_object_get(f, "key")));
            pack_str(cv, "label");
            pack_str(cv, json_string_value(json_object_get(f, "label")));
            pack_str(cv, "type");
            pack_str(cv, json_string_value(json_object_get(f, "type")));
        }
        break;
    }
}

static bo_err convert(conv *cv, const json_t *root)
{
    if (!json_is_object(root))
        return refuse(cv, "(json): the tender must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)root, k, v)
    {
        size_t i = 0;
        while (i < N_RULES && strcmp(rules[i].key, k) != 0)
            i++;
        if (i == N_RULES)
            return refuse(cv, "%s: unknown key", k);
    }
    uint32_t present = 0;
    for (size_t i = 0; i < N_RULES; i++) {
        const json_t *val = json_object_get(root, rules[i].key);
        if (!val) {
            if (rules[i].required)
                return refuse(cv, "%s: required", rules[i].key);
            continue;
        }
        bo_err err = check(cv, &rules[i], val);
        if (err)
            return err;
        present++;
    }
    bo_time_ms deadline = 0, checkin = 0;
    get_time(cv, "deadline", json_object_get(root, "deadline"), &deadline);
    if (deadline <= cv->now)
        return refuse(cv, "deadline: must be in the future");
    const json_t *ci = json_object_get(root, "checkin_at");
    if (ci) {
        get_time(cv, "checkin_at", ci, &checkin);
        if (checkin >= deadline)
            return refuse(cv, "checkin_at: must be before deadline");
    }

    size_t mark = cv->out->len;
    msgpack_pack_map(&cv->pk, present);
    for (size_t i = 0; i < N_RULES; i++) {
        const json_t *val = json_object_get(root, rules[i].key);
        if (val)
            emit(cv, &rules[i], val);
    }
    if (cv->werr)
        return cv->werr;
    /* the rules of §11 (the order, the draws, the benchmark formula) are the tender's own */
    if (json_object_get(root, "announce_order") || json_object_get(root, "draws") ||
        json_object_get(root, "benchmark")) {
        bo_tender *t = malloc(sizeof(*t));
        if (!t)
            return BO_E_NOMEM;
        char why[300] = "";
        bo_err err = bo_tender_parse(cv->out->data + mark, cv->out->len - mark, cv->now, t, why,
                                     sizeof(why));
        free(t);
        if (err == BO_E_BAD_TENDER)
            return refuse(cv, "%s", why);
        if (err)
            return err;
    }
    return BO_E_OK;
}

bo_err bo_tender_json_to_mp(const char *json, size_t len, bo_time_ms now, bo_buf *out,
                            char *detail, size_t detail_len)
{
    conv cv = {.now = now, .detail = detail, .detail_len = detail_len, .out = out};
    if (detail && detail_len)
        detail[0] = 0;
    if (len > BO_TENDER_JSON_MAX)
        return BO_E_TOO_BIG;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return refuse(&cv, "(json) line %d: %s", jerr.line, jerr.text);
    size_t mark = out->len;
    msgpack_packer_init(&cv.pk, &cv, buf_write);
    bo_err err = convert(&cv, root);
    json_decref(root);
    if (err) {
        out->len = mark; /* nothing appended on error */
        if (out->data)
            out->data[mark] = 0;
    }
    return err;
}
