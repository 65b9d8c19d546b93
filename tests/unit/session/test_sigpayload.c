/* Tests for the signature payloads of docs/protocol.md §11 (confirmation, objection, answer)
 * against hand-assembled bytes, and for the record hash over a canonicalised record. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bo/hash.h"
#include "bo/sigpayload.h"
#include "bo/wire.h"

#define USCC "91350100M000100Y43"

static uint8_t h32[32];

/* expected = prefix || 0xc4 0x20 h32 || suffix */
static void expect_bytes(const bo_buf *b, const uint8_t *prefix, size_t np,
                         const uint8_t *suffix, size_t ns)
{
    assert_int_equal(b->len, np + 2 + 32 + ns);
    assert_memory_equal(b->data, prefix, np);
    assert_memory_equal(b->data + np, "\xc4\x20", 2);
    assert_memory_equal(b->data + np + 2, h32, 32);
    assert_memory_equal(b->data + np + 34, suffix, ns);
}

static void confirm_and_objection(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 4096);
    assert_int_equal(bo_sigpayload_confirm(&b, "o1", USCC, h32), BO_E_OK);
    static const uint8_t head3[] = "\x93\xa2o1\xb2" USCC;
    expect_bytes(&b, head3, sizeof(head3) - 1, NULL, 0);
    bo_buf_reset(&b);
    assert_int_equal(bo_sigpayload_objection(&b, "o1", USCC, h32, "异议"), BO_E_OK);
    static const uint8_t head4[] = "\x94\xa2o1\xb2" USCC;
    static const uint8_t text[] = "\xa6异议";
    expect_bytes(&b, head4, sizeof(head4) - 1, text, sizeof(text) - 1);
    assert_string_equal(BO_CTX_CONFIRM, "confirm");
    assert_string_equal(BO_CTX_OBJECTION, "objection");
    /* a cap on out is reported */
    bo_buf small;
    bo_buf_init(&small, 10);
    assert_int_equal(bo_sigpayload_confirm(&small, "o1", USCC, h32), BO_E_TOO_BIG);
    bo_buf_cleanup(&small);
    bo_buf_cleanup(&b);
}

static void answer(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 4096);
    assert_int_equal(bo_sigpayload_answer(&b, "o1", 300, "ok"), BO_E_OK);
    static const uint8_t want[] = "\x93\xa2o1\xcd\x01\x2c\xa2ok";
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.data, want, b.len);
    bo_buf_reset(&b);
    assert_int_equal(bo_sigpayload_answer(&b, "o1", 7, ""), BO_E_OK);
    assert_memory_equal(b.data, "\x93\xa2o1\x07\xa0", 6);
    assert_string_equal(BO_CTX_ANSWER, "answer");
    bo_buf_cleanup(&b);
}

static void record_hash(void **state)
{
    /* {b: 1, a: [2]} with a wide int, and its canonical form {a: [2], b: 1} */
    static const uint8_t loose[] = "\x82\xa1\x62\xd0\x01\xa1\x61\x91\xcc\x02";
    static const uint8_t canon[] = "\x82\xa1\x61\x91\x02\xa1\x62\x01";
    uint8_t a[32], b[32], want[32];
    bo_sha256(canon, sizeof(canon) - 1, want);
    assert_int_equal(bo_sigpayload_record_hash(loose, sizeof(loose) - 1, a), BO_E_OK);
    assert_int_equal(bo_sigpayload_record_hash(canon, sizeof(canon) - 1, b), BO_E_OK);
    assert_memory_equal(a, want, 32);
    assert_memory_equal(b, want, 32);
    static const uint8_t other[] = "\x82\xa1\x61\x91\x02\xa1\x62\x02";
    assert_int_equal(bo_sigpayload_record_hash(other, sizeof(other) - 1, b), BO_E_OK);
    assert_memory_not_equal(b, want, 32);

    assert_int_equal(bo_sigpayload_record_hash((const uint8_t *)"\x91\x01", 2, a),
                     BO_E_BAD_FIELD); /* not a map */
    assert_int_equal(bo_sigpayload_record_hash((const uint8_t *)"\x81\xa1\x61\xca\0\0\0\0", 8,
                                               a),
                     BO_E_BAD_FIELD); /* a float */
    assert_int_equal(bo_sigpayload_record_hash((const uint8_t *)"\x82\xa1\x61\x01\xa1\x61\x02",
                                               7, a),
                     BO_E_BAD_FIELD); /* a duplicate key */
    assert_int_equal(bo_sigpayload_record_hash((const uint8_t *)"\x81\xa1\x61", 3, a),
                     BO_E_MALFORMED);
    uint8_t deep[16] = {0x81, 0xa1, 0x61};
    memset(deep + 3, 0x91, 9); /* depth 10 */
    deep[12] = 0x90;
    assert_int_equal(bo_sigpayload_record_hash(deep, 13, a), BO_E_TOO_DEEP);
}

int main(void)
{
    memset(h32, 0xab, sizeof(h32));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(confirm_and_objection),
        cmocka_unit_test(answer),
        cmocka_unit_test(record_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
