#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>

#include "bo/map.h"

static void put_get_del_many(void **state)
{
    bo_err err;
    bo_map *m = bo_map_new(&err);
    assert_non_null(m);
    enum { N = 5000 };
    for (uintptr_t i = 1; i <= N; i++)
        assert_int_equal(bo_map_put_u64(m, i, (void *)(i * 3)), BO_E_OK);
    assert_int_equal(bo_map_count(m), N);
    for (uintptr_t i = 1; i <= N; i++)
        assert_ptr_equal(bo_map_get_u64(m, i), (void *)(i * 3));
    /* delete every other one; the rest must stay reachable (backward shift) */
    for (uintptr_t i = 1; i <= N; i += 2)
        assert_ptr_equal(bo_map_del_u64(m, i), (void *)(i * 3));
    assert_int_equal(bo_map_count(m), N / 2);
    for (uintptr_t i = 1; i <= N; i++) {
        if (i % 2)
            assert_null(bo_map_get_u64(m, i));
        else
            assert_ptr_equal(bo_map_get_u64(m, i), (void *)(i * 3));
    }
    assert_null(bo_map_del_u64(m, 1));
    size_t pos = 0, seen = 0;
    void *v;
    while (bo_map_next(m, &pos, NULL, NULL, &v))
        seen++;
    assert_int_equal(seen, N / 2);
    bo_map_free(m);
}

static void string_keys_replace(void **state)
{
    bo_err err;
    bo_map *m = bo_map_new(&err);
    int a, b;
    assert_int_equal(bo_map_put_str(m, "T-001", &a), BO_E_OK);
    assert_int_equal(bo_map_put_str(m, "T-001", &b), BO_E_OK);
    assert_int_equal(bo_map_count(m), 1);
    assert_ptr_equal(bo_map_get_str(m, "T-001"), &b);
    assert_null(bo_map_get_str(m, "T-002"));
    assert_null(bo_map_get_str(m, ""));
    assert_int_equal(bo_map_put_str(m, "", &a), BO_E_OK);
    assert_ptr_equal(bo_map_get_str(m, ""), &a);
    bo_map_free(m);
    bo_map_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_del_many),
        cmocka_unit_test(string_keys_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
