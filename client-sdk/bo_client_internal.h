/* bidopen client: internals shared with the client's own unit tests. */
#ifndef BO_CLIENT_INTERNAL_H
#define BO_CLIENT_INTERNAL_H

#include "bo/client.h"

struct lws_context;

/** The libwebsockets context under ctx. Tests add their scripted server as a second vhost
 * on it: lws 4.1 keeps its OpenSSL ex_data indexes in globals that every context with
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT overwrites, so two TLS contexts in one process leak
 * the first one's client SSL_CTX. One context per process avoids that. */
struct lws_context *bo__client_ctx_lws(const bo_client_ctx *ctx);

#endif
