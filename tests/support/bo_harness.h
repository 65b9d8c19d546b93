/* Integration-test harness: temp dirs, a throwaway PKI, the real bidopen-server as a child
 * process (with its own managed redis-server), and helpers to run a libuv loop until a
 * condition holds. Everything here is for tests only. */
#ifndef BO_HARNESS_H
#define BO_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/** mkdtemp under $TMPDIR (or /tmp) with a readable prefix; aborts the test on failure. */
void bo_h_tmpdir(const char *prefix, char out[512]);

/** rm -rf the directory (only paths made by bo_h_tmpdir). */
void bo_h_rmtree(const char *dir);

/** Write the demo PKI (crypto/include/bo/pki.h) into dir/pki. Aborts on failure. */
void bo_h_pki(const char *dir);

typedef struct bo_h_server {
    pid_t pid;
    int port;
    char dir[512];     /* the server's work dir (data/ and logs inside) */
    char log[600];     /* its stderr */
    char url[128];     /* wss://127.0.0.1:<port>/ws */
} bo_h_server;

/** Start bidopen-server with the demo PKI under pki_dir and its data under dir/data (managed
 * Redis), port 0, plus extra arguments (NULL-terminated list, may be NULL). Waits until it
 * listens and its store is up (/healthz), at most timeout_ms. Returns 0 on success; prints
 * the server log on failure. The binary comes from $BO_SERVER_BIN (set by CMake). */
int bo_h_server_start(bo_h_server *s, const char *dir, const char *pki_dir,
                      const char *const *extra_args, int timeout_ms);

/** Like bo_h_server_start, but keep the port of a previous run (restart after kill). */
int bo_h_server_restart(bo_h_server *s, const char *pki_dir, const char *const *extra_args,
                        int timeout_ms);

/** Send a signal and wait for the process to exit (at most timeout_ms; SIGKILL after).
 * Returns the exit status as waitpid gives it, or -1. */
int bo_h_server_stop(bo_h_server *s, int sig, int timeout_ms);

/** After the server is gone: if the managed redis-server of its data directory still runs
 * (the server crashed or was killed), stop it. Safe to call when there is none. */
void bo_h_server_reap_redis(const bo_h_server *s);

/** Print the server's log to stderr (on failure). */
void bo_h_server_dump_log(const bo_h_server *s);

/** GET https://127.0.0.1:port/path with curl-free plain TLS via the openssl binary is not
 * needed: health is probed by the server start helper itself. */

/** Run loop until pred(ud) is true or timeout_ms passed. Returns true if pred held. */
bool bo_h_run_until(uv_loop_t *loop, bool (*pred)(void *ud), void *ud, int timeout_ms);

/** Run the loop for ms milliseconds. */
void bo_h_run_for(uv_loop_t *loop, int ms);

/** Read a whole file into a malloc'd NUL-terminated buffer (NULL on failure). */
char *bo_h_read_file(const char *path, size_t *len);

/** Write n bytes to path (created or truncated); false on any failure. */
bool bo_h_write_file(const char *path, const void *p, size_t n);

/** Path of a file in the demo PKI, e.g. bo_h_pki_path(dir, "bidders/b1-sign.pem"). */
const char *bo_h_path(char out[600], const char *dir, const char *rel);

/* A TCP proxy on 127.0.0.1 (port chosen by the OS) to 127.0.0.1:target_port, run by its own
 * thread: lets a test cut a client's connection to the server without the client knowing,
 * or send new connections elsewhere. At most 64 connections at a time. */
typedef struct bo_h_proxy bo_h_proxy;

/** Start proxying to 127.0.0.1:target_port. Aborts the test on failure.
 * Ownership: bo_h_proxy_stop. Context: any thread. */
bo_h_proxy *bo_h_proxy_start(int target_port);

/** The port it listens on. */
int bo_h_proxy_port(const bo_h_proxy *p);

/** Close every proxied connection now (both sides; no WebSocket close frame). Returns how
 * many were cut. Waits (at most 2 s) until the proxy thread has done it. */
int bo_h_proxy_cut(bo_h_proxy *p);

/** New connections go to 127.0.0.1:target_port from now on (existing ones stay). */
void bo_h_proxy_retarget(bo_h_proxy *p, int target_port);

/** Connections accepted so far. */
unsigned bo_h_proxy_accepted(const bo_h_proxy *p);

/** Stop the thread and close every connection. Accepts NULL. */
void bo_h_proxy_stop(bo_h_proxy *p);

/** Whether the server's log (all runs) contains needle. */
bool bo_h_server_log_has(const bo_h_server *s, const char *needle);

/** Lines of the server's log that contain all of the given strings (NULL-terminated). */
size_t bo_h_server_log_count(const bo_h_server *s, const char *const *needles);

#endif
