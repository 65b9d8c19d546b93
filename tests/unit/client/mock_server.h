/* A scripted bidopen.v1 server for the client's unit tests: real WebSocket over real TLS
 * (a libwebsockets vhost on the client's own lws context, port chosen by the OS), but
 * every reply is written by the test's handler. Not a bidopen server: it checks nothing
 * by itself. */
#ifndef BO_TEST_MOCK_SERVER_H
#define BO_TEST_MOCK_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bo/buf.h"
#include "bo/wire.h"

typedef struct mock mock;
typedef struct mconn mconn;

/* msg NULL: a new connection (the handler usually sends hello). */
typedef void (*mock_handler)(mock *m, mconn *c, const bo_msg *msg, void *ud);

/* The test PKI: a root CA, a TLS server certificate for localhost/127.0.0.1, and a bidder's
 * signing and encryption certificates (EC P-256), written under a fresh temp dir. */
typedef struct mock_pki {
    char dir[256];
    char ca_file[300];       /* root CA (PEM) */
    char srv_cert[300];      /* TLS server chain */
    char srv_key[300];
    char sign_cert[300];     /* bidder signing chain (PEM), key in sign_key */
    char sign_key[300];
    char enc_cert[300];      /* bidder encryption chain */
    char uscc[19];
} mock_pki;

/** Generate the PKI. Returns 0 on success. */
int mock_pki_make(mock_pki *p);
/** Remove the files. */
void mock_pki_remove(mock_pki *p);

struct lws_context;
/** Listen on 127.0.0.1 (port in *port) as a vhost of cx (the client context's lws
 * context: see bo_client_internal.h). NULL on failure. */
mock *mock_new(struct lws_context *cx, const mock_pki *pki, mock_handler h, void *ud,
               int *port);
/** Nothing to do: the vhost is destroyed with the context. */
void mock_free(mock *m);
/** Free the memory once the loop ran dry after the context was freed. */
void mock_release(mock *m);
/** Connections accepted so far. */
int mock_connections(const mock *m);

int mconn_no(const mconn *c); /* 1-based number of this connection */
const uint8_t *mconn_nonce(const mconn *c);
void mock_send(mconn *c, const bo_msg *m);
void mock_send_raw(mconn *c, const void *p, size_t n, bool binary);
void mock_send_hello(mconn *c, int64_t server_time);
void mock_send_ok(mconn *c, uint64_t re, const bo_buf *data); /* data: a map, or NULL */
void mock_send_err(mconn *c, uint64_t re, const char *code, const char *msg);
/* body: canonical msgpack map (NULL: {}) */
void mock_send_ev(mconn *c, const char *oid, const char *st, uint64_t seq, const char *kind,
                  const bo_buf *body);
void mock_send_ping(mconn *c, uint64_t n);
/* Close with a code once the queued frames are written. */
void mock_close(mconn *c, uint16_t code);

#endif
