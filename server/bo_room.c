/* bidopen-server: one opening in memory: its log, its streams, its members and its command
 * pipeline.
 *
 * The log is the truth: every command becomes events through session/ (apply, seal), they
 * are compare-and-appended to Redis, and only then folded here and fanned out. Events that
 * other nodes append arrive through pub/sub (or a range read when a gap shows) and take the
 * same ingest path. Each event is encoded once for its stream; a member's cursors index
 * into the stream indexes, so a delivery costs one lws_write and no copy. */
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/log.h"
#include "bo/sigpayload.h"
#include "bo_server_internal.h"

#define RANGE_BATCH 1000

typedef struct pending_join {
    uint64_t conn_id, req_id;
    bo_msg_since since;
} pending_join;

static void room_fill(bo_room *r);
static void room_pump(bo_room *r);
static void resolve_uncertain(bo_room *r);
static void reply_pcmd_err(bo_room *r, bo_pcmd *p, bo_err err, const char *detail);
static void room_schedule_timer(bo_room *r);

/* ---------- member lists ---------- */

static void list_add(bo_member_list *l, bo_conn *c)
{
    c->m_prev = NULL;
    c->m_next = l->head;
    if (l->head)
        l->head->m_prev = c;
    l->head = c;
    l->n++;
    c->m_list = l;
}

static void list_del(bo_conn *c)
{
    bo_member_list *l = c->m_list;
    if (!l)
        return;
    if (c->m_prev)
        c->m_prev->m_next = c->m_next;
    else
        l->head = c->m_next;
    if (c->m_next)
        c->m_next->m_prev = c->m_prev;
    l->n--;
    c->m_prev = c->m_next = NULL;
    c->m_list = NULL;
}

static bo_member_list *bidder_list(bo_room *r, const char *uscc, bool create)
{
    bo_member_list *l = bo_map_get_str(r->bidder_members, uscc);
    if (!l && create) {
        l = calloc(1, sizeof(*l));
        if (l && bo_map_put_str(r->bidder_members, uscc, l) != BO_E_OK) {
            free(l);
            l = NULL;
        }
    }
    return l;
}

static bo_u64vec *bidder_vec(bo_room *r, const char *uscc, bool create)
{
    bo_u64vec *v = bo_map_get_str(r->bidder_idx, uscc);
    if (!v && create) {
        v = calloc(1, sizeof(*v));
        if (v && bo_map_put_str(r->bidder_idx, uscc, v) != BO_E_OK) {
            free(v);
            v = NULL;
        }
    }
    return v;
}

/* ---------- lifecycle ---------- */

static void timer_closed(uv_handle_t *h)
{
    bo_room *r = h->data;
    free(r);
}

void bo__pcmd_free(bo_pcmd *p)
{
    if (!p)
        return;
    bo_blob_list_cleanup(&p->sign_chain);
    bo_blob_list_cleanup(&p->enc_chain);
    free(p->tender);
    free(p->bid_ri);
    free(p->receipt_sig);
    bo__decrypt_prep_free(p);
    free(p->form);
    free(p->resp_wrapped);
    free(p->resp_sig);
    free(p->text);
    if (p->sig)
        memset(p->sig, 0, p->sig_len);
    free(p->sig);
    free(p);
}

bo_pcmd *bo__pcmd_from_conn(const bo_conn *c, bo_cmd_type type, uint64_t req_id)
{
    bo_pcmd *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->conn_id = c->id;
    p->req_id = req_id;
    p->type = type;
    p->actor = c->actor;
    for (size_t i = 0; i < c->sign_chain.list.n; i++)
        if (bo_blob_list_push(&p->sign_chain, c->sign_chain.list.v[i].p,
                              c->sign_chain.list.v[i].len)) {
            bo__pcmd_free(p);
            return NULL;
        }
    for (size_t i = 0; i < c->enc_chain.list.n; i++)
        if (bo_blob_list_push(&p->enc_chain, c->enc_chain.list.v[i].p,
                              c->enc_chain.list.v[i].len)) {
            bo__pcmd_free(p);
            return NULL;
        }
    p->actor.sign_chain = p->sign_chain.list;
    p->actor.enc_chain = p->enc_chain.list;
    return p;
}

bo_room *bo__room_get(bo_srv *srv, const char *oid, bool load)
{
    bo_room *r = bo_map_get_str(srv->rooms, oid);
    if (r || !load)
        return r;
    bo_err err;
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->srv = srv;
    snprintf(r->oid, sizeof(r->oid), "%s", oid);
    r->sess = bo_session_new(oid, &err);
    r->bidder_idx = bo_map_new(&err);
    r->bidder_members = bo_map_new(&err);
    if (!r->sess || !r->bidder_idx || !r->bidder_members ||
        bo_map_put_str(srv->rooms, oid, r) != BO_E_OK) {
        bo_session_free(r->sess);
        bo_map_free(r->bidder_idx);
        bo_map_free(r->bidder_members);
        free(r);
        return NULL;
    }
    uv_timer_init(srv->loop, &r->timer);
    r->timer.data = r;
    r->timer_init = true;
    bo_event_list_init(&r->flight_evs);
    r->state = BO_ROOM_LOADING;
    room_fill(r);
    return r;
}

static void free_vec_map(bo_map *m)
{
    size_t pos = 0;
    void *v;
    while (bo_map_next(m, &pos, NULL, NULL, &v)) {
        bo__u64vec_cleanup(v);
        free(v);
    }
    bo_map_free(m);
}

void bo__room_free(bo_room *r)
{
    /* Members must have left (the server closes connections first). */
    for (size_t i = 0; i < r->n_evs; i++) {
        bo_event_cleanup(&r->evs[i].ev);
        free(r->evs[i].frame);
        free(r->evs[i].frame_all);
    }
    free(r->evs);
    bo__u64vec_cleanup(&r->pub_idx);
    bo__u64vec_cleanup(&r->staff_idx);
    free_vec_map(r->bidder_idx);
    size_t pos = 0;
    void *v;
    while (bo_map_next(r->bidder_members, &pos, NULL, NULL, &v))
        free(v);
    bo_map_free(r->bidder_members);
    for (size_t i = 0; i < r->pending_joins.n; i++)
        free((void *)(uintptr_t)r->pending_joins.v[i]);
    bo__u64vec_cleanup(&r->pending_joins);
    for (bo_pcmd *p = r->q_head, *n; p; p = n) {
        n = p->next;
        bo__pcmd_free(p);
    }
    bo__pcmd_free(r->in_flight);
    bo_event_list_cleanup(&r->flight_evs);
    bo__decrypt_room_free(r);
    bo_session_free(r->sess);
    if (r->timer_init) {
        uv_timer_stop(&r->timer);
        uv_close((uv_handle_t *)&r->timer, timer_closed);
    } else {
        free(r);
    }
}

/* ---------- stream positions ---------- */

static bo_u64vec *priv_vec_of(bo_room *r, const bo_event *ev)
{
    if (ev->aud == BO_AUD_STAFF)
        return &r->staff_idx;
    if (ev->aud == BO_AUD_BIDDER)
        return bidder_vec(r, ev->aud_uscc, true);
    return NULL;
}

static uint64_t conn_pending(const bo_conn *c)
{
    const bo_room *r = c->room;
    if (c->priv_st == BO_STREAM_ALL)
        return r->n_evs >= c->next_priv ? r->n_evs - c->next_priv + 1 : 0;
    uint64_t n = r->pub_idx.n >= c->next_pub ? r->pub_idx.n - c->next_pub + 1 : 0;
    if (c->priv_idx && c->priv_idx->n >= c->next_priv)
        n += c->priv_idx->n - c->next_priv + 1;
    return n;
}

bool bo__room_conn_behind(const bo_conn *c)
{
    return c->room && conn_pending(c) > 0;
}

uint64_t bo__room_conn_pending(const bo_conn *c)
{
    return c->room ? conn_pending(c) : 0;
}

/* ---------- fan-out ---------- */

static void wake(bo_conn *c, int64_t now_mono)
{
    if (c->close_code)
        return;
    uint64_t pending = conn_pending(c);
    if (pending == 1)
        c->progress_mono = now_mono; /* just became behind */
    if (pending > (uint64_t)c->srv->cfg.max_lag) {
        c->srv->m.lagging_closed++;
        bo_log(BO_LOG_WARN, "fanout", c->room->oid, c->id, BO_E_LAGGING,
               "%llu events behind: closing for resume", (unsigned long long)pending);
        bo__conn_close(c, BO_CLOSE_LAGGING, "E_LAGGING");
        return;
    }
    lws_callback_on_writable(c->wsi);
}

static void wake_list(bo_member_list *l, int64_t now_mono)
{
    for (bo_conn *c = l->head, *n; c; c = n) {
        n = c->m_next;
        wake(c, now_mono);
    }
}

static void wake_for(bo_room *r, const bo_event *ev)
{
    int64_t now = bo_clock_mono_ms();
    switch (ev->aud) {
    case BO_AUD_PUB: {
        wake_list(&r->pub_members, now);
        wake_list(&r->staff_members, now);
        size_t pos = 0;
        void *l;
        while (bo_map_next(r->bidder_members, &pos, NULL, NULL, &l))
            wake_list(l, now);
        break;
    }
    case BO_AUD_STAFF:
        wake_list(&r->staff_members, now);
        break;
    case BO_AUD_BIDDER: {
        bo_member_list *l = bidder_list(r, ev->aud_uscc, false);
        if (l)
            wake_list(l, now);
        break;
    }
    case BO_AUD_SUP:
        break;
    }
    wake_list(&r->sup_members, now);
}

static bo_frame *encode_frame(bo_room *r, const bo_event *ev, bo_stream st)
{
    bo_buf b;
    bo_buf_init(&b, 16u << 20);
    bo_frame *f = NULL;
    if (bo_event_encode_wire(r->oid, ev, (int)st, &b) == BO_E_OK)
        f = bo__frame_new(b.data, b.len);
    bo_buf_cleanup(&b);
    return f;
}

int bo__room_write_next(bo_conn *c)
{
    bo_room *r = c->room;
    bo_rev *rev = NULL;
    bo_frame *f = NULL;
    if (c->priv_st == BO_STREAM_ALL) {
        if (c->next_priv > r->n_evs)
            return 0;
        rev = &r->evs[c->next_priv - 1];
        if (!rev->frame_all)
            rev->frame_all = encode_frame(r, &rev->ev, BO_STREAM_ALL);
        f = rev->frame_all;
        c->next_priv++;
    } else {
        uint64_t a = c->next_pub <= r->pub_idx.n ? r->pub_idx.v[c->next_pub - 1] : UINT64_MAX;
        uint64_t b = c->priv_idx && c->next_priv <= c->priv_idx->n
                         ? c->priv_idx->v[c->next_priv - 1]
                         : UINT64_MAX;
        if (a == UINT64_MAX && b == UINT64_MAX)
            return 0;
        if (a < b) {
            rev = &r->evs[a - 1];
            c->next_pub++;
        } else {
            rev = &r->evs[b - 1];
            c->next_priv++;
        }
        f = rev->frame;
    }
    if (!f)
        return -1; /* could not encode: drop the connection, it will resume */
    int n = lws_write(c->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_BINARY);
    if (n < 0)
        return -1;
    c->progress_mono = bo_clock_mono_ms();
    c->srv->m.frames_written++;
    c->srv->m.events_fanned++;
    return 1;
}

/* ---------- ingest: the one path by which events enter the room ---------- */

/* Takes ownership of ev's body (ev is zeroed). */
static bo_err ingest_event(bo_room *r, bo_event *ev)
{
    uint64_t cur = bo_session_seq(r->sess);
    if (ev->seq <= cur) {
        bo_event_cleanup(ev);
        return BO_E_OK; /* already have it (our own append, echoed by pub/sub) */
    }
    if (ev->seq != cur + 1) {
        bo_event_cleanup(ev);
        room_fill(r);
        return BO_E_CONFLICT;
    }
    bo_phase before = bo_session_phase(r->sess);
    bool paused_before = bo_session_paused(r->sess);
    bo_err err = bo_session_fold(r->sess, ev);
    if (err) {
        bo_log(BO_LOG_ERROR, "room", r->oid, 0, err,
               "event %llu does not verify against the chain: the opening stops here",
               (unsigned long long)ev->seq);
        bo_event_cleanup(ev);
        r->state = BO_ROOM_BROKEN;
        return err;
    }
    if (r->n_evs == r->alloc_evs) {
        size_t na = r->alloc_evs ? r->alloc_evs * 2 : 64;
        bo_rev *nv = realloc(r->evs, na * sizeof(*nv));
        if (!nv) {
            bo_event_cleanup(ev);
            r->state = BO_ROOM_BROKEN;
            return BO_E_NOMEM;
        }
        r->evs = nv;
        r->alloc_evs = na;
    }
    bo_rev *rev = &r->evs[r->n_evs++];
    memset(rev, 0, sizeof(*rev));
    rev->ev = *ev;
    memset(ev, 0, sizeof(*ev));
    bo_err ierr = BO_E_OK;
    if (rev->ev.aud == BO_AUD_PUB) {
        ierr = bo__u64vec_push(&r->pub_idx, rev->ev.seq);
        rev->frame = encode_frame(r, &rev->ev, BO_STREAM_PUB);
    } else if (rev->ev.aud != BO_AUD_SUP) {
        bo_u64vec *v = priv_vec_of(r, &rev->ev);
        ierr = v ? bo__u64vec_push(v, rev->ev.seq) : BO_E_NOMEM;
        rev->frame = encode_frame(r, &rev->ev,
                                  rev->ev.aud == BO_AUD_STAFF ? BO_STREAM_STAFF
                                                              : BO_STREAM_BIDDER);
    }
    if (ierr || (rev->ev.aud != BO_AUD_SUP && !rev->frame)) {
        r->state = BO_ROOM_BROKEN;
        return BO_E_NOMEM;
    }
    wake_for(r, &rev->ev);
    if (bo_session_phase(r->sess) != before || bo_session_paused(r->sess) != paused_before) {
        room_schedule_timer(r);
        r->presence_dirty = true;
    }
    return BO_E_OK;
}

void bo__room_on_record(bo_room *r, uint64_t seq, const uint8_t *rec, size_t len)
{
    if (r->state == BO_ROOM_BROKEN)
        return;
    if (r->filling) {
        if (seq > bo_session_seq(r->sess))
            r->refill = true;
        return;
    }
    uint64_t cur = bo_session_seq(r->sess);
    if (seq <= cur)
        return;
    if (seq != cur + 1) {
        room_fill(r);
        return;
    }
    bo_event ev;
    bo_err err = bo_event_decode_record(r->oid, rec, len, &ev);
    if (err) {
        bo_log(BO_LOG_ERROR, "room", r->oid, 0, err, "record %llu does not decode",
               (unsigned long long)seq);
        r->state = BO_ROOM_BROKEN;
        return;
    }
    if (ev.seq != seq) {
        bo_event_cleanup(&ev);
        r->state = BO_ROOM_BROKEN;
        return;
    }
    if (ingest_event(r, &ev) == BO_E_OK)
        room_pump(r);
}

/* ---------- loading and gap filling ---------- */

static void finish_pending_joins(bo_room *r)
{
    bo_u64vec joins = r->pending_joins;
    memset(&r->pending_joins, 0, sizeof(r->pending_joins));
    for (size_t i = 0; i < joins.n; i++) {
        pending_join *pj = (pending_join *)(uintptr_t)joins.v[i];
        bo_conn *c = bo__conn_find(r->srv, pj->conn_id);
        if (c) {
            c->joining = false;
            bo__room_join(r, c, pj->req_id, &pj->since);
        }
        free(pj);
    }
    bo__u64vec_cleanup(&joins);
}

static void on_range(void *ud, bo_err err, const bo_store_rec *recs, size_t n)
{
    bo_room *r = ud;
    r->filling = false;
    if (err == BO_E_CANCELED)
        return;
    if (err) {
        bo_log(BO_LOG_WARN, "room", r->oid, 0, err, "reading the log failed; retrying on resync");
        return;
    }
    for (size_t i = 0; i < n && r->state != BO_ROOM_BROKEN; i++) {
        if (recs[i].seq <= bo_session_seq(r->sess))
            continue;
        bo_event ev;
        bo_err e = bo_event_decode_record(r->oid, recs[i].p, recs[i].len, &ev);
        if (e || ev.seq != recs[i].seq) {
            if (!e)
                bo_event_cleanup(&ev);
            bo_log(BO_LOG_ERROR, "room", r->oid, 0, e ? e : BO_E_BAD_FIELD,
                   "stored record %llu is invalid: the opening stops here",
                   (unsigned long long)recs[i].seq);
            r->state = BO_ROOM_BROKEN;
            break;
        }
        ingest_event(r, &ev);
    }
    if (r->state == BO_ROOM_BROKEN) {
        finish_pending_joins(r);
        return;
    }
    if (n == RANGE_BATCH || r->refill) {
        r->refill = false;
        room_fill(r);
        return;
    }
    if (r->resolving) {
        resolve_uncertain(r);
        if (r->in_flight)
            return; /* resent: its callback continues */
    }
    if (r->state == BO_ROOM_LOADING) {
        r->state = BO_ROOM_READY;
        if (bo_session_seq(r->sess) > 0)
            bo_log(BO_LOG_INFO, "room", r->oid, 0, BO_E_OK, "loaded %llu events, phase %s",
                   (unsigned long long)bo_session_seq(r->sess),
                   bo_phase_name(bo_session_phase(r->sess)));
        room_schedule_timer(r);
        finish_pending_joins(r);
    }
    room_pump(r);
}

static void room_fill(bo_room *r)
{
    if (r->filling) {
        r->refill = true;
        return;
    }
    if (!r->srv->store_up)
        return; /* bo__room_resync runs when the store is back */
    r->filling = true;
    bo_err err = bo_store_range(r->srv->store, r->oid, bo_session_seq(r->sess) + 1, RANGE_BATCH,
                                on_range, r);
    if (err)
        r->filling = false;
}

void bo__room_store_down(bo_room *r)
{
    /* Commands still waiting were never sent: tell their clients now (nothing changed). The
     * one in flight, if any, waits: its outcome is resolved when the store is back. */
    while (r->q_head) {
        bo_pcmd *p = r->q_head;
        r->q_head = p->next;
        p->next = NULL;
        reply_pcmd_err(r, p, BO_E_STORE_UNAVAILABLE, NULL);
        bo__pcmd_free(p);
    }
    r->q_tail = NULL;
}

void bo__room_resync(bo_room *r)
{
    if (r->state == BO_ROOM_BROKEN)
        return;
    if (r->flight_uncertain)
        r->resolving = true;
    room_fill(r);
}

/* ---------- timers ---------- */

static void on_timer(uv_timer_t *t)
{
    bo_room *r = t->data;
    for (bo_pcmd *p = r->q_head; p; p = p->next)
        if (p->type == BO_CMD_TICK)
            return; /* one tick queued is enough */
    bo_pcmd *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    p->type = BO_CMD_TICK;
    p->actor.role = BO_ROLE_SYSTEM;
    bo__room_enqueue(r, p);
}

static void room_schedule_timer(bo_room *r)
{
    uv_timer_stop(&r->timer);
    bo_time_ms next = bo_session_next_timer(r->sess);
    if (!next)
        return;
    int64_t delay = next - bo_clock_now_ms();
    uv_timer_start(&r->timer, on_timer, delay > 0 ? (uint64_t)delay : 0, 0);
}

/* ---------- the command pipeline ---------- */

static void reply_pcmd_err(bo_room *r, bo_pcmd *p, bo_err err, const char *detail)
{
    bo_conn *c = p->replied ? NULL : bo__conn_find(r->srv, p->conn_id);
    if (p->type == BO_CMD_TICK) {
        if (err != BO_E_OK)
            bo_log(BO_LOG_WARN, "room", r->oid, 0, err, "timer transition not applied: %s",
                   detail && *detail ? detail : bo_strerror(err));
        return;
    }
    bo_log(BO_LOG_INFO, "room", r->oid, p->conn_id, err, "refused %s: %s",
           bo__cmd_type_name(p->type), detail && *detail ? detail : bo_strerror(err));
    if (!c)
        return;
    char msg[400];
    snprintf(msg, sizeof(msg), "%s%s%s", bo_strerror(err), detail && *detail ? ": " : "",
             detail ? detail : "");
    bo__conn_reply_err(c, true, p->req_id, err, msg);
}

const char *bo__cmd_type_name(bo_cmd_type t)
{
    static const char *names[] = {"?",      "create", "tick",     "register",
                                  "signin", "pause",  "resume",   "fail",
                                  "submit", "decrypt_start", "decrypt_refused",
                                  "decrypt_diag", "bid_decrypted", "decrypt_extend", "classify",
                                  "decrypt_reissue", "announce", "draw", "benchmark",
                                  "confirm_open", "confirm", "object", "answer", "message",
                                  "close"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void reply_pcmd_ok(bo_room *r, bo_pcmd *p, const bo_apply_info *info)
{
    if (p->replied)
        return; /* told E_STORE_PENDING earlier: the event stream says the rest */
    bo_log(BO_LOG_DEBUG, "room", r->oid, p->conn_id, BO_E_OK, "%s done%s",
           bo__cmd_type_name(p->type), info->already ? " (already)" : "");
    bo_conn *c = bo__conn_find(r->srv, p->conn_id);
    if (!c)
        return;
    if (info->refuse_after != BO_E_OK) {
        reply_pcmd_err(r, p, info->refuse_after, NULL);
        return;
    }
    bo_err err;
    bo_buf b;
    bo_buf_init(&b, 64 * 1024);
    if (p->type == BO_CMD_SUBMIT) {
        if (bo__submit_reply_data(r, p, info->replaced, &b) == BO_E_OK)
            bo__conn_reply_ok(c, p->req_id, b.data, b.len);
        else
            bo__conn_reply_err(c, true, p->req_id, BO_E_INTERNAL, NULL);
        bo_buf_cleanup(&b);
        return;
    }
    bo_mpmap *m = bo_mpmap_new(&err);
    if (m) {
        if (p->type == BO_CMD_CREATE)
            bo_mpmap_str(m, "oid", r->oid);
        if (p->type == BO_CMD_DECRYPT_START || p->type == BO_CMD_DECRYPT_EXTEND) {
            bo_time_ms ends_at = 0;
            bo_session_decrypt_progress(r->sess, NULL, NULL, NULL, &ends_at);
            bo_mpmap_i64(m, "ends_at", ends_at);
        }
        if (p->type == BO_CMD_SIGNIN || p->type == BO_CMD_CONFIRM)
            bo_mpmap_bool(m, "already", info->already);
        if (p->type == BO_CMD_SIGNIN && p->t0_mono)
            bo_metrics_observe(&r->srv->m.signin_ms, bo_clock_mono_ms() - p->t0_mono);
        if (p->type == BO_CMD_REGISTER) {
            bo_mpmap_bool(m, "replaced", info->replaced);
            bo_mpmap_bool(m, "already", info->already);
        }
        bo_mpmap_finish(m, &b);
        bo_mpmap_free(m);
    }
    bo__conn_reply_ok(c, p->req_id, b.data, b.len);
    bo_buf_cleanup(&b);
}

/* The phase named by the last phase_changed among evs, else the current one. */
static bo_phase phase_after(const bo_room *r, const bo_event_list *evs)
{
    bo_phase ph = bo_session_phase(r->sess);
    for (size_t i = 0; i < evs->n; i++) {
        if (evs->v[i].kind != BO_EV_PHASE_CHANGED)
            continue;
        msgpack_zone *z = NULL;
        msgpack_object o;
        if (bo_mp_parse(evs->v[i].body, evs->v[i].body_len, &z, &o) == BO_E_OK) {
            const char *s;
            size_t n;
            char name[32];
            if (bo_mpo_str(&o, "to", &s, &n) && n < sizeof(name)) {
                memcpy(name, s, n);
                name[n] = 0;
                bo_phase p;
                if (bo_phase_parse(name, &p) == BO_E_OK)
                    ph = p;
            }
        }
        if (z)
            msgpack_zone_free(z);
    }
    return ph;
}

static bo_err add_signed_head(bo_room *r, bo_event_list *evs, bo_time_ms now)
{
    const bo_event *last = &evs->v[evs->n - 1];
    bo_buf payload, sig;
    bo_buf_init(&payload, 1024);
    bo_buf_init(&sig, 1024);
    bo_err err = bo_session_head_payload(r->oid, last->seq, last->hash, now, &payload);
    if (!err)
        err = bo_key_sign(r->srv->sign_key, BO_CTX_HEAD, payload.data, payload.len, &sig);
    if (!err)
        err = bo_session_head_event(r->sess, phase_after(r, evs), last->seq, last->hash, now,
                                    sig.data, sig.len, r->srv->sign_key_fpr, evs);
    if (!err)
        err = bo_session_seal(r->sess, evs);
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return err;
}

static void on_appended(void *ud, bo_err err, uint64_t current);

/* Encode the in-flight events and compare-and-append them after their first seq - 1.
 * Errors are those of bo_store_append (then the callback does not run). */
static bo_err send_flight(bo_room *r)
{
    bo_event_list *evs = &r->flight_evs;
    bo_store_rec *recs = calloc(evs->n, sizeof(*recs));
    bo_buf *bufs = calloc(evs->n, sizeof(*bufs));
    bo_err err = recs && bufs ? BO_E_OK : BO_E_NOMEM;
    for (size_t i = 0; !err && i < evs->n; i++) {
        bo_buf_init(&bufs[i], 16u << 20);
        err = bo_event_encode_record(&evs->v[i], &bufs[i]);
        recs[i].seq = evs->v[i].seq;
        recs[i].p = bufs[i].data;
        recs[i].len = bufs[i].len;
    }
    if (!err)
        err = bo_store_append(r->srv->store, r->oid, evs->v[0].seq - 1, recs, evs->n,
                              on_appended, r);
    for (size_t i = 0; bufs && i < evs->n; i++)
        bo_buf_cleanup(&bufs[i]);
    free(bufs);
    free(recs);
    return err;
}

static void finish_ok(bo_room *r, bo_pcmd *p)
{
    r->srv->m.events_appended += r->flight_evs.n;
    for (size_t i = 0; i < r->flight_evs.n; i++)
        ingest_event(r, &r->flight_evs.v[i]); /* skips what a fill already brought */
    bo_event_list_cleanup(&r->flight_evs);
    bo__decrypt_adopt(r, p);
    reply_pcmd_ok(r, p, &r->flight_info);
    bo__pcmd_free(p);
    room_pump(r);
}

/* Back to the queue's head, to be decided again against the newer state. */
static void requeue(bo_room *r, bo_pcmd *p)
{
    bo_event_list_cleanup(&r->flight_evs);
    bo__decrypt_prep_free(p);
    p->next = r->q_head;
    r->q_head = p;
    if (!r->q_tail)
        r->q_tail = p;
}

/* The in-flight append timed out or its connection broke: Redis may or may not have run it.
 * Once the store is back and the log is read up to date, this decides which: if the first
 * event at its seq is ours, it was stored (reply ok); if another event holds that seq, it
 * was not (decide again); if the log is shorter, send the very same append again (the
 * compare-and-append makes a late copy of the first attempt fail). So a command whose
 * outcome was unknown is stored exactly once, and its client hears the truth. */
static void resolve_uncertain(bo_room *r)
{
    r->resolving = false;
    bo_pcmd *p = r->in_flight;
    if (!p || !r->flight_uncertain)
        return;
    uint64_t first = r->flight_evs.v[0].seq;
    if (r->n_evs >= first) {
        r->in_flight = NULL;
        r->flight_uncertain = false;
        if (!memcmp(r->evs[first - 1].ev.hash, r->flight_evs.v[0].hash, 32)) {
            bo_log(BO_LOG_INFO, "room", r->oid, p->conn_id, BO_E_OK,
                   "%s was stored before the store connection failed", bo__cmd_type_name(p->type));
            finish_ok(r, p);
        } else {
            requeue(r, p);
            room_pump(r);
        }
        return;
    }
    if (send_flight(r) != BO_E_OK)
        r->flight_uncertain = true; /* still unknown: the next resync tries again */
}

static void on_appended(void *ud, bo_err err, uint64_t current)
{
    bo_room *r = ud;
    bo_pcmd *p = r->in_flight;
    if (!p)
        return;
    (void)current;
    if (err == BO_E_OK) {
        r->in_flight = NULL;
        r->flight_uncertain = false;
        finish_ok(r, p);
        return;
    }
    if (err == BO_E_STORE_UNAVAILABLE) {
        /* Unknown outcome: keep the command in flight (the room waits) until the store is
         * back; bo__room_resync resolves it, writing it exactly once. Its client hears so now
         * (and only now: there is one reply per request). */
        r->flight_uncertain = true;
        if (!p->replied) {
            reply_pcmd_err(r, p, BO_E_STORE_PENDING, NULL);
            p->replied = true;
        }
        bo_log(BO_LOG_WARN, "room", r->oid, p->conn_id, err,
               "%s: store unavailable while appending; outcome resolved when it is back",
               bo__cmd_type_name(p->type));
        if (r->srv->store_up) {
            r->resolving = true;
            room_fill(r);
        }
        return;
    }
    if (err == BO_E_CONFLICT && r->flight_uncertain) {
        r->resolving = true; /* maybe our first attempt: read the log, then decide */
        room_fill(r);
        return;
    }
    r->in_flight = NULL;
    if (err == BO_E_CANCELED) {
        bo_event_list_cleanup(&r->flight_evs);
        reply_pcmd_err(r, p, BO_E_SHUTTING_DOWN, NULL);
        bo__pcmd_free(p);
        return;
    }
    if (err == BO_E_CONFLICT && p->retries++ < BO_CMD_RETRIES) {
        /* Someone else appended first: catch up, then decide again. */
        requeue(r, p);
        room_fill(r);
        return;
    }
    bo_event_list_cleanup(&r->flight_evs);
    reply_pcmd_err(r, p, err == BO_E_CONFLICT ? BO_E_CONFLICT : BO_E_STORE,
                   err == BO_E_CONFLICT ? "too many concurrent changes" : NULL);
    bo__pcmd_free(p);
    room_pump(r);
}

/* Decide one command and start its append. Returns true if an append is in flight. */
static bool process(bo_room *r, bo_pcmd *p)
{
    bo_cmd cmd;
    memset(&cmd, 0, sizeof(cmd));
    cmd.type = p->type;
    cmd.actor = &p->actor;
    cmd.now = p->fixed_now ? p->fixed_now : bo_clock_now_ms();
    cmd.tender = p->tender;
    bo_bid_info bid;
    if (p->has_bid) {
        memset(&bid, 0, sizeof(bid));
        memcpy(bid.hash, p->bid_hash, 32);
        memcpy(bid.commit, p->bid_commit, 32);
        bid.size = p->bid_size;
        bid.cipher = p->bid_cipher;
        bid.ri.p = p->bid_ri;
        bid.ri.len = p->bid_ri_len;
        bid.receipt_sig.p = p->receipt_sig;
        bid.receipt_sig.len = p->receipt_sig_len;
        cmd.bid = &bid;
    }
    memcpy(cmd.seed_commit, p->seed_commit, sizeof(cmd.seed_commit));
    cmd.sig.p = p->sig;
    cmd.sig.len = p->sig_len;
    cmd.reason = p->has_reason ? p->reason : NULL;
    cmd.blacklisted = p->blacklisted;
    cmd.bl_reason = p->blacklisted ? p->bl_reason : NULL;
    cmd.bl_source = p->blacklisted ? p->bl_source : NULL;
    bo_err perr = bo__decrypt_prepare(r, p, cmd.now);
    if (perr) {
        reply_pcmd_err(r, p, BO_E_INTERNAL, "could not prepare the decryption requests");
        bo__pcmd_free(p);
        return false;
    }
    cmd.reqs = p->reqs;
    cmd.n_reqs = p->n_reqs;
    cmd.window_s = p->window_s;
    cmd.uscc = p->target_uscc[0] ? p->target_uscc : NULL;
    cmd.req = p->req[0] ? p->req : NULL;
    cmd.code = p->code;
    cmd.stage = p->stage[0] ? p->stage : NULL;
    cmd.error = p->stage[0] ? p->error : NULL;
    memcpy(cmd.cert_fpr, p->cert_fpr, 32);
    cmd.form.p = p->form;
    cmd.form.len = p->form_len;
    cmd.outcome = p->outcome[0] ? p->outcome : NULL;
    if (p->resp_req[0]) {
        cmd.resp_req = p->resp_req;
        memcpy(cmd.resp_client_pub, p->resp_client_pub, 32);
        cmd.resp_wrapped.p = p->resp_wrapped;
        cmd.resp_wrapped.len = p->resp_wrapped_len;
        cmd.resp_sig.p = p->resp_sig;
        cmd.resp_sig.len = p->resp_sig_len;
    }
    cmd.all = p->all;
    cmd.draw = p->draw_id[0] ? p->draw_id : NULL;
    memcpy(cmd.seed, p->seed, 32);
    memcpy(cmd.record_hash, p->record_hash, 32);
    cmd.text = p->text;
    cmd.objection = p->objection;

    bo_event_list evs;
    bo_event_list_init(&evs);
    bo_apply_info info;
    memset(&info, 0, sizeof(info));
    char detail[300] = "";
    bo_err err = bo_session_apply(r->sess, &cmd, &evs, &info, detail, sizeof(detail));
    if (err) {
        reply_pcmd_err(r, p, err, detail);
        bo_event_list_cleanup(&evs);
        bo__pcmd_free(p);
        return false;
    }
    if (evs.n == 0) {
        bool tick = p->type == BO_CMD_TICK;
        if (!tick)
            reply_pcmd_ok(r, p, &info);
        bo__pcmd_free(p);
        if (tick)
            room_schedule_timer(r); /* not due yet (clock skew between nodes): look again */
        return false;
    }
    err = bo_session_seal(r->sess, &evs);
    if (!err && info.needs_head)
        err = add_signed_head(r, &evs, cmd.now);
    if (!err) {
        r->in_flight = p;
        r->flight_evs = evs;
        r->flight_info = info;
        r->flight_uncertain = false;
        err = send_flight(r);
        if (err) {
            r->in_flight = NULL;
            bo_event_list_init(&r->flight_evs);
        }
    }
    if (err) {
        reply_pcmd_err(r, p, err == BO_E_NOMEM ? BO_E_INTERNAL : BO_E_STORE_UNAVAILABLE, NULL);
        bo_event_list_cleanup(&evs);
        bo__pcmd_free(p);
        return false;
    }
    return true;
}

static void room_pump(bo_room *r)
{
    while (!r->in_flight && r->q_head && r->state == BO_ROOM_READY && !r->filling) {
        bo_pcmd *p = r->q_head;
        r->q_head = p->next;
        if (!r->q_head)
            r->q_tail = NULL;
        p->next = NULL;
        if (!r->srv->store_up) {
            reply_pcmd_err(r, p, BO_E_STORE_UNAVAILABLE, NULL);
            bo__pcmd_free(p);
            continue;
        }
        if (process(r, p))
            return;
    }
    if (r->state == BO_ROOM_BROKEN) {
        while (r->q_head) {
            bo_pcmd *p = r->q_head;
            r->q_head = p->next;
            reply_pcmd_err(r, p, BO_E_INTERNAL, "this opening's log failed verification");
            bo__pcmd_free(p);
        }
        r->q_tail = NULL;
    }
}

void bo__room_enqueue(bo_room *r, bo_pcmd *p)
{
    if (!r->srv->store_up) {
        reply_pcmd_err(r, p, BO_E_STORE_UNAVAILABLE, NULL);
        bo__pcmd_free(p);
        return;
    }
    p->next = NULL;
    if (r->q_tail)
        r->q_tail->next = p;
    else
        r->q_head = p;
    r->q_tail = p;
    room_pump(r);
}

/* ---------- join / leave ---------- */

static void view_of(const bo_conn *c, bo_view *v)
{
    memset(v, 0, sizeof(*v));
    v->role = c->actor.role;
    v->fpr = c->actor.fpr;
    v->uscc = c->actor.uscc[0] ? c->actor.uscc : NULL;
}

void bo__room_leave(bo_conn *c)
{
    bo_room *r = c->room;
    if (!r)
        return;
    list_del(c);
    r->n_members--;
    r->presence_dirty = true;
    c->room = NULL;
    c->priv_idx = NULL;
    c->priv_st = BO_STREAM_NONE;
}

void bo__room_join(bo_room *r, bo_conn *c, uint64_t req_id, const bo_msg_since *since)
{
    if (c->room)
        bo__room_leave(c);
    if (r->state == BO_ROOM_LOADING) {
        pending_join *pj = calloc(1, sizeof(*pj));
        if (!pj || bo__u64vec_push(&r->pending_joins, (uint64_t)(uintptr_t)pj)) {
            free(pj);
            bo__conn_reply_err(c, true, req_id, BO_E_INTERNAL, NULL);
            return;
        }
        pj->conn_id = c->id;
        pj->req_id = req_id;
        pj->since = *since;
        c->joining = true;
        return;
    }
    if (r->state == BO_ROOM_BROKEN) {
        bo__conn_reply_err(c, true, req_id, BO_E_INTERNAL,
                           "this opening's log failed verification; the operator has been told");
        return;
    }
    if (bo_session_seq(r->sess) == 0) {
        bo__conn_reply_err(c, true, req_id, BO_E_NOT_FOUND, "no opening with this id");
        return;
    }
    if (bo__auth_link_refuse_join(c, r, req_id))
        return;
    bo_view v;
    view_of(c, &v);
    bo_stream priv = bo_session_private_stream(r->sess, &v);
    bo_u64vec *pv = NULL;
    if (priv == BO_STREAM_STAFF)
        pv = &r->staff_idx;
    else if (priv == BO_STREAM_BIDDER)
        pv = bidder_vec(r, c->actor.uscc, true);
    bo_member_list *list = &r->pub_members;
    if (priv == BO_STREAM_STAFF)
        list = &r->staff_members;
    else if (priv == BO_STREAM_ALL)
        list = &r->sup_members;
    else if (priv == BO_STREAM_BIDDER)
        list = bidder_list(r, c->actor.uscc, true);
    if ((priv == BO_STREAM_BIDDER && !pv) || !list) {
        bo__conn_reply_err(c, true, req_id, BO_E_INTERNAL, NULL);
        return;
    }

    uint64_t pub_n = r->pub_idx.n, priv_n = pv ? pv->n : 0;
    bool recovered = false;
    uint64_t replay = 0;
    if (priv == BO_STREAM_ALL) {
        c->next_priv = r->n_evs + 1;
        if (since->present && since->has_all && since->all <= r->n_evs &&
            r->n_evs - since->all <= BO_REPLAY_CAP) {
            c->next_priv = since->all + 1;
            recovered = true;
            replay = r->n_evs - since->all;
        }
    } else {
        c->next_pub = pub_n + 1;
        c->next_priv = priv_n + 1;
        bool priv_ok = priv == BO_STREAM_NONE || (since->has_priv && since->priv <= priv_n);
        if (since->present && since->has_pub && since->pub <= pub_n && priv_ok) {
            uint64_t behind = (pub_n - since->pub) + (pv ? priv_n - since->priv : 0);
            if (behind <= BO_REPLAY_CAP) {
                c->next_pub = since->pub + 1;
                if (pv)
                    c->next_priv = since->priv + 1;
                recovered = true;
                replay = behind;
            }
        }
    }

    bo_buf snap, data;
    bo_buf_init(&snap, 8u << 20);
    bo_buf_init(&data, 8u << 20);
    bo_err err = bo_session_snapshot(r->sess, &v, bo_clock_now_ms(), &snap);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        bo_mpmap_raw(m, "snap", snap.data, snap.len);
        bo_mpmap_bool(m, "recovered", recovered);
        bo_mpmap_u64(m, "replay", replay);
        err = bo_mpmap_finish(m, &data);
        bo_mpmap_free(m);
    }
    if (err) {
        bo__conn_reply_err(c, true, req_id, BO_E_INTERNAL, NULL);
    } else {
        c->room = r;
        c->priv_st = priv;
        c->priv_idx = pv;
        c->progress_mono = bo_clock_mono_ms();
        list_add(list, c);
        r->n_members++;
        r->presence_dirty = true;
        bo__conn_reply_ok(c, req_id, data.data, data.len);
    }
    bo_buf_cleanup(&snap);
    bo_buf_cleanup(&data);
}

/* ---------- presence (pushed to the host and supervisors, at most once a second) ---------- */

static void count_list(const bo_member_list *l, unsigned counts[8])
{
    for (const bo_conn *c = l->head; c; c = c->m_next)
        if (c->actor.role < 8)
            counts[c->actor.role]++;
}

static bo_err presence_body(bo_room *r, bool full, bo_buf *out)
{
    unsigned counts[8] = {0};
    count_list(&r->pub_members, counts);
    count_list(&r->staff_members, counts);
    count_list(&r->sup_members, counts);
    size_t pos = 0;
    void *l;
    while (bo_map_next(r->bidder_members, &pos, NULL, NULL, &l))
        count_list(l, counts);

    bo_err err;
    bo_mpmap *online = bo_mpmap_new(&err);
    bo_mpmap *top = online ? bo_mpmap_new(&err) : NULL;
    bo_buf tmp, sites, staff, bidders;
    bo_buf_init(&tmp, 1u << 20);
    bo_buf_init(&sites, 1u << 20);
    bo_buf_init(&staff, 1u << 20);
    bo_buf_init(&bidders, 4u << 20);
    if (!top)
        goto out;
    for (bo_role role = BO_ROLE_OPERATOR; role <= BO_ROLE_OBSERVER; role++)
        bo_mpmap_u64(online, bo_role_name(role), counts[role]);
    bo_mpmap_finish(online, &tmp);
    bo_mpmap_raw(top, "online", tmp.data, tmp.len);

    /* sites and staff: always by name (they are not bidders) */
    uint32_t n_sites = 0, n_staff = 0, n_bidders = 0;
    bo_buf site_items, staff_items, bidder_items;
    bo_buf_init(&site_items, 1u << 20);
    bo_buf_init(&staff_items, 1u << 20);
    bo_buf_init(&bidder_items, 4u << 20);
    const bo_member_list *lists[3] = {&r->pub_members, &r->staff_members, &r->sup_members};
    for (int i = 0; i < 3; i++)
        for (const bo_conn *c = lists[i]->head; c; c = c->m_next) {
            bo_mpmap *it = bo_mpmap_new(&err);
            if (!it)
                continue;
            bo_buf one;
            bo_buf_init(&one, 4096);
            if (c->actor.role == BO_ROLE_SITE) {
                bo_mpmap_str(it, "name", c->actor.org);
                bo_mpmap_i64(it, "rtt_ms", c->rtt_ms);
                bo_mpmap_finish(it, &one);
                bo_buf_append(&site_items, one.data, one.len);
                n_sites++;
            } else if (c->actor.role == BO_ROLE_HOST || c->actor.role == BO_ROLE_SUPERVISOR ||
                       c->actor.role == BO_ROLE_OPERATOR) {
                bo_mpmap_str(it, "role", bo_role_name(c->actor.role));
                bo_mpmap_str(it, "name", c->actor.org);
                bo_mpmap_finish(it, &one);
                bo_buf_append(&staff_items, one.data, one.len);
                n_staff++;
            }
            bo_mpmap_free(it);
            bo_buf_cleanup(&one);
        }
    if (full) {
        pos = 0;
        const void *key;
        size_t klen;
        while (bo_map_next(r->bidder_members, &pos, &key, &klen, &l)) {
            const bo_member_list *bl = l;
            if (!bl->n)
                continue;
            bo_mpmap *it = bo_mpmap_new(&err);
            if (!it)
                continue;
            bo_buf one;
            bo_buf_init(&one, 4096);
            bo_mpmap_strn(it, "uscc", key, klen);
            bo_mpmap_str(it, "org", bl->head->actor.org);
            bo_mpmap_u64(it, "conns", bl->n);
            bo_mpmap_finish(it, &one);
            bo_buf_append(&bidder_items, one.data, one.len);
            n_bidders++;
            bo_mpmap_free(it);
            bo_buf_cleanup(&one);
        }
    }
    bo_mp_array_header(&sites, n_sites);
    bo_buf_append(&sites, site_items.data, site_items.len);
    bo_mp_array_header(&staff, n_staff);
    bo_buf_append(&staff, staff_items.data, staff_items.len);
    bo_mpmap_raw(top, "sites", sites.data, sites.len);
    bo_mpmap_raw(top, "staff", staff.data, staff.len);
    bo__decrypt_progress_put(r->srv, r, top);
    if (full) {
        bo_mp_array_header(&bidders, n_bidders);
        bo_buf_append(&bidders, bidder_items.data, bidder_items.len);
        bo_mpmap_raw(top, "bidders", bidders.data, bidders.len);
    }
    bo_buf_cleanup(&site_items);
    bo_buf_cleanup(&staff_items);
    bo_buf_cleanup(&bidder_items);
    err = bo_mpmap_finish(top, out);
out:
    bo_mpmap_free(online);
    bo_mpmap_free(top);
    bo_buf_cleanup(&tmp);
    bo_buf_cleanup(&sites);
    bo_buf_cleanup(&staff);
    bo_buf_cleanup(&bidders);
    return err;
}

static void send_presence(bo_room *r, bo_member_list *l, bool full)
{
    if (!l->n)
        return;
    bo_buf body, frame;
    bo_buf_init(&body, 8u << 20);
    bo_buf_init(&frame, 8u << 20);
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_PRESENCE;
    m.u.presence.oid = r->oid;
    msgpack_zone *z = NULL;
    msgpack_object o;
    if (presence_body(r, full, &body) == BO_E_OK &&
        bo_mp_parse(body.data, body.len, &z, &o) == BO_E_OK) {
        m.u.presence.data.mp.p = body.data;
        m.u.presence.data.mp.len = body.len;
        m.u.presence.data.obj = &o;
        if (bo_wire_encode(&frame, &m) == BO_E_OK)
            for (bo_conn *c = l->head; c; c = c->m_next)
                bo__conn_send(c, frame.data, frame.len);
    }
    if (z)
        msgpack_zone_free(z);
    bo_buf_cleanup(&body);
    bo_buf_cleanup(&frame);
}

void bo__room_presence_flush(bo_room *r)
{
    if (!r->presence_dirty)
        return;
    r->presence_dirty = false;
    /* The host learns who the bidders are only once the list is public (招标投标法 §22). */
    send_presence(r, &r->staff_members, bo_session_revealed(r->sess));
    send_presence(r, &r->sup_members, true);
}
