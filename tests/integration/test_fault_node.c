/* Fault drill: kill -9 of one of two nodes during decryption (issue "Benchmarks against the
 * anchors, and fault drills").
 *
 * Two nodes on one Redis and one vault: A (the world's server, with the managed Redis and
 * the vault <A>/data/vault) and B (--redis on A's socket, --vault A's vault, --node B).
 * Four bidders seal bids of BID_MIB MiB each (RSA-OAEP and P-256 recipients, AES-256-GCM)
 * and submit them through A. Every participant of A (host, supervisor, observer, the
 * bidders) was given the URLs [A, B]; a supervisor and an observer of B watch from B.
 *
 * After the deadline the host starts the decryption on A. Two bidders' responders answer at
 * once; as soon as A is opening a bid (its /metrics shows a decryption running) A is killed
 * with SIGKILL. The other two bidders' requests were issued by A too, and A's request keys
 * die with it. Then:
 *
 *   - every client of A reconnects to B by itself and resumes (join with recovered=true);
 *   - B answers a response to a request whose key it does not hold with E_NOT_FOUND
 *     ("expired on this server; a new one follows", protocol.md §10) and issues a new
 *     decrypt_request; the responders answer it and B opens every bid from the shared vault;
 *   - every client's event list, compared with B's supervisor's (which never moved), is
 *     complete and in log order, with no event lost and none twice: every event it got is
 *     in the supervisor's log, in the same order, and each of its streams has no gap; its pub
 *     stream is B's observer's;
 *   - each bid is decrypted once (bid_decrypted once per bidder), the opening moves to
 *     announcing once; B stops cleanly.
 */
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

#include "bo/bidstore.h"
#include "bo/clock.h"
#include "bo/package.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo/submit.h"
#include "bo_faults.h"
#include "bo_itest.h"
#include "bo_sbid.h"

#define OID "T-node"
#define BID_MIB 24
/* the deadline: after registering, signing in and uploading the 4 bids (about 18 s with ASan
 * on an idle machine; the rest is room for a loaded one) */
#define DEADLINE_MS 60000

enum { NBD = 4 };
static const char *const NAMES[NBD] = {"b1-rsa", "b2-p256", "b5-mixed", "renewed"};
#define N_EARLY 2 /* responders attached before the kill: b1-rsa, b2-p256 */

static bo_world W;
static bo_h_server NODE_B;
static bo_sbid BD[NBD];
static char STORE[600], CA[600];
static tc *HOST, *SUP_A, *OBS_A, *SUP_B, *OBS_B;

/* ---------------------------------------------------------------- helpers ---- */

static tc *staff_tc(const char *who, const char *role, const char *const *urls, size_t n)
{
    char cert[600], key[600], rel[200];
    snprintf(rel, sizeof(rel), "staff/%s-cert.pem", who);
    bo_h_path(cert, W.pki, rel);
    snprintf(rel, sizeof(rel), "staff/%s-key.pem", who);
    bo_h_path(key, W.pki, rel);
    return tc_new_urls(W.ctx, who, urls, n, role, cert, key, NULL, OID);
}

static void make_doc(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t done = 0; done < n; done += sizeof(buf)) {
        for (size_t i = 0; i < sizeof(buf); i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(buf + i, &x, 8);
        }
        size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
        assert_int_equal(fwrite(buf, 1, k, f), k);
    }
    fclose(f);
}

/* Seal the bid package (the form and one big document) to b's encryption certificate. */
static void seal(bo_sbid *b, const char *price, const char *doc, const char *out)
{
    bo_package_field form[2] = {{"price", price}, {"duration", "365"}};
    bo_sbid_bid bid = {.oid = OID, .form = form, .n_form = 2, .doc = doc, .no_letter = true,
                       .cipher = BO_SEAL_AES256_GCM, .rsa_padding = BO_SEAL_RSA_OAEP_SHA256};
    bo_sbid_seal(b, &bid, out);
}

static bool any_sent(void *arg)
{
    (void)arg;
    for (int i = 0; i < N_EARLY; i++)
        if (BD[i].sent)
            return true;
    return false;
}

typedef struct rejoin {
    tc *const *v;
    size_t n;
    const unsigned *joins; /* at the kill */
} rejoin;

static bool all_rejoined(void *arg)
{
    rejoin *r = arg;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i]->state != BO_CLIENT_JOINED || r->v[i]->joins <= r->joins[i])
            return false;
    return true;
}

static bool all_opened(void *arg)
{
    (void)arg;
    for (int i = 0; i < NBD; i++)
        if (!BD[i].opened)
            return false;
    return tc_count(SUP_B, "bid_decrypted") >= NBD;
}

/* Events of kind in t's list whose body contains s. */
static size_t count_with(const tc *t, const char *kind, const char *s)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_events; i++)
        n += !strcmp(t->events[i].kind, kind) && strstr(t->events[i].body_json, s);
    return n;
}

/* Every event t got is in ref's `all` list, in the same order (so none twice, none out of
 * order), with the same kind; each of t's streams is gap-free from its first join. Prints
 * the first offence. */
static bool in_log_order(const tc *ref, const tc *t)
{
    size_t j = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        const tc_event *e = &t->events[i];
        while (j < ref->n_events && memcmp(ref->events[j].hash, e->hash, 32))
            j++;
        if (j == ref->n_events) {
            fprintf(stderr, "%s: its event #%zu (%s %s#%llu) is not in %s's log after the "
                            "previous one\n",
                    t->name, i, e->kind, e->st, (unsigned long long)e->seq, ref->name);
            return false;
        }
        if (strcmp(ref->events[j].kind, e->kind)) {
            fprintf(stderr, "%s: event #%zu is %s, %s has %s\n", t->name, i, e->kind,
                    ref->name, ref->events[j].kind);
            return false;
        }
        j++;
    }
    if (t->n_events && !strcmp(t->events[0].st, "all"))
        return tc_gap_free(t, "all", t->first_pos_all);
    return tc_gap_free(t, "pub", t->first_pos_pub) &&
           tc_gap_free(t, "b", t->first_pos_priv) && tc_gap_free(t, "staff", t->first_pos_priv);
}

/* /metrics of A: a bid decryption running now. */
static bool a_decrypting(void)
{
    static char body[65536];
    if (bo_h_http_get(W.srv.port, CA, "/metrics", body, sizeof(body), 3000) != 200)
        return false;
    return bo_h_prom_value(body, "bidopen_worker_jobs{kind=\"decrypt_active\"}") >= 1;
}

/* ------------------------------------------------------------------- drill ---- */

static void kill_node_mid_decryption(void **state)
{
    (void)state;
    const char *A = W.srv.url, *B = NODE_B.url;
    const char *ab[2] = {A, B};
    char doc[700], env[NBD][800];

    /* the bids, sealed before the opening exists (the package names its oid) */
    int64_t t0 = bo_clock_mono_ms();
    snprintf(doc, sizeof(doc), "%s/technical.bin", W.dir);
    make_doc(doc, (size_t)BID_MIB << 20);
    for (int i = 0; i < NBD; i++) {
        bo_sbid *b = &BD[i];
        char price[32];
        snprintf(price, sizeof(price), "%d.%02d", 2000000 + 12345 * i, 50 + i);
        snprintf(env[i], sizeof(env[i]), "%s/%s.cms", W.dir, b->name);
        seal(b, price, doc, env[i]);
    }
    int64_t t_sealed = bo_clock_mono_ms();

    tc *h = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h));
    assert_true(bo_world_create(&W, h, OID, 0, DEADLINE_MS,
                                "\"fields\":[{\"key\":\"price\",\"label\":\"投标报价\","
                                "\"type\":\"decimal\"},{\"key\":\"duration\",\"label\":\"工期\","
                                "\"type\":\"days\"}]",
                                (char[65]){0}));
    tc_free(h);
    int64_t t_created = bo_clock_mono_ms();

    /* B's watchers first (they never move), then A's participants, each with [A, B] */
    const char *b_only[1] = {B};
    SUP_B = staff_tc("supervisor", "supervisor", b_only, 1);
    OBS_B = bo_world_observer_at(&W, "obs-b", B, OID);
    SUP_A = staff_tc("supervisor", "supervisor", ab, 2);
    HOST = staff_tc("host", "host", ab, 2);
    OBS_A = tc_new_urls(W.ctx, "obs-a", ab, 2, "observer", NULL, NULL, NULL, OID);
    tc *first[] = {SUP_B, OBS_B};
    assert_int_equal(bo_world_connect_all(&W, first, 2, 20000), 2);
    tc *a_side[3 + NBD] = {SUP_A, HOST, OBS_A};
    for (int i = 0; i < NBD; i++) {
        BD[i].t = bo_sbid_tc(&W, &BD[i], ab, 2, OID);
        a_side[3 + i] = BD[i].t;
    }
    const size_t n_a = 3 + NBD;
    assert_int_equal(bo_world_connect_all(&W, a_side, n_a, 30000), n_a);

    /* register, sign in, submit the four bids through A at once */
    for (int i = 0; i < NBD; i++) {
        assert_int_equal(bo_world_register(&W, BD[i].t), BO_E_OK);
        assert_int_equal(bo_world_signin(&W, BD[i].t), BO_E_OK);
    }
    for (int i = 0; i < NBD; i++)
        bo_sbid_submit_start(&BD[i], OID, env[i], BD[i].commit);
    int64_t left = DEADLINE_MS - (bo_clock_mono_ms() - t_created) - 1000;
    bo_sbid_wait_submitted(&W, BD, NBD, left, false);
    int64_t t_up = bo_clock_mono_ms();
    printf("# sealed 4 x %d MiB in %lld ms; registered, signed in and uploaded through A in "
           "%lld ms\n",
           BID_MIB, (long long)(t_sealed - t0), (long long)(t_up - t_created));

    /* the deadline */
    assert_true(tc_wait_event(&W.loop, OBS_A, "bidders_revealed", DEADLINE_MS + 20000));
    assert_true(tc_wait_event(&W.loop, OBS_B, "bidders_revealed", 10000));

    /* two responders now (their clients rejoin A once), then the decryption starts on A */
    for (int i = 0; i < N_EARLY; i++)
        bo_sbid_attach(&BD[i], NULL);
    for (int round = 0; round < 100; round++) {
        bool ok = true;
        for (int i = 0; i < N_EARLY; i++)
            ok = ok && BD[i].t->state == BO_CLIENT_JOINED && BD[i].t->joins >= 2;
        if (ok)
            break;
        bo_world_run(&W, 100);
    }
    tc_reply_reset(HOST);
    assert_int_equal(bo_client_decrypt_start(HOST->c, OID, 600, tc_on_reply, HOST), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, HOST, 10000), BO_E_OK);
    int64_t t_start = bo_clock_mono_ms();

    /* kill A while it opens a bid */
    assert_int_equal(bo_client_run_until(&W.loop, any_sent, NULL, 30000), BO_E_OK);
    bool running = false;
    for (int round = 0; round < 100 && !running && tc_count(SUP_B, "bid_decrypted") < N_EARLY;
         round++) {
        running = a_decrypting();
        if (!running)
            bo_world_run(&W, 20);
    }
    int st = bo_h_server_stop(&W.srv, SIGKILL, 5000);
    int64_t t_kill = bo_clock_mono_ms();
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    size_t open_at_kill = tc_count(SUP_B, "bid_decrypted");
    printf("# A killed %lld ms after decrypt_start, %s; %zu of %d bids open then\n",
           (long long)(t_kill - t_start),
           running ? "with a decryption running on it" : "(no decryption seen running)",
           open_at_kill, NBD);
    assert_true(open_at_kill < NBD); /* mid-decryption: the late responders' bids at least */

    /* A's clients move to B and resume; the other two bidders answer from there */
    unsigned joins_at_kill[3 + NBD];
    for (size_t i = 0; i < n_a; i++)
        joins_at_kill[i] = a_side[i]->joins;
    unsigned recovered_at_kill[3 + NBD];
    for (size_t i = 0; i < n_a; i++)
        recovered_at_kill[i] = a_side[i]->recovered_joins;
    for (int i = N_EARLY; i < NBD; i++)
        bo_sbid_attach(&BD[i], NULL);
    rejoin rj = {a_side, n_a, joins_at_kill};
    assert_int_equal(bo_client_run_until(&W.loop, all_rejoined, &rj, 30000), BO_E_OK);
    int64_t t_moved = bo_clock_mono_ms();
    if (bo_client_run_until(&W.loop, all_opened, NULL, 90000) != BO_E_OK) {
        bo_sbid_print(BD, NBD);
        bo_h_server_dump_log(&NODE_B);
        fail_msg("not every bid opened on B");
    }
    assert_true(tc_wait_event(&W.loop, SUP_B, "phase_changed", 10000));
    /* everyone up to date with B's supervisor */
    for (int round = 0; round < 100; round++) {
        bool ok = tc_last_seq(SUP_A, "all") == tc_last_seq(SUP_B, "all");
        for (size_t i = 1; i < n_a; i++)
            ok = ok && tc_last_seq(a_side[i], "pub") == tc_last_seq(OBS_B, "pub");
        if (ok)
            break;
        bo_world_run(&W, 100);
    }
    bo_world_run(&W, 500);
    int64_t t_open = bo_clock_mono_ms();
    printf("# all %zu clients of A on B %lld ms after the kill; every bid open %lld ms after "
           "it\n",
           n_a, (long long)(t_moved - t_kill), (long long)(t_open - t_kill));

    /* every client of A moved and resumed */
    for (size_t i = 0; i < n_a; i++) {
        tc *t = a_side[i];
        if (t->state != BO_CLIENT_JOINED || t->recovered_joins <= recovered_at_kill[i])
            fail_msg("%s: state %s, %u recovered joins (%u at the kill)", t->name,
                     bo_client_state_name(t->state), t->recovered_joins, recovered_at_kill[i]);
    }
    /* the responders: each bid opened; a response to a request of A was refused by B with
     * E_NOT_FOUND and a new request followed */
    unsigned reissued = 0;
    for (int i = 0; i < NBD; i++) {
        bo_sbid *b = &BD[i];
        printf("# %s: %u requests, %u responses sent, %u refused%s%s, opened %u\n", b->name,
               b->requests, b->sent, b->refused, b->refused ? ": " : "", b->last_refusal,
               b->opened);
        assert_int_equal(b->failed, 0);
        assert_true(b->opened >= 1);
        if (b->refused) {
            assert_non_null(strstr(b->last_refusal, "E_NOT_FOUND"));
            assert_non_null(strstr(b->last_refusal, "a new one follows"));
            assert_true(b->requests >= 2);
        }
        reissued += b->requests > 1;
        /* its bid decrypted once, on the record */
        assert_int_equal(count_with(SUP_B, "bid_decrypted", b->uscc), 1);
        assert_int_equal(tc_count(b->t, "bid_decrypted"), NBD);
    }
    for (int i = N_EARLY; i < NBD; i++)
        assert_true(BD[i].requests >= 2); /* A's requests died with A: B issued new ones */
    printf("# %zu decrypt_request events in the log, %zu decrypt_refused; %u bidders got a "
           "new request from B\n",
           tc_count(SUP_B, "decrypt_request"), tc_count(SUP_B, "decrypt_refused"), reissued);
    assert_true(tc_count(SUP_B, "decrypt_request") >= NBD + (NBD - N_EARLY));

    /* the opening moved on once */
    assert_int_equal(count_with(SUP_B, "phase_changed", "\"to\":\"announcing\""), 1);
    assert_int_equal(tc_count(SUP_B, "bid_decrypted"), NBD);
    assert_int_equal(tc_count(SUP_B, "bid_form"), NBD);

    /* no event lost or duplicated, for any client */
    assert_true(tc_gap_free(SUP_B, "all", SUP_B->first_pos_all));
    assert_true(tc_same_all(SUP_A, SUP_B));
    for (size_t i = 0; i < n_a; i++) {
        tc *t = a_side[i];
        if (!in_log_order(SUP_B, t))
            fail_msg("%s: its events are not B's supervisor's log", t->name);
        if (t != SUP_A) {
            assert_true(tc_same_pub(OBS_B, t));
            assert_int_equal(tc_last_seq(t, "pub"), tc_last_seq(OBS_B, "pub"));
        }
    }
    assert_int_equal(count_with(HOST, "phase_changed", "\"to\":\"announcing\""), 1);
    for (int i = 0; i < NBD; i++)
        assert_int_equal(count_with(BD[i].t, "bidder_signed_in", BD[i].uscc), 1);
    printf("# %llu events in the log, %llu public; the same for every client\n",
           (unsigned long long)tc_last_seq(SUP_B, "all"),
           (unsigned long long)tc_last_seq(OBS_B, "pub"));

    /* cleanup: responders first (their jobs), then the clients; B stops cleanly */
    bo_sbid_release(&W, BD, NBD);
    tc *all[] = {SUP_A, HOST, OBS_A, SUP_B, OBS_B};
    for (size_t i = 0; i < 5; i++)
        tc_free(all[i]);
    SUP_A = HOST = OBS_A = SUP_B = OBS_B = NULL;
    bo_world_run(&W, 200);
    assert_int_equal(bo_h_server_stop(&NODE_B, SIGTERM, 20000), 0);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "fault-node", NULL);
    bo_h_path(CA, W.pki, "server/ca.pem");
    snprintf(STORE, sizeof(STORE), "%s/bid-records", W.dir);
    char sock[700], vault[700];
    snprintf(sock, sizeof(sock), "unix:%s/data/redis.sock", W.srv.dir);
    snprintf(vault, sizeof(vault), "%s/data/vault", W.srv.dir);
    const char *args[] = {"--redis", sock, "--vault", vault, "--node", "B", NULL};
    bo_world_node(&W, &NODE_B, "nodeB", args);
    for (int i = 0; i < NBD; i++)
        bo_sbid_init_index(&BD[i], &W, NAMES[i], STORE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_sbid_release(&W, BD, NBD);
    tc_free(SUP_A);
    tc_free(HOST);
    tc_free(OBS_A);
    tc_free(SUP_B);
    tc_free(OBS_B);
    if (NODE_B.pid > 0 && bo_h_server_stop(&NODE_B, SIGTERM, 20000) != 0)
        bo_h_server_dump_log(&NODE_B);
    bo_world_down(&W); /* also stops A's managed Redis, which outlived A */
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_node_mid_decryption),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
