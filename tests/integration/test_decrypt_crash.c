/* kill -9 of the server during the decryption (docs/protocol.md §10, "Opening"): after a
 * restart on the same data directory and port, decrypted bids stay decrypted and the rest
 * still decrypt inside the window.
 *
 * Four bidders seal and submit (RSA-OAEP and EC P-256 recipients; b2-p256's bid carries a
 * 64 MiB document, generated on the fly, so that the server takes a moment to open it);
 * x1-rsa then goes offline. The host starts the decryption (a 600 s window):
 *
 *   1. b1-rsa's responder answers and its bid opens (bid_decrypted);
 *   2. b2-p256's responder answers and, while the server is writing that bid's plaintext
 *      (its <vault>/<oid>/plain/<hash>.pkg.partial is growing), the server is killed with
 *      SIGKILL; the request keys die with it (they live only in the server's memory);
 *   3. the server is restarted on the same data directory and port (its managed Redis is
 *      adopted); every client still running (host, supervisor, an observer, b1, b2, b5)
 *      reconnects and resumes by itself;
 *   4. b2-p256's responder answers its pending request again, b5-mixed's (attached now, on
 *      its running client) answers the request it got before the kill, and x1-rsa comes
 *      back with a fresh client: the server no longer holds those requests' keys, so it
 *      refuses each answer with E_NOT_FOUND "expired on this server; a new one follows"
 *      and issues a new decrypt_request, which the responder answers; every bid opens.
 *
 * Then: each bidder's bid_decrypted is in the log exactly once (b1-rsa's was not repeated,
 * b2-p256's interrupted one was not counted before it really opened); every bid opened
 * before ends_at and the opening moved to announcing once; the server logged each "opened"
 * once; b1-rsa's opened package is still in the vault and no partial plaintext is left;
 * and every client's event streams are gap-free and duplicate-free across the restart
 * (supervisor, host, observer, each bidder), the public one the same for everyone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bo/clock.h"
#include "bo/hex.h"
#include "bo/identity.h"
#include "bo/package.h"
#include "bo/pki.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo/submit.h"
#include "bo/uscc.h"
#include "bo_bigdoc.h"
#include "bo_itest.h"
#include "bo_sbid.h"

#define OID "T-crash"
#define DEADLINE_MS 70000
#define WINDOW_S 600
#define BIG_DOC (64ull << 20)
#define BIG_SEED 0x637261736821ull

enum { A, B, C, D, NB }; /* A opens first, B is in flight at the kill, C and D afterwards */
static const char *const NAMES[NB] = {"b1-rsa", "b2-p256", "b5-mixed", "x1-rsa"};

static bo_world W;
static bo_sbid BD[NB];
static char PLAIN[NB][1200]; /* each bid's opened package in the vault */
static char STORE[600];

/* ------------------------------------------------------------------ helpers ---- */

/* Seal bidder i's {price, a letter} (and, for big_size > 0, a generated document of that
 * size). */
static void seal(int i, uint64_t big_size, const char *out)
{
    bo_sbid *b = &BD[i];
    char price[32], fifo[800], detail[400];
    snprintf(price, sizeof(price), "%d.%02d", 3000000 + 1111 * i, 50);
    bo_package_field form[1] = {{"price", price}};
    snprintf(fifo, sizeof(fifo), "%s/%s.fifo", W.dir, b->name);
    bo_sbid_bid bid = {.oid = OID, .form = form, .n_form = 1, .doc = big_size ? fifo : NULL};
    bo_seal_result res;
    bo_bd_fifo *f = big_size ? bo_bd_fifo_start(fifo, big_size, BIG_SEED, 2) : NULL;
    bo_err e = bo_sbid_seal_try(b, &bid, out, &res, detail, sizeof(detail));
    if (f)
        assert_int_equal(bo_bd_fifo_finish(f, NULL), e ? 0 : 2);
    if (e)
        fail_msg("seal %s: %s %s", b->name, bo_err_name(e), detail);
    memcpy(b->commit, res.record.commitment, 32);
    memcpy(b->env_sha, res.record.env_sha256, 32);
    char hex[65];
    bo_hex_encode(b->env_sha, 32, hex);
    snprintf(PLAIN[i], sizeof(PLAIN[i]), "%s/data/vault/%s/plain/%s.pkg", W.srv.dir, OID, hex);
    bo_seal_result_cleanup(&res);
}

/* bid_decrypted events of t naming uscc. */
static size_t decrypted_of(const tc *t, const char *uscc)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_events; i++)
        n += !strcmp(t->events[i].kind, "bid_decrypted") && strstr(t->events[i].body_json, uscc);
    return n;
}

static size_t server_opened(const char *uscc)
{
    char s[80];
    snprintf(s, sizeof(s), "bid of %s opened", uscc);
    const char *needles[] = {s, NULL};
    return bo_h_server_log_count(&W.srv, needles);
}

typedef struct wait_dec {
    tc *t;
    size_t n;
    const bo_sbid *b; /* may be NULL: also its responder heard that its bid opened */
} wait_dec;

static bool host_saw_decrypted(void *arg)
{
    wait_dec *w = arg;
    return tc_count(w->t, "bid_decrypted") >= w->n && (!w->b || w->b->opened >= 1);
}

static bool partial_growing(void *arg)
{
    (void)arg;
    char p[1300];
    snprintf(p, sizeof(p), "%s.partial", PLAIN[B]);
    struct stat st;
    return BD[B].opened || (stat(p, &st) == 0 && st.st_size > 0);
}

static size_t to_announcing(const tc *t)
{
    size_t n = 0;
    for (size_t k = 0; k < t->n_events; k++)
        n += !strcmp(t->events[k].kind, "phase_changed") &&
             strstr(t->events[k].body_json, "\"to\":\"announcing\"");
    return n;
}

/* After the restart: every client saw every bid open, the public saw the move to
 * announcing, and each responder heard that its bid opened. */
typedef struct all_done {
    tc *const *v;
    size_t n;
} all_done;

static bool everything_opened(void *arg)
{
    all_done *a = arg;
    for (size_t i = 0; i < a->n; i++)
        if (tc_count(a->v[i], "bid_decrypted") < NB)
            return false;
    for (int i = 0; i < NB; i++)
        if (!BD[i].opened)
            return false;
    return to_announcing(a->v[a->n - 1]) >= 1;
}

typedef struct rejoin {
    tc *const *v;
    size_t n;
    const unsigned *joins_before;
} rejoin;

static bool all_rejoined(void *arg)
{
    rejoin *r = arg;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i]->state != BO_CLIENT_JOINED || r->v[i]->joins <= r->joins_before[i])
            return false;
    return true;
}

static bool gone(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0;
}

/* -------------------------------------------------------------------- test ---- */

static void kill_during_decryption(void **state)
{
    (void)state;
    for (int i = 0; i < NB; i++) {
        char dir[700];
        snprintf(dir, sizeof(dir), "%s/bidders/%s", W.pki, NAMES[i]);
        bo_sbid_init_dir(&BD[i], NAMES[i], dir, STORE);
    }
    /* the bids, sealed before the opening exists (its oid is chosen in advance) */
    char env[NB][800];
    int64_t t0 = bo_clock_mono_ms();
    for (int i = 0; i < NB; i++) {
        snprintf(env[i], sizeof(env[i]), "%s/%s.cms", W.dir, BD[i].name);
        seal(i, i == B ? BIG_DOC : 0, env[i]);
    }
    printf("# sealed in %lld ms\n", (long long)(bo_clock_mono_ms() - t0));
    bo_world_run(&W, 100); /* the loop's clock, after the blocking work */

    /* the opening; everyone joins; the bidders register, sign in and submit */
    tc *h0 = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h0));
    char oid[65];
    assert_true(bo_world_create(&W, h0, OID, 0, DEADLINE_MS, "", oid));
    int64_t created = bo_clock_mono_ms();
    tc_free(h0);
    tc *host = bo_world_staff(&W, "host", "host", OID);
    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", OID);
    tc *obs = bo_world_observer(&W, "public", OID);
    for (int i = 0; i < NB; i++)
        BD[i].t = bo_sbid_tc(&W, &BD[i], NULL, 0, OID);
    tc *all[] = {host, sup, obs, BD[A].t, BD[B].t, BD[C].t, BD[D].t};
    assert_int_equal(bo_world_connect_all(&W, all, 7, 30000), 7);
    for (int i = 0; i < NB; i++)
        assert_int_equal(bo_world_register(&W, BD[i].t), BO_E_OK);
    for (int i = 0; i < NB; i++) {
        bo_err e = BO_E_TIMEOUT;
        for (int k = 0; k < 50 && (e = bo_world_signin(&W, BD[i].t)) != BO_E_OK; k++)
            bo_world_run(&W, 200); /* sign-in opens at checkin_at */
        assert_int_equal(e, BO_E_OK);
    }
    bo_sbid_submit_start(&BD[B], OID, env[B], BD[B].commit); /* the big one first */
    for (int i = 0; i < NB; i++)
        if (i != B)
            bo_sbid_submit_start(&BD[i], OID, env[i], BD[i].commit);
    bo_sbid_wait_submitted(&W, BD, NB, DEADLINE_MS - 5000, true);
    printf("# submitted %llu MiB in %lld ms after the opening was created\n",
           (unsigned long long)(BIG_DOC >> 20), (long long)(bo_clock_mono_ms() - created));
    for (int i = 0; i < NB; i++)
        unlink(env[i]);
    /* x1-rsa goes offline; it comes back after the restart */
    tc_free(BD[D].t);
    BD[D].t = NULL;

    /* the deadline; the host starts the decryption */
    assert_true(tc_wait_event(&W.loop, host, "bidders_revealed", DEADLINE_MS + 20000));
    tc_reply_reset(host);
    assert_int_equal(bo_client_decrypt_start(host->c, OID, WINDOW_S, tc_on_reply, host), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, host, 10000), BO_E_OK);
    json_t *rj = json_loads(host->reply_json, 0, NULL);
    int64_t ends_at = json_integer_value(json_object_get(rj, "ends_at"));
    json_decref(rj);
    assert_true(ends_at > 0);

    /* 1. b1-rsa's bid opens */
    bo_sbid_attach(&BD[A], NULL);
    wait_dec w1 = {host, 1, &BD[A]}; /* the host's event and the responder's news race */
    assert_int_equal(bo_client_run_until(&W.loop, host_saw_decrypted, &w1, 60000), BO_E_OK);
    assert_int_equal(decrypted_of(host, BD[A].uscc), 1);
    struct stat a_st;
    assert_int_equal(stat(PLAIN[A], &a_st), 0);

    /* 2. b2-p256 answers; the server is killed while it writes that bid's plaintext */
    bo_sbid_attach(&BD[B], NULL);
    /* polled every 10 ms (bo_h_run_until): the loop alone may sleep through the whole
     * decryption */
    assert_true(bo_h_run_until(&W.loop, partial_growing, &BD[B], 60000));
    int st = bo_h_server_stop(&W.srv, SIGKILL, 5000);
    int64_t t_kill = bo_clock_mono_ms();
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    if (server_opened(BD[B].uscc) || BD[B].opened)
        fail_msg("b2-p256's bid opened before the kill: make it bigger");
    struct stat pst;
    char bpart[1300];
    snprintf(bpart, sizeof(bpart), "%s.partial", PLAIN[B]);
    printf("# killed with %lld of %llu plaintext bytes written\n",
           stat(bpart, &pst) == 0 ? (long long)pst.st_size : -1LL,
           (unsigned long long)BIG_DOC);
    assert_int_equal(BD[B].sent, 1);
    bo_world_run(&W, 300); /* the clients notice */

    /* 3. the restart: the same port and data directory; the clients come back by themselves */
    tc *running[] = {host, sup, obs, BD[A].t, BD[B].t, BD[C].t};
    const size_t n_running = sizeof(running) / sizeof(running[0]);
    unsigned joins[6];
    for (size_t i = 0; i < n_running; i++)
        joins[i] = running[i]->joins;
    assert_int_equal(bo_h_server_restart(&W.srv, W.pki, NULL, 30000), 0);
    assert_true(bo_h_server_log_has(&W.srv, "adopted from an earlier run"));
    rejoin rr = {running, n_running, joins};
    assert_int_equal(bo_client_run_until(&W.loop, all_rejoined, &rr, 30000), BO_E_OK);
    printf("# restarted; every client back %lld ms after the kill\n",
           (long long)(bo_clock_mono_ms() - t_kill));

    /* 4. the rest: b2 answers again by itself, b5 (running client) and x1 (fresh client)
     * answer now */
    bo_sbid_attach(&BD[C], NULL);
    BD[D].t = bo_sbid_tc(&W, &BD[D], NULL, 0, OID);
    bo_sbid_attach(&BD[D], NULL);
    assert_true(bo_world_connect(&W, BD[D].t));
    wait_dec w4 = {host, 4, NULL};
    if (bo_client_run_until(&W.loop, host_saw_decrypted, &w4, 90000) != BO_E_OK) {
        bo_sbid_print(BD, NB);
        bo_h_server_dump_log(&W.srv);
        fail_msg("not every bid opened after the restart (the host saw %zu)",
                 tc_count(host, "bid_decrypted"));
    }
    tc *watchers[] = {sup, host, obs}; /* obs last: everything_opened reads its phase */
    all_done ad = {watchers, 3};
    if (bo_client_run_until(&W.loop, everything_opened, &ad, 30000) != BO_E_OK)
        fail_msg("after the host saw every bid open: supervisor %zu, observer %zu "
                 "bid_decrypted, %zu moves to announcing; responders opened %u %u %u %u",
                 tc_count(sup, "bid_decrypted"), tc_count(obs, "bid_decrypted"),
                 to_announcing(obs), BD[A].opened, BD[B].opened, BD[C].opened, BD[D].opened);
    bo_world_run(&W, 1500); /* anything that would come twice */

    /* each bid decrypted exactly once, inside the window */
    for (int i = 0; i < NB; i++) {
        bo_sbid *b = &BD[i];
        if (decrypted_of(sup, b->uscc) != 1 || decrypted_of(host, b->uscc) != 1 ||
            decrypted_of(obs, b->uscc) != 1)
            fail_msg("%s: bid_decrypted seen %zu (supervisor), %zu (host), %zu (observer) times",
                     b->name, decrypted_of(sup, b->uscc), decrypted_of(host, b->uscc),
                     decrypted_of(obs, b->uscc));
        assert_int_equal(server_opened(b->uscc), 1);
        for (size_t k = 0; k < sup->n_events; k++) {
            const tc_event *e = &sup->events[k];
            if (!strcmp(e->kind, "bid_decrypted") && strstr(e->body_json, b->uscc) &&
                e->ts >= ends_at)
                fail_msg("%s opened at %lld, after the window's end %lld", b->name,
                         (long long)e->ts, (long long)ends_at);
        }
        assert_int_equal(b->failed, 0);
        assert_int_equal(b->ignored, 0);
    }
    assert_true(gone(bpart)); /* the interrupted plaintext was written again and renamed */
    assert_int_equal(tc_count(sup, "bid_decrypted"), NB);
    /* the requests the restarted server no longer held were answered with E_NOT_FOUND and
     * replaced */
    const char *expired[] = {"expired on this server; a new one follows", NULL};
    size_t n_expired = bo_h_server_log_count(&W.srv, expired);
    printf("# requests expired by the restart and issued again: %zu; b2 %u requests, b5 %u, "
           "x1 %u\n",
           n_expired, BD[B].requests, BD[C].requests, BD[D].requests);
    assert_true(n_expired >= 3);
    assert_int_equal(BD[A].requests, 1);
    for (int i = B; i <= D; i++) {
        assert_true(BD[i].requests >= 2);
        assert_true(BD[i].refused >= 1);
        assert_non_null(strstr(BD[i].last_refusal, "E_NOT_FOUND"));
        /* as events: the first and the new one (x1's first came in its snapshot) */
        assert_true(tc_count(BD[i].t, "decrypt_request") >= (i == D ? 1u : 2u));
    }
    /* the opening moved on once, to announcing */
    assert_int_equal(to_announcing(obs), 1);
    /* b1-rsa's opened package was kept as it was */
    struct stat a_st2;
    assert_int_equal(stat(PLAIN[A], &a_st2), 0);
    assert_int_equal(a_st2.st_size, a_st.st_size);
    assert_int_equal(a_st2.st_ino, a_st.st_ino);
    assert_int_equal(a_st2.st_mtime, a_st.st_mtime);
    /* b2-p256's package opened whole */
    char detail[300];
    bo_err err;
    bo_package_reader *pr = bo_package_open(PLAIN[B], &err, detail, sizeof(detail));
    if (!pr)
        fail_msg("%s: %s", PLAIN[B], detail);
    assert_int_equal(bo_package_read_docs(pr, NULL, NULL, detail, sizeof(detail)), BO_E_OK);
    uint64_t size;
    assert_true(bo_package_doc_at(pr, 1, NULL, &size, NULL));
    assert_int_equal(size, BIG_DOC);
    bo_package_close(pr);

    /* no event lost or duplicated for any client, across the kill */
    assert_true(tc_gap_free(sup, "all", sup->first_pos_all));
    assert_true(tc_gap_free(host, "staff", host->first_pos_priv));
    assert_true(tc_same_pub(host, obs));
    for (int i = 0; i < NB; i++) {
        assert_true(tc_gap_free(BD[i].t, "b", BD[i].t->first_pos_priv));
        assert_true(tc_same_pub(host, BD[i].t));
    }
    assert_int_equal(tc_last_seq(obs, "pub"), tc_last_seq(host, "pub"));

    for (int i = 0; i < NB; i++)
        bo_sbid_detach(&BD[i]);
    bo_world_run(&W, 200);
    tc_free(host);
    tc_free(sup);
    tc_free(obs);
    bo_world_run(&W, 200);
    assert_int_equal(bo_world_stop(&W), 0);
}

/* ------------------------------------------------------------------- setup ---- */

static int setup(void **state)
{
    (void)state;
    bo_world_up_prep(&W, "crash", NULL, bo_sbid_prep_x, NULL);
    snprintf(STORE, sizeof(STORE), "%s/store", W.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_sbid_release(&W, BD, NB);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_during_decryption),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
