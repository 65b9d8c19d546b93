/* Fault drill: a storm of reconnects (issue "Benchmarks against the anchors, and fault
 * drills").
 *
 * N_OBS (2,000) observers (libbidopen-client, default backoff: full jitter from 0.5 s
 * doubling to 20 s) follow one opening through a TCP proxy (tests/support/bo_faults: epoll,
 * thousands of connections); they run in N_PROC processes (this binary re-run with
 * --observers), as the crowd of a real blip runs on many machines: one process doing every
 * client's TLS handshake in one loop turn answers each server hello seconds late, and the
 * server rightly closes what did not authenticate in time. They join in waves of WAVE
 * before the drill. A network blip: the proxy cuts every connection at the same moment.
 * Then
 *
 *   - the server stays up and responsive: a separate process (this binary, re-run with
 *     --prober) sends `time` to the server directly every PROBE_EVERY_MS from before the cut
 *     until everyone is back; p50, p99 and the maximum round trip are printed, and the only
 *     assertion is that every request is answered within PROBE_BOUND_MS, on the prober's
 *     first connection;
 *   - every observer reconnects by itself and resumes: it joins again after the cut, each
 *     such join with recovered=true (most join once; one that lost its new connection
 *     again, say to the server's auth deadline while both ends were busy, joins again and
 *     resumes again: counted and printed), and its pub stream has no gap and no duplicate
 *     and ends with the reference observer's (connected directly) although events kept
 *     coming during the storm (a blacklisted bidder's refused registrations, public
 *     tallies);
 *   - the reconnects are spread by the jitter: the histogram of the chosen delays (and of
 *     the times until each observer was back) is printed; the delays of the first attempt
 *     (of the observers that had joined at their first attempt, whose ceiling is the
 *     first one) lie in [0, 500] ms and fill its ten 50 ms bins roughly evenly (each
 *     between a third and three times its even share);
 *   - no crash: the server is alive throughout and exits with status 0 at the end (clean
 *     under ASan: no report, no leak).
 * It also prints the CPU time the server and the observers' processes spent on the joins
 * and on the storm, the load average (on a shared machine other work explains slow
 * numbers), and the server's and the proxy's connection counters.
 *
 * The observer processes and this one talk through files in the world's directory (each
 * written whole, then renamed): obs-K.joined, then arm (the public position everyone must
 * have reached) and obs-K.armed, then top (the last public event) and obs-K.res, one line
 * per observer.
 *
 * Sizes: 2 x N_OBS proxy sockets in this process (ulimit -n is 20,000 on the machines this
 * runs on; the test lowers N_OBS to what the limit allows and says so). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bo/clock.h"
#include "bo/wire.h"
#include "bo_faults.h"
#include "bo_itest.h"

extern char **environ;

#define N_OBS_WANT 2000
#define PROBE_EVERY_MS 100
#define PROBE_BOUND_MS 30000 /* generous: a loaded 2-core machine, ASan on both ends */
#define BACKOFF_MIN_MS 500 /* the client's default first ceiling (client.h) */
#define WAVE 125            /* observers connecting at a time, per process, before the blip */
#define N_PROC 4            /* observer processes */
#define PHASE_MS 150000     /* the bound on each phase the observers go through */
#define STORM_EVENTS 10     /* public events appended while the observers come back */
#define COUNTS_EARLY "\"counts_early\":true"

typedef struct lobs {
    bo_client *c;
    unsigned joins, recovered, backoffs, gaps, dups;
    unsigned cut_joins, cut_recovered, cut_backoffs; /* at the cut */
    uint64_t last_pub, events;
    int64_t delay_ms;  /* the first backoff's chosen delay */
    int64_t back_at;   /* when it joined again after the cut (monotonic ms, system-wide) */
    char why[96];      /* why it first lost its connection */
    char why_storm[96]; /* why its last attempt after the cut failed (the first one: the cut) */
} lobs;

static bo_world W;
static bo_h_mproxy *PROXY;
static lobs *OBS; /* an observer process: its observers; this one: the results */
static size_t N_OBS;
static int64_t T_CUT; /* an observer process: when it was armed (just before the cut) */
static pid_t KIDS[N_PROC];
static pid_t PROBER;
static tc *REF, *BL; /* connected directly: the reference observer, the blacklisted bidder */

/* ------------------------------------------------------------ the prober ---- */

static volatile sig_atomic_t PROBER_STOP;

static void prober_on_term(int sig)
{
    (void)sig;
    PROBER_STOP = 1;
}

typedef struct probe {
    bo_client *c;
    bool replied;
    bo_err err;
} probe;

static void probe_reply(void *ud, bo_err err, const char *code, const char *msg,
                        const msgpack_object *data)
{
    (void)code;
    (void)msg;
    (void)data;
    probe *p = ud;
    p->replied = true;
    p->err = err;
}

static bool probe_ready(void *arg)
{
    probe *p = arg;
    bo_client_state st = bo_client_state_get(p->c);
    return PROBER_STOP || st == BO_CLIENT_READY || st == BO_CLIENT_FAILED;
}

static bool probe_done(void *arg)
{
    return PROBER_STOP || ((probe *)arg)->replied;
}

static bool probe_stop(void *arg)
{
    (void)arg;
    return PROBER_STOP;
}

/* --prober URL CA OUT: `time` every PROBE_EVERY_MS until SIGTERM; one line per request to
 * OUT: "<ms since start> <round trip ms>" or "<ms since start> timeout" / "... error". */
static int prober_main(const char *url, const char *ca, const char *out)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = prober_on_term;
    sigaction(SIGTERM, &sa, NULL);
    FILE *f = fopen(out, "w");
    if (!f)
        return 2;
    uv_loop_t loop;
    uv_loop_init(&loop);
    bo_client_ctx_opts co;
    memset(&co, 0, sizeof(co));
    co.ca_file = ca;
    bo_err err;
    bo_client_ctx *ctx = bo_client_ctx_new(&loop, &co, &err);
    if (!ctx)
        return 2;
    bo_client_opts o;
    memset(&o, 0, sizeof(o));
    o.urls = &url;
    o.n_urls = 1;
    o.role = "observer";
    o.backoff_min_ms = 100;
    o.backoff_max_ms = 1000;
    probe p = {0};
    p.c = bo_client_new(ctx, &o, &err);
    int rc = 0;
    if (!p.c || bo_client_start(p.c) != BO_E_OK)
        rc = 2;
    if (!rc && (bo_client_run_until(&loop, probe_ready, &p, 30000) != BO_E_OK ||
                bo_client_state_get(p.c) != BO_CLIENT_READY))
        rc = 3;
    fprintf(f, "ready\n");
    fflush(f);
    int64_t start = bo_clock_mono_ms();
    while (!rc && !PROBER_STOP) {
        bo_msg m = {.type = BO_MSG_TIME};
        m.u.time.t0 = bo_clock_now_ms();
        p.replied = false;
        int64_t t0 = bo_clock_mono_ms();
        if (bo_client_request(p.c, &m, probe_reply, &p) != BO_E_OK) {
            fprintf(f, "%lld error\n", (long long)(t0 - start));
        } else {
            bo_client_run_until(&loop, probe_done, &p, PROBE_BOUND_MS);
            int64_t rtt = bo_clock_mono_ms() - t0;
            if (!p.replied && !PROBER_STOP)
                fprintf(f, "%lld timeout\n", (long long)(t0 - start));
            else if (p.replied && p.err == BO_E_OK)
                fprintf(f, "%lld %lld\n", (long long)(t0 - start), (long long)rtt);
            else if (p.replied)
                fprintf(f, "%lld error\n", (long long)(t0 - start));
        }
        fflush(f);
        bo_client_run_until(&loop, probe_stop, NULL, PROBE_EVERY_MS);
    }
    fprintf(f, "reconnects %llu\n", (unsigned long long)(p.c ? bo_client_connects(p.c) - 1 : 0));
    fclose(f);
    bo_client_free(p.c);
    bo_client_ctx_free(ctx);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc;
}

static void prober_start(const char *out)
{
    char ca[600];
    bo_h_path(ca, W.pki, "server/ca.pem");
    const char *argv[] = {"/proc/self/exe", "--prober", W.srv.url, ca, out, NULL};
    assert_int_equal(posix_spawn(&PROBER, "/proc/self/exe", NULL, NULL, (char *const *)argv,
                                 environ),
                     0);
    /* wait until it is connected */
    for (int i = 0; i < 300; i++) {
        char *s = bo_h_read_file(out, NULL);
        bool ready = s && strstr(s, "ready");
        free(s);
        if (ready)
            return;
        bo_world_run(&W, 100);
    }
    fail_msg("the prober did not connect");
}

static int prober_stop(void)
{
    if (PROBER <= 0)
        return -1;
    kill(PROBER, SIGTERM);
    int st = -1;
    for (int i = 0; i < 300; i++) {
        if (waitpid(PROBER, &st, WNOHANG) == PROBER) {
            PROBER = 0;
            return st;
        }
        bo_world_run(&W, 50);
    }
    kill(PROBER, SIGKILL);
    waitpid(PROBER, &st, 0);
    PROBER = 0;
    return -1;
}

/* ------------------------------------------------------- the observers ---- */

static void lobs_state(void *ud, bo_client_state st, bo_err err, const char *code,
                       const char *msg)
{
    lobs *o = ud;
    if (st == BO_CLIENT_JOINED) {
        o->joins++;
        if (T_CUT && o->joins == o->cut_joins + 1)
            o->back_at = bo_clock_mono_ms();
    } else if (st == BO_CLIENT_BACKOFF) {
        o->backoffs++;
        if (!o->why[0])
            snprintf(o->why, sizeof(o->why), "%s %s %s", bo_err_name(err), code ? code : "",
                     msg ? msg : "");
        if (T_CUT && o->backoffs == o->cut_backoffs + 1) {
            o->delay_ms = bo_client_retry_in(o->c);
        } else if (T_CUT) {
            snprintf(o->why_storm, sizeof(o->why_storm), "%s %s %s", bo_err_name(err),
                     code ? code : "", msg ? msg : "");
        }
    }
}

static void lobs_snapshot(void *ud, const msgpack_object *snap, bool recovered)
{
    lobs *o = ud;
    if (recovered) {
        o->recovered++;
        return; /* the replay follows: the cursor stays */
    }
    const msgpack_object *pos = bo_mpo_get(snap, "pos");
    uint64_t p = 0;
    if (pos && bo_mpo_u64(pos, "pub", &p))
        o->last_pub = p;
}

static void lobs_event(void *ud, const bo_client_event *ev)
{
    lobs *o = ud;
    if (strcmp(ev->st, "pub"))
        return;
    o->events++;
    if (ev->seq <= o->last_pub)
        o->dups++;
    else if (ev->seq != o->last_pub + 1)
        o->gaps++;
    o->last_pub = ev->seq;
}

typedef struct cond {
    unsigned joins;
    uint64_t pub; /* 0: any */
} cond;

static size_t count_ok(const cond *c)
{
    size_t n = 0;
    for (size_t i = 0; i < N_OBS; i++)
        n += bo_client_state_get(OBS[i].c) == BO_CLIENT_JOINED &&
             OBS[i].joins >= OBS[i].cut_joins + c->joins && (!c->pub || OBS[i].last_pub >= c->pub);
    return n;
}

static bool all_ok(void *arg)
{
    return count_ok(arg) == N_OBS;
}

typedef struct wave {
    size_t from, to;
} wave;

static bool wave_joined(void *arg)
{
    const wave *w = arg;
    for (size_t i = w->from; i < w->to; i++)
        if (!OBS[i].joins)
            return false;
    return true;
}

/* ------------------------------------------------ an observer process ---- */

/* Write text to dir/name whole (a temporary file, then a rename). */
static void put_file(const char *dir, const char *name, const char *text)
{
    char path[700], tmp[710];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(4);
    }
}

/* dir/name's contents (malloc'd), NULL while it does not exist. */
static char *get_file(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return bo_h_read_file(path, NULL);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

/* Run loop until dir/name exists (its contents, malloc'd) or PHASE_MS passed (NULL). */
static char *await_file(uv_loop_t *loop, const char *dir, const char *name)
{
    for (int64_t end = bo_clock_mono_ms() + PHASE_MS; bo_clock_mono_ms() < end;) {
        char *s = get_file(dir, name);
        if (s)
            return s;
        bo_client_run_until(loop, never, NULL, 50);
    }
    return NULL;
}

/* --observers URL CA OID N DIR K: N observers of OID through URL; the protocol with the
 * test process is in the comment at the top. Exit 0 when it ran to the end (the results
 * say how it went), 3 when a phase did not finish in time. */
static int observers_main(const char *url, const char *ca, const char *oid, size_t n,
                          const char *dir, int k)
{
    signal(SIGPIPE, SIG_IGN);
    N_OBS = n;
    OBS = calloc(n ? n : 1, sizeof(*OBS));
    uv_loop_t loop;
    uv_loop_init(&loop);
    bo_client_ctx_opts co;
    memset(&co, 0, sizeof(co));
    co.ca_file = ca;
    co.max_clients = (unsigned)n + 16;
    bo_err err;
    bo_client_ctx *ctx = bo_client_ctx_new(&loop, &co, &err);
    if (!OBS || !ctx)
        return 2;
    for (size_t i = 0; i < n; i++) {
        bo_client_opts o;
        memset(&o, 0, sizeof(o));
        o.urls = &url;
        o.n_urls = 1;
        o.role = "observer";
        o.oid = oid;
        o.cb.on_state = lobs_state;
        o.cb.on_snapshot = lobs_snapshot;
        o.cb.on_event = lobs_event;
        o.ud = &OBS[i];
        OBS[i].c = bo_client_new(ctx, &o, &err);
        if (!OBS[i].c)
            return 2;
    }
    int rc = 0;
    char name[64], *txt;
    /* join in waves, each joined before the next starts: the blip is the storm, not this */
    for (size_t i = 0; i < n && !rc; i += WAVE) {
        size_t end = i + WAVE < n ? i + WAVE : n;
        for (size_t j = i; j < end; j++)
            if (bo_client_start(OBS[j].c) != BO_E_OK)
                rc = 2;
        wave w = {i, end};
        if (!rc && bo_client_run_until(&loop, wave_joined, &w, PHASE_MS) != BO_E_OK)
            rc = 3;
    }
    double cpu0 = bo_h_proc_cpu_s(getpid());
    char line[600];
    snprintf(line, sizeof(line), "%.3f\n", cpu0);
    snprintf(name, sizeof(name), "obs-%d.joined", k);
    if (!rc)
        put_file(dir, name, line);
    /* arm: everyone at the given public position, then the counters at the cut */
    unsigned long long level = 0;
    txt = rc ? NULL : await_file(&loop, dir, "arm");
    if (!txt || sscanf(txt, "%llu", &level) != 1)
        rc = rc ? rc : 3;
    free(txt);
    cond at_level = {1, level};
    if (!rc && bo_client_run_until(&loop, all_ok, &at_level, PHASE_MS) != BO_E_OK)
        rc = 3;
    for (size_t i = 0; i < n; i++) {
        OBS[i].cut_joins = OBS[i].joins;
        OBS[i].cut_recovered = OBS[i].recovered;
        OBS[i].cut_backoffs = OBS[i].backoffs;
    }
    T_CUT = bo_clock_mono_ms();
    double cpu1 = bo_h_proc_cpu_s(getpid());
    snprintf(name, sizeof(name), "obs-%d.armed", k);
    if (!rc)
        put_file(dir, name, "armed\n");
    /* the blip; back and at the last event */
    unsigned long long top = 0;
    txt = rc ? NULL : await_file(&loop, dir, "top");
    if (!txt || sscanf(txt, "%llu", &top) != 1)
        rc = rc ? rc : 3;
    free(txt);
    cond back = {1, top};
    if (!rc)
        bo_client_run_until(&loop, all_ok, &back, PHASE_MS); /* the results tell who is not */
    double cpu2 = bo_h_proc_cpu_s(getpid());
    /* the results: a header, then one line per observer */
    size_t cap = 200 + n * 200, len = 0;
    char *res = malloc(cap);
    if (!res)
        return 2;
    len += (size_t)snprintf(res + len, cap - len, "cpu %.3f %.3f\n", cpu1 - cpu0, cpu2 - cpu1);
    for (size_t i = 0; i < n; i++) {
        lobs *o = &OBS[i];
        len += (size_t)snprintf(
            res + len, cap - len, "%lld %lld %u %u %u %u %u %llu %u %s|%s\n",
            (long long)o->delay_ms, (long long)o->back_at, o->joins - o->cut_joins,
            o->recovered - o->cut_recovered, o->backoffs - o->cut_backoffs, o->gaps, o->dups,
            (unsigned long long)o->last_pub, o->cut_backoffs,
            bo_client_state_get(o->c) == BO_CLIENT_JOINED ? "joined" : "not-joined",
            o->why_storm);
    }
    snprintf(name, sizeof(name), "obs-%d.res", k);
    if (!rc)
        put_file(dir, name, res);
    free(res);
    for (size_t i = 0; i < n; i++)
        bo_client_free(OBS[i].c);
    bo_client_ctx_free(ctx);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(OBS);
    return rc;
}

/* ------------------------------------------------------------ reporting ---- */

/* /proc/loadavg's first three numbers and a newline (other work on a shared machine
 * explains slow numbers). */
static const char *loadavg(void)
{
    static char buf[64];
    char *s = bo_h_read_file("/proc/loadavg", NULL);
    double a = 0, b = 0, c = 0;
    if (s && sscanf(s, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(buf, sizeof(buf), "%.2f %.2f %.2f\n", a, b, c);
    else
        snprintf(buf, sizeof(buf), "?\n");
    free(s);
    return buf;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void histogram(const char *title, const int64_t *v, size_t n, int64_t bin, int bins)
{
    size_t *h = calloc((size_t)bins + 1, sizeof(*h));
    assert_non_null(h);
    for (size_t i = 0; i < n; i++) {
        int64_t k = v[i] / bin;
        h[k < 0 ? 0 : k > bins ? bins : k]++;
    }
    size_t max = 1;
    int lo = bins, hi = 0; /* the first and last bins that are not empty */
    for (int k = 0; k <= bins; k++) {
        max = h[k] > max ? h[k] : max;
        if (h[k]) {
            lo = k < lo ? k : lo;
            hi = k;
        }
    }
    printf("# %s\n", title);
    for (int k = lo; k <= hi; k++) {
        char bar[61];
        size_t w = h[k] * 60 / max;
        memset(bar, '#', w);
        bar[w] = 0;
        if (k < bins)
            printf("#   %5lld-%5lld ms %5zu %s\n", (long long)(k * bin),
                   (long long)((k + 1) * bin - 1), h[k], bar);
        else
            printf("#   %5lld-      ms %5zu %s\n", (long long)(k * bin), h[k], bar);
    }
    free(h);
}


/* --------------------------------------- the observer processes, from here ---- */

/* Run the world until every observer process wrote obs-K<suffix>; cpu (may be NULL) gets
 * the sum of the number each file starts with ("cpu A B": B). Fails the test when one of
 * them ended or did not get there in time. */
static void kids_await(const char *suffix, double *cpu)
{
    int64_t end = bo_clock_mono_ms() + PHASE_MS + 20000;
    for (int k = 0; k < N_PROC;) {
        char name[64];
        snprintf(name, sizeof(name), "obs-%d%s", k, suffix);
        char *txt = get_file(W.dir, name);
        if (txt) {
            double a = 0, b = 0;
            if (cpu && sscanf(txt, "cpu %lf %lf", &a, &b) == 2)
                *cpu += b;
            else if (cpu && sscanf(txt, "%lf", &a) == 1)
                *cpu += a;
            free(txt);
            k++;
            continue;
        }
        int st;
        if (waitpid(KIDS[k], &st, WNOHANG) == KIDS[k]) {
            KIDS[k] = 0;
            fail_msg("observer process %d ended (status %d) before %s", k, st, name);
        }
        if (bo_clock_mono_ms() > end)
            fail_msg("observer process %d did not write %s in time", k, name);
        bo_world_run(&W, 100);
    }
}

/* OBS from the processes' obs-K.res: each observer's counts since the cut, its failed
 * attempts before it in cut_backoffs, its state in why ("joined" or not) and its last
 * failure in why_storm. */
static void kids_results(void)
{
    size_t i = 0;
    for (int k = 0; k < N_PROC; k++) {
        char name[64];
        snprintf(name, sizeof(name), "obs-%d.res", k);
        char *txt = get_file(W.dir, name);
        assert_non_null(txt);
        char *save = NULL;
        for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (!strncmp(line, "cpu ", 4))
                continue;
            assert_true(i < N_OBS);
            lobs *o = &OBS[i++];
            long long delay, back;
            unsigned long long last;
            int off = 0;
            if (sscanf(line, "%lld %lld %u %u %u %u %u %llu %u %n", &delay, &back, &o->joins,
                       &o->recovered, &o->backoffs, &o->gaps, &o->dups, &last, &o->cut_backoffs,
                       &off) < 9 ||
                !off)
                fail_msg("%s: cannot read \"%s\"", name, line);
            o->delay_ms = delay;
            o->back_at = back;
            o->last_pub = last;
            const char *bar = strchr(line + off, '|');
            snprintf(o->why, sizeof(o->why), "%.*s",
                     (int)(bar ? bar - (line + off) : (ptrdiff_t)strlen(line + off)), line + off);
            snprintf(o->why_storm, sizeof(o->why_storm), "%s", bar ? bar + 1 : "");
        }
        free(txt);
    }
    assert_int_equal(i, N_OBS);
}

/* -------------------------------------------------------------------- drill ---- */

static void storm(void **state)
{
    (void)state;
    char oid[65];
    tc *h = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h));
    assert_true(bo_world_create(&W, h, "T-storm", 0, 600000, COUNTS_EARLY, oid));
    tc_free(h);
    tc *ref = REF = bo_world_observer(&W, "reference", oid);
    assert_true(bo_world_connect(&W, ref));
    /* public events on demand: each refused registration of a blacklisted bidder is a
     * public tally (counts_early) */
    tc *bl = BL = bo_world_bidder(&W, "blacklisted", true, oid);
    assert_true(bo_world_connect(&W, bl));

    /* the observers, through the proxy, in N_PROC processes */
    char purl[128], ca[600];
    snprintf(purl, sizeof(purl), "wss://127.0.0.1:%d/ws", bo_h_mproxy_port(PROXY));
    bo_h_path(ca, W.pki, "server/ca.pem");
    int64_t t0 = bo_clock_mono_ms();
    double cpu0 = bo_h_proc_cpu_s(W.srv.pid);
    for (int k = 0; k < N_PROC; k++) {
        size_t from = N_OBS * (size_t)k / N_PROC, to = N_OBS * (size_t)(k + 1) / N_PROC;
        char n[24], ks[8];
        snprintf(n, sizeof(n), "%zu", to - from);
        snprintf(ks, sizeof(ks), "%d", k);
        const char *argv[] = {"/proc/self/exe", "--observers", purl, ca, oid, n, W.dir, ks, NULL};
        assert_int_equal(posix_spawn(&KIDS[k], "/proc/self/exe", NULL, NULL,
                                     (char *const *)argv, environ),
                         0);
    }
    double kids_join = 0;
    kids_await(".joined", &kids_join);
    int64_t t_joined = bo_clock_mono_ms();
    for (int i = 0; i < 3; i++)
        assert_int_equal(bo_world_register(&W, bl), BO_E_BLACKLISTED);
    assert_true(tc_wait_seq(&W.loop, ref, "pub", tc_snap_pos(ref, "pub") + 3, 10000));
    double cpu1 = bo_h_proc_cpu_s(W.srv.pid);
    printf("# %zu observers in %d processes joined through the proxy in %lld ms, in waves of "
           "%d per process: the server used %.1f s of CPU (%.1f ms a connection), the "
           "observers' processes %.1f s\n",
           N_OBS, N_PROC, (long long)(t_joined - t0), WAVE, cpu1 - cpu0,
           (cpu1 - cpu0) * 1000 / N_OBS, kids_join);

    /* the prober; everyone at the last event; then the blip */
    char out[600];
    bo_h_path(out, W.dir, "prober.txt");
    prober_start(out);
    char level[32];
    snprintf(level, sizeof(level), "%llu\n", (unsigned long long)tc_last_seq(ref, "pub"));
    put_file(W.dir, "arm", level);
    kids_await(".armed", NULL);
    bo_world_run(&W, 2000);
    double cpu2 = bo_h_proc_cpu_s(W.srv.pid);
    T_CUT = bo_clock_mono_ms();
    unsigned cut = bo_h_mproxy_cut(PROXY);
    assert_int_equal(cut, N_OBS);

    /* events keep coming while they return: a blacklisted registration every 300 ms, each
     * a public event (retried when the node says its store is unavailable, as §4 allows;
     * E_STORE_PENDING: the node writes it once its store is back) */
    int64_t reg_max = 0;
    unsigned unavailable = 0, pending = 0, canceled = 0;
    for (int i = 0; i < STORM_EVENTS; i++) {
        int64_t ts = bo_clock_mono_ms();
        if (bl->state != BO_CLIENT_JOINED && !tc_wait_state(&W.loop, bl, BO_CLIENT_JOINED, 60000))
            fail_msg("the directly connected bidder is %s (%s)", bo_client_state_name(bl->state),
                     bl->last_code);
        tc_reply_reset(bl);
        assert_int_equal(bo_client_register(bl->c, NULL, tc_on_reply, bl), BO_E_OK);
        bo_err e = tc_wait_reply(&W.loop, bl, 60000);
        int64_t took = bo_clock_mono_ms() - ts;
        reg_max = took > reg_max ? took : reg_max;
        if (e == BO_E_STORE_UNAVAILABLE && unavailable++ < 20) {
            i--;
            continue; /* nothing changed: again */
        }
        if (e == BO_E_CANCELED && canceled++ < 5) {
            /* its connection was lost with the request in flight (printed below): again
             * once it is back (a refused registration may count twice: the reference's
             * list is what the observers are compared with) */
            fprintf(stderr, "the directly connected bidder lost its connection during "
                            "registration %d (%lld ms), state %s\n",
                    i, (long long)took, bo_client_state_name(bl->state));
            i--;
            continue;
        }
        if (e == BO_E_STORE_PENDING)
            pending++; /* kept by the node, written once its store is back */
        else if (e != BO_E_BLACKLISTED)
            fail_msg("registration %d during the storm: %s after %lld ms (the bidder: %s, %u "
                     "reconnects, last refusal %s)",
                     i, bl->reply_code, (long long)took, bo_client_state_name(bl->state),
                     bl->backoffs, bl->last_code);
        bo_world_run(&W, 300);
    }
    /* the reference (connected directly) has them all once its list stops growing */
    uint64_t top = 0;
    for (int round = 0; round < 600; round++) {
        uint64_t now = tc_last_seq(ref, "pub");
        if (now == top && top)
            break;
        top = now;
        bo_world_run(&W, 1000);
    }
    printf("# %d refused registrations during the storm (each a public event): slowest reply "
           "%lld ms, %u answered E_STORE_UNAVAILABLE first, %u E_STORE_PENDING, %u canceled by "
           "a lost connection; the last public event is #%llu\n",
           STORM_EVENTS, (long long)reg_max, unavailable, pending, canceled,
           (unsigned long long)top);
    if (unavailable || pending)
        printf("# %s\n", bo_h_server_log_has(&W.srv, "no answer within")
                              ? "the node dropped its Redis connection: a command got no "
                                "answer within its timeout during the storm"
                              : "the node's store was down during the storm");
    char top_s[32];
    snprintf(top_s, sizeof(top_s), "%llu\n", (unsigned long long)top);
    put_file(W.dir, "top", top_s);
    double kids_storm = 0;
    kids_await(".res", &kids_storm); /* each process: its observers back, or its bound */
    int64_t t_back = bo_clock_mono_ms();
    double cpu3 = bo_h_proc_cpu_s(W.srv.pid);
    bo_world_run(&W, 1000);
    int pst = prober_stop();
    for (int k = 0; k < N_PROC; k++) {
        int kst = -1;
        assert_int_equal(waitpid(KIDS[k], &kst, 0), KIDS[k]);
        KIDS[k] = 0;
        if (!WIFEXITED(kst) || WEXITSTATUS(kst) != 0)
            fail_msg("observer process %d ended with status %d", k, kst);
    }
    kids_results();

    /* the prober's samples */
    char *txt = bo_h_read_file(out, NULL);
    assert_non_null(txt);
    size_t n_s = 0, timeouts = 0, errors = 0, reconnects = 0;
    int64_t *rtt = calloc(100000, sizeof(*rtt));
    assert_non_null(rtt);
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        long long at, v;
        if (sscanf(line, "reconnects %zu", &reconnects) == 1)
            continue;
        if (strstr(line, "timeout"))
            timeouts++;
        else if (strstr(line, "error"))
            errors++;
        else if (sscanf(line, "%lld %lld", &at, &v) == 2 && n_s < 100000)
            rtt[n_s++] = v;
    }
    free(txt);
    qsort(rtt, n_s, sizeof(*rtt), cmp_i64);
    printf("# `time` round trips during the storm (%zu requests, every %d ms, direct to the "
           "server): p50 %lld ms, p99 %lld ms, max %lld ms; %zu unanswered within %d ms, %zu "
           "errors, the prober reconnected %zu times\n",
           n_s, PROBE_EVERY_MS, n_s ? (long long)rtt[n_s / 2] : -1LL,
           n_s ? (long long)rtt[(n_s * 99) / 100] : -1LL, n_s ? (long long)rtt[n_s - 1] : -1LL,
           timeouts, PROBE_BOUND_MS, errors, reconnects);

    /* the reconnects */
    int64_t *delay = calloc(N_OBS, sizeof(*delay)), *backt = calloc(N_OBS, sizeof(*backt));
    assert_non_null(delay);
    assert_non_null(backt);
    size_t recovered = 0, once = 0, again = 0, gaps = 0, dups = 0, more = 0, late = 0;
    int64_t last_back = T_CUT;
    for (size_t i = 0; i < N_OBS; i++) {
        lobs *o = &OBS[i]; /* the results: counts since the cut */
        delay[i] = o->delay_ms;
        backt[i] = o->back_at ? o->back_at - T_CUT : -1;
        last_back = o->back_at > last_back ? o->back_at : last_back;
        unsigned joins = o->joins;
        recovered += joins >= 1 && o->recovered == joins;
        once += joins == 1;
        again += joins >= 1 && !strcmp(o->why, "joined");
        more += o->backoffs > 1;
        gaps += o->gaps;
        dups += o->dups;
        late += o->last_pub != top;
    }
    for (size_t i = 0, shown = 0; i < N_OBS && shown < 3; i++)
        if (OBS[i].why_storm[0] && ++shown)
            printf("# observer %zu needed %u attempts; its last failure: %s\n", i,
                   OBS[i].backoffs, OBS[i].why_storm);
    size_t retried = 0;
    for (size_t i = 0; i < N_OBS; i++)
        retried += OBS[i].cut_backoffs > 0;
    if (retried)
        printf("# %zu observers had needed more than one attempt to join before the blip (their "
               "first delay after it comes from a higher ceiling)\n",
               retried);
    histogram("the first reconnect's delay chosen by each observer (full jitter, 50 ms bins):",
              delay, N_OBS, 50, 10);
    histogram("time from the cut until each observer had joined again (1 s bins):", backt,
              N_OBS, 1000, 40);
    qsort(backt, N_OBS, sizeof(*backt), cmp_i64);
    printf("# all back %lld ms after the cut (p50 %lld ms, p99 %lld ms, max %lld ms); %zu "
           "needed more than one attempt; %zu joined again, %zu of them once; %zu resumed "
           "(recovered, at every join), %zu gaps, %zu duplicates, %zu not at the last event\n",
           (long long)(last_back - T_CUT), (long long)backt[N_OBS / 2],
           (long long)backt[(N_OBS * 99) / 100], (long long)backt[N_OBS - 1], more, again, once,
           recovered, gaps, dups, late);
    printf("# the clients connected directly: the reference observer reconnected %u times, "
           "the bidder %u times\n",
           ref->backoffs, bl->backoffs);
    printf("# the storm cost the server %.1f s of CPU (%.1f ms a reconnect) and the observers' "
           "processes %.1f s, in %.1f s of wall time (until every process reported); load "
           "average now %s",
           cpu3 - cpu2, (cpu3 - cpu2) * 1000 / N_OBS, kids_storm, (t_back - T_CUT) / 1000.0,
           loadavg());
    char metrics[65536];
    if (bo_h_http_get(W.srv.port, ca, "/metrics", metrics, sizeof(metrics), 5000) == 200)
        printf("# server: %.0f connections accepted, %.0f refused, %.0f closed for lagging; "
               "proxy: %u accepted, %u refused\n",
               bo_h_prom_value(metrics, "bidopen_connections_accepted_total"),
               bo_h_prom_value(metrics, "bidopen_connections_refused_total"),
               bo_h_prom_value(metrics, "bidopen_lagging_closed_total"),
               bo_h_mproxy_accepted(PROXY), bo_h_mproxy_refused(PROXY));

    /* the server stayed up and answered */
    int st;
    assert_int_equal(waitpid(W.srv.pid, &st, WNOHANG), 0);
    assert_int_equal(pst, 0); /* the prober ran to the end */
    assert_true(n_s >= 10);
    assert_int_equal(timeouts, 0);
    assert_int_equal(errors, 0);
    /* everyone back, resumed, complete */
    assert_int_equal(recovered, N_OBS);
    assert_int_equal(again, N_OBS);
    assert_int_equal(gaps, 0);
    assert_int_equal(dups, 0);
    assert_int_equal(late, 0);
    /* the jitter: the first delays of the observers that joined at the first attempt (their
     * ceiling is the first one; one that needed several attempts to join starts higher, the
     * client resets it only once a connection held 30 s) lie within [0, 500] ms, spread
     * over the ten 50 ms bins */
    size_t bins[10] = {0}, clean = 0;
    for (size_t i = 0; i < N_OBS; i++) {
        assert_true(delay[i] >= 0);
        if (OBS[i].cut_backoffs)
            continue;
        clean++;
        assert_true(delay[i] <= BACKOFF_MIN_MS);
        bins[delay[i] >= BACKOFF_MIN_MS ? 9 : delay[i] / 50]++;
    }
    assert_true(clean >= N_OBS / 2);
    double even = (double)clean / 10;
    for (int k = 0; k < 10; k++)
        if (bins[k] < even / 3 || bins[k] > even * 3)
            fail_msg("the delays are not spread: %zu of %zu in %d-%d ms", bins[k], clean,
                     k * 50, k * 50 + 49);
    free(delay);
    free(backt);
    free(rtt);
    tc_free(ref);
    tc_free(bl);
    REF = BL = NULL;
}

/* Everyone leaves; the server stops cleanly (exit 0: no sanitizer report, no leak). */
static void clean_stop(void **state)
{
    (void)state;
    bo_world_run(&W, 1000);
    assert_int_equal(bo_world_stop(&W), 0);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    /* per observer: the proxy's two sockets here (its own is in its process); 200 for
     * everything else */
    size_t fit = rl.rlim_cur > 200 ? (size_t)(rl.rlim_cur - 200) / 2 : 0;
    N_OBS = fit < N_OBS_WANT ? fit : N_OBS_WANT;
    if (N_OBS < N_OBS_WANT)
        printf("# ulimit -n is %llu: %zu observers instead of %d\n",
               (unsigned long long)rl.rlim_cur, N_OBS, N_OBS_WANT);
    OBS = calloc(N_OBS ? N_OBS : 1, sizeof(*OBS));
    assert_non_null(OBS);
    bo_world_up(&W, "fault-storm", NULL);
    bo_world_load_blacklist(&W, W.srv.url);
    PROXY = bo_h_mproxy_start(W.srv.port, (unsigned)N_OBS + 64);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    prober_stop();
    for (int k = 0; k < N_PROC; k++)
        if (KIDS[k] > 0) {
            kill(KIDS[k], SIGKILL);
            waitpid(KIDS[k], NULL, 0);
        }
    tc_free(REF);
    tc_free(BL);
    bo_world_run(&W, 500);
    bo_h_mproxy_stop(PROXY);
    bo_world_down(&W);
    free(OBS);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--prober"))
        return prober_main(argv[2], argv[3], argv[4]);
    if (argc == 8 && !strcmp(argv[1], "--observers"))
        return observers_main(argv[2], argv[3], argv[4], (size_t)atol(argv[5]), argv[6],
                              atoi(argv[7]));
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* the figures, even when a failure ends it early */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(storm),
        cmocka_unit_test(clean_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
