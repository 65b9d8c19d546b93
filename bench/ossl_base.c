/* bo-bench-ossl: the baselines of bidopen's benchmarks, written on plain OpenSSL 3.0 (and
 * POSIX sockets) with nothing of bidopen's: what the same work costs without a server
 * around it. (bench/ is the one place outside crypto/ that includes OpenSSL: a baseline
 * built on bidopen's own wrappers would not be one.)
 *
 *   signin         the chain verifications (X509_verify_cert with CRL checks, the same
 *                  policy as bidopen's trust store), the signatures (made and checked, as the
 *                  bidders and the server do) and TLS 1.3 handshakes over loopback, for the
 *                  bench PKI's first N bidders, on T threads.
 *   fanout-server  accepts N TLS connections; on "round <id>" writes one WebSocket-framed
 *                  message of F bytes to each (the physical floor of a broadcast); with
 *                  --idle it only holds them and reports its RSS (the memory baseline).
 *   fanout-recv    opens n TLS connections to a fanout-server and stamps each frame.
 *   decrypt        AES-256-GCM (EVP) over the bytes of the given files, read in 64 KiB
 *                  pieces and written to an output file, on T threads.
 *
 * Lines on stdout report progress and results; the drivers in bo-bench read them. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SM2_ID "1234567812345678"

static int64_t clk(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#define NOW_MONO() clk(CLOCK_MONOTONIC)
#define NOW_REAL() clk(CLOCK_REALTIME)
#define NOW_THREAD() clk(CLOCK_THREAD_CPUTIME_ID)
#define NOW_PROC() clk(CLOCK_PROCESS_CPUTIME_ID)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void die(const char *what)
{
    fprintf(stderr, "bo-bench-ossl: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

static long long arg_ll(int argc, char **argv, const char *name, long long def)
{
    const char *v = arg(argc, argv, name, NULL);
    return v ? strtoll(v, NULL, 10) : def;
}

static bool flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            v = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static long tcp_mem_kb(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f)) {
        char *p = strstr(line, "TCP:");
        if (p && (p = strstr(p, " mem ")))
            v = strtol(p + 5, NULL, 10) * (sysconf(_SC_PAGESIZE) / 1024);
    }
    if (f)
        fclose(f);
    return v;
}

static void raise_nofile(void)
{
    struct rlimit r;
    if (!getrlimit(RLIMIT_NOFILE, &r)) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* ====================================================================== signin ==== */

/* SM2-signed certificates are verified with the GM/T 0009 ID, like bidopen does. */
static void fix_sm2(X509 *x)
{
    if (X509_get_signature_nid(x) != NID_SM2_with_SM3)
        return;
    ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
    if (id && ASN1_OCTET_STRING_set(id, (const unsigned char *)SM2_ID, 16))
        X509_set0_distinguishing_id(x, id);
    else
        ASN1_OCTET_STRING_free(id);
}

typedef struct trust {
    X509_STORE *store;
    STACK_OF(X509) *pool;
} trust;

static void trust_load(trust *t, const char *dir)
{
    t->store = X509_STORE_new();
    t->pool = sk_X509_new_null();
    DIR *d = opendir(dir);
    if (!d)
        die("trust directory");
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[1024];
        snprintf(p, sizeof(p), "%.700s/%.255s", dir, e->d_name);
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".crl")) {
            FILE *f = fopen(p, "r");
            X509_CRL *c = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
            if (f)
                fclose(f);
            if (c) {
                X509_STORE_add_crl(t->store, c);
                X509_CRL_free(c);
            }
        } else if (l > 4 && !strcmp(e->d_name + l - 4, ".pem")) {
            FILE *f = fopen(p, "r");
            X509 *x;
            while (f && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
                fix_sm2(x);
                if (X509_check_issued(x, x) == X509_V_OK)
                    X509_STORE_add_cert(t->store, x);
                else if (X509_check_ca(x) && X509_up_ref(x))
                    sk_X509_push(t->pool, x); /* not X509_dup: it drops the SM2 ID */
                X509_free(x);
            }
            if (f)
                fclose(f);
        }
    }
    closedir(d);
    ERR_clear_error();
}

/* bidopen's CRL policy: the leaf's issuer must have a current CRL; CAs higher up are
 * checked where a CRL exists; SM2 CRLs were verified with the GM ID when loaded. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
    if (ok)
        return 1;
    int err = X509_STORE_CTX_get_error(ctx);
    if (err == X509_V_ERR_UNABLE_TO_GET_CRL)
        return X509_STORE_CTX_get_error_depth(ctx) > 0;
    if (err == X509_V_ERR_CRL_SIGNATURE_FAILURE) {
        X509_CRL *c = X509_STORE_CTX_get0_current_crl(ctx);
        return c && X509_CRL_get_signature_nid(c) == NID_SM2_with_SM3;
    }
    return 0;
}

typedef struct der {
    unsigned char *p;
    int len;
} der;

typedef struct bidder {
    EVP_PKEY *key;
    der sign[4], enc[4];
    int n_sign, n_enc;
} bidder;

static int load_chain(const char *path, der *out)
{
    FILE *f = fopen(path, "r");
    X509 *x;
    int n = 0;
    while (f && n < 4 && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
        out[n].p = NULL;
        out[n].len = i2d_X509(x, &out[n].p);
        n++;
        X509_free(x);
    }
    if (f)
        fclose(f);
    ERR_clear_error();
    return n;
}

static bool is_sm2(const EVP_PKEY *pk)
{
    if (EVP_PKEY_is_a(pk, "SM2"))
        return true;
    char g[64];
    size_t gl = 0;
    if (EVP_PKEY_is_a(pk, "EC") &&
        EVP_PKEY_get_utf8_string_param(pk, "group", g, sizeof(g), &gl) && !strcmp(g, "SM2"))
        return true;
    ERR_clear_error();
    return false;
}

static bool init_pctx(EVP_PKEY_CTX *pctx, EVP_PKEY *pk)
{
    if (EVP_PKEY_is_a(pk, "RSA"))
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    if (is_sm2(pk))
        return EVP_PKEY_CTX_set1_id(pctx, SM2_ID, 16) > 0;
    return true;
}

/* "bidopen/sig/v1" 0x00 ctx 0x00 payload, as bidopen signs */
static size_t tbs(unsigned char *out, const char *ctx, const unsigned char *payload, size_t n)
{
    size_t k = 0;
    memcpy(out, "bidopen/sig/v1", 14);
    k = 14;
    out[k++] = 0;
    memcpy(out + k, ctx, strlen(ctx));
    k += strlen(ctx);
    out[k++] = 0;
    memcpy(out + k, payload, n);
    return k + n;
}

static size_t sign(EVP_PKEY *pk, const unsigned char *m, size_t n, unsigned char *sig)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t sl = 1024;
    if (EVP_DigestSignInit_ex(md, &pctx, is_sm2(pk) ? "SM3" : "SHA256", NULL, NULL, pk, NULL) <= 0 ||
        !init_pctx(pctx, pk) || EVP_DigestSign(md, sig, &sl, m, n) <= 0)
        die("sign");
    EVP_MD_CTX_free(md);
    return sl;
}

static bool verify(EVP_PKEY *pk, const unsigned char *m, size_t n, const unsigned char *sig,
                   size_t sl)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = EVP_DigestVerifyInit_ex(md, &pctx, is_sm2(pk) ? "SM3" : "SHA256", NULL, NULL, pk,
                                      NULL) > 0 &&
              init_pctx(pctx, pk) && EVP_DigestVerify(md, sig, sl, m, n) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static bool verify_chain(const trust *t, const der *c, int n, X509 **leaf_out)
{
    X509 *x[4] = {0};
    for (int i = 0; i < n; i++) {
        const unsigned char *p = c[i].p;
        x[i] = d2i_X509(NULL, &p, c[i].len);
        if (!x[i])
            return false;
        fix_sm2(x[i]);
    }
    STACK_OF(X509) *untrusted = sk_X509_dup(t->pool);
    for (int i = 1; i < n; i++)
        sk_X509_push(untrusted, x[i]);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, t->store, x[0], untrusted);
    X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    X509_VERIFY_PARAM_set_depth(p, 5);
    X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
    bool ok = X509_verify_cert(ctx) == 1;
    if (!ok)
        fprintf(stderr, "bo-bench-ossl: chain refused: %s\n",
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    for (int i = 1; i < n; i++)
        X509_free(x[i]);
    *leaf_out = x[0];
    ERR_clear_error();
    return ok;
}

typedef struct crypto_job {
    const trust *t;
    bidder *b;
    int from, to, step;
    int64_t cpu_client, cpu_server, wall;
    int failures;
} crypto_job;

static void *crypto_thread(void *arg)
{
    crypto_job *j = arg;
    int64_t w0 = NOW_MONO();
    unsigned char payload[160], m[256], sig[3][1024];
    size_t sl[3];
    static const char *ctxs[3] = {"auth", "register", "signin"};
    for (int i = j->from; i < j->to; i += j->step) {
        bidder *b = &j->b[i];
        /* the bidder's side: three signatures (auth, register, sign-in) */
        int64_t c0 = NOW_THREAD();
        size_t ml[3];
        unsigned char msgs[3][256];
        for (int k = 0; k < 3; k++) {
            RAND_bytes(payload, 32);
            memset(payload + 32, 'x', 64);
            ml[k] = tbs(msgs[k], ctxs[k], payload, 32 + 24 * (size_t)(k + 1));
            sl[k] = sign(b->key, msgs[k], ml[k], sig[k]);
        }
        int64_t c1 = NOW_THREAD();
        /* the server's side: both chains and the three signatures */
        X509 *leaf = NULL, *eleaf = NULL;
        bool ok = verify_chain(j->t, b->sign, b->n_sign, &leaf);
        ok = verify_chain(j->t, b->enc, b->n_enc, &eleaf) && ok;
        for (int k = 0; ok && k < 3; k++)
            ok = verify(X509_get0_pubkey(leaf), msgs[k], ml[k], sig[k], sl[k]);
        X509_free(leaf);
        X509_free(eleaf);
        int64_t c2 = NOW_THREAD();
        j->cpu_client += c1 - c0;
        j->cpu_server += c2 - c1;
        if (!ok)
            j->failures++;
    }
    (void)m;
    j->wall = NOW_MONO() - w0;
    return NULL;
}

/* TLS handshakes: a server thread accepts, a client thread connects, N times. */
typedef struct tls_job {
    SSL_CTX *sctx, *cctx;
    int lfd, port, n;
    int64_t cpu, wall;
    int failures;
} tls_job;

static void *tls_server_thread(void *arg)
{
    tls_job *j = arg;
    int64_t w0 = NOW_MONO(), c0 = NOW_THREAD();
    for (int i = 0; i < j->n; i++) {
        int fd = accept(j->lfd, NULL, NULL);
        if (fd < 0) {
            j->failures++;
            continue;
        }
        SSL *s = SSL_new(j->sctx);
        SSL_set_fd(s, fd);
        if (SSL_accept(s) != 1)
            j->failures++;
        /* one small exchange, as a WebSocket upgrade would have */
        char buf[256];
        if (SSL_read(s, buf, sizeof(buf)) <= 0 || SSL_write(s, "ok", 2) != 2)
            j->failures++;
        SSL_shutdown(s);
        SSL_free(s);
        close(fd);
    }
    j->cpu = NOW_THREAD() - c0;
    j->wall = NOW_MONO() - w0;
    return NULL;
}

static void *tls_client_thread(void *arg)
{
    tls_job *j = arg;
    int64_t w0 = NOW_MONO(), c0 = NOW_THREAD();
    for (int i = 0; i < j->n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)j->port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
            j->failures++;
            close(fd);
            continue;
        }
        SSL *s = SSL_new(j->cctx);
        SSL_set_fd(s, fd);
        SSL_set1_host(s, "127.0.0.1");
        char buf[16];
        if (SSL_connect(s) != 1 || SSL_write(s, "GET /ws HTTP/1.1\r\n\r\n", 20) != 20 ||
            SSL_read(s, buf, sizeof(buf)) <= 0)
            j->failures++;
        SSL_shutdown(s);
        SSL_free(s);
        close(fd);
    }
    j->cpu = NOW_THREAD() - c0;
    j->wall = NOW_MONO() - w0;
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096))
        die("listen");
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return fd;
}

static SSL_CTX *server_ctx(const char *pki, bool release)
{
    char cert[1024], key[1024];
    snprintf(cert, sizeof(cert), "%s/server/tls-cert.pem", pki);
    snprintf(key, sizeof(key), "%s/server/tls-key.pem", pki);
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1)
        die("server certificate");
    if (release)
        SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    return c;
}

static SSL_CTX *client_ctx(const char *pki)
{
    char ca[1024];
    snprintf(ca, sizeof(ca), "%s/server/ca.pem", pki);
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(c, ca, NULL) != 1)
        die("CA file");
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    return c;
}

static int cmd_signin(int argc, char **argv)
{
    const char *pki = arg(argc, argv, "--pki", NULL);
    int n = (int)arg_ll(argc, argv, "--n", 100);
    int threads = (int)arg_ll(argc, argv, "--threads", 2);
    if (!pki || n < 1 || threads < 1 || threads > 64)
        die("usage: bo-bench-ossl signin --pki DIR --n N [--threads T]");
    char p[1024];
    trust t;
    snprintf(p, sizeof(p), "%s/trust", pki);
    trust_load(&t, p);
    bidder *b = calloc((size_t)n, sizeof(*b));
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "%s/bench-bidders/%d/sign-key.pem", pki, i);
        FILE *f = fopen(p, "r");
        b[i].key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        if (!b[i].key)
            die("bidder key");
        snprintf(p, sizeof(p), "%s/bench-bidders/%d/sign-cert.pem", pki, i);
        b[i].n_sign = load_chain(p, b[i].sign);
        snprintf(p, sizeof(p), "%s/bench-bidders/%d/enc-cert.pem", pki, i);
        b[i].n_enc = load_chain(p, b[i].enc);
        if (!b[i].n_sign || !b[i].n_enc)
            die("bidder chain");
    }
    say("ready");
    /* phase 1: the signatures and chains, on `threads` threads */
    pthread_t th[64];
    crypto_job cj[64];
    int64_t w0 = NOW_MONO(), p0 = NOW_PROC();
    for (int k = 0; k < threads; k++) {
        cj[k] = (crypto_job){.t = &t, .b = b, .from = k, .to = n, .step = threads};
        pthread_create(&th[k], NULL, crypto_thread, &cj[k]);
    }
    int64_t cpu_client = 0, cpu_server = 0;
    int fails = 0;
    for (int k = 0; k < threads; k++) {
        pthread_join(th[k], NULL);
        cpu_client += cj[k].cpu_client;
        cpu_server += cj[k].cpu_server;
        fails += cj[k].failures;
    }
    int64_t wall_crypto = NOW_MONO() - w0;
    /* phase 2: N TLS handshakes, one server thread and one client thread per pair */
    int pairs = threads > 1 ? threads / 2 : 1;
    tls_job tj[32];
    pthread_t ts[32], tc[32];
    int64_t w1 = NOW_MONO();
    SSL_CTX *sctx = server_ctx(pki, false), *cctx = client_ctx(pki);
    for (int k = 0; k < pairs; k++) {
        tj[k] = (tls_job){.sctx = sctx, .cctx = cctx, .n = n / pairs + (k < n % pairs)};
        tj[k].lfd = listen_any(&tj[k].port);
    }
    tls_job tjc[32];
    for (int k = 0; k < pairs; k++) {
        tjc[k] = tj[k];
        pthread_create(&ts[k], NULL, tls_server_thread, &tj[k]);
        pthread_create(&tc[k], NULL, tls_client_thread, &tjc[k]);
    }
    int64_t cpu_tls_server = 0, cpu_tls_client = 0;
    for (int k = 0; k < pairs; k++) {
        pthread_join(ts[k], NULL);
        pthread_join(tc[k], NULL);
        cpu_tls_server += tj[k].cpu;
        cpu_tls_client += tjc[k].cpu;
        fails += tj[k].failures + tjc[k].failures;
        close(tj[k].lfd);
    }
    int64_t wall_tls = NOW_MONO() - w1;
    int64_t proc_cpu = NOW_PROC() - p0;
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    double wall = (double)(wall_crypto + wall_tls) / 1e9;
    say("result n=%d threads=%d wall_s=%.4f wall_crypto_s=%.4f wall_tls_s=%.4f "
        "cpu_server_crypto_s=%.4f cpu_client_crypto_s=%.4f cpu_server_tls_s=%.4f "
        "cpu_client_tls_s=%.4f cpu_total_s=%.4f rate=%.1f failures=%d",
        n, threads, wall, (double)wall_crypto / 1e9, (double)wall_tls / 1e9,
        (double)cpu_server / 1e9, (double)cpu_client / 1e9, (double)cpu_tls_server / 1e9,
        (double)cpu_tls_client / 1e9, (double)proc_cpu / 1e9, n / wall, fails);
    for (int i = 0; i < n; i++) {
        EVP_PKEY_free(b[i].key);
        for (int k = 0; k < b[i].n_sign; k++)
            OPENSSL_free(b[i].sign[k].p);
        for (int k = 0; k < b[i].n_enc; k++)
            OPENSSL_free(b[i].enc[k].p);
    }
    free(b);
    X509_STORE_free(t.store);
    sk_X509_pop_free(t.pool, X509_free);
    return fails ? 2 : 0;
}

/* =============================================================== fan-out floor ==== */

typedef struct fconn {
    int fd;
    SSL *ssl;
    int state; /* 0 handshaking, 1 ready, 2 dead */
    uint32_t rx_have;
    unsigned char rx[64];
    /* receiver side */
    uint32_t n_got;
    uint32_t got_id[256];
    int64_t got_t[256];
} fconn;

static void nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static char *line_in(void)
{
    static char buf[256];
    if (!fgets(buf, sizeof(buf), stdin))
        return NULL;
    return buf;
}

/* a WebSocket server frame header (unmasked, binary) for a payload of len bytes */
static size_t ws_header(unsigned char *h, size_t len)
{
    h[0] = 0x82;
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    h[1] = 126;
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
    return 4;
}

static int cmd_fanout_server(int argc, char **argv)
{
    const char *pki = arg(argc, argv, "--pki", NULL);
    int n = (int)arg_ll(argc, argv, "--n", 100);
    size_t frame = (size_t)arg_ll(argc, argv, "--frame", 200);
    bool idle = flag(argc, argv, "--idle");
    bool release = flag(argc, argv, "--release-buffers");
    if (!pki || n < 1 || frame < 16 || frame > 60000)
        die("usage: bo-bench-ossl fanout-server --pki DIR --n N [--frame BYTES] [--idle "
            "[--release-buffers]]");
    raise_nofile();
    SSL_CTX *ctx = server_ctx(pki, release);
    int port;
    int lfd = listen_any(&port);
    nonblock(lfd);
    long rss0 = rss_kb(), tcp0 = tcp_mem_kb();
    say("port %d", port);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    fconn *c = calloc((size_t)n, sizeof(*c));
    int accepted = 0, ready = 0, dead = 0;
    struct epoll_event evs[256];
    int64_t deadline = NOW_MONO() + 600LL * 1000000000;
    while (ready + dead < n && NOW_MONO() < deadline) {
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < k; i++) {
            if (!evs[i].data.ptr) {
                int fd;
                while (accepted < n && (fd = accept(lfd, NULL, NULL)) >= 0) {
                    nonblock(fd);
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    fconn *f = &c[accepted++];
                    f->fd = fd;
                    f->ssl = SSL_new(ctx);
                    SSL_set_fd(f->ssl, fd);
                    SSL_set_accept_state(f->ssl);
                    struct epoll_event e2 = {.events = EPOLLIN, .data.ptr = f};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e2);
                }
                continue;
            }
            fconn *f = evs[i].data.ptr;
            if (f->state == 0) {
                int r = SSL_do_handshake(f->ssl);
                if (r == 1) {
                    f->state = 3; /* handshaken: wait for the client's hello */
                } else {
                    int e = SSL_get_error(f->ssl, r);
                    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                        f->state = 2;
                        dead++;
                        epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
                    }
                    continue;
                }
            }
            if (f->state == 3) {
                char buf[256];
                int r = SSL_read(f->ssl, buf, sizeof(buf));
                if (r > 0) {
                    /* answer, so that both directions were used once (as after auth) */
                    unsigned char out[80];
                    size_t h = ws_header(out, 64);
                    memset(out + h, 'h', 64);
                    SSL_write(f->ssl, out, (int)(h + 64));
                    f->state = 1;
                    ready++;
                    epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
                } else {
                    int e = SSL_get_error(f->ssl, r);
                    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                        f->state = 2;
                        dead++;
                        epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
                    }
                }
            }
        }
    }
    long rss1 = rss_kb(), tcp1 = tcp_mem_kb();
    say("ready %d %d rss0_kb=%ld rss1_kb=%ld tcp0_kb=%ld tcp1_kb=%ld", ready, dead, rss0, rss1,
        tcp0, tcp1);
    unsigned char *msg = malloc(frame + 4);
    size_t hl = ws_header(msg, frame);
    char *l;
    while ((l = line_in())) {
        unsigned id;
        if (!strncmp(l, "quit", 4))
            break;
        if (sscanf(l, "round %u", &id) != 1 || idle)
            continue;
        memset(msg + hl, 'f', frame);
        memcpy(msg + hl, &id, sizeof(id));
        int64_t t0 = NOW_REAL(), c0 = NOW_THREAD(), m0 = NOW_MONO();
        int sent = 0, again = 0;
        for (int i = 0; i < accepted; i++) {
            if (c[i].state != 1)
                continue;
            int r = SSL_write(c[i].ssl, msg, (int)(hl + frame));
            if (r == (int)(hl + frame))
                sent++;
            else
                again++; /* never with small frames and empty socket buffers */
        }
        int64_t cpu = NOW_THREAD() - c0, wall = NOW_MONO() - m0;
        say("sent %u %lld %lld %lld %d %d", id, (long long)t0, (long long)cpu, (long long)wall,
            sent, again);
    }
    for (int i = 0; i < accepted; i++) {
        SSL_free(c[i].ssl);
        close(c[i].fd);
    }
    free(c);
    free(msg);
    close(ep);
    close(lfd);
    SSL_CTX_free(ctx);
    return 0;
}

static int cmd_fanout_recv(int argc, char **argv)
{
    const char *pki = arg(argc, argv, "--pki", NULL);
    int port = (int)arg_ll(argc, argv, "--port", 0);
    int n = (int)arg_ll(argc, argv, "--n", 100);
    size_t frame = (size_t)arg_ll(argc, argv, "--frame", 200);
    const char *out = arg(argc, argv, "--out", NULL);
    if (!pki || !port || n < 1 || !out)
        die("usage: bo-bench-ossl fanout-recv --pki DIR --port P --n N --out FILE [--frame B]");
    raise_nofile();
    SSL_CTX *ctx = client_ctx(pki);
    int ep = epoll_create1(0);
    fconn *c = calloc((size_t)n, sizeof(*c));
    int ready = 0, dead = 0;
    /* connect in waves of 256 so the listen backlog is not overrun */
    int started = 0;
    struct epoll_event evs[256];
    int64_t deadline = NOW_MONO() + 600LL * 1000000000;
    while (ready + dead < n && NOW_MONO() < deadline) {
        while (started < n && started - ready - dead < 256) {
            fconn *f = &c[started++];
            f->fd = socket(AF_INET, SOCK_STREAM, 0);
            nonblock(f->fd);
            int one = 1;
            setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            connect(f->fd, (struct sockaddr *)&a, sizeof(a));
            f->ssl = SSL_new(ctx);
            SSL_set_fd(f->ssl, f->fd);
            SSL_set_connect_state(f->ssl);
            SSL_set1_host(f->ssl, "127.0.0.1");
            struct epoll_event e2 = {.events = EPOLLIN | EPOLLOUT, .data.ptr = f};
            epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &e2);
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < k; i++) {
            fconn *f = evs[i].data.ptr;
            if (f->state == 0) {
                int r = SSL_do_handshake(f->ssl);
                if (r == 1) {
                    SSL_write(f->ssl, "hello from the client: as an auth message would be", 51);
                    f->state = 3;
                    struct epoll_event e2 = {.events = EPOLLIN, .data.ptr = f};
                    epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &e2);
                } else {
                    int e = SSL_get_error(f->ssl, r);
                    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                        f->state = 2;
                        dead++;
                        epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
                    } else {
                        struct epoll_event e2 = {
                            .events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, .data.ptr = f};
                        epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &e2);
                    }
                }
                continue;
            }
            if (f->state == 3) {
                unsigned char buf[256];
                int r = SSL_read(f->ssl, buf, sizeof(buf));
                if (r > 0) {
                    f->state = 1;
                    ready++;
                } else {
                    int e = SSL_get_error(f->ssl, r);
                    if (e != SSL_ERROR_WANT_READ) {
                        f->state = 2;
                        dead++;
                        epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
                    }
                }
            }
        }
    }
    say("ready %d %d", ready, dead);
    /* receive: each round is one frame of frame + header bytes; stamp its first bytes */
    size_t want = frame + (frame < 126 ? 2 : 4);
    unsigned char *buf = malloc(want + 64);
    uint32_t counts[256] = {0}, ids[256] = {0};
    bool said[256] = {0};
    struct epoll_event sin = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sin);
    bool quit = false;
    while (!quit) {
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < k; i++) {
            fconn *f = evs[i].data.ptr;
            if (!f) {
                char cmd[64];
                ssize_t r = read(0, cmd, sizeof(cmd) - 1);
                if (r <= 0 || (cmd[r] = 0, strstr(cmd, "quit")))
                    quit = true;
                continue;
            }
            if (f->state != 1)
                continue;
            for (;;) {
                int r = SSL_read(f->ssl, buf, (int)want);
                if (r <= 0) {
                    int e = SSL_get_error(f->ssl, r);
                    if (e != SSL_ERROR_WANT_READ) {
                        f->state = 2;
                        dead++;
                        epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
                    }
                    break;
                }
                int64_t t = NOW_REAL();
                /* one TLS record per frame: the id follows the header */
                size_t hl = (buf[1] & 0x7f) == 126 ? 4 : 2;
                uint32_t id = 0;
                if ((size_t)r >= hl + 4)
                    memcpy(&id, buf + hl, 4);
                if (f->n_got < 256) {
                    f->got_id[f->n_got] = id;
                    f->got_t[f->n_got++] = t;
                }
                unsigned s = id % 256;
                if (ids[s] != id) {
                    ids[s] = id;
                    counts[s] = 0;
                    said[s] = false;
                }
                if (++counts[s] >= (uint32_t)(ready) && !said[s]) {
                    said[s] = true;
                    say("got %u", id);
                }
            }
        }
    }
    FILE *f = fopen(out, "w");
    for (int i = 0; f && i < n; i++)
        for (uint32_t k = 0; k < c[i].n_got; k++)
            fprintf(f, "%u %lld 0\n", c[i].got_id[k], (long long)c[i].got_t[k]);
    if (f)
        fclose(f);
    for (int i = 0; i < started; i++) {
        SSL_free(c[i].ssl);
        close(c[i].fd);
    }
    free(c);
    free(buf);
    close(ep);
    SSL_CTX_free(ctx);
    say("bye");
    return 0;
}

/* ===================================================================== decrypt ==== */

typedef struct dec_job {
    char **files;
    int n, from, step;
    const char *outdir;
    int64_t bytes, wall, cpu;
    int failures;
} dec_job;

static void *dec_thread(void *arg)
{
    dec_job *j = arg;
    int64_t w0 = NOW_MONO(), c0 = NOW_THREAD();
    unsigned char key[32], iv[12], tag[16];
    RAND_bytes(key, 32);
    RAND_bytes(iv, 12);
    size_t piece = 64 * 1024;
    unsigned char *in = malloc(piece), *outb = malloc(piece + 32);
    for (int i = j->from; i < j->n; i += j->step) {
        int fd = open(j->files[i], O_RDONLY);
        char op[1024];
        snprintf(op, sizeof(op), "%s/plain-%d.tmp", j->outdir, i);
        int ofd = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ofd < 0) {
            j->failures++;
            if (fd >= 0)
                close(fd);
            if (ofd >= 0)
                close(ofd);
            continue;
        }
        EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
        EVP_DecryptInit_ex2(cx, EVP_aes_256_gcm(), key, iv, NULL);
        ssize_t r;
        int ol;
        while ((r = read(fd, in, piece)) > 0) {
            EVP_DecryptUpdate(cx, outb, &ol, in, (int)r);
            if (write(ofd, outb, (size_t)ol) != ol)
                j->failures++;
            j->bytes += r;
        }
        /* the tag cannot match (random key): what matters is that it is computed */
        RAND_bytes(tag, 16);
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, 16, tag);
        EVP_DecryptFinal_ex(cx, outb, &ol);
        EVP_CIPHER_CTX_free(cx);
        fsync(ofd);
        close(ofd);
        close(fd);
        unlink(op);
    }
    free(in);
    free(outb);
    j->cpu = NOW_THREAD() - c0;
    j->wall = NOW_MONO() - w0;
    ERR_clear_error();
    return NULL;
}

static int cmd_decrypt(int argc, char **argv)
{
    int threads = (int)arg_ll(argc, argv, "--threads", 1);
    const char *outdir = arg(argc, argv, "--tmp", "/tmp");
    const char *list = arg(argc, argv, "--files", NULL);
    if (!list || threads < 1 || threads > 64)
        die("usage: bo-bench-ossl decrypt --files LISTFILE [--threads T] [--tmp DIR]");
    FILE *lf = fopen(list, "r");
    if (!lf)
        die("file list");
    char **files = NULL, line[2048];
    int n = 0;
    while (fgets(line, sizeof(line), lf)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line)
            continue;
        files = realloc(files, (size_t)(n + 1) * sizeof(*files));
        files[n++] = strdup(line);
    }
    fclose(lf);
    pthread_t th[64];
    dec_job j[64];
    int64_t w0 = NOW_MONO();
    for (int k = 0; k < threads; k++) {
        j[k] = (dec_job){.files = files, .n = n, .from = k, .step = threads, .outdir = outdir};
        pthread_create(&th[k], NULL, dec_thread, &j[k]);
    }
    int64_t bytes = 0, cpu = 0;
    int fails = 0;
    for (int k = 0; k < threads; k++) {
        pthread_join(th[k], NULL);
        bytes += j[k].bytes;
        cpu += j[k].cpu;
        fails += j[k].failures;
    }
    int64_t wall = NOW_MONO() - w0;
    say("result files=%d bytes=%lld wall_s=%.4f cpu_s=%.4f mb_s=%.1f failures=%d", n,
        (long long)bytes, (double)wall / 1e9, (double)cpu / 1e9,
        (double)bytes / 1048576.0 / ((double)wall / 1e9), fails);
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return fails ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bo-bench-ossl signin|fanout-server|fanout-recv|decrypt ...\n");
        return 1;
    }
    const char *cmd = argv[1];
    argv++;
    argc--;
    if (!strcmp(cmd, "signin"))
        return cmd_signin(argc, argv);
    if (!strcmp(cmd, "fanout-server"))
        return cmd_fanout_server(argc, argv);
    if (!strcmp(cmd, "fanout-recv"))
        return cmd_fanout_recv(argc, argv);
    if (!strcmp(cmd, "decrypt"))
        return cmd_decrypt(argc, argv);
    fprintf(stderr, "bo-bench-ossl: unknown command %s\n", cmd);
    return 1;
}
