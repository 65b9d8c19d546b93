/* End to end, through the real bidopen-server over TLS with its own redis-server and real
 * clients (libbidopen-client): sign-in with every kind of certificate and every refusal,
 * secrecy before the deadline, and the deadline itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo_itest.h"

static bo_world W;

static const char *good[] = {"b1-rsa", "b2-p256", "b3-sm2", "b4-mixed", "b5-mixed"};
#define N_GOOD 5

typedef struct phase_wait {
    tc *t;
    const char *phase;
} phase_wait;

/* The phase was reached: an event moved to it, or the snapshot at join already showed it. */
static bool in_phase(void *ud)
{
    phase_wait *w = ud;
    char to[64], snap[64];
    snprintf(to, sizeof to, "\"to\":\"%s\"", w->phase);
    snprintf(snap, sizeof snap, "\"phase\":\"%s\"", w->phase);
    for (size_t i = 0; i < w->t->n_events; i++)
        if (strstr(w->t->events[i].body_json, to))
            return true;
    return w->t->snap_json && strstr(w->t->snap_json, snap);
}

static bool wait_phase(tc *t, const char *phase, int timeout_ms)
{
    phase_wait w = {t, phase};
    return bo_client_run_until(&W.loop, in_phase, &w, timeout_ms) == BO_E_OK;
}

static tc *connected_host(void)
{
    tc *host = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, host));
    return host;
}

static void load_blacklist(void)
{
    tc *op = bo_world_staff(&W, "operator", "operator", NULL);
    assert_true(bo_world_connect(&W, op));
    char path[600];
    json_t *root = json_load_file(bo_h_path(path, W.pki, "bidders/blacklist.json"), 0, NULL);
    assert_non_null(root);
    size_t n = json_array_size(root);
    bo_bl_entry *v = calloc(n, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(root, i);
        v[i].uscc = json_string_value(json_object_get(e, "uscc"));
        v[i].name = json_string_value(json_object_get(e, "name"));
        v[i].reason = json_string_value(json_object_get(e, "reason"));
        v[i].source = json_string_value(json_object_get(e, "source"));
    }
    tc_reply_reset(op);
    assert_int_equal(bo_client_bl_add(op->c, v, n, tc_on_reply, op), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, op, 10000), BO_E_OK);
    free(v);
    json_decref(root);
    tc_free(op);
}

/* All five demo bidders (RSA, ECDSA P-256, SM2, mixed; two CAs and the GM CA) register and
 * sign in; every bad certificate is refused with its own code; the blacklisted entity is
 * intercepted and the supervisor sees the interception. */
static void signin_and_refusals(void **state)
{
    char oid[65];
    tc *host = connected_host();
    assert_true(bo_world_create(&W, host, "T-signin", 6000, 120000, "", oid));
    load_blacklist();

    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    assert_true(bo_world_connect(&W, sup));

    tc *b[N_GOOD];
    for (int i = 0; i < N_GOOD; i++) {
        b[i] = bo_world_bidder(&W, good[i], true, oid);
        assert_true(bo_world_connect(&W, b[i]));
        assert_int_equal(bo_world_register(&W, b[i]), BO_E_OK);
    }
    /* sign-in opens at checkin_at */
    assert_int_equal(bo_world_signin(&W, b[0]), BO_E_PHASE);
    assert_string_equal(b[0]->reply_code, "E_PHASE");
    assert_true(tc_wait_event(&W.loop, b[0], "phase_changed", 10000));
    bo_world_run(&W, 200);
    for (int i = 0; i < N_GOOD; i++) {
        assert_int_equal(bo_world_signin(&W, b[i]), BO_E_OK);
        assert_non_null(strstr(b[i]->reply_json, "\"already\":false"));
    }
    /* repeating is harmless and says so */
    assert_int_equal(bo_world_signin(&W, b[0]), BO_E_OK);
    assert_non_null(strstr(b[0]->reply_json, "\"already\":true"));

    /* each refusal with its own code */
    json_t *idx = json_loads(W.index_json, 0, NULL);
    size_t i;
    json_t *e;
    int refusals = 0;
    json_array_foreach(idx, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *expect = json_string_value(json_object_get(e, "expect"));
        if (!strcmp(expect, "ok") || !strcmp(expect, "E_BLACKLISTED"))
            continue;
        tc *t = bo_world_bidder(&W, name, true, oid);
        tc_wait_state(&W.loop, t, BO_CLIENT_FAILED, 15000);
        printf("# %-16s expect %-24s got %s\n", name, expect, t->last_code);
        assert_int_equal(t->state, BO_CLIENT_FAILED);
        assert_string_equal(t->last_code, expect);
        tc_free(t);
        refusals++;
    }
    json_decref(idx);
    assert_true(refusals >= 7);

    /* the blacklisted entity authenticates (its certificate is fine) but is intercepted */
    tc *bl = bo_world_bidder(&W, "blacklisted", true, oid);
    assert_true(bo_world_connect(&W, bl));
    assert_int_equal(bo_world_register(&W, bl), BO_E_BLACKLISTED);
    assert_string_equal(bl->reply_code, "E_BLACKLISTED");
    assert_true(tc_wait_event(&W.loop, sup, "bidder_intercepted", 5000));
    char uscc[512];
    assert_true(tc_saw_text(sup, bo_world_bidder_field(&W, "blacklisted", "uscc", uscc)));

    for (int k = 0; k < N_GOOD; k++)
        tc_free(b[k]);
    tc_free(bl);
    tc_free(sup);
    tc_free(host);
}

/* Before the deadline a bidder, a site and an observer learn neither the names nor the
 * number of other bidders; the host learns only the number; the supervisor everything.
 * At the deadline the list of those who submitted a bid becomes public. */
static const char *sealers[] = {"b1-rsa", "b2-p256", "b5-mixed"}; /* RSA / P-256 recipients */
static void secrecy_before_deadline(void **state)
{
    char oid[65];
    tc *host_c = connected_host();
    assert_true(bo_world_create(&W, host_c, "T-secret", 500, 25000, "", oid));
    tc_free(host_c);

    tc *host = bo_world_staff(&W, "host", "host", oid);
    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    tc *site = bo_world_staff(&W, "site-1", "site", oid);
    tc *obs = bo_world_observer(&W, "observer", oid);
    tc *b[3];
    for (int i = 0; i < 3; i++)
        b[i] = bo_world_bidder(&W, sealers[i], true, oid);
    tc *all[] = {host, sup, site, obs, b[0], b[1], b[2]};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        assert_true(bo_world_connect(&W, all[i]));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bo_world_register(&W, b[i]), BO_E_OK);
        assert_int_equal(bo_world_submit_bid(&W, b[i], oid), BO_E_OK);
    }
    assert_true(wait_phase(b[0], "checkin", 10000));
    for (int i = 0; i < 3; i++)
        assert_int_equal(bo_world_signin(&W, b[i]), BO_E_OK);
    bo_world_run(&W, 500);

    char uscc[3][512], org[3][512];
    for (int i = 0; i < 3; i++) {
        bo_world_bidder_field(&W, sealers[i], "uscc", uscc[i]);
        bo_world_bidder_field(&W, sealers[i], "org", org[i]);
    }
    /* bidder 0 knows itself only */
    assert_true(tc_saw_text(b[0], uscc[0]));
    for (int i = 1; i < 3; i++) {
        assert_false(tc_saw_text(b[0], uscc[i]));
        assert_false(tc_saw_text(b[0], org[i]));
    }
    /* no counts anywhere for bidders, sites and observers */
    tc *blind[] = {b[0], site, obs};
    for (int k = 0; k < 3; k++) {
        tc *t = blind[k];
        assert_int_equal(tc_count(t, "tally"), 0);
        assert_null(strstr(t->snap_json, "\"counts\""));
        for (int i = 0; i < 3; i++)
            if (t != b[i]) {
                assert_false(tc_saw_text(t, uscc[i]));
                assert_false(tc_saw_text(t, org[i]));
            }
        /* their streams have no gaps: nothing hints at hidden events */
        uint64_t last_pub = 0, last_b = 0;
        for (size_t j = 0; j < t->n_events; j++) {
            uint64_t *last = !strcmp(t->events[j].st, "pub") ? &last_pub : &last_b;
            if (*last) /* the first one follows the snapshot taken at join */
                assert_int_equal(t->events[j].seq, *last + 1);
            *last = t->events[j].seq;
        }
        assert_int_equal(last_b, t == b[0] ? 3 : 0); /* registered, bid submitted, signed in */
    }
    /* the host: counts, no names */
    assert_true(tc_count(host, "tally") >= 6);
    const tc_event *tl = tc_last(host, "tally");
    assert_non_null(strstr(tl->body_json, "\"registered\":3"));
    assert_non_null(strstr(tl->body_json, "\"submitted\":3"));
    assert_non_null(strstr(tl->body_json, "\"signed_in\":3"));
    for (int i = 0; i < 3; i++) {
        assert_false(tc_saw_text(host, uscc[i]));
        assert_false(tc_saw_text(host, org[i]));
    }
    /* the supervisor: everything */
    for (int i = 0; i < 3; i++)
        assert_true(tc_saw_text(sup, uscc[i]));

    /* the deadline passes: the list is public */
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        assert_true(tc_wait_event(&W.loop, all[i], "bidders_revealed", 40000));
        const tc_event *rev = tc_last(all[i], "bidders_revealed");
        for (int k = 0; k < 3; k++)
            assert_non_null(strstr(rev->body_json, uscc[k]));
        assert_non_null(strstr(rev->body_json, "\"quorum\":true"));
    }
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tc_free(all[i]);
}

static int setup(void **state)
{
    bo_world_up(&W, "opening", NULL);
    return 0;
}

static int teardown(void **state)
{
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signin_and_refusals),
        cmocka_unit_test(secrecy_before_deadline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
