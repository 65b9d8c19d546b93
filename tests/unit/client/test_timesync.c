#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>

#include "bo/timesync.h"

static void formulas(void **state)
{
    int64_t off, rtt;
    /* server 1000 ms ahead, 20 ms each way, 5 ms in the server */
    assert_int_equal(bo_timesync_compute(10000, 11020, 11025, 10045, &off, &rtt), BO_E_OK);
    assert_int_equal(off, 1000);
    assert_int_equal(rtt, 40);
    /* server behind */
    assert_int_equal(bo_timesync_compute(50000, 20010, 20010, 50020, &off, &rtt), BO_E_OK);
    assert_int_equal(off, -30000);
    assert_int_equal(rtt, 20);
    /* asymmetric: 30 ms out, 10 ms back: the error is half the asymmetry */
    assert_int_equal(bo_timesync_compute(0, 30, 30, 40, &off, &rtt), BO_E_OK);
    assert_int_equal(off, 10);
    assert_int_equal(rtt, 40);
    /* odd sums round down, for either sign */
    assert_int_equal(bo_timesync_compute(0, 1, 1, 1, &off, &rtt), BO_E_OK);
    assert_int_equal(off, 0);
    assert_int_equal(bo_timesync_compute(0, 0, 0, 1, &off, &rtt), BO_E_OK);
    assert_int_equal(off, -1);
    /* impossible exchanges */
    assert_int_equal(bo_timesync_compute(100, 50, 40, 120, &off, &rtt), BO_E_BAD_FIELD);
    assert_int_equal(bo_timesync_compute(100, 50, 60, 90, &off, &rtt), BO_E_BAD_FIELD);
    assert_int_equal(bo_timesync_compute(100, 0, 50, 120, &off, &rtt), BO_E_BAD_FIELD);
}

static void min_rtt_filter(void **state)
{
    bo_timesync ts;
    bo_timesync_init(&ts);
    assert_false(ts.have);
    assert_int_equal(bo_timesync_server_time(&ts, 1234), 1234);

    bo_timesync_hint(&ts, 5000, 4000);
    assert_true(ts.have);
    assert_int_equal(ts.offset_ms, 1000);
    assert_int_equal(ts.rtt_ms, -1);

    /* a sample replaces the hint; a later hint does not replace a sample */
    assert_int_equal(bo_timesync_add(&ts, 0, 1100, 1100, 200), BO_E_OK); /* off 1000, rtt 200 */
    assert_int_equal(ts.offset_ms, 1000);
    bo_timesync_hint(&ts, 99999, 0);
    assert_int_equal(ts.offset_ms, 1000);

    /* a better (shorter) round trip wins, a worse one does not */
    assert_int_equal(bo_timesync_add(&ts, 1000, 2005, 2005, 1010), BO_E_OK); /* 1000, rtt 10 */
    assert_int_equal(bo_timesync_add(&ts, 2000, 3500, 3500, 2600), BO_E_OK); /* 1200, rtt 600 */
    assert_int_equal(ts.offset_ms, 1000);
    assert_int_equal(ts.rtt_ms, 10);
    assert_int_equal(bo_timesync_server_time(&ts, 7000), 8000);

    /* a bad sample changes nothing */
    assert_int_equal(bo_timesync_add(&ts, 10, 5, 4, 20), BO_E_BAD_FIELD);
    assert_int_equal(ts.n, 3);

    /* the best sample ages out of the window */
    for (int i = 0; i < BO_TIMESYNC_WINDOW; i++)
        assert_int_equal(bo_timesync_add(&ts, 0, 1520, 1520, 40), BO_E_OK); /* 1500, rtt 40 */
    assert_int_equal(ts.n, BO_TIMESYNC_WINDOW);
    assert_int_equal(ts.offset_ms, 1500);
    assert_int_equal(ts.rtt_ms, 40);

    /* after a reconnect the estimate stays until the new node answers */
    bo_timesync_forget(&ts);
    assert_int_equal(ts.offset_ms, 1500);
    bo_timesync_hint(&ts, 10000, 9000);
    assert_int_equal(ts.offset_ms, 1000);
    assert_int_equal(bo_timesync_add(&ts, 0, 2000, 2000, 100), BO_E_OK);
    assert_int_equal(ts.offset_ms, 1950);
    assert_int_equal(ts.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formulas),
        cmocka_unit_test(min_rtt_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
