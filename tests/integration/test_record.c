/* The record of a whole opening, exported through the real server and verified offline
 * (docs/transcript.md), over TLS with real clients:
 *
 *   1. Three bidders (RSA, P-256 and mixed certificates of the demo PKI) register, sign in,
 *      seal and submit; remote decryption opens every bid (the bidders' responders); the
 *      host draws the coefficient, announces, computes the benchmark price and opens the
 *      confirmation window; one bidder confirms, one objects, the host answers, then every
 *      bidder confirms and the host closes.
 *   2. The export request: refused to an observer for the full transcript, and for anything
 *      before the close; the record's formats and the public transcript are anyone's after
 *      it. `bidopen host export --all DIR` writes every format: the record's JSON has the
 *      hash opening_closed carries, OCDS its release, the HTML its bids.
 *   3. `bidopen verify` passes the full transcript (with the host's certificate for the
 *      answer) and the public one (exit 0), and fails a copy whose bid price was changed
 *      (exit 2), naming the event; --json gives one object per finding.
 *   4. It fails, naming what is wrong, each forgery of this real transcript: an event
 *      removed, two events swapped, a confirmation signed with another bidder's key (the
 *      chain rebuilt after it), and in the public transcript a withheld body's hash changed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/hex.h"
#include "bo/identity.h"
#include "bo/package.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo/sigpayload.h"
#include "bo/submit.h"
#include "bo/transcript.h"
#include "bo/wire.h"
#include "bo_itest.h"
#include "bo_sbid.h"
#include "bo_ocds.h"
#include "bo_tamper.h"

extern char **environ;

#define OID "T-record"
#define DEADLINE_MS 25000
#define NB 3

static const char *const NAMES[NB] = {"b1-rsa", "b2-p256", "b5-mixed"};
static const char *const PRICES[NB] = {"1033333.13", "1000000.10", "1044444.14"};
#define OBJECTION "第2名的报价大写与小写不一致，请核实。"
#define ANSWER "已核对投标文件，大小写一致，唱标无误。"

static bo_sbid BD[NB];
static bo_world W;
static char STORE[600], OUT[700];
static tc *HOST, *OBS;
static char FINAL_HASH[65]; /* opening_closed.record_hash, hex */

/* ------------------------------------------------------------------ helpers ---- */

static const char *cli_bin(void)
{
    const char *b = getenv("BO_CLI_BIN");
    if (!b)
        fail_msg("BO_CLI_BIN is not set (ctest sets it)");
    return b;
}

typedef struct child {
    pid_t pid;
    int status;
} child;

static bool child_done(void *arg)
{
    child *c = arg;
    int st;
    if (c->pid > 0 && waitpid(c->pid, &st, WNOHANG) == c->pid) {
        c->pid = 0;
        c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return c->pid <= 0;
}

/* Run the CLI to its end with stdout (and stderr) into out, the loop running meanwhile. */
static int run_cli(const char *const *argv, const char *out, int timeout_ms)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    child c = {0, -1};
    int rc = posix_spawnp(&c.pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(rc, 0);
    if (bo_client_run_until(&W.loop, child_done, &c, timeout_ms) != BO_E_OK) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, NULL, 0);
        fail_msg("%s %s: still running after %d ms", argv[1], argv[2], timeout_ms);
    }
    return c.status;
}

static char *slurp(const char *path, size_t *len)
{
    size_t n = 0;
    char *s = bo_h_read_file(path, &n);
    if (len)
        *len = n;
    return s ? s : strdup("");
}

static void expect_reply(tc *t, bo_err want, const char *what)
{
    bo_err got = tc_wait_reply(&W.loop, t, 20000);
    if (got != want)
        fail_msg("%s: %s: got %s (%s %s), want %s", t->name, what, bo_err_name(got),
                 t->reply_code, t->reply_msg, bo_err_name(want));
}

#define REQ(t, call)                                                                          \
    do {                                                                                      \
        tc_reply_reset(t);                                                                    \
        bo_err req_err_ = (call);                                                             \
        if (req_err_)                                                                         \
            fail_msg("%s: %s not sent: %s", (t)->name, #call, bo_err_name(req_err_));         \
    } while (0)

typedef struct kind_wait {
    tc *t;
    const char *kind;
    const char *text;
    size_t n;
} kind_wait;

static size_t count_with(const tc *t, const char *kind, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_events; i++)
        n += !strcmp(t->events[i].kind, kind) && (!text || strstr(t->events[i].body_json, text));
    return n;
}

static bool has_n(void *arg)
{
    kind_wait *k = arg;
    return count_with(k->t, k->kind, k->text) >= k->n;
}

/* Wait for n events of kind whose body contains text (NULL: any). */
static void wait_for(tc *t, const char *kind, const char *text, size_t n, int timeout_ms)
{
    kind_wait k = {t, kind, text, n};
    if (bo_client_run_until(&W.loop, has_n, &k, timeout_ms) != BO_E_OK)
        fail_msg("%s: %zu %s%s%s after %d ms, want %zu", t->name, count_with(t, kind, text), kind,
                 text ? " with " : "", text ? text : "", timeout_ms, n);
}

/* ---------------------------------------------------------------- bidding ---- */

/* Seal b's bid (the opening's form: price, duration) and submit it. */
static void submit(bo_sbid *b, const char *price)
{
    char env[800];
    snprintf(env, sizeof(env), "%s/%s.cms", W.dir, b->name);
    bo_package_field form[2] = {{"price", price}, {"duration", "180"}};
    bo_sbid_bid bid = {.oid = OID, .form = form, .n_form = 2, .cipher = BO_SEAL_AES256_GCM,
                       .rsa_padding = BO_SEAL_RSA_OAEP_SHA256};
    bo_sbid_seal(b, &bid, env);
    bo_sbid_submit(&W, b, OID, env, b->commit, 60000);
}

/* An export request through t, waited for (offset 0). */
static bo_err export_req(tc *t, const char *format)
{
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_EXPORT;
    m.u.export_req.oid = OID;
    m.u.export_req.format = format;
    REQ(t, bo_client_request(t->c, &m, tc_on_reply, t));
    return tc_wait_reply(&W.loop, t, 20000);
}

/* 1. A whole opening, to its close. */
static void opening(void **state)
{
    (void)state;
    HOST = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, HOST));
    char oid[65];
    assert_true(bo_world_create(
        &W, HOST, OID, 1000, DEADLINE_MS,
        "\"buyer\":\"某县交通运输局\","
        "\"agency\":\"某招标代理有限公司\","
        "\"fields\":[{\"key\":\"price\",\"label\":\"投标报价（元）\",\"type\":\"decimal\"},"
        "{\"key\":\"duration\",\"label\":\"工期（日历天）\",\"type\":\"days\"}],"
        "\"announce_order\":\"uscc\","
        "\"draws\":[{\"id\":\"k1\",\"kind\":\"coefficient\",\"label\":\"下浮系数\","
        "\"values\":[\"0.95\",\"0.96\",\"0.97\",\"0.98\",\"0.99\"]}],"
        "\"benchmark\":{\"field\":\"price\",\"coefficient\":\"draw:k1\",\"places\":2}",
        oid));
    tc_free(HOST);
    OBS = bo_world_observer(&W, "public", OID);
    HOST = bo_world_staff(&W, "host", "host", OID);
    tc *staff[] = {OBS, HOST};
    assert_int_equal(bo_world_connect_all(&W, staff, 2, 20000), 2);

    /* before the close, the record is the host's only */
    assert_int_equal(export_req(OBS, "record"), BO_E_FORBIDDEN);

    for (int i = 0; i < NB; i++) {
        bo_sbid *b = &BD[i];
        char dir[700];
        snprintf(dir, sizeof(dir), "%s/bidders/%s", W.pki, NAMES[i]);
        bo_sbid_init_dir(b, NAMES[i], dir, STORE);
        b->key = bo_sbid_load_key(b->enc_key);
        b->t = bo_world_bidder(&W, b->name, true, OID);
        assert_true(bo_world_connect(&W, b->t));
        assert_int_equal(bo_world_register(&W, b->t), BO_E_OK);
    }
    wait_for(OBS, "phase_changed", "\"to\":\"checkin\"", 1, 10000);
    for (int i = 0; i < NB; i++) {
        assert_int_equal(bo_world_signin(&W, BD[i].t), BO_E_OK);
        submit(&BD[i], PRICES[i]);
    }

    /* remote decryption */
    wait_for(HOST, "bidders_revealed", NULL, 1, DEADLINE_MS + 20000);
    for (int i = 0; i < NB; i++)
        bo_sbid_attach(&BD[i], NULL);
    bo_world_run(&W, 300);
    REQ(HOST, bo_client_decrypt_start(HOST->c, OID, 300, tc_on_reply, HOST));
    expect_reply(HOST, BO_E_OK, "decrypt_start");
    bo_sbid_wait_opened(&W, BD, NB, 90000);
    for (int i = 0; i < NB; i++)
        if (!BD[i].opened)
            fail_msg("%s: not opened: %s", BD[i].name, BD[i].why);
    wait_for(OBS, "phase_changed", "\"to\":\"announcing\"", 1, 20000);

    /* draw, announcement, benchmark */
    REQ(HOST, bo_client_draw(HOST->c, OID, "k1", tc_on_reply, HOST));
    expect_reply(HOST, BO_E_OK, "draw");
    REQ(HOST, bo_client_announce(HOST->c, OID, true, tc_on_reply, HOST));
    expect_reply(HOST, BO_E_OK, "announce all");
    REQ(HOST, bo_client_benchmark(HOST->c, OID, tc_on_reply, HOST));
    expect_reply(HOST, BO_E_OK, "benchmark");

    /* confirmation: an objection, its answer, then everyone confirms */
    REQ(HOST, bo_client_confirm_open(HOST->c, OID, 600, tc_on_reply, HOST));
    expect_reply(HOST, BO_E_OK, "confirm_open");
    for (int i = 0; i < NB; i++)
        wait_for(BD[i].t, "confirmation_opened", NULL, 1, 10000);
    REQ(BD[0].t, bo_client_confirm(BD[0].t->c, NULL, NULL, tc_on_reply, BD[0].t));
    expect_reply(BD[0].t, BO_E_OK, "confirm");
    REQ(BD[1].t, bo_client_object(BD[1].t->c, NULL, OBJECTION, tc_on_reply, BD[1].t));
    expect_reply(BD[1].t, BO_E_OK, "object");
    REQ(HOST, bo_client_answer(HOST->c, OID, 1, ANSWER, tc_on_reply, HOST));
    expect_reply(HOST, BO_E_OK, "answer");
    for (int i = 1; i < NB; i++) {
        REQ(BD[i].t, bo_client_confirm(BD[i].t->c, NULL, NULL, tc_on_reply, BD[i].t));
        expect_reply(BD[i].t, BO_E_OK, "confirm");
    }
    wait_for(OBS, "bidder_confirmed", NULL, NB, 10000);
    REQ(HOST, bo_client_close(HOST->c, OID, tc_on_reply, HOST));
    expect_reply(HOST, BO_E_OK, "close");
    wait_for(OBS, "phase_changed", "\"to\":\"closed\"", 1, 10000);
    wait_for(OBS, "head_signed", NULL, 1, 10000);
    const tc_event *closed = tc_last(OBS, "opening_closed");
    assert_non_null(closed);
    json_t *j = json_loads(closed->body_json, 0, NULL);
    assert_non_null(j);
    snprintf(FINAL_HASH, sizeof(FINAL_HASH), "%s",
             json_string_value(json_object_get(j, "record_hash")));
    assert_int_equal(strlen(FINAL_HASH), 64);
    json_decref(j);
}

/* ---------------------------------------------------------------- exports ---- */

static void cli_conn(char ca[600], char cert[600], char key[600])
{
    bo_h_path(ca, W.pki, "server/ca.pem");
    bo_h_path(cert, W.pki, "staff/host-cert.pem");
    bo_h_path(key, W.pki, "staff/host-key.pem");
}

static void expect_file(const char *suffix, char out[800])
{
    snprintf(out, 800, "%s/%s%s", OUT, OID, suffix);
    struct stat st;
    if (stat(out, &st) || st.st_size == 0)
        fail_msg("%s was not written", out);
}

/* 2. Exports through the server, by the request and by `bidopen host export`. */
static void exports(void **state)
{
    (void)state;
    /* the full transcript is not the public's; the record is, now */
    assert_int_equal(export_req(OBS, "transcript"), BO_E_FORBIDDEN);
    assert_int_equal(export_req(OBS, "html"), BO_E_OK);
    json_t *r = json_loads(OBS->reply_json, 0, NULL);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "mime")), "text/html; charset=utf-8");
    assert_int_equal(json_integer_value(json_object_get(r, "offset")), 0);
    assert_true(json_integer_value(json_object_get(r, "total")) > 1000);
    json_decref(r);
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_EXPORT;
    m.u.export_req.oid = OID;
    m.u.export_req.format = "record";
    m.u.export_req.offset = 1u << 30;
    m.u.export_req.has_offset = true;
    REQ(HOST, bo_client_request(HOST->c, &m, tc_on_reply, HOST));
    expect_reply(HOST, BO_E_BAD_FIELD, "an offset past the end");

    /* every format into a folder, as the host */
    char ca[600], cert[600], key[600], log[800];
    cli_conn(ca, cert, key);
    snprintf(OUT, sizeof(OUT), "%s/export", W.dir);
    snprintf(log, sizeof(log), "%s/export.out", W.dir);
    const char *argv[] = {cli_bin(), "host", "export", "--oid", OID, "--all", OUT, "--server",
                          W.srv.url, "--ca", ca, "--cert", cert, "--key", key, NULL};
    int rc = run_cli(argv, log, 60000);
    char *text = slurp(log, NULL);
    if (rc != 0)
        fail_msg("host export --all: exit %d:\n%s", rc, text);
    free(text);
    char path[800];
    static const char *const suffixes[] = {".json", ".ocds.json", ".html", ".transcript",
                                           ".public.transcript"};
    for (size_t i = 0; i < 5; i++)
        expect_file(suffixes[i], path);

    /* the record's JSON carries the hash opening_closed carries */
    expect_file(".json", path);
    json_error_t je;
    json_t *rec = json_load_file(path, 0, &je);
    if (!rec)
        fail_msg("%s: %s", path, je.text);
    assert_string_equal(json_string_value(json_object_get(rec, "record_sha256")), FINAL_HASH);
    assert_string_equal(json_string_value(json_object_get(rec, "phase")), "closed");
    assert_int_equal(json_array_size(json_object_get(rec, "bids")), NB);
    json_decref(rec);
    expect_file(".ocds.json", path);
    json_t *ocds = json_load_file(path, 0, &je);
    assert_non_null(ocds);
    char why[1024];
    if (!bo_ocds_check(ocds, why, sizeof(why)))
        fail_msg("%s breaks the OCDS schema: %s", path, why);
    json_t *rel = json_array_get(json_object_get(ocds, "releases"), 0);
    assert_string_equal(json_string_value(json_object_get(rel, "ocid")), "ocds-bidopen-" OID);
    json_t *details = json_object_get(json_object_get(rel, "bids"), "details");
    assert_int_equal(json_array_size(details), NB);
    json_decref(ocds);
    expect_file(".html", path);
    char *html = slurp(path, NULL);
    assert_non_null(strstr(html, "开标记录"));
    assert_non_null(strstr(html, "某市政道路改造工程施工")); /* bo_world_create's title */
    for (int i = 0; i < NB; i++) {
        assert_non_null(strstr(html, BD[i].uscc));
        assert_non_null(strstr(html, PRICES[i]));
    }
    assert_non_null(strstr(html, ANSWER));
    assert_non_null(strstr(html, FINAL_HASH));
    free(html);

    /* one format, as the public */
    char one[800];
    snprintf(one, sizeof(one), "%s/public-record.json", W.dir);
    const char *pargv[] = {cli_bin(), "host", "export", "--oid", OID, "--format", "record",
                           "--out", one, "--role", "observer", "--server", W.srv.url, "--ca",
                           ca, NULL};
    rc = run_cli(pargv, log, 60000);
    text = slurp(log, NULL);
    if (rc != 0)
        fail_msg("host export --role observer: exit %d:\n%s", rc, text);
    free(text);
    size_t a_len, b_len;
    char *a = slurp(one, &a_len);
    expect_file(".json", path);
    char *b = slurp(path, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len); /* the same bytes for everyone */
    free(a);
    free(b);
    /* the full transcript is refused to the public: exit 2 */
    snprintf(one, sizeof(one), "%s/public.transcript", W.dir);
    const char *fargv[] = {cli_bin(), "host", "export", "--oid", OID, "--format", "transcript",
                           "--out", one, "--role", "observer", "--server", W.srv.url, "--ca",
                           ca, NULL};
    rc = run_cli(fargv, log, 60000);
    text = slurp(log, NULL);
    if (rc != 2 || !strstr(text, "E_FORBIDDEN"))
        fail_msg("a full transcript for the public: exit %d:\n%s", rc, text);
    free(text);
}

/* ----------------------------------------------------------------- verify ---- */

static int verify_file(const char *file, bool json, char **out)
{
    char trust[600], host[600], log[800];
    bo_h_path(trust, W.pki, "trust");
    bo_h_path(host, W.pki, "staff/host-cert.pem");
    snprintf(log, sizeof(log), "%s/verify.out", W.dir);
    const char *argv[] = {cli_bin(), "verify", file, "--trust", trust, "--host-cert", host,
                          json ? "--json" : NULL, NULL};
    int rc = run_cli(argv, log, 60000);
    *out = slurp(log, NULL);
    if (getenv("BO_RECORD_SHOW")) /* to read what verify says */
        print_message("bidopen verify %s%s: exit %d\n%s", file, json ? " --json" : "", rc, *out);
    return rc;
}

/* The seq of b's bid_form in a transcript file. */
static uint64_t form_seq(const char *path, const bo_sbid *b)
{
    size_t n;
    char *bytes = slurp(path, &n);
    bo_transcript *t;
    assert_int_equal(bo_transcript_parse((const uint8_t *)bytes, n, &t, NULL, 0), BO_E_OK);
    uint64_t seq = 0;
    for (size_t i = 0; i < t->n_events && !seq; i++) {
        const bo_event *e = &t->events[i].ev;
        if (e->kind == BO_EV_BID_FORM && memmem(e->body, e->body_len, b->uscc, 18))
            seq = e->seq;
    }
    bo_transcript_free(t);
    free(bytes);
    assert_true(seq > 0);
    return seq;
}

/* 3. `bidopen verify`: the exports pass; a changed price fails, named. */
static void verify(void **state)
{
    (void)state;
    char full[800], pub[800], *text;
    expect_file(".transcript", full);
    expect_file(".public.transcript", pub);
    int rc = verify_file(full, false, &text);
    if (rc != 0 || !strstr(text, "verified full transcript") || strstr(text, "ERROR"))
        fail_msg("verify (full): exit %d:\n%s", rc, text);
    /* everything was checked: the replay, the record, every signature */
    assert_non_null(strstr(text, "replays all"));
    assert_non_null(strstr(text, FINAL_HASH));
    assert_null(strstr(text, "UNCHECKED"));
    free(text);
    rc = verify_file(pub, false, &text);
    if (rc != 0 || !strstr(text, "verified public transcript"))
        fail_msg("verify (public): exit %d:\n%s", rc, text);
    free(text);

    /* b2's price in its opening form, changed in a copy of the file */
    size_t n;
    char *bytes = slurp(full, &n);
    char *at = memmem(bytes, n, PRICES[1], strlen(PRICES[1]));
    assert_non_null(at);
    at[strlen(PRICES[1]) - 1] = '9'; /* 1000000.10 -> 1000000.19 */
    char bad[800];
    snprintf(bad, sizeof(bad), "%s/tampered.transcript", W.dir);
    assert_true(bo_h_write_file(bad, bytes, n));
    free(bytes);
    uint64_t seq = form_seq(bad, &BD[1]);
    char want[64];
    snprintf(want, sizeof(want), "event %llu (bid_form): its content does not match its hash",
             (unsigned long long)seq);
    rc = verify_file(bad, false, &text);
    if (rc != 2 || !strstr(text, want) || !strstr(text, "FAILED") ||
        !strstr(text, "\"1000000.19\""))
        fail_msg("verify (tampered): exit %d, want 2 and \"%s\":\n%s", rc, want, text);
    free(text);
    /* --json: one object per line, the error with its seq and kind */
    rc = verify_file(bad, true, &text);
    assert_int_equal(rc, 2);
    bool found = false, summary = false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        if (!o)
            fail_msg("not a JSON line: %s", line);
        const char *level = json_string_value(json_object_get(o, "level"));
        if (level && !strcmp(level, "error") &&
            (uint64_t)json_integer_value(json_object_get(o, "seq")) == seq &&
            !strcmp(json_string_value(json_object_get(o, "kind")), "bid_form"))
            found = true;
        const char *type = json_string_value(json_object_get(o, "type"));
        if (type && !strcmp(type, "verify"))
            summary = json_integer_value(json_object_get(o, "errors")) >= 1;
        json_decref(o);
    }
    free(text);
    assert_true(found);
    assert_true(summary);
}

/* ---------------------------------------------------------------- forgeries ---- */

/* The events of a transcript file, as a list, with its oid and server. */
typedef struct parsed {
    bo_transcript *t;
    bo_event_list l;
} parsed;

static void parse_file(const char *path, parsed *p)
{
    size_t n;
    char *bytes = slurp(path, &n);
    assert_int_equal(bo_transcript_parse((const uint8_t *)bytes, n, &p->t, NULL, 0), BO_E_OK);
    free(bytes);
    bo_event_list_init(&p->l);
    for (size_t i = 0; i < p->t->n_events; i++) {
        bo_event e;
        assert_int_equal(bo_event_copy(&e, &p->t->events[i].ev), BO_E_OK);
        assert_int_equal(bo_event_list_push(&p->l, &e), BO_E_OK);
    }
}

static void parsed_free(parsed *p)
{
    bo_event_list_cleanup(&p->l);
    bo_transcript_free(p->t);
}

/* The seq of the first event of this kind whose body holds text (NULL: any). */
static uint64_t seq_of(const parsed *p, bo_event_kind kind, const char *text)
{
    for (size_t i = 0; i < p->l.n; i++) {
        const bo_event *e = &p->l.v[i];
        if (e->kind == kind && (!text || memmem(e->body, e->body_len, text, strlen(text))))
            return e->seq;
    }
    fail_msg("no %s event%s%s", bo_event_kind_name(kind), text ? " with " : "", text ? text : "");
    return 0;
}

/* Writes p's list as a full transcript to DIR/name; `bidopen verify` must fail it (exit 2)
 * with every one of the sentences in says (NULL-terminated). */
static void expect_refused(const parsed *p, const char *name, const char *const *says)
{
    bo_buf out;
    bo_buf_init(&out, BO_TRANSCRIPT_MAX_BYTES);
    assert_int_equal(bo_transcript_build_list(p->t->oid, BO_TRANSCRIPT_FULL, &p->t->server,
                                              &p->l, &out),
                     BO_E_OK);
    char path[800];
    snprintf(path, sizeof(path), "%s/%s.transcript", W.dir, name);
    assert_true(bo_h_write_file(path, out.data, out.len));
    bo_buf_cleanup(&out);
    char *text;
    int rc = verify_file(path, false, &text);
    bool ok = rc == 2 && strstr(text, "FAILED");
    for (size_t i = 0; ok && says[i]; i++)
        ok = strstr(text, says[i]) != NULL;
    if (!ok)
        fail_msg("verify (%s): exit %d, want 2 and every one of \"%s\"...:\n%s", name, rc,
                 says[0], text);
    free(text);
}

/* The bytes of a member of an event's body (NULL when absent). */
static const msgpack_object *member(const msgpack_object *o, const char *key)
{
    for (uint32_t i = 0; o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
            !memcmp(kv->key.via.str.ptr, key, strlen(key)))
            return &kv->val;
    }
    return NULL;
}

/* 4. Forgeries of the real transcript, each refused with what is wrong. */
static void forgeries(void **state)
{
    (void)state;
    char full[800], pub[800], want[200];
    expect_file(".transcript", full);
    expect_file(".public.transcript", pub);
    parsed p;

    /* an event removed: b1's confirmation */
    parse_file(full, &p);
    uint64_t conf0 = seq_of(&p, BO_EV_BIDDER_CONFIRMED, BD[0].uscc);
    bo_tamper_drop(&p.l, conf0);
    snprintf(want, sizeof(want), "event %llu is missing", (unsigned long long)conf0);
    expect_refused(&p, "removed", (const char *const[]){want, NULL});
    parsed_free(&p);

    /* two events swapped: the objection and its answer */
    parse_file(full, &p);
    uint64_t obj = seq_of(&p, BO_EV_OBJECTION, NULL);
    uint64_t ans = seq_of(&p, BO_EV_OBJECTION_ANSWERED, NULL);
    bo_tamper_swap(&p.l, obj, ans);
    expect_refused(&p, "reordered", (const char *const[]){"the events are out of order", NULL});
    parsed_free(&p);

    /* b5's last confirmation signed with b1's key, and the chain rebuilt from there (what
     * someone without the server's key can do: the signed heads after it fail too) */
    parse_file(full, &p);
    uint64_t conf2 = 0;
    for (size_t i = 0; i < p.l.n; i++)
        if (p.l.v[i].kind == BO_EV_BIDDER_CONFIRMED &&
            memmem(p.l.v[i].body, p.l.v[i].body_len, BD[2].uscc, 18))
            conf2 = p.l.v[i].seq;
    assert_true(conf2 > 0);
    bo_event *e = bo_tamper_at(&p.l, conf2);
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(e->body, e->body_len, &z, &o), BO_E_OK);
    const msgpack_object *rh = member(&o, "record_hash");
    assert_true(rh && rh->type == MSGPACK_OBJECT_BIN && rh->via.bin.size == 32);
    bo_buf pl, sig;
    bo_buf_init(&pl, 4096);
    bo_buf_init(&sig, 4096);
    assert_int_equal(bo_sigpayload_confirm(&pl, p.t->oid, BD[2].uscc,
                                           (const uint8_t *)rh->via.bin.ptr),
                     BO_E_OK);
    msgpack_zone_free(z);
    bo_key *k0 = bo_sbid_load_key(BD[0].sign_key);
    assert_int_equal(bo_key_sign(k0, BO_CTX_CONFIRM, pl.data, pl.len, &sig), BO_E_OK);
    bo_key_free(k0);
    bo_tamper_set_bin(e, "sig", sig.data, sig.len);
    bo_buf_cleanup(&pl);
    bo_buf_cleanup(&sig);
    for (size_t i = 0; i < p.l.n; i++)
        if (p.l.v[i].seq >= conf2) {
            memcpy(p.l.v[i].prev_hash, p.l.v[i - 1].hash, 32);
            bo_event_compute_hash(p.t->oid, &p.l.v[i], p.l.v[i].hash);
        }
    snprintf(want, sizeof(want), "the confirmation of %s", BD[2].uscc);
    expect_refused(&p, "forged-confirmation",
                   (const char *const[]){want, "forged or altered", NULL});
    parsed_free(&p);

    /* the public transcript: the hash of a withheld body (b1's registration) changed */
    parse_file(pub, &p);
    const bo_transcript_event *w = NULL;
    for (size_t i = 0; i < p.t->n_events && !w; i++)
        if (p.t->events[i].withheld && p.t->events[i].ev.kind == BO_EV_BIDDER_REGISTERED)
            w = &p.t->events[i];
    assert_non_null(w);
    uint64_t wseq = w->ev.seq;
    size_t n;
    char *bytes = slurp(pub, &n);
    char *at = memmem(bytes, n, w->body_hash, 32);
    assert_non_null(at);
    assert_null(memmem(at + 1, n - (size_t)(at + 1 - bytes), w->body_hash, 32)); /* once */
    at[31] ^= 0x01;
    parsed_free(&p);
    char bad[800];
    snprintf(bad, sizeof(bad), "%s/redacted-hash.public.transcript", W.dir);
    assert_true(bo_h_write_file(bad, bytes, n));
    free(bytes);
    char *text;
    int rc = verify_file(bad, false, &text);
    snprintf(want, sizeof(want), "event %llu (bidder_registered): its content does not match",
             (unsigned long long)wseq);
    if (rc != 2 || !strstr(text, want))
        fail_msg("verify (redacted hash): exit %d, want 2 and \"%s\":\n%s", rc, want, text);
    free(text);
}

/* 5. The server stops cleanly. */
static void clean_stop(void **state)
{
    (void)state;
    bo_sbid_release(&W, BD, NB);
    tc_free(HOST);
    tc_free(OBS);
    HOST = OBS = NULL;
    bo_world_run(&W, 200);
    assert_int_equal(bo_world_stop(&W), 0);
}

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "record", NULL);
    snprintf(STORE, sizeof(STORE), "%s/bids-store", W.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_sbid_release(&W, BD, NB);
    tc_free(HOST);
    tc_free(OBS);
    bo_world_run(&W, 100);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opening),
        cmocka_unit_test(exports),
        cmocka_unit_test(verify),
        cmocka_unit_test(forgeries),
        cmocka_unit_test(clean_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
