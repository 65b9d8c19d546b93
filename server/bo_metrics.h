/* bidopen-server: what /metrics reports (Prometheus text format 0.0.4) and what /healthz
 * checks. The counters live in the server object (bo_srv.m) and are bumped by the loop
 * thread only; gauges (connections by role, openings by phase, fan-out lag, queues, Redis)
 * are read from the server's state when /metrics is asked for. docs/operations.md lists
 * every metric. */
#ifndef BO_METRICS_H
#define BO_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/err.h"

/* Upper bounds (ms) of the latency histograms' buckets; +Inf is implicit. */
#define BO_HIST_BOUNDS_MS {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000}
#define BO_HIST_N 14

/* A latency histogram: counts per bucket (not cumulative), their number and sum. */
typedef struct bo_hist {
    uint64_t bucket[BO_HIST_N + 1]; /* the last one is +Inf */
    uint64_t count;
    uint64_t sum_ms;
} bo_hist;

typedef struct bo_metrics {
    uint64_t events_appended;
    uint64_t events_fanned;
    uint64_t frames_written;
    uint64_t conns_accepted;
    uint64_t conns_refused_rate;
    uint64_t lagging_closed;
    uint64_t cmds_ok, cmds_err;
    uint64_t auth_jobs;       /* signature checks (auth, register, signin) on the worker pool */
    uint64_t auth_jobs_dropped; /* ... taken off the queue because their connection closed */
    uint64_t auth_timeouts;   /* connections closed with E_AUTH_TIMEOUT */
    uint64_t conns_refused_unauthed; /* refused at accept: --max-unauthed reached */
    uint64_t site_links;      /* site-link tokens accepted */
    uint64_t http_requests;
    uint64_t vault_full;      /* uploads refused because the vault's disk was full */
    bo_hist signin_ms;        /* signin request received -> its ok sent */
    bo_hist decrypt_ms;       /* decrypt_response received -> the bid opened (queue included) */
} bo_metrics;

struct bo_srv;

/** Count one observation of ms milliseconds (negative counts as 0).
 * Context: loop thread. */
void bo_metrics_observe(bo_hist *h, int64_t ms);

/** Append the whole /metrics page for srv.
 * Errors: those of bo_buf_append (BO_E_TOO_BIG at out's cap).
 * Ownership: out is the caller's. Context: loop thread. */
bo_err bo_metrics_render(const struct bo_srv *srv, bo_buf *out);

/** Whether the log (stderr) can take a line now: open for writing, no error or hang-up on
 * it, not a full pipe, and not a file on a full file system. why (may be NULL) gets the
 * reason when it cannot. Context: any thread (no blocking call). */
bool bo_metrics_log_writable(char *why, size_t n);

#endif
