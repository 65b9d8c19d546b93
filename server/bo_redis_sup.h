/* bidopen server: the supervisor of the server's own redis-server (the embedded default when
 * bidopen-server runs without --redis).
 *
 * The managed Redis for data_dir listens on the unix socket data_dir/redis.sock (mode 700)
 * only (--port 0), keeps its data in data_dir with appendonly yes, appendfsync always and no
 * RDB snapshots, and writes data_dir/redis.log and data_dir/redis.pid. It runs in its own
 * session (setsid), so a terminal's Ctrl-C reaches only bidopen-server, which stops it.
 *
 * Start-up adopts a live Redis of an earlier run of the same data_dir (bidopen-server was
 * kill -9'd, its Redis kept running) instead of starting a second one on the same files; a
 * Redis of this data_dir that still runs but does not answer (hung, or loading its data) is
 * waited for, never doubled. A child that exits unexpectedly is restarted with backoff
 * (100 ms doubling to 5 s; reset once it has run for 30 s), and an adopted Redis that goes
 * away is replaced by a child. Nothing here blocks the loop: readiness is probed with PING
 * from a timer, liveness of an adopted Redis by its pid.
 */
#ifndef BO_REDIS_SUP_H
#define BO_REDIS_SUP_H

#include <stdbool.h>

#include <uv.h>

#include "bo/err.h"

typedef struct bo_redis_sup bo_redis_sup;

/** Start (or adopt) the private redis-server for data_dir (created with mode 700 if missing).
 * on_ready(ud, unix_path) runs once, the first time the Redis answers PING; restarts after
 * that are logged, not reported (the store reconnects by itself).
 * Errors: NULL with *err = BO_E_CONFIG (data_dir not a usable directory, a socket path longer
 * than a unix socket address holds, redis_server_bin not found or not executable),
 * BO_E_NOMEM.
 * Ownership: the strings are copied; unix_path in on_ready is the supervisor's (valid until
 * done of bo_redis_sup_stop). Free with bo_redis_sup_stop.
 * Context: loop thread. redis_server_bin: NULL means "redis-server" from PATH. */
bo_redis_sup *bo_redis_sup_start(uv_loop_t *loop, const char *data_dir,
                                 const char *redis_server_bin,
                                 void (*on_ready)(void *ud, const char *unix_path), void *ud,
                                 bo_err *err);

/** Stop supervising. stop_redis: SIGTERM the Redis (child or adopted; Redis fsyncs the AOF
 * and exits; SIGKILL after 15 s) and wait until it is gone. Otherwise leave it running for
 * the next start to adopt. on_ready never runs after this call. done(ud) runs once every
 * handle is closed; then s is freed. done may be NULL.
 * Ownership: s is invalid after done. Context: loop thread. */
void bo_redis_sup_stop(bo_redis_sup *s, bool stop_redis, void (*done)(void *ud), void *ud);

/** The pid of the supervised Redis (child or adopted), 0 when none is known.
 * Context: loop thread. */
int bo_redis_sup_pid(const bo_redis_sup *s);

/** Whether the Redis answered PING since it was last (re)started or adopted.
 * Context: loop thread. */
bool bo_redis_sup_ready(const bo_redis_sup *s);

#endif
