/* bidopen benchmarks: shared helpers of the bo-bench program (bench/README.md).
 *
 * bo-bench is one program with subcommands: drivers (one per benchmark: they start the real
 * bidopen-server with its managed Redis, create openings as the host, start load processes,
 * measure and write result.json) and load processes (many libbidopen-client participants on
 * one libuv loop, talking to their driver by lines on stdin/stdout). The baselines live in
 * bo-bench-ossl (bench/ossl_base.c), which uses plain OpenSSL only.
 *
 * Everything runs on one machine over loopback; nothing here is a test assertion.
 */
#ifndef BO_BENCH_H
#define BO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <uv.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/client.h"
#include "bo/err.h"
#include "bo/seal.h"
#include "bo/sign.h"

/* ------------------------------------------------------------------ time ---- */

int64_t bn_real_ns(void); /* CLOCK_REALTIME: comparable across processes on this machine */
int64_t bn_mono_ns(void);
void bn_sleep_ms(int ms);

/* ----------------------------------------------------------- /proc stats ---- */

typedef struct bn_cpu {
    double user_s, sys_s; /* /proc/<pid>/stat utime, stime (clock ticks) */
    int64_t sched_ns;     /* sum of /proc/<pid>/task/<tid>/schedstat run time (ns) */
} bn_cpu;

bool bn_proc_cpu(pid_t pid, bn_cpu *out);
/* CPU seconds between two samples: schedstat when available, else utime+stime. */
double bn_cpu_delta(const bn_cpu *a, const bn_cpu *b);
double bn_cpu_ticks_delta(const bn_cpu *a, const bn_cpu *b);
/* A "Vm...:" line of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 if absent. */
long bn_proc_status_kb(pid_t pid, const char *field);
/* Reset VmHWM to the current RSS (echo 5 > /proc/<pid>/clear_refs). */
bool bn_proc_reset_hwm(pid_t pid);
/* The first child process of pid whose command name starts with comm (e.g. the managed
 * redis-server); 0 if none. */
pid_t bn_proc_child(pid_t pid, const char *comm);
/* TCP socket memory of the whole machine (pages from /proc/net/sockstat, in KiB). */
long bn_tcp_mem_kb(void);

/* --------------------------------------------------------------- numbers ---- */

typedef struct bn_vec {
    int64_t *v;
    size_t n, cap;
} bn_vec;

void bn_vec_push(bn_vec *a, int64_t x);
void bn_vec_free(bn_vec *a);
void bn_vec_sort(bn_vec *a);
/* p in [0,100] on a sorted vector (nearest rank); 0 when empty. */
int64_t bn_pct(const bn_vec *sorted, double p);
int64_t bn_max(const bn_vec *a);
double bn_mean(const bn_vec *a);

/* ------------------------------------------------------------- JSON out ---- */

typedef struct bn_json {
    FILE *f;
    int depth;
    bool need_comma[32];
} bn_json;

bool bn_json_open(bn_json *j, const char *path);
void bn_json_close(bn_json *j);
void bn_json_obj(bn_json *j, const char *key);   /* key NULL inside arrays / at top */
void bn_json_arr(bn_json *j, const char *key);
void bn_json_end_obj(bn_json *j);
void bn_json_end_arr(bn_json *j);
void bn_json_num(bn_json *j, const char *key, double v);
void bn_json_int(bn_json *j, const char *key, int64_t v);
void bn_json_str(bn_json *j, const char *key, const char *v);
void bn_json_bool(bn_json *j, const char *key, bool v);
/* {"p50":..,"p90":..,"p99":..,"max":..,"mean":..,"n":..} of ns values, written in ms. */
void bn_json_dist_ms(bn_json *j, const char *key, bn_vec *sorted);
/* A target line: {"what","value","limit","op","met"}; op is "<=" or ">=". */
void bn_json_target(bn_json *j, const char *what, double value, const char *op, double limit,
                    const char *unit);

/* Write a sorted vector of ns values as a CDF data file: "<ms> <fraction>" lines (at most
 * ~2,000 points). */
bool bn_write_cdf(const char *path, const bn_vec *sorted);

/* ------------------------------------------------------------ the server ---- */

typedef struct bn_server {
    pid_t pid;
    int port;
    char dir[512];  /* work dir: data/ inside */
    char log[600];
    char url[128];
    pid_t redis_pid;
} bn_server;

/* The server's standard arguments for the PKI in pki_dir plus extra (NULL-terminated), with
 * the benchmark's limits (accept and message rates far above the load). With redis NULL it
 * runs its managed Redis in dir/data; else --redis redis (unix:...). Waits until it is up. */
int bn_server_start(bn_server *s, const char *bin, const char *dir, const char *pki_dir,
                    const char *redis, const char *node, const char *const *extra,
                    int timeout_ms);
/* SIGTERM, wait (SIGKILL after timeout_ms). Returns the exit status or -1. */
int bn_server_stop(bn_server *s, int timeout_ms);
/* Save the server's /metrics (Prometheus text) into path (curl); false if it failed. */
bool bn_server_metrics(const bn_server *s, const char *path);
/* Count lines of its log holding needle. */
size_t bn_server_log_count(const bn_server *s, const char *needle);

/* ----------------------------------------------------- load processes ---- */

/* A child process (this same program with other arguments, or a baseline program) whose
 * stdin we write lines to and whose stdout we read lines from. */
typedef struct bn_child bn_child;

bn_child *bn_child_spawn(uv_loop_t *loop, const char *const *argv, const char *log_path);
/* Write one line (a '\n' is added). */
void bn_child_send(bn_child *c, const char *line);
/* Lines received and not yet taken (FIFO). Returns NULL when none; caller frees. */
char *bn_child_take(bn_child *c);
/* Block (running the loop) until a line starting with prefix arrives; it is returned (the
 * caller frees) and the lines before it are dropped. NULL on timeout or exit. */
char *bn_child_wait_line(bn_child *c, const char *prefix, int timeout_ms);
bool bn_child_exited(const bn_child *c, int64_t *status);
pid_t bn_child_pid(const bn_child *c);
/* Wait for exit (killing after timeout_ms) and free. */
void bn_child_reap(bn_child *c, int timeout_ms);

/* The line protocol of a load process, from its side (stdin commands). */
typedef struct bn_ctl bn_ctl;
bn_ctl *bn_ctl_open(uv_loop_t *loop);
char *bn_ctl_take(bn_ctl *c); /* next command line or NULL; caller frees */
bool bn_ctl_eof(const bn_ctl *c);
void bn_ctl_close(bn_ctl *c);
void bn_say(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* to stdout + flush */

/* With BENCH_PERF=1 (frame pointers) or BENCH_PERF=dwarf (DWARF unwinding, for the calls
 * inside libc, OpenSSL and libwebsockets) in the environment: `perf record` on pid into
 * dir/name.perf.data
 * until bn_perf_stop, which then writes dir/name.perf.txt (perf report, top of the flat
 * profile and of the call graph). NULL when not asked or perf is missing. */
bn_child *bn_perf_start(uv_loop_t *loop, pid_t pid, const char *dir, const char *name);
void bn_perf_stop(bn_child *perf, const char *dir, const char *name);

/* Run loop until pred(ud) or timeout_ms (< 0: none). Returns pred's last value. */
bool bn_run_until(uv_loop_t *loop, bool (*pred)(void *ud), void *ud, int timeout_ms);
void bn_run_for(uv_loop_t *loop, int ms);

/* ------------------------------------------------------------------- PKI ---- */

/* The benchmark PKI (bench/bench_pki.c): the demo PKI (staff, server, TLS) plus three
 * 3-level hierarchies (RSA-2048, EC P-256, SM2: root -> issuing CA -> leaf) with CRLs in
 * trust/, and n bidders cycling through the three signing algorithms, each with a P-256
 * encryption certificate (keyAgreement) from the same issuing CA. Kept in dir and reused
 * while it holds enough bidders and is younger than 20 days. */
int bn_pki_ensure(const char *dir, unsigned n_bidders, bool force);
unsigned bn_pki_count(const char *dir);

typedef struct bn_bidder_cred {
    unsigned idx;
    char uscc[19];
    char alg[8];
    bo_key *key, *enc_key;
    bo_blob_list chain, enc_chain; /* DER, leaf first */
} bn_bidder_cred;

bool bn_bidder_load(const char *pki, unsigned idx, bool with_enc_key, bn_bidder_cred *out);
void bn_bidder_free(bn_bidder_cred *b);

/* Staff credentials of the demo PKI ("host", "operator", ...). */
typedef struct bn_staff {
    bo_key *key;
    bo_blob_list chain;
} bn_staff;
bool bn_staff_load(const char *pki, const char *who, bn_staff *out);
void bn_staff_free(bn_staff *s);

/* ------------------------------------------------------------- clients ---- */

/* A client context for this process on loop with the PKI's CA. */
bo_client_ctx *bn_ctx_new(uv_loop_t *loop, const char *pki, unsigned max_clients);
/* Free it and run the loop until it is gone. */
void bn_ctx_free(bo_client_ctx *ctx, uv_loop_t *loop);

/* A request waited for. */
typedef struct bn_reply {
    bool done;
    bo_err err;
    char code[64];
    char msg[320];
    bo_buf data; /* canonical msgpack of ok.data (empty if none) */
    int64_t t_ns; /* CLOCK_REALTIME when the reply arrived */
} bn_reply;

void bn_reply_init(bn_reply *r);
void bn_reply_cleanup(bn_reply *r);
void bn_reply_cb(void *ud, bo_err err, const char *code, const char *msg,
                 const msgpack_object *data);
/* Run until r->done (or timeout); returns r->err (BO_E_TIMEOUT on timeout). */
bo_err bn_reply_wait(uv_loop_t *loop, bn_reply *r, int timeout_ms);
/* A string / uint / bin field of the reply's data. */
bool bn_reply_str(const bn_reply *r, const char *key, char *out, size_t n);
bool bn_reply_u64(const bn_reply *r, const char *key, uint64_t *v);
bool bn_reply_i64(const bn_reply *r, const char *key, int64_t *v);

/* A staff member's connection (host, operator) with a few helpers that block on the loop. */
typedef struct bn_host {
    uv_loop_t *loop;
    bo_client *c;
    bn_staff cred;
    bo_client_state st;
    char phase[32];         /* last phase seen (phase_changed / snapshot) */
    int64_t phase_ts;       /* server time (ms) of the last phase_changed event */
    bool paused;
    uint64_t last_pub_seq;  /* of the last event seen */
    char last_kind[64];
    /* an event callback the benchmark may set */
    void (*on_event)(void *ud, const bo_client_event *ev);
    void *ud;
} bn_host;

/* Connect as role ("host", "operator") and wait until READY or JOINED (oid may be NULL). */
int bn_host_open(bn_host *h, bo_client_ctx *ctx, const char *url, const char *pki,
                 const char *who, const char *role, const char *oid, int timeout_ms);
void bn_host_close(bn_host *h);
/* create{tender JSON}: fills oid. */
bo_err bn_host_create(bn_host *h, const char *tender_json, char oid[65]);
/* Run until the phase is `phase` (or timeout). */
bool bn_host_wait_phase(bn_host *h, const char *phase, int timeout_ms);

/* A tender with oid (may be NULL), checkin open now, the deadline deadline_ms from now.
 * Returns the deadline (ms since the epoch). */
int64_t bn_tender_json(char *out, size_t n, const char *oid, const char *title, int64_t deadline_ms,
                    unsigned min_bidders, unsigned window_s);

/* ------------------------------------------------------------- bidders ---- */

/* A sealed bid to submit: the package of a sparse document of `size` bytes sealed to the
 * bidder's encryption certificate. */
typedef struct bn_bid {
    char path[600];
    uint64_t size;     /* envelope bytes */
    uint8_t hash[32];  /* SHA-256 of the envelope */
    bo_seal_result res;
    int64_t seal_ms;
} bn_bid;

int bn_bid_make(bn_bid *b, const bn_bidder_cred *cred, const char *oid, const char *doc_path,
                const char *out_path, const char *price);
void bn_bid_cleanup(bn_bid *b); /* removes the file */
/* A sparse file of size bytes (documents); returns 0 on success. */
int bn_sparse_file(const char *path, uint64_t size);

/* Upload a bid through submit_begin / submit_chunk / submit_commit with `window` chunks in
 * flight. Blocks on the loop. Returns BO_E_OK and the upload's wall time. */
bo_err bn_submit(uv_loop_t *loop, bo_client *c, const char *oid, const bn_bid *b,
                 unsigned window, int64_t *ms_out, char *detail, size_t n);

/* Answer a decrypt_request event body (docs/protocol.md §10): unwrap the CEK from ri with
 * the encryption key, wrap it for server_pub, sign, send decrypt_response. */
bo_err bn_decrypt_respond(bo_client *c, const char *oid, const bn_bidder_cred *cred,
                          const msgpack_object *body, bo_client_reply_cb cb, void *ud);

/* ----------------------------------------------------------- subcommands ---- */

typedef struct bn_opts bn_opts;

int bn_cmd_pki(int argc, char **argv);
int bn_cmd_signin(int argc, char **argv);
int bn_cmd_signin_load(int argc, char **argv);
int bn_cmd_fanout(int argc, char **argv);
int bn_cmd_observe(int argc, char **argv);
int bn_cmd_decrypt(int argc, char **argv);
int bn_cmd_many(int argc, char **argv);
int bn_cmd_opening(int argc, char **argv);
int bn_cmd_memory(int argc, char **argv);

/* Small argument helpers: --name value. */
const char *bn_arg(int argc, char **argv, const char *name, const char *def);
long long bn_arg_ll(int argc, char **argv, const char *name, long long def);
bool bn_flag(int argc, char **argv, const char *name);
/* The path of this executable (for spawning load processes). */
const char *bn_self(void);
void bn_set_self(const char *argv0);

#define BN_DIE(...)                                                                            \
    do {                                                                                       \
        fprintf(stderr, "bo-bench: " __VA_ARGS__);                                             \
        fputc('\n', stderr);                                                                   \
        exit(1);                                                                               \
    } while (0)

/* lws' descriptor tables are indexed by descriptor when they span the whole soft limit
 * (fd_limit_per_thread / max_clients 0); a smaller limit makes every lookup a scan of the
 * table, so a load process with 2,500 connections spent its CPU walking it (and its
 * reconnects, with the old descriptors not yet closed, overflowed it: "Too many fds").
 * Load processes leave lws' limit at 0 and raise the soft limit to the hard one when it is
 * below want, so that a run of bo-bench outside bench/run has the descriptors too. */
void bn_raise_nofile(unsigned want);

#endif
