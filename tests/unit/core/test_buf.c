#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "bo/buf.h"

static void cap_is_exact(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 8);
    assert_int_equal(bo_buf_append(&b, "12345678", 8), BO_E_OK);
    assert_int_equal(b.len, 8);
    assert_int_equal(bo_buf_append(&b, "9", 1), BO_E_TOO_BIG);
    assert_int_equal(b.len, 8); /* unchanged on refusal */
    assert_memory_equal(b.data, "12345678", 8);
    assert_int_equal(b.data[8], 0);
    bo_buf_cleanup(&b);
}

static void appendf_and_steal(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 1024);
    assert_int_equal(bo_buf_appendf(&b, "%s-%d", "seq", 42), BO_E_OK);
    assert_string_equal((char *)b.data, "seq-42");
    assert_int_equal(bo_buf_appendf(&b, "%0900d", 1), BO_E_OK);
    assert_int_equal(bo_buf_appendf(&b, "%0200d", 1), BO_E_TOO_BIG);
    size_t len;
    uint8_t *p = bo_buf_steal(&b, &len);
    assert_int_equal(len, 906);
    assert_null(b.data);
    free(p);
    bo_buf_cleanup(&b);
}

static void zero_cap_and_overflow(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 0);
    assert_int_equal(bo_buf_append(&b, "", 0), BO_E_OK);
    assert_int_equal(bo_buf_append(&b, "x", 1), BO_E_TOO_BIG);
    bo_buf_cleanup(&b);
    uint8_t *dst;
    bo_buf_init(&b, 16);
    assert_int_equal(bo_buf_reserve(&b, SIZE_MAX, &dst), BO_E_TOO_BIG);
    assert_null(dst);
    bo_buf_cleanup_wipe(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cap_is_exact),
        cmocka_unit_test(appendf_and_steal),
        cmocka_unit_test(zero_cap_and_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
