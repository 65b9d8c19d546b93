#include "bo_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bo/clock.h"
#include "bo/pki.h"

static void die(const char *what)
{
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
    abort();
}

void bo_h_tmpdir(const char *prefix, char out[512])
{
    const char *base = getenv("TMPDIR");
    snprintf(out, 512, "%s/bo-%s-XXXXXX", base && *base ? base : "/tmp", prefix);
    if (!mkdtemp(out))
        die("mkdtemp");
}

void bo_h_rmtree(const char *dir)
{
    if (!dir || strncmp(dir, "/", 1) != 0 || !strstr(dir, "/bo-"))
        return;
    if (getenv("BO_KEEP_TMP"))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

const char *bo_h_path(char out[600], const char *dir, const char *rel)
{
    snprintf(out, 600, "%s/%s", dir, rel);
    return out;
}

void bo_h_pki(const char *dir)
{
    char p[600], detail[256] = "";
    bo_h_path(p, dir, "pki");
    mkdir(p, 0700);
    if (bo_pki_write_demo(p, bo_clock_now_ms(), detail, sizeof(detail)) != BO_E_OK) {
        fprintf(stderr, "harness: demo PKI: %s\n", detail);
        abort();
    }
}

bool bo_h_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

char *bo_h_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

void bo_h_server_dump_log(const bo_h_server *s)
{
    char *log = bo_h_read_file(s->log, NULL);
    fprintf(stderr, "----- bidopen-server log (%s) -----\n%s\n----- end of log -----\n", s->log,
            log ? log : "(none)");
    free(log);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int spawn(bo_h_server *s, const char *pki, int port, const char *const *extra)
{
    const char *bin = getenv("BO_SERVER_BIN");
    if (!bin)
        bin = "bidopen-server";
    char data[600], portfile[600], a_port[32];
    bo_h_path(data, s->dir, "data");
    mkdir(data, 0700);
    bo_h_path(portfile, s->dir, "port");
    unlink(portfile);
    snprintf(a_port, sizeof(a_port), "%d", port);
    char tls_cert[600], tls_key[600], trust[600], staff[600], sign_key[600], sign_cert[600];
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--data";
    argv[n++] = data;
    argv[n++] = "--port";
    argv[n++] = a_port;
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    argv[n++] = "--tls-cert";
    argv[n++] = bo_h_path(tls_cert, pki, "server/tls-cert.pem");
    argv[n++] = "--tls-key";
    argv[n++] = bo_h_path(tls_key, pki, "server/tls-key.pem");
    argv[n++] = "--trust";
    argv[n++] = bo_h_path(trust, pki, "trust");
    argv[n++] = "--staff";
    argv[n++] = bo_h_path(staff, pki, "staff/roster.json");
    argv[n++] = "--sign-key";
    argv[n++] = bo_h_path(sign_key, pki, "server/sign-key.pem");
    argv[n++] = "--sign-cert";
    argv[n++] = bo_h_path(sign_cert, pki, "server/sign-cert.pem");
    argv[n++] = "--log-level";
    argv[n++] = getenv("BO_TEST_VERBOSE") ? "debug" : "info";
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* a test that dies (abort, ctest's timeout) takes its servers with it; a server
         * stopped this way stops its managed redis-server */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
            close(fd);
        }
        execv(bin, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    s->pid = pid;
    return 0;
}

static int wait_ready(bo_h_server *s, int timeout_ms)
{
    char portfile[600];
    bo_h_path(portfile, s->dir, "port");
    int64_t deadline = bo_clock_mono_ms() + timeout_ms;
    while (bo_clock_mono_ms() < deadline) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "harness: bidopen-server exited early (status %d)\n", status);
            s->pid = 0;
            bo_h_server_dump_log(s);
            return -1;
        }
        char *pf = bo_h_read_file(portfile, NULL);
        if (pf) {
            s->port = atoi(pf);
            free(pf);
        }
        char *log = bo_h_read_file(s->log, NULL);
        bool up = log && s->port > 0 && strstr(log, "\"store up\"");
        free(log);
        if (up) {
            snprintf(s->url, sizeof(s->url), "wss://127.0.0.1:%d/ws", s->port);
            return 0;
        }
        sleep_ms(20);
    }
    fprintf(stderr, "harness: bidopen-server not ready after %d ms\n", timeout_ms);
    bo_h_server_dump_log(s);
    return -1;
}

int bo_h_server_start(bo_h_server *s, const char *dir, const char *pki_dir,
                      const char *const *extra_args, int timeout_ms)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    mkdir(s->dir, 0700);
    bo_h_path(s->log, s->dir, "server.log");
    unlink(s->log);
    if (spawn(s, pki_dir, 0, extra_args))
        return -1;
    return wait_ready(s, timeout_ms);
}

int bo_h_server_restart(bo_h_server *s, const char *pki_dir, const char *const *extra_args,
                        int timeout_ms)
{
    /* keep the old log; mark where the new run starts */
    FILE *f = fopen(s->log, "a");
    if (f) {
        fprintf(f, "===== harness: restart =====\n");
        fclose(f);
    }
    size_t before = 0;
    free(bo_h_read_file(s->log, &before));
    if (spawn(s, pki_dir, s->port, extra_args))
        return -1;
    /* wait_ready looks for "store up" after the old content */
    char portfile[600];
    bo_h_path(portfile, s->dir, "port");
    int64_t deadline = bo_clock_mono_ms() + timeout_ms;
    while (bo_clock_mono_ms() < deadline) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            bo_h_server_dump_log(s);
            return -1;
        }
        size_t len = 0;
        char *log = bo_h_read_file(s->log, &len);
        bool up = log && len > before && strstr(log + before, "\"store up\"");
        free(log);
        if (up)
            return 0;
        sleep_ms(20);
    }
    bo_h_server_dump_log(s);
    return -1;
}

int bo_h_server_stop(bo_h_server *s, int sig, int timeout_ms)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, sig);
    int64_t deadline = bo_clock_mono_ms() + timeout_ms;
    int status = -1;
    while (bo_clock_mono_ms() < deadline) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return status;
        }
        sleep_ms(10);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return -1;
}

static void on_wake(uv_timer_t *t)
{
    (void)t;
}

bool bo_h_run_until(uv_loop_t *loop, bool (*pred)(void *ud), void *ud, int timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, on_wake, 10, 10); /* wake the loop regularly to re-check pred */
    int64_t deadline = bo_clock_mono_ms() + timeout_ms;
    bool ok = false;
    while (!(ok = pred(ud)) && bo_clock_mono_ms() < deadline)
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

void bo_h_run_for(uv_loop_t *loop, int ms)
{
    bo_h_run_until(loop, never, NULL, ms);
}

/* ---- server log ---- */

bool bo_h_server_log_has(const bo_h_server *s, const char *needle)
{
    char *log = bo_h_read_file(s->log, NULL);
    bool has = log && strstr(log, needle);
    free(log);
    return has;
}

size_t bo_h_server_log_count(const bo_h_server *s, const char *const *needles)
{
    char *log = bo_h_read_file(s->log, NULL);
    size_t n = 0;
    for (char *line = log, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        bool all = true;
        for (size_t i = 0; needles[i] && all; i++)
            all = strstr(line, needles[i]) != NULL;
        n += all;
        if (!next)
            break;
    }
    free(log);
    return n;
}

/* ---- TCP proxy ---- */

#define PROXY_PAIRS 64

struct bo_h_proxy {
    pthread_t th;
    int lfd, port;
    int target;        /* __atomic */
    int stop;          /* __atomic */
    int cut_req;       /* __atomic: cut requests made */
    int cut_done;      /* __atomic: cut requests served */
    int cut_count;     /* __atomic: connections cut by the last request */
    unsigned accepted; /* __atomic */
    struct {
        int cfd, sfd;
    } pair[PROXY_PAIRS];
    int npair;
    char buf[65536];
};

static void proxy_drop(bo_h_proxy *p, int i)
{
    close(p->pair[i].cfd);
    close(p->pair[i].sfd);
    p->pair[i] = p->pair[--p->npair];
}

static bool proxy_write_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

static void proxy_accept(bo_h_proxy *p)
{
    int cfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    __atomic_add_fetch(&p->accepted, 1, __ATOMIC_ACQ_REL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    sa.sin_port = htons((uint16_t)__atomic_load_n(&p->target, __ATOMIC_ACQUIRE));
    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->npair >= PROXY_PAIRS || sfd < 0 ||
        connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(cfd);
        if (sfd >= 0)
            close(sfd);
        return;
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    p->pair[p->npair].cfd = cfd;
    p->pair[p->npair].sfd = sfd;
    p->npair++;
}

static void *proxy_main(void *arg)
{
    bo_h_proxy *p = arg;
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
        int req = __atomic_load_n(&p->cut_req, __ATOMIC_ACQUIRE);
        if (req != __atomic_load_n(&p->cut_done, __ATOMIC_ACQUIRE)) {
            int n = p->npair;
            while (p->npair)
                proxy_drop(p, 0);
            __atomic_store_n(&p->cut_count, n, __ATOMIC_RELEASE);
            __atomic_store_n(&p->cut_done, req, __ATOMIC_RELEASE);
        }
        struct pollfd fds[1 + 2 * PROXY_PAIRS];
        int n = 0;
        fds[n++] = (struct pollfd){p->lfd, POLLIN, 0};
        for (int i = 0; i < p->npair; i++) {
            fds[n++] = (struct pollfd){p->pair[i].cfd, POLLIN, 0};
            fds[n++] = (struct pollfd){p->pair[i].sfd, POLLIN, 0};
        }
        if (poll(fds, (nfds_t)n, 10) <= 0)
            continue;
        int npair = p->npair;
        /* walk backwards: proxy_drop moves the last pair into the hole */
        for (int i = npair - 1; i >= 0; i--) {
            struct pollfd *fc = &fds[1 + 2 * i], *fs = &fds[2 + 2 * i];
            bool dead = false;
            if (fc->revents) {
                ssize_t r = read(p->pair[i].cfd, p->buf, sizeof(p->buf));
                dead = r <= 0 || !proxy_write_all(p->pair[i].sfd, p->buf, (size_t)r);
            }
            if (!dead && fs->revents) {
                ssize_t r = read(p->pair[i].sfd, p->buf, sizeof(p->buf));
                dead = r <= 0 || !proxy_write_all(p->pair[i].cfd, p->buf, (size_t)r);
            }
            if (dead)
                proxy_drop(p, i);
        }
        if (fds[0].revents)
            proxy_accept(p);
    }
    while (p->npair)
        proxy_drop(p, 0);
    return NULL;
}

bo_h_proxy *bo_h_proxy_start(int target_port)
{
    bo_h_proxy *p = calloc(1, sizeof(*p));
    if (!p)
        die("proxy");
    p->target = target_port;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(p->lfd, 64) != 0 || getsockname(p->lfd, (struct sockaddr *)&sa, &sl) != 0)
        die("proxy listen");
    p->port = ntohs(sa.sin_port);
    if (pthread_create(&p->th, NULL, proxy_main, p) != 0)
        die("proxy thread");
    return p;
}

int bo_h_proxy_port(const bo_h_proxy *p)
{
    return p->port;
}

int bo_h_proxy_cut(bo_h_proxy *p)
{
    int req = __atomic_add_fetch(&p->cut_req, 1, __ATOMIC_ACQ_REL);
    int64_t deadline = bo_clock_mono_ms() + 2000;
    while (__atomic_load_n(&p->cut_done, __ATOMIC_ACQUIRE) != req &&
           bo_clock_mono_ms() < deadline)
        sleep_ms(2);
    return __atomic_load_n(&p->cut_count, __ATOMIC_ACQUIRE);
}

void bo_h_proxy_retarget(bo_h_proxy *p, int target_port)
{
    __atomic_store_n(&p->target, target_port, __ATOMIC_RELEASE);
}

unsigned bo_h_proxy_accepted(const bo_h_proxy *p)
{
    return __atomic_load_n(&p->accepted, __ATOMIC_ACQUIRE);
}

void bo_h_proxy_stop(bo_h_proxy *p)
{
    if (!p)
        return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    pthread_join(p->th, NULL);
    close(p->lfd);
    free(p);
}

/* ---- a managed redis-server left behind ---- */

void bo_h_server_reap_redis(const bo_h_server *s)
{
    char pidfile[700], data[600], cwd_link[64], cwd[700];
    snprintf(data, sizeof(data), "%s/data", s->dir);
    snprintf(pidfile, sizeof(pidfile), "%s/redis.pid", data);
    char *txt = bo_h_read_file(pidfile, NULL);
    int pid = txt ? atoi(txt) : 0;
    free(txt);
    if (pid <= 0 || kill(pid, 0) != 0)
        return;
    snprintf(cwd_link, sizeof(cwd_link), "/proc/%d/cwd", pid);
    ssize_t n = readlink(cwd_link, cwd, sizeof(cwd) - 1);
    if (n <= 0)
        return;
    cwd[n] = 0;
    if (strcmp(cwd, data) != 0)
        return; /* not ours (the pid was reused) */
    fprintf(stderr, "harness: redis-server %d of %s outlived its server: stopping it\n", pid,
            s->dir);
    kill(pid, SIGTERM);
    int64_t deadline = bo_clock_mono_ms() + 5000;
    while (kill(pid, 0) == 0 && bo_clock_mono_ms() < deadline)
        sleep_ms(20);
    if (kill(pid, 0) == 0)
        kill(pid, SIGKILL);
}
