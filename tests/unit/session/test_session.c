/* Tests for the opening's state machine (docs/protocol.md §6-§7): every phase rule and
 * refusal, timers, secrecy before the deadline (who sees which event, what each snapshot
 * shows), fold refusing a broken chain, and a full replay from storage records. */
#include "session_fx.h"

/* ------------------------------------------------------------------- names ---- */

static void names(void **state)
{
    bo_role r;
    assert_int_equal(bo_role_parse("supervisor", &r), BO_E_OK);
    assert_int_equal(r, BO_ROLE_SUPERVISOR);
    assert_int_equal(bo_role_parse("system", &r), BO_E_BAD_FIELD); /* never from the wire */
    assert_int_equal(bo_role_parse("none", &r), BO_E_BAD_FIELD);
    assert_string_equal(bo_role_name(BO_ROLE_SYSTEM), "system");
    assert_string_equal(bo_role_name(BO_ROLE_SITE), "site");
    bo_phase p;
    for (int i = BO_PHASE_NONE; i <= BO_PHASE_FAILED; i++) {
        assert_int_equal(bo_phase_parse(bo_phase_name((bo_phase)i), &p), BO_E_OK);
        assert_int_equal(p, i);
    }
    assert_string_equal(bo_phase_name(BO_PHASE_AWAITING_OPEN), "awaiting_open");
    assert_int_equal(bo_phase_parse("paused", &p), BO_E_BAD_FIELD);
    assert_string_equal(bo_stream_name(BO_STREAM_BIDDER), "b");
    assert_null(bo_stream_name(BO_STREAM_NONE));
    bo_err err;
    assert_null(bo_session_new("bad oid", &err));
    assert_int_equal(err, BO_E_BAD_FIELD);
    bo_session_free(NULL);
}

/* ------------------------------------------------------------------ create ---- */

static void create_rules(void **state)
{
    fx *f = fx_new(3, false);
    const bo_actor *nope[] = {&f->sup, &f->site, &f->obs, &f->sys, &f->bid[0]};
    for (size_t i = 0; i < 5; i++)
        expect_refusal(f, run(f, BO_CMD_CREATE, nope[i], T0), BO_E_FORBIDDEN);
    expect_refusal(f, run(f, BO_CMD_CREATE, &f->op, T0), BO_E_BAD_TENDER);
    assert_string_equal(f->detail, "host_fpr required when an operator creates");
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_NONE);
    assert_null(bo_session_tender(f->s));
    assert_int_equal(bo_session_next_timer(f->s), 0);

    /* an operator naming the host */
    f->tender.has_host_fpr = true;
    memcpy(f->tender.host_fpr, f->host2.fpr, 32);
    assert_int_equal(run(f, BO_CMD_CREATE, &f->op, T0), BO_E_OK);
    assert_string_equal(last_kinds(f), "opening_created,head_signed");
    assert_true(f->info.needs_head);
    assert_memory_equal(bo_session_host_fpr(f->s), f->host2.fpr, 32);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_SCHEDULED);
    assert_string_equal(bo_session_tender(f->s)->oid, OID);
    assert_int_equal(last(f, 0)->aud, BO_AUD_PUB);
    assert_int_equal(last(f, 1)->aud, BO_AUD_SUP); /* heads are private before the deadline */
    body b = parse_body(last(f, 0));
    assert_null(bo_mpo_get(&b.o, "host_name"));
    const uint8_t *p;
    size_t n;
    assert_true(bo_mpo_bin(&b.o, "seed_commit", &p, &n));
    assert_int_equal(n, 32);
    assert_int_equal(p[0], 0x5e);
    msgpack_zone_free(b.z);
    expect_refusal(f, run(f, BO_CMD_CREATE, &f->host, T0), BO_E_EXISTS);
    fx_free(f);

    /* a host creating without host_fpr becomes the host */
    f = opening(3, false);
    assert_memory_equal(bo_session_host_fpr(f->s), f->host.fpr, 32);
    assert_int_equal(bo_session_seq(f->s), 2);
    body_str_is(&f->log.v[0], "host_name", "host");
    fx_free(f);

    /* a tender naming another opening */
    f = fx_new(3, false);
    snprintf(f->tender.oid, sizeof(f->tender.oid), "other");
    expect_refusal(f, run(f, BO_CMD_CREATE, &f->host, T0), BO_E_INVALID_ARG);
    fx_free(f);
}

/* ------------------------------------------------------------------ timers ---- */

static void timers(void **state)
{
    fx *f = opening(2, false);
    assert_int_equal(bo_session_next_timer(f->s), CHECKIN);
    expect_refusal(f, run(f, BO_CMD_TICK, &f->host, CHECKIN), BO_E_FORBIDDEN);
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN - 1), BO_E_OK);
    assert_int_equal(bo_session_seq(f->s), seq); /* not due: nothing */
    assert_false(f->info.needs_head);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    assert_string_equal(last_kinds(f), "phase_changed,head_signed");
    body_str_is(last(f, 0), "from", "scheduled");
    body_str_is(last(f, 0), "to", "checkin");
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_CHECKIN);
    assert_int_equal(bo_session_next_timer(f->s), DEADLINE);
    seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE - 1), BO_E_OK);
    assert_int_equal(bo_session_seq(f->s), seq);

    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[1], T0), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[2], T0), BO_E_OK); /* without a bid */
    assert_int_equal(submit(f, 1, T0 + 1, 0), BO_E_OK);
    assert_int_equal(submit(f, 0, T0 + 2, 0), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[1], CHECKIN + 5), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[2], CHECKIN + 6), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    assert_string_equal(last_kinds(f), "phase_changed,bidders_revealed,head_signed");
    body_str_is(last(f, 0), "to", "awaiting_open");
    const bo_event *rev = last(f, 1);
    assert_int_equal(body_u64(rev, "count"), 2); /* the bids, not the registrations */
    assert_int_equal(body_u64(rev, "min"), 2);
    assert_true(body_bool(rev, "quorum"));
    body b = parse_body(rev);
    const msgpack_object *list = bo_mpo_get(&b.o, "bidders");
    assert_non_null(list);
    assert_int_equal(list->via.array.size, 2);
    const char *u;
    size_t n;
    bool signed_in;
    const uint8_t *hash;
    assert_true(bo_mpo_str(&list->via.array.ptr[0], "uscc", &u, &n)); /* sorted by USCC */
    assert_memory_equal(u, USCC[0], 18);
    assert_true(bo_mpo_bin(&list->via.array.ptr[0], "bid", &hash, &n));
    assert_int_equal(n, 32);
    assert_int_equal(hash[0], bid_info(0, 0).hash[0]);
    assert_true(bo_mpo_str(&list->via.array.ptr[1], "uscc", &u, &n));
    assert_memory_equal(u, USCC[1], 18);
    if (memmem(rev->body, rev->body_len, USCC[2], 18))
        fail_msg("a registered bidder without a bid is named in public");
    assert_true(bo_mpo_bool(&list->via.array.ptr[0], "signed_in", &signed_in));
    assert_false(signed_in);
    assert_true(bo_mpo_bool(&list->via.array.ptr[1], "signed_in", &signed_in));
    assert_true(signed_in);
    msgpack_zone_free(b.z);
    assert_int_equal(last(f, 2)->aud, BO_AUD_PUB); /* the head is public after the deadline */
    assert_true(bo_session_revealed(f->s));
    assert_int_equal(bo_session_next_timer(f->s), 0);
    seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE + H), BO_E_OK);
    assert_int_equal(bo_session_seq(f->s), seq);
    fx_free(f);

    /* a late timer does both transitions at once */
    f = opening(2, false);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE + 10), BO_E_OK);
    assert_string_equal(last_kinds(f), "phase_changed,phase_changed,bidders_revealed,head_signed");
    assert_false(body_bool(last(f, 2), "quorum"));
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_AWAITING_OPEN);
    fx_free(f);
}

/* ---------------------------------------------------------------- register ---- */

static void register_rules(void **state)
{
    fx *f = fx_new(2, false);
    expect_refusal(f, run(f, BO_CMD_REGISTER, &f->bid[0], T0), BO_E_NOT_FOUND);
    fx_free(f);

    f = opening(2, false);
    const bo_actor *nope[] = {&f->op, &f->host, &f->sup, &f->site, &f->obs};
    for (size_t i = 0; i < 5; i++)
        expect_refusal(f, run(f, BO_CMD_REGISTER, nope[i], T0), BO_E_FORBIDDEN);
    bo_actor noenc = f->bid[2];
    noenc.has_enc = false;
    expect_refusal(f, run(f, BO_CMD_REGISTER, &noenc, T0), BO_E_FORBIDDEN);
    noenc = f->bid[2];
    noenc.enc_chain.n = 0;
    expect_refusal(f, run(f, BO_CMD_REGISTER, &noenc, T0), BO_E_FORBIDDEN);

    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0), BO_E_OK); /* scheduled */
    assert_string_equal(last_kinds(f), "bidder_registered,tally");
    assert_false(f->info.needs_head);
    assert_false(f->info.replaced);
    const bo_event *reg = last(f, 0);
    assert_int_equal(reg->aud, BO_AUD_BIDDER);
    assert_string_equal(reg->aud_uscc, USCC[0]);
    assert_false(body_bool(reg, "replaced"));
    body_str_is(reg, "person", USCC[0]);
    assert_int_equal(body_u64(last(f, 1), "registered"), 1);
    body_str_is(last(f, 1), "cause", "registered");
    assert_int_equal(last(f, 1)->aud, BO_AUD_STAFF);
    assert_true(bo_session_is_registered(f->s, USCC[0]));

    /* the same certificates again: nothing to append */
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0 + 1), BO_E_OK);
    assert_true(f->info.already);
    assert_int_equal(bo_session_seq(f->s), seq);

    /* other certificates: replaced, counts unchanged so no tally */
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    bo_actor renewed = f->bid[0];
    memset(renewed.enc_fpr, 0xcc, 32);
    assert_int_equal(run(f, BO_CMD_REGISTER, &renewed, CHECKIN + 1), BO_E_OK); /* checkin */
    assert_true(f->info.replaced);
    assert_string_equal(last_kinds(f), "bidder_registered");
    assert_true(body_bool(last(f, 0), "replaced"));

    /* blacklisted: the interception is appended, the command refused */
    assert_int_equal(run_blacklisted(f, BO_CMD_REGISTER, &f->bid[1], CHECKIN + 2), BO_E_OK);
    assert_int_equal(f->info.refuse_after, BO_E_BLACKLISTED);
    assert_string_equal(last_kinds(f), "bidder_intercepted,tally");
    assert_int_equal(last(f, 0)->aud, BO_AUD_SUP);
    body_str_is(last(f, 0), "source", "信用中国");
    body_str_is(last(f, 1), "cause", "intercepted");
    assert_int_equal(body_u64(last(f, 1), "intercepted"), 1);
    assert_false(bo_session_is_registered(f->s, USCC[1]));
    unsigned r, si, ic;
    bo_session_counts(f->s, &r, &si, &ic);
    assert_int_equal(r, 1);
    assert_int_equal(ic, 1);

    /* after the deadline, even before the timer ran */
    expect_refusal(f, run(f, BO_CMD_REGISTER, &f->bid[2], DEADLINE), BO_E_DEADLINE_PASSED);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    expect_refusal(f, run(f, BO_CMD_REGISTER, &f->bid[2], DEADLINE + 1), BO_E_DEADLINE_PASSED);
    fx_free(f);
}

/* ------------------------------------------------------------------ signin ---- */

static void signin_rules(void **state)
{
    fx *f = opening(1, false);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0), BO_E_OK);
    expect_refusal(f, run(f, BO_CMD_SIGNIN, &f->bid[0], T0 + 1), BO_E_PHASE); /* scheduled */
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    expect_refusal(f, run(f, BO_CMD_SIGNIN, &f->host, CHECKIN), BO_E_FORBIDDEN);
    expect_refusal(f, run(f, BO_CMD_SIGNIN, &f->bid[1], CHECKIN), BO_E_NOT_REGISTERED);
    bo_actor other_cert = f->bid[0];
    memset(other_cert.fpr, 0x99, 32);
    expect_refusal(f, run(f, BO_CMD_SIGNIN, &other_cert, CHECKIN), BO_E_NOT_REGISTERED);
    assert_string_equal(f->detail, "signing certificate differs from the registered one");

    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 1), BO_E_OK);
    assert_string_equal(last_kinds(f), "bidder_signed_in,tally");
    assert_int_equal(last(f, 0)->aud, BO_AUD_BIDDER); /* before the deadline: its own */
    body_str_is(last(f, 0), "uscc", USCC[0]);
    body_str_is(last(f, 1), "cause", "signed_in");
    assert_int_equal(body_u64(last(f, 1), "signed_in"), 1);
    assert_true(bo_session_is_signed_in(f->s, USCC[0]));
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 2), BO_E_OK);
    assert_true(f->info.already);
    assert_int_equal(bo_session_seq(f->s), seq);
    fx_free(f);

    /* after the deadline sign-ins are public; blacklisted ones are staff; only bidders
     * with a bid take part */
    f = opening(1, false);
    register_and_submit(f, 2);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[2], T0), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    seq = bo_session_seq(f->s);
    expect_refusal(f, run(f, BO_CMD_SIGNIN, &f->bid[2], DEADLINE + 1), BO_E_NOT_REGISTERED);
    expect_refusal(f, run_blacklisted(f, BO_CMD_SIGNIN, &f->bid[2], DEADLINE + 1),
                   BO_E_NOT_REGISTERED); /* not even an interception names it */
    assert_int_equal(bo_session_seq(f->s), seq);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], DEADLINE + 1), BO_E_OK);
    assert_int_equal(last(f, 0)->aud, BO_AUD_PUB);
    assert_int_equal(run_blacklisted(f, BO_CMD_SIGNIN, &f->bid[1], DEADLINE + 2), BO_E_OK);
    assert_int_equal(f->info.refuse_after, BO_E_BLACKLISTED);
    assert_string_equal(last_kinds(f), "bidder_intercepted,tally");
    assert_int_equal(last(f, 0)->aud, BO_AUD_STAFF);
    assert_false(bo_session_is_registered(f->s, USCC[1]));
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, DEADLINE + 3), BO_E_OK);
    expect_refusal(f, run(f, BO_CMD_SIGNIN, &f->bid[1], DEADLINE + 4), BO_E_PHASE);
    fx_free(f);
}

/* ------------------------------------------------------------ pause, resume ---- */

static void pause_and_resume(void **state)
{
    fx *f = opening(1, false);
    register_and_submit(f, 1);
    expect_refusal(f, run(f, BO_CMD_PAUSE, &f->host, T0 + 1), BO_E_PHASE); /* the deadline */
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    expect_refusal(f, run(f, BO_CMD_PAUSE, &f->host, CHECKIN + 1), BO_E_PHASE);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);

    expect_refusal(f, run(f, BO_CMD_PAUSE, &f->host2, DEADLINE + 1), BO_E_NOT_HOST);
    const bo_actor *nope[] = {&f->op, &f->sup, &f->site, &f->obs, &f->bid[0], &f->sys};
    for (size_t i = 0; i < 6; i++)
        expect_refusal(f, run(f, BO_CMD_PAUSE, nope[i], DEADLINE + 1), BO_E_FORBIDDEN);
    bo_cmd c = cmd(f, BO_CMD_PAUSE, &f->host, DEADLINE + 1);
    expect_refusal(f, run_cmd(f, &c), BO_E_BAD_FIELD); /* no reason */
    expect_refusal(f, run(f, BO_CMD_RESUME, &f->host, DEADLINE + 1), BO_E_PHASE);

    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, DEADLINE + 1000), BO_E_OK);
    assert_string_equal(last_kinds(f), "paused");
    assert_false(f->info.needs_head);
    body_str_is(last(f, 0), "reason", "网络故障");
    assert_true(bo_session_paused(f->s));
    assert_int_equal(bo_session_next_timer(f->s), 0);
    expect_refusal(f, run(f, BO_CMD_PAUSE, &f->host, DEADLINE + 2000), BO_E_PAUSED);
    expect_refusal(f, run(f, BO_CMD_RESUME, &f->host2, DEADLINE + 2000), BO_E_NOT_HOST);
    expect_refusal(f, run(f, BO_CMD_RESUME, &f->op, DEADLINE + 2000), BO_E_FORBIDDEN);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, DEADLINE + 61000), BO_E_OK);
    assert_string_equal(last_kinds(f), "resumed");
    assert_int_equal(body_u64(last(f, 0), "paused_ms"), 60000);
    assert_false(bo_session_paused(f->s));

    /* fail is allowed while paused, and clears it */
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, DEADLINE + 70000), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, DEADLINE + 80000), BO_E_OK);
    assert_false(bo_session_paused(f->s));
    expect_refusal(f, run(f, BO_CMD_RESUME, &f->host, DEADLINE + 90000), BO_E_PHASE);
    fx_free(f);
}

/* -------------------------------------------------------------------- fail ---- */

static void fail_rules(void **state)
{
    fx *f = opening(3, false);
    const bo_actor *nope[] = {&f->sup, &f->site, &f->obs, &f->bid[0], &f->sys};
    for (size_t i = 0; i < 5; i++)
        expect_refusal(f, run(f, BO_CMD_FAIL, nope[i], T0), BO_E_FORBIDDEN);
    expect_refusal(f, run(f, BO_CMD_FAIL, &f->host2, T0), BO_E_NOT_HOST);
    char r501[502], r500[501];
    memset(r501, 'r', 501), r501[501] = 0;
    memset(r500, 'r', 500), r500[500] = 0;
    bo_cmd c = cmd(f, BO_CMD_FAIL, &f->op, T0);
    c.reason = r501;
    expect_refusal(f, run_cmd(f, &c), BO_E_BAD_FIELD);
    c.reason = "";
    expect_refusal(f, run_cmd(f, &c), BO_E_BAD_FIELD);
    c.reason = r500;
    assert_int_equal(run_cmd(f, &c), BO_E_OK); /* an operator, before the deadline */
    assert_string_equal(last_kinds(f), "phase_changed,head_signed");
    body_str_is(last(f, 0), "to", "failed");
    body_str_is(last(f, 0), "reason", r500);
    assert_int_equal(last(f, 1)->aud, BO_AUD_SUP); /* failed before the deadline: still secret */
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_FAILED);
    expect_refusal(f, run(f, BO_CMD_FAIL, &f->host, T0 + 1), BO_E_PHASE);
    expect_refusal(f, run(f, BO_CMD_REGISTER, &f->bid[0], T0 + 1), BO_E_PHASE);
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    assert_int_equal(bo_session_seq(f->s), seq); /* no timers once failed */
    assert_int_equal(bo_session_next_timer(f->s), 0);
    fx_free(f);
}

static void quorum_rule(void **state)
{
    fx *f = opening(3, false);
    register_and_submit(f, 1);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[1], T0), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[2], T0), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    assert_string_equal(last_kinds(f), "phase_changed,phase_changed,bidders_revealed,head_signed");
    assert_false(body_bool(last(f, 2), "quorum")); /* three registered, one bid */
    assert_int_equal(body_u64(last(f, 2), "count"), 1);
    expect_refusal(f, run(f, BO_CMD_PAUSE, &f->host, DEADLINE + 1), BO_E_QUORUM);
    expect_refusal(f, decrypt_start(f, DEADLINE + 1, 0), BO_E_QUORUM);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], DEADLINE + 2), BO_E_OK); /* bidders may */
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, DEADLINE + 3), BO_E_OK);
    assert_int_equal(last(f, 1)->aud, BO_AUD_PUB);
    fx_free(f);
}

/* ----------------------------------------------------------------- secrecy ---- */


static void who_sees_which_event(void **state)
{
    for (int early = 0; early < 2; early++) {
        fx *f = opening(2, early);
        const char *t = early ? "p" : "-"; /* a tally, seen by everyone but staff and sup */
        const char *ts = early ? "p" : "s";
        char w[8][8];
        assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0), BO_E_OK);
        /* bidder_registered (b:0), tally */
        for (int i = 0; i < 8; i++)
            snprintf(w[i], 8, "-%s", t);
        snprintf(w[3], 8, "-%s", ts);
        snprintf(w[5], 8, "b%s", t);
        snprintf(w[7], 8, "aa");
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});
        /* bid_submitted (b:0), tally: exactly like a registration */
        assert_int_equal(submit(f, 0, T0 + 1, 0), BO_E_OK);
        assert_string_equal(last_kinds(f), "bid_submitted,tally");
        body_str_is(last(f, 1), "cause", "submitted");
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});
        /* a replacement changes no count: no tally */
        assert_int_equal(submit(f, 0, T0 + 2, 1), BO_E_OK);
        expect_streams(f, (const char *const[]){"-", "-", "-", "-", "-", "b", "-", "a"});

        assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
        /* phase_changed (pub), head_signed (sup) */
        expect_streams(f, (const char *const[]){"p-", "p-", "p-", "p-", "p-", "p-", "p-", "aa"});

        assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 1), BO_E_OK);
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});

        assert_int_equal(run_blacklisted(f, BO_CMD_REGISTER, &f->bid[1], CHECKIN + 2), BO_E_OK);
        /* bidder_intercepted (sup), tally */
        for (int i = 0; i < 8; i++)
            snprintf(w[i], 8, "-%s", t);
        snprintf(w[3], 8, "-%s", ts);
        snprintf(w[7], 8, "aa");
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});

        assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[2], CHECKIN + 3), BO_E_OK);
        assert_int_equal(submit(f, 2, CHECKIN + 4, 0), BO_E_OK);
        /* bid_submitted (b:2, seen by neither bidder 0 nor 1), tally */
        for (int i = 0; i < 8; i++)
            snprintf(w[i], 8, "-%s", t);
        snprintf(w[3], 8, "-%s", ts);
        snprintf(w[7], 8, "aa");
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});
        assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
        /* phase_changed, bidders_revealed, head_signed: all public now */
        expect_streams(f, (const char *const[]){"ppp", "ppp", "ppp", "ppp", "ppp", "ppp", "ppp",
                                                "aaa"});
        assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[2], DEADLINE + 1), BO_E_OK);
        /* bidder_signed_in is public after the deadline; the tally keeps its audience */
        for (int i = 0; i < 8; i++)
            snprintf(w[i], 8, "p%s", t);
        snprintf(w[3], 8, "p%s", ts);
        snprintf(w[7], 8, "aa");
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});
        assert_int_equal(run_blacklisted(f, BO_CMD_SIGNIN, &f->bid[0], DEADLINE + 2), BO_E_OK);
        /* bidder_intercepted is staff after the deadline */
        for (int i = 0; i < 8; i++)
            snprintf(w[i], 8, "-%s", t);
        snprintf(w[3], 8, "s%s", ts);
        snprintf(w[7], 8, "aa");
        expect_streams(f, (const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]});
        fx_free(f);
    }
}

static void private_streams(void **state)
{
    fx *f = opening(2, false);
    viewer vs[8];
    viewers(f, vs);
    bo_stream want[8] = {BO_STREAM_NONE,   BO_STREAM_NONE,   BO_STREAM_NONE,
                         BO_STREAM_STAFF,  BO_STREAM_NONE,   BO_STREAM_BIDDER,
                         BO_STREAM_BIDDER, BO_STREAM_ALL};
    for (int i = 0; i < 8; i++)
        if (bo_session_private_stream(f->s, &vs[i].v) != want[i])
            fail_msg("%s: private stream %d", vs[i].name, bo_session_private_stream(f->s, &vs[i].v));
    fx_free(f);
}

/* Positions: every stream numbered from 1 without gaps; `at` counts pub events before. */
static void stream_positions(void **state)
{
    fx *f = opening(2, false);
    register_and_submit(f, 2);
    run(f, BO_CMD_TICK, &f->sys, CHECKIN);
    run(f, BO_CMD_SIGNIN, &f->bid[0], CHECKIN + 1);
    run(f, BO_CMD_TICK, &f->sys, DEADLINE);
    run(f, BO_CMD_SIGNIN, &f->bid[1], DEADLINE + 1);
    uint64_t pub = 0, staff = 0, b0 = 0, b1 = 0;
    for (size_t i = 0; i < f->log.n; i++) {
        const bo_event *ev = &f->log.v[i];
        assert_int_equal(ev->seq, i + 1);
        if (ev->aud == BO_AUD_PUB) {
            assert_int_equal(ev->pub_pos, ++pub);
            assert_int_equal(ev->priv_pos, 0);
            continue;
        }
        assert_int_equal(ev->pub_pos, pub);
        if (ev->aud == BO_AUD_STAFF)
            assert_int_equal(ev->priv_pos, ++staff);
        else if (ev->aud == BO_AUD_BIDDER)
            assert_int_equal(ev->priv_pos, !strcmp(ev->aud_uscc, USCC[0]) ? ++b0 : ++b1);
        else
            assert_int_equal(ev->priv_pos, 0);
    }
    assert_int_equal(bo_session_pub_count(f->s), pub);
    assert_int_equal(bo_session_staff_count(f->s), staff);
    assert_int_equal(bo_session_bidder_count(f->s, USCC[0]), b0);
    assert_int_equal(bo_session_bidder_count(f->s, USCC[1]), b1);
    assert_int_equal(b0, 3); /* registered, submitted, signed in before the deadline */
    assert_int_equal(b1, 2); /* registered, submitted; its sign-in was public */
    assert_int_equal(bo_session_bidder_count(f->s, USCC[2]), 0);
    fx_free(f);
}

/* -------------------------------------------------------------- snapshots ---- */

/* One viewer's snapshot against what protocol.md §7 lets it see. */
static void check_snapshot(fx *f, const viewer *vw, bool counts, bool bidders, bool revealed)
{
    snap s;
    snap_take(f, &vw->v, &s);
    bool sup = vw->v.role == BO_ROLE_SUPERVISOR, bid = vw->v.role == BO_ROLE_BIDDER;
    if ((bo_mpo_get(&s.o, "counts") != NULL) != counts)
        fail_msg("%s: counts %s", vw->name, counts ? "missing" : "leaked");
    if ((bo_mpo_get(&s.o, "bidders") != NULL) != bidders)
        fail_msg("%s: bidders %s", vw->name, bidders ? "missing" : "leaked");
    assert_int_equal(bo_mpo_get(&s.o, "me") != NULL, bid);
    assert_int_equal(bo_mpo_get(&s.o, "quorum") != NULL, revealed);
    for (int i = 0; i < 3 && !bidders; i++) {
        bool own = bid && !strcmp(vw->v.uscc, USCC[i]);
        if (!own && mentions(&s, USCC[i]))
            fail_msg("%s: snapshot names %s", vw->name, USCC[i]);
        if (mentions(&s, bid ? "Company B" : "Company"))
            fail_msg("%s: snapshot names a company", vw->name);
    }
    const msgpack_object *pos = bo_mpo_get(&s.o, "pos");
    assert_non_null(pos);
    uint64_t v;
    assert_int_equal(bo_mpo_u64(pos, "all", &v), sup);
    if (sup)
        assert_int_equal(v, bo_session_seq(f->s));
    else {
        assert_true(bo_mpo_u64(pos, "pub", &v));
        assert_int_equal(v, bo_session_pub_count(f->s));
    }
    const char *phase;
    size_t n;
    assert_true(bo_mpo_str(&s.o, "phase", &phase, &n));
    assert_true(bo_mpo_get(&s.o, "tender") != NULL);
    snap_free(&s);
}

static void snapshots_per_role(void **state)
{
    for (int early = 0; early < 2; early++) {
        fx *f = opening(2, early);
        register_and_submit(f, 2);
        run(f, BO_CMD_TICK, &f->sys, CHECKIN);
        run(f, BO_CMD_SIGNIN, &f->bid[1], CHECKIN + 1);
        run_blacklisted(f, BO_CMD_REGISTER, &f->bid[2], CHECKIN + 2);
        viewer vs[8];
        viewers(f, vs);
        for (int after = 0; after < 2; after++) {
            if (after)
                run(f, BO_CMD_TICK, &f->sys, DEADLINE);
            for (int i = 0; i < 8; i++) {
                bool sup = i == 7, host = i == 3;
                check_snapshot(f, &vs[i], sup || host || early || after, sup || after, after);
            }
        }
        /* a bidder sees itself */
        snap s;
        snap_take(f, &vs[6].v, &s);
        const msgpack_object *me = bo_mpo_get(&s.o, "me");
        bool b;
        assert_true(bo_mpo_bool(me, "registered", &b));
        assert_true(b);
        assert_true(bo_mpo_bool(me, "signed_in", &b));
        assert_true(b);
        uint64_t priv;
        assert_true(bo_mpo_u64(bo_mpo_get(&s.o, "pos"), "priv", &priv));
        assert_int_equal(priv, bo_session_bidder_count(f->s, USCC[1]));
        snap_free(&s);
        /* the host's counts */
        snap_take(f, &vs[3].v, &s);
        const msgpack_object *c = bo_mpo_get(&s.o, "counts");
        uint64_t x;
        assert_true(bo_mpo_u64(c, "registered", &x));
        assert_int_equal(x, 2);
        assert_true(bo_mpo_u64(c, "signed_in", &x));
        assert_int_equal(x, 1);
        assert_true(bo_mpo_u64(c, "intercepted", &x));
        assert_int_equal(x, 1);
        snap_free(&s);
        fx_free(f);
    }
    fx *f = fx_new(2, false);
    bo_buf b;
    bo_buf_init(&b, 1024);
    bo_view v = {BO_ROLE_OBSERVER, NULL, NULL};
    assert_int_equal(bo_session_snapshot(f->s, &v, T0, &b), BO_E_NOT_FOUND);
    bo_buf_cleanup(&b);
    fx_free(f);
}

static void snapshot_after_failure(void **state)
{
    fx *f = opening(2, false);
    run(f, BO_CMD_FAIL, &f->op, T0 + 1);
    snap s;
    bo_view v = {BO_ROLE_OBSERVER, NULL, NULL};
    snap_take(f, &v, &s);
    const char *r;
    size_t n;
    assert_true(bo_mpo_str(&s.o, "failed_reason", &r, &n));
    assert_memory_equal(r, "网络故障", n);
    assert_true(bo_mpo_str(&s.o, "phase", &r, &n));
    assert_memory_equal(r, "failed", n);
    assert_null(bo_mpo_get(&s.o, "counts")); /* failed before the deadline: still secret */
    snap_free(&s);
    fx_free(f);
}

/* -------------------------------------------------------------------- fold ---- */

static void fold_refuses_broken_chains(void **state)
{
    fx *f = opening(2, false);
    bo_cmd c = cmd(f, BO_CMD_REGISTER, &f->bid[0], T0);
    bo_event_list evs;
    bo_event_list_init(&evs);
    assert_int_equal(bo_session_apply(f->s, &c, &evs, &f->info, NULL, 0), BO_E_OK);
    assert_int_equal(bo_session_seal(f->s, &evs), BO_E_OK);
    bo_event *ev = &evs.v[0];
    uint64_t seq = bo_session_seq(f->s);
    uint8_t head[32];
    memcpy(head, bo_session_head(f->s), 32);

    ev->seq++; /* a gap */
    assert_int_equal(bo_session_fold(f->s, ev), BO_E_CONFLICT);
    ev->seq--;
    ev->prev_hash[0] ^= 1; /* another history */
    assert_int_equal(bo_session_fold(f->s, ev), BO_E_CONFLICT);
    ev->prev_hash[0] ^= 1;
    ev->body[ev->body_len - 1] ^= 1; /* the body changed, the hash did not */
    assert_int_equal(bo_session_fold(f->s, ev), BO_E_BAD_FIELD);
    ev->body[ev->body_len - 1] ^= 1;
    ev->hash[5] ^= 1;
    assert_int_equal(bo_session_fold(f->s, ev), BO_E_BAD_FIELD);
    ev->hash[5] ^= 1;
    ev->aud = BO_AUD_PUB; /* a private event made public */
    bo_event_compute_hash(OID, ev, ev->hash);
    assert_int_equal(bo_session_fold(f->s, ev), BO_E_BAD_FIELD);
    assert_int_equal(bo_session_seq(f->s), seq); /* unchanged by every refusal */
    assert_memory_equal(bo_session_head(f->s), head, 32);
    assert_false(bo_session_is_registered(f->s, USCC[0]));
    ev->aud = BO_AUD_BIDDER;
    bo_event_compute_hash(OID, ev, ev->hash);
    assert_int_equal(bo_session_fold(f->s, ev), BO_E_OK);
    assert_int_equal(bo_session_fold(f->s, ev), BO_E_CONFLICT); /* twice */
    bo_event_list_cleanup(&evs);
    fx_free(f);
}

static void apply_is_deterministic(void **state)
{
    fx *f = opening(2, false);
    bo_cmd c = cmd(f, BO_CMD_REGISTER, &f->bid[0], T0 + 7);
    bo_event_list a, b;
    bo_event_list_init(&a);
    bo_event_list_init(&b);
    assert_int_equal(bo_session_apply(f->s, &c, &a, &f->info, NULL, 0), BO_E_OK);
    assert_int_equal(bo_session_apply(f->s, &c, &b, &f->info, NULL, 0), BO_E_OK);
    assert_int_equal(a.n, b.n);
    bo_session_seal(f->s, &a);
    bo_session_seal(f->s, &b);
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(a.v[i].body_len, b.v[i].body_len);
        assert_memory_equal(a.v[i].body, b.v[i].body, a.v[i].body_len);
        assert_memory_equal(a.v[i].hash, b.v[i].hash, 32);
        assert_int_equal(a.v[i].ts, T0 + 7);
    }
    bo_event_list_cleanup(&a);
    bo_event_list_cleanup(&b);
    fx_free(f);
}

static void head_payload_and_audience(void **state)
{
    fx *f = opening(1, false);
    uint8_t h[32];
    memset(h, 0x77, 32);
    bo_buf b;
    bo_buf_init(&b, 256);
    assert_int_equal(bo_session_head_payload("o1", 300, h, -1, &b), BO_E_OK);
    static const uint8_t want_head[] = {0x94, 0xa2, 'o', '1', 0xcd, 0x01, 0x2c, 0xc4, 0x20};
    assert_memory_equal(b.data, want_head, sizeof(want_head));
    assert_int_equal(b.len, sizeof(want_head) + 32 + 1);
    assert_int_equal(b.data[b.len - 1], 0xff);
    bo_buf_cleanup(&b);
    bo_event_list l;
    bo_event_list_init(&l);
    bo_session_head_event(f->s, BO_PHASE_CHECKIN, 9, h, T0, sigbytes, 8, key_fpr, &l);
    bo_session_head_event(f->s, BO_PHASE_AWAITING_OPEN, 9, h, T0, sigbytes, 8, key_fpr, &l);
    bo_session_head_event(f->s, BO_PHASE_FAILED, 9, h, T0, sigbytes, 8, key_fpr, &l);
    assert_int_equal(l.v[0].aud, BO_AUD_SUP);
    assert_int_equal(l.v[1].aud, BO_AUD_PUB);
    assert_int_equal(l.v[2].aud, BO_AUD_SUP);
    assert_int_equal(body_u64(&l.v[0], "seq"), 9);
    bo_event_list_cleanup(&l);
    fx_free(f);
}

/* ------------------------------------------------------------------ replay ---- */

static void scenario(fx *f)
{
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0 + 1), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[1], T0 + 2), BO_E_OK);
    assert_int_equal(submit(f, 0, T0 + 3, 0), BO_E_OK);
    assert_int_equal(submit(f, 1, T0 + 4, 0), BO_E_OK);
    assert_int_equal(run_blacklisted(f, BO_CMD_REGISTER, &f->bid[2], T0 + 3), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[1], CHECKIN + 1), BO_E_OK);
    bo_actor renewed = f->bid[0];
    memset(renewed.enc_fpr, 0xcd, 32);
    assert_int_equal(run(f, BO_CMD_REGISTER, &renewed, CHECKIN + 2), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    f->bid[0] = renewed;
    assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[0], DEADLINE + 1), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, DEADLINE + 2), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, DEADLINE + 3), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, DEADLINE + 4), BO_E_OK);
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
        assert_int_equal(bo_session_fold(r, &ev), BO_E_OK);
        assert_int_equal(ev.pub_pos, f->log.v[i].pub_pos);
        assert_int_equal(ev.priv_pos, f->log.v[i].priv_pos);
        bo_event_cleanup(&ev);
        bo_buf_cleanup(&rec);
    }
    assert_int_equal(bo_session_seq(r), bo_session_seq(f->s));
    assert_memory_equal(bo_session_head(r), bo_session_head(f->s), 32);
    assert_int_equal(bo_session_phase(r), BO_PHASE_FAILED);
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 8; i++) {
        bo_buf a, b;
        bo_buf_init(&a, 1 << 20);
        bo_buf_init(&b, 1 << 20);
        assert_int_equal(bo_session_snapshot(f->s, &vs[i].v, DEADLINE + 9, &a), BO_E_OK);
        assert_int_equal(bo_session_snapshot(r, &vs[i].v, DEADLINE + 9, &b), BO_E_OK);
        if (a.len != b.len || memcmp(a.data, b.data, a.len))
            fail_msg("%s: snapshots differ after replay", vs[i].name);
        bo_buf_cleanup(&a);
        bo_buf_cleanup(&b);
    }
    bo_session_free(r);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(create_rules),
        cmocka_unit_test(timers),
        cmocka_unit_test(register_rules),
        cmocka_unit_test(signin_rules),
        cmocka_unit_test(pause_and_resume),
        cmocka_unit_test(fail_rules),
        cmocka_unit_test(quorum_rule),
        cmocka_unit_test(who_sees_which_event),
        cmocka_unit_test(private_streams),
        cmocka_unit_test(stream_positions),
        cmocka_unit_test(snapshots_per_role),
        cmocka_unit_test(snapshot_after_failure),
        cmocka_unit_test(fold_refuses_broken_chains),
        cmocka_unit_test(apply_is_deterministic),
        cmocka_unit_test(head_payload_and_audience),
        cmocka_unit_test(replay_from_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
