/* The connection state machine against a scripted server (mock_server.c): real TLS, real
 * WebSocket, one libuv loop. Resume without duplicates or losses, gaps, close codes,
 * refusals, signatures, cancellation, backoff, freeing from callbacks, many clients. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/client.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/sigpayload.h"
#include "bo_client_internal.h"
#include "mock_server.h"

static mock_pki pki;

/* ------------------------------------------------------------ recording ---- */

typedef struct rec {
    bo_client *c;
    bo_client_state states[64];
    int nstates;
    bo_err err;       /* of the last state change */
    char code[64];
    char msg[256];
    uint64_t seqs[512];
    char sts[512][8];
    int nev;
    int nsnap;
    bool recovered[8];
    size_t snap_bidders;
    int replies;
    bo_err reply_err;
    char reply_code[64];
    bool free_on_event;
    bool request_in_backoff;
    bo_err backoff_request_err;
} rec;

static void on_state(void *ud, bo_client_state st, bo_err err, const char *code, const char *msg)
{
    rec *r = ud;
    if (r->nstates < 64)
        r->states[r->nstates++] = st;
    r->err = err;
    snprintf(r->code, sizeof(r->code), "%s", code ? code : "");
    snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
    if (st == BO_CLIENT_BACKOFF && r->request_in_backoff)
        r->backoff_request_err = bo_client_list(r->c, NULL, NULL);
}

static void on_snapshot(void *ud, const msgpack_object *snap, bool recovered)
{
    rec *r = ud;
    if (r->nsnap < 8)
        r->recovered[r->nsnap] = recovered;
    r->nsnap++;
    const msgpack_object *b = bo_mpo_get(snap, "bidders");
    r->snap_bidders = b && b->type == MSGPACK_OBJECT_ARRAY ? b->via.array.size : 0;
}

static void on_event(void *ud, const bo_client_event *ev)
{
    rec *r = ud;
    if (r->nev < 512) {
        r->seqs[r->nev] = ev->seq;
        snprintf(r->sts[r->nev], sizeof(r->sts[0]), "%s", ev->st);
    }
    r->nev++;
    if (r->free_on_event) {
        bo_client_free(r->c);
        r->c = NULL;
    }
}

static void on_reply(void *ud, bo_err err, const char *code, const char *msg,
                     const msgpack_object *data)
{
    rec *r = ud;
    r->replies++;
    r->reply_err = err;
    snprintf(r->reply_code, sizeof(r->reply_code), "%s", code ? code : "");
}

static bo_client *mk_client(bo_client_ctx *ctx, rec *r, int port, const char *role,
                            const bo_cred *cred, const char *oid)
{
    char url[64];
    snprintf(url, sizeof(url), "wss://localhost:%d/ws", port);
    const char *urls[1] = {url};
    bo_client_opts o = {
        .urls = urls,
        .n_urls = 1,
        .role = role,
        .oid = oid,
        .backoff_min_ms = 20,
        .backoff_max_ms = 80,
        .cb = {on_state, on_snapshot, on_event, NULL, NULL},
        .ud = r,
    };
    if (cred) {
        o.key = bo_cred_key(cred);
        o.chain = bo_cred_chain(cred);
        o.enc_chain = bo_cred_enc_chain(cred);
    }
    bo_err err;
    r->c = bo_client_new(ctx, &o, &err);
    assert_non_null(r->c);
    assert_int_equal(bo_client_start(r->c), BO_E_OK);
    return r->c;
}

/* ------------------------------------------------------------ server side ---- */

typedef struct srv {
    int scenario;
    int64_t offset; /* server clock minus local clock */
    bo_msg_since since[8];
    int njoins;
    uint64_t pongs[8];
    int npongs;
    int auth_ok_sigs;
    int auth_bad_sigs;
    uint8_t sign_der[4096];
    size_t sign_len;
    uint8_t enc_der[4096];
    size_t enc_len;
    int reg_ok, signin_ok, sig_bad;
    int lists;
    /* S_CLOSING: what the §11 requests carried */
    int closing_sig_ok, closing_sig_bad;
    bo_msg_type closing_types[16];
    int n_closing;
    bool last_all, last_has_window;
    uint64_t last_window, last_n;
    char last_draw[40], last_text[6100];
    uint8_t last_hash[32];
} srv;

enum { S_RESUME = 1, S_BIDDER, S_AUTH_REFUSED, S_JOIN_REFUSED, S_CLOSE_4002, S_CLOSE_4000,
       S_CANCEL, S_MANY, S_CLOSING };

/* The record hashes of S_CLOSING: the event's, then a later snapshot's. */
static const uint8_t H_EVENT[32] = {0xe1, 1, 2, 3}, H_SNAP[32] = {0x5a, 9, 8, 7};

static void send_map_ok(mconn *c, uint64_t re, bo_mpmap *mm)
{
    bo_buf b;
    bo_buf_init(&b, 8 << 20);
    assert_int_equal(bo_mpmap_finish(mm, &b), BO_E_OK);
    bo_mpmap_free(mm);
    mock_send_ok(c, re, &b);
    bo_buf_cleanup(&b);
}

static bo_mpmap *mpmap(void)
{
    bo_err err;
    bo_mpmap *mm = bo_mpmap_new(&err);
    assert_non_null(mm);
    return mm;
}

/* snap {oid, phase, pos:{pub[, priv]}} with n_bidders dummy bidders */
static void send_join_ok(mconn *c, uint64_t re, uint64_t pub, int64_t priv, bool recovered,
                         unsigned n_bidders)
{
    bo_buf pos, snap, bidders;
    bo_buf_init(&pos, 1024);
    bo_buf_init(&snap, 8 << 20);
    bo_buf_init(&bidders, 8 << 20);
    bo_mpmap *p = mpmap();
    bo_mpmap_u64(p, "pub", pub);
    if (priv >= 0)
        bo_mpmap_u64(p, "priv", (uint64_t)priv);
    bo_mpmap_finish(p, &pos);
    bo_mpmap_free(p);
    bo_mp_array_header(&bidders, n_bidders);
    for (unsigned i = 0; i < n_bidders; i++) {
        bo_mpmap *b = mpmap();
        bo_mpmap_str(b, "uscc", "91350100M000100Y43");
        bo_mpmap_str(b, "org", "福建某建设有限公司");
        bo_mpmap_bool(b, "signed_in", i % 2);
        bo_mpmap_finish(b, &bidders);
        bo_mpmap_free(b);
    }
    bo_mpmap *s = mpmap();
    bo_mpmap_str(s, "oid", "demo-1");
    bo_mpmap_str(s, "phase", "checkin");
    bo_mpmap_raw(s, "pos", pos.data, pos.len);
    if (n_bidders)
        bo_mpmap_raw(s, "bidders", bidders.data, bidders.len);
    bo_mpmap_finish(s, &snap);
    bo_mpmap_free(s);
    bo_mpmap *d = mpmap();
    bo_mpmap_raw(d, "snap", snap.data, snap.len);
    bo_mpmap_bool(d, "recovered", recovered);
    bo_mpmap_u64(d, "replay", 0);
    send_map_ok(c, re, d);
    bo_buf_cleanup(&pos);
    bo_buf_cleanup(&snap);
    bo_buf_cleanup(&bidders);
}

static void auth_ok(srv *s, mconn *c, const bo_msg *m)
{
    bo_mpmap *d = mpmap();
    bo_mpmap_str(d, "role", m->u.auth.role);
    if (strcmp(m->u.auth.role, "observer") != 0) {
        /* check the signature like the server does: over [nonce, role, time] */
        bo_buf payload;
        bo_buf_init(&payload, 1024);
        bo_sigpayload_auth(&payload, mconn_nonce(c), m->u.auth.role, m->u.auth.time);
        const bo_bytes *leaf = &m->u.auth.chain.v[0];
        if (bo_sig_verify(leaf->p, leaf->len, BO_CTX_AUTH, payload.data, payload.len,
                          m->u.auth.sig.p, m->u.auth.sig.len) == BO_E_OK &&
            m->u.auth.has_time && llabs(m->u.auth.time - (bo_clock_now_ms() + s->offset)) < 2000)
            s->auth_ok_sigs++;
        else
            s->auth_bad_sigs++;
        bo_buf_cleanup(&payload);
        memcpy(s->sign_der, leaf->p, leaf->len);
        s->sign_len = leaf->len;
        if (m->u.auth.enc_chain.n) {
            memcpy(s->enc_der, m->u.auth.enc_chain.v[0].p, m->u.auth.enc_chain.v[0].len);
            s->enc_len = m->u.auth.enc_chain.v[0].len;
        }
        bo_mpmap_str(d, "uscc", pki.uscc);
        bo_mpmap_str(d, "org", "福建某建设有限公司");
        bo_mpmap_str(d, "name", "张三");
        uint8_t fpr[32];
        bo_cert_fpr(leaf->p, leaf->len, fpr);
        bo_mpmap_bin(d, "fpr", fpr, 32);
    } else {
        bo_mpmap_str(d, "org", "");
        bo_mpmap_str(d, "name", "");
    }
    send_map_ok(c, m->id, d);
}

/* snap {oid, phase, pos:{pub, priv}, confirm?:{record_hash, ...}} */
static void send_join_closing(mconn *c, uint64_t re, const uint8_t *record_hash)
{
    bo_buf pos, snap, conf;
    bo_buf_init(&pos, 1024);
    bo_buf_init(&snap, 1 << 20);
    bo_buf_init(&conf, 1024);
    bo_mpmap *p = mpmap();
    bo_mpmap_u64(p, "pub", record_hash ? 1 : 0);
    bo_mpmap_u64(p, "priv", 0);
    bo_mpmap_finish(p, &pos);
    bo_mpmap_free(p);
    bo_mpmap *s = mpmap();
    bo_mpmap_str(s, "oid", "demo-1");
    bo_mpmap_str(s, "phase", record_hash ? "confirming" : "announcing");
    bo_mpmap_raw(s, "pos", pos.data, pos.len);
    if (record_hash) {
        bo_mpmap *cf = mpmap();
        bo_mpmap_bin(cf, "record_hash", record_hash, 32);
        bo_mpmap_i64(cf, "ends_at", bo_clock_now_ms() + 600000);
        bo_mpmap_bool(cf, "window_closed", false);
        bo_mpmap_finish(cf, &conf);
        bo_mpmap_free(cf);
        bo_mpmap_raw(s, "confirm", conf.data, conf.len);
    }
    bo_mpmap_finish(s, &snap);
    bo_mpmap_free(s);
    bo_mpmap *d = mpmap();
    bo_mpmap_raw(d, "snap", snap.data, snap.len);
    bo_mpmap_bool(d, "recovered", false);
    bo_mpmap_u64(d, "replay", 0);
    send_map_ok(c, re, d);
    bo_buf_cleanup(&pos);
    bo_buf_cleanup(&snap);
    bo_buf_cleanup(&conf);
}

/* The §11 requests: record what they carry, check signatures like the server does. */
static void closing_request(srv *s, mconn *c, const bo_msg *m)
{
    if (s->n_closing < 16)
        s->closing_types[s->n_closing] = m->type;
    s->n_closing++;
    bo_buf payload;
    bo_buf_init(&payload, 16384);
    const char *ctx = NULL;
    bo_bytes sig = {NULL, 0};
    switch (m->type) {
    case BO_MSG_ANNOUNCE:
        s->last_all = m->u.announce.has_all && m->u.announce.all;
        break;
    case BO_MSG_DRAW:
        snprintf(s->last_draw, sizeof(s->last_draw), "%s", m->u.draw.draw);
        break;
    case BO_MSG_CONFIRM_OPEN:
        s->last_has_window = m->u.confirm_open.has_window_s;
        s->last_window = m->u.confirm_open.window_s;
        break;
    case BO_MSG_CONFIRM:
        memcpy(s->last_hash, m->u.confirm.record_hash.p, 32);
        bo_sigpayload_confirm(&payload, m->u.confirm.oid, pki.uscc, s->last_hash);
        ctx = BO_CTX_CONFIRM;
        sig = m->u.confirm.sig;
        break;
    case BO_MSG_OBJECT: /* signed over the record hash the client saw */
        snprintf(s->last_text, sizeof(s->last_text), "%s", m->u.object.text);
        bo_sigpayload_objection(&payload, m->u.object.oid, pki.uscc, s->last_hash,
                                m->u.object.text);
        ctx = BO_CTX_OBJECTION;
        sig = m->u.object.sig;
        break;
    case BO_MSG_ANSWER:
        s->last_n = m->u.answer.objection;
        snprintf(s->last_text, sizeof(s->last_text), "%s", m->u.answer.text);
        bo_sigpayload_answer(&payload, m->u.answer.oid, m->u.answer.objection,
                             m->u.answer.text);
        ctx = BO_CTX_ANSWER;
        sig = m->u.answer.sig;
        break;
    case BO_MSG_MESSAGE:
        snprintf(s->last_text, sizeof(s->last_text), "%s", m->u.message.text);
        break;
    default:
        break;
    }
    bool ok = true;
    if (ctx) {
        ok = bo_sig_verify(s->sign_der, s->sign_len, ctx, payload.data, payload.len, sig.p,
                           sig.len) == BO_E_OK;
        ok ? s->closing_sig_ok++ : s->closing_sig_bad++;
    }
    bo_buf_cleanup(&payload);
    if (!ok) {
        mock_send_err(c, m->id, "E_BAD_SIGNATURE", "signature does not verify");
        return;
    }
    bo_mpmap *d = mpmap();
    if (m->type == BO_MSG_CONFIRM)
        bo_mpmap_bool(d, "already", false);
    send_map_ok(c, m->id, d);
}

static void handler(mock *mk, mconn *c, const bo_msg *m, void *ud)
{
    srv *s = ud;
    if (!m) {
        mock_send_hello(c, bo_clock_now_ms() + s->offset);
        return;
    }
    switch (m->type) {
    case BO_MSG_AUTH:
        if (s->scenario == S_CLOSE_4002) {
            mock_send_err(c, m->id, "E_MALFORMED", "pretend the frame was bad");
            mock_close(c, 4002);
            return;
        }
        if (s->scenario == S_AUTH_REFUSED) {
            mock_send_err(c, m->id, "E_CERT_EXPIRED", "certificate has expired");
            return;
        }
        auth_ok(s, c, m);
        break;
    case BO_MSG_TIME: {
        int64_t t = bo_clock_now_ms() + s->offset;
        bo_mpmap *d = mpmap();
        bo_mpmap_i64(d, "t0", m->u.time.t0);
        bo_mpmap_i64(d, "t1", t);
        bo_mpmap_i64(d, "t2", t);
        send_map_ok(c, m->id, d);
        break;
    }
    case BO_MSG_JOIN:
        if (s->njoins < 8)
            s->since[s->njoins] = m->u.join.since;
        s->njoins++;
        if (s->scenario == S_JOIN_REFUSED) {
            mock_send_err(c, m->id, "E_NOT_FOUND", "no such opening");
            return;
        }
        if (s->scenario == S_RESUME && mconn_no(c) == 1) {
            send_join_ok(c, m->id, 2, -1, false, 3000); /* a snapshot of ~100 KB */
            mock_send_ev(c, "demo-1", "pub", 1, "paused", NULL); /* dup */
            mock_send_ev(c, "demo-1", "pub", 2, "paused", NULL); /* dup */
            mock_send_ev(c, "demo-1", "pub", 3, "paused", NULL);
            mock_send_ev(c, "demo-1", "pub", 3, "paused", NULL); /* dup */
            mock_send_ev(c, "demo-1", "pub", 4, "paused", NULL);
            mock_send_ping(c, 7);
            mock_send_ev(c, "demo-1", "pub", 6, "paused", NULL); /* gap: 5 is missing */
            mock_send_ev(c, "demo-1", "pub", 7, "paused", NULL);
        } else if (s->scenario == S_RESUME) {
            send_join_ok(c, m->id, 6, -1, true, 0);
            mock_send_ev(c, "demo-1", "pub", 4, "paused", NULL); /* overlap: dup */
            mock_send_ev(c, "demo-1", "pub", 5, "paused", NULL);
            mock_send_ev(c, "demo-1", "pub", 6, "paused", NULL);
            mock_send_ev(c, "demo-1", "pub", 7, "paused", NULL);
        } else if (s->scenario == S_CLOSE_4000 && mconn_no(c) == 1) {
            send_join_ok(c, m->id, 0, 0, false, 0);
            mock_send_ev(c, "demo-1", "pub", 1, "paused", NULL);
            mock_send_ev(c, "demo-1", "b", 1, "bidder_signed_in", NULL);
            mock_close(c, 4000);
        } else if (s->scenario == S_CLOSE_4000) {
            send_join_ok(c, m->id, 2, 1, true, 0);
            mock_send_ev(c, "demo-1", "pub", 2, "paused", NULL);
        } else if (s->scenario == S_CLOSING) {
            send_join_closing(c, m->id, mconn_no(c) == 1 ? NULL : H_SNAP);
            if (mconn_no(c) == 1) { /* the window opens after the join */
                bo_mpmap *b = mpmap();
                bo_mpmap_bin(b, "record_hash", H_EVENT, 32);
                bo_mpmap_i64(b, "ends_at", bo_clock_now_ms() + 600000);
                bo_buf body;
                bo_buf_init(&body, 4096);
                bo_mpmap_finish(b, &body);
                bo_mpmap_free(b);
                mock_send_ev(c, "demo-1", "pub", 1, "confirmation_opened", &body);
                bo_buf_cleanup(&body);
            }
        } else {
            send_join_ok(c, m->id, 0, s->scenario == S_BIDDER ? 0 : -1, false, 0);
            for (uint64_t i = 1; i <= 5; i++)
                mock_send_ev(c, "demo-1", "pub", i, "paused", NULL);
        }
        break;
    case BO_MSG_PONG:
        if (s->npongs < 8)
            s->pongs[s->npongs] = m->u.pong.n;
        s->npongs++;
        break;
    case BO_MSG_REGISTER:
    case BO_MSG_SIGNIN: {
        bo_buf payload;
        bo_buf_init(&payload, 4096);
        bool reg = m->type == BO_MSG_REGISTER;
        if (reg) {
            uint8_t sf[32], ef[32];
            bo_cert_fpr(s->sign_der, s->sign_len, sf);
            bo_cert_fpr(s->enc_der, s->enc_len, ef);
            bo_sigpayload_register(&payload, m->u.reg.oid, pki.uscc, sf, ef, mconn_nonce(c));
        } else {
            bo_sigpayload_signin(&payload, m->u.signin.oid, pki.uscc, mconn_nonce(c));
        }
        bo_bytes sig = reg ? m->u.reg.sig : m->u.signin.sig;
        bool ok = bo_sig_verify(s->sign_der, s->sign_len, reg ? BO_CTX_REGISTER : BO_CTX_SIGNIN,
                                payload.data, payload.len, sig.p, sig.len) == BO_E_OK;
        bo_buf_cleanup(&payload);
        if (!ok) {
            s->sig_bad++;
            mock_send_err(c, m->id, "E_BAD_SIGNATURE", "signature does not verify");
            break;
        }
        reg ? s->reg_ok++ : s->signin_ok++;
        bo_mpmap *d = mpmap();
        bo_mpmap_bool(d, reg ? "replaced" : "already", false);
        send_map_ok(c, m->id, d);
        break;
    }
    case BO_MSG_PAUSE:
        mock_send_err(c, m->id, "E_NOT_HOST", "only this opening's host may do this");
        break;
    case BO_MSG_ANNOUNCE:
    case BO_MSG_DRAW:
    case BO_MSG_BENCHMARK:
    case BO_MSG_CONFIRM_OPEN:
    case BO_MSG_CONFIRM:
    case BO_MSG_OBJECT:
    case BO_MSG_ANSWER:
    case BO_MSG_MESSAGE:
    case BO_MSG_CLOSE:
        closing_request(s, c, m);
        break;
    case BO_MSG_LIST:
        s->lists++;
        if (s->scenario == S_CANCEL && mconn_no(c) == 1)
            mock_close(c, 1001); /* never answers: the request is canceled */
        else
            send_map_ok(c, m->id, mpmap());
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------- harness ---- */

typedef struct env {
    uv_loop_t loop;
    bo_client_ctx *ctx;
    mock *mk;
    int port;
    srv s;
} env;

static void env_up(env *e, int scenario)
{
    memset(e, 0, sizeof(*e));
    e->s.scenario = scenario;
    assert_int_equal(uv_loop_init(&e->loop), 0);
    bo_client_ctx_opts o = {.ca_file = pki.ca_file, .max_clients = 256};
    bo_err err;
    e->ctx = bo_client_ctx_new(&e->loop, &o, &err);
    assert_int_equal(err, BO_E_OK);
    assert_non_null(e->ctx);
    e->mk = mock_new(bo__client_ctx_lws(e->ctx), &pki, handler, &e->s, &e->port);
    assert_non_null(e->mk);
}

static void env_down(env *e)
{
    bo_client_ctx_free(e->ctx);
    mock_free(e->mk);
    uv_run(&e->loop, UV_RUN_DEFAULT); /* returns once every handle closed */
    mock_release(e->mk);
    assert_int_equal(uv_loop_close(&e->loop), 0);
}

typedef struct want {
    rec *r;
    int n;
    bo_client_state st;
    int nev;
    int replies;
} want;

static bool has_state(void *arg)
{
    want *w = arg;
    for (int i = 0; i < w->n; i++)
        if (bo_client_state_get(w[0].r[i].c) != w->st || w->r[i].nev < w->nev ||
            w->r[i].replies < w->replies)
            return false;
    return true;
}

static void wait_for(env *e, rec *r, int n, bo_client_state st, int nev, int replies)
{
    want w = {r, n, st, nev, replies};
    if (bo_client_run_until(&e->loop, has_state, &w, 10000) != BO_E_OK)
        fail_msg("timed out: client 0 is %s with %d events (%s %s)",
                 bo_client_state_name(bo_client_state_get(r[0].c)), r[0].nev, r[0].code,
                 r[0].msg);
}

/* ---------------------------------------------------------------- tests ---- */

static void resume_without_dups_or_losses(void **state)
{
    env e;
    env_up(&e, S_RESUME);
    e.s.offset = 5000;
    rec r = {0};
    mk_client(e.ctx, &r, e.port, "observer", NULL, "demo-1");
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 5, 0);
    /* wait for the second connection's whole replay */
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 5, 0);

    assert_int_equal(r.nev, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r.seqs[i], (uint64_t)(i + 3)); /* 3 4 | gap | 5 6 7 */
    assert_int_equal(r.nsnap, 2);
    assert_false(r.recovered[0]);
    assert_true(r.recovered[1]);
    assert_int_equal(e.s.njoins, 2);
    assert_false(e.s.since[0].present);
    assert_true(e.s.since[1].present && e.s.since[1].has_pub && !e.s.since[1].has_priv);
    assert_int_equal(e.s.since[1].pub, 4);
    assert_int_equal(mock_connections(e.mk), 2);
    assert_int_equal(bo_client_connects(r.c), 2);
    assert_int_equal(e.s.npongs, 1);
    assert_int_equal(e.s.pongs[0], 7);
    assert_int_equal(bo_client_cursor(r.c)->pub, 7);

    /* the time sync ran: the server clock is 5 s ahead */
    int64_t off, rtt;
    bo_client_clock(r.c, &off, &rtt);
    /* within half the round trip (the estimate's own bound), plus the clock's granularity:
     * on a loaded machine the round trip to the mock can be hundreds of ms */
    assert_true(rtt >= 0);
    int64_t tol = rtt / 2 + 100;
    assert_in_range(off, 5000 - tol, 5000 + tol);
    assert_in_range(bo_client_server_now(r.c) - bo_clock_now_ms(), 5000 - tol, 5000 + tol);

    /* the states went connecting, hello, auth, joining, joined, backoff (gap), ... joined */
    assert_int_equal(r.states[0], BO_CLIENT_CONNECTING);
    assert_int_equal(r.states[1], BO_CLIENT_HELLO);
    assert_int_equal(r.states[2], BO_CLIENT_AUTH);
    assert_int_equal(r.states[3], BO_CLIENT_JOINING);
    assert_int_equal(r.states[4], BO_CLIENT_JOINED);
    assert_int_equal(r.states[5], BO_CLIENT_BACKOFF);
    assert_int_equal(r.states[r.nstates - 1], BO_CLIENT_JOINED);

    bo_client_stop(r.c);
    assert_int_equal(bo_client_state_get(r.c), BO_CLIENT_CLOSED);
    assert_int_equal(r.states[r.nstates - 1], BO_CLIENT_CLOSED);
    bo_client_free(r.c);
    env_down(&e);
}

static void big_snapshot_in_fragments(void **state)
{
    env e;
    env_up(&e, S_RESUME);
    rec r = {0};
    mk_client(e.ctx, &r, e.port, "observer", NULL, "demo-1");
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, 0);
    assert_int_equal(r.snap_bidders, 3000);
    bo_client_free(r.c);
    env_down(&e);
}

static void bidder_signs_auth_register_signin(void **state)
{
    env e;
    env_up(&e, S_BIDDER);
    bo_cred_files f = {.cert = pki.sign_cert, .key = pki.sign_key, .enc_cert = pki.enc_cert};
    bo_err err;
    char detail[200];
    bo_cred *cred = bo_cred_load(&f, &err, detail, sizeof(detail));
    if (!cred)
        fail_msg("cred: %s %s", bo_err_name(err), detail);
    rec r = {0};
    mk_client(e.ctx, &r, e.port, "bidder", cred, "demo-1");
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 5, 0);
    assert_int_equal(e.s.auth_ok_sigs, 1);
    assert_int_equal(e.s.auth_bad_sigs, 0);
    assert_true(e.s.since[0].present == false);
    const bo_client_identity *me = bo_client_whoami(r.c);
    assert_non_null(me);
    assert_string_equal(me->uscc, pki.uscc);
    assert_string_equal(me->role, "bidder");
    assert_true(me->has_fpr);

    assert_int_equal(bo_client_register(r.c, NULL, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 5, 1);
    assert_int_equal(r.reply_err, BO_E_OK);
    assert_int_equal(bo_client_signin(r.c, NULL, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 5, 2);
    assert_int_equal(r.reply_err, BO_E_OK);
    assert_int_equal(e.s.reg_ok, 1);
    assert_int_equal(e.s.signin_ok, 1);
    assert_int_equal(e.s.sig_bad, 0);

    /* a refusal comes back with its code */
    assert_int_equal(bo_client_pause(r.c, NULL, "network down at a site", on_reply, &r),
                     BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 5, 3);
    assert_int_equal(r.reply_err, BO_E_NOT_HOST);
    assert_string_equal(r.reply_code, "E_NOT_HOST");
    /* argument checks fail without a callback */
    assert_int_equal(bo_client_pause(r.c, NULL, "", on_reply, &r), BO_E_INVALID_ARG);
    bo_msg join = {.type = BO_MSG_JOIN};
    assert_int_equal(bo_client_request(r.c, &join, on_reply, &r), BO_E_INVALID_ARG);
    assert_int_equal(r.replies, 3);

    bo_client_free(r.c);
    env_down(&e);
    bo_cred_free(cred);
}

/* §11: the host's commands, the bidder's signed confirmation and objection over the record
 * hash it saw (an event, later a snapshot), the host's signed answer, messages. */
static void closing_requests(void **state)
{
    env e;
    env_up(&e, S_CLOSING);
    bo_cred_files f = {.cert = pki.sign_cert, .key = pki.sign_key, .enc_cert = pki.enc_cert};
    bo_err err;
    bo_cred *cred = bo_cred_load(&f, &err, NULL, 0);
    assert_non_null(cred);
    rec r = {0};
    mk_client(e.ctx, &r, e.port, "bidder", cred, "demo-1");
    uint8_t h[32];
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, 0); /* confirmation_opened */
    assert_true(bo_client_record_hash(r.c, h));
    assert_memory_equal(h, H_EVENT, 32);

    /* what the arguments must be, refused before anything is sent */
    assert_int_equal(bo_client_draw(r.c, NULL, "K1", on_reply, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_client_draw(r.c, NULL, "", on_reply, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_client_confirm_open(r.c, NULL, 59, on_reply, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_client_confirm_open(r.c, NULL, 86401, on_reply, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_client_object(r.c, NULL, "", on_reply, &r), BO_E_INVALID_ARG);
    char big[3 * 1001 + 1];
    for (int i = 0; i < 1001; i++)
        memcpy(big + 3 * i, "异", 3);
    big[3 * 1001] = 0;
    assert_int_equal(bo_client_object(r.c, NULL, big, on_reply, &r), BO_E_INVALID_ARG);
    big[3 * 1000] = 0; /* 1000 characters (3000 bytes) are allowed */
    assert_int_equal(bo_client_object(r.c, NULL, "\xff\xfe", on_reply, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_client_answer(r.c, NULL, 0, "答复", on_reply, &r), BO_E_INVALID_ARG);
    assert_int_equal(bo_client_message(r.c, NULL, "", on_reply, &r), BO_E_INVALID_ARG);
    /* another opening than the one joined: no record hash to sign */
    assert_int_equal(bo_client_object(r.c, "demo-2", "异议", on_reply, &r), BO_E_PHASE);
    assert_int_equal(bo_client_confirm(r.c, "demo-2", NULL, on_reply, &r), BO_E_PHASE);
    assert_int_equal(r.replies, 0);

    /* the requests, each answered */
    int n = 0;
    assert_int_equal(bo_client_announce(r.c, NULL, true, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_true(e.s.last_all);
    assert_int_equal(bo_client_announce(r.c, NULL, false, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_false(e.s.last_all);
    assert_int_equal(bo_client_draw(r.c, NULL, "k_1", on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_string_equal(e.s.last_draw, "k_1");
    assert_int_equal(bo_client_benchmark(r.c, NULL, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_int_equal(bo_client_confirm_open(r.c, NULL, 0, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_false(e.s.last_has_window);
    assert_int_equal(bo_client_confirm_open(r.c, NULL, 900, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_true(e.s.last_has_window);
    assert_int_equal(e.s.last_window, 900);
    assert_int_equal(bo_client_confirm(r.c, NULL, NULL, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_int_equal(r.reply_err, BO_E_OK);
    assert_memory_equal(e.s.last_hash, H_EVENT, 32);
    assert_int_equal(bo_client_object(r.c, NULL, big, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_int_equal(r.reply_err, BO_E_OK);
    assert_string_equal(e.s.last_text, big);
    assert_int_equal(bo_client_answer(r.c, NULL, 3, "报价以开标一览表为准。", on_reply, &r),
                     BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_int_equal(r.reply_err, BO_E_OK);
    assert_int_equal(e.s.last_n, 3);
    assert_int_equal(bo_client_message(r.c, NULL, "请各投标人确认开标记录", on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_string_equal(e.s.last_text, "请各投标人确认开标记录");
    assert_int_equal(bo_client_close(r.c, NULL, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    /* an explicit hash is signed as given */
    uint8_t other[32];
    memset(other, 0x77, 32);
    assert_int_equal(bo_client_confirm(r.c, NULL, other, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 1, ++n);
    assert_memory_equal(e.s.last_hash, other, 32);
    assert_int_equal(e.s.closing_sig_ok, 4);
    assert_int_equal(e.s.closing_sig_bad, 0);
    static const bo_msg_type order[] = {BO_MSG_ANNOUNCE, BO_MSG_ANNOUNCE, BO_MSG_DRAW,
                                        BO_MSG_BENCHMARK, BO_MSG_CONFIRM_OPEN,
                                        BO_MSG_CONFIRM_OPEN, BO_MSG_CONFIRM, BO_MSG_OBJECT,
                                        BO_MSG_ANSWER, BO_MSG_MESSAGE, BO_MSG_CLOSE,
                                        BO_MSG_CONFIRM};
    assert_int_equal(e.s.n_closing, 12);
    for (int i = 0; i < 12; i++)
        assert_int_equal(e.s.closing_types[i], order[i]);

    /* a client that joins later takes the hash from the snapshot */
    rec r2 = {0};
    mk_client(e.ctx, &r2, e.port, "bidder", cred, "demo-1");
    wait_for(&e, &r2, 1, BO_CLIENT_JOINED, 0, 0);
    assert_true(bo_client_record_hash(r2.c, h));
    assert_memory_equal(h, H_SNAP, 32);
    assert_int_equal(bo_client_object(r2.c, NULL, "报价明显异常", on_reply, &r2), BO_E_OK);
    e.s.closing_sig_ok = 0;
    memcpy(e.s.last_hash, H_SNAP, 32); /* what the mock checks the objection against */
    wait_for(&e, &r2, 1, BO_CLIENT_JOINED, 0, 1);
    assert_int_equal(r2.reply_err, BO_E_OK);
    assert_int_equal(e.s.closing_sig_ok, 1);

    /* an observer has nothing to sign with; before joining, no hash */
    rec r3 = {0};
    mk_client(e.ctx, &r3, e.port, "observer", NULL, NULL);
    wait_for(&e, &r3, 1, BO_CLIENT_READY, 0, 0);
    assert_false(bo_client_record_hash(r3.c, h));
    assert_int_equal(bo_client_confirm(r3.c, "demo-1", NULL, on_reply, &r3), BO_E_INVALID_ARG);
    assert_int_equal(bo_client_answer(r3.c, "demo-1", 1, "答复", on_reply, &r3),
                     BO_E_INVALID_ARG);

    bo_client_free(r.c);
    bo_client_free(r2.c);
    bo_client_free(r3.c);
    env_down(&e);
    bo_cred_free(cred);
}

static void refusals_are_final(void **state)
{
    env e;
    env_up(&e, S_AUTH_REFUSED);
    bo_cred_files f = {.cert = pki.sign_cert, .key = pki.sign_key};
    bo_err err;
    bo_cred *cred = bo_cred_load(&f, &err, NULL, 0);
    assert_non_null(cred);
    rec r = {0};
    mk_client(e.ctx, &r, e.port, "bidder", cred, "demo-1");
    wait_for(&e, &r, 1, BO_CLIENT_FAILED, 0, 0);
    assert_int_equal(r.err, BO_E_CERT_EXPIRED);
    assert_string_equal(r.code, "E_CERT_EXPIRED");
    assert_int_equal(mock_connections(e.mk), 1); /* no retry */
    bo_client_free(r.c);

    e.s.scenario = S_JOIN_REFUSED;
    rec r2 = {0};
    mk_client(e.ctx, &r2, e.port, "observer", NULL, "nope");
    wait_for(&e, &r2, 1, BO_CLIENT_FAILED, 0, 0);
    assert_int_equal(r2.err, BO_E_NOT_FOUND);
    assert_string_equal(r2.code, "E_NOT_FOUND");
    bo_client_free(r2.c);

    e.s.scenario = S_CLOSE_4002;
    rec r3 = {0};
    int before = mock_connections(e.mk);
    mk_client(e.ctx, &r3, e.port, "observer", NULL, "demo-1");
    wait_for(&e, &r3, 1, BO_CLIENT_FAILED, 0, 0);
    assert_int_equal(r3.err, BO_E_MALFORMED);
    assert_int_equal(mock_connections(e.mk), before + 1);
    bo_client_free(r3.c);
    env_down(&e);
    bo_cred_free(cred);
}

static void lagging_close_resumes_both_streams(void **state)
{
    env e;
    env_up(&e, S_CLOSE_4000);
    rec r = {0};
    mk_client(e.ctx, &r, e.port, "observer", NULL, "demo-1");
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 3, 0);
    assert_int_equal(mock_connections(e.mk), 2);
    assert_int_equal(r.nev, 3);
    assert_string_equal(r.sts[0], "pub");
    assert_string_equal(r.sts[1], "b");
    assert_int_equal(r.seqs[2], 2);
    assert_true(e.s.since[1].has_pub && e.s.since[1].has_priv);
    assert_int_equal(e.s.since[1].pub, 1);
    assert_int_equal(e.s.since[1].priv, 1);
    bool saw_lagging = false;
    for (int i = 0; i < r.nstates; i++)
        saw_lagging |= r.states[i] == BO_CLIENT_BACKOFF;
    assert_true(saw_lagging);
    bo_client_free(r.c);
    env_down(&e);
}

static void drop_cancels_requests_once(void **state)
{
    env e;
    env_up(&e, S_CANCEL);
    rec r = {0};
    r.request_in_backoff = true;
    mk_client(e.ctx, &r, e.port, "observer", NULL, NULL);
    wait_for(&e, &r, 1, BO_CLIENT_READY, 0, 0);
    assert_int_equal(bo_client_list(r.c, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_READY, 0, 1); /* canceled, reconnected */
    assert_int_equal(r.replies, 1);
    assert_int_equal(r.reply_err, BO_E_CANCELED);
    assert_string_equal(r.reply_code, "E_CANCELED");
    assert_int_equal(r.backoff_request_err, BO_E_UNAUTHENTICATED);
    assert_int_equal(e.s.lists, 1);

    /* the second connection answers */
    assert_int_equal(bo_client_list(r.c, on_reply, &r), BO_E_OK);
    wait_for(&e, &r, 1, BO_CLIENT_READY, 0, 2);
    assert_int_equal(r.reply_err, BO_E_OK);

    /* a request still in flight when the client is freed is canceled, once */
    assert_int_equal(bo_client_list(r.c, on_reply, &r), BO_E_OK);
    bo_client_free(r.c);
    assert_int_equal(r.replies, 3);
    assert_int_equal(r.reply_err, BO_E_CANCELED);
    env_down(&e);
}

static void free_from_inside_a_callback(void **state)
{
    env e;
    env_up(&e, S_MANY);
    rec r = {0};
    r.free_on_event = true;
    mk_client(e.ctx, &r, e.port, "observer", NULL, "demo-1");
    for (int i = 0; i < 200 && r.c; i++)
        uv_run(&e.loop, UV_RUN_ONCE);
    assert_null(r.c);
    assert_int_equal(r.nev, 1); /* nothing after the free */
    env_down(&e);
}

static void no_server_gives_up_after_retries(void **state)
{
    /* a port nobody listens on: bind one, note it, close it */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    char url[64], url2[64];
    snprintf(url, sizeof(url), "wss://127.0.0.1:%d/ws", ntohs(a.sin_port));
    snprintf(url2, sizeof(url2), "wss://localhost:%d", ntohs(a.sin_port));
    const char *urls[2] = {url, url2};

    uv_loop_t loop;
    uv_loop_init(&loop);
    bo_err err;
    bo_client_ctx_opts co = {.ca_file = pki.ca_file};
    bo_client_ctx *ctx = bo_client_ctx_new(&loop, &co, &err);
    assert_non_null(ctx);
    rec r = {0};
    bo_client_opts o = {.urls = urls, .n_urls = 2, .role = "observer", .backoff_min_ms = 10,
                        .backoff_max_ms = 40, .max_retries = 3,
                        .cb = {.on_state = on_state}, .ud = &r};
    r.c = bo_client_new(ctx, &o, &err);
    assert_non_null(r.c);
    assert_int_equal(bo_client_start(r.c), BO_E_OK);
    want w = {&r, 1, BO_CLIENT_FAILED, 0, 0};
    assert_int_equal(bo_client_run_until(&loop, has_state, &w, 10000), BO_E_OK);
    assert_int_equal(r.err, BO_E_IO);
    assert_non_null(strstr(r.msg, "gave up after 4 attempts"));
    /* connecting, backoff: four times, then failed */
    assert_int_equal(r.nstates, 8);
    for (int i = 0; i < 7; i++)
        assert_int_equal(r.states[i], i % 2 ? BO_CLIENT_BACKOFF : BO_CLIENT_CONNECTING);
    assert_int_equal(r.states[7], BO_CLIENT_FAILED);
    assert_int_equal(bo_client_connects(r.c), 0);

    /* bad options */
    const char *bad[1] = {"http://localhost/ws"};
    bo_client_opts ob = {.urls = bad, .n_urls = 1, .role = "observer"};
    assert_null(bo_client_new(ctx, &ob, &err));
    assert_int_equal(err, BO_E_INVALID_ARG);
    const char *plain[1] = {"ws://localhost/ws"}; /* no TLS without allow_plain_ws */
    ob.urls = plain;
    assert_null(bo_client_new(ctx, &ob, &err));
    ob.urls = urls;
    ob.role = "bidder"; /* no credentials */
    assert_null(bo_client_new(ctx, &ob, &err));
    ob.role = "king";
    assert_null(bo_client_new(ctx, &ob, &err));

    bo_client_ctx_free(ctx);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

#define MANY 100

static void many_clients_on_one_loop(void **state)
{
    env e;
    env_up(&e, S_MANY);
    rec *r = calloc(MANY, sizeof(rec));
    for (int i = 0; i < MANY; i++)
        mk_client(e.ctx, &r[i], e.port, "observer", NULL, "demo-1");
    wait_for(&e, r, MANY, BO_CLIENT_JOINED, 5, 0);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(r[i].nev, 5);
        assert_int_equal(r[i].seqs[4], 5);
    }
    assert_int_equal(mock_connections(e.mk), MANY);
    /* the context frees the clients still on it */
    env_down(&e);
    free(r);
}

static void ctx_and_vhost_lifecycle(void **state)
{
    env e;
    env_up(&e, S_MANY);
    env_down(&e);
}

static void one_conn(void **state)
{
    env e;
    env_up(&e, S_MANY);
    rec r = {0};
    mk_client(e.ctx, &r, e.port, "observer", NULL, "demo-1");
    wait_for(&e, &r, 1, BO_CLIENT_JOINED, 5, 0);
    bo_client_free(r.c);
    env_down(&e);
}

static void url_parsing(void **state)
{
    bo_client_url u;
    assert_int_equal(bo_client_url_parse("wss://example.org", &u), BO_E_OK);
    assert_true(u.tls);
    assert_string_equal(u.host, "example.org");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/ws");
    assert_int_equal(bo_client_url_parse("ws://127.0.0.1:8080/x/ws?a=1", &u), BO_E_OK);
    assert_false(u.tls);
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/x/ws?a=1");
    assert_int_equal(bo_client_url_parse("wss://[::1]:9443/ws", &u), BO_E_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9443);
    const char *bad[] = {"",          "https://a/ws", "wss://",        "wss://:443/ws",
                         "wss://a:0", "wss://a:99999", "wss://a:x/ws", "wss://[::1/ws",
                         "wss://a b", "wss://a/w s",  "wss://u@a/ws", "wss://a:443ws"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (bo_client_url_parse(bad[i], &u) != BO_E_INVALID_ARG)
            fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(bo_client_url_parse(NULL, &u), BO_E_INVALID_ARG);
}

static void ctx_with_bad_ca(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    bo_err err;
    bo_client_ctx_opts o = {.ca_file = "/nonexistent/ca.pem"};
    assert_null(bo_client_ctx_new(&loop, &o, &err));
    assert_int_equal(err, BO_E_IO);
    o.ca_file = pki.sign_key; /* a key, not a certificate */
    assert_null(bo_client_ctx_new(&loop, &o, &err));
    assert_int_equal(err, BO_E_CERT_INVALID);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void cred_refusals(void **state)
{
    bo_err err;
    char detail[300];
    bo_cred_files none = {0};
    assert_null(bo_cred_load(&none, &err, detail, sizeof(detail)));
    assert_int_equal(err, BO_E_INVALID_ARG);
    bo_cred_files nofile = {.cert = "/nonexistent.pem", .key = pki.sign_key};
    assert_null(bo_cred_load(&nofile, &err, detail, sizeof(detail)));
    assert_int_equal(err, BO_E_IO);
    assert_non_null(strstr(detail, "/nonexistent.pem"));
    /* the TLS server key does not belong to the signing certificate */
    bo_cred_files wrong = {.cert = pki.sign_cert, .key = pki.srv_key};
    assert_null(bo_cred_load(&wrong, &err, detail, sizeof(detail)));
    assert_int_equal(err, BO_E_INVALID_ARG);
    assert_non_null(strstr(detail, "does not belong"));
}

static int group_setup(void **state)
{
    return mock_pki_make(&pki);
}

static int group_teardown(void **state)
{
    mock_pki_remove(&pki);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_parsing),
        cmocka_unit_test(ctx_and_vhost_lifecycle),
        cmocka_unit_test(one_conn),
        cmocka_unit_test(ctx_with_bad_ca),
        cmocka_unit_test(cred_refusals),
        cmocka_unit_test(resume_without_dups_or_losses),
        cmocka_unit_test(big_snapshot_in_fragments),
        cmocka_unit_test(bidder_signs_auth_register_signin),
        cmocka_unit_test(closing_requests),
        cmocka_unit_test(refusals_are_final),
        cmocka_unit_test(lagging_close_resumes_both_streams),
        cmocka_unit_test(drop_cancels_requests_once),
        cmocka_unit_test(free_from_inside_a_callback),
        cmocka_unit_test(no_server_gives_up_after_retries),
        cmocka_unit_test(many_clients_on_one_loop),
    };
    if (getenv("BO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
