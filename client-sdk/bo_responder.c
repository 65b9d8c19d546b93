/* bidopen client: answering decryption requests, and the pre-flight (bo/responder.h). */
#include "bo/responder.h"
#include "bo_client_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/cek.h"
#include "bo/cert.h"
#include "bo/handoff.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/sigpayload.h"
#include "bo/utf8.h"
#include "bo/wire.h"

#define MAX_TRACKED 16 /* requests remembered (a bidder has one at a time) */

static const char *const stage_names[] = {"ok", "token", "cert", "unwrap", "other"};

const char *bo_stage_name(bo_stage s)
{
    return (unsigned)s < 5 ? stage_names[s] : "other";
}

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

/* ----------------------------------------------------------- requests ---- */

static bool req_id_ok(const char *s, size_t n)
{
    if (n != 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bo_err bo_responder_request_parse(const msgpack_object *body, bo_responder_request *out,
                                  char *detail, size_t n)
{
    memset(out, 0, sizeof(*out));
    const char *s;
    size_t len;
    const uint8_t *p;
    const char *bad = NULL;
    if (!body || body->type != MSGPACK_OBJECT_MAP) {
        bad = "body";
    } else if (!bo_mpo_str(body, "uscc", &s, &len) || len != 18) {
        bad = "uscc";
    } else {
        memcpy(out->uscc, s, 18);
        if (!bo_mpo_str(body, "req", &s, &len) || !req_id_ok(s, len))
            bad = "req";
        else
            memcpy(out->req, s, 32);
    }
    if (!bad && (!bo_mpo_bin(body, "bid", &p, &len) || len != 32))
        bad = "bid";
    else if (!bad)
        memcpy(out->bid, p, 32);
    if (!bad && (!bo_mpo_bin(body, "server_pub", &p, &len) || len != 32))
        bad = "server_pub";
    else if (!bad)
        memcpy(out->server_pub, p, 32);
    if (!bad && !bo_mpo_i64(body, "ends_at", &out->ends_at))
        bad = "ends_at";
    if (!bad && (!bo_mpo_bin(body, "sig", &p, &len) || len == 0 || len > sizeof(out->sig)))
        bad = "sig";
    else if (!bad) {
        memcpy(out->sig, p, len);
        out->sig_len = len;
    }
    if (!bad && (!bo_mpo_bin(body, "ri", &p, &len) || len == 0))
        bad = "ri";
    if (bad) {
        say(detail, n, "decrypt_request.%s: missing or invalid", bad);
        return BO_E_MALFORMED;
    }
    if (len > sizeof(out->ri)) {
        say(detail, n, "decrypt_request.ri: over %zu bytes", sizeof(out->ri));
        return BO_E_TOO_BIG;
    }
    memcpy(out->ri, p, len);
    out->ri_len = len;
    return BO_E_OK;
}

bo_err bo_responder_check(const bo_responder_request *r, const char *oid, const char *uscc,
                          const bo_server_key *key, const bo_bid_record *recs, size_t n_recs,
                          bo_time_ms started_at, bo_time_ms now, size_t *idx, char *detail,
                          size_t n)
{
    char hex[17];
    bo_hex_encode(r->bid, 8, hex);
    if (!uscc || strcmp(r->uscc, uscc) != 0) {
        say(detail, n, "the request is for another bidder (%s)", r->uscc);
        return BO_E_FORBIDDEN;
    }
    uint8_t ri_hash[32];
    bo_sha256(r->ri, r->ri_len, ri_hash);
    bo_buf payload;
    bo_buf_init(&payload, 4096);
    bo_err err = bo_sigpayload_decrypt_request(&payload, oid, r->uscc, r->req, r->bid, ri_hash,
                                               r->server_pub, r->ends_at);
    if (!err)
        err = bo_server_key_verify(key, BO_CTX_DECRYPT_REQUEST, payload.data, payload.len,
                                   r->sig, r->sig_len);
    bo_buf_cleanup(&payload);
    if (err) {
        say(detail, n, "the request's signature does not verify with the server's key");
        return BO_E_BAD_SIGNATURE;
    }
    bo_seal_record *sr = calloc(n_recs ? n_recs : 1, sizeof(*sr));
    if (!sr)
        return BO_E_NOMEM;
    for (size_t i = 0; i < n_recs; i++)
        sr[i] = recs[i].seal;
    bo_handoff_bind b = {oid, r->req, r->bid, r->ri, r->ri_len};
    err = bo_handoff_check_request(sr, n_recs, &b, started_at, now, idx);
    free(sr);
    if (err == BO_E_TOO_EARLY)
        say(detail, n, "the opening is not decrypting yet: the request waits");
    else if (err == BO_E_NOT_MY_ENVELOPE)
        say(detail, n, "no record of bid %s… on this computer: this client did not submit it "
                       "(copy its record here: bidopen bidder --record FILE)", hex);
    else if (err)
        say(detail, n, "the request is not valid: %s", bo_strerror(err));
    return err;
}

/* ---------------------------------------------------------- unwrapping ---- */

/* Cut a UTF-8 text to at most max characters (bytes here: the texts are ASCII, but cut on
 * a character boundary anyway). */
static void clip(char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    s[max] = 0;
}

/* The wire text is the message, cut to what decrypt_failed.error takes. */
static void wire_from_msg(bo_preflight_result *out)
{
    size_t n = strnlen(out->msg, BO_RESPONDER_ERROR_MAX);
    memcpy(out->wire, out->msg, n);
    out->wire[n] = 0;
    clip(out->wire, BO_RESPONDER_ERROR_MAX);
    if (!bo_utf8_valid(out->wire, strlen(out->wire))) { /* cut inside a character */
        while (n > 0 && ((unsigned char)out->wire[n - 1] & 0x80))
            out->wire[--n] = 0;
    }
}

static void day(bo_time_ms t, char out[16])
{
    char full[40];
    bo_time_format_rfc3339(t, full, sizeof(full));
    snprintf(out, 16, "%.10s", full);
}

bo_stage bo_responder_unwrap(const bo_bid_record *rec, const bo_key *key, const char *key_error,
                             const uint8_t *held_cert, size_t held_len, bo_secret **cek,
                             bo_preflight_result *out)
{
    memset(out, 0, sizeof(*out));
    if (cek)
        *cek = NULL;
    bo_cert_info sealed, held;
    bool have_sealed = rec->enc_cert_len &&
                       bo_cert_describe(rec->enc_cert, rec->enc_cert_len, &sealed) == BO_E_OK;
    bool have_held = held_cert && held_len &&
                     bo_cert_describe(held_cert, held_len, &held) == BO_E_OK;
    if (have_sealed) {
        snprintf(out->sealed_serial, sizeof(out->sealed_serial), "%s", sealed.serial);
        out->sealed_not_after = sealed.not_after;
    }
    if (have_held) {
        snprintf(out->held_serial, sizeof(out->held_serial), "%s", held.serial);
        out->held_not_after = held.not_after;
    }
    char d1[16] = "?", d2[16] = "?";
    if (have_sealed)
        day(sealed.not_after, d1);
    if (have_held)
        day(held.not_after, d2);

    if (!key) {
        out->stage = BO_STAGE_TOKEN;
        out->err = BO_E_UNSUPPORTED;
        say(out->msg, sizeof(out->msg), "the encryption key could not be loaded%s%s",
            key_error && *key_error ? ": " : "", key_error ? key_error : "");
        wire_from_msg(out);
        return out->stage;
    }
    if (!have_sealed) {
        out->stage = BO_STAGE_OTHER;
        out->err = BO_E_CERT_INVALID;
        say(out->msg, sizeof(out->msg),
            "the bid's record has no readable encryption certificate");
        wire_from_msg(out);
        return out->stage;
    }
    bo_err e = bo_key_matches_cert(key, rec->enc_cert, rec->enc_cert_len);
    if (e) {
        out->stage = BO_STAGE_CERT;
        out->err = BO_E_RECIPIENT_MISMATCH;
        bool same = have_held && held_len == rec->enc_cert_len &&
                    memcmp(held_cert, rec->enc_cert, held_len) == 0;
        bool key_is_held = have_held && !same &&
                           bo_key_matches_cert(key, held_cert, held_len) == BO_E_OK;
        out->renewed = key_is_held;
        if (key_is_held) {
            say(out->msg, sizeof(out->msg),
                "certificate renewed: your bid was sealed to certificate serial %s valid "
                "until %s; your token holds serial %s (valid until %s), whose key cannot open "
                "it. Use the key of certificate %s.",
                sealed.serial, d1, held.serial, d2, sealed.serial);
            say(out->wire, sizeof(out->wire),
                "certificate renewed: bid sealed to serial %s (until %s); key is for serial %s "
                "(until %s)",
                sealed.serial, d1, held.serial, d2);
        } else if (have_held && !same) {
            say(out->msg, sizeof(out->msg),
                "wrong key: it belongs neither to certificate serial %s (valid until %s), the "
                "one your bid was sealed to, nor to your encryption certificate serial %s",
                sealed.serial, d1, held.serial);
            say(out->wire, sizeof(out->wire),
                "wrong key: not the key of serial %s (sealed to) nor of serial %s (held)",
                sealed.serial, held.serial);
        } else {
            say(out->msg, sizeof(out->msg),
                "wrong key: it does not belong to certificate serial %s (valid until %s), the "
                "one your bid was sealed to",
                sealed.serial, d1);
            say(out->wire, sizeof(out->wire),
                "wrong key: not the key of certificate serial %s the bid was sealed to",
                sealed.serial);
        }
        clip(out->wire, BO_RESPONDER_ERROR_MAX);
        return out->stage;
    }
    bo_secret *k = NULL;
    e = bo_cek_unwrap(rec->ri, rec->ri_len, key, rec->enc_cert, rec->enc_cert_len, &k);
    if (!e)
        e = bo_cek_commitment_check(k, rec->seal.oid, rec->seal.uscc, rec->seal.commitment);
    if (e == BO_E_ENVELOPE_MALFORMED || e == BO_E_ENVELOPE_CIPHER || e == BO_E_CERT_INVALID) {
        out->stage = BO_STAGE_OTHER;
        out->err = e;
        say(out->msg, sizeof(out->msg), "the recorded RecipientInfo cannot be used: %s",
            bo_strerror(e));
        wire_from_msg(out);
        bo_secret_free(k);
        return out->stage;
    }
    if (e == BO_E_RECIPIENT_MISMATCH) {
        out->stage = BO_STAGE_CERT;
        out->err = e;
        say(out->msg, sizeof(out->msg),
            "the bid's RecipientInfo does not name certificate serial %s", sealed.serial);
        wire_from_msg(out);
        bo_secret_free(k);
        return out->stage;
    }
    if (e) {
        /* one answer for every failure that involves the private key */
        out->stage = BO_STAGE_UNWRAP;
        out->err = BO_E_UNWRAP_FAILED;
        say(out->msg, sizeof(out->msg), "%s", bo_strerror(BO_E_UNWRAP_FAILED));
        wire_from_msg(out);
        bo_secret_free(k);
        return out->stage;
    }
    out->stage = BO_STAGE_OK;
    out->err = BO_E_OK;
    say(out->msg, sizeof(out->msg),
        "ready: the key of certificate serial %s (valid until %s) opens the bid's key, and it "
        "matches the commitment",
        sealed.serial, d1);
    if (cek)
        *cek = k;
    else
        bo_secret_free(k);
    return out->stage;
}

bo_err bo_preflight(const bo_bid_record *rec, const bo_key *enc_key, const uint8_t *enc_cert,
                    size_t enc_cert_len, bo_preflight_result *out)
{
    bo_responder_unwrap(rec, enc_key, enc_key ? NULL : "no key given", enc_cert, enc_cert_len,
                        NULL, out);
    return out->err;
}

/* ------------------------------------------------------------ responder ---- */

typedef enum track_state {
    T_NEW = 0,    /* seen, not handled (or to retry) */
    T_WAIT_KEY,   /* waits for the server's key */
    T_WAIT_PHASE, /* waits for decrypting */
    T_WORK,       /* on the worker */
    T_SENT,       /* response or diagnostics in flight */
    T_DONE,       /* answered for good (opened, refused, failed, ignored) */
} track_state;

typedef struct tracked {
    bool used;
    char req[33];
    track_state st;
    uint64_t order;
    bo_responder_request *r; /* kept while not done */
} tracked;

typedef struct job {
    uv_work_t w;
    bo_responder *rs;
    tracked *t;
    char req[33];
    bo_responder_request *r;
    bo_bid_record rec;
    /* results */
    bo_preflight_result diag;
    uint8_t blob[BO_HANDOFF_BLOB_LEN];
    bo_buf sig;
    bo_err err;
} job;

struct bo_responder {
    bo_client *c; /* NULL once the client is gone */
    uv_loop_t *loop;
    bo__client_hook hook;
    bool dead;    /* freed by the application: goes when the job returns */
    unsigned jobs;
    unsigned replies; /* requests in flight that point at us */
    char oid[65];
    char uscc[19];
    const bo_key *key;
    const bo_key *sign_key;
    char *key_error;
    uint8_t *held;
    size_t held_len;
    uint8_t held_fpr[32];
    char *store_dir;
    bo_bid_record *extra;
    size_t n_extra;
    bo_bid_record *recs; /* store + extra */
    size_t n_recs;
    bool recs_loaded;
    bo_server_key skey;
    bool have_skey, skey_asked;
    bo_time_ms started_at; /* server time decryption started (0: not yet) */
    tracked t[MAX_TRACKED];
    uint64_t order;
    bo_responder_stats stats;
    void (*on_status)(void *ud, const bo_responder_status *st);
    void *ud;
};

static void status(bo_responder *rs, bo_responder_what what, const char *req, const uint8_t *bid,
                   bo_err err, const char *code, const char *msg, bo_stage stage,
                   const bo_preflight_result *diag)
{
    if (rs->dead || !rs->on_status)
        return;
    bo_responder_status st = {what, req, bid, err, code, msg, stage, diag};
    rs->on_status(rs->ud, &st);
}

static void maybe_free(bo_responder *rs)
{
    if (!rs->dead || rs->jobs || rs->replies)
        return;
    for (size_t i = 0; i < MAX_TRACKED; i++)
        free(rs->t[i].r);
    bo_bid_records_free(rs->recs, rs->n_recs);
    bo_bid_records_free(rs->extra, rs->n_extra);
    free(rs->key_error);
    free(rs->held);
    free(rs->store_dir);
    free(rs);
}

static void load_records(bo_responder *rs)
{
    bo_bid_records_free(rs->recs, rs->n_recs);
    rs->recs = NULL;
    rs->n_recs = 0;
    bo_bid_record *v = NULL;
    size_t n = 0;
    char why[300];
    bo_bidstore_load(rs->store_dir, rs->oid, rs->uscc[0] ? rs->uscc : NULL, &v, &n, why,
                     sizeof(why));
    size_t total = n + rs->n_extra;
    bo_bid_record *all = total ? calloc(total, sizeof(*all)) : NULL;
    if (!all) {
        bo_bid_records_free(v, n);
        rs->recs_loaded = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        all[i] = v[i];
    free(v);
    size_t k = n;
    for (size_t i = 0; i < rs->n_extra; i++)
        if (!strcmp(rs->extra[i].seal.oid, rs->oid) &&
            bo_bid_record_copy(&all[k], &rs->extra[i]) == BO_E_OK)
            k++;
    rs->recs = all;
    rs->n_recs = k;
    rs->recs_loaded = true;
}

static tracked *track_find(bo_responder *rs, const char *req)
{
    for (size_t i = 0; i < MAX_TRACKED; i++)
        if (rs->t[i].used && !strcmp(rs->t[i].req, req))
            return &rs->t[i];
    return NULL;
}

static tracked *track_new(bo_responder *rs, const char *req)
{
    tracked *slot = NULL;
    for (size_t i = 0; i < MAX_TRACKED && !slot; i++)
        if (!rs->t[i].used)
            slot = &rs->t[i];
    for (size_t i = 0; i < MAX_TRACKED && !slot; i++) /* the oldest finished one */
        if (rs->t[i].st == T_DONE && (!slot || rs->t[i].order < slot->order))
            slot = &rs->t[i];
    if (!slot)
        return NULL;
    free(slot->r);
    memset(slot, 0, sizeof(*slot));
    slot->used = true;
    snprintf(slot->req, sizeof(slot->req), "%s", req);
    slot->order = ++rs->order;
    return slot;
}

static void handle(bo_responder *rs, tracked *t);

static bool joined(const bo_responder *rs)
{
    return rs->c && bo_client_state_get(rs->c) == BO_CLIENT_JOINED;
}

/* Go over every request that waits for something that may have come. */
static void handle_waiting(bo_responder *rs)
{
    for (size_t i = 0; i < MAX_TRACKED; i++) {
        tracked *t = &rs->t[i];
        if (t->used && (t->st == T_NEW || t->st == T_WAIT_KEY || t->st == T_WAIT_PHASE))
            handle(rs, t);
    }
}

/* ---- the server key ---- */

static void on_skey(void *ud, bo_err err, const char *code, const char *msg,
                    const msgpack_object *data)
{
    bo_responder *rs = ud;
    (void)code;
    rs->replies--;
    rs->skey_asked = false;
    if (!rs->dead && !err) {
        char why[200] = "";
        if (bo_server_key_parse(data, &rs->skey, why, sizeof(why)) == BO_E_OK)
            rs->have_skey = true;
        else
            status(rs, BO_RESP_IGNORED, "", NULL, BO_E_MALFORMED, NULL, why, BO_STAGE_OK, NULL);
        if (rs->have_skey)
            handle_waiting(rs);
    } else if (!rs->dead && err != BO_E_CANCELED) {
        status(rs, BO_RESP_IGNORED, "", NULL, err, code, msg, BO_STAGE_OK, NULL);
    }
    maybe_free(rs);
}

static void ask_key(bo_responder *rs)
{
    if (rs->have_skey || rs->skey_asked || !joined(rs))
        return;
    if (bo_client_server_key(rs->c, on_skey, rs) == BO_E_OK) {
        rs->skey_asked = true;
        rs->replies++;
    }
}

/* ---- sending ---- */

static void on_response_reply(void *ud, bo_err err, const char *code, const char *msg,
                              const msgpack_object *data);
static void on_diag_reply(void *ud, bo_err err, const char *code, const char *msg,
                          const msgpack_object *data);

/* A reply's context: which request it answers. */
typedef struct reply_ctx {
    bo_responder *rs;
    char req[33];
    uint8_t bid[32];
    bo_stage stage;
    bo_preflight_result diag;
} reply_ctx;

static void send_result(bo_responder *rs, job *j)
{
    tracked *t = track_find(rs, j->req);
    if (!t || t->st != T_WORK)
        return;
    if (!joined(rs)) {
        t->st = T_NEW; /* the snapshot after the reconnect brings it again */
        return;
    }
    if (j->err) {
        t->st = T_DONE;
        rs->stats.ignored++;
        status(rs, BO_RESP_IGNORED, j->req, j->r->bid, j->err, NULL,
               "could not build the answer", BO_STAGE_OK, NULL);
        return;
    }
    reply_ctx *rc = calloc(1, sizeof(*rc));
    if (!rc) {
        t->st = T_NEW;
        return;
    }
    rc->rs = rs;
    memcpy(rc->req, j->req, sizeof(rc->req));
    memcpy(rc->bid, j->r->bid, 32);
    rc->stage = j->diag.stage;
    rc->diag = j->diag;
    bo_err err;
    if (j->diag.stage == BO_STAGE_OK) {
        bo_msg m = {.type = BO_MSG_DECRYPT_RESPONSE};
        m.u.decrypt_response.oid = rs->oid;
        m.u.decrypt_response.req = j->req;
        m.u.decrypt_response.client_pub = (bo_bytes){j->blob + 1, 32};
        m.u.decrypt_response.wrapped = (bo_bytes){j->blob, BO_HANDOFF_BLOB_LEN};
        m.u.decrypt_response.sig = (bo_bytes){j->sig.data, j->sig.len};
        err = bo_client_request(rs->c, &m, on_response_reply, rc);
    } else {
        bo_msg m = {.type = BO_MSG_DECRYPT_FAILED};
        m.u.decrypt_failed.oid = rs->oid;
        m.u.decrypt_failed.req = j->req;
        m.u.decrypt_failed.stage = bo_stage_name(j->diag.stage);
        m.u.decrypt_failed.error = j->diag.wire;
        m.u.decrypt_failed.cert_fpr = (bo_bytes){rs->held_fpr, 32};
        m.u.decrypt_failed.sig = (bo_bytes){j->sig.data, j->sig.len};
        err = bo_client_request(rs->c, &m, on_diag_reply, rc);
    }
    if (err) {
        free(rc);
        t->st = T_NEW;
        return;
    }
    rs->replies++;
    t->st = T_SENT;
    if (j->diag.stage == BO_STAGE_OK) {
        rs->stats.sent++;
        status(rs, BO_RESP_SENT, j->req, j->r->bid, BO_E_OK, NULL,
               "the bid's key went to the server, which is opening the bid", BO_STAGE_OK, NULL);
    }
}

static void on_response_reply(void *ud, bo_err err, const char *code, const char *msg,
                              const msgpack_object *data)
{
    (void)data;
    reply_ctx *rc = ud;
    bo_responder *rs = rc->rs;
    rs->replies--;
    tracked *t = rs->dead ? NULL : track_find(rs, rc->req);
    if (t && t->st == T_SENT) {
        if (err == BO_E_CANCELED) {
            t->st = T_NEW; /* after the reconnect: me.req brings it again */
        } else if (!err || err == BO_E_ALREADY_DONE) {
            t->st = T_DONE;
            rs->stats.opened++;
            status(rs, BO_RESP_OPENED, rc->req, rc->bid, BO_E_OK, NULL,
                   err ? "the bid was already open" : "the server opened the bid", BO_STAGE_OK,
                   NULL);
        } else if (err == BO_E_DUPLICATE_ID) {
            t->st = T_SENT; /* the server is already on it; its event will tell */
        } else {
            /* E_NOT_FOUND: the request expired on that node and a new one follows */
            t->st = T_DONE;
            rs->stats.refused++;
            status(rs, BO_RESP_REFUSED, rc->req, rc->bid, err, code, msg, BO_STAGE_OK, NULL);
        }
    }
    free(rc);
    maybe_free(rs);
}

static void on_diag_reply(void *ud, bo_err err, const char *code, const char *msg,
                          const msgpack_object *data)
{
    (void)data;
    (void)msg;
    reply_ctx *rc = ud;
    bo_responder *rs = rc->rs;
    rs->replies--;
    tracked *t = rs->dead ? NULL : track_find(rs, rc->req);
    if (t && t->st == T_SENT) {
        if (err == BO_E_CANCELED) {
            t->st = T_NEW;
        } else {
            t->st = T_DONE;
            rs->stats.failed++;
            status(rs, BO_RESP_FAILED, rc->req, rc->bid, err, code, rc->diag.msg, rc->stage,
                   &rc->diag);
        }
    }
    free(rc);
    maybe_free(rs);
}

/* ---- the job ---- */

static void do_job(uv_work_t *w)
{
    job *j = w->data;
    bo_responder *rs = j->rs;
    bo_secret *cek = NULL;
    if (j->rec.seal.oid[0]) /* else: no record, the diagnostics say so already */
        bo_responder_unwrap(&j->rec, rs->key, rs->key_error, rs->held, rs->held_len, &cek,
                            &j->diag);
    bo_buf payload;
    bo_buf_init(&payload, 4096);
    bo_err err = BO_E_OK;
    if (j->diag.stage == BO_STAGE_OK) {
        bo_handoff_bind b = {rs->oid, j->req, j->r->bid, j->r->ri, j->r->ri_len};
        bo_buf blob;
        bo_buf_init(&blob, BO_HANDOFF_BLOB_LEN);
        err = bo_handoff_client_wrap(&b, j->r->server_pub, cek, &blob);
        if (!err && blob.len != BO_HANDOFF_BLOB_LEN)
            err = BO_E_INTERNAL;
        if (!err)
            memcpy(j->blob, blob.data, BO_HANDOFF_BLOB_LEN);
        bo_buf_cleanup(&blob);
        if (!err)
            err = bo_sigpayload_decrypt_response(&payload, rs->oid, rs->uscc, j->req, j->r->bid,
                                                 j->blob + 1, j->blob, BO_HANDOFF_BLOB_LEN);
        if (!err)
            err = bo_key_sign(rs->sign_key, BO_CTX_DECRYPT_RESPONSE, payload.data, payload.len,
                              &j->sig);
    } else {
        err = bo_sigpayload_decrypt_diag(&payload, rs->oid, rs->uscc, j->req,
                                         bo_stage_name(j->diag.stage), j->diag.wire,
                                         rs->held_fpr);
        if (!err)
            err = bo_key_sign(rs->sign_key, BO_CTX_DECRYPT_DIAG, payload.data, payload.len,
                              &j->sig);
    }
    bo_secret_free(cek);
    bo_buf_cleanup(&payload);
    j->err = err;
}

static void after_job(uv_work_t *w, int st)
{
    job *j = w->data;
    bo_responder *rs = j->rs;
    rs->jobs--;
    if (st == UV_ECANCELED && !j->err)
        j->err = BO_E_CANCELED;
    if (!rs->dead)
        send_result(rs, j);
    bo_bid_record_cleanup(&j->rec);
    bo_buf_cleanup(&j->sig);
    free(j);
    maybe_free(rs);
}

/* ---- one request ---- */

static void handle(bo_responder *rs, tracked *t)
{
    if (rs->dead || !t->r)
        return;
    bo_responder_request *r = t->r;
    if (!rs->have_skey) {
        t->st = T_WAIT_KEY;
        ask_key(rs);
        return;
    }
    if (!rs->recs_loaded)
        load_records(rs);
    bo_time_ms now = rs->c ? bo_client_server_now(rs->c) : 0;
    if (rs->started_at && now < rs->started_at)
        now = rs->started_at; /* the log says it started; our clock estimate is behind */
    size_t idx = 0;
    char why[400] = "";
    bo_err err = bo_responder_check(r, rs->oid, rs->uscc, &rs->skey, rs->recs, rs->n_recs,
                                    rs->started_at, now, &idx, why, sizeof(why));
    if (err == BO_E_NOT_MY_ENVELOPE) { /* submitted since the records were read? */
        load_records(rs);
        err = bo_responder_check(r, rs->oid, rs->uscc, &rs->skey, rs->recs, rs->n_recs,
                                 rs->started_at, now, &idx, why, sizeof(why));
    }
    if (err == BO_E_TOO_EARLY) {
        if (t->st != T_WAIT_PHASE)
            status(rs, BO_RESP_WAITING, t->req, r->bid, err, NULL, why, BO_STAGE_OK, NULL);
        t->st = T_WAIT_PHASE;
        return;
    }
    if (!joined(rs)) {
        t->st = T_NEW;
        return;
    }
    job *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    j->rs = rs;
    j->r = r;
    memcpy(j->req, t->req, sizeof(j->req));
    bo_buf_init(&j->sig, BO_SIG_MAX);
    if (err == BO_E_NOT_MY_ENVELOPE) {
        /* no unwrap at all; the diagnostics say why (evidence for the host) */
        j->diag.stage = BO_STAGE_OTHER;
        j->diag.err = err;
        snprintf(j->diag.msg, sizeof(j->diag.msg), "%s", why);
        snprintf(j->diag.wire, sizeof(j->diag.wire),
                 "no local record of this bid: the client refuses to unwrap it");
    } else if (err) {
        bo_buf_cleanup(&j->sig);
        free(j);
        t->st = T_DONE;
        rs->stats.ignored++;
        status(rs, BO_RESP_IGNORED, t->req, r->bid, err, NULL, why, BO_STAGE_OK, NULL);
        return;
    } else if (bo_bid_record_copy(&j->rec, &rs->recs[idx]) != BO_E_OK) {
        bo_buf_cleanup(&j->sig);
        free(j);
        return;
    }
    j->w.data = j;
    if (uv_queue_work(rs->loop, &j->w, do_job, after_job)) {
        bo_bid_record_cleanup(&j->rec);
        bo_buf_cleanup(&j->sig);
        free(j);
        return;
    }
    rs->jobs++;
    t->st = T_WORK;
}

/* A request body from an event or a snapshot. */
static void take_request(bo_responder *rs, const msgpack_object *body)
{
    bo_responder_request *r = malloc(sizeof(*r));
    if (!r)
        return;
    char why[200] = "";
    bo_err err = bo_responder_request_parse(body, r, why, sizeof(why));
    if (err) {
        free(r);
        rs->stats.ignored++;
        status(rs, BO_RESP_IGNORED, "", NULL, err, NULL, why, BO_STAGE_OK, NULL);
        return;
    }
    if (strcmp(r->uscc, rs->uscc) != 0) {
        free(r);
        return; /* supervisors see every stream; a bidder only its own */
    }
    tracked *t = track_find(rs, r->req);
    if (t && t->st != T_NEW) {
        free(r);
        return; /* handled or in hand */
    }
    if (!t) {
        t = track_new(rs, r->req);
        if (!t) {
            free(r);
            return;
        }
        rs->stats.requests++;
        status(rs, BO_RESP_REQUEST, r->req, r->bid, BO_E_OK, NULL, NULL, BO_STAGE_OK, NULL);
        if (rs->dead)
            return;
    }
    free(t->r);
    t->r = r;
    handle(rs, t);
}

/* ---- hooks ---- */

static void note_phase(bo_responder *rs, const char *p, size_t n, bo_time_ms at)
{
    bool dec = n == 10 && !memcmp(p, "decrypting", 10);
    if (dec && !rs->started_at)
        rs->started_at = at;
}

static void hook_state(void *ud, bo_client_state st)
{
    bo_responder *rs = ud;
    if (st == BO_CLIENT_JOINED) {
        const bo_client_identity *me = bo_client_whoami(rs->c);
        if (me && me->uscc[0] && strcmp(rs->uscc, me->uscc) != 0) {
            snprintf(rs->uscc, sizeof(rs->uscc), "%s", me->uscc);
            rs->recs_loaded = false;
        }
        ask_key(rs);
        handle_waiting(rs);
    }
}

static void hook_snapshot(void *ud, const msgpack_object *snap, bool recovered)
{
    bo_responder *rs = ud;
    (void)recovered;
    const bo_client_identity *me = bo_client_whoami(rs->c);
    if (me && me->uscc[0] && strcmp(rs->uscc, me->uscc) != 0) {
        snprintf(rs->uscc, sizeof(rs->uscc), "%s", me->uscc);
        rs->recs_loaded = false;
    }
    const char *p;
    size_t n;
    int64_t now = 0;
    bo_mpo_i64(snap, "now", &now);
    if (bo_mpo_str(snap, "phase", &p, &n))
        note_phase(rs, p, n, now ? now : bo_client_server_now(rs->c));
    const msgpack_object *mine = bo_mpo_get(snap, "me");
    const msgpack_object *req = mine ? bo_mpo_get(mine, "req") : NULL;
    ask_key(rs);
    if (req && req->type == MSGPACK_OBJECT_MAP)
        take_request(rs, req);
}

static void hook_event(void *ud, const bo_client_event *ev)
{
    bo_responder *rs = ud;
    const char *p;
    size_t n;
    if (!strcmp(ev->kind, "decryption_started")) {
        note_phase(rs, "decrypting", 10, ev->ts);
        handle_waiting(rs);
    } else if (!strcmp(ev->kind, "phase_changed") && bo_mpo_str(ev->body, "to", &p, &n)) {
        note_phase(rs, p, n, ev->ts);
        handle_waiting(rs);
    } else if (!strcmp(ev->kind, "decrypt_request")) {
        take_request(rs, ev->body);
    } else if (!strcmp(ev->kind, "bid_decrypted") && bo_mpo_str(ev->body, "uscc", &p, &n) &&
               n == strlen(rs->uscc) && !memcmp(p, rs->uscc, n)) {
        /* the server opened it (also when the reply was lost) */
        for (size_t i = 0; i < MAX_TRACKED; i++) {
            tracked *t = &rs->t[i];
            if (t->used && t->st != T_DONE && t->st != T_WORK && t->r) {
                t->st = T_DONE;
                rs->stats.opened++;
                status(rs, BO_RESP_OPENED, t->req, t->r->bid, BO_E_OK, NULL,
                       "the server opened the bid", BO_STAGE_OK, NULL);
            }
        }
    }
}

static void hook_detach(void *ud)
{
    bo_responder *rs = ud;
    rs->c = NULL;
}

bo_responder *bo_responder_new(bo_client *c, const bo_responder_opts *o, bo_err *err)
{
    *err = BO_E_INVALID_ARG;
    if (!c || !o || bo__client_dead(c) || !bo__client_oid(c) || !bo__client_key(c))
        return NULL;
    void **slot = bo__client_slot(c, BO__CLIENT_SLOT_RESPONDER);
    if (*slot) {
        *err = BO_E_EXISTS;
        return NULL;
    }
    const uint8_t *held = o->enc_cert;
    size_t held_len = o->enc_cert_len;
    if (!held) {
        bo_bytes_list ec = bo__client_enc_chain(c);
        if (ec.n) {
            held = ec.v[0].p;
            held_len = ec.v[0].len;
        }
    }
    bo_responder *rs = calloc(1, sizeof(*rs));
    if (!rs) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    rs->c = c;
    rs->loop = bo__client_loop(c);
    snprintf(rs->oid, sizeof(rs->oid), "%s", bo__client_oid(c));
    const bo_client_identity *me = bo_client_whoami(c);
    if (me && me->uscc[0])
        snprintf(rs->uscc, sizeof(rs->uscc), "%s", me->uscc);
    rs->key = o->enc_key;
    rs->sign_key = bo__client_key(c);
    rs->key_error = o->key_error ? strdup(o->key_error) : NULL;
    rs->store_dir = o->store_dir ? strdup(o->store_dir) : NULL;
    rs->on_status = o->on_status;
    rs->ud = o->ud;
    bool nomem = (o->key_error && !rs->key_error) || (o->store_dir && !rs->store_dir);
    if (held && !nomem) {
        rs->held = malloc(held_len);
        nomem = !rs->held;
        if (rs->held) {
            memcpy(rs->held, held, held_len);
            rs->held_len = held_len;
            bo_cert_fpr(held, held_len, rs->held_fpr);
        }
    }
    if (!nomem && o->n_records) {
        rs->extra = calloc(o->n_records, sizeof(*rs->extra));
        nomem = !rs->extra;
        for (size_t i = 0; !nomem && i < o->n_records; i++) {
            nomem = bo_bid_record_copy(&rs->extra[i], &o->records[i]) != BO_E_OK;
            if (!nomem)
                rs->n_extra = i + 1;
        }
    }
    if (nomem) {
        rs->dead = true;
        maybe_free(rs);
        *err = BO_E_NOMEM;
        return NULL;
    }
    if (!rs->held && o->n_records) /* diagnostics name the sealed certificate instead */
        memcpy(rs->held_fpr, o->records[0].enc_fpr, 32);
    rs->hook.ud = rs;
    rs->hook.on_state = hook_state;
    rs->hook.on_snapshot = hook_snapshot;
    rs->hook.on_event = hook_event;
    rs->hook.on_detach = hook_detach;
    bo__client_hook_add(c, &rs->hook);
    *slot = rs;
    *err = BO_E_OK;
    if (bo_client_state_get(c) == BO_CLIENT_JOINED)
        bo__client_kick(c, "the decryption responder needs a fresh snapshot");
    return rs;
}

void bo_responder_free(bo_responder *rs)
{
    if (!rs || rs->dead)
        return;
    rs->dead = true;
    if (rs->c) {
        bo__client_hook_remove(rs->c, &rs->hook);
        void **slot = bo__client_slot(rs->c, BO__CLIENT_SLOT_RESPONDER);
        if (*slot == rs)
            *slot = NULL;
    }
    maybe_free(rs);
}

void bo_responder_get_stats(const bo_responder *rs, bo_responder_stats *out)
{
    *out = rs->stats;
}
