#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bo/clock.h"

static void parse_forms(void **state)
{
    bo_time_ms t;
    assert_int_equal(bo_time_parse_rfc3339("1970-01-01T00:00:00Z", &t), BO_E_OK);
    assert_int_equal(t, 0);
    assert_int_equal(bo_time_parse_rfc3339("2026-11-27T10:00:00+08:00", &t), BO_E_OK);
    bo_time_ms t2;
    assert_int_equal(bo_time_parse_rfc3339("2026-11-27T02:00:00.000Z", &t2), BO_E_OK);
    assert_int_equal(t, t2);
    assert_int_equal(bo_time_parse_rfc3339("2026-11-27T02:00:00.5Z", &t2), BO_E_OK);
    assert_int_equal(t2 - t, 500);
    assert_int_equal(bo_time_parse_rfc3339("2024-02-29T00:00:00Z", &t), BO_E_OK);
}

static void parse_refusals(void **state)
{
    bo_time_ms t = 7;
    const char *bad[] = {"",
                         "2026-11-27",
                         "2026-11-27T10:00:00",
                         "2026-13-01T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2026-11-27T24:00:00Z",
                         "2026-11-27T10:00:00+8:00",
                         "2026-11-27T10:00:00Zjunk",
                         "2026-11-27T10:00:00.Z",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(bo_time_parse_rfc3339(bad[i], &t), BO_E_BAD_FIELD);
    assert_int_equal(t, 7);
}

static void format_round_trip(void **state)
{
    char buf[40];
    bo_time_ms t = 1795744800123LL;
    bo_time_format_rfc3339(t, buf, sizeof buf);
    bo_time_ms back;
    assert_int_equal(bo_time_parse_rfc3339(buf, &back), BO_E_OK);
    assert_int_equal(back, t);
    bo_time_format_local(0, 480, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T08:00:00+08:00");
    assert_string_equal(bo_duration_format(3723000, buf, sizeof buf), "1:02:03");
    assert_string_equal(bo_duration_format(1, buf, sizeof buf), "00:01");
    assert_string_equal(bo_duration_format(-5, buf, sizeof buf), "00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_forms),
        cmocka_unit_test(parse_refusals),
        cmocka_unit_test(format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
