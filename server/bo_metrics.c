/* bidopen-server: the /metrics page and the log check of /healthz. */
#include "bo_metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bo_server_internal.h"

static const int64_t hist_bounds[BO_HIST_N] = BO_HIST_BOUNDS_MS;

void bo_metrics_observe(bo_hist *h, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    size_t i = 0;
    while (i < BO_HIST_N && ms > hist_bounds[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum_ms += (uint64_t)ms;
}

bool bo_metrics_log_writable(char *why, size_t n)
{
    const char *reason = NULL;
    int fl = fcntl(STDERR_FILENO, F_GETFL);
    struct stat st;
    if (fl < 0 || fstat(STDERR_FILENO, &st) != 0) {
        reason = "the log (stderr) is closed";
    } else if ((fl & O_ACCMODE) == O_RDONLY) {
        reason = "the log (stderr) is not open for writing";
    } else {
        struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
        int r = poll(&p, 1, 0);
        if (r < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
            reason = "the log's reader is gone (stderr: error or hang-up)";
        else if (!(p.revents & POLLOUT))
            reason = "the log is full (stderr would block: nobody reads it)";
        else if (S_ISREG(st.st_mode)) {
            struct statvfs vfs;
            if (fstatvfs(STDERR_FILENO, &vfs) == 0 && vfs.f_bavail == 0)
                reason = "the log's file system is full";
        }
    }
    if (why && n)
        snprintf(why, n, "%s", reason ? reason : "");
    return reason == NULL;
}

/* ---------- the page ---------- */

static bo_err help(bo_buf *o, const char *name, const char *type, const char *text)
{
    return bo_buf_appendf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static bo_err hist(bo_buf *o, const char *name, const char *text, const bo_hist *h)
{
    bo_err err = help(o, name, "histogram", text);
    uint64_t cum = 0;
    for (size_t i = 0; i < BO_HIST_N && !err; i++) {
        cum += h->bucket[i];
        err = bo_buf_appendf(o, "%s_bucket{le=\"%g\"} %llu\n", name,
                             (double)hist_bounds[i] / 1000.0, (unsigned long long)cum);
    }
    if (!err)
        err = bo_buf_appendf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n%s_count %llu\n",
                             name, (unsigned long long)h->count, name,
                             (double)h->sum_ms / 1000.0, name, (unsigned long long)h->count);
    return err;
}

static bo_err counter(bo_buf *o, const char *name, const char *text, uint64_t v)
{
    bo_err err = help(o, name, "counter", text);
    return err ? err : bo_buf_appendf(o, "%s %llu\n", name, (unsigned long long)v);
}

static bo_err gauge(bo_buf *o, const char *name, const char *text, double v)
{
    bo_err err = help(o, name, "gauge", text);
    return err ? err : bo_buf_appendf(o, "%s %.6g\n", name, v);
}

/* The rooms' states beyond the session phases. */
enum { PH_LOADING = BO_PHASE_FAILED + 1, PH_BROKEN, PH_N };

bo_err bo_metrics_render(const bo_srv *srv, bo_buf *out)
{
    const bo_metrics *m = &srv->m;
    bo_err err = BO_E_OK;

    /* connections by role (unauthenticated ones as "none"), lag, pending auth */
    uint64_t by_role[BO_ROLE_OBSERVER + 2] = {0};
    uint64_t max_lag = 0, behind = 0;
    size_t pos = 0;
    void *v;
    while (bo_map_next(srv->conns, &pos, NULL, NULL, &v)) {
        const bo_conn *c = v;
        if (c->state != BO_CONN_AUTHED || c->actor.role > BO_ROLE_OBSERVER)
            by_role[BO_ROLE_OBSERVER + 1]++;
        else
            by_role[c->actor.role]++;
        uint64_t lag = bo__room_conn_pending(c);
        if (lag)
            behind++;
        if (lag > max_lag)
            max_lag = lag;
    }
    err = help(out, "bidopen_connections", "gauge",
               "WebSocket connections by role (none: not authenticated yet)");
    for (bo_role r = BO_ROLE_OPERATOR; r <= BO_ROLE_OBSERVER + 1 && !err; r++)
        err = bo_buf_appendf(out, "bidopen_connections{role=\"%s\"} %llu\n",
                             r <= BO_ROLE_OBSERVER ? bo_role_name(r) : "none",
                             (unsigned long long)by_role[r]);

    /* openings in memory by phase */
    uint64_t by_phase[PH_N] = {0}, paused = 0;
    pos = 0;
    while (bo_map_next(srv->rooms, &pos, NULL, NULL, &v)) {
        const bo_room *r = v;
        if (r->state == BO_ROOM_LOADING) {
            by_phase[PH_LOADING]++;
        } else if (r->state == BO_ROOM_BROKEN) {
            by_phase[PH_BROKEN]++;
        } else {
            bo_phase ph = bo_session_phase(r->sess);
            if (ph != BO_PHASE_NONE && (int)ph < (int)PH_LOADING)
                by_phase[ph]++;
            if (bo_session_paused(r->sess))
                paused++;
        }
    }
    if (!err)
        err = help(out, "bidopen_openings", "gauge",
                   "openings this node holds, by phase (loading: being read from Redis; "
                   "broken: its log did not verify)");
    for (int ph = BO_PHASE_SCHEDULED; ph < PH_N && !err; ph++)
        err = bo_buf_appendf(out, "bidopen_openings{phase=\"%s\"} %llu\n",
                             ph == PH_LOADING  ? "loading"
                             : ph == PH_BROKEN ? "broken"
                                               : bo_phase_name((bo_phase)ph),
                             (unsigned long long)by_phase[ph]);
    if (!err)
        err = gauge(out, "bidopen_openings_paused", "openings paused now", (double)paused);

    if (!err)
        err = counter(out, "bidopen_events_appended_total",
                      "events this node appended to the Redis log", m->events_appended);
    if (!err)
        err = counter(out, "bidopen_events_delivered_total",
                      "event frames written to members (fan-out)", m->events_fanned);
    if (!err)
        err = counter(out, "bidopen_frames_written_total",
                      "WebSocket frames written (events, replies, pushes)", m->frames_written);
    if (!err)
        err = gauge(out, "bidopen_fanout_lag_events",
                    "events the furthest-behind member connection has still to receive",
                    (double)max_lag);
    if (!err)
        err = gauge(out, "bidopen_fanout_behind_connections",
                    "member connections with events still to receive", (double)behind);
    if (!err)
        err = counter(out, "bidopen_connections_accepted_total", "WebSocket connections accepted",
                      m->conns_accepted);
    if (!err)
        err = counter(out, "bidopen_connections_refused_total",
                      "connections refused (rate, --max-conns, shutting down)",
                      m->conns_refused_rate);
    if (!err)
        err = counter(out, "bidopen_lagging_closed_total",
                      "connections closed with 4000 for falling behind", m->lagging_closed);
    if (!err)
        err = counter(out, "bidopen_connections_refused_unauthed_total",
                      "connections refused at accept because --max-unauthed connections were "
                      "still in their TLS handshake or auth", m->conns_refused_unauthed);
    if (!err)
        err = counter(out, "bidopen_auth_timeouts_total",
                      "connections closed with 4001 (no auth within the deadline)",
                      m->auth_timeouts);
    if (!err)
        err = counter(out, "bidopen_auth_jobs_dropped_total",
                      "signature checks dropped from the worker queue: their connection had "
                      "closed", m->auth_jobs_dropped);
    if (!err)
        err = help(out, "bidopen_requests_total", "counter", "requests answered, by result");
    if (!err)
        err = bo_buf_appendf(out, "bidopen_requests_total{result=\"ok\"} %llu\n"
                                  "bidopen_requests_total{result=\"err\"} %llu\n",
                             (unsigned long long)m->cmds_ok, (unsigned long long)m->cmds_err);
    if (!err)
        err = counter(out, "bidopen_vault_full_total",
                      "bid uploads refused because the vault's disk was full (E_VAULT_FULL)",
                      m->vault_full);
    if (!err)
        err = counter(out, "bidopen_site_links_total",
                      "remote sites authenticated with a host's site link", m->site_links);
    if (!err)
        err = counter(out, "bidopen_http_requests_total",
                      "plain HTTPS requests (hall screen files, /healthz, /metrics)",
                      m->http_requests);
    if (!err)
        err = hist(out, "bidopen_signin_seconds",
                   "sign-in latency: request received to acknowledgement (stored in Redis)",
                   &m->signin_ms);
    if (!err)
        err = hist(out, "bidopen_decrypt_seconds",
                   "remote decryption latency: decrypt_response received to the bid opened",
                   &m->decrypt_ms);

    /* worker pool */
    uint64_t waiting = bo__decrypt_waiting_count(srv);
    if (!err)
        err = help(out, "bidopen_worker_jobs", "gauge",
                   "jobs on the worker pool: signature checks in flight, bid decryptions "
                   "running and waiting for a slot");
    if (!err)
        err = bo_buf_appendf(out,
                             "bidopen_worker_jobs{kind=\"auth\"} %llu\n"
                             "bidopen_worker_jobs{kind=\"decrypt_active\"} %u\n"
                             "bidopen_worker_jobs{kind=\"decrypt_waiting\"} %llu\n",
                             (unsigned long long)m->auth_jobs, srv->decrypt_running,
                             (unsigned long long)waiting);

    /* Redis and the log */
    bool up = srv->store && bo_store_up(srv->store);
    if (!err)
        err = gauge(out, "bidopen_redis_up",
                    "1 while both Redis connections (commands and subscriber) are ready",
                    up ? 1 : 0);
    int64_t rtt = srv->store ? bo_store_rtt_us(srv->store) : -1;
    if (!err && rtt >= 0)
        err = gauge(out, "bidopen_redis_rtt_seconds",
                    "last measured Redis round trip (heartbeat PUBLISH)", (double)rtt / 1e6);
    if (!err)
        err = gauge(out, "bidopen_log_writable", "1 while the log (stderr) can take lines",
                    bo_metrics_log_writable(NULL, 0) ? 1 : 0);
    if (!err)
        err = help(out, "bidopen_info", "gauge", "this node: version and name");
    if (!err)
        err = bo_buf_appendf(out, "bidopen_info{version=\"0.1.0\",node=\"");
    for (const char *p = srv->node; *p && !err; p++) /* label value escaping */
        err = *p == '"' || *p == '\\' ? bo_buf_appendf(out, "\\%c", *p)
              : *p == '\n'            ? bo_buf_append_str(out, "\\n")
                                      : bo_buf_append(out, p, 1);
    if (!err)
        err = bo_buf_append_str(out, "\"} 1\n");
    return err;
}
