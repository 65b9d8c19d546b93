/* bidopen client: internals shared between the client's own files (the connection, sealed
 * bid uploads, the decryption responder) and with its unit tests. */
#ifndef BO_CLIENT_INTERNAL_H
#define BO_CLIENT_INTERNAL_H

#include "bo/client.h"

struct lws_context;

/** The libwebsockets context under ctx. Tests add their scripted server as a second vhost
 * on it: lws 4.1 keeps its OpenSSL ex_data indexes in globals that every context with
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT overwrites, so two TLS contexts in one process leak
 * the first one's client SSL_CTX. One context per process avoids that. */
struct lws_context *bo__client_ctx_lws(const bo_client_ctx *ctx);

/* A library feature attached to a client (an upload, the decryption responder): it hears
 * what the application hears, after the application's own callback, on the loop thread.
 * Any function may be NULL. A hook may remove itself (or others) and the application may
 * free the client from inside these calls. on_detach runs when the client is freed (its
 * pending requests were canceled just before): the feature forgets the client and must not
 * call into it any more. The hook's memory is the feature's. */
typedef struct bo__client_hook bo__client_hook;
struct bo__client_hook {
    bo__client_hook *next;
    void *ud;
    void (*on_state)(void *ud, bo_client_state st);
    void (*on_snapshot)(void *ud, const msgpack_object *snap, bool recovered);
    void (*on_event)(void *ud, const bo_client_event *ev);
    void (*on_detach)(void *ud);
    unsigned gen;  /* internal */
    bool attached; /* internal */
};

/** Attach or detach a hook (no-ops when already so). Context: loop thread. */
void bo__client_hook_add(bo_client *c, bo__client_hook *h);
void bo__client_hook_remove(bo_client *c, bo__client_hook *h);

/** The signing key (NULL for observers), the encryption chain, the oid the client joins
 * (may be NULL), its loop, whether it is being freed. Context: loop thread. */
const bo_key *bo__client_key(const bo_client *c);
bo_bytes_list bo__client_enc_chain(const bo_client *c);
const char *bo__client_oid(const bo_client *c);
uv_loop_t *bo__client_loop(const bo_client *c);
bool bo__client_dead(const bo_client *c);

/* One pointer per feature kind a client carries at most once (the running upload, the
 * responder), for the feature's own bookkeeping. */
#define BO__CLIENT_SLOT_UPLOAD 0u
#define BO__CLIENT_SLOT_RESPONDER 1u
#define BO__CLIENT_SLOTS 2u
/** The slot's address (NULL past BO__CLIENT_SLOTS). Context: loop thread. */
void **bo__client_slot(bo_client *c, unsigned i);

/** Drop the connection and reconnect at once (pending requests get BO_E_CANCELED), e.g.
 * when a reply is overdue. No-op unless authenticated. Context: loop thread. */
void bo__client_kick(bo_client *c, const char *why);

#endif
