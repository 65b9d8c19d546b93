/* bidopen tests: a throwaway redis-server. See redis_fixture.h. */
#include "redis_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int bo_test_tmpdir(char *out, size_t n)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base || strlen(base) > 60)
        base = "/tmp";
    if ((size_t)snprintf(out, n, "%s/bo-test-XXXXXX", base) >= n)
        return -1;
    if (!mkdtemp(out)) {
        fprintf(stderr, "redis_fixture: mkdtemp %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void bo_test_rmtree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int bo_test_redis_cmd(const char *sock, const char *inline_cmd, char *out, size_t n,
                      int timeout_ms)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    long long deadline = mono_ms() + timeout_ms;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int rl = snprintf(req, sizeof(req), "%s\r\n", inline_cmd);
    if (rl <= 0 || (size_t)rl >= sizeof(req) || write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t r = read(fd, out + got, n - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        out[got] = 0;
        /* a simple reply is one line; an array or bulk answer is complete enough for tests
         * once it ends with CRLF and nothing more arrives right away */
        if (got >= 2 && out[got - 2] == '\r' && out[got - 1] == '\n') {
            struct pollfd q = {fd, POLLIN, 0};
            if (poll(&q, 1, 20) <= 0)
                break;
        }
        if (got >= n - 1)
            break;
    }
    close(fd);
    if (got == 0)
        return -1;
    out[got] = 0;
    return (int)got;
}

bool bo_test_redis_ping(const char *sock, int timeout_ms)
{
    char buf[64];
    return bo_test_redis_cmd(sock, "PING", buf, sizeof(buf), timeout_ms) > 0 &&
           strncmp(buf, "+PONG", 5) == 0;
}

void bo_redis_fixture_dump_log(const bo_redis_fixture *f)
{
    char path[200];
    snprintf(path, sizeof(path), "%s/redis.log", f->dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    char line[512];
    long pos = 0;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    if (size > 4000)
        pos = size - 4000;
    fseek(fp, pos, SEEK_SET);
    fprintf(stderr, "---- %s (tail) ----\n", path);
    while (fgets(line, sizeof(line), fp))
        fputs(line, stderr);
    fprintf(stderr, "---- end of redis log ----\n");
    fclose(fp);
}

static int spawn_redis(bo_redis_fixture *f)
{
    const char *bin = getenv("BO_REDIS_SERVER");
    if (!bin || !*bin)
        bin = "redis-server";
    char logf[200], pidf[200];
    snprintf(logf, sizeof(logf), "%s/redis.log", f->dir);
    snprintf(pidf, sizeof(pidf), "%s/redis.pid", f->dir);
    char *argv[] = {(char *)bin,
                    "--port", "0",
                    "--unixsocket", f->sock,
                    "--unixsocketperm", "700",
                    "--dir", f->dir,
                    "--appendonly", f->appendonly ? "yes" : "no",
                    "--appendfsync", "always",
                    "--save", "",
                    "--daemonize", "no",
                    "--logfile", logf,
                    "--pidfile", pidf,
                    NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "redis_fixture: cannot start %s: %s\n", bin, strerror(rc));
        return -1;
    }
    f->pid = pid;
    f->stopped = false;
    long long deadline = mono_ms() + 10000;
    while (mono_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            f->pid = 0;
            fprintf(stderr, "redis_fixture: redis-server exited at start (status %d)\n", st);
            bo_redis_fixture_dump_log(f);
            return -1;
        }
        if (bo_test_redis_ping(f->sock, 200))
            return 0;
        nap_ms(10);
    }
    fprintf(stderr, "redis_fixture: redis-server did not answer PING within 10 s\n");
    bo_redis_fixture_dump_log(f);
    bo_redis_fixture_signal(f, SIGKILL);
    return -1;
}

int bo_redis_fixture_start(bo_redis_fixture *f, bool appendonly)
{
    memset(f, 0, sizeof(*f));
    f->appendonly = appendonly;
    if (bo_test_tmpdir(f->dir, sizeof(f->dir)) != 0)
        return -1;
    snprintf(f->sock, sizeof(f->sock), "%s/redis.sock", f->dir);
    return spawn_redis(f);
}

int bo_redis_fixture_restart(bo_redis_fixture *f)
{
    if (f->pid)
        bo_redis_fixture_stop(f);
    return spawn_redis(f);
}

static void wait_exit(bo_redis_fixture *f, int timeout_ms)
{
    long long deadline = mono_ms() + timeout_ms;
    while (f->pid) {
        int st;
        pid_t r = waitpid(f->pid, &st, WNOHANG);
        if (r == f->pid || (r < 0 && errno == ECHILD)) {
            f->pid = 0;
            break;
        }
        if (mono_ms() > deadline) {
            kill(f->pid, SIGKILL);
            waitpid(f->pid, &st, 0);
            f->pid = 0;
            break;
        }
        nap_ms(5);
    }
}

void bo_redis_fixture_stop(bo_redis_fixture *f)
{
    if (!f->pid)
        return;
    if (f->stopped)
        kill(f->pid, SIGCONT);
    f->stopped = false;
    kill(f->pid, SIGTERM);
    wait_exit(f, 10000);
}

void bo_redis_fixture_signal(bo_redis_fixture *f, int sig)
{
    if (!f->pid)
        return;
    kill(f->pid, sig);
    if (sig == SIGSTOP)
        f->stopped = true;
    else if (sig == SIGCONT)
        f->stopped = false;
    else if (sig == SIGKILL)
        wait_exit(f, 10000);
}

void bo_redis_fixture_cleanup(bo_redis_fixture *f)
{
    bo_redis_fixture_stop(f);
    if (f->dir[0])
        bo_test_rmtree(f->dir);
    f->dir[0] = 0;
}

/* ---- TCP proxy ---- */

#define PROXY_PAIRS 32

struct bo_test_proxy {
    pthread_t th;
    int lfd;
    char target[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int stop;  /* __atomic */
    int deaf;  /* __atomic */
    struct {
        int cfd, sfd;
        bool is_sub;
    } pair[PROXY_PAIRS];
    int npair;
    char buf[65536];
};

static void proxy_drop(bo_test_proxy *p, int i)
{
    close(p->pair[i].cfd);
    close(p->pair[i].sfd);
    p->pair[i] = p->pair[--p->npair];
}

static bool write_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

static void proxy_accept(bo_test_proxy *p)
{
    int cfd = accept(p->lfd, NULL, NULL);
    if (cfd < 0)
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->target);
    int sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->npair >= PROXY_PAIRS || sfd < 0 ||
        connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(cfd);
        if (sfd >= 0)
            close(sfd);
        return;
    }
    p->pair[p->npair].cfd = cfd;
    p->pair[p->npair].sfd = sfd;
    p->pair[p->npair].is_sub = false;
    p->npair++;
}

static void *proxy_main(void *arg)
{
    bo_test_proxy *p = arg;
    char *buf = p->buf;
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
        struct pollfd fds[1 + 2 * PROXY_PAIRS];
        int n = 0;
        fds[n++] = (struct pollfd){p->lfd, POLLIN, 0};
        for (int i = 0; i < p->npair; i++) {
            fds[n++] = (struct pollfd){p->pair[i].cfd, POLLIN, 0};
            fds[n++] = (struct pollfd){p->pair[i].sfd, POLLIN, 0};
        }
        if (poll(fds, (nfds_t)n, 20) <= 0)
            continue;
        int npair = p->npair;
        /* walk backwards: proxy_drop moves the last pair into the hole */
        for (int i = npair - 1; i >= 0; i--) {
            struct pollfd *fc = &fds[1 + 2 * i], *fs = &fds[2 + 2 * i];
            bool dead = false;
            if (fc->revents) {
                ssize_t r = read(p->pair[i].cfd, buf, sizeof(p->buf));
                if (r <= 0) {
                    dead = true;
                } else {
                    if (memmem(buf, (size_t)r, "SUBSCRIBE", 9))
                        p->pair[i].is_sub = true;
                    dead = !write_all(p->pair[i].sfd, buf, (size_t)r);
                }
            }
            if (!dead && fs->revents) {
                ssize_t r = read(p->pair[i].sfd, buf, sizeof(p->buf));
                if (r <= 0)
                    dead = true;
                else if (!(p->pair[i].is_sub && __atomic_load_n(&p->deaf, __ATOMIC_ACQUIRE)))
                    dead = !write_all(p->pair[i].cfd, buf, (size_t)r);
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

bo_test_proxy *bo_test_proxy_start(const char *unix_target, int *port)
{
    bo_test_proxy *p = calloc(1, sizeof(*p));
    if (!p || strlen(unix_target) >= sizeof(p->target)) {
        free(p);
        return NULL;
    }
    snprintf(p->target, sizeof(p->target), "%s", unix_target);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(p->lfd, 16) != 0 || getsockname(p->lfd, (struct sockaddr *)&sa, &sl) != 0 ||
        pthread_create(&p->th, NULL, proxy_main, p) != 0) {
        if (p->lfd >= 0)
            close(p->lfd);
        free(p);
        return NULL;
    }
    *port = ntohs(sa.sin_port);
    return p;
}

void bo_test_proxy_deafen_subscribers(bo_test_proxy *p, bool on)
{
    __atomic_store_n(&p->deaf, on ? 1 : 0, __ATOMIC_RELEASE);
}

void bo_test_proxy_stop(bo_test_proxy *p)
{
    if (!p)
        return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    pthread_join(p->th, NULL);
    close(p->lfd);
    free(p);
}
