/* Sealed bids and remote decryption end to end (docs/protocol.md §10): the real server with
 * its own Redis, over TLS, real clients (libbidopen-client, and the bidopen CLI for one
 * bidder).
 *
 *   1. Six bidders seal and submit before the deadline: RSA-OAEP and EC P-256 in GCM, RSA
 *      PKCS#1 v1.5 in CBC, a bid made by `openssl cms -encrypt -binary -stream -aes-256-gcm`
 *      around the package `bidopen seal --package-only` wrote (submitted with `bidopen bidder
 *      submit --enc-key`, which computes the commitment), an upload cut off through a proxy
 *      that resumes where the server stopped, a replaced bid. Every receipt verifies. Before
 *      the deadline the host sees counts only, other bidders and the public nothing.
 *   2. Late: an upload begun in time but committed after the deadline, and a submission
 *      after it, are refused with E_DEADLINE_PASSED.
 *   3. Decryption: five bids open concurrently (responders attached to running clients,
 *      to fresh ones that get the request from the snapshot, and the CLI); a renewed
 *      certificate is diagnosed as such with both serials; a wrong key is refused by the
 *      client (then the right one opens the bid), and a forged response by the server
 *      (E_COMMITMENT_MISMATCH); the supervisor sees each opened bid's form.
 *
 * It also guards the server bugs it first found (fixed in cf795fb and cfe9ab0): the vault's
 * use-after-free at the first submit_commit; the missing <vault>/<oid>/plain/ directory
 * (every decrypt_response refused with E_IO); decrypt_start replying without ends_at
 * (checked at the end of decrypt); a request key freed while the room's map still held it
 * (ASan abort when the server stops: clean_stop).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bo/bidstore.h"
#include "bo/cek.h"
#include "bo/clock.h"
#include "bo/handoff.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/identity.h"
#include "bo/package.h"
#include "bo/pki.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo/secret.h"
#include "bo/sigpayload.h"
#include "bo/submit.h"
#include "bo/uscc.h"
#include "bo_itest.h"
#include "bo_sbid.h"

extern char **environ;

#define OID "T-sealed"
#define OID_LATE "T-late"
#define DEADLINE_MS 60000

enum { B1, B2, B5, X1, X2, RENEWED, NB };

typedef struct bidder {
    const char *name;
    char dir[700]; /* pki/bidders/<name> */
    char uscc[19];
    char price[32];
    tc *t;
    /* submission */
    bool done;
    bo_err err;
    char code[48], msg[400];
    bool has_receipt, verified, replaced;
    uint64_t resumed_at, progress;
    unsigned begins;
    /* decryption */
    bo_responder *resp;
    bool opened, failed, refused, sent;
    bo_stage stage;
    char fail_msg[700];
    bool renewed_diag;
} bidder;

static const char *const NAMES[NB] = {"b1-rsa", "b2-p256", "b5-mixed", "x1-rsa", "x2-p256",
                                      "renewed"};
static bidder BD[NB];
static bo_world W;
static char STORE[600];
static tc *HOST, *SUP, *OBS;
static bo_h_proxy *PROXY;
static bool DECRYPT_START_HAS_ENDS; /* protocol.md: decrypt_start replies {ends_at} */

/* Two more bidders with RSA and P-256 encryption certificates (the demo's SM2 ones cannot
 * receive sealed bids) from a CA of their own, trusted by the server: bo_sbid_prep_x. */

/* ------------------------------------------------------------------ helpers ---- */

static const char *bfile(const bidder *b, const char *what, char out[800])
{
    snprintf(out, 800, "%s/%s", b->dir, what);
    return out;
}

static tc *bidder_tc(bidder *b, const char *url, const char *enc_cert, const char *oid)
{
    char cert[800], key[800], enc[800];
    return tc_new(W.ctx, b->name, url, "bidder", bfile(b, "sign-cert.pem", cert),
                  bfile(b, "sign-key.pem", key), bfile(b, enc_cert, enc), oid);
}

static int run_cmd(const char *const *argv)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *cli_bin(void)
{
    const char *b = getenv("BO_CLI_BIN");
    if (!b)
        fail_msg("BO_CLI_BIN is not set (ctest sets it)");
    return b;
}

/* Seal a bid with the library: the form (price, duration) and one document. */
static void seal(bidder *b, const char *oid, const char *price, const char *doc_path,
                 bo_seal_cipher cipher, bo_seal_rsa pad, const char *out, uint8_t commit[32])
{
    char cert[800], key[800], enc[800], detail[400];
    bo_package_field form[2] = {{"price", price}, {"duration", "180"}};
    bo_sbid_bid bid = {.oid = oid, .form = form, .n_form = 2, .doc = doc_path, .cipher = cipher,
                       .rsa_padding = pad};
    bo_seal_result res;
    bo_err e = bo_sbid_seal_with(bfile(b, "sign-cert.pem", cert), bfile(b, "sign-key.pem", key),
                                 bfile(b, "enc-cert.pem", enc), b->uscc, &bid, out, &res, detail,
                                 sizeof(detail));
    if (e)
        fail_msg("seal %s: %s %s", b->name, bo_err_name(e), detail);
    memcpy(commit, res.record.commitment, 32);
    bo_seal_result_cleanup(&res);
}

/* ------------------------------------------------------------- submitting ---- */

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    bidder *b = ud;
    (void)total;
    b->progress = done;
}

static void on_done(void *ud, bo_err err, const char *code, const char *msg,
                    const bo_submit_result *res)
{
    bidder *b = ud;
    b->done = true;
    b->err = err;
    snprintf(b->code, sizeof(b->code), "%s", code ? code : "");
    snprintf(b->msg, sizeof(b->msg), "%s", msg ? msg : "");
    b->has_receipt = res->receipt != NULL;
    b->verified = res->receipt_verified;
    b->replaced = res->receipt && res->receipt->replaced;
    b->resumed_at = res->resumed_at;
    b->begins = res->begins;
}

static void submit_start(bidder *b, const char *oid, const char *envelope, const uint8_t commit[32])
{
    b->done = false;
    b->progress = 0;
    bo_submit_opts o;
    memset(&o, 0, sizeof(o));
    o.oid = oid;
    o.envelope = envelope;
    o.commit = commit;
    o.store_dir = STORE;
    o.progress = on_progress;
    o.done = on_done;
    o.ud = b;
    assert_int_equal(bo_client_submit_ex(b->t->c, &o, NULL), BO_E_OK);
}

static bool sub_done(void *arg)
{
    return ((bidder *)arg)->done;
}

static bool sub_third(void *arg)
{
    bidder *b = arg;
    return b->done || b->progress >= 1200000;
}

static void submit_wait_ok(bidder *b)
{
    bo_client_run_until(&W.loop, sub_done, b, 60000);
    if (!b->done || b->err)
        fail_msg("%s: submission %s: %s %s %s", b->name, b->done ? "failed" : "timed out",
                 bo_err_name(b->err), b->code, b->msg);
    assert_true(b->has_receipt);
    assert_true(b->verified);
}

static void make_doc(const char *path, size_t n, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        fputc((int)(x & 0xff), f);
    }
    fclose(f);
}

/* 1. Everyone seals and submits before the deadline; nobody learns about the others. */
static void submit_all(void **state)
{
    (void)state;
    char path[800], env[800];
    uint8_t commit[32];

    HOST = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, HOST));
    char oid[65];
    assert_true(bo_world_create(&W, HOST, OID, 2000, DEADLINE_MS,
                                "\"fields\":[{\"key\":\"price\",\"label\":\"投标报价\","
                                "\"type\":\"decimal\"},{\"key\":\"duration\",\"label\":\"工期\","
                                "\"type\":\"days\"}]",
                                oid));
    tc_free(HOST);
    HOST = bo_world_staff(&W, "host", "host", OID);
    SUP = bo_world_staff(&W, "supervisor", "supervisor", OID);
    OBS = bo_world_observer(&W, "public", OID);
    assert_true(bo_world_connect(&W, HOST));
    assert_true(bo_world_connect(&W, SUP));
    assert_true(bo_world_connect(&W, OBS));

    PROXY = bo_h_proxy_start(W.srv.port);
    char purl[128];
    snprintf(purl, sizeof(purl), "wss://127.0.0.1:%d/ws", bo_h_proxy_port(PROXY));
    for (int i = 0; i < NB; i++) {
        bidder *b = &BD[i];
        b->name = NAMES[i];
        snprintf(b->dir, sizeof(b->dir), "%s/bidders/%s", W.pki, b->name);
        char cert[800];
        bo_blob_list sc = {0};
        assert_int_equal(bo_pem_chain_load(bfile(b, "sign-cert.pem", cert), &sc), BO_E_OK);
        assert_int_equal(bo_cert_uscc(sc.list.v[0].p, sc.list.v[0].len, NULL, b->uscc), BO_E_OK);
        bo_blob_list_cleanup(&sc);
        snprintf(b->price, sizeof(b->price), "%d.%02d", 1000000 + 11111 * i, 10 + i);
        b->t = bidder_tc(b, i == X2 ? purl : W.srv.url, "enc-cert.pem", OID);
        assert_true(bo_world_connect(&W, b->t));
        assert_int_equal(bo_world_register(&W, b->t), BO_E_OK);
    }
    /* sign-in opens at checkin_at */
    assert_true(tc_wait_event(&W.loop, HOST, "phase_changed", 10000));
    for (int i = 0; i < NB; i++)
        assert_int_equal(bo_world_signin(&W, BD[i].t), BO_E_OK);

    /* b1-rsa (RSA-OAEP, GCM); then it replaces its bid with another */
    snprintf(env, sizeof(env), "%s/b1-first.cms", W.dir);
    seal(&BD[B1], OID, "999999.99", NULL, BO_SEAL_AES256_GCM, BO_SEAL_RSA_OAEP_SHA256, env, commit);
    submit_start(&BD[B1], OID, env, commit);
    submit_wait_ok(&BD[B1]);
    assert_false(BD[B1].replaced);
    snprintf(env, sizeof(env), "%s/b1.cms", W.dir);
    seal(&BD[B1], OID, BD[B1].price, NULL, BO_SEAL_AES256_GCM, BO_SEAL_RSA_OAEP_SHA256, env, commit);
    submit_start(&BD[B1], OID, env, commit);
    submit_wait_ok(&BD[B1]);
    assert_true(BD[B1].replaced);

    /* b2-p256 (ECDH, GCM) and renewed (P-256, sealed to its first certificate) */
    int others[] = {B2, RENEWED};
    for (int j = 0; j < 2; j++) {
        bidder *b = &BD[others[j]];
        snprintf(env, sizeof(env), "%s/%s.cms", W.dir, b->name);
        seal(b, OID, b->price, NULL, BO_SEAL_AES256_GCM, BO_SEAL_RSA_OAEP_SHA256, env, commit);
        submit_start(b, OID, env, commit);
        submit_wait_ok(b);
    }
    /* x1-rsa: RSA PKCS#1 v1.5 key transport, AES-256-CBC */
    snprintf(env, sizeof(env), "%s/x1.cms", W.dir);
    seal(&BD[X1], OID, BD[X1].price, NULL, BO_SEAL_AES256_CBC, BO_SEAL_RSA_PKCS1, env, commit);
    submit_start(&BD[X1], OID, env, commit);
    submit_wait_ok(&BD[X1]);

    /* x2-p256: a 4 MB bid through the proxy, cut off at about a third: it resumes */
    snprintf(path, sizeof(path), "%s/technical.bin", W.dir);
    make_doc(path, 4u << 20, 7);
    snprintf(env, sizeof(env), "%s/x2.cms", W.dir);
    seal(&BD[X2], OID, BD[X2].price, path, BO_SEAL_AES256_GCM, BO_SEAL_RSA_OAEP_SHA256, env,
         commit);
    submit_start(&BD[X2], OID, env, commit);
    bo_client_run_until(&W.loop, sub_third, &BD[X2], 60000);
    assert_false(BD[X2].done);
    uint64_t before_cut = BD[X2].progress;
    assert_true(bo_h_proxy_cut(PROXY) >= 1);
    submit_wait_ok(&BD[X2]);
    assert_true(BD[X2].begins >= 2);
    assert_true(BD[X2].resumed_at >= before_cut); /* the server kept what it acknowledged */
    assert_true(BD[X2].resumed_at > 0);
    assert_true(BD[X2].t->backoffs >= 1);

    /* b5-mixed with the command line: the package from `bidopen seal --package-only`,
     * sealed by `openssl cms`, submitted with `bidopen bidder submit --enc-key` */
    bidder *b5 = &BD[B5];
    char pkg[800], cert[800], key[800], enc[800], enckey[800], ca[800], form1[64], form2[64];
    snprintf(pkg, sizeof(pkg), "%s/b5.pkg", W.dir);
    snprintf(env, sizeof(env), "%s/b5.cms", W.dir);
    snprintf(form1, sizeof(form1), "price=%s", b5->price);
    snprintf(form2, sizeof(form2), "duration=180");
    bfile(b5, "sign-cert.pem", cert);
    bfile(b5, "sign-key.pem", key);
    bfile(b5, "enc-cert.pem", enc);
    bfile(b5, "enc-key.pem", enckey);
    bo_h_path(ca, W.pki, "server/ca.pem");
    const char *seal_argv[] = {cli_bin(), "seal", "--oid", OID, "--form", form1, "--form", form2,
                               "--doc", path, "--cert", cert, "--key", key, "--package-only",
                               "--out", pkg, "--quiet", NULL};
    assert_int_equal(run_cmd(seal_argv), 0);
    const char *ossl_argv[] = {"openssl", "cms", "-encrypt", "-binary", "-stream", "-aes-256-gcm",
                               "-outform", "DER", "-recip", enc, "-in", pkg, "-out", env, NULL};
    assert_int_equal(run_cmd(ossl_argv), 0);
    const char *sub_argv[] = {cli_bin(), "bidder", "submit", "--oid", OID, "--bid", env,
                              "--enc-key", enckey, "--store", STORE, "--server", W.srv.url,
                              "--ca", ca, "--cert", cert, "--key", key, "--enc-cert", enc,
                              "--quiet", NULL};
    assert_int_equal(run_cmd(sub_argv), 0);
    /* the CLI kept the record (with the verified receipt) in the store */
    bo_bid_record rec;
    char detail[300];
    assert_int_equal(bo_bidstore_find(STORE, OID, b5->uscc, NULL, &rec, detail, sizeof(detail)),
                     BO_E_OK);
    assert_true(rec.has_receipt);
    assert_true(rec.receipt_verified);
    bo_bid_record_cleanup(&rec);

    /* bidder receipt (CLI): fetched and verified */
    const char *rc_argv[] = {cli_bin(), "bidder", "receipt", "--oid", OID, "--store", STORE,
                             "--server", W.srv.url, "--ca", ca, "--cert", cert, "--key", key,
                             "--enc-cert", enc, "--quiet", NULL};
    assert_int_equal(run_cmd(rc_argv), 0);

    /* secrecy before the deadline: the supervisor sees every bid, the host only counts,
     * a bidder only its own, the public nothing */
    bo_world_run(&W, 500);
    assert_int_equal(tc_count(SUP, "bid_submitted"), NB + 1);
    assert_int_equal(tc_count(HOST, "bid_submitted"), 0);
    const tc_event *tl = tc_last(HOST, "tally");
    assert_non_null(tl);
    if (!strstr(tl->body_json, "\"submitted\":6"))
        fail_msg("host's last tally: %s", tl->body_json);
    assert_int_equal(tc_count(BD[B2].t, "bid_submitted"), 1);
    assert_non_null(strstr(tc_last(BD[B2].t, "bid_submitted")->body_json, BD[B2].uscc));
    for (int i = 0; i < NB; i++)
        if (i != B2 && tc_saw_text(BD[B2].t, BD[i].uscc))
            fail_msg("b2 saw %s's USCC before the deadline", BD[i].name);
    assert_int_equal(tc_count(OBS, "bid_submitted"), 0);
    assert_int_equal(tc_count(OBS, "tally"), 0);
    assert_false(tc_saw_text(OBS, "submitted"));
}

/* 2. Too late. */
static void late(void **state)
{
    (void)state;
    tc *host = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, host));
    char oid[65];
    assert_true(bo_world_create(&W, host, OID_LATE, 1000, 9000, "", oid));
    tc_free(host);
    bidder b = BD[B2];
    b.t = bidder_tc(&b, W.srv.url, "enc-cert.pem", OID_LATE);
    assert_true(bo_world_connect(&W, b.t));
    assert_int_equal(bo_world_register(&W, b.t), BO_E_OK);

    char env[800];
    uint8_t commit[32];
    snprintf(env, sizeof(env), "%s/late.cms", W.dir);
    seal(&b, OID_LATE, "1.00", NULL, BO_SEAL_AES256_GCM, BO_SEAL_RSA_OAEP_SHA256, env, commit);
    size_t len = 0;
    uint8_t *data = (uint8_t *)bo_h_read_file(env, &len);
    assert_non_null(data);
    uint8_t hash[32];
    bo_sha256(data, len, hash);

    /* begun and sent in time... */
    bo_msg m = {.type = BO_MSG_SUBMIT_BEGIN};
    m.u.submit_begin.oid = OID_LATE;
    m.u.submit_begin.size = len;
    m.u.submit_begin.hash = (bo_bytes){hash, 32};
    m.u.submit_begin.commit = (bo_bytes){commit, 32};
    tc_reply_reset(b.t);
    assert_int_equal(bo_client_request(b.t->c, &m, tc_on_reply, b.t), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, b.t, 10000), BO_E_OK);
    json_t *j = json_loads(b.t->reply_json, 0, NULL);
    assert_non_null(j);
    char upload[80];
    snprintf(upload, sizeof(upload), "%s", json_string_value(json_object_get(j, "upload")));
    json_decref(j);
    bo_msg c = {.type = BO_MSG_SUBMIT_CHUNK};
    c.u.submit_chunk.oid = OID_LATE;
    c.u.submit_chunk.upload = upload;
    c.u.submit_chunk.offset = 0;
    c.u.submit_chunk.data = (bo_bytes){data, len};
    tc_reply_reset(b.t);
    assert_int_equal(bo_client_request(b.t->c, &c, tc_on_reply, b.t), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, b.t, 10000), BO_E_OK);
    /* ...committed after the deadline */
    assert_true(tc_wait_event(&W.loop, b.t, "bidders_revealed", 20000));
    bo_msg cm = {.type = BO_MSG_SUBMIT_COMMIT};
    cm.u.submit_commit.oid = OID_LATE;
    cm.u.submit_commit.upload = upload;
    tc_reply_reset(b.t);
    assert_int_equal(bo_client_request(b.t->c, &cm, tc_on_reply, b.t), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, b.t, 10000), BO_E_DEADLINE_PASSED);
    assert_string_equal(b.t->reply_code, "E_DEADLINE_PASSED");
    /* a whole submission after the deadline */
    submit_start(&b, OID_LATE, env, commit);
    bo_client_run_until(&W.loop, sub_done, &b, 20000);
    assert_true(b.done);
    assert_int_equal(b.err, BO_E_DEADLINE_PASSED);
    assert_string_equal(b.code, "E_DEADLINE_PASSED");
    assert_false(b.has_receipt);
    free(data);
    tc_free(b.t);
}

/* ------------------------------------------------------------- decryption ---- */

static void on_status(void *ud, const bo_responder_status *st)
{
    bidder *b = ud;
    switch (st->what) {
    case BO_RESP_SENT:
        b->sent = true;
        break;
    case BO_RESP_OPENED:
        b->opened = true;
        break;
    case BO_RESP_REFUSED:
        b->refused = true;
        snprintf(b->fail_msg, sizeof(b->fail_msg), "%s %s", st->code ? st->code : "",
                 st->msg ? st->msg : "");
        break;
    case BO_RESP_FAILED:
        b->failed = true;
        b->stage = st->stage;
        b->renewed_diag = st->diag && st->diag->renewed;
        snprintf(b->fail_msg, sizeof(b->fail_msg), "%s", st->msg ? st->msg : "");
        break;
    case BO_RESP_IGNORED:
        fprintf(stderr, "[%s] ignored: %s\n", b->name, st->msg ? st->msg : "");
        break;
    default:
        break;
    }
}

static bo_key *load_key(bidder *b, const char *file)
{
    char p[800], detail[300];
    bo_err e;
    bo_key *k = bo_key_load(bfile(b, file, p), NULL, &e, detail, sizeof(detail));
    if (!k)
        fail_msg("%s: %s", p, detail);
    return k;
}

static void attach(bidder *b, bo_key *key, const char *held_cert)
{
    b->opened = b->failed = b->refused = b->sent = false;
    bo_blob_list held = {0};
    char p[800];
    if (held_cert)
        assert_int_equal(bo_pem_chain_load(bfile(b, held_cert, p), &held), BO_E_OK);
    bo_responder_opts o;
    memset(&o, 0, sizeof(o));
    o.enc_key = key;
    o.enc_cert = held_cert ? held.list.v[0].p : NULL;
    o.enc_cert_len = held_cert ? held.list.v[0].len : 0;
    o.store_dir = STORE;
    o.on_status = on_status;
    o.ud = b;
    bo_err err;
    b->resp = bo_responder_new(b->t->c, &o, &err);
    assert_non_null(b->resp);
    bo_blob_list_cleanup(&held);
}

typedef struct wait_all {
    int *v;
    size_t n;
    pid_t cli;
    int cli_status;
} wait_all;

static bool all_settled(void *arg)
{
    wait_all *w = arg;
    if (w->cli > 0) {
        int st;
        if (waitpid(w->cli, &st, WNOHANG) == w->cli) {
            w->cli = 0;
            w->cli_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
    }
    for (size_t i = 0; i < w->n; i++) {
        bidder *b = &BD[w->v[i]];
        if (!b->opened && !b->failed && !b->refused)
            return false;
    }
    return w->cli <= 0;
}

static void detach(bidder *b)
{
    bo_responder_free(b->resp);
    b->resp = NULL;
}

/* Build a decrypt_response for b's pending request by hand with a CEK that is not the
 * bid's: the handoff opens, the commitment does not hold. */
static bo_err forged_response(bidder *b)
{
    const tc_event *ev = tc_last(b->t, "decrypt_request");
    json_t *root = NULL, *req = NULL;
    if (ev) {
        root = json_loads(ev->body_json, 0, NULL);
        req = root;
    } else {
        root = json_loads(b->t->snap_json, 0, NULL);
        req = json_object_get(json_object_get(root, "me"), "req");
    }
    assert_non_null(req);
    const char *rid = json_string_value(json_object_get(req, "req"));
    const char *bid_hex = json_string_value(json_object_get(req, "bid"));
    const char *ri_hex = json_string_value(json_object_get(req, "ri"));
    const char *pub_hex = json_string_value(json_object_get(req, "server_pub"));
    assert_non_null(rid);
    uint8_t bid[32], pub[32], ri[4096];
    assert_int_equal(bo_hex_decode(bid_hex, 64, bid, 32), BO_E_OK);
    assert_int_equal(bo_hex_decode(pub_hex, 64, pub, 32), BO_E_OK);
    size_t ri_len = strlen(ri_hex) / 2;
    assert_int_equal(bo_hex_decode(ri_hex, 2 * ri_len, ri, ri_len), BO_E_OK);
    uint8_t raw[32];
    bo_random_bytes(raw, 32);
    bo_err e;
    bo_secret *cek = bo_secret_from(raw, 32, &e);
    bo_handoff_bind bind = {OID, rid, bid, ri, ri_len};
    bo_buf blob, payload, sig;
    bo_buf_init(&blob, 256);
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, BO_SIG_MAX);
    assert_int_equal(bo_handoff_client_wrap(&bind, pub, cek, &blob), BO_E_OK);
    assert_int_equal(bo_sigpayload_decrypt_response(&payload, OID, b->uscc, rid, bid, blob.data + 1,
                                                    blob.data, blob.len),
                     BO_E_OK);
    bo_key *sk = load_key(b, "sign-key.pem");
    assert_int_equal(bo_key_sign(sk, BO_CTX_DECRYPT_RESPONSE, payload.data, payload.len, &sig),
                     BO_E_OK);
    bo_msg m = {.type = BO_MSG_DECRYPT_RESPONSE};
    m.u.decrypt_response.oid = OID;
    m.u.decrypt_response.req = rid;
    m.u.decrypt_response.client_pub = (bo_bytes){blob.data + 1, 32};
    m.u.decrypt_response.wrapped = (bo_bytes){blob.data, blob.len};
    m.u.decrypt_response.sig = (bo_bytes){sig.data, sig.len};
    tc_reply_reset(b->t);
    e = bo_client_request(b->t->c, &m, tc_on_reply, b->t);
    if (!e)
        e = tc_wait_reply(&W.loop, b->t, 20000);
    bo_key_free(sk);
    bo_secret_free(cek);
    bo_buf_cleanup(&blob);
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    json_decref(root);
    return e;
}

/* 3. The opening: decrypt everything that can be, diagnose what cannot. */
static void decrypt(void **state)
{
    (void)state;
    /* the deadline */
    assert_true(tc_wait_event(&W.loop, HOST, "bidders_revealed", DEADLINE_MS + 20000));
    const tc_event *rv = tc_last(OBS, "bidders_revealed");
    assert_non_null(rv);
    assert_non_null(strstr(rv->body_json, "\"count\":6"));
    assert_non_null(strstr(rv->body_json, "\"quorum\":true"));

    /* responders on running clients before the start (b1, b2, x1; they rejoin once) */
    bo_key *keys[NB] = {0};
    int early[] = {B1, B2, X1};
    for (int j = 0; j < 3; j++) {
        bidder *b = &BD[early[j]];
        keys[early[j]] = load_key(b, "enc-key.pem");
        attach(b, keys[early[j]], NULL);
    }
    /* b5 with the command line, waiting for the request */
    bidder *b5 = &BD[B5];
    char cert[800], key[800], enc[800], enckey[800], ca[800];
    bfile(b5, "sign-cert.pem", cert);
    bfile(b5, "sign-key.pem", key);
    bfile(b5, "enc-cert.pem", enc);
    bfile(b5, "enc-key.pem", enckey);
    bo_h_path(ca, W.pki, "server/ca.pem");
    const char *dec_argv[] = {cli_bin(), "bidder", "--oid", OID, "--decrypt", "--enc-key", enckey,
                              "--store", STORE, "--server", W.srv.url, "--ca", ca, "--cert",
                              cert, "--key", key, "--enc-cert", enc, "--quiet", "--timeout",
                              "90", NULL};
    pid_t cli;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    assert_int_equal(posix_spawnp(&cli, dec_argv[0], &fa, NULL, (char *const *)dec_argv, environ),
                     0);
    posix_spawn_file_actions_destroy(&fa);
    bo_world_run(&W, 2000);

    /* the host starts the decryption */
    tc_reply_reset(HOST);
    assert_int_equal(bo_client_decrypt_start(HOST->c, OID, 300, tc_on_reply, HOST), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, HOST, 10000), BO_E_OK);
    DECRYPT_START_HAS_ENDS = HOST->reply_json && strstr(HOST->reply_json, "ends_at");

    /* fresh clients get theirs from the snapshot: x2 first with a wrong key (b2's), the
     * renewed bidder with its new certificate's key */
    int fresh[] = {X2, RENEWED};
    for (int j = 0; j < 2; j++) {
        bidder *b = &BD[fresh[j]];
        tc_free(b->t);
        b->t = bidder_tc(b, W.srv.url, fresh[j] == RENEWED ? "enc2-cert.pem" : "enc-cert.pem", OID);
    }
    keys[X2] = load_key(&BD[B2], "enc-key.pem"); /* wrong */
    attach(&BD[X2], keys[X2], "enc-cert.pem");
    keys[RENEWED] = load_key(&BD[RENEWED], "enc2-key.pem");
    attach(&BD[RENEWED], keys[RENEWED], "enc2-cert.pem");
    assert_true(bo_world_connect(&W, BD[X2].t));
    assert_true(bo_world_connect(&W, BD[RENEWED].t));

    int all[] = {B1, B2, X1, X2, RENEWED};
    wait_all w = {all, 5, cli, -1};
    bo_client_run_until(&W.loop, all_settled, &w, 90000);
    for (int j = 0; j < 3; j++) {
        bidder *b = &BD[early[j]];
        if (!b->opened)
            fail_msg("%s: not opened (failed %d, refused %d: %s)", b->name, b->failed, b->refused,
                     b->fail_msg);
    }
    assert_int_equal(w.cli_status, 0); /* the CLI's bid is open */

    /* the wrong key: diagnosed by the client as cert, nothing unwrapped */
    assert_true(BD[X2].failed);
    assert_int_equal(BD[X2].stage, BO_STAGE_CERT);
    assert_false(BD[X2].renewed_diag);
    assert_non_null(strstr(BD[X2].fail_msg, "wrong key"));
    /* the renewed certificate: cert, naming both certificates */
    assert_true(BD[RENEWED].failed);
    assert_int_equal(BD[RENEWED].stage, BO_STAGE_CERT);
    assert_true(BD[RENEWED].renewed_diag);
    assert_non_null(strstr(BD[RENEWED].fail_msg, "certificate renewed"));
    bo_cert_info old_ci, new_ci;
    bo_blob_list l1 = {0}, l2 = {0};
    char p1[800], p2[800];
    assert_int_equal(bo_pem_chain_load(bfile(&BD[RENEWED], "enc-cert.pem", p1), &l1), BO_E_OK);
    assert_int_equal(bo_pem_chain_load(bfile(&BD[RENEWED], "enc2-cert.pem", p2), &l2), BO_E_OK);
    assert_int_equal(bo_cert_describe(l1.list.v[0].p, l1.list.v[0].len, &old_ci), BO_E_OK);
    assert_int_equal(bo_cert_describe(l2.list.v[0].p, l2.list.v[0].len, &new_ci), BO_E_OK);
    assert_non_null(strstr(BD[RENEWED].fail_msg, old_ci.serial));
    assert_non_null(strstr(BD[RENEWED].fail_msg, new_ci.serial));
    uint8_t held_fpr[32];
    bo_cert_fpr(l2.list.v[0].p, l2.list.v[0].len, held_fpr);
    bo_blob_list_cleanup(&l1);
    bo_blob_list_cleanup(&l2);

    /* a forged response (a CEK that is not the bid's) is refused by the server */
    assert_int_equal(forged_response(&BD[RENEWED]), BO_E_COMMITMENT_MISMATCH);

    /* x2 again with the right key: retrying inside the window is allowed */
    detach(&BD[X2]);
    bo_key_free(keys[X2]);
    keys[X2] = load_key(&BD[X2], "enc-key.pem");
    tc_free(BD[X2].t);
    BD[X2].t = bidder_tc(&BD[X2], W.srv.url, "enc-cert.pem", OID);
    attach(&BD[X2], keys[X2], NULL);
    assert_true(bo_world_connect(&W, BD[X2].t));
    int again[] = {X2};
    wait_all w2 = {again, 1, 0, 0};
    bo_client_run_until(&W.loop, all_settled, &w2, 60000);
    if (!BD[X2].opened)
        fail_msg("x2 with the right key: %s", BD[X2].fail_msg);

    /* what the host saw: five bids open, two diagnostics, the forged response refused */
    bo_world_run(&W, 1000);
    assert_int_equal(tc_count(HOST, "bid_decrypted"), 5);
    assert_int_equal(tc_count(HOST, "decrypt_diagnostic"), 2);
    bool renewed_seen = false, wrong_seen = false;
    char fhex[65];
    bo_hex_encode(held_fpr, 32, fhex);
    for (size_t i = 0; i < HOST->n_events; i++) {
        const tc_event *e = &HOST->events[i];
        if (strcmp(e->kind, "decrypt_diagnostic") != 0)
            continue;
        assert_non_null(strstr(e->body_json, "\"stage\":\"cert\""));
        if (strstr(e->body_json, BD[RENEWED].uscc)) {
            renewed_seen = strstr(e->body_json, "renewed") && strstr(e->body_json, fhex);
        } else if (strstr(e->body_json, BD[X2].uscc)) {
            wrong_seen = strstr(e->body_json, "wrong key") != NULL;
        }
    }
    assert_true(renewed_seen);
    assert_true(wrong_seen);
    bool mismatch_seen = false;
    for (size_t i = 0; i < HOST->n_events; i++)
        if (!strcmp(HOST->events[i].kind, "decrypt_refused") &&
            strstr(HOST->events[i].body_json, "E_COMMITMENT_MISMATCH") &&
            strstr(HOST->events[i].body_json, BD[RENEWED].uscc))
            mismatch_seen = true;
    assert_true(mismatch_seen);

    /* the supervisor sees each opened bid's form (b1's replacement, not its first bid) */
    assert_int_equal(tc_count(SUP, "bid_form"), 5);
    for (int i = 0; i < NB; i++) {
        char want[80];
        snprintf(want, sizeof(want), "\"price\":\"%s\"", BD[i].price);
        bool seen = false;
        for (size_t k = 0; k < SUP->n_events; k++)
            if (!strcmp(SUP->events[k].kind, "bid_form") &&
                strstr(SUP->events[k].body_json, BD[i].uscc) &&
                strstr(SUP->events[k].body_json, want))
                seen = true;
        if (i == RENEWED ? seen : !seen)
            fail_msg("%s: bid_form with %s %s", BD[i].name, want, seen ? "seen" : "missing");
    }
    assert_false(tc_saw_text(SUP, "999999.99"));

    for (int i = 0; i < NB; i++) {
        detach(&BD[i]);
    }
    bo_world_run(&W, 300); /* the responders' last jobs */
    for (int i = 0; i < NB; i++)
        bo_key_free(keys[i]);
    /* protocol.md §10: decrypt_start's reply carries ends_at */
    if (!DECRYPT_START_HAS_ENDS)
        fail_msg("decrypt_start replied without ends_at: %s", HOST->reply_json ? HOST->reply_json
                                                                               : "(none)");
}

/* 4. Everything decrypted was kept in order: the server stops cleanly. */
static void clean_stop(void **state)
{
    (void)state;
    for (int i = 0; i < NB; i++) {
        bo_responder_free(BD[i].resp);
        BD[i].resp = NULL;
    }
    bo_world_run(&W, 100);
    for (int i = 0; i < NB; i++) {
        tc_free(BD[i].t);
        BD[i].t = NULL;
    }
    tc_free(HOST);
    tc_free(SUP);
    tc_free(OBS);
    HOST = SUP = OBS = NULL;
    bo_world_run(&W, 200);
    assert_int_equal(bo_world_stop(&W), 0);
}

static int setup(void **state)
{
    (void)state;
    bo_world_up_prep(&W, "sealed", NULL, bo_sbid_prep_x, NULL);
    snprintf(STORE, sizeof(STORE), "%s/bids-store", W.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NB; i++) {
        bo_responder_free(BD[i].resp);
        BD[i].resp = NULL;
    }
    bo_world_run(&W, 100);
    for (int i = 0; i < NB; i++)
        tc_free(BD[i].t);
    tc_free(HOST);
    tc_free(SUP);
    tc_free(OBS);
    bo_h_proxy_stop(PROXY);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(submit_all),
        cmocka_unit_test(late),
        cmocka_unit_test(decrypt),
        cmocka_unit_test(clean_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
