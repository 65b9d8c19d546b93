/* bidopen server: the event-log store on Redis. See bo_store.h for the contract.
 *
 * Shape: two connections (struct conn), each a small state machine
 *   DOWN --retry timer--> CONNECTING --on_up--> HANDSHAKE --checks/subscribes--> READY
 * and back to DOWN on any failure (then backoff with full jitter). Every command is an op;
 * ops sent on the command connection sit in the in-flight list in send order (Redis answers
 * in order), so one timer watching the oldest one enforces the command timeout. An op is
 * completed exactly once: by its hiredis reply callback (hiredis runs every pending callback
 * with a NULL reply when a context is freed, which is how drops and close cancel them), or
 * from the fail queue (an idle handle) when it could not be sent.
 */
#include "bo_store.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "bo/log.h"
#include "bo_uvredis.h"

#define COMP "store"

#define BACKOFF_MIN_MS 50u
#define BACKOFF_MAX_MS 2000u
#define CH_EV "bo:ev"
#define CH_HB "bo:hb"
#define KEY_OPENINGS "bo:openings"

/* Compare-and-append. KEYS: log, meta. ARGV: expected, oid, records... The stream's top entry
 * is the truth for the current seq (the meta copy follows it). Returns {1, top} or {0, cur}. */
static const char APPEND_LUA[] =
    "local t = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)\n"
    "local cur = 0\n"
    "if #t > 0 then cur = tonumber(string.match(t[1][1], '^(%d+)%-')) end\n"
    "if cur ~= tonumber(ARGV[1]) then return {0, cur} end\n"
    "for i = 3, #ARGV do\n"
    "  local seq = string.format('%d', cur + i - 2)\n"
    "  redis.call('XADD', KEYS[1], seq .. '-0', 'r', ARGV[i])\n"
    "  redis.call('PUBLISH', '" CH_EV "', ARGV[2] .. '\\0' .. seq .. '\\0' .. ARGV[i])\n"
    "end\n"
    "local top = cur + #ARGV - 2\n"
    "redis.call('HSET', KEYS[2], 'seq', string.format('%d', top))\n"
    "return {1, top}\n";

enum { CONN_CMD = 0, CONN_SUB = 1 };
enum conn_st { ST_DOWN, ST_CONNECTING, ST_HANDSHAKE, ST_READY };
static const char *const conn_name[2] = {"command", "subscriber"};

typedef struct conn {
    bo_store *s;
    int which;
    bo_uvredis *rc; /* the current connection, NULL when down */
    enum conn_st st;
    uv_timer_t timer; /* backoff while down; subscribe deadline while subscribing */
    unsigned attempt;
    int sub_pending;     /* subscribe confirmations still expected */
    uint64_t ready_at;   /* uv_now when it became ready */
    bool recheck;        /* a deadline passed: judged again after one turn of I/O */
    bool outage_logged;  /* one warning per outage, not one per retry */
} conn;

enum op_kind {
    OP_APPEND,
    OP_RANGE,
    OP_TOP,
    OP_OPENINGS,
    OP_SET,
    OP_GET,
    OP_HSET,
    OP_HDEL,
    OP_HGETALL,
    OP_PUBLISH,
    OP_I_CONFIG, /* internal: persistence check */
    OP_I_LOAD,   /* internal: SCRIPT LOAD */
    OP_I_HB,     /* internal: heartbeat PUBLISH */
};

typedef struct op op;
struct op {
    op *prev, *next; /* in-flight list, or the fail queue (next only) */
    bo_store *s;
    enum op_kind kind;
    bool in_flight;
    bool resent;
    bo_err err;          /* for the fail queue */
    uint64_t sent_ms;    /* when it was issued (ms, the monotonic clock read then) */
    uint64_t wire_ms;    /* when hiredis had written it to the socket (0: not yet) */
    uint64_t sent_ns;    /* for the heartbeat RTT */
    bool tmo_recheck;    /* overdue: judged again after one turn of I/O */
    bo_uvredis *rc;      /* connection an internal op belongs to */
    uint64_t expected;   /* append */
    int argc;            /* append: kept for a NOSCRIPT re-send */
    const char **argv;
    size_t *argvlen;
    union {
        void (*append)(void *, bo_err, uint64_t);
        void (*range)(void *, bo_err, const bo_store_rec *, size_t);
        void (*top)(void *, bo_err, uint64_t);
        void (*openings)(void *, bo_err, const char *const *, size_t);
        void (*set)(void *, bo_err, bool);
        void (*get)(void *, bo_err, const uint8_t *, size_t);
        void (*plain)(void *, bo_err);
        void (*hdel)(void *, bo_err, uint64_t);
        void (*hgetall)(void *, bo_err, const char *const *, const bo_bytes *, size_t);
    } cb;
    void *ud;
};

struct bo_store {
    uv_loop_t *loop;
    bo_store_opts o;
    char *unix_path, *host, *node_id;
    char hb_prefix[100]; /* "<node_id> <16 hex> ": this instance's heartbeats, then a number */
    char sha[41];       /* of APPEND_LUA, from SCRIPT LOAD */
    conn conn[2];
    uv_timer_t tick; /* heartbeat */
    uv_timer_t tmo;  /* oldest in-flight command */
    uv_idle_t idle;  /* fail queue */
    op *fly_head, *fly_tail;
    op *failq_head, *failq_tail;
    char **watch;
    size_t nwatch;
    uint64_t rng;
    /* Heartbeats: the subscriber is dead when a heartbeat Redis acknowledged (the PUBLISH
     * reply came back, so Redis had already queued it to subscribers) is not heard within
     * hb_timeout_ms. Counting from the acknowledgement, not from the send, keeps a stalled
     * loop or a stalled Redis (the command timeout's job) from condemning a healthy one. */
    uint64_t hb_sent_n, hb_acked_n, hb_heard_n;
    uint64_t hb_unheard_since; /* uv_now of the oldest acknowledged, unheard heartbeat; 0 none */
    int64_t rtt_us;
    int live; /* uv handles and bo_uvredis objects not yet closed */
    bool healthy;
    bool closing;
    bool refused_logged;
    void (*done)(void *);
    void *done_ud;
};

/* ---- small helpers ------------------------------------------------------------------- */

static uint64_t rng_next(bo_store *s)
{
    /* xorshift64*: only for backoff jitter */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static bool oid_valid(const char *oid)
{
    if (!oid)
        return false;
    size_t n = 0;
    for (const char *p = oid; *p; p++, n++) {
        char ch = *p;
        if (n >= BO_STORE_OID_MAX)
            return false;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return n > 0;
}

static bo_err name_check(const char *name)
{
    if (!name || !*name)
        return BO_E_INVALID_ARG;
    if (strnlen(name, BO_STORE_KEY_MAX + 1) > BO_STORE_KEY_MAX)
        return BO_E_TOO_BIG;
    return BO_E_OK;
}

static bool reply_is_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static void handle_closed(uv_handle_t *h);
static void sub_closed(void *ud);

static void live_dec(bo_store *s)
{
    if (--s->live > 0)
        return;
    void (*done)(void *) = s->done;
    void *ud = s->done_ud;
    for (size_t i = 0; i < s->nwatch; i++)
        free(s->watch[i]);
    free(s->watch);
    free(s->unix_path);
    free(s->host);
    free(s->node_id);
    free(s);
    if (done)
        done(ud);
}

static void handle_closed(uv_handle_t *h)
{
    live_dec(h->data);
}

static void sub_closed(void *ud)
{
    conn *c = ud;
    live_dec(c->s);
}

static void on_tmo(uv_timer_t *t);

/* ---- op lists --------------------------------------------------------------------------- */

static void fly_add(bo_store *s, op *o)
{
    o->in_flight = true;
    /* not uv_now: that is the time the loop turn started, which a turn busy with thousands
     * of connections (a reconnect storm) leaves seconds behind */
    o->sent_ms = uv_hrtime() / 1000000;
    o->wire_ms = 0;
    o->tmo_recheck = false;
    o->next = NULL;
    o->prev = s->fly_tail;
    if (s->fly_tail)
        s->fly_tail->next = o;
    else
        s->fly_head = o;
    s->fly_tail = o;
    if (!uv_is_active((uv_handle_t *)&s->tmo))
        uv_timer_start(&s->tmo, on_tmo, s->o.cmd_timeout_ms, 0);
}

static void fly_remove(bo_store *s, op *o)
{
    if (!o->in_flight)
        return;
    o->in_flight = false;
    if (o->prev)
        o->prev->next = o->next;
    else
        s->fly_head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        s->fly_tail = o->prev;
    o->prev = o->next = NULL;
}

static void op_free(op *o)
{
    free(o->argv); /* one block: argv, argvlen and the copied bytes */
    free(o);
}

static void op_done(op *o, bo_err err, redisReply *r);

static void on_idle(uv_idle_t *h)
{
    bo_store *s = h->data;
    op *q = s->failq_head;
    s->failq_head = s->failq_tail = NULL;
    uv_idle_stop(&s->idle);
    while (q) {
        op *next = q->next;
        q->next = NULL;
        op_done(q, s->closing ? BO_E_CANCELED : q->err, NULL);
        q = next;
    }
}

static void fail_later(bo_store *s, op *o, bo_err err)
{
    if (s->closing) { /* only reachable from a reply callback while closing */
        op_done(o, BO_E_CANCELED, NULL);
        return;
    }
    o->err = err;
    o->next = NULL;
    if (s->failq_tail)
        s->failq_tail->next = o;
    else
        s->failq_head = o;
    s->failq_tail = o;
    uv_idle_start(&s->idle, on_idle);
}

/* ---- connections ---------------------------------------------------------------------- */

static void conn_connect(conn *c);
static void health_update(bo_store *s);
static void on_reply(redisAsyncContext *ac, void *r, void *priv);

static void conn_fail(conn *c, const char *why);

static void hb_judge(bo_store *s, bool final);

static void on_conn_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->s->closing)
        return;
    if (c->st == ST_DOWN) {
        conn_connect(c);
        return;
    }
    if (c->which != CONN_SUB || !c->rc)
        return;
    if (c->st == ST_READY) {
        hb_judge(c->s, true);
    } else if (c->st == ST_HANDSHAKE) {
        if (!c->recheck) { /* the confirmation may be waiting unread after a loop stall */
            c->recheck = true;
            uv_timer_start(&c->timer, on_conn_timer, 1, 0);
            return;
        }
        char why[96];
        snprintf(why, sizeof(why), "SUBSCRIBE not confirmed within %" PRIu32 " ms",
                 c->s->o.cmd_timeout_ms);
        conn_fail(c, why);
    }
}

static void conn_schedule(conn *c)
{
    bo_store *s = c->s;
    if (s->closing)
        return;
    unsigned shift = c->attempt < 6 ? c->attempt : 6;
    uint64_t cap = (uint64_t)BACKOFF_MIN_MS << shift;
    if (cap > BACKOFF_MAX_MS)
        cap = BACKOFF_MAX_MS;
    if (c->attempt < 100)
        c->attempt++;
    uv_timer_start(&c->timer, on_conn_timer, rng_next(s) % (cap + 1), 0);
}

/* The connection is gone (c->rc already cleared): go DOWN, schedule a retry, update health. */
static void conn_lost(conn *c, const char *why)
{
    bo_store *s = c->s;
    bool was_ready = c->st == ST_READY;
    c->st = ST_DOWN;
    c->sub_pending = 0;
    uv_timer_stop(&c->timer);
    if (!s->closing) {
        if (was_ready || !c->outage_logged)
            BO_LOGW(COMP, "redis %s connection down: %s; reconnecting", conn_name[c->which], why);
        else
            BO_LOGD(COMP, "redis %s connection: %s", conn_name[c->which], why);
        c->outage_logged = true;
        conn_schedule(c);
    }
    health_update(s);
}

/* Drop the current connection on purpose (timeout, refused, heartbeat lost). */
static void conn_fail(conn *c, const char *why)
{
    bo_uvredis *rc = c->rc;
    c->rc = NULL;
    conn_lost(c, why);
    bo_uvredis_drop(rc); /* pending ops get a NULL reply: unavailable (or canceled) */
}

static void conn_ready(conn *c)
{
    bo_store *s = c->s;
    c->st = ST_READY;
    c->attempt = 0;
    c->ready_at = uv_now(s->loop);
    if (c->outage_logged)
        BO_LOGI(COMP, "redis %s connection ready", conn_name[c->which]);
    c->outage_logged = false;
    if (c->which == CONN_SUB) {
        /* heartbeats sent before the subscription was in place will never be heard */
        s->hb_heard_n = s->hb_sent_n;
        s->hb_unheard_since = 0;
    }
    health_update(s);
}

static bool is_own_channel(const char *ch, size_t n)
{
    return (n == strlen(CH_EV) && memcmp(ch, CH_EV, n) == 0) ||
           (n == strlen(CH_HB) && memcmp(ch, CH_HB, n) == 0);
}

static void on_bo_ev(bo_store *s, const char *p, size_t n)
{
    const char *z1 = memchr(p, 0, n);
    if (!z1)
        goto bad;
    size_t oid_len = (size_t)(z1 - p);
    const char *sp = z1 + 1;
    const char *z2 = memchr(sp, 0, n - oid_len - 1);
    if (!z2 || oid_len == 0 || oid_len > BO_STORE_OID_MAX)
        goto bad;
    char oid[BO_STORE_OID_MAX + 1];
    memcpy(oid, p, oid_len);
    oid[oid_len] = 0;
    uint64_t seq;
    if (!oid_valid(oid) || !parse_u64(sp, (size_t)(z2 - sp), &seq))
        goto bad;
    const uint8_t *rec = (const uint8_t *)z2 + 1;
    size_t len = n - (size_t)(z2 + 1 - p);
    if (s->o.on_event)
        s->o.on_event(s->o.ud, oid, seq, rec, len);
    return;
bad:
    BO_LOGW(COMP, "ignoring a malformed " CH_EV " message (%zu bytes)", n);
}

static void on_sub_msg(redisAsyncContext *ac, void *reply, void *priv)
{
    conn *c = priv;
    bo_store *s = c->s;
    redisReply *r = reply;
    if (!r || s->closing || (bo_uvredis *)ac->data != c->rc)
        return; /* context being freed, or a stale connection */
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || !reply_is_str(r->element[0]) ||
        !reply_is_str(r->element[1]))
        return;
    const char *kind = r->element[0]->str;
    if (strcasecmp(kind, "subscribe") == 0) {
        if (c->sub_pending > 0)
            c->sub_pending--;
        if (c->st == ST_HANDSHAKE && c->sub_pending == 0) {
            uv_timer_stop(&c->timer);
            conn_ready(c);
        }
        return;
    }
    if (strcasecmp(kind, "message") != 0 || !reply_is_str(r->element[2]))
        return;
    const char *ch = r->element[1]->str;
    size_t chn = r->element[1]->len;
    const char *msg = r->element[2]->str;
    size_t msgn = r->element[2]->len;
    if (chn == strlen(CH_EV) && memcmp(ch, CH_EV, chn) == 0) {
        on_bo_ev(s, msg, msgn);
    } else if (chn == strlen(CH_HB) && memcmp(ch, CH_HB, chn) == 0) {
        size_t pl = strlen(s->hb_prefix);
        uint64_t n;
        if (msgn > pl && memcmp(msg, s->hb_prefix, pl) == 0 &&
            parse_u64(msg + pl, msgn - pl, &n) && n > s->hb_heard_n) {
            s->hb_heard_n = n;
            /* the rest (if any) were acknowledged at the latest now */
            s->hb_unheard_since = s->hb_heard_n >= s->hb_acked_n ? 0 : uv_now(s->loop);
        }
    } else if (s->o.on_notify) {
        s->o.on_notify(s->o.ud, ch, (const uint8_t *)msg, msgn);
    }
}

static bool sub_send(conn *c, size_t first, size_t n_watch, bool with_own)
{
    bo_store *s = c->s;
    redisAsyncContext *ac = bo_uvredis_ac(c->rc);
    if (!ac)
        return false;
    size_t argc = 1 + (with_own ? 2 : 0) + n_watch;
    const char **argv = calloc(argc, sizeof(*argv));
    size_t *lens = calloc(argc, sizeof(*lens));
    if (!argv || !lens) {
        free(argv);
        free(lens);
        return false;
    }
    size_t i = 0;
    argv[i++] = "SUBSCRIBE";
    if (with_own) {
        argv[i++] = CH_EV;
        argv[i++] = CH_HB;
    }
    for (size_t k = 0; k < n_watch; k++)
        argv[i++] = s->watch[first + k];
    for (size_t k = 0; k < argc; k++)
        lens[k] = strlen(argv[k]);
    int rv = redisAsyncCommandArgv(ac, on_sub_msg, c, (int)argc, argv, lens);
    free(argv);
    free(lens);
    if (rv != REDIS_OK)
        return false;
    c->sub_pending += (int)(argc - 1);
    return true;
}

static bool cmd_send_internal(bo_store *s, enum op_kind kind, int argc, const char **argv,
                              const size_t *lens);

static void conn_on_up(void *ud, bo_uvredis *rc)
{
    conn *c = ud;
    bo_store *s = c->s;
    if (rc != c->rc || s->closing)
        return;
    c->st = ST_HANDSHAKE;
    if (c->which == CONN_CMD) {
        const char *argv[] = {"CONFIG", "GET", "append*"};
        size_t lens[] = {6, 3, 7};
        if (!cmd_send_internal(s, OP_I_CONFIG, 3, argv, lens))
            conn_fail(c, "cannot send CONFIG GET");
    } else {
        c->sub_pending = 0;
        if (!sub_send(c, 0, s->nwatch, true)) {
            conn_fail(c, "cannot send SUBSCRIBE");
            return;
        }
        c->recheck = false;
        uv_timer_start(&c->timer, on_conn_timer, s->o.cmd_timeout_ms, 0);
    }
}

static void conn_on_down(void *ud, bo_uvredis *rc, const char *why)
{
    conn *c = ud;
    if (rc != c->rc)
        return;
    c->rc = NULL;
    conn_lost(c, why);
}

/* The command connection wrote everything queued: the commands not yet on the wire are now. */
static void cmd_flushed(void *ud, bo_uvredis *rc)
{
    conn *c = ud;
    bo_store *s = c->s;
    if (rc != c->rc || c->which != CONN_CMD)
        return;
    uint64_t now = uv_hrtime() / 1000000;
    for (op *o = s->fly_tail; o && !o->wire_ms; o = o->prev)
        o->wire_ms = now;
}

static void conn_connect(conn *c)
{
    bo_store *s = c->s;
    static const bo_uvredis_cbs cbs = {conn_on_up, conn_on_down, sub_closed};
    bo_err err;
    char why[160], msg[400];
    c->st = ST_CONNECTING;
    bo_uvredis *rc = bo_uvredis_connect(s->loop, s->unix_path, s->host, s->o.port,
                                        s->o.cmd_timeout_ms, &cbs, c, &err, why, sizeof(why));
    if (!rc) {
        if (s->unix_path)
            snprintf(msg, sizeof(msg), "connect to %s: %s", s->unix_path, why);
        else
            snprintf(msg, sizeof(msg), "connect to %s port %d: %s", s->host, s->o.port, why);
        conn_lost(c, msg);
        return;
    }
    s->live++;
    c->rc = rc;
    if (c->which == CONN_CMD)
        bo_uvredis_set_on_flushed(rc, cmd_flushed);
}

static void health_update(bo_store *s)
{
    bool up = !s->closing && s->conn[CONN_CMD].st == ST_READY && s->conn[CONN_SUB].st == ST_READY;
    if (up == s->healthy)
        return;
    s->healthy = up;
    if (s->closing)
        return;
    BO_LOGI(COMP, "store %s", up ? "up" : "down");
    if (s->o.on_health)
        s->o.on_health(s->o.ud, up);
    if (up && s->healthy && !s->closing && s->o.on_resync)
        s->o.on_resync(s->o.ud);
}

/* ---- sending ---------------------------------------------------------------------------- */

static op *op_new(bo_store *s, enum op_kind kind, void *ud)
{
    op *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->s = s;
    o->kind = kind;
    o->ud = ud;
    return o;
}

static bool internal_kind(enum op_kind k)
{
    return k == OP_I_CONFIG || k == OP_I_LOAD || k == OP_I_HB;
}

/* The command context if it may take this op now, else NULL. */
static redisAsyncContext *cmd_ac(bo_store *s, bool internal)
{
    conn *c = &s->conn[CONN_CMD];
    if (s->closing)
        return NULL;
    if (c->st == ST_READY || (internal && c->st == ST_HANDSHAKE))
        return bo_uvredis_ac(c->rc);
    return NULL;
}

/* Fire-and-forget command (its reply is ignored) ahead of an op on the same connection. */
static bool cmd_send_raw(bo_store *s, int argc, const char **argv, const size_t *lens)
{
    redisAsyncContext *ac = cmd_ac(s, false);
    return ac && redisAsyncCommandArgv(ac, NULL, NULL, argc, argv, lens) == REDIS_OK;
}

/* Send an op, or complete it with BO_E_STORE_UNAVAILABLE on the next loop iteration. */
static void op_send(bo_store *s, op *o, int argc, const char **argv, const size_t *lens)
{
    redisAsyncContext *ac = cmd_ac(s, internal_kind(o->kind));
    if (ac && redisAsyncCommandArgv(ac, on_reply, o, argc, argv, lens) == REDIS_OK) {
        o->rc = s->conn[CONN_CMD].rc;
        fly_add(s, o);
        return;
    }
    fail_later(s, o, BO_E_STORE_UNAVAILABLE);
}

static bool cmd_send_internal(bo_store *s, enum op_kind kind, int argc, const char **argv,
                              const size_t *lens)
{
    op *o = op_new(s, kind, NULL);
    if (!o)
        return false;
    o->sent_ns = uv_hrtime();
    op_send(s, o, argc, argv, lens);
    return true;
}

static void on_tmo(uv_timer_t *t)
{
    bo_store *s = t->data;
    op *head = s->fly_head;
    if (!head || s->closing)
        return;
    /* The time counts from when the command was on the wire: issued during a turn of the
     * loop that stalls for seconds (a storm of TLS handshakes), it is written only in the
     * next turn's I/O. Not written at all after its time: Redis does not read. */
    uint64_t now = uv_hrtime() / 1000000;
    uint64_t start = head->wire_ms ? head->wire_ms : head->sent_ms;
    uint64_t age = now > start ? now - start : 0;
    if (age >= s->o.cmd_timeout_ms && !head->tmo_recheck) {
        /* Timers run before I/O in a loop iteration: after a stalled loop the answer may be
         * sitting unread, or the command unwritten. Judge again after one turn of I/O. Each
         * command gets its own turn: when that turn brings the head's answer, the next
         * command (sent during the stall) may have its answer unread too. */
        head->tmo_recheck = true;
        uv_timer_start(&s->tmo, on_tmo, 1, 0);
        return;
    }
    if (age < s->o.cmd_timeout_ms)
        head->tmo_recheck = false; /* written in the meantime: its time starts again */
    if (age >= s->o.cmd_timeout_ms) {
        char why[96];
        snprintf(why, sizeof(why), "no answer within %" PRIu32 " ms", s->o.cmd_timeout_ms);
        conn *c = &s->conn[CONN_CMD];
        if (c->rc)
            conn_fail(c, why);
        return;
    }
    uv_timer_start(&s->tmo, on_tmo, s->o.cmd_timeout_ms - age, 0);
}

static void hb_judge(bo_store *s, bool final)
{
    conn *sub = &s->conn[CONN_SUB];
    if (sub->st != ST_READY || !s->hb_unheard_since ||
        uv_now(s->loop) - s->hb_unheard_since <= s->o.hb_timeout_ms)
        return;
    if (!final) { /* the heartbeat may be waiting unread after a loop stall */
        uv_timer_start(&sub->timer, on_conn_timer, 1, 0);
        return;
    }
    char why[96];
    snprintf(why, sizeof(why), "own heartbeat not heard within %" PRIu32 " ms",
             s->o.hb_timeout_ms);
    conn_fail(sub, why);
}

static void on_tick(uv_timer_t *t)
{
    bo_store *s = t->data;
    if (s->closing || s->conn[CONN_CMD].st != ST_READY)
        return;
    char msg[sizeof(s->hb_prefix) + 24];
    int n = snprintf(msg, sizeof(msg), "%s%" PRIu64, s->hb_prefix, ++s->hb_sent_n);
    const char *argv[] = {"PUBLISH", CH_HB, msg};
    size_t lens[] = {7, strlen(CH_HB), (size_t)n};
    op *o = op_new(s, OP_I_HB, NULL);
    if (o) {
        o->sent_ns = uv_hrtime();
        o->expected = s->hb_sent_n;
        op_send(s, o, 3, argv, lens);
    }
    hb_judge(s, false);
}

/* ---- replies ---------------------------------------------------------------------------- */

/* A handshake command got an error: a Redis still loading its dataset is retried quietly. */
static bool handshake_error(conn *c, const redisReply *r, const char *what)
{
    if (r->type != REDIS_REPLY_ERROR || strncmp(r->str, "LOADING", 7) != 0)
        return false;
    char why[96];
    snprintf(why, sizeof(why), "%s: Redis is loading its dataset", what);
    conn_fail(c, why);
    return true;
}

static void on_config_reply(bo_store *s, redisReply *r)
{
    conn *c = &s->conn[CONN_CMD];
    char aof[32] = "", fsync[32] = "";
    if (handshake_error(c, r, "CONFIG GET"))
        return;
    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            redisReply *k = r->element[i], *v = r->element[i + 1];
            if (!reply_is_str(k) || !reply_is_str(v))
                continue;
            if (strcmp(k->str, "appendonly") == 0)
                snprintf(aof, sizeof(aof), "%s", v->str);
            else if (strcmp(k->str, "appendfsync") == 0)
                snprintf(fsync, sizeof(fsync), "%s", v->str);
        }
    }
    bool persistent = strcasecmp(aof, "yes") == 0;
    if (!persistent && !s->o.allow_volatile) {
        if (!s->refused_logged)
            bo_log(BO_LOG_ERROR, COMP, NULL, 0, BO_E_CONFIG,
                   "refusing Redis with appendonly=%s: acknowledged events would be lost on a "
                   "Redis restart; set appendonly yes (and appendfsync always), or start "
                   "bidopen-server with --allow-volatile-redis to accept the risk",
                   aof[0] ? aof : "unknown (CONFIG GET failed)");
        s->refused_logged = true;
        c->attempt = 100; /* retry slowly: an operator may fix the config */
        conn_fail(c, "no persistence");
        return;
    }
    if (!persistent)
        BO_LOGW(COMP, "Redis runs without appendonly (appendonly=%s); accepted because of "
                      "--allow-volatile-redis: a Redis restart can lose acknowledged events",
                aof[0] ? aof : "unknown");
    else if (strcasecmp(fsync, "always") != 0)
        BO_LOGW(COMP, "Redis appendfsync=%s: a crash of the Redis host can lose up to about a "
                      "second of acknowledged events; appendfsync always is safer",
                fsync[0] ? fsync : "unknown");
    s->refused_logged = false;
    const char *argv[] = {"SCRIPT", "LOAD", APPEND_LUA};
    size_t lens[] = {6, 4, sizeof(APPEND_LUA) - 1};
    if (!cmd_send_internal(s, OP_I_LOAD, 3, argv, lens))
        conn_fail(c, "cannot send SCRIPT LOAD");
}

static void internal_done(op *o, bo_err err, redisReply *r)
{
    bo_store *s = o->s;
    conn *c = &s->conn[CONN_CMD];
    if (err != BO_E_OK || s->closing || o->rc != c->rc || !c->rc)
        return; /* the connection it belonged to is gone; its own path handles that */
    switch (o->kind) {
    case OP_I_CONFIG:
        s->rtt_us = (int64_t)((uv_hrtime() - o->sent_ns) / 1000);
        on_config_reply(s, r);
        break;
    case OP_I_LOAD:
        if (handshake_error(c, r, "SCRIPT LOAD"))
            break;
        if (r->type != REDIS_REPLY_STRING || r->len != 40) {
            BO_LOGE(COMP, "SCRIPT LOAD failed: %s", r->type == REDIS_REPLY_ERROR ? r->str : "?");
            c->attempt = 100;
            conn_fail(c, "SCRIPT LOAD failed");
            break;
        }
        memcpy(s->sha, r->str, 40);
        s->sha[40] = 0;
        conn_ready(c);
        break;
    case OP_I_HB:
        if (r->type != REDIS_REPLY_INTEGER)
            break;
        s->rtt_us = (int64_t)((uv_hrtime() - o->sent_ns) / 1000);
        if (o->expected > s->hb_acked_n)
            s->hb_acked_n = o->expected;
        if (s->conn[CONN_SUB].st == ST_READY && o->expected > s->hb_heard_n &&
            !s->hb_unheard_since)
            s->hb_unheard_since = uv_now(s->loop);
        break;
    default:
        break;
    }
}

static bo_err reply_error(const op *o, const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR)
        BO_LOGW(COMP, "redis refused a command: %.200s", r->str);
    else
        BO_LOGW(COMP, "unexpected redis reply type %d (op %d)", r->type, (int)o->kind);
    return BO_E_STORE;
}

static void done_append(op *o, bo_err err, redisReply *r)
{
    uint64_t seq = 0;
    if (err == BO_E_OK) {
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_INTEGER &&
            r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer >= 0) {
            seq = (uint64_t)r->element[1]->integer;
            err = r->element[0]->integer == 1 ? BO_E_OK : BO_E_CONFLICT;
        } else {
            err = reply_error(o, r);
        }
    }
    o->cb.append(o->ud, err, seq);
}

static bool parse_entry(const redisReply *e, bo_store_rec *out)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !reply_is_str(e->element[0]) ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return false;
    const char *id = e->element[0]->str;
    const char *dash = memchr(id, '-', e->element[0]->len);
    if (!dash || strcmp(dash, "-0") != 0 || !parse_u64(id, (size_t)(dash - id), &out->seq))
        return false;
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        if (reply_is_str(f->element[i]) && strcmp(f->element[i]->str, "r") == 0 &&
            reply_is_str(f->element[i + 1])) {
            out->p = (const uint8_t *)f->element[i + 1]->str;
            out->len = f->element[i + 1]->len;
            return true;
        }
    }
    return false;
}

static void done_range(op *o, bo_err err, redisReply *r)
{
    bo_store_rec *recs = NULL;
    size_t n = 0;
    if (err == BO_E_OK) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements > BO_STORE_RANGE_MAX) {
            err = reply_error(o, r);
        } else if (r->elements > 0) {
            recs = calloc(r->elements, sizeof(*recs));
            if (!recs)
                err = BO_E_NOMEM;
            for (size_t i = 0; recs && i < r->elements; i++) {
                if (!parse_entry(r->element[i], &recs[n])) {
                    err = reply_error(o, r);
                    n = 0;
                    break;
                }
                n++;
            }
        }
    }
    o->cb.range(o->ud, err, err == BO_E_OK ? recs : NULL, err == BO_E_OK ? n : 0);
    free(recs);
}

static void done_top(op *o, bo_err err, redisReply *r)
{
    uint64_t seq = 0;
    if (err == BO_E_OK && r->type != REDIS_REPLY_NIL &&
        !(r->type == REDIS_REPLY_STRING && parse_u64(r->str, r->len, &seq)))
        err = reply_error(o, r);
    o->cb.top(o->ud, err, err == BO_E_OK ? seq : 0);
}

static void done_openings(op *o, bo_err err, redisReply *r)
{
    const char **v = NULL;
    size_t n = 0;
    if (err == BO_E_OK) {
        if (r->type != REDIS_REPLY_ARRAY) {
            err = reply_error(o, r);
        } else if (r->elements) {
            v = calloc(r->elements, sizeof(*v));
            if (!v)
                err = BO_E_NOMEM;
            for (size_t i = 0; v && i < r->elements; i++)
                if (reply_is_str(r->element[i]) && oid_valid(r->element[i]->str))
                    v[n++] = r->element[i]->str;
        }
    }
    o->cb.openings(o->ud, err, err == BO_E_OK ? v : NULL, err == BO_E_OK ? n : 0);
    free(v);
}

static void done_hgetall(op *o, bo_err err, redisReply *r)
{
    const char **f = NULL;
    bo_bytes *v = NULL;
    size_t n = 0;
    if (err == BO_E_OK) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
            err = reply_error(o, r);
        } else if (r->elements) {
            f = calloc(r->elements / 2, sizeof(*f));
            v = calloc(r->elements / 2, sizeof(*v));
            if (!f || !v)
                err = BO_E_NOMEM;
            for (size_t i = 0; err == BO_E_OK && i < r->elements; i += 2) {
                if (!reply_is_str(r->element[i]) || !reply_is_str(r->element[i + 1])) {
                    err = reply_error(o, r);
                    break;
                }
                f[n] = r->element[i]->str;
                v[n].p = (const uint8_t *)r->element[i + 1]->str;
                v[n].len = r->element[i + 1]->len;
                n++;
            }
        }
    }
    o->cb.hgetall(o->ud, err, err == BO_E_OK ? f : NULL, err == BO_E_OK ? v : NULL,
                  err == BO_E_OK ? n : 0);
    free(f);
    free(v);
}

static void op_done(op *o, bo_err err, redisReply *r)
{
    if (internal_kind(o->kind)) {
        internal_done(o, err, r);
        op_free(o);
        return;
    }
    switch (o->kind) {
    case OP_APPEND:
        done_append(o, err, r);
        break;
    case OP_RANGE:
        done_range(o, err, r);
        break;
    case OP_TOP:
        done_top(o, err, r);
        break;
    case OP_OPENINGS:
        done_openings(o, err, r);
        break;
    case OP_SET: {
        bool written = false;
        if (err == BO_E_OK) {
            if (r->type == REDIS_REPLY_STATUS)
                written = true;
            else if (r->type != REDIS_REPLY_NIL)
                err = reply_error(o, r);
        }
        o->cb.set(o->ud, err, written);
        break;
    }
    case OP_GET: {
        const uint8_t *v = NULL;
        size_t len = 0;
        if (err == BO_E_OK) {
            if (r->type == REDIS_REPLY_STRING) {
                v = (const uint8_t *)r->str;
                len = r->len;
            } else if (r->type != REDIS_REPLY_NIL) {
                err = reply_error(o, r);
            }
        }
        o->cb.get(o->ud, err, v, len);
        break;
    }
    case OP_HSET:
        if (err == BO_E_OK) {
            if (r->type == REDIS_REPLY_ARRAY) { /* EXEC: every queued command must have worked */
                for (size_t i = 0; i < r->elements; i++)
                    if (r->element[i]->type == REDIS_REPLY_ERROR) {
                        err = reply_error(o, r->element[i]);
                        break;
                    }
            } else if (r->type != REDIS_REPLY_INTEGER) {
                err = reply_error(o, r);
            }
        }
        o->cb.plain(o->ud, err);
        break;
    case OP_HDEL: {
        uint64_t removed = 0;
        if (err == BO_E_OK) {
            if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0)
                removed = (uint64_t)r->integer;
            else
                err = reply_error(o, r);
        }
        o->cb.hdel(o->ud, err, removed);
        break;
    }
    case OP_HGETALL:
        done_hgetall(o, err, r);
        break;
    case OP_PUBLISH:
        if (err == BO_E_OK && r->type != REDIS_REPLY_INTEGER)
            err = reply_error(o, r);
        if (o->cb.plain)
            o->cb.plain(o->ud, err);
        break;
    default:
        break;
    }
    op_free(o);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    op *o = priv;
    bo_store *s = o->s;
    redisReply *r = reply;
    fly_remove(s, o);
    if (!r) {
        op_done(o, s->closing ? BO_E_CANCELED : BO_E_STORE_UNAVAILABLE, NULL);
        return;
    }
    if (o->kind == OP_APPEND && r->type == REDIS_REPLY_ERROR && !o->resent &&
        strncmp(r->str, "NOSCRIPT", 8) == 0) {
        /* The script cache was flushed: send the script itself (EVAL caches it again). Replies
         * come in order, so pipelined appends are re-sent in their original order. */
        o->resent = true;
        o->argv[0] = "EVAL";
        o->argvlen[0] = 4;
        o->argv[1] = APPEND_LUA;
        o->argvlen[1] = sizeof(APPEND_LUA) - 1;
        op_send(s, o, o->argc, o->argv, o->argvlen);
        return;
    }
    op_done(o, BO_E_OK, r);
}

/* ---- public API ------------------------------------------------------------------------- */

static bool ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return host && (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1);
}

bo_store *bo_store_new(const bo_store_opts *o, bo_err *err)
{
    bo_err dummy;
    if (!err)
        err = &dummy;
    *err = BO_E_CONFIG;
    if (!o || !o->loop || (!o->unix_path) == (!o->host) || !o->node_id || !*o->node_id ||
        strlen(o->node_id) > 64 || strchr(o->node_id, ' '))
        return NULL;
    if (o->unix_path && (!*o->unix_path || strlen(o->unix_path) >= 108))
        return NULL;
    if (o->host && (!ip_literal(o->host) || o->port <= 0 || o->port > 65535))
        return NULL;

    *err = BO_E_NOMEM;
    bo_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->o = *o;
    s->loop = o->loop;
    s->unix_path = o->unix_path ? strdup(o->unix_path) : NULL;
    s->host = o->host ? strdup(o->host) : NULL;
    s->node_id = strdup(o->node_id);
    if ((o->unix_path && !s->unix_path) || (o->host && !s->host) || !s->node_id) {
        free(s->unix_path);
        free(s->host);
        free(s->node_id);
        free(s);
        return NULL;
    }
    s->o.unix_path = s->unix_path;
    s->o.host = s->host;
    s->o.node_id = s->node_id;
    if (!s->o.cmd_timeout_ms)
        s->o.cmd_timeout_ms = 3000;
    if (!s->o.hb_interval_ms)
        s->o.hb_interval_ms = 1000;
    if (!s->o.hb_timeout_ms)
        s->o.hb_timeout_ms = 3000;
    s->rtt_us = -1;

    uint64_t seed = 0;
    if (uv_random(NULL, NULL, &seed, sizeof(seed), 0, NULL) != 0)
        seed = uv_hrtime() ^ (uint64_t)(uintptr_t)s;
    s->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    snprintf(s->hb_prefix, sizeof(s->hb_prefix), "%s %016" PRIx64 " ", s->node_id, rng_next(s));

    for (int i = 0; i < 2; i++) {
        conn *c = &s->conn[i];
        c->s = s;
        c->which = i;
        c->st = ST_DOWN;
        uv_timer_init(s->loop, &c->timer);
        c->timer.data = c;
    }
    uv_timer_init(s->loop, &s->tick);
    uv_timer_init(s->loop, &s->tmo);
    uv_idle_init(s->loop, &s->idle);
    s->tick.data = s->tmo.data = s->idle.data = s;
    s->live = 5;
    uv_timer_start(&s->tick, on_tick, s->o.hb_interval_ms, s->o.hb_interval_ms);
    conn_connect(&s->conn[CONN_CMD]);
    conn_connect(&s->conn[CONN_SUB]);
    *err = BO_E_OK;
    return s;
}

static void conn_timer_closed(uv_handle_t *h)
{
    conn *c = h->data;
    live_dec(c->s);
}

void bo_store_close(bo_store *s, void (*done)(void *ud), void *ud)
{
    if (!s || s->closing)
        return;
    s->closing = true;
    s->healthy = false;
    s->done = done;
    s->done_ud = ud;
    /* Everything below may run user callbacks (BO_E_CANCELED); s stays valid until the last
     * handle is closed, which needs a loop iteration. */
    for (int i = 0; i < 2; i++) {
        conn *c = &s->conn[i];
        bo_uvredis *rc = c->rc;
        c->rc = NULL;
        c->st = ST_DOWN;
        bo_uvredis_drop(rc);
    }
    op *q = s->failq_head;
    s->failq_head = s->failq_tail = NULL;
    while (q) {
        op *next = q->next;
        q->next = NULL;
        op_done(q, BO_E_CANCELED, NULL);
        q = next;
    }
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&s->conn[i].timer, conn_timer_closed);
    uv_close((uv_handle_t *)&s->tick, handle_closed);
    uv_close((uv_handle_t *)&s->tmo, handle_closed);
    uv_close((uv_handle_t *)&s->idle, handle_closed);
}

bool bo_store_up(const bo_store *s)
{
    return s && s->healthy;
}

int64_t bo_store_rtt_us(const bo_store *s)
{
    return s ? s->rtt_us : -1;
}

/* Builds the argv of one command in a single allocation, which an op may keep (append). */
typedef struct argb {
    int argc, cap;
    const char **argv;
    size_t *lens;
    char *data; /* copies of the argument bytes */
    size_t used, size;
} argb;

static bool argb_init(argb *b, int cap, size_t bytes)
{
    size_t hdr = (size_t)cap * (sizeof(char *) + sizeof(size_t));
    char *blk = malloc(hdr + bytes + 1);
    if (!blk)
        return false;
    b->argc = 0;
    b->cap = cap;
    b->argv = (const char **)(void *)blk;
    b->lens = (size_t *)(void *)(blk + (size_t)cap * sizeof(char *));
    b->data = blk + hdr;
    b->used = 0;
    b->size = bytes;
    return true;
}

/* Adds a borrowed argument (must outlive the send). */
static void argb_ref(argb *b, const void *p, size_t n)
{
    b->argv[b->argc] = p;
    b->lens[b->argc++] = n;
}

/* Adds a copied argument. */
static void argb_copy(argb *b, const void *p, size_t n)
{
    char *d = b->data + b->used;
    if (n)
        memcpy(d, p, n);
    b->used += n;
    argb_ref(b, d, n);
}

static void argb_free(argb *b)
{
    free(b->argv);
}

#define ARGB_STR(b, str) argb_ref((b), (str), strlen(str))

static void key_fmt(char *out, size_t n, const char *oid, const char *suffix)
{
    snprintf(out, n, "bo:{%s}:%s", oid, suffix);
}

#define KEYBUF (BO_STORE_OID_MAX + 16)

static bo_err common_check(const bo_store *s, const void *cb)
{
    if (!s || !cb)
        return BO_E_INVALID_ARG;
    if (s->closing)
        return BO_E_SHUTTING_DOWN;
    return BO_E_OK;
}

bo_err bo_store_append(bo_store *s, const char *oid, uint64_t expected, const bo_store_rec *recs,
                       size_t n, void (*cb)(void *ud, bo_err err, uint64_t current_seq), void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e)
        return e;
    if (!oid_valid(oid) || n == 0 || !recs)
        return BO_E_INVALID_ARG;
    if (n > BO_STORE_APPEND_MAX)
        return BO_E_TOO_BIG;
    if (expected > (1ULL << 52)) /* Lua numbers are doubles */
        return BO_E_INVALID_ARG;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i].p && recs[i].len)
            return BO_E_INVALID_ARG;
        if (recs[i].len > BO_STORE_REC_MAX)
            return BO_E_TOO_BIG;
        bytes += recs[i].len;
    }
    char logk[KEYBUF], metak[KEYBUF], exp[24];
    key_fmt(logk, sizeof(logk), oid, "log");
    key_fmt(metak, sizeof(metak), oid, "meta");
    snprintf(exp, sizeof(exp), "%" PRIu64, expected);
    size_t oidn = strlen(oid);
    argb b;
    if (!argb_init(&b, 7 + (int)n, bytes + strlen(logk) + strlen(metak) + strlen(exp) + oidn))
        return BO_E_NOMEM;
    op *o = op_new(s, OP_APPEND, ud);
    if (!o) {
        argb_free(&b);
        return BO_E_NOMEM;
    }
    ARGB_STR(&b, "EVALSHA");
    argb_ref(&b, s->sha, 40);
    ARGB_STR(&b, "2");
    argb_copy(&b, logk, strlen(logk));
    argb_copy(&b, metak, strlen(metak));
    argb_copy(&b, exp, strlen(exp));
    argb_copy(&b, oid, oidn);
    for (size_t i = 0; i < n; i++)
        argb_copy(&b, recs[i].p, recs[i].len);
    o->cb.append = cb;
    o->expected = expected;
    o->argc = b.argc;
    o->argv = b.argv; /* the op owns the block now */
    o->argvlen = b.lens;
    if (expected == 0) {
        /* Before the script: an opening whose first append happened is always listed. */
        const char *sa[] = {"SADD", KEY_OPENINGS, oid};
        size_t sl[] = {4, strlen(KEY_OPENINGS), oidn};
        cmd_send_raw(s, 3, sa, sl); /* if this fails, so does the op below */
    }
    op_send(s, o, o->argc, o->argv, o->argvlen);
    return BO_E_OK;
}

bo_err bo_store_range(bo_store *s, const char *oid, uint64_t from_seq, size_t max,
                      void (*cb)(void *ud, bo_err err, const bo_store_rec *recs, size_t n),
                      void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e)
        return e;
    if (!oid_valid(oid) || max == 0)
        return BO_E_INVALID_ARG;
    if (max > BO_STORE_RANGE_MAX)
        return BO_E_TOO_BIG;
    op *o = op_new(s, OP_RANGE, ud);
    if (!o)
        return BO_E_NOMEM;
    o->cb.range = cb;
    char logk[KEYBUF], from[32], cnt[24];
    key_fmt(logk, sizeof(logk), oid, "log");
    snprintf(from, sizeof(from), "%" PRIu64 "-0", from_seq);
    snprintf(cnt, sizeof(cnt), "%zu", max);
    const char *argv[] = {"XRANGE", logk, from, "+", "COUNT", cnt};
    size_t lens[6];
    for (int i = 0; i < 6; i++)
        lens[i] = strlen(argv[i]);
    op_send(s, o, 6, argv, lens);
    return BO_E_OK;
}

bo_err bo_store_top(bo_store *s, const char *oid, void (*cb)(void *ud, bo_err err, uint64_t seq),
                    void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e)
        return e;
    if (!oid_valid(oid))
        return BO_E_INVALID_ARG;
    op *o = op_new(s, OP_TOP, ud);
    if (!o)
        return BO_E_NOMEM;
    o->cb.top = cb;
    char metak[KEYBUF];
    key_fmt(metak, sizeof(metak), oid, "meta");
    const char *argv[] = {"HGET", metak, "seq"};
    size_t lens[] = {4, strlen(metak), 3};
    op_send(s, o, 3, argv, lens);
    return BO_E_OK;
}

bo_err bo_store_openings(bo_store *s,
                         void (*cb)(void *ud, bo_err err, const char *const *oids, size_t n),
                         void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e)
        return e;
    op *o = op_new(s, OP_OPENINGS, ud);
    if (!o)
        return BO_E_NOMEM;
    o->cb.openings = cb;
    const char *argv[] = {"SMEMBERS", KEY_OPENINGS};
    size_t lens[] = {8, strlen(KEY_OPENINGS)};
    op_send(s, o, 2, argv, lens);
    return BO_E_OK;
}

bo_err bo_store_set(bo_store *s, const char *key, const uint8_t *v, size_t len,
                    bool only_if_absent, void (*cb)(void *ud, bo_err err, bool written), void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e || (e = name_check(key)))
        return e;
    if (!v && len)
        return BO_E_INVALID_ARG;
    if (len > BO_STORE_VALUE_MAX)
        return BO_E_TOO_BIG;
    op *o = op_new(s, OP_SET, ud);
    if (!o)
        return BO_E_NOMEM;
    o->cb.set = cb;
    const char *argv[] = {"SET", key, v ? (const char *)v : "", "NX"};
    size_t lens[] = {3, strlen(key), len, 2};
    op_send(s, o, only_if_absent ? 4 : 3, argv, lens);
    return BO_E_OK;
}

bo_err bo_store_get(bo_store *s, const char *key,
                    void (*cb)(void *ud, bo_err err, const uint8_t *v, size_t len), void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e || (e = name_check(key)))
        return e;
    op *o = op_new(s, OP_GET, ud);
    if (!o)
        return BO_E_NOMEM;
    o->cb.get = cb;
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    op_send(s, o, 2, argv, lens);
    return BO_E_OK;
}

bo_err bo_store_hset(bo_store *s, const char *key, const char *const *fields,
                     const bo_bytes *vals, size_t n, bool replace_all,
                     void (*cb)(void *ud, bo_err err), void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e || (e = name_check(key)))
        return e;
    if ((n == 0 && !replace_all) || (n && (!fields || !vals)))
        return BO_E_INVALID_ARG;
    if (n > BO_STORE_FIELDS_MAX)
        return BO_E_TOO_BIG;
    for (size_t i = 0; i < n; i++) {
        if ((e = name_check(fields[i])))
            return e;
        if (!vals[i].p && vals[i].len)
            return BO_E_INVALID_ARG;
        if (vals[i].len > BO_STORE_VALUE_MAX)
            return BO_E_TOO_BIG;
    }
    argb b;
    if (!argb_init(&b, 2 + 2 * (int)n, 0))
        return BO_E_NOMEM;
    op *o = op_new(s, OP_HSET, ud);
    if (!o) {
        argb_free(&b);
        return BO_E_NOMEM;
    }
    o->cb.plain = cb;
    ARGB_STR(&b, "HSET");
    ARGB_STR(&b, key);
    for (size_t i = 0; i < n; i++) {
        ARGB_STR(&b, fields[i]);
        argb_ref(&b, vals[i].p ? (const char *)vals[i].p : "", vals[i].len);
    }
    if (!replace_all) {
        op_send(s, o, b.argc, b.argv, b.lens);
        argb_free(&b);
        return BO_E_OK;
    }
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *del[] = {"DEL", key};
    size_t l1[] = {5}, l4[] = {4}, ldel[] = {3, strlen(key)};
    /* The four are queued together on one connection: nothing can come in between. */
    bool ok = cmd_send_raw(s, 1, multi, l1) && cmd_send_raw(s, 2, del, ldel) &&
              (n == 0 || cmd_send_raw(s, b.argc, b.argv, b.lens));
    argb_free(&b);
    if (!ok) {
        fail_later(s, o, BO_E_STORE_UNAVAILABLE);
        return BO_E_OK;
    }
    op_send(s, o, 1, exec, l4);
    return BO_E_OK;
}

bo_err bo_store_hdel(bo_store *s, const char *key, const char *const *fields, size_t n,
                     void (*cb)(void *ud, bo_err err, uint64_t removed), void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e || (e = name_check(key)))
        return e;
    if (n == 0 || !fields)
        return BO_E_INVALID_ARG;
    if (n > BO_STORE_FIELDS_MAX)
        return BO_E_TOO_BIG;
    for (size_t i = 0; i < n; i++)
        if ((e = name_check(fields[i])))
            return e;
    argb b;
    if (!argb_init(&b, 2 + (int)n, 0))
        return BO_E_NOMEM;
    op *o = op_new(s, OP_HDEL, ud);
    if (!o) {
        argb_free(&b);
        return BO_E_NOMEM;
    }
    o->cb.hdel = cb;
    ARGB_STR(&b, "HDEL");
    ARGB_STR(&b, key);
    for (size_t i = 0; i < n; i++)
        ARGB_STR(&b, fields[i]);
    op_send(s, o, b.argc, b.argv, b.lens);
    argb_free(&b);
    return BO_E_OK;
}

bo_err bo_store_hgetall(bo_store *s, const char *key,
                        void (*cb)(void *ud, bo_err err, const char *const *fields,
                                   const bo_bytes *vals, size_t n),
                        void *ud)
{
    bo_err e = common_check(s, (const void *)cb);
    if (e || (e = name_check(key)))
        return e;
    op *o = op_new(s, OP_HGETALL, ud);
    if (!o)
        return BO_E_NOMEM;
    o->cb.hgetall = cb;
    const char *argv[] = {"HGETALL", key};
    size_t lens[] = {7, strlen(key)};
    op_send(s, o, 2, argv, lens);
    return BO_E_OK;
}

bo_err bo_store_publish(bo_store *s, const char *channel, const uint8_t *msg, size_t len,
                        void (*cb)(void *ud, bo_err err), void *ud)
{
    if (!s)
        return BO_E_INVALID_ARG;
    if (s->closing)
        return BO_E_SHUTTING_DOWN;
    bo_err e = name_check(channel);
    if (e)
        return e;
    if (!msg && len)
        return BO_E_INVALID_ARG;
    if (len > BO_STORE_VALUE_MAX)
        return BO_E_TOO_BIG;
    op *o = op_new(s, OP_PUBLISH, ud);
    if (!o)
        return BO_E_NOMEM;
    o->cb.plain = cb;
    const char *argv[] = {"PUBLISH", channel, msg ? (const char *)msg : ""};
    size_t lens[] = {7, strlen(channel), len};
    op_send(s, o, 3, argv, lens);
    return BO_E_OK;
}

bo_err bo_store_watch(bo_store *s, const char *channel)
{
    if (!s)
        return BO_E_INVALID_ARG;
    if (s->closing)
        return BO_E_SHUTTING_DOWN;
    bo_err e = name_check(channel);
    if (e)
        return e;
    if (is_own_channel(channel, strlen(channel)))
        return BO_E_INVALID_ARG;
    for (size_t i = 0; i < s->nwatch; i++)
        if (strcmp(s->watch[i], channel) == 0)
            return BO_E_OK;
    if (s->nwatch >= BO_STORE_WATCH_MAX)
        return BO_E_TOO_BIG;
    char **w = realloc(s->watch, (s->nwatch + 1) * sizeof(*w));
    if (!w)
        return BO_E_NOMEM;
    s->watch = w;
    if (!(w[s->nwatch] = strdup(channel)))
        return BO_E_NOMEM;
    s->nwatch++;
    conn *c = &s->conn[CONN_SUB];
    if (c->rc && (c->st == ST_HANDSHAKE || c->st == ST_READY) &&
        !sub_send(c, s->nwatch - 1, 1, false))
        conn_fail(c, "cannot send SUBSCRIBE");
    return BO_E_OK;
}
