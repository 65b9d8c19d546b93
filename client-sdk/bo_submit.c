/* bidopen client: submitting a sealed bid (bo/submit.h).
 *
 * One bo_submission per client at a time. It lives until done has run AND every request and
 * worker job it started has come back (holds), so a late reply never finds freed memory.
 * States:
 *   INSPECT (worker: envelope info, record) -> WAIT (for the connection) -> BEGIN -> SEND
 *   -> COMMIT -> KEY -> SAVE (worker) -> done
 * A lost connection sends it back to WAIT; the next JOINED/READY begins again and the
 * server's offset says where to go on (or, when the commit's reply was lost, CHECK asks
 * for the receipt first). */
#include "bo/submit.h"
#include "bo_client_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/sigpayload.h"
#include "bo/tender.h"
#include "bo/wire.h"

/* ------------------------------------------------------- the chunk plan ---- */

void bo_upload_plan_init(bo_upload_plan *p, uint64_t size, uint32_t chunk, unsigned window)
{
    memset(p, 0, sizeof(*p));
    p->size = size;
    p->chunk = chunk ? chunk : BO_SUBMIT_CHUNK;
    p->window = window ? window : 1;
}

bo_err bo_upload_plan_resume(bo_upload_plan *p, uint64_t offset)
{
    if (offset > p->size)
        return BO_E_BAD_FIELD;
    p->acked = p->sent = offset;
    p->inflight = 0;
    p->stalled = false;
    return BO_E_OK;
}

bool bo_upload_plan_next(bo_upload_plan *p, uint64_t *offset, size_t *len)
{
    if (p->stalled || p->inflight >= p->window || p->sent >= p->size)
        return false;
    uint64_t left = p->size - p->sent;
    *offset = p->sent;
    *len = left < p->chunk ? (size_t)left : p->chunk;
    p->sent += *len;
    p->inflight++;
    return true;
}

bo_err bo_upload_plan_ack(bo_upload_plan *p, uint64_t offset)
{
    if (!p->inflight)
        return BO_E_INVALID_ARG;
    uint64_t left = p->size - p->acked;
    uint64_t want = p->acked + (left < p->chunk ? left : p->chunk);
    p->inflight--;
    if (offset != want) {
        p->stalled = true;
        return BO_E_BAD_FIELD;
    }
    p->acked = offset;
    return BO_E_OK;
}

void bo_upload_plan_lost(bo_upload_plan *p)
{
    if (p->inflight)
        p->inflight--;
    p->stalled = true;
}

bool bo_upload_plan_complete(const bo_upload_plan *p)
{
    return p->acked == p->size;
}

/* -------------------------------------------------- server key, receipts ---- */

static void say(char *detail, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *detail, size_t n, const char *fmt, ...)
{
    if (!detail || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, n, fmt, ap);
    va_end(ap);
}

bo_err bo_server_key_parse(const msgpack_object *data, bo_server_key *out, char *detail,
                           size_t n)
{
    memset(out, 0, sizeof(*out));
    const uint8_t *p;
    size_t len;
    if (!data || data->type != MSGPACK_OBJECT_MAP) {
        say(detail, n, "server_key: not a map");
        return BO_E_MALFORMED;
    }
    if (!bo_mpo_bin(data, "spki", &p, &len) || len == 0) {
        say(detail, n, "server_key.spki: missing");
        return BO_E_MALFORMED;
    }
    if (len > sizeof(out->spki)) {
        say(detail, n, "server_key.spki: too big");
        return BO_E_TOO_BIG;
    }
    memcpy(out->spki, p, len);
    out->spki_len = len;
    if (bo_mpo_get(data, "cert")) {
        if (!bo_mpo_bin(data, "cert", &p, &len) || len == 0) {
            say(detail, n, "server_key.cert: not a certificate");
            return BO_E_MALFORMED;
        }
        if (len > sizeof(out->cert)) {
            say(detail, n, "server_key.cert: too big");
            return BO_E_TOO_BIG;
        }
        memcpy(out->cert, p, len);
        out->cert_len = len;
    }
    if (!bo_mpo_bin(data, "key_fpr", &p, &len) || len != 32) {
        say(detail, n, "server_key.key_fpr: expected 32 bytes");
        return BO_E_MALFORMED;
    }
    memcpy(out->fpr, p, 32);
    uint8_t h[32];
    if (out->cert_len)
        bo_cert_fpr(out->cert, out->cert_len, h);
    else
        bo_sha256(out->spki, out->spki_len, h);
    if (!bo_ct_equal(h, out->fpr, 32)) {
        say(detail, n, "server_key.key_fpr: not the fingerprint of the key given");
        return BO_E_MALFORMED;
    }
    return BO_E_OK;
}

bo_err bo_server_key_verify(const bo_server_key *k, const char *ctx, const uint8_t *payload,
                            size_t len, const uint8_t *sig, size_t sig_len)
{
    if (k->cert_len)
        return bo_sig_verify(k->cert, k->cert_len, ctx, payload, len, sig, sig_len);
    return bo_sig_verify_spki(k->spki, k->spki_len, ctx, payload, len, sig, sig_len);
}

static bool get_str(const msgpack_object *m, const char *key, char *out, size_t cap)
{
    const char *s;
    size_t n;
    if (!bo_mpo_str(m, key, &s, &n) || n == 0 || n >= cap || memchr(s, 0, n))
        return false;
    memcpy(out, s, n);
    out[n] = 0;
    return true;
}

static bool get_b32(const msgpack_object *m, const char *key, uint8_t out[32])
{
    const uint8_t *p;
    size_t n;
    if (!bo_mpo_bin(m, key, &p, &n) || n != 32)
        return false;
    memcpy(out, p, 32);
    return true;
}

bo_err bo_receipt_parse(const msgpack_object *data, bo_receipt *out, char *detail, size_t n)
{
    memset(out, 0, sizeof(*out));
    const msgpack_object *r = data ? bo_mpo_get(data, "receipt") : NULL;
    const char *bad = NULL;
    const uint8_t *p;
    size_t len;
    if (!r || r->type != MSGPACK_OBJECT_MAP)
        bad = "receipt";
    else if (!get_str(r, "oid", out->oid, sizeof(out->oid)))
        bad = "receipt.oid";
    else if (!get_str(r, "uscc", out->uscc, sizeof(out->uscc)))
        bad = "receipt.uscc";
    else if (!get_b32(r, "hash", out->hash))
        bad = "receipt.hash";
    else if (!bo_mpo_u64(r, "size", &out->size))
        bad = "receipt.size";
    else if (!get_b32(r, "commit", out->commit))
        bad = "receipt.commit";
    else if (!bo_mpo_i64(r, "ts", &out->ts))
        bad = "receipt.ts";
    else if (!bo_mpo_bin(data, "sig", &p, &len) || len == 0 || len > sizeof(out->sig))
        bad = "sig";
    if (bad) {
        say(detail, n, "%s: missing or invalid", bad);
        return BO_E_MALFORMED;
    }
    memcpy(out->sig, p, len);
    out->sig_len = len;
    bo_mpo_bool(data, "replaced", &out->replaced);
    return BO_E_OK;
}

bo_err bo_receipt_verify(const bo_receipt *r, const bo_server_key *k)
{
    bo_buf payload;
    bo_buf_init(&payload, 4096);
    bo_err err = bo_sigpayload_receipt(&payload, r->oid, r->uscc, r->hash, r->size, r->commit,
                                       r->ts);
    if (!err)
        err = bo_server_key_verify(k, BO_CTX_RECEIPT, payload.data, payload.len, r->sig,
                                   r->sig_len);
    bo_buf_cleanup(&payload);
    return err;
}

bo_err bo_receipt_matches(const bo_receipt *r, const bo_bid_record *rec, char *detail, size_t n)
{
    const char *bad = strcmp(r->oid, rec->seal.oid)                         ? "oid"
                      : strcmp(r->uscc, rec->seal.uscc)                     ? "uscc"
                      : memcmp(r->hash, rec->seal.env_sha256, 32)           ? "hash"
                      : r->size != rec->seal.env_size                       ? "size"
                      : memcmp(r->commit, rec->seal.commitment, 32)          ? "commit"
                                                                             : NULL;
    if (bad) {
        say(detail, n, "the receipt's %s is not the submitted bid's", bad);
        return BO_E_NOT_MY_ENVELOPE;
    }
    return BO_E_OK;
}

/* ------------------------------------------------------------ submission ---- */

typedef enum sub_state {
    S_INSPECT = 0,
    S_WAIT,
    S_BEGIN,
    S_SEND,
    S_COMMIT,
    S_CHECK,
    S_KEY,
    S_SAVE,
    S_DONE,
} sub_state;

struct bo_submission {
    bo_client *c; /* NULL once the client is gone */
    uv_loop_t *loop;
    bo__client_hook hook;
    sub_state st;
    unsigned holds;
    bool finished;
    /* what */
    char oid[65];
    char uscc[19];
    char *envelope;
    char *store_dir;
    bool no_store;
    uint8_t commit[32];
    uint8_t *enc_cert;
    size_t enc_cert_len;
    uint32_t chunk;
    unsigned window, rate, stall_ms;
    bo_submit_progress_cb progress;
    bo_submit_done_cb done;
    void *ud;
    /* the upload */
    int fd;
    uint8_t *buf;
    bo_upload_plan plan;
    char upload[65];
    bool resync;         /* after the replies in flight: submit_begin again */
    bool commit_unknown; /* the commit's reply was lost */
    unsigned resyncs;    /* in a row without progress */
    unsigned nreq;       /* requests in flight */
    uint64_t resumed_at;
    unsigned begins;
    double tokens;
    int64_t tokens_at, last_io; /* monotonic ms */
    uv_timer_t timer;
    /* results */
    bo_bid_record rec;
    bool have_rec;
    bo_receipt receipt;
    bool have_receipt;
    bo_server_key key;
    bool verified;
    /* the worker */
    uv_work_t work;
    bo_err work_err;
    char work_detail[512];
};

static void pump(bo_submission *s);
static void begin(bo_submission *s);

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void hold(bo_submission *s)
{
    s->holds++;
}

static void release(bo_submission *s)
{
    if (--s->holds)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->buf);
    free(s->envelope);
    free(s->store_dir);
    free(s->enc_cert);
    bo_bid_record_cleanup(&s->rec);
    uv_close((uv_handle_t *)&s->timer, timer_closed);
}

static void detach(bo_submission *s)
{
    if (!s->c)
        return;
    bo__client_hook_remove(s->c, &s->hook);
    void **slot = bo__client_slot(s->c, BO__CLIENT_SLOT_UPLOAD);
    if (*slot == s)
        *slot = NULL;
}

/* The end: done runs once; the memory goes with the last hold. */
static void finish(bo_submission *s, bo_err err, const char *code, const char *msg)
{
    if (s->finished)
        return;
    s->finished = true;
    s->st = S_DONE;
    uv_timer_stop(&s->timer);
    detach(s);
    bo_submit_result res = {
        .record = s->have_rec ? &s->rec : NULL,
        .receipt = s->have_receipt ? &s->receipt : NULL,
        .receipt_verified = s->verified,
        .resumed_at = s->resumed_at,
        .begins = s->begins,
    };
    hold(s);
    s->done(s->ud, err, code, msg, &res);
    release(s); /* the creator's hold */
    release(s);
}

static bool connected(const bo_submission *s)
{
    if (!s->c)
        return false;
    bo_client_state st = bo_client_state_get(s->c);
    return st == BO_CLIENT_READY || st == BO_CLIENT_JOINED;
}

static void on_timer(uv_timer_t *t);

/* Wake up for the pacing or for the stall watchdog. */
static void arm(bo_submission *s)
{
    if (s->finished)
        return;
    int64_t now = bo_clock_mono_ms(), next = -1;
    if (s->nreq)
        next = s->last_io + s->stall_ms;
    if (s->st == S_SEND && !s->resync && s->tokens < 1 && s->plan.sent < s->plan.size &&
        s->plan.inflight < s->plan.window) {
        int64_t t = s->tokens_at + (int64_t)((1.0 - s->tokens) * 1000.0 / s->rate) + 1;
        if (next < 0 || t < next)
            next = t;
    }
    if (s->st == S_WAIT && connected(s)) /* retry after a transient refusal */
        next = s->tokens_at + 1000;
    if (next < 0) {
        uv_timer_stop(&s->timer);
        return;
    }
    uv_timer_start(&s->timer, on_timer, next > now ? (uint64_t)(next - now) : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    bo_submission *s = t->data;
    if (s->finished || !s->c)
        return;
    int64_t now = bo_clock_mono_ms();
    hold(s);
    if (s->nreq && now - s->last_io >= (int64_t)s->stall_ms) {
        char why[80];
        snprintf(why, sizeof(why), "the upload got no reply for %u s: reconnecting",
                 s->stall_ms / 1000);
        s->last_io = now;
        bo__client_kick(s->c, why); /* cancels what is in flight: back to WAIT */
    } else if (s->st == S_WAIT && connected(s) && now >= s->tokens_at + 1000) {
        begin(s);
    } else {
        pump(s);
    }
    arm(s);
    release(s);
}

static bool fatal_code(const char *code)
{
    static const char *const ok_to_retry[] = {"E_BAD_FIELD",    "E_NOT_FOUND", "E_RATE_LIMITED",
                                              "E_STORE_UNAVAILABLE", "E_INTERNAL", "E_IO",
                                              "E_CONFLICT",     "E_DUPLICATE_ID"};
    for (size_t i = 0; code && i < sizeof(ok_to_retry) / sizeof(ok_to_retry[0]); i++)
        if (strcmp(code, ok_to_retry[i]) == 0)
            return false;
    return true;
}

/* A transient refusal: resynchronise, or give up after too many in a row. */
static bool retry_or_fail(bo_submission *s, bo_err err, const char *code, const char *msg)
{
    if (fatal_code(code) || ++s->resyncs > BO_SUBMIT_RESYNC_MAX) {
        finish(s, err, code, msg);
        return false;
    }
    s->resync = true;
    return true;
}

/* The request came back (whatever it says). */
static void req_back(bo_submission *s)
{
    s->nreq--;
    s->last_io = bo_clock_mono_ms();
}

static bo_err sreq(bo_submission *s, const bo_msg *m, bo_client_reply_cb cb)
{
    if (!s->c)
        return BO_E_CANCELED;
    bo_err err = bo_client_request(s->c, m, cb, s);
    if (err)
        return err;
    if (!s->nreq)
        s->last_io = bo_clock_mono_ms();
    s->nreq++;
    hold(s);
    return BO_E_OK;
}

static void report_progress(bo_submission *s)
{
    if (s->progress && !s->finished)
        s->progress(s->ud, s->plan.acked, s->plan.size);
}

/* ---- begin ---- */

static void on_begin(void *ud, bo_err err, const char *code, const char *msg,
                     const msgpack_object *data)
{
    bo_submission *s = ud;
    req_back(s);
    if (s->finished || s->st != S_BEGIN) {
        release(s);
        return;
    }
    if (err == BO_E_CANCELED) {
        s->st = S_WAIT;
    } else if (err) {
        if (retry_or_fail(s, err, code, msg)) {
            s->st = S_WAIT; /* begin again in a second */
            s->tokens_at = bo_clock_mono_ms();
        }
    } else {
        const char *u;
        size_t ul;
        uint64_t off;
        if (!bo_mpo_str(data, "upload", &u, &ul) || ul == 0 || ul >= sizeof(s->upload) ||
            !bo_mpo_u64(data, "offset", &off) || bo_upload_plan_resume(&s->plan, off)) {
            finish(s, BO_E_MALFORMED, NULL, "submit_begin: the reply has no valid upload/offset");
        } else {
            memcpy(s->upload, u, ul);
            s->upload[ul] = 0;
            if (off > s->resumed_at)
                s->resumed_at = off;
            s->st = S_SEND;
            s->resync = false;
            report_progress(s);
            pump(s);
        }
    }
    arm(s);
    release(s);
}

static void begin(bo_submission *s)
{
    if (s->finished || !connected(s))
        return;
    bo_msg m = {.type = BO_MSG_SUBMIT_BEGIN};
    m.u.submit_begin.oid = s->oid;
    m.u.submit_begin.size = s->rec.seal.env_size;
    m.u.submit_begin.hash = (bo_bytes){s->rec.seal.env_sha256, 32};
    m.u.submit_begin.commit = (bo_bytes){s->commit, 32};
    s->st = S_BEGIN;
    s->resync = false;
    bo_err err = sreq(s, &m, on_begin);
    if (err) {
        s->st = S_WAIT;
        if (err != BO_E_UNAUTHENTICATED && err != BO_E_TOO_BIG && err != BO_E_CANCELED)
            finish(s, err, NULL, "submit_begin could not be sent");
        return;
    }
    s->begins++;
    arm(s);
}

/* ---- the key, the receipt, the record ---- */

static void after_save(uv_work_t *w, int status)
{
    bo_submission *s = w->data;
    if (status == UV_ECANCELED && !s->work_err)
        s->work_err = BO_E_CANCELED;
    if (!s->finished) {
        if (s->work_err)
            finish(s, s->work_err, NULL, s->work_detail);
        else if (!s->verified)
            finish(s, BO_E_BAD_SIGNATURE, NULL,
                   "the bid was accepted, but the receipt's signature does not verify with "
                   "the server's key");
        else
            finish(s, BO_E_OK, NULL, NULL);
    }
    release(s);
}

static void do_save(uv_work_t *w)
{
    bo_submission *s = w->data;
    char why[400] = "";
    s->work_err = bo_bidstore_save(s->store_dir, &s->rec, why, sizeof(why));
    if (s->work_err)
        snprintf(s->work_detail, sizeof(s->work_detail),
                 "the bid was accepted (receipt below), but its record could not be stored: %s",
                 why);
}

static void save(bo_submission *s)
{
    s->rec.has_receipt = true;
    s->rec.receipt_ts = s->receipt.ts;
    free(s->rec.receipt_sig);
    s->rec.receipt_sig = malloc(s->receipt.sig_len);
    if (s->rec.receipt_sig) {
        memcpy(s->rec.receipt_sig, s->receipt.sig, s->receipt.sig_len);
        s->rec.receipt_sig_len = s->receipt.sig_len;
    } else {
        s->rec.receipt_sig_len = 0;
    }
    memcpy(s->rec.server_key_fpr, s->key.fpr, 32);
    s->rec.receipt_verified = s->verified;
    s->rec.replaced = s->receipt.replaced;
    if (s->no_store) {
        s->work_err = BO_E_OK;
        hold(s);
        s->work.data = s;
        after_save(&s->work, 0);
        return;
    }
    s->st = S_SAVE;
    s->work.data = s;
    s->work_err = BO_E_OK;
    if (uv_queue_work(s->loop, &s->work, do_save, after_save)) {
        finish(s, BO_E_INTERNAL, NULL, "cannot queue the record's write");
        return;
    }
    hold(s);
}

static void on_key(void *ud, bo_err err, const char *code, const char *msg,
                   const msgpack_object *data)
{
    bo_submission *s = ud;
    req_back(s);
    if (s->finished || s->st != S_KEY) {
        release(s);
        return;
    }
    if (err == BO_E_CANCELED) {
        s->st = S_WAIT; /* ask again once connected */
    } else if (err) {
        finish(s, err, code, msg);
    } else {
        char why[200] = "";
        err = bo_server_key_parse(data, &s->key, why, sizeof(why));
        if (err) {
            finish(s, err, NULL, why);
        } else {
            s->verified = bo_receipt_verify(&s->receipt, &s->key) == BO_E_OK;
            save(s);
        }
    }
    arm(s);
    release(s);
}

static void get_key(bo_submission *s)
{
    bo_msg m = {.type = BO_MSG_SERVER_KEY};
    s->st = S_KEY;
    bo_err err = sreq(s, &m, on_key);
    if (err) {
        s->st = S_WAIT;
        if (err != BO_E_UNAUTHENTICATED && err != BO_E_TOO_BIG && err != BO_E_CANCELED)
            finish(s, err, NULL, "server_key could not be sent");
    }
}

/* The receipt from submit_commit (or from receipt after a lost commit reply). */
static void take_receipt(bo_submission *s, const msgpack_object *data, bool from_commit)
{
    char why[200] = "";
    bo_receipt r;
    bo_err err = bo_receipt_parse(data, &r, why, sizeof(why));
    if (!err)
        err = bo_receipt_matches(&r, &s->rec, why, sizeof(why));
    if (err && from_commit) {
        finish(s, err, NULL, why);
        return;
    }
    if (err) { /* the server holds another bid of ours: upload this one */
        s->st = S_WAIT;
        begin(s);
        return;
    }
    s->receipt = r;
    s->have_receipt = true;
    s->plan.acked = s->plan.size;
    report_progress(s);
    get_key(s);
}

static void on_commit(void *ud, bo_err err, const char *code, const char *msg,
                      const msgpack_object *data)
{
    bo_submission *s = ud;
    req_back(s);
    if (s->finished || s->st != S_COMMIT) {
        release(s);
        return;
    }
    if (err == BO_E_CANCELED) {
        s->st = S_WAIT;
        s->commit_unknown = true;
    } else if (err) {
        /* E_BAD_FIELD (the server holds less), E_NOT_FOUND (upload unknown): again */
        if (retry_or_fail(s, err, code, msg)) {
            s->st = S_WAIT;
            s->tokens_at = bo_clock_mono_ms();
        }
    } else {
        take_receipt(s, data, true);
    }
    arm(s);
    release(s);
}

static void commit(bo_submission *s)
{
    bo_msg m = {.type = BO_MSG_SUBMIT_COMMIT};
    m.u.submit_commit.oid = s->oid;
    m.u.submit_commit.upload = s->upload;
    s->st = S_COMMIT;
    bo_err err = sreq(s, &m, on_commit);
    if (err) {
        s->st = S_WAIT;
        if (err != BO_E_UNAUTHENTICATED && err != BO_E_TOO_BIG && err != BO_E_CANCELED)
            finish(s, err, NULL, "submit_commit could not be sent");
    }
}

static void on_check(void *ud, bo_err err, const char *code, const char *msg,
                     const msgpack_object *data)
{
    bo_submission *s = ud;
    (void)code;
    (void)msg;
    req_back(s);
    if (s->finished || s->st != S_CHECK) {
        release(s);
        return;
    }
    if (err == BO_E_CANCELED) {
        s->st = S_WAIT;
    } else if (err) {
        s->commit_unknown = false; /* no bid there (E_NOT_FOUND): upload again */
        begin(s);
    } else {
        s->commit_unknown = false;
        take_receipt(s, data, false);
    }
    arm(s);
    release(s);
}

/* Connected again: where were we? */
static void reconnected(bo_submission *s)
{
    if (s->finished || s->st != S_WAIT || !connected(s))
        return;
    if (s->have_receipt) {
        get_key(s);
        return;
    }
    if (s->commit_unknown) {
        bo_msg m = {.type = BO_MSG_RECEIPT};
        m.u.receipt.oid = s->oid;
        s->st = S_CHECK;
        if (sreq(s, &m, on_check) != BO_E_OK)
            s->st = S_WAIT;
        return;
    }
    begin(s);
}

/* ---- chunks ---- */

static void on_chunk(void *ud, bo_err err, const char *code, const char *msg,
                     const msgpack_object *data)
{
    bo_submission *s = ud;
    req_back(s);
    if (s->finished || s->st != S_SEND) {
        release(s);
        return;
    }
    uint64_t off;
    if (err == BO_E_CANCELED) {
        bo_upload_plan_lost(&s->plan);
        s->st = S_WAIT; /* the rest is canceled too; JOINED again begins again */
    } else if (err) {
        bo_upload_plan_lost(&s->plan);
        retry_or_fail(s, err, code, msg);
    } else if (!bo_mpo_u64(data, "offset", &off) ||
               bo_upload_plan_ack(&s->plan, off) != BO_E_OK) {
        s->resync = true; /* plan_ack counted it */
    } else {
        s->resyncs = 0;
        report_progress(s);
    }
    pump(s);
    arm(s);
    release(s);
}

static void pump(bo_submission *s)
{
    if (s->finished || s->st != S_SEND || !s->c)
        return;
    if (s->resync) {
        if (!s->plan.inflight)
            begin(s);
        return;
    }
    if (bo_upload_plan_complete(&s->plan)) {
        if (!s->plan.inflight)
            commit(s);
        return;
    }
    int64_t now = bo_clock_mono_ms();
    s->tokens += (double)(now - s->tokens_at) * s->rate / 1000.0;
    if (s->tokens > s->window)
        s->tokens = s->window;
    s->tokens_at = now;
    while (s->tokens >= 1 && !s->finished && s->st == S_SEND) {
        uint64_t off;
        size_t len;
        bo_upload_plan pl = s->plan;
        if (!bo_upload_plan_next(&s->plan, &off, &len))
            break;
        ssize_t got = pread(s->fd, s->buf, len, (off_t)off);
        if (got != (ssize_t)len) {
            char why[300];
            snprintf(why, sizeof(why), "%s: %s", s->envelope,
                     got < 0 ? strerror(errno) : "the file shrank since it was inspected");
            finish(s, BO_E_IO, NULL, why);
            return;
        }
        bo_msg m = {.type = BO_MSG_SUBMIT_CHUNK};
        m.u.submit_chunk.oid = s->oid;
        m.u.submit_chunk.upload = s->upload;
        m.u.submit_chunk.offset = off;
        m.u.submit_chunk.data = (bo_bytes){s->buf, len};
        bo_err err = sreq(s, &m, on_chunk);
        if (err) {
            s->plan = pl; /* not sent */
            if (err == BO_E_TOO_BIG)
                break; /* the outgoing queue is full: the next reply pumps again */
            if (err == BO_E_UNAUTHENTICATED || err == BO_E_CANCELED) {
                s->st = S_WAIT;
                break;
            }
            finish(s, err, NULL, "submit_chunk could not be sent");
            return;
        }
        s->tokens -= 1;
    }
}

/* ---- hooks ---- */

static void hook_state(void *ud, bo_client_state st)
{
    bo_submission *s = ud;
    if (st == BO_CLIENT_READY || st == BO_CLIENT_JOINED) {
        hold(s);
        reconnected(s);
        arm(s);
        release(s);
    }
}

static void hook_detach(void *ud)
{
    bo_submission *s = ud;
    s->c = NULL;
    finish(s, BO_E_CANCELED, NULL, "the client was freed");
}

/* ---- inspect ---- */

static void do_inspect(uv_work_t *w)
{
    bo_submission *s = w->data;
    char *d = s->work_detail;
    size_t n = sizeof(s->work_detail);
    s->work_err = bo_bid_record_make(s->envelope, s->enc_cert, s->enc_cert_len, s->oid,
                                     s->uscc, s->commit, &s->rec, d, n);
    if (s->work_err)
        return;
    s->fd = open(s->envelope, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        s->work_err = BO_E_IO;
        snprintf(d, n, "%s: %s", s->envelope, strerror(errno));
        return;
    }
    if (s->no_store)
        return;
    /* keep a record that already has this envelope's receipt */
    bo_bid_record old;
    char why[300];
    if (bo_bidstore_find(s->store_dir, s->oid, s->uscc, s->rec.seal.env_sha256, &old, why,
                         sizeof(why)) == BO_E_OK &&
        old.has_receipt && !memcmp(old.seal.commitment, s->rec.seal.commitment, 32) &&
        !memcmp(old.seal.ri_sha256, s->rec.seal.ri_sha256, 32)) {
        bo_bid_record_cleanup(&old);
        return;
    }
    bo_bid_record_cleanup(&old);
    s->work_err = bo_bidstore_save(s->store_dir, &s->rec, d, n);
}

static void after_inspect(uv_work_t *w, int status)
{
    bo_submission *s = w->data;
    if (status == UV_ECANCELED && !s->work_err)
        s->work_err = BO_E_CANCELED;
    if (!s->finished) {
        if (s->work_err) {
            finish(s, s->work_err, NULL, s->work_detail);
        } else {
            s->have_rec = true;
            bo_upload_plan_init(&s->plan, s->rec.seal.env_size, s->chunk, s->window);
            s->st = S_WAIT;
            s->tokens = s->window;
            s->tokens_at = bo_clock_mono_ms();
            reconnected(s);
            arm(s);
        }
    }
    release(s);
}

bo_err bo_client_submit_ex(bo_client *c, const bo_submit_opts *o, bo_submission **out)
{
    if (out)
        *out = NULL;
    if (!c || !o || !o->envelope || !*o->envelope || !o->commit || !o->done)
        return BO_E_INVALID_ARG;
    if (bo__client_dead(c))
        return BO_E_INVALID_ARG;
    const char *oid = o->oid ? o->oid : bo__client_oid(c);
    if (!oid || !bo_oid_valid(oid))
        return BO_E_INVALID_ARG;
    if ((o->chunk && o->chunk > BO_SUBMIT_CHUNK) || o->window > 16)
        return BO_E_INVALID_ARG;
    const bo_client_identity *me = bo_client_whoami(c);
    if (!me || !me->uscc[0])
        return BO_E_UNAUTHENTICATED;
    const uint8_t *enc = o->enc_cert;
    size_t enc_len = o->enc_cert_len;
    if (!enc) {
        bo_bytes_list ec = bo__client_enc_chain(c);
        if (!ec.n)
            return BO_E_INVALID_ARG;
        enc = ec.v[0].p;
        enc_len = ec.v[0].len;
    }
    void **slot = bo__client_slot(c, BO__CLIENT_SLOT_UPLOAD);
    if (*slot)
        return BO_E_EXISTS;
    bo_submission *s = calloc(1, sizeof(*s));
    if (!s)
        return BO_E_NOMEM;
    s->fd = -1;
    s->c = c;
    s->loop = bo__client_loop(c);
    snprintf(s->oid, sizeof(s->oid), "%s", oid);
    snprintf(s->uscc, sizeof(s->uscc), "%s", me->uscc);
    char *abs = realpath(o->envelope, NULL); /* the record names the file wherever run from */
    s->envelope = abs ? abs : strdup(o->envelope);
    s->store_dir = o->store_dir ? strdup(o->store_dir) : NULL;
    s->no_store = o->no_store;
    memcpy(s->commit, o->commit, 32);
    s->enc_cert = malloc(enc_len);
    s->chunk = o->chunk ? o->chunk : BO_SUBMIT_CHUNK;
    s->window = o->window ? o->window : BO_SUBMIT_WINDOW;
    s->rate = o->rate ? o->rate : BO_SUBMIT_RATE;
    s->stall_ms = o->stall_ms ? o->stall_ms : BO_SUBMIT_STALL_MS;
    s->progress = o->progress;
    s->done = o->done;
    s->ud = o->ud;
    s->buf = malloc(s->chunk);
    if (!s->envelope || (o->store_dir && !s->store_dir) || !s->enc_cert || !s->buf) {
        free(s->envelope);
        free(s->store_dir);
        free(s->enc_cert);
        free(s->buf);
        free(s);
        return BO_E_NOMEM;
    }
    memcpy(s->enc_cert, enc, enc_len);
    s->enc_cert_len = enc_len;
    uv_timer_init(s->loop, &s->timer);
    s->timer.data = s;
    s->holds = 1; /* the creator's, until finish */
    s->st = S_INSPECT;
    s->work.data = s;
    if (uv_queue_work(s->loop, &s->work, do_inspect, after_inspect)) {
        s->finished = true;
        release(s);
        return BO_E_NOMEM;
    }
    hold(s);
    s->hook.ud = s;
    s->hook.on_state = hook_state;
    s->hook.on_detach = hook_detach;
    bo__client_hook_add(c, &s->hook);
    *slot = s;
    if (out)
        *out = s;
    return BO_E_OK;
}

bo_err bo_client_submit(bo_client *c, const char *oid, const char *envelope_path,
                        const uint8_t commit[32], bo_submit_progress_cb progress,
                        bo_submit_done_cb done, void *ud)
{
    bo_submit_opts o;
    memset(&o, 0, sizeof(o));
    o.oid = oid;
    o.envelope = envelope_path;
    o.commit = commit;
    o.progress = progress;
    o.done = done;
    o.ud = ud;
    return bo_client_submit_ex(c, &o, NULL);
}

void bo_submission_cancel(bo_submission *s)
{
    if (s && !s->finished)
        finish(s, BO_E_CANCELED, NULL, "canceled");
}

void bo_submission_progress(const bo_submission *s, uint64_t *done, uint64_t *total)
{
    *done = s->have_rec ? s->plan.acked : 0;
    *total = s->have_rec ? s->plan.size : 0;
}
