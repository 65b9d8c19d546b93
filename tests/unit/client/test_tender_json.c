#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/tender.h"
#include "bo/tender_json.h"

#define NOW 1790000000000LL /* 2026-09-21 */

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.via.str.size == strlen(key) &&
            memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0)
            return &kv->val;
    }
    return NULL;
}

static void relative_times(void **state)
{
    bo_time_ms t;
    assert_int_equal(bo_tender_json_time("+90s", NOW, &t), BO_E_OK);
    assert_int_equal(t, NOW + 90000);
    assert_int_equal(bo_tender_json_time("+5m", NOW, &t), BO_E_OK);
    assert_int_equal(t, NOW + 300000);
    assert_int_equal(bo_tender_json_time("+2h", NOW, &t), BO_E_OK);
    assert_int_equal(t, NOW + 7200000);
    assert_int_equal(bo_tender_json_time("+1d", NOW, &t), BO_E_OK);
    assert_int_equal(t, NOW + 86400000);
    assert_int_equal(bo_tender_json_time("+1500ms", NOW, &t), BO_E_OK);
    assert_int_equal(t, NOW + 1500);
    assert_int_equal(bo_tender_json_time("+0s", NOW, &t), BO_E_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(bo_tender_json_time("+3650d", NOW, &t), BO_E_OK);
    assert_int_equal(bo_tender_json_time("2026-11-27T10:00:00+08:00", NOW, &t), BO_E_OK);
    assert_int_equal(t, 1795744800000LL);
    const char *bad[] = {"", "+", "+s", "+5", "+5x", "+5 s", "+-5s", "-5m", "5s", "+1w",
                         "+3651d", "+99999999999999999999s", "tomorrow", "2026-11-27"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 42;
        if (bo_tender_json_time(bad[i], NOW, &t) != BO_E_BAD_FIELD)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(bo_tender_json_time(NULL, NOW, &t), BO_E_BAD_FIELD);
}

static void full_tender(void **state)
{
    const char *json =
        "{\"oid\":\"demo-1\",\"title\":\"某某道路工程施工\",\"lot\":\"一标段\","
        "\"code\":\"FJ-2026-001\",\"buyer\":\"某市交通局\",\"agency\":\"某招标代理有限公司\","
        "\"checkin_at\":\"+60s\",\"deadline\":\"+5m\",\"min_bidders\":3,\"counts_early\":true,"
        "\"decrypt_window_s\":1800,\"currency\":\"CNY\",\"tz_offset_min\":-60,"
        "\"fields\":[{\"type\":\"decimal\",\"label\":\"投标报价\",\"key\":\"price\"},"
        "{\"key\":\"duration\",\"label\":\"工期\",\"type\":\"days\"}],"
        "\"host_fpr\":\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"}";
    bo_buf out;
    bo_buf_init(&out, 4096);
    char detail[200];
    assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &out, detail, sizeof detail),
                     BO_E_OK);
    assert_string_equal(detail, "");

    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object o;
    size_t off = 0;
    assert_int_equal(msgpack_unpack((const char *)out.data, out.len, &off, &zone, &o),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, out.len);
    assert_int_equal(o.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(o.via.map.size, 15);
    /* canonical: keys strictly increasing byte-wise */
    for (uint32_t i = 1; i < o.via.map.size; i++) {
        const msgpack_object_str *a = &o.via.map.ptr[i - 1].key.via.str;
        const msgpack_object_str *b = &o.via.map.ptr[i].key.via.str;
        size_t n = a->size < b->size ? a->size : b->size;
        int c = memcmp(a->ptr, b->ptr, n);
        assert_true(c < 0 || (c == 0 && a->size < b->size));
    }
    assert_int_equal(get(&o, "deadline")->via.u64, NOW + 300000);
    assert_int_equal(get(&o, "checkin_at")->via.u64, NOW + 60000);
    assert_int_equal(get(&o, "tz_offset_min")->via.i64, -60);
    assert_int_equal(get(&o, "counts_early")->via.boolean, true);
    const msgpack_object *fpr = get(&o, "host_fpr");
    assert_int_equal(fpr->type, MSGPACK_OBJECT_BIN);
    assert_int_equal(fpr->via.bin.size, 32);
    assert_int_equal((uint8_t)fpr->via.bin.ptr[10], 0xaa);
    const msgpack_object *fields = get(&o, "fields");
    assert_int_equal(fields->via.array.size, 2);
    const msgpack_object *f0 = &fields->via.array.ptr[0];
    assert_memory_equal(f0->via.map.ptr[0].key.via.str.ptr, "key", 3); /* sorted inside too */
    assert_memory_equal(get(f0, "key")->via.str.ptr, "price", 5);
    assert_memory_equal(get(f0, "type")->via.str.ptr, "decimal", 7);

    /* shortest integer formats: 3 is a fixint, 1800 uint16, -60 int8 */
    assert_non_null(memmem(out.data, out.len, "min_bidders\x03", 12));
    assert_non_null(memmem(out.data, out.len, "decrypt_window_s\xcd\x07\x08", 19));
    assert_non_null(memmem(out.data, out.len, "tz_offset_min\xd0\xc4", 15));

    /* converting the same JSON again gives the same bytes (appended) */
    size_t first = out.len;
    assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &out, NULL, 0), BO_E_OK);
    assert_int_equal(out.len, 2 * first);
    assert_memory_equal(out.data, out.data + first, first);
    msgpack_zone_destroy(&zone);
    bo_buf_cleanup(&out);
}

static void minimal_tender(void **state)
{
    const char *json = "{\"title\":\"t\",\"deadline\":1790000600000}";
    bo_buf out;
    bo_buf_init(&out, 4096);
    assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &out, NULL, 0), BO_E_OK);
    /* {deadline: uint64, title: "t"} */
    const uint8_t want[] = {0x82, 0xa8, 'd', 'e', 'a', 'd', 'l', 'i', 'n', 'e', 0xcf, 0x00,
                            0x00, 0x01, 0xa0, 0xc4, 0x59, 0x93, 0xc0, 0xa5, 't', 'i', 't',
                            'l', 'e', 0xa1, 't'};
    assert_int_equal(out.len, sizeof(want));
    assert_memory_equal(out.data, want, sizeof(want));
    bo_buf_cleanup(&out);
}

typedef struct bad_case {
    const char *json;
    const char *detail_has;
} bad_case;

static char *repeat(const char *unit, int n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + u * (size_t)i, unit, u);
    s[u * (size_t)n] = 0;
    return s;
}

static void check_bad(const char *json, const char *detail_has)
{
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    bo_buf_append_str(&out, "xy");
    char detail[300] = "untouched";
    bo_err err = bo_tender_json_to_mp(json, strlen(json), NOW, &out, detail, sizeof detail);
    if (err != BO_E_BAD_TENDER)
        fail_msg("%s: got %s, want E_BAD_TENDER", json, bo_err_name(err));
    if (!strstr(detail, detail_has))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", json, detail, detail_has);
    assert_int_equal(out.len, 2); /* nothing appended */
    assert_int_equal(out.data[2], 0);
    bo_buf_cleanup(&out);
}

#define T(rest) "{\"title\":\"t\",\"deadline\":\"+1h\"" rest "}"

static void every_refusal(void **state)
{
    static const bad_case cases[] = {
        {"{", "(json) line 1"},
        {"[]", "(json): the tender must be a JSON object"},
        {"{\"title\":\"a\",\"title\":\"b\",\"deadline\":\"+1h\"}", "(json)"},
        {T(",\"color\":1"), "color: unknown key"},
        {"{\"deadline\":\"+1h\"}", "title: required"},
        {"{\"title\":\"t\"}", "deadline: required"},
        {"{\"title\":\"\",\"deadline\":\"+1h\"}", "title: must not be empty"},
        {"{\"title\":7,\"deadline\":\"+1h\"}", "title: must be a string"},
        {"{\"title\":\"a\\u0000b\",\"deadline\":\"+1h\"}", "(json) line 1"},
        {T(",\"lot\":null"), "lot: must be a string"},
        {T(",\"oid\":\"bad oid!\""), "oid: must match"},
        {T(",\"oid\":\"\""), "oid: must match"},
        {T(",\"oid\":12"), "oid: must match"},
        {T(",\"checkin_at\":\"tomorrow\""), "checkin_at: \"tomorrow\" is not a time"},
        {T(",\"checkin_at\":1.5"), "checkin_at: must be a time"},
        {T(",\"checkin_at\":\"+2h\""), "checkin_at: must be before deadline"},
        {T(",\"checkin_at\":\"+60m\""), "checkin_at: must be before deadline"},
        {"{\"title\":\"t\",\"deadline\":1000}", "deadline: must be in the future"},
        {"{\"title\":\"t\",\"deadline\":\"+0s\"}", "deadline: must be in the future"},
        {"{\"title\":\"t\",\"deadline\":-5}", "deadline: must not be before 1970"},
        {"{\"title\":\"t\",\"deadline\":\"-5m\"}", "deadline: \"-5m\" is not a time"},
        {"{\"title\":\"t\",\"deadline\":\"+5x\"}", "deadline: \"+5x\" is not a time"},
        {"{\"title\":\"t\",\"deadline\":true}", "deadline: must be a time"},
        {T(",\"min_bidders\":0"), "min_bidders: must be between 1 and 1000"},
        {T(",\"min_bidders\":1001"), "min_bidders: must be between 1 and 1000"},
        {T(",\"min_bidders\":\"3\""), "min_bidders: must be an integer"},
        {T(",\"min_bidders\":3.0"), "min_bidders: must be an integer"},
        {T(",\"counts_early\":\"yes\""), "counts_early: must be true or false"},
        {T(",\"decrypt_window_s\":59"), "decrypt_window_s: must be between 60 and 86400"},
        {T(",\"decrypt_window_s\":86401"), "decrypt_window_s: must be between 60 and 86400"},
        {T(",\"currency\":\"cny\""), "currency: must be an ISO 4217 code"},
        {T(",\"currency\":\"CN\""), "currency: must be an ISO 4217 code"},
        {T(",\"currency\":\"CNYY\""), "currency: must be an ISO 4217 code"},
        {T(",\"currency\":5"), "currency: must be an ISO 4217 code"},
        {T(",\"tz_offset_min\":841"), "tz_offset_min: must be between -840 and 840"},
        {T(",\"tz_offset_min\":-841"), "tz_offset_min: must be between -840 and 840"},
        {T(",\"fields\":{}"), "fields: must be an array"},
        {T(",\"fields\":[1]"), "fields[0]: must be an object"},
        {T(",\"fields\":[{\"key\":\"a\",\"label\":\"A\"}]"), "fields[0]: key, label and type"},
        {T(",\"fields\":[{\"key\":\"a\",\"label\":\"A\",\"type\":\"int\",\"x\":1}]"),
         "fields[0].x: unknown key"},
        {T(",\"fields\":[{\"key\":\"Price\",\"label\":\"A\",\"type\":\"int\"}]"),
         "fields[0].key: must match"},
        {T(",\"fields\":[{\"key\":\"\",\"label\":\"A\",\"type\":\"int\"}]"),
         "fields[0].key: must match"},
        {T(",\"fields\":[{\"key\":\"a\",\"label\":\"A\",\"type\":\"int\"},"
           "{\"key\":\"a\",\"label\":\"B\",\"type\":\"int\"}]"),
         "fields[1].key: \"a\" is used twice"},
        {T(",\"fields\":[{\"key\":\"a\",\"label\":\"\",\"type\":\"int\"}]"),
         "fields[0].label: must be 1 to 64 characters"},
        {T(",\"fields\":[{\"key\":\"a\",\"label\":\"A\",\"type\":\"money\"}]"),
         "fields[0].type: must be decimal, text, int or days"},
        {T(",\"fields\":[{\"key\":\"a\",\"label\":\"A\",\"type\":3}]"),
         "fields[0].type: must be decimal"},
        {T(",\"host_fpr\":\"0011\""), "host_fpr: must be 64 hex digits"},
        {T(",\"host_fpr\":\"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""),
         "host_fpr: must be 64 hex digits"},
        {T(",\"host_fpr\":1"), "host_fpr: must be 64 hex digits"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad(cases[i].json, cases[i].detail_has);
}

/* §11: the announcement order, draws and the benchmark formula, checked by the tender's own
 * rules (bo_tender_parse) once converted. */
static void closing_keys(void **state)
{
    const char *json =
        "{\"title\":\"某某道路工程施工\",\"checkin_at\":\"+1m\",\"deadline\":\"+5m\","
        "\"fields\":[{\"key\":\"price\",\"label\":\"投标报价\",\"type\":\"decimal\"}],"
        "\"announce_order\":\"draw:ord\","
        "\"draws\":[{\"kind\":\"coefficient\",\"id\":\"k1\",\"label\":\"下浮系数\","
        "\"values\":[\"0.95\",\"0.960\",\"0.97\"]},"
        "{\"id\":\"ord\",\"kind\":\"order\",\"label\":\"唱标顺序\"}],"
        "\"benchmark\":{\"field\":\"price\",\"trim\":1,\"trim_min\":5,"
        "\"coefficient\":\"draw:k1\",\"places\":2,\"rounding\":\"half_even\"}}";
    bo_buf out;
    bo_buf_init(&out, 1 << 16);
    char detail[300];
    assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &out, detail, sizeof detail),
                     BO_E_OK);
    bo_tender *t = malloc(sizeof(*t));
    assert_non_null(t);
    if (bo_tender_parse(out.data, out.len, NOW, t, detail, sizeof detail))
        fail_msg("bo_tender_parse: %s", detail);
    assert_int_equal(t->announce_order, BO_ORDER_DRAW);
    assert_string_equal(t->announce_draw, "ord");
    assert_int_equal(t->n_draws, 2);
    assert_string_equal(t->draws[0].id, "k1");
    assert_int_equal(t->draws[0].kind, BO_DRAW_COEFFICIENT);
    assert_int_equal(t->draws[0].n_values, 3);
    assert_int_equal(t->draws[1].kind, BO_DRAW_ORDER);
    assert_true(t->benchmark.present);
    assert_true(t->benchmark.coef_draw);
    assert_string_equal(t->benchmark.coef_id, "k1");
    assert_int_equal(t->benchmark.trim, 1);
    assert_int_equal(t->benchmark.trim_min, 5);
    assert_int_equal(t->benchmark.rounding, BO_ROUND_HALF_EVEN);
    free(t);
    /* nested maps are canonical too: in the draw "id" comes before "kind" */
    assert_non_null(memmem(out.data, out.len, "\x84\xa2id\xa2k1\xa4kind", 12));

#define T11(rest) "{\"title\":\"t\",\"checkin_at\":\"+1m\",\"deadline\":\"+1h\"" rest "}"
    static const bad_case cases[] = {
        {T11(",\"announce_order\":\"random\""), "announce_order"},
        {T11(",\"announce_order\":3"), "announce_order: must be"},
        {T11(",\"draws\":{}"), "draws: must be an array"},
        {T11(",\"draws\":[{\"id\":\"k\",\"kind\":\"coefficient\",\"label\":\"K\","
           "\"values\":[0.95,0.97]}]"),
         "draws: write decimals as strings"},
        {T11(",\"draws\":[{\"id\":\"k\",\"kind\":\"coefficient\",\"label\":\"K\","
           "\"values\":[\"0.95\"]}]"),
         "draws"},
        {T11(",\"draws\":[{\"id\":\"k\",\"kind\":null,\"label\":\"K\"}]"),
         "draws: null is not a value"},
        {T11(",\"benchmark\":[]"), "benchmark: must be an object"},
        {T11(",\"benchmark\":{\"field\":\"price\"}"), "benchmark"},
        {T11(",\"fields\":[{\"key\":\"price\",\"label\":\"P\",\"type\":\"decimal\"}],"
           "\"benchmark\":{\"field\":\"price\",\"coefficient\":0.9}"),
         "benchmark: write decimals as strings"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad(cases[i].json, cases[i].detail_has);
    bo_buf_cleanup(&out);
}

static void length_limits(void **state)
{
    struct {
        const char *key;
        int max;
    } lim[] = {{"title", 200}, {"lot", 100}, {"code", 64}, {"buyer", 200}, {"agency", 200}};
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
        for (int extra = 0; extra <= 1; extra++) {
            /* counted in characters: a CJK character is one, not three */
            char *val = repeat("标", lim[i].max + extra);
            size_t n = strlen(val) + 200;
            char *json = malloc(n);
            if (strcmp(lim[i].key, "title") == 0)
                snprintf(json, n, "{\"title\":\"%s\",\"deadline\":\"+1h\"}", val);
            else
                snprintf(json, n, "{\"title\":\"t\",\"deadline\":\"+1h\",\"%s\":\"%s\"}",
                         lim[i].key, val);
            if (extra) {
                char want[64];
                snprintf(want, sizeof want, "%s: at most %d characters", lim[i].key, lim[i].max);
                check_bad(json, want);
            } else {
                bo_buf out;
                bo_buf_init(&out, 1 << 20);
                assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &out, NULL, 0),
                                 BO_E_OK);
                bo_buf_cleanup(&out);
            }
            free(json);
            free(val);
        }
    }
    /* oid 64 ok, 65 not; label 64 characters ok, 65 not; 32 fields ok, 33 not */
    char *oid = repeat("a", 65);
    char json[20000];
    snprintf(json, sizeof json, T(",\"oid\":\"%s\""), oid);
    check_bad(json, "oid: must match");
    oid[64] = 0;
    snprintf(json, sizeof json, T(",\"oid\":\"%s\""), oid);
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &out, NULL, 0), BO_E_OK);
    free(oid);

    char *label = repeat("价", 65);
    snprintf(json, sizeof json, T(",\"fields\":[{\"key\":\"a\",\"label\":\"%s\",\"type\":\"int\"}]"),
             label);
    check_bad(json, "fields[0].label: must be 1 to 64 characters");
    free(label);

    for (int n = 32; n <= 33; n++) {
        size_t pos = (size_t)snprintf(json, sizeof json, "{\"title\":\"t\",\"deadline\":\"+1h\","
                                                         "\"fields\":[");
        for (int i = 0; i < n; i++)
            pos += (size_t)snprintf(json + pos, sizeof json - pos,
                                    "%s{\"key\":\"f%d\",\"label\":\"F\",\"type\":\"text\"}",
                                    i ? "," : "", i);
        snprintf(json + pos, sizeof json - pos, "]}");
        if (n == 33) {
            check_bad(json, "fields: at most 32 fields");
        } else {
            bo_buf_reset(&out);
            assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &out, NULL, 0),
                             BO_E_OK);
        }
    }
    bo_buf_cleanup(&out);
}

static void size_caps(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    char *big = repeat(" ", BO_TENDER_JSON_MAX + 1);
    assert_int_equal(bo_tender_json_to_mp(big, strlen(big), NOW, &out, NULL, 0), BO_E_TOO_BIG);
    free(big);
    bo_buf_cleanup(&out);

    const char *json = "{\"title\":\"a long enough title\",\"deadline\":\"+1h\"}";
    bo_buf small;
    bo_buf_init(&small, 10);
    assert_int_equal(bo_tender_json_to_mp(json, strlen(json), NOW, &small, NULL, 0),
                     BO_E_TOO_BIG);
    assert_int_equal(small.len, 0);
    bo_buf_cleanup(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_times), cmocka_unit_test(full_tender),
        cmocka_unit_test(minimal_tender), cmocka_unit_test(every_refusal),
        cmocka_unit_test(length_limits),  cmocka_unit_test(size_caps),
        cmocka_unit_test(closing_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
