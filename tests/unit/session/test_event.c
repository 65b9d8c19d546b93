/* Tests for events: names, audiences, the hash chain (a known answer worked out by hand),
 * storage records (round trip, tampering) and wire frames per stream. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "bo/event.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/session.h"
#include "bo/wire.h"
#include "corpus_walk.h"

#define TS 1700000000000LL
static const uint8_t body_a1[] = {0x81, 0xa1, 0x61, 0x01}; /* {"a":1} */

static void make(bo_event *ev, uint64_t seq, bo_aud aud, const char *uscc)
{
    memset(ev, 0, sizeof(*ev));
    ev->seq = seq;
    ev->ts = TS;
    ev->kind = BO_EV_TALLY;
    ev->aud = aud;
    if (uscc)
        strcpy(ev->aud_uscc, uscc);
    ev->body = malloc(sizeof(body_a1));
    memcpy(ev->body, body_a1, sizeof(body_a1));
    ev->body_len = sizeof(body_a1);
}

static void names(void **state)
{
    assert_string_equal(bo_event_kind_name(BO_EV_OPENING_CREATED), "opening_created");
    assert_string_equal(bo_event_kind_name(BO_EV_HEAD_SIGNED), "head_signed");
    assert_null(bo_event_kind_name(BO_EV_NONE));
    assert_null(bo_event_kind_name(BO_EV__COUNT));
    for (int k = BO_EV_NONE + 1; k < BO_EV__COUNT; k++) {
        bo_event_kind got;
        assert_int_equal(bo_event_kind_parse(bo_event_kind_name((bo_event_kind)k), &got),
                         BO_E_OK);
        assert_int_equal(got, k);
    }
    bo_event_kind got;
    assert_int_equal(bo_event_kind_parse("opening_reopened", &got), BO_E_BAD_FIELD);
    assert_int_equal(bo_event_kind_parse(NULL, &got), BO_E_BAD_FIELD);

    char s[24];
    bo_event ev;
    make(&ev, 1, BO_AUD_PUB, NULL);
    assert_string_equal(bo_event_aud_string(&ev, s, sizeof(s)), "pub");
    ev.aud = BO_AUD_STAFF;
    assert_string_equal(bo_event_aud_string(&ev, s, sizeof(s)), "staff");
    ev.aud = BO_AUD_SUP;
    assert_string_equal(bo_event_aud_string(&ev, s, sizeof(s)), "sup");
    ev.aud = BO_AUD_BIDDER;
    strcpy(ev.aud_uscc, "91350100M000100Y43");
    assert_string_equal(bo_event_aud_string(&ev, s, sizeof(s)), "b:91350100M000100Y43");
    bo_event_cleanup(&ev);
    bo_event_cleanup(&ev); /* twice is safe */
}

/* The chain hash of protocol.md §7, built byte by byte. */
static void chain_hash_known_answer(void **state)
{
    bo_event ev;
    make(&ev, 1, BO_AUD_BIDDER, "91350100M000100Y43");
    uint8_t body_hash[32], want[32], got[32];
    bo_sha256(body_a1, sizeof(body_a1), body_hash);
    uint8_t buf[256];
    size_t n = 0;
#define PUT(p, len) (memcpy(buf + n, p, len), n += len)
    PUT("bidopen/event/v1\0", 17);
    PUT("\x97\xa2o1\x01", 5);                            /* [7], "o1", seq 1 */
    PUT("\xcf\x00\x00\x01\x8b\xcf\xe5\x68\x00", 9);      /* ts as uint64 */
    PUT("\xa5tally", 6);                                 /* kind */
    PUT("\xb4" "b:91350100M000100Y43", 21);              /* aud */
    PUT("\xc4\x20", 2), PUT(body_hash, 32);              /* body_hash */
    PUT("\xc4\x20", 2), memset(buf + n, 0, 32), n += 32; /* prev_hash: zeros for seq 1 */
#undef PUT
    bo_sha256(buf, n, want);
    bo_event_compute_hash("o1", &ev, got);
    assert_memory_equal(got, want, 32);
    /* the same value, computed outside this code base (Python hashlib) */
    char hex[65];
    assert_string_equal(bo_hex_encode(got, 32, hex),
                        "c7d873462b90a3d5e4b9d7f859fab4b693be1e827cae706c38311c411dcaa8bc");
    /* every input changes it */
    uint8_t other[32];
    bo_event_compute_hash("o2", &ev, other);
    assert_memory_not_equal(other, got, 32);
    ev.prev_hash[31] = 1;
    bo_event_compute_hash("o1", &ev, other);
    assert_memory_not_equal(other, got, 32);
    ev.prev_hash[31] = 0;
    ev.aud = BO_AUD_SUP;
    bo_event_compute_hash("o1", &ev, other);
    assert_memory_not_equal(other, got, 32);
    bo_event_cleanup(&ev);
}

static void record_round_trip(void **state)
{
    bo_event ev, back;
    make(&ev, 42, BO_AUD_BIDDER, "91350100M000100Y43");
    memset(ev.prev_hash, 0x5a, 32);
    ev.ts = -3; /* any int */
    bo_event_compute_hash("T-1", &ev, ev.hash);
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_event_encode_record(&ev, &b), BO_E_OK);
    assert_int_equal(bo_event_decode_record("T-1", b.data, b.len, &back), BO_E_OK);
    assert_int_equal(back.seq, 42);
    assert_int_equal(back.ts, -3);
    assert_int_equal(back.kind, BO_EV_TALLY);
    assert_int_equal(back.aud, BO_AUD_BIDDER);
    assert_string_equal(back.aud_uscc, "91350100M000100Y43");
    assert_int_equal(back.body_len, sizeof(body_a1));
    assert_memory_equal(back.body, body_a1, sizeof(body_a1));
    assert_memory_equal(back.prev_hash, ev.prev_hash, 32);
    assert_memory_equal(back.hash, ev.hash, 32);
    /* the wrong opening does not verify */
    bo_event x;
    assert_int_equal(bo_event_decode_record("T-2", b.data, b.len, &x), BO_E_BAD_FIELD);
    assert_null(x.body);
    bo_event_cleanup(&back);
    bo_event_cleanup(&ev);
    bo_buf_cleanup(&b);
}

/* Finds needle in the record and flips its last byte. */
static void flip(bo_buf *b, const void *needle, size_t n)
{
    uint8_t *at = memmem(b->data, b->len, needle, n);
    assert_non_null(at);
    at[n - 1] ^= 1;
}

static void tampered_records_are_refused(void **state)
{
    bo_event ev, back;
    make(&ev, 7, BO_AUD_STAFF, NULL);
    bo_event_compute_hash("o1", &ev, ev.hash);
    bo_buf good;
    bo_buf_init(&good, 1 << 20);
    assert_int_equal(bo_event_encode_record(&ev, &good), BO_E_OK);

    struct {
        const char *needle;
        size_t n;
        bo_err want;
    } cases[] = {
        {"\xa1\x61\x01", 3, BO_E_BAD_FIELD},  /* body {"a":1} -> {"a":0} */
        {"\xa5staff", 6, BO_E_BAD_FIELD},     /* aud "staff" -> "stafg" */
        {"\xa3seq\x07", 5, BO_E_BAD_FIELD},   /* seq 7 -> 6 */
        {"\xa5tally", 6, BO_E_BAD_FIELD},     /* kind not a kind */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bo_buf b;
        bo_buf_init(&b, 1 << 20);
        bo_buf_append(&b, good.data, good.len);
        flip(&b, cases[i].needle, cases[i].n);
        bo_err e = bo_event_decode_record("o1", b.data, b.len, &back);
        if (e != cases[i].want)
            fail_msg("case %zu: %s", i, bo_err_name(e));
        assert_null(back.body);
        bo_buf_cleanup(&b);
    }
    /* the stored hash itself */
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    bo_buf_append(&b, good.data, good.len);
    uint8_t *h = memmem(b.data, b.len, ev.hash, 32);
    assert_non_null(h);
    h[0] ^= 0x80;
    assert_int_equal(bo_event_decode_record("o1", b.data, b.len, &back), BO_E_BAD_FIELD);
    /* without an oid only the form is checked */
    assert_int_equal(bo_event_decode_record(NULL, b.data, b.len, &back), BO_E_OK);
    bo_event_cleanup(&back);
    /* truncated, trailing, not a map */
    assert_int_equal(bo_event_decode_record("o1", good.data, good.len - 1, &back),
                     BO_E_MALFORMED);
    bo_buf_append(&b, "\xc0", 1);
    assert_int_equal(bo_event_decode_record(NULL, b.data, b.len, &back), BO_E_MALFORMED);
    assert_int_equal(bo_event_decode_record(NULL, (const uint8_t *)"\x90", 1, &back),
                     BO_E_MALFORMED);
    bo_buf_cleanup(&b);

    /* the same record with seq written as a wide int is not canonical */
    bo_buf_init(&b, 1 << 20);
    bo_buf_append(&b, good.data, good.len);
    uint8_t *seq = memmem(b.data, b.len, "\xa3seq\x07", 5);
    size_t off = (size_t)(seq - b.data) + 4;
    bo_buf wide;
    bo_buf_init(&wide, 1 << 20);
    bo_buf_append(&wide, b.data, off);
    bo_buf_append(&wide, "\xcc\x07", 2);
    bo_buf_append(&wide, b.data + off + 1, b.len - off - 1);
    assert_int_equal(bo_event_decode_record("o1", wide.data, wide.len, &back), BO_E_BAD_FIELD);
    bo_buf_cleanup(&wide);
    bo_buf_cleanup(&b);
    bo_buf_cleanup(&good);
    bo_event_cleanup(&ev);
}

static void check_frame(const bo_event *ev, int st, const char *st_name, uint64_t seq,
                        bool has_at, uint64_t at)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_event_encode_wire("o1", ev, st, &b), BO_E_OK);
    bo_wire_caps caps;
    bo_wire_caps_default(&caps);
    bo_msg *m;
    assert_int_equal(bo_wire_decode(b.data, b.len, &caps, false, &m, NULL, NULL, 0), BO_E_OK);
    assert_int_equal(m->type, BO_MSG_EV);
    assert_string_equal(m->u.ev.oid, "o1");
    assert_string_equal(m->u.ev.st, st_name);
    assert_int_equal(m->u.ev.seq, seq);
    assert_int_equal(m->u.ev.has_at, has_at);
    if (has_at)
        assert_int_equal(m->u.ev.at, at);
    assert_int_equal(m->u.ev.ts, TS);
    assert_string_equal(m->u.ev.kind, "tally");
    assert_memory_equal(m->u.ev.body.mp.p, body_a1, sizeof(body_a1));
    assert_memory_equal(m->u.ev.hash.p, ev->hash, 32);
    bo_msg_free(m);
    bo_buf_cleanup(&b);
}

static void wire_frames_per_stream(void **state)
{
    bo_event ev;
    make(&ev, 9, BO_AUD_STAFF, NULL);
    memset(ev.hash, 0x11, 32);
    ev.pub_pos = 5; /* five pub events before it */
    ev.priv_pos = 3;
    check_frame(&ev, BO_STREAM_STAFF, "staff", 3, true, 5);
    check_frame(&ev, BO_STREAM_BIDDER, "b", 3, true, 5);
    check_frame(&ev, BO_STREAM_ALL, "all", 9, false, 0);
    ev.aud = BO_AUD_PUB;
    ev.pub_pos = 6;
    ev.priv_pos = 0;
    check_frame(&ev, BO_STREAM_PUB, "pub", 6, false, 0);
    bo_buf b;
    bo_buf_init(&b, 1024);
    assert_int_equal(bo_event_encode_wire("o1", &ev, BO_STREAM_NONE, &b), BO_E_INVALID_ARG);
    bo_buf_cleanup(&b);
    bo_event_cleanup(&ev);
}

static void lists_and_copies(void **state)
{
    bo_event_list l;
    bo_event_list_init(&l);
    for (uint64_t i = 1; i <= 9; i++) {
        bo_event ev;
        make(&ev, i, BO_AUD_PUB, NULL);
        assert_int_equal(bo_event_list_push(&l, &ev), BO_E_OK);
        assert_null(ev.body); /* ownership moved */
    }
    assert_int_equal(l.n, 9);
    assert_int_equal(l.v[8].seq, 9);
    bo_event c;
    assert_int_equal(bo_event_copy(&c, &l.v[3]), BO_E_OK);
    assert_ptr_not_equal(c.body, l.v[3].body);
    assert_memory_equal(c.body, body_a1, sizeof(body_a1));
    assert_int_equal(c.seq, 4);
    bo_event_cleanup(&c);
    bo_event_list_cleanup(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.v);
    bo_event_list_cleanup(&l);
}

static void corpus_file(const char *name, const uint8_t *data, size_t len, bool valid)
{
    bo_event ev;
    bool ok = bo_event_decode_record("o1", data, len, &ev) == BO_E_OK;
    bo_event_cleanup(&ev);
    if (ok != valid)
        fail_msg("%s: %s", name, ok ? "accepted" : "refused");
}

static void corpus_matches_names(void **state)
{
    assert_true(corpus_walk("record", corpus_file) >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(chain_hash_known_answer),
        cmocka_unit_test(record_round_trip),
        cmocka_unit_test(tampered_records_are_refused),
        cmocka_unit_test(wire_frames_per_stream),
        cmocka_unit_test(lists_and_copies),
        cmocka_unit_test(corpus_matches_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
