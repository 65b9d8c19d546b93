#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bo/err.h"

static void names_round_trip(void **state)
{
    bo_err e;
    for (unsigned i = 0; bo_err_at(i, &e); i++) {
        bo_err back;
        assert_int_equal(bo_err_from_name(bo_err_name(e), &back), BO_E_OK);
        assert_int_equal(back, e);
        assert_true(strlen(bo_strerror(e)) > 3);
    }
}

static void codes_are_unique(void **state)
{
    bo_err a, b;
    for (unsigned i = 0; bo_err_at(i, &a); i++)
        for (unsigned j = i + 1; bo_err_at(j, &b); j++) {
            assert_int_not_equal(a, b);
            assert_string_not_equal(bo_err_name(a), bo_err_name(b));
        }
}

static void known_values(void **state)
{
    assert_string_equal(bo_err_name(BO_E_OK), "OK");
    assert_string_equal(bo_err_name(BO_E_CERT_EXPIRED), "E_CERT_EXPIRED");
    assert_int_equal(BO_E_CERT_EXPIRED, 300);
    assert_string_equal(bo_err_name((bo_err)99999), "E_UNKNOWN");
    bo_err out;
    assert_int_equal(bo_err_from_name("E_NOPE", &out), BO_E_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(codes_are_unique),
        cmocka_unit_test(known_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
