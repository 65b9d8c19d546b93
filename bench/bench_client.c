/* bo-bench: clients through libbidopen-client: the host, requests waited for, sealed bids,
 * their upload and the answer to a decryption request. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "bo/cek.h"
#include "bo/clock.h"
#include "bo/handoff.h"
#include "bo/package.h"
#include "bo/secret.h"
#include "bo/sigpayload.h"
#include "bo/tender_json.h"
#include "bo/wire.h"

/* ------------------------------------------------------------- context ---- */

bo_client_ctx *bn_ctx_new(uv_loop_t *loop, const char *pki, unsigned max_clients)
{
    char ca[700];
    snprintf(ca, sizeof(ca), "%s/server/ca.pem", pki);
    bn_raise_nofile(max_clients + 64u);
    bo_client_ctx_opts o = {.ca_file = ca, .max_clients = 0};
    bo_err e;
    bo_client_ctx *ctx = bo_client_ctx_new(loop, &o, &e);
    if (!ctx)
        BN_DIE("client context: %s", bo_strerror(e));
    return ctx;
}

static void on_close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    (void)h;
}

void bn_ctx_free(bo_client_ctx *ctx, uv_loop_t *loop)
{
    bo_client_ctx_free(ctx);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_walk(loop, on_close_walk, NULL);
}

/* -------------------------------------------------------------- replies ---- */

void bn_reply_init(bn_reply *r)
{
    memset(r, 0, sizeof(*r));
    bo_buf_init(&r->data, 8u << 20);
}

void bn_reply_cleanup(bn_reply *r)
{
    bo_buf_cleanup(&r->data);
}

void bn_reply_cb(void *ud, bo_err err, const char *code, const char *msg,
                 const msgpack_object *data)
{
    bn_reply *r = ud;
    r->t_ns = bn_real_ns();
    r->done = true;
    r->err = err;
    snprintf(r->code, sizeof(r->code), "%s", code ? code : "");
    snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
    bo_buf_reset(&r->data);
    if (data)
        bo_mp_canonical(&r->data, data);
}

static bool reply_done(void *ud)
{
    return ((bn_reply *)ud)->done;
}

bo_err bn_reply_wait(uv_loop_t *loop, bn_reply *r, int timeout_ms)
{
    if (!bn_run_until(loop, reply_done, r, timeout_ms))
        return BO_E_TIMEOUT;
    return r->err;
}

static bool reply_obj(const bn_reply *r, msgpack_zone **z, msgpack_object *o)
{
    if (!r->data.len)
        return false;
    return bo_mp_parse(r->data.data, r->data.len, z, o) == BO_E_OK;
}

bool bn_reply_str(const bn_reply *r, const char *key, char *out, size_t n)
{
    msgpack_zone *z = NULL;
    msgpack_object o;
    if (!reply_obj(r, &z, &o))
        return false;
    const char *s;
    size_t len;
    bool ok = bo_mpo_str(&o, key, &s, &len) && len < n;
    if (ok) {
        memcpy(out, s, len);
        out[len] = 0;
    }
    msgpack_zone_free(z);
    return ok;
}

bool bn_reply_u64(const bn_reply *r, const char *key, uint64_t *v)
{
    msgpack_zone *z = NULL;
    msgpack_object o;
    if (!reply_obj(r, &z, &o))
        return false;
    bool ok = bo_mpo_u64(&o, key, v);
    msgpack_zone_free(z);
    return ok;
}

bool bn_reply_i64(const bn_reply *r, const char *key, int64_t *v)
{
    msgpack_zone *z = NULL;
    msgpack_object o;
    if (!reply_obj(r, &z, &o))
        return false;
    bool ok = bo_mpo_i64(&o, key, v);
    msgpack_zone_free(z);
    return ok;
}

/* ----------------------------------------------------------------- host ---- */

static void mp_str(const msgpack_object *m, const char *key, char *out, size_t n)
{
    const char *s;
    size_t len;
    if (m && bo_mpo_str(m, key, &s, &len) && len < n) {
        memcpy(out, s, len);
        out[len] = 0;
    }
}

static void host_state(void *ud, bo_client_state st, bo_err err, const char *code,
                       const char *msg)
{
    bn_host *h = ud;
    h->st = st;
    if (st == BO_CLIENT_FAILED || (st == BO_CLIENT_BACKOFF && err))
        fprintf(stderr, "bo-bench: host connection %s: %s %s\n", bo_client_state_name(st),
                code ? code : bo_strerror(err), msg ? msg : "");
}

static void host_snapshot(void *ud, const msgpack_object *snap, bool recovered)
{
    bn_host *h = ud;
    (void)recovered;
    mp_str(snap, "phase", h->phase, sizeof(h->phase));
    bool p = false;
    if (bo_mpo_bool(snap, "paused", &p))
        h->paused = p;
}

static void host_event(void *ud, const bo_client_event *ev)
{
    bn_host *h = ud;
    if (!strcmp(ev->st, "pub"))
        h->last_pub_seq = ev->seq;
    snprintf(h->last_kind, sizeof(h->last_kind), "%s", ev->kind);
    if (!strcmp(ev->kind, "phase_changed")) {
        mp_str(ev->body, "to", h->phase, sizeof(h->phase));
        h->phase_ts = ev->ts;
    }
    else if (!strcmp(ev->kind, "paused"))
        h->paused = true;
    else if (!strcmp(ev->kind, "resumed"))
        h->paused = false;
    if (h->on_event)
        h->on_event(h->ud, ev);
}

static bool host_up(void *ud)
{
    bn_host *h = ud;
    return h->st == BO_CLIENT_READY || h->st == BO_CLIENT_JOINED || h->st == BO_CLIENT_FAILED;
}

int bn_host_open(bn_host *h, bo_client_ctx *ctx, const char *url, const char *pki,
                 const char *who, const char *role, const char *oid, int timeout_ms)
{
    void (*keep_cb)(void *, const bo_client_event *) = h->on_event;
    void *keep_ud = h->ud;
    memset(h, 0, sizeof(*h));
    h->on_event = keep_cb;
    h->ud = keep_ud;
    h->loop = bo_client_ctx_loop(ctx);
    if (!bn_staff_load(pki, who, &h->cred))
        BN_DIE("cannot load the credentials of %s from %s/staff", who, pki);
    const char *urls[1] = {url};
    bo_client_opts o = {.urls = urls,
                        .n_urls = 1,
                        .role = role,
                        .key = h->cred.key,
                        .chain = h->cred.chain.list,
                        .oid = oid,
                        .max_retries = 5,
                        .queue_max = 1024,
                        .cb = {.on_state = host_state,
                               .on_snapshot = host_snapshot,
                               .on_event = host_event},
                        .ud = h};
    bo_err e;
    h->c = bo_client_new(ctx, &o, &e);
    if (!h->c)
        BN_DIE("host client: %s", bo_strerror(e));
    bo_client_start(h->c);
    bn_run_until(h->loop, host_up, h, timeout_ms);
    if (h->st != BO_CLIENT_READY && h->st != BO_CLIENT_JOINED) {
        fprintf(stderr, "bo-bench: the %s could not connect (%s)\n", who,
                bo_client_state_name(h->st));
        return -1;
    }
    return 0;
}

void bn_host_close(bn_host *h)
{
    bo_client_free(h->c);
    h->c = NULL;
    bn_staff_free(&h->cred);
}

bo_err bn_host_create(bn_host *h, const char *tender_json, char oid[65])
{
    bo_buf mp;
    bo_buf_init(&mp, 1 << 20);
    char detail[256] = "";
    bo_err e = bo_tender_json_to_mp(tender_json, strlen(tender_json), bo_client_server_now(h->c),
                                    &mp, detail, sizeof(detail));
    if (e) {
        fprintf(stderr, "bo-bench: tender: %s\n", detail);
        bo_buf_cleanup(&mp);
        return e;
    }
    bn_reply r;
    bn_reply_init(&r);
    e = bo_client_create(h->c, mp.data, mp.len, bn_reply_cb, &r);
    if (!e)
        e = bn_reply_wait(h->loop, &r, 30000);
    if (!e && !bn_reply_str(&r, "oid", oid, 65))
        e = BO_E_MALFORMED;
    if (e)
        fprintf(stderr, "bo-bench: create: %s %s\n", r.code, r.msg);
    bn_reply_cleanup(&r);
    bo_buf_cleanup(&mp);
    return e;
}

typedef struct phase_wait {
    bn_host *h;
    const char *phase;
} phase_wait;

static bool phase_is(void *ud)
{
    phase_wait *w = ud;
    return !strcmp(w->h->phase, w->phase);
}

bool bn_host_wait_phase(bn_host *h, const char *phase, int timeout_ms)
{
    phase_wait w = {h, phase};
    return bn_run_until(h->loop, phase_is, &w, timeout_ms);
}

int64_t bn_tender_json(char *out, size_t n, const char *oid, const char *title, int64_t deadline_ms,
                    unsigned min_bidders, unsigned window_s)
{
    bo_time_ms now = bo_clock_now_ms();
    char oidpart[96] = "";
    if (oid)
        snprintf(oidpart, sizeof(oidpart), "\"oid\": \"%s\", ", oid);
    snprintf(out, n,
             "{%s\"title\": \"%s\", \"checkin_at\": %lld, \"deadline\": %lld, "
             "\"min_bidders\": %u, \"decrypt_window_s\": %u, "
             "\"fields\": [{\"key\": \"price\", \"label\": \"price\", \"type\": \"decimal\"}]}",
             oidpart, title, (long long)(now - 1000), (long long)(now + deadline_ms),
             min_bidders ? min_bidders : 1, window_s ? window_s : 1800);
    return now + deadline_ms;
}

/* ----------------------------------------------------------------- bids ---- */

int bn_sparse_file(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int r = ftruncate(fd, (off_t)size);
    close(fd);
    return r;
}

int bn_bid_make(bn_bid *b, const bn_bidder_cred *cred, const char *oid, const char *doc_path,
                const char *out_path, const char *price)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->path, sizeof(b->path), "%s", out_path);
    bo_package_field form[1] = {{"price", price}};
    bo_package_doc docs[1] = {{.name = "bid-documents.pdf", .path = doc_path}};
    bo_package_spec spec = {.oid = oid,
                            .uscc = cred->uscc,
                            .form = form,
                            .n_form = 1,
                            .docs = docs,
                            .n_docs = 1,
                            .sign_cert_der = cred->chain.list.v[0].p,
                            .sign_cert_len = cred->chain.list.v[0].len};
    bo_seal_opts so = {.cipher = BO_SEAL_AES256_GCM, .oid = oid, .uscc = cred->uscc};
    bo_bytes cert = cred->enc_chain.list.v[0];
    char detail[256] = "";
    int64_t t0 = bn_mono_ns();
    bo_err e = bo_seal_package(&spec, cred->key, &so, &cert, 1, out_path, &b->res, detail,
                               sizeof(detail));
    b->seal_ms = (bn_mono_ns() - t0) / 1000000;
    if (e) {
        fprintf(stderr, "bo-bench: sealing a bid: %s: %s\n", bo_strerror(e), detail);
        return -1;
    }
    b->size = b->res.record.env_size;
    memcpy(b->hash, b->res.record.env_sha256, 32);
    return 0;
}

void bn_bid_cleanup(bn_bid *b)
{
    if (b->path[0])
        unlink(b->path);
    bo_seal_result_cleanup(&b->res);
    memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- upload ---- */

typedef struct upload {
    uv_loop_t *loop;
    bo_client *c;
    const char *oid;
    char upload_id[72];
    int fd;
    uint64_t size, sent, acked;
    unsigned window, inflight;
    uint8_t *chunk;
    bo_err err;
    char detail[256];
    bool failed;
} upload;

static void chunk_reply(void *ud, bo_err err, const char *code, const char *msg,
                        const msgpack_object *data)
{
    upload *u = ud;
    u->inflight--;
    uint64_t off = 0;
    if (err || !data || !bo_mpo_u64(data, "offset", &off)) {
        if (!u->failed) {
            u->failed = true;
            u->err = err ? err : BO_E_MALFORMED;
            snprintf(u->detail, sizeof(u->detail), "submit_chunk: %s %s", code ? code : "",
                     msg ? msg : "");
        }
        return;
    }
    if (off > u->acked)
        u->acked = off;
}

static bool upload_pump(void *ud)
{
    upload *u = ud;
    while (!u->failed && u->inflight < u->window && u->sent < u->size) {
        size_t len = u->size - u->sent > BO_WIRE_CHUNK_MAX ? BO_WIRE_CHUNK_MAX
                                                           : (size_t)(u->size - u->sent);
        ssize_t r = pread(u->fd, u->chunk, len, (off_t)u->sent);
        if (r != (ssize_t)len) {
            u->failed = true;
            u->err = BO_E_IO;
            snprintf(u->detail, sizeof(u->detail), "reading the envelope failed");
            break;
        }
        bo_msg m;
        memset(&m, 0, sizeof(m));
        m.type = BO_MSG_SUBMIT_CHUNK;
        m.u.submit_chunk.oid = u->oid;
        m.u.submit_chunk.upload = u->upload_id;
        m.u.submit_chunk.offset = u->sent;
        m.u.submit_chunk.data = (bo_bytes){u->chunk, len};
        bo_err e = bo_client_request(u->c, &m, chunk_reply, u);
        if (e == BO_E_TOO_BIG)
            break; /* the queue is full: wait for replies */
        if (e) {
            u->failed = true;
            u->err = e;
            snprintf(u->detail, sizeof(u->detail), "submit_chunk: %s", bo_strerror(e));
            break;
        }
        u->inflight++;
        u->sent += len;
    }
    return u->failed || (u->acked == u->size && !u->inflight);
}

bo_err bn_submit(uv_loop_t *loop, bo_client *c, const char *oid, const bn_bid *b,
                 unsigned window, int64_t *ms_out, char *detail, size_t n)
{
    int64_t t0 = bn_mono_ns();
    upload u = {.loop = loop, .c = c, .oid = oid, .size = b->size, .window = window ? window : 8};
    bn_reply r;
    bn_reply_init(&r);
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_SUBMIT_BEGIN;
    m.u.submit_begin.oid = oid;
    m.u.submit_begin.size = b->size;
    m.u.submit_begin.hash = (bo_bytes){b->hash, 32};
    m.u.submit_begin.commit = (bo_bytes){b->res.record.commitment, 32};
    bo_err e = bo_client_request(c, &m, bn_reply_cb, &r);
    if (!e)
        e = bn_reply_wait(loop, &r, 60000);
    if (!e && (!bn_reply_str(&r, "upload", u.upload_id, sizeof(u.upload_id)) ||
               !bn_reply_u64(&r, "offset", &u.acked)))
        e = BO_E_MALFORMED;
    if (e) {
        snprintf(detail, n, "submit_begin: %s %s %s", bo_strerror(e), r.code, r.msg);
        bn_reply_cleanup(&r);
        return e;
    }
    u.sent = u.acked;
    u.fd = open(b->path, O_RDONLY | O_CLOEXEC);
    u.chunk = malloc(BO_WIRE_CHUNK_MAX);
    if (u.fd < 0 || !u.chunk) {
        snprintf(detail, n, "cannot read %s", b->path);
        if (u.fd >= 0)
            close(u.fd);
        free(u.chunk);
        bn_reply_cleanup(&r);
        return BO_E_IO;
    }
    /* generous: a multi-GB upload on a loaded machine */
    bn_run_until(loop, upload_pump, &u, 3600 * 1000);
    /* wait for the replies of chunks still in flight before leaving (they point at u) */
    while (u.inflight && bo_client_state_get(c) == BO_CLIENT_JOINED)
        uv_run(loop, UV_RUN_ONCE);
    close(u.fd);
    free(u.chunk);
    if (u.failed || u.acked != u.size) {
        snprintf(detail, n, "%s", u.failed ? u.detail : "upload incomplete");
        bn_reply_cleanup(&r);
        return u.failed ? u.err : BO_E_TIMEOUT;
    }
    bn_reply_cleanup(&r);
    bn_reply_init(&r);
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_SUBMIT_COMMIT;
    m.u.submit_commit.oid = oid;
    m.u.submit_commit.upload = u.upload_id;
    e = bo_client_request(c, &m, bn_reply_cb, &r);
    if (!e)
        e = bn_reply_wait(loop, &r, 600000);
    if (e)
        snprintf(detail, n, "submit_commit: %s %s %s", bo_strerror(e), r.code, r.msg);
    bn_reply_cleanup(&r);
    if (ms_out)
        *ms_out = (bn_mono_ns() - t0) / 1000000;
    return e;
}

/* ------------------------------------------------------ decryption answer ---- */

bo_err bn_decrypt_respond(bo_client *c, const char *oid, const bn_bidder_cred *cred,
                          const msgpack_object *body, bo_client_reply_cb cb, void *ud)
{
    const char *req;
    size_t req_len;
    const uint8_t *bid, *ri, *server_pub;
    size_t bid_len, ri_len, pub_len;
    if (!bo_mpo_str(body, "req", &req, &req_len) || req_len != 32 ||
        !bo_mpo_bin(body, "bid", &bid, &bid_len) || bid_len != 32 ||
        !bo_mpo_bin(body, "ri", &ri, &ri_len) ||
        !bo_mpo_bin(body, "server_pub", &server_pub, &pub_len) || pub_len != 32)
        return BO_E_MALFORMED;
    char rid[33];
    memcpy(rid, req, 32);
    rid[32] = 0;
    const bo_bytes *ec = &cred->enc_chain.list.v[0];
    bo_secret *cek = NULL;
    bo_err e = bo_cek_unwrap(ri, ri_len, cred->enc_key, ec->p, ec->len, &cek);
    if (e)
        return e;
    bo_handoff_bind b = {oid, rid, bid, ri, ri_len};
    bo_buf blob, payload, sig;
    bo_buf_init(&blob, 256);
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, 4096);
    e = bo_handoff_client_wrap(&b, server_pub, cek, &blob);
    bo_secret_free(cek);
    if (!e)
        e = bo_sigpayload_decrypt_response(&payload, oid, cred->uscc, rid, bid, blob.data + 1,
                                           blob.data, blob.len);
    if (!e)
        e = bo_key_sign(cred->key, BO_CTX_DECRYPT_RESPONSE, payload.data, payload.len, &sig);
    if (!e) {
        bo_msg m;
        memset(&m, 0, sizeof(m));
        m.type = BO_MSG_DECRYPT_RESPONSE;
        m.u.decrypt_response.oid = oid;
        m.u.decrypt_response.req = rid;
        m.u.decrypt_response.client_pub = (bo_bytes){blob.data + 1, 32};
        m.u.decrypt_response.wrapped = (bo_bytes){blob.data, blob.len};
        m.u.decrypt_response.sig = (bo_bytes){sig.data, sig.len};
        e = bo_client_request(c, &m, cb, ud);
    }
    bo_buf_cleanup(&blob);
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return e;
}
