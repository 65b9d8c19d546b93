#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bo/secret.h"

static void new_is_zeroed(void **state)
{
    bo_err e = BO_E_OK;
    bo_secret *s = bo_secret_new(32, &e);
    assert_non_null(s);
    assert_int_equal(bo_secret_len(s), 32);
    static const uint8_t zero[32];
    assert_memory_equal(bo_secret_cdata(s), zero, 32);
    bo_secret_free(s);
    bo_secret_free(NULL);
}

static void from_and_equal(void **state)
{
    bo_err e = BO_E_OK;
    uint8_t k[16] = "0123456789abcdef";
    bo_secret *a = bo_secret_from(k, 16, &e);
    bo_secret *b = bo_secret_from(k, 16, &e);
    bo_secret *c = bo_secret_from(k, 15, &e);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_memory_equal(bo_secret_cdata(a), k, 16);
    assert_true(bo_secret_equal(a, b));
    assert_false(bo_secret_equal(a, c));
    bo_secret_data(b)[15] ^= 1;
    assert_false(bo_secret_equal(a, b));
    assert_false(bo_secret_equal(a, NULL));
    assert_true(bo_secret_equal(NULL, NULL));
    bo_secret_free(a);
    bo_secret_free(b);
    bo_secret_free(c);
}

static void too_big(void **state)
{
    bo_err e = BO_E_OK;
    assert_null(bo_secret_new((1u << 20) + 1, &e));
    assert_int_equal(e, BO_E_TOO_BIG);
    bo_secret *z = bo_secret_new(0, &e);
    assert_non_null(z);
    assert_int_equal(bo_secret_len(z), 0);
    bo_secret_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_is_zeroed),
        cmocka_unit_test(from_and_equal),
        cmocka_unit_test(too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
