#include "bo_attack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo_rawws.h"

#define TRICKLE_MS 500
#define REJOIN_MS 100
#define OVERSIZE (300u * 1024u)

typedef struct atk_conn {
    bo_atk_kind kind;
    int fd;
    SSL *ssl;
    bool up, dead;
    int64_t up_at;
    int64_t next_at; /* slowloris: next byte; noread: next join */
    size_t trickled;
    uint64_t next_id;
} atk_conn;

struct bo_attack {
    bo_attack_plan plan;
    pthread_t th;
    pthread_mutex_t mu;
    volatile bool stop;
    bool ready;
    int64_t t0, setup_ms;
    SSL_CTX *tls;
    atk_conn *c;
    size_t n;
    bo_atk_stats st[BO_ATK_KINDS];
};

static const char *const NAMES[BO_ATK_KINDS] = {"half-open", "slowloris", "unauth", "oversize",
                                                "noread"};

const char *bo_attack_kind_name(bo_atk_kind k)
{
    return k < BO_ATK_KINDS ? NAMES[k] : "?";
}

static const char UPGRADE[] = "GET /ws HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Protocol: bidopen.v1\r\n\r\n";

static const char SLOW[] = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/* ---------------------------------------------------------------- set-up ---- */

static int tcp_connect(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool ssl_write_all(SSL *ssl, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        int n = SSL_write(ssl, b, len > (1u << 30) ? 1 << 30 : (int)len);
        if (n <= 0)
            return false;
        b += n;
        len -= (size_t)n;
    }
    return true;
}

/* One client frame: binary, FIN, masked with a zero key (allowed: the mask is XOR). */
static bool ws_send(SSL *ssl, const void *p, size_t len)
{
    uint8_t h[14];
    size_t hl;
    h[0] = 0x82;
    if (len < 126) {
        h[1] = (uint8_t)(0x80 | len);
        hl = 2;
    } else if (len < 65536) {
        h[1] = 0x80 | 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        hl = 4;
    } else {
        h[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        hl = 10;
    }
    memset(h + hl, 0, 4);
    hl += 4;
    return ssl_write_all(ssl, h, hl) && ssl_write_all(ssl, p, len);
}

static bool ws_send_json(SSL *ssl, const char *json)
{
    bo_buf b;
    bo_buf_init(&b, 4096);
    bool ok = bo_rawws_mp_from_json(json, &b) == BO_E_OK && ws_send(ssl, b.data, b.len);
    bo_buf_cleanup(&b);
    return ok;
}

/* The upgrade request, and its response read up to the end of its headers. */
static bool ws_upgrade(SSL *ssl)
{
    if (!ssl_write_all(ssl, UPGRADE, sizeof(UPGRADE) - 1))
        return false;
    char buf[4096];
    size_t have = 0;
    while (have < sizeof(buf) - 1) {
        int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
        if (n <= 0)
            return false;
        have += (size_t)n;
        buf[have] = 0;
        if (strstr(buf, "\r\n\r\n"))
            return !strncmp(buf, "HTTP/1.1 101", 12);
    }
    return false;
}

static void set_nonblock_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool set_up(bo_attack *a, atk_conn *c)
{
    int rcvbuf = c->kind == BO_ATK_NOREAD ? 4096 : 0;
    c->fd = tcp_connect(a->plan.port, rcvbuf);
    if (c->fd < 0)
        return false;
    if (c->kind == BO_ATK_HALF_OPEN)
        return true;
    c->ssl = SSL_new(a->tls);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) || SSL_connect(c->ssl) != 1) {
        ERR_clear_error();
        return false;
    }
    switch (c->kind) {
    case BO_ATK_SLOWLORIS:
        c->next_at = bo_clock_mono_ms() + TRICKLE_MS;
        c->trickled = 1;
        return ssl_write_all(c->ssl, SLOW, 1);
    case BO_ATK_UNAUTH: {
        if (!ws_upgrade(c->ssl))
            return false;
        for (int i = 0; i < 30; i++) {
            char js[64];
            snprintf(js, sizeof(js), "{\"t\":\"list\",\"id\":%d}", i + 1);
            if (!ws_send_json(c->ssl, js))
                return false;
        }
        return true;
    }
    case BO_ATK_OVERSIZE: {
        if (!ws_upgrade(c->ssl))
            return false;
        uint8_t *big = malloc(OVERSIZE);
        if (!big)
            return false;
        /* {x: bin32 of the rest}: well-formed msgpack, too big */
        big[0] = 0x81, big[1] = 0xa1, big[2] = 'x', big[3] = 0xc6;
        uint32_t bl = OVERSIZE - 8;
        big[4] = (uint8_t)(bl >> 24), big[5] = (uint8_t)(bl >> 16);
        big[6] = (uint8_t)(bl >> 8), big[7] = (uint8_t)bl;
        memset(big + 8, 0x5a, OVERSIZE - 8);
        ws_send(c->ssl, big, OVERSIZE); /* the server may close before it has all: fine */
        free(big);
        return true;
    }
    case BO_ATK_NOREAD: {
        if (!ws_upgrade(c->ssl))
            return false;
        char js[200];
        snprintf(js, sizeof(js), "{\"t\":\"join\",\"id\":2,\"oid\":\"%s\"}", a->plan.oid);
        c->next_id = 3;
        c->next_at = bo_clock_mono_ms() + REJOIN_MS;
        return ws_send_json(c->ssl, "{\"t\":\"auth\",\"id\":1,\"role\":\"observer\"}") &&
               ws_send_json(c->ssl, js);
    }
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- watching ---- */

static void mark_cut(bo_attack *a, atk_conn *c, int64_t now)
{
    if (c->dead)
        return;
    c->dead = true;
    bo_atk_stats *s = &a->st[c->kind];
    int64_t took = now - c->up_at;
    pthread_mutex_lock(&a->mu);
    if (!s->cut || took < s->cut_min_ms)
        s->cut_min_ms = took;
    if (took > s->cut_max_ms)
        s->cut_max_ms = took;
    s->cut++;
    s->open--;
    s->last_cut_at_ms = now - a->t0;
    pthread_mutex_unlock(&a->mu);
    if (c->ssl) {
        SSL_free(c->ssl); /* no shutdown alert: the connection is gone */
        c->ssl = NULL;
    }
    close(c->fd);
    c->fd = -1;
}

/* Drain what came (raw TLS records, never decrypted: unauth and oversize only read to keep
 * the server's writes flowing). Returns false when the connection ended. */
static bool drain(int fd)
{
    char buf[16384];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return true;
        return false;
    }
}

static void tick(bo_attack *a, atk_conn *c, int64_t now)
{
    if (c->kind == BO_ATK_SLOWLORIS && now >= c->next_at) {
        c->next_at = now + TRICKLE_MS;
        size_t i = c->trickled % (sizeof(SLOW) - 1);
        if (!ssl_write_all(c->ssl, SLOW + i, 1))
            mark_cut(a, c, now);
        c->trickled++;
    } else if (c->kind == BO_ATK_NOREAD && now >= c->next_at) {
        c->next_at = now + REJOIN_MS;
        char js[200];
        snprintf(js, sizeof(js), "{\"t\":\"join\",\"id\":%llu,\"oid\":\"%s\"}",
                 (unsigned long long)c->next_id++, a->plan.oid);
        if (!ws_send_json(c->ssl, js))
            mark_cut(a, c, now);
    }
}

/* Set up connection k (the order interleaves the kinds). */
static void set_up_next(bo_attack *a, size_t k)
{
    /* the k-th connection: round i, kind t, skipping kinds with fewer than i + 1 */
    size_t seen = 0;
    for (unsigned i = 0;; i++)
        for (int t = 0; t < BO_ATK_KINDS; t++) {
            if (i >= a->plan.n[t])
                continue;
            if (seen++ < k)
                continue;
            atk_conn *c = &a->c[k];
            c->kind = (bo_atk_kind)t;
            c->fd = -1;
            bool ok = set_up(a, c);
            pthread_mutex_lock(&a->mu);
            if (ok) {
                c->up = true;
                c->up_at = bo_clock_mono_ms();
                a->st[t].set_up++;
                a->st[t].open++;
            } else {
                c->dead = true;
                a->st[t].failed++;
            }
            pthread_mutex_unlock(&a->mu);
            if (!ok) {
                if (c->ssl)
                    SSL_free(c->ssl);
                c->ssl = NULL;
                if (c->fd >= 0)
                    close(c->fd);
                c->fd = -1;
            } else if (c->fd >= 0) {
                set_nonblock_timeouts(c->fd);
            }
            return;
        }
}

static void *run(void *arg)
{
    bo_attack *a = arg;
    a->t0 = bo_clock_mono_ms();
    struct pollfd *pf = calloc(a->n ? a->n : 1, sizeof(*pf));
    size_t *idx = calloc(a->n ? a->n : 1, sizeof(*idx));
    size_t k = 0; /* connections set up so far */
    while (!a->stop && pf && idx) {
        /* set up the next few, then watch everything set up so far (so that a cut during
         * the set-up is seen when it happens) */
        for (int j = 0; j < 4 && k < a->n && !a->stop; j++)
            set_up_next(a, k++);
        if (k == a->n && !a->ready) {
            pthread_mutex_lock(&a->mu);
            a->ready = true;
            a->setup_ms = bo_clock_mono_ms() - a->t0;
            pthread_mutex_unlock(&a->mu);
        }
        size_t np = 0;
        int64_t now = bo_clock_mono_ms();
        for (size_t i = 0; i < k; i++) {
            atk_conn *c = &a->c[i];
            if (c->dead)
                continue;
            tick(a, c, now);
            if (c->dead)
                continue;
            bool reads = c->kind == BO_ATK_UNAUTH || c->kind == BO_ATK_OVERSIZE;
            pf[np].fd = c->fd;
            pf[np].events = (short)(POLLRDHUP | (reads ? POLLIN : 0));
            pf[np].revents = 0;
            idx[np++] = i;
        }
        int r = poll(pf, np, k < a->n ? 0 : 50);
        if (r <= 0)
            continue;
        now = bo_clock_mono_ms();
        for (size_t j = 0; j < np; j++) {
            atk_conn *c = &a->c[idx[j]];
            short ev = pf[j].revents;
            if (!ev)
                continue;
            if (ev & (POLLRDHUP | POLLHUP | POLLERR)) {
                mark_cut(a, c, now);
            } else if ((ev & POLLIN) && !drain(c->fd)) {
                mark_cut(a, c, now);
            }
        }
    }
    free(pf);
    free(idx);
    return NULL;
}

/* ---------------------------------------------------------------- API ---- */

bo_attack *bo_attack_start(const bo_attack_plan *plan)
{
    bo_attack *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->plan = *plan;
    for (int t = 0; t < BO_ATK_KINDS; t++) {
        a->n += plan->n[t];
        a->st[t].planned = plan->n[t];
    }
    a->c = calloc(a->n ? a->n : 1, sizeof(*a->c));
    a->tls = SSL_CTX_new(TLS_client_method());
    if (!a->c || !a->tls) {
        fprintf(stderr, "attack: out of memory\n");
        abort();
    }
    SSL_CTX_set_verify(a->tls, SSL_VERIFY_NONE, NULL); /* attackers do not care who it is */
    SSL_CTX_set_alpn_protos(a->tls, (const unsigned char *)"\x08http/1.1", 9);
    pthread_mutex_init(&a->mu, NULL);
    if (pthread_create(&a->th, NULL, run, a)) {
        fprintf(stderr, "attack: cannot start the thread\n");
        abort();
    }
    return a;
}

bool bo_attack_ready(bo_attack *a)
{
    pthread_mutex_lock(&a->mu);
    bool r = a->ready;
    pthread_mutex_unlock(&a->mu);
    return r;
}

int64_t bo_attack_setup_ms(bo_attack *a)
{
    pthread_mutex_lock(&a->mu);
    int64_t r = a->setup_ms;
    pthread_mutex_unlock(&a->mu);
    return r;
}

void bo_attack_stats_get(bo_attack *a, bo_atk_stats out[BO_ATK_KINDS])
{
    pthread_mutex_lock(&a->mu);
    memcpy(out, a->st, sizeof(a->st));
    pthread_mutex_unlock(&a->mu);
}

unsigned bo_attack_open(bo_attack *a)
{
    unsigned n = 0;
    pthread_mutex_lock(&a->mu);
    for (int t = 0; t < BO_ATK_KINDS; t++)
        n += a->st[t].open;
    pthread_mutex_unlock(&a->mu);
    return n;
}

void bo_attack_stop(bo_attack *a)
{
    if (!a)
        return;
    a->stop = true;
    pthread_join(a->th, NULL);
    for (size_t i = 0; i < a->n; i++) {
        if (!a->c[i].up || a->c[i].dead)
            continue; /* never set up (fd not set), or closed already */
        if (a->c[i].ssl)
            SSL_free(a->c[i].ssl);
        if (a->c[i].fd >= 0)
            close(a->c[i].fd);
    }
    SSL_CTX_free(a->tls);
    pthread_mutex_destroy(&a->mu);
    free(a->c);
    free(a);
}
