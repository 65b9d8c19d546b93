/* The fixture of the session/ tests (test_session.c, test_bids.c, test_announce.c): an
 * opening with its actors, commands run through apply, seal and fold with every event kept,
 * body readers, viewers, snapshots and tampered bodies. Test helper: every function is
 * static inline. */
#ifndef BO_TEST_SESSION_FX_H
#define BO_TEST_SESSION_FX_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/session.h"

#define H 3600000LL
#define T0 1800000000000LL
#define CHECKIN (T0 + H)
#define DEADLINE (T0 + 2 * H)
#define OID "T-2026.001"

static const char *const USCC[3] = {"91350100M000100Y43", "91350100M000100Y44",
                                    "91350100M000100Y45"};
static uint8_t der_sign[3][40], der_enc[3][40];
static bo_bytes sign_v[3], enc_v[3];
static const uint8_t sigbytes[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02};
static const uint8_t key_fpr[32] = {0xee};

typedef struct fx {
    bo_session *s;
    bo_tender tender;
    bo_actor op, host, host2, sup, site, obs, sys, bid[3];
    bo_event_list log; /* every folded event, with its stream positions */
    size_t last_from;  /* first event of the last command in log */
    bo_apply_info info;
    char detail[256];
} fx;

/* ------------------------------------------------------------------ fixture ---- */

static inline void actor(bo_actor *a, bo_role role, uint8_t fpr_byte, const char *name)
{
    memset(a, 0, sizeof(*a));
    a->role = role;
    if (fpr_byte)
        memset(a->fpr, fpr_byte, 32);
    snprintf(a->org, sizeof(a->org), "%s org", name);
    snprintf(a->person, sizeof(a->person), "%s", name);
    memset(a->nonce, 0x4e, 32);
}

static inline void bidder(bo_actor *a, int i)
{
    actor(a, BO_ROLE_BIDDER, (uint8_t)(0xb0 + i), USCC[i]);
    snprintf(a->uscc, sizeof(a->uscc), "%s", USCC[i]);
    snprintf(a->org, sizeof(a->org), "Company %c Ltd", 'A' + i);
    memset(der_sign[i], 0x30 + i, sizeof(der_sign[i]));
    memset(der_enc[i], 0x60 + i, sizeof(der_enc[i]));
    sign_v[i] = (bo_bytes){der_sign[i], sizeof(der_sign[i])};
    enc_v[i] = (bo_bytes){der_enc[i], sizeof(der_enc[i])};
    a->sign_chain = (bo_bytes_list){&sign_v[i], 1};
    a->enc_chain = (bo_bytes_list){&enc_v[i], 1};
    memset(a->enc_fpr, 0xc0 + i, 32);
    a->has_enc = true;
}

static inline fx *fx_new(unsigned min_bidders, bool counts_early)
{
    fx *f = calloc(1, sizeof(*f));
    bo_err err;
    f->s = bo_session_new(OID, &err);
    assert_non_null(f->s);
    bo_tender *t = &f->tender;
    snprintf(t->title, sizeof(t->title), "道路改造工程");
    t->checkin_at = CHECKIN;
    t->deadline = DEADLINE;
    t->min_bidders = min_bidders;
    t->counts_early = counts_early;
    t->decrypt_window_s = 1800;
    memcpy(t->currency, "CNY", 4);
    t->tz_offset_min = 480;
    /* the opening form of form_of(): a price and a duration */
    t->fields[0] = (bo_tender_field){"price", "投标报价", BO_FIELD_DECIMAL};
    t->fields[1] = (bo_tender_field){"days", "工期", BO_FIELD_DAYS};
    t->n_fields = 2;
    actor(&f->op, BO_ROLE_OPERATOR, 0x0a, "operator");
    actor(&f->host, BO_ROLE_HOST, 0x1a, "host");
    actor(&f->host2, BO_ROLE_HOST, 0x2a, "other host");
    actor(&f->sup, BO_ROLE_SUPERVISOR, 0x3a, "supervisor");
    actor(&f->site, BO_ROLE_SITE, 0x4a, "site");
    actor(&f->obs, BO_ROLE_OBSERVER, 0, "observer");
    actor(&f->sys, BO_ROLE_SYSTEM, 0, "system");
    for (int i = 0; i < 3; i++)
        bidder(&f->bid[i], i);
    bo_event_list_init(&f->log);
    return f;
}

static inline void fx_free(fx *f)
{
    bo_session_free(f->s);
    bo_event_list_cleanup(&f->log);
    free(f);
}

static inline bo_cmd cmd(fx *f, bo_cmd_type type, const bo_actor *a, bo_time_ms now)
{
    bo_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.actor = a;
    c.now = now;
    c.tender = &f->tender;
    memset(c.seed_commit, 0x5e, 32);
    c.sig = (bo_bytes){sigbytes, sizeof(sigbytes)};
    return c;
}

/* Seals and folds evs, keeping copies in the log. */
static inline void commit(fx *f, bo_event_list *evs)
{
    assert_int_equal(bo_session_seal(f->s, evs), BO_E_OK);
    for (size_t i = 0; i < evs->n; i++) {
        assert_int_equal(bo_session_fold(f->s, &evs->v[i]), BO_E_OK);
        bo_event copy;
        assert_int_equal(bo_event_copy(&copy, &evs->v[i]), BO_E_OK);
        assert_int_equal(bo_event_list_push(&f->log, &copy), BO_E_OK);
    }
}

/* apply, seal, fold; then the signed head when asked for. */
static inline bo_err run_cmd(fx *f, const bo_cmd *c)
{
    bo_event_list evs;
    bo_event_list_init(&evs);
    uint64_t seq = bo_session_seq(f->s);
    bo_err err = bo_session_apply(f->s, c, &evs, &f->info, f->detail, sizeof(f->detail));
    assert_int_equal(bo_session_seq(f->s), seq); /* apply never changes the state */
    f->last_from = f->log.n;
    if (err) {
        assert_int_equal(evs.n, 0);
        return err;
    }
    commit(f, &evs);
    bo_event_list_cleanup(&evs);
    if (f->info.needs_head) {
        assert_int_equal(bo_session_head_event(f->s, bo_session_phase(f->s), bo_session_seq(f->s),
                                               bo_session_head(f->s), c->now, sigbytes,
                                               sizeof(sigbytes), key_fpr, &evs),
                         BO_E_OK);
        commit(f, &evs);
        bo_event_list_cleanup(&evs);
    }
    return BO_E_OK;
}

static inline bo_err run(fx *f, bo_cmd_type type, const bo_actor *a, bo_time_ms now)
{
    bo_cmd c = cmd(f, type, a, now);
    if (type == BO_CMD_PAUSE || type == BO_CMD_FAIL)
        c.reason = "网络故障";
    return run_cmd(f, &c);
}

static inline bo_err run_blacklisted(fx *f, bo_cmd_type type, const bo_actor *a, bo_time_ms now)
{
    bo_cmd c = cmd(f, type, a, now);
    c.blacklisted = true;
    c.bl_reason = "失信被执行人";
    c.bl_source = "信用中国";
    return run_cmd(f, &c);
}

/* The kinds of the last command's events, comma-separated. */
static inline const char *last_kinds(fx *f)
{
    static char s[512];
    s[0] = 0;
    for (size_t i = f->last_from; i < f->log.n; i++) {
        if (s[0])
            strcat(s, ",");
        strcat(s, bo_event_kind_name(f->log.v[i].kind));
    }
    return s;
}

static inline const bo_event *last(fx *f, size_t i)
{
    assert_true(f->last_from + i < f->log.n);
    return &f->log.v[f->last_from + i];
}

static inline void expect_refusal(fx *f, bo_err got, bo_err want)
{
    if (got != want)
        fail_msg("want %s, got %s (%s)", bo_err_name(want), bo_err_name(got), f->detail);
    assert_true(f->detail[0] != 0); /* every refusal explains itself */
}

/* A body as a parsed object; the zone is freed by body_free. */
typedef struct body {
    msgpack_zone *z;
    msgpack_object o;
} body;

static inline body parse_body(const bo_event *ev)
{
    body b;
    assert_int_equal(bo_mp_parse(ev->body, ev->body_len, &b.z, &b.o), BO_E_OK);
    return b;
}

static inline uint64_t body_u64(const bo_event *ev, const char *key)
{
    body b = parse_body(ev);
    uint64_t v = 0;
    assert_true(bo_mpo_u64(&b.o, key, &v));
    msgpack_zone_free(b.z);
    return v;
}

static inline bool body_bool(const bo_event *ev, const char *key)
{
    body b = parse_body(ev);
    bool v = false;
    assert_true(bo_mpo_bool(&b.o, key, &v));
    msgpack_zone_free(b.z);
    return v;
}

static inline void body_str_is(const bo_event *ev, const char *key, const char *want)
{
    body b = parse_body(ev);
    const char *s;
    size_t n;
    assert_true(bo_mpo_str(&b.o, key, &s, &n));
    if (n != strlen(want) || memcmp(s, want, n))
        fail_msg("%s.%s is \"%.*s\", not \"%s\"", bo_event_kind_name(ev->kind), key, (int)n, s,
                 want);
    msgpack_zone_free(b.z);
}

/* Created by the host; optionally registered bidders; optionally through the deadline. */
static inline fx *opening(unsigned min_bidders, bool counts_early)
{
    fx *f = fx_new(min_bidders, counts_early);
    assert_int_equal(run(f, BO_CMD_CREATE, &f->host, T0), BO_E_OK);
    return f;
}


/* -------------------------------------------------------------------- bids ---- */

static uint8_t ri_der[3][24];
static const uint8_t receipt_sig[] = {0x30, 0x05, 0x02, 0x01, 0x07, 0x02, 0x00};

/* The envelope of bidder i as the server describes it; another version is another file. */
static inline bo_bid_info bid_info(int i, int version)
{
    bo_bid_info bi;
    memset(&bi, 0, sizeof(bi));
    memset(bi.hash, 0xa0 + 16 * version + i, 32);
    bi.size = 1000 + 100 * (uint64_t)i + (uint64_t)version;
    memset(bi.commit, 0xc0 + i, 32);
    bi.cipher = version % 2 ? "aes-256-cbc" : "aes-256-gcm";
    memset(ri_der[i], 0x70 + i, sizeof(ri_der[i]));
    bi.ri = (bo_bytes){ri_der[i], sizeof(ri_der[i])};
    bi.receipt_sig = (bo_bytes){receipt_sig, sizeof(receipt_sig)};
    return bi;
}

static inline bo_err submit_as(fx *f, const bo_actor *a, int i, bo_time_ms now, int version)
{
    bo_bid_info bi = bid_info(i, version);
    bo_cmd c = cmd(f, BO_CMD_SUBMIT, a, now);
    c.bid = &bi;
    return run_cmd(f, &c);
}

static inline bo_err submit(fx *f, int i, bo_time_ms now, int version)
{
    return submit_as(f, &f->bid[i], i, now, version);
}

/* Bidders 0..n-1 registered, each with a bid. */
static inline void register_and_submit(fx *f, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(run(f, BO_CMD_REGISTER, &f->bid[i], T0 + i), BO_E_OK);
        assert_int_equal(submit(f, i, T0 + 10 + i, 0), BO_E_OK);
    }
}

/* Requests for the three bidders with ids base, base+1, base+2 (32 hex digits). */
static inline void make_reqs(bo_decrypt_req r[3], unsigned base)
{
    for (int i = 0; i < 3; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        snprintf(r[i].uscc, sizeof(r[i].uscc), "%s", USCC[i]);
        snprintf(r[i].req, sizeof(r[i].req), "%032x", base + (unsigned)i);
        memset(r[i].server_pub, 0x50 + i + (int)(base & 7), 32);
        r[i].sig = (bo_bytes){sigbytes, sizeof(sigbytes)};
    }
}

/* The request id make_reqs gives bidder i. */
static inline const char *req_id(unsigned base, int i)
{
    static char s[3][33];
    snprintf(s[i], sizeof(s[i]), "%032x", base + (unsigned)i);
    return s[i];
}

#define REQ_START 0x100u /* request ids of decrypt_start */

static inline bo_err decrypt_start(fx *f, bo_time_ms now, uint32_t window_s)
{
    bo_decrypt_req r[3];
    make_reqs(r, REQ_START);
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_START, &f->host, now);
    c.reqs = r;
    c.n_reqs = 3;
    c.window_s = window_s;
    return run_cmd(f, &c);
}

static inline bo_err signin_req(fx *f, int i, bo_time_ms now, unsigned base)
{
    bo_decrypt_req r[3];
    make_reqs(r, base);
    bo_cmd c = cmd(f, BO_CMD_SIGNIN, &f->bid[i], now);
    c.reqs = r;
    c.n_reqs = 3;
    return run_cmd(f, &c);
}

/* A canonical opening form {price, days}. */
static inline bo_bytes form_of(bo_buf *store, const char *price)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_mpmap_str(m, "price", price);
    bo_mpmap_str(m, "days", "180");
    assert_int_equal(bo_mpmap_finish(m, store), BO_E_OK);
    bo_mpmap_free(m);
    return (bo_bytes){store->data, store->len};
}

static inline bo_err bid_decrypted(fx *f, int i, bo_time_ms now)
{
    bo_buf store;
    bo_buf_init(&store, 4096);
    bo_cmd c = cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, now);
    c.uscc = USCC[i];
    c.form = form_of(&store, "1234567.89");
    bo_err err = run_cmd(f, &c);
    bo_buf_cleanup(&store);
    return err;
}

static inline bo_err classify(fx *f, const bo_actor *a, int i, const char *outcome,
                              bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_CLASSIFY, a, now);
    c.uscc = USCC[i];
    c.outcome = outcome;
    c.reason = "证书已更换，无法解密";
    return run_cmd(f, &c);
}

static inline bo_err extend(fx *f, const bo_actor *a, uint32_t seconds, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_EXTEND, a, now);
    c.window_s = seconds;
    c.reason = "投标人网络故障";
    return run_cmd(f, &c);
}

static inline bo_err diag(fx *f, int i, const char *req, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_DIAG, &f->bid[i], now);
    c.req = req;
    c.stage = "cert";
    c.error = "the key on the token is not the one the bid was sealed to";
    memset(c.cert_fpr, 0xcf, 32);
    return run_cmd(f, &c);
}

static inline bo_err refused(fx *f, int i, const char *req, bo_err code, bo_time_ms now)
{
    bo_cmd c = cmd(f, BO_CMD_DECRYPT_REFUSED, &f->sys, now);
    c.uscc = USCC[i];
    c.req = req;
    c.code = code;
    return run_cmd(f, &c);
}

/* ----------------------------------------------------------------- viewers ---- */

typedef struct viewer {
    const char *name;
    bo_view v;
} viewer;

/* observer, site, operator, this host, another host, bidder 0, bidder 1, supervisor */
static inline void viewers(fx *f, viewer out[8])
{
    out[0] = (viewer){"observer", {BO_ROLE_OBSERVER, NULL, NULL}};
    out[1] = (viewer){"site", {BO_ROLE_SITE, f->site.fpr, NULL}};
    out[2] = (viewer){"operator", {BO_ROLE_OPERATOR, f->op.fpr, NULL}};
    out[3] = (viewer){"host", {BO_ROLE_HOST, f->host.fpr, NULL}};
    out[4] = (viewer){"host2", {BO_ROLE_HOST, f->host2.fpr, NULL}};
    out[5] = (viewer){"bidder0", {BO_ROLE_BIDDER, f->bid[0].fpr, USCC[0]}};
    out[6] = (viewer){"bidder1", {BO_ROLE_BIDDER, f->bid[1].fpr, USCC[1]}};
    out[7] = (viewer){"supervisor", {BO_ROLE_SUPERVISOR, f->sup.fpr, NULL}};
}

/* Checks the streams through which each viewer gets the last command's events.
 * want[i] for viewer i as letters: p pub, s staff, b bidder, a all, - none, one per event. */
static inline void expect_streams(fx *f, const char *const want[8])
{
    viewer vs[8];
    viewers(f, vs);
    for (int i = 0; i < 8; i++) {
        char got[16] = "";
        for (size_t e = f->last_from; e < f->log.n && e - f->last_from < 15; e++) {
            bo_stream st = bo_session_event_stream(f->s, &vs[i].v, &f->log.v[e]);
            got[e - f->last_from] = "-psba"[st];
        }
        if (strcmp(got, want[i]))
            fail_msg("%s sees [%s] of %s, want [%s]", vs[i].name, got, last_kinds(f), want[i]);
    }
}

/* --------------------------------------------------------------- snapshots ---- */

typedef struct snap {
    bo_buf b;
    msgpack_zone *z;
    msgpack_object o;
} snap;

static inline void snap_take(fx *f, const bo_view *v, snap *s)
{
    bo_buf_init(&s->b, 1 << 20);
    assert_int_equal(bo_session_snapshot(f->s, v, T0 + 5, &s->b), BO_E_OK);
    assert_int_equal(bo_mp_parse(s->b.data, s->b.len, &s->z, &s->o), BO_E_OK);
}

static inline void snap_free(snap *s)
{
    msgpack_zone_free(s->z);
    bo_buf_cleanup(&s->b);
}

static inline bool mentions(const snap *s, const char *text)
{
    return memmem(s->b.data, s->b.len, text, strlen(text)) != NULL;
}

/* -------------------------------------------------------- tampered bodies ---- */

/* Rewrites one member of a sealed event's body (NULL val removes it) and re-hashes it. */
static inline void retouch(bo_event *ev, const char *key, const bo_buf *val)
{
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(ev->body, ev->body_len, &z, &o), BO_E_OK);
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bool seen = false;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        const msgpack_object_kv *kv = &o.via.map.ptr[i];
        char k[64];
        snprintf(k, sizeof(k), "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
        if (!strcmp(k, key)) {
            seen = true;
            if (val)
                bo_mpmap_raw(m, k, val->data, val->len);
            continue;
        }
        bo_buf v;
        bo_buf_init(&v, 1 << 20);
        assert_int_equal(bo_mp_canonical(&v, &kv->val), BO_E_OK);
        bo_mpmap_raw(m, k, v.data, v.len);
        bo_buf_cleanup(&v);
    }
    if (!seen && val)
        bo_mpmap_raw(m, key, val->data, val->len);
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_OK);
    bo_mpmap_free(m);
    msgpack_zone_free(z);
    free(ev->body);
    ev->body = bo_buf_steal(&b, &ev->body_len);
    bo_buf_cleanup(&b);
    bo_event_compute_hash(OID, ev, ev->hash);
}

typedef struct tamper {
    const char *kind; /* the event of the command to tamper with */
    const char *key;
    enum { T_DROP, T_U64, T_I64, T_STR, T_BIN } type;
    int64_t i;
    const char *s;
} tamper;

static inline void value_of(const tamper *t, bo_buf *v)
{
    uint8_t bin[32];
    switch (t->type) {
    case T_U64:
        bo_mp_u64(v, (uint64_t)t->i);
        break;
    case T_I64:
        bo_mp_i64(v, t->i);
        break;
    case T_STR:
        bo_mp_str(v, t->s, strlen(t->s));
        break;
    case T_BIN:
        memset(bin, (int)t->i, 32);
        bo_mp_bin(v, bin, 32);
        break;
    default:
        break;
    }
}

/* Applies c, tampers with the event of kind t[i].kind in each of n ways, and expects fold
 * to refuse each; then folds the true events. */
static inline void fold_refuses_each(fx *f, const bo_cmd *c, const tamper *t, size_t n);

/* Applies c, tampers with the event of kind t->kind, and expects fold to refuse it; then
 * folds the true events. */
static inline void fold_refuses(fx *f, const bo_cmd *c, const tamper *t)
{
    fold_refuses_each(f, c, t, 1);
}

static inline void fold_refuses_each(fx *f, const bo_cmd *c, const tamper *ts, size_t n_t)
{
    bo_event_list evs;
    bo_event_list_init(&evs);
    bo_err err = bo_session_apply(f->s, c, &evs, &f->info, f->detail, sizeof(f->detail));
    if (err)
        fail_msg("%s refused: %s (%s)", ts[0].kind, bo_err_name(err), f->detail);
    assert_int_equal(bo_session_seal(f->s, &evs), BO_E_OK);
    size_t at = evs.n;
    for (size_t i = 0; i < evs.n && at == evs.n; i++)
        if (!strcmp(bo_event_kind_name(evs.v[i].kind), ts[0].kind))
            at = i;
    if (at == evs.n)
        fail_msg("no %s to tamper with", ts[0].kind);
    for (size_t i = 0; i < at; i++)
        assert_int_equal(bo_session_fold(f->s, &evs.v[i]), BO_E_OK);
    for (size_t k = 0; k < n_t; k++) {
        const tamper *t = &ts[k];
        assert_string_equal(t->kind, ts[0].kind); /* one event, several ways */
        bo_event bad;
        assert_int_equal(bo_event_copy(&bad, &evs.v[at]), BO_E_OK);
        bo_buf v;
        bo_buf_init(&v, 256);
        value_of(t, &v);
        retouch(&bad, t->key, t->type == T_DROP ? NULL : &v);
        bo_buf_cleanup(&v);
        uint64_t seq = bo_session_seq(f->s);
        err = bo_session_fold(f->s, &bad);
        if (err != BO_E_BAD_FIELD)
            fail_msg("%s with %s changed: fold says %s", t->kind, t->key, bo_err_name(err));
        assert_int_equal(bo_session_seq(f->s), seq);
        bo_event_cleanup(&bad);
    }
    for (size_t i = at; i < evs.n; i++)
        assert_int_equal(bo_session_fold(f->s, &evs.v[i]), BO_E_OK);
    bo_event_list_cleanup(&evs);
}

#endif
