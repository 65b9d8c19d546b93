/* bidopen-server: one WebSocket connection: frames in, frames out, limits, closing.
 *
 * Outgoing data has two sources: the connection's control queue (replies, pushes), which
 * goes first, and the room's event streams, read through the connection's cursors. Exactly
 * one lws_write happens per WRITEABLE; the connection re-arms while anything is pending. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/log.h"
#include "bo_server_internal.h"

bo_frame *bo__frame_new(const uint8_t *p, size_t len)
{
    bo_frame *f = malloc(sizeof(*f) + LWS_PRE + len);
    if (!f)
        return NULL;
    f->next = NULL;
    f->len = len;
    memcpy(f->data + LWS_PRE, p, len);
    return f;
}

bo_err bo__u64vec_push(bo_u64vec *vec, uint64_t x)
{
    if (vec->n == vec->alloc) {
        size_t na = vec->alloc ? vec->alloc * 2 : 16;
        uint64_t *v = realloc(vec->v, na * sizeof(*v));
        if (!v)
            return BO_E_NOMEM;
        vec->v = v;
        vec->alloc = na;
    }
    vec->v[vec->n++] = x;
    return BO_E_OK;
}

void bo__u64vec_cleanup(bo_u64vec *vec)
{
    free(vec->v);
    memset(vec, 0, sizeof(*vec));
}

bo_conn *bo__conn_find(bo_srv *srv, uint64_t id)
{
    return id ? bo_map_get_u64(srv->conns, id) : NULL;
}

static void send_hello(bo_conn *c)
{
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_HELLO;
    m.u.hello.v = 1;
    m.u.hello.time = bo_clock_now_ms();
    m.u.hello.nonce.p = c->actor.nonce;
    m.u.hello.nonce.len = sizeof(c->actor.nonce);
    m.u.hello.node = c->srv->node;
    m.u.hello.caps = c->srv->caps;
    bo_buf b;
    bo_buf_init(&b, 4096);
    if (bo_wire_encode(&b, &m) == BO_E_OK)
        bo__conn_send(c, b.data, b.len);
    bo_buf_cleanup(&b);
}

bo_conn *bo__conn_new(bo_srv *srv, struct lws *wsi)
{
    bo_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->id = ++srv->next_conn_id;
    c->wsi = wsi;
    c->srv = srv;
    c->rtt_ms = -1;
    c->opened_mono = bo_clock_mono_ms();
    c->rx_mono = c->opened_mono;
    bo_buf_init(&c->rx, (size_t)srv->cfg.max_frame);
    bo_tbucket_init(&c->rate, (double)srv->cfg.msg_rate, (double)srv->cfg.msg_burst,
                    c->opened_mono);
    if (bo_random_bytes(c->actor.nonce, sizeof(c->actor.nonce)) ||
        bo_map_put_u64(srv->conns, c->id, c) != BO_E_OK) {
        bo_buf_cleanup(&c->rx);
        free(c);
        return NULL;
    }
    lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
    if (srv->cfg.sndbuf > 0) {
        int sz = (int)srv->cfg.sndbuf;
        setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    srv->m.conns_accepted++;
    send_hello(c);
    return c;
}

void bo__conn_closed(bo_conn *c)
{
    bo_srv *srv = c->srv;
    bo__room_leave(c);
    bo__submit_conn_closed(c);
    bo__auth_conn_closed(c);
    if (c->state == BO_CONN_AUTHED && srv->n_authed)
        srv->n_authed--;
    bo_map_del_u64(srv->conns, c->id);
    for (bo_frame *f = c->ctrl_head, *n; f; f = n) {
        n = f->next;
        free(f);
    }
    bo_buf_cleanup(&c->rx);
    bo_blob_list_cleanup(&c->sign_chain);
    bo_blob_list_cleanup(&c->enc_chain);
    free(c);
}

void bo__conn_send(bo_conn *c, const uint8_t *p, size_t len)
{
    if (c->close_code)
        return;
    if (c->ctrl_bytes + len > BO_CTRL_QUEUE_CAP) {
        c->srv->m.lagging_closed++;
        bo_log(BO_LOG_WARN, "conn", c->room ? c->room->oid : NULL, c->id, BO_E_LAGGING,
               "outgoing queue full (%zu bytes): closing for resume", c->ctrl_bytes);
        bo__conn_close(c, BO_CLOSE_LAGGING, "E_LAGGING");
        return;
    }
    bo_frame *f = bo__frame_new(p, len);
    if (!f) {
        bo__conn_close(c, BO_CLOSE_LAGGING, "E_NOMEM");
        return;
    }
    if (c->ctrl_tail)
        c->ctrl_tail->next = f;
    else
        c->ctrl_head = f;
    c->ctrl_tail = f;
    c->ctrl_bytes += len;
    lws_callback_on_writable(c->wsi);
}

void bo__conn_send_buf(bo_conn *c, bo_buf *b)
{
    if (b->len)
        bo__conn_send(c, b->data, b->len);
    bo_buf_reset(b);
}

void bo__conn_reply_ok(bo_conn *c, uint64_t re, const uint8_t *data, size_t len)
{
    bo_buf b;
    bo_buf_init(&b, (size_t)c->srv->cfg.max_frame * 4);
    if (bo_wire_encode_ok(&b, re, data, len) == BO_E_OK)
        bo__conn_send(c, b.data, b.len);
    else
        bo_log(BO_LOG_ERROR, "conn", NULL, c->id, BO_E_INTERNAL, "could not encode a reply");
    bo_buf_cleanup(&b);
    c->srv->m.cmds_ok++;
}

void bo__conn_reply_err(bo_conn *c, bool has_re, uint64_t re, bo_err code, const char *msg)
{
    bo_buf b;
    bo_buf_init(&b, 8192);
    if (bo_wire_encode_err(&b, has_re, re, code, msg) == BO_E_OK)
        bo__conn_send(c, b.data, b.len);
    bo_buf_cleanup(&b);
    c->srv->m.cmds_err++;
}

void bo__conn_close(bo_conn *c, uint16_t code, const char *reason)
{
    if (c->close_code)
        return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
    lws_callback_on_writable(c->wsi);
}

/* A frame is complete: rate-limit, decode, dispatch. Returns -1 to drop the connection
 * at once (only when it cannot be told why). */
static int handle_frame(bo_conn *c, bool binary)
{
    if (!binary) {
        bo__conn_reply_err(c, false, 0, BO_E_MALFORMED,
                           "text frames are not accepted: send msgpack in binary frames");
        bo__conn_close(c, BO_CLOSE_MALFORMED, "E_MALFORMED");
        return 0;
    }
    bo_msg *m = NULL;
    uint64_t id = 0;
    char detail[160] = "";
    bo_err err = bo_wire_decode(c->rx.data, c->rx.len, &c->srv->caps, true, &m, &id, detail,
                                sizeof(detail));
    /* The rate is checked after decoding so that a refused request still gets its id back
     * (every request gets exactly one reply). */
    /* Upload chunks are paced by the upload's own queue (bo_submit.c), not by the message
     * rate: a bid of a few hundred MiB would otherwise take an hour. */
    bool chunk = m && m->type == BO_MSG_SUBMIT_CHUNK;
    if (!chunk && !bo_tbucket_take(&c->rate, bo_clock_mono_ms())) {
        bool pong = m && m->type == BO_MSG_PONG;
        bo_msg_free(m);
        if (++c->rate_strikes > 200) {
            bo__conn_close(c, BO_CLOSE_RATE, "E_RATE_LIMITED");
            return 0;
        }
        if (!pong)
            bo__conn_reply_err(c, id != 0, id, BO_E_RATE_LIMITED, NULL);
        return 0;
    }
    c->rate_strikes = 0;
    if (err) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s%s%s", bo_strerror(err), *detail ? ": " : "", detail);
        bo__conn_reply_err(c, id != 0, id, err, msg);
        if (err == BO_E_MALFORMED)
            bo__conn_close(c, BO_CLOSE_MALFORMED, "E_MALFORMED");
        return 0;
    }
    if (bo_log_enabled(BO_LOG_DEBUG))
        bo_log(BO_LOG_DEBUG, "conn", NULL, c->id, BO_E_OK, "received %s (id %llu)",
               bo_msg_type_name(m->type), (unsigned long long)m->id);
    bo__cmd_dispatch(c, m);
    bo_msg_free(m);
    return 0;
}

void bo__conn_authed(bo_conn *c)
{
    if (c->state != BO_CONN_AUTHED)
        c->srv->n_authed++;
    c->state = BO_CONN_AUTHED;
}

void bo__conn_alive(bo_conn *c)
{
    c->rx_mono = bo_clock_mono_ms();
    c->ws_pinged = false;
}

int bo__conn_receive(bo_conn *c, const void *in, size_t len)
{
    if (c->close_code)
        return 0; /* closing: ignore input */
    if (lws_is_first_fragment(c->wsi))
        bo_buf_reset(&c->rx);
    if (bo_buf_append(&c->rx, in, len) != BO_E_OK) {
        char msg[128];
        snprintf(msg, sizeof(msg), "frame larger than %lld bytes", (long long)c->srv->cfg.max_frame);
        bo_buf_reset(&c->rx);
        bo__conn_reply_err(c, false, 0, BO_E_TOO_BIG, msg);
        bo__conn_close(c, BO_CLOSE_MALFORMED, "E_TOO_BIG");
        return 0;
    }
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
        return 0;
    int rc = handle_frame(c, lws_frame_is_binary(c->wsi));
    bo_buf_reset(&c->rx);
    return rc;
}

/* Send the close frame ourselves (code and reason) rather than through lws_close_reason():
 * with Debian's libwebsockets 4.1.6 on a libuv loop, returning -1 right after
 * lws_close_reason() drops the connection before the close frame is written. */
/* lws 4.1 keeps LWS_WRITE_CLOSE private (lib/roles/ws/private-lib-roles-ws.h: 4); lws_write
 * handles it as the close opcode. */
#define BO_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

static int send_close(bo_conn *c)
{
    uint8_t buf[LWS_PRE + 2 + sizeof(c->close_reason)];
    size_t rl = strlen(c->close_reason);
    buf[LWS_PRE] = (uint8_t)(c->close_code >> 8);
    buf[LWS_PRE + 1] = (uint8_t)(c->close_code & 0xff);
    memcpy(buf + LWS_PRE + 2, c->close_reason, rl);
    if (lws_write(c->wsi, buf + LWS_PRE, 2 + rl, BO_LWS_WRITE_CLOSE) < 0)
        return -1;
    /* Linger: keep reading (and ignoring) what the peer still sends until it answers the
     * close or 3 s pass. Closing with unread input would make the kernel send a reset, and
     * the peer could lose the error and the close frame still in flight. */
    c->close_sent = true;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 3);
    return 0;
}

int bo__conn_writeable(bo_conn *c)
{
    if (c->close_sent)
        return 0; /* lingering until the peer closes or the timeout fires */
    if (c->ws_ping_due) {
        uint8_t ping[LWS_PRE + 1];
        c->ws_ping_due = false;
        if (lws_write(c->wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
    } else if (c->ctrl_head) {
        /* what was queued before a close is still sent (the error that explains it) */
        bo_frame *f = c->ctrl_head;
        int n = lws_write(c->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_BINARY);
        c->ctrl_head = f->next;
        if (!c->ctrl_head)
            c->ctrl_tail = NULL;
        c->ctrl_bytes -= f->len;
        free(f);
        if (n < 0)
            return -1;
        c->srv->m.frames_written++;
    } else if (c->close_code) {
        return send_close(c);
    } else if (c->room) {
        int r = bo__room_write_next(c);
        if (r < 0)
            return -1;
    }
    if (c->ws_ping_due || c->ctrl_head || c->close_code || (c->room && bo__room_conn_behind(c)))
        lws_callback_on_writable(c->wsi);
    return 0;
}

void bo__conn_housekeeping(bo_conn *c, int64_t now_mono)
{
    /* Liveness, here rather than lws' retry_and_idle_policy: lws keeps every connection's
     * validity timer in one sorted list and re-inserts it, walking the list from its head,
     * at each establishment and pong, so N connections cost O(N) each (14% of the server's
     * CPU when 5,000 bidders sign in at once, a third of its loop). The same rule as lws':
     * a pong proves the peer reads (the protocol's answer to our ping, or the WebSocket
     * pong to the ping sent after 25 s without one); without one for 40 s the connection
     * is dropped, whatever the peer sends (a client that never reads still writes). */
    if (now_mono - c->rx_mono >= BO_SILENT_CLOSE_MS) {
        bo_log(BO_LOG_INFO, "conn", c->room ? c->room->oid : NULL, c->id, BO_E_TIMEOUT,
               "no pong for %d s: dropping the connection", BO_SILENT_CLOSE_MS / 1000);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    if (now_mono - c->rx_mono >= BO_SILENT_PING_MS && !c->ws_pinged && !c->close_code) {
        c->ws_pinged = c->ws_ping_due = true;
        lws_callback_on_writable(c->wsi);
    }
    if (c->close_code)
        return;
    if (c->state != BO_CONN_AUTHED) {
        /* The deadline is the client's: while its auth waits for a worker, the time is the
         * server's own. Closing then throws the queued check away and the client comes back
         * to the end of the queue with a new TLS handshake (a burst of 5,000 sign-ins had
         * half its bidders go round that way). A refused auth is back to BO_CONN_NEW. */
        if (c->state == BO_CONN_NEW && now_mono - c->opened_mono > BO_AUTH_DEADLINE_MS) {
            c->srv->m.auth_timeouts++;
            bo__conn_reply_err(c, false, 0, BO_E_AUTH_TIMEOUT, NULL);
            bo__conn_close(c, BO_CLOSE_AUTH_TIMEOUT, "E_AUTH_TIMEOUT");
        }
        return;
    }
    if (c->room && bo__room_conn_behind(c) && now_mono - c->progress_mono > c->srv->cfg.max_lag_ms) {
        c->srv->m.lagging_closed++;
        bo_log(BO_LOG_WARN, "conn", c->room->oid, c->id, BO_E_LAGGING,
               "no progress for %lld ms while behind: closing for resume",
               (long long)c->srv->cfg.max_lag_ms);
        bo__conn_close(c, BO_CLOSE_LAGGING, "E_LAGGING");
        return;
    }
    if (now_mono - c->ping_sent_mono >= BO_PING_EVERY_MS) {
        c->ping_sent_mono = now_mono;
        c->ping_n++;
        bo_msg m;
        memset(&m, 0, sizeof(m));
        m.type = BO_MSG_PING;
        m.u.ping.n = c->ping_n;
        m.u.ping.time = bo_clock_now_ms();
        bo_buf b;
        bo_buf_init(&b, 256);
        if (bo_wire_encode(&b, &m) == BO_E_OK)
            bo__conn_send(c, b.data, b.len);
        bo_buf_cleanup(&b);
    }
}
