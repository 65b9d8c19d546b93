/* Helpers shared by the sealed-bid tests (header-only; each test file is one executable):
 * throwaway parties (key + certificate from one bo_pki CA), temp dirs, files, commands. */
#ifndef BO_SEALED_TEST_UTIL_H
#define BO_SEALED_TEST_UTIL_H

#include "crypto_test_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bo/pki.h"
#include "bo/sign.h"

#define ST_NOW (1800000000000LL)
#define ST_USCC "91350100M000100Y43"

/* A key with its certificate. */
typedef struct st_party {
    bo_key *key;
    uint8_t *der;
    size_t len;
    bo_buf cert_pem; /* leaf (and chain) */
    bo_buf key_pem;
} st_party;

static inline void st_party_make(bo_pki_ca *ca, bo_keyalg alg, unsigned usage, const char *cn,
                                 st_party *p)
{
    memset(p, 0, sizeof(*p));
    bo_pki_leaf_opts o = {.alg = alg, .subj = {.c = "CN", .o = "测试公司", .cn = cn},
                          .uscc = ST_USCC, .usage = usage, .not_before = ST_NOW - DAY_MS,
                          .not_after = ST_NOW + 365 * DAY_MS};
    bo_buf_init(&p->key_pem, 1 << 16);
    bo_buf_init(&p->cert_pem, 1 << 16);
    assert_int_equal(bo_pki_issue(ca, &o, &p->key_pem, &p->cert_pem, NULL), BO_E_OK);
    bo_err e = BO_E_OK;
    p->key = bo_key_from_mem(p->key_pem.data, p->key_pem.len, NULL, &e, NULL, 0);
    assert_non_null(p->key);
    bo_blob_list chain = {0};
    assert_int_equal(bo_pem_chain_parse(p->cert_pem.data, p->cert_pem.len, &chain), BO_E_OK);
    p->len = chain.list.v[0].len;
    p->der = malloc(p->len);
    memcpy(p->der, chain.list.v[0].p, p->len);
    bo_blob_list_cleanup(&chain);
}

static inline void st_party_free(st_party *p)
{
    bo_key_free(p->key);
    free(p->der);
    bo_buf_cleanup(&p->cert_pem);
    bo_buf_cleanup_wipe(&p->key_pem);
    memset(p, 0, sizeof(*p));
}

static inline bo_bytes st_bytes(const st_party *p)
{
    bo_bytes b = {p->der, p->len};
    return b;
}

static inline bo_pki_ca *st_ca(void)
{
    bo_err e = BO_E_OK;
    bo_pki_name rn = {.c = "CN", .o = "Seal Test", .cn = "Seal Test CA"};
    bo_pki_ca *ca = bo_pki_ca_root(&rn, BO_KEY_EC_P256, ST_NOW - 30 * DAY_MS,
                                   ST_NOW + 3650 * DAY_MS, &e);
    assert_non_null(ca);
    return ca;
}

static inline char *st_tmpdir(void)
{
    char *d = strdup("/tmp/bo-seal-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static inline char *st_path(const char *dir, const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static inline bool st_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Whole file into memory (small files only). */
static inline uint8_t *st_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static inline void st_spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Run a shell command; returns its exit status. */
static inline int st_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int st_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static inline void st_random(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* A bo_write_fn into a bo_buf (ud). */
static inline bo_err st_buf_write(void *ud, const uint8_t *p, size_t n)
{
    return bo_buf_append(ud, p, n);
}

/* DER building for hand-made structures. */
static inline void st_put(bo_buf *b, const void *p, size_t n)
{
    assert_int_equal(bo_buf_append(b, p, n), BO_E_OK);
}

static inline void st_put_hdr(bo_buf *b, uint8_t tag, size_t len)
{
    uint8_t h[6] = {tag};
    size_t hl = 2;
    if (len < 0x80) {
        h[1] = (uint8_t)len;
    } else if (len < 0x100) {
        h[1] = 0x81;
        h[2] = (uint8_t)len;
        hl = 3;
    } else {
        assert_true(len < 0x10000);
        h[1] = 0x82;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        hl = 4;
    }
    st_put(b, h, hl);
}

/* Wrap b[from..) in a definite TLV. */
static inline void st_wrap(bo_buf *b, size_t from, uint8_t tag)
{
    size_t n = b->len - from;
    uint8_t *tmp = malloc(n ? n : 1);
    memcpy(tmp, b->data + from, n);
    b->len = from;
    st_put_hdr(b, tag, n);
    st_put(b, tmp, n);
    free(tmp);
}

#endif
