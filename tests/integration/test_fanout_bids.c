/* Regression test: fixed in server/bo_vault.c (the upload is freed only after its callback returned).
 * It reproduced this bug (label known-bug until then): fan-out of the host's pause/resume after the deadline,
 * which needs a quorum of sealed bids (docs/protocol.md §6, §10: `quorum` counts bids).
 *
 * Three bidders register, submit a sealed bid (submit_begin, submit_chunk, submit_commit)
 * and sign in; at the deadline the quorum is met; the host pauses and resumes ten times
 * with ~1 KB reasons; every observer gets the same events in the same order.
 *
 * Today the server dies at the first submit_commit (ASan, heap-use-after-free):
 * server/bo_vault.c after(), case OP_COMMIT, calls the commit callback (bo_submit.c
 * on_committed), which frees the upload (upload_free -> bo_vault_upload_close; `busy` was
 * already cleared, so the vault upload is freed at once), and then reads `up->closed` from
 * the freed memory. OP_OPEN and OP_WRITE have the same shape. test_fanout.c makes its
 * public events without bids so that it does not depend on this. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo_itest.h"

static bo_world W;

static const char *BIDDERS[] = {"b1-rsa", "b2-p256", "b5-mixed"}; /* RSA / P-256 recipients */
#define N_BIDDERS 3
#define N_OBS 10
#define N_CYCLES 10

typedef struct have {
    tc *const *v;
    size_t n;
    const char *kind;
    size_t count;
} have;

static bool have_pred(void *arg)
{
    have *h = arg;
    for (size_t i = 0; i < h->n; i++)
        if (tc_count(h->v[i], h->kind) < h->count)
            return false;
    return true;
}

static void pause_resume_after_deadline_with_bids(void **state)
{
    (void)state;
    char oid[65];
    tc *h = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h));
    assert_true(bo_world_create(&W, h, "T-bids", 0, 10000, "", oid));
    tc_free(h);
    tc *host = bo_world_staff(&W, "host", "host", oid);
    tc *b[N_BIDDERS], *obs[N_OBS];
    for (int i = 0; i < N_BIDDERS; i++)
        b[i] = bo_world_bidder(&W, BIDDERS[i], true, oid);
    for (int i = 0; i < N_OBS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "obs-%d", i);
        obs[i] = bo_world_observer(&W, name, oid);
    }
    assert_true(bo_world_connect(&W, host));
    assert_int_equal(bo_world_connect_all(&W, b, N_BIDDERS, 20000), N_BIDDERS);
    assert_int_equal(bo_world_connect_all(&W, obs, N_OBS, 20000), N_OBS);
    for (int i = 0; i < N_BIDDERS; i++) {
        assert_int_equal(bo_world_register(&W, b[i]), BO_E_OK);
        bo_err e = bo_world_submit_bid(&W, b[i], oid);
        printf("# %s submits its bid: %s\n", BIDDERS[i], bo_err_name(e));
        assert_int_equal(e, BO_E_OK);
        assert_true(tc_wait_event(&W.loop, b[i], "bid_submitted", 5000));
        assert_int_equal(bo_world_signin(&W, b[i]), BO_E_OK);
    }
    assert_true(tc_wait_event(&W.loop, host, "bidders_revealed", 20000));
    assert_non_null(strstr(tc_last(host, "bidders_revealed")->body_json, "\"quorum\":true"));
    char reason[1600];
    int len = 0;
    for (int k = 0; k < 330; k++)
        len += snprintf(reason + len, sizeof(reason) - (size_t)len, "停");
    for (int i = 0; i < N_CYCLES; i++) {
        assert_int_equal(bo_world_pause(&W, host, reason), BO_E_OK);
        assert_int_equal(bo_world_resume(&W, host), BO_E_OK);
    }
    have hv = {obs, N_OBS, "resumed", N_CYCLES};
    assert_int_equal(bo_client_run_until(&W.loop, have_pred, &hv, 10000), BO_E_OK);
    for (int i = 1; i < N_OBS; i++) {
        assert_int_equal(obs[i]->n_events, obs[0]->n_events);
        for (size_t k = 0; k < obs[0]->n_events; k++) {
            assert_int_equal(obs[i]->events[k].seq, obs[0]->events[k].seq);
            assert_memory_equal(obs[i]->events[k].hash, obs[0]->events[k].hash, 32);
        }
    }
    tc_free(host);
    for (int i = 0; i < N_BIDDERS; i++)
        tc_free(b[i]);
    for (int i = 0; i < N_OBS; i++)
        tc_free(obs[i]);
}

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "fanout-bids", NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pause_resume_after_deadline_with_bids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
