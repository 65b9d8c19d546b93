/* Fault drill: the disk fills up during a bid upload (issue "Benchmarks against the anchors,
 * and fault drills").
 *
 * The server's vault (--vault) is a 4 MiB tmpfs mounted inside the test's temp folder (the
 * test runs as root; without permission to mount it is skipped, exit 77). A bidder submits
 * through libbidopen-client (bo_client_submit_ex: chunks, several in flight):
 *
 *   earlier_bid_stored       a small bid: receipt R0, its file in bids/;
 *   refused_at_begin         a 6 MiB bid on the 4 MiB disk: E_VAULT_FULL at submit_begin;
 *   disk_fills_mid_upload    a 2 MiB bid; once 512 KiB are acknowledged the test fills the
 *                            disk with a file of its own: the next chunk gets E_VAULT_FULL
 *                            and the client stops (it is not a code to retry);
 *   same_upload_after_space  the filler removed, the same 2 MiB bid goes through.
 *
 * After each refusal: the client's error is E_VAULT_FULL, no receipt, no event (the
 * supervisor's stream and the bidder's did not move), no file in uploads/ and no new one in
 * bids/, the earlier bid still the current one (`receipt`) and its file intact (SHA-256),
 * /metrics' bidopen_vault_full_total counts it and the log says "disk full". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/seal.h"
#include "bo/submit.h"
#include "bo_faults.h"
#include "bo_itest.h"

#define VAULT_MIB 4
#define SKIP_CODE 77

static bo_world W;
static char TOP[512];    /* the test's own temp folder, with the mount point inside */
static char VAULT[600];  /* TOP/vault: the tmpfs */
static bool MOUNTED;
static char CA[600];
static char OID[65];
static tc *SUP, *BIDDER;
static char USCC[512];
static uint8_t H0[32];   /* the earlier bid's envelope hash */

/* ---------------------------------------------------------------- helpers ---- */

typedef struct sealed {
    char path[700];
    uint8_t commit[32];
    uint8_t hash[32];
    uint64_t size;
} sealed;

/* A plaintext of `bytes` pseudo-random bytes (not compressible, not that it matters) sealed
 * to the bidder's encryption certificate. */
static void seal_bid(const char *tag, size_t bytes, sealed *out)
{
    char plain[700], enc_pem[600], rel[512], detail[256] = "";
    snprintf(plain, sizeof(plain), "%s/%s.bin", TOP, tag);
    snprintf(out->path, sizeof(out->path), "%s/%s.cms", TOP, tag);
    FILE *f = fopen(plain, "wb");
    assert_non_null(f);
    uint64_t x = 0x9e3779b97f4a7c15ull ^ bytes;
    for (size_t i = 0; i < bytes; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        fwrite(&x, 1, bytes - i < 8 ? bytes - i : 8, f);
    }
    fclose(f);
    bo_h_path(enc_pem, W.pki, bo_world_bidder_field(&W, "b1-rsa", "enc_cert", rel));
    bo_blob_list enc;
    memset(&enc, 0, sizeof(enc));
    assert_int_equal(bo_pem_chain_load(enc_pem, &enc), BO_E_OK);
    bo_seal_opts so;
    memset(&so, 0, sizeof(so));
    so.oid = OID;
    so.uscc = USCC;
    bo_seal_result res;
    memset(&res, 0, sizeof(res));
    bo_err err = bo_seal_file(plain, out->path, &so, &enc.list.v[0], 1, &res, detail,
                              sizeof(detail));
    if (err)
        fail_msg("seal: %s %s", bo_err_name(err), detail);
    memcpy(out->commit, res.record.commitment, 32);
    bo_seal_result_cleanup(&res);
    bo_blob_list_cleanup(&enc);
    size_t len = 0;
    char *data = bo_h_read_file(out->path, &len);
    assert_non_null(data);
    bo_sha256(data, len, out->hash);
    out->size = len;
    free(data);
    unlink(plain);
}

/* A file that takes every free byte of the vault's disk (the test's, not the server's). */
typedef struct filler {
    char path[700];
    uint64_t bytes;
    uint64_t free_before;
} filler;

static uint64_t vault_free(void)
{
    struct statvfs v;
    assert_int_equal(statvfs(VAULT, &v), 0);
    return (uint64_t)v.f_bavail * v.f_frsize;
}

static void fill_disk(filler *fl)
{
    snprintf(fl->path, sizeof(fl->path), "%s/filler", VAULT);
    fl->free_before = vault_free();
    int fd = open(fl->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static uint8_t block[4096];
    memset(block, 0xee, sizeof(block));
    for (;;) {
        ssize_t n = write(fd, block, sizeof(block));
        if (n > 0) {
            fl->bytes += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n < 0 && errno == ENOSPC);
        break;
    }
    close(fd);
}

typedef struct sub {
    bool done;
    bo_err err;
    char code[40];
    char msg[400];
    bo_receipt receipt;
    bool verified;
    unsigned begins;
    uint64_t max_progress;
    uint64_t fill_at; /* when progress reaches it, fill the disk (0: never) */
    filler *fl;
    bool filled;
    uint64_t filled_at_progress;
} sub;

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    (void)total;
    sub *s = ud;
    if (done > s->max_progress)
        s->max_progress = done;
    if (s->fill_at && !s->filled && done >= s->fill_at) {
        fill_disk(s->fl); /* blocking, on the loop thread: the test's own business */
        s->filled = true;
        s->filled_at_progress = done;
    }
}

static void on_done(void *ud, bo_err err, const char *code, const char *msg,
                    const bo_submit_result *res)
{
    sub *s = ud;
    s->done = true;
    s->err = err;
    snprintf(s->code, sizeof(s->code), "%s", code ? code : "");
    snprintf(s->msg, sizeof(s->msg), "%s", msg ? msg : "");
    if (res && res->receipt) {
        s->receipt = *res->receipt;
        s->verified = res->receipt_verified;
    }
    if (res)
        s->begins = res->begins;
}

static bool sub_done(void *ud)
{
    return ((sub *)ud)->done;
}

static void submit(const sealed *b, sub *s)
{
    char store[700];
    snprintf(store, sizeof(store), "%s/bidstore", TOP);
    bo_submit_opts o;
    memset(&o, 0, sizeof(o));
    o.oid = OID;
    o.envelope = b->path;
    o.commit = b->commit;
    o.store_dir = store;
    o.progress = on_progress;
    o.done = on_done;
    o.ud = s;
    int64_t t0 = bo_clock_mono_ms();
    assert_int_equal(bo_client_submit_ex(BIDDER->c, &o, NULL), BO_E_OK);
    if (!bo_h_run_until(&W.loop, sub_done, s, 120000))
        fail_msg("the submission of %llu bytes did not end within 120 s",
                 (unsigned long long)b->size);
    printf("# %llu-byte bid: %s %s after %lld ms (%u submit_begin, %llu bytes acknowledged)"
           "%s%s\n",
           (unsigned long long)b->size, s->err ? s->code : "OK", s->msg,
           (long long)(bo_clock_mono_ms() - t0), s->begins, (unsigned long long)s->max_progress,
           s->err ? "" : ", receipt ", s->err ? "" : (s->verified ? "verified" : "NOT verified"));
}

/* Names of the regular files in VAULT/<oid>/<sub> (a missing folder is empty). */
static size_t list_dir(const char *folder, char names[][256], size_t max)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/%s/%s", VAULT, OID, folder);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && n < max)
            snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    return n;
}

static void sha256_file(const char *path, uint8_t out[32])
{
    size_t len = 0;
    char *data = bo_h_read_file(path, &len);
    assert_non_null(data);
    bo_sha256(data, len, out);
    free(data);
}

/* The bidder's current receipt, through the `receipt` request. */
static void current_receipt_hash(uint8_t out[32])
{
    tc_reply_reset(BIDDER);
    assert_int_equal(bo_client_receipt(BIDDER->c, OID, tc_on_reply, BIDDER), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, BIDDER, 10000), BO_E_OK);
    const char *h = strstr(BIDDER->reply_json, "\"hash\":\"");
    assert_non_null(h);
    assert_int_equal(bo_hex_decode(h + 8, 64, out, 32), BO_E_OK);
}

static double metric(const char *name)
{
    static char body[65536];
    assert_int_equal(bo_h_http_get(W.srv.port, CA, "/metrics", body, sizeof(body), 5000), 200);
    return bo_h_prom_value(body, name);
}

/* After a refused upload: nothing changed anywhere. */
static void assert_nothing_stored(uint64_t sup_pos, uint64_t b_pos, size_t submitted,
                                  double full_count)
{
    bo_world_run(&W, 500); /* an event, if there were one, would be here by now */
    printf("# after the refusal: supervisor at %llu (was %llu), bidder at %llu (was %llu), "
           "bid_submitted %zu (was %zu), vault free %llu bytes\n",
           (unsigned long long)tc_last_seq(SUP, "all"), (unsigned long long)sup_pos,
           (unsigned long long)tc_last_seq(BIDDER, "b"), (unsigned long long)b_pos,
           tc_count(SUP, "bid_submitted"), submitted, (unsigned long long)vault_free());
    assert_int_equal(tc_last_seq(SUP, "all"), sup_pos);
    assert_int_equal(tc_last_seq(BIDDER, "b"), b_pos);
    assert_int_equal(tc_count(SUP, "bid_submitted"), submitted);

    char names[16][256];
    size_t n = list_dir("uploads", names, 16);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "left in uploads/: %s\n", names[i]);
    assert_int_equal(n, 0);
    n = list_dir("bids", names, 16);
    char h0[65];
    bo_hex_encode(H0, 32, h0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(names[0], h0));

    /* the earlier bid: still the current one, its file intact */
    uint8_t cur[32], disk[32];
    current_receipt_hash(cur);
    assert_memory_equal(cur, H0, 32);
    char path[900];
    snprintf(path, sizeof(path), "%s/%s/bids/%.100s", VAULT, OID, names[0]);
    sha256_file(path, disk);
    assert_memory_equal(disk, H0, 32);

    double m = metric("bidopen_vault_full_total");
    printf("# bidopen_vault_full_total %.0f\n", m);
    assert_true(m == full_count);
    assert_true(bo_h_server_log_has(&W.srv, "disk full"));
    /* the connection is fine: the bidder is still joined, never reconnected */
    assert_int_equal(BIDDER->backoffs, 0);
    assert_int_equal(bo_client_state_get(BIDDER->c), BO_CLIENT_JOINED);
}

/* ------------------------------------------------------------------ tests ---- */

static void earlier_bid_stored(void **state)
{
    (void)state;
    sealed b;
    seal_bid("bid-small", 16 * 1024, &b);
    sub s;
    memset(&s, 0, sizeof(s));
    submit(&b, &s);
    assert_int_equal(s.err, BO_E_OK);
    assert_true(s.verified);
    assert_memory_equal(s.receipt.hash, b.hash, 32);
    memcpy(H0, b.hash, 32);
    assert_true(tc_wait_event(&W.loop, SUP, "bid_submitted", 10000));
    char names[4][256];
    assert_int_equal(list_dir("uploads", names, 4), 0);
    assert_int_equal(list_dir("bids", names, 4), 1);
    printf("# vault: %d MiB tmpfs, %llu bytes free after the first bid\n", VAULT_MIB,
           (unsigned long long)vault_free());
}

static void refused_at_begin(void **state)
{
    (void)state;
    sealed b;
    seal_bid("bid-6m", 6u << 20, &b);
    uint64_t sup_pos = tc_last_seq(SUP, "all"), b_pos = tc_last_seq(BIDDER, "b");
    size_t submitted = tc_count(SUP, "bid_submitted");
    sub s;
    memset(&s, 0, sizeof(s));
    submit(&b, &s);
    assert_int_equal(s.err, BO_E_VAULT_FULL);
    assert_string_equal(s.code, "E_VAULT_FULL");
    assert_int_equal(s.begins, 1);        /* not retried */
    assert_int_equal(s.max_progress, 0);  /* refused before any byte */
    assert_nothing_stored(sup_pos, b_pos, submitted, 1);
    unlink(b.path);
}

static sealed B2; /* the 2 MiB bid, submitted twice */

static void disk_fills_mid_upload(void **state)
{
    (void)state;
    seal_bid("bid-2m", 2u << 20, &B2);
    uint64_t free0 = vault_free();
    assert_true(B2.size < free0); /* it fits: submit_begin accepts it */
    uint64_t sup_pos = tc_last_seq(SUP, "all"), b_pos = tc_last_seq(BIDDER, "b");
    size_t submitted = tc_count(SUP, "bid_submitted");
    filler fl;
    memset(&fl, 0, sizeof(fl));
    sub s;
    memset(&s, 0, sizeof(s));
    s.fill_at = 512 * 1024;
    s.fl = &fl;
    submit(&B2, &s);
    printf("# the disk was filled at %llu acknowledged bytes: %llu bytes of filler (%llu "
           "were free)\n",
           (unsigned long long)s.filled_at_progress, (unsigned long long)fl.bytes,
           (unsigned long long)fl.free_before);
    assert_true(s.filled);
    assert_int_equal(s.err, BO_E_VAULT_FULL);
    assert_string_equal(s.code, "E_VAULT_FULL");
    assert_int_equal(s.begins, 1);
    assert_true(s.max_progress < B2.size);
    /* what the upload held is free again: the filler plus the earlier bid fill the disk,
     * and the part file's pages came back */
    assert_true(vault_free() >= s.max_progress - 64 * 1024);
    assert_nothing_stored(sup_pos, b_pos, submitted, 2);
    assert_int_equal(unlink(fl.path), 0);
}

static void same_upload_after_space(void **state)
{
    (void)state;
    size_t submitted = tc_count(SUP, "bid_submitted");
    uint64_t sup_pos = tc_last_seq(SUP, "all");
    sub s;
    memset(&s, 0, sizeof(s));
    submit(&B2, &s);
    assert_int_equal(s.err, BO_E_OK);
    assert_true(s.verified);
    assert_true(s.receipt.replaced);
    assert_memory_equal(s.receipt.hash, B2.hash, 32);
    assert_true(tc_wait_seq(&W.loop, SUP, "all", sup_pos + 1, 10000));
    bo_world_run(&W, 300);
    assert_int_equal(tc_count(SUP, "bid_submitted"), submitted + 1);
    uint8_t cur[32], disk[32];
    current_receipt_hash(cur);
    assert_memory_equal(cur, B2.hash, 32);
    char names[4][256], hex[65], path[900];
    assert_int_equal(list_dir("uploads", names, 4), 0);
    snprintf(path, sizeof(path), "%s/%s/bids/%s.cms", VAULT, OID, bo_hex_encode(B2.hash, 32, hex));
    sha256_file(path, disk);
    assert_memory_equal(disk, B2.hash, 32);
    assert_true(metric("bidopen_vault_full_total") == 2);
    printf("# after the filler was removed: the same bid stored (%llu bytes), vault free %llu\n",
           (unsigned long long)B2.size, (unsigned long long)vault_free());
    unlink(B2.path);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "fault-disk", (const char *const[]){"--vault", VAULT, NULL});
    bo_h_path(CA, W.pki, "server/ca.pem");
    tc *h = bo_world_staff(&W, "host", "host", NULL);
    if (!bo_world_connect(&W, h) || !bo_world_create(&W, h, "T-disk", 0, 900000, "", OID))
        return -1;
    tc_free(h);
    SUP = bo_world_staff(&W, "supervisor", "supervisor", OID);
    BIDDER = bo_world_bidder(&W, "b1-rsa", true, OID);
    bo_world_bidder_field(&W, "b1-rsa", "uscc", USCC);
    tc *both[] = {SUP, BIDDER};
    if (bo_world_connect_all(&W, both, 2, 30000) != 2 || bo_world_register(&W, BIDDER))
        return -1;
    bo_world_run(&W, 500);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tc_free(SUP);
    tc_free(BIDDER);
    bo_world_down(&W);
    return 0;
}

static void unmount_vault(void)
{
    if (MOUNTED && umount2(VAULT, MNT_DETACH))
        fprintf(stderr, "umount %s: %s\n", VAULT, strerror(errno));
    MOUNTED = false;
    bo_h_rmtree(TOP);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    bo_h_tmpdir("fault-disk-vault", TOP);
    snprintf(VAULT, sizeof(VAULT), "%s/vault", TOP);
    if (mkdir(VAULT, 0700)) {
        perror("mkdir vault");
        return 1;
    }
    char opts[64];
    snprintf(opts, sizeof(opts), "size=%dm,mode=0700", VAULT_MIB);
    if (mount("tmpfs", VAULT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts)) {
        int e = errno;
        printf("# skipped: cannot mount a %d MiB tmpfs as the vault (%s); this drill needs "
               "root (CAP_SYS_ADMIN)\n",
               VAULT_MIB, strerror(e));
        bo_h_rmtree(TOP);
        return SKIP_CODE;
    }
    MOUNTED = true;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(earlier_bid_stored),
        cmocka_unit_test(refused_at_begin),
        cmocka_unit_test(disk_fills_mid_upload),
        cmocka_unit_test(same_upload_after_space),
    };
    if (getenv("BO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BO_TEST_FILTER"));
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    unmount_vault();
    return rc;
}
