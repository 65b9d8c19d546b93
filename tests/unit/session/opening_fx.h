/* The fixture of the export and verification tests (test_transcript.c, test_export.c,
 * test_verify.c): a whole opening run through bo_session apply, seal and fold, with real
 * keys and certificates from a throwaway PKI (crypto/bo_pki), so that every signature the
 * log records verifies: registration, sign-in, receipts, decryption requests, responses and
 * diagnostics, the draws, the benchmark price, a confirmation, an objection and the host's
 * answer, and the server's signed heads. Options forge one signature or classify a bid.
 * Helpers rewrite the log as a dishonest server would (change a body, re-chain, re-sign).
 * Test helper: every function is static inline. */
#ifndef BO_TEST_OPENING_FX_H
#define BO_TEST_OPENING_FX_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/hash.h"
#include "bo/identity.h"
#include "bo/pki.h"
#include "bo/session.h"
#include "bo/sigpayload.h"
#include "bo/sign.h"
#include "bo/transcript.h"
#include "bo/uscc.h"
#include "bo_tamper.h"

#define OFX_OID "T-2027.001"
#define OFX_H 3600000LL
#define OFX_T0 1800000000000LL /* 2027-01-15T08:00:00Z */
#define OFX_CHECKIN (OFX_T0 + OFX_H)
#define OFX_DEADLINE (OFX_T0 + 2 * OFX_H)
#define OFX_START (OFX_DEADLINE + 1000)
#define OFX_WINDOW_S 1800
#define OFX_ANN (OFX_START + OFX_WINDOW_S * 1000LL + 5000) /* after the window (classify) */
#define OFX_CONF (OFX_ANN + 30)
#define OFX_CONF_END (OFX_CONF + 600 * 1000LL)

static const char *const OFX_ORGS[3] = {"甲建设集团有限公司", "乙路桥工程有限公司",
                                        "丙市政工程有限公司"};
static const char *const OFX_PRICES[3] = {"1234567.89", "1200000.00", "1300000"};
static const char *const OFX_DAYS[3] = {"180", "200", "150"};
static const char *const OFX_PMS[3] = {"张三", "李四", "王五"};
#define OFX_OBJECTION "乙公司报价<唱错>了 & 请复核"
#define OFX_ANSWER "已复核录像，唱标无误。"
#define OFX_FAIL_REASON "开标现场停电，无法继续解密"

typedef struct ofx_party {
    bo_key *key;
    bo_blob_list sign, enc; /* DER chains, leaf first */
    bo_actor a;
} ofx_party;

typedef struct ofx_opts {
    bool forge_confirm; /* bidder 0's confirmation signed with bidder 1's key */
    int forge_head;     /* the n-th signed head (1-based) gets a signature over other bytes */
    bool revoke_b2;     /* bidder 2 never decrypts; the host classifies it 撤销 */
    bool fail;          /* only bidder 0 decrypts, then the host fails the opening (流标) */
} ofx_opts;

typedef struct ofx {
    ofx_opts o;
    char dir[256];
    char trust_dir[300];
    bo_pki_ca *ca;
    bo_trust *trust;
    bo_key *server_key;
    bo_blob_list server_cert;
    bo_buf server_spki;
    uint8_t server_fpr[32];
    ofx_party host, bid[3];
    bo_actor sys;
    bo_session *s;
    bo_tender tender;
    uint8_t seed[32];
    char req[3][33];
    bo_event_list log;
    int heads;
    bo_apply_info info;
    char detail[256];
    /* seqs of interesting events, filled as they are logged */
    uint64_t seq_form[3], seq_announced[3], seq_draw_k, seq_draw_ord, seq_bench, seq_confirm,
        seq_objection, seq_answer, seq_closed, seq_diag, seq_decrypted[3], seq_wclosed;
} ofx;

/* ------------------------------------------------------------------- PKI ---- */

static inline void ofx_chain(const bo_buf *pem, bo_blob_list *out)
{
    memset(out, 0, sizeof(*out));
    assert_int_equal(bo_pem_chain_parse(pem->data, pem->len, out), BO_E_OK);
}

static inline bo_key *ofx_key(const bo_buf *pem)
{
    bo_err err;
    bo_key *k = bo_key_from_mem(pem->data, pem->len, NULL, &err, NULL, 0);
    assert_non_null(k);
    return k;
}

/* A leaf (and its key) issued by the fixture's CA. */
static inline bo_key *ofx_issue(ofx *f, const char *org, const char *cn, const char *uscc,
                                unsigned usage, bo_blob_list *chain)
{
    bo_pki_leaf_opts lo;
    memset(&lo, 0, sizeof(lo));
    lo.alg = BO_KEY_EC_P256;
    lo.subj.c = "CN";
    lo.subj.o = org;
    lo.subj.cn = cn;
    lo.uscc = uscc;
    lo.usage = usage;
    lo.not_before = OFX_T0 - 30 * 24 * OFX_H;
    lo.not_after = OFX_T0 + 365 * 24 * OFX_H;
    bo_buf key, cert;
    bo_buf_init(&key, 1 << 16);
    bo_buf_init(&cert, 1 << 16);
    assert_int_equal(bo_pki_issue(f->ca, &lo, &key, &cert, NULL), BO_E_OK);
    ofx_chain(&cert, chain);
    bo_key *k = ofx_key(&key);
    bo_buf_cleanup_wipe(&key);
    bo_buf_cleanup(&cert);
    return k;
}

static inline void ofx_write(const char *path, const bo_buf *b)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->data, 1, b->len, fp), b->len);
    fclose(fp);
}

static inline void ofx_pki(ofx *f)
{
    bo_err err;
    snprintf(f->dir, sizeof(f->dir), "/tmp/bo-ofx-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->trust_dir, sizeof(f->trust_dir), "%s/trust", f->dir);
    assert_int_equal(mkdir(f->trust_dir, 0700), 0);
    bo_pki_name root = {"CN", NULL, NULL, "某省数字证书认证中心", NULL, "Test Root CA", NULL};
    f->ca = bo_pki_ca_root(&root, BO_KEY_EC_P256, OFX_T0 - 365 * 24 * OFX_H,
                           OFX_T0 + 5 * 365 * 24 * OFX_H, &err);
    assert_non_null(f->ca);
    bo_buf pem;
    char path[400];
    bo_buf_init(&pem, 1 << 16);
    assert_int_equal(bo_pki_ca_cert_pem(f->ca, &pem), BO_E_OK);
    snprintf(path, sizeof(path), "%s/ca.pem", f->trust_dir);
    ofx_write(path, &pem);
    bo_buf_reset(&pem);
    assert_int_equal(bo_pki_crl(f->ca, OFX_T0 - 24 * OFX_H, OFX_T0 + 30 * 24 * OFX_H, &pem),
                     BO_E_OK);
    snprintf(path, sizeof(path), "%s/ca.crl", f->trust_dir);
    ofx_write(path, &pem);
    bo_buf_cleanup(&pem);
    bo_trust_opts to = BO_TRUST_OPTS_INIT;
    to.dir = f->trust_dir;
    char detail[256];
    f->trust = bo_trust_load(&to, &err, detail, sizeof(detail));
    if (!f->trust)
        fail_msg("trust store: %s", detail);
    /* the server's signing key, with a certificate */
    f->server_key = ofx_issue(f, "bidopen 平台", "bidopen server", NULL, BO_PKI_SIGN,
                              &f->server_cert);
    bo_buf_init(&f->server_spki, 4096);
    assert_int_equal(bo_key_public_der(f->server_key, &f->server_spki), BO_E_OK);
    bo_cert_fpr(f->server_cert.list.v[0].p, f->server_cert.list.v[0].len, f->server_fpr);
    /* the host */
    ofx_party *h = &f->host;
    h->key = ofx_issue(f, "某招标代理有限公司", "主持人 赵六", NULL, BO_PKI_SIGN, &h->sign);
    memset(&h->a, 0, sizeof(h->a));
    h->a.role = BO_ROLE_HOST;
    bo_cert_fpr(h->sign.list.v[0].p, h->sign.list.v[0].len, h->a.fpr);
    snprintf(h->a.org, sizeof(h->a.org), "某招标代理有限公司");
    snprintf(h->a.person, sizeof(h->a.person), "赵六");
    h->a.sign_chain = h->sign.list;
    memset(h->a.nonce, 0x4e, 32);
    /* three bidders with dual certificates */
    for (int i = 0; i < 3; i++) {
        ofx_party *b = &f->bid[i];
        char first17[18], uscc[19];
        snprintf(first17, sizeof(first17), "91350100M00010%02d%c", i, 'A' + i);
        assert_int_equal(bo_uscc_complete(first17, uscc), BO_E_OK);
        b->key = ofx_issue(f, OFX_ORGS[i], OFX_PMS[i], uscc, BO_PKI_SIGN, &b->sign);
        bo_key_free(ofx_issue(f, OFX_ORGS[i], OFX_PMS[i], uscc, BO_PKI_ENC, &b->enc));
        bo_actor *a = &b->a;
        memset(a, 0, sizeof(*a));
        a->role = BO_ROLE_BIDDER;
        snprintf(a->uscc, sizeof(a->uscc), "%s", uscc);
        snprintf(a->org, sizeof(a->org), "%s", OFX_ORGS[i]);
        snprintf(a->person, sizeof(a->person), "%s", OFX_PMS[i]);
        bo_cert_fpr(b->sign.list.v[0].p, b->sign.list.v[0].len, a->fpr);
        bo_cert_fpr(b->enc.list.v[0].p, b->enc.list.v[0].len, a->enc_fpr);
        a->has_enc = true;
        a->sign_chain = b->sign.list;
        a->enc_chain = b->enc.list;
        memset(a->nonce, 0x10 + i, 32);
    }
    memset(&f->sys, 0, sizeof(f->sys));
    f->sys.role = BO_ROLE_SYSTEM;
}

static inline void ofx_sign(bo_key *k, const char *ctx, const bo_buf *payload, bo_buf *sig)
{
    bo_buf_reset(sig);
    assert_int_equal(bo_key_sign(k, ctx, payload->data, payload->len, sig), BO_E_OK);
}

/* ------------------------------------------------------------------ the run ---- */

static inline bo_cmd ofx_cmd(ofx *f, bo_cmd_type type, const bo_actor *a, bo_time_ms now)
{
    bo_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.actor = a;
    c.now = now;
    c.tender = &f->tender;
    return c;
}

/* Remembers the seqs of the events the tests tamper with. */
static inline void ofx_note(ofx *f, const bo_event *ev)
{
    char uscc[19] = "";
    msgpack_zone *z = NULL;
    msgpack_object o;
    const char *s;
    size_t n;
    assert_int_equal(bo_mp_parse(ev->body, ev->body_len, &z, &o), BO_E_OK);
    if (bo_mpo_str(&o, "uscc", &s, &n) && n == 18) {
        memcpy(uscc, s, 18);
        uscc[18] = 0;
    }
    int who = -1;
    for (int i = 0; i < 3; i++)
        if (!strcmp(uscc, f->bid[i].a.uscc))
            who = i;
    switch (ev->kind) {
    case BO_EV_BID_FORM:
        f->seq_form[who] = ev->seq;
        break;
    case BO_EV_BID_ANNOUNCED:
        f->seq_announced[who] = ev->seq;
        break;
    case BO_EV_BID_DECRYPTED:
        f->seq_decrypted[who] = ev->seq;
        break;
    case BO_EV_DRAW_RESULT:
        if (bo_mpo_str(&o, "id", &s, &n) && n == 1)
            f->seq_draw_k = ev->seq;
        else
            f->seq_draw_ord = ev->seq;
        break;
    case BO_EV_BENCHMARK_PRICE:
        f->seq_bench = ev->seq;
        break;
    case BO_EV_BIDDER_CONFIRMED:
        f->seq_confirm = ev->seq;
        break;
    case BO_EV_OBJECTION:
        f->seq_objection = ev->seq;
        break;
    case BO_EV_OBJECTION_ANSWERED:
        f->seq_answer = ev->seq;
        break;
    case BO_EV_OPENING_CLOSED:
        f->seq_closed = ev->seq;
        break;
    case BO_EV_CONFIRMATION_WINDOW_CLOSED:
        f->seq_wclosed = ev->seq;
        break;
    case BO_EV_DECRYPT_DIAGNOSTIC:
        f->seq_diag = ev->seq;
        break;
    default:
        break;
    }
    msgpack_zone_free(z);
}

static inline void ofx_commit(ofx *f, bo_event_list *evs)
{
    assert_int_equal(bo_session_seal(f->s, evs), BO_E_OK);
    for (size_t i = 0; i < evs->n; i++) {
        assert_int_equal(bo_session_fold(f->s, &evs->v[i]), BO_E_OK);
        ofx_note(f, &evs->v[i]);
        bo_event copy;
        assert_int_equal(bo_event_copy(&copy, &evs->v[i]), BO_E_OK);
        assert_int_equal(bo_event_list_push(&f->log, &copy), BO_E_OK);
    }
}

/* The server's signature over a chain head (forged when the options say so). */
static inline void ofx_head_sig(ofx *f, uint64_t seq, const uint8_t hash[32], bo_time_ms ts,
                                bo_buf *sig)
{
    bo_buf p;
    bo_buf_init(&p, 1024);
    assert_int_equal(bo_session_head_payload(OFX_OID, seq, hash, ts, &p), BO_E_OK);
    f->heads++;
    if (f->o.forge_head == f->heads)
        bo_buf_append(&p, "x", 1); /* signs other bytes */
    ofx_sign(f->server_key, BO_CTX_HEAD, &p, sig);
    bo_buf_cleanup(&p);
}

/* apply, seal, fold; then the server's signed head when asked for. */
static inline void ofx_run_cmd(ofx *f, const bo_cmd *c)
{
    bo_event_list evs;
    bo_event_list_init(&evs);
    bo_err err = bo_session_apply(f->s, c, &evs, &f->info, f->detail, sizeof(f->detail));
    if (err)
        fail_msg("command %d refused: %s (%s)", c->type, bo_err_name(err), f->detail);
    ofx_commit(f, &evs);
    bo_event_list_cleanup(&evs);
    if (f->info.needs_head) {
        bo_buf sig;
        bo_buf_init(&sig, 1024);
        ofx_head_sig(f, bo_session_seq(f->s), bo_session_head(f->s), c->now, &sig);
        assert_int_equal(bo_session_head_event(f->s, bo_session_phase(f->s), bo_session_seq(f->s),
                                               bo_session_head(f->s), c->now, sig.data, sig.len,
                                               f->server_fpr, &evs),
                         BO_E_OK);
        ofx_commit(f, &evs);
        bo_event_list_cleanup(&evs);
        bo_buf_cleanup(&sig);
    }
}

static inline void ofx_tender(ofx *f)
{
    bo_tender *t = &f->tender;
    memset(t, 0, sizeof(*t));
    snprintf(t->title, sizeof(t->title), "城关镇道路改造工程施工");
    snprintf(t->lot, sizeof(t->lot), "一标段");
    snprintf(t->code, sizeof(t->code), "JT-2027-001");
    snprintf(t->buyer, sizeof(t->buyer), "某县交通运输局");
    snprintf(t->agency, sizeof(t->agency), "某招标代理有限公司");
    t->checkin_at = OFX_CHECKIN;
    t->deadline = OFX_DEADLINE;
    t->min_bidders = 2;
    t->decrypt_window_s = OFX_WINDOW_S;
    memcpy(t->currency, "CNY", 4);
    t->tz_offset_min = 480;
    t->fields[0] = (bo_tender_field){"price", "投标报价（元）", BO_FIELD_DECIMAL};
    t->fields[1] = (bo_tender_field){"days", "工期（日历天）", BO_FIELD_DAYS};
    t->fields[2] = (bo_tender_field){"pm", "项目经理", BO_FIELD_TEXT};
    t->n_fields = 3;
    static const char *const k[] = {"0.95", "0.97", "0.99"};
    bo_tender_draw *d = &t->draws[t->n_draws++];
    snprintf(d->id, sizeof(d->id), "k");
    d->kind = BO_DRAW_COEFFICIENT;
    snprintf(d->label, sizeof(d->label), "下浮系数");
    for (int i = 0; i < 3; i++)
        assert_int_equal(bo_decimal_parse(k[i], 4, &d->values[i]), BO_E_OK);
    d->n_values = 3;
    d = &t->draws[t->n_draws++];
    snprintf(d->id, sizeof(d->id), "ord");
    d->kind = BO_DRAW_ORDER;
    snprintf(d->label, sizeof(d->label), "唱标顺序");
    t->announce_order = BO_ORDER_DRAW;
    snprintf(t->announce_draw, sizeof(t->announce_draw), "ord");
    bo_tender_benchmark *b = &t->benchmark;
    b->present = true;
    snprintf(b->field, sizeof(b->field), "price");
    b->trim_min = 3;
    b->trim = 1;
    b->coef_draw = true;
    snprintf(b->coef_id, sizeof(b->coef_id), "k");
    b->places = 2;
    b->rounding = BO_ROUND_HALF_UP;
}

static inline void ofx_register_submit(ofx *f)
{
    bo_buf p, sig;
    bo_buf_init(&p, 4096);
    bo_buf_init(&sig, 1024);
    for (int i = 0; i < 3; i++) {
        bo_actor *a = &f->bid[i].a;
        bo_buf_reset(&p);
        bo_sigpayload_register(&p, OFX_OID, a->uscc, a->fpr, a->enc_fpr, a->nonce);
        ofx_sign(f->bid[i].key, BO_CTX_REGISTER, &p, &sig);
        bo_cmd c = ofx_cmd(f, BO_CMD_REGISTER, a, OFX_T0 + 1 + i);
        c.sig = (bo_bytes){sig.data, sig.len};
        ofx_run_cmd(f, &c);
    }
    static uint8_t ri[3][40];
    for (int i = 0; i < 3; i++) {
        bo_actor *a = &f->bid[i].a;
        bo_bid_info bi;
        memset(&bi, 0, sizeof(bi));
        memset(bi.hash, 0xa0 + i, 32);
        bi.size = 4096 + 100 * (uint64_t)i;
        memset(bi.commit, 0xc0 + i, 32);
        bi.cipher = "aes-256-gcm";
        memset(ri[i], 0x70 + i, sizeof(ri[i]));
        bi.ri = (bo_bytes){ri[i], sizeof(ri[i])};
        bo_time_ms now = OFX_T0 + 10 + i;
        bo_buf_reset(&p);
        bo_sigpayload_receipt(&p, OFX_OID, a->uscc, bi.hash, bi.size, bi.commit, now);
        ofx_sign(f->server_key, BO_CTX_RECEIPT, &p, &sig);
        bi.receipt_sig = (bo_bytes){sig.data, sig.len};
        bo_cmd c = ofx_cmd(f, BO_CMD_SUBMIT, a, now);
        c.bid = &bi;
        ofx_run_cmd(f, &c);
    }
    bo_buf_cleanup(&p);
    bo_buf_cleanup(&sig);
}

static inline void ofx_signin(ofx *f)
{
    bo_buf p, sig;
    bo_buf_init(&p, 4096);
    bo_buf_init(&sig, 1024);
    for (int i = 0; i < 3; i++) {
        bo_actor *a = &f->bid[i].a;
        bo_buf_reset(&p);
        bo_sigpayload_signin(&p, OFX_OID, a->uscc, a->nonce);
        ofx_sign(f->bid[i].key, BO_CTX_SIGNIN, &p, &sig);
        bo_cmd c = ofx_cmd(f, BO_CMD_SIGNIN, a, OFX_CHECKIN + 1 + i);
        c.sig = (bo_bytes){sig.data, sig.len};
        ofx_run_cmd(f, &c);
    }
    bo_buf_cleanup(&p);
    bo_buf_cleanup(&sig);
}

static inline void ofx_decrypt(ofx *f)
{
    bo_decrypt_req r[3];
    bo_buf sigs[3], p;
    bo_time_ms ends_at = OFX_START + OFX_WINDOW_S * 1000LL;
    bo_buf_init(&p, 4096);
    for (int i = 0; i < 3; i++) {
        bo_bid_view bv;
        assert_true(bo_session_bid(f->s, f->bid[i].a.uscc, &bv));
        memset(&r[i], 0, sizeof(r[i]));
        snprintf(r[i].uscc, sizeof(r[i].uscc), "%s", f->bid[i].a.uscc);
        snprintf(r[i].req, sizeof(r[i].req), "%032x", 0x5eed00 + i);
        snprintf(f->req[i], sizeof(f->req[i]), "%s", r[i].req);
        memset(r[i].server_pub, 0x50 + i, 32);
        uint8_t ri_hash[32];
        bo_sha256(bv.ri.p, bv.ri.len, ri_hash);
        bo_buf_reset(&p);
        bo_sigpayload_decrypt_request(&p, OFX_OID, r[i].uscc, r[i].req, bv.hash, ri_hash,
                                      r[i].server_pub, ends_at);
        bo_buf_init(&sigs[i], 1024);
        ofx_sign(f->server_key, BO_CTX_DECRYPT_REQUEST, &p, &sigs[i]);
        r[i].sig = (bo_bytes){sigs[i].data, sigs[i].len};
    }
    bo_cmd c = ofx_cmd(f, BO_CMD_DECRYPT_START, &f->host.a, OFX_START);
    c.reqs = r;
    c.n_reqs = 3;
    c.window_s = OFX_WINDOW_S;
    ofx_run_cmd(f, &c);
    for (int i = 0; i < 3; i++)
        bo_buf_cleanup(&sigs[i]);

    /* bidder 2's token fails first: signed diagnostics */
    bo_buf sig;
    bo_buf_init(&sig, 1024);
    const ofx_party *b2 = &f->bid[2];
    bo_buf_reset(&p);
    bo_sigpayload_decrypt_diag(&p, OFX_OID, b2->a.uscc, f->req[2], "token", "PIN 已锁定",
                               b2->a.enc_fpr);
    ofx_sign(b2->key, BO_CTX_DECRYPT_DIAG, &p, &sig);
    c = ofx_cmd(f, BO_CMD_DECRYPT_DIAG, &b2->a, OFX_START + 5);
    c.req = f->req[2];
    c.stage = "token";
    c.error = "PIN 已锁定";
    memcpy(c.cert_fpr, b2->a.enc_fpr, 32);
    c.sig = (bo_bytes){sig.data, sig.len};
    ofx_run_cmd(f, &c);

    /* the bids are opened with the bidders' signed responses as evidence */
    for (int i = 0; i < (f->o.fail ? 1 : f->o.revoke_b2 ? 2 : 3); i++) {
        const ofx_party *b = &f->bid[i];
        bo_bid_view bv;
        assert_true(bo_session_bid(f->s, b->a.uscc, &bv));
        uint8_t cpub[32], wrapped[93];
        memset(cpub, 0x90 + i, 32);
        memset(wrapped, 0x01, sizeof(wrapped));
        memcpy(wrapped + 1, cpub, 32);
        bo_buf_reset(&p);
        bo_sigpayload_decrypt_response(&p, OFX_OID, b->a.uscc, f->req[i], bv.hash, cpub, wrapped,
                                       sizeof(wrapped));
        ofx_sign(b->key, BO_CTX_DECRYPT_RESPONSE, &p, &sig);
        bo_buf form;
        bo_buf_init(&form, 4096);
        bo_err err;
        bo_mpmap *m = bo_mpmap_new(&err);
        bo_mpmap_str(m, "price", OFX_PRICES[i]);
        bo_mpmap_str(m, "days", OFX_DAYS[i]);
        bo_mpmap_str(m, "pm", OFX_PMS[i]);
        assert_int_equal(bo_mpmap_finish(m, &form), BO_E_OK);
        bo_mpmap_free(m);
        c = ofx_cmd(f, BO_CMD_BID_DECRYPTED, &f->sys, OFX_START + 10 + i);
        c.uscc = b->a.uscc;
        c.form = (bo_bytes){form.data, form.len};
        c.resp_req = f->req[i];
        memcpy(c.resp_client_pub, cpub, 32);
        c.resp_wrapped = (bo_bytes){wrapped, sizeof(wrapped)};
        c.resp_sig = (bo_bytes){sig.data, sig.len};
        ofx_run_cmd(f, &c);
        bo_buf_cleanup(&form);
    }
    if (f->o.revoke_b2) {
        c = ofx_cmd(f, BO_CMD_TICK, &f->sys, ends_at);
        ofx_run_cmd(f, &c);
        c = ofx_cmd(f, BO_CMD_CLASSIFY, &f->host.a, ends_at + 1000);
        c.uscc = b2->a.uscc;
        c.outcome = "revoked";
        c.reason = "投标人CA锁PIN码锁定，未在解密时限内解密";
        ofx_run_cmd(f, &c);
    }
    bo_buf_cleanup(&p);
    bo_buf_cleanup(&sig);
}

static inline void ofx_announce(ofx *f)
{
    bo_cmd c = ofx_cmd(f, BO_CMD_DRAW, &f->host.a, OFX_ANN);
    c.draw = "ord";
    memcpy(c.seed, f->seed, 32);
    ofx_run_cmd(f, &c);
    c = ofx_cmd(f, BO_CMD_DRAW, &f->host.a, OFX_ANN + 5);
    c.draw = "k";
    memcpy(c.seed, f->seed, 32);
    ofx_run_cmd(f, &c);
    c = ofx_cmd(f, BO_CMD_ANNOUNCE, &f->host.a, OFX_ANN + 10);
    c.all = true;
    ofx_run_cmd(f, &c);
    c = ofx_cmd(f, BO_CMD_BENCHMARK, &f->host.a, OFX_ANN + 20);
    ofx_run_cmd(f, &c);
}

static inline void ofx_confirm(ofx *f)
{
    bo_cmd c = ofx_cmd(f, BO_CMD_CONFIRM_OPEN, &f->host.a, OFX_CONF);
    c.window_s = 600;
    ofx_run_cmd(f, &c);
    uint8_t rh[32];
    assert_true(bo_session_confirm_hash(f->s, rh));
    bo_buf p, sig;
    bo_buf_init(&p, 4096);
    bo_buf_init(&sig, 1024);
    const ofx_party *b0 = &f->bid[0], *b1 = &f->bid[1];
    bo_sigpayload_confirm(&p, OFX_OID, b0->a.uscc, rh);
    ofx_sign(f->o.forge_confirm ? b1->key : b0->key, BO_CTX_CONFIRM, &p, &sig);
    c = ofx_cmd(f, BO_CMD_CONFIRM, &b0->a, OFX_CONF + 10);
    memcpy(c.record_hash, rh, 32);
    c.sig = (bo_bytes){sig.data, sig.len};
    ofx_run_cmd(f, &c);
    bo_buf_reset(&p);
    bo_sigpayload_objection(&p, OFX_OID, b1->a.uscc, rh, OFX_OBJECTION);
    ofx_sign(b1->key, BO_CTX_OBJECTION, &p, &sig);
    c = ofx_cmd(f, BO_CMD_OBJECT, &b1->a, OFX_CONF + 20);
    c.text = OFX_OBJECTION;
    c.sig = (bo_bytes){sig.data, sig.len};
    ofx_run_cmd(f, &c);
    bo_buf_reset(&p);
    bo_sigpayload_answer(&p, OFX_OID, 1, OFX_ANSWER);
    ofx_sign(f->host.key, BO_CTX_ANSWER, &p, &sig);
    c = ofx_cmd(f, BO_CMD_ANSWER, &f->host.a, OFX_CONF + 30);
    c.objection = 1;
    c.text = OFX_ANSWER;
    c.sig = (bo_bytes){sig.data, sig.len};
    ofx_run_cmd(f, &c);
    c = ofx_cmd(f, BO_CMD_TICK, &f->sys, OFX_CONF_END);
    ofx_run_cmd(f, &c);
    c = ofx_cmd(f, BO_CMD_CLOSE, &f->host.a, OFX_CONF_END + 10);
    ofx_run_cmd(f, &c);
    bo_buf_cleanup(&p);
    bo_buf_cleanup(&sig);
}

/* A whole opening, closed. */
static inline ofx *ofx_new(const ofx_opts *o)
{
    ofx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    if (o)
        f->o = *o;
    ofx_pki(f);
    ofx_tender(f);
    bo_err err;
    f->s = bo_session_new(OFX_OID, &err);
    assert_non_null(f->s);
    bo_event_list_init(&f->log);
    memset(f->seed, 0x5e, 32);
    bo_cmd c = ofx_cmd(f, BO_CMD_CREATE, &f->host.a, OFX_T0);
    bo_sha256(f->seed, 32, c.seed_commit);
    ofx_run_cmd(f, &c);
    ofx_register_submit(f);
    c = ofx_cmd(f, BO_CMD_TICK, &f->sys, OFX_CHECKIN);
    ofx_run_cmd(f, &c);
    ofx_signin(f);
    c = ofx_cmd(f, BO_CMD_TICK, &f->sys, OFX_DEADLINE);
    ofx_run_cmd(f, &c);
    ofx_decrypt(f);
    if (f->o.fail) {
        c = ofx_cmd(f, BO_CMD_FAIL, &f->host.a, OFX_START + 60000);
        c.reason = OFX_FAIL_REASON;
        ofx_run_cmd(f, &c);
        assert_int_equal(bo_session_phase(f->s), BO_PHASE_FAILED);
        return f;
    }
    ofx_announce(f);
    ofx_confirm(f);
    assert_int_equal(bo_session_phase(f->s), BO_PHASE_CLOSED);
    return f;
}

static inline void ofx_free(ofx *f)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        print_message("could not remove %s\n", f->dir);
    bo_session_free(f->s);
    bo_event_list_cleanup(&f->log);
    bo_trust_free(f->trust);
    bo_pki_ca_free(f->ca);
    bo_key_free(f->server_key);
    bo_blob_list_cleanup(&f->server_cert);
    bo_buf_cleanup(&f->server_spki);
    bo_key_free(f->host.key);
    bo_blob_list_cleanup(&f->host.sign);
    for (int i = 0; i < 3; i++) {
        bo_key_free(f->bid[i].key);
        bo_blob_list_cleanup(&f->bid[i].sign);
        bo_blob_list_cleanup(&f->bid[i].enc);
    }
    free(f);
}

static inline bo_transcript_server ofx_server(const ofx *f)
{
    bo_transcript_server s;
    memset(&s, 0, sizeof(s));
    s.cert = f->server_cert.list.v[0];
    s.spki = (bo_bytes){f->server_spki.data, f->server_spki.len};
    memcpy(s.key_fpr, f->server_fpr, 32);
    return s;
}

/* The transcript of a log. */
static inline void ofx_transcript_of(const ofx *f, const bo_event_list *log,
                                     bo_transcript_kind kind, bo_buf *out)
{
    bo_transcript_server s = ofx_server(f);
    assert_int_equal(bo_transcript_build_list(OFX_OID, kind, &s, log, out), BO_E_OK);
}

static inline void ofx_record(const ofx *f, bo_buf *out)
{
    assert_int_equal(bo_session_record(f->s, out), BO_E_OK);
}

/* ---------------------------------------------------------------- tampering ---- */

/* A copy of the log. */
static inline void ofx_copy_log(const ofx *f, bo_event_list *out)
{
    bo_event_list_init(out);
    for (size_t i = 0; i < f->log.n; i++) {
        bo_event e;
        assert_int_equal(bo_event_copy(&e, &f->log.v[i]), BO_E_OK);
        assert_int_equal(bo_event_list_push(out, &e), BO_E_OK);
    }
}

/* What a dishonest server does after changing a body at seq from: renumber from 1, re-chain
 * every event, and (resign) sign again every head from there over the new chain (the heads
 * before it are left as they are: their bytes, and so the hashes, do not change). Without
 * resign the heads keep their old bodies and signatures. */
static inline void ofx_rechain(ofx *f, bo_event_list *l, uint64_t from, bool resign)
{
    static const uint8_t zero[32];
    for (size_t i = 0; i < l->n; i++) {
        bo_event *e = &l->v[i];
        e->seq = i + 1;
        memcpy(e->prev_hash, i ? l->v[i - 1].hash : zero, 32);
        if (resign && e->kind == BO_EV_HEAD_SIGNED && e->seq > from) {
            const bo_event *cov = &l->v[i - 1];
            bo_buf sig;
            bo_buf_init(&sig, 1024);
            bo_buf p;
            bo_buf_init(&p, 1024);
            assert_int_equal(bo_session_head_payload(OFX_OID, cov->seq, cov->hash, e->ts, &p),
                             BO_E_OK);
            ofx_sign(f->server_key, BO_CTX_HEAD, &p, &sig);
            bo_buf_cleanup(&p);
            bo_buf v;
            bo_buf_init(&v, 64);
            bo_mp_u64(&v, cov->seq);
            bo_tamper_set(e, "seq", &v);
            bo_buf_cleanup(&v);
            bo_tamper_set_bin(e, "hash", cov->hash, 32);
            bo_tamper_set_bin(e, "sig", sig.data, sig.len);
            bo_buf_cleanup(&sig);
        }
        bo_event_compute_hash(OFX_OID, e, e->hash);
    }
}

#endif
