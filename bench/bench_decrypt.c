/* bo-bench decrypt / many / opening: sealed bids opened by the server after the remote CEK
 * handoff, through the real protocol (submit, deadline, decrypt_start, decrypt_request,
 * decrypt_response, bid_decrypted).
 *
 *   decrypt   one bid of each given size: throughput and the server's peak RSS (VmHWM
 *             reset before decrypt_start, VmRSS sampled every 20 ms); baseline: EVP
 *             AES-256-GCM over the same bytes (bo-bench-ossl decrypt), and the peak RSS of
 *             `openssl cms -decrypt` on the same envelope for contrast (1 GiB at most).
 *   many      N bidders decrypting at once: time from decrypt_start until all are open, and
 *             the round trip of `time` requests (every 20 ms) before and during the burst;
 *             baseline: the same bytes decrypted by bo-bench-ossl on 2 threads.
 *   opening   a whole opening with N bidders: machine time from the deadline to the end of
 *             decryption (the host starts decryption as soon as the deadline passed), by
 *             step; announcement and the signed record come later (hook below).
 *
 * The bids are packages of one sparse document of the given size, sealed before the
 * opening is created (their oid is chosen in advance); every file is deleted at the end. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bench.h"
#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/sigpayload.h"
#include "bo/wire.h"

#define MAX_SIZES 8

typedef struct dcfg {
    const char *pki, *out, *server_bin, *ossl_bin;
    const char *label;     /* subdirectory and file prefix */
    unsigned n;            /* bidders */
    uint64_t size;         /* document bytes per bid */
    unsigned base_threads; /* baseline threads */
    bool probe;            /* time round trips */
    bool cms_contrast;     /* openssl cms -decrypt memory */
    double upload_mbps;    /* estimate for the deadline */
} dcfg;

typedef struct dres {
    bool ran, skipped;
    char why[256];
    unsigned decrypted, failed;
    uint64_t env_bytes;            /* total envelope bytes */
    double wall_s;                 /* decrypt_start ack -> last bid open */
    double server_work_ms_sum;     /* worker time from the server's log */
    double server_cpu_s, redis_cpu_s;
    long hwm_kib, rss_before_kib;
    bn_vec rtt_idle, rtt_busy;     /* ns */
    bn_vec bid_done;               /* ns after decrypt_start's ack */
    double upload_mb_s, seal_mb_s;
    /* the opening's timeline, ms after the deadline (server clock) */
    double t_awaiting, t_start_ack, t_all_req, t_all_resp, t_all_done, t_announcing;
    double t_announced, t_confirm_open, t_all_confirmed, t_close_ack, t_closed, t_record_signed;
    unsigned confirmed;
    char record_note[160];
    /* baseline */
    double base_wall_s, base_mb_s, base_cpu_s;
    long cms_rss_kib;
    double cms_wall_s;
    int server_exit;
    char rss_file[128];
} dres;

static void dres_free(dres *r)
{
    bn_vec_free(&r->rtt_idle);
    bn_vec_free(&r->rtt_busy);
    bn_vec_free(&r->bid_done);
}

/* ----------------------------------------------------------- bidders ---- */

typedef struct dctx dctx;

typedef struct dbid {
    dctx *D;
    bn_bidder_cred cred;
    bo_client *c;
    bn_bid bid;
    int64_t t_req, t_resp, t_done;
    bool done, failed, responding;
    char err[64];
} dbid;

struct dctx {
    uv_loop_t *loop;
    const dcfg *cfg;
    char oid[65];
    dbid *b;
    unsigned n, n_joined, n_done, n_failed, n_req, n_resp;
    int64_t t_start_ack;
    /* after decryption (opening only) */
    bool confirm;                 /* bidders confirm the record when the window opens */
    unsigned n_confirmed, n_confirm_failed;
    int64_t t_last_confirm;       /* ns */
    bool closed_seen;
    int64_t ts_closed, ts_head;   /* server ms: opening_closed, the head_signed after it */
};

static void on_resp(void *ud, bo_err err, const char *code, const char *msg,
                    const msgpack_object *data)
{
    dbid *b = ud;
    (void)data;
    b->responding = false;
    if (!err) {
        b->done = true;
        b->t_done = bn_real_ns();
        b->D->n_done++;
        return;
    }
    if (err == BO_E_NOT_FOUND || err == BO_E_CANCELED)
        return; /* a new request follows */
    b->failed = true;
    b->D->n_failed++;
    snprintf(b->err, sizeof(b->err), "%s", code ? code : bo_err_name(err));
    fprintf(stderr, "bo-bench: bid %u refused: %s %s\n", b->cred.idx, code ? code : "",
            msg ? msg : "");
}

static void on_confirm(void *ud, bo_err err, const char *code, const char *msg,
                       const msgpack_object *data)
{
    dbid *b = ud;
    (void)data;
    if (err) {
        b->D->n_confirm_failed++;
        fprintf(stderr, "bo-bench: bidder %u: confirm refused: %s %s\n", b->cred.idx,
                code ? code : "", msg ? msg : "");
        return;
    }
    b->D->n_confirmed++;
    b->D->t_last_confirm = bn_real_ns();
}

/* confirmation_opened: sign [oid, uscc, record_hash] (ctx confirm) and send confirm */
static void confirm_record(dbid *b, const msgpack_object *body)
{
    const uint8_t *rh;
    size_t rl;
    if (!bo_mpo_bin(body, "record_hash", &rh, &rl) || rl != 32)
        return;
    bo_buf payload, sig;
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, 4096);
    bo_err e = bo_sigpayload_confirm(&payload, b->D->oid, b->cred.uscc, rh);
    if (!e)
        e = bo_key_sign(b->cred.key, BO_CTX_CONFIRM, payload.data, payload.len, &sig);
    if (!e) {
        bo_msg m;
        memset(&m, 0, sizeof(m));
        m.type = BO_MSG_CONFIRM;
        m.u.confirm.oid = b->D->oid;
        m.u.confirm.record_hash = (bo_bytes){rh, 32};
        m.u.confirm.sig = (bo_bytes){sig.data, sig.len};
        e = bo_client_request(b->c, &m, on_confirm, b);
    }
    if (e)
        b->D->n_confirm_failed++;
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
}

static void bid_event(void *ud, const bo_client_event *ev)
{
    dbid *b = ud;
    if (b->D->confirm && !strcmp(ev->kind, "confirmation_opened") && b->done) {
        confirm_record(b, ev->body);
        return;
    }
    if (strcmp(ev->kind, "decrypt_request") || b->done || b->failed)
        return;
    if (!b->t_req) {
        b->t_req = bn_real_ns();
        b->D->n_req++;
    }
    bo_err e = bn_decrypt_respond(b->c, b->D->oid, &b->cred, ev->body, on_resp, b);
    if (e) {
        fprintf(stderr, "bo-bench: bidder %u cannot answer: %s\n", b->cred.idx, bo_strerror(e));
        b->failed = true;
        b->D->n_failed++;
        return;
    }
    b->responding = true;
    if (!b->t_resp) {
        b->t_resp = bn_real_ns();
        b->D->n_resp++;
    }
}

static void bid_state(void *ud, bo_client_state st, bo_err err, const char *code,
                      const char *msg)
{
    dbid *b = ud;
    (void)err;
    if (st == BO_CLIENT_FAILED)
        fprintf(stderr, "bo-bench: bidder %u failed: %s %s\n", b->cred.idx, code ? code : "",
                msg ? msg : "");
}

static bool all_joined(void *ud)
{
    dctx *D = ud;
    unsigned n = 0;
    for (unsigned i = 0; i < D->n; i++)
        n += bo_client_state_get(D->b[i].c) == BO_CLIENT_JOINED;
    return n == D->n;
}

static bool all_finished(void *ud)
{
    dctx *D = ud;
    return D->n_done + D->n_failed >= D->n;
}

/* ---------------------------------------------------- probe and sampler ---- */

typedef struct probe {
    uv_loop_t *loop;
    bo_client *c;
    uv_timer_t t;
    bool inflight, busy, on;
    int64_t sent;
    bn_vec *idle, *burst;
    /* RSS samples of the server */
    pid_t pid;
    FILE *rss;
    int64_t t0;
} probe;

static void probe_reply(void *ud, bo_err err, const char *code, const char *msg,
                        const msgpack_object *data)
{
    probe *p = ud;
    (void)code;
    (void)msg;
    (void)data;
    p->inflight = false;
    if (!err)
        bn_vec_push(p->busy ? p->burst : p->idle, bn_mono_ns() - p->sent);
}

static void probe_tick(uv_timer_t *t)
{
    probe *p = t->data;
    if (p->rss)
        fprintf(p->rss, "%.3f %ld\n", (double)(bn_mono_ns() - p->t0) / 1e9,
                bn_proc_status_kb(p->pid, "VmRSS") / 1024);
    if (!p->on || !p->c || p->inflight || bo_client_state_get(p->c) != BO_CLIENT_READY)
        return;
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_TIME;
    m.u.time.t0 = bo_clock_now_ms();
    p->sent = bn_mono_ns();
    if (!bo_client_request(p->c, &m, probe_reply, p))
        p->inflight = true;
}

/* ------------------------------------------------------------- sealing ---- */

typedef struct seal_job {
    dctx *D;
    const char *doc;
    unsigned from, step;
    int rc;
} seal_job;

static void *seal_thread(void *arg)
{
    seal_job *j = arg;
    for (unsigned i = j->from; i < j->D->n && !j->rc; i += j->step) {
        dbid *b = &j->D->b[i];
        char env[800], price[32];
        snprintf(env, sizeof(env), "%s/bid-%u.cms", j->D->cfg->out, i);
        snprintf(price, sizeof(price), "%u.00", 1000000 + i * 37);
        if (bn_bid_make(&b->bid, &b->cred, j->D->oid, j->doc, env, price))
            j->rc = -1;
    }
    return NULL;
}

static int rm_rf(const char *dir)
{
    char cmd[1024];
    if (strchr(dir, '\'') || !strstr(dir, "/"))
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

/* log lines "bid of <uscc> opened: <bytes> bytes in <ms> ms" */
static double log_work_ms(const char *log)
{
    FILE *f = fopen(log, "r");
    char line[2048];
    double sum = 0;
    while (f && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, " opened: ");
        long long bytes, ms;
        if (p && sscanf(p, " opened: %lld bytes in %lld ms", &bytes, &ms) == 2)
            sum += (double)ms;
    }
    if (f)
        fclose(f);
    return sum;
}

static double kvd(const char *line, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), " %s=", key);
    const char *p = strstr(line, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

static void host_watch(void *ud, const bo_client_event *ev)
{
    dctx *D = ud;
    if (!strcmp(ev->kind, "opening_closed")) {
        D->closed_seen = true;
        D->ts_closed = ev->ts;
    } else if (!strcmp(ev->kind, "head_signed") && D->closed_seen && !D->ts_head) {
        D->ts_head = ev->ts;
    }
}

static bool confirms_done(void *ud)
{
    dctx *D = ud;
    return D->n_confirmed + D->n_confirm_failed >= D->n_done;
}

static bool head_seen(void *ud)
{
    return ((dctx *)ud)->ts_head != 0;
}

static bo_err host_req(dctx *D, bn_host *host, bo_msg *m, int64_t *t_ack)
{
    bn_reply rr;
    bn_reply_init(&rr);
    bo_err e = bo_client_request(host->c, m, bn_reply_cb, &rr);
    if (!e)
        e = bn_reply_wait(D->loop, &rr, 60000);
    if (e)
        fprintf(stderr, "bo-bench: opening: %s: %s %s\n", bo_msg_type_name(m->type), rr.code,
                rr.msg);
    *t_ack = rr.t_ns;
    bn_reply_cleanup(&rr);
    return e;
}

/* After decryption (protocol.md §11): the host announces every bid, opens the confirmation
 * window, every bidder confirms the record at once, the host closes; the opening ends with
 * opening_closed and the server's signed chain head (the signed record). */
static void after_decryption_hook(dctx *D, bn_host *host, dres *r, int64_t deadline)
{
    bo_msg m;
    int64_t t;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_ANNOUNCE;
    m.u.announce.oid = D->oid;
    m.u.announce.all = true;
    m.u.announce.has_all = true;
    if (host_req(D, host, &m, &t)) {
        snprintf(r->record_note, sizeof(r->record_note), "announce refused");
        return;
    }
    r->t_announced = (double)(t / 1000000 - deadline);
    D->confirm = true;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_CONFIRM_OPEN;
    m.u.confirm_open.oid = D->oid;
    m.u.confirm_open.window_s = 600;
    m.u.confirm_open.has_window_s = true;
    if (host_req(D, host, &m, &t)) {
        snprintf(r->record_note, sizeof(r->record_note), "confirm_open refused");
        return;
    }
    r->t_confirm_open = (double)(t / 1000000 - deadline);
    bn_run_until(D->loop, confirms_done, D, 120000);
    r->confirmed = D->n_confirmed;
    r->t_all_confirmed = D->t_last_confirm ? (double)(D->t_last_confirm / 1000000 - deadline) : -1;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_CLOSE;
    m.u.opening.oid = D->oid;
    if (host_req(D, host, &m, &t)) {
        snprintf(r->record_note, sizeof(r->record_note), "close refused");
        return;
    }
    r->t_close_ack = (double)(t / 1000000 - deadline);
    bn_run_until(D->loop, head_seen, D, 30000);
    r->t_closed = D->ts_closed ? (double)(D->ts_closed - deadline) : -1;
    r->t_record_signed = D->ts_head ? (double)(D->ts_head - deadline) : -1;
}

static void run_one(const dcfg *cfg, bool timeline, dres *r)
{
    memset(r, 0, sizeof(*r));
    mkdir(cfg->out, 0755);
    /* room on disk: the client's envelopes, the vault, the plaintexts, the baseline's temp */
    struct statvfs vfs;
    uint64_t need = cfg->size * cfg->n * 3 + cfg->size + (1ull << 30);
    if (!statvfs(cfg->out, &vfs) && (uint64_t)vfs.f_bavail * vfs.f_frsize < need) {
        r->skipped = true;
        snprintf(r->why, sizeof(r->why), "not enough free disk: %.1f GiB needed, %.1f GiB free",
                 (double)need / (1 << 30), (double)vfs.f_bavail * vfs.f_frsize / (1 << 30));
        fprintf(stderr, "bo-bench: %s: skipped: %s\n", cfg->label, r->why);
        return;
    }
    if (bn_pki_ensure(cfg->pki, cfg->n, false))
        return;
    uv_loop_t loop;
    uv_loop_init(&loop);
    dctx D = {.loop = &loop, .cfg = cfg, .n = cfg->n};
    uint8_t rnd[6];
    char hex[13];
    bo_random_bytes(rnd, sizeof(rnd));
    snprintf(D.oid, sizeof(D.oid), "BENCH-%s", bo_hex_encode(rnd, sizeof(rnd), hex));
    D.b = calloc(D.n, sizeof(*D.b));
    for (unsigned i = 0; i < D.n; i++) {
        D.b[i].D = &D;
        if (!bn_bidder_load(cfg->pki, i, true, &D.b[i].cred))
            BN_DIE("cannot load bidder %u", i);
    }
    /* seal every bid first (2 threads) */
    char doc[800];
    snprintf(doc, sizeof(doc), "%s/document.bin", cfg->out);
    if (bn_sparse_file(doc, cfg->size))
        BN_DIE("cannot write %s", doc);
    int64_t ts0 = bn_mono_ns();
    seal_job sj[2];
    pthread_t th[2];
    unsigned nt = D.n > 1 ? 2 : 1;
    for (unsigned t = 0; t < nt; t++) {
        sj[t] = (seal_job){.D = &D, .doc = doc, .from = t, .step = nt};
        pthread_create(&th[t], NULL, seal_thread, &sj[t]);
    }
    int seal_rc = 0;
    for (unsigned t = 0; t < nt; t++) {
        pthread_join(th[t], NULL);
        seal_rc |= sj[t].rc;
    }
    unlink(doc);
    double seal_s = (double)(bn_mono_ns() - ts0) / 1e9;
    for (unsigned i = 0; i < D.n; i++)
        r->env_bytes += D.b[i].bid.size;
    r->seal_mb_s = seal_s > 0 ? (double)r->env_bytes / 1048576.0 / seal_s : 0;
    char sdir[800];
    snprintf(sdir, sizeof(sdir), "%s/server", cfg->out);
    bn_server srv = {0};
    bo_client_ctx *ctx = NULL;
    bn_host admin = {0}, host = {0};
    probe pr = {0};
    bn_child *perf = NULL;
    int64_t deadline = 0;
    if (seal_rc)
        goto out;
    const char *extra[] = {"--max-bid", "17179869184", NULL};
    if (bn_server_start(&srv, cfg->server_bin, sdir, cfg->pki, NULL, NULL, extra, 60000))
        goto out;
    ctx = bn_ctx_new(&loop, cfg->pki, D.n + 16);
    if (bn_host_open(&admin, ctx, srv.url, cfg->pki, "host", "host", NULL, 30000))
        goto out;
    /* the deadline: room for connecting, registering and uploading everything */
    double up_s = (double)r->env_bytes / 1048576.0 / (cfg->upload_mbps > 1 ? cfg->upload_mbps : 40);
    int64_t deadline_ms = 8000 + (int64_t)(up_s * 1000) + (int64_t)D.n * 60;
    char tj[1024];
    deadline = bn_tender_json(tj, sizeof(tj), D.oid, "bench decryption", deadline_ms, 1, 3600);
    {
        char got[65];
        if (bn_host_create(&admin, tj, got))
            goto out;
    }
    host.on_event = host_watch;
    host.ud = &D;
    if (bn_host_open(&host, ctx, srv.url, cfg->pki, "host", "host", D.oid, 30000))
        goto out;
    const char *urls[1] = {srv.url};
    for (unsigned i = 0; i < D.n; i++) {
        dbid *b = &D.b[i];
        bo_client_opts o = {.urls = urls,
                            .n_urls = 1,
                            .role = "bidder",
                            .key = b->cred.key,
                            .chain = b->cred.chain.list,
                            .enc_chain = b->cred.enc_chain.list,
                            .oid = D.oid,
                            .queue_max = 256,
                            .cb = {.on_state = bid_state, .on_event = bid_event},
                            .ud = b};
        bo_err e;
        b->c = bo_client_new(ctx, &o, &e);
        if (!b->c)
            BN_DIE("bidder client: %s", bo_strerror(e));
        bo_client_start(b->c);
    }
    if (!bn_run_until(&loop, all_joined, &D, 120000)) {
        snprintf(r->why, sizeof(r->why), "bidders could not join");
        goto out;
    }
    for (unsigned i = 0; i < D.n; i++) {
        bn_reply rr;
        bn_reply_init(&rr);
        bo_err e = bo_client_register(D.b[i].c, NULL, bn_reply_cb, &rr);
        if (!e)
            e = bn_reply_wait(&loop, &rr, 30000);
        bn_reply_cleanup(&rr);
        bn_reply_init(&rr);
        if (!e)
            e = bo_client_signin(D.b[i].c, NULL, bn_reply_cb, &rr);
        if (!e)
            e = bn_reply_wait(&loop, &rr, 30000);
        if (e) {
            snprintf(r->why, sizeof(r->why), "register/sign-in: %.60s %.150s", rr.code, rr.msg);
            bn_reply_cleanup(&rr);
            goto out;
        }
        bn_reply_cleanup(&rr);
    }
    {
        int64_t tu0 = bn_mono_ns();
        for (unsigned i = 0; i < D.n; i++) {
            char detail[300] = "";
            bo_err e = bn_submit(&loop, D.b[i].c, D.oid, &D.b[i].bid, 8, NULL, detail,
                                 sizeof(detail));
            if (e) {
                snprintf(r->why, sizeof(r->why), "upload: %.240s", detail);
                fprintf(stderr, "bo-bench: %s: %s\n", cfg->label, r->why);
                goto out;
            }
            unlink(D.b[i].bid.path); /* the client's copy is no longer needed */
        }
        double s = (double)(bn_mono_ns() - tu0) / 1e9;
        r->upload_mb_s = s > 0 ? (double)r->env_bytes / 1048576.0 / s : 0;
    }
    /* the probe: an observer connection that only asks the time */
    {
        const char *purls[1] = {srv.url};
        bo_client_opts po = {.urls = purls, .n_urls = 1, .role = "observer"};
        bo_err e;
        pr.loop = &loop;
        pr.idle = &r->rtt_idle;
        pr.burst = &r->rtt_busy;
        pr.pid = srv.pid;
        pr.c = cfg->probe ? bo_client_new(ctx, &po, &e) : NULL;
        if (pr.c)
            bo_client_start(pr.c);
        uv_timer_init(&loop, &pr.t);
        pr.t.data = &pr;
    }
    /* the deadline */
    if (!bn_host_wait_phase(&host, "awaiting_open", (int)deadline_ms + 60000)) {
        snprintf(r->why, sizeof(r->why), "the opening did not reach awaiting_open (%s)",
                 host.phase);
        goto out;
    }
    int64_t t_awaiting = host.phase_ts;
    if (!timeline) {
        /* idle round trips for a second */
        pr.on = true;
        uv_timer_start(&pr.t, probe_tick, 20, 20);
        bn_run_for(&loop, 1000);
    }
    char rssf[800];
    snprintf(r->rss_file, sizeof(r->rss_file), "%s-rss.dat", cfg->label);
    snprintf(rssf, sizeof(rssf), "%s/%s", cfg->out, r->rss_file);
    pr.rss = fopen(rssf, "w");
    pr.t0 = bn_mono_ns();
    pr.busy = true;
    if (!pr.on) {
        pr.on = cfg->probe;
        uv_timer_start(&pr.t, probe_tick, 20, 20);
    }
    r->rss_before_kib = bn_proc_status_kb(srv.pid, "VmRSS");
    bn_proc_reset_hwm(srv.pid);
    bn_cpu c0, c1, rc0, rc1;
    perf = bn_perf_start(&loop, srv.pid, cfg->out, cfg->label);
    bn_proc_cpu(srv.pid, &c0);
    bn_proc_cpu(srv.redis_pid, &rc0);
    {
        bn_reply rr;
        bn_reply_init(&rr);
        bo_err e = bo_client_decrypt_start(host.c, NULL, 0, bn_reply_cb, &rr);
        if (!e)
            e = bn_reply_wait(&loop, &rr, 60000);
        D.t_start_ack = rr.t_ns;
        if (e) {
            snprintf(r->why, sizeof(r->why), "decrypt_start: %.60s %.150s", rr.code, rr.msg);
            bn_reply_cleanup(&rr);
            goto out;
        }
        bn_reply_cleanup(&rr);
    }
    int64_t budget = 120000 + (int64_t)((double)r->env_bytes / 1048576.0 / 20 * 1000);
    bn_run_until(&loop, all_finished, &D, (int)(budget > 3600000 ? 3600000 : budget));
    bn_proc_cpu(srv.pid, &c1);
    bn_proc_cpu(srv.redis_pid, &rc1);
    bn_perf_stop(perf, cfg->out, cfg->label);
    perf = NULL;
    r->hwm_kib = bn_proc_status_kb(srv.pid, "VmHWM");
    int64_t t_last = 0, t_last_req = 0, t_last_resp = 0;
    for (unsigned i = 0; i < D.n; i++) {
        if (D.b[i].done) {
            bn_vec_push(&r->bid_done, D.b[i].t_done - D.t_start_ack);
            if (D.b[i].t_done > t_last)
                t_last = D.b[i].t_done;
        }
        if (D.b[i].t_req > t_last_req)
            t_last_req = D.b[i].t_req;
        if (D.b[i].t_resp > t_last_resp)
            t_last_resp = D.b[i].t_resp;
    }
    bn_vec_sort(&r->bid_done);
    r->decrypted = D.n_done;
    r->failed = D.n_failed + (D.n - D.n_done - D.n_failed);
    r->wall_s = t_last ? (double)(t_last - D.t_start_ack) / 1e9 : -1;
    r->server_cpu_s = bn_cpu_delta(&c0, &c1);
    r->redis_cpu_s = bn_cpu_delta(&rc0, &rc1);
    if (timeline) {
        /* wait for the phase change, then express every step after the deadline */
        bn_host_wait_phase(&host, "announcing", 30000);
        int64_t t_ann = host.phase_ts;
        int64_t off = 0; /* one machine: the server's clock is this one */
        r->t_awaiting = (double)(t_awaiting - deadline);
        r->t_start_ack = (double)(D.t_start_ack / 1000000 - off - deadline);
        r->t_all_req = t_last_req ? (double)(t_last_req / 1000000 - off - deadline) : -1;
        r->t_all_resp = t_last_resp ? (double)(t_last_resp / 1000000 - off - deadline) : -1;
        r->t_all_done = t_last ? (double)(t_last / 1000000 - off - deadline) : -1;
        r->t_announcing = (double)(t_ann - deadline);
        after_decryption_hook(&D, &host, r, deadline);
    }
    if (pr.rss)
        fclose(pr.rss);
    pr.rss = NULL;
    pr.on = false;
    uv_timer_stop(&pr.t);
    bn_vec_sort(&r->rtt_idle);
    bn_vec_sort(&r->rtt_busy);
    {
        char mpath[900];
        snprintf(mpath, sizeof(mpath), "%s/%s-server-metrics.txt", cfg->out, cfg->label);
        bn_server_metrics(&srv, mpath);
    }
    r->server_work_ms_sum = log_work_ms(srv.log);
    r->ran = D.n_done > 0;
out:
    bn_perf_stop(perf, cfg->out, cfg->label);
    if (pr.t.data)
        uv_close((uv_handle_t *)&pr.t, NULL);
    if (pr.rss)
        fclose(pr.rss);
    bo_client_free(pr.c);
    for (unsigned i = 0; i < D.n; i++)
        bo_client_free(D.b[i].c);
    if (host.c)
        bn_host_close(&host);
    if (admin.c)
        bn_host_close(&admin);
    if (ctx)
        bn_ctx_free(ctx, &loop);
    if (srv.pid)
        r->server_exit = bn_server_stop(&srv, 60000);
    /* the baseline over the same envelope bytes, from the vault */
    if (r->ran) {
        char vdir[900], list[800];
        snprintf(vdir, sizeof(vdir), "%s/data/vault/%s/bids", sdir, D.oid);
        snprintf(list, sizeof(list), "%s/%s-files.txt", cfg->out, cfg->label);
        FILE *lf = fopen(list, "w");
        DIR *dd = opendir(vdir);
        struct dirent *e;
        char first[1200] = "";
        while (lf && dd && (e = readdir(dd)))
            if (strstr(e->d_name, ".cms")) {
                fprintf(lf, "%s/%s\n", vdir, e->d_name);
                if (!first[0])
                    snprintf(first, sizeof(first), "%s/%s", vdir, e->d_name);
            }
        if (dd)
            closedir(dd);
        if (lf)
            fclose(lf);
        char thr[16], lg[900];
        snprintf(thr, sizeof(thr), "%u", cfg->base_threads);
        snprintf(lg, sizeof(lg), "%s/%s-ossl.log", cfg->out, cfg->label);
        const char *av[] = {cfg->ossl_bin, "decrypt", "--files", list, "--threads", thr, "--tmp",
                            cfg->out, NULL};
        bn_child *b = bn_child_spawn(&loop, av, lg);
        char *l = bn_child_wait_line(b, "result ", 3600000);
        bn_child_reap(b, 10000);
        if (l) {
            r->base_wall_s = kvd(l, "wall_s");
            r->base_mb_s = kvd(l, "mb_s");
            r->base_cpu_s = kvd(l, "cpu_s");
            free(l);
        }
        /* openssl cms -decrypt on the same envelope, for its memory */
        struct statvfs v2;
        if (cfg->cms_contrast && first[0] && cfg->size <= (1ull << 30) && !statvfs(cfg->out, &v2)) {
            char cmd[4096], tf[900];
            snprintf(tf, sizeof(tf), "%s/%s-cms-time.txt", cfg->out, cfg->label);
            snprintf(cmd, sizeof(cmd),
                     "/usr/bin/time -f '%%M %%e' -o '%s' openssl cms -decrypt -binary -inform DER "
                     "-in '%s' -recip '%s/bench-bidders/0/enc-cert.pem' -inkey "
                     "'%s/bench-bidders/0/enc-key.pem' -out /dev/null 2>>'%s'",
                     tf, first, cfg->pki, cfg->pki, lg);
            if (system(cmd) == 0) {
                FILE *tfp = fopen(tf, "r");
                if (tfp && fscanf(tfp, "%ld %lf", &r->cms_rss_kib, &r->cms_wall_s) != 2)
                    r->cms_rss_kib = -1;
                if (tfp)
                    fclose(tfp);
            } else
                r->cms_rss_kib = -1;
            unlink(tf);
        }
        unlink(list);
    }
    {
        char dd[900];
        snprintf(dd, sizeof(dd), "%s/data", sdir); /* the vault and Redis; the log stays */
        rm_rf(dd);
    }
    for (unsigned i = 0; i < D.n; i++) {
        bn_bid_cleanup(&D.b[i].bid);
        bn_bidder_free(&D.b[i].cred);
    }
    free(D.b);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
}

/* -------------------------------------------------------------- drivers ---- */

static void common_args(int argc, char **argv, dcfg *c, const char *label)
{
    c->pki = bn_arg(argc, argv, "--pki", NULL);
    c->out = bn_arg(argc, argv, "--out", NULL);
    c->server_bin = bn_arg(argc, argv, "--server-bin", NULL);
    c->ossl_bin = bn_arg(argc, argv, "--ossl-bin", NULL);
    c->label = label;
    c->upload_mbps = (double)bn_arg_ll(argc, argv, "--upload-mbps", 12);
    if (!c->pki || !c->out || !c->server_bin || !c->ossl_bin)
        BN_DIE("usage: bo-bench %s --pki DIR --out DIR --server-bin BIN --ossl-bin BIN ...",
               label);
    mkdir(c->out, 0755);
}

static void json_res_common(bn_json *j, const dres *r)
{
    bn_json_bool(j, "ran", r->ran);
    if (r->skipped || r->why[0])
        bn_json_str(j, "note", r->why);
    bn_json_int(j, "decrypted", r->decrypted);
    bn_json_int(j, "failed", r->failed);
    bn_json_num(j, "envelope_mib", (double)r->env_bytes / 1048576.0);
    bn_json_num(j, "wall_s", r->wall_s);
    bn_json_num(j, "mib_per_s", r->wall_s > 0 ? (double)r->env_bytes / 1048576.0 / r->wall_s : -1);
    bn_json_num(j, "server_worker_ms_sum", r->server_work_ms_sum);
    bn_json_num(j, "server_cpu_s", r->server_cpu_s);
    bn_json_num(j, "redis_cpu_s", r->redis_cpu_s);
    bn_json_num(j, "peak_rss_mib", r->hwm_kib > 0 ? (double)r->hwm_kib / 1024 : -1);
    bn_json_num(j, "rss_before_mib", (double)r->rss_before_kib / 1024);
    bn_json_num(j, "upload_mib_per_s", r->upload_mb_s);
    bn_json_num(j, "seal_mib_per_s", r->seal_mb_s);
    bn_json_int(j, "server_exit", r->server_exit);
}

static unsigned parse_sizes(const char *s, uint64_t *v, unsigned max)
{
    unsigned n = 0;
    while (s && *s && n < max) {
        char *end;
        double x = strtod(s, &end);
        uint64_t mul = 1;
        if (*end == 'K' || *end == 'k')
            mul = 1024, end++;
        else if (*end == 'M' || *end == 'm')
            mul = 1024 * 1024, end++;
        else if (*end == 'G' || *end == 'g')
            mul = 1024ull * 1024 * 1024, end++;
        v[n++] = (uint64_t)(x * (double)mul);
        s = *end == ',' ? end + 1 : NULL;
    }
    return n;
}

static void human(uint64_t b, char *out, size_t n)
{
    if (b >= (1ull << 30) && b % (1ull << 30) == 0)
        snprintf(out, n, "%lluGiB", (unsigned long long)(b >> 30));
    else if (b >= (1ull << 20) && b % (1ull << 20) == 0)
        snprintf(out, n, "%lluMiB", (unsigned long long)(b >> 20));
    else
        snprintf(out, n, "%lluKiB", (unsigned long long)(b >> 10));
}

int bn_cmd_decrypt(int argc, char **argv)
{
    dcfg c = {0};
    common_args(argc, argv, &c, "decrypt");
    uint64_t sizes[MAX_SIZES];
    unsigned ns = parse_sizes(bn_arg(argc, argv, "--sizes", "64M"), sizes, MAX_SIZES);
    c.n = 1;
    c.base_threads = 1;
    c.cms_contrast = !bn_flag(argc, argv, "--no-cms");
    dres r[MAX_SIZES];
    char labels[MAX_SIZES][48];
    for (unsigned i = 0; i < ns; i++) {
        char h[32];
        human(sizes[i], h, sizeof(h));
        snprintf(labels[i], sizeof(labels[i]), "decrypt-%s", h);
        dcfg ci = c;
        ci.size = sizes[i];
        ci.label = labels[i];
        fprintf(stderr, "bo-bench: decrypt: one bid of %s\n", h);
        run_one(&ci, false, &r[i]);
        if (r[i].upload_mb_s > 1) /* the next deadline from what this upload did */
            c.upload_mbps = r[i].upload_mb_s * 0.6;
    }
    char path[800];
    snprintf(path, sizeof(path), "%s/result.json", c.out);
    bn_json j;
    if (!bn_json_open(&j, path))
        BN_DIE("cannot write %s", path);
    bn_json_str(&j, "name", "decrypt");
    bn_json_obj(&j, "bidopen");
    bn_json_arr(&j, "sizes");
    for (unsigned i = 0; i < ns; i++) {
        bn_json_obj(&j, NULL);
        bn_json_str(&j, "label", labels[i]);
        bn_json_num(&j, "document_mib", (double)sizes[i] / 1048576.0);
        json_res_common(&j, &r[i]);
        bn_json_end_obj(&j);
    }
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "baseline");
    bn_json_str(&j, "program", "bo-bench-ossl decrypt: EVP AES-256-GCM over the same envelope "
                               "bytes, read and written in 64 KiB pieces, 1 thread; and `openssl "
                               "cms -decrypt` (peak RSS)");
    bn_json_arr(&j, "sizes");
    for (unsigned i = 0; i < ns; i++) {
        bn_json_obj(&j, NULL);
        bn_json_str(&j, "label", labels[i]);
        bn_json_num(&j, "wall_s", r[i].base_wall_s);
        bn_json_num(&j, "mib_per_s", r[i].base_mb_s);
        bn_json_num(&j, "cpu_s", r[i].base_cpu_s);
        if (r[i].cms_rss_kib)
            bn_json_num(&j, "openssl_cms_peak_rss_mib",
                        r[i].cms_rss_kib > 0 ? (double)r[i].cms_rss_kib / 1024 : -1);
        if (r[i].cms_wall_s > 0)
            bn_json_num(&j, "openssl_cms_wall_s", r[i].cms_wall_s);
        bn_json_end_obj(&j);
    }
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "ratios");
    for (unsigned i = 0; i < ns; i++) {
        char k[96];
        snprintf(k, sizeof(k), "throughput_vs_baseline_%.48s", labels[i]);
        double t = r[i].wall_s > 0 ? (double)r[i].env_bytes / 1048576.0 / r[i].wall_s : -1;
        bn_json_num(&j, k, r[i].base_mb_s > 0 && t > 0 ? t / r[i].base_mb_s : -1);
    }
    bn_json_end_obj(&j);
    bn_json_arr(&j, "targets");
    for (unsigned i = 0; i < ns; i++) {
        if (!r[i].ran)
            continue;
        char w[128];
        double t = r[i].wall_s > 0 ? (double)r[i].env_bytes / 1048576.0 / r[i].wall_s : -1;
        snprintf(w, sizeof(w), "%.48s: throughput / baseline's", labels[i]);
        bn_json_target(&j, w, r[i].base_mb_s > 0 ? t / r[i].base_mb_s : -1, ">=", 0.8, "ratio");
        snprintf(w, sizeof(w), "%.48s: server peak RSS", labels[i]);
        bn_json_target(&j, w, (double)r[i].hwm_kib / 1024, "<=", 64, "MiB");
    }
    bn_json_end_arr(&j);
    bn_json_arr(&j, "plots");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "name", "decrypt-rss");
    bn_json_str(&j, "title", "server RSS while opening one large bid");
    bn_json_str(&j, "xlabel", "s after decrypt_start");
    bn_json_str(&j, "ylabel", "VmRSS (MiB)");
    bn_json_str(&j, "style", "lines");
    bn_json_arr(&j, "series");
    for (unsigned i = 0; i < ns; i++)
        if (r[i].ran) {
            bn_json_obj(&j, NULL);
            bn_json_str(&j, "file", r[i].rss_file);
            bn_json_str(&j, "title", labels[i]);
            bn_json_end_obj(&j);
        }
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_end_arr(&j);
    bn_json_close(&j);
    bool any = false;
    for (unsigned i = 0; i < ns; i++) {
        any = any || r[i].ran || r[i].skipped;
        dres_free(&r[i]);
    }
    return any ? 0 : 1;
}

int bn_cmd_many(int argc, char **argv)
{
    dcfg c = {0};
    common_args(argc, argv, &c, "many");
    uint64_t size[1];
    parse_sizes(bn_arg(argc, argv, "--size", "50M"), size, 1);
    c.size = size[0];
    c.n = (unsigned)bn_arg_ll(argc, argv, "--n", 100);
    c.base_threads = 2;
    c.probe = true;
    dres r;
    run_one(&c, false, &r);
    char path[800];
    snprintf(path, sizeof(path), "%s/many-rtt-busy.dat", c.out);
    bn_write_cdf(path, &r.rtt_busy);
    snprintf(path, sizeof(path), "%s/many-rtt-idle.dat", c.out);
    bn_write_cdf(path, &r.rtt_idle);
    snprintf(path, sizeof(path), "%s/many-done.dat", c.out);
    bn_write_cdf(path, &r.bid_done);
    snprintf(path, sizeof(path), "%s/result.json", c.out);
    bn_json j;
    if (!bn_json_open(&j, path))
        BN_DIE("cannot write %s", path);
    bn_json_str(&j, "name", "many");
    bn_json_obj(&j, "params");
    bn_json_int(&j, "bidders", c.n);
    bn_json_num(&j, "bid_mib", (double)c.size / 1048576.0);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "bidopen");
    json_res_common(&j, &r);
    bn_json_dist_ms(&j, "bid_open_after_start_ms", &r.bid_done);
    bn_json_dist_ms(&j, "time_rtt_during_ms", &r.rtt_busy);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "baseline");
    bn_json_str(&j, "program", "bo-bench-ossl decrypt: EVP AES-256-GCM over the same envelope "
                               "bytes, 2 threads; and the time round trip before the burst");
    bn_json_num(&j, "wall_s", r.base_wall_s);
    bn_json_num(&j, "mib_per_s", r.base_mb_s);
    bn_json_num(&j, "cpu_s", r.base_cpu_s);
    bn_json_dist_ms(&j, "time_rtt_idle_ms", &r.rtt_idle);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "ratios");
    bn_json_num(&j, "wall_vs_baseline", r.base_wall_s > 0 ? r.wall_s / r.base_wall_s : -1);
    bn_json_num(&j, "rtt_p99_during_vs_idle",
                r.rtt_idle.n && bn_pct(&r.rtt_idle, 99) > 0
                    ? (double)bn_pct(&r.rtt_busy, 99) / (double)bn_pct(&r.rtt_idle, 99)
                    : -1);
    bn_json_end_obj(&j);
    bn_json_arr(&j, "targets");
    bn_json_end_arr(&j);
    bn_json_arr(&j, "plots");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "name", "many-rtt");
    bn_json_str(&j, "title", "`time` round trip, before and during the decryption burst (CDF)");
    bn_json_str(&j, "xlabel", "ms");
    bn_json_str(&j, "ylabel", "fraction of requests");
    bn_json_bool(&j, "logx", true);
    bn_json_arr(&j, "series");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "file", "many-rtt-idle.dat");
    bn_json_str(&j, "title", "idle (before)");
    bn_json_end_obj(&j);
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "file", "many-rtt-busy.dat");
    bn_json_str(&j, "title", "during the burst");
    bn_json_end_obj(&j);
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "name", "many-rss");
    bn_json_str(&j, "title", "server RSS during the burst");
    bn_json_str(&j, "xlabel", "s after decrypt_start");
    bn_json_str(&j, "ylabel", "VmRSS (MiB)");
    bn_json_str(&j, "style", "lines");
    bn_json_arr(&j, "series");
    bn_json_obj(&j, NULL);
    bn_json_str(&j, "file", r.rss_file);
    bn_json_str(&j, "title", "bidopen-server");
    bn_json_end_obj(&j);
    bn_json_end_arr(&j);
    bn_json_end_obj(&j);
    bn_json_end_arr(&j);
    bn_json_close(&j);
    int rc = r.ran || r.skipped ? 0 : 1;
    dres_free(&r);
    return rc;
}

int bn_cmd_opening(int argc, char **argv)
{
    dcfg c = {0};
    common_args(argc, argv, &c, "opening");
    uint64_t size[1];
    parse_sizes(bn_arg(argc, argv, "--size", "10M"), size, 1);
    c.size = size[0];
    c.n = (unsigned)bn_arg_ll(argc, argv, "--n", 100);
    c.base_threads = 2;
    dres r;
    run_one(&c, true, &r);
    char path[800];
    snprintf(path, sizeof(path), "%s/result.json", c.out);
    bn_json j;
    if (!bn_json_open(&j, path))
        BN_DIE("cannot write %s", path);
    bn_json_str(&j, "name", "opening");
    bn_json_obj(&j, "params");
    bn_json_int(&j, "bidders", c.n);
    bn_json_num(&j, "bid_mib", (double)c.size / 1048576.0);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "bidopen");
    json_res_common(&j, &r);
    bn_json_obj(&j, "timeline_ms_after_deadline");
    bn_json_num(&j, "phase_awaiting_open_seen", r.t_awaiting);
    bn_json_num(&j, "decrypt_start_acknowledged", r.t_start_ack);
    bn_json_num(&j, "last_request_received", r.t_all_req);
    bn_json_num(&j, "last_response_sent", r.t_all_resp);
    bn_json_num(&j, "last_bid_open", r.t_all_done);
    bn_json_num(&j, "phase_announcing_seen", r.t_announcing);
    bn_json_num(&j, "all_bids_announced", r.t_announced);
    bn_json_num(&j, "confirmation_window_opened", r.t_confirm_open);
    bn_json_num(&j, "every_bidder_confirmed", r.t_all_confirmed);
    bn_json_num(&j, "close_acknowledged", r.t_close_ack);
    bn_json_num(&j, "opening_closed_event", r.t_closed);
    bn_json_num(&j, "record_signed_head_signed", r.t_record_signed);
    bn_json_end_obj(&j);
    bn_json_int(&j, "bidders_confirmed", r.confirmed);
    if (r.record_note[0])
        bn_json_str(&j, "record_note", r.record_note);
    bn_json_num(&j, "deadline_to_decrypted_s", r.t_announcing > 0 ? r.t_announcing / 1000 : -1);
    bn_json_num(&j, "deadline_to_signed_record_s",
                r.t_record_signed > 0 ? r.t_record_signed / 1000 : -1);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "baseline");
    bn_json_str(&j, "program", "bo-bench-ossl decrypt: EVP AES-256-GCM over the same envelope "
                               "bytes, 2 threads (the bulk work alone)");
    bn_json_num(&j, "wall_s", r.base_wall_s);
    bn_json_num(&j, "mib_per_s", r.base_mb_s);
    bn_json_num(&j, "cpu_s", r.base_cpu_s);
    bn_json_end_obj(&j);
    bn_json_obj(&j, "ratios");
    bn_json_num(&j, "deadline_to_decrypted_vs_baseline",
                r.base_wall_s > 0 && r.t_announcing > 0 ? r.t_announcing / 1000 / r.base_wall_s : -1);
    bn_json_end_obj(&j);
    bn_json_arr(&j, "targets");
    bn_json_end_arr(&j);
    bn_json_arr(&j, "plots");
    bn_json_end_arr(&j);
    bn_json_close(&j);
    int rc = r.ran || r.skipped ? 0 : 1;
    dres_free(&r);
    return rc;
}
