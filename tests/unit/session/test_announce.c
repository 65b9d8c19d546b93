/* Tests for the opening's last part (docs/protocol.md §11): the form check at decryption
 * and the quorum of valid bids, the decryption evidence, the announcement and its orders,
 * verifiable draws against values computed here with HMAC-SHA256, the benchmark price
 * against hand-computed cases, confirmation, objections and answers, messages, the close,
 * the record, fold refusing bodies that disagree with the state, a whole opening replayed
 * from storage records to a byte-identical record, and the secrecy that still holds. */
#include "session_fx.h"

#include "bo/hash.h"
#include "bo/sigpayload.h"
#include "bo_session_internal.h"

#define START (DEADLINE + 1000)
#define ENDS (START + 1800 * 1000)
#define ANN (START + 100)           /* announcing begins before this */
#define CONF_W 600                  /* confirm_open's default window, seconds */

static uint8_t SEED[32];

/* ---------------------------------------------------------------- helpers ---- */

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

static void body_bin_is(const bo_event *ev, const char *key, const void *want, size_t n)
{
    body b = parse_body(ev);
    const uint8_t *p;
    size_t len;
    if (!bo_mpo_bin(&b.o, key, &p, &len) || len != n || memcmp(p, want, n))
        fail_msg("%s.%s is not the expected bytes", bo_event_kind_name(ev->kind), key);
    msgpack_zone_free(b.z);
}

/* The strings of an array member of a body, comma-separated. */
static const char *body_list(const bo_event *ev, const char *key)
{
    static char s[512];
    body b = parse_body(ev);
    const msgpack_object *a = bo_mpo_get(&b.o, key);
    assert_non_null(a);
    assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
    s[0] = 0;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        const msgpack_object *e = &a->via.array.ptr[i];
        assert_int_equal(e->type, MSGPACK_OBJECT_STR);
        if (i)
            strcat(s, ",");
        strncat(s, e->via.str.ptr, e->via.str.size);
    }
    msgpack_zone_free(b.z);
    return s;
}

/* Which of the three bidders a USCC is: "0", "1", "2"; lists of them shortened. */
static const char *who(const char *list)
{
    static char s[64];
    size_t k = 0;
    for (const char *p = list; *p && k + 2 < sizeof(s);) {
        for (int i = 0; i < 3; i++)
            if (!strncmp(p, USCC[i], 18))
                s[k++] = (char)('0' + i);
        p += 18;
        if (*p == ',') {
            s[k++] = ',';
            p++;
        }
    }
    s[k] = 0;
    return s;
}

static void refused_cmd(fx *f, const bo_cmd *c, bo_err want)
{
    uint64_t seq = bo_session_seq(f->s);
    expect_refusal(f, run_cmd(f, c), want);
    assert_int_equal(bo_session_seq(f->s), seq);
}

/* The opening form {price, days}. */
static bo_bytes form2(bo_buf *store, const char *price, const char *days)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (price)
        bo_mpmap_str(m, "price", price);
    if (days)
        bo_mpmap_str(m, "days", days);
    bo_buf_reset(store);
    assert_int_equal(bo_mpmap_finish(m, store), BO_E_OK);
    bo_mpmap_free(m);
    return (bo_bytes){store->data, store->len};
}

static bo_err decrypted_with(fx *f, int i, const char *price, bo_time_ms now)
{
    bo_buf store;
    bo_buf_init(&store, 4096);
    bo_cmd c = cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, now);
    c.uscc = USCC[i];
    c.form = form2(&store, price, "180");
    bo_err err = run_cmd(f, &c);
    bo_buf_cleanup(&store);
    return err;
}

/* Created by the host with SHA-256(SEED) as its seed commitment (f->tender as set). */
static void create(fx *f)
{
    bo_cmd c = cmd(f, BO_CMD_CREATE, &f->host, T0);
    bo_sha256(SEED, 32, c.seed_commit);
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
}

/* Three bidders with bids (bidder 1 replaced its bid last), all signed in, decrypting. */
static void to_decrypting(fx *f)
{
    create(f);
    register_and_submit(f, 3);
    assert_int_equal(submit(f, 1, T0 + 20, 1), BO_E_OK); /* accepted last */
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CHECKIN), BO_E_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(run(f, BO_CMD_SIGNIN, &f->bid[i], CHECKIN + 1 + i), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, DEADLINE), BO_E_OK);
    assert_int_equal(decrypt_start(f, START, 0), BO_E_OK);
}

/* ... and announcing: bidder i's price prices[i] (NULL: withdrawn after the window). */
static void to_announcing(fx *f, const char *const prices[3])
{
    to_decrypting(f);
    bool pending = false;
    for (int i = 0; i < 3; i++) {
        if (prices[i])
            assert_int_equal(decrypted_with(f, i, prices[i], START + 10 + i), BO_E_OK);
        pending = pending || !prices[i];
    }
    if (pending) {
        assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS), BO_E_OK);
        for (int i = 0; i < 3; i++)
            if (!prices[i])
                assert_int_equal(classify(f, &f->host, i, "withdrawn", ENDS + 1 + i), BO_E_OK);
    }
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_ANNOUNCING);
}

static const char *const PRICES[3] = {"100", "200", "301"};

/* An opening announcing with min_bidders min and the tender as change() leaves it. */
static fx *announcing(unsigned min, void (*change)(bo_tender *t), const char *const prices[3])
{
    fx *f = fx_new(min, false);
    if (change)
        change(&f->tender);
    to_announcing(f, prices ? prices : PRICES);
    return f;
}

static bo_err announce(fx *f, bool all, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_ANNOUNCE, &f->host, now);
    c.all = all;
    return run_cmd(f, &c);
}

static bo_err draw_as(fx *f, const bo_actor *a, const char *id, const uint8_t *seed,
                      bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_DRAW, a, now);
    c.draw = id;
    memcpy(c.seed, seed, 32);
    return run_cmd(f, &c);
}

static bo_err draw(fx *f, const char *id, bo_time_ms now)
{
    return draw_as(f, &f->host, id, SEED, now);
}

static bo_err confirm_open(fx *f, uint32_t window_s, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_CONFIRM_OPEN, &f->host, now);
    c.window_s = window_s;
    return run_cmd(f, &c);
}

static bo_err confirm_as(fx *f, const bo_actor *a, const uint8_t hash[32], bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_CONFIRM, a, now);
    memcpy(c.record_hash, hash, 32);
    return run_cmd(f, &c);
}

static bo_err confirm(fx *f, int i, bo_time_ms now)
{
    uint8_t h[32];
    assert_true(bo_session_confirm_hash(f->s, h));
    return confirm_as(f, &f->bid[i], h, now);
}

static bo_err object(fx *f, int i, const char *text, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_OBJECT, &f->bid[i], now);
    c.text = text;
    return run_cmd(f, &c);
}

static bo_err answer_as(fx *f, const bo_actor *a, uint64_t n, const char *text, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_ANSWER, a, now);
    c.objection = n;
    c.text = text;
    return run_cmd(f, &c);
}

static bo_err message(fx *f, const bo_actor *a, const char *text, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_MESSAGE, a, now);
    c.text = text;
    return run_cmd(f, &c);
}

/* SHA-256 of the record as it stands. */
static void record_hash_now(fx *f, uint8_t out[32])
{
    bo_buf b;
    bo_buf_init(&b, 1 << 22);
    assert_int_equal(bo_session_record(f->s, &b), BO_E_OK);
    bo_sha256(b.data, b.len, out);
    bo_buf_cleanup(&b);
}

/* ------------------------------------------------ what the draws compute ---- */

/* inputs = SHA-256(canonical([[uscc, signin_sig, commit] for each valid bid, by USCC])),
 * assembled here from what the fixture gave: every bidder signed in with sigbytes, and the
 * commitments of bid_info (bidder 1's second bid). */
static void expect_inputs(const bool valid[3], uint8_t out[32])
{
    bo_buf b;
    bo_buf_init(&b, 4096);
    uint32_t n = valid[0] + valid[1] + valid[2];
    bo_mp_array_header(&b, n);
    for (int i = 0; i < 3; i++) {
        if (!valid[i])
            continue;
        bo_bid_info bi = bid_info(i, i == 1);
        bo_mp_array_header(&b, 3);
        bo_mp_str(&b, USCC[i], 18);
        bo_mp_bin(&b, sigbytes, sizeof(sigbytes));
        bo_mp_bin(&b, bi.commit, 32);
    }
    bo_sha256(b.data, b.len, out);
    bo_buf_cleanup(&b);
}

/* HMAC-SHA256(SEED, ctx 0x00 oid 0x00 id inputs uscc?) */
static void expect_mac(const char *ctx, const char *id, const uint8_t inputs[32],
                       const char *uscc, uint8_t out[32])
{
    uint8_t msg[256];
    size_t n = 0;
    memcpy(msg + n, ctx, strlen(ctx) + 1), n += strlen(ctx) + 1;
    memcpy(msg + n, OID, strlen(OID) + 1), n += strlen(OID) + 1;
    memcpy(msg + n, id, strlen(id)), n += strlen(id);
    memcpy(msg + n, inputs, 32), n += 32;
    if (uscc)
        memcpy(msg + n, uscc, 18), n += 18;
    assert_int_equal(bo_hmac_sha256(SEED, 32, msg, n, out), BO_E_OK);
}

static void hmac_known_answer(void **state)
{
    /* RFC 4231 test case 2: the primitive the draws use */
    uint8_t out[32];
    static const uint8_t want[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    assert_int_equal(bo_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out),
                     BO_E_OK);
    assert_memory_equal(out, want, 32);
}

/* ------------------------------------------------------------- tender setups ---- */

static const char *const K_VALUES[] = {"0.95", "0.96", "0.97", "0.98"};

static void add_k(bo_tender *t)
{
    bo_tender_draw *d = &t->draws[t->n_draws++];
    memset(d, 0, sizeof(*d));
    strcpy(d->id, "k");
    d->kind = BO_DRAW_COEFFICIENT;
    strcpy(d->label, "下浮系数");
    for (int i = 0; i < 4; i++)
        assert_int_equal(bo_decimal_parse(K_VALUES[i], 4, &d->values[i]), BO_E_OK);
    d->n_values = 4;
}

static void add_order(bo_tender *t)
{
    bo_tender_draw *d = &t->draws[t->n_draws++];
    memset(d, 0, sizeof(*d));
    strcpy(d->id, "ord");
    d->kind = BO_DRAW_ORDER;
    strcpy(d->label, "唱标顺序");
    t->announce_order = BO_ORDER_DRAW;
    strcpy(t->announce_draw, "ord");
}

static void by_uscc(bo_tender *t)
{
    t->announce_order = BO_ORDER_USCC;
}

static void set_bench(bo_tender *t, unsigned trim_min, unsigned trim, const char *coef,
                      unsigned places, bo_rounding r)
{
    bo_tender_benchmark *b = &t->benchmark;
    memset(b, 0, sizeof(*b));
    b->present = true;
    strcpy(b->field, "price");
    b->trim_min = trim_min;
    b->trim = trim;
    if (!strncmp(coef, "draw:", 5)) {
        b->coef_draw = true;
        strcpy(b->coef_id, coef + 5);
    } else {
        assert_int_equal(bo_decimal_parse(coef, strlen(coef), &b->coefficient), BO_E_OK);
    }
    b->places = places;
    b->rounding = r;
}

/* every §11 feature: k, an order draw, a benchmark with the drawn coefficient */
static void full_tender(bo_tender *t)
{
    add_k(t);
    add_order(t);
    set_bench(t, 3, 1, "draw:k", 2, BO_ROUND_HALF_UP);
}

/* ------------------------------------------------ the form and the quorum ---- */

static void form_check_and_quorum(void **state)
{
    /* a form that fails the tender's fields is recorded, the bid is not valid */
    fx *f = fx_new(2, false);
    to_decrypting(f);
    assert_int_equal(decrypted_with(f, 0, "1,000.00", START + 1), BO_E_OK);
    const bo_event *bd = last(f, 0);
    assert_int_equal(bd->kind, BO_EV_BID_DECRYPTED);
    body_str_is(bd, "form_error",
                "price: must be a decimal (at most 18 digits before the point and 6 after)");
    assert_null(memmem(bd->body, bd->body_len, "1,000", 5)); /* never the value */
    assert_int_equal(last(f, 1)->kind, BO_EV_BID_FORM);      /* the form is kept */
    bo_buf store;
    bo_buf_init(&store, 4096);
    bo_cmd c = cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, START + 2);
    c.uscc = USCC[1];
    c.form = form2(&store, "12.5", NULL);
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    body_str_is(last(f, 0), "form_error", "days: missing");
    assert_int_equal(decrypted_with(f, 2, "99.5", START + 3), BO_E_OK);
    assert_false(body_has(last(f, 0), "form_error"));
    /* one valid bid of two needed: announcing begins without a quorum */
    assert_string_equal(last_kinds(f), "bid_decrypted,bid_form,phase_changed,head_signed");
    const bo_event *pc = last(f, 2);
    assert_int_equal(body_u64(pc, "valid"), 1);
    assert_int_equal(body_u64(pc, "min"), 2);
    assert_false(body_bool(pc, "quorum"));
    expect_refusal(f, announce(f, false, ANN), BO_E_QUORUM);
    expect_refusal(f, draw(f, "k", ANN), BO_E_QUORUM);
    expect_refusal(f, run(f, BO_CMD_PAUSE, &f->host, ANN), BO_E_QUORUM);
    viewer vs[8];
    viewers(f, vs);
    snap s;
    snap_take(f, &vs[0].v, &s);
    assert_true(mentions(&s, "invalid"));
    bool q = true;
    assert_true(bo_mpo_bool(&s.o, "quorum", &q));
    assert_false(q);
    snap_free(&s);
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, ANN + 1), BO_E_OK);
    fx_free(f);

    /* with a quorum of valid bids an invalid one is announced as such */
    static const char *const mixed[3] = {"100", "abc", "300"};
    f = announcing(2, by_uscc, mixed);
    assert_true(body_bool(&f->log.v[f->log.n - 2], "quorum"));
    assert_int_equal(announce(f, true, ANN), BO_E_OK);
    assert_string_equal(last_kinds(f), "bid_announced,bid_announced,bid_announced");
    body_str_is(last(f, 1), "status", "invalid");
    body_str_is(last(f, 1), "form_error", "price: must be a decimal (at most 18 digits "
                                          "before the point and 6 after)");
    assert_false(body_has(last(f, 1), "fields"));
    assert_false(body_has(last(f, 1), "commit"));
    body_str_is(last(f, 0), "status", "valid");
    fx_free(f);
    bo_buf_cleanup(&store);
}

static void decryption_evidence(void **state)
{
    fx *f = fx_new(1, false);
    to_decrypting(f);
    bo_buf store;
    bo_buf_init(&store, 4096);
    static const uint8_t wrapped[93] = {0x01, 0x22};
    static const uint8_t rsig[] = {0x30, 0x44, 0x02};
    static uint8_t big[1025];
    bo_cmd c = cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, START + 1);
    c.uscc = USCC[0];
    c.form = form2(&store, "1", "2");
    c.resp_wrapped = (bo_bytes){wrapped, sizeof(wrapped)};
    refused_cmd(f, &c, BO_E_INVALID_ARG); /* evidence without its request */
    c.resp_req = "0000000000000000000000000000010G";
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.resp_req = req_id(REQ_START, 0);
    refused_cmd(f, &c, BO_E_INVALID_ARG); /* no signature */
    c.resp_sig = (bo_bytes){big, 1025};
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.resp_sig = (bo_bytes){rsig, sizeof(rsig)};
    c.resp_wrapped = (bo_bytes){big, 257};
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    c.resp_wrapped = (bo_bytes){wrapped, sizeof(wrapped)};
    memset(c.resp_client_pub, 0x22, 32);
    assert_int_equal(run_cmd(f, &c), BO_E_OK);
    body b = parse_body(last(f, 0));
    const msgpack_object *r = bo_mpo_get(&b.o, "resp");
    assert_non_null(r);
    const char *req;
    size_t n;
    const uint8_t *p;
    assert_true(bo_mpo_str(r, "req", &req, &n));
    assert_memory_equal(req, req_id(REQ_START, 0), 32);
    assert_true(bo_mpo_bin(r, "wrapped", &p, &n) && n == 93 && p[1] == 0x22);
    assert_true(bo_mpo_bin(r, "client_pub", &p, &n) && n == 32 && p[0] == 0x22);
    assert_true(bo_mpo_bin(r, "sig", &p, &n) && n == sizeof(rsig));
    msgpack_zone_free(b.z);
    /* and it is in the record, where an offline verifier checks the bidder's signature */
    bo_buf rec;
    bo_buf_init(&rec, 1 << 20);
    assert_int_equal(bo_session_record(f->s, &rec), BO_E_OK);
    assert_non_null(memmem(rec.data, rec.len, wrapped, sizeof(wrapped)));
    bo_buf_cleanup(&rec);
    /* without evidence is still accepted (logs written before it existed) */
    assert_int_equal(decrypted_with(f, 1, "2", START + 2), BO_E_OK);
    assert_false(body_has(last(f, 0), "resp"));
    bo_buf_cleanup(&store);
    fx_free(f);
}

/* ---------------------------------------------------------- announcement ---- */

static void announcement_rules(void **state)
{
    fx *f = fx_new(2, false);
    to_decrypting(f);
    expect_refusal(f, announce(f, false, START + 1), BO_E_PHASE);
    for (int i = 0; i < 3; i++)
        assert_int_equal(decrypted_with(f, i, PRICES[i], START + 10 + i), BO_E_OK);
    const bo_actor *nope[] = {&f->op, &f->sup, &f->bid[0], &f->site, &f->obs, &f->sys};
    for (size_t i = 0; i < 6; i++) {
        bo_cmd c = cmd(f, BO_CMD_ANNOUNCE, nope[i], ANN);
        refused_cmd(f, &c, BO_E_FORBIDDEN);
    }
    bo_cmd c = cmd(f, BO_CMD_ANNOUNCE, &f->host2, ANN);
    refused_cmd(f, &c, BO_E_NOT_HOST);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, ANN), BO_E_OK);
    expect_refusal(f, announce(f, false, ANN + 1), BO_E_PAUSED);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, ANN + 2), BO_E_OK);
    unsigned done, total;
    bo_session_announce_progress(f->s, &done, &total);
    assert_int_equal(done, 0);
    assert_int_equal(total, 3);

    /* the order bids were accepted: 0, 2, then 1 (which replaced its bid last) */
    static const int order[3] = {0, 2, 1};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(announce(f, false, ANN + 10 + k), BO_E_OK);
        assert_string_equal(last_kinds(f), "bid_announced");
        const bo_event *ev = last(f, 0);
        int i = order[k];
        assert_int_equal(ev->aud, BO_AUD_PUB);
        assert_int_equal(body_u64(ev, "n"), (uint64_t)k + 1);
        body_str_is(ev, "uscc", USCC[i]);
        body_str_is(ev, "org", f->bid[i].org);
        body_str_is(ev, "status", "valid");
        body_bin_is(ev, "bid", bid_info(i, i == 1).hash, 32);
        body_bin_is(ev, "commit", bid_info(i, i == 1).commit, 32);
        body_bin_is(ev, "signin_sig", sigbytes, sizeof(sigbytes));
        body b = parse_body(ev);
        const msgpack_object *fields = bo_mpo_get(&b.o, "fields");
        const char *v;
        size_t n;
        assert_non_null(fields);
        assert_int_equal(fields->via.map.size, 2);
        assert_true(bo_mpo_str(fields, "price", &v, &n));
        assert_int_equal(n, strlen(PRICES[i]));
        assert_memory_equal(v, PRICES[i], n);
        assert_true(bo_mpo_str(fields, "days", &v, &n));
        assert_memory_equal(v, "180", 3);
        msgpack_zone_free(b.z);
    }
    bo_session_announce_progress(f->s, &done, NULL);
    assert_int_equal(done, 3);
    expect_refusal(f, announce(f, false, ANN + 20), BO_E_ALREADY_DONE);
    expect_refusal(f, announce(f, true, ANN + 20), BO_E_ALREADY_DONE);
    fx_free(f);

    /* by USCC, all at once, with the withdrawn bid announced as such */
    static const char *const one_out[3] = {"100", NULL, "300"};
    f = announcing(2, by_uscc, one_out);
    assert_int_equal(announce(f, false, ENDS + 10), BO_E_OK);
    body_str_is(last(f, 0), "uscc", USCC[0]);
    assert_int_equal(announce(f, true, ENDS + 11), BO_E_OK);
    assert_string_equal(last_kinds(f), "bid_announced,bid_announced");
    body_str_is(last(f, 0), "uscc", USCC[1]);
    body_str_is(last(f, 0), "status", "withdrawn");
    assert_false(body_has(last(f, 0), "fields"));
    assert_int_equal(body_u64(last(f, 1), "n"), 3);
    fx_free(f);
}

static void draws_are_verifiable(void **state)
{
    static const char *const one_bad[3] = {"100", "200", "x"};
    fx *f = announcing(2, full_tender, one_bad);
    /* the announcement waits for its order */
    expect_refusal(f, announce(f, false, ANN), BO_E_PHASE);
    uint8_t wrong[32];
    memset(wrong, 0x5c, 32);
    expect_refusal(f, draw_as(f, &f->host, "k", wrong, ANN), BO_E_INVALID_ARG);
    expect_refusal(f, draw(f, "nope", ANN), BO_E_NOT_FOUND);
    expect_refusal(f, draw_as(f, &f->sup, "k", SEED, ANN), BO_E_FORBIDDEN);
    expect_refusal(f, draw_as(f, &f->host2, "k", SEED, ANN), BO_E_NOT_HOST);
    assert_false(bo_session_draw_done(f->s, "ord"));

    /* the order of the valid bids, as anyone can redo it with the revealed seed */
    assert_int_equal(draw(f, "ord", ANN + 1), BO_E_OK);
    assert_string_equal(last_kinds(f), "draw_result");
    const bo_event *ev = last(f, 0);
    assert_int_equal(ev->aud, BO_AUD_PUB);
    static const bool valid[3] = {true, true, false};
    uint8_t inputs[32], k0[32], k1[32];
    expect_inputs(valid, inputs);
    body_str_is(ev, "id", "ord");
    body_str_is(ev, "kind", "order");
    body_bin_is(ev, "seed", SEED, 32);
    body_bin_is(ev, "inputs", inputs, 32);
    expect_mac("bidopen/order/v1", "ord", inputs, USCC[0], k0);
    expect_mac("bidopen/order/v1", "ord", inputs, USCC[1], k1);
    bool zero_first = memcmp(k0, k1, 32) < 0;
    char want[64];
    snprintf(want, sizeof(want), "%s", zero_first ? "0,1" : "1,0");
    assert_string_equal(who(body_list(ev, "order")), want);
    assert_false(body_has(ev, "value"));
    assert_true(bo_session_draw_done(f->s, "ord"));
    expect_refusal(f, draw(f, "ord", ANN + 2), BO_E_ALREADY_DONE);

    /* then announced in that order, the invalid bid last */
    assert_int_equal(announce(f, true, ANN + 3), BO_E_OK);
    assert_string_equal(last_kinds(f), "bid_announced,bid_announced,bid_announced");
    body_str_is(last(f, 0), "uscc", USCC[zero_first ? 0 : 1]);
    body_str_is(last(f, 1), "uscc", USCC[zero_first ? 1 : 0]);
    body_str_is(last(f, 2), "uscc", USCC[2]);
    body_str_is(last(f, 2), "status", "invalid");

    /* the coefficient: values[u64be(r[0..8]) mod 4] */
    assert_int_equal(draw(f, "k", ANN + 4), BO_E_OK);
    ev = last(f, 0);
    uint8_t r[32];
    expect_mac("bidopen/draw/v1", "k", inputs, NULL, r);
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | r[i];
    body_str_is(ev, "value", K_VALUES[u % 4]);
    body_str_is(ev, "kind", "coefficient");
    body_bin_is(ev, "inputs", inputs, 32);
    assert_false(body_has(ev, "order"));
    fx_free(f);
}

/* ------------------------------------------------------------- benchmark ---- */

typedef struct bench_want {
    const char *value, *mean, *sum, *dropped;
    uint64_t count;
} bench_want;

/* An opening with these prices and formula, announced; the benchmark computed. */
static void bench_case(const char *const prices[3], unsigned trim_min, unsigned trim,
                       const char *coef, unsigned places, bo_rounding r, bench_want w)
{
    fx *f = fx_new(1, false);
    add_k(&f->tender);
    set_bench(&f->tender, trim_min, trim, coef, places, r);
    f->tender.announce_order = BO_ORDER_USCC;
    to_announcing(f, prices);
    expect_refusal(f, run(f, BO_CMD_BENCHMARK, &f->host, ANN), BO_E_PHASE); /* not announced */
    assert_int_equal(announce(f, true, ANN + 1), BO_E_OK);
    if (!strcmp(coef, "draw:k")) {
        expect_refusal(f, run(f, BO_CMD_BENCHMARK, &f->host, ANN + 2), BO_E_PHASE);
        assert_int_equal(draw(f, "k", ANN + 3), BO_E_OK);
    }
    char drawn[16] = "";
    if (!strcmp(coef, "draw:k")) {
        body b = parse_body(last(f, 0));
        const char *v;
        size_t n;
        assert_true(bo_mpo_str(&b.o, "value", &v, &n));
        snprintf(drawn, sizeof(drawn), "%.*s", (int)n, v);
        msgpack_zone_free(b.z);
    }
    assert_int_equal(run(f, BO_CMD_BENCHMARK, &f->host, ANN + 4), BO_E_OK);
    assert_string_equal(last_kinds(f), "benchmark_price");
    const bo_event *ev = last(f, 0);
    assert_int_equal(ev->aud, BO_AUD_PUB);
    if (!strcmp(coef, "draw:k")) {
        /* value = round(sum * drawn / count), computed here from the drawn text */
        bo_decimal sum, k, prod, v;
        assert_int_equal(bo_decimal_parse(w.sum, strlen(w.sum), &sum), BO_E_OK);
        assert_int_equal(bo_decimal_parse(drawn, strlen(drawn), &k), BO_E_OK);
        assert_int_equal(bo_decimal_mul(&sum, &k, &prod), BO_E_OK);
        assert_int_equal(bo_decimal_div_int(&prod, (int64_t)w.count, places, r, &v), BO_E_OK);
        char s[BO_DECIMAL_STR_MAX];
        assert_int_equal(bo_decimal_format(&v, s, sizeof(s)), BO_E_OK);
        body_str_is(ev, "value", s);
        body_str_is(ev, "coefficient", drawn);
    } else {
        body_str_is(ev, "value", w.value);
        body_str_is(ev, "coefficient", coef);
    }
    body_str_is(ev, "mean", w.mean);
    body_str_is(ev, "sum", w.sum);
    assert_int_equal(body_u64(ev, "count"), w.count);
    assert_string_equal(who(body_list(ev, "dropped")), w.dropped);
    body b = parse_body(ev);
    const msgpack_object *in = bo_mpo_get(&b.o, "inputs");
    assert_non_null(in);
    assert_int_equal(in->via.array.size, 3);
    const char *v;
    size_t n;
    assert_true(bo_mpo_str(&in->via.array.ptr[2], "value", &v, &n));
    assert_int_equal(n, strlen(prices[2]));
    assert_memory_equal(v, prices[2], n); /* as the bidder wrote it */
    const msgpack_object *rule = bo_mpo_get(&b.o, "rule");
    assert_non_null(rule);
    uint64_t tm;
    assert_true(bo_mpo_u64(rule, "trim_min", &tm));
    assert_int_equal(tm, trim_min);
    msgpack_zone_free(b.z);
    assert_true(bo_session_benchmark_done(f->s));
    expect_refusal(f, run(f, BO_CMD_BENCHMARK, &f->host, ANN + 5), BO_E_ALREADY_DONE);
    fx_free(f);
}

static void benchmark_cases(void **state)
{
    static const char *const p1[3] = {"100", "200", "301"};
    /* 601 * 0.95 / 3 = 190.3166...; mean 200.333333 */
    bench_case(p1, 0, 0, "0.95", 2, BO_ROUND_HALF_UP,
               (bench_want){"190.32", "200.333333", "601", "", 3});
    bench_case(p1, 0, 0, "0.95", 2, BO_ROUND_DOWN,
               (bench_want){"190.31", "200.333333", "601", "", 3});
    bench_case(p1, 0, 0, "1", 0, BO_ROUND_HALF_EVEN,
               (bench_want){"200", "200.333333", "601", "", 3});
    /* trimmed: the lowest and the highest go, 200 stays */
    bench_case(p1, 3, 1, "0.95", 2, BO_ROUND_HALF_UP,
               (bench_want){"190.00", "200.000000", "200", "0,2", 1});
    /* fewer valid bids than trim_min: nothing is dropped */
    bench_case(p1, 4, 1, "0.95", 2, BO_ROUND_HALF_UP,
               (bench_want){"190.32", "200.333333", "601", "", 3});
    /* ties: equal prices are ordered by USCC, so bidder 0 goes as the lowest */
    static const char *const tie[3] = {"100", "100", "300"};
    bench_case(tie, 3, 1, "1", 2, BO_ROUND_HALF_UP,
               (bench_want){"100.00", "100.000000", "100", "0,2", 1});
    static const char *const tie_hi[3] = {"300", "100", "300"};
    bench_case(tie_hi, 3, 1, "1", 2, BO_ROUND_HALF_UP,
               (bench_want){"300.00", "300.000000", "300", "1,2", 1});
    /* a rounding tie: 0.375 / 3 = 0.125 */
    static const char *const t125[3] = {"0.1", "0.1", "0.175"};
    bench_case(t125, 0, 0, "1", 2, BO_ROUND_HALF_UP,
               (bench_want){"0.13", "0.125000", "0.375", "", 3});
    bench_case(t125, 0, 0, "1", 2, BO_ROUND_HALF_EVEN,
               (bench_want){"0.12", "0.125000", "0.375", "", 3});
    bench_case(t125, 0, 0, "1", 2, BO_ROUND_DOWN,
               (bench_want){"0.12", "0.125000", "0.375", "", 3});
    /* negative prices and written forms that are not canonical */
    static const char *const neg[3] = {"-1.50", "002.5", "0"};
    bench_case(neg, 0, 0, "2", 1, BO_ROUND_HALF_UP,
               (bench_want){"0.7", "0.333333", "1", "", 3});
    /* one rounding at the end: 1234567.89 * 3 * 0.97 / 3 */
    static const char *const big[3] = {"1234567.89", "1234567.89", "1234567.89"};
    bench_case(big, 0, 0, "0.97", 2, BO_ROUND_HALF_UP,
               (bench_want){"1197530.85", "1234567.890000", "3703703.67", "", 3});
    /* the coefficient drawn */
    bench_case(p1, 0, 0, "draw:k", 2, BO_ROUND_HALF_UP,
               (bench_want){NULL, "200.333333", "601", "", 3});
    bench_case(p1, 3, 1, "draw:k", 2, BO_ROUND_DOWN,
               (bench_want){NULL, "200.000000", "200", "0,2", 1});
}

static void benchmark_refusals(void **state)
{
    fx *f = announcing(2, by_uscc, NULL);
    assert_int_equal(announce(f, true, ANN), BO_E_OK);
    expect_refusal(f, run(f, BO_CMD_BENCHMARK, &f->host, ANN + 1), BO_E_NOT_FOUND);
    assert_false(bo_session_benchmark_done(f->s));
    fx_free(f);
    /* the valid bids only: a withdrawn one has no price */
    static const char *const one_out[3] = {"100", NULL, "300"};
    fx *g = fx_new(2, false);
    set_bench(&g->tender, 0, 0, "1", 2, BO_ROUND_HALF_UP);
    to_announcing(g, one_out);
    assert_int_equal(announce(g, true, ENDS + 10), BO_E_OK);
    assert_int_equal(run(g, BO_CMD_BENCHMARK, &g->host, ENDS + 11), BO_E_OK);
    body_str_is(last(g, 0), "value", "200.00");
    assert_int_equal(body_u64(last(g, 0), "count"), 2);
    fx_free(g);
}

/* ---------------------------------------------------------- confirmation ---- */

/* announcing with every §11 feature, everything announced, drawn and computed. */
static fx *ready(void)
{
    fx *f = announcing(2, full_tender, NULL);
    assert_int_equal(draw(f, "ord", ANN), BO_E_OK);
    assert_int_equal(announce(f, true, ANN + 1), BO_E_OK);
    assert_int_equal(draw(f, "k", ANN + 2), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_BENCHMARK, &f->host, ANN + 3), BO_E_OK);
    return f;
}

#define OPEN (ANN + 1000)                    /* confirm_open */
#define CLOSES (OPEN + CONF_W * 1000LL)      /* its window's end */

static void confirm_open_rules(void **state)
{
    fx *f = announcing(2, full_tender, NULL);
    expect_refusal(f, confirm_open(f, 0, ANN), BO_E_PHASE); /* nothing announced */
    assert_int_equal(draw(f, "ord", ANN), BO_E_OK);
    assert_int_equal(announce(f, false, ANN + 1), BO_E_OK);
    expect_refusal(f, confirm_open(f, 0, ANN + 2), BO_E_PHASE);
    assert_int_equal(announce(f, true, ANN + 3), BO_E_OK);
    expect_refusal(f, confirm_open(f, 0, ANN + 4), BO_E_PHASE); /* k not drawn */
    assert_int_equal(draw(f, "k", ANN + 5), BO_E_OK);
    expect_refusal(f, confirm_open(f, 0, ANN + 6), BO_E_PHASE); /* no benchmark yet */
    assert_int_equal(run(f, BO_CMD_BENCHMARK, &f->host, ANN + 7), BO_E_OK);
    expect_refusal(f, confirm_open(f, 59, OPEN), BO_E_BAD_FIELD);
    expect_refusal(f, confirm_open(f, 86401, OPEN), BO_E_BAD_FIELD);
    bo_cmd c = cmd(f, BO_CMD_CONFIRM_OPEN, &f->sup, OPEN);
    refused_cmd(f, &c, BO_E_FORBIDDEN);
    uint8_t zero[32] = {0};
    expect_refusal(f, confirm_as(f, &f->bid[0], zero, OPEN), BO_E_PHASE);

    uint8_t before[32];
    record_hash_now(f, before); /* what bidders will confirm: the record as it stands */
    assert_int_equal(confirm_open(f, 0, OPEN), BO_E_OK);
    assert_string_equal(last_kinds(f), "confirmation_opened,phase_changed,head_signed");
    body_bin_is(last(f, 0), "record_hash", before, 32);
    assert_int_equal(body_i64(last(f, 0), "ends_at"), CLOSES);
    body_str_is(last(f, 1), "to", "confirming");
    assert_true(f->info.needs_head);
    uint8_t h[32];
    assert_true(bo_session_confirm_hash(f->s, h));
    assert_memory_equal(h, before, 32);
    assert_int_equal(bo_session_next_timer(f->s), CLOSES);
    assert_true(bo_session_confirm_window_open(f->s, CLOSES - 1));
    assert_false(bo_session_confirm_window_open(f->s, CLOSES));
    expect_refusal(f, confirm_open(f, 0, OPEN + 1), BO_E_PHASE);
    expect_refusal(f, announce(f, false, OPEN + 1), BO_E_PHASE);
    expect_refusal(f, draw(f, "k", OPEN + 1), BO_E_PHASE);
    fx_free(f);
}

static void confirm_and_object(void **state)
{
    static const char *const mixed[3] = {"100", "200", "oops"};
    fx *f = announcing(2, by_uscc, mixed);
    assert_int_equal(announce(f, true, ANN), BO_E_OK);
    assert_int_equal(confirm_open(f, 0, OPEN), BO_E_OK);
    uint8_t h[32], wrong[32];
    assert_true(bo_session_confirm_hash(f->s, h));
    memcpy(wrong, h, 32);
    wrong[0] ^= 1;
    const bo_actor *nope[] = {&f->host, &f->sup, &f->obs, &f->sys};
    for (size_t i = 0; i < 4; i++)
        expect_refusal(f, confirm_as(f, nope[i], h, OPEN + 1), BO_E_FORBIDDEN);
    bo_actor other = f->bid[0];
    memset(other.fpr, 0x99, 32);
    expect_refusal(f, confirm_as(f, &other, h, OPEN + 1), BO_E_NOT_REGISTERED);
    expect_refusal(f, confirm_as(f, &f->bid[0], wrong, OPEN + 1), BO_E_BAD_FIELD);
    expect_refusal(f, confirm(f, 2, OPEN + 1), BO_E_FORBIDDEN); /* its bid is invalid */
    bo_cmd c = cmd(f, BO_CMD_CONFIRM, &f->bid[0], OPEN + 1);
    memcpy(c.record_hash, h, 32);
    c.sig = (bo_bytes){NULL, 0};
    refused_cmd(f, &c, BO_E_INVALID_ARG);
    assert_int_equal(confirm(f, 0, OPEN + 2), BO_E_OK);
    assert_string_equal(last_kinds(f), "bidder_confirmed");
    body_str_is(last(f, 0), "uscc", USCC[0]);
    body_bin_is(last(f, 0), "record_hash", h, 32);
    body_bin_is(last(f, 0), "sig", sigbytes, sizeof(sigbytes));
    uint64_t seq = bo_session_seq(f->s);
    assert_int_equal(confirm(f, 0, OPEN + 3), BO_E_OK); /* again: nothing appended */
    assert_true(f->info.already);
    assert_int_equal(bo_session_seq(f->s), seq);

    /* objections: any bidder whose bid was opened, not after confirming */
    expect_refusal(f, object(f, 0, "异议", OPEN + 4), BO_E_ALREADY_DONE);
    expect_refusal(f, object(f, 1, "", OPEN + 4), BO_E_BAD_FIELD);
    char *t1001 = malloc(3 * 1001 + 1);
    for (int i = 0; i < 1001; i++)
        memcpy(t1001 + 3 * i, "异", 3);
    t1001[3 * 1001] = 0;
    expect_refusal(f, object(f, 1, t1001, OPEN + 4), BO_E_BAD_FIELD);
    t1001[3 * 1000] = 0;
    assert_int_equal(object(f, 1, t1001, OPEN + 5), BO_E_OK); /* 1000 characters */
    free(t1001);
    assert_string_equal(last_kinds(f), "objection");
    assert_int_equal(body_u64(last(f, 0), "n"), 1);
    body_bin_is(last(f, 0), "record_hash", h, 32);
    assert_int_equal(object(f, 2, "我方报价格式无误", OPEN + 6), BO_E_OK); /* invalid bid */
    assert_int_equal(body_u64(last(f, 0), "n"), 2);
    for (int i = 1; i < BO__OBJECTIONS_PER_BIDDER; i++)
        assert_int_equal(object(f, 2, "再次异议", OPEN + 6 + i), BO_E_OK);
    expect_refusal(f, object(f, 2, "太多", OPEN + 20), BO_E_TOO_MANY);
    assert_false(bo_session_objections_answered(f->s));
    /* an objector may still confirm (after the answer, say) */
    assert_int_equal(confirm(f, 1, OPEN + 21), BO_E_OK);

    /* answers: the host, once per objection */
    expect_refusal(f, answer_as(f, &f->sup, 1, "x", OPEN + 22), BO_E_FORBIDDEN);
    expect_refusal(f, answer_as(f, &f->host2, 1, "x", OPEN + 22), BO_E_NOT_HOST);
    expect_refusal(f, answer_as(f, &f->host, 0, "x", OPEN + 22), BO_E_NOT_FOUND);
    expect_refusal(f, answer_as(f, &f->host, 99, "x", OPEN + 22), BO_E_NOT_FOUND);
    expect_refusal(f, answer_as(f, &f->host, 1, "", OPEN + 22), BO_E_BAD_FIELD);
    assert_int_equal(answer_as(f, &f->host, 1, "以开标一览表为准", OPEN + 23), BO_E_OK);
    assert_string_equal(last_kinds(f), "objection_answered");
    assert_int_equal(body_u64(last(f, 0), "n"), 1);
    body_bin_is(last(f, 0), "host_fpr", f->host.fpr, 32);
    expect_refusal(f, answer_as(f, &f->host, 1, "again", OPEN + 24), BO_E_ALREADY_DONE);

    /* closing: every objection answered first */
    expect_refusal(f, run(f, BO_CMD_CLOSE, &f->host, CLOSES + 1), BO_E_OBJECTION_PENDING);
    for (unsigned n = 2; n <= 1 + BO__OBJECTIONS_PER_BIDDER; n++)
        assert_int_equal(answer_as(f, &f->host, n, "已记录", OPEN + 30 + n), BO_E_OK);
    assert_true(bo_session_objections_answered(f->s));
    /* the window ends by the timer; no one decides after it */
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CLOSES - 1), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, CLOSES), BO_E_OK);
    assert_string_equal(last_kinds(f), "confirmation_window_closed");
    assert_string_equal(body_list(last(f, 0), "deemed"), ""); /* 0, 1 confirmed */
    expect_refusal(f, object(f, 2, "迟到", CLOSES + 1), BO_E_PHASE);
    assert_int_equal(bo_session_next_timer(f->s), 0);
    fx_free(f);
}

static void closing(void **state)
{
    fx *f = ready();
    assert_int_equal(confirm_open(f, 0, OPEN), BO_E_OK);
    const bo_actor *nope[] = {&f->op, &f->sup, &f->bid[0], &f->sys};
    for (size_t i = 0; i < 4; i++) {
        bo_cmd c = cmd(f, BO_CMD_CLOSE, nope[i], OPEN + 1);
        refused_cmd(f, &c, BO_E_FORBIDDEN);
    }
    /* before the window's end, with bidders undecided */
    expect_refusal(f, run(f, BO_CMD_CLOSE, &f->host, OPEN + 1), BO_E_PHASE);
    /* a pause freezes the window: resume moves its end */
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, OPEN + 2), BO_E_OK);
    assert_true(bo_session_confirm_window_open(f->s, CLOSES + 100000)); /* frozen */
    assert_int_equal(confirm(f, 0, OPEN + 3), BO_E_OK); /* bidders still decide */
    expect_refusal(f, run(f, BO_CMD_CLOSE, &f->host, OPEN + 3), BO_E_PAUSED);
    assert_int_equal(bo_session_next_timer(f->s), 0);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, OPEN + 2 + 5000), BO_E_OK);
    assert_int_equal(body_i64(last(f, 0), "ends_at"), CLOSES + 5000);
    assert_int_equal(bo_session_next_timer(f->s), CLOSES + 5000);
    assert_int_equal(object(f, 1, "基准价计算有误", OPEN + 6000), BO_E_OK);
    assert_int_equal(answer_as(f, &f->host, 1, "已复核无误", OPEN + 7000), BO_E_OK);
    /* past the end, even before the timer ran, the host may close */
    assert_int_equal(run(f, BO_CMD_CLOSE, &f->host, CLOSES + 5000), BO_E_OK);
    assert_string_equal(last_kinds(f), "opening_closed,phase_changed,head_signed");
    const bo_event *oc = last(f, 0);
    assert_int_equal(oc->aud, BO_AUD_PUB);
    assert_string_equal(who(body_list(oc, "confirmed")), "0");
    assert_string_equal(who(body_list(oc, "deemed")), "2"); /* 1 objected */
    body_str_is(last(f, 1), "to", "closed");
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_CLOSED);
    /* the final record is the one opening_closed names, byte for byte */
    uint8_t h[32], now[32];
    assert_true(bo_session_closed_hash(f->s, h));
    body_bin_is(oc, "record_hash", h, 32);
    record_hash_now(f, now);
    assert_memory_equal(now, h, 32);
    assert_int_equal(bo_session_next_timer(f->s), 0);
    expect_refusal(f, run(f, BO_CMD_CLOSE, &f->host, CLOSES + 5001), BO_E_PHASE);
    expect_refusal(f, message(f, &f->host, "谢谢", CLOSES + 9000), BO_E_PHASE);
    expect_refusal(f, run(f, BO_CMD_FAIL, &f->host, CLOSES + 9000), BO_E_PHASE);
    fx_free(f);

    /* every valid bidder confirmed: no need to wait for the window */
    static const char *const two[3] = {"100", "200", NULL};
    f = announcing(2, by_uscc, two);
    assert_int_equal(announce(f, true, ENDS + 10), BO_E_OK);
    assert_int_equal(confirm_open(f, 3600, ENDS + 20), BO_E_OK);
    assert_int_equal(confirm(f, 0, ENDS + 21), BO_E_OK);
    expect_refusal(f, run(f, BO_CMD_CLOSE, &f->host, ENDS + 22), BO_E_PHASE);
    assert_int_equal(confirm(f, 1, ENDS + 23), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_CLOSE, &f->host, ENDS + 24), BO_E_OK);
    assert_string_equal(who(body_list(last(f, 0), "confirmed")), "0,1");
    fx_free(f);

    /* nobody said anything: the valid bidders are deemed to accept (视为认可) */
    f = announcing(2, by_uscc, two);
    assert_int_equal(announce(f, true, ENDS + 10), BO_E_OK);
    assert_int_equal(confirm_open(f, 60, ENDS + 20), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ENDS + 20 + 60000), BO_E_OK);
    assert_string_equal(who(body_list(last(f, 0), "deemed")), "0,1");
    assert_int_equal(run(f, BO_CMD_CLOSE, &f->host, ENDS + 20 + 60001), BO_E_OK);
    assert_string_equal(who(body_list(last(f, 0), "deemed")), "0,1");
    assert_string_equal(body_list(last(f, 0), "confirmed"), "");
    fx_free(f);
}

/* --------------------------------------------------------------- messages ---- */

static void messages(void **state)
{
    fx *f = fx_new(2, false);
    create(f);
    assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[0], T0 + 1), BO_E_OK);
    expect_refusal(f, message(f, &f->bid[0], "大家好", T0 + 2), BO_E_FORBIDDEN); /* secret */
    expect_refusal(f, message(f, &f->obs, "hi", T0 + 2), BO_E_FORBIDDEN);
    expect_refusal(f, message(f, &f->op, "hi", T0 + 2), BO_E_FORBIDDEN);
    expect_refusal(f, message(f, &f->sys, "hi", T0 + 2), BO_E_FORBIDDEN);
    expect_refusal(f, message(f, &f->host2, "hi", T0 + 2), BO_E_NOT_HOST);
    expect_refusal(f, message(f, &f->host, "", T0 + 2), BO_E_BAD_FIELD);
    char t301[302];
    memset(t301, 'x', 301), t301[301] = 0;
    expect_refusal(f, message(f, &f->host, t301, T0 + 2), BO_E_BAD_FIELD);
    assert_int_equal(message(f, &f->host, t301 + 1, T0 + 3), BO_E_OK); /* 300 */
    assert_string_equal(last_kinds(f), "message");
    const bo_event *ev = last(f, 0);
    assert_int_equal(ev->aud, BO_AUD_PUB);
    body_str_is(ev, "from_role", "host");
    body_str_is(ev, "from", "host");
    body_bin_is(ev, "fpr", f->host.fpr, 32);
    /* one per 5 s per participant */
    expect_refusal(f, message(f, &f->host, "again", T0 + 3 + 4999), BO_E_RATE_LIMITED);
    assert_int_equal(message(f, &f->site, "分会场已就绪", T0 + 3 + 4999), BO_E_OK);
    body_str_is(last(f, 0), "from", "site org");
    body_str_is(last(f, 0), "from_role", "site");
    assert_int_equal(message(f, &f->sup, "监督到场", T0 + 3 + 4999), BO_E_OK);
    assert_int_equal(message(f, &f->host, "again", T0 + 3 + 5000), BO_E_OK);
    fx_free(f);

    /* after the deadline a bidder with an opened bid speaks under its name; also paused */
    f = announcing(2, by_uscc, NULL);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, ANN), BO_E_OK);
    assert_int_equal(message(f, &f->bid[1], "网络中断，请稍候", ANN + 1), BO_E_OK);
    body_str_is(last(f, 0), "from", f->bid[1].org);
    body_str_is(last(f, 0), "uscc", USCC[1]);
    assert_false(body_has(last(f, 0), "fpr"));
    expect_refusal(f, message(f, &f->bid[1], "again", ANN + 2), BO_E_RATE_LIMITED);
    assert_int_equal(message(f, &f->host, "暂停", ANN + 2), BO_E_OK); /* paused: allowed */
    bo_actor stranger = f->bid[0];
    strcpy(stranger.uscc, "91350100M000100Y99");
    expect_refusal(f, message(f, &stranger, "hi", ANN + 3), BO_E_NOT_REGISTERED);
    fx_free(f);
}

/* ----------------------------------------------------------------- record ---- */

/* Everything of §11 in one opening; returns closed. Bidder 2 withdrawn. */
static fx *whole_opening(void)
{
    static const char *const two[3] = {"1234567.89", "1200000", NULL};
    fx *f = fx_new(2, false);
    full_tender(&f->tender);
    set_bench(&f->tender, 5, 1, "draw:k", 2, BO_ROUND_HALF_EVEN);
    to_announcing(f, two);
    bo_time_ms t = ENDS + 1000;
    assert_int_equal(message(f, &f->host, "现在开始唱标", t++), BO_E_OK);
    assert_int_equal(draw(f, "ord", t++), BO_E_OK);
    assert_int_equal(announce(f, false, t++), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_PAUSE, &f->host, t++), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_RESUME, &f->host, t++), BO_E_OK);
    assert_int_equal(announce(f, true, t++), BO_E_OK);
    assert_int_equal(draw(f, "k", t++), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_BENCHMARK, &f->host, t++), BO_E_OK);
    assert_int_equal(confirm_open(f, 60, t), BO_E_OK);
    bo_time_ms ends = t + 60000;
    assert_int_equal(confirm(f, 0, t + 1), BO_E_OK);
    assert_int_equal(object(f, 1, "对报价有异议", t + 2), BO_E_OK);
    assert_int_equal(message(f, &f->bid[1], "请主持人答复", t + 3), BO_E_OK);
    assert_int_equal(answer_as(f, &f->host, 1, "报价以开标一览表为准", t + 4), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_TICK, &f->sys, ends), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_CLOSE, &f->host, ends + 1), BO_E_OK);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_CLOSED);
    return f;
}

static const msgpack_object *at(const msgpack_object *a, uint32_t i)
{
    assert_non_null(a);
    assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
    assert_true(i < a->via.array.size);
    return &a->via.array.ptr[i];
}

static void str_is(const msgpack_object *o, const char *key, const char *want)
{
    const char *s;
    size_t n;
    if (!bo_mpo_str(o, key, &s, &n) || n != strlen(want) || memcmp(s, want, n))
        fail_msg("%s is not \"%s\"", key, want);
}

static void record_contents(void **state)
{
    fx *f = whole_opening();
    bo_buf rec;
    bo_buf_init(&rec, 1 << 22);
    assert_int_equal(bo_session_record(f->s, &rec), BO_E_OK);
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(rec.data, rec.len, &z, &o), BO_E_OK);
    /* canonical */
    bo_buf c;
    bo_buf_init(&c, 1 << 22);
    assert_int_equal(bo_mp_canonical(&c, &o), BO_E_OK);
    assert_int_equal(c.len, rec.len);
    assert_memory_equal(c.data, rec.data, rec.len);
    uint8_t h1[32], h2[32];
    assert_int_equal(bo_sigpayload_record_hash(rec.data, rec.len, h1), BO_E_OK);
    assert_true(bo_session_closed_hash(f->s, h2));
    assert_memory_equal(h1, h2, 32);

    uint64_t v;
    assert_true(bo_mpo_u64(&o, "v", &v) && v == 1);
    str_is(&o, "oid", OID);
    str_is(&o, "phase", "closed");
    str_is(&o, "host_name", "host");
    const msgpack_object *tender = bo_mpo_get(&o, "tender");
    str_is(tender, "title", "道路改造工程");
    const char *phases[] = {"scheduled", "checkin", "awaiting_open", "decrypting",
                            "announcing", "confirming", "closed"};
    const msgpack_object *tl = bo_mpo_get(&o, "timeline");
    assert_int_equal(tl->via.array.size, 7);
    for (uint32_t i = 0; i < 7; i++)
        str_is(at(tl, i), "phase", phases[i]);
    int64_t ts;
    assert_true(bo_mpo_i64(at(tl, 0), "at", &ts) && ts == T0);
    assert_true(bo_mpo_i64(at(tl, 2), "at", &ts) && ts == DEADLINE);

    const msgpack_object *bids = bo_mpo_get(&o, "bids");
    assert_int_equal(bids->via.array.size, 3);
    str_is(at(bids, 0), "status", "valid");
    str_is(at(bids, 1), "status", "valid");
    str_is(at(bids, 2), "status", "withdrawn");
    str_is(at(bids, 2), "reason", "证书已更换，无法解密");
    assert_null(bo_mpo_get(at(bids, 2), "fields"));
    str_is(bo_mpo_get(at(bids, 0), "fields"), "price", "1234567.89");
    uint64_t n0, n1, n2;
    assert_true(bo_mpo_u64(at(bids, 0), "n", &n0) && bo_mpo_u64(at(bids, 1), "n", &n1) &&
                bo_mpo_u64(at(bids, 2), "n", &n2));
    assert_int_equal(n2, 3); /* not valid: after the drawn ones */
    assert_int_equal(n0 + n1, 3);

    const msgpack_object *draws = bo_mpo_get(&o, "draws");
    assert_int_equal(draws->via.array.size, 2);
    str_is(at(draws, 0), "id", "k"); /* in the tender's order */
    str_is(at(draws, 0), "label", "下浮系数");
    str_is(at(draws, 1), "kind", "order");
    const uint8_t *seed;
    size_t seed_len;
    assert_true(bo_mpo_bin(at(draws, 1), "seed", &seed, &seed_len));
    assert_memory_equal(seed, SEED, 32);
    const msgpack_object *bm = bo_mpo_get(&o, "benchmark");
    assert_non_null(bm);
    assert_non_null(bo_mpo_get(bm, "rule"));
    assert_true(bo_mpo_u64(bm, "count", &v) && v == 2); /* 2 valid < trim_min 5 */

    const msgpack_object *conf = bo_mpo_get(&o, "confirmation");
    uint8_t opened[32];
    const uint8_t *p;
    size_t len;
    assert_true(bo_session_confirm_hash(f->s, opened));
    assert_true(bo_mpo_bin(conf, "record_hash", &p, &len) && !memcmp(p, opened, 32));
    const msgpack_object *ob = bo_mpo_get(&o, "objections");
    assert_int_equal(ob->via.array.size, 1);
    str_is(at(ob, 0), "uscc", USCC[1]);
    str_is(bo_mpo_get(at(ob, 0), "answer"), "text", "报价以开标一览表为准");
    const msgpack_object *cf = bo_mpo_get(&o, "confirmations");
    assert_int_equal(cf->via.array.size, 2); /* the valid bidders */
    str_is(at(cf, 0), "status", "confirmed");
    str_is(at(cf, 1), "status", "objected");
    /* the head: the event before opening_closed */
    const msgpack_object *head = bo_mpo_get(&o, "head");
    uint64_t seq;
    assert_true(bo_mpo_u64(head, "seq", &seq));
    size_t closed_at = f->log.n;
    while (f->log.v[--closed_at].kind != BO_EV_OPENING_CLOSED)
        ;
    assert_int_equal(seq, f->log.v[closed_at].seq - 1);
    assert_true(bo_mpo_bin(head, "hash", &p, &len) &&
                !memcmp(p, f->log.v[closed_at].prev_hash, 32));
    msgpack_zone_free(z);

    /* the record bidders confirmed is the final one's without the confirmation: taken at
     * the confirmation window's opening, with that head; derived from the record alone */
    bo_buf conf_rec;
    bo_buf_init(&conf_rec, 1 << 22);
    assert_int_equal(bo_record_confirmable(rec.data, rec.len, &conf_rec), BO_E_OK);
    assert_int_equal(bo_sigpayload_record_hash(conf_rec.data, conf_rec.len, h1), BO_E_OK);
    assert_memory_equal(h1, opened, 32);
    assert_null(memmem(conf_rec.data, conf_rec.len, "confirmations", 13));
    assert_null(memmem(conf_rec.data, conf_rec.len, "对报价有异议", 6));
    bo_buf_cleanup(&conf_rec);
    bo_buf_cleanup(&c);
    bo_buf_cleanup(&rec);
    fx_free(f);
}

static void confirmed_record_derives(void **state)
{
    /* while confirming, and after a failure there, the derivation gives the same hash */
    fx *f = ready();
    bo_buf rec, out;
    bo_buf_init(&rec, 1 << 22);
    bo_buf_init(&out, 1 << 22);
    uint8_t before[32], h[32];
    record_hash_now(f, before);
    assert_int_equal(bo_record_confirmable((const uint8_t *)"\x80", 1, &out),
                     BO_E_BAD_FIELD); /* {} has no confirmation */
    assert_int_equal(bo_session_record(f->s, &rec), BO_E_OK);
    assert_int_equal(bo_record_confirmable(rec.data, rec.len, &out), BO_E_BAD_FIELD);
    assert_int_equal(out.len, 0);
    assert_int_equal(confirm_open(f, 0, OPEN), BO_E_OK);
    assert_int_equal(confirm(f, 2, OPEN + 1), BO_E_OK);
    assert_int_equal(object(f, 1, "异议", OPEN + 2), BO_E_OK);
    for (int failed = 0; failed < 2; failed++) {
        if (failed)
            assert_int_equal(run(f, BO_CMD_FAIL, &f->host, OPEN + 3), BO_E_OK);
        bo_buf_reset(&rec);
        bo_buf_reset(&out);
        assert_int_equal(bo_session_record(f->s, &rec), BO_E_OK);
        assert_int_equal(bo_record_confirmable(rec.data, rec.len, &out), BO_E_OK);
        assert_int_equal(bo_sigpayload_record_hash(out.data, out.len, h), BO_E_OK);
        assert_memory_equal(h, before, 32);
    }
    assert_non_null(memmem(rec.data, rec.len, "pending", 7)); /* bidder 0 undecided */
    assert_int_equal(bo_record_confirmable(rec.data, rec.len - 1, &out), BO_E_MALFORMED);
    bo_buf_cleanup(&rec);
    bo_buf_cleanup(&out);
    fx_free(f);
}

static void record_before_the_end(void **state)
{
    fx *f = fx_new(2, false);
    bo_buf rec;
    bo_buf_init(&rec, 1 << 20);
    assert_int_equal(bo_session_record(f->s, &rec), BO_E_NOT_FOUND);
    create(f);
    register_and_submit(f, 2);
    assert_int_equal(bo_session_record(f->s, &rec), BO_E_OK);
    /* before the deadline the record names no bidder */
    assert_null(memmem(rec.data, rec.len, USCC[0], 18));
    assert_null(memmem(rec.data, rec.len, "Company", 7));
    bo_buf_reset(&rec);
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, T0 + 100), BO_E_OK);
    assert_int_equal(bo_session_record(f->s, &rec), BO_E_OK);
    assert_non_null(memmem(rec.data, rec.len, "failed", 6));
    assert_non_null(memmem(rec.data, rec.len, "网络故障", strlen("网络故障")));
    fx_free(f);

    /* failed while announcing: prices not yet announced stay out of the record */
    static const char *const secret[3] = {"777.77", "888.88", "999.99"};
    f = announcing(2, by_uscc, secret);
    assert_int_equal(announce(f, false, ANN), BO_E_OK);
    assert_int_equal(run(f, BO_CMD_FAIL, &f->host, ANN + 1), BO_E_OK);
    bo_buf_reset(&rec);
    assert_int_equal(bo_session_record(f->s, &rec), BO_E_OK);
    assert_non_null(memmem(rec.data, rec.len, "777.77", 6));
    assert_null(memmem(rec.data, rec.len, "888.88", 6));
    assert_null(memmem(rec.data, rec.len, "999.99", 6));
    assert_null(memmem(rec.data, rec.len, "confirmation", 12));
    bo_buf_cleanup(&rec);
    fx_free(f);
}

/* ------------------------------------------------------------------ replay ---- */

static void replay_to_the_same_record(void **state)
{
    fx *f = whole_opening();
    bo_err err;
    bo_session *r = bo_session_new(OID, &err);
    for (size_t i = 0; i < f->log.n; i++) {
        bo_buf b;
        bo_buf_init(&b, 1 << 22);
        assert_int_equal(bo_event_encode_record(&f->log.v[i], &b), BO_E_OK);
        bo_event ev;
        assert_int_equal(bo_event_decode_record(OID, b.data, b.len, &ev), BO_E_OK);
        if (bo_session_fold(r, &ev) != BO_E_OK)
            fail_msg("replay refuses event %zu (%s)", i, bo_event_kind_name(ev.kind));
        assert_int_equal(ev.pub_pos, f->log.v[i].pub_pos);
        bo_buf_reset(&b); /* and every event encodes on the wire */
        assert_int_equal(bo_event_encode_wire(OID, &ev, BO_STREAM_PUB, &b), BO_E_OK);
        bo_event_cleanup(&ev);
        bo_buf_cleanup(&b);
    }
    assert_int_equal(bo_session_seq(r), bo_session_seq(f->s));
    assert_int_equal(bo_session_phase(r), BO_PHASE_CLOSED);
    bo_buf a, b;
    bo_buf_init(&a, 1 << 22);
    bo_buf_init(&b, 1 << 22);
    assert_int_equal(bo_session_record(f->s, &a), BO_E_OK);
    assert_int_equal(bo_session_record(r, &b), BO_E_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    uint8_t ha[32], hb[32];
    assert_true(bo_session_closed_hash(r, hb));
    bo_sha256(b.data, b.len, ha);
    assert_memory_equal(ha, hb, 32);
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 8; i++) {
        bo_buf_reset(&a);
        bo_buf_reset(&b);
        assert_int_equal(bo_session_snapshot(f->s, &vs[i].v, DEADLINE + H, &a), BO_E_OK);
        assert_int_equal(bo_session_snapshot(r, &vs[i].v, DEADLINE + H, &b), BO_E_OK);
        if (a.len != b.len || memcmp(a.data, b.data, a.len))
            fail_msg("%s: snapshots differ after replay", vs[i].name);
    }
    bo_buf_cleanup(&a);
    bo_buf_cleanup(&b);
    bo_session_free(r);
    fx_free(f);
}

/* ------------------------------------------------------------------- fold ---- */

static void fold_checks_bodies(void **state)
{
    fx *f = fx_new(2, false);
    full_tender(&f->tender);
    to_decrypting(f);
    bo_buf form;
    bo_buf_init(&form, 4096);
    bo_cmd c = cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, START + 1);
    c.uscc = USCC[0];
    c.form = form2(&form, "1,0", "1");
    /* a dropped form_error folds but the form's check then disagrees: bid_form refused */
    bo_event_list evs;
    bo_event_list_init(&evs);
    assert_int_equal(bo_session_apply(f->s, &c, &evs, &f->info, NULL, 0), BO_E_OK);
    assert_int_equal(bo_session_seal(f->s, &evs), BO_E_OK);
    bo_event bad;
    assert_int_equal(bo_event_copy(&bad, &evs.v[0]), BO_E_OK);
    retouch(&bad, "form_error", NULL);
    bo_event_list one;
    bo_event_list_init(&one);
    assert_int_equal(bo_event_list_push(&one, &bad), BO_E_OK);
    bo_session *probe = bo_session_new(OID, NULL);
    for (size_t i = 0; i < f->log.n; i++) {
        bo_event e;
        assert_int_equal(bo_event_copy(&e, &f->log.v[i]), BO_E_OK);
        assert_int_equal(bo_session_fold(probe, &e), BO_E_OK);
        bo_event_cleanup(&e);
    }
    assert_int_equal(bo_session_fold(probe, &one.v[0]), BO_E_OK);
    evs.v[1].seq = one.v[0].seq + 1;
    memcpy(evs.v[1].prev_hash, one.v[0].hash, 32);
    bo_event_compute_hash(OID, &evs.v[1], evs.v[1].hash);
    assert_int_equal(bo_session_fold(probe, &evs.v[1]), BO_E_BAD_FIELD);
    bo_session_free(probe);
    bo_event_list_cleanup(&one);
    bo_event_list_cleanup(&evs);
    c.form = form2(&form, "1", "1");
    c.resp_req = req_id(REQ_START, 0);
    static const uint8_t w[93] = {1};
    c.resp_wrapped = (bo_bytes){w, sizeof(w)};
    c.resp_sig = (bo_bytes){sigbytes, sizeof(sigbytes)};
    static const tamper dec[] = {{"bid_decrypted", "resp", T_STR, 0, "x"},
                                 {"bid_decrypted", "form_error", T_STR, 0, ""}};
    fold_refuses_each(f, &c, dec, 2);
    c.resp_req = NULL;
    c.resp_wrapped = c.resp_sig = (bo_bytes){NULL, 0};
    assert_int_equal(decrypted_with(f, 1, "2", START + 2), BO_E_OK);
    c = cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, START + 3);
    c.uscc = USCC[2];
    c.form = form2(&form, "3", "1");
    static const tamper q[] = {{"phase_changed", "valid", T_U64, 2, NULL},
                               {"phase_changed", "quorum", T_DROP, 0, NULL},
                               {"phase_changed", "min", T_U64, 3, NULL}};
    fold_refuses_each(f, &c, q, 3);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_ANNOUNCING);

    /* computed bodies must be what the rules give */
    static const tamper dr[] = {{"draw_result", "order", T_DROP, 0, NULL},
                                {"draw_result", "seed", T_BIN, 0x5c, NULL},
                                {"draw_result", "inputs", T_BIN, 1, NULL}};
    c = cmd(f, BO_CMD_DRAW, &f->host, ANN);
    c.draw = "ord";
    memcpy(c.seed, SEED, 32);
    fold_refuses_each(f, &c, dr, 3);
    static const tamper an[] = {{"bid_announced", "n", T_U64, 2, NULL},
                                {"bid_announced", "commit", T_BIN, 3, NULL},
                                {"bid_announced", "status", T_STR, 0, "invalid"}};
    for (int i = 0; i < 3; i++) {
        c = cmd(f, BO_CMD_ANNOUNCE, &f->host, ANN + 1);
        fold_refuses(f, &c, &an[i]);
    }
    c = cmd(f, BO_CMD_DRAW, &f->host, ANN + 2);
    c.draw = "k";
    memcpy(c.seed, SEED, 32);
    static const tamper k[] = {{"draw_result", "value", T_STR, 0, "0.99"}};
    fold_refuses(f, &c, &k[0]);
    c = cmd(f, BO_CMD_BENCHMARK, &f->host, ANN + 3);
    static const tamper bm[] = {{"benchmark_price", "value", T_STR, 0, "1.00"}};
    fold_refuses(f, &c, &bm[0]);
    c = cmd(f, BO_CMD_CONFIRM_OPEN, &f->host, OPEN);
    static const tamper co[] = {{"confirmation_opened", "record_hash", T_BIN, 7, NULL}};
    fold_refuses(f, &c, &co[0]);
    c = cmd(f, BO_CMD_CONFIRM, &f->bid[0], OPEN + 1);
    assert_true(bo_session_confirm_hash(f->s, c.record_hash));
    static const tamper bc[] = {{"bidder_confirmed", "record_hash", T_BIN, 8, NULL}};
    fold_refuses(f, &c, &bc[0]);
    c = cmd(f, BO_CMD_OBJECT, &f->bid[1], OPEN + 2);
    c.text = "异议";
    static const tamper ob[] = {{"objection", "n", T_U64, 5, NULL}};
    fold_refuses(f, &c, &ob[0]);
    c = cmd(f, BO_CMD_ANSWER, &f->host, OPEN + 3);
    c.objection = 1;
    c.text = "答复";
    static const tamper aw[] = {{"objection_answered", "host_fpr", T_BIN, 9, NULL}};
    fold_refuses(f, &c, &aw[0]);
    c = cmd(f, BO_CMD_MESSAGE, &f->bid[1], OPEN + 4);
    c.text = "hi";
    static const tamper ms[] = {{"message", "from", T_STR, 0, "Company A Ltd"}};
    fold_refuses(f, &c, &ms[0]);
    c = cmd(f, BO_CMD_MESSAGE, &f->bid[1], OPEN + 5); /* too soon after the last */
    c.text = "hi";
    refused_cmd(f, &c, BO_E_RATE_LIMITED);
    c = cmd(f, BO_CMD_TICK, &f->sys, CLOSES);
    static const tamper wc[] = {{"confirmation_window_closed", "deemed", T_DROP, 0, NULL}};
    fold_refuses(f, &c, &wc[0]);
    c = cmd(f, BO_CMD_CLOSE, &f->host, CLOSES + 1);
    static const tamper cl[] = {{"opening_closed", "record_hash", T_BIN, 4, NULL}};
    fold_refuses(f, &c, &cl[0]);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_CLOSED);
    bo_buf_cleanup(&form);
    fx_free(f);
}

/* ---------------------------------------------------------------- secrecy ---- */

static void secrecy_holds(void **state)
{
    static const char *const secret[3] = {"777.77", "888.88", "999.99"};
    fx *f = fx_new(2, false);
    by_uscc(&f->tender);
    to_announcing(f, secret);
    /* the prices are only in the supervisor's bid_form until each is announced */
    for (size_t i = 0; i < f->log.n; i++) {
        const bo_event *ev = &f->log.v[i];
        bool has = memmem(ev->body, ev->body_len, "888.88", 6) != NULL;
        if (has && ev->aud != BO_AUD_SUP)
            fail_msg("%s (%d) carries a price before its announcement",
                     bo_event_kind_name(ev->kind), ev->aud);
    }
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 7; i++) {
        snap s;
        snap_take(f, &vs[i].v, &s);
        if (mentions(&s, "888.88"))
            fail_msg("%s: sees a price before its announcement", vs[i].name);
        snap_free(&s);
    }
    assert_int_equal(announce(f, false, ANN), BO_E_OK);
    assert_int_equal(announce(f, false, ANN + 1), BO_E_OK);
    for (int i = 0; i < 7; i++) {
        snap s;
        snap_take(f, &vs[i].v, &s);
        if (!mentions(&s, "888.88") || mentions(&s, "999.99"))
            fail_msg("%s: sees the wrong prices after two announcements", vs[i].name);
        snap_free(&s);
    }
    /* every event of §11 is public */
    assert_int_equal(announce(f, true, ANN + 2), BO_E_OK);
    assert_int_equal(confirm_open(f, 0, OPEN), BO_E_OK);
    assert_int_equal(confirm(f, 0, OPEN + 1), BO_E_OK);
    assert_int_equal(object(f, 1, "x", OPEN + 2), BO_E_OK);
    assert_int_equal(answer_as(f, &f->host, 1, "y", OPEN + 3), BO_E_OK);
    assert_int_equal(message(f, &f->bid[0], "z", OPEN + 4), BO_E_OK);
    static const char *const all_pub[8] = {"p", "p", "p", "p", "p", "p", "p", "a"};
    expect_streams(f, all_pub);
    for (size_t i = 0; i < f->log.n; i++)
        if (f->log.v[i].kind >= BO_EV_BID_ANNOUNCED)
            assert_int_equal(f->log.v[i].aud, BO_AUD_PUB);
    fx_free(f);
}

static void snapshots(void **state)
{
    fx *f = whole_opening();
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 8; i++) {
        snap s;
        snap_take(f, &vs[i].v, &s);
        const msgpack_object *an = bo_mpo_get(&s.o, "announce");
        uint64_t v;
        assert_non_null(an);
        assert_true(bo_mpo_u64(an, "announced", &v) && v == 3);
        assert_true(bo_mpo_u64(an, "total", &v) && v == 3);
        assert_null(bo_mpo_get(an, "next"));
        const msgpack_object *d = bo_mpo_get(&s.o, "draws");
        assert_non_null(d);
        assert_int_equal(d->via.array.size, 2);
        assert_non_null(bo_mpo_get(&s.o, "benchmark"));
        const msgpack_object *c = bo_mpo_get(&s.o, "confirm");
        assert_non_null(c);
        assert_non_null(bo_mpo_get(c, "final_hash"));
        bool closed;
        assert_true(bo_mpo_bool(c, "window_closed", &closed) && closed);
        const msgpack_object *ob = bo_mpo_get(&s.o, "objections");
        assert_int_equal(ob->via.array.size, 1);
        assert_non_null(bo_mpo_get(at(ob, 0), "answer"));
        const msgpack_object *bl = bo_mpo_get(&s.o, "bidders");
        str_is(at(bl, 0), "status", "valid");
        str_is(bo_mpo_get(at(bl, 0), "fields"), "price", "1234567.89");
        str_is(at(bl, 2), "status", "withdrawn");
        snap_free(&s);
    }
    fx_free(f);
    /* while announcing the next bid is known once the order is */
    f = announcing(2, full_tender, NULL);
    snap s;
    snap_take(f, &vs[0].v, &s);
    assert_null(bo_mpo_get(bo_mpo_get(&s.o, "announce"), "next")); /* not drawn yet */
    snap_free(&s);
    assert_int_equal(draw(f, "ord", ANN), BO_E_OK);
    snap_take(f, &vs[0].v, &s);
    assert_non_null(bo_mpo_get(bo_mpo_get(&s.o, "announce"), "next"));
    snap_free(&s);
    fx_free(f);
}

int main(void)
{
    memset(SEED, 0x5d, sizeof(SEED));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hmac_known_answer),
        cmocka_unit_test(form_check_and_quorum),
        cmocka_unit_test(decryption_evidence),
        cmocka_unit_test(announcement_rules),
        cmocka_unit_test(draws_are_verifiable),
        cmocka_unit_test(benchmark_cases),
        cmocka_unit_test(benchmark_refusals),
        cmocka_unit_test(confirm_open_rules),
        cmocka_unit_test(confirm_and_object),
        cmocka_unit_test(closing),
        cmocka_unit_test(messages),
        cmocka_unit_test(record_contents),
        cmocka_unit_test(record_before_the_end),
        cmocka_unit_test(confirmed_record_derives),
        cmocka_unit_test(replay_to_the_same_record),
        cmocka_unit_test(fold_checks_bodies),
        cmocka_unit_test(secrecy_holds),
        cmocka_unit_test(snapshots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
