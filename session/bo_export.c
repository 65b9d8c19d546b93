/* bidopen: exports of the opening record (docs/transcript.md): JSON, an OCDS release
 * package (bids and bid-opening extensions) and the printable HTML document. Each reads
 * the record's canonical msgpack alone; the output is a pure function of it. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/decimal.h"
#include "bo/export.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/json_esc.h"
#include "bo/sigpayload.h"
#include "bo/tender.h"
#include "bo/transcript.h"
#include "bo/wire.h"

#define OCDS_BID_EXT                                                                         \
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/"    \
    "v1.1.5/extension.json"
#define OCDS_BIDOPENING_EXT                                                                  \
    "https://raw.githubusercontent.com/open-contracting-extensions/"                        \
    "ocds_bidOpening_extension/master/extension.json"
#define OCDS_LOTS_EXT                                                                        \
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/"   \
    "v1.1.5/extension.json"

/* ------------------------------------------------------------------ formats ---- */

static const struct {
    const char *name, *mime, *suffix;
} formats[] = {
    [BO_EXPORT_RECORD] = {"record", "application/json", ".json"},
    [BO_EXPORT_OCDS] = {"ocds", "application/json", ".ocds.json"},
    [BO_EXPORT_HTML] = {"html", "text/html; charset=utf-8", ".html"},
    [BO_EXPORT_TRANSCRIPT] = {"transcript", BO_TRANSCRIPT_MIME, ".transcript"},
    [BO_EXPORT_TRANSCRIPT_PUBLIC] = {"transcript_public", BO_TRANSCRIPT_MIME,
                                     ".public.transcript"},
};

static bool format_ok(bo_export_format f)
{
    return f >= BO_EXPORT_RECORD && f <= BO_EXPORT_TRANSCRIPT_PUBLIC;
}

const char *bo_export_format_name(bo_export_format f)
{
    return format_ok(f) ? formats[f].name : NULL;
}

bo_err bo_export_format_parse(const char *s, bo_export_format *out)
{
    for (int f = BO_EXPORT_RECORD; s && f <= BO_EXPORT_TRANSCRIPT_PUBLIC; f++)
        if (!strcmp(s, formats[f].name)) {
            *out = (bo_export_format)f;
            return BO_E_OK;
        }
    return BO_E_BAD_FIELD;
}

const char *bo_export_mime(bo_export_format f)
{
    return format_ok(f) ? formats[f].mime : NULL;
}

const char *bo_export_suffix(bo_export_format f)
{
    return format_ok(f) ? formats[f].suffix : NULL;
}

bo_err bo_export_meta_from_head(const bo_event *ev, bo_export_meta *meta)
{
    memset(meta, 0, sizeof(*meta));
    if (!ev || ev->kind != BO_EV_HEAD_SIGNED || !ev->body)
        return BO_E_INVALID_ARG;
    msgpack_zone *z = NULL;
    msgpack_object o;
    const uint8_t *hash, *fpr, *sig;
    size_t hash_len, fpr_len, sig_len;
    bo_err err = bo_mp_parse(ev->body, ev->body_len, &z, &o);
    if (!err && (o.type != MSGPACK_OBJECT_MAP || !bo_mpo_u64(&o, "seq", &meta->head_seq) ||
                 !bo_mpo_bin(&o, "hash", &hash, &hash_len) || hash_len != 32 ||
                 !bo_mpo_bin(&o, "key_fpr", &fpr, &fpr_len) || fpr_len != 32 ||
                 !bo_mpo_bin(&o, "sig", &sig, &sig_len) || !bo_mpo_i64(&o, "ts", &meta->head_ts)))
        err = BO_E_INVALID_ARG;
    if (!err) {
        memcpy(meta->head_hash, hash, 32);
        memcpy(meta->key_fpr, fpr, 32);
        /* the body outlives the zone: point into it */
        const uint8_t *at = memmem(ev->body, ev->body_len, sig, sig_len);
        meta->head_sig = (bo_bytes){at ? at : NULL, at ? sig_len : 0};
        meta->has_head = at != NULL;
    }
    msgpack_zone_free(z);
    if (err)
        memset(meta, 0, sizeof(*meta));
    return err ? BO_E_INVALID_ARG : BO_E_OK;
}

/* ------------------------------------------------------------ the record ---- */

/* A parsed record and what the exporters read of it. Strings come from the zone. */
typedef struct rec {
    msgpack_zone *z;
    msgpack_object o;
    bo_tender *t; /* the stored tender, decoded */
    const msgpack_object *bids, *draws, *benchmark, *confirmation, *objections, *confirmations,
        *timeline, *head;
    const char *oid, *phase;
    uint8_t hash[32]; /* SHA-256 of the canonical record */
    char *detail;
    size_t detail_len;
} rec;

static bo_err fail(rec *r, bo_err err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bo_err fail(rec *r, bo_err err, const char *fmt, ...)
{
    if (r->detail && r->detail_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->detail, r->detail_len, fmt, ap);
        va_end(ap);
    }
    return err;
}

static void rec_cleanup(rec *r)
{
    msgpack_zone_free(r->z);
    free(r->t);
    r->z = NULL;
    r->t = NULL;
}

/* A string member as a NUL-terminated copy in the zone; "" when absent or not a string. */
static const char *S(const rec *r, const msgpack_object *m, const char *key)
{
    const char *s;
    size_t n;
    if (!m || m->type != MSGPACK_OBJECT_MAP || !bo_mpo_str(m, key, &s, &n))
        return "";
    char *d = msgpack_zone_malloc(r->z, n + 1);
    if (!d)
        return "";
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static const msgpack_object *M(const msgpack_object *m, const char *key, msgpack_object_type t)
{
    const msgpack_object *v = m && m->type == MSGPACK_OBJECT_MAP ? bo_mpo_get(m, key) : NULL;
    return v && v->type == t ? v : NULL;
}

static int64_t I(const msgpack_object *m, const char *key, int64_t dflt)
{
    int64_t v;
    return m && m->type == MSGPACK_OBJECT_MAP && bo_mpo_i64(m, key, &v) ? v : dflt;
}

static bool B(const msgpack_object *m, const char *key, const uint8_t **p, size_t *n)
{
    return m && m->type == MSGPACK_OBJECT_MAP && bo_mpo_bin(m, key, p, n);
}

static uint32_t count(const msgpack_object *a)
{
    return a && a->type == MSGPACK_OBJECT_ARRAY ? a->via.array.size : 0;
}

static const msgpack_object *at(const msgpack_object *a, uint32_t i)
{
    return &a->via.array.ptr[i];
}

static bo_err rec_open(rec *r, const uint8_t *p, size_t len, char *detail, size_t dn)
{
    static const bo_wire_caps caps = {.frame = BO_EXPORT_RECORD_MAX,
                                      .depth = 8,
                                      .elems = 2000000,
                                      .str = 64u << 10,
                                      .bin = 64u << 10};
    memset(r, 0, sizeof(*r));
    r->detail = detail;
    r->detail_len = dn;
    if (detail && dn)
        detail[0] = 0;
    bo_err err = bo_mp_check(p, len, &caps);
    if (err)
        return fail(r, err, "not a record: %s", bo_strerror(err));
    err = bo_sigpayload_record_hash(p, len, r->hash);
    if (err)
        return fail(r, err, "not a record: %s", bo_strerror(err));
    err = bo_mp_parse(p, len, &r->z, &r->o);
    if (err)
        return fail(r, err, "not a record: %s", bo_strerror(err));
    uint64_t v;
    const msgpack_object *tender = M(&r->o, "tender", MSGPACK_OBJECT_MAP);
    if (r->o.type != MSGPACK_OBJECT_MAP || !bo_mpo_u64(&r->o, "v", &v) || v != 1 || !tender)
        return fail(r, BO_E_BAD_FIELD, "not a version-1 opening record");
    r->oid = S(r, &r->o, "oid");
    r->phase = S(r, &r->o, "phase");
    if (!bo_oid_valid(r->oid) || !r->phase[0])
        return fail(r, BO_E_BAD_FIELD, "the record has no oid or phase");
    r->t = malloc(sizeof(*r->t));
    if (!r->t)
        return BO_E_NOMEM;
    bo_buf tb;
    bo_buf_init(&tb, BO_EXPORT_RECORD_MAX);
    err = bo_mp_canonical(&tb, tender);
    if (!err && bo_tender_decode_stored(tb.data, tb.len, r->t))
        err = BO_E_BAD_FIELD;
    bo_buf_cleanup(&tb);
    if (err)
        return fail(r, err, "the record's tender does not decode");
    r->bids = M(&r->o, "bids", MSGPACK_OBJECT_ARRAY);
    r->draws = M(&r->o, "draws", MSGPACK_OBJECT_ARRAY);
    r->benchmark = M(&r->o, "benchmark", MSGPACK_OBJECT_MAP);
    r->confirmation = M(&r->o, "confirmation", MSGPACK_OBJECT_MAP);
    r->objections = M(&r->o, "objections", MSGPACK_OBJECT_ARRAY);
    r->confirmations = M(&r->o, "confirmations", MSGPACK_OBJECT_ARRAY);
    r->timeline = M(&r->o, "timeline", MSGPACK_OBJECT_ARRAY);
    r->head = M(&r->o, "head", MSGPACK_OBJECT_MAP);
    return BO_E_OK;
}

/* RFC 3339 in the tender's offset, with milliseconds only when there are any. */
static const char *when(const rec *r, bo_time_ms ms, char out[40])
{
    char base[40];
    bo_time_format_local(ms, r->t->tz_offset_min, base, sizeof(base));
    int64_t frac = ((ms % 1000) + 1000) % 1000;
    if (!frac) {
        snprintf(out, 40, "%s", base);
        return out;
    }
    snprintf(out, 40, "%.19s.%03d%.6s", base, (int)frac, base + 19); /* Z or +hh:mm */
    return out;
}

/* The last time in the timeline (the close, or the failure). */
static bo_time_ms last_time(const rec *r)
{
    uint32_t n = count(r->timeline);
    return n ? I(at(r->timeline, n - 1), "at", 0) : 0;
}

/* The bids in announcement order: announced ones by n, then the others by USCC (the
 * record lists them by USCC). out holds count(r->bids). */
static size_t bids_in_order(const rec *r, const msgpack_object **out)
{
    size_t k = 0, n = count(r->bids);
    uint64_t num;
    for (uint64_t want = 1; want <= n; want++)
        for (uint32_t i = 0; i < n; i++)
            if (bo_mpo_u64(at(r->bids, i), "n", &num) && num == want)
                out[k++] = at(r->bids, i);
    for (uint32_t i = 0; i < n; i++)
        if (!bo_mpo_get(at(r->bids, i), "n"))
            out[k++] = at(r->bids, i);
    return k;
}

/* The decimal field that is "the price": the benchmark's, else one keyed "price", else the
 * first decimal field; NULL if none. */
static const bo_tender_field *price_field(const rec *r)
{
    if (r->t->benchmark.present)
        return bo_tender_field_find(r->t, r->t->benchmark.field);
    const bo_tender_field *f = bo_tender_field_find(r->t, "price");
    if (f && f->type == BO_FIELD_DECIMAL)
        return f;
    for (size_t i = 0; i < r->t->n_fields; i++)
        if (r->t->fields[i].type == BO_FIELD_DECIMAL)
            return &r->t->fields[i];
    return NULL;
}

/* A bid's announced value of a field ("" if none). */
static const char *field_of(const rec *r, const msgpack_object *bid, const char *key)
{
    return S(r, M(bid, "fields", MSGPACK_OBJECT_MAP), key);
}

/* The organisation of a USCC among the bids ("" if unknown). */
static const char *org_of(const rec *r, const char *uscc, size_t n)
{
    for (uint32_t i = 0; i < count(r->bids); i++) {
        const char *u = S(r, at(r->bids, i), "uscc");
        if (strlen(u) == n && !memcmp(u, uscc, n))
            return S(r, at(r->bids, i), "org");
    }
    return "";
}

static char *hex_of(const uint8_t *p, size_t n, char *out)
{
    return bo_hex_encode(p, n, out);
}

/* ------------------------------------------------------------ JSON output ---- */

/* A JSON number written exactly as the canonical decimal text (amounts in OCDS): an object
 * with this one key, which no real object has, is written as the number. */
#define RAW_NUMBER "\x01number"

static json_t *json_decimal(const char *text)
{
    bo_decimal d;
    char canon[BO_DECIMAL_STR_MAX];
    if (bo_decimal_parse(text, strlen(text), &d) || bo_decimal_canonical(&d, canon, sizeof(canon)))
        return json_string(text);
    return json_pack("{ss}", RAW_NUMBER, canon);
}

typedef struct jsonw {
    bo_buf *out;
    bool sort;
    bo_err err;
} jsonw;

static void jw(jsonw *w, const char *s, size_t n)
{
    if (!w->err)
        w->err = bo_buf_append(w->out, s, n);
}

static void jw_indent(jsonw *w, int depth)
{
    static const char spaces[] = "                                                                ";
    jw(w, "\n", 1);
    for (int i = 0; i < depth; i++)
        jw(w, spaces, 2);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void jw_value(jsonw *w, json_t *v, int depth)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        json_t *raw = json_object_get(v, RAW_NUMBER);
        if (raw && json_object_size(v) == 1 && json_is_string(raw)) {
            jw(w, json_string_value(raw), json_string_length(raw));
            return;
        }
        size_t n = json_object_size(v), k = 0;
        if (!n) {
            jw(w, "{}", 2);
            return;
        }
        const char **keys = malloc(n * sizeof(*keys));
        if (!keys) {
            w->err = BO_E_NOMEM;
            return;
        }
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) keys[k++] = key;
        if (w->sort)
            qsort(keys, k, sizeof(*keys), by_key);
        jw(w, "{", 1);
        for (size_t i = 0; i < k; i++) {
            jw_indent(w, depth + 1);
            if (!w->err)
                w->err = bo_json_esc_append(w->out, keys[i]);
            jw(w, ": ", 2);
            jw_value(w, json_object_get(v, keys[i]), depth + 1);
            if (i + 1 < k)
                jw(w, ",", 1);
        }
        free(keys);
        jw_indent(w, depth);
        jw(w, "}", 1);
        return;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (!n) {
            jw(w, "[]", 2);
            return;
        }
        jw(w, "[", 1);
        for (size_t i = 0; i < n; i++) {
            jw_indent(w, depth + 1);
            jw_value(w, json_array_get(v, i), depth + 1);
            if (i + 1 < n)
                jw(w, ",", 1);
        }
        jw_indent(w, depth);
        jw(w, "]", 1);
        return;
    }
    case JSON_STRING:
        if (!w->err)
            w->err = bo_json_esc_append_n(w->out, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        jw(w, num, strlen(num));
        return;
    case JSON_TRUE:
        jw(w, "true", 4);
        return;
    case JSON_FALSE:
        jw(w, "false", 5);
        return;
    default:
        jw(w, "null", 4);
        return;
    }
}

static bo_err json_write(json_t *root, bool sort, bo_buf *out)
{
    if (!root)
        return BO_E_NOMEM;
    size_t mark = out->len;
    jsonw w = {out, sort, BO_E_OK};
    jw_value(&w, root, 0);
    jw(&w, "\n", 1);
    if (w.err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    return w.err;
}

/* Helpers that add to an object and ignore NULL values (a failed allocation shows as a
 * missing member, caught by the final check of the root). */
static void put(json_t *o, const char *key, json_t *v)
{
    if (v)
        json_object_set_new(o, key, v);
}

static void put_str(json_t *o, const char *key, const char *s)
{
    if (s && s[0])
        put(o, key, json_string(s));
}

static void push(json_t *a, json_t *v)
{
    if (v)
        json_array_append_new(a, v);
}

/* ------------------------------------------------------------- record JSON ---- */

static bool time_key(const char *k, size_t n)
{
    return (n == 2 && !memcmp(k, "at", 2)) || (n > 3 && !memcmp(k + n - 3, "_at", 3)) ||
           (n == 8 && !memcmp(k, "deadline", 8));
}

static json_t *to_json(const rec *r, const msgpack_object *o);

static json_t *map_to_json(const rec *r, const msgpack_object *o)
{
    json_t *obj = json_object();
    for (uint32_t i = 0; obj && i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        char key[96];
        size_t n = kv->key.via.str.size;
        if (n > 64)
            continue;
        memcpy(key, kv->key.via.str.ptr, n);
        key[n] = 0;
        int64_t ms;
        bool is_int = kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                      kv->val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        if (is_int && time_key(key, n)) {
            ms = kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)kv->val.via.u64
                                                                 : kv->val.via.i64;
            char t[40];
            put(obj, key, json_string(when(r, ms, t)));
            snprintf(key + n, sizeof(key) - n, "_ms");
            put(obj, key, json_integer(ms));
            continue;
        }
        put(obj, key, to_json(r, &kv->val));
    }
    return obj;
}

static json_t *to_json(const rec *r, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_MAP:
        return map_to_json(r, o);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < o->via.array.size; i++)
            push(a, to_json(r, &o->via.array.ptr[i]));
        return a;
    }
    case MSGPACK_OBJECT_STR:
        return json_stringn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN: {
        char *h = malloc(2 * (size_t)o->via.bin.size + 1);
        json_t *s = h ? json_string(hex_of((const uint8_t *)o->via.bin.ptr, o->via.bin.size, h))
                      : NULL;
        free(h);
        return s;
    }
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return o->via.u64 > (uint64_t)INT64_MAX ? json_string("too large")
                                                : json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer(o->via.i64);
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    default:
        return json_null();
    }
}

bo_err bo_export_record_json(const uint8_t *record, size_t len, bo_buf *out, char *detail,
                             size_t detail_len)
{
    rec r;
    bo_err err = rec_open(&r, record, len, detail, detail_len);
    json_t *root = err ? NULL : to_json(&r, &r.o);
    if (!err && root) {
        char h[65];
        put(root, "record_sha256", json_string(hex_of(r.hash, 32, h)));
    }
    if (!err)
        err = json_write(root, true, out);
    json_decref(root);
    rec_cleanup(&r);
    return err;
}

/* --------------------------------------------------------------------- OCDS ---- */

typedef struct stats {
    unsigned bids, valid, invalid, withdrawn;
    bool has_price;
    bo_decimal lo, hi;
    const char *lo_text, *hi_text;
} stats;

static stats bid_stats(const rec *r, const bo_tender_field *pf)
{
    stats s;
    memset(&s, 0, sizeof(s));
    for (uint32_t i = 0; i < count(r->bids); i++) {
        const msgpack_object *b = at(r->bids, i);
        const char *st = S(r, b, "status");
        s.bids++;
        s.valid += !strcmp(st, "valid");
        s.invalid += !strcmp(st, "invalid");
        s.withdrawn += !strcmp(st, "revoked") || !strcmp(st, "withdrawn");
        const char *v = pf && !strcmp(st, "valid") ? field_of(r, b, pf->key) : "";
        bo_decimal d;
        if (!v[0] || bo_decimal_parse(v, strlen(v), &d))
            continue;
        if (!s.has_price || bo_decimal_cmp(&d, &s.lo) < 0) {
            s.lo = d;
            s.lo_text = v;
        }
        if (!s.has_price || bo_decimal_cmp(&d, &s.hi) > 0) {
            s.hi = d;
            s.hi_text = v;
        }
        s.has_price = true;
    }
    return s;
}

static json_t *statistic(const rec *r, int id, const char *measure, json_t *value,
                         const char *currency, const char *notes)
{
    char idbuf[16], t[40];
    snprintf(idbuf, sizeof(idbuf), "%d", id);
    json_t *o = json_object();
    if (!o) {
        json_decref(value);
        return NULL;
    }
    put(o, "id", json_string(idbuf));
    put(o, "measure", json_string(measure));
    put(o, "value", value);
    put_str(o, "currency", currency);
    if (last_time(r))
        put(o, "date", json_string(when(r, last_time(r), t)));
    put_str(o, "notes", notes);
    if (r->t->lot[0])
        put(o, "relatedLot", json_string("1"));
    return o;
}

static json_t *ocds_statistics(const rec *r, const bo_tender_field *pf)
{
    stats s = bid_stats(r, pf);
    json_t *a = json_array();
    int id = 1;
    const char *cur = r->t->currency;
    push(a, statistic(r, id++, "bids", json_integer(s.bids), NULL, "开标的投标文件 Bids opened"));
    push(a, statistic(r, id++, "bidders", json_integer(s.bids), NULL,
                      "投标人 Bidders whose bids were opened"));
    push(a, statistic(r, id++, "validBids", json_integer(s.valid), NULL, "有效投标 Valid bids"));
    push(a, statistic(r, id++, "disqualifiedBidders", json_integer(s.invalid), NULL,
                      "开标一览表不符合要求 Opening form not as the tender requires"));
    if (s.has_price) {
        push(a, statistic(r, id++, "lowestValidBidValue", json_decimal(s.lo_text), cur, pf->label));
        push(a, statistic(r, id++, "highestValidBidValue", json_decimal(s.hi_text), cur, pf->label));
    }
    const char *bm = S(r, r->benchmark, "value");
    if (bm[0])
        push(a, statistic(r, id++, "benchmarkPrice", json_decimal(bm), cur,
                          "评标基准价 Benchmark price (bidopen: computed at the opening)"));
    return a;
}

static json_t *org_ref(const rec *r, const char *uscc, const char *org)
{
    char id[40];
    snprintf(id, sizeof(id), "CN-USCC-%s", uscc);
    (void)r;
    return json_pack("{ss ss s{ss ss ss}}", "id", id, "name", org, "identifier", "scheme",
                     "CN-USCC", "id", uscc, "legalName", org);
}

/* OCDS bidStatus: valid, disqualified (invalid form), withdrawn (撤销 / 撤回), pending (not
 * decrypted: the opening failed first). */
static const char *ocds_status(const char *st, const char **details)
{
    if (!strcmp(st, "valid")) {
        *details = "有效 valid";
        return "valid";
    }
    if (!strcmp(st, "invalid")) {
        *details = "无效：开标一览表不符合招标文件要求 invalid opening form";
        return "disqualified";
    }
    if (!strcmp(st, "revoked")) {
        *details = "撤销：投标人原因未能解密 revoked (the bidder failed to decrypt)";
        return "withdrawn";
    }
    if (!strcmp(st, "withdrawn")) {
        *details = "撤回：非投标人原因未能解密 withdrawn (not decrypted, not the bidder's fault)";
        return "withdrawn";
    }
    *details = "未解密：开标未完成 not decrypted (the opening ended first)";
    return "pending";
}

static json_t *ocds_bid(const rec *r, const msgpack_object *b, const bo_tender_field *pf)
{
    const char *uscc = S(r, b, "uscc"), *org = S(r, b, "org"), *st = S(r, b, "status");
    const char *details;
    char id[48];
    snprintf(id, sizeof(id), "%s-%s", r->oid, uscc);
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "id", json_string(id));
    put(o, "status", json_string(ocds_status(st, &details)));
    put(o, "statusDetails", json_string(details));
    json_t *ts = json_array();
    push(ts, org_ref(r, uscc, org));
    put(o, "tenderers", ts);
    if (r->t->lot[0])
        put(o, "relatedLots", json_pack("[s]", "1"));
    uint64_t n;
    if (bo_mpo_u64(b, "n", &n))
        put(o, "announcementNumber", json_integer((json_int_t)n));
    const char *note = S(r, b, "reason");
    if (!note[0])
        note = S(r, b, "form_error");
    put_str(o, "description", note);
    const msgpack_object *fields = M(b, "fields", MSGPACK_OBJECT_MAP);
    if (fields) {
        const char *price = pf ? field_of(r, b, pf->key) : "";
        if (price[0])
            put(o, "value", json_pack("{so ss}", "amount", json_decimal(price), "currency",
                                      r->t->currency));
        json_t *form = json_array();
        for (size_t i = 0; i < r->t->n_fields; i++) {
            const bo_tender_field *f = &r->t->fields[i];
            static const char *const types[] = {"", "decimal", "text", "int", "days"};
            push(form, json_pack("{ss ss ss ss}", "key", f->key, "label", f->label, "type",
                                 types[f->type], "value", field_of(r, b, f->key)));
            if (f->type == BO_FIELD_DAYS && !bo_tender_field_find(r->t, "duration"))
                put(o, "durationInDays", json_decimal(field_of(r, b, f->key)));
        }
        put(o, "openingForm", form);
    }
    char h[65];
    const uint8_t *p;
    size_t len;
    if (B(b, "bid", &p, &len) && len == 32)
        put(o, "envelopeSha256", json_string(hex_of(p, 32, h)));
    return o;
}

static json_t *ocds_parties(const rec *r)
{
    json_t *a = json_array();
    if (r->t->buyer[0])
        push(a, json_pack("{ss ss s[s]}", "id", "buyer", "name", r->t->buyer, "roles", "buyer"));
    if (r->t->agency[0])
        push(a, json_pack("{ss ss s[s]}", "id", "agency", "name", r->t->agency, "roles",
                          "procuringEntity"));
    for (uint32_t i = 0; i < count(r->bids); i++) {
        const msgpack_object *b = at(r->bids, i);
        json_t *p = org_ref(r, S(r, b, "uscc"), S(r, b, "org"));
        if (p)
            json_object_set_new(p, "roles", json_pack("[s]", "tenderer"));
        push(a, p);
    }
    return a;
}

static json_t *ocds_tender(const rec *r, const bo_export_meta *meta)
{
    char t[40], h[65];
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "id", json_string(r->oid));
    put(o, "title", json_string(r->t->title));
    put(o, "status", json_string(!strcmp(r->phase, "failed") ? "unsuccessful" : "active"));
    if (r->t->agency[0])
        put(o, "procuringEntity", json_pack("{ss ss}", "id", "agency", "name", r->t->agency));
    if (r->t->lot[0])
        put(o, "lots", json_pack("[{ss ss}]", "id", "1", "title", r->t->lot));
    put(o, "tenderPeriod", json_pack("{ss}", "endDate", when(r, r->t->deadline, t)));
    put(o, "numberOfTenderers", json_integer(count(r->bids)));
    bo_buf d;
    bo_buf_init(&d, 8192);
    bo_buf_appendf(&d, "远程不见面开标 remote bid opening (bidopen), opening %s", r->oid);
    if (r->t->code[0])
        bo_buf_appendf(&d, ", project code %s", r->t->code);
    bo_buf_appendf(&d, "; phase %s", r->phase);
    const char *why = S(r, &r->o, "failed_reason");
    if (why[0])
        bo_buf_appendf(&d, " (流标: %s)", why);
    bo_buf_appendf(&d, "; record SHA-256 %s", hex_of(r->hash, 32, h));
    if (meta && meta->has_head)
        bo_buf_appendf(&d, "; server signature over the chain head at seq %llu, key %s",
                       (unsigned long long)meta->head_seq, hex_of(meta->key_fpr, 32, h));
    put(o, "bidOpening", json_pack("{ss ss}", "date", when(r, r->t->deadline, t), "description",
                                   d.data ? (char *)d.data : ""));
    bo_buf_cleanup(&d);
    return o;
}

bo_err bo_export_ocds(const uint8_t *record, size_t len, const bo_export_meta *meta,
                      bo_buf *out, char *detail, size_t detail_len)
{
    rec r;
    bo_err err = rec_open(&r, record, len, detail, detail_len);
    if (err) {
        rec_cleanup(&r);
        return err;
    }
    const bo_tender_field *pf = price_field(&r);
    char ocid[96], id[128], t[40];
    snprintf(ocid, sizeof(ocid), "ocds-bidopen-%s", r.oid);
    uint64_t head_seq = 0;
    if (r.head)
        bo_mpo_u64(r.head, "seq", &head_seq);
    snprintf(id, sizeof(id), "%s-opening-%llu", r.oid, (unsigned long long)head_seq);
    bo_time_ms date = last_time(&r);
    const char *datestr = when(&r, date, t);

    json_t *rel = json_object();
    put(rel, "ocid", json_string(ocid));
    put(rel, "id", json_string(id));
    put(rel, "date", json_string(datestr));
    put(rel, "tag", json_pack("[s]", !strcmp(r.phase, "failed") ? "tenderCancellation"
                                                                 : "tenderUpdate"));
    put(rel, "initiationType", json_string("tender"));
    put(rel, "language", json_string("zh"));
    put(rel, "parties", ocds_parties(&r));
    if (r.t->buyer[0])
        put(rel, "buyer", json_pack("{ss ss}", "id", "buyer", "name", r.t->buyer));
    put(rel, "tender", ocds_tender(&r, meta));
    json_t *bids = json_object(), *details = json_array();
    const msgpack_object **order = calloc(count(r.bids) + 1, sizeof(*order));
    size_t n = order ? bids_in_order(&r, order) : 0;
    for (size_t i = 0; i < n; i++)
        push(details, ocds_bid(&r, order[i], pf));
    free(order);
    put(bids, "statistics", ocds_statistics(&r, pf));
    put(bids, "details", details);
    put(rel, "bids", bids);

    json_t *ext = json_pack("[ss]", OCDS_BID_EXT, OCDS_BIDOPENING_EXT);
    if (ext && r.t->lot[0])
        json_array_append_new(ext, json_string(OCDS_LOTS_EXT));
    char uri[256];
    snprintf(uri, sizeof(uri), "urn:bidopen:%s:%s", r.oid, id);
    json_t *pkg = json_object();
    put(pkg, "uri", json_string(uri));
    put(pkg, "version", json_string("1.1"));
    put(pkg, "publishedDate", json_string(datestr));
    put(pkg, "publisher", json_pack("{ss}", "name", "bidopen"));
    put(pkg, "extensions", ext);
    bool whole = rel && json_object_get(rel, "tender") && json_object_get(rel, "bids");
    json_t *releases = json_array();
    if (releases)
        json_array_append_new(releases, rel); /* takes rel, also on failure */
    else
        json_decref(rel);
    put(pkg, "releases", releases);
    err = whole && pkg && json_array_size(json_object_get(pkg, "releases")) == 1
              ? json_write(pkg, false, out)
              : BO_E_NOMEM;
    json_decref(pkg);
    rec_cleanup(&r);
    return err;
}

/* --------------------------------------------------------------------- HTML ---- */

typedef struct html {
    bo_buf *out;
    bo_err err;
    const rec *r;
} html;

static void h_raw(html *h, const char *s)
{
    if (!h->err)
        h->err = bo_buf_append_str(h->out, s);
}

static void h_fmt(html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void h_fmt(html *h, const char *fmt, ...)
{
    if (h->err)
        return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(small)) {
        h->err = BO_E_INTERNAL; /* only short fixed texts go through here */
        return;
    }
    h->err = bo_buf_append(h->out, small, (size_t)n);
}

/* Escaped text. */
static void h_txt(html *h, const char *s)
{
    for (const char *p = s; *p && !h->err; p++) {
        const char *e = NULL;
        switch (*p) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        default:
            break;
        }
        h->err = e ? bo_buf_append_str(h->out, e) : bo_buf_append(h->out, p, 1);
    }
}

static void h_time(html *h, bo_time_ms ms)
{
    char t[40];
    if (!ms) {
        h_raw(h, "—");
        return;
    }
    when(h->r, ms, t);
    t[10] = ' '; /* 2027-01-15 09:00:00+08:00: easier to read on paper */
    h_txt(h, t);
}

static void h_hex(html *h, const uint8_t *p, size_t n)
{
    char *x = malloc(2 * n + 1);
    if (!x) {
        h->err = BO_E_NOMEM;
        return;
    }
    h_raw(h, "<span class=\"mono\">");
    h_raw(h, hex_of(p, n, x));
    h_raw(h, "</span>");
    free(x);
}

static void h_bin(html *h, const msgpack_object *m, const char *key)
{
    const uint8_t *p;
    size_t n;
    if (B(m, key, &p, &n))
        h_hex(h, p, n);
    else
        h_raw(h, "—");
}

static const char *phase_zh(const char *p)
{
    static const struct {
        const char *en, *zh;
    } v[] = {{"scheduled", "已创建"},     {"checkin", "签到"},    {"awaiting_open", "等待开标"},
             {"decrypting", "解密"},      {"announcing", "唱标"}, {"confirming", "确认"},
             {"closed", "开标结束"},      {"failed", "流标 / 开标失败"}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (!strcmp(p, v[i].en))
            return v[i].zh;
    return p;
}

static const char *status_zh(const char *s)
{
    if (!strcmp(s, "valid"))
        return "有效";
    if (!strcmp(s, "invalid"))
        return "无效";
    if (!strcmp(s, "revoked"))
        return "撤销";
    if (!strcmp(s, "withdrawn"))
        return "撤回";
    if (!strcmp(s, "missing"))
        return "未解密";
    return s;
}

static const char *rounding_zh(bo_rounding r)
{
    switch (r) {
    case BO_ROUND_HALF_UP:
        return "四舍五入 half_up";
    case BO_ROUND_HALF_EVEN:
        return "四舍六入五成双 half_even";
    case BO_ROUND_DOWN:
        return "截尾 down";
    default:
        return "";
    }
}

static const char CSS[] =
    "@page{size:A4;margin:16mm 14mm 18mm 14mm;"
    "@bottom-center{content:counter(page) \" / \" counter(pages);font-size:9pt}}\n"
    "html{font-family:\"Noto Serif CJK SC\",\"Noto Sans CJK SC\",\"Source Han Serif SC\","
    "\"Source Han Sans SC\",SimSun,\"Songti SC\",\"Microsoft YaHei\",serif;font-size:10.5pt;"
    "color:#000;background:#fff}\n"
    "body{margin:0 auto;max-width:190mm;line-height:1.5}\n"
    "h1{font-size:20pt;text-align:center;margin:0 0 2mm;letter-spacing:.3em}\n"
    "h1 small{display:block;font-size:11pt;letter-spacing:0;font-weight:normal}\n"
    "h2{font-size:12.5pt;margin:6mm 0 2mm;border-bottom:1px solid #000;"
    "page-break-after:avoid;break-after:avoid}\n"
    "table{border-collapse:collapse;width:100%;margin:1mm 0 2mm}\n"
    "th,td{border:1px solid #000;padding:1.2mm 1.6mm;vertical-align:top;text-align:left}\n"
    "th{background:#eee;font-weight:bold}\n"
    "thead{display:table-header-group}\n"
    "tr{page-break-inside:avoid;break-inside:avoid}\n"
    "table.kv th{width:26%}\n"
    ".num{text-align:right;white-space:nowrap}\n"
    ".mono{font-family:\"DejaVu Sans Mono\",\"Noto Sans Mono CJK SC\",monospace;"
    "font-size:8pt;word-break:break-all}\n"
    ".note{font-size:9pt;color:#333}\n"
    ".sign td{height:30mm;width:33%}\n"
    ".sign .who{font-weight:bold}\n"
    ".sign .line{margin-top:14mm;border-top:1px solid #000;padding-top:1mm;font-size:9pt}\n"
    "footer{margin-top:6mm;font-size:8.5pt;color:#333}\n"
    "@media screen{body{padding:10mm}}\n";

static void h_kv(html *h, const char *k, const char *v)
{
    if (!v || !v[0])
        return;
    h_raw(h, "<tr><th>");
    h_raw(h, k);
    h_raw(h, "</th><td>");
    h_txt(h, v);
    h_raw(h, "</td></tr>\n");
}

static void h_kv_time(html *h, const char *k, bo_time_ms ms)
{
    h_raw(h, "<tr><th>");
    h_raw(h, k);
    h_raw(h, "</th><td>");
    h_time(h, ms);
    h_raw(h, "</td></tr>\n");
}

static void html_header(html *h)
{
    const rec *r = h->r;
    h_raw(h, "<table class=\"kv\">\n");
    h_kv(h, "项目名称 Project", r->t->title);
    h_kv(h, "标段 Lot", r->t->lot);
    h_kv(h, "项目编号 Code", r->t->code);
    h_kv(h, "招标人 Tenderer", r->t->buyer);
    h_kv(h, "招标代理机构 Agency", r->t->agency);
    h_kv(h, "开标编号 Opening", r->oid);
    h_kv_time(h, "投标截止及开标时间 Deadline", r->t->deadline);
    h_kv(h, "主持人 Host", S(r, &r->o, "host_name"));
    h_raw(h, "<tr><th>主持人证书 Host certificate</th><td>");
    h_bin(h, &r->o, "host_fpr");
    h_raw(h, "</td></tr>\n<tr><th>状态 Phase</th><td>");
    h_txt(h, phase_zh(r->phase));
    h_raw(h, " (");
    h_txt(h, r->phase);
    h_raw(h, ")");
    const char *why = S(r, &r->o, "failed_reason");
    if (why[0]) {
        h_raw(h, "：");
        h_txt(h, why);
    }
    h_raw(h, "</td></tr>\n");
    h_kv(h, "币种 Currency", r->t->currency);
    h_fmt(h, "<tr><th>开标文件 Bids opened</th><td>%u</td></tr>\n", count(r->bids));
    h_raw(h, "</table>\n");

    h_raw(h, "<h2>开标过程 Timeline</h2>\n<table><thead><tr><th>阶段 Phase</th>"
             "<th>时间 Time</th></tr></thead><tbody>\n");
    for (uint32_t i = 0; i < count(r->timeline); i++) {
        const msgpack_object *e = at(r->timeline, i);
        h_raw(h, "<tr><td>");
        h_txt(h, phase_zh(S(r, e, "phase")));
        h_raw(h, "</td><td>");
        h_time(h, I(e, "at", 0));
        h_raw(h, "</td></tr>\n");
    }
    h_raw(h, "</tbody></table>\n");
}

static void html_bids(html *h)
{
    const rec *r = h->r;
    h_raw(h, "<h2>开标一览 Bids, in announcement order</h2>\n<table><thead><tr>"
             "<th>序号 No.</th><th>投标人 Bidder</th><th>状态 Status</th>");
    for (size_t i = 0; i < r->t->n_fields; i++) {
        h_raw(h, "<th>");
        h_txt(h, r->t->fields[i].label);
        h_raw(h, "</th>");
    }
    h_raw(h, "<th>备注 Notes</th></tr></thead><tbody>\n");
    const msgpack_object **order = calloc(count(r->bids) + 1, sizeof(*order));
    if (!order) {
        h->err = BO_E_NOMEM;
        return;
    }
    size_t n = bids_in_order(r, order);
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *b = order[i];
        uint64_t num;
        h_raw(h, "<tr><td class=\"num\">");
        if (bo_mpo_u64(b, "n", &num))
            h_fmt(h, "%llu", (unsigned long long)num);
        else
            h_raw(h, "—");
        h_raw(h, "</td><td>");
        h_txt(h, S(r, b, "org"));
        h_raw(h, "<br><span class=\"mono\">");
        h_txt(h, S(r, b, "uscc"));
        h_raw(h, "</span></td><td>");
        h_txt(h, status_zh(S(r, b, "status")));
        h_raw(h, "</td>");
        bool has_fields = M(b, "fields", MSGPACK_OBJECT_MAP) != NULL;
        for (size_t k = 0; k < r->t->n_fields; k++) {
            const bo_tender_field *f = &r->t->fields[k];
            h_raw(h, f->type == BO_FIELD_TEXT ? "<td>" : "<td class=\"num\">");
            if (has_fields)
                h_txt(h, field_of(r, b, f->key));
            else
                h_raw(h, "—");
            h_raw(h, "</td>");
        }
        h_raw(h, "<td class=\"note\">");
        h_txt(h, S(r, b, "form_error"));
        h_txt(h, S(r, b, "reason"));
        h_raw(h, "</td></tr>\n");
    }
    free(order);
    h_raw(h, "</tbody></table>\n");
    h_raw(h, "<p class=\"note\">撤销：因投标人原因未在解密时限内解密；撤回：非因投标人原因未能解密。"
             "Revoked: not decrypted in the window through the bidder's fault; withdrawn: "
             "not decrypted for another cause.</p>\n");
}

static void html_draws(html *h)
{
    const rec *r = h->r;
    if (!count(r->draws))
        return;
    h_raw(h, "<h2>随机抽取 Draws</h2>\n<table><thead><tr><th>抽取 Draw</th><th>结果 Result</th>"
             "<th>时间 Time</th></tr></thead><tbody>\n");
    for (uint32_t i = 0; i < count(r->draws); i++) {
        const msgpack_object *d = at(r->draws, i);
        h_raw(h, "<tr><td>");
        h_txt(h, S(r, d, "label"));
        h_raw(h, " <span class=\"mono\">");
        h_txt(h, S(r, d, "id"));
        h_raw(h, !strcmp(S(r, d, "kind"), "order")
                     ? "</span><br><span class=\"note\">顺序抽取 order draw</span>"
                     : "</span><br><span class=\"note\">系数抽取 coefficient draw</span>");
        h_raw(h, "</td><td>");
        const msgpack_object *ord = M(d, "order", MSGPACK_OBJECT_ARRAY);
        if (ord) {
            for (uint32_t k = 0; k < ord->via.array.size; k++) {
                const msgpack_object *u = &ord->via.array.ptr[k];
                if (u->type != MSGPACK_OBJECT_STR)
                    continue;
                h_fmt(h, "%u. ", k + 1);
                h_txt(h, org_of(r, u->via.str.ptr, u->via.str.size));
                h_raw(h, "<br>");
            }
        } else {
            h_raw(h, "<b>");
            h_txt(h, S(r, d, "value"));
            h_raw(h, "</b>");
        }
        h_raw(h, "<br>种子 seed: ");
        h_bin(h, d, "seed");
        h_raw(h, "<br>输入 inputs: ");
        h_bin(h, d, "inputs");
        h_raw(h, "</td><td>");
        h_time(h, I(d, "at", 0));
        h_raw(h, "</td></tr>\n");
    }
    h_raw(h, "</tbody></table>\n<p class=\"note\">种子的 SHA-256 即开标创建时公布的承诺 "
             "(seed_commit): ");
    h_bin(h, &r->o, "seed_commit");
    h_raw(h, "。任何人可按 docs/protocol.md §11 复算。Anyone can redo each draw from the seed "
             "and the inputs (docs/protocol.md §11).</p>\n");
}

static void html_benchmark(html *h)
{
    const rec *r = h->r;
    const msgpack_object *b = r->benchmark;
    if (!b)
        return;
    const bo_tender_benchmark *bm = &r->t->benchmark;
    const bo_tender_field *f = bo_tender_field_find(r->t, bm->field);
    h_raw(h, "<h2>评标基准价 Benchmark price</h2>\n<table class=\"kv\">\n");
    h_raw(h, "<tr><th>评标基准价 Benchmark price</th><td><b>");
    h_txt(h, S(r, b, "value"));
    h_raw(h, "</b> ");
    h_txt(h, r->t->currency);
    h_raw(h, "</td></tr>\n");
    h_kv(h, "算术平均值 Mean", S(r, b, "mean"));
    h_kv(h, "合计 Sum", S(r, b, "sum"));
    int64_t n = I(b, "count", 0);
    h_fmt(h, "<tr><th>计入家数 Bids counted</th><td>%lld</td></tr>\n", (long long)n);
    h_kv(h, "系数 Coefficient", S(r, b, "coefficient"));
    h_raw(h, "<tr><th>规则 Rule</th><td>");
    h_txt(h, f ? f->label : bm->field);
    h_fmt(h, "；有效投标不少于 %u 家时去掉最高、最低各 %u 家 (trim %u when at least %u)；"
             "保留 %u 位小数，",
          bm->trim_min, bm->trim, bm->trim, bm->trim_min, bm->places);
    h_raw(h, rounding_zh(bm->rounding));
    h_raw(h, "</td></tr>\n");
    h_raw(h, "<tr><th>时间 Time</th><td>");
    h_time(h, I(b, "at", 0));
    h_raw(h, "</td></tr>\n</table>\n");
    const msgpack_object *in = M(b, "inputs", MSGPACK_OBJECT_ARRAY);
    const msgpack_object *dropped = M(b, "dropped", MSGPACK_OBJECT_ARRAY);
    h_raw(h, "<table><thead><tr><th>投标人 Bidder</th><th>");
    h_txt(h, f ? f->label : bm->field);
    h_raw(h, "</th><th>计入 Counted</th></tr></thead><tbody>\n");
    for (uint32_t i = 0; in && i < in->via.array.size; i++) {
        const msgpack_object *e = &in->via.array.ptr[i];
        const char *u = S(r, e, "uscc");
        bool gone = false;
        for (uint32_t k = 0; dropped && k < dropped->via.array.size; k++) {
            const msgpack_object *d = &dropped->via.array.ptr[k];
            gone |= d->type == MSGPACK_OBJECT_STR && d->via.str.size == strlen(u) &&
                    !memcmp(d->via.str.ptr, u, strlen(u));
        }
        h_raw(h, "<tr><td>");
        h_txt(h, org_of(r, u, strlen(u)));
        h_raw(h, "</td><td class=\"num\">");
        h_txt(h, S(r, e, "value"));
        h_raw(h, gone ? "</td><td>去除 dropped</td></tr>\n" : "</td><td>计入</td></tr>\n");
    }
    h_raw(h, "</tbody></table>\n");
}

static void html_objections(html *h)
{
    const rec *r = h->r;
    if (!r->confirmation)
        return;
    h_raw(h, "<h2>异议及答复 Objections and answers</h2>\n");
    if (!count(r->objections)) {
        h_raw(h, "<p>无异议。No objection was raised.</p>\n");
        return;
    }
    h_raw(h, "<table><thead><tr><th>序号 No.</th><th>异议 Objection</th><th>答复 Answer</th>"
             "</tr></thead><tbody>\n");
    for (uint32_t i = 0; i < count(r->objections); i++) {
        const msgpack_object *x = at(r->objections, i);
        const msgpack_object *a = M(x, "answer", MSGPACK_OBJECT_MAP);
        h_fmt(h, "<tr><td class=\"num\">%lld</td><td><b>", (long long)I(x, "n", 0));
        h_txt(h, S(r, x, "org"));
        h_raw(h, "</b> ");
        h_time(h, I(x, "at", 0));
        h_raw(h, "<br>");
        h_txt(h, S(r, x, "text"));
        h_raw(h, "</td><td>");
        if (a) {
            h_time(h, I(a, "at", 0));
            h_raw(h, "<br>");
            h_txt(h, S(r, a, "text"));
        } else {
            h_raw(h, "未答复 not answered");
        }
        h_raw(h, "</td></tr>\n");
    }
    h_raw(h, "</tbody></table>\n");
}

static void html_confirmations(html *h)
{
    const rec *r = h->r;
    if (!r->confirmation)
        return;
    h_raw(h, "<h2>投标人确认 Confirmations</h2>\n<p class=\"note\">确认的开标记录哈希 "
             "Record confirmed: ");
    h_bin(h, r->confirmation, "record_hash");
    h_raw(h, "</p>\n<table><thead><tr><th>投标人 Bidder</th><th>确认情况 Status</th>"
             "<th>时间 Time</th></tr></thead><tbody>\n");
    for (uint32_t i = 0; i < count(r->confirmations); i++) {
        const msgpack_object *c = at(r->confirmations, i);
        const char *st = S(r, c, "status");
        h_raw(h, "<tr><td>");
        h_txt(h, S(r, c, "org"));
        h_raw(h, "<br><span class=\"mono\">");
        h_txt(h, S(r, c, "uscc"));
        h_raw(h, "</span></td><td>");
        h_raw(h, !strcmp(st, "confirmed")  ? "已确认 confirmed (已签名 signed)"
                 : !strcmp(st, "deemed")   ? "视为认可 deemed to accept"
                 : !strcmp(st, "objected") ? "提出异议，未确认 objected"
                                           : "待确认 pending");
        h_raw(h, "</td><td>");
        h_time(h, I(c, "at", 0));
        h_raw(h, "</td></tr>\n");
    }
    h_raw(h, "</tbody></table>\n<p class=\"note\">未在确认时限内确认或提出异议的，视为认可开标记录"
             "（政府采购货物和服务招标投标管理办法第四十二条）。Bidders who neither confirmed nor "
             "objected in the window are deemed to accept the record.</p>\n");
}

static void html_integrity(html *h, const bo_export_meta *meta)
{
    const rec *r = h->r;
    uint64_t seq = 0;
    if (r->head)
        bo_mpo_u64(r->head, "seq", &seq);
    h_raw(h, "<h2>完整性 Integrity</h2>\n<table class=\"kv\">\n<tr><th>记录哈希 Record SHA-256"
             "</th><td>");
    h_hex(h, r->hash, 32);
    h_fmt(h, "</td></tr>\n<tr><th>日志链头 Chain head</th><td>事件 event %llu: ",
          (unsigned long long)seq);
    h_bin(h, r->head, "hash");
    h_raw(h, "</td></tr>\n");
    if (meta && meta->has_head) {
        h_fmt(h, "<tr><th>服务器签名 Server signature</th><td>覆盖事件 covers event %llu, ",
              (unsigned long long)meta->head_seq);
        h_time(h, meta->head_ts);
        h_raw(h, "<br>密钥指纹 key SHA-256: ");
        h_hex(h, meta->key_fpr, 32);
        h_raw(h, "<br>签名 signature: ");
        h_hex(h, meta->head_sig.p, meta->head_sig.len);
        h_raw(h, "</td></tr>\n");
    }
    h_raw(h, "</table>\n<p class=\"note\">核验：<span class=\"mono\">bidopen verify "
             "TRANSCRIPT --trust DIR</span> 复核哈希链、全部签名与本记录。"
             "Check with bidopen verify: the hash chain, every signature and this record.</p>\n");
}

static void html_sign(html *h)
{
    h_raw(h, "<h2>签署 Signatures</h2>\n<table class=\"sign\"><tr>"
             "<td><div class=\"who\">招标人（盖章）<br>Tenderer (seal)</div>"
             "<div class=\"line\">代表签字 Representative / 日期 Date</div></td>"
             "<td><div class=\"who\">招标代理机构（盖章）<br>Agency (seal)</div>"
             "<div class=\"line\">代表签字 Representative / 日期 Date</div></td>"
             "<td><div class=\"who\">监督人（签字）<br>Supervisor</div>"
             "<div class=\"line\">签字 Signature / 日期 Date</div></td>"
             "</tr></table>\n");
}

bo_err bo_export_html(const uint8_t *record, size_t len, const bo_export_meta *meta,
                      bo_buf *out, char *detail, size_t detail_len)
{
    rec r;
    bo_err err = rec_open(&r, record, len, detail, detail_len);
    if (err) {
        rec_cleanup(&r);
        return err;
    }
    size_t mark = out->len;
    html h = {out, BO_E_OK, &r};
    h_raw(&h, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<title>开标记录 ");
    h_txt(&h, r.t->title);
    h_raw(&h, "</title>\n<style>\n");
    h_raw(&h, CSS);
    h_raw(&h, "</style>\n</head>\n<body>\n<h1>开标记录<small>Bid opening record</small></h1>\n");
    html_header(&h);
    html_bids(&h);
    html_draws(&h);
    html_benchmark(&h);
    html_objections(&h);
    html_confirmations(&h);
    html_integrity(&h, meta);
    html_sign(&h);
    h_raw(&h, "<footer>本记录由 bidopen 根据开标日志生成；电子记录以服务器签名的日志为准。"
              "Generated by bidopen from the opening's log; the signed log is authoritative."
              "</footer>\n</body>\n</html>\n");
    err = h.err;
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    rec_cleanup(&r);
    return err;
}

bo_err bo_export_render(bo_export_format f, const uint8_t *record, size_t len,
                        const bo_export_meta *meta, bo_buf *out, char *detail,
                        size_t detail_len)
{
    switch (f) {
    case BO_EXPORT_RECORD:
        return bo_export_record_json(record, len, out, detail, detail_len);
    case BO_EXPORT_OCDS:
        return bo_export_ocds(record, len, meta, out, detail, detail_len);
    case BO_EXPORT_HTML:
        return bo_export_html(record, len, meta, out, detail, detail_len);
    default:
        return BO_E_INVALID_ARG;
    }
}
