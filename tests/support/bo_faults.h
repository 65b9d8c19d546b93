/* Fault drills (tests/integration/test_fault_*.c): what the harness needs beyond
 * bo_harness.h to break things on purpose and watch the server through it.
 *
 *   - /healthz and /metrics of a server through curl (loopback only);
 *   - the pid of a server's managed redis-server, and Redis commands on its socket;
 *   - a TCP proxy for thousands of connections (epoll, non-blocking), so that a test can cut
 *     every client's connection at the same moment: a network blip.
 *
 * Everything here is for tests only; none of it runs inside the server. */
#ifndef BO_FAULTS_H
#define BO_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bo_harness.h"

/** GET https://127.0.0.1:<port><path> through curl, trusting ca_file, at most timeout_ms.
 * The body (NUL-terminated, truncated to n - 1 bytes) goes to body when it is not NULL.
 * Returns the HTTP status, or 0 when there was no answer (connection refused, timeout).
 * Context: any thread; blocks for the request (a libuv loop does not run meanwhile). */
int bo_h_http_get(int port, const char *ca_file, const char *path, char *body, size_t n,
                  int timeout_ms);

/** The pid of the managed redis-server of s (s->dir/data/redis.pid), 0 when there is none
 * or it is not running. */
pid_t bo_h_redis_pid(const bo_h_server *s);

/** The unix socket of the managed Redis of s: "<s->dir>/data/redis.sock". */
const char *bo_h_redis_sock(const bo_h_server *s, char out[600]);

/** CPU time (user + system, in seconds) the process pid has used so far; -1 if unknown. */
double bo_h_proc_cpu_s(pid_t pid);

/** The value of a `name value` line in Prometheus text (the first sample whose name and
 * labels start with `name`); -1 when absent. */
double bo_h_prom_value(const char *text, const char *name);

/* A TCP proxy on 127.0.0.1 (port chosen by the OS) to 127.0.0.1:target_port for up to
 * max_pairs connections at a time, run by its own thread with epoll and non-blocking
 * sockets (a slow reader delays only its own connection). */
typedef struct bo_h_mproxy bo_h_mproxy;

/** Start it. Aborts the test when it cannot listen. Ownership: bo_h_mproxy_stop.
 * Context: any thread. */
bo_h_mproxy *bo_h_mproxy_start(int target_port, unsigned max_pairs);

/** The port it listens on. */
int bo_h_mproxy_port(const bo_h_mproxy *p);

/** Close every proxied connection now, both sides at once (no WebSocket close frame: the
 * peers see the TCP connection end). Returns how many were cut; waits (at most 5 s) until
 * the proxy thread has done it. New connections are accepted again right after. */
unsigned bo_h_mproxy_cut(bo_h_mproxy *p);

/** Connections proxied now / accepted since the start / refused (table full, or the
 * target did not accept). */
unsigned bo_h_mproxy_live(const bo_h_mproxy *p);
unsigned bo_h_mproxy_accepted(const bo_h_mproxy *p);
unsigned bo_h_mproxy_refused(const bo_h_mproxy *p);

/** Stop the thread and close every connection. Accepts NULL. */
void bo_h_mproxy_stop(bo_h_mproxy *p);

#endif
