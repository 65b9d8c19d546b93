/* Sealing and decrypting 1 GiB bids in constant memory: the peak RSS (VmHWM of
 * /proc/self/status) stays under 64 MiB, sanitizers included. Label integration (about 2 GiB
 * of disk I/O per case, files removed at the end). */
#include "sealed_test_util.h"

#include <fcntl.h>
#include <unistd.h>

#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/hash.h"
#include "bo/seal.h"

#define GIB (1ull << 30)
#define RSS_CAP_KB (64u * 1024u)

static bo_pki_ca *g_ca;
static st_party g_rsa;
static char *g_dir;

static int setup(void **state)
{
    g_ca = st_ca();
    st_party_make(g_ca, BO_KEY_RSA, BO_PKI_ENC, "enc-rsa", &g_rsa);
    g_dir = st_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    st_party_free(&g_rsa);
    bo_pki_ca_free(g_ca);
    tu_rmtree(g_dir);
    free(g_dir);
    return 0;
}

static unsigned long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    unsigned long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    return kb;
}

static void sha256_file(const char *path, uint8_t out[32], uint64_t *size)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    bo_err e = BO_E_OK;
    bo_sha256_ctx *h = bo_sha256_new(&e);
    static uint8_t buf[1 << 20];
    ssize_t r;
    *size = 0;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        bo_sha256_update(h, buf, (size_t)r);
        *size += (uint64_t)r;
    }
    assert_int_equal(r, 0);
    close(fd);
    bo_sha256_final(h, out);
    bo_sha256_free(h);
}

static bo_err fd_write(void *ud, const uint8_t *p, size_t n)
{
    int fd = *(int *)ud;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return BO_E_IO;
        p += w;
        n -= (size_t)w;
    }
    return BO_E_OK;
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    uint64_t *last = ud;
    assert_true(done >= *last);
    assert_true(done <= total);
    *last = done;
}

static void decrypt_and_check(const char *env, const bo_secret *cek, const uint8_t want[32])
{
    char *out = st_path(g_dir, "big.out");
    uint64_t last = 0;
    bo_decrypt_opts o = {.progress = on_progress, .progress_ud = &last};
    bo_envelope_info info;
    char detail[256] = "";
    assert_int_equal(bo_envelope_decrypt(env, cek, out, &o, &info, detail, sizeof detail), BO_E_OK);
    assert_int_equal(last, info.size);
    unsigned long hwm = vm_hwm_kb();
    printf("after decrypting 1 GiB: VmHWM %lu kB (cap %u kB)\n", hwm, RSS_CAP_KB);
    assert_true(hwm < RSS_CAP_KB);
    uint8_t got[32];
    uint64_t size;
    sha256_file(out, got, &size);
    assert_int_equal(size, GIB);
    assert_memory_equal(got, want, 32);
    bo_envelope_info_cleanup(&info);
    remove(out);
    free(out);
}

/* 1 GiB generated on the fly, sealed BER indefinite (AES-256-GCM) through bo_seal_update. */
static void generated_ber(void **state)
{
    char *env = st_path(g_dir, "gen.cms");
    int fd = open(env, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    bo_seal_opts o = {.oid = "op-big", .uscc = ST_USCC};
    bo_bytes c = st_bytes(&g_rsa);
    bo_err e = BO_E_OK;
    bo_seal *s = bo_seal_new(&o, &c, 1, fd_write, &fd, &e, NULL, 0);
    assert_non_null(s);
    bo_sha256_ctx *h = bo_sha256_new(&e);
    static uint8_t chunk[1 << 20];
    st_random(chunk, sizeof chunk, 9);
    for (uint64_t i = 0; i < GIB / sizeof chunk; i++) {
        memcpy(chunk, &i, sizeof i); /* every MiB differs */
        bo_sha256_update(h, chunk, sizeof chunk);
        assert_int_equal(bo_seal_update(s, chunk, sizeof chunk), BO_E_OK);
    }
    uint8_t want[32];
    bo_sha256_final(h, want);
    bo_sha256_free(h);
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_finish(s, &res), BO_E_OK);
    bo_seal_free(s);
    assert_int_equal(close(fd), 0);
    unsigned long hwm = vm_hwm_kb();
    printf("after sealing 1 GiB: VmHWM %lu kB\n", hwm);
    assert_true(hwm < RSS_CAP_KB);

    bo_secret *cek = NULL;
    assert_int_equal(bo_cek_unwrap(res.ri.list.v[0].p, res.ri.list.v[0].len, g_rsa.key,
                                   g_rsa.der, g_rsa.len, &cek),
                     BO_E_OK);
    assert_int_equal(bo_cek_commitment_check(cek, "op-big", ST_USCC, res.record.commitment),
                     BO_E_OK);
    decrypt_and_check(env, cek, want);
    bo_secret_free(cek);
    bo_seal_result_cleanup(&res);
    remove(env);
    free(env);
}

/* A sparse 1 GiB file sealed DER (definite lengths) with bo_seal_file. */
static void sparse_der(void **state)
{
    char *in = st_path(g_dir, "sparse.bin");
    char *env = st_path(g_dir, "sparse.cms");
    int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)GIB), 0);
    close(fd);
    bo_seal_opts o = {.oid = "op-big", .uscc = ST_USCC, .der = 1};
    bo_bytes c = st_bytes(&g_rsa);
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_file(in, env, &o, &c, 1, &res, NULL, 0), BO_E_OK);
    assert_true(res.record.env_size > GIB && res.record.env_size < GIB + 1024);
    remove(in);
    uint8_t want[32];
    bo_err e = BO_E_OK;
    bo_sha256_ctx *h = bo_sha256_new(&e);
    static uint8_t zero[1 << 20];
    for (uint64_t i = 0; i < GIB / sizeof zero; i++)
        bo_sha256_update(h, zero, sizeof zero);
    bo_sha256_final(h, want);
    bo_sha256_free(h);
    bo_secret *cek = NULL;
    assert_int_equal(bo_cek_unwrap(res.ri.list.v[0].p, res.ri.list.v[0].len, g_rsa.key,
                                   g_rsa.der, g_rsa.len, &cek),
                     BO_E_OK);
    decrypt_and_check(env, cek, want);
    bo_secret_free(cek);
    bo_seal_result_cleanup(&res);
    remove(env);
    free(env);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_ber),
        cmocka_unit_test(sparse_der),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
