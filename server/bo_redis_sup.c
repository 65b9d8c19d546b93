/* bidopen server: supervisor of the managed redis-server. See bo_redis_sup.h.
 *
 * States:
 *   PROBE    looking for a Redis of an earlier run (PING on the socket, pid from the pidfile)
 *   ADOPTED  using that Redis; its pid is watched (or the socket, when the pid is unknown)
 *   STARTING a child was spawned; PING until it answers
 *   RUNNING  the child answers
 *   BACKOFF  the child exited; spawn again when the timer fires
 *   STOPPING bo_redis_sup_stop was called
 */
#include "bo_redis_sup.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "bo/log.h"
#include "bo_uvredis.h"

#define COMP "redis-sup"

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define STABLE_MS 30000u       /* a child that ran this long restarts from BACKOFF_MIN_MS */
#define PROBE_TIMEOUT_MS 1500u /* connect + PING */
#define STOP_KILL_MS 15000u    /* SIGTERM, then SIGKILL after this */
#define WAIT_LOG_MS 10000u

enum sup_st { S_PROBE, S_ADOPTED, S_STARTING, S_RUNNING, S_BACKOFF, S_STOPPING };
enum probe_res { P_READY, P_BUSY, P_NONE };

typedef struct child {
    uv_process_t h;
    bo_redis_sup *s;
} child;

struct bo_redis_sup {
    uv_loop_t *loop;
    char *dir; /* absolute */
    char *bin;
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char *logf, *pidf;
    void (*on_ready)(void *, const char *);
    void *ud;
    enum sup_st st;
    uv_timer_t timer;  /* the state's next step */
    uv_timer_t ptimer; /* the probe's deadline */
    bo_uvredis *probe;
    child *child;
    int pid; /* child or adopted; 0 unknown */
    bool ready, announced;
    unsigned backoff_ms;
    uint64_t started_at;
    uint64_t last_wait_log;
    int live; /* open handles and probe connections */
    bool stop_redis;
    int wait_pid; /* STOPPING: an adopted Redis we signalled */
    uint64_t stop_deadline;
    bool killed;
    void (*done)(void *);
    void *done_ud;
};

static void sup_step(bo_redis_sup *s);
static void probe_start(bo_redis_sup *s);
static void spawn_child(bo_redis_sup *s);
static void maybe_finish(bo_redis_sup *s);

/* ---- lifetime ---- */

static void live_dec(bo_redis_sup *s)
{
    if (--s->live > 0)
        return;
    void (*done)(void *) = s->done;
    void *ud = s->done_ud;
    free(s->dir);
    free(s->bin);
    free(s->logf);
    free(s->pidf);
    free(s);
    if (done)
        done(ud);
}

static void timer_closed(uv_handle_t *h)
{
    live_dec(h->data);
}

static void child_closed(uv_handle_t *h)
{
    child *c = h->data;
    bo_redis_sup *s = c->s;
    free(c);
    live_dec(s);
}

static void probe_closed(void *ud)
{
    live_dec(ud);
}

static void on_timer(uv_timer_t *t)
{
    sup_step(t->data);
}

static void after_ms(bo_redis_sup *s, uint64_t ms)
{
    uv_timer_start(&s->timer, on_timer, ms, 0);
}

/* ---- processes ---- */

/* Whether pid is a live (not zombie) redis-server whose working directory is our data dir. */
static bool pid_is_our_redis(const bo_redis_sup *s, int pid)
{
    if (pid <= 0)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *open = strchr(buf, '(');
    const char *close = strrchr(buf, ')');
    if (!open || !close || close < open || close[1] != ' ')
        return false;
    if ((size_t)(close - open - 1) != strlen("redis-server") ||
        memcmp(open + 1, "redis-server", strlen("redis-server")) != 0)
        return false;
    char state = close[2];
    if (state == 'Z' || state == 'X' || state == 'x')
        return false;
    snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
    char cwd[PATH_MAX];
    ssize_t l = readlink(path, cwd, sizeof(cwd) - 1);
    if (l < 0)
        return errno == EACCES || errno == EPERM; /* another user's: comm must do */
    cwd[l] = 0;
    return strcmp(cwd, s->dir) == 0;
}

static bool pid_gone(int pid)
{
    if (pid <= 0)
        return true;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *close = strrchr(buf, ')');
    return !close || close[1] != ' ' || close[2] == 'Z' || close[2] == 'X';
}

/* The pid in the pidfile if it is a live Redis of this data dir, else 0. */
static int live_redis_pid(const bo_redis_sup *s)
{
    FILE *f = fopen(s->pidf, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT32_MAX)
        pid = 0;
    fclose(f);
    return pid_is_our_redis(s, (int)pid) ? (int)pid : 0;
}

static void mark_ready(bo_redis_sup *s)
{
    s->ready = true;
    BO_LOGI(COMP, "redis-server for %s ready (pid %d, %s)", s->dir, s->pid,
            s->child ? "started" : "adopted from an earlier run");
    if (!s->announced && s->st != S_STOPPING) {
        s->announced = true;
        if (s->on_ready)
            s->on_ready(s->ud, s->sock);
    }
}

static void on_child_exit(uv_process_t *h, int64_t status, int sig)
{
    child *c = h->data;
    bo_redis_sup *s = c->s;
    if (uv_is_closing((uv_handle_t *)h))
        return;
    uv_close((uv_handle_t *)h, child_closed);
    if (s->child != c)
        return;
    int pid = s->pid;
    s->child = NULL;
    s->pid = 0;
    s->ready = false;
    if (s->st == S_STOPPING) {
        BO_LOGI(COMP, "redis-server (pid %d) stopped (status %lld, signal %d)", pid,
                (long long)status, sig);
        maybe_finish(s);
        return;
    }
    if (s->probe) {
        bo_uvredis *p = s->probe;
        s->probe = NULL;
        bo_uvredis_drop(p);
    }
    uint64_t now = uv_now(s->loop);
    if (now - s->started_at >= STABLE_MS)
        s->backoff_ms = BACKOFF_MIN_MS;
    unsigned delay = s->backoff_ms;
    s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
    bo_log(BO_LOG_ERROR, COMP, NULL, 0, BO_E_STORE_UNAVAILABLE,
           "redis-server (pid %d) exited unexpectedly (status %lld, signal %d); restarting in "
           "%u ms; see %s",
           pid, (long long)status, sig, delay, s->logf);
    s->st = S_BACKOFF;
    after_ms(s, delay);
}

static void spawn_child(bo_redis_sup *s)
{
    char *args[] = {s->bin,
                    "--port", "0",
                    "--unixsocket", s->sock,
                    "--unixsocketperm", "700",
                    "--dir", s->dir,
                    "--appendonly", "yes",
                    "--appendfsync", "always",
                    "--save", "",
                    "--daemonize", "no",
                    "--logfile", s->logf,
                    "--pidfile", s->pidf,
                    NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE}, {.flags = UV_IGNORE},
                                     {.flags = UV_IGNORE}};
    uv_process_options_t po = {
        .exit_cb = on_child_exit,
        .file = s->bin,
        .args = args,
        .cwd = s->dir,
        .flags = UV_PROCESS_DETACHED, /* own session: a terminal's Ctrl-C is not for it */
        .stdio_count = 3,
        .stdio = stdio,
    };
    child *c = calloc(1, sizeof(*c));
    if (!c) {
        BO_LOGE(COMP, "out of memory starting redis-server");
        s->st = S_BACKOFF;
        after_ms(s, BACKOFF_MAX_MS);
        return;
    }
    c->s = s;
    c->h.data = c;
    s->live++;
    int rc = uv_spawn(s->loop, &c->h, &po);
    if (rc != 0) {
        uv_close((uv_handle_t *)&c->h, child_closed);
        bo_log(BO_LOG_ERROR, COMP, NULL, 0, BO_E_STORE_UNAVAILABLE,
               "cannot start %s: %s; retrying in %u ms", s->bin, uv_strerror(rc), s->backoff_ms);
        s->st = S_BACKOFF;
        after_ms(s, s->backoff_ms);
        s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
        return;
    }
    s->child = c;
    s->pid = c->h.pid;
    s->ready = false;
    s->st = S_STARTING;
    s->started_at = uv_now(s->loop);
    BO_LOGI(COMP, "started redis-server (pid %d) for %s", s->pid, s->dir);
    after_ms(s, 50);
}

static void adopted_gone(bo_redis_sup *s)
{
    BO_LOGW(COMP, "the adopted redis-server (pid %d) for %s went away; starting a new one",
            s->pid, s->dir);
    s->ready = false;
    s->pid = 0;
    spawn_child(s);
}

/* ---- readiness probes (connect + PING, never blocking) ---- */

static void probe_result(bo_redis_sup *s, enum probe_res res)
{
    uint64_t now = uv_now(s->loop);
    switch (s->st) {
    case S_PROBE:
        if (res == P_READY) {
            s->pid = live_redis_pid(s);
            s->st = S_ADOPTED;
            mark_ready(s);
            after_ms(s, 500);
            break;
        }
        int pid = live_redis_pid(s);
        if (!pid) {
            spawn_child(s);
            break;
        }
        /* A Redis of this data dir runs but does not answer (loading, or hung): never start a
         * second one on the same files. */
        if (!s->last_wait_log || now - s->last_wait_log >= WAIT_LOG_MS) {
            BO_LOGW(COMP, "redis-server pid %d of an earlier run holds %s but does not answer "
                          "PING yet; waiting for it (stop it to let bidopen start a new one)",
                    pid, s->dir);
            s->last_wait_log = now;
        }
        after_ms(s, 200);
        break;
    case S_STARTING:
        if (res == P_READY) {
            s->st = S_RUNNING;
            mark_ready(s);
            break;
        }
        if (now - s->started_at >= WAIT_LOG_MS &&
            (!s->last_wait_log || now - s->last_wait_log >= WAIT_LOG_MS)) {
            BO_LOGW(COMP, "redis-server (pid %d) does not answer PING yet after %llu s "
                          "(loading its data?); see %s",
                    s->pid, (unsigned long long)((now - s->started_at) / 1000), s->logf);
            s->last_wait_log = now;
        }
        after_ms(s, 50);
        break;
    case S_ADOPTED:
        if (res == P_NONE)
            adopted_gone(s);
        else
            after_ms(s, 1000);
        break;
    default:
        break;
    }
}

static void probe_end(bo_redis_sup *s, enum probe_res res)
{
    bo_uvredis *p = s->probe;
    s->probe = NULL;
    uv_timer_stop(&s->ptimer);
    bo_uvredis_drop(p);
    probe_result(s, res);
}

static void probe_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    bo_redis_sup *s = priv;
    redisReply *r = reply;
    if (!s->probe || (bo_uvredis *)ac->data != s->probe)
        return; /* a probe we already gave up on */
    enum probe_res res = P_NONE;
    if (r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
        res = P_READY;
    else if (r && r->type == REDIS_REPLY_ERROR)
        res = P_BUSY; /* e.g. LOADING: alive, not ready */
    probe_end(s, res);
}

static void probe_up(void *ud, bo_uvredis *rc)
{
    bo_redis_sup *s = ud;
    if (rc != s->probe)
        return;
    if (redisAsyncCommand(bo_uvredis_ac(rc), probe_reply, s, "PING") != REDIS_OK)
        probe_end(s, P_NONE);
}

static void probe_down(void *ud, bo_uvredis *rc, const char *why)
{
    (void)why;
    bo_redis_sup *s = ud;
    if (rc != s->probe)
        return;
    s->probe = NULL; /* it is going away by itself */
    uv_timer_stop(&s->ptimer);
    probe_result(s, P_NONE);
}

static void on_probe_timeout(uv_timer_t *t)
{
    bo_redis_sup *s = t->data;
    if (s->probe)
        probe_end(s, P_NONE); /* connected but no answer: hung (or SIGSTOPped) */
}

static void probe_start(bo_redis_sup *s)
{
    static const bo_uvredis_cbs cbs = {probe_up, probe_down, probe_closed};
    if (s->probe || s->st == S_STOPPING)
        return;
    bo_err err;
    bo_uvredis *p =
        bo_uvredis_connect(s->loop, s->sock, NULL, 0, PROBE_TIMEOUT_MS, &cbs, s, &err, NULL, 0);
    if (!p) {
        probe_result(s, P_NONE);
        return;
    }
    s->live++;
    s->probe = p;
    uv_timer_start(&s->ptimer, on_probe_timeout, PROBE_TIMEOUT_MS, 0);
}

/* ---- the state machine's timer ---- */

static void stop_poll(bo_redis_sup *s)
{
    uint64_t now = uv_now(s->loop);
    if (s->child) {
        if (now >= s->stop_deadline && !s->killed) {
            BO_LOGW(COMP, "redis-server (pid %d) ignored SIGTERM for %u s; sending SIGKILL",
                    s->pid, STOP_KILL_MS / 1000);
            uv_process_kill(&s->child->h, SIGKILL);
            s->killed = true;
        }
        after_ms(s, 100);
        return;
    }
    if (s->wait_pid) {
        if (pid_gone(s->wait_pid)) {
            BO_LOGI(COMP, "redis-server (pid %d) stopped", s->wait_pid);
            s->wait_pid = 0;
            maybe_finish(s);
            return;
        }
        if (now >= s->stop_deadline && !s->killed) {
            BO_LOGW(COMP, "redis-server (pid %d) ignored SIGTERM for %u s; sending SIGKILL",
                    s->wait_pid, STOP_KILL_MS / 1000);
            kill(s->wait_pid, SIGKILL);
            s->killed = true;
        }
        after_ms(s, 50);
    }
}

static void sup_step(bo_redis_sup *s)
{
    switch (s->st) {
    case S_PROBE:
    case S_STARTING:
        probe_start(s);
        break;
    case S_ADOPTED:
        if (!s->pid) {
            probe_start(s); /* pid unknown: watch the socket */
        } else if (!pid_is_our_redis(s, s->pid)) {
            adopted_gone(s);
        } else {
            after_ms(s, 500);
        }
        break;
    case S_BACKOFF:
        spawn_child(s);
        break;
    case S_STOPPING:
        stop_poll(s);
        break;
    case S_RUNNING:
        break; /* the child's exit is an event */
    }
}

static void maybe_finish(bo_redis_sup *s)
{
    if (s->st != S_STOPPING || s->child || s->wait_pid || uv_is_closing((uv_handle_t *)&s->timer))
        return;
    uv_close((uv_handle_t *)&s->timer, timer_closed);
    uv_close((uv_handle_t *)&s->ptimer, timer_closed);
}

/* ---- public ---- */

static char *find_bin(const char *bin)
{
    if (strchr(bin, '/'))
        return access(bin, X_OK) == 0 ? strdup(bin) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        char cand[PATH_MAX];
        if (n > 0 && n + 1 + strlen(bin) < sizeof(cand)) {
            memcpy(cand, path, n);
            cand[n] = '/';
            strcpy(cand + n + 1, bin);
            if (access(cand, X_OK) == 0)
                return strdup(cand);
        }
        if (!end)
            break;
        path = end + 1;
    }
    return NULL;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

bo_redis_sup *bo_redis_sup_start(uv_loop_t *loop, const char *data_dir,
                                 const char *redis_server_bin,
                                 void (*on_ready)(void *ud, const char *unix_path), void *ud,
                                 bo_err *err)
{
    bo_err dummy;
    if (!err)
        err = &dummy;
    *err = BO_E_CONFIG;
    if (!loop || !data_dir || !*data_dir)
        return NULL;
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        BO_LOGE(COMP, "cannot create the data dir %s: %s", data_dir, strerror(errno));
        return NULL;
    }
    char abs[PATH_MAX];
    struct stat st;
    if (!realpath(data_dir, abs) || stat(abs, &st) != 0 || !S_ISDIR(st.st_mode) ||
        access(abs, W_OK | X_OK) != 0) {
        BO_LOGE(COMP, "the data dir %s is not a writable directory", data_dir);
        return NULL;
    }
    bo_redis_sup *s = calloc(1, sizeof(*s));
    if (!s) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    if ((size_t)snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", abs) >= sizeof(s->sock)) {
        BO_LOGE(COMP, "the data dir path %s is too long for a unix socket path (%zu bytes at most)",
                abs, sizeof(s->sock) - sizeof("/redis.sock"));
        free(s);
        return NULL;
    }
    const char *bin = redis_server_bin && *redis_server_bin ? redis_server_bin : "redis-server";
    s->bin = find_bin(bin);
    if (!s->bin) {
        BO_LOGE(COMP, "redis-server not found or not executable: %s (install the Debian package "
                      "redis-server, or pass its path)",
                bin);
        free(s);
        return NULL;
    }
    s->dir = strdup(abs);
    s->logf = join(abs, "redis.log");
    s->pidf = join(abs, "redis.pid");
    if (!s->dir || !s->logf || !s->pidf) {
        free(s->bin);
        free(s->dir);
        free(s->logf);
        free(s->pidf);
        free(s);
        *err = BO_E_NOMEM;
        return NULL;
    }
    s->loop = loop;
    s->on_ready = on_ready;
    s->ud = ud;
    s->st = S_PROBE;
    s->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_init(loop, &s->timer);
    uv_timer_init(loop, &s->ptimer);
    s->timer.data = s->ptimer.data = s;
    s->live = 2;
    after_ms(s, 0); /* probe for a Redis of an earlier run first */
    *err = BO_E_OK;
    return s;
}

void bo_redis_sup_stop(bo_redis_sup *s, bool stop_redis, void (*done)(void *ud), void *ud)
{
    if (!s || s->st == S_STOPPING)
        return;
    s->st = S_STOPPING;
    s->done = done;
    s->done_ud = ud;
    s->stop_redis = stop_redis;
    uv_timer_stop(&s->timer);
    uv_timer_stop(&s->ptimer);
    if (s->probe) {
        bo_uvredis *p = s->probe;
        s->probe = NULL;
        bo_uvredis_drop(p);
    }
    s->stop_deadline = uv_now(s->loop) + STOP_KILL_MS;
    if (stop_redis) {
        if (s->child) {
            BO_LOGI(COMP, "stopping redis-server (pid %d)", s->pid);
            uv_process_kill(&s->child->h, SIGTERM);
            after_ms(s, 100);
        } else if (s->pid && pid_is_our_redis(s, s->pid)) {
            BO_LOGI(COMP, "stopping the adopted redis-server (pid %d)", s->pid);
            kill(s->pid, SIGTERM);
            s->wait_pid = s->pid;
            after_ms(s, 50);
        } else if (s->st == S_STOPPING && s->ready) {
            BO_LOGW(COMP, "not stopping the adopted redis-server for %s: its pid is unknown "
                          "(no usable %s)",
                    s->dir, s->pidf);
        }
    } else if (s->child) {
        BO_LOGI(COMP, "leaving redis-server (pid %d) running", s->pid);
        child *c = s->child;
        s->child = NULL;
        uv_close((uv_handle_t *)&c->h, child_closed); /* closing the handle does not kill it */
    }
    maybe_finish(s);
}

int bo_redis_sup_pid(const bo_redis_sup *s)
{
    return s ? s->pid : 0;
}

bool bo_redis_sup_ready(const bo_redis_sup *s)
{
    return s && s->ready;
}
