#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <msgpack.h>
#include <string.h>

#include "bo/mpjson.h"

/* Pack with msgpack-c, convert, compare with the expected text. */
static void expect_ex(msgpack_sbuffer *sb, const char *want, bool check_json)
{
    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object obj;
    size_t off = 0;
    assert_int_equal(msgpack_unpack(sb->data, sb->size, &off, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    assert_int_equal(bo_mpjson_append(&out, &obj), BO_E_OK);
    assert_string_equal((const char *)out.data, want);
    /* and it is JSON (jansson cannot hold integers beyond int64, so those are skipped) */
    json_error_t jerr;
    if (!check_json)
        goto done;
    json_t *j = json_loadb((const char *)out.data, out.len, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("not JSON: %s (%s)", (const char *)out.data, jerr.text);
    json_decref(j);
done:
    bo_buf_cleanup(&out);
    msgpack_zone_destroy(&zone);
    msgpack_sbuffer_clear(sb);
}

static void expect(msgpack_sbuffer *sb, const char *want)
{
    expect_ex(sb, want, true);
}

static void pstr(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void scalars_and_containers(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    msgpack_pack_nil(&pk);
    expect(&sb, "null");
    msgpack_pack_true(&pk);
    expect(&sb, "true");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    expect_ex(&sb, "18446744073709551615", false);
    msgpack_pack_int64(&pk, INT64_MIN);
    expect(&sb, "-9223372036854775808");
    msgpack_pack_double(&pk, 0.5);
    expect(&sb, "0.5");
    msgpack_pack_double(&pk, NAN);
    expect(&sb, "null");
    msgpack_pack_bin(&pk, 3);
    msgpack_pack_bin_body(&pk, "\x00\xab\xff", 3);
    expect(&sb, "\"00abff\"");
    msgpack_pack_ext(&pk, 1, 5);
    msgpack_pack_ext_body(&pk, "\x01", 1);
    expect(&sb, "\"01\"");
    pstr(&pk, "签到 \"q\"\n\\");
    expect(&sb, "\"签到 \\\"q\\\"\\u000a\\\\\"");
    msgpack_pack_str(&pk, 3);
    msgpack_pack_str_body(&pk, "a\xff" "b", 3);
    expect(&sb, "\"a\xEF\xBF\xBD" "b\"");

    msgpack_pack_map(&pk, 3);
    pstr(&pk, "t");
    pstr(&pk, "ev");
    pstr(&pk, "arr");
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_int(&pk, 7); /* a non-string key */
    msgpack_pack_false(&pk);
    expect(&sb, "{\"t\":\"ev\",\"arr\":[1,[],{}],\"7\":false}");

    msgpack_sbuffer_destroy(&sb);
}

static void depth_and_cap(void **state)
{
    /* msgpack-c's unpacker stops at 32 levels, so the chain is built by hand */
    msgpack_object chain[BO_MPJSON_MAX_DEPTH + 2];
    for (int i = 0; i < BO_MPJSON_MAX_DEPTH + 1; i++) {
        chain[i].type = MSGPACK_OBJECT_ARRAY;
        chain[i].via.array.size = 1;
        chain[i].via.array.ptr = &chain[i + 1];
    }
    chain[BO_MPJSON_MAX_DEPTH + 1].type = MSGPACK_OBJECT_NIL;

    bo_buf out;
    bo_buf_init(&out, 4096);
    assert_int_equal(bo_mpjson_append(&out, &chain[0]), BO_E_TOO_DEEP);
    /* one level less is fine */
    bo_buf_reset(&out);
    assert_int_equal(bo_mpjson_append(&out, &chain[1]), BO_E_OK);
    assert_int_equal(out.len, 2 * BO_MPJSON_MAX_DEPTH + 4);
    /* an output cap is honoured */
    bo_buf small;
    bo_buf_init(&small, 10);
    assert_int_equal(bo_mpjson_append(&small, &chain[1]), BO_E_TOO_BIG);
    bo_buf_cleanup(&small);
    bo_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalars_and_containers),
        cmocka_unit_test(depth_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
