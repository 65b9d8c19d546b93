/* Tests for exact decimals: the written syntax, text forms, comparison, arithmetic and
 * rounding, with hand-computed values (ties, negative values, the edges of the range). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bo/decimal.h"

static bo_decimal dec(const char *s)
{
    bo_decimal d;
    if (bo_decimal_parse(s, strlen(s), &d) != BO_E_OK)
        fail_msg("\"%s\" does not parse", s);
    return d;
}

/* The text of d at its scale, in a static buffer. */
static const char *text(const bo_decimal *d)
{
    static char buf[BO_DECIMAL_STR_MAX];
    assert_int_equal(bo_decimal_format(d, buf, sizeof(buf)), BO_E_OK);
    return buf;
}

static void is(const bo_decimal *d, const char *want)
{
    const char *got = text(d);
    if (strcmp(got, want))
        fail_msg("got %s, want %s", got, want);
}

/* 10^k as __int128. */
static __int128 p10(unsigned k)
{
    __int128 p = 1;
    while (k--)
        p *= 10;
    return p;
}

/* ------------------------------------------------------------------ syntax ---- */

static void parse_syntax(void **state)
{
    static const struct {
        const char *s;
        const char *text; /* at its own scale */
        unsigned scale;
    } good[] = {
        {"0", "0", 0},
        {"-0", "0", 0},
        {"7", "7", 0},
        {"007.50", "7.50", 2},
        {"-12.5", "-12.5", 1},
        {"1234567.89", "1234567.89", 2},
        {"0.000001", "0.000001", 6},
        {"-0.000001", "-0.000001", 6},
        {"123456789012345678", "123456789012345678", 0},
        {"999999999999999999.999999", "999999999999999999.999999", 6},
        {"-999999999999999999.999999", "-999999999999999999.999999", 6},
        {"000000000000000001", "1", 0}, /* 18 digits as written */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        bo_decimal d = dec(good[i].s);
        assert_int_equal(d.scale, good[i].scale);
        is(&d, good[i].text);
        assert_true(bo_decimal_valid(good[i].s, strlen(good[i].s)));
    }
    static const char *const bad[] = {
        "",          "-",          "+1",       ".5",         "5.",      "-.5",
        "1e3",       " 1",         "1 ",       "1.2.3",      "--1",     "1,5",
        "0x10",      "1.-2",       "١٢",       "1234567890123456789",   /* 19 digits */
        "0000000000000000001",     "1.1234567", /* 7 after the point */
        "NaN",       "inf",        "-1.",      "1..2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bo_decimal d = {42, 0};
        if (bo_decimal_parse(bad[i], strlen(bad[i]), &d) != BO_E_BAD_FIELD)
            fail_msg("\"%s\" parses", bad[i]);
        assert_false(bo_decimal_valid(bad[i], strlen(bad[i])));
    }
    bo_decimal d;
    assert_int_equal(bo_decimal_parse("12\0" "3", 4, &d), BO_E_BAD_FIELD); /* a NUL inside */
    assert_int_equal(bo_decimal_parse("123", 2, &d), BO_E_OK);           /* len is the end */
    is(&d, "12");
    assert_int_equal(bo_decimal_parse(NULL, 0, &d), BO_E_BAD_FIELD);
}

static void text_forms(void **state)
{
    bo_decimal d = {150, 2};
    is(&d, "1.50");
    d = (bo_decimal){-5, 1};
    is(&d, "-0.5");
    d = (bo_decimal){5, 3};
    is(&d, "0.005");
    d = (bo_decimal){0, 2};
    is(&d, "0.00");
    d = (bo_decimal){-7, 0};
    is(&d, "-7");
    d = (bo_decimal){p10(38) - 1, 18};
    is(&d, "99999999999999999999.999999999999999999");
    d.v = -d.v;
    is(&d, "-99999999999999999999.999999999999999999");
    d = (bo_decimal){-(p10(38) - 1), 0};
    is(&d, "-99999999999999999999999999999999999999"); /* 38 nines: the longest */
    assert_true(strlen(text(&d)) + 1 <= BO_DECIMAL_STR_MAX);

    char small[5];
    d = (bo_decimal){12345, 2};
    assert_int_equal(bo_decimal_format(&d, small, sizeof(small)), BO_E_TOO_BIG); /* 123.45 */
    d = (bo_decimal){1234, 2};
    assert_int_equal(bo_decimal_format(&d, small, sizeof(small)), BO_E_TOO_BIG); /* 12.34\0 */
    d = (bo_decimal){123, 2};
    assert_int_equal(bo_decimal_format(&d, small, sizeof(small)), BO_E_OK);
    assert_string_equal(small, "1.23");
    d = (bo_decimal){1, 19}; /* scale out of range */
    assert_int_equal(bo_decimal_format(&d, small, sizeof(small)), BO_E_INVALID_ARG);
    d = (bo_decimal){p10(38), 0}; /* value out of range */
    char buf[BO_DECIMAL_STR_MAX];
    assert_int_equal(bo_decimal_format(&d, buf, sizeof(buf)), BO_E_INVALID_ARG);

    /* canonical: the smallest scale */
    static const char *const canon[][2] = {
        {"0950.500", "950.5"}, {"-0.00", "0"},      {"2.00", "2"},     {"1.5", "1.5"},
        {"-10.010", "-10.01"}, {"100", "100"},      {"0.000100", "0.0001"},
    };
    for (size_t i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
        d = dec(canon[i][0]);
        assert_int_equal(bo_decimal_canonical(&d, buf, sizeof(buf)), BO_E_OK);
        assert_string_equal(buf, canon[i][1]);
        /* the canonical text parses to itself */
        bo_decimal e = dec(buf);
        char again[BO_DECIMAL_STR_MAX];
        assert_int_equal(bo_decimal_canonical(&e, again, sizeof(again)), BO_E_OK);
        assert_string_equal(again, buf);
    }
    d = bo_decimal_from_int(-42);
    is(&d, "-42");
    d = bo_decimal_from_int(INT64_MAX);
    is(&d, "9223372036854775807");
}

/* -------------------------------------------------------------- arithmetic ---- */

static void compare(void **state)
{
    bo_decimal a = dec("1.5"), b = dec("1.50"), c = dec("-1"), z = dec("0"), nz = dec("-0.000");
    assert_int_equal(bo_decimal_cmp(&a, &b), 0);
    assert_int_equal(bo_decimal_cmp(&c, &a), -1);
    assert_int_equal(bo_decimal_cmp(&a, &c), 1);
    assert_int_equal(bo_decimal_cmp(&z, &nz), 0);
    bo_decimal x = dec("0.000001");
    assert_int_equal(bo_decimal_cmp(&x, &z), 1);
    bo_decimal p = dec("-999999999999999999.999999"), q = dec("-999999999999999999.999998");
    assert_int_equal(bo_decimal_cmp(&p, &q), -1);
    /* far apart in scale: one side leaves the range when aligned */
    bo_decimal big = {p10(37), 0}, tiny = {1, 18}, nbig = {-p10(37), 0};
    assert_int_equal(bo_decimal_cmp(&big, &tiny), 1);
    assert_int_equal(bo_decimal_cmp(&tiny, &big), -1);
    assert_int_equal(bo_decimal_cmp(&nbig, &tiny), -1);
    assert_int_equal(bo_decimal_cmp(&tiny, &nbig), 1);
}

static void add_and_multiply(void **state)
{
    bo_decimal a = dec("1.5"), b = dec("2.25"), r;
    assert_int_equal(bo_decimal_add(&a, &b, &r), BO_E_OK);
    is(&r, "3.75");
    a = dec("-1.5"), b = dec("1.25");
    assert_int_equal(bo_decimal_add(&a, &b, &r), BO_E_OK);
    is(&r, "-0.25");
    a = dec("999999999999999999.999999"), b = dec("0.000001");
    assert_int_equal(bo_decimal_add(&a, &b, &r), BO_E_OK);
    is(&r, "1000000000000000000.000000"); /* sums may pass the written syntax */
    a = (bo_decimal){p10(38) - 1, 0}, b = dec("1");
    assert_int_equal(bo_decimal_add(&a, &b, &r), BO_E_TOO_BIG);
    a.v = -a.v, b = dec("-1");
    assert_int_equal(bo_decimal_add(&a, &b, &r), BO_E_TOO_BIG);
    a = (bo_decimal){p10(37), 0}, b = (bo_decimal){1, 18}; /* aligning overflows */
    assert_int_equal(bo_decimal_add(&a, &b, &r), BO_E_TOO_BIG);

    a = dec("1234567.89"), b = dec("0.95");
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_OK);
    is(&r, "1172839.4955"); /* 123456789 * 95 = 11728394955 */
    a = dec("-2.5"), b = dec("0.4");
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_OK);
    is(&r, "-1.00");
    a = dec("-3"), b = dec("-0.5");
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_OK);
    is(&r, "1.5");
    a = (bo_decimal){p10(20), 0}, b = (bo_decimal){p10(18), 0};
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_TOO_BIG); /* 10^38 */
    a = (bo_decimal){p10(19), 0}, b = (bo_decimal){p10(19) - 1, 0};
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_OK); /* 10^38 - 10^19 */
    a = (bo_decimal){p10(30), 0}, b = (bo_decimal){p10(30), 0};
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_TOO_BIG); /* wraps a 128-bit product */
    a = (bo_decimal){1, 10}, b = (bo_decimal){1, 10};
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_TOO_BIG); /* 20 places */
    a = (bo_decimal){100, 10}, b = (bo_decimal){100, 10};
    assert_int_equal(bo_decimal_mul(&a, &b, &r), BO_E_OK); /* 10^-16 after dropping zeros */
    assert_int_equal(r.scale, 16);
    is(&r, "0.0000000000000001");
    bo_decimal bad = {1, 19};
    assert_int_equal(bo_decimal_mul(&bad, &b, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_decimal_add(&bad, &b, &r), BO_E_INVALID_ARG);
}

/* Rounds a/d to places by each mode and checks the three results. */
static void div3(const char *a, int64_t d, unsigned places, const char *half_up,
                 const char *half_even, const char *down)
{
    static const bo_rounding modes[] = {BO_ROUND_HALF_UP, BO_ROUND_HALF_EVEN, BO_ROUND_DOWN};
    const char *want[] = {half_up, half_even, down};
    bo_decimal x = dec(a), r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bo_decimal_div_int(&x, d, places, modes[i], &r), BO_E_OK);
        assert_int_equal(r.scale, places);
        if (strcmp(text(&r), want[i]))
            fail_msg("%s / %lld to %u places %s: got %s, want %s", a, (long long)d, places,
                     bo_rounding_name(modes[i]), text(&r), want[i]);
    }
}

static void divide_and_round(void **state)
{
    /*   a         d   places  half_up     half_even    down */
    div3("2",      3,  2,      "0.67",     "0.67",      "0.66");
    div3("1",      8,  2,      "0.13",     "0.12",      "0.12"); /* 0.125: a tie */
    div3("3",      8,  2,      "0.38",     "0.38",      "0.37"); /* 0.375 */
    div3("-1",     8,  2,      "-0.13",    "-0.12",     "-0.12");
    div3("1",      -8, 2,      "-0.13",    "-0.12",     "-0.12");
    div3("-1",     -8, 2,      "0.13",     "0.12",      "0.12");
    div3("-2",     3,  2,      "-0.67",    "-0.67",     "-0.66");
    div3("601",    3,  0,      "200",      "200",       "200");
    div3("600.5",  2,  1,      "300.3",    "300.2",     "300.2"); /* 300.25 */
    div3("600.7",  2,  1,      "300.4",    "300.4",     "300.3"); /* 300.35 */
    div3("570.95", 3,  2,      "190.32",   "190.32",    "190.31"); /* 190.31666... */
    div3("10",     4,  0,      "3",        "2",         "2");      /* 2.5 */
    div3("14",     4,  0,      "4",        "4",         "3");      /* 3.5 */
    div3("7",      1,  3,      "7.000",    "7.000",     "7.000");
    div3("0.000001", 2, 6,     "0.000001", "0.000000",  "0.000000");
    div3("0",      7,  2,      "0.00",     "0.00",      "0.00");
    /* the exact quotient decides, never an intermediate rounding */
    div3("10.000001", 3, 6,    "3.333334", "3.333334",  "3.333333"); /* 3.3333336666... */

    bo_decimal x = dec("1"), r;
    assert_int_equal(bo_decimal_div_int(&x, 0, 2, BO_ROUND_HALF_UP, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_decimal_div_int(&x, 3, 19, BO_ROUND_HALF_UP, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_decimal_div_int(&x, 3, 2, (bo_rounding)0, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_decimal_div_int(&x, INT64_MIN, 18, BO_ROUND_HALF_UP, &r), BO_E_OK);
    is(&r, "0.000000000000000000"); /* -1.08e-19 rounds to zero, which has no sign */
    assert_int_equal(bo_decimal_cmp(&r, &(bo_decimal){0, 0}), 0);
    x = (bo_decimal){p10(37), 0};
    assert_int_equal(bo_decimal_div_int(&x, 1, 2, BO_ROUND_DOWN, &r), BO_E_TOO_BIG);
    x = (bo_decimal){p10(38) - 1, 0};
    assert_int_equal(bo_decimal_div_int(&x, 1, 0, BO_ROUND_DOWN, &r), BO_E_OK);
    x = (bo_decimal){p10(38) - 1, 1}; /* 9.99..9 (37 nines after the point) */
    assert_int_equal(bo_decimal_div_int(&x, 1, 0, BO_ROUND_HALF_UP, &r), BO_E_OK);
}

static void round_to_places(void **state)
{
    static const struct {
        const char *a;
        unsigned places;
        bo_rounding r;
        const char *want;
    } cases[] = {
        {"2.5", 0, BO_ROUND_HALF_UP, "3"},      {"2.5", 0, BO_ROUND_HALF_EVEN, "2"},
        {"2.5", 0, BO_ROUND_DOWN, "2"},         {"3.5", 0, BO_ROUND_HALF_EVEN, "4"},
        {"-2.5", 0, BO_ROUND_HALF_UP, "-3"},    {"-2.5", 0, BO_ROUND_HALF_EVEN, "-2"},
        {"-2.5", 0, BO_ROUND_DOWN, "-2"},       {"-3.5", 0, BO_ROUND_HALF_EVEN, "-4"},
        {"2.5", 2, BO_ROUND_DOWN, "2.50"},      {"1.005", 2, BO_ROUND_HALF_UP, "1.01"},
        {"1.005", 2, BO_ROUND_HALF_EVEN, "1.00"}, {"1.015", 2, BO_ROUND_HALF_EVEN, "1.02"},
        {"-2.59", 1, BO_ROUND_DOWN, "-2.5"},    {"-2.59", 1, BO_ROUND_HALF_UP, "-2.6"},
        {"2.4999", 0, BO_ROUND_HALF_UP, "2"},   {"0.5", 0, BO_ROUND_HALF_EVEN, "0"},
        {"1190316.666666", 2, BO_ROUND_HALF_UP, "1190316.67"},
        {"999999999999999999.999999", 0, BO_ROUND_HALF_UP, "1000000000000000000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bo_decimal a = dec(cases[i].a), r;
        assert_int_equal(bo_decimal_round(&a, cases[i].places, cases[i].r, &r), BO_E_OK);
        if (strcmp(text(&r), cases[i].want))
            fail_msg("%s to %u places %s: got %s, want %s", cases[i].a, cases[i].places,
                     bo_rounding_name(cases[i].r), text(&r), cases[i].want);
    }
    bo_decimal a = (bo_decimal){p10(38) - 1, 0}, r;
    assert_int_equal(bo_decimal_round(&a, 1, BO_ROUND_HALF_UP, &r), BO_E_TOO_BIG);
    a = (bo_decimal){p10(38) - 1, 1};
    assert_int_equal(bo_decimal_round(&a, 0, BO_ROUND_HALF_UP, &r), BO_E_OK);
    is(&r, "10000000000000000000000000000000000000"); /* 10^37 */
}

static void rounding_names(void **state)
{
    bo_rounding r;
    static const char *const names[] = {"half_up", "half_even", "down"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bo_rounding_parse(names[i], &r), BO_E_OK);
        assert_int_equal(r, BO_ROUND_HALF_UP + i);
        assert_string_equal(bo_rounding_name(r), names[i]);
    }
    assert_int_equal(bo_rounding_parse("up", &r), BO_E_BAD_FIELD);
    assert_int_equal(bo_rounding_parse("HALF_UP", &r), BO_E_BAD_FIELD);
    assert_int_equal(bo_rounding_parse(NULL, &r), BO_E_BAD_FIELD);
    assert_null(bo_rounding_name((bo_rounding)0));
    assert_null(bo_rounding_name((bo_rounding)4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_syntax),     cmocka_unit_test(text_forms),
        cmocka_unit_test(compare),          cmocka_unit_test(add_and_multiply),
        cmocka_unit_test(divide_and_round), cmocka_unit_test(round_to_places),
        cmocka_unit_test(rounding_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
