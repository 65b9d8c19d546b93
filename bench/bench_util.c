/* bo-bench: time, /proc, numbers, JSON, the server process, load processes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------------ time ---- */

int64_t bn_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bn_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bn_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* ----------------------------------------------------------- /proc stats ---- */

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    while (b) {
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (b) {
        b[n] = 0;
        if (len)
            *len = n;
    }
    return b;
}

bool bn_proc_cpu(pid_t pid, bn_cpu *out)
{
    memset(out, 0, sizeof(*out));
    char path[128];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    char *s = slurp(path, NULL);
    if (!s)
        return false;
    /* fields after the command's closing parenthesis: state(3) ... utime(14) stime(15) */
    char *p = strrchr(s, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        free(s);
        return false;
    }
    free(s);
    long hz = sysconf(_SC_CLK_TCK);
    out->user_s = (double)ut / (double)hz;
    out->sys_s = (double)st / (double)hz;
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char sp[300];
            snprintf(sp, sizeof(sp), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
            char *ss = slurp(sp, NULL);
            if (ss) {
                long long run = 0;
                if (sscanf(ss, "%lld", &run) == 1)
                    out->sched_ns += run;
                free(ss);
            }
        }
        closedir(d);
    }
    return true;
}

double bn_cpu_ticks_delta(const bn_cpu *a, const bn_cpu *b)
{
    return (b->user_s + b->sys_s) - (a->user_s + a->sys_s);
}

double bn_cpu_delta(const bn_cpu *a, const bn_cpu *b)
{
    /* Threads that ended between the samples drop out of the schedstat sum; the tick count
     * keeps them. Take schedstat unless it went backwards. */
    if (a->sched_ns > 0 && b->sched_ns >= a->sched_ns)
        return (double)(b->sched_ns - a->sched_ns) / 1e9;
    return bn_cpu_ticks_delta(a, b);
}

long bn_proc_status_kb(pid_t pid, const char *field)
{
    char path[128];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    char *s = slurp(path, NULL);
    if (!s)
        return -1;
    long v = -1;
    size_t fl = strlen(field);
    for (char *line = s; line && *line;) {
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    free(s);
    return v;
}

bool bn_proc_reset_hwm(pid_t pid)
{
    char path[128];
    snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

pid_t bn_proc_child(pid_t pid, const char *comm)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    pid_t found = 0;
    while (!found && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        char *s = slurp(path, NULL);
        if (!s)
            continue;
        char *l = strchr(s, '('), *r = strrchr(s, ')');
        int ppid = 0;
        if (l && r && r > l && sscanf(r + 2, "%*c %d", &ppid) == 1 && ppid == pid &&
            !strncmp(l + 1, comm, strlen(comm)))
            found = (pid_t)atoi(e->d_name);
        free(s);
    }
    closedir(d);
    return found;
}

long bn_tcp_mem_kb(void)
{
    char *s = slurp("/proc/net/sockstat", NULL);
    if (!s)
        return -1;
    long v = -1;
    char *p = strstr(s, "TCP:");
    if (p && (p = strstr(p, " mem ")))
        v = strtol(p + 5, NULL, 10) * (sysconf(_SC_PAGESIZE) / 1024);
    free(s);
    return v;
}

/* --------------------------------------------------------------- numbers ---- */

void bn_vec_push(bn_vec *a, int64_t x)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        int64_t *nv = realloc(a->v, nc * sizeof(*nv));
        if (!nv)
            return;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = x;
}

void bn_vec_free(bn_vec *a)
{
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

void bn_vec_sort(bn_vec *a)
{
    if (a->n)
        qsort(a->v, a->n, sizeof(*a->v), cmp_i64);
}

int64_t bn_pct(const bn_vec *s, double p)
{
    if (!s->n)
        return 0;
    double rank = p / 100.0 * (double)s->n;
    size_t i = rank <= 1 ? 0 : (size_t)(rank + 0.999999) - 1;
    if (i >= s->n)
        i = s->n - 1;
    return s->v[i];
}

int64_t bn_max(const bn_vec *a)
{
    int64_t m = 0;
    for (size_t i = 0; i < a->n; i++)
        if (i == 0 || a->v[i] > m)
            m = a->v[i];
    return m;
}

double bn_mean(const bn_vec *a)
{
    if (!a->n)
        return 0;
    double s = 0;
    for (size_t i = 0; i < a->n; i++)
        s += (double)a->v[i];
    return s / (double)a->n;
}

/* ------------------------------------------------------------- JSON out ---- */

bool bn_json_open(bn_json *j, const char *path)
{
    memset(j, 0, sizeof(*j));
    j->f = fopen(path, "w");
    if (!j->f)
        return false;
    fputc('{', j->f);
    j->depth = 1;
    return true;
}

void bn_json_close(bn_json *j)
{
    if (!j->f)
        return;
    while (j->depth > 1)
        bn_json_end_obj(j);
    fputs("}\n", j->f);
    fclose(j->f);
    j->f = NULL;
}

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void jkey(bn_json *j, const char *key)
{
    if (j->need_comma[j->depth])
        fputc(',', j->f);
    j->need_comma[j->depth] = true;
    fputs("\n", j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
    if (key) {
        jstr(j->f, key);
        fputs(": ", j->f);
    }
}

void bn_json_obj(bn_json *j, const char *key)
{
    jkey(j, key);
    fputc('{', j->f);
    j->need_comma[++j->depth] = false;
}

void bn_json_arr(bn_json *j, const char *key)
{
    jkey(j, key);
    fputc('[', j->f);
    j->need_comma[++j->depth] = false;
}

void bn_json_end_obj(bn_json *j)
{
    j->depth--;
    fputc('}', j->f);
}

void bn_json_end_arr(bn_json *j)
{
    j->depth--;
    fputc(']', j->f);
}

void bn_json_num(bn_json *j, const char *key, double v)
{
    jkey(j, key);
    if (v != v || v > 1e300 || v < -1e300)
        fputs("null", j->f);
    else
        fprintf(j->f, "%.6g", v);
}

void bn_json_int(bn_json *j, const char *key, int64_t v)
{
    jkey(j, key);
    fprintf(j->f, "%lld", (long long)v);
}

void bn_json_str(bn_json *j, const char *key, const char *v)
{
    jkey(j, key);
    jstr(j->f, v ? v : "");
}

void bn_json_bool(bn_json *j, const char *key, bool v)
{
    jkey(j, key);
    fputs(v ? "true" : "false", j->f);
}

void bn_json_dist_ms(bn_json *j, const char *key, bn_vec *s)
{
    bn_json_obj(j, key);
    bn_json_int(j, "n", (int64_t)s->n);
    bn_json_num(j, "p50", (double)bn_pct(s, 50) / 1e6);
    bn_json_num(j, "p90", (double)bn_pct(s, 90) / 1e6);
    bn_json_num(j, "p99", (double)bn_pct(s, 99) / 1e6);
    bn_json_num(j, "max", (double)bn_max(s) / 1e6);
    bn_json_num(j, "mean", bn_mean(s) / 1e6);
    bn_json_end_obj(j);
}

void bn_json_target(bn_json *j, const char *what, double value, const char *op, double limit,
                    const char *unit)
{
    bn_json_obj(j, NULL);
    bn_json_str(j, "what", what);
    bn_json_num(j, "value", value);
    bn_json_str(j, "op", op);
    bn_json_num(j, "limit", limit);
    bn_json_str(j, "unit", unit);
    bool met = value == value && limit == limit &&
               (!strcmp(op, "<=") ? value <= limit : value >= limit);
    bn_json_bool(j, "met", met);
    bn_json_end_obj(j);
}

bool bn_write_cdf(const char *path, const bn_vec *s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    size_t step = s->n > 2000 ? s->n / 2000 : 1;
    for (size_t i = 0; i < s->n; i += step)
        fprintf(f, "%.3f %.5f\n", (double)s->v[i] / 1e6, (double)(i + 1) / (double)s->n);
    if (s->n)
        fprintf(f, "%.3f 1\n", (double)s->v[s->n - 1] / 1e6);
    fclose(f);
    return true;
}

/* ------------------------------------------------------------ the server ---- */

static int spawn_server(bn_server *s, const char *bin, const char *pki, const char *redis,
                        const char *node, const char *const *extra)
{
    char data[600], portfile[600], tls_cert[600], tls_key[600], trust[600], staff[600],
        sign_key[600], sign_cert[600];
    snprintf(data, sizeof(data), "%s/data", s->dir);
    mkdir(data, 0700);
    snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
    unlink(portfile);
    snprintf(tls_cert, sizeof(tls_cert), "%s/server/tls-cert.pem", pki);
    snprintf(tls_key, sizeof(tls_key), "%s/server/tls-key.pem", pki);
    snprintf(trust, sizeof(trust), "%s/trust", pki);
    snprintf(staff, sizeof(staff), "%s/staff/roster.json", pki);
    snprintf(sign_key, sizeof(sign_key), "%s/server/sign-key.pem", pki);
    snprintf(sign_cert, sizeof(sign_cert), "%s/server/sign-cert.pem", pki);
    const char *argv[80];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--data";
    argv[n++] = data;
    if (redis) {
        argv[n++] = "--redis";
        argv[n++] = redis;
    }
    if (node) {
        argv[n++] = "--node";
        argv[n++] = node;
    }
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    argv[n++] = "--tls-cert";
    argv[n++] = tls_cert;
    argv[n++] = "--tls-key";
    argv[n++] = tls_key;
    argv[n++] = "--trust";
    argv[n++] = trust;
    argv[n++] = "--staff";
    argv[n++] = staff;
    argv[n++] = "--sign-key";
    argv[n++] = sign_key;
    argv[n++] = "--sign-cert";
    argv[n++] = sign_cert;
    /* The load arrives all at once from one address: the per-connection and accept limits
     * are protections, not what is measured. */
    argv[n++] = "--accept-rate";
    argv[n++] = "100000";
    argv[n++] = "--accept-burst";
    argv[n++] = "100000";
    argv[n++] = "--msg-rate";
    argv[n++] = "100000";
    argv[n++] = "--msg-burst";
    argv[n++] = "100000";
    argv[n++] = "--max-conns";
    argv[n++] = "19500";
    for (int i = 0; extra && extra[i] && n < 78; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        /* a fresh process group: a ^C of the benchmark reaches the server through us */
        execv(bin, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    s->pid = pid;
    return 0;
}

int bn_server_start(bn_server *s, const char *bin, const char *dir, const char *pki_dir,
                    const char *redis, const char *node, const char *const *extra,
                    int timeout_ms)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    mkdir(s->dir, 0700);
    snprintf(s->log, sizeof(s->log), "%s/server.log", s->dir);
    unlink(s->log);
    if (spawn_server(s, bin, pki_dir, redis, node, extra))
        return -1;
    char portfile[600];
    snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
    int64_t deadline = bn_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (bn_mono_ns() < deadline) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "bo-bench: bidopen-server exited early (status %d); log: %s\n",
                    status, s->log);
            s->pid = 0;
            return -1;
        }
        char *pf = slurp(portfile, NULL);
        if (pf) {
            s->port = atoi(pf);
            free(pf);
        }
        char *log = slurp(s->log, NULL);
        bool up = log && s->port > 0 && strstr(log, "\"store up\"");
        free(log);
        if (up) {
            snprintf(s->url, sizeof(s->url), "wss://127.0.0.1:%d/ws", s->port);
            if (!redis)
                for (int i = 0; i < 50 && !s->redis_pid; i++) {
                    s->redis_pid = bn_proc_child(s->pid, "redis-server");
                    if (!s->redis_pid)
                        bn_sleep_ms(20);
                }
            return 0;
        }
        bn_sleep_ms(20);
    }
    fprintf(stderr, "bo-bench: bidopen-server not ready after %d ms; log: %s\n", timeout_ms,
            s->log);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    return -1;
}

int bn_server_stop(bn_server *s, int timeout_ms)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int64_t deadline = bn_mono_ns() + (int64_t)timeout_ms * 1000000;
    int status = -1;
    while (bn_mono_ns() < deadline) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return status;
        }
        bn_sleep_ms(10);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return -1;
}

bool bn_server_metrics(const bn_server *s, const char *path)
{
    if (s->port <= 0 || strchr(path, '\''))
        return false;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "curl -sk --max-time 10 -o '%s' https://127.0.0.1:%d/metrics", path,
             s->port);
    return system(cmd) == 0;
}

size_t bn_server_log_count(const bn_server *s, const char *needle)
{
    char *log = slurp(s->log, NULL);
    size_t n = 0;
    for (char *p = log; p && (p = strstr(p, needle)); p++)
        n++;
    free(log);
    return n;
}

/* ----------------------------------------------------- load processes ---- */

typedef struct linebuf {
    bo_buf part;
    char **v;
    size_t head, n, cap;
    bool eof;
} linebuf;

static void lb_push(linebuf *lb, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') {
            bo_buf_append(&lb->part, p + i, 1);
            continue;
        }
        char *line = strndup(lb->part.data ? (char *)lb->part.data : "", lb->part.len);
        bo_buf_reset(&lb->part);
        if (!line)
            continue;
        if (lb->head + lb->n == lb->cap) {
            if (lb->head) {
                memmove(lb->v, lb->v + lb->head, lb->n * sizeof(*lb->v));
                lb->head = 0;
            } else {
                size_t nc = lb->cap ? lb->cap * 2 : 64;
                char **nv = realloc(lb->v, nc * sizeof(*nv));
                if (!nv) {
                    free(line);
                    continue;
                }
                lb->v = nv;
                lb->cap = nc;
            }
        }
        lb->v[lb->head + lb->n++] = line;
    }
}

static char *lb_take(linebuf *lb)
{
    if (!lb->n)
        return NULL;
    char *l = lb->v[lb->head++];
    lb->n--;
    if (!lb->n)
        lb->head = 0;
    return l;
}

static void lb_free(linebuf *lb)
{
    char *l;
    while ((l = lb_take(lb)))
        free(l);
    free(lb->v);
    bo_buf_cleanup(&lb->part);
}

struct bn_child {
    uv_loop_t *loop;
    uv_process_t proc;
    uv_pipe_t in, out;
    linebuf lines;
    bool exited;
    int64_t status;
    int closed; /* handles closed so far */
    pid_t pid;
};

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(sz);
    b->len = b->base ? sz : 0;
}

static void child_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    bn_child *c = s->data;
    if (n > 0)
        lb_push(&c->lines, b->base, (size_t)n);
    else if (n < 0) {
        c->lines.eof = true;
        uv_read_stop(s);
    }
    free(b->base);
}

static void child_exit(uv_process_t *p, int64_t status, int sig)
{
    bn_child *c = p->data;
    c->exited = true;
    c->status = sig ? 128 + sig : status;
}

bn_child *bn_child_spawn(uv_loop_t *loop, const char *const *argv, const char *log_path)
{
    bn_child *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->loop = loop;
    bo_buf_init(&c->lines.part, 1 << 20);
    uv_pipe_init(loop, &c->in, 0);
    uv_pipe_init(loop, &c->out, 0);
    c->in.data = c->out.data = c->proc.data = c;
    int logfd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                     0600);
    uv_stdio_container_t io[3];
    io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    io[0].data.stream = (uv_stream_t *)&c->in;
    io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    io[1].data.stream = (uv_stream_t *)&c->out;
    io[2].flags = logfd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
    io[2].data.fd = logfd;
    uv_process_options_t o;
    memset(&o, 0, sizeof(o));
    o.file = argv[0];
    o.args = (char **)argv;
    o.exit_cb = child_exit;
    o.stdio = io;
    o.stdio_count = 3;
    int r = uv_spawn(loop, &c->proc, &o);
    if (logfd >= 0)
        close(logfd);
    if (r) {
        fprintf(stderr, "bo-bench: cannot start %s: %s\n", argv[0], uv_strerror(r));
        c->exited = true;
        c->status = 127;
        return c;
    }
    c->pid = c->proc.pid;
    uv_read_start((uv_stream_t *)&c->out, alloc_cb, child_read);
    return c;
}

static void write_done(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

void bn_child_send(bn_child *c, const char *line)
{
    if (c->exited)
        return;
    size_t n = strlen(line);
    char *p = malloc(n + 1);
    uv_write_t *w = malloc(sizeof(*w));
    if (!p || !w) {
        free(p);
        free(w);
        return;
    }
    memcpy(p, line, n);
    p[n] = '\n';
    w->data = p;
    uv_buf_t b = uv_buf_init(p, (unsigned)n + 1);
    if (uv_write(w, (uv_stream_t *)&c->in, &b, 1, write_done)) {
        free(p);
        free(w);
    }
}

char *bn_child_take(bn_child *c)
{
    return lb_take(&c->lines);
}

typedef struct wait_line {
    bn_child *c;
    const char *prefix;
    char *got;
} wait_line;

static bool wait_line_pred(void *ud)
{
    wait_line *w = ud;
    char *l;
    while ((l = lb_take(&w->c->lines))) {
        if (!strncmp(l, w->prefix, strlen(w->prefix))) {
            w->got = l;
            return true;
        }
        free(l);
    }
    return w->c->lines.eof && w->c->exited;
}

char *bn_child_wait_line(bn_child *c, const char *prefix, int timeout_ms)
{
    wait_line w = {c, prefix, NULL};
    bn_run_until(c->loop, wait_line_pred, &w, timeout_ms);
    return w.got;
}

bool bn_child_exited(const bn_child *c, int64_t *status)
{
    if (status)
        *status = c->status;
    return c->exited;
}

pid_t bn_child_pid(const bn_child *c)
{
    return c->pid;
}

static bool child_gone(void *ud)
{
    return ((bn_child *)ud)->exited;
}

static void child_closed(uv_handle_t *h)
{
    bn_child *c = h->data;
    c->closed++;
}

static bool child_all_closed(void *ud)
{
    return ((bn_child *)ud)->closed == 3;
}

void bn_child_reap(bn_child *c, int timeout_ms)
{
    if (!c)
        return;
    if (!c->exited && c->pid) {
        bn_run_until(c->loop, child_gone, c, timeout_ms);
        if (!c->exited) {
            uv_process_kill(&c->proc, SIGKILL);
            bn_run_until(c->loop, child_gone, c, 5000);
        }
    }
    uv_close((uv_handle_t *)&c->in, child_closed);
    uv_close((uv_handle_t *)&c->out, child_closed);
    uv_close((uv_handle_t *)&c->proc, child_closed);
    bn_run_until(c->loop, child_all_closed, c, 5000);
    lb_free(&c->lines);
    free(c);
}

/* the load process' side */
struct bn_ctl {
    uv_pipe_t in;
    linebuf lines;
    bool closed;
};

static void ctl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    bn_ctl *c = s->data;
    if (n > 0)
        lb_push(&c->lines, b->base, (size_t)n);
    else if (n < 0) {
        c->lines.eof = true;
        uv_read_stop(s);
    }
    free(b->base);
}

bn_ctl *bn_ctl_open(uv_loop_t *loop)
{
    bn_ctl *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    bo_buf_init(&c->lines.part, 1 << 20);
    uv_pipe_init(loop, &c->in, 0);
    c->in.data = c;
    if (uv_pipe_open(&c->in, 0) || uv_read_start((uv_stream_t *)&c->in, alloc_cb, ctl_read))
        c->lines.eof = true;
    return c;
}

char *bn_ctl_take(bn_ctl *c)
{
    return lb_take(&c->lines);
}

bool bn_ctl_eof(const bn_ctl *c)
{
    return c->lines.eof;
}

static void ctl_closed(uv_handle_t *h)
{
    bn_ctl *c = h->data;
    c->closed = true;
}

static bool ctl_is_closed(void *ud)
{
    return ((bn_ctl *)ud)->closed;
}

void bn_ctl_close(bn_ctl *c)
{
    if (!c)
        return;
    uv_loop_t *loop = c->in.loop;
    uv_close((uv_handle_t *)&c->in, ctl_closed);
    bn_run_until(loop, ctl_is_closed, c, 2000);
    lb_free(&c->lines);
    free(c);
}

void bn_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ------------------------------------------------------------------- perf ---- */

bn_child *bn_perf_start(uv_loop_t *loop, pid_t pid, const char *dir, const char *name)
{
    const char *on = getenv("BENCH_PERF");
    bool dwarf = on && !strcmp(on, "dwarf");
    if (!on || (strcmp(on, "1") && !dwarf) || pid <= 0 || access("/usr/bin/perf", X_OK))
        return NULL;
    char data[800], p[32], lg[800];
    snprintf(data, sizeof(data), "%s/%s.perf.data", dir, name);
    snprintf(lg, sizeof(lg), "%s/%s.perf.log", dir, name);
    snprintf(p, sizeof(p), "%d", (int)pid);
    /* frame pointers are enough for our code; libc, OpenSSL and lws need dwarf unwinding */
    const char *av_fp[] = {"/usr/bin/perf", "record", "-F", "499", "-g", "-p", p, "-o", data, NULL};
    const char *av_dw[] = {"/usr/bin/perf", "record", "-F", "149", "--call-graph", "dwarf,16384",
                           "-p", p, "-o", data, NULL};
    const char *const *av = dwarf ? av_dw : av_fp;
    bn_child *c = bn_child_spawn(loop, av, lg);
    bn_run_for(loop, 300); /* perf needs a moment to attach */
    return c;
}

void bn_perf_stop(bn_child *perf, const char *dir, const char *name)
{
    if (!perf)
        return;
    uv_kill(bn_child_pid(perf), SIGINT);
    bn_child_reap(perf, 30000);
    char cmd[2600];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && { echo '## flat (self)'; perf report -i '%s.perf.data' --stdio "
             "--no-children --percent-limit 0.7 -g none 2>/dev/null | grep -v '^$' | head -70; "
             "echo; echo '## call graph (callers of the hot functions)'; perf report -i "
             "'%s.perf.data' --stdio --no-children --percent-limit 2 -g graph,0.5,callee,function,"
             "percent 2>/dev/null | grep -v '^$' | head -400; } > '%s.perf.txt' 2>&1",
             dir, name, name, name);
    if (system(cmd) != 0)
        fprintf(stderr, "bo-bench: perf report failed for %s/%s\n", dir, name);
}

/* --------------------------------------------------------------- the loop ---- */

static void on_wake(uv_timer_t *t)
{
    (void)t;
}

bool bn_run_until(uv_loop_t *loop, bool (*pred)(void *ud), void *ud, int timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, on_wake, 5, 5);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : bn_mono_ns() + (int64_t)timeout_ms * 1000000;
    bool ok;
    while (!(ok = pred(ud)) && bn_mono_ns() < deadline)
        uv_run(loop, UV_RUN_ONCE);
    uv_timer_stop(&t);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static bool never(void *ud)
{
    (void)ud;
    return false;
}

void bn_run_for(uv_loop_t *loop, int ms)
{
    bn_run_until(loop, never, NULL, ms);
}

/* --------------------------------------------------------------- arguments ---- */

const char *bn_arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

long long bn_arg_ll(int argc, char **argv, const char *name, long long def)
{
    const char *v = bn_arg(argc, argv, name, NULL);
    return v ? strtoll(v, NULL, 10) : def;
}

bool bn_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

static char self_path[1024];

void bn_set_self(const char *argv0)
{
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
    if (n > 0)
        self_path[n] = 0;
    else
        snprintf(self_path, sizeof(self_path), "%s", argv0);
}

const char *bn_self(void)
{
    return self_path;
}

void bn_raise_nofile(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}
