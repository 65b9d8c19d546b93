/* Integration tests: a raw bidopen.v1 WebSocket client that sends exactly the bytes a test
 * gives it (malformed, oversized, text frames, no subprotocol) and records everything the
 * server sends back (every message decoded, the close code), and that can stop reading.
 *
 * libwebsockets 4.1 over TLS on the test's libuv loop, with an lws context of its own next
 * to libbidopen-client's (create it after the bo_client_ctx: only that one does lws' TLS
 * global init; free it before the bo_client_ctx).
 *
 *   bo_rawws_ctx *rx = bo_rawws_ctx_new(&loop, ca_pem);
 *   bo_rawws *ws = bo_rawws_open(rx, "wss://127.0.0.1:1234/ws", BO_RAWWS_PROTO);
 *   bo_rawws_wait_hello(ws, 10000);
 *   bo_rawws_send_json(ws, "{\"t\":\"time\",\"id\":1,\"t0\":0}");
 *   const bo_rawws_msg *r = bo_rawws_wait_reply(ws, 1, 5000);
 *   bo_rawws_free(ws);
 *   bo_rawws_ctx_free(rx);   // runs the loop until lws let go of it
 *
 * Everything runs on the loop thread; the wait helpers run the loop. */
#ifndef BO_RAWWS_H
#define BO_RAWWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bo/buf.h"
#include "bo/err.h"

#define BO_RAWWS_PROTO "bidopen.v1"
#define BO_RAWWS_RX_MAX (4u << 20) /* bytes of one received message */

typedef struct bo_rawws_ctx bo_rawws_ctx;

/* One message from the server, as far as it could be read. */
typedef struct bo_rawws_msg {
    char t[16];        /* "hello", "ok", "err", "ev", "ping", ...; "" if not a map with t */
    bool binary;       /* arrived in a binary frame */
    bool has_re;
    uint64_t re;
    char code[64];     /* err and notice */
    char msg[512];
    char st[8];        /* ev */
    uint64_t seq;
    char kind[40];
    size_t len;        /* bytes of the frame */
    char *json;        /* the whole message as JSON (bin as hex); malloc'd */
} bo_rawws_msg;

/* A connection. Read-only for tests; the fields say what happened so far. */
typedef struct bo_rawws {
    bo_rawws_ctx *ctx;
    char name[32];
    bool established;       /* the WebSocket upgrade succeeded */
    bool conn_error;        /* lws reported a connection error (refused upgrade, TLS, TCP) */
    char error[200];
    bool closed;            /* the connection is gone */
    bool got_close;         /* the server sent a close frame */
    uint16_t close_code;    /* its code (0 if none) */
    char close_reason[124];
    bool rx_paused;
    uint64_t rx_bytes;      /* payload bytes received */
    bo_rawws_msg *msgs;     /* every message received, in order */
    size_t n_msgs, alloc_msgs;
    uint8_t nonce[32];      /* from hello */
    bool have_hello;
    void *priv;             /* the lws side: do not touch */
} bo_rawws;

/** Make an lws client context on loop; ca_file (PEM) verifies the servers' certificates.
 * Aborts the test on failure. Ownership: bo_rawws_ctx_free. Context: loop thread. */
bo_rawws_ctx *bo_rawws_ctx_new(uv_loop_t *loop, const char *ca_file);

/** Free every connection still open and the context; runs the loop until libwebsockets has
 * closed its handles. Context: loop thread, not from a callback. Accepts NULL. */
void bo_rawws_ctx_free(bo_rawws_ctx *ctx);

/** Start connecting to url (wss://127.0.0.1:port/path); subprotocol is the
 * Sec-WebSocket-Protocol header to ask for (NULL: none). Returns NULL if lws refused at once.
 * Ownership: bo_rawws_free (or the context's free). Context: loop thread. */
bo_rawws *bo_rawws_open(bo_rawws_ctx *ctx, const char *name, const char *url,
                        const char *subprotocol);

/** Close (at once, no close frame) and free. Accepts NULL. */
void bo_rawws_free(bo_rawws *ws);

/** Queue one frame (copied): binary or text. Errors: BO_E_IO (not connected), BO_E_NOMEM. */
bo_err bo_rawws_send(bo_rawws *ws, const void *p, size_t len, bool binary);

/** JSON text -> msgpack (objects become maps in their key order, integers the shortest
 * format, reals float64, strings str, null nil) appended to out. Errors: BO_E_INVALID_ARG. */
bo_err bo_rawws_mp_from_json(const char *json, bo_buf *out);

/** Convert json with bo_rawws_mp_from_json and send it in one binary frame. */
bo_err bo_rawws_send_json(bo_rawws *ws, const char *json);

/** Shrink the socket's kernel receive buffer (SO_RCVBUF; the kernel doubles it and has a
 * floor), now if connected, else once established: with a reader that stops, less is held
 * in the pipe before the server sees it fall behind. */
void bo_rawws_rcvbuf(bo_rawws *ws, int bytes);

/** Stop (false) or resume (true) reading from the socket: lws_rx_flow_control. */
void bo_rawws_rx(bo_rawws *ws, bool enable);

/** Run the loop until the hello arrived, or the connection failed or closed. */
bool bo_rawws_wait_hello(bo_rawws *ws, int timeout_ms);

/** Run the loop until the connection is gone (closed or connection error). */
bool bo_rawws_wait_closed(bo_rawws *ws, int timeout_ms);

/** Run the loop until a reply (ok or err) with re = id arrived; returns it or NULL. */
const bo_rawws_msg *bo_rawws_wait_reply(bo_rawws *ws, uint64_t id, int timeout_ms);

/** Run the loop until at least n messages of type t (NULL: any) were received; returns
 * whether they were. */
bool bo_rawws_wait_count(bo_rawws *ws, const char *t, size_t n, int timeout_ms);

/** Messages of type t received (NULL: all). */
size_t bo_rawws_count(const bo_rawws *ws, const char *t);

/** The first message of type t at index >= from, or NULL. */
const bo_rawws_msg *bo_rawws_find(const bo_rawws *ws, const char *t, size_t from);

/** auth as an observer ({t:auth, id, role:observer}) and wait for the reply; true if ok. */
bool bo_rawws_auth_observer(bo_rawws *ws, uint64_t id, int timeout_ms);

/** join{oid} and wait for the reply; true if ok. */
bool bo_rawws_join(bo_rawws *ws, uint64_t id, const char *oid, int timeout_ms);

#endif
