#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bo/uscc.h"

static void valid_codes(void **state)
{
    assert_true(bo_uscc_valid("91350100M000100Y43"));
    assert_true(bo_uscc_valid("91110000600001760P"));
    assert_true(bo_uscc_valid("91440300708461136T"));
}

static void refused_codes(void **state)
{
    assert_false(bo_uscc_valid(NULL));
    assert_false(bo_uscc_valid(""));
    assert_false(bo_uscc_valid("91350100M000100Y44"));  /* wrong check character */
    assert_false(bo_uscc_valid("91350100M000100Y4"));   /* 17 characters */
    assert_false(bo_uscc_valid("91350100M000100Y433")); /* 19 characters */
    assert_false(bo_uscc_valid("91350100m000100Y43"));  /* lower case */
    assert_false(bo_uscc_valid("91350100I000100Y43"));  /* I is not in the charset */
    assert_false(bo_uscc_valid("91350100M000100Y4O"));  /* O as check character */
    assert_false(bo_uscc_valid("911100001000000000"));  /* all-zero check where R is due */
}

static void complete(void **state)
{
    char out[BO_USCC_LEN + 1];
    assert_int_equal(bo_uscc_complete("91350100M000100Y4", out), BO_E_OK);
    assert_string_equal(out, "91350100M000100Y43");
    assert_int_equal(bo_uscc_complete("91110000100000000", out), BO_E_OK);
    assert_string_equal(out, "91110000100000000R");
    assert_true(bo_uscc_valid(out));
    assert_int_equal(bo_uscc_complete("9111000010000000", out), BO_E_INVALID_ARG);
    assert_string_equal(out, "");
    assert_int_equal(bo_uscc_complete("911100001000000000", out), BO_E_INVALID_ARG);
    assert_int_equal(bo_uscc_complete("9111000010000000Z", out), BO_E_INVALID_ARG);
    assert_int_equal(bo_uscc_complete(NULL, out), BO_E_INVALID_ARG);
}

/* Every check value 0..30 can occur, including the 31 -> 0 wrap: vary the last character and
 * check that exactly one check character validates each code. */
static void every_check_value(void **state)
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    int seen[31] = {0};
    char base[18] = "9135010000000000";
    for (int a = 0; a < 31; a++) {
        for (int b = 0; b < 31; b++) {
            base[15] = cs[a];
            base[16] = cs[b];
            base[17] = '\0';
            char out[BO_USCC_LEN + 1];
            assert_int_equal(bo_uscc_complete(base, out), BO_E_OK);
            seen[strchr(cs, out[17]) - cs]++;
            int ok = 0;
            for (int c = 0; c < 31; c++) {
                out[17] = cs[c];
                ok += bo_uscc_valid(out);
            }
            assert_int_equal(ok, 1);
        }
    }
    for (int i = 0; i < 31; i++)
        assert_true(seen[i] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_codes),
        cmocka_unit_test(refused_codes),
        cmocka_unit_test(complete),
        cmocka_unit_test(every_check_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
