/* The hall screen in a real browser (label browser): the real bidopen-server serves the
 * built page (web/dist, --web-root) and runs a whole opening with real clients
 * (libbidopen-client: sealed bids with an opening form, remote decryption by each bidder's
 * responder, the host's §11 commands); headless Chromium (Debian's, through playwright-core:
 * tests/browser/hall.mjs) opens the host's site link through a TCP proxy, and the page is
 * checked, with a screenshot each time,
 *   1. after sign-in (counts_early: the count is public, the names are not; the countdown is
 *      to the deadline in server time),
 *   2. after the deadline (the bidders and who signed in),
 *   3. after the remote decryption (each bid decrypted),
 *   4. after the first announcement (唱标: one row, its price),
 *   5. with its connection cut and the proxy refusing reconnections (banner, greyed data),
 *      while the host announces the rest, draws the coefficient and computes the benchmark,
 *   6. after it reconnected by itself: all of that shown, each bid once and in order (no gap,
 *      nothing twice),
 *   7. in the confirmation window with an objection awaiting its answer (the record hash to
 *      confirm, the window's countdown),
 *   8. at the close: the table, the draw, the benchmark price, the objection and the host's
 *      answer, who confirmed, the final record hash;
 *   9. the same after the page is loaded again (a fresh join).
 * The screenshots are written to a kept temp folder whose path is printed. Run by run.sh,
 * which builds the page and installs playwright-core first. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/stat.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/package.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo/sitelink.h"
#include "bo/submit.h"
#include "bo/wire.h"
#include "bo_itest.h"
#include "bo_sbid.h"

static bo_world W;
static pid_t node_pid;
static int to_node = -1, from_node = -1;
static char rbuf[1 << 16];
static size_t rlen;
static int failures;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "test_hall: FAILED: " __VA_ARGS__);                               \
            fputc('\n', stderr);                                                              \
            failures++;                                                                       \
        }                                                                                     \
    } while (0)

static void start_node(const char *script)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        abort();
    node_pid = fork();
    if (node_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("node", "node", script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_node = in[1];
    from_node = out[0];
    fcntl(from_node, F_SETFL, O_NONBLOCK);
}

/* Send one command and keep the opening's clients running until node answers. */
static bool node_cmd(const char *json, char *reply, size_t n, int timeout_ms)
{
    size_t len = strlen(json);
    if (write(to_node, json, len) != (ssize_t)len || write(to_node, "\n", 1) != 1)
        return false;
    int64_t end = bo_clock_mono_ms() + timeout_ms;
    while (bo_clock_mono_ms() < end) {
        char *nl = memchr(rbuf, '\n', rlen);
        if (nl) {
            size_t l = (size_t)(nl - rbuf);
            snprintf(reply, n, "%.*s", (int)l, rbuf);
            memmove(rbuf, nl + 1, rlen - l - 1);
            rlen -= l + 1;
            return true;
        }
        ssize_t r = read(from_node, rbuf + rlen, sizeof(rbuf) - rlen - 1);
        if (r > 0) {
            rlen += (size_t)r;
            continue;
        }
        if (r == 0)
            return false; /* node exited */
        bo_world_run(&W, 50);
    }
    return false;
}

static bool check(const char *name, const char *until, const char *shots)
{
    char cmd[8192], reply[1 << 15];
    int n = snprintf(cmd, sizeof(cmd),
                     "{\"cmd\":\"check\",\"name\":\"%s\",\"until\":%s,\"shot\":\"%s/%s.png\"}",
                     name, until, shots, name);
    CHECK(n > 0 && (size_t)n < sizeof(cmd), "%s: the command is too long", name);
    bool ok = node_cmd(cmd, reply, sizeof(reply), 60000);
    CHECK(ok, "%s: no answer from the browser", name);
    if (!ok)
        return false;
    bool good = strstr(reply, "\"ok\":true") != NULL;
    CHECK(good, "%s: %s (asked %s)", name, reply, until);
    if (good)
        printf("test_hall: %s ok, screenshot %s/%s.png\n", name, shots, name);
    return good;
}

static char *site_link(const char *oid, int port)
{
    char cert[600], key[600];
    bo_cred_files f = {bo_h_path(cert, W.pki, "staff/host-cert.pem"),
                       bo_h_path(key, W.pki, "staff/host-key.pem"), NULL, NULL, NULL};
    bo_err err;
    char detail[300];
    bo_cred *cred = bo_cred_load(&f, &err, detail, sizeof(detail));
    if (!cred)
        return NULL;
    bo_bytes_list ch = bo_cred_chain(cred);
    bo_buf tok, url;
    bo_buf_init(&tok, BO_SITELINK_TOKEN_MAX);
    bo_buf_init(&url, BO_SITELINK_TOKEN_MAX + 512);
    bo_time_ms now = bo_clock_now_ms();
    char base[64];
    snprintf(base, sizeof(base), "https://127.0.0.1:%d", port);
    char *res = NULL;
    if (!bo_sitelink_token(bo_cred_key(cred), ch.v[0].p, ch.v[0].len, oid, "某县政务服务中心开标室",
                           now + 3600000, now, &tok) &&
        !bo_sitelink_url(base, oid, (const char *)tok.data, &url))
        res = (char *)bo_buf_steal(&url, NULL);
    bo_buf_cleanup(&tok);
    bo_buf_cleanup(&url);
    bo_cred_free(cred);
    return res;
}

/* ------------------------------------------------------------ the opening ---- */

#define NB 3
static const char *const NAMES[NB] = {"b1-rsa", "b2-p256", "b5-mixed"};
/* what each bidder writes in its opening form, and the page shows grouped */
static const char *const PRICES[NB] = {"1033333.13", "1000000.10", "1044444.14"};
static const char *const SHOWN[NB] = {"1,033,333.13", "1,000,000.10", "1,044,444.14"};
static const char OBJECTION[] = "第1名的工期与招标文件不符，请核实。";
static const char ANSWER[] = "经核实，工期符合招标文件要求，记录在案。";

typedef struct bidder {
    const char *name;
    char uscc[19], org[512];
    tc *t;
    bo_key *enc;
    bo_responder *r;
    bool submitted, receipt; /* the submission's end, with a verified receipt */
    bool opened, failed;     /* the responder's outcome */
    char why[300];
} bidder;

static bidder BD[NB];
static char STORE[600];

static void on_reply(void *ud, bo_err err, const char *code, const char *msg,
                     const msgpack_object *data)
{
    tc_on_reply(ud, err, code, msg, data);
}

/* A request through t (the REQ's call), waited for: true when it is accepted. */
static bool req_ok(tc *t, bo_err sent, const char *what)
{
    if (sent != BO_E_OK) {
        CHECK(false, "%s: %s not sent: %s", t->name, what, bo_err_name(sent));
        return false;
    }
    bo_err got = tc_wait_reply(&W.loop, t, 20000);
    CHECK(got == BO_E_OK, "%s: %s: %s %s %s", t->name, what, bo_err_name(got), t->reply_code,
          t->reply_msg);
    return got == BO_E_OK;
}
#define REQ(t, what, call) (tc_reply_reset(t), req_ok((t), (call), (what)))

/* A field of the body of the last event of a kind t saw (a string, or an integer as text);
 * "" when there is none. */
static const char *ev_field(const tc *t, const char *kind, const char *key, char out[200])
{
    out[0] = 0;
    const tc_event *e = tc_last(t, kind);
    json_t *j = e ? json_loads(e->body_json, 0, NULL) : NULL;
    json_t *v = json_object_get(j, key);
    if (json_is_string(v))
        snprintf(out, 200, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, 200, "%lld", (long long)json_integer_value(v));
    json_decref(j);
    return out;
}

static bool wait_kind(tc *t, const char *kind, size_t n, int timeout_ms)
{
    int64_t end = bo_clock_mono_ms() + timeout_ms;
    while (tc_count(t, kind) < n && bo_clock_mono_ms() < end)
        bo_world_run(&W, 50);
    CHECK(tc_count(t, kind) >= n, "%s saw %zu %s, want %zu", t->name, tc_count(t, kind), kind, n);
    return tc_count(t, kind) >= n;
}

static void sub_done(void *ud, bo_err err, const char *code, const char *msg,
                     const bo_submit_result *res)
{
    bidder *b = ud;
    b->submitted = true;
    b->receipt = !err && res->receipt && res->receipt_verified;
    snprintf(b->why, sizeof(b->why), "%s %s %s", bo_err_name(err), code ? code : "",
             msg ? msg : "");
}

/* Seal b's bid (opening form: price, duration) to its encryption certificate and submit it. */
static bool submit(bidder *b, const char *oid, const char *price)
{
    char rel[512], cert[600], key[600], enc[600], env[700], detail[400] = "";
    bo_h_path(cert, W.pki, bo_world_bidder_field(&W, b->name, "sign_cert", rel));
    bo_h_path(key, W.pki, bo_world_bidder_field(&W, b->name, "sign_key", rel));
    bo_h_path(enc, W.pki, bo_world_bidder_field(&W, b->name, "enc_cert", rel));
    snprintf(env, sizeof(env), "%s/%s-%s.cms", W.dir, oid, b->name);
    bo_package_field form[2] = {{"price", price}, {"duration", "180"}};
    bo_sbid_bid bid = {.oid = oid, .form = form, .n_form = 2, .cipher = BO_SEAL_AES256_GCM,
                       .rsa_padding = BO_SEAL_RSA_OAEP_SHA256};
    bo_seal_result res;
    bool ok = bo_sbid_seal_with(cert, key, enc, b->uscc, &bid, env, &res, detail,
                                sizeof(detail)) == BO_E_OK;
    CHECK(ok, "seal %s: %s", b->name, detail);
    if (ok) {
        bo_submit_opts so;
        memset(&so, 0, sizeof(so));
        so.oid = oid;
        so.envelope = env;
        so.commit = res.record.commitment;
        so.store_dir = STORE;
        so.done = sub_done;
        so.ud = b;
        ok = bo_client_submit_ex(b->t->c, &so, NULL) == BO_E_OK;
        int64_t end = bo_clock_mono_ms() + 60000;
        while (ok && !b->submitted && bo_clock_mono_ms() < end)
            bo_world_run(&W, 50);
        ok = ok && b->receipt;
        CHECK(ok, "submit %s: %s", b->name, b->why);
    }
    bo_seal_result_cleanup(&res);
    return ok;
}

static void on_status(void *ud, const bo_responder_status *st)
{
    bidder *b = ud;
    if (st->what == BO_RESP_OPENED)
        b->opened = true;
    else if (st->what == BO_RESP_FAILED || st->what == BO_RESP_REFUSED) {
        b->failed = true;
        snprintf(b->why, sizeof(b->why), "%s %s", st->code ? st->code : "",
                 st->msg ? st->msg : "");
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_hall WEB_DIST HALL_MJS\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char shots[512];
    bo_h_tmpdir("hall-screens", shots); /* kept: the screenshots are the test's artefacts */
    const char *args[] = {"--web-root", argv[1], NULL};
    bo_world_up(&W, "hall", args);
    snprintf(STORE, sizeof(STORE), "%s/bids-store", W.dir);
    bo_h_proxy *proxy = bo_h_proxy_start(W.srv.port);
    char *url = NULL;
    char reply[1 << 15], until[4096], v[200], deadline[200];

    tc *host = bo_world_staff(&W, "host", "host", NULL);
    char oid[65];
    /* the deadline leaves time to register, sign in and seal three bids under ASan */
    bool made = bo_world_connect(&W, host) &&
                bo_world_create(
                    &W, host, "T-hall", 1500, 45000,
                    "\"counts_early\":true,\"announce_order\":\"uscc\","
                    "\"fields\":[{\"key\":\"price\",\"label\":\"投标报价\",\"type\":\"decimal\"},"
                    "{\"key\":\"duration\",\"label\":\"工期\",\"type\":\"days\"}],"
                    "\"draws\":[{\"id\":\"k1\",\"kind\":\"coefficient\",\"label\":\"下浮系数\","
                    "\"values\":[\"0.95\",\"0.96\",\"0.97\",\"0.98\",\"0.99\"]}],"
                    "\"benchmark\":{\"field\":\"price\",\"coefficient\":\"draw:k1\"}",
                    oid);
    CHECK(made, "create the opening");
    tc_free(host);
    host = made ? bo_world_staff(&W, "host", "host", oid) : NULL;
    made = made && bo_world_connect(&W, host);
    for (int i = 0; made && i < NB; i++) {
        bidder *b = &BD[i];
        char rel[512], p[600], detail[300];
        b->name = NAMES[i];
        bo_world_bidder_field(&W, b->name, "uscc", rel);
        snprintf(b->uscc, sizeof(b->uscc), "%.18s", rel);
        bo_world_bidder_field(&W, b->name, "org", b->org);
        bo_err e;
        b->enc = bo_key_load(bo_h_path(p, W.pki, bo_world_bidder_field(&W, b->name, "enc_key", rel)),
                             NULL, &e, detail, sizeof(detail));
        CHECK(b->enc != NULL, "%s: %s", p, detail);
        b->t = bo_world_bidder(&W, b->name, true, oid);
        CHECK(bo_world_connect(&W, b->t), "connect %s", b->name);
        CHECK(bo_world_register(&W, b->t) == BO_E_OK, "register %s", b->name);
    }
    if (made)
        url = site_link(oid, bo_h_proxy_port(proxy));
    CHECK(url != NULL, "site link");
    if (!made || !url || failures)
        goto out;
    {
        json_t *snap = json_loads(host->snap_json, 0, NULL);
        snprintf(deadline, sizeof(deadline), "%lld",
                 (long long)json_integer_value(json_object_get(snap, "deadline")));
        json_decref(snap);
    }

    start_node(argv[2]);
    char cmd[BO_SITELINK_TOKEN_MAX + 600];
    snprintf(cmd, sizeof(cmd), "{\"cmd\":\"open\",\"url\":\"%s\"}", url);
    CHECK(node_cmd(cmd, reply, sizeof(reply), 60000) && strstr(reply, "\"ok\":true"),
          "open the page: %s", reply);

    /* 1. sign-in: a count, no names; the countdown to the deadline */
    CHECK(tc_wait_event(&W.loop, BD[0].t, "phase_changed", 15000), "check-in opens");
    for (int i = 0; i < NB; i++)
        CHECK(bo_world_signin(&W, BD[i].t) == BO_E_OK, "sign in %s", NAMES[i]);
    snprintf(until, sizeof(until),
             "{\"conn\":\"live\",\"phase\":\"checkin\",\"signin\":\"3\",\"rows\":0,\"arows\":0,"
             "\"target\":%s,\"texts\":[\"某市政道路改造工程施工\",\"第一标段\",\"签到中\","
             "\"Sign-in open\",\"距开标\",\"开标前不公布投标人名单\"],"
             "\"absent\":[\"%s\",\"%s\",\"%s\"]}",
             deadline, BD[0].org, BD[1].org, BD[2].org);
    check("1-signin", until, shots);

    for (int i = 0; i < NB; i++)
        submit(&BD[i], oid, PRICES[i]);
    if (failures)
        goto quit;

    /* 2. the deadline: the bidders, all signed in */
    CHECK(tc_wait_event(&W.loop, BD[0].t, "bidders_revealed", 60000), "deadline");
    snprintf(until, sizeof(until),
             "{\"conn\":\"live\",\"phase\":\"awaiting_open\",\"rows\":3,\"signin\":\"3 / 3\","
             "\"texts\":[\"已到投标截止时间\",\"%s\",\"%s\",\"%s\"],\"absent\":[\"有效投标不足\"]}",
             BD[0].org, BD[1].org, BD[2].org);
    check("2-deadline", until, shots);

    /* 3. remote decryption: each bidder's responder answers with its own key */
    for (int i = 0; i < NB; i++) {
        bo_responder_opts o;
        memset(&o, 0, sizeof(o));
        o.enc_key = BD[i].enc;
        o.store_dir = STORE;
        o.on_status = on_status;
        o.ud = &BD[i];
        bo_err e;
        BD[i].r = bo_responder_new(BD[i].t->c, &o, &e);
        CHECK(BD[i].r != NULL, "responder %s: %s", NAMES[i], bo_err_name(e));
    }
    bo_world_run(&W, 500);
    REQ(host, "decrypt_start", bo_client_decrypt_start(host->c, oid, 300, on_reply, host));
    CHECK(wait_kind(host, "bid_decrypted", NB, 90000), "every bid decrypted");
    /* each responder hears of its own bid when its client does (maybe after the host) */
    int64_t end = bo_clock_mono_ms() + 20000;
    for (int i = 0; i < NB; i++)
        while (!BD[i].opened && !BD[i].failed && bo_clock_mono_ms() < end)
            bo_world_run(&W, 50);
    for (int i = 0; i < NB; i++)
        CHECK(BD[i].opened && !BD[i].failed, "%s: not opened: %s", NAMES[i], BD[i].why);
    check("3-decrypted", "{\"conn\":\"live\",\"phase\":\"announcing\",\"rows\":3,"
                         "\"sel\":[[\"#progress-count\",\"0 / 3\"]],\"texts\":[\"已解密\",\"唱标\"]}",
          shots);

    /* 4. the first announcement (USCC order) */
    REQ(host, "announce", bo_client_announce(host->c, oid, false, on_reply, host));
    wait_kind(host, "bid_announced", 1, 10000);
    int first = -1;
    ev_field(host, "bid_announced", "uscc", v);
    for (int i = 0; i < NB; i++)
        if (!strcmp(v, BD[i].uscc))
            first = i;
    CHECK(first >= 0, "the first announcement names %s", v);
    if (first < 0)
        goto quit;
    snprintf(until, sizeof(until),
             "{\"conn\":\"live\",\"phase\":\"announcing\",\"arows\":1,\"ns\":\"1\",\"rows\":0,"
             "\"sel\":[[\"#announce tr[data-n='1']\",\"%s\"],[\"#announce tr[data-n='1']\",\"%s\"],"
             "[\"#announce-progress\",\"1 / 3\"]],"
             "\"texts\":[\"投标报价\",\"工期\",\"有效\"]}",
             BD[first].org, SHOWN[first]);
    check("4-announced", until, shots);

    /* 5. the link drops and cannot come back: the page says so, and keeps what it had */
    bo_h_proxy_retarget(proxy, 1); /* nothing listens on port 1 */
    bo_h_proxy_cut(proxy);
    check("5-connection-lost", "{\"conn\":\"down\",\"banner\":true,\"arows\":1,"
                               "\"texts\":[\"连接中断\",\"最后更新\",\"正在重新连接\"]}",
          shots);
    /* meanwhile: the rest of the table, the draw, the benchmark price */
    REQ(host, "announce all", bo_client_announce(host->c, oid, true, on_reply, host));
    REQ(host, "draw", bo_client_draw(host->c, oid, "k1", on_reply, host));
    REQ(host, "benchmark", bo_client_benchmark(host->c, oid, on_reply, host));
    wait_kind(host, "benchmark_price", 1, 10000);
    char coef[200], bench[200];
    ev_field(host, "draw_result", "value", coef);
    ev_field(host, "benchmark_price", "value", bench);
    CHECK(coef[0] && bench[0], "draw %s, benchmark %s", coef, bench);

    /* 6. the link is back: the page resumes by itself, each bid once and in order */
    bo_h_proxy_retarget(proxy, W.srv.port);
    snprintf(until, sizeof(until),
             "{\"conn\":\"live\",\"banner\":false,\"phase\":\"announcing\",\"arows\":3,"
             "\"ns\":\"1,2,3\",\"texts\":[\"%s\",\"%s\",\"%s\",\"下浮系数\",\"评标基准价\"],"
             "\"sel\":[[\"[data-draw='k1']\",\"%s\"],[\"#announce-progress\",\"3 / 3\"]],"
             "\"attrs\":[[\"#benchmark-value\",\"data-value\",\"%s\"]]}",
             SHOWN[0], SHOWN[1], SHOWN[2], coef, bench);
    check("6-resumed", until, shots);
    CHECK(bo_h_proxy_accepted(proxy) >= 2, "the page reconnected through the proxy");

    /* 7. the confirmation window: b1 confirms, b2 objects */
    REQ(host, "confirm_open", bo_client_confirm_open(host->c, oid, 600, on_reply, host));
    wait_kind(host, "confirmation_opened", 1, 10000);
    for (int i = 0; i < NB; i++)
        wait_kind(BD[i].t, "confirmation_opened", 1, 10000);
    char record[200], ends[200];
    ev_field(host, "confirmation_opened", "record_hash", record);
    ev_field(host, "confirmation_opened", "ends_at", ends);
    CHECK(strlen(record) == 64 && ends[0], "confirmation_opened: %s %s", record, ends);
    if (strlen(record) != 64 || !ends[0])
        goto quit;
    REQ(BD[0].t, "confirm", bo_client_confirm(BD[0].t->c, NULL, NULL, on_reply, BD[0].t));
    REQ(BD[1].t, "object", bo_client_object(BD[1].t->c, NULL, OBJECTION, on_reply, BD[1].t));
    wait_kind(host, "objection", 1, 10000);
    snprintf(until, sizeof(until),
             "{\"conn\":\"live\",\"phase\":\"confirming\",\"target\":%s,"
             "\"texts\":[\"确认剩余时间\",\"%s\",\"待主持人答复\"],"
             "\"sel\":[[\"#announce tr[data-uscc='%s'] [data-confirm]\",\"已确认\"],"
             "[\"#announce tr[data-uscc='%s'] [data-confirm]\",\"有异议\"],"
             "[\"#announce tr[data-uscc='%s'] [data-confirm]\",\"待确认\"],"
             "[\"#progress-count\",\"1 / 3\"]],"
             "\"attrs\":[[\"#confirm-hash\",\"data-hash\",\"%s\"]]}",
             ends, OBJECTION, BD[0].uscc, BD[1].uscc, BD[2].uscc, record);
    check("7-objection", until, shots);

    /* 8. the answer, everyone confirms (the objector too), the close */
    REQ(host, "answer", bo_client_answer(host->c, oid, 1, ANSWER, on_reply, host));
    REQ(BD[1].t, "confirm", bo_client_confirm(BD[1].t->c, NULL, NULL, on_reply, BD[1].t));
    REQ(BD[2].t, "confirm", bo_client_confirm(BD[2].t->c, NULL, NULL, on_reply, BD[2].t));
    REQ(host, "close", bo_client_close(host->c, oid, on_reply, host));
    wait_kind(host, "opening_closed", 1, 10000);
    char final[200];
    ev_field(host, "opening_closed", "record_hash", final);
    CHECK(strlen(final) == 64 && strcmp(final, record) != 0, "final record hash %s", final);
    snprintf(until, sizeof(until),
             "{\"conn\":\"live\",\"banner\":false,\"phase\":\"closed\",\"arows\":3,\"ns\":\"1,2,3\","
             "\"texts\":[\"开标结束\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"答复\"],"
             "\"absent\":[\"待主持人答复\"],"
             "\"sel\":[[\"[data-draw='k1']\",\"%s\"],[\"#progress-count\",\"3 / 3\"],"
             "[\"#objections li[data-n='1']\",\"%s\"]],"
             "\"attrs\":[[\"#benchmark-value\",\"data-value\",\"%s\"],"
             "[\"#final-hash\",\"data-hash\",\"%s\"]]}",
             SHOWN[0], SHOWN[1], SHOWN[2], OBJECTION, ANSWER, coef, ANSWER, bench, final);
    check("8-closed", until, shots);
    /* the same from a fresh join (a hall that opens the link after the close) */
    CHECK(node_cmd("{\"cmd\":\"reload\"}", reply, sizeof(reply), 60000) &&
              strstr(reply, "\"ok\":true"),
          "reload the page: %s", reply);
    check("9-reloaded", until, shots);
    CHECK(bo_h_server_log_has(&W.srv, "authenticated by a link"), "the page used the site link");

quit:
    node_cmd("{\"cmd\":\"quit\"}", reply, sizeof(reply), 20000);
out:
    if (node_pid > 0) {
        close(to_node);
        int st;
        for (int i = 0; i < 100 && waitpid(node_pid, &st, WNOHANG) == 0; i++)
            bo_world_run(&W, 100);
        if (waitpid(node_pid, &st, WNOHANG) == 0) {
            kill(node_pid, SIGKILL);
            waitpid(node_pid, &st, 0);
        }
    }
    free(url);
    for (int i = 0; i < NB; i++)
        bo_responder_free(BD[i].r);
    bo_world_run(&W, 100);
    for (int i = 0; i < NB; i++)
        tc_free(BD[i].t);
    tc_free(host);
    bo_world_run(&W, 100);
    for (int i = 0; i < NB; i++)
        bo_key_free(BD[i].enc);
    bo_h_proxy_stop(proxy);
    bo_world_down(&W);
    printf("test_hall: screenshots in %s\n", shots);
    printf("test_hall: %s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
