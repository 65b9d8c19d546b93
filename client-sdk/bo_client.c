/* bidopen client: the connection state machine on libwebsockets 4.1 over a foreign libuv
 * loop. The rules of lws this file lives by (lws READMEs/README.coding.md, v4.1.6):
 *   - write only in CLIENT_WRITEABLE, exactly one lws_write there, re-arm while behind;
 *   - a wsi is closed by returning -1 from its callback or lws_set_timeout(LWS_TO_KILL_ASYNC);
 *   - lws_client_connect_via_info() returning NULL calls no callback; otherwise exactly one
 *     of CLIENT_CONNECTION_ERROR or CLIENT_CLOSED follows (WSI_DESTROY as a backstop);
 *   - with a foreign libuv loop, lws_context_destroy() completes later, on the loop.
 * A wsi points at its client through lws' opaque user data; a client that lets go of a wsi
 * (drop, stop, free) clears that pointer first, so lws can never call into freed memory.
 */
#include "bo/client.h"
#include "bo_client_internal.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/log.h"
#include "bo/sigpayload.h"
#include "bo/timesync.h"
#include "bo/backoff.h"
#include "bo/tender.h"
#include "bo/tlsopts.h"
#include "bo/utf8.h"

#define PROTO "bidopen.v1"
#define CONNECT_MS 20000 /* TCP + TLS + upgrade */
#define AUTH_MS 15000    /* hello received, no auth reply */
#define QUICK_GAP_MS 5000 /* at most one immediate reconnect per this period */
#define CLOSE_GRACE_S 3

typedef struct txframe {
    struct txframe *next;
    uint8_t *data; /* LWS_PRE bytes of headroom, then len bytes */
    size_t len;
} txframe;

typedef enum pend_kind { P_USER = 0, P_AUTH, P_JOIN, P_TIME } pend_kind;

typedef struct pending {
    struct pending *next;
    uint64_t id;
    pend_kind kind;
    int64_t t0; /* P_TIME: local wall clock when sent */
    bo_client_reply_cb cb;
    void *ud;
} pending;

struct bo_client_ctx {
    uv_loop_t *loop;
    struct lws_context *lws; /* NULL once lws finished destroying it (info.pcontext) */
    struct lws_vhost *vhost; /* the default vhost, where client connections live */
    struct lws_protocols protocols[2];
    bo_client *clients;
    uv_timer_t reaper; /* drives the asynchronous destruction */
    uv_handle_t *lws_handles[8]; /* lws' own idle and timer handles on the loop */
    size_t n_lws_handles;
    bool destroy_finishing;
    bool reaper_on;
    bool dying;
    bool destroy_started;
    bool allow_plain;
    bool skip_host;
    char close_marker; /* opaque user data of a wsi being closed gracefully */
};

typedef enum drop_how {
    D_BACKOFF = 0, /* reconnect after the backoff delay, next URL */
    D_QUICK,       /* reconnect at once, same URL (lagging, gap) */
    D_FAIL,        /* give up: FAILED */
    D_CLOSE,       /* stop: CLOSED */
} drop_how;

struct bo_client {
    bo_client_ctx *ctx;
    bo_client *prev, *next;
    /* options */
    char **urls;
    size_t n_urls, url_i;
    char *role;
    char *oid;
    bool observer;
    const bo_key *key;
    bo_bytes_list chain, enc_chain;
    bo_client_callbacks cb;
    void *ud;
    unsigned max_retries, queue_max;
    /* connection */
    bo_client_state state;
    struct lws *wsi;
    uv_timer_t timer;
    int64_t retry_at, deadline, next_time, last_rx, last_quick; /* monotonic ms */
    int64_t overdue; /* the deadline (or idle limit) a timer found passed, judged again
                      * after one turn of I/O: after a stalled loop, what meets it may be
                      * sitting unread (timers run before I/O in a loop turn) */
    uint8_t nonce[32];
    bool have_nonce;
    size_t tx_cap; /* the server's frame cap */
    bo_buf rx;
    bool rx_drop; /* the message being received is refused (text or too big) */
    uint16_t close_code;
    char close_msg[124];
    txframe *txh, *txt;
    unsigned txn;
    pending *pend;
    unsigned npend;
    uint64_t next_id;
    bool time_pending;
    /* resume, clock, retry */
    bo_cursor cur;
    bool pos_priv; /* the last snapshot position had a private stream */
    bo_timesync ts;
    bo_backoff bo;
    uint64_t rng;
    unsigned fails;
    uint64_t connects;
    bo_client_identity me;
    char *me_mem;
    bool have_me;
    /* library features attached to this client (uploads, the decryption responder) */
    bo__client_hook *hooks;
    void *slots[BO__CLIENT_SLOTS];
    /* the record hash the confirmation window opened with (docs/protocol.md §11) */
    uint8_t rec_hash[32];
    bool have_rec_hash;
    unsigned hook_gen;
    bool hooks_changed;
    /* lifetime */
    int busy;
    bool dead;
};

static const char *const state_names[] = {
    [BO_CLIENT_IDLE] = "idle",       [BO_CLIENT_CONNECTING] = "connecting",
    [BO_CLIENT_HELLO] = "hello",     [BO_CLIENT_AUTH] = "auth",
    [BO_CLIENT_JOINING] = "joining", [BO_CLIENT_READY] = "ready",
    [BO_CLIENT_JOINED] = "joined",   [BO_CLIENT_BACKOFF] = "backoff",
    [BO_CLIENT_FAILED] = "failed",   [BO_CLIENT_CLOSED] = "closed",
};

const char *bo_client_state_name(bo_client_state s)
{
    if ((unsigned)s < sizeof(state_names) / sizeof(state_names[0]) && state_names[s])
        return state_names[s];
    return "unknown";
}

/* ------------------------------------------------------------- small helpers ---- */

static bool authed(const bo_client *c)
{
    return c->state == BO_CLIENT_JOINING || c->state == BO_CLIENT_READY ||
           c->state == BO_CLIENT_JOINED;
}

static uint32_t rand32(bo_client *c)
{
    /* xorshift64*: jitter only needs to differ between clients, not to be secret */
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

bo_err bo_client_url_parse(const char *url, bo_client_url *out)
{
    memset(out, 0, sizeof(*out));
    if (!url)
        return BO_E_INVALID_ARG;
    const char *p;
    if (strncmp(url, "wss://", 6) == 0) {
        out->tls = true;
        out->port = 443;
        p = url + 6;
    } else if (strncmp(url, "ws://", 5) == 0) {
        out->port = 80;
        p = url + 5;
    } else {
        return BO_E_INVALID_ARG;
    }
    const char *hs = p, *he;
    if (*p == '[') {
        hs = p + 1;
        he = strchr(hs, ']');
        if (!he)
            return BO_E_INVALID_ARG;
        p = he + 1;
    } else {
        he = p + strcspn(p, ":/?#");
        p = he;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= sizeof(out->host))
        return BO_E_INVALID_ARG;
    memcpy(out->host, hs, hl);
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)out->host[i] <= ' ' || out->host[i] == '@')
            return BO_E_INVALID_ARG;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535)
            return BO_E_INVALID_ARG;
        out->port = (int)port;
        p = end;
    }
    if (*p == 0) {
        strcpy(out->path, "/ws");
        return BO_E_OK;
    }
    if (*p != '/' || strlen(p) >= sizeof(out->path) || strpbrk(p, " \t\r\n#"))
        return BO_E_INVALID_ARG;
    strcpy(out->path, p);
    return BO_E_OK;
}

/* ---------------------------------------------------------------- lifetime ---- */

static void enter(bo_client *c)
{
    c->busy++;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Free the memory (after teardown), once no frame of ours is on the stack. */
static void release(bo_client *c)
{
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void leave(bo_client *c)
{
    if (--c->busy == 0 && c->dead)
        release(c);
}

/* Call every hook's function of one kind, each once, even when hooks come and go during
 * the calls (a hook may remove itself or others, or free the client). */
enum hook_kind { H_STATE, H_SNAPSHOT, H_EVENT };

static void hooks_each(bo_client *c, enum hook_kind kind, bo_client_state st,
                       const msgpack_object *snap, bool recovered, const bo_client_event *ev)
{
    unsigned gen = ++c->hook_gen;
restart:
    for (bo__client_hook *h = c->hooks; h && !c->dead; h = h->next) {
        if (h->gen == gen)
            continue;
        h->gen = gen;
        c->hooks_changed = false;
        if (kind == H_STATE && h->on_state)
            h->on_state(h->ud, st);
        else if (kind == H_SNAPSHOT && h->on_snapshot)
            h->on_snapshot(h->ud, snap, recovered);
        else if (kind == H_EVENT && h->on_event)
            h->on_event(h->ud, ev);
        if (c->hooks_changed)
            goto restart;
    }
}

static void set_state(bo_client *c, bo_client_state st, bo_err err, const char *code,
                      const char *msg)
{
    c->state = st;
    if (c->cb.on_state)
        c->cb.on_state(c->ud, st, err, code, msg);
    if (!c->dead && c->state == st)
        hooks_each(c, H_STATE, st, NULL, false, NULL);
}

static void tx_clear(bo_client *c)
{
    while (c->txh) {
        txframe *f = c->txh;
        c->txh = f->next;
        free(f->data);
        free(f);
    }
    c->txt = NULL;
    c->txn = 0;
}

/* Every pending request gets BO_E_CANCELED (the callbacks may do anything, free c too). */
static void cancel_pending(bo_client *c)
{
    /* a callback may free c: its memory stays until the outermost frame returns, and the
     * nested teardown cancels the rest of the list */
    while (c->pend) {
        pending *p = c->pend;
        c->pend = p->next;
        c->npend--;
        if (p->kind == P_USER && p->cb)
            p->cb(p->ud, BO_E_CANCELED, bo_err_name(BO_E_CANCELED), bo_strerror(BO_E_CANCELED),
                  NULL);
        free(p);
    }
    c->time_pending = false;
}

/* Let go of the wsi: it will be closed by lws; our callback ignores it from now on.
 * graceful: send a close frame (1000) first. */
static void let_go(bo_client *c, bool graceful)
{
    struct lws *wsi = c->wsi;
    c->wsi = NULL;
    if (!wsi)
        return;
    if (graceful && c->ctx->lws) {
        lws_set_opaque_user_data(wsi, &c->ctx->close_marker);
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, CLOSE_GRACE_S);
        lws_callback_on_writable(wsi);
    } else {
        lws_set_opaque_user_data(wsi, NULL);
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void conn_reset(bo_client *c)
{
    tx_clear(c);
    bo_buf_cleanup(&c->rx);
    bo_buf_init(&c->rx, BO_CLIENT_RX_MAX);
    c->rx_drop = false;
    c->have_nonce = false;
    c->deadline = 0;
    c->close_code = 0;
    c->close_msg[0] = 0;
}

static void arm(bo_client *c);
static void connect_now(bo_client *c);

/* The connection is gone (or must go): decide what comes next. Runs callbacks. */
static void drop(bo_client *c, drop_how how, bo_err err, const char *code, const char *msg)
{
    bool was_up = authed(c);
    let_go(c, how == D_CLOSE);
    conn_reset(c);
    int64_t now = bo_clock_mono_ms();
    bo_backoff_down(&c->bo, now);
    if (!was_up)
        c->fails++;
    if (how <= D_QUICK && c->max_retries && c->fails > c->max_retries)
        how = D_FAIL;

    bo_client_state next = how == D_FAIL ? BO_CLIENT_FAILED
                           : how == D_CLOSE ? BO_CLIENT_CLOSED
                                            : BO_CLIENT_BACKOFF;
    c->state = next; /* requests made from the cancel callbacks are refused */
    if (how == D_QUICK && now - c->last_quick >= QUICK_GAP_MS) {
        c->last_quick = now;
        c->retry_at = now;
    } else if (how <= D_QUICK) {
        c->retry_at = now + bo_backoff_next(&c->bo, rand32(c));
        if (how == D_BACKOFF && c->n_urls > 1)
            c->url_i = (c->url_i + 1) % c->n_urls;
    }
    char why[200];
    if (how == D_FAIL && c->max_retries && c->fails > c->max_retries && !code) {
        snprintf(why, sizeof(why), "gave up after %u attempts: %s", c->fails,
                 msg ? msg : bo_strerror(err));
        msg = why;
    }
    cancel_pending(c);
    if (c->dead)
        return;
    set_state(c, next, err, code, msg);
    if (c->dead)
        return;
    arm(c);
}

/* ------------------------------------------------------------------- sending ---- */

static bo_err enqueue(bo_client *c, const bo_msg *m)
{
    if (!c->wsi)
        return BO_E_UNAUTHENTICATED;
    if (c->txn >= c->queue_max)
        return BO_E_TOO_BIG;
    bo_buf b;
    bo_buf_init(&b, LWS_PRE + c->tx_cap);
    uint8_t *pre;
    bo_err err = bo_buf_reserve(&b, LWS_PRE, &pre);
    if (!err) {
        memset(pre, 0, LWS_PRE);
        bo_buf_commit(&b, LWS_PRE);
        err = bo_wire_encode(&b, m);
    }
    txframe *f = err ? NULL : calloc(1, sizeof(*f));
    if (!err && !f)
        err = BO_E_NOMEM;
    if (err) {
        bo_buf_cleanup(&b);
        return err;
    }
    size_t total;
    f->data = bo_buf_steal(&b, &total);
    f->len = total - LWS_PRE;
    if (c->txt)
        c->txt->next = f;
    else
        c->txh = f;
    c->txt = f;
    c->txn++;
    lws_callback_on_writable(c->wsi);
    return BO_E_OK;
}

/* Send a request and remember it; the copy of m gets the next id. */
static bo_err send_req(bo_client *c, const bo_msg *m, pend_kind kind, bo_client_reply_cb cb,
                       void *ud, pending **out)
{
    if (c->npend >= BO_CLIENT_PENDING_MAX)
        return BO_E_TOO_BIG;
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return BO_E_NOMEM;
    bo_msg copy = *m;
    copy.id = p->id = ++c->next_id;
    copy.has_id = true;
    copy.mem = NULL;
    bo_err err = enqueue(c, &copy);
    if (err) {
        free(p);
        return err;
    }
    p->kind = kind;
    p->cb = cb;
    p->ud = ud;
    p->next = c->pend;
    c->pend = p;
    c->npend++;
    if (out)
        *out = p;
    return BO_E_OK;
}

static bo_err send_time(bo_client *c)
{
    bo_msg m = {.type = BO_MSG_TIME};
    m.u.time.t0 = bo_clock_now_ms();
    pending *p;
    bo_err err = send_req(c, &m, P_TIME, NULL, NULL, &p);
    if (!err) {
        p->t0 = m.u.time.t0;
        c->time_pending = true;
    }
    return err;
}

static bo_err send_auth(bo_client *c)
{
    bo_msg m = {.type = BO_MSG_AUTH};
    m.u.auth.role = c->role;
    if (c->observer)
        return send_req(c, &m, P_AUTH, NULL, NULL, NULL);
    bo_buf payload, sig;
    bo_buf_init(&payload, 1024);
    bo_buf_init(&sig, BO_SIG_MAX);
    int64_t t = bo_client_server_now(c);
    bo_err err = bo_sigpayload_auth(&payload, c->nonce, c->role, t);
    if (!err)
        err = bo_key_sign(c->key, BO_CTX_AUTH, payload.data, payload.len, &sig);
    if (!err) {
        m.u.auth.chain = c->chain;
        m.u.auth.enc_chain = c->enc_chain;
        m.u.auth.sig = (bo_bytes){sig.data, sig.len};
        m.u.auth.time = t;
        m.u.auth.has_time = true;
        err = send_req(c, &m, P_AUTH, NULL, NULL, NULL);
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return err;
}

static bo_err send_join(bo_client *c)
{
    bo_msg m = {.type = BO_MSG_JOIN};
    m.u.join.oid = c->oid;
    if (c->cur.set) {
        bo_msg_since *s = &m.u.join.since;
        s->present = true;
        if (c->cur.all) {
            s->has_all = true;
            s->all = c->cur.seq;
        } else {
            s->has_pub = true;
            s->pub = c->cur.pub;
            s->has_priv = c->pos_priv;
            s->priv = c->cur.priv;
        }
    }
    return send_req(c, &m, P_JOIN, NULL, NULL, NULL);
}

/* ------------------------------------------------------------------- timers ---- */

static void on_timer(uv_timer_t *t);

static void arm(bo_client *c)
{
    if (c->dead)
        return;
    int64_t next = -1;
    switch (c->state) {
    case BO_CLIENT_BACKOFF:
        next = c->retry_at;
        break;
    case BO_CLIENT_CONNECTING:
    case BO_CLIENT_HELLO:
    case BO_CLIENT_AUTH:
        next = c->deadline;
        break;
    case BO_CLIENT_JOINING:
    case BO_CLIENT_READY:
    case BO_CLIENT_JOINED:
        next = c->last_rx + BO_CLIENT_IDLE_MS;
        if (c->next_time < next)
            next = c->next_time;
        break;
    default:
        uv_timer_stop(&c->timer);
        return;
    }
    int64_t now = bo_clock_mono_ms();
    /* at least 1 ms: a timer due now and started by a timer would run before any I/O */
    uv_timer_start(&c->timer, on_timer, next > now ? (uint64_t)(next - now) : 1, 0);
}

/* Whether the deadline due has passed for the second time, a turn of I/O apart. */
static bool overdue(bo_client *c, int64_t due, int64_t now)
{
    if (now < due)
        return false;
    if (c->overdue != due) {
        c->overdue = due;
        return false;
    }
    return true;
}

static void on_timer(uv_timer_t *t)
{
    bo_client *c = t->data;
    if (c->dead)
        return;
    enter(c);
    int64_t now = bo_clock_mono_ms();
    switch (c->state) {
    case BO_CLIENT_BACKOFF:
        if (now >= c->retry_at)
            connect_now(c);
        break;
    case BO_CLIENT_CONNECTING:
    case BO_CLIENT_HELLO:
    case BO_CLIENT_AUTH:
        if (overdue(c, c->deadline, now))
            drop(c, D_BACKOFF, BO_E_TIMEOUT, NULL,
                 c->state == BO_CLIENT_CONNECTING ? "could not connect in time"
                 : c->state == BO_CLIENT_HELLO    ? "the server sent no hello"
                                                  : "the server did not answer auth");
        break;
    case BO_CLIENT_JOINING:
    case BO_CLIENT_READY:
    case BO_CLIENT_JOINED:
        if (overdue(c, c->last_rx + BO_CLIENT_IDLE_MS, now)) {
            drop(c, D_BACKOFF, BO_E_TIMEOUT, NULL, "nothing received from the server for 35 s");
            break;
        }
        if (now >= c->next_time) {
            c->next_time = now + BO_CLIENT_TIME_SYNC_MS;
            if (!c->time_pending)
                send_time(c); /* a full queue skips one sync; the next one comes */
        }
        break;
    default:
        break;
    }
    arm(c);
    leave(c);
}

/* ---------------------------------------------------------------- connecting ---- */

static void connect_now(bo_client *c)
{
    bo_client_url u;
    const char *url = c->urls[c->url_i];
    conn_reset(c);
    c->deadline = bo_clock_mono_ms() + CONNECT_MS;
    set_state(c, BO_CLIENT_CONNECTING, BO_E_OK, NULL, NULL);
    if (c->dead || c->state != BO_CLIENT_CONNECTING)
        return;
    if (bo_client_url_parse(url, &u)) { /* checked in bo_client_new */
        drop(c, D_FAIL, BO_E_INVALID_ARG, NULL, "bad server URL");
        return;
    }
    char hosthdr[300];
    if (strchr(u.host, ':'))
        snprintf(hosthdr, sizeof(hosthdr), "[%s]:%d", u.host, u.port);
    else
        snprintf(hosthdr, sizeof(hosthdr), "%s:%d", u.host, u.port);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof(i));
    i.context = c->ctx->lws;
    i.vhost = c->ctx->vhost;
    i.address = u.host;
    i.port = u.port;
    i.path = u.path;
    i.host = hosthdr;
    i.origin = hosthdr;
    if (u.tls) {
        i.ssl_connection = LCCSCF_USE_SSL;
        if (c->ctx->skip_host)
            i.ssl_connection |= LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    }
    i.protocol = PROTO;
    i.local_protocol_name = PROTO;
    i.alpn = "http/1.1";
    i.opaque_user_data = c;
    i.pwsi = &c->wsi;
    if (!lws_client_connect_via_info(&i)) {
        c->wsi = NULL;
        drop(c, D_BACKOFF, BO_E_IO, NULL, "could not start a connection");
        return;
    }
    arm(c);
}

/* ---------------------------------------------------------------- receiving ---- */

static bool code_is_transient(const char *code)
{
    static const char *const t[] = {"E_STORE_UNAVAILABLE", "E_RATE_LIMITED", "E_SHUTTING_DOWN",
                                    "E_INTERNAL", "E_STALE_NONCE", "E_CRL_UNAVAILABLE",
                                    "E_AUTH_TIMEOUT", "E_CONFLICT"};
    for (size_t i = 0; code && i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(code, t[i]) == 0)
            return true;
    return false;
}

static void store_identity(bo_client *c, const msgpack_object *data)
{
    static const char *const keys[] = {"role", "org", "name", "uscc"};
    const char *s[4] = {"", "", "", ""};
    size_t n[4] = {0, 0, 0, 0}, total = 0;
    for (int i = 0; i < 4; i++) {
        if (!bo_mpo_str(data, keys[i], &s[i], &n[i])) {
            s[i] = "";
            n[i] = 0;
        }
        total += n[i] + 1;
    }
    free(c->me_mem);
    c->me_mem = malloc(total);
    c->have_me = c->me_mem != NULL;
    if (!c->me_mem)
        return;
    char *p = c->me_mem;
    const char **dst[4] = {&c->me.role, &c->me.org, &c->me.name, &c->me.uscc};
    for (int i = 0; i < 4; i++) {
        memcpy(p, s[i], n[i]);
        p[n[i]] = 0;
        *dst[i] = p;
        p += n[i] + 1;
    }
    const uint8_t *fpr;
    size_t fl;
    c->me.has_fpr = bo_mpo_bin(data, "fpr", &fpr, &fl) && fl == 32;
    if (c->me.has_fpr)
        memcpy(c->me.fpr, fpr, 32);
}

static void on_auth_reply(bo_client *c, const bo_msg *m)
{
    if (m->type == BO_MSG_ERR) {
        bo_err e = BO_E_INTERNAL;
        bo_err_from_name(m->u.err.code, &e);
        drop(c, code_is_transient(m->u.err.code) ? D_BACKOFF : D_FAIL, e, m->u.err.code,
             m->u.err.msg);
        return;
    }
    store_identity(c, m->u.ok.data.obj);
    int64_t now = bo_clock_mono_ms();
    c->fails = 0;
    bo_backoff_up(&c->bo, now);
    c->deadline = 0;
    c->next_time = now; /* a time sync at once, then every 30 s */
    if (c->oid) {
        bo_err err = send_join(c);
        if (err) {
            drop(c, D_BACKOFF, err, NULL, "could not send join");
            return;
        }
        set_state(c, BO_CLIENT_JOINING, BO_E_OK, NULL, NULL);
    } else {
        set_state(c, BO_CLIENT_READY, BO_E_OK, NULL, NULL);
    }
}

static void on_join_reply(bo_client *c, const bo_msg *m)
{
    if (m->type == BO_MSG_ERR) {
        bo_err e = BO_E_INTERNAL;
        bo_err_from_name(m->u.err.code, &e);
        drop(c, code_is_transient(m->u.err.code) ? D_BACKOFF : D_FAIL, e, m->u.err.code,
             m->u.err.msg);
        return;
    }
    const msgpack_object *data = m->u.ok.data.obj;
    const msgpack_object *snap = bo_mpo_get(data, "snap");
    bool recovered = false;
    bo_mpo_bool(data, "recovered", &recovered);
    const msgpack_object *pos = bo_mpo_get(snap, "pos");
    if (!snap || snap->type != MSGPACK_OBJECT_MAP ||
        bo_cursor_join(&c->cur, pos, &recovered) != BO_E_OK) {
        drop(c, D_BACKOFF, BO_E_MALFORMED, NULL, "the join reply has no valid snapshot");
        return;
    }
    c->pos_priv = bo_mpo_get(pos, "priv") != NULL;
    /* the snapshot is the state at its position, resumed or not */
    const uint8_t *rh;
    size_t rhl;
    c->have_rec_hash = bo_mpo_bin(bo_mpo_get(snap, "confirm"), "record_hash", &rh, &rhl) &&
                       rhl == 32;
    if (c->have_rec_hash)
        memcpy(c->rec_hash, rh, 32);
    c->state = BO_CLIENT_JOINED; /* the replay that follows is delivered */
    if (c->cb.on_snapshot)
        c->cb.on_snapshot(c->ud, snap, recovered);
    if (c->dead || c->state != BO_CLIENT_JOINED)
        return;
    hooks_each(c, H_SNAPSHOT, c->state, snap, recovered, NULL);
    if (c->dead || c->state != BO_CLIENT_JOINED)
        return;
    set_state(c, BO_CLIENT_JOINED, BO_E_OK, NULL, NULL);
}

static void on_reply(bo_client *c, const bo_msg *m)
{
    bool ok = m->type == BO_MSG_OK;
    bool has_re = ok ? m->u.ok.has_re : m->u.err.has_re;
    uint64_t re = ok ? m->u.ok.re : m->u.err.re;
    if (!has_re) {
        /* an err without re answers no request: the server refused the frame itself */
        if (!ok)
            BO_LOGW("client", "server error without request: %s %s", m->u.err.code,
                    m->u.err.msg);
        return;
    }
    pending **pp = &c->pend;
    while (*pp && (*pp)->id != re)
        pp = &(*pp)->next;
    pending *p = *pp;
    if (!p)
        return; /* not ours (or canceled): ignore */
    *pp = p->next;
    c->npend--;
    switch (p->kind) {
    case P_AUTH:
        on_auth_reply(c, m);
        break;
    case P_JOIN:
        on_join_reply(c, m);
        break;
    case P_TIME: {
        c->time_pending = false;
        int64_t t1, t2;
        const msgpack_object *d = ok ? m->u.ok.data.obj : NULL;
        if (d && bo_mpo_i64(d, "t1", &t1) && bo_mpo_i64(d, "t2", &t2))
            bo_timesync_add(&c->ts, p->t0, t1, t2, bo_clock_now_ms());
        break;
    }
    case P_USER:
        if (p->cb) {
            if (ok) {
                p->cb(p->ud, BO_E_OK, NULL, NULL, m->u.ok.data.obj);
            } else {
                bo_err e = BO_E_INTERNAL;
                bo_err_from_name(m->u.err.code, &e);
                p->cb(p->ud, e, m->u.err.code, m->u.err.msg, NULL);
            }
        }
        break;
    }
    free(p);
}

static void on_ev(bo_client *c, const bo_msg *m)
{
    if (c->state != BO_CLIENT_JOINED)
        return; /* before the snapshot: the replay after it brings these again */
    switch (bo_cursor_accept(&c->cur, m->u.ev.st, m->u.ev.seq)) {
    case BO_CURSOR_DELIVER: {
        bo_client_event ev = {
            .oid = m->u.ev.oid,
            .st = m->u.ev.st,
            .seq = m->u.ev.seq,
            .at = m->u.ev.at,
            .has_at = m->u.ev.has_at,
            .ts = m->u.ev.ts,
            .kind = m->u.ev.kind,
            .body = m->u.ev.body.obj,
            .hash = m->u.ev.hash.p,
        };
        const uint8_t *rh;
        size_t rhl;
        if (ev.kind && strcmp(ev.kind, "confirmation_opened") == 0 &&
            bo_mpo_bin(ev.body, "record_hash", &rh, &rhl) && rhl == 32) {
            memcpy(c->rec_hash, rh, 32); /* before the callbacks: they may confirm at once */
            c->have_rec_hash = true;
        }
        if (c->cb.on_event)
            c->cb.on_event(c->ud, &ev);
        if (!c->dead && c->state == BO_CLIENT_JOINED)
            hooks_each(c, H_EVENT, c->state, NULL, false, &ev);
        break;
    }
    case BO_CURSOR_DUP:
        break;
    case BO_CURSOR_GAP: {
        char why[120];
        snprintf(why, sizeof(why), "events missing before %s #%llu: resuming", m->u.ev.st,
                 (unsigned long long)m->u.ev.seq);
        drop(c, D_QUICK, BO_E_RESUME_GAP, NULL, why);
        break;
    }
    case BO_CURSOR_INVALID:
        BO_LOGW("client", "event on a stream this client does not read: %s #%llu",
                m->u.ev.st, (unsigned long long)m->u.ev.seq);
        break;
    }
}

static void on_message(bo_client *c, const uint8_t *p, size_t len)
{
    bo_wire_caps caps;
    bo_wire_caps_default(&caps);
    caps.frame = BO_CLIENT_RX_MAX;
    caps.elems = 1000000;
    caps.depth = 16;
    bo_msg *m = NULL;
    uint64_t id = 0;
    char detail[120] = "";
    bo_err err = bo_wire_decode(p, len, &caps, false, &m, &id, detail, sizeof(detail));
    if (err) {
        char why[200];
        snprintf(why, sizeof(why), "undecodable message from the server (%s%s%s)",
                 bo_err_name(err), detail[0] ? ": " : "", detail);
        drop(c, D_BACKOFF, BO_E_MALFORMED, NULL, why);
        return;
    }
    switch (m->type) {
    case BO_MSG_HELLO:
        if (c->state != BO_CLIENT_HELLO || m->u.hello.nonce.len != 32) {
            drop(c, D_BACKOFF, BO_E_MALFORMED, NULL, "unexpected hello");
            break;
        }
        memcpy(c->nonce, m->u.hello.nonce.p, 32);
        c->have_nonce = true;
        if (m->u.hello.caps.frame)
            c->tx_cap = m->u.hello.caps.frame;
        bo_timesync_forget(&c->ts);
        bo_timesync_hint(&c->ts, m->u.hello.time, bo_clock_now_ms());
        err = send_auth(c);
        if (err) {
            drop(c, err == BO_E_TOO_BIG || err == BO_E_NOMEM ? D_BACKOFF : D_FAIL, err, NULL,
                 "could not sign the authentication");
            break;
        }
        c->deadline = bo_clock_mono_ms() + AUTH_MS;
        set_state(c, BO_CLIENT_AUTH, BO_E_OK, NULL, NULL);
        break;
    case BO_MSG_OK:
    case BO_MSG_ERR:
        on_reply(c, m);
        break;
    case BO_MSG_EV:
        on_ev(c, m);
        break;
    case BO_MSG_PRESENCE:
        if (c->cb.on_presence && c->state == BO_CLIENT_JOINED)
            c->cb.on_presence(c->ud, m->u.presence.data.obj);
        break;
    case BO_MSG_PING: {
        bo_msg pong = {.type = BO_MSG_PONG};
        pong.u.pong.n = m->u.ping.n;
        enqueue(c, &pong); /* a full queue: the server will see us as slow, rightly */
        break;
    }
    case BO_MSG_NOTICE:
        if (c->cb.on_notice)
            c->cb.on_notice(c->ud, m->u.notice.code, m->u.notice.msg);
        break;
    default:
        break;
    }
    bo_msg_free(m);
}

static void on_receive(bo_client *c, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi)) {
        bo_buf_reset(&c->rx);
        c->rx_drop = !lws_frame_is_binary(wsi);
    }
    if (!c->rx_drop && bo_buf_append(&c->rx, in, len) != BO_E_OK)
        c->rx_drop = true;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return;
    if (c->rx_drop) {
        drop(c, D_BACKOFF, BO_E_MALFORMED, NULL,
             "the server sent a text frame or a message over 4 MiB");
        return;
    }
    on_message(c, c->rx.data, c->rx.len);
    if (c->dead)
        return;
    /* keep a big buffer only while it is needed: thousands of idle clients stay small */
    if (c->rx.alloc > 65536) {
        bo_buf_cleanup(&c->rx);
        bo_buf_init(&c->rx, BO_CLIENT_RX_MAX);
    } else {
        bo_buf_reset(&c->rx);
    }
}

static void on_closed(bo_client *c, const char *why)
{
    char msg[200];
    switch (c->close_code) {
    case 0:
        drop(c, D_BACKOFF, BO_E_IO, NULL, why ? why : "connection lost");
        return;
    case 1000:
        drop(c, D_CLOSE, BO_E_OK, NULL, "the server closed the connection");
        return;
    case 4000:
        drop(c, D_QUICK, BO_E_LAGGING, "E_LAGGING", "fell behind the live feed: resuming");
        return;
    case 4002:
        drop(c, D_FAIL, BO_E_MALFORMED, "E_MALFORMED",
             c->close_msg[0] ? c->close_msg : "the server could not decode a message");
        return;
    default:
        break;
    }
    bo_err e = c->close_code == 4001 ? BO_E_AUTH_TIMEOUT
               : c->close_code == 4003 ? BO_E_RATE_LIMITED
               : c->close_code == 4004 ? BO_E_SHUTTING_DOWN
               : c->close_code == 1001 ? BO_E_SHUTTING_DOWN
                                       : BO_E_IO;
    snprintf(msg, sizeof(msg), "closed by the server (%u%s%s)", c->close_code,
             c->close_msg[0] ? ": " : "", c->close_msg);
    drop(c, D_BACKOFF, e, e == BO_E_IO ? NULL : bo_err_name(e), msg);
}

static int lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    void *op = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    struct lws_context *cx = wsi ? lws_get_context(wsi) : NULL;
    bo_client_ctx *ctx = cx ? lws_context_user(cx) : NULL;
    if (ctx && op == &ctx->close_marker) {
        if (reason == LWS_CALLBACK_CLIENT_WRITEABLE) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
    bo_client *c = op;
    if (!c || c->wsi != wsi || c->dead)
        return lws_callback_http_dummy(wsi, reason, user, in, len);

    int ret = 0;
    enter(c);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[200];
        snprintf(why, sizeof(why), "could not connect to %s: %s", c->urls[c->url_i],
                 in ? (const char *)in : "connection failed");
        c->wsi = NULL; /* lws is freeing it */
        lws_set_opaque_user_data(wsi, NULL);
        drop(c, D_BACKOFF, BO_E_IO, NULL, why);
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->connects++;
        c->last_rx = bo_clock_mono_ms();
        c->deadline = c->last_rx + BO_CLIENT_HELLO_MS;
        c->tx_cap = 256 * 1024;
        set_state(c, BO_CLIENT_HELLO, BO_E_OK, NULL, NULL);
        if (!c->dead)
            arm(c);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        c->last_rx = bo_clock_mono_ms();
        on_receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        txframe *f = c->txh;
        if (!f)
            break;
        c->txh = f->next;
        if (!c->txh)
            c->txt = NULL;
        c->txn--;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_BINARY);
        bool short_write = n < (int)f->len;
        free(f->data);
        free(f);
        if (short_write) {
            ret = -1; /* CLIENT_CLOSED follows */
            break;
        }
        if (c->txh)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const uint8_t *b = in;
            c->close_code = (uint16_t)(b[0] << 8 | b[1]);
            size_t ml = len - 2 < sizeof(c->close_msg) - 1 ? len - 2 : sizeof(c->close_msg) - 1;
            memcpy(c->close_msg, b + 2, ml);
            c->close_msg[ml] = 0;
            if (!bo_utf8_valid(c->close_msg, ml))
                c->close_msg[0] = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        c->wsi = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        on_closed(c, reason == LWS_CALLBACK_WSI_DESTROY ? "connection closed" : NULL);
        break;
    default:
        ret = lws_callback_http_dummy(wsi, reason, user, in, len);
        break;
    }
    if (!c->dead)
        arm(c); /* deadlines may have moved */
    leave(c);
    return ret;
}

/* ------------------------------------------------------------------ context ---- */

static void ctx_free_now(uv_handle_t *h)
{
    free(h->data);
}

typedef struct handle_walk {
    uv_handle_t **v;
    size_t n, cap;
    const bo_client_ctx *ctx;
    bool found;
} handle_walk;

static void collect_handle(uv_handle_t *h, void *arg)
{
    handle_walk *w = arg;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        uv_handle_t **v = realloc(w->v, cap * sizeof(*v));
        if (!v)
            return;
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = h;
}

static void find_lws_handle(uv_handle_t *h, void *arg)
{
    handle_walk *w = arg;
    for (size_t i = 0; i < w->ctx->n_lws_handles; i++)
        if (h == w->ctx->lws_handles[i])
            w->found = true;
}

/* lws 4.1 on a foreign libuv loop destroys a context in two calls (its minimal example
 * foreign-loop does the same): the first closes every wsi and then lws' own idle and timer
 * handles, asynchronously; the second, once those are closed, frees the context (and
 * writes NULL to info.pcontext). Calling the second one earlier frees memory that libuv
 * still holds, so the reaper waits until lws' handles have left the loop. */
static void reaper_cb(uv_timer_t *t)
{
    bo_client_ctx *ctx = t->data;
    if (ctx->clients)
        return; /* a client frees itself once its callback returned */
    if (!ctx->destroy_started) {
        ctx->destroy_started = true;
        if (ctx->lws)
            lws_context_destroy(ctx->lws);
        return;
    }
    if (ctx->lws) {
        handle_walk w = {.ctx = ctx};
        uv_walk(ctx->loop, find_lws_handle, &w);
        if (w.found)
            return; /* lws is still closing its handles */
        if (!ctx->destroy_finishing) {
            ctx->destroy_finishing = true;
            lws_context_destroy(ctx->lws);
        }
        if (ctx->lws)
            return;
    }
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, ctx_free_now);
}

static void start_reaper(bo_client_ctx *ctx)
{
    if (ctx->reaper_on)
        return;
    ctx->reaper_on = true;
    uv_timer_start(&ctx->reaper, reaper_cb, 0, 5);
}

bo_client_ctx *bo_client_ctx_new(uv_loop_t *loop, const bo_client_ctx_opts *o, bo_err *err)
{
    bo_client_ctx_opts none = {0};
    if (!o)
        o = &none;
    if (o->ca_file) {
        bo_blob_list l = {0};
        bo_err e = bo_pem_chain_load(o->ca_file, &l);
        bo_blob_list_cleanup(&l);
        if (e) {
            *err = e == BO_E_IO ? BO_E_IO : BO_E_CERT_INVALID;
            return NULL;
        }
    }
    bo_client_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    ctx->loop = loop;
    ctx->allow_plain = o->allow_plain_ws;
    ctx->skip_host = o->skip_hostname_check;
    ctx->protocols[0].name = PROTO;
    ctx->protocols[0].callback = lws_cb;
    uv_timer_init(loop, &ctx->reaper);
    ctx->reaper.data = ctx;

    if (o->lws_log_level >= 0)
        lws_set_log_level(o->lws_log_level ? o->lws_log_level : LLL_ERR, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[1] = {loop};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ctx->protocols;
    /* lws 4.1 needs its TLS global init for client connections ("bio_create failed"
     * without it). Note for a process that also runs a server context (tests): only one of
     * the two contexts may set it, or lws' global deinit leaks the other's SSL_CTX. */
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.user = ctx;
    info.pcontext = &ctx->lws;
    info.client_ssl_ca_filepath = o->ca_file;
    info.ssl_client_options_set = bo_tls_options_min12();
    info.client_ssl_cipher_list = bo_tls12_ciphers();
    /* CONNECT_MS bounds TCP + TLS + upgrade; lws' own timeouts must not cut it shorter: a
     * server working through a storm of handshakes answers late, and a client that gives
     * up at 10 s and comes back leaves the server's work on its first handshake wasted */
    info.timeout_secs = CONNECT_MS / 1000;
    info.connect_timeout_secs = CONNECT_MS / 1000;
    if (o->max_clients)
        info.fd_limit_per_thread = o->max_clients + 16;

    /* a failed create on a foreign loop returns a context that is already destroying
     * itself (lws #2129): pcontext tells when it is gone */
    handle_walk before = {0};
    uv_walk(loop, collect_handle, &before);
    ctx->lws = (struct lws_context *)&ctx->close_marker; /* "alive" until lws says not */
    struct lws_context *cx = lws_create_context(&info);
    handle_walk after = {0};
    uv_walk(loop, collect_handle, &after);
    for (size_t i = 0; i < after.n; i++) {
        bool old = after.v[i] == (uv_handle_t *)&ctx->reaper;
        for (size_t j = 0; !old && j < before.n; j++)
            old = after.v[i] == before.v[j];
        uv_handle_type ty = uv_handle_get_type(after.v[i]);
        if (!old && (ty == UV_IDLE || ty == UV_TIMER) && ctx->n_lws_handles < 8)
            ctx->lws_handles[ctx->n_lws_handles++] = after.v[i];
    }
    free(before.v);
    free(after.v);
    if (cx && ctx->lws && (ctx->vhost = lws_get_vhost_by_name(cx, "default"))) {
        ctx->lws = cx;
        *err = BO_E_OK;
        return ctx;
    }
    if (!cx || !ctx->lws)
        ctx->lws = NULL;
    else
        ctx->lws = cx;
    ctx->destroy_started = true; /* lws destroys it by itself */
    start_reaper(ctx);
    *err = BO_E_CONFIG;
    return NULL;
}

struct lws_context *bo__client_ctx_lws(const bo_client_ctx *ctx)
{
    return ctx->lws;
}

uv_loop_t *bo_client_ctx_loop(const bo_client_ctx *ctx)
{
    return ctx->loop;
}

void bo_client_ctx_free(bo_client_ctx *ctx)
{
    if (!ctx || ctx->dying)
        return;
    ctx->dying = true;
    while (ctx->clients)
        bo_client_free(ctx->clients);
    start_reaper(ctx);
}

/* ------------------------------------------------------------------- client ---- */

static bool role_ok(const char *r)
{
    static const char *const roles[] = {"operator", "host", "supervisor",
                                        "bidder",   "site", "observer"};
    for (size_t i = 0; r && i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(r, roles[i]) == 0)
            return true;
    return false;
}

static void teardown(bo_client *c)
{
    let_go(c, true);
    uv_timer_stop(&c->timer);
    cancel_pending(c);
    while (c->hooks) { /* each lets go of the client; it may not call back into it */
        bo__client_hook *h = c->hooks;
        c->hooks = h->next;
        h->next = NULL;
        h->attached = false;
        if (h->on_detach)
            h->on_detach(h->ud);
    }
    tx_clear(c);
    bo_buf_cleanup(&c->rx);
    if (c->prev)
        c->prev->next = c->next;
    else if (c->ctx->clients == c)
        c->ctx->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    for (size_t i = 0; i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->urls);
    c->urls = NULL;
    c->n_urls = 0;
    free(c->role);
    free(c->oid);
    free(c->me_mem);
    c->role = c->oid = c->me_mem = NULL;
    c->have_me = false;
}

bo_client *bo_client_new(bo_client_ctx *ctx, const bo_client_opts *o, bo_err *err)
{
    *err = BO_E_INVALID_ARG;
    if (!ctx || ctx->dying || !o || !o->urls || o->n_urls == 0 ||
        o->n_urls > BO_CLIENT_URLS_MAX || !role_ok(o->role))
        return NULL;
    for (size_t i = 0; i < o->n_urls; i++) {
        bo_client_url u;
        if (bo_client_url_parse(o->urls[i], &u) || (!u.tls && !ctx->allow_plain))
            return NULL;
    }
    bool observer = strcmp(o->role, "observer") == 0;
    if (!observer && (!o->key || o->chain.n == 0 || o->chain.n > 4 || o->enc_chain.n > 4))
        return NULL;
    if (o->oid && !bo_oid_valid(o->oid))
        return NULL;

    bo_client *c = calloc(1, sizeof(*c));
    if (!c) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    c->ctx = ctx;
    uv_timer_init(ctx->loop, &c->timer);
    c->timer.data = c;
    c->next = ctx->clients;
    if (ctx->clients)
        ctx->clients->prev = c;
    ctx->clients = c;

    c->urls = calloc(o->n_urls, sizeof(char *));
    c->role = dupstr(o->role);
    c->oid = dupstr(o->oid);
    bool nomem = !c->urls || !c->role || (o->oid && !c->oid);
    for (size_t i = 0; !nomem && i < o->n_urls; i++) {
        c->urls[i] = dupstr(o->urls[i]);
        nomem = !c->urls[i];
        c->n_urls = i + 1;
    }
    if (nomem) {
        teardown(c);
        release(c);
        *err = BO_E_NOMEM;
        return NULL;
    }
    c->observer = observer;
    c->key = o->key;
    c->chain = o->chain;
    c->enc_chain = o->enc_chain;
    c->cb = o->cb;
    c->ud = o->ud;
    c->max_retries = o->max_retries;
    c->queue_max = o->queue_max ? o->queue_max : BO_CLIENT_QUEUE_MAX;
    c->tx_cap = 256 * 1024;
    bo_buf_init(&c->rx, BO_CLIENT_RX_MAX);
    bo_cursor_init(&c->cur);
    bo_timesync_init(&c->ts);
    bo_backoff_init(&c->bo, o->backoff_min_ms, o->backoff_max_ms);
    if (bo_random_bytes(&c->rng, sizeof(c->rng)) != BO_E_OK || c->rng == 0)
        c->rng = (uint64_t)bo_clock_mono_ns() ^ (uint64_t)(uintptr_t)c ^ 0x9E3779B97F4A7C15ull;
    c->last_quick = -QUICK_GAP_MS;
    c->state = BO_CLIENT_IDLE;
    *err = BO_E_OK;
    return c;
}

bo_err bo_client_start(bo_client *c)
{
    if (c->dead || (c->state != BO_CLIENT_IDLE && c->state != BO_CLIENT_CLOSED &&
                    c->state != BO_CLIENT_FAILED))
        return BO_E_INVALID_ARG;
    enter(c);
    c->fails = 0;
    bo_backoff_reset(&c->bo);
    c->url_i = 0;
    connect_now(c);
    leave(c);
    return BO_E_OK;
}

void bo_client_stop(bo_client *c)
{
    if (c->dead || c->state == BO_CLIENT_CLOSED || c->state == BO_CLIENT_IDLE ||
        c->state == BO_CLIENT_FAILED)
        return;
    enter(c);
    let_go(c, true);
    conn_reset(c);
    uv_timer_stop(&c->timer);
    c->state = BO_CLIENT_CLOSED;
    cancel_pending(c);
    if (!c->dead)
        set_state(c, BO_CLIENT_CLOSED, BO_E_OK, NULL, NULL);
    leave(c);
}

void bo_client_free(bo_client *c)
{
    if (!c || c->dead)
        return;
    enter(c);
    c->dead = true;
    teardown(c);
    leave(c); /* releases now, or when the outermost callback frame returns */
}

bo_client_state bo_client_state_get(const bo_client *c)
{
    return c->state;
}

int64_t bo_client_server_now(const bo_client *c)
{
    return bo_timesync_server_time(&c->ts, bo_clock_now_ms());
}

void bo_client_clock(const bo_client *c, int64_t *offset_ms, int64_t *rtt_ms)
{
    if (offset_ms)
        *offset_ms = c->ts.offset_ms;
    if (rtt_ms)
        *rtt_ms = c->ts.have ? c->ts.rtt_ms : -1;
}

const bo_cursor *bo_client_cursor(const bo_client *c)
{
    return &c->cur;
}

int64_t bo_client_retry_in(const bo_client *c)
{
    if (c->state != BO_CLIENT_BACKOFF)
        return 0;
    int64_t d = c->retry_at - bo_clock_mono_ms();
    return d > 0 ? d : 0;
}

uint64_t bo_client_connects(const bo_client *c)
{
    return c->connects;
}

const bo_client_identity *bo_client_whoami(const bo_client *c)
{
    return c->have_me ? &c->me : NULL;
}

/* ----------------------------------------------------------------- requests ---- */

bo_err bo_client_request(bo_client *c, const bo_msg *req, bo_client_reply_cb cb, void *ud)
{
    if (!req || !bo_msg_type_from_client(req->type) || req->type == BO_MSG_AUTH ||
        req->type == BO_MSG_PONG || req->type == BO_MSG_JOIN)
        return BO_E_INVALID_ARG;
    if (c->dead || !authed(c) || !c->wsi)
        return BO_E_UNAUTHENTICATED;
    return send_req(c, req, P_USER, cb, ud, NULL);
}

bo_err bo_client_create(bo_client *c, const uint8_t *tender_mp, size_t len,
                        bo_client_reply_cb cb, void *ud)
{
    msgpack_zone *zone = NULL;
    msgpack_object obj;
    bo_err err = bo_mp_parse(tender_mp, len, &zone, &obj);
    if (err)
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_CREATE};
    m.u.create.tender.mp = (bo_bytes){tender_mp, len};
    m.u.create.tender.obj = &obj;
    err = bo_client_request(c, &m, cb, ud);
    msgpack_zone_free(zone);
    return err;
}

static const char *oid_or_own(const bo_client *c, const char *oid)
{
    return oid ? oid : c->oid;
}

/* Sign a payload built for this connection; sig gets the signature. */
static bo_err sign_with(bo_client *c, const char *ctx, const bo_buf *payload, bo_buf *sig)
{
    if (c->observer || !c->key)
        return BO_E_INVALID_ARG;
    return bo_key_sign(c->key, ctx, payload->data, payload->len, sig);
}

bo_err bo_client_register(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (c->dead || !authed(c) || !c->have_nonce)
        return BO_E_UNAUTHENTICATED;
    if (!oid || c->enc_chain.n == 0 || c->chain.n == 0 || !c->have_me || !c->me.uscc[0])
        return BO_E_INVALID_ARG;
    uint8_t sfpr[32], efpr[32];
    bo_cert_fpr(c->chain.v[0].p, c->chain.v[0].len, sfpr);
    bo_cert_fpr(c->enc_chain.v[0].p, c->enc_chain.v[0].len, efpr);
    bo_buf payload, sig;
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_err err = bo_sigpayload_register(&payload, oid, c->me.uscc, sfpr, efpr, c->nonce);
    if (!err)
        err = sign_with(c, BO_CTX_REGISTER, &payload, &sig);
    if (!err) {
        bo_msg m = {.type = BO_MSG_REGISTER};
        m.u.reg.oid = oid;
        m.u.reg.sig = (bo_bytes){sig.data, sig.len};
        err = bo_client_request(c, &m, cb, ud);
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return err;
}

bo_err bo_client_signin(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (c->dead || !authed(c) || !c->have_nonce)
        return BO_E_UNAUTHENTICATED;
    if (!oid || !c->have_me || !c->me.uscc[0])
        return BO_E_INVALID_ARG;
    bo_buf payload, sig;
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_err err = bo_sigpayload_signin(&payload, oid, c->me.uscc, c->nonce);
    if (!err)
        err = sign_with(c, BO_CTX_SIGNIN, &payload, &sig);
    if (!err) {
        bo_msg m = {.type = BO_MSG_SIGNIN};
        m.u.signin.oid = oid;
        m.u.signin.sig = (bo_bytes){sig.data, sig.len};
        err = bo_client_request(c, &m, cb, ud);
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return err;
}

static bo_err host_cmd(bo_client *c, bo_msg_type t, const char *oid, const char *reason,
                       bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid || (t != BO_MSG_RESUME && (!reason || !*reason)))
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = t};
    m.u.host_cmd.oid = oid;
    m.u.host_cmd.reason = t == BO_MSG_RESUME ? NULL : reason;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_pause(bo_client *c, const char *oid, const char *reason,
                       bo_client_reply_cb cb, void *ud)
{
    return host_cmd(c, BO_MSG_PAUSE, oid, reason, cb, ud);
}

bo_err bo_client_resume(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud)
{
    return host_cmd(c, BO_MSG_RESUME, oid, NULL, cb, ud);
}

bo_err bo_client_fail(bo_client *c, const char *oid, const char *reason,
                      bo_client_reply_cb cb, void *ud)
{
    return host_cmd(c, BO_MSG_FAIL, oid, reason, cb, ud);
}

static bo_err bl_entries(bo_client *c, bo_msg_type t, const bo_bl_entry *v, size_t n,
                         bo_client_reply_cb cb, void *ud)
{
    bo_msg m = {.type = t};
    m.u.bl_entries.v = (bo_bl_entry *)v;
    m.u.bl_entries.n = n;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_bl_add(bo_client *c, const bo_bl_entry *v, size_t n, bo_client_reply_cb cb,
                        void *ud)
{
    return bl_entries(c, BO_MSG_BL_ADD, v, n, cb, ud);
}

bo_err bo_client_bl_replace(bo_client *c, const bo_bl_entry *v, size_t n,
                            bo_client_reply_cb cb, void *ud)
{
    return bl_entries(c, BO_MSG_BL_REPLACE, v, n, cb, ud);
}

bo_err bo_client_bl_remove(bo_client *c, const char *const *usccs, size_t n,
                           bo_client_reply_cb cb, void *ud)
{
    bo_msg m = {.type = BO_MSG_BL_REMOVE};
    m.u.bl_remove.usccs.v = (const char **)usccs;
    m.u.bl_remove.usccs.n = n;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_bl_list(bo_client *c, bo_client_reply_cb cb, void *ud)
{
    bo_msg m = {.type = BO_MSG_BL_LIST};
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_list(bo_client *c, bo_client_reply_cb cb, void *ud)
{
    bo_msg m = {.type = BO_MSG_LIST};
    return bo_client_request(c, &m, cb, ud);
}

/* ------------------------------------------------- sealed bids, decryption ---- */

bo_err bo_client_receipt(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid)
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_RECEIPT};
    m.u.receipt.oid = oid;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_server_key(bo_client *c, bo_client_reply_cb cb, void *ud)
{
    bo_msg m = {.type = BO_MSG_SERVER_KEY};
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_decrypt_start(bo_client *c, const char *oid, uint32_t window_s,
                               bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid)
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_DECRYPT_START};
    m.u.decrypt_start.oid = oid;
    m.u.decrypt_start.has_window_s = window_s != 0;
    m.u.decrypt_start.window_s = window_s;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_decrypt_extend(bo_client *c, const char *oid, uint32_t seconds,
                                const char *reason, bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid || !reason || !*reason)
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_DECRYPT_EXTEND};
    m.u.decrypt_extend.oid = oid;
    m.u.decrypt_extend.seconds = seconds;
    m.u.decrypt_extend.reason = reason;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_classify(bo_client *c, const char *oid, const char *uscc, const char *outcome,
                          const char *reason, bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid || !uscc || !outcome || !reason || !*reason ||
        (strcmp(outcome, "revoked") != 0 && strcmp(outcome, "withdrawn") != 0))
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_CLASSIFY};
    m.u.classify.oid = oid;
    m.u.classify.uscc = uscc;
    m.u.classify.outcome = outcome;
    m.u.classify.reason = reason;
    return bo_client_request(c, &m, cb, ud);
}

/* --------------------------- announcement, confirmation, the record (§11) ---- */

/* 1..max characters of UTF-8 without NUL. */
static bool text_ok(const char *t, size_t max)
{
    if (!t)
        return false;
    size_t n = strlen(t);
    if (n == 0 || !bo_utf8_valid(t, n))
        return false;
    return bo_utf8_count(t, n) <= max;
}

static bool draw_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n >= 1 && n <= 32 && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

bo_err bo_client_announce(bo_client *c, const char *oid, bool all, bo_client_reply_cb cb,
                          void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid)
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_ANNOUNCE};
    m.u.announce.oid = oid;
    m.u.announce.all = all;
    m.u.announce.has_all = all;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_draw(bo_client *c, const char *oid, const char *draw_id, bo_client_reply_cb cb,
                      void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid || !draw_id_ok(draw_id))
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_DRAW};
    m.u.draw.oid = oid;
    m.u.draw.draw = draw_id;
    return bo_client_request(c, &m, cb, ud);
}

static bo_err opening_cmd(bo_client *c, bo_msg_type t, const char *oid, bo_client_reply_cb cb,
                          void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid)
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = t};
    m.u.opening.oid = oid;
    return bo_client_request(c, &m, cb, ud);
}

bo_err bo_client_benchmark(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud)
{
    return opening_cmd(c, BO_MSG_BENCHMARK, oid, cb, ud);
}

bo_err bo_client_close(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud)
{
    return opening_cmd(c, BO_MSG_CLOSE, oid, cb, ud);
}

bo_err bo_client_confirm_open(bo_client *c, const char *oid, uint32_t window_s,
                              bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid || (window_s && (window_s < 60 || window_s > 86400)))
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_CONFIRM_OPEN};
    m.u.confirm_open.oid = oid;
    m.u.confirm_open.has_window_s = window_s != 0;
    m.u.confirm_open.window_s = window_s;
    return bo_client_request(c, &m, cb, ud);
}

bool bo_client_record_hash(const bo_client *c, uint8_t out[32])
{
    if (!c->have_rec_hash || !c->oid)
        return false;
    memcpy(out, c->rec_hash, 32);
    return true;
}

/* The bidder's side of confirm and object: who signs, over which record hash. */
static bo_err bidder_sig_prep(bo_client *c, const char *oid, const uint8_t *given,
                              uint8_t hash[32])
{
    if (c->dead || !authed(c))
        return BO_E_UNAUTHENTICATED;
    if (!oid || !c->have_me || !c->me.uscc[0] || c->observer || !c->key)
        return BO_E_INVALID_ARG;
    if (given) {
        memcpy(hash, given, 32);
        return BO_E_OK;
    }
    if (!c->oid || strcmp(oid, c->oid) != 0 || !c->have_rec_hash)
        return BO_E_PHASE;
    memcpy(hash, c->rec_hash, 32);
    return BO_E_OK;
}

bo_err bo_client_confirm(bo_client *c, const char *oid, const uint8_t record_hash[32],
                         bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    uint8_t hash[32];
    bo_err err = bidder_sig_prep(c, oid, record_hash, hash);
    if (err)
        return err;
    bo_buf payload, sig;
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, BO_SIG_MAX);
    err = bo_sigpayload_confirm(&payload, oid, c->me.uscc, hash);
    if (!err)
        err = sign_with(c, BO_CTX_CONFIRM, &payload, &sig);
    if (!err) {
        bo_msg m = {.type = BO_MSG_CONFIRM};
        m.u.confirm.oid = oid;
        m.u.confirm.record_hash = (bo_bytes){hash, 32};
        m.u.confirm.sig = (bo_bytes){sig.data, sig.len};
        err = bo_client_request(c, &m, cb, ud);
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return err;
}

bo_err bo_client_object(bo_client *c, const char *oid, const char *text, bo_client_reply_cb cb,
                        void *ud)
{
    oid = oid_or_own(c, oid);
    if (!text_ok(text, BO_WIRE_OBJECTION_MAX))
        return BO_E_INVALID_ARG;
    uint8_t hash[32];
    bo_err err = bidder_sig_prep(c, oid, NULL, hash);
    if (err)
        return err;
    bo_buf payload, sig;
    bo_buf_init(&payload, 16384);
    bo_buf_init(&sig, BO_SIG_MAX);
    err = bo_sigpayload_objection(&payload, oid, c->me.uscc, hash, text);
    if (!err)
        err = sign_with(c, BO_CTX_OBJECTION, &payload, &sig);
    if (!err) {
        bo_msg m = {.type = BO_MSG_OBJECT};
        m.u.object.oid = oid;
        m.u.object.text = text;
        m.u.object.sig = (bo_bytes){sig.data, sig.len};
        err = bo_client_request(c, &m, cb, ud);
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return err;
}

bo_err bo_client_answer(bo_client *c, const char *oid, uint64_t n, const char *text,
                        bo_client_reply_cb cb, void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid || n == 0 || !text_ok(text, BO_WIRE_ANSWER_MAX) || c->observer || !c->key)
        return BO_E_INVALID_ARG;
    if (c->dead || !authed(c))
        return BO_E_UNAUTHENTICATED;
    bo_buf payload, sig;
    bo_buf_init(&payload, 16384);
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_err err = bo_sigpayload_answer(&payload, oid, n, text);
    if (!err)
        err = sign_with(c, BO_CTX_ANSWER, &payload, &sig);
    if (!err) {
        bo_msg m = {.type = BO_MSG_ANSWER};
        m.u.answer.oid = oid;
        m.u.answer.objection = n;
        m.u.answer.text = text;
        m.u.answer.sig = (bo_bytes){sig.data, sig.len};
        err = bo_client_request(c, &m, cb, ud);
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    return err;
}

bo_err bo_client_message(bo_client *c, const char *oid, const char *text, bo_client_reply_cb cb,
                         void *ud)
{
    oid = oid_or_own(c, oid);
    if (!oid || !text_ok(text, BO_WIRE_MESSAGE_MAX))
        return BO_E_INVALID_ARG;
    bo_msg m = {.type = BO_MSG_MESSAGE};
    m.u.message.oid = oid;
    m.u.message.text = text;
    return bo_client_request(c, &m, cb, ud);
}

/* ------------------------------------------------ internals for features ---- */

void bo__client_hook_add(bo_client *c, bo__client_hook *h)
{
    if (c->dead || h->attached)
        return;
    h->next = c->hooks;
    h->gen = c->hook_gen; /* not called for an iteration already running */
    h->attached = true;
    c->hooks = h;
    c->hooks_changed = true;
}

void bo__client_hook_remove(bo_client *c, bo__client_hook *h)
{
    if (!h->attached)
        return;
    for (bo__client_hook **pp = &c->hooks; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    h->next = NULL;
    h->attached = false;
    c->hooks_changed = true;
}

const bo_key *bo__client_key(const bo_client *c)
{
    return c->observer ? NULL : c->key;
}

bo_bytes_list bo__client_enc_chain(const bo_client *c)
{
    return c->enc_chain;
}

const char *bo__client_oid(const bo_client *c)
{
    return c->oid;
}

uv_loop_t *bo__client_loop(const bo_client *c)
{
    return c->ctx->loop;
}

void **bo__client_slot(bo_client *c, unsigned i)
{
    return i < BO__CLIENT_SLOTS ? &c->slots[i] : NULL;
}

bool bo__client_dead(const bo_client *c)
{
    return c->dead;
}

void bo__client_kick(bo_client *c, const char *why)
{
    if (c->dead || !authed(c))
        return;
    enter(c);
    drop(c, D_QUICK, BO_E_TIMEOUT, NULL, why);
    leave(c);
}

/* ------------------------------------------------------------- run_until ---- */

typedef struct run_state {
    bool fired;
    bool closed;
} run_state;

static void run_timeout(uv_timer_t *t)
{
    ((run_state *)t->data)->fired = true;
}

static void run_closed(uv_handle_t *h)
{
    ((run_state *)h->data)->closed = true;
}

bo_err bo_client_run_until(uv_loop_t *loop, bool (*cond)(void *arg), void *arg,
                           int64_t timeout_ms)
{
    run_state rs = {false, false};
    uv_timer_t t;
    uv_timer_init(loop, &t);
    t.data = &rs;
    if (timeout_ms >= 0)
        uv_timer_start(&t, run_timeout, (uint64_t)timeout_ms, 0);
    bool ok = cond(arg);
    while (!ok && !rs.fired) {
        int alive = uv_run(loop, UV_RUN_ONCE);
        ok = cond(arg);
        if (!alive && timeout_ms < 0)
            break; /* nothing left that could make cond true */
    }
    uv_close((uv_handle_t *)&t, run_closed);
    while (!rs.closed)
        uv_run(loop, UV_RUN_NOWAIT);
    return ok ? BO_E_OK : BO_E_TIMEOUT;
}
