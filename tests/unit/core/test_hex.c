#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bo/hex.h"

static void hex_round_trip(void **state)
{
    uint8_t in[] = {0x00, 0xAB, 0xFF, 0x10};
    char hex[9];
    assert_string_equal(bo_hex_encode(in, 4, hex), "00abff10");
    uint8_t out[4];
    assert_int_equal(bo_hex_decode("00ABff10", 8, out, 4), BO_E_OK);
    assert_memory_equal(in, out, 4);
    assert_int_equal(bo_hex_decode("00ABff1", 7, out, 4), BO_E_BAD_FIELD);
    assert_int_equal(bo_hex_decode("00ABff1g", 8, out, 4), BO_E_BAD_FIELD);
}

static void b64_round_trip(void **state)
{
    const char *vec[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char enc[16];
        bo_b64_encode((const uint8_t *)vec[i][0], strlen(vec[i][0]), enc);
        assert_string_equal(enc, vec[i][1]);
        uint8_t dec[16];
        size_t n;
        assert_int_equal(bo_b64_decode(enc, strlen(enc), dec, &n), BO_E_OK);
        assert_int_equal(n, strlen(vec[i][0]));
        assert_memory_equal(dec, vec[i][0], n);
    }
    uint8_t dec[16];
    size_t n;
    assert_int_equal(bo_b64_decode("Zm9v!", 5, dec, &n), BO_E_BAD_FIELD);
    assert_int_equal(bo_b64_decode("Z", 1, dec, &n), BO_E_BAD_FIELD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_round_trip),
        cmocka_unit_test(b64_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
