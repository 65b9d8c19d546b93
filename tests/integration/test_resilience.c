/* End to end, through the real bidopen-server over TLS: the server dies and another node
 * joins.
 *
 *   - kill -9 of the server in the middle of check-in, restart on the same port and data
 *     directory (the managed redis-server keeps running and is adopted): the clients,
 *     still alive in this process, reconnect and resume by themselves; the remaining
 *     bidders sign in; the deadline transition happens once; every client's events are
 *     complete, without gaps or duplicates; nothing acknowledged before the kill is lost.
 *   - two server nodes on one Redis: what is done through node A reaches the clients of
 *     node B in the same order and the other way round; both nodes run the deadline timer
 *     and the transition happens once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bo/clock.h"
#include "bo_itest.h"

static bo_world W;
static bo_h_server NODE_B; /* stopped at teardown if a test failed */

static const char *BIDDERS[] = {"b1-rsa", "b2-p256", "b3-sm2", "b4-mixed", "b5-mixed"};
#define N_BIDDERS 5
#define COUNTS_EARLY "\"counts_early\":true"

/* ---------------------------------------------------------------- helpers ---- */

/* How many phase_changed events in t's list go to phase `to`. */
static size_t transitions_to(const tc *t, const char *to)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "\"to\":\"%s\"", to);
    size_t n = 0;
    for (size_t i = 0; i < t->n_events; i++)
        n += !strcmp(t->events[i].kind, "phase_changed") && strstr(t->events[i].body_json, needle);
    return n;
}

/* Events of kind in t's list whose body contains s. */
static size_t count_with(const tc *t, const char *kind, const char *s)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_events; i++)
        n += !strcmp(t->events[i].kind, kind) && strstr(t->events[i].body_json, s);
    return n;
}

/* signed_in of the bidder with this USCC in the last snapshot's bidders list (supervisor
 * before the deadline); -1 when it is not listed. */
static int snap_signed_in(const tc *t, const char *uscc)
{
    json_t *root = json_loads(t->snap_json, 0, NULL);
    json_t *list = json_object_get(root, "bidders");
    int r = -1;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "uscc")), uscc))
            r = json_is_true(json_object_get(e, "signed_in"));
    }
    json_decref(root);
    return r;
}

typedef struct rejoin_all {
    tc *const *v;
    size_t n;
    unsigned joins;
} rejoin_all;

/* Every client has joined at least r->joins times and is JOINED now. */
static bool all_rejoined(void *arg)
{
    rejoin_all *r = arg;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i]->state != BO_CLIENT_JOINED || r->v[i]->joins < r->joins)
            return false;
    return true;
}

typedef struct kind_all {
    tc *const *v;
    size_t n;
    const char *kind;
} kind_all;

static bool all_saw(void *arg)
{
    kind_all *k = arg;
    for (size_t i = 0; i < k->n; i++)
        if (!tc_count(k->v[i], k->kind))
            return false;
    return true;
}

/* ------------------------------------------------------- kill -9, restart ---- */

static void kill_mid_checkin_and_restart(void **state)
{
    (void)state;
    char oid[65];
    tc *h = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h));
    /* the deadline after the kill, the restart and everyone's return, even on a loaded
     * machine */
    assert_true(bo_world_create(&W, h, "T-kill", 0, 25000, "", oid));
    tc_free(h);
    bo_world_run(&W, 300); /* check-in opens */

    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    assert_true(bo_world_connect(&W, sup));
    tc *host = bo_world_staff(&W, "host", "host", oid);
    tc *site = bo_world_staff(&W, "site-1", "site", oid);
    tc *obs[3];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "obs-%d", i);
        obs[i] = bo_world_observer(&W, name, oid);
    }
    tc *b[N_BIDDERS];
    for (int i = 0; i < N_BIDDERS; i++)
        b[i] = bo_world_bidder(&W, BIDDERS[i], true, oid);
    tc *all[] = {sup, host, site, obs[0], obs[1], obs[2], b[0], b[1], b[2], b[3], b[4]};
    const size_t n_all = sizeof(all) / sizeof(all[0]);
    assert_int_equal(bo_world_connect_all(&W, all, n_all, 30000), n_all);

    char uscc[N_BIDDERS][512];
    for (int i = 0; i < N_BIDDERS; i++) {
        bo_world_bidder_field(&W, BIDDERS[i], "uscc", uscc[i]);
        assert_int_equal(bo_world_register(&W, b[i]), BO_E_OK);
    }
    /* two sign-ins acknowledged before the kill */
    assert_int_equal(bo_world_signin(&W, b[0]), BO_E_OK);
    assert_int_equal(bo_world_signin(&W, b[1]), BO_E_OK);
    bo_world_run(&W, 300);
    uint64_t pos_before = tc_last_seq(sup, "all");

    /* a third one in flight: sent, and the server killed before it can answer */
    tc_reply_reset(b[2]);
    assert_int_equal(bo_client_signin(b[2]->c, NULL, tc_on_reply, b[2]), BO_E_OK);
    bo_world_run(&W, 5);
    int64_t t_kill = bo_clock_mono_ms();
    int st = bo_h_server_stop(&W.srv, SIGKILL, 5000);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    bo_world_run(&W, 300); /* the clients notice */
    printf("# in-flight sign-in before the kill: %s\n",
           b[2]->replied ? b[2]->reply_code : "(no reply yet)");

    /* restart on the same port and data directory: the managed Redis is adopted */
    assert_int_equal(bo_h_server_restart(&W.srv, W.pki, NULL, 30000), 0);
    int64_t t_up = bo_clock_mono_ms();
    assert_true(bo_h_server_log_has(&W.srv, "adopted from an earlier run"));
    rejoin_all rj = {all, n_all, 2};
    assert_int_equal(bo_client_run_until(&W.loop, all_rejoined, &rj, 30000), BO_E_OK);
    int64_t t_back = bo_clock_mono_ms();
    printf("# killed, restarted in %lld ms, all %zu clients back %lld ms later\n",
           (long long)(t_up - t_kill), n_all, (long long)(t_back - t_up));
    for (size_t i = 0; i < n_all; i++) {
        assert_int_equal(all[i]->joins, 2);
        assert_int_equal(all[i]->recovered_joins, 1); /* resumed, not reloaded */
    }

    /* nothing acknowledged was lost: a supervisor joining now sees both sign-ins */
    tc *sup2 = bo_world_staff(&W, "supervisor", "supervisor", oid);
    assert_true(bo_world_connect(&W, sup2));
    assert_true(tc_snap_pos(sup2, "all") >= pos_before);
    assert_int_equal(snap_signed_in(sup2, uscc[0]), 1);
    assert_int_equal(snap_signed_in(sup2, uscc[1]), 1);
    int in_flight_kept = snap_signed_in(sup2, uscc[2]);
    tc_free(sup2);

    /* the in-flight one signs in again (ok either way: already or not), then the rest */
    assert_int_equal(bo_world_signin(&W, b[2]), BO_E_OK);
    printf("# the in-flight sign-in had %sbeen stored; signing in again says %s\n",
           in_flight_kept == 1 ? "" : "not ", b[2]->reply_json);
    assert_non_null(strstr(b[2]->reply_json,
                           in_flight_kept == 1 ? "\"already\":true" : "\"already\":false"));
    assert_int_equal(bo_world_signin(&W, b[3]), BO_E_OK);
    assert_int_equal(bo_world_signin(&W, b[4]), BO_E_OK);

    /* the deadline, after the restart */
    kind_all ka = {all, n_all, "bidders_revealed"};
    assert_int_equal(bo_client_run_until(&W.loop, all_saw, &ka, 40000), BO_E_OK);
    bo_world_run(&W, 1000);

    /* the transition happened once */
    assert_int_equal(transitions_to(sup, "awaiting_open"), 1);
    assert_int_equal(tc_count(sup, "bidders_revealed"), 1);
    /* the log: gap-free, each bidder registered once and signed in once */
    assert_true(tc_gap_free(sup, "all", sup->first_pos_all));
    for (int i = 0; i < N_BIDDERS; i++) {
        assert_int_equal(count_with(sup, "bidder_registered", uscc[i]), 1);
        assert_int_equal(count_with(sup, "bidder_signed_in", uscc[i]), 1);
    }
    /* every client: gap-free, duplicate-free, the same pub events as the others */
    for (size_t i = 1; i < n_all; i++) {
        assert_true(tc_same_pub(host, all[i]));
        assert_int_equal(tc_last_seq(all[i], "pub"), tc_last_seq(host, "pub"));
        assert_int_equal(transitions_to(all[i], "awaiting_open"), 1);
    }
    for (int i = 0; i < N_BIDDERS; i++) {
        assert_true(tc_gap_free(b[i], "b", b[i]->first_pos_priv));
        assert_int_equal(tc_count(b[i], "bidder_registered"), 1);
        assert_int_equal(tc_count(b[i], "bidder_signed_in"), 1);
    }
    assert_true(tc_gap_free(host, "staff", host->first_pos_priv));
    for (size_t i = 0; i < n_all; i++)
        tc_free(all[i]);
    bo_world_run(&W, 200);
}

/* ----------------------------------------------------- two nodes, one Redis ---- */

static void two_nodes_one_redis(void **state)
{
    (void)state;
    char sock[700];
    snprintf(sock, sizeof(sock), "unix:%s/data/redis.sock", W.srv.dir);
    const char *args[] = {"--redis", sock, "--node", "B", NULL};
    bo_world_node(&W, &NODE_B, "nodeB", args);
    const char *A = W.srv.url, *B = NODE_B.url;

    char oid[65];
    tc *h = bo_world_staff_at(&W, "host", "host", A, NULL);
    assert_true(bo_world_connect(&W, h));
    /* check-in in 5 s and the deadline in 15 s: both timers run on both nodes */
    assert_true(bo_world_create(&W, h, "T-two", 5000, 15000, COUNTS_EARLY, oid));
    tc_free(h);

    tc *host_a = bo_world_staff_at(&W, "host", "host", A, oid);
    tc *host_b = bo_world_staff_at(&W, "host", "host", B, oid);
    tc *sup_a = bo_world_staff_at(&W, "supervisor", "supervisor", A, oid);
    tc *sup_b = bo_world_staff_at(&W, "supervisor", "supervisor", B, oid);
    tc *obs_a = bo_world_observer_at(&W, "obs-a", A, oid);
    tc *obs_b = bo_world_observer_at(&W, "obs-b", B, oid);
    tc *b1 = bo_world_bidder_at(&W, "b1-rsa", true, A, oid);
    tc *b2 = bo_world_bidder_at(&W, "b2-p256", true, B, oid);
    tc *bl_a = bo_world_bidder_at(&W, "blacklisted", true, A, oid);
    tc *bl_b = bo_world_bidder_at(&W, "blacklisted", true, B, oid);
    tc *all[] = {sup_a, sup_b, host_a, host_b, obs_a, obs_b, b1, b2, bl_a, bl_b};
    const size_t n_all = sizeof(all) / sizeof(all[0]);
    assert_int_equal(bo_world_connect_all(&W, all, 2, 20000), 2); /* the supervisors first */
    assert_int_equal(bo_world_connect_all(&W, all + 2, n_all - 2, 30000), n_all - 2);

    /* commands through A and through B, interleaved */
    assert_int_equal(bo_world_register(&W, b1), BO_E_OK);
    assert_int_equal(bo_world_register(&W, b2), BO_E_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(bo_world_register(&W, bl_a), BO_E_BLACKLISTED);
        assert_int_equal(bo_world_register(&W, bl_b), BO_E_BLACKLISTED);
    }
    /* check-in: each node's timer fires; the phase changes once */
    kind_all kc = {all, n_all, "phase_changed"};
    assert_int_equal(bo_client_run_until(&W.loop, all_saw, &kc, 15000), BO_E_OK);
    assert_int_equal(bo_world_signin(&W, b2), BO_E_OK); /* through B */
    assert_int_equal(bo_world_signin(&W, b1), BO_E_OK); /* through A */
    /* the deadline */
    kind_all kr = {all, n_all, "bidders_revealed"};
    assert_int_equal(bo_client_run_until(&W.loop, all_saw, &kr, 30000), BO_E_OK);
    /* and the host ends it through B */
    tc_reply_reset(host_b);
    assert_int_equal(bo_client_fail(host_b->c, NULL, "两个节点之一宣布失败", tc_on_reply, host_b),
                     BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, host_b, 10000), BO_E_OK);
    for (int round = 0; round < 20 && transitions_to(obs_a, "failed") < 1; round++)
        bo_world_run(&W, 250);
    bo_world_run(&W, 1000);

    /* each transition once, seen the same on both nodes (check-in by those who joined
     * before it: on a loaded machine some may come later and find it in their snapshot) */
    const char *phases[] = {"checkin", "awaiting_open", "failed"};
    assert_non_null(strstr(sup_a->snap_json, "\"phase\":\"scheduled\""));
    assert_non_null(strstr(sup_b->snap_json, "\"phase\":\"scheduled\""));
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < n_all; i++) {
            size_t want = k > 0 || strstr(all[i]->snap_json, "\"phase\":\"scheduled\"");
            if (transitions_to(all[i], phases[k]) != want)
                fprintf(stderr, "%s: %zu transitions to %s\n", all[i]->name,
                        transitions_to(all[i], phases[k]), phases[k]);
            assert_int_equal(transitions_to(all[i], phases[k]), want);
        }
    assert_int_equal(tc_count(sup_a, "bidders_revealed"), 1);
    /* the whole log, the same through A and through B */
    assert_true(tc_same_all(sup_a, sup_b));
    assert_int_equal(tc_count(sup_a, "bidder_intercepted"), 10);
    /* every pub reader, on either node, has the same events in the same order */
    for (size_t i = 0; i < n_all; i++)
        if (all[i] != sup_a && all[i] != sup_b) {
            assert_true(tc_same_pub(obs_a, all[i]) || tc_same_pub(all[i], obs_a));
            assert_int_equal(tc_last_seq(all[i], "pub"), tc_last_seq(obs_a, "pub"));
        }
    assert_int_equal(tc_count(obs_b, "tally"), 2 + 10 + 2);
    /* the private streams too: b2 (on B) saw its sign-in made through B */
    assert_true(tc_gap_free(b2, "b", b2->first_pos_priv));
    assert_int_equal(tc_count(b2, "bidder_signed_in"), 1);
    printf("# %llu events in the log, %llu public, the same on both nodes\n",
           (unsigned long long)tc_last_seq(sup_b, "all"),
           (unsigned long long)tc_last_seq(obs_b, "pub"));

    for (size_t i = 0; i < n_all; i++)
        tc_free(all[i]);
    bo_world_run(&W, 200);
    assert_int_equal(bo_h_server_stop(&NODE_B, SIGTERM, 20000), 0);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "resilience", NULL);
    bo_world_load_blacklist(&W, W.srv.url);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (NODE_B.pid > 0)
        bo_h_server_stop(&NODE_B, SIGTERM, 20000);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_mid_checkin_and_restart),
        cmocka_unit_test(two_nodes_one_redis),
    };
    if (getenv("BO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
