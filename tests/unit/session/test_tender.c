/* Tests for the tender (docs/protocol.md §5): every rule at its boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/tender.h"
#include "bo/wire.h"
#include "corpus_walk.h"

#define NOW 1800000000000LL
#define HOUR 3600000LL

/* The base tender without the key `skip`. */
static bo_mpmap *base(const char *skip)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    assert_non_null(m);
    if (strcmp(skip, "title"))
        bo_mpmap_str(m, "title", "道路改造工程施工");
    if (strcmp(skip, "checkin_at"))
        bo_mpmap_i64(m, "checkin_at", NOW + HOUR);
    if (strcmp(skip, "deadline"))
        bo_mpmap_i64(m, "deadline", NOW + 2 * HOUR);
    return m;
}

typedef struct result {
    bo_err err;
    char detail[128];
    bo_tender t;
} result;

static result *parse_map(bo_mpmap *m)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_OK);
    bo_mpmap_free(m);
    result *r = calloc(1, sizeof(*r));
    r->err = bo_tender_parse(b.data, b.len, NOW, &r->t, r->detail, sizeof(r->detail));
    bo_buf_cleanup(&b);
    return r;
}

static void expect(bo_mpmap *m, const char *detail)
{
    result *r = parse_map(m);
    if (!detail) {
        if (r->err)
            fail_msg("refused: %s", r->detail);
    } else {
        assert_int_equal(r->err, BO_E_BAD_TENDER);
        assert_string_equal(r->detail, detail);
    }
    free(r);
}

/* n copies of a character (UTF-8 string c) */
static char *rep(const char *c, size_t n)
{
    size_t l = strlen(c);
    char *s = malloc(l * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * l, c, l);
    s[l * n] = 0;
    return s;
}

static void text_limit(const char *key, size_t max)
{
    char want[96];
    snprintf(want, sizeof(want), "%s: must be at most %zu characters", key, max);
    for (int ascii = 0; ascii < 2; ascii++) {
        const char *ch = ascii ? "x" : "\xf0\x9f\x98\x80"; /* 4-byte characters */
        char *ok = rep(ch, max), *over = rep(ch, max + 1);
        bo_mpmap *m = base(key);
        bo_mpmap_str(m, key, ok);
        expect(m, NULL);
        m = base(key);
        bo_mpmap_str(m, key, over);
        expect(m, want);
        free(ok);
        free(over);
    }
}

static void text_fields_at_their_limits(void **state)
{
    text_limit("title", 200);
    text_limit("lot", 100);
    text_limit("code", 64);
    text_limit("buyer", 200);
    text_limit("agency", 200);
}

static void title_rules(void **state)
{
    expect(base("title"), "title: required");
    bo_mpmap *m = base("title");
    bo_mpmap_str(m, "title", "");
    expect(m, "title: must not be empty");
    m = base("title");
    bo_mpmap_u64(m, "title", 1);
    expect(m, "title: must be a string");
    m = base("");
    bo_mpmap_str(m, "lot", "");
    expect(m, NULL); /* optional text may be empty */
}

static void defaults_are_filled(void **state)
{
    result *r = parse_map(base(""));
    assert_int_equal(r->err, BO_E_OK);
    assert_string_equal(r->t.oid, "");
    assert_int_equal(r->t.min_bidders, 3);
    assert_false(r->t.counts_early);
    assert_int_equal(r->t.decrypt_window_s, 1800);
    assert_string_equal(r->t.currency, "CNY");
    assert_int_equal(r->t.tz_offset_min, 480);
    assert_int_equal(r->t.n_fields, 0);
    assert_false(r->t.has_host_fpr);
    assert_int_equal(r->t.deadline, NOW + 2 * HOUR);
    free(r);
}

static void oid_rule(void **state)
{
    char *ok = rep("a", 64), *over = rep("a", 65);
    bo_mpmap *m = base("");
    bo_mpmap_str(m, "oid", ok);
    result *r = parse_map(m);
    assert_int_equal(r->err, BO_E_OK);
    assert_string_equal(r->t.oid, ok);
    free(r);
    m = base("");
    bo_mpmap_str(m, "oid", over);
    expect(m, "oid: must be at most 64 characters");
    m = base("");
    bo_mpmap_str(m, "oid", "a/b");
    expect(m, "oid: must match [A-Za-z0-9._-]{1,64}");
    m = base("");
    bo_mpmap_str(m, "oid", "");
    expect(m, "oid: must not be empty");
    assert_true(bo_oid_valid("T-2026.01_x"));
    assert_false(bo_oid_valid(over));
    assert_false(bo_oid_valid(""));
    assert_false(bo_oid_valid(NULL));
    assert_false(bo_oid_valid("é"));
    free(ok);
    free(over);
}

static void times(void **state)
{
    expect(base("checkin_at"), "checkin_at: required");
    expect(base("deadline"), "deadline: required");
    /* deadline in the future: now + 1 ms passes, now fails */
    bo_mpmap *m = bo_mpmap_new(&(bo_err){0});
    bo_mpmap_str(m, "title", "t");
    bo_mpmap_i64(m, "checkin_at", NOW - HOUR);
    bo_mpmap_i64(m, "deadline", NOW + 1);
    expect(m, NULL);
    m = bo_mpmap_new(&(bo_err){0});
    bo_mpmap_str(m, "title", "t");
    bo_mpmap_i64(m, "checkin_at", NOW - HOUR);
    bo_mpmap_i64(m, "deadline", NOW);
    expect(m, "deadline: must be in the future");
    /* checkin_at before the deadline: one ms before passes, equal fails */
    m = base("checkin_at");
    bo_mpmap_i64(m, "checkin_at", NOW + 2 * HOUR - 1);
    expect(m, NULL);
    m = base("checkin_at");
    bo_mpmap_i64(m, "checkin_at", NOW + 2 * HOUR);
    expect(m, "deadline: must be after checkin_at");
    m = base("checkin_at");
    bo_mpmap_i64(m, "checkin_at", -1);
    expect(m, "checkin_at: must be between 0 and 9223372036854775807");
    m = base("deadline");
    bo_mpmap_str(m, "deadline", "tomorrow");
    expect(m, "deadline: must be an integer");
}

static void int_range(const char *key, int64_t lo, int64_t hi)
{
    char want[96];
    snprintf(want, sizeof(want), "%s: must be between %lld and %lld", key, (long long)lo,
             (long long)hi);
    int64_t ok[] = {lo, hi}, bad[] = {lo - 1, hi + 1};
    for (int i = 0; i < 2; i++) {
        bo_mpmap *m = base("");
        bo_mpmap_i64(m, key, ok[i]);
        expect(m, NULL);
        m = base("");
        bo_mpmap_i64(m, key, bad[i]);
        expect(m, want);
    }
}

static void number_ranges(void **state)
{
    int_range("min_bidders", 1, 1000);
    int_range("decrypt_window_s", 60, 86400);
    int_range("tz_offset_min", -720, 840);
    bo_mpmap *m = base("");
    bo_mpmap_u64(m, "min_bidders", 7);
    bo_mpmap_u64(m, "decrypt_window_s", 600);
    bo_mpmap_i64(m, "tz_offset_min", -300);
    bo_mpmap_bool(m, "counts_early", true);
    result *r = parse_map(m);
    assert_int_equal(r->err, BO_E_OK);
    assert_int_equal(r->t.min_bidders, 7);
    assert_int_equal(r->t.decrypt_window_s, 600);
    assert_int_equal(r->t.tz_offset_min, -300);
    assert_true(r->t.counts_early);
    free(r);
    m = base("");
    bo_mpmap_u64(m, "counts_early", 1);
    expect(m, "counts_early: must be true or false");
}

static void currency_rule(void **state)
{
    static const char *good[] = {"CNY", "USD", "HKD"};
    static const char *bad[] = {"cny", "CN", "CNYY", "C1Y", ""};
    for (size_t i = 0; i < 3; i++) {
        bo_mpmap *m = base("");
        bo_mpmap_str(m, "currency", good[i]);
        result *r = parse_map(m);
        assert_int_equal(r->err, BO_E_OK);
        assert_string_equal(r->t.currency, good[i]);
        free(r);
    }
    for (size_t i = 0; i < 5; i++) {
        bo_mpmap *m = base("");
        bo_mpmap_str(m, "currency", bad[i]);
        expect(m, "currency: must be an ISO 4217 code of 3 capital letters");
    }
}

static void host_fpr_rule(void **state)
{
    uint8_t fpr[33];
    memset(fpr, 7, sizeof(fpr));
    bo_mpmap *m = base("");
    bo_mpmap_bin(m, "host_fpr", fpr, 32);
    result *r = parse_map(m);
    assert_int_equal(r->err, BO_E_OK);
    assert_true(r->t.has_host_fpr);
    assert_memory_equal(r->t.host_fpr, fpr, 32);
    free(r);
    size_t bad[] = {31, 33};
    for (int i = 0; i < 2; i++) {
        m = base("");
        bo_mpmap_bin(m, "host_fpr", fpr, bad[i]);
        expect(m, "host_fpr: must be 32 bytes (a SHA-256 certificate fingerprint)");
    }
}

/* fields: n entries f0..f(n-1), the last one replaced by `last` when given. */
static bo_mpmap *with_fields(size_t n, const uint8_t *last, size_t last_len)
{
    bo_buf arr;
    bo_buf_init(&arr, 1 << 20);
    bo_mp_array_header(&arr, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        if (last && i == n - 1) {
            bo_buf_append(&arr, last, last_len);
            break;
        }
        bo_err err;
        bo_mpmap *f = bo_mpmap_new(&err);
        char key[24];
        snprintf(key, sizeof(key), "f%zu", i);
        bo_mpmap_str(f, "key", key);
        bo_mpmap_str(f, "label", "投标报价");
        bo_mpmap_str(f, "type", "decimal");
        bo_mpmap_finish(f, &arr);
        bo_mpmap_free(f);
    }
    bo_mpmap *m = base("");
    bo_mpmap_raw(m, "fields", arr.data, arr.len);
    bo_buf_cleanup(&arr);
    return m;
}

static void expect_field(const char *key, const char *label, const char *type, const char *want)
{
    bo_err err;
    bo_mpmap *f = bo_mpmap_new(&err);
    if (key)
        bo_mpmap_str(f, "key", key);
    if (label)
        bo_mpmap_str(f, "label", label);
    if (type)
        bo_mpmap_str(f, "type", type);
    bo_buf b;
    bo_buf_init(&b, 4096);
    bo_mpmap_finish(f, &b);
    bo_mpmap_free(f);
    expect(with_fields(2, b.data, b.len), want);
    bo_buf_cleanup(&b);
}

static void fields_rules(void **state)
{
    result *r = parse_map(with_fields(BO_TENDER_MAX_FIELDS, NULL, 0));
    assert_int_equal(r->err, BO_E_OK);
    assert_int_equal(r->t.n_fields, 32);
    assert_string_equal(r->t.fields[31].key, "f31");
    assert_string_equal(r->t.fields[0].label, "投标报价");
    assert_int_equal(r->t.fields[0].type, BO_FIELD_DECIMAL);
    free(r);
    expect(with_fields(BO_TENDER_MAX_FIELDS + 1, NULL, 0), "fields: at most 32 fields");

    char *k32 = rep("k", 32), *k33 = rep("k", 33), *l64 = rep("标", 64), *l65 = rep("标", 65);
    expect_field(k32, "工期", "days", NULL);
    expect_field(k33, "工期", "days", "fields[1].key: must be at most 32 characters");
    expect_field("Price", "x", "int", "fields[1].key: must match [a-z0-9_]{1,32}");
    expect_field("a-b", "x", "int", "fields[1].key: must match [a-z0-9_]{1,32}");
    expect_field("", "x", "int", "fields[1].key: must not be empty");
    expect_field("q", l64, "text", NULL);
    expect_field("q", l65, "text", "fields[1].label: must be at most 64 characters");
    expect_field("q", "", "text", "fields[1].label: must not be empty");
    expect_field("q", "x", "float", "fields[1].type: must be decimal, text, int or days");
    expect_field("q", "x", NULL, "fields[1]: needs key, label and type");
    expect_field("f0", "x", "int", "fields[1]: key \"f0\" is used twice");
    free(k32), free(k33), free(l64), free(l65);

    static const char extra[] = "\x84\xa3key\xa1q\xa5label\xa1x\xa4type\xa3int\xa4zzzz\x01";
    expect(with_fields(2, (const uint8_t *)extra, sizeof(extra) - 1),
           "fields[1].zzzz: each field has only key, label and type");
    expect(with_fields(1, (const uint8_t *)"\x01", 1), "fields[0]: must be a map {key, label, type}");
    bo_mpmap *m = base("");
    bo_mpmap_u64(m, "fields", 1);
    expect(m, "fields: must be a list");
}

static void unknown_and_malformed(void **state)
{
    bo_mpmap *m = base("");
    bo_mpmap_u64(m, "colour", 1);
    expect(m, "colour: unknown key");
    result r;
    static const uint8_t not_map[] = {0x91, 0x01};
    assert_int_equal(bo_tender_parse(not_map, 2, NOW, &r.t, r.detail, sizeof(r.detail)),
                     BO_E_BAD_TENDER);
    assert_string_equal(r.detail, "tender: must be a map");
    static const uint8_t trunc[] = {0x81, 0xa1};
    assert_int_equal(bo_tender_parse(trunc, 2, NOW, &r.t, NULL, 0), BO_E_BAD_TENDER);
    /* a float and a duplicate key (raw bytes: the builders refuse to make them) */
    static const uint8_t flt[] = "\x83\xa5title\xa1t\xaa\x63heckin_at\xcb\0\0\0\0\0\0\0\0"
                                 "\xa8\x64\x65\x61\x64line\x01";
    assert_int_equal(bo_tender_parse(flt, sizeof(flt) - 1, NOW, &r.t, r.detail,
                                     sizeof(r.detail)),
                     BO_E_BAD_TENDER);
    assert_string_equal(r.detail, "checkin_at: must be an integer");
    static const uint8_t dup[] = "\x82\xa5title\xa1t\xa5title\xa1u";
    assert_int_equal(bo_tender_parse(dup, sizeof(dup) - 1, NOW, &r.t, r.detail,
                                     sizeof(r.detail)),
                     BO_E_BAD_TENDER);
    assert_string_equal(r.detail, "title: duplicate key");
}

static void encode_and_decode_stored(void **state)
{
    bo_mpmap *m = with_fields(3, NULL, 0);
    uint8_t fpr[32];
    memset(fpr, 9, 32);
    bo_mpmap_bin(m, "host_fpr", fpr, 32);
    bo_mpmap_str(m, "oid", "T-1");
    bo_mpmap_str(m, "agency", "某招标代理有限公司");
    bo_mpmap_bool(m, "counts_early", true);
    result *r = parse_map(m);
    assert_int_equal(r->err, BO_E_OK);
    bo_buf a, b;
    bo_buf_init(&a, 1 << 20);
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_tender_encode(&r->t, &a), BO_E_OK);
    /* stored tenders decode after their deadline has passed */
    bo_tender t2;
    assert_int_equal(bo_tender_decode_stored(a.data, a.len, &t2), BO_E_OK);
    assert_int_equal(bo_tender_parse(a.data, a.len, NOW + 3 * HOUR, &t2, NULL, 0),
                     BO_E_BAD_TENDER);
    assert_int_equal(bo_tender_decode_stored(a.data, a.len, &t2), BO_E_OK);
    assert_int_equal(bo_tender_encode(&t2, &b), BO_E_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_string_equal(t2.oid, "T-1");
    assert_string_equal(t2.agency, "某招标代理有限公司");
    assert_int_equal(t2.n_fields, 3);
    assert_true(t2.has_host_fpr);
    assert_true(t2.counts_early);
    /* canonical: the encoding is its own canonical form */
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(a.data, a.len, &z, &o), BO_E_OK);
    bo_buf c;
    bo_buf_init(&c, 1 << 20);
    assert_int_equal(bo_mp_canonical(&c, &o), BO_E_OK);
    assert_memory_equal(c.data, a.data, a.len);
    uint64_t mb;
    assert_true(bo_mpo_u64(&o, "min_bidders", &mb)); /* defaults are written */
    assert_int_equal(mb, 3);
    assert_null(bo_mpo_get(&o, "lot"));               /* empty optional text is not */
    msgpack_zone_free(z);
    bo_buf_cleanup(&c);
    bo_buf_cleanup(&a);
    bo_buf_cleanup(&b);
    free(r);
}


/* ------------------------------------------------- announcement, draws, benchmark ---- */

/* A tender with the fields price (decimal), days (days), pm (text) and qty (int). */
static bo_mpmap *with_form(void)
{
    static const char *const f[][3] = {
        {"price", "投标报价", "decimal"}, {"days", "工期", "days"}, {"pm", "项目经理", "text"},
        {"qty", "数量", "int"}};
    bo_buf arr;
    bo_buf_init(&arr, 1 << 20);
    bo_mp_array_header(&arr, 4);
    for (int i = 0; i < 4; i++) {
        bo_err err;
        bo_mpmap *m = bo_mpmap_new(&err);
        bo_mpmap_str(m, "key", f[i][0]);
        bo_mpmap_str(m, "label", f[i][1]);
        bo_mpmap_str(m, "type", f[i][2]);
        bo_mpmap_finish(m, &arr);
        bo_mpmap_free(m);
    }
    bo_mpmap *m = base("");
    bo_mpmap_raw(m, "fields", arr.data, arr.len);
    bo_buf_cleanup(&arr);
    return m;
}

/* Appends one draw map; values NULL leaves them out, else n of them. */
static void draw_to(bo_buf *arr, const char *id, const char *kind, const char *label,
                    const char *const *values, size_t n)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (id)
        bo_mpmap_str(m, "id", id);
    if (kind)
        bo_mpmap_str(m, "kind", kind);
    if (label)
        bo_mpmap_str(m, "label", label);
    if (values) {
        bo_buf v;
        bo_buf_init(&v, 1 << 20);
        bo_mp_array_header(&v, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            bo_mp_str(&v, values[i], strlen(values[i]));
        bo_mpmap_raw(m, "values", v.data, v.len);
        bo_buf_cleanup(&v);
    }
    assert_int_equal(bo_mpmap_finish(m, arr), BO_E_OK);
    bo_mpmap_free(m);
}

static const char *const coefs[] = {"0.95", "0.96", "0.97", "0.98"};

/* with_form() plus draws: a coefficient draw k and an order draw ord (when order) and the
 * draw given as raw bytes (when extra). */
static bo_mpmap *with_draws(bool order, const bo_buf *extra, const char *announce)
{
    bo_buf arr;
    bo_buf_init(&arr, 1 << 20);
    bo_mp_array_header(&arr, 1 + order + (extra != NULL));
    draw_to(&arr, "k", "coefficient", "下浮系数", coefs, 4);
    if (order)
        draw_to(&arr, "ord", "order", "唱标顺序", NULL, 0);
    if (extra)
        bo_buf_append(&arr, extra->data, extra->len);
    bo_mpmap *m = with_form();
    bo_mpmap_raw(m, "draws", arr.data, arr.len);
    if (announce)
        bo_mpmap_str(m, "announce_order", announce);
    bo_buf_cleanup(&arr);
    return m;
}

static void expect_draw(const char *id, const char *kind, const char *label,
                        const char *const *values, size_t n, const char *want)
{
    bo_buf d;
    bo_buf_init(&d, 1 << 20);
    draw_to(&d, id, kind, label, values, n);
    expect(with_draws(false, &d, NULL), want);
    bo_buf_cleanup(&d);
}

static void announce_order_rules(void **state)
{
    result *r = parse_map(with_form());
    assert_int_equal(r->err, BO_E_OK);
    assert_int_equal(r->t.announce_order, BO_ORDER_SUBMISSION); /* the default */
    assert_int_equal(r->t.n_draws, 0);
    assert_false(r->t.benchmark.present);
    free(r);
    bo_mpmap *m = with_form();
    bo_mpmap_str(m, "announce_order", "uscc");
    r = parse_map(m);
    assert_int_equal(r->err, BO_E_OK);
    assert_int_equal(r->t.announce_order, BO_ORDER_USCC);
    free(r);
    r = parse_map(with_draws(true, NULL, "draw:ord"));
    assert_int_equal(r->err, BO_E_OK);
    assert_int_equal(r->t.announce_order, BO_ORDER_DRAW);
    assert_string_equal(r->t.announce_draw, "ord");
    assert_int_equal(r->t.n_draws, 2);
    assert_int_equal(r->t.draws[1].kind, BO_DRAW_ORDER);
    assert_ptr_equal(bo_tender_draw_find(&r->t, "ord"), &r->t.draws[1]);
    assert_null(bo_tender_draw_find(&r->t, "none"));
    free(r);

    static const char *const bad[] = {"random", "draw:", "draw:Ord", "draw:a-b", "Submission",
                                      "draw: ord"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = with_form();
        bo_mpmap_str(m, "announce_order", bad[i]);
        expect(m, "announce_order: must be submission, uscc or draw:<id>");
    }
    m = with_form();
    bo_mpmap_u64(m, "announce_order", 1);
    expect(m, "announce_order: must be submission, uscc or draw:<id>");
    expect(with_draws(false, NULL, "draw:ord"), "announce_order: names no order draw");
    expect(with_draws(false, NULL, "draw:k"), "announce_order: names no order draw");
    expect(with_draws(true, NULL, NULL), "draws[1]: an order draw must be named by "
                                         "announce_order");
    /* a second order draw is never the one named */
    bo_buf d;
    bo_buf_init(&d, 4096);
    draw_to(&d, "ord2", "order", "x", NULL, 0);
    expect(with_draws(true, &d, "draw:ord"), "draws[2]: an order draw must be named by "
                                             "announce_order");
    bo_buf_cleanup(&d);
}

static void draws_rules(void **state)
{
    result *r = parse_map(with_draws(false, NULL, NULL));
    assert_int_equal(r->err, BO_E_OK);
    const bo_tender_draw *k = &r->t.draws[0];
    assert_string_equal(k->id, "k");
    assert_string_equal(k->label, "下浮系数");
    assert_int_equal(k->kind, BO_DRAW_COEFFICIENT);
    assert_int_equal(k->n_values, 4);
    bo_decimal want;
    bo_decimal_parse("0.97", 4, &want);
    assert_int_equal(bo_decimal_cmp(&k->values[2], &want), 0);
    free(r);

    const char *vals[BO_DRAW_MAX_VALUES + 1];
    char store[BO_DRAW_MAX_VALUES + 1][16];
    for (int i = 0; i <= BO_DRAW_MAX_VALUES; i++) {
        snprintf(store[i], sizeof(store[i]), "1.%03d", i);
        vals[i] = store[i];
    }
    expect_draw("c", "coefficient", "x", vals, BO_DRAW_MAX_VALUES, NULL);
    expect_draw("c", "coefficient", "x", vals, BO_DRAW_MAX_VALUES + 1,
                "draws[1].values: must have 2 to 100 values");
    expect_draw("c", "coefficient", "x", vals, 2, NULL);
    expect_draw("c", "coefficient", "x", vals, 1, "draws[1].values: must have 2 to 100 values");
    expect_draw("c", "coefficient", "x", NULL, 0,
                "draws[1].values: a coefficient draw needs 2 to 100 values");
    static const char *const repeat[] = {"0.95", "1", "0.950"};
    expect_draw("c", "coefficient", "x", repeat, 3, "draws[1].values[2]: repeats values[0]");
    static const char *const notdec[] = {"0.95", "1.0000001"};
    expect_draw("c", "coefficient", "x", notdec, 2,
                "draws[1].values[1]: must be a decimal string (at most 18 digits before the "
                "point and 6 after)");
    static const char *const negative[] = {"-1.5", "0", "2"}; /* any decimals */
    expect_draw("c", "coefficient", "x", negative, 3, NULL);
    expect_draw("o", "order", "x", coefs, 2, "draws[1].values: an order draw has no values");
    expect_draw("k", "coefficient", "x", coefs, 2, "draws[1]: id \"k\" is used twice");
    expect_draw("C", "coefficient", "x", coefs, 2, "draws[1].id: must match [a-z0-9_]{1,32}");
    expect_draw("c", "lottery", "x", coefs, 2, "draws[1].kind: must be coefficient or order");
    expect_draw("c", "coefficient", NULL, coefs, 2, "draws[1]: needs id, kind and label");
    expect_draw(NULL, "coefficient", "x", coefs, 2, "draws[1]: needs id, kind and label");
    expect_draw("c", "coefficient", "", coefs, 2, "draws[1].label: must not be empty");
    char *l65 = rep("标", 65);
    expect_draw("c", "coefficient", l65, coefs, 2,
                "draws[1].label: must be at most 64 characters");
    free(l65);
    static const char extra[] = "\x84\xa2id\xa1q\xa4kind\xa5order\xa5label\xa1x\xa4when\x01";
    bo_buf d = {(uint8_t *)extra, sizeof(extra) - 1, sizeof(extra), sizeof(extra)};
    expect(with_draws(false, &d, NULL),
           "draws[1].when: each draw has only id, kind, label and values");

    /* at most 8 */
    bo_buf arr;
    bo_buf_init(&arr, 1 << 20);
    bo_mp_array_header(&arr, BO_TENDER_MAX_DRAWS + 1);
    for (int i = 0; i <= BO_TENDER_MAX_DRAWS; i++) {
        char id[8];
        snprintf(id, sizeof(id), "d%d", i);
        draw_to(&arr, id, "coefficient", "x", coefs, 2);
    }
    bo_mpmap *m = with_form();
    bo_mpmap_raw(m, "draws", arr.data, arr.len);
    expect(m, "draws: at most 8 draws");
    arr.data[0]--; /* the array header: 8 */
    arr.len = 0;
    bo_mp_array_header(&arr, BO_TENDER_MAX_DRAWS);
    for (int i = 0; i < BO_TENDER_MAX_DRAWS; i++) {
        char id[8];
        snprintf(id, sizeof(id), "d%d", i);
        draw_to(&arr, id, "coefficient", "x", coefs, 2);
    }
    m = with_form();
    bo_mpmap_raw(m, "draws", arr.data, arr.len);
    expect(m, NULL);
    bo_buf_cleanup(&arr);
    m = with_form();
    bo_mpmap_u64(m, "draws", 1);
    expect(m, "draws: must be a list");
}

/* A benchmark map; NULL or negative leaves a member out. */
static bo_mpmap *with_bench(const char *field, int trim_min, int trim, const char *coef,
                            int places, const char *rounding)
{
    bo_err err;
    bo_mpmap *b = bo_mpmap_new(&err);
    if (field)
        bo_mpmap_str(b, "field", field);
    if (trim_min >= 0)
        bo_mpmap_i64(b, "trim_min", trim_min);
    if (trim >= 0)
        bo_mpmap_i64(b, "trim", trim);
    if (coef)
        bo_mpmap_str(b, "coefficient", coef);
    if (places >= 0)
        bo_mpmap_i64(b, "places", places);
    if (rounding)
        bo_mpmap_str(b, "rounding", rounding);
    bo_buf bb;
    bo_buf_init(&bb, 4096);
    assert_int_equal(bo_mpmap_finish(b, &bb), BO_E_OK);
    bo_mpmap_free(b);
    bo_mpmap *m = with_draws(false, NULL, NULL);
    bo_mpmap_raw(m, "benchmark", bb.data, bb.len);
    bo_buf_cleanup(&bb);
    return m;
}

static void benchmark_rules(void **state)
{
    result *r = parse_map(with_bench("price", -1, -1, NULL, -1, NULL));
    assert_int_equal(r->err, BO_E_OK);
    const bo_tender_benchmark *b = &r->t.benchmark;
    assert_true(b->present);
    assert_string_equal(b->field, "price");
    assert_int_equal(b->trim, 0);
    assert_int_equal(b->trim_min, 0);
    assert_false(b->coef_draw);
    bo_decimal one = bo_decimal_from_int(1);
    assert_int_equal(bo_decimal_cmp(&b->coefficient, &one), 0); /* defaults */
    assert_int_equal(b->places, 2);
    assert_int_equal(b->rounding, BO_ROUND_HALF_UP);
    free(r);
    r = parse_map(with_bench("price", 5, 1, "draw:k", 0, "half_even"));
    assert_int_equal(r->err, BO_E_OK);
    b = &r->t.benchmark;
    assert_true(b->coef_draw);
    assert_string_equal(b->coef_id, "k");
    assert_int_equal(b->trim_min, 5);
    assert_int_equal(b->trim, 1);
    assert_int_equal(b->places, 0);
    assert_int_equal(b->rounding, BO_ROUND_HALF_EVEN);
    free(r);

    expect(with_bench("price", 3, 1, "1000", 6, "down"), NULL);
    expect(with_bench("price", 201, 100, "0.000001", 6, "down"), NULL);
    expect(with_bench(NULL, 3, 1, NULL, 2, NULL), "benchmark.field: required");
    expect(with_bench("days", -1, -1, NULL, -1, NULL),
           "benchmark.field: must name a decimal field");
    expect(with_bench("nope", -1, -1, NULL, -1, NULL),
           "benchmark.field: must name a decimal field");
    expect(with_bench("Price", -1, -1, NULL, -1, NULL),
           "benchmark.field: must match [a-z0-9_]{1,32}");
    expect(with_bench("price", 2, 1, NULL, -1, NULL),
           "benchmark.trim_min: must be at least 2 * trim + 1 (3)");
    expect(with_bench("price", 4, -1, NULL, -1, NULL),
           "benchmark.trim_min: must be 0 when trim is 0");
    expect(with_bench("price", 1001, 1, NULL, -1, NULL),
           "benchmark.trim_min: must be between 0 and 1000");
    expect(with_bench("price", 300, 101, NULL, -1, NULL),
           "benchmark.trim: must be between 0 and 100");
    expect(with_bench("price", -1, -1, NULL, 7, NULL),
           "benchmark.places: must be between 0 and 6");
    expect(with_bench("price", -1, -1, NULL, -1, "up"),
           "benchmark.rounding: must be half_up, half_even or down");
    static const char *const bad_coef[] = {"0", "-0.5", "1000.000001", "1e3", "draw:",
                                           "draw:K", "", "0.0000001"};
    for (size_t i = 0; i < sizeof(bad_coef) / sizeof(bad_coef[0]); i++)
        expect(with_bench("price", -1, -1, bad_coef[i], -1, NULL),
               "benchmark.coefficient: must be a decimal greater than 0 and at most 1000, or "
               "draw:<id>");
    expect(with_bench("price", -1, -1, "draw:zz", -1, NULL),
           "benchmark.coefficient: names no coefficient draw");
    /* a coefficient draw whose values are not all usable as a coefficient */
    bo_buf d;
    bo_buf_init(&d, 4096);
    static const char *const wild[] = {"0.5", "0"};
    draw_to(&d, "w", "coefficient", "x", wild, 2);
    bo_mpmap *m = with_draws(false, &d, NULL);
    bo_buf_reset(&d);
    bo_mpmap *bm = bo_mpmap_new(&(bo_err){0});
    bo_mpmap_str(bm, "field", "price");
    bo_mpmap_str(bm, "coefficient", "draw:w");
    bo_mpmap_finish(bm, &d);
    bo_mpmap_free(bm);
    bo_mpmap_raw(m, "benchmark", d.data, d.len);
    expect(m, "benchmark.coefficient: every value of draw w must be greater than 0 and at "
              "most 1000");
    bo_buf_cleanup(&d);
    static const char extra[] = "\x82\xa5\x66ield\xa5price\xa4mode\x01";
    m = with_draws(false, NULL, NULL);
    bo_mpmap_raw(m, "benchmark", extra, sizeof(extra) - 1);
    expect(m, "benchmark.mode: unknown key");
    m = with_draws(false, NULL, NULL);
    bo_mpmap_u64(m, "benchmark", 1);
    expect(m, "benchmark: must be a map {field, trim_min, trim, coefficient, places, "
              "rounding}");
}

static void opening_keys_round_trip(void **state)
{
    bo_mpmap *m = with_draws(true, NULL, "draw:ord");
    bo_buf bb;
    bo_buf_init(&bb, 4096);
    bo_mpmap *b = bo_mpmap_new(&(bo_err){0});
    bo_mpmap_str(b, "field", "price");
    bo_mpmap_str(b, "coefficient", "0950.500"); /* stored canonically */
    bo_mpmap_u64(b, "trim_min", 5);
    bo_mpmap_u64(b, "trim", 1);
    bo_mpmap_finish(b, &bb);
    bo_mpmap_free(b);
    bo_mpmap_raw(m, "benchmark", bb.data, bb.len);
    bo_buf_cleanup(&bb);
    result *r = parse_map(m);
    assert_int_equal(r->err, BO_E_OK);
    bo_buf a, c;
    bo_buf_init(&a, 1 << 20);
    bo_buf_init(&c, 1 << 20);
    assert_int_equal(bo_tender_encode(&r->t, &a), BO_E_OK);
    bo_tender *t2 = malloc(sizeof(*t2));
    assert_int_equal(bo_tender_decode_stored(a.data, a.len, t2), BO_E_OK);
    assert_int_equal(bo_tender_encode(t2, &c), BO_E_OK);
    assert_int_equal(a.len, c.len);
    assert_memory_equal(a.data, c.data, a.len);
    assert_int_equal(t2->announce_order, BO_ORDER_DRAW);
    assert_int_equal(t2->n_draws, 2);
    assert_int_equal(t2->benchmark.trim, 1);
    assert_non_null(memmem(a.data, a.len, "\xa5" "950.5", 6));
    assert_non_null(memmem(a.data, a.len, "\xa4" "0.95", 5));
    assert_non_null(memmem(a.data, a.len, "\xa8" "draw:ord", 9));
    assert_null(memmem(a.data, a.len, "0950", 4));
    bo_buf_reset(&c);
    assert_int_equal(bo_tender_encode_benchmark(t2, &c), BO_E_OK);
    assert_non_null(memmem(a.data, a.len, c.data, c.len)); /* the rule is the stored map */
    /* defaults: announce_order is written, no draws and no benchmark are not */
    free(r);
    r = parse_map(with_form());
    bo_buf_reset(&a);
    assert_int_equal(bo_tender_encode(&r->t, &a), BO_E_OK);
    assert_non_null(memmem(a.data, a.len, "\xaa" "submission", 11));
    assert_null(memmem(a.data, a.len, "draws", 5));
    assert_null(memmem(a.data, a.len, "benchmark", 9));
    bo_buf_reset(&c);
    assert_int_equal(bo_tender_encode_benchmark(&r->t, &c), BO_E_INVALID_ARG);
    free(r);
    free(t2);
    bo_buf_cleanup(&a);
    bo_buf_cleanup(&c);
}

/* An opening form from pairs key, value (a NULL value: an int 5 instead of a string). */
static void form_is(const bo_tender *t, const char *want, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    for (size_t i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *), *v = va_arg(ap, const char *);
        if (v)
            bo_mpmap_str(m, k, v);
        else
            bo_mpmap_u64(m, k, 5);
    }
    va_end(ap);
    bo_buf b;
    bo_buf_init(&b, 1 << 16);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_OK);
    bo_mpmap_free(m);
    char detail[160] = "x";
    err = bo_tender_check_form(t, b.data, b.len, detail, sizeof(detail));
    if (!want) {
        if (err)
            fail_msg("refused: %s", detail);
        assert_string_equal(detail, "");
    } else {
        assert_int_equal(err, BO_E_BAD_FIELD);
        assert_string_equal(detail, want);
    }
    bo_buf_cleanup(&b);
}

static void opening_form_rules(void **state)
{
    result *r = parse_map(with_form());
    const bo_tender *t = &r->t;
    form_is(t, NULL, 4, "price", "1234567.89", "days", "365", "pm", "张三", "qty", "-12");
    form_is(t, NULL, 4, "price", "-0.5", "days", "000000", "pm", "", "qty", "0");
    form_is(t, "qty: missing", 3, "price", "1", "days", "1", "pm", "x");
    form_is(t, "days: missing", 1, "price", "1"); /* the first in key order */
    form_is(t, "extra: not a field of this tender", 5, "price", "1", "days", "1", "pm", "x",
            "qty", "1", "extra", "?");
    form_is(t, "aaa: not a field of this tender", 4, "price", "1", "days", "1", "pm", "x",
            "aaa", "1");
    static const char *const dec_rule =
        "price: must be a decimal (at most 18 digits before the point and 6 after)";
    static const char *const bad_prices[] = {"", "1,000.00", "￥100", "1.1234567", "1e6",
                                             " 1", "1234567890123456789"};
    for (size_t i = 0; i < sizeof(bad_prices) / sizeof(bad_prices[0]); i++)
        form_is(t, dec_rule, 4, "price", bad_prices[i], "days", "1", "pm", "x", "qty", "1");
    form_is(t, "days: must be a number of days of at most 6 digits", 4, "price", "1", "days",
            "1234567", "pm", "x", "qty", "1");
    form_is(t, "days: must be a number of days of at most 6 digits", 4, "price", "1", "days",
            "-1", "pm", "x", "qty", "1");
    form_is(t, "days: must be a number of days of at most 6 digits", 4, "price", "1", "days",
            "1.5", "pm", "x", "qty", "1");
    form_is(t, "qty: must be a whole number of at most 18 digits", 4, "price", "1", "days",
            "1", "pm", "x", "qty", "1.0");
    form_is(t, "qty: must be a whole number of at most 18 digits", 4, "price", "1", "days",
            "1", "pm", "x", "qty", "-");
    form_is(t, "price: must be a string", 4, "price", NULL, "days", "1", "pm", "x", "qty", "1");
    char *long_text = rep("x", BO_FORM_TEXT_MAX + 1);
    form_is(t, "pm: must be text of at most 1024 bytes", 4, "price", "1", "days", "1", "pm",
            long_text, "qty", "1");
    long_text[BO_FORM_TEXT_MAX] = 0;
    form_is(t, NULL, 4, "price", "1", "days", "1", "pm", long_text, "qty", "1");
    free(long_text);
    char detail[96];
    static const uint8_t arr[] = {0x91, 0x01};
    assert_int_equal(bo_tender_check_form(t, arr, 2, detail, sizeof(detail)), BO_E_BAD_FIELD);
    assert_string_equal(detail, "form: must be a map of field keys to strings");
    static const uint8_t intkey[] = {0x81, 0x01, 0xa1, 'x'};
    assert_int_equal(bo_tender_check_form(t, intkey, 4, detail, sizeof(detail)),
                     BO_E_BAD_FIELD);
    assert_string_equal(detail, "form: keys must be field keys");
    static const uint8_t dup[] = {0x82, 0xa2, 'p', 'm', 0xa1, 'x', 0xa2, 'p', 'm', 0xa1, 'y'};
    assert_int_equal(bo_tender_check_form(t, dup, sizeof(dup), detail, sizeof(detail)),
                     BO_E_BAD_FIELD);
    assert_string_equal(detail, "pm: duplicate key");
    /* values by type */
    assert_true(bo_tender_value_ok(BO_FIELD_INT, "-123456789012345678", 19));
    assert_false(bo_tender_value_ok(BO_FIELD_INT, "1234567890123456789", 19));
    assert_true(bo_tender_value_ok(BO_FIELD_DAYS, "999999", 6));
    assert_false(bo_tender_value_ok(BO_FIELD_TEXT, "a\0b", 3));
    assert_false(bo_tender_value_ok(BO_FIELD_TEXT, "\xc3\x28", 2));
    assert_false(bo_tender_value_ok((bo_field_type)9, "1", 1));
    assert_ptr_equal(bo_tender_field_find(t, "pm"), &t->fields[2]);
    assert_null(bo_tender_field_find(t, "p"));
    free(r);
}

static void corpus_file(const char *name, const uint8_t *data, size_t len, bool valid)
{
    bo_tender t;
    bool ok = bo_tender_decode_stored(data, len, &t) == BO_E_OK;
    if (ok != valid)
        fail_msg("%s: %s", name, ok ? "accepted" : "refused");
}

static void corpus_matches_names(void **state)
{
    assert_true(corpus_walk("tender", corpus_file) >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_fields_at_their_limits),
        cmocka_unit_test(title_rules),
        cmocka_unit_test(defaults_are_filled),
        cmocka_unit_test(oid_rule),
        cmocka_unit_test(times),
        cmocka_unit_test(number_ranges),
        cmocka_unit_test(currency_rule),
        cmocka_unit_test(host_fpr_rule),
        cmocka_unit_test(fields_rules),
        cmocka_unit_test(unknown_and_malformed),
        cmocka_unit_test(encode_and_decode_stored),
        cmocka_unit_test(announce_order_rules),
        cmocka_unit_test(draws_rules),
        cmocka_unit_test(benchmark_rules),
        cmocka_unit_test(opening_keys_round_trip),
        cmocka_unit_test(opening_form_rules),
        cmocka_unit_test(corpus_matches_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
