/* Tests for sealed bids and remote decryption (docs/protocol.md §10): every rule and refusal
 * of submit, decrypt_start, requests at sign-in, refusals, diagnostics, results, extension,
 * the window and its pause, classification; who sees which event; snapshots; fold refusing
 * bodies that disagree with the state; and a full replay from storage records. */
#include "session_fx.h"

#define START (DEADLINE + 1000)   /* decrypt_start */
#define ENDS (START + 1800 * 1000) /* the tender's window */

/* Three bidders with bids; 0 and 1 signed in; past the deadline. */
static fx *awaiting(unsigned min_bidders)
{
    fx *f = opening(min_bidders, false);
    register_and_submit(f, 3);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 1), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[1], CHECKIN + 2), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    return f;
}

/* ... and decrypting since START with the tender's window. */
static fx *decrypting(void)
{
    fx *f = awaiting(2);
    assert_int_equal(decrypt_start(f, START, 0), BO_E_OK);
    return f;
}

static void body_bin_is(const bo_event *ev, const char *key, const void *want, size_t n)
{
    body b = parse_body(ev);
    const uint8_t *p;
    size_t len;
    if (!bo_mpo_bin(&b.o, key, &p, &len) || len != n || memcmp(p, want, n))
        fail_msg("%s.%s is not the expected bytes", bo_event_kind_name(ev->kind), key);
    msgpack_zone_free(b.z);
}

static int64_t body_i64(const bo_event *ev, const char *key)
{
    body b = parse_body(ev);
    int64_t v = 0;
    assert_true(bo_mpo_i64(&b.o, key, &v));
    msgpack_zone_free(b.z);
    return v;
}

static bool body_has(const bo_event *ev, const char *key)
{
    body b = parse_body(ev);
    bool has = bo_mpo_get(&b.o, key) != NULL;
    msgpack_zone_free(b.z);
    return has;
}

/* Runs a command that must change nothing and explain itself. */
static void refused_cmd(fx *f, const bo_cmd *c, bo_err want)
{
    uint64_t seq = bo_session_seq(f->s);
    expect_refusal(f, run_cmd(f, c), want);
    assert_int_equal(bo_session_seq(f->s), seq);
}

/* ------------------------------------------------------------------ submit ---- */

static void submit_rules(void **state)
{
    fx *f = fx_new(2, false);
    expect_refusal(f, submit(f, 0, T0, 0), BO_E_NOT_FOUND);
    fx_free(f);

    f = opening(2, false);
    const bo_actor *nope[] = {&f->op, &f->host, &f->sup, &f->site, &f->obs, &f->sys};
    for (size_t i = 0; i < 6; i++)
        expect_refusal(f, submit_as(f, nope[i], 0, T0, 0), BO_E_FORBIDDEN);
    expect_refusal(f, submit(f, 0, T0, 0), BO_E_NOT_REGISTERED);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0), BO_E_OK);
    bo_actor other_cert = f->bid[0];
    memset(other_cert.fpr, 0x99, 32);
    expect_refusal(f, submit_as(f, &other_cert, 0, T0, 0), BO_E_NOT_REGISTERED);

    /* what the server says about the stored file must be complete */
    bo_bid_info bi = bid_info(0, 0);
    bo_cmd c = cmd(f, BO_CMD_SUBMIT, &f->bid[0], T0 + 1);
    refused_cmd(f, &c, BO_E_INVALID_ARG); /* no bid */
    c.bid = &bi;
    bi.cipher = "aes-128-gcm";
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    bi = bid_info(0, 0);
    bi.ri.len = 0;
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    bi = bid_info(0, 0);
    bi.receipt_sig.len = 0;
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    bi = bid_info(0, 0);
    bi.size = 0;
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    assert_false(bo_session_bid(f->s, USCC[0], NULL));

    /* accepted in scheduled */
    assert_int_equal(submit(f, 0, T0 + 7, 0), BO_E_OK);
    assert_string_equal(last_kinds(f), "bid_submitted,tally");
    assert_false(f->info.replaced);
    assert_false(f->info.needs_head);
    const bo_event *ev = last(f, 0);
    assert_int_equal(ev->aud, BO_AUD_BIDDER);
    assert_string_equal(ev->aud_uscc, USCC[0]);
    bi = bid_info(0, 0);
    body_str_is(ev, "uscc", USCC[0]);
    body_bin_is(ev, "hash", bi.hash, 32);
    body_bin_is(ev, "commit", bi.commit, 32);
    body_bin_is(ev, "ri", bi.ri.p, bi.ri.len);
    body_bin_is(ev, "receipt_sig", receipt_sig, sizeof(receipt_sig));
    body_str_is(ev, "cipher", "aes-256-gcm");
    assert_int_equal(body_u64(ev, "size"), bi.size);
    assert_int_equal(body_i64(ev, "ts"), T0 + 7);
    assert_false(body_has(ev, "replaces"));
    assert_int_equal(last(f, 1)->aud, BO_AUD_STAFF);
    body_str_is(last(f, 1), "cause", "submitted");
    assert_int_equal(body_u64(last(f, 1), "submitted"), 1);
    assert_int_equal(body_u64(last(f, 1), "registered"), 1);

    bo_bid_view v;
    assert_true(bo_session_bid(f->s, USCC[0], &v));
    assert_string_equal(v.uscc, USCC[0]);
    assert_string_equal(v.org, "Company A Ltd");
    assert_memory_equal(v.hash, bi.hash, 32);
    assert_memory_equal(v.commit, bi.commit, 32);
    assert_int_equal(v.size, bi.size);
    assert_string_equal(v.cipher, "aes-256-gcm");
    assert_int_equal(v.ri.len, bi.ri.len);
    assert_memory_equal(v.ri.p, bi.ri.p, bi.ri.len);
    assert_memory_equal(v.sign_fpr, f->bid[0].fpr, 32);
    assert_int_equal(v.sign_chain.len, sizeof(der_sign[0]));
    assert_memory_equal(v.sign_chain.p, der_sign[0], sizeof(der_sign[0]));
    assert_int_equal(v.ts, T0 + 7);
    assert_int_equal(v.receipt_sig.len, sizeof(receipt_sig));
    assert_false(v.signed_in || v.decrypted || v.classified);
    assert_string_equal(v.req, "");

    /* the same file again: nothing to append */
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(submit(f, 0, T0 + 8, 0), BO_E_OK);
    assert_true(f->info.already);
    assert_int_equal(bo_session_seq(f->s), seq);

    /* another file in checkin replaces it; the counts do not change */
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    assert_int_equal(submit(f, 0, CHECKIN + 1, 1), BO_E_OK);
    assert_true(f->info.replaced);
    assert_string_equal(last_kinds(f), "bid_submitted");
    body_bin_is(last(f, 0), "replaces", bi.hash, 32);
    body_str_is(last(f, 0), "cipher", "aes-256-cbc");
    assert_true(bo_session_bid(f->s, USCC[0], &v));
    assert_memory_equal(v.hash, bid_info(0, 1).hash, 32);

    /* a new registration (renewed certificates) keeps the bid and the signing certificate
     * it was submitted under */
    bo_actor renewed = f->bid[0];
    memset(renewed.fpr, 0xbe, 32);
    assert_int_equal(run(f, BO_CMD_REGISTER, &renewed, CHECKIN + 2), BO_E_OK);
    assert_true(bo_session_bid(f->s, USCC[0], &v));
    assert_memory_equal(v.sign_fpr, f->bid[0].fpr, 32);
    expect_refusal(f, submit(f, 0, CHECKIN + 3, 2), BO_E_NOT_REGISTERED); /* old cert */
    assert_int_equal(submit_as(f, &renewed, 0, CHECKIN + 3, 2), BO_E_OK);
    assert_true(bo_session_bid(f->s, USCC[0], &v));
    assert_memory_equal(v.sign_fpr, renewed.fpr, 32);

    /* blacklisted: the interception is recorded and the submission refused */
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[1], CHECKIN + 4), BO_E_OK);
    bi = bid_info(1, 0);
    c = cmd(f, BO_CMD_SUBMIT, &f->bid[1], CHECKIN + 5);
    c.bid = &bi;
    c.blacklisted = true;
    c.bl_reason = "失信被执行人";
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    assert_int_equal(f->info.refuse_after, BO_E_BLACKLISTED);
    assert_string_equal(last_kinds(f), "bidder_intercepted,tally");
    assert_false(bo_session_bid(f->s, USCC[1], NULL));
    /* and an intercepted bidder cannot submit */
    expect_refusal(f, submit(f, 1, CHECKIN + 6, 0), BO_E_BLACKLISTED);

    /* the deadline, by the clock even before the timer ran */
    expect_refusal(f, submit_as(f, &renewed, 0, DEADLINE, 3), BO_E_DEADLINE_PASSED);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    expect_refusal(f, submit_as(f, &renewed, 0, DEADLINE + 1, 3), BO_E_DEADLINE_PASSED);
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, DEADLINE + 2), BO_E_OK);
    expect_refusal(f, submit_as(f, &renewed, 0, DEADLINE + 3, 3), BO_E_PHASE);
    fx_free(f);
}

/* The deadline names the bidders with a bid, and counts bids for the quorum. */
static void deadline_lists_bids(void **state)
{
    fx *f = opening(2, false);
    register_and_submit(f, 2);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[2], T0 + 5), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    /* a bid whose bidder is intercepted later is not opened */
    assert_int_equal(run_blacklisted(f, BO_CMD_SIGNIN, &f->bid[1], CHECKIN + 1), BO_E_OK);
    unsigned r, si, ic;
    bo_session_counts(f->s, &r, &si, &ic);
    assert_int_equal(r, 2);
    assert_int_equal(ic, 1);
    assert_int_equal(body_u64(last(f, 1), "submitted"), 1);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    const bo_event *rev = last(f, 1);
    assert_int_equal(body_u64(rev, "count"), 1);
    assert_false(body_bool(rev, "quorum"));
    if (memmem(rev->body, rev->body_len, USCC[1], 18) ||
        memmem(rev->body, rev->body_len, USCC[2], 18))
        fail_msg("bidders_revealed names a bidder whose bid is not opened");
    unsigned bids;
    bo_session_decrypt_progress(f->s, &bids, NULL, NULL, NULL);
    assert_int_equal(bids, 1);
    /* the public list after the deadline: only the opened bids, with their state */
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 8; i++) {
        snap s;
        snap_take(f, &vs[i].v, &s);
        const msgpack_object *list = bo_mpo_get(&s.o, "bidders");
        assert_non_null(list);
        assert_int_equal(list->via.array.size, 1);
        const char *st;
        size_t n;
        assert_true(bo_mpo_str(&list->via.array.ptr[0], "state", &st, &n));
        assert_memory_equal(st, "submitted", n);
        const msgpack_object *me = bo_mpo_get(&s.o, "me");
        bool own1 = vs[i].v.role == BO_ROLE_BIDDER && !strcmp(vs[i].v.uscc, USCC[1]);
        if (mentions(&s, USCC[2]) || (mentions(&s, USCC[1]) && !own1))
            fail_msg("%s: the snapshot names a bidder without an opened bid", vs[i].name);
        if (own1) /* its own bid is still its own */
            assert_non_null(bo_mpo_get(me, "bid"));
        snap_free(&s);
    }
    fx_free(f);
}

/* ----------------------------------------------------------- decrypt_start ---- */

static void decrypt_start_rules(void **state)
{
    fx *f = opening(2, false);
    register_and_submit(f, 3);
    expect_refusal(f, decrypt_start(f, T0 + 100, 0), BO_E_PHASE);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 1), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[2], CHECKIN + 2), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);

    char due[3][19];
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_DECRYPT_START, NULL, due, 3), 2);
    assert_string_equal(due[0], USCC[0]);
    assert_string_equal(due[1], USCC[2]);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_DECRYPT_START, NULL, due, 1), 1);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[1], due, 3), 0);

    bo_decrypt_req r[3];
    make_reqs(r, REQ_START);
    const bo_actor *nope[] = {&f->op, &f->sup, &f->site, &f->obs, &f->bid[0], &f->sys};
    for (size_t i = 0; i < 6; i++) {
        bo_cmd c = cmd(f, BO_CMD_DECRYPT_START, nope[i], START);
        c.reqs = r, c.n_reqs = 3;
        refused_cmd(f, &c, BO_E_FORBIDDEN);
    }
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_START, &f->host2, START);
    c.reqs = r, c.n_reqs = 3;
    refused_cmd(f, &c, BO_E_NOT_HOST);
    c.actor = &f->host;
    c.window_s = 59;
    refused_cmd(f, &c, BO_E_BAD_FIELD);
    c.window_s = 86401;
    refused_cmd(f, &c, BO_E_BAD_FIELD);
    c.window_s = 0;
    c.n_reqs = 1; /* bidder 2 is due and has none */
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.n_reqs = 3;
    snprintf(r[2].req, sizeof(r[2].req), "%s", "0123456789ABCDEF0123456789abcdef");
    refused_cmd(f, &c, BO_E_INVALID_ARG); /* not lowercase hex */
    memcpy(r[2].req, r[0].req, sizeof(r[2].req));
    refused_cmd(f, &c, BO_E_INVALID_ARG); /* one id for two bidders */
    make_reqs(r, REQ_START);
    r[0].sig.len = 0;
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    make_reqs(r, REQ_START);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, START - 10), BO_E_OK);
    refused_cmd(f, &c, BO_E_PAUSED);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, START - 5), BO_E_OK);

    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    assert_true(f->info.needs_head);
    assert_string_equal(last_kinds(f), "phase_changed,decryption_started,decrypt_request,"
                                       "decrypt_request,head_signed");
    body_str_is(last(f, 0), "to", "decrypting");
    const bo_event *ds = last(f, 1);
    assert_int_equal(ds->aud, BO_AUD_PUB);
    assert_int_equal(body_u64(ds, "window_s"), 1800); /* the tender's */
    assert_int_equal(body_i64(ds, "ends_at"), ENDS);
    assert_int_equal(body_u64(ds, "bids"), 3);
    for (int k = 0; k < 2; k++) {
        const bo_event *rq = last(f, 2 + (size_t)k);
        int i = k ? 2 : 0; /* signed in: 0 and 2, in USCC order */
        assert_int_equal(rq->aud, BO_AUD_BIDDER);
        assert_string_equal(rq->aud_uscc, USCC[i]);
        body_str_is(rq, "uscc", USCC[i]);
        body_str_is(rq, "req", req_id(REQ_START, i));
        body_bin_is(rq, "bid", bid_info(i, 0).hash, 32);
        body_bin_is(rq, "ri", ri_der[i], sizeof(ri_der[i]));
        body_bin_is(rq, "server_pub", r[i].server_pub, 32);
        body_bin_is(rq, "sig", sigbytes, sizeof(sigbytes));
        assert_int_equal(body_i64(rq, "ends_at"), ENDS);
    }
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_DECRYPTING);
    assert_int_equal(bo_session_next_timer(f->s), ENDS);
    assert_true(bo_session_window_open(f->s, ENDS - 1));
    assert_false(bo_session_window_open(f->s, ENDS));

    bo_bid_view v;
    assert_true(bo_session_find_request(f->s, req_id(REQ_START, 2), &v));
    assert_string_equal(v.uscc, USCC[2]);
    assert_memory_equal(v.server_pub, r[2].server_pub, 32);
    assert_true(v.signed_in);
    assert_false(bo_session_find_request(f->s, req_id(REQ_START, 1), NULL)); /* not sent */
    assert_false(bo_session_find_request(f->s, "", NULL));
    assert_true(bo_session_bid(f->s, USCC[1], &v));
    assert_string_equal(v.req, "");
    unsigned bids, dec, cls;
    bo_time_ms ends;
    bo_session_decrypt_progress(f->s, &bids, &dec, &cls, &ends);
    assert_int_equal(bids, 3);
    assert_int_equal(dec + cls, 0);
    assert_int_equal(ends, ENDS);
    refused_cmd(f, &c, BO_E_PHASE); /* once */
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_DECRYPT_START, NULL, due, 3), 0);
    fx_free(f);

    /* a window of its own */
    f = awaiting(2);
    assert_int_equal(decrypt_start(f, START, 60), BO_E_OK);
    assert_int_equal(body_u64(last(f, 1), "window_s"), 60);
    assert_int_equal(bo_session_next_timer(f->s), START + 60000);
    fx_free(f);
}

static void signin_while_decrypting(void **state)
{
    fx *f = decrypting();
    char due[1][19];
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[2], due, 1), 1);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[0], due, 1), 0);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[2], due, 0), 0);
    bo_cmd c = cmd(f, BO_CMD_SIGNIN, &f->bid[2], START + 10);
    refused_cmd(f, &c, BO_E_INVALID_ARG); /* its request is missing */
    bo_decrypt_req r[3];
    make_reqs(r, REQ_START); /* bidder 0's id is in use */
    c.reqs = r, c.n_reqs = 3;
    memcpy(r[2].req, r[0].req, sizeof(r[2].req));
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    assert_int_equal(signin_req(f, 2, START + 10, 0x200), BO_E_OK);
    assert_string_equal(last_kinds(f), "bidder_signed_in,tally,decrypt_request");
    assert_int_equal(last(f, 0)->aud, BO_AUD_PUB);
    body_str_is(last(f, 2), "req", req_id(0x200, 2));
    assert_int_equal(body_i64(last(f, 2), "ends_at"), ENDS);
    assert_true(bo_session_find_request(f->s, req_id(0x200, 2), NULL));
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[2], due, 1), 0);
    /* signed in again: already, no second request */
    assert_int_equal(signin_req(f, 2, START + 11, 0x300), BO_E_OK);
    assert_true(f->info.already);
    assert_false(bo_session_find_request(f->s, req_id(0x300, 2), NULL));
    fx_free(f);

    /* intercepted, then signed in again: it keeps its request */
    f = decrypting();
    assert_int_equal(run_blacklisted(f, BO_CMD_SIGNIN, &f->bid[2], START + 1), BO_E_OK);
    assert_int_equal(signin_req(f, 2, START + 2, 0x200), BO_E_OK);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[2], due, 1), 0);
    assert_int_equal(run_blacklisted(f, BO_CMD_SIGNIN, &f->bid[2], START + 3), BO_E_OK);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[2], due, 1), 0);
    assert_int_equal(signin_req(f, 2, START + 4, 0x300), BO_E_OK);
    assert_string_equal(last_kinds(f), "bidder_signed_in,tally");
    assert_true(bo_session_find_request(f->s, req_id(0x200, 2), NULL));
    fx_free(f);

    /* after the window: no request */
    f = decrypting();
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS), BO_E_OK);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_SIGNIN, USCC[2], due, 1), 0);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[2], ENDS + 1), BO_E_OK);
    assert_string_equal(last_kinds(f), "bidder_signed_in,tally");
    fx_free(f);
}

/* A new request for a bidder whose pending one cannot be answered any more (the node that
 * holds its key is gone): the newer request supersedes the older. */
static void reissued_requests(void **state)
{
    fx *f = awaiting(2);
    bo_decrypt_req r[3];
    make_reqs(r, 0x200);
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_REISSUE, &f->sys, START + 1);
    c.uscc = USCC[0], c.reqs = r, c.n_reqs = 3;
    refused_cmd(f, &c, BO_E_PHASE);
    assert_int_equal(decrypt_start(f, START, 0), BO_E_OK);
    char due[3][19];
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_DECRYPT_REISSUE, USCC[0], due, 3), 1);
    assert_string_equal(due[0], USCC[0]);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_DECRYPT_REISSUE, USCC[2], due, 3), 0);
    c.actor = &f->host;
    refused_cmd(f, &c, BO_E_FORBIDDEN);
    c.actor = &f->sys;
    c.uscc = USCC[2]; /* has none to replace */
    refused_cmd(f, &c, BO_E_NOT_FOUND);
    c.uscc = USCC[0];
    c.n_reqs = 0;
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.n_reqs = 3;
    snprintf(r[0].req, sizeof(r[0].req), "%s", req_id(REQ_START, 0)); /* its own, again */
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    make_reqs(r, 0x200);
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    assert_string_equal(last_kinds(f), "decrypt_request");
    assert_int_equal(last(f, 0)->aud, BO_AUD_BIDDER);
    body_str_is(last(f, 0), "req", req_id(0x200, 0));
    assert_int_equal(body_i64(last(f, 0), "ends_at"), ENDS);
    assert_false(bo_session_find_request(f->s, req_id(REQ_START, 0), NULL)); /* superseded */
    bo_bid_view v;
    assert_true(bo_session_find_request(f->s, req_id(0x200, 0), &v));
    assert_string_equal(v.uscc, USCC[0]);
    assert_memory_equal(v.server_pub, r[0].server_pub, 32);
    viewer vs[8];
    viewers(f, vs);
    snap sn;
    snap_take(f, &vs[5].v, &sn); /* bidder 0 resumes with the new request */
    assert_true(mentions(&sn, req_id(0x200, 0)));
    assert_false(mentions(&sn, req_id(REQ_START, 0)));
    snap_free(&sn);
    /* the diagnostics follow the current request */
    expect_refusal(f, diag(f, 0, req_id(REQ_START, 0), START + 2), BO_E_NOT_FOUND);
    assert_int_equal(diag(f, 0, req_id(0x200, 0), START + 2), BO_E_OK);
    /* not signed in (intercepted), decrypted, after the window: no */
    assert_int_equal(run_blacklisted(f, BO_CMD_SIGNIN, &f->bid[1], START + 3), BO_E_OK);
    c.uscc = USCC[1];
    make_reqs(r, 0x300);
    refused_cmd(f, &c, BO_E_NOT_SIGNED_IN);
    assert_int_equal(bid_decrypted(f, 0, START + 4), BO_E_OK);
    c.uscc = USCC[0];
    refused_cmd(f, &c, BO_E_ALREADY_DONE);
    assert_int_equal(bo_session_decrypt_due(f->s, BO_CMD_DECRYPT_REISSUE, USCC[0], due, 3), 0);
    fx_free(f);

    f = decrypting();
    make_reqs(r, 0x200);
    c = cmd(f, BO_CMD_DECRYPT_REISSUE, &f->sys, ENDS);
    c.uscc = USCC[0], c.reqs = r, c.n_reqs = 3;
    refused_cmd(f, &c, BO_E_PHASE);
    fx_free(f);
}

/* ------------------------------------------------- refusals and diagnostics ---- */

static void refusals_and_diagnostics(void **state)
{
    fx *f = awaiting(2);
    char r0[33];
    snprintf(r0, sizeof(r0), "%s", req_id(REQ_START, 0));
    expect_refusal(f, refused(f, 0, r0, BO_E_CEK_INVALID, START), BO_E_PHASE);
    expect_refusal(f, diag(f, 0, r0, START), BO_E_PHASE);
    assert_int_equal(decrypt_start(f, START, 0), BO_E_OK);

    /* decrypt_refused: the server's record of a refused response */
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_REFUSED, &f->host, START + 1);
    c.uscc = USCC[0], c.req = r0, c.code = BO_E_CEK_INVALID;
    refused_cmd(f, &c, BO_E_FORBIDDEN);
    c.actor = &f->bid[0];
    refused_cmd(f, &c, BO_E_FORBIDDEN);
    c.actor = &f->sys;
    c.uscc = "91350100M000100Y99";
    refused_cmd(f, &c, BO_E_NOT_FOUND);
    c.uscc = USCC[0];
    c.req = "not-an-id";
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.req = r0;
    c.code = BO_E_OK;
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.code = BO_E_COMMITMENT_MISMATCH;
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    assert_string_equal(last_kinds(f), "decrypt_refused");
    assert_int_equal(last(f, 0)->aud, BO_AUD_STAFF);
    body_str_is(last(f, 0), "code", "E_COMMITMENT_MISMATCH");
    body_str_is(last(f, 0), "req", r0);
    /* an unknown request of a bidder with a bid is recorded too */
    assert_int_equal(refused(f, 1, req_id(0x999, 1), BO_E_NOT_FOUND, START + 2), BO_E_OK);
    body_str_is(last(f, 0), "code", "E_NOT_FOUND");

    /* decrypt_diag: the bidder's signed account of a failure */
    expect_refusal(f, diag(f, 2, req_id(REQ_START, 2), START + 3), BO_E_NOT_FOUND); /* none */
    expect_refusal(f, diag(f, 0, req_id(0x999, 0), START + 3), BO_E_NOT_FOUND);
    c = cmd(f, BO_CMD_DECRYPT_DIAG, &f->host, START + 3);
    c.req = r0, c.stage = "token", c.error = "";
    refused_cmd(f, &c, BO_E_FORBIDDEN);
    c.actor = &f->bid[0];
    c.stage = "disk";
    refused_cmd(f, &c, BO_E_BAD_FIELD);
    c.stage = "token";
    char e201[202];
    memset(e201, 'e', 201), e201[201] = 0;
    c.error = e201;
    refused_cmd(f, &c, BO_E_BAD_FIELD);
    c.error = NULL;
    refused_cmd(f, &c, BO_E_BAD_FIELD);
    c.error = e201 + 1; /* 200 characters */
    c.sig.len = 0;
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.sig.len = sizeof(sigbytes);
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    c.error = ""; /* a client may have nothing to say */
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    assert_int_equal(diag(f, 0, r0, START + 4), BO_E_OK);
    assert_string_equal(last_kinds(f), "decrypt_diagnostic");
    const bo_event *dg = last(f, 0);
    assert_int_equal(dg->aud, BO_AUD_STAFF);
    body_str_is(dg, "uscc", USCC[0]);
    body_str_is(dg, "req", r0);
    body_str_is(dg, "stage", "cert");
    uint8_t cf[32];
    memset(cf, 0xcf, 32);
    body_bin_is(dg, "cert_fpr", cf, 32);
    body_bin_is(dg, "sig", sigbytes, sizeof(sigbytes));
    /* paused: bidders still may; after the window: no */
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, START + 5), BO_E_OK);
    assert_int_equal(diag(f, 0, r0, ENDS + 10), BO_E_OK); /* the pause froze the window */
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, START + 6), BO_E_OK);
    expect_refusal(f, diag(f, 0, r0, ENDS + 1), BO_E_PHASE);
    /* decrypted: done */
    assert_int_equal(bid_decrypted(f, 0, START + 7), BO_E_OK);
    expect_refusal(f, diag(f, 0, r0, START + 8), BO_E_ALREADY_DONE);
    fx_free(f);
}

/* ------------------------------------------------------------------ results ---- */

static void bid_decrypted_rules(void **state)
{
    fx *f = awaiting(2);
    expect_refusal(f, bid_decrypted(f, 0, START), BO_E_PHASE);
    assert_int_equal(decrypt_start(f, START, 0), BO_E_OK);
    bo_buf form;
    bo_buf_init(&form, 4096);
    bo_cmd c = cmd(f, BO_CMD_BID_DECRYPTED, &f->host, START + 1);
    c.uscc = USCC[0];
    c.form = form_of(&form, "99.5");
    refused_cmd(f, &c, BO_E_FORBIDDEN);
    c.actor = &f->sys;
    c.uscc = "91350100M000100Y99";
    refused_cmd(f, &c, BO_E_NOT_FOUND);
    c.uscc = USCC[0];
    c.form = (bo_bytes){(const uint8_t *)"\x92\x01\x02", 3}; /* an array */
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.form = (bo_bytes){(const uint8_t *)"\x81\xa1k", 3}; /* truncated */
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.form = (bo_bytes){(const uint8_t *)"\x81\xa1k\xcb\0\0\0\0\0\0\0\0", 12}; /* a float */
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.form = (bo_bytes){NULL, 0};
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    /* a form out of order is stored canonically */
    static const uint8_t unsorted[] = {0x82, 0xa5, 'p', 'r', 'i', 'c', 'e', 0xa2, '9', '9',
                                       0xa4, 'd', 'a', 'y', 's', 0xd0, 0x05};
    c.form = (bo_bytes){unsorted, sizeof(unsorted)};
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    assert_false(f->info.needs_head);
    assert_string_equal(last_kinds(f), "bid_decrypted,bid_form");
    const bo_event *bd = last(f, 0), *bf = last(f, 1);
    assert_int_equal(bd->aud, BO_AUD_PUB);
    body_str_is(bd, "org", "Company A Ltd");
    body_bin_is(bd, "bid", bid_info(0, 0).hash, 32);
    assert_int_equal(body_u64(bd, "size"), bid_info(0, 0).size);
    assert_int_equal(bf->aud, BO_AUD_SUP);
    static const uint8_t sorted[] = {0x82, 0xa4, 'd', 'a', 'y', 's', 0x05, 0xa5,
                                     'p', 'r', 'i', 'c', 'e', 0xa2, '9', '9'};
    assert_non_null(memmem(bf->body, bf->body_len, sorted, sizeof(sorted)));
    refused_cmd(f, &c, BO_E_ALREADY_DONE);
    bo_bid_view v;
    assert_true(bo_session_bid(f->s, USCC[0], &v));
    assert_true(v.decrypted);
    assert_true(bo_session_find_request(f->s, req_id(REQ_START, 0), &v)); /* still known */
    assert_true(v.decrypted);

    /* while paused the server's results are still recorded; the last one moves the opening
     * to announcing, which stays paused */
    assert_int_equal(bid_decrypted(f, 2, START + 2), BO_E_OK); /* before its request: fine */
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, START + 3), BO_E_OK);
    assert_int_equal(bid_decrypted(f, 1, START + 4), BO_E_OK);
    assert_true(f->info.needs_head);
    assert_string_equal(last_kinds(f), "bid_decrypted,bid_form,phase_changed,head_signed");
    body_str_is(last(f, 2), "to", "announcing");
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_ANNOUNCING);
    assert_true(bo_session_paused(f->s));
    assert_int_equal(bo_session_next_timer(f->s), 0);
    unsigned bids, dec;
    bo_session_decrypt_progress(f->s, &bids, &dec, NULL, NULL);
    assert_int_equal(dec, 3);
    expect_refusal(f, bid_decrypted(f, 1, START + 5), BO_E_PHASE);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, START + 6), BO_E_OK);
    assert_false(body_has(last(f, 0), "ends_at")); /* not decrypting any more */
    bo_buf_cleanup(&form);
    fx_free(f);
}

/* --------------------------------------------------------------- the window ---- */

static void extend_rules(void **state)
{
    fx *f = awaiting(2);
    expect_refusal(f, extend(f, &f->host, 600, START), BO_E_PHASE);
    assert_int_equal(decrypt_start(f, START, 0), BO_E_OK);
    const bo_actor *nope[] = {&f->op, &f->sup, &f->bid[0], &f->sys};
    for (size_t i = 0; i < 4; i++)
        expect_refusal(f, extend(f, nope[i], 600, START + 1), BO_E_FORBIDDEN);
    expect_refusal(f, extend(f, &f->host2, 600, START + 1), BO_E_NOT_HOST);
    expect_refusal(f, extend(f, &f->host, 59, START + 1), BO_E_BAD_FIELD);
    expect_refusal(f, extend(f, &f->host, 86401, START + 1), BO_E_BAD_FIELD);
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_EXTEND, &f->host, START + 1);
    c.window_s = 600;
    refused_cmd(f, &c, BO_E_BAD_FIELD); /* no reason */
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, START + 2), BO_E_OK);
    expect_refusal(f, extend(f, &f->host, 600, START + 3), BO_E_PAUSED);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, START + 4), BO_E_OK);
    bo_time_ms ends = ENDS + 2; /* moved by the pause */
    assert_int_equal(bo_session_next_timer(f->s), ends);
    assert_int_equal(extend(f, &f->host, 600, START + 5), BO_E_OK);
    assert_string_equal(last_kinds(f), "decryption_extended");
    assert_int_equal(last(f, 0)->aud, BO_AUD_PUB);
    assert_int_equal(body_i64(last(f, 0), "ends_at"), ends + 600000);
    body_str_is(last(f, 0), "reason", "投标人网络故障");
    assert_int_equal(bo_session_next_timer(f->s), ends + 600000);
    expect_refusal(f, extend(f, &f->host, 600, START + 6), BO_E_ALREADY_DONE);
    /* a request made after the extension carries the new end */
    assert_int_equal(signin_req(f, 2, START + 7, 0x200), BO_E_OK);
    assert_int_equal(body_i64(last(f, 2), "ends_at"), ends + 600000);
    fx_free(f);

    /* not after the window's end, even before the timer ran */
    f = decrypting();
    expect_refusal(f, extend(f, &f->host, 600, ENDS), BO_E_PHASE);
    fx_free(f);
}

static void window_and_classification(void **state)
{
    fx *f = decrypting();
    assert_int_equal(bid_decrypted(f, 1, START + 1), BO_E_OK);
    expect_refusal(f, classify(f, &f->host, 0, "revoked", START + 2), BO_E_PHASE);
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS - 1), BO_E_OK);
    assert_int_equal(bo_session_seq(f->s), seq);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS), BO_E_OK);
    assert_string_equal(last_kinds(f), "decryption_window_closed");
    assert_false(f->info.needs_head);
    const bo_event *wc = last(f, 0);
    assert_int_equal(wc->aud, BO_AUD_PUB);
    body b = parse_body(wc);
    const msgpack_object *list = bo_mpo_get(&b.o, "undecrypted");
    assert_non_null(list);
    assert_int_equal(list->via.array.size, 2);
    assert_memory_equal(list->via.array.ptr[0].via.str.ptr, USCC[0], 18);
    assert_memory_equal(list->via.array.ptr[1].via.str.ptr, USCC[2], 18);
    msgpack_zone_free(b.z);
    assert_int_equal(bo_session_next_timer(f->s), 0);
    assert_false(bo_session_window_open(f->s, ENDS - 5));
    seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS + 1), BO_E_OK); /* once */
    assert_int_equal(bo_session_seq(f->s), seq);

    const bo_actor *nope[] = {&f->op, &f->sup, &f->bid[0], &f->sys};
    for (size_t i = 0; i < 4; i++)
        expect_refusal(f, classify(f, nope[i], 0, "revoked", ENDS + 2), BO_E_FORBIDDEN);
    expect_refusal(f, classify(f, &f->host2, 0, "revoked", ENDS + 2), BO_E_NOT_HOST);
    expect_refusal(f, classify(f, &f->host, 0, "lost", ENDS + 2), BO_E_BAD_FIELD);
    expect_refusal(f, classify(f, &f->host, 0, NULL, ENDS + 2), BO_E_BAD_FIELD);
    expect_refusal(f, classify(f, &f->host, 1, "revoked", ENDS + 2), BO_E_ALREADY_DONE);
    bo_cmd c = cmd(f, BO_CMD_CLASSIFY, &f->host, ENDS + 2);
    c.uscc = "91350100M000100Y99";
    c.outcome = "revoked";
    c.reason = "r";
    refused_cmd(f, &c, BO_E_NOT_FOUND);
    c.uscc = USCC[0];
    c.reason = NULL;
    refused_cmd(f, &c, BO_E_BAD_FIELD);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, ENDS + 3), BO_E_OK);
    expect_refusal(f, classify(f, &f->host, 0, "revoked", ENDS + 4), BO_E_PAUSED);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, ENDS + 5), BO_E_OK);
    assert_false(body_has(last(f, 0), "ends_at")); /* the window is closed: nothing moves */

    assert_int_equal(classify(f, &f->host, 0, "revoked", ENDS + 6), BO_E_OK);
    assert_string_equal(last_kinds(f), "bid_classified");
    assert_int_equal(last(f, 0)->aud, BO_AUD_PUB);
    body_str_is(last(f, 0), "outcome", "revoked");
    body_str_is(last(f, 0), "reason", "证书已更换，无法解密");
    expect_refusal(f, classify(f, &f->host, 0, "withdrawn", ENDS + 7), BO_E_ALREADY_DONE);
    /* a result after the classification changes nothing */
    expect_refusal(f, bid_decrypted(f, 0, ENDS + 7), BO_E_ALREADY_DONE);
    bo_bid_view v;
    assert_true(bo_session_bid(f->s, USCC[0], &v));
    assert_true(v.classified);
    assert_int_equal(classify(f, &f->host, 2, "withdrawn", ENDS + 8), BO_E_OK);
    assert_string_equal(last_kinds(f), "bid_classified,phase_changed,head_signed");
    body_str_is(last(f, 1), "to", "announcing");
    unsigned bids, dec, cls;
    bo_session_decrypt_progress(f->s, &bids, &dec, &cls, NULL);
    assert_int_equal(bids, 3);
    assert_int_equal(dec, 1);
    assert_int_equal(cls, 2);
    /* one valid bid of the two the tender needs: announcing begins without a quorum */
    assert_int_equal(body_u64(last(f, 1), "valid"), 1);
    assert_false(body_bool(last(f, 1), "quorum"));
    expect_refusal(f, classify(f, &f->host, 2, "withdrawn", ENDS + 9), BO_E_QUORUM);
    fx_free(f);

    /* a window that closes with every bid decrypted cannot happen (the last result moves
     * the opening on), but a failure during decryption ends it */
    f = decrypting();
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, START + 5), BO_E_OK);
    assert_int_equal(bo_session_next_timer(f->s), 0);
    expect_refusal(f, classify(f, &f->host, 0, "revoked", ENDS + 1), BO_E_PHASE);
    expect_refusal(f, extend(f, &f->host, 600, START + 6), BO_E_PHASE);
    expect_refusal(f, bid_decrypted(f, 0, START + 6), BO_E_PHASE);
    fx_free(f);
}

/* A pause freezes the remaining time of the window. */
static void pause_freezes_window(void **state)
{
    fx *f = decrypting();
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, ENDS - 60000), BO_E_OK);
    assert_int_equal(bo_session_next_timer(f->s), 0);
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS + H), BO_E_OK); /* no timers */
    assert_int_equal(bo_session_seq(f->s), seq);
    assert_true(bo_session_window_open(f->s, ENDS + H));
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, ENDS + H), BO_E_OK);
    const bo_event *rs = last(f, 0);
    assert_int_equal(body_u64(rs, "paused_ms"), H + 60000);
    assert_int_equal(body_i64(rs, "ends_at"), ENDS + H + 60000);
    assert_int_equal(bo_session_next_timer(f->s), ENDS + H + 60000);
    bo_time_ms ends;
    bo_session_decrypt_progress(f->s, NULL, NULL, NULL, &ends);
    assert_int_equal(ends, ENDS + H + 60000); /* one minute left, as when paused */
    assert_true(bo_session_window_open(f->s, ENDS + H + 59999));
    assert_false(bo_session_window_open(f->s, ENDS + H + 60000));
    fx_free(f);
}

/* ------------------------------------------------------------------ secrecy ---- */

static void who_sees_decryption(void **state)
{
    for (int early = 0; early < 2; early++) {
        fx *f = opening(2, early);
        register_and_submit(f, 3);
        assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
        assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 1), BO_E_OK);
        assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
        /* viewers: observer, site, operator, host, host2, bidder 0, bidder 1, supervisor */
        assert_int_equal(decrypt_start(f, START, 0), BO_E_OK);
        /* phase_changed, decryption_started, decrypt_request (b:0), head_signed */
        expect_streams(f, (const char *const[]){"pp-p", "pp-p", "pp-p", "pp-p", "pp-p",
                                                "ppbp", "pp-p", "aaaa"});
        assert_int_equal(signin_req(f, 1, START + 1, 0x200), BO_E_OK);
        const char *t = early ? "p" : "-", *ts = early ? "p" : "s";
        char w[8][8];
        for (int i = 0; i < 8; i++)
            snprintf(w[i], 8, "p%s-", t);
        snprintf(w[3], 8, "p%s-", ts);
        snprintf(w[6], 8, "p%sb", t);
        snprintf(w[7], 8, "aaa");
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});
        assert_int_equal(refused(f, 0, req_id(REQ_START, 0), BO_E_CEK_INVALID, START + 2),
                         BO_E_OK);
        expect_streams(f, (const char *const[]){"-", "-", "-", "s", "-", "-", "-", "a"});
        assert_int_equal(diag(f, 0, req_id(REQ_START, 0), START + 3), BO_E_OK);
        expect_streams(f, (const char *const[]){"-", "-", "-", "s", "-", "-", "-", "a"});
        assert_int_equal(bid_decrypted(f, 1, START + 4), BO_E_OK);
        /* bid_decrypted (pub), bid_form (sup): the form is announced later */
        expect_streams(f, (const char *const[]){"p-", "p-", "p-", "p-", "p-", "p-", "p-", "aa"});
        assert_int_equal(extend(f, &f->host, 600, START + 5), BO_E_OK);
        expect_streams(f, (const char *const[]){"p", "p", "p", "p", "p", "p", "p", "a"});
        assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS + 600000), BO_E_OK);
        expect_streams(f, (const char *const[]){"p", "p", "p", "p", "p", "p", "p", "a"});
        assert_int_equal(classify(f, &f->host, 0, "revoked", ENDS + 600001), BO_E_OK);
        expect_streams(f, (const char *const[]){"p", "p", "p", "p", "p", "p", "p", "a"});
        assert_int_equal(classify(f, &f->host, 2, "withdrawn", ENDS + 600002), BO_E_OK);
        expect_streams(f, (const char *const[]){"ppp", "ppp", "ppp", "ppp", "ppp", "ppp", "ppp",
                                                "aaa"});
        fx_free(f);
    }
}

/* Before the deadline submissions are as secret as registrations. */
static void submissions_are_secret(void **state)
{
    for (int early = 0; early < 2; early++) {
        fx *f = opening(2, early);
        register_and_submit(f, 2);
        viewer vs[8];
        viewers(f, vs);
        for (int i = 0; i < 8; i++) {
            snap s;
            snap_take(f, &vs[i].v, &s);
            bool sup = i == 7, host = i == 3, bid = i == 5 || i == 6;
            const msgpack_object *c = bo_mpo_get(&s.o, "counts");
            if ((c != NULL) != (sup || host || early))
                fail_msg("%s: counts %s", vs[i].name, c ? "leaked" : "missing");
            uint64_t n;
            if (c) {
                assert_true(bo_mpo_u64(c, "submitted", &n));
                assert_int_equal(n, 2);
            }
            const uint8_t h0 = bid_info(0, 0).hash[0], h1 = bid_info(1, 0).hash[0];
            for (int k = 0; k < 2 && !sup; k++) { /* no envelope hash but its own */
                uint8_t pat[34] = {0xc4, 0x20};
                memset(pat + 2, k ? h1 : h0, 32);
                if (i != 5 + k && memmem(s.b.data, s.b.len, pat, sizeof(pat)))
                    fail_msg("%s: sees the bid of %s", vs[i].name, USCC[k]);
            }
            const msgpack_object *me = bo_mpo_get(&s.o, "me");
            assert_int_equal(me != NULL, bid);
            if (bid) {
                const msgpack_object *mb = bo_mpo_get(me, "bid");
                const uint8_t *p;
                size_t len;
                int64_t ts;
                assert_non_null(mb);
                assert_true(bo_mpo_bin(mb, "hash", &p, &len));
                assert_int_equal(p[0], i == 5 ? h0 : h1);
                assert_true(bo_mpo_bin(mb, "receipt_sig", &p, &len));
                assert_int_equal(len, sizeof(receipt_sig));
                assert_true(bo_mpo_i64(mb, "ts", &ts));
                assert_int_equal(ts, T0 + 10 + (i - 5));
                assert_true(bo_mpo_u64(mb, "size", &n));
                assert_null(bo_mpo_get(me, "req"));
            }
            if (sup) { /* the supervisor's list shows who has a bid */
                const msgpack_object *list = bo_mpo_get(&s.o, "bidders");
                const uint8_t *p;
                size_t len;
                assert_int_equal(list->via.array.size, 2);
                assert_true(bo_mpo_bin(&list->via.array.ptr[1], "bid", &p, &len));
                assert_null(bo_mpo_get(&list->via.array.ptr[0], "state"));
            }
            assert_null(bo_mpo_get(&s.o, "decrypt"));
            snap_free(&s);
        }
        fx_free(f);
    }
}

static void snapshots_while_decrypting(void **state)
{
    fx *f = decrypting();
    assert_int_equal(bid_decrypted(f, 1, START + 1), BO_E_OK);
    assert_int_equal(extend(f, &f->host, 120, START + 2), BO_E_OK);
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 8; i++) {
        snap s;
        snap_take(f, &vs[i].v, &s);
        const msgpack_object *d = bo_mpo_get(&s.o, "decrypt");
        if (!d)
            fail_msg("%s: no decrypt member", vs[i].name);
        uint64_t n;
        int64_t at;
        bool flag;
        assert_true(bo_mpo_i64(d, "ends_at", &at));
        assert_int_equal(at, ENDS + 120000);
        assert_true(bo_mpo_u64(d, "bids", &n));
        assert_int_equal(n, 3);
        assert_true(bo_mpo_u64(d, "decrypted", &n));
        assert_int_equal(n, 1);
        assert_true(bo_mpo_u64(d, "classified", &n));
        assert_int_equal(n, 0);
        assert_true(bo_mpo_bool(d, "window_closed", &flag));
        assert_false(flag);
        assert_true(bo_mpo_bool(d, "extended", &flag));
        assert_true(flag);
        const msgpack_object *list = bo_mpo_get(&s.o, "bidders");
        assert_int_equal(list->via.array.size, 3);
        static const char *const states[] = {"requested", "decrypted", "submitted"};
        for (uint32_t k = 0; k < 3; k++) {
            const char *st;
            size_t len;
            assert_true(bo_mpo_str(&list->via.array.ptr[k], "state", &st, &len));
            if (len != strlen(states[k]) || memcmp(st, states[k], len))
                fail_msg("%s: bidder %u is %.*s", vs[i].name, k, (int)len, st);
        }
        /* the request travels in the bidder's own stream only: its snapshot has it */
        const msgpack_object *me = bo_mpo_get(&s.o, "me");
        if (i == 5) {
            const msgpack_object *rq = bo_mpo_get(me, "req");
            const char *r;
            size_t len;
            assert_non_null(rq);
            assert_true(bo_mpo_str(rq, "req", &r, &len));
            assert_memory_equal(r, req_id(REQ_START, 0), 32);
            assert_true(bo_mpo_i64(rq, "ends_at", &at));
            assert_int_equal(at, ENDS); /* what was signed; decrypt.ends_at is the truth */
        } else if (i == 6) {
            assert_null(bo_mpo_get(me, "req")); /* decrypted */
        } else if (mentions(&s, "server_pub")) {
            fail_msg("%s: sees a decryption request", vs[i].name);
        }
        snap_free(&s);
    }
    fx_free(f);
}

/* -------------------------------------------------------------------- fold ---- */

static void fold_checks_bodies(void **state)
{
    /* submissions */
    fx *f = opening(2, false);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0), BO_E_OK);
    static const tamper sub[] = {
        {"bid_submitted", "ts", T_I64, 5, NULL},
        {"bid_submitted", "cipher", T_STR, 0, "rc4"},
        {"bid_submitted", "size", T_U64, 0, NULL},
        {"bid_submitted", "ri", T_DROP, 0, NULL},
        {"bid_submitted", "uscc", T_STR, 0, "91350100M000100Y44"},
        {"bid_submitted", "replaces", T_BIN, 1, NULL},
        {"bid_submitted", "replaces", T_DROP, 0, NULL},
    };
    bo_bid_info bi;
    bo_cmd c;
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        bi = bid_info(0, (int)i); /* a new file each time: the first, then replacements */
        c = cmd(f, BO_CMD_SUBMIT, &f->bid[0], T0 + 1);
        c.bid = &bi;
        fold_refuses(f, &c, &sub[i]);
    }
    assert_true(bo_session_bid(f->s, USCC[0], NULL));
    fx_free(f);

    /* the deadline's list */
    f = opening(1, false);
    register_and_submit(f, 2);
    c = cmd(f, BO_CMD_TICK, &f->sys, DEADLINE);
    static const tamper rev[] = {{"bidders_revealed", "count", T_U64, 1, NULL}};
    fold_refuses(f, &c, &rev[0]);
    /* decryption */
    bo_decrypt_req r[3];
    make_reqs(r, REQ_START);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], DEADLINE + 1), BO_E_OK);
    c = cmd(f, BO_CMD_DECRYPT_START, &f->host, START);
    c.reqs = r, c.n_reqs = 3;
    static const tamper st[] = {{"decryption_started", "bids", T_U64, 3, NULL}};
    fold_refuses(f, &c, &st[0]);
    c = cmd(f, BO_CMD_SIGNIN, &f->bid[1], START + 1);
    make_reqs(r, 0x200);
    c.reqs = r, c.n_reqs = 3;
    static const tamper rq[] = {{"decrypt_request", "ri", T_BIN, 9, NULL}};
    fold_refuses(f, &c, &rq[0]);
    static const tamper more[] = {
        {"decrypt_refused", "code", T_STR, 0, "E_NOPE"},
        {"decrypt_diagnostic", "stage", T_STR, 0, "disk"},
        {"bid_decrypted", "size", T_U64, 7, NULL},
        {"decryption_extended", "ends_at", T_I64, ENDS + 59000, NULL},
        {"resumed", "ends_at", T_I64, ENDS, NULL},
    };
    c = cmd(f, BO_CMD_DECRYPT_REFUSED, &f->sys, START + 2);
    c.uscc = USCC[0], c.req = req_id(REQ_START, 0), c.code = BO_E_CEK_INVALID;
    fold_refuses(f, &c, &more[0]);
    c = cmd(f, BO_CMD_DECRYPT_DIAG, &f->bid[0], START + 3);
    c.req = req_id(REQ_START, 0), c.stage = "token", c.error = "x";
    fold_refuses(f, &c, &more[1]);
    bo_buf form;
    bo_buf_init(&form, 1024);
    c = cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, START + 4);
    c.uscc = USCC[0], c.form = form_of(&form, "1");
    fold_refuses(f, &c, &more[2]);
    bo_buf_cleanup(&form);
    c = cmd(f, BO_CMD_DECRYPT_EXTEND, &f->host, START + 5);
    c.window_s = 60, c.reason = "r";
    fold_refuses(f, &c, &more[3]);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, START + 6), BO_E_OK);
    c = cmd(f, BO_CMD_RESUME, &f->host, START + 7);
    fold_refuses(f, &c, &more[4]);
    c = cmd(f, BO_CMD_TICK, &f->sys, ENDS + 60001 + 1);
    static const tamper wc[] = {{"decryption_window_closed", "undecrypted", T_DROP, 0, NULL}};
    fold_refuses(f, &c, &wc[0]);
    c = cmd(f, BO_CMD_CLASSIFY, &f->host, ENDS + 70000);
    c.uscc = USCC[1], c.outcome = "withdrawn", c.reason = "r";
    static const tamper cl[] = {{"bid_classified", "outcome", T_STR, 0, "lost"}};
    fold_refuses(f, &c, &cl[0]);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_ANNOUNCING);
    fx_free(f);
}

/* Events of the opening's first phases do not fold after the deadline. */
static void fold_keeps_phases(void **state)
{
    fx *f = opening(1, false);
    register_and_submit(f, 1);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[1], T0 + 5), BO_E_OK); /* no bid */
    bo_cmd c = cmd(f, BO_CMD_REGISTER, &f->bid[2], T0 + 6);
    bo_event_list reg;
    bo_event_list_init(&reg);
    assert_int_equal(bo_session_apply(f->s, &c, &reg, &f->info, NULL, 0), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    assert_int_equal(bo_session_seal(f->s, &reg), BO_E_OK);
    assert_int_equal(bo_session_fold(f->s, &reg.v[0]), BO_E_BAD_FIELD); /* registration */
    bo_event_list_cleanup(&reg);
    /* a public sign-in: of the bidder with a bid folds, of the one without does not */
    for (int i = 1; i >= 0; i--) {
        bo_err err;
        bo_mpmap *m = bo_mpmap_new(&err);
        bo_mpmap_str(m, "uscc", USCC[i]);
        bo_mpmap_str(m, "org", f->bid[i].org);
        bo_mpmap_bin(m, "fpr", f->bid[i].fpr, 32);
        bo_mpmap_bin(m, "nonce", f->bid[i].nonce, 32);
        bo_mpmap_bin(m, "sig", sigbytes, sizeof(sigbytes));
        bo_buf b;
        bo_buf_init(&b, 4096);
        assert_int_equal(bo_mpmap_finish(m, &b), BO_E_OK);
        bo_mpmap_free(m);
        bo_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.kind = BO_EV_BIDDER_SIGNED_IN;
        ev.aud = BO_AUD_PUB;
        ev.ts = DEADLINE + 1;
        ev.body = bo_buf_steal(&b, &ev.body_len);
        bo_buf_cleanup(&b);
        bo_event_list l;
        bo_event_list_init(&l);
        assert_int_equal(bo_event_list_push(&l, &ev), BO_E_OK);
        assert_int_equal(bo_session_seal(f->s, &l), BO_E_OK);
        assert_int_equal(bo_session_fold(f->s, &l.v[0]), i ? BO_E_BAD_FIELD : BO_E_OK);
        bo_event_list_cleanup(&l);
    }
    assert_true(bo_session_is_signed_in(f->s, USCC[0]));
    fx_free(f);
}

/* ------------------------------------------------------------------ replay ---- */

/* Everything of §10 in one opening; returns with the opening announcing. */
static void scenario(fx *f)
{
    register_and_submit(f, 3);
    assert_int_equal(submit(f, 1, T0 + 20, 1), BO_E_OK); /* replaced */
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 1), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[1], CHECKIN + 2), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    assert_int_equal(decrypt_start(f, START, 600), BO_E_OK);
    bo_time_ms ends = START + 600000;
    assert_int_equal(refused(f, 0, req_id(REQ_START, 0), BO_E_CEK_INVALID, START + 10), BO_E_OK);
    assert_int_equal(bid_decrypted(f, 0, START + 20), BO_E_OK);
    assert_int_equal(diag(f, 1, req_id(REQ_START, 1), START + 30), BO_E_OK);
    bo_decrypt_req r[3];
    make_reqs(r, 0x300);
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_REISSUE, &f->sys, START + 35);
    c.uscc = USCC[1], c.reqs = r, c.n_reqs = 3;
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, START + 40), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, START + 40 + 5000), BO_E_OK);
    ends += 5000;
    assert_int_equal(signin_req(f, 2, START + 6000, 0x200), BO_E_OK);
    assert_int_equal(extend(f, &f->host, 300, START + 7000), BO_E_OK);
    ends += 300000;
    assert_int_equal(bo_session_next_timer(f->s), ends);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ends), BO_E_OK);
    assert_int_equal(classify(f, &f->host, 1, "revoked", ends + 1), BO_E_OK);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_DECRYPTING);
    assert_int_equal(classify(f, &f->host, 2, "withdrawn", ends + 2), BO_E_OK);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_ANNOUNCING);
}

static void replay_from_records(void **state)
{
    fx *f = opening(2, false);
    scenario(f);
    bo_err err;
    bo_session *r = bo_session_new(OID, &err);
    for (size_t i = 0; i < f->log.n; i++) {
        bo_buf rec;
        bo_buf_init(&rec, 1 << 20);
        assert_int_equal(bo_event_encode_record(&f->log.v[i], &rec), BO_E_OK);
        bo_event ev;
        assert_int_equal(bo_event_decode_record(OID, rec.data, rec.len, &ev), BO_E_OK);
        if (bo_session_fold(r, &ev) != BO_E_OK)
            fail_msg("replay refuses event %zu (%s)", i, bo_event_kind_name(ev.kind));
        assert_int_equal(ev.pub_pos, f->log.v[i].pub_pos);
        assert_int_equal(ev.priv_pos, f->log.v[i].priv_pos);
        bo_buf_reset(&rec); /* and every event encodes on the wire */
        assert_int_equal(bo_event_encode_wire(OID, &ev, BO_STREAM_ALL, &rec), BO_E_OK);
        bo_event_cleanup(&ev);
        bo_buf_cleanup(&rec);
    }
    assert_int_equal(bo_session_seq(r), bo_session_seq(f->s));
    assert_memory_equal(bo_session_head(r), bo_session_head(f->s), 32);
    assert_int_equal(bo_session_phase(r), BO_PHASE_ANNOUNCING);
    for (int i = 0; i < 3; i++) {
        bo_bid_view a, b;
        assert_true(bo_session_bid(f->s, USCC[i], &a));
        assert_true(bo_session_bid(r, USCC[i], &b));
        assert_memory_equal(a.hash, b.hash, 32);
        assert_string_equal(a.req, b.req);
        assert_int_equal(a.decrypted, b.decrypted);
        assert_int_equal(a.classified, b.classified);
    }
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 8; i++) {
        bo_buf a, b;
        bo_buf_init(&a, 1 << 20);
        bo_buf_init(&b, 1 << 20);
        assert_int_equal(bo_session_snapshot(f->s, &vs[i].v, DEADLINE + H, &a), BO_E_OK);
        assert_int_equal(bo_session_snapshot(r, &vs[i].v, DEADLINE + H, &b), BO_E_OK);
        if (a.len != b.len || memcmp(a.data, b.data, a.len))
            fail_msg("%s: snapshots differ after replay", vs[i].name);
        bo_buf_cleanup(&a);
        bo_buf_cleanup(&b);
    }
    /* the log's private bodies went where they belong */
    for (size_t i = 0; i < f->log.n; i++) {
        const bo_event *ev = &f->log.v[i];
        bool b = ev->kind == BO_EV_BID_SUBMITTED || ev->kind == BO_EV_DECRYPT_REQUEST;
        bool st = ev->kind == BO_EV_DECRYPT_REFUSED || ev->kind == BO_EV_DECRYPT_DIAGNOSTIC;
        if (b)
            assert_int_equal(ev->aud, BO_AUD_BIDDER);
        if (st)
            assert_int_equal(ev->aud, BO_AUD_STAFF);
        if (ev->kind == BO_EV_BID_FORM)
            assert_int_equal(ev->aud, BO_AUD_SUP);
    }
    bo_session_free(r);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(submit_rules),
        cmocka_unit_test(deadline_lists_bids),
        cmocka_unit_test(decrypt_start_rules),
        cmocka_unit_test(signin_while_decrypting),
        cmocka_unit_test(reissued_requests),
        cmocka_unit_test(refusals_and_diagnostics),
        cmocka_unit_test(bid_decrypted_rules),
        cmocka_unit_test(extend_rules),
        cmocka_unit_test(window_and_classification),
        cmocka_unit_test(pause_freezes_window),
        cmocka_unit_test(who_sees_decryption),
        cmocka_unit_test(submissions_are_secret),
        cmocka_unit_test(snapshots_while_decrypting),
        cmocka_unit_test(fold_checks_bodies),
        cmocka_unit_test(fold_keeps_phases),
        cmocka_unit_test(replay_from_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
