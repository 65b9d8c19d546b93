/* bidopen-server: remote decryption (docs/protocol.md §10).
 *
 * Requests: when decryption starts (and when a bidder signs in during it, or a request must
 * be issued again), the room's pipeline makes one fresh X25519 key per bid, signs the
 * request and appends it; the private key stays in this node's memory (never in Redis).
 * A response that reaches a node without the key (restart, another node) gets a new
 * request, issued by that node.
 *
 * Responses: on the worker pool, the bidder's signature is checked, the CEK unwrapped and
 * checked against the key commitment recorded at submission, the bid decrypted streaming
 * (plaintext published only after the tag verified), the package signature verified and the
 * opening form read. At most BO_DECRYPT_PARALLEL bids are opened at once, so that sign-ins
 * and other work keep their share of the pool. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bo/cek.h"
#include "bo/clock.h"
#include "bo/envelope.h"
#include "bo/handoff.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/log.h"
#include "bo/package.h"
#include "bo/secret.h"
#include "bo/sigpayload.h"
#include "bo_server_internal.h"
#include "bo_vault.h"

#define BO_DECRYPT_PARALLEL 2

/* A request's key, held by the room under the request id. */
typedef struct hkey {
    bo_handoff_server *h;
    unsigned busy; /* jobs using it */
    bool dead;     /* answered or superseded: free when not busy */
} hkey;

/* ---------- keys of requests ---------- */

static void hkey_release(hkey *k)
{
    if (k->busy || !k->dead)
        return;
    bo_handoff_server_free(k->h);
    free(k);
}

/* A request is answered: its key leaves the room's map, and is freed once no job uses it. */
static void key_retire(bo_srv *srv, const char *oid, const char *rid, hkey *k)
{
    bo_room *r = srv->rooms ? bo__room_get(srv, oid, false) : NULL;
    if (r && r->handoffs && bo_map_get_str(r->handoffs, rid) == k)
        bo_map_del_str(r->handoffs, rid);
    k->dead = true;
    hkey_release(k);
}

void bo__decrypt_room_free(bo_room *r)
{
    if (!r->handoffs)
        return;
    size_t pos = 0;
    void *v;
    while (bo_map_next(r->handoffs, &pos, NULL, NULL, &v)) {
        hkey *k = v;
        k->dead = true;
        hkey_release(k);
    }
    bo_map_free(r->handoffs);
    r->handoffs = NULL;
}

void bo__decrypt_prep_free(bo_pcmd *p)
{
    for (size_t i = 0; i < p->n_reqs; i++) {
        bo_handoff_server_free(p->hks[i]);
        free(p->req_sigs[i]);
    }
    free(p->reqs);
    free(p->hks);
    free(p->req_sigs);
    p->reqs = NULL;
    p->hks = NULL;
    p->req_sigs = NULL;
    p->n_reqs = 0;
}

/* Make the requests the command will carry (the state is current: the room's pipeline runs
 * one command at a time). */
bo_err bo__decrypt_prepare(bo_room *r, bo_pcmd *p, bo_time_ms now)
{
    bo__decrypt_prep_free(p);
    bo_cmd_type type = p->type;
    if (type != BO_CMD_DECRYPT_START && type != BO_CMD_SIGNIN && type != BO_CMD_DECRYPT_REISSUE)
        return BO_E_OK;
    if (type != BO_CMD_DECRYPT_START && bo_session_phase(r->sess) != BO_PHASE_DECRYPTING)
        return BO_E_OK;
    const char *who = type == BO_CMD_DECRYPT_REISSUE ? p->target_uscc
                      : type == BO_CMD_SIGNIN       ? p->actor.uscc
                                                    : NULL;
    size_t max = 10000;
    char (*due)[19] = calloc(max, sizeof(*due));
    if (!due)
        return BO_E_NOMEM;
    size_t n = bo_session_decrypt_due(r->sess, type == BO_CMD_DECRYPT_REISSUE ? BO_CMD_SIGNIN : type,
                                      who, due, max);
    if (type == BO_CMD_DECRYPT_REISSUE && n == 0 && who) {
        /* a bidder whose request is pending but whose key this node lacks */
        bo_bid_view v;
        if (bo_session_bid(r->sess, who, &v) && !v.decrypted && !v.classified) {
            snprintf(due[0], sizeof(due[0]), "%s", who);
            n = 1;
        }
    }
    bo_time_ms ends_at = 0;
    if (type == BO_CMD_DECRYPT_START) {
        uint32_t w = p->window_s ? p->window_s : bo_session_tender(r->sess)->decrypt_window_s;
        ends_at = now + (bo_time_ms)w * 1000;
    } else {
        unsigned a, b, c;
        bo_session_decrypt_progress(r->sess, &a, &b, &c, &ends_at);
    }
    bo_err err = BO_E_OK;
    p->reqs = calloc(n ? n : 1, sizeof(*p->reqs));
    p->hks = calloc(n ? n : 1, sizeof(*p->hks));
    p->req_sigs = calloc(n ? n : 1, sizeof(*p->req_sigs));
    if (!p->reqs || !p->hks || !p->req_sigs)
        err = BO_E_NOMEM;
    bo_buf payload, sig;
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, 4096);
    for (size_t i = 0; !err && i < n; i++) {
        bo_bid_view v;
        if (!bo_session_bid(r->sess, due[i], &v))
            continue;
        bo_decrypt_req *q = &p->reqs[p->n_reqs];
        uint8_t rnd[16], ri_hash[32];
        bo_handoff_server *h = bo_handoff_server_new(&err);
        if (!h)
            break;
        bo_random_bytes(rnd, sizeof(rnd));
        bo_hex_encode(rnd, sizeof(rnd), q->req);
        snprintf(q->uscc, sizeof(q->uscc), "%s", due[i]);
        memcpy(q->server_pub, bo_handoff_server_pub(h), 32);
        bo_sha256(v.ri.p, v.ri.len, ri_hash);
        bo_buf_reset(&payload);
        bo_buf_reset(&sig);
        err = bo_sigpayload_decrypt_request(&payload, r->oid, q->uscc, q->req, v.hash, ri_hash,
                                            q->server_pub, ends_at);
        if (!err)
            err = bo_key_sign(r->srv->sign_key, BO_CTX_DECRYPT_REQUEST, payload.data,
                              payload.len, &sig);
        if (err) {
            bo_handoff_server_free(h);
            break;
        }
        p->req_sigs[p->n_reqs] = bo_buf_steal(&sig, &q->sig.len);
        q->sig.p = p->req_sigs[p->n_reqs];
        p->hks[p->n_reqs] = h;
        p->n_reqs++;
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    free(due);
    if (err)
        bo__decrypt_prep_free(p);
    return err;
}

/* The command's events are stored: the keys become the room's. */
void bo__decrypt_adopt(bo_room *r, bo_pcmd *p)
{
    bo_err err;
    if (!r->handoffs && !(r->handoffs = bo_map_new(&err)))
        return;
    for (size_t i = 0; i < p->n_reqs; i++) {
        if (!p->hks[i])
            continue;
        bo_bid_view v;
        /* only the requests that apply really issued (the bidder's current one) */
        if (!bo_session_find_request(r->sess, p->reqs[i].req, &v))
            continue;
        hkey *k = calloc(1, sizeof(*k));
        if (!k || bo_map_put_str(r->handoffs, p->reqs[i].req, k)) {
            free(k);
            continue;
        }
        k->h = p->hks[i];
        p->hks[i] = NULL;
    }
}

/* ---------- host commands ---------- */

static bo_room *room_for(bo_conn *c, uint64_t id, const char *oid)
{
    if (!bo_oid_valid(oid)) {
        bo__conn_reply_err(c, true, id, BO_E_BAD_FIELD, "oid: not a valid opening id");
        return NULL;
    }
    bo_room *r = bo__room_get(c->srv, oid, true);
    if (!r)
        bo__conn_reply_err(c, true, id, BO_E_INTERNAL, NULL);
    return r;
}

void bo__decrypt_host_cmd(bo_conn *c, const bo_msg *m)
{
    const char *oid = m->type == BO_MSG_DECRYPT_START    ? m->u.decrypt_start.oid
                      : m->type == BO_MSG_DECRYPT_EXTEND ? m->u.decrypt_extend.oid
                                                         : m->u.classify.oid;
    bo_room *r = room_for(c, m->id, oid);
    if (!r)
        return;
    bo_cmd_type type = m->type == BO_MSG_DECRYPT_START    ? BO_CMD_DECRYPT_START
                       : m->type == BO_MSG_DECRYPT_EXTEND ? BO_CMD_DECRYPT_EXTEND
                                                          : BO_CMD_CLASSIFY;
    bo_pcmd *p = bo__pcmd_from_conn(c, type, m->id);
    if (!p) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    const char *reason = NULL;
    if (m->type == BO_MSG_DECRYPT_START) {
        p->window_s = m->u.decrypt_start.has_window_s ? (uint32_t)m->u.decrypt_start.window_s : 0;
    } else if (m->type == BO_MSG_DECRYPT_EXTEND) {
        p->window_s = (uint32_t)m->u.decrypt_extend.seconds;
        reason = m->u.decrypt_extend.reason;
    } else {
        snprintf(p->target_uscc, sizeof(p->target_uscc), "%s", m->u.classify.uscc);
        snprintf(p->outcome, sizeof(p->outcome), "%s", m->u.classify.outcome);
        reason = m->u.classify.reason;
    }
    if (reason) {
        snprintf(p->reason, sizeof(p->reason), "%s", reason);
        p->has_reason = true;
    }
    bo__room_enqueue(r, p);
}

/* ---------- system commands from the worker results ---------- */

static void enqueue_system(bo_srv *srv, const char *oid, bo_pcmd *p)
{
    bo_room *r = srv->stopping || !srv->rooms ? NULL : bo__room_get(srv, oid, true);
    if (!r) {
        bo__pcmd_free(p);
        return;
    }
    p->actor.role = BO_ROLE_SYSTEM;
    bo__room_enqueue(r, p);
}

static void record_refusal(bo_srv *srv, const char *oid, const char *uscc, const char *req,
                           bo_err code)
{
    bo_pcmd *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    p->type = BO_CMD_DECRYPT_REFUSED;
    snprintf(p->target_uscc, sizeof(p->target_uscc), "%s", uscc);
    snprintf(p->req, sizeof(p->req), "%s", req);
    p->code = code;
    enqueue_system(srv, oid, p);
}

static void reissue(bo_srv *srv, const char *oid, const char *uscc)
{
    bo_pcmd *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    p->type = BO_CMD_DECRYPT_REISSUE;
    snprintf(p->target_uscc, sizeof(p->target_uscc), "%s", uscc);
    enqueue_system(srv, oid, p);
}

/* ---------- decrypt_response: the job ---------- */

typedef struct djob {
    uv_work_t req;
    struct djob *next; /* the server's queue of jobs waiting for a slot */
    bo_srv *srv;
    char oid[65];
    char uscc[19];
    char org[256];
    char rid[33];
    uint64_t conn_id, msg_id;
    hkey *key;
    uint8_t bid[32];
    uint8_t commit[32];
    uint64_t size;
    bo_buf ri, blob, sig, cert, payload;
    char in_path[BO_VAULT_PATH_MAX], out_path[BO_VAULT_PATH_MAX];
    _Atomic uint64_t done, total;
    bool started;
    /* results */
    bo_err err;
    char detail[256];
    bo_buf form; /* canonical msgpack map */
    int64_t ms;
    int64_t t0_mono; /* the response arrived (latency metric) */
} djob;

static void djob_free(djob *j)
{
    bo_buf_cleanup(&j->ri);
    bo_buf_cleanup(&j->blob);
    bo_buf_cleanup(&j->sig);
    bo_buf_cleanup(&j->cert);
    bo_buf_cleanup(&j->payload);
    bo_buf_cleanup(&j->form);
    free(j);
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    djob *j = ud;
    atomic_store(&j->done, done);
    atomic_store(&j->total, total);
}

static bo_err read_form(djob *j, char *detail, size_t n)
{
    bo_package_reader *pr = bo_package_open(j->out_path, &j->err, detail, n);
    if (!pr)
        return j->err;
    bo_err err = bo_package_verify(pr, j->cert.data, j->cert.len);
    if (!err && (strcmp(bo_package_oid(pr), j->oid) || strcmp(bo_package_uscc(pr), j->uscc))) {
        err = BO_E_PACKAGE_MALFORMED;
        snprintf(detail, n, "the package names another opening or bidder");
    }
    if (!err)
        err = bo_package_read_docs(pr, NULL, NULL, detail, n);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        for (size_t i = 0; i < bo_package_form_count(pr); i++) {
            const bo_package_field *f = bo_package_form_at(pr, i);
            bo_mpmap_str(m, f->key, f->value);
        }
        err = bo_mpmap_finish(m, &j->form);
        bo_mpmap_free(m);
    }
    bo_package_close(pr);
    return err;
}

static void djob_work(uv_work_t *req)
{
    djob *j = req->data;
    int64_t t0 = bo_clock_mono_ms();
    char *d = j->detail;
    size_t n = sizeof(j->detail);
    if (bo_sig_verify(j->cert.data, j->cert.len, BO_CTX_DECRYPT_RESPONSE, j->payload.data,
                      j->payload.len, j->sig.data, j->sig.len)) {
        j->err = BO_E_BAD_SIGNATURE;
        snprintf(d, n, "the response's signature does not verify with your signing certificate");
        return;
    }
    bo_handoff_bind b = {j->oid, j->rid, j->bid, j->ri.data, j->ri.len};
    bo_secret *cek = NULL;
    j->err = bo_handoff_server_unwrap(j->key->h, &b, j->blob.data, j->blob.len, &cek);
    if (j->err) {
        j->err = BO_E_CEK_INVALID;
        snprintf(d, n, "the wrapped key does not open for this opening, bid and request");
        return;
    }
    j->err = bo_cek_commitment_check(cek, j->oid, j->uscc, j->commit);
    if (j->err) {
        j->err = BO_E_COMMITMENT_MISMATCH;
        snprintf(d, n, "the key is not the one committed to at submission");
        bo_secret_free(cek);
        return;
    }
    if ((j->err = bo_vault_prepare_path(j->out_path))) {
        snprintf(d, n, "the vault cannot store the opened bid");
        bo_secret_free(cek);
        return;
    }
    bo_decrypt_opts o;
    memset(&o, 0, sizeof(o));
    o.progress = on_progress;
    o.progress_ud = j;
    o.expect_sha256 = j->bid;
    j->err = bo_envelope_decrypt(j->in_path, cek, j->out_path, &o, NULL, d, n);
    bo_secret_free(cek);
    if (!j->err)
        j->err = read_form(j, d, n);
    j->ms = bo_clock_mono_ms() - t0;
}

static void djob_start_next(bo_srv *srv);

static void djob_after(uv_work_t *req, int status)
{
    djob *j = req->data;
    bo_srv *srv = j->srv;
    srv->decrypt_running--;
    for (djob **pp = (djob **)&srv->decrypt_active; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    if (status == UV_ECANCELED && !j->err)
        j->err = BO_E_CANCELED;
    j->key->busy--;
    bo_conn *c = bo__conn_find(srv, j->conn_id);
    if (j->err) {
        bo_log(BO_LOG_WARN, "decrypt", j->oid, j->conn_id, j->err, "bid of %s not opened: %s",
               j->uscc, j->detail);
        if (c)
            bo__conn_reply_err(c, true, j->msg_id, j->err, j->detail);
        if (j->err != BO_E_CANCELED && !srv->stopping)
            record_refusal(srv, j->oid, j->uscc, j->rid, j->err);
        hkey_release(j->key);
    } else {
        bo_log(BO_LOG_INFO, "decrypt", j->oid, j->conn_id, BO_E_OK,
               "bid of %s opened: %llu bytes in %lld ms", j->uscc, (unsigned long long)j->size,
               (long long)j->ms);
        bo_metrics_observe(&srv->m.decrypt_ms, bo_clock_mono_ms() - j->t0_mono);
        key_retire(srv, j->oid, j->rid, j->key); /* answered: the key is no longer needed */
        bo_pcmd *p = srv->stopping ? NULL : calloc(1, sizeof(*p));
        if (p) {
            p->type = BO_CMD_BID_DECRYPTED;
            p->conn_id = j->conn_id;
            p->req_id = j->msg_id;
            snprintf(p->target_uscc, sizeof(p->target_uscc), "%s", j->uscc);
            p->form = bo_buf_steal(&j->form, &p->form_len);
            /* the response it was opened with, kept in the log as evidence */
            snprintf(p->resp_req, sizeof(p->resp_req), "%s", j->rid);
            memcpy(p->resp_client_pub, j->blob.data + 1, 32);
            p->resp_wrapped = bo_buf_steal(&j->blob, &p->resp_wrapped_len);
            p->resp_sig = bo_buf_steal(&j->sig, &p->resp_sig_len);
            p->reply_to_bidder = true;
            enqueue_system(srv, j->oid, p);
        }
    }
    djob_free(j);
    djob_start_next(srv);
}

static void djob_start_next(bo_srv *srv)
{
    while (srv->decrypt_running < BO_DECRYPT_PARALLEL && srv->decrypt_waiting) {
        djob *j = srv->decrypt_waiting;
        srv->decrypt_waiting = j->next;
        j->next = srv->decrypt_active;
        srv->decrypt_active = j;
        j->req.data = j;
        j->started = true;
        if (uv_queue_work(srv->loop, &j->req, djob_work, djob_after)) {
            srv->decrypt_active = j->next;
            j->err = BO_E_INTERNAL;
            srv->decrypt_running++;
            djob_after(&j->req, 0);
            continue;
        }
        srv->decrypt_running++;
    }
}

void bo__decrypt_response(bo_conn *c, const bo_msg *m)
{
    const char *oid = m->u.decrypt_response.oid, *rid = m->u.decrypt_response.req;
    if (c->actor.role != BO_ROLE_BIDDER) {
        bo__conn_reply_err(c, true, m->id, BO_E_FORBIDDEN, "only bidders answer decryption requests");
        return;
    }
    bo_room *r = room_for(c, m->id, oid);
    if (!r)
        return;
    bo_bid_view v;
    char detail[200] = "";
    bo_err err = BO_E_OK;
    if (r->state != BO_ROOM_READY) {
        err = BO_E_STORE_UNAVAILABLE;
        snprintf(detail, sizeof(detail), "the opening is still loading; retry in a moment");
    } else if (!bo_session_find_request(r->sess, rid, &v)) {
        bo_bid_view mine;
        err = bo_session_bid(r->sess, c->actor.uscc, &mine) && mine.decrypted ? BO_E_ALREADY_DONE
                                                                             : BO_E_NOT_FOUND;
        snprintf(detail, sizeof(detail), err == BO_E_ALREADY_DONE
                                             ? "your bid is already open"
                                             : "no such decryption request in this opening");
    } else if (strcmp(v.uscc, c->actor.uscc)) {
        err = BO_E_FORBIDDEN;
        snprintf(detail, sizeof(detail), "this request is another bidder's");
    } else if (v.decrypted) {
        err = BO_E_ALREADY_DONE;
        snprintf(detail, sizeof(detail), "your bid is already open");
    } else {
        if (!bo_session_window_open(r->sess, bo_clock_now_ms())) {
            err = BO_E_PHASE;
            snprintf(detail, sizeof(detail), "the decryption window is closed");
        } else if (m->u.decrypt_response.wrapped.len != BO_HANDOFF_BLOB_LEN ||
                   memcmp(m->u.decrypt_response.wrapped.p + 1, m->u.decrypt_response.client_pub.p,
                          32)) {
            err = BO_E_BAD_FIELD;
            snprintf(detail, sizeof(detail), "wrapped: not a %u-byte handoff for client_pub",
                     BO_HANDOFF_BLOB_LEN);
        }
    }
    hkey *k = !err && r->handoffs ? bo_map_get_str(r->handoffs, rid) : NULL;
    if (!err && (!k || k->dead)) {
        /* This node does not hold the request's key: issue a new request from here. */
        reissue(c->srv, r->oid, c->actor.uscc);
        err = BO_E_NOT_FOUND;
        snprintf(detail, sizeof(detail), "this request expired on this server; a new one follows");
    }
    if (!err)
        for (djob *j = c->srv->decrypt_active; j && !err; j = j->next)
            if (!strcmp(j->rid, rid))
                err = BO_E_DUPLICATE_ID, snprintf(detail, sizeof(detail), "already opening it");
    if (!err)
        for (djob *j = c->srv->decrypt_waiting; j && !err; j = j->next)
            if (!strcmp(j->rid, rid))
                err = BO_E_DUPLICATE_ID, snprintf(detail, sizeof(detail), "already queued");
    if (err) {
        bo_log(BO_LOG_INFO, "decrypt", oid, c->id, err, "response refused: %s", detail);
        bo__conn_reply_err(c, true, m->id, err, detail);
        if (err != BO_E_ALREADY_DONE && err != BO_E_DUPLICATE_ID && err != BO_E_STORE_UNAVAILABLE &&
            r->state == BO_ROOM_READY && bo_session_bid(r->sess, c->actor.uscc, &v))
            record_refusal(c->srv, r->oid, c->actor.uscc, rid, err);
        return;
    }
    djob *j = calloc(1, sizeof(*j));
    if (!j) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    j->srv = c->srv;
    j->t0_mono = bo_clock_mono_ms();
    snprintf(j->oid, sizeof(j->oid), "%s", r->oid);
    snprintf(j->uscc, sizeof(j->uscc), "%s", v.uscc);
    snprintf(j->org, sizeof(j->org), "%s", v.org);
    snprintf(j->rid, sizeof(j->rid), "%s", rid);
    j->conn_id = c->id;
    j->msg_id = m->id;
    j->key = k;
    k->busy++;
    memcpy(j->bid, v.hash, 32);
    memcpy(j->commit, v.commit, 32);
    j->size = v.size;
    bo_buf_init(&j->ri, 1u << 16);
    bo_buf_init(&j->blob, 1024);
    bo_buf_init(&j->sig, 4096);
    bo_buf_init(&j->cert, 1u << 16);
    bo_buf_init(&j->payload, 4096);
    bo_buf_init(&j->form, 1u << 20);
    const bo_bytes *wr = &m->u.decrypt_response.wrapped;
    err = bo_buf_append(&j->ri, v.ri.p, v.ri.len);
    if (!err)
        err = bo_buf_append(&j->blob, wr->p, wr->len);
    if (!err)
        err = bo_buf_append(&j->sig, m->u.decrypt_response.sig.p, m->u.decrypt_response.sig.len);
    if (!err)
        err = bo_buf_append(&j->cert, v.sign_chain.p, v.sign_chain.len);
    if (!err)
        err = bo_sigpayload_decrypt_response(&j->payload, r->oid, v.uscc, rid, v.hash,
                                             m->u.decrypt_response.client_pub.p, wr->p, wr->len);
    bo_vault_bid_path(c->srv->vault, r->oid, v.hash, j->in_path);
    bo_vault_plain_path(c->srv->vault, r->oid, v.hash, j->out_path);
    if (err) {
        k->busy--;
        djob_free(j);
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    /* queue it (FIFO) */
    djob **tail = (djob **)&c->srv->decrypt_waiting;
    while (*tail)
        tail = &(*tail)->next;
    *tail = j;
    djob_start_next(c->srv);
}

/* ---------- decrypt_failed: the bidder's signed diagnostics ---------- */

typedef struct diag_job {
    uv_work_t req;
    bo_srv *srv;
    uint64_t conn_id, msg_id;
    char oid[65];
    bo_buf cert, payload, sig;
    bo_err err;
    bo_pcmd *p;
} diag_job;

static void diag_work(uv_work_t *req)
{
    diag_job *j = req->data;
    if (bo_sig_verify(j->cert.data, j->cert.len, BO_CTX_DECRYPT_DIAG, j->payload.data,
                      j->payload.len, j->sig.data, j->sig.len))
        j->err = BO_E_BAD_SIGNATURE;
}

static void diag_after(uv_work_t *req, int status)
{
    diag_job *j = req->data;
    bo_conn *c = bo__conn_find(j->srv, j->conn_id);
    if (j->err || status) {
        if (c)
            bo__conn_reply_err(c, true, j->msg_id, j->err ? j->err : BO_E_CANCELED,
                               "the diagnostics' signature does not verify");
        bo__pcmd_free(j->p);
    } else {
        bo_room *r = j->srv->stopping || !j->srv->rooms ? NULL : bo__room_get(j->srv, j->oid, true);
        if (r)
            bo__room_enqueue(r, j->p);
        else
            bo__pcmd_free(j->p);
    }
    bo_buf_cleanup(&j->cert);
    bo_buf_cleanup(&j->payload);
    bo_buf_cleanup(&j->sig);
    free(j);
}

void bo__decrypt_failed(bo_conn *c, const bo_msg *m)
{
    const char *oid = m->u.decrypt_failed.oid;
    if (c->actor.role != BO_ROLE_BIDDER) {
        bo__conn_reply_err(c, true, m->id, BO_E_FORBIDDEN, "only bidders send diagnostics");
        return;
    }
    bo_room *r = room_for(c, m->id, oid);
    if (!r)
        return;
    bo_bid_view v;
    if (r->state != BO_ROOM_READY || !bo_session_bid(r->sess, c->actor.uscc, &v)) {
        bo__conn_reply_err(c, true, m->id, BO_E_NOT_FOUND, "you have no bid in this opening");
        return;
    }
    diag_job *j = calloc(1, sizeof(*j));
    bo_pcmd *p = j ? bo__pcmd_from_conn(c, BO_CMD_DECRYPT_DIAG, m->id) : NULL;
    if (!p) {
        free(j);
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    j->srv = c->srv;
    j->conn_id = c->id;
    j->msg_id = m->id;
    j->p = p;
    snprintf(j->oid, sizeof(j->oid), "%s", r->oid);
    snprintf(p->req, sizeof(p->req), "%s", m->u.decrypt_failed.req);
    snprintf(p->stage, sizeof(p->stage), "%s", m->u.decrypt_failed.stage);
    snprintf(p->error, sizeof(p->error), "%s", m->u.decrypt_failed.error);
    memcpy(p->cert_fpr, m->u.decrypt_failed.cert_fpr.p, 32);
    p->sig = malloc(m->u.decrypt_failed.sig.len);
    bo_buf_init(&j->cert, 1u << 16);
    bo_buf_init(&j->payload, 4096);
    bo_buf_init(&j->sig, 4096);
    bo_err err = p->sig ? BO_E_OK : BO_E_NOMEM;
    if (!err) {
        memcpy(p->sig, m->u.decrypt_failed.sig.p, m->u.decrypt_failed.sig.len);
        p->sig_len = m->u.decrypt_failed.sig.len;
        err = bo_buf_append(&j->cert, v.sign_chain.p, v.sign_chain.len);
    }
    if (!err)
        err = bo_buf_append(&j->sig, p->sig, p->sig_len);
    if (!err)
        err = bo_sigpayload_decrypt_diag(&j->payload, r->oid, c->actor.uscc, p->req, p->stage,
                                         p->error, p->cert_fpr);
    j->req.data = j;
    if (err || uv_queue_work(c->srv->loop, &j->req, diag_work, diag_after)) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        bo__pcmd_free(p);
        bo_buf_cleanup(&j->cert);
        bo_buf_cleanup(&j->payload);
        bo_buf_cleanup(&j->sig);
        free(j);
    }
}

/* ---------- progress for the host's console ---------- */

bo_err bo__decrypt_progress_put(bo_srv *srv, const bo_room *r, bo_mpmap *presence)
{
    bo_buf items, arr;
    bo_buf_init(&items, 1u << 20);
    bo_buf_init(&arr, 1u << 20);
    uint32_t n = 0;
    bo_err err = BO_E_OK;
    djob *lists[2] = {srv->decrypt_active, srv->decrypt_waiting};
    for (int li = 0; li < 2; li++)
        for (djob *j = lists[li]; j; j = j->next) {
            if (strcmp(j->oid, r->oid))
                continue;
            bo_mpmap *m = bo_mpmap_new(&err);
            if (!m)
                break;
            bo_mpmap_str(m, "uscc", j->uscc);
            bo_mpmap_str(m, "state", li == 0 ? "opening" : "queued");
            bo_mpmap_u64(m, "done", atomic_load(&j->done));
            bo_mpmap_u64(m, "total", j->size);
            bo_mpmap_finish(m, &items);
            bo_mpmap_free(m);
            n++;
        }
    bo_mp_array_header(&arr, n);
    bo_buf_append(&arr, items.data, items.len);
    if (n)
        err = bo_mpmap_raw(presence, "decrypt", arr.data, arr.len);
    bo_buf_cleanup(&items);
    bo_buf_cleanup(&arr);
    return err;
}

bool bo__decrypt_busy(const bo_srv *srv, const bo_room *r)
{
    djob *lists[2] = {srv->decrypt_active, srv->decrypt_waiting};
    for (int li = 0; li < 2; li++)
        for (djob *j = lists[li]; j; j = j->next)
            if (!strcmp(j->oid, r->oid))
                return true;
    return false;
}

size_t bo__decrypt_waiting_count(const bo_srv *srv)
{
    size_t n = 0;
    for (const djob *j = srv->decrypt_waiting; j; j = j->next)
        n++;
    return n;
}
