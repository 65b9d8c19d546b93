/* A deterministic opening "o1" for fuzz_record and gen_corpus: three bidders with bids,
 * two signed in, decrypting with their requests sent (fz_decrypting); then, for the seed
 * corpus, everything else of protocol.md §10 up to announcing (fz_finish). A second one
 * with every feature of §11 (draws, a benchmark price): announcing (fz_announcing),
 * everything announced, drawn and computed with its confirmation window open
 * (fz_confirming), and closed after a confirmation, an objection, its answer and a message
 * (fz_close). Commands go through apply, seal and fold; every event is kept in a log when
 * one is given. Test helper: every function is static inline; nothing here may fail
 * (abort()). */
#ifndef BO_FUZZ_OPENING_H
#define BO_FUZZ_OPENING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hash.h"
#include "bo/session.h"

#define FZ_T0 1800000000000LL
#define FZ_CHECKIN (FZ_T0 + 3600000)
#define FZ_DEADLINE (FZ_T0 + 7200000)
#define FZ_START (FZ_DEADLINE + 1000)
#define FZ_ENDS (FZ_START + 600000)
#define FZ_ANN (FZ_START + 100)     /* announcing begins before this (fz_announcing) */
#define FZ_OPEN (FZ_ANN + 1000)     /* the confirmation window opens (fz_confirming) */
#define FZ_CLOSES (FZ_OPEN + 600000)

typedef struct fz_opening {
    bo_session *s;
    bo_event_list *log; /* NULL: not kept */
    bo_actor host, sys, bid[3];
    bo_tender tender;
    uint8_t cert[3][8], ri[3][16];
    bo_bytes chain[3];
} fz_opening;

static const char *const fz_uscc[3] = {"91350100M000100Y43", "91350100M000100Y44",
                                       "91350100M000100Y45"};
static const uint8_t fz_sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02};

static inline void fz_must(bool ok)
{
    if (!ok)
        abort();
}

static inline bo_cmd fz_cmd(fz_opening *o, bo_cmd_type type, const bo_actor *a, bo_time_ms now)
{
    bo_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.actor = a;
    c.now = now;
    c.tender = &o->tender;
    c.sig = (bo_bytes){fz_sig, sizeof(fz_sig)};
    return c;
}

/* apply, seal, fold (and the signed head when asked for). */
static inline void fz_run(fz_opening *o, const bo_cmd *c)
{
    bo_event_list evs;
    bo_apply_info info;
    bo_event_list_init(&evs);
    fz_must(bo_session_apply(o->s, c, &evs, &info, NULL, 0) == BO_E_OK);
    for (int round = 0; round < 2; round++) {
        fz_must(bo_session_seal(o->s, &evs) == BO_E_OK);
        for (size_t i = 0; i < evs.n; i++) {
            fz_must(bo_session_fold(o->s, &evs.v[i]) == BO_E_OK);
            bo_event copy;
            if (o->log) {
                fz_must(bo_event_copy(&copy, &evs.v[i]) == BO_E_OK);
                fz_must(bo_event_list_push(o->log, &copy) == BO_E_OK);
            }
        }
        bo_event_list_cleanup(&evs);
        if (round || !info.needs_head)
            break;
        uint8_t key_fpr[32] = {0xee};
        fz_must(bo_session_head_event(o->s, bo_session_phase(o->s), bo_session_seq(o->s),
                                      bo_session_head(o->s), c->now, fz_sig, sizeof(fz_sig),
                                      key_fpr, &evs) == BO_E_OK);
    }
}

static inline void fz_reqs(bo_decrypt_req r[3], unsigned base)
{
    for (int i = 0; i < 3; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        snprintf(r[i].uscc, sizeof(r[i].uscc), "%s", fz_uscc[i]);
        snprintf(r[i].req, sizeof(r[i].req), "%032x", base + (unsigned)i);
        memset(r[i].server_pub, 0x50 + i, 32);
        r[i].sig = (bo_bytes){fz_sig, sizeof(fz_sig)};
    }
}

static inline void fz_seed(uint8_t seed[32])
{
    memset(seed, 0x5d, 32);
}

/* Draws k (coefficient) and ord (the announcement order), a benchmark price with k. */
static inline void fz_full_tender(bo_tender *t)
{
    t->draws[0] = (bo_tender_draw){"k", BO_DRAW_COEFFICIENT, "下浮系数", {{95, 2}, {97, 2}}, 2};
    t->draws[1] = (bo_tender_draw){"ord", BO_DRAW_ORDER, "唱标顺序", {{0, 0}}, 0};
    t->n_draws = 2;
    t->announce_order = BO_ORDER_DRAW;
    snprintf(t->announce_draw, sizeof(t->announce_draw), "ord");
    t->benchmark = (bo_tender_benchmark){true, "price", 3, 1, true, "k", {1, 0}, 2,
                                         BO_ROUND_HALF_UP};
}

static inline void fz_open(fz_opening *o, bo_event_list *log, bool full);

/* The opening, decrypting since FZ_START: bidders 0 and 1 have requests 0x100, 0x101. */
static inline void fz_decrypting(fz_opening *o, bo_event_list *log)
{
    fz_open(o, log, false);
}

static inline void fz_open(fz_opening *o, bo_event_list *log, bool full)
{
    memset(o, 0, sizeof(*o));
    o->log = log;
    o->s = bo_session_new("o1", NULL);
    fz_must(o->s != NULL);
    bo_tender *t = &o->tender;
    snprintf(t->title, sizeof(t->title), "道路改造工程");
    t->checkin_at = FZ_CHECKIN;
    t->deadline = FZ_DEADLINE;
    t->min_bidders = 2;
    t->decrypt_window_s = 600;
    memcpy(t->currency, "CNY", 4);
    t->tz_offset_min = 480;
    t->fields[0] = (bo_tender_field){"price", "投标报价", BO_FIELD_DECIMAL};
    t->n_fields = 1;
    if (full)
        fz_full_tender(t);
    o->host.role = BO_ROLE_HOST;
    memset(o->host.fpr, 0x1a, 32);
    snprintf(o->host.person, sizeof(o->host.person), "host");
    o->sys.role = BO_ROLE_SYSTEM;
    for (int i = 0; i < 3; i++) {
        bo_actor *a = &o->bid[i];
        a->role = BO_ROLE_BIDDER;
        memset(a->fpr, 0xb0 + i, 32);
        snprintf(a->uscc, sizeof(a->uscc), "%s", fz_uscc[i]);
        snprintf(a->org, sizeof(a->org), "Company %c Ltd", 'A' + i);
        memset(o->cert[i], 0x30 + i, sizeof(o->cert[i]));
        o->chain[i] = (bo_bytes){o->cert[i], sizeof(o->cert[i])};
        a->sign_chain = a->enc_chain = (bo_bytes_list){&o->chain[i], 1};
        memset(a->enc_fpr, 0xc0 + i, 32);
        a->has_enc = true;
    }
    bo_cmd c = fz_cmd(o, BO_CMD_CREATE, &o->host, FZ_T0);
    uint8_t seed[32];
    fz_seed(seed);
    bo_sha256(seed, 32, c.seed_commit);
    fz_run(o, &c);
    for (int i = 0; i < 3; i++) {
        c = fz_cmd(o, BO_CMD_REGISTER, &o->bid[i], FZ_T0 + 1);
        fz_run(o, &c);
        bo_bid_info bi;
        memset(&bi, 0, sizeof(bi));
        memset(bi.hash, 0xa0 + i, 32);
        bi.size = 1000 + (uint64_t)i;
        memset(bi.commit, 0xd0 + i, 32);
        bi.cipher = "aes-256-gcm";
        memset(o->ri[i], 0x70 + i, sizeof(o->ri[i]));
        bi.ri = (bo_bytes){o->ri[i], sizeof(o->ri[i])};
        bi.receipt_sig = (bo_bytes){fz_sig, sizeof(fz_sig)};
        c = fz_cmd(o, BO_CMD_SUBMIT, &o->bid[i], FZ_T0 + 2);
        c.bid = &bi;
        fz_run(o, &c);
    }
    c = fz_cmd(o, BO_CMD_TICK, &o->sys, FZ_CHECKIN);
    fz_run(o, &c);
    for (int i = 0; i < 2; i++) {
        c = fz_cmd(o, BO_CMD_SIGNIN, &o->bid[i], FZ_CHECKIN + 1);
        fz_run(o, &c);
    }
    c = fz_cmd(o, BO_CMD_TICK, &o->sys, FZ_DEADLINE);
    fz_run(o, &c);
    bo_decrypt_req r[3];
    fz_reqs(r, 0x100);
    c = fz_cmd(o, BO_CMD_DECRYPT_START, &o->host, FZ_START);
    c.reqs = r;
    c.n_reqs = 3;
    fz_run(o, &c);
}

/* The rest: a refusal, a diagnostic, a result, a pause, a late sign-in with its request,
 * an extension, the window's end and the classification: the opening is announcing. */
static inline void fz_finish(fz_opening *o)
{
    bo_cmd c = fz_cmd(o, BO_CMD_DECRYPT_REFUSED, &o->sys, FZ_START + 1);
    c.uscc = fz_uscc[0];
    c.req = "00000000000000000000000000000100";
    c.code = BO_E_CEK_INVALID;
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_DECRYPT_DIAG, &o->bid[1], FZ_START + 2);
    c.req = "00000000000000000000000000000101";
    c.stage = "cert";
    c.error = "another key";
    memset(c.cert_fpr, 0xcf, 32);
    fz_run(o, &c);
    static const uint8_t form[] = {0x81, 0xa5, 'p', 'r', 'i', 'c', 'e', 0xa2, '9', '9'};
    c = fz_cmd(o, BO_CMD_BID_DECRYPTED, &o->sys, FZ_START + 3);
    c.uscc = fz_uscc[0];
    c.form = (bo_bytes){form, sizeof(form)};
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_PAUSE, &o->host, FZ_START + 4);
    c.reason = "网络故障";
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_RESUME, &o->host, FZ_START + 5);
    fz_run(o, &c);
    bo_decrypt_req r[3];
    fz_reqs(r, 0x200);
    c = fz_cmd(o, BO_CMD_SIGNIN, &o->bid[2], FZ_START + 6);
    c.reqs = r;
    c.n_reqs = 3;
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_DECRYPT_EXTEND, &o->host, FZ_START + 7);
    c.window_s = 60;
    c.reason = "投标人网络故障";
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_TICK, &o->sys, FZ_ENDS + 1 + 60000);
    fz_run(o, &c);
    for (int i = 1; i < 3; i++) {
        c = fz_cmd(o, BO_CMD_CLASSIFY, &o->host, FZ_ENDS + 70000 + i);
        c.uscc = fz_uscc[i];
        c.outcome = i == 1 ? "revoked" : "withdrawn";
        c.reason = "证书已更换";
        fz_run(o, &c);
    }
    fz_must(bo_session_phase(o->s) == BO_PHASE_ANNOUNCING);
}

/* A form {price}. */
static inline bo_bytes fz_form(uint8_t buf[16], const char *price)
{
    size_t n = strlen(price);
    buf[0] = 0x81;
    memcpy(buf + 1, "\xa5price", 6);
    buf[7] = (uint8_t)(0xa0 | n);
    memcpy(buf + 8, price, n);
    return (bo_bytes){buf, 8 + n};
}

/* The opening of §11, announcing: every bid decrypted (the third without a request). */
static inline void fz_announcing(fz_opening *o, bo_event_list *log)
{
    static const char *const prices[3] = {"100", "200", "301.5"};
    fz_open(o, log, true);
    for (int i = 0; i < 3; i++) {
        uint8_t buf[16];
        bo_cmd c = fz_cmd(o, BO_CMD_BID_DECRYPTED, &o->sys, FZ_START + 10 + i);
        c.uscc = fz_uscc[i];
        c.form = fz_form(buf, prices[i]);
        static const uint8_t wrapped[93] = {0x01, 0x22};
        char req[33];
        if (i < 2) { /* with the bidder's decrypt_response as evidence */
            snprintf(req, sizeof(req), "%032x", 0x100u + (unsigned)i);
            c.resp_req = req;
            memset(c.resp_client_pub, 0x22, 32);
            c.resp_wrapped = (bo_bytes){wrapped, sizeof(wrapped)};
            c.resp_sig = (bo_bytes){fz_sig, sizeof(fz_sig)};
        }
        fz_run(o, &c);
    }
    fz_must(bo_session_phase(o->s) == BO_PHASE_ANNOUNCING);
}

/* ... everything announced, drawn and computed; the confirmation window open. */
static inline void fz_confirming(fz_opening *o, bo_event_list *log)
{
    fz_announcing(o, log);
    uint8_t seed[32];
    fz_seed(seed);
    bo_cmd c = fz_cmd(o, BO_CMD_MESSAGE, &o->host, FZ_ANN);
    c.text = "现在开始唱标";
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_DRAW, &o->host, FZ_ANN + 1);
    c.draw = "ord";
    memcpy(c.seed, seed, 32);
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_ANNOUNCE, &o->host, FZ_ANN + 2);
    c.all = true;
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_DRAW, &o->host, FZ_ANN + 3);
    c.draw = "k";
    memcpy(c.seed, seed, 32);
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_BENCHMARK, &o->host, FZ_ANN + 4);
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_CONFIRM_OPEN, &o->host, FZ_OPEN);
    fz_run(o, &c);
    fz_must(bo_session_phase(o->s) == BO_PHASE_CONFIRMING);
}

/* ... a confirmation, an objection and its answer, a message, the window's end, the close. */
static inline void fz_close(fz_opening *o)
{
    bo_cmd c = fz_cmd(o, BO_CMD_CONFIRM, &o->bid[0], FZ_OPEN + 1);
    fz_must(bo_session_confirm_hash(o->s, c.record_hash));
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_OBJECT, &o->bid[1], FZ_OPEN + 2);
    c.text = "对基准价有异议";
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_MESSAGE, &o->bid[1], FZ_OPEN + 3);
    c.text = "请答复";
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_ANSWER, &o->host, FZ_OPEN + 4);
    c.objection = 1;
    c.text = "已复核";
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_TICK, &o->sys, FZ_CLOSES);
    fz_run(o, &c);
    c = fz_cmd(o, BO_CMD_CLOSE, &o->host, FZ_CLOSES + 1);
    fz_run(o, &c);
    fz_must(bo_session_phase(o->s) == BO_PHASE_CLOSED);
}

#endif
