/* bidopen-server: what each request does. Role, phase and identity rules live in session/;
 * this file does what needs the server: crypto on the worker pool, the blacklist, the store,
 * and routing to the opening's room. */
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/log.h"
#include "bo_server_internal.h"

static void reply_time(bo_conn *c, const bo_msg *m)
{
    bo_time_ms now = bo_clock_now_ms();
    bo_err err;
    bo_mpmap *mm = bo_mpmap_new(&err);
    bo_buf b;
    bo_buf_init(&b, 256);
    if (mm) {
        bo_mpmap_i64(mm, "t0", m->u.time.t0);
        bo_mpmap_i64(mm, "t1", now);
        bo_mpmap_i64(mm, "t2", bo_clock_now_ms());
        bo_mpmap_finish(mm, &b);
        bo_mpmap_free(mm);
    }
    bo__conn_reply_ok(c, m->id, b.data, b.len);
    bo_buf_cleanup(&b);
}

static void reply_list(bo_conn *c, const bo_msg *m)
{
    bo_buf items, arr, out;
    bo_buf_init(&items, 8u << 20);
    bo_buf_init(&arr, 8u << 20);
    bo_buf_init(&out, 8u << 20);
    uint32_t n = 0;
    size_t pos = 0;
    void *v;
    while (bo_map_next(c->srv->rooms, &pos, NULL, NULL, &v)) {
        bo_room *r = v;
        const bo_tender *t = bo_session_tender(r->sess);
        if (!t || r->state != BO_ROOM_READY)
            continue;
        bo_err err;
        bo_mpmap *it = bo_mpmap_new(&err);
        if (!it)
            continue;
        bo_mpmap_str(it, "oid", r->oid);
        bo_mpmap_str(it, "title", t->title);
        if (t->lot[0])
            bo_mpmap_str(it, "lot", t->lot);
        bo_mpmap_str(it, "phase", bo_phase_name(bo_session_phase(r->sess)));
        bo_mpmap_i64(it, "deadline", t->deadline);
        bo_mpmap_finish(it, &items);
        bo_mpmap_free(it);
        n++;
    }
    bo_mp_array_header(&arr, n);
    bo_buf_append(&arr, items.data, items.len);
    bo_err err;
    bo_mpmap *mm = bo_mpmap_new(&err);
    if (mm) {
        bo_mpmap_raw(mm, "openings", arr.data, arr.len);
        bo_mpmap_finish(mm, &out);
        bo_mpmap_free(mm);
    }
    bo__conn_reply_ok(c, m->id, out.data, out.len);
    bo_buf_cleanup(&items);
    bo_buf_cleanup(&arr);
    bo_buf_cleanup(&out);
}

/* ---- create: commit to the draw seed in Redis first, then append opening_created ---- */

typedef struct create_job {
    bo_srv *srv;
    bo_pcmd *p;
    char oid[65];
} create_job;

static void create_fail(create_job *j, bo_err err)
{
    bo_conn *c = bo__conn_find(j->srv, j->p->conn_id);
    if (c)
        bo__conn_reply_err(c, true, j->p->req_id, err, NULL);
    bo__pcmd_free(j->p);
    free(j);
}

static void on_seed_get(void *ud, bo_err err, const uint8_t *v, size_t len)
{
    create_job *j = ud;
    if (err || !v || len != 32) {
        create_fail(j, err == BO_E_CANCELED ? BO_E_SHUTTING_DOWN : BO_E_STORE_UNAVAILABLE);
        return;
    }
    bo_sha256(v, len, j->p->seed_commit);
    bo_room *r = bo__room_get(j->srv, j->oid, true);
    if (!r) {
        create_fail(j, BO_E_INTERNAL);
        return;
    }
    bo__room_enqueue(r, j->p);
    free(j);
}

static void on_seed_set(void *ud, bo_err err, bool written)
{
    create_job *j = ud;
    if (err) {
        create_fail(j, err == BO_E_CANCELED ? BO_E_SHUTTING_DOWN : BO_E_STORE_UNAVAILABLE);
        return;
    }
    (void)written; /* an earlier attempt may have written it: the stored seed is the one */
    char key[96];
    snprintf(key, sizeof(key), "bo:{%s}:seed", j->oid);
    if (bo_store_get(j->srv->store, key, on_seed_get, j) != BO_E_OK)
        create_fail(j, BO_E_STORE_UNAVAILABLE);
}

static void handle_create(bo_conn *c, const bo_msg *m)
{
    if (c->actor.role != BO_ROLE_OPERATOR && c->actor.role != BO_ROLE_HOST) {
        bo__conn_reply_err(c, true, m->id, BO_E_FORBIDDEN, "only operators and hosts create openings");
        return;
    }
    bo_tender *t = calloc(1, sizeof(*t));
    char detail[300] = "";
    if (!t) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    bo_err err = bo_tender_parse(m->u.create.tender.mp.p, m->u.create.tender.mp.len,
                                 bo_clock_now_ms(), t, detail, sizeof(detail));
    if (err) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s: %s", bo_strerror(err), detail);
        bo__conn_reply_err(c, true, m->id, err, msg);
        free(t);
        return;
    }
    if (!t->oid[0]) {
        uint8_t rnd[4];
        char hex[9], day[16];
        bo_random_bytes(rnd, sizeof(rnd));
        bo_time_format_local(bo_clock_now_ms(), t->tz_offset_min, day, sizeof(day));
        snprintf(t->oid, sizeof(t->oid), "T%.4s%.2s%.2s-%s", day, day + 5, day + 8,
                 bo_hex_encode(rnd, sizeof(rnd), hex));
    }
    bo_pcmd *p = bo__pcmd_from_conn(c, BO_CMD_CREATE, m->id);
    create_job *j = p ? calloc(1, sizeof(*j)) : NULL;
    if (!j) {
        bo__pcmd_free(p);
        free(t);
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    p->tender = t;
    j->srv = c->srv;
    j->p = p;
    snprintf(j->oid, sizeof(j->oid), "%s", t->oid);
    uint8_t seed[32];
    char key[96];
    bo_random_bytes(seed, sizeof(seed));
    snprintf(key, sizeof(key), "bo:{%s}:seed", j->oid);
    err = bo_store_set(c->srv->store, key, seed, sizeof(seed), true, on_seed_set, j);
    memset(seed, 0, sizeof(seed));
    if (err)
        create_fail(j, BO_E_STORE_UNAVAILABLE);
}

static void handle_join(bo_conn *c, const bo_msg *m)
{
    if (!bo_oid_valid(m->u.join.oid)) {
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, "oid: not a valid opening id");
        return;
    }
    if (c->joining) {
        bo__conn_reply_err(c, true, m->id, BO_E_DUPLICATE_ID, "a join is already in progress");
        return;
    }
    bo_room *r = bo__room_get(c->srv, m->u.join.oid, true);
    if (!r) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    bo__room_join(r, c, m->id, &m->u.join.since);
}

static void handle_host_cmd(bo_conn *c, const bo_msg *m)
{
    const char *oid = m->u.host_cmd.oid;
    if (!bo_oid_valid(oid)) {
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, "oid: not a valid opening id");
        return;
    }
    bo_cmd_type type = m->type == BO_MSG_PAUSE    ? BO_CMD_PAUSE
                       : m->type == BO_MSG_RESUME ? BO_CMD_RESUME
                                                  : BO_CMD_FAIL;
    bo_room *r = bo__room_get(c->srv, oid, true);
    bo_pcmd *p = r ? bo__pcmd_from_conn(c, type, m->id) : NULL;
    if (!p) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    if (m->u.host_cmd.reason) {
        snprintf(p->reason, sizeof(p->reason), "%s", m->u.host_cmd.reason);
        p->has_reason = true;
    }
    bo__room_enqueue(r, p);
}

static void handle_pong(bo_conn *c, const bo_msg *m)
{
    if (m->u.pong.n != c->ping_n || !c->ping_sent_mono)
        return;
    bo__conn_alive(c);
    int rtt = (int)(bo_clock_mono_ms() - c->ping_sent_mono);
    if (rtt != c->rtt_ms) {
        c->rtt_ms = rtt;
        if (c->room && c->actor.role == BO_ROLE_SITE)
            c->room->presence_dirty = true;
    }
}

static void reply_server_key(bo_conn *c, const bo_msg *m)
{
    bo_err err;
    bo_mpmap *mm = bo_mpmap_new(&err);
    bo_buf b;
    bo_buf_init(&b, 64 * 1024);
    if (mm) {
        if (c->srv->sign_cert_len)
            bo_mpmap_bin(mm, "cert", c->srv->sign_cert, c->srv->sign_cert_len);
        bo_mpmap_bin(mm, "spki", c->srv->sign_spki, c->srv->sign_spki_len);
        bo_mpmap_bin(mm, "key_fpr", c->srv->sign_key_fpr, 32);
        bo_mpmap_finish(mm, &b);
        bo_mpmap_free(mm);
    }
    bo__conn_reply_ok(c, m->id, b.data, b.len);
    bo_buf_cleanup(&b);
}

void bo__cmd_dispatch(bo_conn *c, const bo_msg *m)
{
    if (m->type == BO_MSG_TIME) {
        reply_time(c, m);
        return;
    }
    if (m->type == BO_MSG_PONG) {
        handle_pong(c, m);
        return;
    }
    if (c->state == BO_CONN_NEW && m->type == BO_MSG_AUTH) {
        bo__auth_handle(c, m);
        return;
    }
    if (c->state != BO_CONN_AUTHED) {
        bo__conn_reply_err(c, m->has_id, m->id,
                           m->type == BO_MSG_AUTH ? BO_E_DUPLICATE_ID : BO_E_UNAUTHENTICATED,
                           c->state == BO_CONN_AUTHING ? "authentication is in progress" : NULL);
        return;
    }
    switch (m->type) {
    case BO_MSG_AUTH:
        bo__conn_reply_err(c, true, m->id, BO_E_ALREADY_AUTHENTICATED, NULL);
        break;
    case BO_MSG_LIST:
        reply_list(c, m);
        break;
    case BO_MSG_CREATE:
        handle_create(c, m);
        break;
    case BO_MSG_JOIN:
        handle_join(c, m);
        break;
    case BO_MSG_LEAVE:
        bo__room_leave(c);
        bo__conn_reply_ok(c, m->id, NULL, 0);
        break;
    case BO_MSG_REGISTER:
    case BO_MSG_SIGNIN:
        bo__auth_signed_cmd(c, m);
        break;
    case BO_MSG_PAUSE:
    case BO_MSG_RESUME:
    case BO_MSG_FAIL:
        handle_host_cmd(c, m);
        break;
    case BO_MSG_BL_ADD:
    case BO_MSG_BL_REMOVE:
    case BO_MSG_BL_REPLACE:
    case BO_MSG_BL_LIST:
        bo__blacklist_cmd(c, m);
        break;
    case BO_MSG_SUBMIT_BEGIN:
        bo__submit_begin(c, m);
        break;
    case BO_MSG_SUBMIT_CHUNK:
        bo__submit_chunk(c, m);
        break;
    case BO_MSG_SUBMIT_COMMIT:
        bo__submit_commit(c, m);
        break;
    case BO_MSG_RECEIPT:
        bo__submit_receipt(c, m);
        break;
    case BO_MSG_SERVER_KEY:
        reply_server_key(c, m);
        break;
    case BO_MSG_DECRYPT_START:
    case BO_MSG_DECRYPT_EXTEND:
    case BO_MSG_CLASSIFY:
        bo__decrypt_host_cmd(c, m);
        break;
    case BO_MSG_DECRYPT_RESPONSE:
        bo__decrypt_response(c, m);
        break;
    case BO_MSG_DECRYPT_FAILED:
        bo__decrypt_failed(c, m);
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
        bo__closing_request(c, m);
        break;
    case BO_MSG_EXPORT:
        bo__export_request(c, m);
        break;
    default:
        bo__conn_reply_err(c, m->has_id, m->id, BO_E_UNKNOWN_TYPE, "not a request a client sends");
        break;
    }
}
