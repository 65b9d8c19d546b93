/* bidopen-server: the end of an opening (docs/protocol.md §11): announcement, draws, the
 * benchmark price, confirmation and objections, public messages, closing.
 *
 * The rules are session/'s; the server adds what needs it: the draw seed kept secret in
 * Redis (revealed to the session at the draw), and signature checks on the worker pool for
 * what participants sign (confirmations, objections, the host's answers). */
#include <stdlib.h>
#include <string.h>

#include "bo/log.h"
#include "bo/sigpayload.h"
#include "bo_server_internal.h"

/* ---------- the draw: fetch the committed seed, then decide ---------- */

typedef struct seed_job {
    bo_srv *srv;
    char oid[65];
    bo_pcmd *p;
} seed_job;

static void on_seed(void *ud, bo_err err, const uint8_t *v, size_t len)
{
    seed_job *j = ud;
    bo_conn *c = bo__conn_find(j->srv, j->p->conn_id);
    bo_room *r = !err && v && len == 32 && !j->srv->stopping ? bo__room_get(j->srv, j->oid, true)
                                                               : NULL;
    if (!r) {
        if (c)
            bo__conn_reply_err(c, true, j->p->req_id,
                               err == BO_E_CANCELED ? BO_E_SHUTTING_DOWN : BO_E_STORE_UNAVAILABLE,
                               err || (v && len == 32) ? NULL
                                                       : "this opening's draw seed is missing");
        bo__pcmd_free(j->p);
    } else {
        memcpy(j->p->seed, v, 32);
        bo__room_enqueue(r, j->p);
    }
    free(j);
}

static void start_draw(bo_conn *c, bo_room *r, bo_pcmd *p)
{
    seed_job *j = calloc(1, sizeof(*j));
    char key[96];
    snprintf(key, sizeof(key), "bo:{%s}:seed", r->oid);
    if (!j || bo_store_get(c->srv->store, key, on_seed, j) != BO_E_OK) {
        free(j);
        bo__conn_reply_err(c, true, p->req_id, BO_E_STORE_UNAVAILABLE, NULL);
        bo__pcmd_free(p);
        return;
    }
    j->srv = c->srv;
    snprintf(j->oid, sizeof(j->oid), "%s", r->oid);
    j->p = p;
}

/* ---------- signed requests: verify on the worker pool, then decide ---------- */

typedef struct sig_check {
    uv_work_t req;
    bo_srv *srv;
    char oid[65];
    bo_pcmd *p;
    const char *ctx;
    bo_buf cert, payload;
    bo_err err;
} sig_check;

static void check_work(uv_work_t *req)
{
    sig_check *j = req->data;
    if (bo_sig_verify(j->cert.data, j->cert.len, j->ctx, j->payload.data, j->payload.len,
                      j->p->sig, j->p->sig_len))
        j->err = BO_E_BAD_SIGNATURE;
}

static void check_after(uv_work_t *req, int status)
{
    sig_check *j = req->data;
    bo_conn *c = bo__conn_find(j->srv, j->p->conn_id);
    bo_room *r = j->err || status || j->srv->stopping ? NULL : bo__room_get(j->srv, j->oid, true);
    if (r) {
        bo__room_enqueue(r, j->p);
    } else {
        if (c)
            bo__conn_reply_err(c, true, j->p->req_id,
                               status ? BO_E_SHUTTING_DOWN : j->err ? j->err : BO_E_INTERNAL,
                               j->err == BO_E_BAD_SIGNATURE
                                   ? "the signature does not verify with your signing certificate"
                                   : NULL);
        bo__pcmd_free(j->p);
    }
    bo_buf_cleanup(&j->cert);
    bo_buf_cleanup(&j->payload);
    free(j);
}

/* Takes p. payload is what the actor signed with ctx. */
static void verify_then_enqueue(bo_conn *c, bo_room *r, bo_pcmd *p, const char *ctx,
                                bo_buf *payload)
{
    sig_check *j = calloc(1, sizeof(*j));
    if (!j || !c->sign_chain.list.n) {
        free(j);
        bo__conn_reply_err(c, true, p->req_id, BO_E_INTERNAL, NULL);
        bo__pcmd_free(p);
        return;
    }
    j->srv = c->srv;
    snprintf(j->oid, sizeof(j->oid), "%s", r->oid);
    j->p = p;
    j->ctx = ctx;
    bo_buf_init(&j->cert, 1u << 16);
    j->payload = *payload;
    memset(payload, 0, sizeof(*payload));
    j->req.data = j;
    const bo_bytes *leaf = &c->sign_chain.list.v[0];
    if (bo_buf_append(&j->cert, leaf->p, leaf->len) ||
        uv_queue_work(c->srv->loop, &j->req, check_work, check_after)) {
        bo__conn_reply_err(c, true, p->req_id, BO_E_INTERNAL, NULL);
        bo_buf_cleanup(&j->cert);
        bo_buf_cleanup(&j->payload);
        bo__pcmd_free(p);
        free(j);
    }
}

static bool copy_sig(bo_pcmd *p, bo_bytes sig)
{
    p->sig = malloc(sig.len ? sig.len : 1);
    if (!p->sig)
        return false;
    memcpy(p->sig, sig.p, sig.len);
    p->sig_len = sig.len;
    return true;
}

/* ---------- the requests ---------- */

static const char *oid_of(const bo_msg *m)
{
    switch (m->type) {
    case BO_MSG_ANNOUNCE:
        return m->u.announce.oid;
    case BO_MSG_DRAW:
        return m->u.draw.oid;
    case BO_MSG_CONFIRM_OPEN:
        return m->u.confirm_open.oid;
    case BO_MSG_CONFIRM:
        return m->u.confirm.oid;
    case BO_MSG_OBJECT:
        return m->u.object.oid;
    case BO_MSG_ANSWER:
        return m->u.answer.oid;
    case BO_MSG_MESSAGE:
        return m->u.message.oid;
    default: /* benchmark, close */
        return m->u.opening.oid;
    }
}

static bo_cmd_type cmd_of(bo_msg_type t)
{
    switch (t) {
    case BO_MSG_ANNOUNCE:
        return BO_CMD_ANNOUNCE;
    case BO_MSG_DRAW:
        return BO_CMD_DRAW;
    case BO_MSG_BENCHMARK:
        return BO_CMD_BENCHMARK;
    case BO_MSG_CONFIRM_OPEN:
        return BO_CMD_CONFIRM_OPEN;
    case BO_MSG_CONFIRM:
        return BO_CMD_CONFIRM;
    case BO_MSG_OBJECT:
        return BO_CMD_OBJECT;
    case BO_MSG_ANSWER:
        return BO_CMD_ANSWER;
    case BO_MSG_MESSAGE:
        return BO_CMD_MESSAGE;
    default:
        return BO_CMD_CLOSE;
    }
}

void bo__closing_request(bo_conn *c, const bo_msg *m)
{
    const char *oid = oid_of(m);
    if (!bo_oid_valid(oid)) {
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, "oid: not a valid opening id");
        return;
    }
    bo_room *r = bo__room_get(c->srv, oid, true);
    bo_pcmd *p = r ? bo__pcmd_from_conn(c, cmd_of(m->type), m->id) : NULL;
    if (!p) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    bo_buf payload;
    bo_buf_init(&payload, 8192);
    bo_err err = BO_E_OK;
    const char *text = NULL;
    switch (m->type) {
    case BO_MSG_ANNOUNCE:
        p->all = m->u.announce.has_all && m->u.announce.all;
        break;
    case BO_MSG_DRAW:
        snprintf(p->draw_id, sizeof(p->draw_id), "%s", m->u.draw.draw);
        bo_buf_cleanup(&payload);
        start_draw(c, r, p);
        return;
    case BO_MSG_CONFIRM_OPEN:
        p->window_s = m->u.confirm_open.has_window_s ? (uint32_t)m->u.confirm_open.window_s : 0;
        break;
    case BO_MSG_CONFIRM:
        memcpy(p->record_hash, m->u.confirm.record_hash.p, 32);
        if (!copy_sig(p, m->u.confirm.sig))
            err = BO_E_NOMEM;
        if (!err)
            err = bo_sigpayload_confirm(&payload, r->oid, c->actor.uscc, p->record_hash);
        break;
    case BO_MSG_OBJECT: {
        text = m->u.object.text;
        if (r->state != BO_ROOM_READY || !bo_session_confirm_hash(r->sess, p->record_hash)) {
            bo__conn_reply_err(c, true, m->id, BO_E_PHASE,
                               "objections are raised while the record is open for confirmation");
            bo_buf_cleanup(&payload);
            bo__pcmd_free(p);
            return;
        }
        if (!copy_sig(p, m->u.object.sig))
            err = BO_E_NOMEM;
        if (!err)
            err = bo_sigpayload_objection(&payload, r->oid, c->actor.uscc, p->record_hash, text);
        break;
    }
    case BO_MSG_ANSWER:
        text = m->u.answer.text;
        p->objection = m->u.answer.objection;
        if (!copy_sig(p, m->u.answer.sig))
            err = BO_E_NOMEM;
        if (!err)
            err = bo_sigpayload_answer(&payload, r->oid, p->objection, text);
        break;
    case BO_MSG_MESSAGE:
        text = m->u.message.text;
        break;
    default:
        break;
    }
    if (!err && text && !(p->text = strdup(text)))
        err = BO_E_NOMEM;
    if (err) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        bo_buf_cleanup(&payload);
        bo__pcmd_free(p);
        return;
    }
    if (m->type == BO_MSG_CONFIRM || m->type == BO_MSG_OBJECT || m->type == BO_MSG_ANSWER) {
        const char *ctx = m->type == BO_MSG_CONFIRM  ? BO_CTX_CONFIRM
                          : m->type == BO_MSG_OBJECT ? BO_CTX_OBJECTION
                                                     : BO_CTX_ANSWER;
        verify_then_enqueue(c, r, p, ctx, &payload);
        return;
    }
    bo_buf_cleanup(&payload);
    bo__room_enqueue(r, p);
}
