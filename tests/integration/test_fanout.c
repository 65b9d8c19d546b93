/* End to end, through the real bidopen-server over TLS: fan-out.
 *
 *   - 200 clients in one opening all receive every event in the same order;
 *   - a client that drops and reconnects misses nothing and sees nothing twice (and one that
 *     comes back to a server that cannot serve its cursor gets a fresh snapshot);
 *   - a client that never reads is cut off without slowing the others.
 *
 * The public events come from what an opening has before its bids: tallies (public with
 * counts_early), which follow every registration, sign-in and interception, made here by a
 * blacklisted organisation that keeps trying to register; then the deadline's events and
 * the host's `fail`. (Pausing after the deadline needs a quorum of sealed bids; that path
 * is test_fanout_bids.c.)
 *
 * Counts and waits are bounded so that the whole file stays well under two minutes with
 * ASan on two shared cores. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo_itest.h"
#include "bo_rawws.h"

static bo_world W;
static bo_h_server NODES[2]; /* other servers; stopped at teardown if a test failed */
static bo_rawws_ctx *RX;      /* freed at teardown if a test failed (it keeps the loop busy) */

static const char *BIDDERS[] = {"b1-rsa", "b2-p256", "b3-sm2"};
#define N_BIDDERS 3
#define COUNTS_EARLY "\"counts_early\":true"

/* ---------------------------------------------------------------- checks ---- */

/* The events of stream st, in the order received. */
static size_t stream_of(const tc *t, const char *st, const tc_event **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_events && n < max; i++)
        if (!strcmp(t->events[i].st, st))
            out[n++] = &t->events[i];
    return n;
}

/* Stream st of t is gap-free and duplicate-free from its first join's position. */
static void check_gap_free(const tc *t, const char *st, uint64_t first_pos)
{
    uint64_t want = first_pos + 1;
    for (size_t i = 0; i < t->n_events; i++) {
        const tc_event *e = &t->events[i];
        if (strcmp(e->st, st))
            continue;
        if (e->seq != want)
            fprintf(stderr, "%s: %s stream: got seq %llu, expected %llu\n", t->name, st,
                    (unsigned long long)e->seq, (unsigned long long)want);
        assert_int_equal(e->seq, want);
        want++;
    }
}

/* t's pub stream is exactly ref's, from t's first join position to ref's last event. */
static void check_same_pub(const tc *ref, const tc *t)
{
    check_gap_free(t, "pub", t->first_pos_pub);
    static const tc_event *r[TC_MAX_EVENTS], *e[TC_MAX_EVENTS];
    size_t nr = stream_of(ref, "pub", r, TC_MAX_EVENTS);
    size_t ne = stream_of(t, "pub", e, TC_MAX_EVENTS);
    assert_true(nr > 0);
    assert_true(ref->first_pos_pub <= t->first_pos_pub);
    size_t off = (size_t)(t->first_pos_pub - ref->first_pos_pub);
    if (ne + off != nr)
        fprintf(stderr, "%s: %zu pub events from %llu, the reference %s has %zu from %llu\n",
                t->name, ne, (unsigned long long)t->first_pos_pub, ref->name, nr,
                (unsigned long long)ref->first_pos_pub);
    assert_int_equal(ne + off, nr);
    for (size_t i = 0; i < ne; i++) {
        assert_int_equal(e[i]->seq, r[i + off]->seq);
        assert_string_equal(e[i]->kind, r[i + off]->kind);
        assert_memory_equal(e[i]->hash, r[i + off]->hash, 32);
    }
}

/* The position of an event in the log (global seq), found by its hash in the supervisor's
 * `all` stream; 0 if the supervisor does not have it. */
static uint64_t global_seq(const tc *sup, const uint8_t hash[32])
{
    for (size_t i = 0; i < sup->n_events; i++)
        if (!memcmp(sup->events[i].hash, hash, 32))
            return sup->events[i].seq;
    return 0;
}

/* Every event t received is in the log (the supervisor has it with the same kind), t got
 * them in log order across its streams, and each private event's `at` is the number of pub
 * events before it. Returns how many private events t received. */
static size_t check_log_order(const tc *sup, const tc *t)
{
    uint64_t last_global = 0, pub_pos = t->first_pos_pub;
    size_t priv = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        const tc_event *e = &t->events[i];
        uint64_t g = global_seq(sup, e->hash);
        if (!g)
            fprintf(stderr, "%s: %s#%llu %s is not in the supervisor's log\n", t->name, e->st,
                    (unsigned long long)e->seq, e->kind);
        assert_true(g > 0);
        assert_string_equal(sup->events[g - sup->events[0].seq].kind, e->kind);
        assert_true(g > last_global);
        last_global = g;
        if (!strcmp(e->st, "pub")) {
            pub_pos = e->seq;
        } else {
            priv++;
            assert_true(e->has_at);
            assert_int_equal(e->at, pub_pos);
        }
    }
    return priv;
}

/* ------------------------------------------------------------- openings ---- */

/* Create an opening on url with counts_early: check-in in checkin_ms, the deadline in
 * deadline_ms. */
static void create_opening(const char *url, const char *want_oid, int64_t checkin_ms,
                           int64_t deadline_ms, char oid[65])
{
    tc *h = bo_world_staff_at(&W, "host", "host", url, NULL);
    assert_true(bo_world_connect(&W, h));
    assert_true(bo_world_create(&W, h, want_oid, checkin_ms, deadline_ms, COUNTS_EARLY, oid));
    tc_free(h);
}

/* The host of the opening, joined to it. */
static tc *joined_host(const char *url, const char *oid)
{
    tc *host = bo_world_staff_at(&W, "host", "host", url, oid);
    assert_true(bo_world_connect(&W, host));
    return host;
}

/* Each bidder registers and signs in: two private events each, each with a public tally. */
static void register_sign_in(tc **b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(bo_world_register(&W, b[i]), BO_E_OK);
        assert_int_equal(bo_world_signin(&W, b[i]), BO_E_OK);
    }
}

/* n public events: the blacklisted organisation tries to register n times; each attempt is
 * intercepted (bidder_intercepted, for the supervisor) and counted (tally, public). */
static void intercepted(tc *bl, int n)
{
    for (int i = 0; i < n; i++) {
        bo_err e = bo_world_register(&W, bl);
        if (e != BO_E_BLACKLISTED)
            fprintf(stderr, "blacklisted register: %s %s\n", bl->reply_code, bl->reply_msg);
        assert_int_equal(e, BO_E_BLACKLISTED);
    }
}

typedef struct kind_n {
    tc *t;
    const char *kind;
    size_t n;
} kind_n;

static bool has_kind_n(void *arg)
{
    kind_n *k = arg;
    return tc_count(k->t, k->kind) >= k->n;
}

/* A client's events arrive after the reply to the command that made them (the reply goes
 * first): run until t has seen n events of this kind, and return its last pub seq. */
static uint64_t caught_up(tc *t, const char *kind, size_t n)
{
    kind_n k = {t, kind, n};
    assert_int_equal(bo_client_run_until(&W.loop, has_kind_n, &k, 10000), BO_E_OK);
    return tc_last_seq(t, "pub");
}

/* Run until t's pub stream has not moved for 500 ms; return its last pub seq. */
static uint64_t settled(tc *t)
{
    uint64_t last;
    do {
        last = tc_last_seq(t, "pub");
        bo_world_run(&W, 500);
    } while (tc_last_seq(t, "pub") != last);
    return last;
}

typedef struct seq_all {
    tc *const *v;
    size_t n;
    const char *st;
    uint64_t seq;
} seq_all;

static bool all_at(void *arg)
{
    seq_all *a = arg;
    for (size_t i = 0; i < a->n; i++)
        if (tc_last_seq(a->v[i], a->st) < a->seq)
            return false;
    return true;
}

/* Run until every client in v has seen seq in stream st. */
static bool wait_all_seq(tc *const *v, size_t n, const char *st, uint64_t seq, int timeout_ms)
{
    seq_all a = {v, n, st, seq};
    return bo_client_run_until(&W.loop, all_at, &a, timeout_ms) == BO_E_OK;
}

/* ------------------------------------------------------- 200 in one room ---- */

#define N_CLIENTS 200
#define N_INTERCEPTS 30

/* 200 clients (observers, bidders, a site, the host, a supervisor) in one opening: every
 * pub reader gets the same (seq, kind, hash) sequence without gaps, and the bidders and the
 * supervisor get their private events interleaved with it in log order. */
static void two_hundred_clients_same_order(void **state)
{
    (void)state;
    char oid[65];
    int64_t t0 = bo_clock_mono_ms();
    /* the deadline far away: joining 200 clients takes 2 s on an idle machine and 20 s on
     * a loaded one, and everything here happens in check-in */
    create_opening(W.srv.url, "T-fanout", 0, 3600 * 1000, oid);
    int64_t created = bo_clock_mono_ms();
    bo_world_run(&W, 300); /* the check-in phase change */
    /* the supervisor first: its `all` stream is the log every other client is checked
     * against */
    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    assert_true(bo_world_connect(&W, sup));
    tc *host = joined_host(W.srv.url, oid);

    static tc *all[N_CLIENTS];
    size_t n = 0;
    all[n++] = sup;
    all[n++] = host;
    tc *site = all[n++] = bo_world_staff(&W, "site-1", "site", oid);
    tc *b[N_BIDDERS];
    for (int i = 0; i < N_BIDDERS; i++)
        b[i] = all[n++] = bo_world_bidder(&W, BIDDERS[i], true, oid);
    tc *bl = all[n++] = bo_world_bidder(&W, "blacklisted", true, oid);
    size_t first_obs = n;
    while (n < N_CLIENTS) {
        char name[32];
        snprintf(name, sizeof(name), "obs-%zu", n);
        all[n++] = bo_world_observer(&W, name, oid);
    }
    size_t joined = bo_world_connect_all(&W, all, N_CLIENTS, 60000);
    int64_t connected = bo_clock_mono_ms();
    printf("# %zu of %d clients joined in %lld ms\n", joined, N_CLIENTS,
           (long long)(connected - created));
    assert_int_equal(joined, N_CLIENTS);

    /* private events with public tallies: registrations and sign-ins */
    register_sign_in(b, N_BIDDERS);
    /* public events: interceptions, counted */
    intercepted(bl, N_INTERCEPTS);
    /* a phase change: the host declares the opening failed */
    int64_t events_at = bo_clock_mono_ms();
    tc_reply_reset(host);
    assert_int_equal(bo_client_fail(host->c, NULL, "无投标文件，开标失败", tc_on_reply, host),
                     BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, host, 10000), BO_E_OK);
    caught_up(host, "phase_changed", 1); /* failed */
    uint64_t last_pub = settled(host);
    assert_true(wait_all_seq(all + 1, N_CLIENTS - 1, "pub", last_pub, 30000)); /* not sup */
    bo_world_run(&W, 300); /* nothing more may come */
    int64_t done = bo_clock_mono_ms();
    printf("# %llu pub events to %d clients; made in %lld ms; total %lld ms\n",
           (unsigned long long)(last_pub - host->first_pos_pub), N_CLIENTS,
           (long long)(events_at - connected), (long long)(done - t0));

    /* everyone started at the same place and saw the same thing */
    tc *ref = all[first_obs];
    for (size_t i = 0; i < N_CLIENTS; i++) {
        tc *t = all[i];
        if (t == sup)
            continue;
        assert_int_equal(t->joins, 1);
        assert_int_equal(t->backoffs, 0);
        assert_int_equal(t->first_pos_pub, ref->first_pos_pub);
        check_same_pub(host, t);
        assert_int_equal(tc_last_seq(t, "pub"), last_pub);
    }
    assert_true(last_pub - ref->first_pos_pub >= 2 * N_BIDDERS + N_INTERCEPTS + 1);
    assert_int_equal(tc_count(ref, "tally"), 2 * N_BIDDERS + N_INTERCEPTS);
    /* the supervisor's all stream is the whole log, gap-free, with every interception */
    check_gap_free(sup, "all", sup->first_pos_all);
    assert_int_equal(tc_count(sup, "bidder_intercepted"), N_INTERCEPTS);
    assert_int_equal(tc_count(sup, "phase_changed"), 1); /* checkin came before it joined */
    assert_non_null(strstr(tc_last(ref, "phase_changed")->body_json, "\"to\":\"failed\""));
    /* private streams: gap-free, interleaved with pub in log order (`at` right) */
    for (int i = 0; i < N_BIDDERS; i++) {
        check_gap_free(b[i], "b", b[i]->first_pos_priv);
        assert_int_equal(check_log_order(sup, b[i]), 2); /* registered, signed in */
    }
    assert_int_equal(check_log_order(sup, host), 0);
    assert_int_equal(check_log_order(sup, site), 0);
    assert_int_equal(check_log_order(sup, bl), 0);
    assert_int_equal(check_log_order(sup, ref), 0);

    for (size_t i = 0; i < N_CLIENTS; i++)
        tc_free(all[i]);
    bo_world_run(&W, 200);
}

/* ------------------------------------------------------- drop and resume ---- */

#define N_CUTS 4

typedef struct rejoin {
    tc *t[2];
    unsigned joins[2];
} rejoin;

static void rejoin_mark(rejoin *r)
{
    for (int i = 0; i < 2; i++)
        r->joins[i] = r->t[i]->joins;
}

/* Both joined again since rejoin_mark. */
static bool rejoined(void *arg)
{
    rejoin *r = arg;
    for (int i = 0; i < 2; i++)
        if (r->t[i]->state != BO_CLIENT_JOINED || r->t[i]->joins <= r->joins[i])
            return false;
    return true;
}

/* An observer and a supervisor behind a proxy lose their connection several times while
 * events keep coming; they resume and end with exactly the events of an observer and a
 * supervisor connected directly. Then the proxy sends them to another server that has
 * this opening with a shorter log: their cursors cannot be served there, and they get
 * recovered=false and a fresh snapshot, and the events that follow it. */
static void drop_and_resume_misses_nothing(void **state)
{
    (void)state;
    char oid[65];
    /* the "lost" node: its own Redis, the same PKI (started now: it takes a moment) */
    bo_h_server *lostp = &NODES[0], lost;
    bo_world_node(&W, lostp, "lost", NULL);
    lost = *lostp;

    create_opening(W.srv.url, "T-drop", 0, 600000, oid);
    bo_h_proxy *px = bo_h_proxy_start(W.srv.port);
    char purl[128];
    snprintf(purl, sizeof(purl), "wss://127.0.0.1:%d/ws", bo_h_proxy_port(px));
    tc *obs_p = bo_world_observer_at(&W, "obs-proxied", purl, oid);
    tc *sup_p = bo_world_staff_at(&W, "supervisor", "supervisor", purl, oid);
    tc *obs = bo_world_observer(&W, "obs-direct", oid);
    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    tc *bl = bo_world_bidder(&W, "blacklisted", true, oid);
    tc *v[] = {obs_p, sup_p, obs, sup, bl};
    assert_int_equal(bo_world_connect_all(&W, v, 5, 30000), 5);
    intercepted(bl, 2);

    int made = 2;
    rejoin rj = {{obs_p, sup_p}, {0, 0}};
    for (int cut = 0; cut < N_CUTS; cut++) {
        rejoin_mark(&rj);
        int n = bo_h_proxy_cut(px);
        assert_int_equal(n, 2);
        intercepted(bl, 3); /* while they are away */
        assert_int_equal(bo_client_run_until(&W.loop, rejoined, &rj, 15000), BO_E_OK);
        intercepted(bl, 1); /* and while they are back */
        made += 4;
    }
    /* everyone has every tally (pub) and every interception (all) */
    kind_n k[] = {{obs, "tally", (size_t)made},
                  {obs_p, "tally", (size_t)made},
                  {sup, "bidder_intercepted", (size_t)made},
                  {sup_p, "bidder_intercepted", (size_t)made}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(bo_client_run_until(&W.loop, has_kind_n, &k[i], 10000), BO_E_OK);
    bo_world_run(&W, 300);
    uint64_t last_pub = tc_last_seq(obs, "pub"), last_all = tc_last_seq(sup, "all");
    printf("# proxied observer: %u joins (%u resumed), %u losses; supervisor: %u joins (%u "
           "resumed); %llu pub events, %llu in the log\n",
           obs_p->joins, obs_p->recovered_joins, obs_p->backoffs, sup_p->joins,
           sup_p->recovered_joins, (unsigned long long)last_pub, (unsigned long long)last_all);
    /* each cut cost a reconnection that resumed */
    assert_int_equal(obs_p->joins, N_CUTS + 1);
    assert_int_equal(obs_p->recovered_joins, N_CUTS);
    assert_int_equal(sup_p->joins, N_CUTS + 1);
    assert_int_equal(sup_p->recovered_joins, N_CUTS);
    /* identical to the clients that never left: same start, same events, no gap, no dup */
    assert_int_equal(obs_p->first_pos_pub, obs->first_pos_pub);
    assert_int_equal(obs_p->n_events, obs->n_events);
    check_same_pub(obs, obs_p);
    assert_int_equal(tc_last_seq(obs_p, "pub"), last_pub);
    assert_int_equal(sup_p->first_pos_all, sup->first_pos_all);
    assert_int_equal(sup_p->n_events, sup->n_events);
    check_gap_free(sup_p, "all", sup_p->first_pos_all);
    for (size_t i = 0; i < sup->n_events; i++) {
        assert_int_equal(sup_p->events[i].seq, sup->events[i].seq);
        assert_string_equal(sup_p->events[i].kind, sup->events[i].kind);
        assert_memory_equal(sup_p->events[i].hash, sup->events[i].hash, 32);
    }
    assert_int_equal(tc_last_seq(sup_p, "all"), last_all);

    /* Snapshot reload. The "lost" node has T-drop too, with one pub event so far and its
     * check-in 4 s from now: the proxied clients' cursors are beyond its log. */
    tc *lhost = bo_world_staff_at(&W, "host", "host", lost.url, NULL);
    assert_true(bo_world_connect(&W, lhost));
    char oid2[65];
    assert_true(bo_world_create(&W, lhost, oid, 4000, 600000, "", oid2));
    size_t obs_before = obs_p->n_events, sup_before = sup_p->n_events;
    unsigned snaps_before = obs_p->snapshots;
    bo_h_proxy_retarget(px, lost.port);
    rejoin_mark(&rj);
    assert_int_equal(bo_h_proxy_cut(px), 2);
    assert_int_equal(bo_client_run_until(&W.loop, rejoined, &rj, 15000), BO_E_OK);
    printf("# on the node without the log: recovered %d, snapshot pos pub %llu (was at %llu)\n",
           obs_p->last_recovered, (unsigned long long)tc_snap_pos(obs_p, "pub"),
           (unsigned long long)last_pub);
    assert_int_equal(obs_p->snapshots, snaps_before + 1);
    assert_false(obs_p->last_recovered);
    assert_false(sup_p->last_recovered);
    uint64_t pos = tc_snap_pos(obs_p, "pub");
    assert_true(pos < last_pub);
    assert_non_null(strstr(obs_p->snap_json, "\"phase\":\"scheduled\""));
    /* and the events after the new snapshot arrive: check-in opens on that node */
    assert_true(tc_wait_events(&W.loop, obs_p, obs_before + 1, 10000));
    bo_world_run(&W, 300);
    const tc_event *e = &obs_p->events[obs_p->n_events - 1];
    assert_int_equal(obs_p->n_events, obs_before + 1);
    assert_int_equal(e->seq, pos + 1);
    assert_string_equal(e->kind, "phase_changed");
    assert_true(tc_wait_events(&W.loop, sup_p, sup_before + 1, 5000));
    assert_int_equal(sup_p->events[sup_before].seq, tc_snap_pos(sup_p, "all") + 1);
    assert_string_equal(sup_p->events[sup_before].kind, "phase_changed");

    tc *all[] = {obs_p, sup_p, obs, sup, bl, lhost};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tc_free(all[i]);
    bo_world_run(&W, 200);
    bo_h_proxy_stop(px);
    assert_int_equal(bo_h_server_stop(lostp, SIGTERM, 20000), 0);
}

/* ------------------------------------------------------------ slow reader ---- */

#define N_FAST 20
#define N_SLOW_EVENTS 250
#define MAX_LAG 100

typedef struct run_stats {
    int64_t ms;
    uint64_t events;
} run_stats;

/* N_SLOW_EVENTS public events; returns how long until every fast client had the last one. */
static run_stats run_events(tc *bl, tc *const *fast, size_t *made)
{
    uint64_t first = tc_last_seq(fast[0], "pub");
    if (first < fast[0]->first_pos_pub)
        first = fast[0]->first_pos_pub;
    int64_t t0 = bo_clock_mono_ms();
    intercepted(bl, N_SLOW_EVENTS);
    *made += N_SLOW_EVENTS;
    for (int i = 0; i < N_FAST; i++)
        caught_up(fast[i], "tally", *made);
    run_stats s = {bo_clock_mono_ms() - t0, tc_last_seq(fast[0], "pub") - first};
    return s;
}

/* A server with a small kernel send buffer and --max-lag 100. A raw client that joins,
 * shrinks its receive buffer and then never reads is closed by the server (E_LAGGING,
 * "closing for resume") once what the socket buffers hold and 100 more events are pending
 * for it, while 20 normal clients get every event, are never disconnected, and take about
 * as long as without the stalled reader (before it joined and after it was closed). */
static void never_reading_client_is_cut_off(void **state)
{
    (void)state;
    /* the blacklisted organisation makes the events as fast as they are acknowledged: lift
     * the per-connection message rate (20/s) on this node, it is not what is tested here */
    static const char *const args[] = {"--sndbuf", "4096", "--max-lag", "100",
                                       "--max-lag-ms", "60000", "--msg-rate", "1000",
                                       "--msg-burst", "2000", NULL};
    bo_h_server *slowp = &NODES[1], slow;
    bo_world_node(&W, slowp, "slow", args);
    slow = *slowp;
    bo_world_load_blacklist(&W, slow.url);
    char oid[65];
    create_opening(slow.url, "T-slow", 0, 600000, oid);
    tc *bl = bo_world_bidder_at(&W, "blacklisted", true, slow.url, oid);
    tc *fast[N_FAST];
    for (int i = 0; i < N_FAST; i++) {
        char name[32];
        snprintf(name, sizeof(name), "fast-%d", i);
        fast[i] = bo_world_observer_at(&W, name, slow.url, oid);
    }
    assert_true(bo_world_connect(&W, bl));
    assert_int_equal(bo_world_connect_all(&W, fast, N_FAST, 30000), N_FAST);
    size_t made = 0;
    settled(fast[0]); /* the check-in phase change */

    /* A: everyone reads */
    run_stats a = run_events(bl, fast, &made);

    /* B: a raw observer joins and stops reading */
    char ca[600];
    RX = bo_rawws_ctx_new(&W.loop, bo_h_path(ca, W.pki, "server/ca.pem"));
    bo_rawws *stalled = bo_rawws_open(RX, "stalled", slow.url, BO_RAWWS_PROTO);
    assert_non_null(stalled);
    bo_rawws_rcvbuf(stalled, 4096);
    assert_true(bo_rawws_wait_hello(stalled, 10000));
    assert_true(bo_rawws_auth_observer(stalled, 1, 10000));
    assert_true(bo_rawws_join(stalled, 2, oid, 10000));
    bo_rawws_rx(stalled, false);
    size_t got_before = bo_rawws_count(stalled, "ev");
    run_stats bst = run_events(bl, fast, &made);

    static const char *const lag[] = {"closing for resume", "\"code\":\"E_LAGGING\"",
                                      "T-slow", NULL};
    size_t lag_lines = bo_h_server_log_count(&slow, lag);
    assert_int_equal(lag_lines, 1); /* the stalled one and nobody else */
    assert_false(stalled->closed);  /* it cannot tell before it reads */
    /* reading again, it finds what was in the pipe and then the close */
    bo_rawws_rx(stalled, true);
    assert_true(bo_rawws_wait_closed(stalled, 15000));
    size_t got = bo_rawws_count(stalled, "ev") - got_before;
    printf("# the stalled reader got %zu of %llu events, then the close (frame %u %s)\n", got,
           (unsigned long long)bst.events, stalled->close_code, stalled->close_reason);
    assert_true(got < bst.events);
    assert_true(got + MAX_LAG < bst.events);
    if (stalled->got_close)
        assert_int_equal(stalled->close_code, 4000);

    /* C: everyone reads again */
    run_stats c = run_events(bl, fast, &made);
    printf("# %llu events to %d clients each time: %lld ms, then %lld ms with a stalled "
           "reader, then %lld ms after it was closed\n",
           (unsigned long long)a.events, N_FAST, (long long)a.ms, (long long)bst.ms,
           (long long)c.ms);
    assert_int_equal(a.events, N_SLOW_EVENTS);
    assert_int_equal(bo_h_server_log_count(&slow, lag), 1);

    /* the fast clients: everything, in order, never disconnected */
    for (int i = 0; i < N_FAST; i++) {
        assert_int_equal(fast[i]->joins, 1);
        assert_int_equal(fast[i]->backoffs, 0);
        check_same_pub(fast[0], fast[i]);
        assert_int_equal(tc_count(fast[i], "tally"), made);
    }
    bo_rawws_ctx_free(RX);
    RX = NULL;
    for (int i = 0; i < N_FAST; i++)
        tc_free(fast[i]);
    tc_free(bl);
    bo_world_run(&W, 200);
    assert_int_equal(bo_h_server_stop(slowp, SIGTERM, 20000), 0);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "fanout", NULL);
    bo_world_load_blacklist(&W, W.srv.url);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_rawws_ctx_free(RX);
    for (size_t i = 0; i < sizeof(NODES) / sizeof(NODES[0]); i++)
        if (NODES[i].dir[0]) {
            bo_h_server_stop(&NODES[i], SIGTERM, 20000);
            bo_h_server_reap_redis(&NODES[i]);
        }
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_hundred_clients_same_order),
        cmocka_unit_test(drop_and_resume_misses_nothing),
        cmocka_unit_test(never_reading_client_is_cut_off),
    };
    if (getenv("BO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
