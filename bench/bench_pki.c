/* bo-bench: the benchmark PKI (many bidders, three CA hierarchies), cached on disk. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/pki.h"
#include "bo/uscc.h"

#define PKI_VERSION 1
#define DAY (24LL * 3600 * 1000)
#define MAX_AGE_DAYS 20 /* the CRLs run 60 days, the leaves a year */
#define THREADS 2

static const bo_keyalg algs[3] = {BO_KEY_RSA, BO_KEY_EC_P256, BO_KEY_SM2};
static const char *alg_names[3] = {"rsa", "p256", "sm2"};

static int write_file(const char *path, const void *p, size_t n, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return close(fd);
}

static int write_buf(const char *path, const bo_buf *b, int mode)
{
    return write_file(path, b->data ? (const void *)b->data : "", b->len, mode);
}

static int put_ca(const char *pki, bo_pki_ca *ca, const char *name, bo_time_ms now)
{
    char path[700];
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    int r = -1;
    if (!bo_pki_ca_cert_pem(ca, &b)) {
        snprintf(path, sizeof(path), "%s/trust/%s.pem", pki, name);
        r = write_buf(path, &b, 0644);
    }
    bo_buf_reset(&b);
    if (!r && !bo_pki_crl(ca, now - 3600 * 1000, now + 60 * DAY, &b)) {
        snprintf(path, sizeof(path), "%s/trust/%s.crl", pki, name);
        r = write_buf(path, &b, 0644);
    } else
        r = -1;
    bo_buf_cleanup(&b);
    return r;
}

typedef struct gen_job {
    const char *pki;
    unsigned n, thread;
    bo_pki_ca *ints[3];
    bo_time_ms now;
    int rc;
} gen_job;

static void uscc_of(unsigned i, char out[19])
{
    char first17[32];
    snprintf(first17, sizeof(first17), "91350100MB%07u", i);
    bo_uscc_complete(first17, out);
}

static void *gen_thread(void *arg)
{
    gen_job *j = arg;
    bo_buf key, cert;
    bo_buf_init(&key, 1 << 16);
    bo_buf_init(&cert, 1 << 20);
    for (unsigned i = j->thread; i < j->n && !j->rc; i += THREADS) {
        unsigned a = i % 3;
        char uscc[19], org[128], cn[64], dir[700], path[760];
        uscc_of(i, uscc);
        snprintf(org, sizeof(org), "\xe5\x9f\xba\xe5\x87\x86\xe6\xb5\x8b\xe8\xaf\x95\xe5\x85\xac"
                                   "\xe5\x8f\xb8 %05u", i); /* 基准测试公司 NNNNN */
        snprintf(cn, sizeof(cn), "Bidder %u", i);
        snprintf(dir, sizeof(dir), "%s/bench-bidders/%u", j->pki, i);
        mkdir(dir, 0700);
        bo_pki_leaf_opts o = {.alg = algs[a],
                              .subj = {.c = "CN", .o = org, .cn = cn},
                              .uscc = uscc,
                              .usage = BO_PKI_SIGN,
                              .not_before = j->now - 30 * DAY,
                              .not_after = j->now + 365 * DAY};
        const char *what[2] = {"sign", "enc"};
        for (int k = 0; k < 2 && !j->rc; k++) {
            if (k == 1) {
                o.alg = BO_KEY_EC_P256;
                o.usage = BO_PKI_ENC;
            }
            bo_buf_reset(&key);
            bo_buf_reset(&cert);
            if (bo_pki_issue(j->ints[a], &o, &key, &cert, NULL)) {
                j->rc = -1;
                break;
            }
            snprintf(path, sizeof(path), "%s/%s-cert.pem", dir, what[k]);
            if (write_buf(path, &cert, 0644))
                j->rc = -1;
            snprintf(path, sizeof(path), "%s/%s-key.pem", dir, what[k]);
            if (write_buf(path, &key, 0600))
                j->rc = -1;
        }
    }
    bo_buf_cleanup_wipe(&key);
    bo_buf_cleanup(&cert);
    return NULL;
}

unsigned bn_pki_count(const char *dir)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/bench-meta", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int version = 0;
    long long created = 0;
    unsigned n = 0;
    if (fscanf(f, "version %d created %lld bidders %u", &version, &created, &n) != 3)
        n = 0;
    fclose(f);
    if (version != PKI_VERSION || bo_clock_now_ms() - created > MAX_AGE_DAYS * DAY ||
        bo_clock_now_ms() < created)
        return 0;
    return n;
}

int bn_pki_ensure(const char *dir, unsigned n, bool force)
{
    if (!force && bn_pki_count(dir) >= n)
        return 0;
    fprintf(stderr, "bo-bench: writing the benchmark PKI (%u bidders) into %s\n", n, dir);
    int64_t t0 = bn_mono_ns();
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (strchr(dir, '\'') || system(cmd) != 0)
        return -1;
    mkdir(dir, 0700);
    bo_time_ms now = bo_clock_now_ms();
    char detail[256] = "", path[700];
    if (bo_pki_write_demo(dir, now, detail, sizeof(detail))) {
        fprintf(stderr, "bo-bench: demo PKI: %s\n", detail);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/bench-bidders", dir);
    mkdir(path, 0700);
    /* three hierarchies, one issuing CA per generating thread (a CA serves one thread) */
    bo_pki_ca *roots[3] = {0}, *ints[3][THREADS] = {{0}};
    bo_err e = BO_E_OK;
    static const char *rnames[3] = {"Bench RSA Root CA", "Bench P-256 Root CA", "Bench SM2 Root CA"};
    for (int a = 0; a < 3 && !e; a++) {
        bo_pki_name rn = {.c = "CN", .o = "bidopen bench", .cn = rnames[a]};
        roots[a] = bo_pki_ca_root(&rn, algs[a], now - 365 * DAY, now + 3650 * DAY, &e);
        for (int t = 0; t < THREADS && !e; t++) {
            char cn[96];
            snprintf(cn, sizeof(cn), "Bench %s Issuing CA %d", alg_names[a], t + 1);
            bo_pki_name in = {.c = "CN", .o = "bidopen bench", .cn = cn};
            ints[a][t] = bo_pki_ca_intermediate(roots[a], &in, algs[a], now - 365 * DAY,
                                                now + 3650 * DAY, &e);
        }
    }
    int rc = e ? -1 : 0;
    gen_job jobs[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS && !rc; t++) {
        jobs[t] = (gen_job){.pki = dir, .n = n, .thread = (unsigned)t, .now = now};
        for (int a = 0; a < 3; a++)
            jobs[t].ints[a] = ints[a][t];
        pthread_create(&th[t], NULL, gen_thread, &jobs[t]);
    }
    for (int t = 0; t < THREADS && !rc; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].rc)
            rc = -1;
    }
    for (int a = 0; a < 3 && !rc; a++) {
        char name[64];
        snprintf(name, sizeof(name), "bench-%s-root", alg_names[a]);
        rc = put_ca(dir, roots[a], name, now);
        for (int t = 0; t < THREADS && !rc; t++) {
            snprintf(name, sizeof(name), "bench-%s-int%d", alg_names[a], t + 1);
            rc = put_ca(dir, ints[a][t], name, now);
        }
    }
    for (int a = 0; a < 3; a++) {
        bo_pki_ca_free(roots[a]);
        for (int t = 0; t < THREADS; t++)
            bo_pki_ca_free(ints[a][t]);
    }
    if (rc) {
        fprintf(stderr, "bo-bench: writing the benchmark PKI failed\n");
        return -1;
    }
    /* the index, then the meta file last: a PKI without it is incomplete */
    snprintf(path, sizeof(path), "%s/bench-bidders/index.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        char uscc[19];
        uscc_of(i, uscc);
        fprintf(f, "%u\t%s\t%s\n", i, uscc, alg_names[i % 3]);
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/bench-meta", dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "version %d created %lld bidders %u\n", PKI_VERSION, (long long)now, n);
    fclose(f);
    fprintf(stderr, "bo-bench: PKI written in %.1f s\n", (double)(bn_mono_ns() - t0) / 1e9);
    return 0;
}

bool bn_bidder_load(const char *pki, unsigned idx, bool with_enc_key, bn_bidder_cred *out)
{
    memset(out, 0, sizeof(*out));
    out->idx = idx;
    uscc_of(idx, out->uscc);
    snprintf(out->alg, sizeof(out->alg), "%s", alg_names[idx % 3]);
    char p[700];
    bo_err e;
    snprintf(p, sizeof(p), "%s/bench-bidders/%u/sign-key.pem", pki, idx);
    out->key = bo_key_load(p, NULL, &e, NULL, 0);
    snprintf(p, sizeof(p), "%s/bench-bidders/%u/sign-cert.pem", pki, idx);
    bool ok = out->key && !bo_pem_chain_load(p, &out->chain);
    snprintf(p, sizeof(p), "%s/bench-bidders/%u/enc-cert.pem", pki, idx);
    ok = ok && !bo_pem_chain_load(p, &out->enc_chain);
    if (ok && with_enc_key) {
        snprintf(p, sizeof(p), "%s/bench-bidders/%u/enc-key.pem", pki, idx);
        out->enc_key = bo_key_load(p, NULL, &e, NULL, 0);
        ok = out->enc_key != NULL;
    }
    if (!ok)
        bn_bidder_free(out);
    return ok;
}

void bn_bidder_free(bn_bidder_cred *b)
{
    bo_key_free(b->key);
    bo_key_free(b->enc_key);
    bo_blob_list_cleanup(&b->chain);
    bo_blob_list_cleanup(&b->enc_chain);
    b->key = b->enc_key = NULL;
}

bool bn_staff_load(const char *pki, const char *who, bn_staff *out)
{
    memset(out, 0, sizeof(*out));
    char p[700];
    bo_err e;
    snprintf(p, sizeof(p), "%s/staff/%s-key.pem", pki, who);
    out->key = bo_key_load(p, NULL, &e, NULL, 0);
    snprintf(p, sizeof(p), "%s/staff/%s-cert.pem", pki, who);
    if (!out->key || bo_pem_chain_load(p, &out->chain)) {
        bn_staff_free(out);
        return false;
    }
    return true;
}

void bn_staff_free(bn_staff *s)
{
    bo_key_free(s->key);
    bo_blob_list_cleanup(&s->chain);
    s->key = NULL;
}

int bn_cmd_pki(int argc, char **argv)
{
    const char *dir = bn_arg(argc, argv, "--dir", NULL);
    long long n = bn_arg_ll(argc, argv, "--bidders", 100);
    if (!dir || n < 1 || n > 100000)
        BN_DIE("usage: bo-bench pki --dir DIR --bidders N [--force]");
    return bn_pki_ensure(dir, (unsigned)n, bn_flag(argc, argv, "--force")) ? 1 : 0;
}
