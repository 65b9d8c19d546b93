/* bo-bench observe: many receive-only WebSocket/TLS clients on one libuv loop, written
 * directly on libwebsockets (lighter than libbidopen-client, and the same code for both
 * servers measured): bidopen.v1 observers (hello, auth as observer, join, pong) or clients
 * of the lws test server's mirror protocol (one of them publishes on command). Each client
 * stamps every frame it receives with CLOCK_REALTIME at its first fragment.
 *
 * Lines out: "ready <connected> <failed>" once every client is connected (and joined);
 * "got <id> <bytes>" once every live client received round <id> (bytes: the payload size of
 * the first frame measured); "bye" at the end. Lines in: "pub <id>" (mirror publisher),
 * "quit" (write the stamps and exit). Output file: "<id> <recv_ns> <send_ns>" per receipt
 * (send_ns is 0 for bidopen: the driver knows when it acknowledged the command). */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bo/wire.h"

#define MAX_ROUNDS 256
#define PROTO_BO "bidopen.v1"
#define PROTO_MIRROR "lws-mirror-protocol"

typedef struct obs obs;

typedef struct oconn {
    obs *o;
    struct lws *wsi;
    int idx;
    bool connected, joined, dead, publisher;
    bool settled; /* its connection attempt is over (joined, or up for the mirror, or gone) */
    bo_buf rx;
    int64_t rx_t;               /* stamp of the frame being received */
    uint8_t *tx[4];             /* frames waiting (LWS_PRE headroom), FIFO */
    size_t tx_len[4];
    unsigned n_tx;
    uint32_t n_got;
    uint32_t got_id[MAX_ROUNDS]; /* receipts: round id and time */
    int64_t got_t[MAX_ROUNDS];
    int64_t got_send[MAX_ROUNDS];
} oconn;

static void settle(oconn *c);

struct obs {
    uv_loop_t *loop;
    struct lws_context *cx;
    struct lws_vhost *vh;
    bool mirror;
    const char *oid;
    int port;
    unsigned n;
    oconn *c;
    unsigned n_connected, n_failed, n_joined, n_dead;
    /* at most `window` connection attempts at once (TLS, upgrade, auth, join): a broadcast
     * is measured, not a storm of handshakes (signin and the fault drills measure that), and
     * these clients do not retry; the same for bidopen and the mirror */
    unsigned window, inflight, next;
    size_t frame_len;
    uint32_t round_count[MAX_ROUNDS]; /* receipts per round slot (by id % MAX_ROUNDS) */
    uint32_t round_id[MAX_ROUNDS];
    bool round_said[MAX_ROUNDS];
    uv_handle_t *lws_handles[8];
    size_t n_lws_handles;
    struct lws_protocols protocols[3];
    bo_wire_caps caps;
};

static void queue_frame(oconn *c, const uint8_t *p, size_t len)
{
    if (c->n_tx == 4)
        return;
    uint8_t *f = malloc(LWS_PRE + len);
    if (!f)
        return;
    memcpy(f + LWS_PRE, p, len);
    c->tx[c->n_tx] = f;
    c->tx_len[c->n_tx++] = len;
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
}

static void send_msg(oconn *c, const bo_msg *m)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 16);
    if (!bo_wire_encode(&b, m))
        queue_frame(c, b.data, b.len);
    bo_buf_cleanup(&b);
}

static unsigned live(const obs *o)
{
    unsigned n = 0;
    for (unsigned i = 0; i < o->n; i++)
        if (!o->c[i].dead && (o->mirror ? o->c[i].connected : o->c[i].joined) &&
            !o->c[i].publisher)
            n++;
    return n;
}

static void receipt(oconn *c, uint32_t id, int64_t t, int64_t send_ns, size_t len)
{
    obs *o = c->o;
    if (c->n_got < MAX_ROUNDS) {
        c->got_id[c->n_got] = id;
        c->got_t[c->n_got] = t;
        c->got_send[c->n_got] = send_ns;
        c->n_got++;
    }
    if (!o->frame_len)
        o->frame_len = len;
    if (c->publisher)
        return;
    unsigned s = id % MAX_ROUNDS;
    if (o->round_id[s] != id) {
        o->round_id[s] = id;
        o->round_count[s] = 0;
        o->round_said[s] = false;
    }
    o->round_count[s]++;
}

static void check_rounds(obs *o)
{
    unsigned l = live(o);
    for (unsigned s = 0; s < MAX_ROUNDS; s++)
        if (o->round_id[s] && !o->round_said[s] && o->round_count[s] >= l) {
            o->round_said[s] = true;
            bn_say("got %u %zu", o->round_id[s], o->frame_len);
        }
}

static void on_frame(oconn *c, const uint8_t *p, size_t len)
{
    obs *o = c->o;
    if (o->mirror) {
        unsigned id = 0;
        long long t0 = 0;
        char tmp[64];
        size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
        memcpy(tmp, p, n);
        tmp[n] = 0;
        if (sscanf(tmp, "BOB %u %lld", &id, &t0) == 2 && id)
            receipt(c, id, c->rx_t, t0, len);
        return;
    }
    bo_msg *m = NULL;
    uint64_t id = 0;
    if (bo_wire_decode(p, len, &o->caps, false, &m, &id, NULL, 0))
        return;
    bo_msg r;
    memset(&r, 0, sizeof(r));
    switch (m->type) {
    case BO_MSG_HELLO:
        r.type = BO_MSG_AUTH;
        r.id = 1;
        r.has_id = true;
        r.u.auth.role = "observer";
        send_msg(c, &r);
        break;
    case BO_MSG_OK:
        if (m->u.ok.re == 1) {
            r.type = BO_MSG_JOIN;
            r.id = 2;
            r.has_id = true;
            r.u.join.oid = o->oid;
            send_msg(c, &r);
        } else if (m->u.ok.re == 2 && !c->joined) {
            c->joined = true;
            o->n_joined++;
            settle(c);
        }
        break;
    case BO_MSG_ERR:
        fprintf(stderr, "observe: client %d refused: %s %s\n", c->idx, m->u.err.code,
                m->u.err.msg ? m->u.err.msg : "");
        break;
    case BO_MSG_PING:
        r.type = BO_MSG_PONG;
        r.u.pong.n = m->u.ping.n;
        send_msg(c, &r);
        break;
    case BO_MSG_EV:
        if (!strcmp(m->u.ev.st, "pub") &&
            (!strcmp(m->u.ev.kind, "paused") || !strcmp(m->u.ev.kind, "resumed")))
            receipt(c, (uint32_t)m->u.ev.seq, c->rx_t, 0, len);
        break;
    default:
        break;
    }
    bo_msg_free(m);
}

static void connect_one(obs *o, oconn *c);

static void pump(obs *o)
{
    while (o->inflight < o->window && o->next < o->n)
        connect_one(o, &o->c[o->next++]);
}

static void settle(oconn *c)
{
    if (c->settled)
        return;
    c->settled = true;
    c->o->inflight--;
    pump(c->o);
}

static void conn_gone(oconn *c)
{
    obs *o = c->o;
    if (c->dead)
        return;
    c->dead = true;
    c->wsi = NULL;
    settle(c);
    if (c->connected)
        o->n_dead++;
    else
        o->n_failed++;
    check_rounds(o);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
              size_t len)
{
    oconn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c) {
            c->connected = true;
            c->o->n_connected++;
            if (c->o->mirror)
                settle(c);
            if (c->n_tx)
                lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            fprintf(stderr, "observe: client %d: connection error: %s\n", c->idx,
                    in ? (const char *)in : "");
            conn_gone(c);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c)
            conn_gone(c);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c)
            return 0;
        if (lws_is_first_fragment(wsi)) {
            c->rx_t = bn_real_ns();
            bo_buf_reset(&c->rx);
        }
        bo_buf_append(&c->rx, in, len);
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            on_frame(c, c->rx.data, c->rx.len);
            bo_buf_reset(&c->rx);
            check_rounds(c->o);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!c || !c->n_tx)
            return 0;
        {
            uint8_t *f = c->tx[0];
            size_t flen = c->tx_len[0];
            memmove(c->tx, c->tx + 1, (c->n_tx - 1) * sizeof(c->tx[0]));
            memmove(c->tx_len, c->tx_len + 1, (c->n_tx - 1) * sizeof(c->tx_len[0]));
            c->n_tx--;
            int w = lws_write(wsi, f + LWS_PRE, flen,
                              c->o->mirror ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
            free(f);
            if (w < (int)flen)
                return -1;
            if (c->n_tx)
                lws_callback_on_writable(wsi);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static void connect_one(obs *o, oconn *c)
{
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%d", o->port);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof(i));
    i.context = o->cx;
    i.vhost = o->vh;
    i.address = "127.0.0.1";
    i.port = o->port;
    i.path = o->mirror ? "/" : "/ws";
    i.host = host;
    i.origin = host;
    i.ssl_connection = LCCSCF_USE_SSL | (o->mirror ? LCCSCF_ALLOW_SELFSIGNED |
                                                         LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
                                                   : 0);
    i.protocol = o->mirror ? PROTO_MIRROR : PROTO_BO;
    i.local_protocol_name = i.protocol;
    i.alpn = "http/1.1";
    i.opaque_user_data = c;
    i.pwsi = &c->wsi;
    o->inflight++;
    if (!lws_client_connect_via_info(&i)) {
        c->wsi = NULL;
        c->dead = true;
        c->settled = true;
        o->inflight--;
        o->n_failed++;
    }
}

typedef struct walk {
    uv_handle_t **v;
    size_t n, cap;
    obs *o;
    bool found;
} walk;

static void collect(uv_handle_t *h, void *arg)
{
    walk *w = arg;
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        uv_handle_t **nv = realloc(w->v, nc * sizeof(*nv));
        if (!nv)
            return;
        w->v = nv;
        w->cap = nc;
    }
    w->v[w->n++] = h;
}

static void find_lws(uv_handle_t *h, void *arg)
{
    walk *w = arg;
    for (size_t i = 0; i < w->o->n_lws_handles; i++)
        if (h == w->o->lws_handles[i])
            w->found = true;
}

static bool lws_handles_gone(void *ud)
{
    walk w = {.o = ud};
    uv_walk(w.o->loop, find_lws, &w);
    return !w.found;
}

static bool all_up(void *ud)
{
    obs *o = ud;
    unsigned done = o->n_failed + o->n_dead + (o->mirror ? o->n_connected : o->n_joined);
    return done >= o->n;
}

static bool cx_gone(void *ud)
{
    return ((obs *)ud)->cx == NULL;
}

int bn_cmd_observe(int argc, char **argv)
{
    obs o;
    memset(&o, 0, sizeof(o));
    o.mirror = bn_flag(argc, argv, "--mirror");
    o.oid = bn_arg(argc, argv, "--oid", NULL);
    o.port = (int)bn_arg_ll(argc, argv, "--port", 0);
    o.n = (unsigned)bn_arg_ll(argc, argv, "--n", 10);
    o.window = (unsigned)bn_arg_ll(argc, argv, "--window", 64);
    if (o.window < 1)
        o.window = 1;
    const char *ca = bn_arg(argc, argv, "--ca", NULL);
    const char *out = bn_arg(argc, argv, "--out", NULL);
    bool publisher = bn_flag(argc, argv, "--publisher");
    unsigned frame = (unsigned)bn_arg_ll(argc, argv, "--frame", 200);
    if (!o.port || !out || (!o.mirror && !o.oid))
        BN_DIE("usage: bo-bench observe --port P --n N --out FILE (--oid OID --ca CA | --mirror "
               "[--publisher --frame BYTES])");
    bo_wire_caps_default(&o.caps);
    o.caps.frame = 8u << 20;
    o.caps.elems = 1000000;
    uv_loop_t loop;
    uv_loop_init(&loop);
    o.loop = &loop;
    lws_set_log_level(LLL_ERR, NULL);
    o.protocols[0].name = o.mirror ? PROTO_MIRROR : PROTO_BO;
    o.protocols[0].callback = cb;
    o.protocols[0].rx_buffer_size = 0;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[1] = {&loop};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = o.protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.pcontext = &o.cx;
    info.client_ssl_ca_filepath = ca;
    info.timeout_secs = 60;
    info.connect_timeout_secs = 60;
    bn_raise_nofile(o.n + 64); /* lws' limit left at 0: see bench.h */
    walk before = {0}, after = {0};
    uv_walk(&loop, collect, &before);
    o.cx = lws_create_context(&info);
    uv_walk(&loop, collect, &after);
    for (size_t i = 0; i < after.n; i++) {
        bool old = false;
        for (size_t j = 0; !old && j < before.n; j++)
            old = after.v[i] == before.v[j];
        uv_handle_type ty = uv_handle_get_type(after.v[i]);
        if (!old && (ty == UV_IDLE || ty == UV_TIMER) && o.n_lws_handles < 8)
            o.lws_handles[o.n_lws_handles++] = after.v[i];
    }
    free(before.v);
    free(after.v);
    if (!o.cx || !(o.vh = lws_get_vhost_by_name(o.cx, "default")))
        BN_DIE("observe: libwebsockets context");
    bn_ctl *ctl = bn_ctl_open(&loop);
    unsigned total = o.n + (publisher ? 1 : 0);
    o.c = calloc(total, sizeof(*o.c));
    for (unsigned i = 0; i < total; i++) {
        o.c[i].o = &o;
        o.c[i].idx = (int)i;
        o.c[i].publisher = i == o.n;
        bo_buf_init(&o.c[i].rx, 8u << 20);
    }
    o.n = total;
    pump(&o);
    bn_run_until(&loop, all_up, &o, 600000);
    bn_say("ready %u %u", o.mirror ? o.n_connected : o.n_joined, o.n_failed + o.n_dead);
    bool quit = false;
    while (!quit) {
        uv_run(&loop, UV_RUN_ONCE);
        char *l;
        while ((l = bn_ctl_take(ctl))) {
            unsigned id;
            if (!strncmp(l, "quit", 4))
                quit = true;
            else if (sscanf(l, "pub %u", &id) == 1 && publisher) {
                char *msg = malloc(frame + 1);
                int k = snprintf(msg, frame + 1, "BOB %u %lld ", id, (long long)bn_real_ns());
                if (k >= 0 && (unsigned)k < frame)
                    memset(msg + k, 'x', frame - (unsigned)k);
                queue_frame(&o.c[o.n - 1], (uint8_t *)msg, frame);
                free(msg);
            }
            free(l);
        }
        if (bn_ctl_eof(ctl))
            quit = true;
        check_rounds(&o);
    }
    FILE *f = fopen(out, "w");
    for (unsigned i = 0; f && i < o.n; i++) {
        if (o.c[i].publisher)
            continue;
        for (unsigned k = 0; k < o.c[i].n_got; k++)
            fprintf(f, "%u %lld %lld\n", o.c[i].got_id[k], (long long)o.c[i].got_t[k],
                    (long long)o.c[i].got_send[k]);
    }
    if (f)
        fclose(f);
    /* tear down: lws on a foreign loop destroys its context in two steps */
    lws_context_destroy(o.cx);
    bn_run_until(&loop, lws_handles_gone, &o, 10000);
    if (o.cx)
        lws_context_destroy(o.cx);
    bn_run_until(&loop, cx_gone, &o, 5000);
    for (unsigned i = 0; i < o.n; i++) {
        bo_buf_cleanup(&o.c[i].rx);
        for (unsigned k = 0; k < o.c[i].n_tx; k++)
            free(o.c[i].tx[k]);
    }
    free(o.c);
    bn_ctl_close(ctl);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    bn_say("bye");
    return 0;
}
