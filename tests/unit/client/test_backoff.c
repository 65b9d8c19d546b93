#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>

#include "bo/backoff.h"

static void ceiling_doubles_to_cap(void **state)
{
    bo_backoff b;
    bo_backoff_init(&b, 0, 0);
    assert_int_equal(b.min_ms, 500);
    assert_int_equal(b.max_ms, 20000);
    const uint32_t want[] = {500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(bo_backoff_ceiling(&b), want[i]);
        bo_backoff_next(&b, 0);
    }
    /* a long outage must not overflow the doubling */
    b.attempt = UINT32_MAX - 1;
    assert_int_equal(bo_backoff_ceiling(&b), 20000);
    bo_backoff_next(&b, 0);
    bo_backoff_next(&b, 0);
    assert_int_equal(b.attempt, UINT32_MAX);
    assert_int_equal(bo_backoff_ceiling(&b), 20000);
}

static void full_jitter_bounds(void **state)
{
    bo_backoff b;
    bo_backoff_init(&b, 500, 20000);
    assert_int_equal(bo_backoff_next(&b, 0), 0);               /* full jitter reaches 0 */
    assert_int_equal(bo_backoff_next(&b, UINT32_MAX), 1000);   /* ... and the ceiling */
    assert_int_equal(bo_backoff_next(&b, UINT32_MAX / 2), 1000); /* middle of [0, 2000] */

    /* many draws from a PRNG: all inside [0, ceiling], spread over the whole window */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (unsigned attempt = 0; attempt < 8; attempt++) {
        uint64_t sum = 0;
        unsigned low = 0, high = 0;
        const unsigned n = 4000;
        uint32_t ceiling = 0;
        for (unsigned i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.attempt = attempt;
            ceiling = bo_backoff_ceiling(&b);
            uint32_t d = bo_backoff_next(&b, (uint32_t)(x >> 32));
            assert_true(d <= ceiling);
            sum += d;
            low += d < ceiling / 4;
            high += d > ceiling / 4 * 3;
        }
        uint64_t mean = sum / n;
        assert_in_range(mean, ceiling * 45 / 100, ceiling * 55 / 100);
        assert_true(low > n / 5 && high > n / 5);
    }
}

static void stable_minute_resets(void **state)
{
    bo_backoff b;
    bo_backoff_init(&b, 500, 20000);
    for (int i = 0; i < 5; i++)
        bo_backoff_next(&b, 0);
    assert_int_equal(bo_backoff_ceiling(&b), 16000);

    bo_backoff_up(&b, 1000);
    assert_false(bo_backoff_down(&b, 1000 + 59999)); /* flapping: keeps backing off */
    assert_int_equal(bo_backoff_ceiling(&b), 16000);

    bo_backoff_up(&b, 100000);
    assert_true(bo_backoff_down(&b, 160000)); /* a stable minute */
    assert_int_equal(bo_backoff_ceiling(&b), 500);
    assert_int_equal(b.up_since, -1);

    /* down without up (a failed connect) never resets */
    bo_backoff_next(&b, 0);
    assert_false(bo_backoff_down(&b, 10000000));
    assert_int_equal(bo_backoff_ceiling(&b), 1000);
    bo_backoff_reset(&b);
    assert_int_equal(bo_backoff_ceiling(&b), 500);
}

static void custom_bounds(void **state)
{
    bo_backoff b;
    bo_backoff_init(&b, 100, 50); /* max below min is raised */
    assert_int_equal(b.max_ms, 100);
    assert_int_equal(bo_backoff_next(&b, UINT32_MAX), 100);
    assert_int_equal(bo_backoff_next(&b, UINT32_MAX), 100);
    bo_backoff_init(&b, 10, 0);
    assert_int_equal(b.max_ms, 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ceiling_doubles_to_cap),
        cmocka_unit_test(full_jitter_bounds),
        cmocka_unit_test(stable_minute_resets),
        cmocka_unit_test(custom_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
