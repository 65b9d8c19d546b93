/* bidopen tests: a throwaway redis-server in a temp dir, on a unix socket only (no TCP port).
 *
 * Blocking helpers for test code (never for the server). The binary is $BO_REDIS_SERVER or
 * "redis-server" from PATH. On a failed start the reason and the Redis log go to stderr.
 *
 *   bo_redis_fixture f;
 *   assert_int_equal(bo_redis_fixture_start(&f, true), 0);   // appendonly yes, fsync always
 *   ... connect to f.sock ...
 *   bo_redis_fixture_cleanup(&f);                              // stops it, removes the dir
 */
#ifndef BO_TEST_REDIS_FIXTURE_H
#define BO_TEST_REDIS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct bo_redis_fixture {
    char dir[128];  /* the temp dir (mkdtemp) */
    char sock[160]; /* dir/redis.sock */
    pid_t pid;      /* 0 when not running */
    bool appendonly;
    bool stopped;   /* SIGSTOPped by bo_redis_fixture_signal */
} bo_redis_fixture;

/** Make a temp dir and start redis-server in it; waits (up to 10 s) until PING answers.
 * appendonly: "appendonly yes, appendfsync always", else "appendonly no". Returns 0 or -1. */
int bo_redis_fixture_start(bo_redis_fixture *f, bool appendonly);

/** Start again in the same dir (after stop or SIGKILL), same settings. Returns 0 or -1. */
int bo_redis_fixture_restart(bo_redis_fixture *f);

/** SIGTERM (Redis fsyncs and exits) and wait for the process (SIGKILL after 10 s). */
void bo_redis_fixture_stop(bo_redis_fixture *f);

/** Send a signal. SIGKILL also waits for the process; SIGSTOP/SIGCONT are just sent. */
void bo_redis_fixture_signal(bo_redis_fixture *f, int sig);

/** Stop it if it runs and remove the dir. Safe on a zeroed or already cleaned fixture. */
void bo_redis_fixture_cleanup(bo_redis_fixture *f);

/** Print the tail of dir/redis.log to stderr. */
void bo_redis_fixture_dump_log(const bo_redis_fixture *f);

/** Make a fresh temp dir ("/tmp/bo-test-XXXXXX" under $TMPDIR). Returns 0 or -1. */
int bo_test_tmpdir(char *out, size_t n);

/** Remove a directory tree. */
void bo_test_rmtree(const char *dir);

/** One command in Redis' inline syntax on a fresh blocking connection to sock; the raw RESP
 * answer goes to out (NUL-terminated, truncated to n). Waits up to timeout_ms in total.
 * Returns the answer's length, or -1 (no connection, no answer in time). */
int bo_test_redis_cmd(const char *sock, const char *inline_cmd, char *out, size_t n,
                      int timeout_ms);

/** Whether sock answers PING with +PONG within timeout_ms. */
bool bo_test_redis_ping(const char *sock, int timeout_ms);

/* A TCP proxy on 127.0.0.1 (port chosen by the OS) to a unix socket, run by its own thread:
 * lets a test reach Redis over TCP and cut one direction of a connection without closing it. */
typedef struct bo_test_proxy bo_test_proxy;

/** Start proxying 127.0.0.1:*port to unix_target. Returns NULL on failure. */
bo_test_proxy *bo_test_proxy_start(const char *unix_target, int *port);

/** While on, bytes from the server to every connection that has sent SUBSCRIBE are dropped:
 * a half-open subscriber whose connection stays up while nothing arrives. */
void bo_test_proxy_deafen_subscribers(bo_test_proxy *p, bool on);

/** Stop the thread and close every connection. Safe on NULL. */
void bo_test_proxy_stop(bo_test_proxy *p);

#endif
