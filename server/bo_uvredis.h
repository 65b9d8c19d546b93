/* bidopen server: one hiredis 0.14 async connection on a libuv loop.
 *
 * Replaces hiredis 0.14.1's adapters/libuv.h, which returns early when libuv reports a poll
 * error, so a refused or broken connection may never fire a callback (hiredis #508). This
 * adapter dispatches read and write on a poll error the way hiredis 1.0 does, and adds a
 * connect watchdog: a connect that has not completed after connect_timeout_ms is abandoned.
 *
 * Lifecycle of one bo_uvredis (one connection attempt; reconnecting makes a new one):
 *   bo_uvredis_connect -> on_up (connected; issue commands on bo_uvredis_ac)
 *                      -> on_down (connect failed or timed out, or the connection was lost)
 *   or the owner ends it with bo_uvredis_drop (then on_down never runs).
 * Either way, hiredis first runs every pending reply callback with a NULL reply. When the
 * object's uv handles are closed its memory is freed and on_closed runs; an owner that must
 * wait for every handle (a clean shutdown) counts on_closed.
 *
 * Names are never resolved: host must be an IP address (hiredis 0.14 would call a blocking
 * getaddrinfo), or use a unix socket.
 */
#ifndef BO_UVREDIS_H
#define BO_UVREDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <uv.h>

#include "bo/err.h"

typedef struct bo_uvredis bo_uvredis;

typedef struct bo_uvredis_cbs {
    /* Connected. Commands may be issued on bo_uvredis_ac(c). Calling bo_uvredis_drop here is
     * allowed (it takes effect when hiredis returns to the adapter). */
    void (*on_up)(void *ud, bo_uvredis *c);
    /* The connection is gone without the owner asking: connect refused, connect timed out,
     * EOF, I/O or protocol error. why is a short sentence valid during the call. Runs after
     * every pending reply callback got its NULL reply. The context is being freed: do not touch
     * it; c stays a valid pointer (for comparison only) until on_closed. */
    void (*on_down)(void *ud, bo_uvredis *c, const char *why);
    /* Every uv handle of c is closed and c is freed. Optional (NULL). */
    void (*on_closed)(void *ud);
} bo_uvredis_cbs;

/** Start a non-blocking connect to a unix socket (unix_path) or an IP address (host, port).
 * Errors: NULL with *err = BO_E_INVALID_ARG (neither or both addresses, a path longer than a
 * sockaddr_un holds, a host that is not a numeric IPv4/IPv6 address), BO_E_STORE_UNAVAILABLE
 * (the connect failed at once, e.g. no socket file or connection refused; no callback runs;
 * why, when not NULL, gets hiredis' sentence), BO_E_NOMEM.
 * Ownership: cbs is copied; the strings are not kept. The object owns itself: it is freed
 * after on_down or bo_uvredis_drop, when its handles are closed. why (may be NULL) is the
 * caller's buffer of why_len bytes.
 * Context: loop thread. */
bo_uvredis *bo_uvredis_connect(uv_loop_t *loop, const char *unix_path, const char *host, int port,
                               uint32_t connect_timeout_ms, const bo_uvredis_cbs *cbs, void *ud,
                               bo_err *err, char *why, size_t why_len);

/** The hiredis context while the connection lives (from bo_uvredis_connect until on_down or
 * bo_uvredis_drop), NULL after. Commands issued before on_up are queued by hiredis.
 * Ownership: borrowed. Context: loop thread. */
redisAsyncContext *bo_uvredis_ac(bo_uvredis *c);

/** Call on_flushed(ud, c) each time everything queued on the connection has been written to
 * its socket (hiredis writes in the loop's I/O phase, not when a command is issued: a
 * command's time on the wire starts then). NULL: none. Context: loop thread. */
void bo_uvredis_set_on_flushed(bo_uvredis *c, void (*on_flushed)(void *ud, bo_uvredis *c));

/** Whether on_up has run and the connection is still alive. Context: loop thread. */
bool bo_uvredis_connected(const bo_uvredis *c);

/** End the connection now (idempotent). Pending reply callbacks run with a NULL reply, during
 * this call or, when called from inside a hiredis callback, as soon as it returns. on_down does
 * not run; on_closed runs later.
 * Ownership: c must not be used afterwards except by identity. Context: loop thread. */
void bo_uvredis_drop(bo_uvredis *c);

#endif
