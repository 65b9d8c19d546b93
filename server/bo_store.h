/* bidopen server: the event-log store on Redis (hiredis 0.14 async on the server's libuv loop).
 *
 * Keys (every key of one opening shares the hash tag {oid}, so a Redis Cluster can shard them):
 *   bo:{oid}:log    STREAM, one entry per event, id "<seq>-0", field "r" = the record bytes
 *   bo:{oid}:meta   HASH, field "seq" = the top seq
 *   bo:openings     SET of every oid that has a log
 * Channels:
 *   bo:ev   every appended record: oid, 0x00, decimal seq, 0x00, record bytes
 *   bo:hb   node heartbeats ("<node_id> <instance>"), once per hb interval per node
 *
 * Two connections: one for commands, one subscribed to bo:ev, bo:hb and the watched channels
 * (a subscribed hiredis 0.14 context accepts nothing else, not even PING). Each is re-made
 * after any failure with exponential backoff and full jitter (50 ms doubling to 2 s). A
 * connect or a command without an answer after cmd_timeout_ms drops the connection (and fails
 * what was in flight on it). The subscriber is proved alive by this node's own heartbeats:
 * one that Redis acknowledged (so had queued to subscribers) must be heard within
 * hb_timeout_ms, else the subscriber is re-made. A deadline that passes is judged once more
 * after one turn of I/O, so a stalled loop does not condemn a healthy connection.
 * At every (re)connect the command connection checks persistence (CONFIG GET append*).
 * No AUTH, no TLS, no SELECT: Redis on a unix socket or a private network, database 0.
 *
 * The async contract, for every call below that takes a callback: if the call returns an
 * error, the callback never runs; otherwise it runs exactly once, on the loop thread, never
 * from inside the call itself, and at the latest during bo_store_close (then with
 * BO_E_CANCELED). While the command connection is not ready (down, connecting, or refused for
 * lack of persistence) calls are accepted and their callback runs on the next loop iteration
 * with BO_E_STORE_UNAVAILABLE: callers have one error path.
 *
 * Context: everything here is loop-thread only.
 */
#ifndef BO_STORE_H
#define BO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "bo/bytes.h"
#include "bo/err.h"

/* Caps (requests above them fail with BO_E_TOO_BIG, nothing is sent). */
#define BO_STORE_OID_MAX 64               /* oid: [A-Za-z0-9._-]{1,64} */
#define BO_STORE_KEY_MAX 512              /* key and channel names */
#define BO_STORE_REC_MAX (1024 * 1024)    /* one record */
#define BO_STORE_APPEND_MAX 1024          /* records in one append */
#define BO_STORE_RANGE_MAX 10000          /* records in one range answer */
#define BO_STORE_VALUE_MAX (16 * 1024 * 1024) /* one value of set/hset/publish */
#define BO_STORE_FIELDS_MAX 65536         /* fields in one hset/hdel */
#define BO_STORE_WATCH_MAX 64             /* watched channels */

typedef struct bo_store bo_store;

/* One record of an opening's log. p points into memory owned by someone else. */
typedef struct bo_store_rec {
    uint64_t seq;
    const uint8_t *p;
    size_t len;
} bo_store_rec;

typedef struct bo_store_opts {
    uv_loop_t *loop;
    const char *unix_path;      /* either a unix socket ... */
    const char *host;           /* ... or a numeric IPv4/IPv6 address (never a name: hiredis */
    int port;                   /*     0.14 resolves names with a blocking getaddrinfo) */
    const char *node_id;        /* this node's id, in its heartbeats; 1..64 bytes, no space */
    bool allow_volatile;        /* accept a Redis without appendonly (--allow-volatile-redis) */
    uint32_t cmd_timeout_ms;    /* connect and command timeout; 0 = 3000 */
    uint32_t hb_interval_ms;    /* heartbeat period; 0 = 1000 */
    uint32_t hb_timeout_ms;     /* own heartbeat must be heard within; 0 = 3000 */
    /* Health changed: up = both connections ready (persistence checked, every channel
     * subscribed). Runs on transitions only, never during bo_store_close. */
    void (*on_health)(void *ud, bool up);
    /* A record appended by any node, this one included, in publish order. oid and rec are
     * valid during the call. Pub/sub is at-most-once: gaps are possible after a reconnect
     * (on_resync) and the owner checks seq continuity itself. */
    void (*on_event)(void *ud, const char *oid, uint64_t seq, const uint8_t *rec, size_t len);
    /* Runs right after on_health(true), every time, the first included: events may have been
     * missed while either connection was down. The owner re-reads the top seq of every opening
     * it follows (bo_store_top) and fills gaps with bo_store_range. */
    void (*on_resync)(void *ud);
    /* A message on a channel added with bo_store_watch. Valid during the call. */
    void (*on_notify)(void *ud, const char *channel, const uint8_t *msg, size_t len);
    void *ud;
} bo_store_opts;

/** Create the store and start connecting both connections; never blocks.
 * Errors: NULL with *err = BO_E_CONFIG (no loop, neither or both of unix_path and host, a host
 * that is not a numeric IP address, a bad port, a missing or invalid node_id), BO_E_NOMEM.
 * Ownership: o and its strings are copied; the caller frees the store with bo_store_close.
 * Context: loop thread. */
bo_store *bo_store_new(const bo_store_opts *o, bo_err *err);

/** Close both connections and every handle. Pending callbacks run with BO_E_CANCELED (during
 * this call, or just after the current store callback returns when called from inside one);
 * then, once every uv handle is closed, the store is freed and done(ud) runs. on_health and
 * on_resync do not run any more. Calls made after this return BO_E_SHUTTING_DOWN.
 * Ownership: s is invalid once done runs (do not use it after this call except to let pending
 * callbacks finish). done may be NULL. Context: loop thread. */
void bo_store_close(bo_store *s, void (*done)(void *ud), void *ud);

/** Whether the store is healthy (both connections ready). Context: loop thread. */
bool bo_store_up(const bo_store *s);

/** The last measured Redis round trip in microseconds (heartbeat PUBLISH), -1 if none yet.
 * Context: loop thread. */
int64_t bo_store_rtt_us(const bo_store *s);

/** Compare-and-append n records as seq expected+1 .. expected+n to bo:{oid}:log, set
 * bo:{oid}:meta seq and PUBLISH each on bo:ev, in one Lua script (EVALSHA; re-sent as EVAL on
 * NOSCRIPT). When expected == 0, first SADD oid to bo:openings (a separate command: that key
 * has no {oid} tag). Appends issued back to back are pipelined and run in order.
 * cb: BO_E_OK with current_seq = expected + n; BO_E_CONFLICT with current_seq = the actual top
 * (someone appended first; nothing written); BO_E_STORE_UNAVAILABLE when Redis is down or did
 * not answer in time (the append may or may not have happened: re-read the top);
 * BO_E_STORE when Redis refused the script (logged); BO_E_CANCELED at close.
 * Errors (no callback): BO_E_INVALID_ARG (bad oid, n == 0, NULL cb), BO_E_TOO_BIG (n or a
 * record over the caps), BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: oid and the record bytes are copied before the call returns. Context: loop thread. */
bo_err bo_store_append(bo_store *s, const char *oid, uint64_t expected, const bo_store_rec *recs,
                       size_t n, void (*cb)(void *ud, bo_err err, uint64_t current_seq), void *ud);

/** Read up to max records of oid's log, from seq from_seq (inclusive) upwards
 * (XRANGE bo:{oid}:log <from_seq>-0 + COUNT max). An unknown opening gives n == 0.
 * cb: BO_E_OK, BO_E_STORE_UNAVAILABLE, BO_E_STORE (an unexpected reply, logged), BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG (bad oid, max == 0, NULL cb), BO_E_TOO_BIG (max over
 * BO_STORE_RANGE_MAX), BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: recs and their bytes are valid during cb only. Context: loop thread. */
bo_err bo_store_range(bo_store *s, const char *oid, uint64_t from_seq, size_t max,
                      void (*cb)(void *ud, bo_err err, const bo_store_rec *recs, size_t n),
                      void *ud);

/** The top seq of oid's log (0 when it has none).
 * cb: BO_E_OK, BO_E_STORE_UNAVAILABLE, BO_E_STORE, BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG, BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: oid is copied. Context: loop thread. */
bo_err bo_store_top(bo_store *s, const char *oid, void (*cb)(void *ud, bo_err err, uint64_t seq),
                    void *ud);

/** Every oid in bo:openings (in no particular order).
 * cb: BO_E_OK, BO_E_STORE_UNAVAILABLE, BO_E_STORE, BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG (NULL cb), BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: oids are valid during cb only. Context: loop thread. */
bo_err bo_store_openings(bo_store *s,
                         void (*cb)(void *ud, bo_err err, const char *const *oids, size_t n),
                         void *ud);

/** SET key to v[0..len) (SET key v [NX]). cb: written is false when only_if_absent and the key
 * existed. cb errors: BO_E_STORE_UNAVAILABLE, BO_E_STORE, BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG (empty key, NULL cb), BO_E_TOO_BIG, BO_E_NOMEM,
 * BO_E_SHUTTING_DOWN.
 * Ownership: key and v are copied. Context: loop thread. */
bo_err bo_store_set(bo_store *s, const char *key, const uint8_t *v, size_t len,
                    bool only_if_absent, void (*cb)(void *ud, bo_err err, bool written), void *ud);

/** GET key. cb: v NULL (len 0) when the key does not exist.
 * cb errors: BO_E_STORE_UNAVAILABLE, BO_E_STORE (e.g. the key is not a string), BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG, BO_E_TOO_BIG, BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: key is copied; v is valid during cb only. Context: loop thread. */
bo_err bo_store_get(bo_store *s, const char *key,
                    void (*cb)(void *ud, bo_err err, const uint8_t *v, size_t len), void *ud);

/** HSET n fields of hash key. replace_all: the hash holds exactly these fields afterwards
 * (DEL then HSET in one MULTI/EXEC; n may then be 0 to delete the hash).
 * cb errors: BO_E_STORE_UNAVAILABLE, BO_E_STORE, BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG (n == 0 without replace_all, a NULL field, NULL cb),
 * BO_E_TOO_BIG, BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: everything is copied. Context: loop thread. */
bo_err bo_store_hset(bo_store *s, const char *key, const char *const *fields,
                     const bo_bytes *vals, size_t n, bool replace_all,
                     void (*cb)(void *ud, bo_err err), void *ud);

/** HDEL n fields of hash key. cb: removed = how many existed.
 * cb errors: BO_E_STORE_UNAVAILABLE, BO_E_STORE, BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG (n == 0, NULL field or cb), BO_E_TOO_BIG, BO_E_NOMEM,
 * BO_E_SHUTTING_DOWN.
 * Ownership: everything is copied. Context: loop thread. */
bo_err bo_store_hdel(bo_store *s, const char *key, const char *const *fields, size_t n,
                     void (*cb)(void *ud, bo_err err, uint64_t removed), void *ud);

/** HGETALL key (n == 0 when the hash does not exist).
 * cb errors: BO_E_STORE_UNAVAILABLE, BO_E_STORE, BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG, BO_E_TOO_BIG, BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: fields (NUL-terminated) and vals are valid during cb only. Context: loop thread. */
bo_err bo_store_hgetall(bo_store *s, const char *key,
                        void (*cb)(void *ud, bo_err err, const char *const *fields,
                                   const bo_bytes *vals, size_t n),
                        void *ud);

/** PUBLISH msg on channel (e.g. "bo:bl" after a blacklist change). cb may be NULL: then the
 * outcome is not reported (the contract above applies only to a non-NULL cb).
 * cb errors: BO_E_STORE_UNAVAILABLE, BO_E_STORE, BO_E_CANCELED.
 * Errors (no callback): BO_E_INVALID_ARG (empty channel), BO_E_TOO_BIG, BO_E_NOMEM,
 * BO_E_SHUTTING_DOWN.
 * Ownership: channel and msg are copied. Context: loop thread. */
bo_err bo_store_publish(bo_store *s, const char *channel, const uint8_t *msg, size_t len,
                        void (*cb)(void *ud, bo_err err), void *ud);

/** Subscribe to channel on the subscriber connection, now if it is up and after every
 * reconnect; messages go to on_notify. Watching the same channel twice is a no-op.
 * Errors: BO_E_INVALID_ARG (empty, or one of the store's own channels bo:ev and bo:hb),
 * BO_E_TOO_BIG (name over BO_STORE_KEY_MAX, or more than BO_STORE_WATCH_MAX channels),
 * BO_E_NOMEM, BO_E_SHUTTING_DOWN.
 * Ownership: channel is copied. Context: loop thread. */
bo_err bo_store_watch(bo_store *s, const char *channel);

#endif
