/* bo-bench fanout: one opening with N connected observers; after the deadline the host
 * pauses and resumes it, round after round; every observer stamps each `paused`/`resumed`
 * event (CLOCK_REALTIME, one machine), the driver stamps the host's acknowledgement, and the
 * server's CPU is read from /proc around the rounds. Baselines with the same N and the same
 * frame size: (a) bo-bench-ossl fanout-server, which writes the frame once to each of N
 * loopback TLS connections (the physical floor), and (b) Debian's libwebsockets-test-server
 * and its mirror protocol. Optionally (--nodes K) the same with K bidopen-server processes
 * sharing the first one's Redis, the observers spread over them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bo/clock.h"

#define MAX_SIZES 8
#define MAX_ROUNDS 200
#define MAX_NODES 4

typedef struct fo {
    const char *pki, *out, *server_bin, *ossl_bin, *mirror_bin;
    unsigned per_proc, rounds, nodes;
    uv_loop_t *loop;
} fo;

/* one system at one size */
typedef struct run {
    bool ran;
    unsigned n, connected, failed, rounds_done;
    size_t frame;
    bn_vec delay;        /* every receipt: ns after the first receipt of its round */
    bn_vec delay_ref;    /* every receipt: ns after the system's reference time */
    double reach99_ms;   /* mean over rounds: 99% of the recipients had it, after the first */
    double reach100_ms;  /* mean over rounds: the last receipt, after the first */
    double cpu_ms;       /* server CPU per broadcast (raw) */
    double cpu_idle_ms;  /* idle CPU of the same duration, per broadcast */
    bn_vec delay_send;   /* bidopen: ns after the host sent the command */
} run;

static void run_free(run *r)
{
    bn_vec_free(&r->delay);
    bn_vec_free(&r->delay_ref);
    bn_vec_free(&r->delay_send);
}

/* receipts "<id> <recv_ns> <send_ns>" of every child; per round, delays after the round's
 * first receipt (the spread of the fan-out) and after the system's reference time (ref[id],
 * or send_ns from the frame) */
typedef struct refmap {
    uint64_t id[MAX_ROUNDS];
    int64_t t[MAX_ROUNDS];
    int64_t t_sent[MAX_ROUNDS];
    unsigned n;
} refmap;

static int ref_find(const refmap *m, uint64_t id)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->id[i] == id)
            return (int)i;
    return -1;
}

static void collect_receipts(run *r, const char *const *files, unsigned nf, const refmap *m,
                             bool use_send, bn_vec *from_send)
{
    bn_vec t_round[MAX_ROUNDS], ref_round[MAX_ROUNDS];
    memset(t_round, 0, sizeof(t_round));
    memset(ref_round, 0, sizeof(ref_round));
    for (unsigned k = 0; k < nf; k++) {
        FILE *f = fopen(files[k], "r");
        unsigned long long id;
        long long t, s;
        while (f && fscanf(f, "%llu %lld %lld", &id, &t, &s) == 3) {
            int i = ref_find(m, id);
            if (i < 0)
                continue;
            bn_vec_push(&t_round[i], t);
            bn_vec_push(&ref_round[i], use_send ? s : m->t[i]);
        }
        if (f)
            fclose(f);
    }
    double s99 = 0, s100 = 0;
    unsigned nr = 0;
    for (unsigned i = 0; i < m->n; i++) {
        bn_vec *v = &t_round[i];
        if (!v->n)
            continue;
        int64_t first = v->v[0];
        for (size_t q = 1; q < v->n; q++)
            if (v->v[q] < first)
                first = v->v[q];
        bn_vec spread = {0};
        for (size_t q = 0; q < v->n; q++) {
            bn_vec_push(&spread, v->v[q] - first);
            bn_vec_push(&r->delay, v->v[q] - first);
            bn_vec_push(&r->delay_ref, v->v[q] - ref_round[i].v[q]);
            if (from_send && m->t_sent[i])
                bn_vec_push(from_send, v->v[q] - m->t_sent[i]);
        }
        bn_vec_sort(&spread);
        s99 += (double)bn_pct(&spread, 99) / 1e6;
        s100 += (double)bn_max(&spread) / 1e6;
        nr++;
        bn_vec_free(&spread);
        bn_vec_free(&t_round[i]);
        bn_vec_free(&ref_round[i]);
    }
    bn_vec_sort(&r->delay);
    bn_vec_sort(&r->delay_ref);
    r->reach99_ms = nr ? s99 / nr : -1;
    r->reach100_ms = nr ? s100 / nr : -1;
}

static unsigned procs_for(const fo *f, unsigned n)
{
    unsigned p = (n + f->per_proc - 1) / f->per_proc;
    return p < 1 ? 1 : p;
}

/* wait for "got <id> [<frame bytes>]" from every child */
static bool wait_got(bn_child **ch, unsigned np, uint64_t id, int timeout_ms, size_t *frame)
{
    bool ok = true;
    for (unsigned p = 0; p < np; p++) {
        char *l;
        bool got = false;
        int64_t deadline = bn_mono_ns() + (int64_t)timeout_ms * 1000000;
        while (!got && bn_mono_ns() < deadline) {
            l = bn_child_wait_line(ch[p], "got ", (int)((deadline - bn_mono_ns()) / 1000000) + 1);
            if (!l)
                break;
            unsigned long long gid = 0;
            unsigned long fl = 0;
            int k = sscanf(l, "got %llu %lu", &gid, &fl);
            got = k >= 1 && gid == id;
            if (got && k == 2 && frame && !*frame)
                *frame = fl;
            free(l);
        }
        ok = ok && got;
    }
    return ok;
}

static void reap_all(bn_child **ch, unsigned np)
{
    for (unsigned p = 0; p < np; p++)
        bn_child_send(ch[p], "quit");
    for (unsigned p = 0; p < np; p++)
        bn_child_reap(ch[p], 120000);
}

/* ------------------------------------------------------------- bidopen ---- */

typedef struct evwatch {
    uint64_t seq;
    int64_t t;
    bool seen;
} evwatch;

static void host_ev(void *ud, const bo_client_event *ev)
{
    evwatch *w = ud;
    if (!strcmp(ev->st, "pub") && (!strcmp(ev->kind, "paused") || !strcmp(ev->kind, "resumed"))) {
        w->seq = ev->seq;
        w->t = bn_real_ns();
        w->seen = true;
    }
}

static bool ev_seen(void *ud)
{
    return ((evwatch *)ud)->seen;
}

static int quorum_bid(fo *f, bo_client_ctx *ctx, const char *url, const char *oid)
{
    bn_bidder_cred cred;
    if (!bn_bidder_load(f->pki, 0, false, &cred))
        return -1;
    const char *urls[1] = {url};
    bo_client_opts o = {.urls = urls,
                        .n_urls = 1,
                        .role = "bidder",
                        .key = cred.key,
                        .chain = cred.chain.list,
                        .enc_chain = cred.enc_chain.list,
                        .oid = oid,
                        .queue_max = 256};
    bo_err e;
    bo_client *c = bo_client_new(ctx, &o, &e);
    int rc = -1;
    char doc[700], env[700], detail[256] = "";
    snprintf(doc, sizeof(doc), "%s/quorum-doc.bin", f->out);
    snprintf(env, sizeof(env), "%s/quorum-bid.cms", f->out);
    bn_bid bid;
    memset(&bid, 0, sizeof(bid));
    if (c && !bo_client_start(c)) {
        for (int i = 0; i < 3000 && bo_client_state_get(c) != BO_CLIENT_JOINED; i++)
            uv_run(f->loop, UV_RUN_ONCE);
        bn_reply r;
        bn_reply_init(&r);
        if (!bo_client_register(c, NULL, bn_reply_cb, &r) && !bn_reply_wait(f->loop, &r, 20000)) {
            bn_reply_cleanup(&r);
            bn_reply_init(&r);
            if (!bo_client_signin(c, NULL, bn_reply_cb, &r) && !bn_reply_wait(f->loop, &r, 20000) &&
                !bn_sparse_file(doc, 4096) && !bn_bid_make(&bid, &cred, oid, doc, env, "100.00") &&
                !bn_submit(f->loop, c, oid, &bid, 4, NULL, detail, sizeof(detail)))
                rc = 0;
        }
        if (rc)
            fprintf(stderr, "bo-bench: the quorum bid failed: %s %s %s\n", r.code, r.msg, detail);
        bn_reply_cleanup(&r);
    }
    unlink(doc);
    bn_bid_cleanup(&bid);
    bo_client_free(c);
    bn_bidder_free(&cred);
    return rc;
}

static void run_bidopen(fo *f, unsigned n, run *r)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    char sdir[700];
    snprintf(sdir, sizeof(sdir), "%s/server-%u", f->out, n);
    bn_server srv[MAX_NODES];
    memset(srv, 0, sizeof(srv));
    /* the observers connect all at once and do not retry (they are the same raw clients as
     * the mirror's): the storm admission limit (--max-unauthed, measured by signin) is not
     * what this benchmark measures */
    const char *const extra[] = {"--max-unauthed", "20000", NULL};
    if (bn_server_start(&srv[0], f->server_bin, sdir, f->pki, NULL, NULL, extra, 60000))
        return;
    /* more nodes on the first one's Redis */
    unsigned nodes = f->nodes;
    for (unsigned k = 1; k < nodes; k++) {
        char d2[760], redis[760], node[32];
        snprintf(d2, sizeof(d2), "%s-node%u", sdir, k + 1);
        snprintf(redis, sizeof(redis), "unix:%s/data/redis.sock", sdir);
        snprintf(node, sizeof(node), "bench-node-%u", k + 1);
        if (bn_server_start(&srv[k], f->server_bin, d2, f->pki, redis, node, extra, 60000)) {
            nodes = k;
            break;
        }
    }
    bo_client_ctx *ctx = bn_ctx_new(f->loop, f->pki, 16);
    bn_host admin = {0}, host = {0};
    evwatch w = {0};
    char oid[65] = "";
    int64_t deadline_ms = 12000;
    unsigned np = procs_for(f, n);
    bn_child **ch = calloc(np, sizeof(*ch));
    char **files = calloc(np, sizeof(*files));
    refmap m = {0};
    bn_cpu c0, c1, i0, i1;
    if (bn_host_open(&admin, ctx, srv[0].url, f->pki, "host", "host", NULL, 30000))
        goto out;
    char tj[1024];
    bn_tender_json(tj, sizeof(tj), NULL, "bench fan-out", deadline_ms, 1, 0);
    int64_t t_created = bn_mono_ns();
    if (bn_host_create(&admin, tj, oid))
        goto out;
    if (quorum_bid(f, ctx, srv[0].url, oid))
        goto out;
    host.on_event = host_ev;
    host.ud = &w;
    if (bn_host_open(&host, ctx, srv[0].url, f->pki, "host", "host", oid, 30000))
        goto out;
    /* the observers, spread over the nodes */
    char ca[700];
    snprintf(ca, sizeof(ca), "%s/server/ca.pem", f->pki);
    for (unsigned p = 0; p < np; p++) {
        unsigned a = n * p / np, b = n * (p + 1) / np;
        char cnt[16], port[16], lg[700];
        files[p] = malloc(700);
        snprintf(files[p], 700, "%s/bidopen-%u-recv-%u.txt", f->out, n, p);
        snprintf(lg, sizeof(lg), "%s/bidopen-%u-observe.log", f->out, n);
        snprintf(cnt, sizeof(cnt), "%u", b - a);
        snprintf(port, sizeof(port), "%d", srv[p % nodes].port);
        const char *av[] = {bn_self(), "observe", "--port", port, "--n", cnt, "--oid", oid,
                            "--ca", ca, "--out", files[p], NULL};
        ch[p] = bn_child_spawn(f->loop, av, lg);
    }
    for (unsigned p = 0; p < np; p++) {
        char *l = bn_child_wait_line(ch[p], "ready", 600000);
        unsigned a = 0, b = 0;
        if (l && sscanf(l, "ready %u %u", &a, &b) == 2) {
            r->connected += a;
            r->failed += b;
        }
        free(l);
    }
    /* the deadline: pause needs the phase after it */
    int64_t left = deadline_ms - (bn_mono_ns() - t_created) / 1000000;
    if (!bn_host_wait_phase(&host, "awaiting_open", (int)(left > 0 ? left : 0) + 30000)) {
        fprintf(stderr, "bo-bench: fanout: the opening did not reach awaiting_open (%s)\n",
                host.phase);
        goto quit;
    }
    bn_run_for(f->loop, 500);
    /* idle CPU over one second, to tell the rounds' cost from pings and timers */
    bn_proc_cpu(srv[0].pid, &i0);
    int64_t ti0 = bn_mono_ns();
    bn_run_for(f->loop, 1000);
    bn_proc_cpu(srv[0].pid, &i1);
    double idle_rate = bn_cpu_delta(&i0, &i1) / ((double)(bn_mono_ns() - ti0) / 1e9);
    double cpu_nodes0[MAX_NODES];
    for (unsigned k = 0; k < nodes; k++) {
        bn_cpu ck;
        bn_proc_cpu(srv[k].pid, &ck);
        cpu_nodes0[k] = (double)ck.sched_ns / 1e9;
    }
    char perf_name[32];
    snprintf(perf_name, sizeof(perf_name), "server-%u", n);
    bn_child *perf = bn_perf_start(f->loop, srv[0].pid, f->out, perf_name);
    bn_proc_cpu(srv[0].pid, &c0);
    int64_t tr0 = bn_mono_ns();
    for (unsigned i = 0; i < f->rounds && i < MAX_ROUNDS; i++) {
        bn_reply rep;
        bn_reply_init(&rep);
        w.seen = false;
        int64_t t_sent = bn_real_ns();
        bo_err e = host.paused ? bo_client_resume(host.c, NULL, bn_reply_cb, &rep)
                               : bo_client_pause(host.c, NULL, "bench round", bn_reply_cb, &rep);
        if (!e)
            e = bn_reply_wait(f->loop, &rep, 30000);
        if (!e && !bn_run_until(f->loop, ev_seen, &w, 30000))
            e = BO_E_TIMEOUT;
        if (e) {
            fprintf(stderr, "bo-bench: fanout: round %u: %s %s %s\n", i, bo_strerror(e), rep.code,
                    rep.msg);
            bn_reply_cleanup(&rep);
            break;
        }
        m.id[m.n] = w.seq;
        m.t[m.n] = rep.t_ns;
        m.t_sent[m.n] = t_sent;
        m.n++;
        bn_reply_cleanup(&rep);
        if (!wait_got(ch, np, w.seq, 60000, &r->frame))
            fprintf(stderr, "bo-bench: fanout: round %u (seq %llu) not received by all\n", i,
                    (unsigned long long)w.seq);
        r->rounds_done++;
        bn_run_for(f->loop, 50);
    }
    bn_proc_cpu(srv[0].pid, &c1);
    double dur = (double)(bn_mono_ns() - tr0) / 1e9;
    bn_perf_stop(perf, f->out, perf_name);
    if (r->rounds_done) {
        double cpu = bn_cpu_delta(&c0, &c1);
        if (nodes > 1) { /* every node's CPU counts */
            cpu = 0;
            for (unsigned k = 0; k < nodes; k++) {
                bn_cpu ck;
                bn_proc_cpu(srv[k].pid, &ck);
                cpu += (double)ck.sched_ns / 1e9 - cpu_nodes0[k];
            }
        }
        r->cpu_ms = cpu * 1000 / r->rounds_done;
        r->cpu_idle_ms = idle_rate * dur * 1000 / r->rounds_done;
    }
quit:
    {
        char mpath[800];
        snprintf(mpath, sizeof(mpath), "%s/server-%u-metrics.txt", f->out, n);
        bn_server_metrics(&srv[0], mpath);
    }
    reap_all(ch, np);
    collect_receipts(r, (const char *const *)files, np, &m, false, &r->delay_send);
    bn_vec_sort(&r->delay_send);
    r->ran = r->rounds_done > 0;
out:
    if (host.c)
        bn_host_close(&host);
    if (admin.c)
        bn_host_close(&admin);
    bn_ctx_free(ctx, f->loop);
    for (unsigned k = nodes; k-- > 0;)
        bn_server_stop(&srv[k], 30000);
    for (unsigned p = 0; p < np; p++)
        free(files[p]);
    free(files);
    free(ch);
}

/* ---------------------------------------------------------- the floor ---- */

static void run_floor(fo *f, unsigned n, size_t frame, run *r)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    r->frame = frame;
    char lg[700], n_s[16], fr[24], port[16];
    snprintf(lg, sizeof(lg), "%s/floor-%u.log", f->out, n);
    snprintf(n_s, sizeof(n_s), "%u", n);
    snprintf(fr, sizeof(fr), "%zu", frame);
    const char *sav[] = {f->ossl_bin, "fanout-server", "--pki", f->pki, "--n", n_s, "--frame", fr,
                         NULL};
    bn_child *srv = bn_child_spawn(f->loop, sav, lg);
    char *l = bn_child_wait_line(srv, "port ", 30000);
    if (!l) {
        bn_child_reap(srv, 1000);
        return;
    }
    snprintf(port, sizeof(port), "%d", atoi(l + 5));
    free(l);
    unsigned np = procs_for(f, n);
    bn_child **ch = calloc(np, sizeof(*ch));
    char **files = calloc(np, sizeof(*files));
    for (unsigned p = 0; p < np; p++) {
        unsigned a = n * p / np, b = n * (p + 1) / np;
        char cnt[16];
        files[p] = malloc(700);
        snprintf(files[p], 700, "%s/floor-%u-recv-%u.txt", f->out, n, p);
        snprintf(cnt, sizeof(cnt), "%u", b - a);
        const char *av[] = {f->ossl_bin, "fanout-recv", "--pki", f->pki, "--port", port, "--n",
                            cnt, "--frame", fr, "--out", files[p], NULL};
        ch[p] = bn_child_spawn(f->loop, av, lg);
    }
    l = bn_child_wait_line(srv, "ready ", 600000);
    if (l)
        sscanf(l, "ready %u %u", &r->connected, &r->failed);
    free(l);
    for (unsigned p = 0; p < np; p++)
        free(bn_child_wait_line(ch[p], "ready", 600000));
    refmap m = {0};
    double cpu = 0;
    for (unsigned i = 0; i < f->rounds && i < MAX_ROUNDS; i++) {
        char cmd[32];
        snprintf(cmd, sizeof(cmd), "round %u", i + 1);
        bn_child_send(srv, cmd);
        l = bn_child_wait_line(srv, "sent ", 60000);
        unsigned id;
        long long t0, c, wall;
        if (!l || sscanf(l, "sent %u %lld %lld %lld", &id, &t0, &c, &wall) != 4) {
            free(l);
            break;
        }
        free(l);
        m.id[m.n] = id;
        m.t[m.n++] = t0;
        cpu += (double)c / 1e6;
        wait_got(ch, np, id, 60000, NULL);
        r->rounds_done++;
        bn_run_for(f->loop, 50);
    }
    r->cpu_ms = r->rounds_done ? cpu / r->rounds_done : -1;
    bn_child_send(srv, "quit");
    reap_all(ch, np);
    bn_child_reap(srv, 30000);
    collect_receipts(r, (const char *const *)files, np, &m, false, NULL);
    r->ran = r->rounds_done > 0;
    for (unsigned p = 0; p < np; p++)
        free(files[p]);
    free(files);
    free(ch);
}

/* --------------------------------------------------------- the mirror ---- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    int port = -1;
    if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) && !getsockname(fd, (struct sockaddr *)&a, &al))
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = !connect(fd, (struct sockaddr *)&a, sizeof(a));
    close(fd);
    return ok;
}

static void run_mirror(fo *f, unsigned n, size_t frame, run *r)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    r->frame = frame;
    int port = free_port();
    char a_port[32], a_cert[760], a_key[760], lg[700], fr[24];
    snprintf(a_port, sizeof(a_port), "--port=%d", port);
    snprintf(a_cert, sizeof(a_cert), "--ssl-cert=%s/server/tls-cert.pem", f->pki);
    snprintf(a_key, sizeof(a_key), "--ssl-key=%s/server/tls-key.pem", f->pki);
    snprintf(lg, sizeof(lg), "%s/mirror-%u.log", f->out, n);
    snprintf(fr, sizeof(fr), "%zu", frame);
    const char *sav[] = {f->mirror_bin, a_port, "--ssl", a_cert, a_key, NULL};
    bn_child *srv = bn_child_spawn(f->loop, sav, lg);
    bool up = false;
    for (int i = 0; i < 250 && !up && !bn_child_exited(srv, NULL); i++) {
        up = port_open(port);
        if (!up)
            bn_run_for(f->loop, 20);
    }
    if (!up) {
        fprintf(stderr, "bo-bench: %s did not start (see %s)\n", f->mirror_bin, lg);
        bn_child_reap(srv, 1000);
        return;
    }
    unsigned np = procs_for(f, n);
    bn_child **ch = calloc(np, sizeof(*ch));
    char **files = calloc(np, sizeof(*files));
    char ps[16], ca[700];
    snprintf(ca, sizeof(ca), "%s/server/ca.pem", f->pki);
    snprintf(ps, sizeof(ps), "%d", port);
    for (unsigned p = 0; p < np; p++) {
        unsigned a = n * p / np, b = n * (p + 1) / np;
        char cnt[16], olg[700];
        files[p] = malloc(700);
        snprintf(files[p], 700, "%s/mirror-%u-recv-%u.txt", f->out, n, p);
        snprintf(olg, sizeof(olg), "%s/mirror-%u-observe.log", f->out, n);
        snprintf(cnt, sizeof(cnt), "%u", b - a);
        const char *av[] = {bn_self(), "observe", "--mirror", "--port", ps, "--n", cnt, "--out",
                            files[p], "--frame", fr, "--ca", ca, p == 0 ? "--publisher" : NULL,
                            NULL};
        ch[p] = bn_child_spawn(f->loop, av, olg);
    }
    for (unsigned p = 0; p < np; p++) {
        char *l = bn_child_wait_line(ch[p], "ready", 600000);
        unsigned a = 0, b = 0;
        if (l && sscanf(l, "ready %u %u", &a, &b) == 2) {
            r->connected += p == 0 && a ? a - 1 : a; /* the publisher */
            r->failed += b;
        }
        free(l);
    }
    bn_run_for(f->loop, 500);
    refmap m = {0};
    bn_cpu c0, c1;
    bn_proc_cpu(bn_child_pid(srv), &c0);
    for (unsigned i = 0; r->connected && i < f->rounds && i < MAX_ROUNDS; i++) {
        char cmd[32];
        snprintf(cmd, sizeof(cmd), "pub %u", i + 1);
        m.id[m.n] = i + 1;
        m.t[m.n++] = 0;
        bn_child_send(ch[0], cmd);
        if (!wait_got(ch, np, i + 1, 60000, NULL))
            fprintf(stderr, "bo-bench: mirror: round %u not received by all\n", i + 1);
        r->rounds_done++;
        bn_run_for(f->loop, 50);
    }
    bn_proc_cpu(bn_child_pid(srv), &c1);
    r->cpu_ms = r->rounds_done ? bn_cpu_delta(&c0, &c1) * 1000 / r->rounds_done : -1;
    reap_all(ch, np);
    uv_kill(bn_child_pid(srv), SIGINT);
    bn_child_reap(srv, 10000);
    collect_receipts(r, (const char *const *)files, np, &m, true, NULL);
    r->ran = r->rounds_done > 0;
    for (unsigned p = 0; p < np; p++)
        free(files[p]);
    free(files);
    free(ch);
}

/* ------------------------------------------------------------- driver ---- */

static unsigned parse_list(const char *s, unsigned *v, unsigned max)
{
    unsigned n = 0;
    while (s && *s && n < max) {
        v[n++] = (unsigned)strtoul(s, (char **)&s, 10);
        if (*s == ',')
            s++;
        else
            break;
    }
    return n;
}

static void json_run(bn_json *j, const run *r)
{
    bn_json_obj(j, NULL);
    bn_json_int(j, "n", r->n);
    bn_json_bool(j, "ran", r->ran);
    bn_json_int(j, "connected", r->connected);
    bn_json_int(j, "failed", r->failed);
    bn_json_int(j, "rounds", r->rounds_done);
    bn_json_int(j, "frame_bytes", (int64_t)r->frame);
    bn_json_dist_ms(j, "delay_after_first_ms", (bn_vec *)&r->delay);
    bn_json_dist_ms(j, "delay_after_reference_ms", (bn_vec *)&r->delay_ref);
    bn_json_num(j, "reach99_ms", r->reach99_ms);
    bn_json_num(j, "reach100_ms", r->reach100_ms);
    bn_json_num(j, "cpu_ms_per_broadcast", r->cpu_ms);
    if (r->cpu_idle_ms > 0)
        bn_json_num(j, "idle_cpu_ms_same_time", r->cpu_idle_ms);
    if (r->delay_send.n)
        bn_json_dist_ms(j, "delay_after_command_sent_ms", (bn_vec *)&r->delay_send);
    bn_json_end_obj(j);
}

static void cdf_file(const fo *f, const char *sys, const run *r, char *name, size_t n)
{
    snprintf(name, n, "fanout-%s-%u-cdf.dat", sys, r->n);
    char path[800];
    snprintf(path, sizeof(path), "%s/%s", f->out, name);
    bn_write_cdf(path, &r->delay);
}

int bn_cmd_fanout(int argc, char **argv)
{
    fo f = {.pki = bn_arg(argc, argv, "--pki", NULL),
            .out = bn_arg(argc, argv, "--out", NULL),
            .server_bin = bn_arg(argc, argv, "--server-bin", NULL),
            .ossl_bin = bn_arg(argc, argv, "--ossl-bin", NULL),
            .mirror_bin = bn_arg(argc, argv, "--mirror-bin", "libwebsockets-test-server"),
            .per_proc = (unsigned)bn_arg_ll(argc, argv, "--per-proc", 2500),
            .rounds = (unsigned)bn_arg_ll(argc, argv, "--rounds", 10),
            .nodes = (unsigned)bn_arg_ll(argc, argv, "--nodes", 1)};
    unsigned sizes[MAX_SIZES], msizes[MAX_SIZES];
    unsigned ns = parse_list(bn_arg(argc, argv, "--sizes", "1000"), sizes, MAX_SIZES);
    unsigned nm = parse_list(bn_arg(argc, argv, "--mirror-sizes", "1000"), msizes, MAX_SIZES);
    if (bn_flag(argc, argv, "--no-mirror"))
        nm = 0;
    if (!f.pki || !f.out || !f.server_bin || !f.ossl_bin || !ns || f.rounds < 1 ||
        f.per_proc < 1 || f.nodes < 1 || f.nodes > MAX_NODES)
        BN_DIE("usage: bo-bench fanout --pki DIR --out DIR --server-bin BIN --ossl-bin BIN "
               "--sizes N,N,... [--mirror-sizes N,...] [--rounds R] [--per-proc P] [--nodes K] "
               "[--mirror-bin PATH] [--no-mirror]");
    if (f.rounds > MAX_ROUNDS)
        f.rounds = MAX_ROUNDS;
    mkdir(f.out, 0755);
    if (bn_pki_ensure(f.pki, 3, false))
        return 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    f.loop = &loop;
    run bo[MAX_SIZES], fl[MAX_SIZES], mi[MAX_SIZES];
    memset(mi, 0, sizeof(mi));
    size_t frame = 0;
    for (unsigned i = 0; i < ns; i++) {
        fprintf(stderr, "bo-bench: fanout: bidopen with %u observers\n", sizes[i]);
        run_bidopen(&f, sizes[i], &bo[i]);
        if (bo[i].frame && !frame)
            frame = bo[i].frame;
    }
    if (!frame)
        frame = 200;
    for (unsigned i = 0; i < ns; i++) {
        fprintf(stderr, "bo-bench: fanout: plain OpenSSL floor with %u connections\n", sizes[i]);
        run_floor(&f, sizes[i], frame, &fl[i]);
    }
    for (unsigned i = 0; i < nm; i++) {
        fprintf(stderr, "bo-bench: fanout: lws test server mirror with %u clients\n", msizes[i]);
        run_mirror(&f, msizes[i], frame, &mi[i]);
    }
    /* data files for the plots */
    char path[800];
    snprintf(path, sizeof(path), "%s/fanout-cpu.dat", f.out);
    FILE *df = fopen(path, "w");
    for (unsigned i = 0; df && i < ns; i++) {
        double m = -1;
        for (unsigned k = 0; k < nm; k++)
            if (msizes[k] == sizes[i] && mi[k].ran)
                m = mi[k].cpu_ms;
        (void)m;
        char a[32] = "NaN", b[32] = "NaN";
        if (bo[i].ran)
            snprintf(a, sizeof(a), "%.3f", bo[i].cpu_ms);
        if (fl[i].ran)
            snprintf(b, sizeof(b), "%.3f", fl[i].cpu_ms);
        fprintf(df, "%u %s %s\n", sizes[i], a, b);
    }
    if (df)
        fclose(df);
    snprintf(path, sizeof(path), "%s/fanout-mirror-cpu.dat", f.out);
    df = fopen(path, "w");
    for (unsigned k = 0; df && k < nm; k++)
        if (mi[k].ran)
            fprintf(df, "%u %.3f\n", msizes[k], mi[k].cpu_ms);
    if (df)
        fclose(df);

    bn_json j;
    snprintf(path, sizeof(path), "%s/result.json", f.out);
    if (!bn_json_open(&j, path))
        BN_DIE("cannot write %s", path);
    bn_json_str(&j, "name", "fanout");
    bn_json_obj(&j, "params");
    bn_json_int(&j, "rounds", f.rounds);
    bn_json_int(&j, "per_process", f.per_proc);
    bn_json_int(&j, "server_nodes", f.nodes);
    bn_json_int(&j, "frame_bytes", (int64_t)frame);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "bidopen");
    bn_json_arr(&j, "sizes");
    for (unsigned i = 0; i < ns; i++)
        json_run(&j, &bo[i]);
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "baseline");
    bn_json_str(&j, "floor_program", "bo-bench-ossl fanout-server (plain OpenSSL, one write per "
                                     "connection)");
    bn_json_arr(&j, "floor");
    for (unsigned i = 0; i < ns; i++)
        json_run(&j, &fl[i]);
    bn_json_end_arr(&j);
    bn_json_str(&j, "mirror_program", "libwebsockets-test-server --ssl, lws-mirror-protocol");
    bn_json_arr(&j, "mirror");
    for (unsigned i = 0; i < nm; i++)
        json_run(&j, &mi[i]);
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "ratios");
    for (unsigned i = 0; i < ns; i++) {
        char k[64];
        snprintf(k, sizeof(k), "cpu_vs_floor_at_%u", sizes[i]);
        bn_json_num(&j, k, bo[i].ran && fl[i].ran && fl[i].cpu_ms > 0 ? bo[i].cpu_ms / fl[i].cpu_ms : -1);
        snprintf(k, sizeof(k), "p99_vs_floor_reach99_at_%u", sizes[i]);
        bn_json_num(&j, k, bo[i].ran && fl[i].ran && fl[i].reach99_ms > 0
                               ? (double)bn_pct(&bo[i].delay, 99) / 1e6 / fl[i].reach99_ms
                               : -1);
        for (unsigned q = 0; q < nm; q++)
            if (msizes[q] == sizes[i] && mi[q].ran && bo[i].ran && bo[i].cpu_ms > 0) {
                snprintf(k, sizeof(k), "mirror_cpu_vs_bidopen_at_%u", sizes[i]);
                bn_json_num(&j, k, mi[q].cpu_ms / bo[i].cpu_ms);
            }
    }
    bn_json_end_obj(&j);
    bn_json_arr(&j, "targets");
    for (unsigned i = 0; i < ns; i++) {
        if (!bo[i].ran || !fl[i].ran)
            continue;
        char w[160];
        snprintf(w, sizeof(w), "server CPU per broadcast / floor's, N=%u", sizes[i]);
        bn_json_target(&j, w, fl[i].cpu_ms > 0 ? bo[i].cpu_ms / fl[i].cpu_ms : -1, "<=", 1.3,
                       "ratio");
        snprintf(w, sizeof(w), "p99 delay / floor's time to reach 99%%, N=%u", sizes[i]);
        bn_json_target(&j, w,
                       fl[i].reach99_ms > 0 ? (double)bn_pct(&bo[i].delay, 99) / 1e6 / fl[i].reach99_ms
                                            : -1,
                       "<=", 1.5, "ratio");
        for (unsigned q = 0; q < nm; q++)
            if (msizes[q] == sizes[i] && mi[q].ran && bo[i].cpu_ms > 0) {
                snprintf(w, sizeof(w), "mirror's CPU per broadcast / bidopen's, N=%u", sizes[i]);
                bn_json_target(&j, w, mi[q].cpu_ms / bo[i].cpu_ms, ">=", 7, "ratio");
            }
    }
    bn_json_end_arr(&j);
    /* plots: delay CDFs at the largest size of each system, CPU per broadcast by size */
    bn_json_arr(&j, "plots");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "name", "fanout-delay-cdf");
    bn_json_str(&j, "title", "fan-out: when each recipient had the message (CDF)");
    bn_json_str(&j, "xlabel", "ms after the first recipient had it");
    bn_json_str(&j, "ylabel", "fraction of receipts");
    bn_json_bool(&j, "logx", true);
    bn_json_arr(&j, "series");
    for (unsigned i = 0; i < ns; i++) {
        char name[128], t[64];
        if (bo[i].ran) {
            cdf_file(&f, "bidopen", &bo[i], name, sizeof(name));
            snprintf(t, sizeof(t), "bidopen N=%u", bo[i].n);
            bn_json_obj(&j, NULL);
            bn_json_str(&j, "file", name);
            bn_json_str(&j, "title", t);
            bn_json_end_obj(&j);
        }
        if (fl[i].ran) {
            cdf_file(&f, "floor", &fl[i], name, sizeof(name));
            snprintf(t, sizeof(t), "floor N=%u", fl[i].n);
            bn_json_obj(&j, NULL);
            bn_json_str(&j, "file", name);
            bn_json_str(&j, "title", t);
            bn_json_end_obj(&j);
        }
    }
    for (unsigned i = 0; i < nm; i++)
        if (mi[i].ran) {
            char name[128], t[64];
            cdf_file(&f, "mirror", &mi[i], name, sizeof(name));
            snprintf(t, sizeof(t), "lws mirror N=%u", mi[i].n);
            bn_json_obj(&j, NULL);
            bn_json_str(&j, "file", name);
            bn_json_str(&j, "title", t);
            bn_json_end_obj(&j);
        }
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "name", "fanout-cpu");
    bn_json_str(&j, "title", "server CPU per broadcast");
    bn_json_str(&j, "xlabel", "recipients");
    bn_json_str(&j, "ylabel", "ms of CPU per broadcast");
    bn_json_bool(&j, "logy", true);
    bn_json_str(&j, "style", "linespoints");
    bn_json_arr(&j, "series");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "file", "fanout-cpu.dat");
    bn_json_str(&j, "using", "1:2");
    bn_json_str(&j, "title", "bidopen");
    bn_json_end_obj(&j);
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "file", "fanout-cpu.dat");
    bn_json_str(&j, "using", "1:3");
    bn_json_str(&j, "title", "plain OpenSSL floor");
    bn_json_end_obj(&j);
    if (nm) {
        bn_json_obj(&j, NULL);
        bn_json_str(&j, "file", "fanout-mirror-cpu.dat");
        bn_json_str(&j, "using", "1:2");
        bn_json_str(&j, "title", "lws test server mirror");
        bn_json_end_obj(&j);
    }
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_end_arr(&j);
    bn_json_close(&j);
    bool any = false;
    for (unsigned i = 0; i < ns; i++) {
        any = any || bo[i].ran;
        fprintf(stderr,
                "bo-bench: fanout N=%u: bidopen cpu %.2f ms/bcast p99 %.1f ms | floor cpu %.2f ms "
                "reach99 %.1f ms\n",
                sizes[i], bo[i].cpu_ms, (double)bn_pct(&bo[i].delay, 99) / 1e6, fl[i].cpu_ms,
                fl[i].reach99_ms);
        run_free(&bo[i]);
        run_free(&fl[i]);
    }
    for (unsigned i = 0; i < nm; i++) {
        fprintf(stderr, "bo-bench: fanout N=%u: mirror cpu %.2f ms/bcast p99 %.1f ms\n", msizes[i],
                mi[i].cpu_ms, (double)bn_pct(&mi[i].delay, 99) / 1e6);
        run_free(&mi[i]);
    }
    uv_loop_close(&loop);
    return any ? 0 : 1;
}
