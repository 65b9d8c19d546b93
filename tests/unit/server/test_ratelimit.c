#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bo_ratelimit.h"

static void burst_then_rate(void **state)
{
    bo_tbucket b;
    bo_tbucket_init(&b, 20, 40, 1000);
    int ok = 0;
    for (int i = 0; i < 100; i++)
        ok += bo_tbucket_take(&b, 1000);
    assert_int_equal(ok, 40); /* the burst, then nothing at the same instant */
    /* 500 ms later: 10 more tokens */
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += bo_tbucket_take(&b, 1500);
    assert_int_equal(ok, 10);
    /* a long pause refills only up to the burst */
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += bo_tbucket_take(&b, 100000);
    assert_int_equal(ok, 40);
    /* time going backwards grants nothing */
    assert_false(bo_tbucket_take(&b, 50));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(burst_then_rate)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
