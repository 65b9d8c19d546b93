#include "mock_server.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/pki.h"

typedef struct frame {
    struct frame *next;
    uint8_t *data; /* LWS_PRE + len */
    size_t len;
    bool binary;
} frame;

struct mconn {
    mock *m;
    struct lws *wsi;
    int no;
    uint8_t nonce[32];
    frame *head, *tail;
    bool closing;
    uint16_t close_code;
    bo_buf rx;
    mconn *next;
};

struct mock {
    struct lws_vhost *vh;
    struct lws_protocols protocols[3];
    mock_handler h;
    void *ud;
    int conns;
};

/* ------------------------------------------------------------------ PKI ---- */

static int write_buf(const char *path, const bo_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(b->data, 1, b->len, f);
    return fclose(f) == 0 && n == b->len ? 0 : -1;
}

static int issue(bo_pki_ca *ca, const bo_pki_leaf_opts *o, const char *cert, const char *key)
{
    bo_buf k, c;
    bo_buf_init(&k, 1 << 20);
    bo_buf_init(&c, 1 << 20);
    int rc = bo_pki_issue(ca, o, &k, &c, NULL) == BO_E_OK && write_buf(cert, &c) == 0 &&
                     (!key || write_buf(key, &k) == 0)
                 ? 0
                 : -1;
    bo_buf_cleanup_wipe(&k);
    bo_buf_cleanup(&c);
    return rc;
}

int mock_pki_make(mock_pki *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "/tmp/bo-client-test-XXXXXX");
    if (!mkdtemp(p->dir))
        return -1;
    snprintf(p->ca_file, sizeof(p->ca_file), "%s/ca.pem", p->dir);
    snprintf(p->srv_cert, sizeof(p->srv_cert), "%s/server.pem", p->dir);
    snprintf(p->srv_key, sizeof(p->srv_key), "%s/server.key", p->dir);
    snprintf(p->sign_cert, sizeof(p->sign_cert), "%s/sign.pem", p->dir);
    snprintf(p->sign_key, sizeof(p->sign_key), "%s/sign.key", p->dir);
    snprintf(p->enc_cert, sizeof(p->enc_cert), "%s/enc.pem", p->dir);
    strcpy(p->uscc, "91350100M000100Y43");

    bo_time_ms now = bo_clock_now_ms();
    bo_err err;
    bo_pki_name root = {.c = "CN", .o = "bidopen test", .cn = "bidopen test root"};
    bo_pki_ca *ca = bo_pki_ca_root(&root, BO_KEY_EC_P256, now - 3600000, now + 86400000, &err);
    if (!ca)
        return -1;
    bo_buf pem;
    bo_buf_init(&pem, 1 << 20);
    int rc = bo_pki_ca_cert_pem(ca, &pem) == BO_E_OK ? write_buf(p->ca_file, &pem) : -1;
    bo_buf_cleanup(&pem);

    bo_pki_leaf_opts srv = {.alg = BO_KEY_EC_P256,
                            .subj = {.cn = "localhost"},
                            .usage = BO_PKI_TLS_SERVER,
                            .not_before = now - 3600000,
                            .not_after = now + 86400000};
    if (!rc)
        rc = issue(ca, &srv, p->srv_cert, p->srv_key);
    bo_pki_leaf_opts sign = {.alg = BO_KEY_EC_P256,
                             .subj = {.c = "CN", .o = "福建某建设有限公司", .cn = "张三"},
                             .uscc = p->uscc,
                             .usage = BO_PKI_SIGN,
                             .not_before = now - 3600000,
                             .not_after = now + 86400000};
    if (!rc)
        rc = issue(ca, &sign, p->sign_cert, p->sign_key);
    bo_pki_leaf_opts enc = sign;
    enc.usage = BO_PKI_ENC;
    if (!rc)
        rc = issue(ca, &enc, p->enc_cert, NULL);
    bo_pki_ca_free(ca);
    return rc;
}

void mock_pki_remove(mock_pki *p)
{
    const char *files[] = {p->ca_file,   p->srv_cert, p->srv_key,
                           p->sign_cert, p->sign_key, p->enc_cert};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (files[i][0])
            unlink(files[i]);
    if (p->dir[0])
        rmdir(p->dir);
}

/* --------------------------------------------------------------- sending ---- */

void mock_send_raw(mconn *c, const void *p, size_t n, bool binary)
{
    frame *f = calloc(1, sizeof(*f));
    f->data = malloc(LWS_PRE + n + 1);
    memcpy(f->data + LWS_PRE, p, n);
    f->len = n;
    f->binary = binary;
    if (c->tail)
        c->tail->next = f;
    else
        c->head = f;
    c->tail = f;
    lws_callback_on_writable(c->wsi);
}

void mock_send(mconn *c, const bo_msg *m)
{
    bo_buf b;
    bo_buf_init(&b, 8 << 20);
    if (bo_wire_encode(&b, m) != BO_E_OK) {
        fprintf(stderr, "mock: cannot encode %s\n", bo_msg_type_name(m->type));
        abort();
    }
    mock_send_raw(c, b.data, b.len, true);
    bo_buf_cleanup(&b);
}

void mock_send_hello(mconn *c, int64_t server_time)
{
    bo_msg m = {.type = BO_MSG_HELLO};
    m.u.hello.v = 1;
    m.u.hello.time = server_time;
    m.u.hello.nonce = (bo_bytes){c->nonce, 32};
    m.u.hello.node = "mock";
    bo_wire_caps_default(&m.u.hello.caps);
    mock_send(c, &m);
}

void mock_send_ok(mconn *c, uint64_t re, const bo_buf *data)
{
    bo_buf b;
    bo_buf_init(&b, 8 << 20);
    bo_wire_encode_ok(&b, re, data ? data->data : NULL, data ? data->len : 0);
    mock_send_raw(c, b.data, b.len, true);
    bo_buf_cleanup(&b);
}

void mock_send_err(mconn *c, uint64_t re, const char *code, const char *msg)
{
    bo_msg m = {.type = BO_MSG_ERR};
    m.u.err.re = re;
    m.u.err.has_re = true;
    m.u.err.code = code;
    m.u.err.msg = msg;
    mock_send(c, &m);
}

void mock_send_ev(mconn *c, const char *oid, const char *st, uint64_t seq, const char *kind,
                  const bo_buf *body)
{
    static const uint8_t empty_map = 0x80;
    uint8_t hash[32];
    memset(hash, (int)seq, sizeof(hash));
    bo_msg m = {.type = BO_MSG_EV};
    m.u.ev.oid = oid;
    m.u.ev.st = st;
    m.u.ev.seq = seq;
    m.u.ev.ts = bo_clock_now_ms();
    m.u.ev.kind = kind;
    m.u.ev.body.mp = body ? (bo_bytes){body->data, body->len} : (bo_bytes){&empty_map, 1};
    m.u.ev.hash = (bo_bytes){hash, 32};
    mock_send(c, &m);
}

void mock_send_ping(mconn *c, uint64_t n)
{
    bo_msg m = {.type = BO_MSG_PING};
    m.u.ping.n = n;
    m.u.ping.time = bo_clock_now_ms();
    mock_send(c, &m);
}

void mock_close(mconn *c, uint16_t code)
{
    c->closing = true;
    c->close_code = code;
    lws_callback_on_writable(c->wsi);
}

int mconn_no(const mconn *c)
{
    return c->no;
}

const uint8_t *mconn_nonce(const mconn *c)
{
    return c->nonce;
}

int mock_connections(const mock *m)
{
    return m->conns;
}

/* -------------------------------------------------------------- the server ---- */

static void conn_free(mconn *c)
{
    while (c->head) {
        frame *f = c->head;
        c->head = f->next;
        free(f->data);
        free(f);
    }
    c->tail = NULL;
    bo_buf_cleanup(&c->rx);
}

static int mock_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    mconn *c = user;
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    mock *m = proto ? proto->user : NULL;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof(*c));
        c->m = m;
        c->wsi = wsi;
        c->no = ++m->conns;
        bo_random_bytes(c->nonce, sizeof(c->nonce));
        bo_buf_init(&c->rx, 1 << 20);
        m->h(m, c, NULL, m->ud);
        break;
    case LWS_CALLBACK_RECEIVE: {
        if (lws_is_first_fragment(wsi))
            bo_buf_reset(&c->rx);
        bo_buf_append(&c->rx, in, len);
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            break;
        bo_wire_caps caps;
        bo_wire_caps_default(&caps);
        bo_msg *msg = NULL;
        uint64_t id;
        char detail[100];
        bo_err err = bo_wire_decode(c->rx.data, c->rx.len, &caps, true, &msg, &id, detail,
                                    sizeof(detail));
        if (err) {
            fprintf(stderr, "mock: undecodable frame from client: %s %s\n", bo_err_name(err),
                    detail);
            return -1;
        }
        m->h(m, c, msg, m->ud);
        bo_msg_free(msg);
        break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        frame *f = c->head;
        if (!f) {
            if (c->closing) {
                lws_close_reason(wsi, (enum lws_close_status)c->close_code, NULL, 0);
                return -1;
            }
            break;
        }
        c->head = f->next;
        if (!c->head)
            c->tail = NULL;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len,
                          f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        bool bad = n < (int)f->len;
        free(f->data);
        free(f);
        if (bad)
            return -1;
        if (c->head || c->closing)
            lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLOSED:
        conn_free(c);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

mock *mock_new(struct lws_context *cx, const mock_pki *pki, mock_handler h, void *ud,
               int *port)
{
    mock *m = calloc(1, sizeof(*m));
    m->h = h;
    m->ud = ud;
    m->protocols[0] = (struct lws_protocols){"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0};
    m->protocols[1] = (struct lws_protocols){"bidopen.v1", mock_cb, sizeof(mconn), 0, 0, m, 0};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.vhost_name = "mock";
    info.port = 0;
    info.iface = "127.0.0.1";
    info.protocols = m->protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* per vhost: enables its TLS */
    info.ssl_cert_filepath = pki->srv_cert;
    info.ssl_private_key_filepath = pki->srv_key;
    m->vh = lws_create_vhost(cx, &info);
    *port = m->vh ? lws_get_vhost_listen_port(m->vh) : 0;
    if (*port <= 0) {
        fprintf(stderr, "mock: no listening vhost\n");
        free(m);
        return NULL;
    }
    return m;
}

void mock_free(mock *m)
{
    /* the vhost goes with the client context it lives on */
    (void)m;
}

void mock_release(mock *m)
{
    free(m);
}
