/* Fault drill: hostile clients all at once during an opening (issue "Benchmarks against the
 * anchors, and fault drills": slowloris and half-open connections, unauthenticated floods,
 * oversize frames and a client that never reads; the opening proceeds for everyone else).
 *
 * An opening with its host, a supervisor, an observer, a site and five bidders, all
 * connected before. Then tests/support/bo_attack's thread opens, interleaved,
 *   100 half-open TCP connections (no TLS ClientHello),
 *   100 slowloris connections (TLS, then an HTTP request one byte every 500 ms),
 *   150 unauthenticated WebSocket connections sending 30 requests each,
 *    50 oversize frames (300 KiB over the 256 KiB cap),
 *    20 observers that join the opening, re-join every 100 ms and never read,
 * and while they are there the opening goes on: a new observer connects and joins, the
 * bidders register, three submit sealed bids and all sign in, the host, the supervisor and
 * the site send messages (the host's one per 5 s, about 17 s in all), and the deadline
 * passes (the bidders revealed); then the host pauses and resumes (only allowed after the
 * deadline; the last attackers may be gone by then).
 *
 * Checked: every attacker is cut by the server (each kind within its bound), every request
 * of the participants succeeds within a generous bound (10 s), no participant lost its
 * connection, every participant's streams are complete and in order and the same for
 * everyone (and as a supervisor joining afterwards sees them); afterwards the server's
 * descriptors are back at the baseline and its resident memory near it.
 *
 * The server gets a small ASan quarantine (ASAN_OPTIONS quarantine_size_mb=16) so that its
 * resident memory shows what it holds rather than what the sanitizer keeps back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo_attack.h"
#include "bo_faults.h"
#include "bo_itest.h"

#define REQ_BOUND_MS 10000  /* any participant's request under attack */
#define CUT_BOUND_S 120     /* every attacker cut within this of the attack's start */
/* Each kind is cut within (from its own set-up): half-open and slowloris by libwebsockets'
 * handshake and header timeouts (about 10 s and 5 to 10 s), unauthenticated ones by the 10 s
 * auth deadline plus the 3 s the server waits for the close frame's answer (they never
 * answer), oversize frames after that same 3 s, readers that never read by the idle hang-up
 * (40 s without a pong). The bounds leave room for a loaded machine. */
static const int64_t CUT_MAX_MS[BO_ATK_KINDS] = {30000, 30000, 20000, 10000, 60000};
#define DEADLINE_MS 50000   /* from the opening's creation: after the bids and sign-ins */

static bo_world W;
static char CA[600];
static bo_attack *ATK;

/* ---------------------------------------------------------------- helpers ---- */

static unsigned server_fds(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)W.srv.pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static long server_rss_kib(void)
{
    char path[64], *s;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)W.srv.pid);
    size_t len;
    s = bo_h_read_file(path, &len);
    assert_non_null(s);
    const char *p = strstr(s, "VmRSS:");
    long kib = p ? atol(p + 6) : -1;
    free(s);
    return kib;
}

static double metric(const char *name)
{
    static char body[65536];
    if (bo_h_http_get(W.srv.port, CA, "/metrics", body, sizeof(body), 10000) != 200)
        return -1;
    return bo_h_prom_value(body, name);
}

typedef struct timing {
    int64_t max_ms, sum_ms;
    unsigned n;
    const char *worst;
} timing;

static void timed(timing *t, const char *what, int64_t ms)
{
    if (ms > t->max_ms) {
        t->max_ms = ms;
        t->worst = what;
    }
    t->sum_ms += ms;
    t->n++;
}

/* Send a request through a helper's return value and wait for its reply: ok within the
 * bound, or the test fails naming it. */
static void req_ok(timing *tm, tc *t, const char *what, bo_err sent, int64_t t0)
{
    assert_int_equal(sent, BO_E_OK);
    bo_err e = tc_wait_reply(&W.loop, t, REQ_BOUND_MS + 20000);
    int64_t ms = bo_clock_mono_ms() - t0;
    if (e != BO_E_OK)
        fail_msg("%s (%s): %s %s after %lld ms", what, t->name, t->reply_code, t->reply_msg,
                 (long long)ms);
    if (ms > REQ_BOUND_MS)
        fail_msg("%s (%s): took %lld ms", what, t->name, (long long)ms);
    timed(tm, what, ms);
}

static void print_attack(const char *when)
{
    bo_atk_stats st[BO_ATK_KINDS];
    bo_attack_stats_get(ATK, st);
    for (int k = 0; k < BO_ATK_KINDS; k++)
        printf("# %s: %-9s %3u planned, %3u set up, %3u failed, %3u cut (%lld..%lld ms after "
               "set-up, the last at %lld ms), %3u open\n",
               when, bo_attack_kind_name((bo_atk_kind)k), st[k].planned, st[k].set_up,
               st[k].failed, st[k].cut, (long long)st[k].cut_min_ms,
               (long long)st[k].cut_max_ms, (long long)st[k].last_cut_at_ms, st[k].open);
}

static bool attack_over(void *ud)
{
    (void)ud;
    return bo_attack_ready(ATK) && bo_attack_open(ATK) == 0;
}

static bool attack_ready(void *ud)
{
    (void)ud;
    return bo_attack_ready(ATK);
}

/* ------------------------------------------------------------------ drill ---- */

static void opening_proceeds_under_attack(void **state)
{
    (void)state;
    char oid[65];
    int64_t t_create = bo_clock_mono_ms();
    tc *h = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h));
    /* the deadline after the attack's busiest part: bids and sign-ins happen under it */
    assert_true(bo_world_create(&W, h, "T-abuse", 0, DEADLINE_MS, "", oid));
    tc_free(h);

    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    tc *obs = bo_world_observer(&W, "obs", oid);
    tc *host = bo_world_staff(&W, "host", "host", oid);
    tc *site = bo_world_staff(&W, "site-1", "site", oid);
    const char *names[] = {"b1-rsa", "b2-p256", "b5-mixed", "b3-sm2", "b4-mixed"};
    enum { NB = 5, NSEALED = 3 };
    tc *b[NB];
    for (int i = 0; i < NB; i++)
        b[i] = bo_world_bidder(&W, names[i], true, oid);
    tc *all[] = {sup, obs, host, site, b[0], b[1], b[2], b[3], b[4]};
    const size_t NALL = sizeof(all) / sizeof(all[0]);
    assert_int_equal(bo_world_connect_all(&W, all, 2, 30000), 2);
    assert_int_equal(bo_world_connect_all(&W, all + 2, NALL - 2, 30000), NALL - 2);
    bo_world_run(&W, 1500);

    /* the baseline: everyone connected, nothing hostile yet */
    unsigned fd0 = server_fds();
    long rss0 = server_rss_kib();
    double conns0 = metric("bidopen_connections_accepted_total");
    printf("# baseline: %u descriptors, %ld KiB resident, %zu participants\n", fd0, rss0, NALL);

    /* the attack */
    bo_attack_plan plan = {.port = W.srv.port, .oid = oid, .n = {100, 100, 150, 50, 20}};
    int64_t t_atk = bo_clock_mono_ms();
    ATK = bo_attack_start(&plan);
    assert_true(bo_h_run_until(&W.loop, attack_ready, NULL, 60000));
    unsigned fd_peak = server_fds();
    long rss_peak = server_rss_kib();
    printf("# attack set up in %lld ms: server at %u descriptors, %ld KiB\n",
           (long long)bo_attack_setup_ms(ATK), fd_peak, rss_peak);
    print_attack("set up");

    /* the opening goes on */
    timing tm = {0};
    int64_t t0 = bo_clock_mono_ms();
    tc *late = bo_world_observer(&W, "late-obs", oid);
    assert_true(bo_world_connect(&W, late));
    timed(&tm, "connect+join", bo_clock_mono_ms() - t0);
    for (int i = 0; i < NB; i++) {
        t0 = bo_clock_mono_ms();
        bo_err e = bo_world_register(&W, b[i]);
        if (e)
            fail_msg("register %s: %s %s", names[i], b[i]->reply_code, b[i]->reply_msg);
        timed(&tm, "register", bo_clock_mono_ms() - t0);
    }
    for (int i = 0; i < NSEALED; i++) {
        t0 = bo_clock_mono_ms();
        assert_int_equal(bo_world_submit_bid(&W, b[i], oid), BO_E_OK);
        timed(&tm, "submit (3 requests)", bo_clock_mono_ms() - t0);
    }
    for (int i = 0; i < NB; i++) {
        t0 = bo_clock_mono_ms();
        bo_err e = bo_world_signin(&W, b[i]);
        if (e)
            fail_msg("signin %s: %s %s", names[i], b[i]->reply_code, b[i]->reply_msg);
        timed(&tm, "signin", bo_clock_mono_ms() - t0);
    }
    /* messages: the host's are one per 5 s (protocol.md §11), a supervisor's and a site's
     * in between */
    tc *senders[] = {host, sup, host, site, host};
    enum { NMSG = sizeof(senders) / sizeof(senders[0]) };
    for (int i = 0; i < NMSG; i++) {
        char text[400];
        snprintf(text, sizeof(text),
                 "第%d条说明：开标正在进行，请各投标人保持在线并留意主持人的通知。Notice %d "
                 "from %s while the server is under attack.",
                 i + 1, i + 1, senders[i]->name);
        tc *t = senders[i];
        tc_reply_reset(t);
        t0 = bo_clock_mono_ms();
        req_ok(&tm, t, "message", bo_client_message(t->c, NULL, text, tc_on_reply, t), t0);
        if (t == host)
            bo_world_run(&W, 5500);
    }
    printf("# under attack: %u requests of the participants, mean %lld ms, max %lld ms (%s)\n",
           tm.n, (long long)(tm.sum_ms / (tm.n ? tm.n : 1)), (long long)tm.max_ms,
           tm.worst ? tm.worst : "-");
    print_attack("by the last command");
    assert_true(tm.max_ms <= REQ_BOUND_MS);

    /* the deadline passes for everyone */
    int64_t left = DEADLINE_MS - (bo_clock_mono_ms() - t_create) + 20000;
    assert_true(tc_wait_event(&W.loop, sup, "bidders_revealed", (int)(left > 1000 ? left : 1000)));
    /* the host pauses the opening and resumes it (allowed after the deadline) */
    bo_world_run(&W, 500);
    tc_reply_reset(host);
    t0 = bo_clock_mono_ms();
    req_ok(&tm, host, "pause",
           bo_client_pause(host->c, NULL, "网络检查 (network check)", tc_on_reply, host), t0);
    bo_world_run(&W, 1000);
    tc_reply_reset(host);
    t0 = bo_clock_mono_ms();
    req_ok(&tm, host, "resume", bo_client_resume(host->c, NULL, tc_on_reply, host), t0);
    printf("# after the deadline, pause and resume: max %lld ms (%s)\n", (long long)tm.max_ms,
           tm.worst ? tm.worst : "-");
    print_attack("after pause and resume");
    assert_true(tm.max_ms <= REQ_BOUND_MS);

    /* every attacker is cut */
    int64_t waited = bo_clock_mono_ms() - t_atk;
    int64_t rest = (int64_t)CUT_BOUND_S * 1000 - waited;
    bool over = bo_h_run_until(&W.loop, attack_over, NULL, (int)(rest > 0 ? rest : 1));
    print_attack("at the end");
    bo_atk_stats st[BO_ATK_KINDS];
    bo_attack_stats_get(ATK, st);
    for (int k = 0; k < BO_ATK_KINDS; k++)
        if (st[k].set_up < st[k].planned * 9 / 10)
            fail_msg("%s: only %u of %u could be set up", bo_attack_kind_name((bo_atk_kind)k),
                     st[k].set_up, st[k].planned);
    if (!over)
        fail_msg("%u attackers still connected %d s after the attack began",
                 bo_attack_open(ATK), CUT_BOUND_S);
    for (int k = 0; k < BO_ATK_KINDS; k++)
        if (st[k].cut_max_ms > CUT_MAX_MS[k])
            fail_msg("%s: one was cut only %lld ms after its set-up (bound %lld ms)",
                     bo_attack_kind_name((bo_atk_kind)k), (long long)st[k].cut_max_ms,
                     (long long)CUT_MAX_MS[k]);
    bo_world_run(&W, 1000);
    bo_attack_stop(ATK);
    ATK = NULL;

    /* everyone else: no reconnect, every stream complete and in order, the same for all */
    tc *every[] = {sup, obs, host, site, b[0], b[1], b[2], b[3], b[4], late};
    const size_t NEV = sizeof(every) / sizeof(every[0]);
    bo_world_run(&W, 1500);
    for (size_t i = 0; i < NEV; i++) {
        tc *t = every[i];
        if (t->backoffs || t->joins != 1 || bo_client_connects(t->c) != 1)
            fail_msg("%s: %u reconnects, %u joins, %llu connections", t->name, t->backoffs,
                     t->joins, (unsigned long long)bo_client_connects(t->c));
        if (t != sup)
            assert_true(tc_same_pub(obs, t));
    }
    assert_true(tc_gap_free(sup, "all", sup->first_pos_all));
    assert_true(tc_gap_free(host, "staff", host->first_pos_priv));
    for (int i = 0; i < NB; i++) {
        assert_true(tc_gap_free(b[i], "b", b[i]->first_pos_priv));
        assert_int_equal(tc_count(b[i], "bidder_signed_in"), 1);
    }
    assert_int_equal(tc_count(sup, "bidder_signed_in"), NB);
    assert_int_equal(tc_count(sup, "bid_submitted"), NSEALED);
    assert_int_equal(tc_count(obs, "message"), NMSG);
    assert_int_equal(tc_count(late, "message"), NMSG);
    tc *sup2 = bo_world_staff(&W, "supervisor", "supervisor", oid);
    assert_true(bo_world_connect(&W, sup2));
    printf("# the log: %llu events; a supervisor joining now starts at %llu\n",
           (unsigned long long)tc_last_seq(sup, "all"),
           (unsigned long long)tc_snap_pos(sup2, "all"));
    assert_int_equal(tc_snap_pos(sup2, "all"), tc_last_seq(sup, "all"));
    tc_free(sup2);
    tc_free(late);

    /* the server let go of what the attackers held: back to the baseline's participants;
     * its tick hands freed pages back every 10 s */
    bo_world_run(&W, 12000);
    unsigned fd1 = server_fds();
    long rss1 = server_rss_kib();
    double refused = metric("bidopen_connections_refused_total");
    double lagging = metric("bidopen_lagging_closed_total");
    double accepted = metric("bidopen_connections_accepted_total");
    printf("# afterwards: %u descriptors (baseline %u, peak %u), %ld KiB resident (baseline "
           "%ld, peak %ld, %+ld), %.0f WebSocket connections accepted during the drill, %.0f "
           "refused, %.0f closed for lagging\n",
           fd1, fd0, fd_peak, rss1, rss0, rss_peak, rss1 - rss0, accepted - conns0, refused,
           lagging);
    assert_true(fd_peak > fd0 + 100); /* the attack was really there */
    assert_true(fd1 <= fd0 + 2);
    assert_true(rss1 - rss0 <= 32 * 1024);
    (void)t_atk;
    for (size_t i = 0; i < NALL; i++)
        tc_free(all[i]);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    /* the server (a child) keeps little freed memory back; the test's own ASan is as it was */
    char opts[1024];
    const char *old = getenv("ASAN_OPTIONS");
    snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=16", old ? old : "",
             old && *old ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    bo_world_up(&W, "fault-abuse", NULL);
    bo_h_path(CA, W.pki, "server/ca.pem");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_attack_stop(ATK);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opening_proceeds_under_attack),
    };
    if (getenv("BO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
