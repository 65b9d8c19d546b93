/* bidopen server: hiredis 0.14 <-> libuv adapter with poll-error dispatch and a connect
 * watchdog. See bo_uvredis.h for the lifecycle. */
#include "bo_uvredis.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

struct bo_uvredis {
    redisAsyncContext *ac; /* NULL once hiredis has cleaned up (or is about to free it) */
    uv_poll_t poll;
    uv_timer_t watchdog;
    int events;       /* UV_READABLE | UV_WRITABLE wanted by hiredis */
    int open_handles; /* handles not yet closed; the object is freed at 0 */
    bool connected;
    bool dropping;      /* the owner asked: no on_down */
    bool in_connect_cb; /* inside on_up: redisAsyncFree now would free under hiredis' feet */
    bool drop_deferred;
    bool timed_out;
    bool recheck; /* the watchdog fired once: judged again after one turn of I/O */
    bo_uvredis_cbs cbs;
    void (*on_flushed)(void *ud, bo_uvredis *c);
    void *ud;
};

static void on_handle_closed(uv_handle_t *h)
{
    bo_uvredis *c = h->data;
    if (--c->open_handles > 0)
        return;
    void (*closed)(void *) = c->cbs.on_closed;
    void *ud = c->ud;
    free(c);
    if (closed)
        closed(ud);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    bo_uvredis *c = h->data;
    /* libuv stops the handle and reports UV_EBADF with no events on POLLERR (e.g. a refused TCP
     * connect). hiredis only learns of the error by trying to read or write, so dispatch what
     * it asked for, as hiredis 1.0 does. */
    int ev = status < 0 ? c->events : events;
    if (c->ac && (ev & UV_READABLE))
        redisAsyncHandleRead(c->ac);
    if (c->ac && (ev & UV_WRITABLE)) {
        redisAsyncHandleWrite(c->ac);
        /* hiredis stops watching for writable once its output buffer is empty */
        if (c->ac && c->connected && !(c->events & UV_WRITABLE) && c->on_flushed)
            c->on_flushed(c->ud, c);
    }
    if (c->ac && c->drop_deferred) {
        c->drop_deferred = false;
        redisAsyncFree(c->ac);
    }
}

static void poll_restart(bo_uvredis *c)
{
    if (c->events)
        uv_poll_start(&c->poll, c->events, on_poll);
    else
        uv_poll_stop(&c->poll);
}

static void ev_add_read(void *p)
{
    bo_uvredis *c = p;
    c->events |= UV_READABLE;
    poll_restart(c);
}

static void ev_del_read(void *p)
{
    bo_uvredis *c = p;
    c->events &= ~UV_READABLE;
    poll_restart(c);
}

static void ev_add_write(void *p)
{
    bo_uvredis *c = p;
    c->events |= UV_WRITABLE;
    poll_restart(c);
}

static void ev_del_write(void *p)
{
    bo_uvredis *c = p;
    c->events &= ~UV_WRITABLE;
    poll_restart(c);
}

/* hiredis calls this exactly once, from __redisAsyncFree, after every pending reply callback
 * ran and before the context memory (and its fd) is released. */
static void ev_cleanup(void *p)
{
    bo_uvredis *c = p;
    char why[160];
    if (c->timed_out)
        snprintf(why, sizeof(why), "connect timed out");
    else if (c->ac && c->ac->c.err)
        snprintf(why, sizeof(why), "%s", c->ac->c.errstr);
    else
        snprintf(why, sizeof(why), "connection closed");
    c->ac = NULL;
    c->connected = false;
    c->events = 0;
    uv_timer_stop(&c->watchdog);
    uv_close((uv_handle_t *)&c->poll, on_handle_closed);
    uv_close((uv_handle_t *)&c->watchdog, on_handle_closed);
    if (!c->dropping && c->cbs.on_down)
        c->cbs.on_down(c->ud, c, why);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    bo_uvredis *c = ac->data;
    if (status != REDIS_OK)
        return; /* hiredis frees the context right after: ev_cleanup reports it */
    c->connected = true;
    uv_timer_stop(&c->watchdog);
    c->in_connect_cb = true;
    if (c->cbs.on_up)
        c->cbs.on_up(c->ud, c);
    c->in_connect_cb = false;
}

static void on_watchdog(uv_timer_t *t)
{
    bo_uvredis *c = t->data;
    if (!c->ac || c->connected)
        return;
    if (!c->recheck) {
        /* Timers run before I/O in a loop iteration: after a stalled loop the connect may have
         * completed unseen. Look once more after one turn of I/O. */
        c->recheck = true;
        uv_timer_start(&c->watchdog, on_watchdog, 1, 0);
        return;
    }
    c->timed_out = true;
    redisAsyncFree(c->ac); /* not inside hiredis: frees now, ev_cleanup reports */
}

bo_uvredis *bo_uvredis_connect(uv_loop_t *loop, const char *unix_path, const char *host, int port,
                               uint32_t connect_timeout_ms, const bo_uvredis_cbs *cbs, void *ud,
                               bo_err *err, char *why, size_t why_len)
{
    if (why && why_len)
        snprintf(why, why_len, "invalid address");
    bo_err dummy;
    if (!err)
        err = &dummy;
    if (!loop || !cbs || (!unix_path) == (!host)) {
        *err = BO_E_INVALID_ARG;
        return NULL;
    }
    if (unix_path) {
        struct sockaddr_un sa;
        size_t n = strlen(unix_path);
        if (n == 0 || n >= sizeof(sa.sun_path)) {
            *err = BO_E_INVALID_ARG;
            return NULL;
        }
    } else {
        unsigned char buf[sizeof(struct in6_addr)];
        if ((inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1) ||
            port <= 0 || port > 65535) {
            *err = BO_E_INVALID_ARG;
            return NULL;
        }
    }

    redisAsyncContext *ac = unix_path ? redisAsyncConnectUnix(unix_path)
                                      : redisAsyncConnect(host, port);
    if (!ac) {
        if (why && why_len)
            snprintf(why, why_len, "out of memory");
        *err = BO_E_NOMEM;
        return NULL;
    }
    if (ac->err) {
        if (why && why_len)
            snprintf(why, why_len, "%s", ac->errstr);
        redisAsyncFree(ac);
        *err = BO_E_STORE_UNAVAILABLE;
        return NULL;
    }
    bo_uvredis *c = calloc(1, sizeof(*c));
    if (!c) {
        redisAsyncFree(ac);
        *err = BO_E_NOMEM;
        return NULL;
    }
    c->cbs = *cbs;
    c->ud = ud;
    if (uv_poll_init(loop, &c->poll, ac->c.fd) != 0) {
        free(c);
        redisAsyncFree(ac);
        *err = BO_E_STORE_UNAVAILABLE;
        return NULL;
    }
    uv_timer_init(loop, &c->watchdog);
    c->poll.data = c;
    c->watchdog.data = c;
    c->open_handles = 2;
    c->ac = ac;
    ac->data = c;
    ac->ev.data = c;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    /* Arms the write watcher: the first writable event completes the connect. */
    redisAsyncSetConnectCallback(ac, on_connect);
    uv_timer_start(&c->watchdog, on_watchdog, connect_timeout_ms ? connect_timeout_ms : 3000, 0);
    *err = BO_E_OK;
    return c;
}

void bo_uvredis_set_on_flushed(bo_uvredis *c, void (*on_flushed)(void *ud, bo_uvredis *c))
{
    if (c)
        c->on_flushed = on_flushed;
}

redisAsyncContext *bo_uvredis_ac(bo_uvredis *c)
{
    return c && !c->dropping ? c->ac : NULL;
}

bool bo_uvredis_connected(const bo_uvredis *c)
{
    return c && c->ac && c->connected && !c->dropping;
}

void bo_uvredis_drop(bo_uvredis *c)
{
    if (!c || !c->ac || c->dropping)
        return;
    c->dropping = true;
    if (c->in_connect_cb)
        c->drop_deferred = true; /* on_poll frees it once hiredis is out of its connect path */
    else
        redisAsyncFree(c->ac); /* inside a reply callback hiredis itself defers the free */
}
