#include "bo_rawws.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bo/clock.h"
#include "bo/mpjson.h"
#include "bo/wire.h"
#include "bo_harness.h"

#define LWS_HANDLES_MAX 8

typedef struct txf {
    struct txf *next;
    bool binary;
    size_t len;
    uint8_t data[]; /* LWS_PRE + len */
} txf;

typedef struct conn_priv {
    bo_rawws *ws;
    struct lws *wsi;
    txf *txh, *txt;
    bo_buf rx;
    bool rx_text;
    int rcvbuf; /* SO_RCVBUF to set once established; 0: none */
    struct conn_priv *next; /* the context's list */
} conn_priv;

struct bo_rawws_ctx {
    uv_loop_t *loop;
    struct lws_context *lws; /* NULL once lws has freed it (info.pcontext) */
    struct lws_vhost *vhost;
    struct lws_protocols protocols[2];
    uv_handle_t *lws_handles[LWS_HANDLES_MAX];
    size_t n_lws_handles;
    conn_priv *conns;
};

/* ------------------------------------------------------------ recording ---- */

static void copy_str(const msgpack_object *map, const char *key, char *out, size_t n)
{
    const msgpack_object *v = bo_mpo_get(map, key);
    if (v && v->type == MSGPACK_OBJECT_STR) {
        size_t l = v->via.str.size < n - 1 ? v->via.str.size : n - 1;
        memcpy(out, v->via.str.ptr, l);
        out[l] = 0;
    }
}

static void record(bo_rawws *ws, const uint8_t *p, size_t len, bool binary)
{
    if (ws->n_msgs == ws->alloc_msgs) {
        size_t na = ws->alloc_msgs ? ws->alloc_msgs * 2 : 64;
        bo_rawws_msg *v = realloc(ws->msgs, na * sizeof(*v));
        if (!v)
            abort();
        ws->msgs = v;
        ws->alloc_msgs = na;
    }
    bo_rawws_msg *m = &ws->msgs[ws->n_msgs++];
    memset(m, 0, sizeof(*m));
    m->binary = binary;
    m->len = len;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    bo_buf js;
    bo_buf_init(&js, 64u << 20);
    if (msgpack_unpack_next(&u, (const char *)p, len, &off) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *o = &u.data;
        bo_mpjson_append(&js, o);
        if (o->type == MSGPACK_OBJECT_MAP) {
            copy_str(o, "t", m->t, sizeof(m->t));
            copy_str(o, "code", m->code, sizeof(m->code));
            copy_str(o, "msg", m->msg, sizeof(m->msg));
            copy_str(o, "st", m->st, sizeof(m->st));
            copy_str(o, "kind", m->kind, sizeof(m->kind));
            m->has_re = bo_mpo_u64(o, "re", &m->re);
            bo_mpo_u64(o, "seq", &m->seq);
            const uint8_t *nonce;
            size_t nl;
            if (!strcmp(m->t, "hello") && bo_mpo_bin(o, "nonce", &nonce, &nl) && nl == 32) {
                memcpy(ws->nonce, nonce, 32);
                ws->have_hello = true;
            }
        }
    } else {
        bo_buf_append_str(&js, "null");
    }
    msgpack_unpacked_destroy(&u);
    m->json = (char *)bo_buf_steal(&js, NULL);
    if (!m->json)
        m->json = strdup("");
    if (getenv("BO_TEST_VERBOSE"))
        fprintf(stderr, "[rawws %s] rx %zu bytes %.200s\n", ws->name, len, m->json);
}

/* ------------------------------------------------------------ lws glue ---- */

static void tx_clear(conn_priv *cp)
{
    while (cp->txh) {
        txf *f = cp->txh;
        cp->txh = f->next;
        free(f);
    }
    cp->txt = NULL;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    conn_priv *cp = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!cp)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    cp->wsi = wsi; /* a connection error may come before lws_client_connect_via_info returns */
    bo_rawws *ws = cp->ws;
    if (getenv("BO_TEST_VERBOSE") && reason != LWS_CALLBACK_CLIENT_RECEIVE)
        fprintf(stderr, "[rawws %s] lws reason %d len %zu\n", ws->name, (int)reason, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        ws->conn_error = true;
        snprintf(ws->error, sizeof(ws->error), "%s", in ? (const char *)in : "connection error");
        ws->closed = true;
        cp->wsi = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        ws->established = true;
        if (cp->rcvbuf)
            setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_RCVBUF, &cp->rcvbuf,
                       sizeof(cp->rcvbuf));
        if (cp->txh)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (lws_is_first_fragment(wsi)) {
            bo_buf_reset(&cp->rx);
            cp->rx_text = !lws_frame_is_binary(wsi);
        }
        ws->rx_bytes += len;
        if (bo_buf_append(&cp->rx, in, len) != BO_E_OK) {
            fprintf(stderr, "[rawws %s] message over %u bytes\n", ws->name, BO_RAWWS_RX_MAX);
            return -1;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            record(ws, cp->rx.data, cp->rx.len, !cp->rx_text);
            bo_buf_reset(&cp->rx);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        txf *f = cp->txh;
        if (!f)
            break;
        cp->txh = f->next;
        if (!cp->txh)
            cp->txt = NULL;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len,
                          f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        free(f);
        if (n < 0)
            return -1;
        if (cp->txh)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        ws->got_close = true;
        if (len >= 2) {
            const uint8_t *b = in;
            ws->close_code = (uint16_t)(b[0] << 8 | b[1]);
            size_t ml = len - 2 < sizeof(ws->close_reason) - 1 ? len - 2
                                                                : sizeof(ws->close_reason) - 1;
            memcpy(ws->close_reason, b + 2, ml);
            ws->close_reason[ml] = 0;
        }
        if (getenv("BO_TEST_VERBOSE"))
            fprintf(stderr, "[rawws %s] close %u %s\n", ws->name, ws->close_code,
                    ws->close_reason);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        ws->closed = true;
        cp->wsi = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        break;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
    return 0;
}

typedef struct walk {
    uv_handle_t **v;
    size_t n, cap;
    const bo_rawws_ctx *ctx;
    bool found;
} walk;

static void collect(uv_handle_t *h, void *arg)
{
    walk *w = arg;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        uv_handle_t **v = realloc(w->v, cap * sizeof(*v));
        if (!v)
            abort();
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = h;
}

static void find_ours(uv_handle_t *h, void *arg)
{
    walk *w = arg;
    for (size_t i = 0; i < w->ctx->n_lws_handles; i++)
        if (h == w->ctx->lws_handles[i])
            w->found = true;
}

bo_rawws_ctx *bo_rawws_ctx_new(uv_loop_t *loop, const char *ca_file)
{
    bo_rawws_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->loop = loop;
    ctx->protocols[0].name = BO_RAWWS_PROTO;
    ctx->protocols[0].callback = cb;
    ctx->protocols[0].rx_buffer_size = 65536;

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[1] = {loop};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = ctx->protocols;
    /* lws 4.1 makes a vhost's client SSL_CTX only with LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT
     * in the vhost's creation info, but with it in the context's options too, the context's
     * global TLS deinit makes libbidopen-client's SSL_CTX leak: so the context does without
     * it and the one vhost is made explicitly with it */
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    info.user = ctx;
    info.pcontext = &ctx->lws;
    info.timeout_secs = 10;
    info.connect_timeout_secs = 10;
    if (getenv("BO_TEST_LWS_LOG"))
        lws_set_log_level(atoi(getenv("BO_TEST_LWS_LOG")), NULL);

    walk before = {0}, after = {0};
    uv_walk(loop, collect, &before);
    struct lws_context *cx = lws_create_context(&info);
    uv_walk(loop, collect, &after);
    for (size_t i = 0; i < after.n; i++) {
        bool old = false;
        for (size_t j = 0; !old && j < before.n; j++)
            old = after.v[i] == before.v[j];
        uv_handle_type ty = uv_handle_get_type(after.v[i]);
        if (!old && (ty == UV_IDLE || ty == UV_TIMER) && ctx->n_lws_handles < LWS_HANDLES_MAX)
            ctx->lws_handles[ctx->n_lws_handles++] = after.v[i];
    }
    free(before.v);
    free(after.v);
    if (!cx) {
        fprintf(stderr, "rawws: lws_create_context failed\n");
        abort();
    }
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof(vi));
    vi.vhost_name = "rawws";
    vi.port = CONTEXT_PORT_NO_LISTEN;
    vi.protocols = ctx->protocols;
    vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    vi.client_ssl_ca_filepath = ca_file;
    ctx->vhost = lws_create_vhost(cx, &vi);
    if (!ctx->vhost) {
        fprintf(stderr, "rawws: lws_create_vhost failed\n");
        abort();
    }
    ctx->lws = cx;
    return ctx;
}

static bool lws_handles_gone(void *arg)
{
    bo_rawws_ctx *ctx = arg;
    walk w = {.ctx = ctx};
    uv_walk(ctx->loop, find_ours, &w);
    return !w.found;
}

static bool lws_gone(void *arg)
{
    return ((bo_rawws_ctx *)arg)->lws == NULL;
}

void bo_rawws_ctx_free(bo_rawws_ctx *ctx)
{
    if (!ctx)
        return;
    while (ctx->conns)
        bo_rawws_free(ctx->conns->ws);
    bo_h_run_for(ctx->loop, 50); /* let lws kill the wsis */
    /* lws 4.1 on a foreign loop: the first destroy closes the wsis and lws' own handles,
     * the second (once they are closed) frees the context */
    lws_context_destroy(ctx->lws);
    bo_h_run_until(ctx->loop, lws_handles_gone, ctx, 5000);
    if (ctx->lws)
        lws_context_destroy(ctx->lws);
    bo_h_run_until(ctx->loop, lws_gone, ctx, 5000);
    free(ctx);
}

bo_rawws *bo_rawws_open(bo_rawws_ctx *ctx, const char *name, const char *url,
                        const char *subprotocol)
{
    char host[64], path[128];
    int port = 0;
    if (sscanf(url, "wss://%63[^:]:%d%127s", host, &port, path) != 3)
        return NULL;
    bo_rawws *ws = calloc(1, sizeof(*ws));
    conn_priv *cp = calloc(1, sizeof(*cp));
    if (!ws || !cp)
        abort();
    ws->ctx = ctx;
    snprintf(ws->name, sizeof(ws->name), "%s", name);
    ws->priv = cp;
    cp->ws = ws;
    bo_buf_init(&cp->rx, BO_RAWWS_RX_MAX);

    char hosthdr[100];
    snprintf(hosthdr, sizeof(hosthdr), "%s:%d", host, port);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof(i));
    i.context = ctx->lws;
    i.vhost = ctx->vhost;
    i.address = host;
    i.port = port;
    i.path = path;
    i.host = hosthdr;
    i.origin = hosthdr;
    i.ssl_connection = LCCSCF_USE_SSL;
    i.protocol = subprotocol;
    i.local_protocol_name = BO_RAWWS_PROTO;
    i.alpn = "http/1.1";
    i.opaque_user_data = cp;
    cp->next = ctx->conns;
    ctx->conns = cp;
    struct lws *wsi = lws_client_connect_via_info(&i);
    if (!wsi) {
        cp->wsi = NULL;
        bo_rawws_free(ws);
        return NULL;
    }
    if (!ws->closed)
        cp->wsi = wsi;
    return ws;
}

void bo_rawws_free(bo_rawws *ws)
{
    if (!ws)
        return;
    conn_priv *cp = ws->priv;
    for (conn_priv **pp = &ws->ctx->conns; *pp; pp = &(*pp)->next)
        if (*pp == cp) {
            *pp = cp->next;
            break;
        }
    if (cp->wsi) {
        lws_set_opaque_user_data(cp->wsi, NULL);
        lws_set_timeout(cp->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    tx_clear(cp);
    bo_buf_cleanup(&cp->rx);
    free(cp);
    for (size_t i = 0; i < ws->n_msgs; i++)
        free(ws->msgs[i].json);
    free(ws->msgs);
    free(ws);
}

bo_err bo_rawws_send(bo_rawws *ws, const void *p, size_t len, bool binary)
{
    conn_priv *cp = ws->priv;
    if (!cp->wsi || ws->closed)
        return BO_E_IO;
    txf *f = malloc(sizeof(*f) + LWS_PRE + len);
    if (!f)
        return BO_E_NOMEM;
    f->next = NULL;
    f->binary = binary;
    f->len = len;
    memcpy(f->data + LWS_PRE, p, len);
    if (cp->txt)
        cp->txt->next = f;
    else
        cp->txh = f;
    cp->txt = f;
    if (ws->established)
        lws_callback_on_writable(cp->wsi);
    return BO_E_OK;
}

/* ------------------------------------------------------- JSON -> msgpack ---- */

static int buf_write(void *data, const char *p, size_t len)
{
    return bo_buf_append(data, p, len) == BO_E_OK ? 0 : -1;
}

static int pack(msgpack_packer *pk, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        if (msgpack_pack_map(pk, json_object_size(j)))
            return -1;
        json_object_foreach((json_t *)j, k, v)
        {
            if (msgpack_pack_str(pk, strlen(k)) || msgpack_pack_str_body(pk, k, strlen(k)) ||
                pack(pk, v))
                return -1;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        if (msgpack_pack_array(pk, json_array_size(j)))
            return -1;
        json_array_foreach(j, i, v)
        {
            if (pack(pk, v))
                return -1;
        }
        return 0;
    }
    case JSON_STRING: {
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
    }
    case JSON_INTEGER: {
        json_int_t v = json_integer_value(j);
        return v < 0 ? msgpack_pack_int64(pk, v) : msgpack_pack_uint64(pk, (uint64_t)v);
    }
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(j));
    case JSON_TRUE:
        return msgpack_pack_true(pk);
    case JSON_FALSE:
        return msgpack_pack_false(pk);
    case JSON_NULL:
        return msgpack_pack_nil(pk);
    }
    return -1;
}

bo_err bo_rawws_mp_from_json(const char *json, bo_buf *out)
{
    json_error_t e;
    json_t *j = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!j) {
        fprintf(stderr, "rawws: bad JSON: %s\n", e.text);
        return BO_E_INVALID_ARG;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    int rc = pack(&pk, j);
    json_decref(j);
    return rc ? BO_E_INVALID_ARG : BO_E_OK;
}

bo_err bo_rawws_send_json(bo_rawws *ws, const char *json)
{
    bo_buf b;
    bo_buf_init(&b, 64u << 20);
    bo_err err = bo_rawws_mp_from_json(json, &b);
    if (!err)
        err = bo_rawws_send(ws, b.data, b.len, true);
    bo_buf_cleanup(&b);
    return err;
}

void bo_rawws_rcvbuf(bo_rawws *ws, int bytes)
{
    conn_priv *cp = ws->priv;
    cp->rcvbuf = bytes;
    if (cp->wsi && ws->established)
        setsockopt(lws_get_socket_fd(cp->wsi), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

void bo_rawws_rx(bo_rawws *ws, bool enable)
{
    conn_priv *cp = ws->priv;
    ws->rx_paused = !enable;
    if (cp->wsi)
        lws_rx_flow_control(cp->wsi, enable ? 1 : 0);
}

/* --------------------------------------------------------------- waiting ---- */

typedef struct wctx {
    bo_rawws *ws;
    const char *t;
    size_t n;
    uint64_t id;
} wctx;

static bool hello_or_gone(void *arg)
{
    const bo_rawws *ws = ((wctx *)arg)->ws;
    return ws->have_hello || ws->closed;
}

bool bo_rawws_wait_hello(bo_rawws *ws, int timeout_ms)
{
    wctx w = {.ws = ws};
    bo_h_run_until(ws->ctx->loop, hello_or_gone, &w, timeout_ms);
    return ws->have_hello;
}

static bool gone(void *arg)
{
    return ((wctx *)arg)->ws->closed;
}

bool bo_rawws_wait_closed(bo_rawws *ws, int timeout_ms)
{
    wctx w = {.ws = ws};
    bo_h_run_until(ws->ctx->loop, gone, &w, timeout_ms);
    return ws->closed;
}

static const bo_rawws_msg *reply_of(const bo_rawws *ws, uint64_t id)
{
    for (size_t i = 0; i < ws->n_msgs; i++) {
        const bo_rawws_msg *m = &ws->msgs[i];
        if ((!strcmp(m->t, "ok") || !strcmp(m->t, "err")) && m->has_re && m->re == id)
            return m;
    }
    return NULL;
}

static bool has_reply(void *arg)
{
    wctx *w = arg;
    return reply_of(w->ws, w->id) || w->ws->closed;
}

const bo_rawws_msg *bo_rawws_wait_reply(bo_rawws *ws, uint64_t id, int timeout_ms)
{
    wctx w = {.ws = ws, .id = id};
    bo_h_run_until(ws->ctx->loop, has_reply, &w, timeout_ms);
    return reply_of(ws, id);
}

size_t bo_rawws_count(const bo_rawws *ws, const char *t)
{
    size_t n = 0;
    for (size_t i = 0; i < ws->n_msgs; i++)
        n += !t || !strcmp(ws->msgs[i].t, t);
    return n;
}

static bool has_count(void *arg)
{
    wctx *w = arg;
    return bo_rawws_count(w->ws, w->t) >= w->n || w->ws->closed;
}

bool bo_rawws_wait_count(bo_rawws *ws, const char *t, size_t n, int timeout_ms)
{
    wctx w = {.ws = ws, .t = t, .n = n};
    bo_h_run_until(ws->ctx->loop, has_count, &w, timeout_ms);
    return bo_rawws_count(ws, t) >= n;
}

const bo_rawws_msg *bo_rawws_find(const bo_rawws *ws, const char *t, size_t from)
{
    for (size_t i = from; i < ws->n_msgs; i++)
        if (!t || !strcmp(ws->msgs[i].t, t))
            return &ws->msgs[i];
    return NULL;
}

bool bo_rawws_auth_observer(bo_rawws *ws, uint64_t id, int timeout_ms)
{
    char js[128];
    snprintf(js, sizeof(js), "{\"t\":\"auth\",\"id\":%llu,\"role\":\"observer\"}",
             (unsigned long long)id);
    if (bo_rawws_send_json(ws, js))
        return false;
    const bo_rawws_msg *r = bo_rawws_wait_reply(ws, id, timeout_ms);
    return r && !strcmp(r->t, "ok");
}

bool bo_rawws_join(bo_rawws *ws, uint64_t id, const char *oid, int timeout_ms)
{
    char js[256];
    snprintf(js, sizeof(js), "{\"t\":\"join\",\"id\":%llu,\"oid\":\"%s\"}",
             (unsigned long long)id, oid);
    if (bo_rawws_send_json(ws, js))
        return false;
    const bo_rawws_msg *r = bo_rawws_wait_reply(ws, id, timeout_ms);
    return r && !strcmp(r->t, "ok");
}
