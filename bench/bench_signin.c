/* bo-bench signin / memory: N bidders spread over K openings connect over TLS at once,
 * authenticate with their certificates and register + sign in (signin), or only
 * authenticate and join, then stay idle (memory). The driver measures the burst from the
 * server's side (time, CPU from /proc, RSS); the load processes (signin-load) stamp every
 * step of every bidder. Baselines: bo-bench-ossl signin (chains, signatures and TLS
 * handshakes in plain OpenSSL) and bo-bench-ossl fanout-server --idle (idle TLS
 * connections in plain OpenSSL, default buffers and SSL_MODE_RELEASE_BUFFERS). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "bo/clock.h"

/* ------------------------------------------------------------ load side ---- */

typedef struct lbid lbid;

#define DROP_KINDS 16

typedef struct load {
    uv_loop_t *loop;
    /* why connections were dropped (client side), by message */
    char drop_msg[DROP_KINDS][96];
    unsigned drop_n[DROP_KINDS], drop_other;
    bo_client_ctx *ctx;
    lbid *b;
    unsigned n;
    bool idle_only;
    unsigned n_done, n_failed;
    int64_t t_go, t_last;
} load;

struct lbid {
    load *L;
    bn_bidder_cred cred;
    bo_client *c;
    char oid[65];
    int stage; /* 0 start, 1 joined, 2 register sent, 3 registered, 4 signin sent, 5 done */
    bool failed, counted;
    int64_t retry_at; /* ns (mono): resend then (the store was unavailable) */
    unsigned retries;
    int64_t t_start, t_joined, t_reg_sent, t_reg_ok, t_sig_sent, t_done;
    char err[64];
};

static void finish(lbid *b, bool ok, const char *err)
{
    if (b->counted)
        return;
    b->counted = true;
    b->t_done = bn_real_ns();
    if (ok) {
        b->L->n_done++;
        if (b->t_done > b->L->t_last)
            b->L->t_last = b->t_done;
    } else {
        b->failed = true;
        b->L->n_failed++;
        snprintf(b->err, sizeof(b->err), "%s", err ? err : "E_?");
    }
}

static void advance(lbid *b);

/* "nothing was changed, retry shortly" (protocol.md §4): a real client retries */
static bool retry_later(lbid *b, bo_err err)
{
    /* E_STORE_PENDING: the server writes it when the store is back; sending register or
     * signin again is harmless (ok{already}), and the bidder learns the outcome that way */
    if (err != BO_E_STORE_UNAVAILABLE && err != BO_E_STORE_PENDING && err != BO_E_RATE_LIMITED &&
        err != BO_E_SHUTTING_DOWN)
        return false;
    b->retries++;
    b->retry_at = bn_mono_ns() + (250 + rand() % 500) * 1000000LL;
    return true;
}

static void on_signin(void *ud, bo_err err, const char *code, const char *msg,
                      const msgpack_object *data)
{
    lbid *b = ud;
    (void)msg;
    (void)data;
    if (err == BO_E_CANCELED) {
        b->stage = 3; /* the connection dropped: resend after the rejoin */
        return;
    }
    if (retry_later(b, err)) {
        b->stage = 3;
        return;
    }
    if (err) {
        finish(b, false, code);
        return;
    }
    b->stage = 5;
    finish(b, true, NULL);
}

static void on_register(void *ud, bo_err err, const char *code, const char *msg,
                        const msgpack_object *data)
{
    lbid *b = ud;
    (void)msg;
    (void)data;
    if (err == BO_E_CANCELED) {
        b->stage = 1;
        return;
    }
    if (retry_later(b, err)) {
        b->stage = 1;
        return;
    }
    if (err) {
        finish(b, false, code);
        return;
    }
    b->t_reg_ok = bn_real_ns();
    b->stage = 3;
    advance(b);
}

static void advance(lbid *b)
{
    if (b->counted || bo_client_state_get(b->c) != BO_CLIENT_JOINED)
        return;
    if (b->retry_at && bn_mono_ns() < b->retry_at)
        return;
    b->retry_at = 0;
    if (b->L->idle_only) {
        finish(b, true, NULL);
        return;
    }
    bo_err e = BO_E_OK;
    if (b->stage <= 1) {
        b->stage = 2;
        b->t_reg_sent = bn_real_ns();
        e = bo_client_register(b->c, NULL, on_register, b);
    } else if (b->stage == 3) {
        b->stage = 4;
        b->t_sig_sent = bn_real_ns();
        e = bo_client_signin(b->c, NULL, on_signin, b);
    }
    if (e)
        finish(b, false, bo_err_name(e));
}

static void lb_state(void *ud, bo_client_state st, bo_err err, const char *code,
                     const char *msg)
{
    lbid *b = ud;
    if (st == BO_CLIENT_JOINED) {
        if (!b->t_joined)
            b->t_joined = bn_real_ns();
        if (b->stage == 0)
            b->stage = 1;
        advance(b);
    } else if (st == BO_CLIENT_FAILED) {
        finish(b, false, code ? code : bo_err_name(err));
    } else if (st == BO_CLIENT_BACKOFF) {
        /* count the reasons, digits dropped ("could not connect to wss://127.0.0.1:N/ws") */
        load *L = b->L;
        char key[96];
        size_t k = 0;
        snprintf(key, sizeof(key), "%s %s", code ? code : bo_err_name(err), msg ? msg : "");
        for (const char *p = key; *p && k < sizeof(key) - 1; p++)
            if (*p < '0' || *p > '9')
                key[k++] = *p;
        key[k] = 0;
        unsigned i = 0;
        while (i < DROP_KINDS && L->drop_msg[i][0] && strcmp(L->drop_msg[i], key))
            i++;
        if (i == DROP_KINDS) {
            L->drop_other++;
            return;
        }
        if (!L->drop_msg[i][0])
            snprintf(L->drop_msg[i], sizeof(L->drop_msg[i]), "%s", key);
        L->drop_n[i]++;
    }
}

static bool load_finished(void *ud)
{
    load *L = ud;
    return L->n_done + L->n_failed >= L->n;
}

static void retry_tick(uv_timer_t *t)
{
    load *L = t->data;
    int64_t now = bn_mono_ns();
    for (unsigned i = 0; i < L->n; i++)
        if (L->b[i].retry_at && now >= L->b[i].retry_at && (L->b[i].stage == 1 || L->b[i].stage == 3))
            advance(&L->b[i]);
}

int bn_cmd_signin_load(int argc, char **argv)
{
    const char *pki = bn_arg(argc, argv, "--pki", NULL);
    const char *url = bn_arg(argc, argv, "--url", NULL);
    const char *oids = bn_arg(argc, argv, "--oids", NULL);
    const char *out = bn_arg(argc, argv, "--out", NULL);
    unsigned from = (unsigned)bn_arg_ll(argc, argv, "--from", 0);
    unsigned to = (unsigned)bn_arg_ll(argc, argv, "--to", 0);
    int timeout_s = (int)bn_arg_ll(argc, argv, "--timeout", 600);
    if (!pki || !url || !oids || !out || to <= from)
        BN_DIE("usage: bo-bench signin-load --pki DIR --url URL --oids FILE --from A --to B "
               "--out FILE [--idle]");
    /* the openings, one per line; bidder i joins opening i % K */
    char (*oid)[65] = NULL;
    unsigned k = 0;
    FILE *f = fopen(oids, "r");
    char line[128];
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line)
            continue;
        oid = realloc(oid, (k + 1) * sizeof(*oid));
        snprintf(oid[k++], 65, "%.64s", line);
    }
    if (f)
        fclose(f);
    if (!k)
        BN_DIE("no openings in %s", oids);
    uv_loop_t loop;
    uv_loop_init(&loop);
    load L = {.loop = &loop, .n = to - from, .idle_only = bn_flag(argc, argv, "--idle")};
    int64_t ramp_ms = bn_arg_ll(argc, argv, "--ramp-ms", 0);
    L.b = calloc(L.n, sizeof(*L.b));
    L.ctx = bn_ctx_new(&loop, pki, L.n + 16);
    bn_ctl *ctl = bn_ctl_open(&loop);
    const char *urls[1] = {url};
    for (unsigned i = 0; i < L.n; i++) {
        lbid *b = &L.b[i];
        b->L = &L;
        if (!bn_bidder_load(pki, from + i, false, &b->cred))
            BN_DIE("cannot load bidder %u from %s", from + i, pki);
        snprintf(b->oid, sizeof(b->oid), "%s", oid[(from + i) % k]);
        bo_client_opts o = {.urls = urls,
                            .n_urls = 1,
                            .role = "bidder",
                            .key = b->cred.key,
                            .chain = b->cred.chain.list,
                            .enc_chain = b->cred.enc_chain.list,
                            .oid = b->oid,
                            .cb = {.on_state = lb_state},
                            .ud = b};
        bo_err e;
        b->c = bo_client_new(L.ctx, &o, &e);
        if (!b->c)
            BN_DIE("client: %s", bo_strerror(e));
    }
    bn_say("ready %u", L.n);
    /* wait for "go" */
    bool go = false;
    while (!go && !bn_ctl_eof(ctl)) {
        uv_run(&loop, UV_RUN_ONCE);
        char *l;
        while ((l = bn_ctl_take(ctl))) {
            go = go || !strncmp(l, "go", 2);
            free(l);
        }
    }
    L.t_go = bn_real_ns();
    srand((unsigned)getpid());
    uv_timer_t retry;
    uv_timer_init(&loop, &retry);
    retry.data = &L;
    uv_timer_start(&retry, retry_tick, 50, 50);
    /* all at once, or spread evenly over ramp_ms */
    int64_t m0 = bn_mono_ns();
    unsigned started = 0;
    while (started < L.n) {
        int64_t due = ramp_ms > 0 ? (int64_t)started * ramp_ms * 1000000 / L.n : 0;
        if (bn_mono_ns() - m0 < due) {
            uv_run(&loop, UV_RUN_NOWAIT);
            bn_sleep_ms(1);
            continue;
        }
        L.b[started].t_start = bn_real_ns();
        bo_client_start(L.b[started].c);
        started++;
    }
    bn_run_until(&loop, load_finished, &L, timeout_s * 1000);
    uv_timer_stop(&retry);
    uv_close((uv_handle_t *)&retry, NULL);
    unsigned drops = L.drop_other;
    for (unsigned i = 0; i < DROP_KINDS && L.drop_msg[i][0]; i++) {
        fprintf(stderr, "bo-bench signin-load: dropped %u x: %s\n", L.drop_n[i], L.drop_msg[i]);
        drops += L.drop_n[i];
    }
    if (L.drop_other)
        fprintf(stderr, "bo-bench signin-load: dropped %u x: (other reasons)\n", L.drop_other);
    bn_say("done %u %u %lld %u", L.n_done, L.n_failed, (long long)L.t_last, drops);
    /* stay connected (idle) until told to quit */
    bool quit = false;
    while (!quit && !bn_ctl_eof(ctl)) {
        uv_run(&loop, UV_RUN_ONCE);
        char *l;
        while ((l = bn_ctl_take(ctl))) {
            quit = quit || !strncmp(l, "quit", 4);
            free(l);
        }
    }
    f = fopen(out, "w");
    for (unsigned i = 0; f && i < L.n; i++) {
        lbid *b = &L.b[i];
        fprintf(f, "%u %s %lld %lld %lld %lld %lld %lld %llu %u %s\n", b->cred.idx, b->cred.alg,
                (long long)b->t_start, (long long)b->t_joined, (long long)b->t_reg_sent,
                (long long)b->t_reg_ok, (long long)b->t_sig_sent,
                (long long)(b->failed ? 0 : b->t_done), (unsigned long long)bo_client_connects(b->c),
                b->retries, b->failed ? b->err : "-");
    }
    if (f)
        fclose(f);
    for (unsigned i = 0; i < L.n; i++) {
        bo_client_free(L.b[i].c);
        bn_bidder_free(&L.b[i].cred);
    }
    bn_ctl_close(ctl);
    bn_ctx_free(L.ctx, &loop);
    uv_loop_close(&loop);
    free(L.b);
    free(oid);
    bn_say("bye");
    return 0;
}

/* ---------------------------------------------------------- driver side ---- */

typedef struct rec {
    unsigned idx;
    char alg[8];
    long long t_start, t_joined, t_reg_sent, t_reg_ok, t_sig_sent, t_done;
    unsigned long long connects;
    unsigned retries;
    char err[64];
} rec;

static size_t read_recs(const char *path, rec **v, size_t n)
{
    FILE *f = fopen(path, "r");
    rec r;
    while (f && fscanf(f, "%u %7s %lld %lld %lld %lld %lld %lld %llu %u %63s", &r.idx, r.alg,
                       &r.t_start, &r.t_joined, &r.t_reg_sent, &r.t_reg_ok, &r.t_sig_sent,
                       &r.t_done, &r.connects, &r.retries, r.err) == 11) {
        *v = realloc(*v, (n + 1) * sizeof(**v));
        (*v)[n++] = r;
    }
    if (f)
        fclose(f);
    return n;
}

/* "key=value" from a result line */
static double kv(const char *line, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), " %s=", key);
    const char *p = strstr(line, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

/* a counter from a saved /metrics page (-1 if absent) */
static double metric(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    char line[512];
    double v = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, name, n) && line[n] == ' ')
            v = strtod(line + n + 1, NULL);
    if (f)
        fclose(f);
    return v;
}

typedef struct drv {
    const char *pki, *out, *server_bin, *ossl_bin;
    unsigned n, openings, procs;
    bool idle;
    const char *ramp_ms; /* spread the starts over this many ms (NULL: all at once) */
} drv;

/* the idle-connection baseline: a plain OpenSSL server holding as many TLS connections */
typedef struct idle_base {
    int connections;
    double rss0, rss1, kib_per_conn, tcp_kib_per_conn;
    bool ok;
} idle_base;

static idle_base idle_baseline(uv_loop_t *loop, const drv *d, bool release)
{
    idle_base r = {.kib_per_conn = -1, .tcp_kib_per_conn = -1};
    char lg[700], port_s[16], n_s[16];
    snprintf(lg, sizeof(lg), "%s/ossl-idle%s.log", d->out, release ? "-release" : "");
    snprintf(n_s, sizeof(n_s), "%u", d->n);
    const char *sargv[] = {d->ossl_bin, "fanout-server", "--pki", d->pki, "--n", n_s, "--idle",
                           release ? "--release-buffers" : NULL, NULL};
    bn_child *srv = bn_child_spawn(loop, sargv, lg);
    char *l = bn_child_wait_line(srv, "port ", 30000);
    if (!l) {
        bn_child_reap(srv, 1000);
        return r;
    }
    snprintf(port_s, sizeof(port_s), "%d", atoi(l + 5));
    free(l);
    bn_child **rc = calloc(d->procs, sizeof(*rc));
    for (unsigned p = 0; p < d->procs; p++) {
        unsigned a = d->n * p / d->procs, b = d->n * (p + 1) / d->procs;
        char cnt[16], of[700];
        snprintf(cnt, sizeof(cnt), "%u", b - a);
        snprintf(of, sizeof(of), "%s/ossl-idle-recv-%u.txt", d->out, p);
        const char *rargv[] = {d->ossl_bin, "fanout-recv", "--pki", d->pki, "--port", port_s,
                               "--n", cnt, "--out", of, NULL};
        rc[p] = bn_child_spawn(loop, rargv, lg);
    }
    l = bn_child_wait_line(srv, "ready ", 600000);
    if (l) {
        int dead = 0;
        sscanf(l, "ready %d %d", &r.connections, &dead);
        r.rss0 = kv(l, "rss0_kb");
        r.rss1 = kv(l, "rss1_kb");
        double tcp0 = kv(l, "tcp0_kb"), tcp1 = kv(l, "tcp1_kb");
        if (r.connections > 0) {
            r.kib_per_conn = (r.rss1 - r.rss0) / r.connections;
            r.tcp_kib_per_conn = (tcp1 - tcp0) / r.connections;
            r.ok = true;
        }
        free(l);
    }
    bn_child_send(srv, "quit");
    for (unsigned p = 0; p < d->procs; p++) {
        bn_child_send(rc[p], "quit");
        bn_child_reap(rc[p], 30000);
    }
    bn_child_reap(srv, 30000);
    free(rc);
    return r;
}

static void idle_json(bn_json *j, const char *key, const idle_base *b)
{
    bn_json_obj(j, key);
    bn_json_int(j, "connections", b->connections);
    bn_json_num(j, "rss_before_kib", b->rss0);
    bn_json_num(j, "rss_after_kib", b->rss1);
    bn_json_num(j, "kib_per_conn", b->kib_per_conn);
    bn_json_num(j, "kernel_tcp_kib_per_conn", b->tcp_kib_per_conn);
    bn_json_end_obj(j);
}

static int run_driver(int argc, char **argv, bool idle)
{
    drv d = {.pki = bn_arg(argc, argv, "--pki", NULL),
             .out = bn_arg(argc, argv, "--out", NULL),
             .server_bin = bn_arg(argc, argv, "--server-bin", NULL),
             .ossl_bin = bn_arg(argc, argv, "--ossl-bin", NULL),
             .n = (unsigned)bn_arg_ll(argc, argv, "--n", 100),
             .openings = (unsigned)bn_arg_ll(argc, argv, "--openings", 10),
             .procs = (unsigned)bn_arg_ll(argc, argv, "--procs", 2),
             .idle = idle,
             .ramp_ms = bn_arg(argc, argv, "--ramp-ms", NULL)};
    if (!d.pki || !d.out || !d.server_bin || !d.ossl_bin || d.n < 1 || d.openings < 1 ||
        d.procs < 1)
        BN_DIE("usage: bo-bench %s --pki DIR --out DIR --server-bin BIN --ossl-bin BIN --n N "
               "--openings K --procs P",
               idle ? "memory" : "signin");
    if (d.procs > d.n)
        d.procs = d.n;
    mkdir(d.out, 0755);
    if (bn_pki_ensure(d.pki, d.n, false))
        return 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char sdir[700];
    snprintf(sdir, sizeof(sdir), "%s/server", d.out);
    bn_server srv;
    if (bn_server_start(&srv, d.server_bin, sdir, d.pki, NULL, NULL, NULL, 60000))
        return 1;
    bo_client_ctx *ctx = bn_ctx_new(&loop, d.pki, 16);
    bn_host host = {0};
    if (bn_host_open(&host, ctx, srv.url, d.pki, "host", "host", NULL, 30000))
        return 1;
    char oids_path[700];
    snprintf(oids_path, sizeof(oids_path), "%s/openings.txt", d.out);
    FILE *of = fopen(oids_path, "w");
    for (unsigned i = 0; i < d.openings; i++) {
        char tj[1024], oid[65], title[64];
        snprintf(title, sizeof(title), "bench opening %u", i);
        bn_tender_json(tj, sizeof(tj), NULL, title, 3600 * 1000, 1, 0);
        if (bn_host_create(&host, tj, oid))
            BN_DIE("cannot create the openings");
        fprintf(of, "%s\n", oid);
    }
    fclose(of);
    /* the load processes */
    bn_child **ch = calloc(d.procs, sizeof(*ch));
    for (unsigned p = 0; p < d.procs; p++) {
        unsigned a = d.n * p / d.procs, b = d.n * (p + 1) / d.procs;
        char from[16], to[16], outp[700], lg[700];
        snprintf(from, sizeof(from), "%u", a);
        snprintf(to, sizeof(to), "%u", b);
        snprintf(outp, sizeof(outp), "%s/load-%u.txt", d.out, p);
        snprintf(lg, sizeof(lg), "%s/load-%u.log", d.out, p);
        const char *av[] = {bn_self(), "signin-load", "--pki", d.pki, "--url", srv.url,
                            "--oids", oids_path, "--from", from, "--to", to, "--out", outp,
                            "--ramp-ms", d.ramp_ms ? d.ramp_ms : "0", idle ? "--idle" : NULL,
                            NULL};
        ch[p] = bn_child_spawn(&loop, av, lg);
    }
    for (unsigned p = 0; p < d.procs; p++) {
        char *l = bn_child_wait_line(ch[p], "ready", 300000);
        if (!l)
            BN_DIE("load process %u did not start (see %s/load-%u.log)", p, d.out, p);
        free(l);
    }
    bn_run_for(&loop, 500); /* let the server settle */
    bn_cpu c0, c1, r0, r1;
    long rss0 = bn_proc_status_kb(srv.pid, "VmRSS"), tcp0 = bn_tcp_mem_kb();
    bn_proc_cpu(srv.pid, &c0);
    bn_proc_cpu(srv.redis_pid, &r0);
    bn_child *perf = bn_perf_start(&loop, srv.pid, d.out, "server");
    int64_t t_go = bn_real_ns();
    for (unsigned p = 0; p < d.procs; p++)
        bn_child_send(ch[p], "go");
    unsigned done = 0, failed = 0, drops = 0;
    long long t_last = 0;
    for (unsigned p = 0; p < d.procs; p++) {
        char *l = bn_child_wait_line(ch[p], "done", 900000);
        unsigned a = 0, b = 0, dr = 0;
        long long t = 0;
        if (l && sscanf(l, "done %u %u %lld %u", &a, &b, &t, &dr) >= 3) {
            done += a;
            failed += b;
            drops += dr;
            if (t > t_last)
                t_last = t;
        }
        free(l);
    }
    bn_proc_cpu(srv.pid, &c1);
    bn_proc_cpu(srv.redis_pid, &r1);
    bn_perf_stop(perf, d.out, "server");
    long hwm = bn_proc_status_kb(srv.pid, "VmHWM");
    /* idle: let the connections settle (the server hands freed pages back every 10 s after
     * a burst of handshakes), then measure memory */
    bn_run_for(&loop, 12000);
    long rss1 = bn_proc_status_kb(srv.pid, "VmRSS"), tcp1 = bn_tcp_mem_kb();
    char mpath[700];
    snprintf(mpath, sizeof(mpath), "%s/server-metrics.txt", d.out);
    bn_server_metrics(&srv, mpath);
    for (unsigned p = 0; p < d.procs; p++)
        bn_child_send(ch[p], "quit");
    for (unsigned p = 0; p < d.procs; p++)
        bn_child_reap(ch[p], 120000);
    bn_host_close(&host);
    bn_ctx_free(ctx, &loop);
    int st = bn_server_stop(&srv, 30000);

    /* per-bidder numbers */
    rec *recs = NULL;
    size_t nr = 0;
    for (unsigned p = 0; p < d.procs; p++) {
        char outp[700];
        snprintf(outp, sizeof(outp), "%s/load-%u.txt", d.out, p);
        nr = read_recs(outp, &recs, nr);
    }
    bn_vec since_go = {0}, sig_rtt = {0}, reg_rtt = {0}, join_t = {0}, per_alg[3] = {{0}};
    unsigned long long reconnects = 0, retries = 0;
    static const char *algs[3] = {"rsa", "p256", "sm2"};
    for (size_t i = 0; i < nr; i++) {
        rec *r = &recs[i];
        if (r->connects > 1)
            reconnects += r->connects - 1;
        retries += r->retries;
        if (!r->t_done)
            continue;
        bn_vec_push(&since_go, r->t_done - t_go);
        if (r->t_joined)
            bn_vec_push(&join_t, r->t_joined - r->t_start);
        if (!idle) {
            bn_vec_push(&sig_rtt, r->t_done - r->t_sig_sent);
            bn_vec_push(&reg_rtt, r->t_reg_ok - r->t_reg_sent);
            for (int a = 0; a < 3; a++)
                if (!strcmp(r->alg, algs[a]))
                    bn_vec_push(&per_alg[a], r->t_done - r->t_start);
        }
    }
    /* refusals by code */
    char codes[16][64];
    unsigned counts[16] = {0}, ncodes = 0;
    for (size_t i = 0; i < nr; i++) {
        if (recs[i].t_done || !strcmp(recs[i].err, "-"))
            continue;
        unsigned k = 0;
        while (k < ncodes && strcmp(codes[k], recs[i].err))
            k++;
        if (k == ncodes && ncodes < 16)
            snprintf(codes[ncodes++], 64, "%s", recs[i].err);
        if (k < ncodes)
            counts[k]++;
    }
    bn_vec_sort(&since_go);
    bn_vec_sort(&sig_rtt);
    bn_vec_sort(&reg_rtt);
    bn_vec_sort(&join_t);
    double wall_s = (double)(t_last - t_go) / 1e9;
    double cpu_s = bn_cpu_delta(&c0, &c1), redis_cpu = bn_cpu_delta(&r0, &r1);

    char path[700];
    snprintf(path, sizeof(path), "%s/%s-cdf.dat", d.out, idle ? "connect" : "signin");
    bn_write_cdf(path, &since_go);

    /* the baseline, run after the server is gone */
    double base[10];
    static const char *bkeys[10] = {"wall_s", "wall_crypto_s", "wall_tls_s",
                                    "cpu_server_crypto_s", "cpu_client_crypto_s",
                                    "cpu_server_tls_s", "cpu_client_tls_s", "cpu_total_s",
                                    "rate", "failures"};
    for (int k = 0; k < 10; k++)
        base[k] = -1;
    idle_base ib[2] = {{0}, {0}};
    if (!idle) {
        char lg[700], n_s[16];
        snprintf(lg, sizeof(lg), "%s/ossl-signin.log", d.out);
        snprintf(n_s, sizeof(n_s), "%u", d.n);
        const char *av[] = {d.ossl_bin, "signin", "--pki", d.pki, "--n", n_s, "--threads", "2",
                            NULL};
        bn_child *b = bn_child_spawn(&loop, av, lg);
        char *l = bn_child_wait_line(b, "result ", 1800000);
        bn_child_reap(b, 10000);
        for (int k = 0; l && k < 10; k++)
            base[k] = kv(l, bkeys[k]);
        free(l);
    } else {
        ib[0] = idle_baseline(&loop, &d, false);
        ib[1] = idle_baseline(&loop, &d, true);
    }
    double rate = wall_s > 0 ? done / wall_s : 0;
    double kib = done ? (double)(rss1 - rss0) / done : -1;

    bn_json j;
    snprintf(path, sizeof(path), "%s/result.json", d.out);
    if (!bn_json_open(&j, path))
        BN_DIE("cannot write %s", path);
    bn_json_str(&j, "name", idle ? "memory" : "signin");
    bn_json_obj(&j, "params");
    bn_json_int(&j, "bidders", d.n);
    bn_json_int(&j, "openings", d.openings);
    bn_json_int(&j, "load_processes", d.procs);
    bn_json_int(&j, "ramp_ms", d.ramp_ms ? atoll(d.ramp_ms) : 0);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "bidopen");
    bn_json_int(&j, "completed", done);
    bn_json_int(&j, "failed", failed);
    bn_json_int(&j, "unfinished", (int64_t)d.n - done - failed);
    bn_json_int(&j, "reconnects", (int64_t)reconnects);
    bn_json_int(&j, "store_unavailable_retries", (int64_t)retries);
    /* every connection attempt that ended before the bidder was done (refused at accept,
     * handshake or auth timeouts, drops), from the clients; and the server's side of it */
    bn_json_int(&j, "client_drops", drops);
    bn_json_int(&j, "server_refused_unauthed",
                (int64_t)metric(mpath, "bidopen_connections_refused_unauthed_total"));
    bn_json_int(&j, "server_auth_timeouts", (int64_t)metric(mpath, "bidopen_auth_timeouts_total"));
    bn_json_obj(&j, "failures_by_code");
    for (unsigned k = 0; k < ncodes; k++)
        bn_json_int(&j, codes[k], counts[k]);
    bn_json_end_obj(&j);
    bn_json_num(&j, "wall_s", wall_s);
    bn_json_num(&j, "rate_per_s", rate);
    bn_json_num(&j, "server_cpu_s", cpu_s);
    bn_json_num(&j, "server_cpu_ticks_s", bn_cpu_ticks_delta(&c0, &c1));
    bn_json_num(&j, "server_cpu_ms_per_bidder", done ? cpu_s * 1000 / done : 0);
    bn_json_num(&j, "redis_cpu_s", redis_cpu);
    bn_json_dist_ms(&j, "completion_since_start_ms", &since_go);
    bn_json_dist_ms(&j, "connect_to_joined_ms", &join_t);
    if (!idle) {
        bn_json_dist_ms(&j, "signin_rtt_ms", &sig_rtt);
        bn_json_dist_ms(&j, "register_rtt_ms", &reg_rtt);
        bn_json_obj(&j, "per_alg_total_ms");
        for (int a = 0; a < 3; a++) {
            bn_vec_sort(&per_alg[a]);
            bn_json_dist_ms(&j, algs[a], &per_alg[a]);
        }
        bn_json_end_obj(&j);
    }
    bn_json_int(&j, "rss_before_kib", rss0);
    bn_json_int(&j, "rss_after_kib", rss1);
    bn_json_int(&j, "hwm_kib", hwm);
    bn_json_num(&j, "kib_per_conn", kib);
    bn_json_num(&j, "kernel_tcp_kib_per_conn", done ? (double)(tcp1 - tcp0) / done : 0);
    bn_json_int(&j, "server_exit", st);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "baseline");
    if (!idle) {
        bn_json_str(&j, "program", "bo-bench-ossl signin (plain OpenSSL, 2 threads)");
        for (int k = 0; k < 10; k++)
            bn_json_num(&j, bkeys[k], base[k]);
        bn_json_num(&j, "server_side_cpu_ms_per_bidder",
                    base[3] >= 0 ? (base[3] + base[5]) * 1000 / d.n : -1);
    } else {
        bn_json_str(&j, "program", "bo-bench-ossl fanout-server --idle (plain OpenSSL)");
        idle_json(&j, "openssl_default", &ib[0]);
        idle_json(&j, "openssl_release_buffers", &ib[1]);
    }
    bn_json_end_obj(&j);
    bn_json_obj(&j, "ratios");
    if (!idle) {
        bn_json_num(&j, "throughput_vs_baseline", base[8] > 0 ? rate / base[8] : -1);
        bn_json_num(&j, "server_cpu_per_bidder_vs_baseline_server_side",
                    base[3] >= 0 && done ? (cpu_s / done) / ((base[3] + base[5]) / d.n) : -1);
    } else {
        bn_json_num(&j, "per_conn_vs_openssl_default",
                    ib[0].kib_per_conn > 0 ? kib / ib[0].kib_per_conn : -1);
        bn_json_num(&j, "per_conn_vs_openssl_release_buffers",
                    ib[1].kib_per_conn > 0 ? kib / ib[1].kib_per_conn : -1);
    }
    bn_json_end_obj(&j);
    bn_json_arr(&j, "targets");
    if (!idle)
        bn_json_target(&j, "sign-ins per second / baseline's", base[8] > 0 ? rate / base[8] : -1,
                       ">=", 0.5, "ratio");
    else
        bn_json_target(&j, "server RSS per idle authenticated connection", kib, "<=", 24, "KiB");
    bn_json_end_arr(&j);
    bn_json_arr(&j, "plots");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "name", idle ? "connect-cdf" : "signin-cdf");
    bn_json_str(&j, "title", idle ? "time from the start until connected and joined (CDF)"
                                  : "sign-in burst: time from the start until signed in (CDF)");
    bn_json_str(&j, "xlabel", "ms since the burst started");
    bn_json_str(&j, "ylabel", "fraction of bidders");
    bn_json_arr(&j, "series");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "file", idle ? "connect-cdf.dat" : "signin-cdf.dat");
    bn_json_str(&j, "title", "bidopen");
    bn_json_end_obj(&j);
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_end_arr(&j);
    bn_json_close(&j);
    bn_vec_free(&since_go);
    bn_vec_free(&sig_rtt);
    bn_vec_free(&reg_rtt);
    bn_vec_free(&join_t);
    for (int a = 0; a < 3; a++)
        bn_vec_free(&per_alg[a]);
    free(recs);
    free(ch);
    uv_loop_close(&loop);
    fprintf(stderr, "bo-bench: %s: %u done, %u failed in %.2f s (%.0f/s), server CPU %.2f s\n",
            idle ? "memory" : "signin", done, failed, wall_s, wall_s > 0 ? done / wall_s : 0,
            cpu_s);
    return done ? 0 : 1;
}

int bn_cmd_signin(int argc, char **argv)
{
    return run_driver(argc, argv, false);
}

int bn_cmd_memory(int argc, char **argv)
{
    return run_driver(argc, argv, true);
}
