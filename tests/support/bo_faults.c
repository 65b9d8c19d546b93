#include "bo_faults.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bo/clock.h"

/* ------------------------------------------------------------ HTTP, Redis ---- */

int bo_h_http_get(int port, const char *ca_file, const char *path, char *body, size_t n,
                  int timeout_ms)
{
    const char *base = getenv("TMPDIR");
    char tmpl[600];
    snprintf(tmpl, sizeof(tmpl), "%s/bo-http-XXXXXX", base && *base ? base : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return 0;
    close(fd);
    char cmd[2400];
    snprintf(cmd, sizeof(cmd),
             "curl -s --path-as-is --max-time %d.%03d --cacert '%s' -o '%s' -w '%%{http_code}' "
             "'https://127.0.0.1:%d%s'",
             timeout_ms / 1000, timeout_ms % 1000, ca_file, tmpl, port, path);
    int status = 0;
    FILE *f = popen(cmd, "r");
    if (f) {
        char code[16] = "";
        if (fgets(code, sizeof(code), f))
            status = atoi(code);
        pclose(f);
    }
    if (body && n) {
        body[0] = 0;
        size_t len = 0;
        char *b = bo_h_read_file(tmpl, &len);
        if (b) {
            snprintf(body, n, "%s", b);
            free(b);
        }
    }
    unlink(tmpl);
    return status;
}

pid_t bo_h_redis_pid(const bo_h_server *s)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/data/redis.pid", s->dir);
    char *txt = bo_h_read_file(path, NULL);
    pid_t pid = txt ? (pid_t)atoi(txt) : 0;
    free(txt);
    if (pid <= 1 || kill(pid, 0) != 0)
        return 0;
    return pid;
}

const char *bo_h_redis_sock(const bo_h_server *s, char out[600])
{
    snprintf(out, 600, "%s/data/redis.sock", s->dir);
    return out;
}

double bo_h_proc_cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    char *txt = bo_h_read_file(path, NULL);
    const char *p = txt ? strrchr(txt, ')') : NULL;
    unsigned long long ut = 0, st = 0;
    /* after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime */
    int ok = p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                         &st) == 2;
    free(txt);
    long hz = sysconf(_SC_CLK_TCK);
    return ok && hz > 0 ? (double)(ut + st) / (double)hz : -1;
}

double bo_h_prom_value(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nl && !strncmp(line, name, nl) && (line[nl] == ' ' || line[nl] == '{')) {
            const char *sp = NULL;
            for (const char *q = line; q < line + len; q++)
                if (*q == ' ')
                    sp = q;
            if (sp)
                return strtod(sp + 1, NULL);
        }
        line = eol ? eol + 1 : NULL;
    }
    return -1;
}

/* ------------------------------------------------------- the many-proxy ---- */

typedef struct mpair mpair;

/* One side of a proxied connection. pend: bytes read from the other side that this side's
 * socket did not take yet (while there are any, the other side is not read). */
typedef struct mend {
    mpair *pair;
    int fd;
    int side; /* 0: the client's, 1: the target's */
    uint8_t *pend;
    size_t pend_len, pend_off;
    uint32_t mask; /* epoll events registered */
} mend;

struct mpair {
    mend e[2];
    bool used;
    bool connecting; /* the target side's connect is in progress */
};

struct bo_h_mproxy {
    pthread_t th;
    int lfd, port, ep;
    int target;         /* __atomic */
    int stop;           /* __atomic */
    int cut_req;        /* __atomic */
    int cut_done;       /* __atomic */
    unsigned cut_count; /* __atomic */
    unsigned live;      /* __atomic */
    unsigned accepted;  /* __atomic */
    unsigned refused;   /* __atomic */
    unsigned max;
    mpair *pairs;
    unsigned *free_idx;
    unsigned n_free;
    uint8_t buf[65536];
};

static void mp_die(const char *what)
{
    fprintf(stderr, "mproxy: %s: %s\n", what, strerror(errno));
    abort();
}

static void mp_close_pair(bo_h_mproxy *p, mpair *pr)
{
    if (!pr->used)
        return;
    for (int i = 0; i < 2; i++) {
        if (pr->e[i].fd >= 0)
            close(pr->e[i].fd); /* also leaves the epoll set */
        free(pr->e[i].pend);
        pr->e[i].pend = NULL;
        pr->e[i].pend_len = pr->e[i].pend_off = 0;
        pr->e[i].fd = -1;
        pr->e[i].mask = 0;
    }
    pr->used = false;
    pr->connecting = false;
    p->free_idx[p->n_free++] = (unsigned)(pr - p->pairs);
    __atomic_sub_fetch(&p->live, 1, __ATOMIC_ACQ_REL);
}

/* Register what end e waits for now. Returns false when epoll refused (pair closed). */
static bool mp_update(bo_h_mproxy *p, mend *e)
{
    mpair *pr = e->pair;
    const mend *peer = &pr->e[!e->side];
    uint32_t want = 0;
    if (pr->connecting) {
        want = e->side == 1 ? EPOLLOUT : 0;
    } else {
        if (!peer->pend_len)
            want |= EPOLLIN;
        if (e->pend_len)
            want |= EPOLLOUT;
    }
    if (want == e->mask)
        return true;
    struct epoll_event ev = {.events = want, .data.ptr = e};
    if (epoll_ctl(p->ep, EPOLL_CTL_MOD, e->fd, &ev) != 0) {
        mp_close_pair(p, pr);
        return false;
    }
    e->mask = want;
    return true;
}

static void mp_readable(bo_h_mproxy *p, mend *e)
{
    mpair *pr = e->pair;
    mend *peer = &pr->e[!e->side];
    if (peer->pend_len)
        return;
    ssize_t r = read(e->fd, p->buf, sizeof(p->buf));
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        mp_close_pair(p, pr);
        return;
    }
    ssize_t w = send(peer->fd, p->buf, (size_t)r, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        w = 0;
    if (w < 0) {
        mp_close_pair(p, pr);
        return;
    }
    if (w < r) {
        peer->pend = malloc((size_t)(r - w));
        if (!peer->pend)
            mp_die("out of memory");
        memcpy(peer->pend, p->buf + w, (size_t)(r - w));
        peer->pend_len = (size_t)(r - w);
        peer->pend_off = 0;
        if (mp_update(p, e))
            mp_update(p, peer);
    }
}

static void mp_writable(bo_h_mproxy *p, mend *e)
{
    mpair *pr = e->pair;
    mend *peer = &pr->e[!e->side];
    if (pr->connecting) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
            __atomic_add_fetch(&p->refused, 1, __ATOMIC_ACQ_REL);
            mp_close_pair(p, pr);
            return;
        }
        pr->connecting = false;
        if (mp_update(p, e))
            mp_update(p, peer);
        return;
    }
    if (!e->pend_len)
        return;
    ssize_t w = send(e->fd, e->pend + e->pend_off, e->pend_len - e->pend_off, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (w < 0) {
        mp_close_pair(p, pr);
        return;
    }
    e->pend_off += (size_t)w;
    if (e->pend_off == e->pend_len) {
        free(e->pend);
        e->pend = NULL;
        e->pend_len = e->pend_off = 0;
        if (mp_update(p, e))
            mp_update(p, peer);
    }
}

static void mp_accept(bo_h_mproxy *p)
{
    for (;;) {
        int cfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
            return;
        __atomic_add_fetch(&p->accepted, 1, __ATOMIC_ACQ_REL);
        if (!p->n_free) {
            __atomic_add_fetch(&p->refused, 1, __ATOMIC_ACQ_REL);
            close(cfd);
            continue;
        }
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        sa.sin_port = htons((uint16_t)__atomic_load_n(&p->target, __ATOMIC_ACQUIRE));
        int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int rc = sfd < 0 ? -1 : connect(sfd, (struct sockaddr *)&sa, sizeof(sa));
        bool connecting = rc != 0 && errno == EINPROGRESS;
        if (sfd < 0 || (rc != 0 && !connecting)) {
            __atomic_add_fetch(&p->refused, 1, __ATOMIC_ACQ_REL);
            close(cfd);
            if (sfd >= 0)
                close(sfd);
            continue;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        mpair *pr = &p->pairs[p->free_idx[--p->n_free]];
        memset(pr, 0, sizeof(*pr));
        pr->used = true;
        pr->connecting = connecting;
        int fds[2] = {cfd, sfd};
        __atomic_add_fetch(&p->live, 1, __ATOMIC_ACQ_REL);
        for (int i = 0; i < 2; i++) {
            mend *e = &pr->e[i];
            e->pair = pr;
            e->fd = fds[i];
            e->side = i;
        }
        for (int i = 0; i < 2 && pr->used; i++) {
            mend *e = &pr->e[i];
            uint32_t want = connecting ? (i == 1 ? EPOLLOUT : 0) : EPOLLIN;
            struct epoll_event ev = {.events = want, .data.ptr = e};
            if (epoll_ctl(p->ep, EPOLL_CTL_ADD, e->fd, &ev) != 0) {
                mp_close_pair(p, pr);
                break;
            }
            e->mask = want;
        }
    }
}

static void *mp_main(void *arg)
{
    bo_h_mproxy *p = arg;
    struct epoll_event evs[256];
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
        int req = __atomic_load_n(&p->cut_req, __ATOMIC_ACQUIRE);
        if (req != __atomic_load_n(&p->cut_done, __ATOMIC_ACQUIRE)) {
            unsigned n = 0;
            for (unsigned i = 0; i < p->max; i++)
                if (p->pairs[i].used) {
                    mp_close_pair(p, &p->pairs[i]);
                    n++;
                }
            __atomic_store_n(&p->cut_count, n, __ATOMIC_RELEASE);
            __atomic_store_n(&p->cut_done, req, __ATOMIC_RELEASE);
        }
        int n = epoll_wait(p->ep, evs, 256, 10);
        bool accept_now = false;
        for (int i = 0; i < n; i++) {
            mend *e = evs[i].data.ptr;
            if (!e) {
                accept_now = true;
                continue;
            }
            if (!e->pair->used || e->fd < 0)
                continue; /* closed earlier in this batch (no pair is reused before accept) */
            uint32_t ev = evs[i].events;
            if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (e->pair->connecting || !(ev & EPOLLIN)) {
                    if (!(ev & EPOLLOUT)) {
                        if (e->pair->connecting && e->side == 1)
                            __atomic_add_fetch(&p->refused, 1, __ATOMIC_ACQ_REL);
                        mp_close_pair(p, e->pair);
                        continue;
                    }
                } else {
                    mp_readable(p, e);
                }
            }
            if ((ev & EPOLLOUT) && e->pair->used && e->fd >= 0)
                mp_writable(p, e);
        }
        if (accept_now)
            mp_accept(p);
    }
    for (unsigned i = 0; i < p->max; i++)
        mp_close_pair(p, &p->pairs[i]);
    return NULL;
}

bo_h_mproxy *bo_h_mproxy_start(int target_port, unsigned max_pairs)
{
    bo_h_mproxy *p = calloc(1, sizeof(*p));
    if (!p || !max_pairs)
        mp_die("mproxy");
    p->max = max_pairs;
    p->pairs = calloc(max_pairs, sizeof(*p->pairs));
    p->free_idx = calloc(max_pairs, sizeof(*p->free_idx));
    if (!p->pairs || !p->free_idx)
        mp_die("out of memory");
    for (unsigned i = 0; i < max_pairs; i++) {
        p->free_idx[i] = max_pairs - 1 - i;
        p->pairs[i].e[0].fd = p->pairs[i].e[1].fd = -1;
    }
    p->n_free = max_pairs;
    p->target = target_port;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(p->lfd, 4096) != 0 || getsockname(p->lfd, (struct sockaddr *)&sa, &sl) != 0)
        mp_die("listen");
    p->port = ntohs(sa.sin_port);
    p->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (p->ep < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, p->lfd, &ev) != 0)
        mp_die("epoll");
    if (pthread_create(&p->th, NULL, mp_main, p) != 0)
        mp_die("thread");
    return p;
}

int bo_h_mproxy_port(const bo_h_mproxy *p)
{
    return p->port;
}

unsigned bo_h_mproxy_cut(bo_h_mproxy *p)
{
    int req = __atomic_add_fetch(&p->cut_req, 1, __ATOMIC_ACQ_REL);
    int64_t deadline = bo_clock_mono_ms() + 5000;
    while (__atomic_load_n(&p->cut_done, __ATOMIC_ACQUIRE) != req &&
           bo_clock_mono_ms() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return __atomic_load_n(&p->cut_count, __ATOMIC_ACQUIRE);
}

unsigned bo_h_mproxy_live(const bo_h_mproxy *p)
{
    return __atomic_load_n(&p->live, __ATOMIC_ACQUIRE);
}

unsigned bo_h_mproxy_accepted(const bo_h_mproxy *p)
{
    return __atomic_load_n(&p->accepted, __ATOMIC_ACQUIRE);
}

unsigned bo_h_mproxy_refused(const bo_h_mproxy *p)
{
    return __atomic_load_n(&p->refused, __ATOMIC_ACQUIRE);
}

void bo_h_mproxy_stop(bo_h_mproxy *p)
{
    if (!p)
        return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    pthread_join(p->th, NULL);
    close(p->lfd);
    close(p->ep);
    free(p->pairs);
    free(p->free_idx);
    free(p);
}
