#include "bo_bigdoc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "bo/hash.h"

static void die(const char *what)
{
    fprintf(stderr, "bigdoc: %s: %s\n", what, strerror(errno));
    abort();
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the stream ---- */

#define GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t word(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + i * GOLDEN;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void bo_bd_fill(uint64_t seed, uint64_t off, uint8_t *p, size_t n)
{
    while (n && (off & 7)) {
        *p++ = (uint8_t)(word(seed, off >> 3) >> (8 * (off & 7)));
        off++;
        n--;
    }
    uint64_t i = off >> 3;
    while (n >= 8) {
        uint64_t w = word(seed, i++);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(p, &w, 8); /* one store: gigabytes go through here, instrumented */
#else
        for (int b = 0; b < 8; b++)
            p[b] = (uint8_t)(w >> (8 * b));
#endif
        p += 8;
        n -= 8;
    }
    off = i << 3;
    for (size_t k = 0; k < n; k++, off++)
        p[k] = (uint8_t)(word(seed, off >> 3) >> (8 * (off & 7)));
}

#define PIECE (1u << 20)

void bo_bd_sha256(uint64_t seed, uint64_t size, uint8_t out[32])
{
    bo_err e;
    bo_sha256_ctx *h = bo_sha256_new(&e);
    uint8_t *buf = malloc(PIECE);
    if (!h || !buf)
        die("sha256");
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < PIECE ? (size_t)(size - off) : PIECE;
        bo_bd_fill(seed, off, buf, n);
        bo_sha256_update(h, buf, n);
        off += n;
    }
    bo_sha256_final(h, out);
    bo_sha256_free(h);
    free(buf);
}

/* ---- the FIFO ---- */

struct bo_bd_fifo {
    char path[1024];
    uint64_t size, seed;
    unsigned passes;
    pthread_t th;
    atomic_bool stop;
    atomic_bool done;
    unsigned complete;      /* passes written completely */
    uint8_t (*sha)[32];     /* one per pass */
};

static void *fifo_main(void *arg)
{
    bo_bd_fifo *f = arg;
    uint8_t *buf = malloc(PIECE);
    bo_err e;
    bo_sha256_ctx *h = bo_sha256_new(&e);
    for (unsigned pass = 0; buf && h && pass < f->passes && !atomic_load(&f->stop); pass++) {
        int fd;
        while ((fd = open(f->path, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR)
            ;
        if (fd < 0 || atomic_load(&f->stop)) {
            if (fd >= 0)
                close(fd);
            break;
        }
        bo_sha256_reset(h);
        uint64_t off = 0;
        bool ok = true;
        while (ok && off < f->size) {
            size_t n = f->size - off < PIECE ? (size_t)(f->size - off) : PIECE;
            bo_bd_fill(f->seed, off, buf, n);
            bo_sha256_update(h, buf, n);
            for (size_t w = 0; ok && w < n;) {
                ssize_t r = write(fd, buf + w, n - w);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    ok = false; /* EPIPE: the reader went away */
                else
                    w += (size_t)r;
            }
            off += n;
        }
        /* The reader sees the end only once fd is closed. Before that, put a new FIFO at the
         * path: the next reader opens that one, never this one, so a writer coming back for
         * the next pass cannot join a reader that has not seen this pass's end yet. */
        if (ok && pass + 1 < f->passes && (unlink(f->path) != 0 || mkfifo(f->path, 0600) != 0))
            ok = false;
        close(fd);
        if (!ok)
            break;
        bo_sha256_final(h, f->sha[pass]);
        f->complete++;
    }
    bo_sha256_free(h);
    free(buf);
    atomic_store(&f->done, true);
    return NULL;
}

bo_bd_fifo *bo_bd_fifo_start(const char *path, uint64_t size, uint64_t seed, unsigned passes)
{
    bo_bd_fifo *f = calloc(1, sizeof(*f));
    if (!f)
        die("calloc");
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->size = size;
    f->seed = seed;
    f->passes = passes;
    f->sha = calloc(passes ? passes : 1, sizeof(*f->sha));
    if (!f->sha)
        die("calloc");
    unlink(path);
    if (mkfifo(path, 0600) != 0)
        die("mkfifo");
    if (pthread_create(&f->th, NULL, fifo_main, f) != 0)
        die("pthread_create");
    return f;
}

unsigned bo_bd_fifo_finish(bo_bd_fifo *f, uint8_t (*sha_out)[32])
{
    atomic_store(&f->stop, true);
    /* a writer waiting in open() for a reader that never comes: be that reader */
    while (!atomic_load(&f->done)) {
        int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0)
            close(fd);
        sleep_ms(5);
    }
    pthread_join(f->th, NULL);
    unlink(f->path);
    unsigned n = f->complete;
    if (sha_out)
        memcpy(sha_out, f->sha, (size_t)n * 32);
    free(f->sha);
    free(f);
    return n;
}

/* ---- memory ---- */

static bool field_kb(const char *status, const char *name, uint64_t *out)
{
    const char *p = strstr(status, name);
    if (!p)
        return false;
    p += strlen(name);
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    return true;
}

bool bo_bd_mem_read(pid_t pid, bo_bd_mem *out)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    memset(out, 0, sizeof(*out));
    return field_kb(buf, "\nVmRSS:", &out->rss_kb) && field_kb(buf, "\nVmHWM:", &out->hwm_kb) &&
           field_kb(buf, "\nRssAnon:", &out->anon_kb) && field_kb(buf, "\nRssFile:", &out->file_kb);
}

bool bo_bd_mem_reset_peak(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

struct bo_bd_sampler {
    pid_t pid;
    unsigned interval_ms;
    pthread_t th;
    atomic_bool stop;
    atomic_uint phase;
    pthread_mutex_t mu;
    bo_bd_phase_stat st[BO_BD_PHASES];
};

static void *sampler_main(void *arg)
{
    bo_bd_sampler *s = arg;
    while (!atomic_load(&s->stop)) {
        bo_bd_mem m;
        if (bo_bd_mem_read(s->pid, &m)) {
            unsigned ph = atomic_load(&s->phase);
            pthread_mutex_lock(&s->mu);
            bo_bd_phase_stat *p = &s->st[ph];
            p->samples++;
            if (m.rss_kb > p->peak.rss_kb)
                p->peak = m;
            pthread_mutex_unlock(&s->mu);
        }
        sleep_ms(s->interval_ms);
    }
    return NULL;
}

bo_bd_sampler *bo_bd_sampler_start(pid_t pid, unsigned interval_ms)
{
    bo_bd_sampler *s = calloc(1, sizeof(*s));
    if (!s)
        die("calloc");
    s->pid = pid;
    s->interval_ms = interval_ms ? interval_ms : 100;
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->th, NULL, sampler_main, s) != 0)
        die("pthread_create");
    return s;
}

void bo_bd_sampler_phase(bo_bd_sampler *s, unsigned phase)
{
    if (phase < BO_BD_PHASES)
        atomic_store(&s->phase, phase);
}

void bo_bd_sampler_stop(bo_bd_sampler *s, bo_bd_phase_stat out[BO_BD_PHASES])
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    memcpy(out, s->st, sizeof(s->st));
    pthread_mutex_destroy(&s->mu);
    free(s);
}

uint64_t bo_bd_disk_free(const char *dir)
{
    struct statvfs v;
    if (statvfs(dir, &v) != 0)
        return 0;
    return (uint64_t)v.f_bavail * v.f_frsize;
}
