#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "bo/cursor.h"

/* A msgpack map object {k0: v0, k1: v1, ...} on the stack. */
typedef struct posobj {
    msgpack_object obj;
    msgpack_object_kv kv[3];
} posobj;

static const msgpack_object *pos_of(posobj *p, const char *k0, uint64_t v0, const char *k1,
                                    uint64_t v1)
{
    memset(p, 0, sizeof(*p));
    const char *keys[2] = {k0, k1};
    uint64_t vals[2] = {v0, v1};
    uint32_t n = 0;
    for (int i = 0; i < 2; i++) {
        if (!keys[i])
            continue;
        p->kv[n].key.type = MSGPACK_OBJECT_STR;
        p->kv[n].key.via.str.ptr = keys[i];
        p->kv[n].key.via.str.size = (uint32_t)strlen(keys[i]);
        p->kv[n].val.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        p->kv[n].val.via.u64 = vals[i];
        n++;
    }
    p->obj.type = MSGPACK_OBJECT_MAP;
    p->obj.via.map.size = n;
    p->obj.via.map.ptr = p->kv;
    return &p->obj;
}

typedef struct step {
    const char *st;
    uint64_t seq;
    bo_cursor_verdict want;
} step;

static void run(bo_cursor *c, const step *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bo_cursor_verdict v = bo_cursor_accept(c, s[i].st, s[i].seq);
        if (v != s[i].want)
            fail_msg("step %zu (%s #%llu): verdict %d, want %d", i, s[i].st,
                     (unsigned long long)s[i].seq, (int)v, (int)s[i].want);
    }
}

static void before_join_nothing_passes(void **state)
{
    bo_cursor c;
    bo_cursor_init(&c);
    assert_int_equal(bo_cursor_accept(&c, "pub", 1), BO_CURSOR_INVALID);
}

static void dedupe_and_gaps(void **state)
{
    bo_cursor c;
    bo_cursor_init(&c);
    posobj p;
    bool rec = false;
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 3, "priv", 1), &rec), BO_E_OK);
    assert_false(rec);
    assert_int_equal(c.pub, 3);
    assert_int_equal(c.priv, 1);
    const step seq[] = {
        {"pub", 3, BO_CURSOR_DUP},     /* already in the snapshot */
        {"pub", 4, BO_CURSOR_DELIVER}, {"pub", 4, BO_CURSOR_DUP},
        {"b", 2, BO_CURSOR_DELIVER},   {"pub", 5, BO_CURSOR_DELIVER},
        {"b", 1, BO_CURSOR_DUP},       {"pub", 1, BO_CURSOR_DUP},
        {"pub", 7, BO_CURSOR_GAP},     /* 6 is missing: rejoin; cursor stays at 5 */
        {"pub", 6, BO_CURSOR_DELIVER}, {"pub", 7, BO_CURSOR_DELIVER},
        {"staff", 3, BO_CURSOR_DELIVER}, /* staff and b share the private cursor */
        {"staff", 5, BO_CURSOR_GAP},   {"all", 1, BO_CURSOR_INVALID},
        {"zzz", 8, BO_CURSOR_INVALID}, {"pub", 0, BO_CURSOR_INVALID},
        {NULL, 8, BO_CURSOR_INVALID},  {"pub", 8, BO_CURSOR_DELIVER},
    };
    run(&c, seq, sizeof(seq) / sizeof(seq[0]));
    assert_int_equal(c.pub, 8);
    assert_int_equal(c.priv, 3);
}

static void resume_keeps_cursor(void **state)
{
    bo_cursor c;
    bo_cursor_init(&c);
    posobj p;
    bool rec = false;
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 10, "priv", 2), &rec), BO_E_OK);
    run(&c, (const step[]){{"pub", 11, BO_CURSOR_DELIVER}, {"b", 3, BO_CURSOR_DELIVER}}, 2);

    /* reconnect: the server replays 12..15 and 4..5 after a recovered snapshot at 15/5 */
    rec = true;
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 15, "priv", 5), &rec), BO_E_OK);
    assert_true(rec);
    assert_int_equal(c.pub, 11);
    const step replay[] = {
        {"pub", 11, BO_CURSOR_DUP},    /* overlap the server may send */
        {"pub", 12, BO_CURSOR_DELIVER}, {"b", 4, BO_CURSOR_DELIVER},
        {"pub", 13, BO_CURSOR_DELIVER}, {"pub", 14, BO_CURSOR_DELIVER},
        {"b", 5, BO_CURSOR_DELIVER},    {"pub", 15, BO_CURSOR_DELIVER},
        {"pub", 16, BO_CURSOR_DELIVER}, /* live feed */
    };
    run(&c, replay, sizeof(replay) / sizeof(replay[0]));

    /* too far behind: not recovered, jump to the snapshot */
    rec = false;
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 2000, "priv", 9), &rec), BO_E_OK);
    assert_false(rec);
    assert_int_equal(c.pub, 2000);
    assert_int_equal(c.priv, 9);
    run(&c, (const step[]){{"pub", 17, BO_CURSOR_DUP}, {"pub", 2001, BO_CURSOR_DELIVER}}, 2);

    /* the server says recovered but is behind us (it lost events): the snapshot wins */
    rec = true;
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 1990, "priv", 9), &rec), BO_E_OK);
    assert_false(rec);
    assert_int_equal(c.pub, 1990);
}

static void supervisor_all_stream(void **state)
{
    bo_cursor c;
    bo_cursor_init(&c);
    posobj p;
    bool rec = true; /* recovered without a cursor cannot be: treated as a fresh snapshot */
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "all", 5, NULL, 0), &rec), BO_E_OK);
    assert_false(rec);
    assert_true(c.all);
    const step seq[] = {
        {"all", 6, BO_CURSOR_DELIVER}, {"pub", 7, BO_CURSOR_INVALID},
        {"all", 6, BO_CURSOR_DUP},     {"all", 8, BO_CURSOR_GAP},
        {"all", 7, BO_CURSOR_DELIVER},
    };
    run(&c, seq, sizeof(seq) / sizeof(seq[0]));
    /* a mode change (role changed between connections) takes the snapshot */
    rec = true;
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 3, NULL, 0), &rec), BO_E_OK);
    assert_false(rec);
    assert_false(c.all);
    assert_int_equal(c.pub, 3);
    assert_int_equal(bo_cursor_accept(&c, "pub", 4), BO_CURSOR_DELIVER);
}

static void bad_positions(void **state)
{
    bo_cursor c;
    bo_cursor_init(&c);
    posobj p;
    bool rec = false;
    assert_int_equal(bo_cursor_join(&c, NULL, &rec), BO_E_BAD_FIELD);
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "all", 1, "pub", 1), &rec), BO_E_BAD_FIELD);
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "priv", 1, NULL, 0), &rec), BO_E_BAD_FIELD);
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 1, "x", 1), &rec), BO_E_BAD_FIELD);
    assert_int_equal(bo_cursor_join(&c, pos_of(&p, "pub", 1, "pub", 2), &rec), BO_E_BAD_FIELD);
    pos_of(&p, "pub", 1, NULL, 0);
    p.kv[0].val.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
    assert_int_equal(bo_cursor_join(&c, &p.obj, &rec), BO_E_BAD_FIELD);
    assert_false(c.set); /* unchanged */
    assert_true(bo_cursor_is_private("b"));
    assert_false(bo_cursor_is_private("pub"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(before_join_nothing_passes),
        cmocka_unit_test(dedupe_and_gaps),
        cmocka_unit_test(resume_keeps_cursor),
        cmocka_unit_test(supervisor_all_stream),
        cmocka_unit_test(bad_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
