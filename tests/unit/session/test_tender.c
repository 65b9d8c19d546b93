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
        cmocka_unit_test(corpus_matches_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
