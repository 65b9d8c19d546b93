#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bo/buf.h"
#include "bo/json_esc.h"
#include "bo/utf8.h"

static void valid_and_invalid(void **state)
{
    assert_true(bo_utf8_valid("abc", 3));
    assert_true(bo_utf8_valid("开标", strlen("开标")));
    assert_int_equal(bo_utf8_count("开标", strlen("开标")), 2);
    assert_false(bo_utf8_valid("\xC0\xAF", 2));         /* overlong */
    assert_false(bo_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(bo_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(bo_utf8_valid("\xE5\xBC", 2));         /* truncated */
    assert_false(bo_utf8_valid("a\0b", 3));             /* NUL */
}

static void json_escape(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 256);
    assert_int_equal(bo_json_esc_append_n(&b, "a\"\\\n\x01\xff开", 9), BO_E_OK);
    assert_string_equal((char *)b.data, "\"a\\\"\\\\\\u000a\\u0001\xEF\xBF\xBD开\"");
    bo_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_and_invalid),
        cmocka_unit_test(json_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
