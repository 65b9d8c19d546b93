/* Fault drill: Redis stops during sign-in (issue "Benchmarks against the anchors, and fault
 * drills").
 *
 * Two nodes on one Redis: A (the world's server, which supervises the managed redis-server)
 * and B (--redis on A's socket). Bidders, host, supervisors and observers are connected to
 * both. While bidders sign in, the managed redis-server is
 *
 *   - stopped with SIGSTOP for 10 s, then continued (sigstop_10s), and
 *   - killed with SIGKILL, which A's supervisor restarts from its AOF (sigkill_restart).
 *
 * Each drill checks:
 *   - no client connection drops: every client joined once and never entered BACKOFF;
 *   - a sign-in in flight when Redis stopped gets E_STORE_PENDING (its outcome is unknown:
 *     the server keeps it and writes it exactly once when Redis is back) within the server's
 *     command timeout (3 s), not a hang; those sent during the outage get
 *     E_STORE_UNAVAILABLE at once (nothing changed); the server stays responsive (`time`);
 *   - /healthz is 503 "store unavailable" on both nodes during the outage, 200 after;
 *   - after recovery the bidders' retries succeed; a sign-in that was in flight answers
 *     {already:true} if its append landed when Redis came back, {already:false} if not;
 *   - the log holds every acknowledged sign-in and every retried one exactly once, nothing
 *     half-applied (the stream's length, the stored top seq and the supervisors' last seq
 *     agree), and it is the same through A and through B (what B appended during the outage
 *     reached A's clients after the recovery: gap fill);
 *   - every client's lists are complete, without gaps or duplicates.
 *
 * pending_message_written_once (a regression test: it reproduced a bug, label known-bug until
 * the fix): a command whose append was on its way when Redis froze used to be answered
 * E_STORE_UNAVAILABLE ("nothing was changed") and was stored when Redis resumed, so a
 * retried `message` was in the log twice. Now it is answered E_STORE_PENDING and written
 * exactly once when Redis is back (protocol.md §4).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo_faults.h"
#include "bo_itest.h"
#include "redis_fixture.h"

static bo_world W;
static bo_h_server NODE_B; /* stopped at teardown if a test failed */
static char CA[600];

#define COUNTS_EARLY "\"counts_early\":true"
#define OUTAGE_MS 10000
#define CMD_TIMEOUT_MS 3000 /* the store's command timeout (bo_store.h default) */
/* a reply to a request in flight when Redis froze comes within the command timeout; the
 * margin covers the timeout check's one extra turn of I/O and a loaded machine (ASan) */
#define INFLIGHT_BOUND_MS (CMD_TIMEOUT_MS + 3000)
#define QUICK_BOUND_MS 2000 /* refused at once while the store is down */

enum { ACKED, INFLIGHT_A, INFLIGHT_B, DURING_A, DURING_B, AFTER, NB };
static const char *const NAMES[NB] = {"b1-rsa", "b5-mixed", "b2-p256", "b3-sm2", "renewed",
                                      "b4-mixed"};
static const bool ON_B[NB] = {false, false, true, false, true, false};

typedef struct drill {
    const char *name;
    int sig; /* SIGSTOP or SIGKILL */
    char oid[65];
    tc *host, *sup_a, *sup_b, *obs_a, *obs_b;
    tc *b[NB];
    char uscc[NB][512];
    tc *all[5 + NB];
    size_t n_all;
    int64_t sent_at[NB];
    int64_t latency[NB];
    char code[NB][40];
} drill;

/* ---------------------------------------------------------------- helpers ---- */

static int health(const bo_h_server *s, char *body, size_t n)
{
    return bo_h_http_get(s->port, CA, "/healthz", body, n, 5000);
}

/* Poll /healthz of s until it answers want, running the loop between polls. Returns the
 * time it took (ms), or -1. */
static int64_t health_until(const bo_h_server *s, int want, int timeout_ms, char *body, size_t n)
{
    int64_t t0 = bo_clock_mono_ms();
    for (;;) {
        int st = health(s, body, n);
        if (st == want)
            return bo_clock_mono_ms() - t0;
        if (bo_clock_mono_ms() - t0 > timeout_ms) {
            fprintf(stderr, "healthz of :%d is %d, not %d, after %d ms\n", s->port, st, want,
                    timeout_ms);
            return -1;
        }
        bo_world_run(&W, 100);
    }
}

static void send_signin(drill *d, int i)
{
    tc_reply_reset(d->b[i]);
    d->sent_at[i] = bo_clock_mono_ms();
    assert_int_equal(bo_client_signin(d->b[i]->c, NULL, tc_on_reply, d->b[i]), BO_E_OK);
}

typedef struct replies {
    drill *d;
    const int *v;
    size_t n;
} replies;

/* Record each reply's latency as it comes (the predicate runs after every loop turn). */
static bool all_replied(void *arg)
{
    replies *r = arg;
    bool all = true;
    for (size_t k = 0; k < r->n; k++) {
        int i = r->v[k];
        tc *t = r->d->b[i];
        if (t->replied && !r->d->latency[i]) {
            r->d->latency[i] = bo_clock_mono_ms() - r->d->sent_at[i];
            snprintf(r->d->code[i], sizeof(r->d->code[i]), "%s", t->reply_code);
        }
        all = all && t->replied;
    }
    return all;
}

static void wait_replies(drill *d, const int *v, size_t n, int timeout_ms)
{
    for (size_t k = 0; k < n; k++)
        d->latency[v[k]] = 0;
    replies r = {d, v, n};
    bo_client_run_until(&W.loop, all_replied, &r, timeout_ms);
    for (size_t k = 0; k < n; k++)
        if (!d->b[v[k]]->replied)
            fail_msg("%s: no reply to its sign-in within %d ms", NAMES[v[k]], timeout_ms);
}

/* Events of kind in t's list whose body contains s. */
static size_t count_with(const tc *t, const char *kind, const char *s)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_events; i++)
        n += !strcmp(t->events[i].kind, kind) && strstr(t->events[i].body_json, s);
    return n;
}

typedef struct settle {
    drill *d;
    size_t signed_in;
} settle;

/* Both supervisors have every sign-in, and every pub reader the last tally. */
static bool settled(void *arg)
{
    settle *s = arg;
    drill *d = s->d;
    if (tc_count(d->sup_a, "bidder_signed_in") < s->signed_in ||
        tc_count(d->sup_b, "bidder_signed_in") < s->signed_in)
        return false;
    uint64_t top = tc_last_seq(d->sup_a, "all");
    if (tc_last_seq(d->sup_b, "all") != top)
        return false;
    uint64_t pub = tc_last_seq(d->obs_a, "pub");
    for (size_t i = 0; i < d->n_all; i++)
        if (d->all[i] != d->sup_a && d->all[i] != d->sup_b &&
            tc_last_seq(d->all[i], "pub") != pub)
            return false;
    return true;
}

/* A Redis reply's integer (":n" or a bulk "$l\r\nn") to `<what> bo:{<oid>}:<key>`; -1 if
 * none. */
static long long redis_int(const char *what, const char *oid, const char *key)
{
    char sock[600], cmd[300], out[256];
    snprintf(cmd, sizeof(cmd), "%s bo:{%s}:%s", what, oid, key);
    if (bo_test_redis_cmd(bo_h_redis_sock(&W.srv, sock), cmd, out, sizeof(out), 5000) <= 0)
        return -1;
    if (out[0] == ':')
        return atoll(out + 1);
    if (out[0] == '$') {
        const char *nl = strstr(out, "\r\n");
        return nl ? atoll(nl + 2) : -1;
    }
    return -1;
}

/* ------------------------------------------------------------------ drill ---- */

static void drill_setup(drill *d, const char *oid)
{
    const char *A = W.srv.url, *B = NODE_B.url;
    tc *h = bo_world_staff_at(&W, "host", "host", A, NULL);
    assert_true(bo_world_connect(&W, h));
    /* sign-in open now; the deadline well after the drill */
    assert_true(bo_world_create(&W, h, oid, 0, 600000, COUNTS_EARLY, d->oid));
    tc_free(h);

    d->sup_a = bo_world_staff_at(&W, "supervisor", "supervisor", A, oid);
    d->sup_b = bo_world_staff_at(&W, "supervisor", "supervisor", B, oid);
    d->host = bo_world_staff_at(&W, "host", "host", A, oid);
    d->obs_a = bo_world_observer_at(&W, "obs-a", A, oid);
    d->obs_b = bo_world_observer_at(&W, "obs-b", B, oid);
    size_t n = 0;
    d->all[n++] = d->sup_a;
    d->all[n++] = d->sup_b;
    d->all[n++] = d->obs_a;
    d->all[n++] = d->host;
    d->all[n++] = d->obs_b;
    for (int i = 0; i < NB; i++) {
        d->b[i] = bo_world_bidder_at(&W, NAMES[i], true, ON_B[i] ? B : A, oid);
        bo_world_bidder_field(&W, NAMES[i], "uscc", d->uscc[i]);
        d->all[n++] = d->b[i];
    }
    d->n_all = n;
    /* the supervisors and the reference observer first: they see everything after */
    assert_int_equal(bo_world_connect_all(&W, d->all, 3, 20000), 3);
    assert_int_equal(bo_world_connect_all(&W, d->all + 3, n - 3, 30000), n - 3);
    for (int i = 0; i < NB; i++)
        assert_int_equal(bo_world_register(&W, d->b[i]), BO_E_OK);
    assert_int_equal(bo_world_signin(&W, d->b[ACKED]), BO_E_OK);
    settle s = {d, 1};
    assert_int_equal(bo_client_run_until(&W.loop, settled, &s, 20000), BO_E_OK);
}

static void run_drill(drill *d)
{
    char body[256];
    pid_t pid = bo_h_redis_pid(&W.srv);
    assert_true(pid > 0);
    uint64_t top_before = tc_last_seq(d->sup_a, "all");

    /* Redis goes away; two sign-ins are sent right after (A and B): in flight */
    int64_t t0 = bo_clock_mono_ms();
    assert_int_equal(kill(pid, d->sig), 0);
    send_signin(d, INFLIGHT_A);
    send_signin(d, INFLIGHT_B);
    static const int inflight[] = {INFLIGHT_A, INFLIGHT_B};
    wait_replies(d, inflight, 2, 30000);
    for (size_t k = 0; k < 2; k++) {
        int i = inflight[k];
        tc *t = d->b[i];
        printf("# %s: sign-in in flight on %s: %s after %lld ms (%s)\n", d->name,
               ON_B[i] ? "B" : "A", t->reply_code, (long long)d->latency[i], t->reply_msg);
        if (d->sig == SIGSTOP) {
            /* Redis cannot have answered: the store's command timeout ends the wait, and the
             * outcome is unknown: kept, written once when Redis is back */
            assert_string_equal(t->reply_code, "E_STORE_PENDING");
        } else if (t->reply_err != BO_E_OK) {
            /* killed: its reply may have left just before the kill; or the broken connection
             * caught it while being written (pending), or before it was sent (unavailable:
             * the retries below check that such a one changed nothing) */
            assert_true(!strcmp(t->reply_code, "E_STORE_PENDING") ||
                        !strcmp(t->reply_code, "E_STORE_UNAVAILABLE"));
        }
        assert_true(t->reply_err == BO_E_OK || strlen(t->reply_msg) > 0);
        assert_true(d->latency[i] <= INFLIGHT_BOUND_MS);
    }

    /* both nodes say so */
    int64_t t503_a = health_until(&W.srv, 503, 15000, body, sizeof(body));
    assert_true(t503_a >= 0);
    assert_string_equal(body, "store unavailable\n");
    int64_t t503_b = health_until(&NODE_B, 503, 15000, body, sizeof(body));
    assert_true(t503_b >= 0);
    assert_string_equal(body, "store unavailable\n");
    int64_t down_seen = bo_clock_mono_ms() - t0;

    /* sign-ins during the outage: refused at once, on A and on B (a killed Redis may be back
     * already: then they succeed, which is fine too) */
    static const int during[] = {DURING_A, DURING_B};
    send_signin(d, DURING_A);
    send_signin(d, DURING_B);
    wait_replies(d, during, 2, 30000);
    for (size_t k = 0; k < 2; k++) {
        int i = during[k];
        tc *t = d->b[i];
        printf("# %s: sign-in during the outage on %s: %s after %lld ms (%s)\n", d->name,
               ON_B[i] ? "B" : "A", t->reply_code, (long long)d->latency[i], t->reply_msg);
        if (d->sig == SIGSTOP || t->reply_err != BO_E_OK) {
            assert_string_equal(t->reply_code, "E_STORE_UNAVAILABLE");
            assert_true(d->latency[i] <= QUICK_BOUND_MS);
        }
    }
    /* the server itself answers meanwhile */
    bo_msg tm = {.type = BO_MSG_TIME};
    tm.u.time.t0 = bo_clock_now_ms();
    tc_reply_reset(d->obs_a);
    int64_t ts = bo_clock_mono_ms();
    assert_int_equal(bo_client_request(d->obs_a->c, &tm, tc_on_reply, d->obs_a), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, d->obs_a, 5000), BO_E_OK);
    printf("# %s: `time` during the outage answered in %lld ms\n", d->name,
           (long long)(bo_clock_mono_ms() - ts));

    if (d->sig == SIGSTOP) {
        int64_t left = OUTAGE_MS - (bo_clock_mono_ms() - t0);
        if (left > 0)
            bo_world_run(&W, (int)left);
        assert_int_equal(kill(pid, SIGCONT), 0);
    }
    int64_t t_back = bo_clock_mono_ms();
    int64_t up_a = health_until(&W.srv, 200, 30000, body, sizeof(body));
    assert_true(up_a >= 0);
    int64_t up_b = health_until(&NODE_B, 200, 30000, body, sizeof(body));
    assert_true(up_b >= 0);
    printf("# %s: Redis gone for %lld ms; both nodes 503 within %lld ms of it; 200 again "
           "%lld ms (A) and %lld ms (B) after %s\n",
           d->name, (long long)(t_back - t0), (long long)down_seen, (long long)up_a,
           (long long)(up_a + up_b), d->sig == SIGSTOP ? "SIGCONT" : "the outage");
    if (d->sig == SIGKILL) {
        pid_t now = bo_h_redis_pid(&W.srv);
        assert_true(now > 0 && now != pid); /* the supervisor started a new one */
    }

    /* the bidders retry: each succeeds, once */
    static const int retry[] = {INFLIGHT_A, INFLIGHT_B, DURING_A, DURING_B};
    int landed = 0;
    for (size_t k = 0; k < 4; k++) {
        int i = retry[k];
        bool was_ok = d->b[i]->reply_err == BO_E_OK;
        bool pending = !strcmp(d->b[i]->reply_code, "E_STORE_PENDING");
        assert_int_equal(bo_world_signin(&W, d->b[i]), BO_E_OK);
        bool already = strstr(d->b[i]->reply_json, "\"already\":true") != NULL;
        printf("# %s: %s retried: ok %s\n", d->name, NAMES[i], d->b[i]->reply_json);
        if (was_ok || pending)
            assert_true(already); /* a pending one was written when Redis came back */
        else if (already)
            landed++;
    }
    printf("# %s: %d of the sign-ins refused with E_STORE_UNAVAILABLE had landed anyway (must "
           "be 0: those changed nothing)\n",
           d->name, landed);
    assert_int_equal(landed, 0);
    assert_int_equal(bo_world_signin(&W, d->b[AFTER]), BO_E_OK);
    assert_non_null(strstr(d->b[AFTER]->reply_json, "\"already\":false"));

    settle s = {d, NB};
    if (bo_client_run_until(&W.loop, settled, &s, 30000) != BO_E_OK) {
        for (size_t i = 0; i < d->n_all; i++)
            fprintf(stderr, "%s: pub %llu all %llu, %zu sign-ins\n", d->all[i]->name,
                    (unsigned long long)tc_last_seq(d->all[i], "pub"),
                    (unsigned long long)tc_last_seq(d->all[i], "all"),
                    tc_count(d->all[i], "bidder_signed_in"));
        fail_msg("the clients did not all catch up");
    }
    bo_world_run(&W, 500);

    /* no connection dropped */
    for (size_t i = 0; i < d->n_all; i++) {
        tc *t = d->all[i];
        if (t->backoffs || t->joins != 1 || bo_client_connects(t->c) != 1)
            fail_msg("%s: %u reconnects, %u joins, %llu connections", t->name, t->backoffs,
                     t->joins, (unsigned long long)bo_client_connects(t->c));
    }
    /* the log: each bidder signed in exactly once; the same through both nodes */
    assert_true(tc_same_all(d->sup_a, d->sup_b));
    for (int i = 0; i < NB; i++) {
        if (count_with(d->sup_a, "bidder_signed_in", d->uscc[i]) != 1)
            fail_msg("%s: %zu sign-ins in the log", NAMES[i],
                     count_with(d->sup_a, "bidder_signed_in", d->uscc[i]));
        assert_int_equal(count_with(d->sup_a, "bidder_registered", d->uscc[i]), 1);
    }
    /* nothing half-applied: stream, stored top and what the supervisors saw agree */
    uint64_t top = tc_last_seq(d->sup_a, "all");
    long long xlen = redis_int("XLEN", d->oid, "log");
    long long meta = redis_int("HGET", d->oid, "meta seq");
    printf("# %s: log %llu -> %llu events (stream %lld, stored top %lld)\n", d->name,
           (unsigned long long)top_before, (unsigned long long)top, xlen, meta);
    assert_int_equal(xlen, (long long)top);
    assert_int_equal(meta, (long long)top);
    /* every client: complete, no gap, no duplicate */
    for (size_t i = 0; i < d->n_all; i++) {
        tc *t = d->all[i];
        if (t == d->sup_a || t == d->sup_b)
            continue;
        assert_true(tc_same_pub(d->obs_a, t));
    }
    assert_true(tc_gap_free(d->host, "staff", d->host->first_pos_priv));
    for (int i = 0; i < NB; i++) {
        assert_true(tc_gap_free(d->b[i], "b", d->b[i]->first_pos_priv));
        assert_int_equal(tc_count(d->b[i], "bidder_signed_in"), 1);
    }
    /* the last tally counts every sign-in, on both nodes */
    const tc_event *ta = tc_last(d->obs_a, "tally"), *tb = tc_last(d->obs_b, "tally");
    assert_non_null(ta);
    assert_non_null(tb);
    assert_non_null(strstr(ta->body_json, "\"signed_in\":6"));
    assert_int_equal(memcmp(ta->hash, tb->hash, 32), 0);

    for (size_t i = 0; i < d->n_all; i++)
        tc_free(d->all[i]);
    memset(d->all, 0, sizeof(d->all));
    bo_world_run(&W, 200);
}

static void sigstop_10s(void **state)
{
    (void)state;
    drill d = {.name = "SIGSTOP", .sig = SIGSTOP};
    drill_setup(&d, "T-stop");
    run_drill(&d);
}

static void sigkill_restart(void **state)
{
    (void)state;
    drill d = {.name = "SIGKILL", .sig = SIGKILL};
    drill_setup(&d, "T-kill");
    run_drill(&d);
    /* the supervisor said what happened */
    assert_true(bo_h_server_log_has(&W.srv, "exited unexpectedly"));
}

/* A `message` whose append was on its way when Redis froze is answered E_STORE_PENDING and
 * is in the log exactly once after Redis resumes, without being sent again. */
static void pending_message_written_once(void **state)
{
    (void)state;
    char oid[65], body[256];
    const char *text = "开标前说明：请各投标人准备 CA 证书 (sent while Redis was stopped)";
    tc *h = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h));
    assert_true(bo_world_create(&W, h, "T-msg", 0, 600000, "", oid));
    tc_free(h);
    tc *host = bo_world_staff(&W, "host", "host", oid);
    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    assert_true(bo_world_connect(&W, sup));
    assert_true(bo_world_connect(&W, host));
    bo_world_run(&W, 300);

    pid_t pid = bo_h_redis_pid(&W.srv);
    assert_true(pid > 0);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    tc_reply_reset(host);
    int64_t t0 = bo_clock_mono_ms();
    assert_int_equal(bo_client_message(host->c, NULL, text, tc_on_reply, host), BO_E_OK);
    bo_err e = tc_wait_reply(&W.loop, host, 15000);
    printf("# message in flight when Redis stopped: %s after %lld ms: %s\n", host->reply_code,
           (long long)(bo_clock_mono_ms() - t0), host->reply_msg);
    bo_world_run(&W, 2000);
    assert_int_equal(kill(pid, SIGCONT), 0);
    assert_true(health_until(&W.srv, 200, 30000, body, sizeof(body)) >= 0);
    assert_int_equal(e, BO_E_STORE_PENDING);

    /* not sent again: the server writes it once */
    assert_true(tc_wait_event(&W.loop, sup, "message", 15000));
    bo_world_run(&W, 1500);
    size_t n = count_with(sup, "message", "sent while Redis was stopped");
    printf("# the log holds the message %zu time(s)\n", n);
    tc_free(host);
    tc_free(sup);
    bo_world_run(&W, 200);
    assert_int_equal(n, 1);
}

/* Both nodes stop cleanly after the drills. */
static void clean_stop(void **state)
{
    (void)state;
    assert_int_equal(bo_h_server_stop(&NODE_B, SIGTERM, 20000), 0);
    assert_int_equal(bo_world_stop(&W), 0);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "fault-redis", NULL);
    bo_h_path(CA, W.pki, "server/ca.pem");
    char sock[700];
    snprintf(sock, sizeof(sock), "unix:%s/data/redis.sock", W.srv.dir);
    const char *args[] = {"--redis", sock, "--node", "B", NULL};
    bo_world_node(&W, &NODE_B, "nodeB", args);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pid_t pid = bo_h_redis_pid(&W.srv);
    if (pid > 0)
        kill(pid, SIGCONT); /* a failed drill may have left it stopped */
    if (NODE_B.pid > 0 && bo_h_server_stop(&NODE_B, SIGTERM, 20000) != 0)
        bo_h_server_dump_log(&NODE_B);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigstop_10s),
        cmocka_unit_test(sigkill_restart),
        cmocka_unit_test(pending_message_written_once),
        cmocka_unit_test(clean_stop),
    };
    if (getenv("BO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
