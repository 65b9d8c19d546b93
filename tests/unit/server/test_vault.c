#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/hash.h"
#include "bo_vault.h"

typedef struct res {
    bool done;
    bo_err err;
    bo_vault_upload *up;
    uint64_t offset;
    char path[BO_VAULT_PATH_MAX];
    char detail[256];
} res;

static void on_open(void *ud, bo_err err, bo_vault_upload *up, uint64_t offset)
{
    res *r = ud;
    r->done = true;
    r->err = err;
    r->up = up;
    r->offset = offset;
}

static void on_write(void *ud, bo_err err, uint64_t offset)
{
    res *r = ud;
    r->done = true;
    r->err = err;
    r->offset = offset;
}

static void on_commit(void *ud, bo_err err, const char *path, const char *detail)
{
    res *r = ud;
    r->done = true;
    r->err = err;
    snprintf(r->path, sizeof(r->path), "%s", path ? path : "");
    snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
}

static void run(uv_loop_t *loop, res *r)
{
    while (!r->done)
        uv_run(loop, UV_RUN_ONCE);
}

static bo_err refuse_check(void *ud, const char *path, char *detail, size_t n)
{
    snprintf(detail, n, "not an envelope");
    return BO_E_MALFORMED;
}

static void upload_resume_commit(void **state)
{
    char dir[] = "/tmp/bo-vault-XXXXXX";
    assert_non_null(mkdtemp(dir));
    uv_loop_t loop;
    uv_loop_init(&loop);
    bo_err err;
    bo_vault *v = bo_vault_open(&loop, dir, &err);
    assert_non_null(v);

    uint8_t data[300000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    uint8_t hash[32];
    bo_sha256(data, sizeof data, hash);

    res r = {0};
    assert_int_equal(bo_vault_upload_open(v, "T-1", "91350100MA0004200W", hash, sizeof data,
                                          on_open, &r), BO_E_OK);
    run(&loop, &r);
    assert_int_equal(r.err, BO_E_OK);
    assert_int_equal(r.offset, 0);
    bo_vault_upload *up = r.up;
    memset(&r, 0, sizeof r);
    assert_int_equal(bo_vault_upload_write(up, data, 100000, on_write, &r), BO_E_OK);
    /* one write at a time */
    assert_int_equal(bo_vault_upload_write(up, data, 10, on_write, &r), BO_E_DUPLICATE_ID);
    run(&loop, &r);
    assert_int_equal(r.offset, 100000);
    bo_vault_upload_close(up); /* connection lost */

    /* resume: the part file holds 100000 bytes */
    memset(&r, 0, sizeof r);
    assert_int_equal(bo_vault_upload_open(v, "T-1", "91350100MA0004200W", hash, sizeof data,
                                          on_open, &r), BO_E_OK);
    run(&loop, &r);
    assert_int_equal(r.offset, 100000);
    up = r.up;
    assert_int_equal(bo_vault_upload_write(up, data, sizeof data, on_write, &r), BO_E_TOO_BIG);
    memset(&r, 0, sizeof r);
    assert_int_equal(bo_vault_upload_write(up, data + 100000, sizeof data - 100000, on_write, &r),
                     BO_E_OK);
    run(&loop, &r);
    assert_int_equal(r.offset, sizeof data);
    memset(&r, 0, sizeof r);
    assert_int_equal(bo_vault_upload_commit(up, NULL, NULL, on_commit, &r), BO_E_OK);
    run(&loop, &r);
    assert_int_equal(r.err, BO_E_OK);
    char expect[BO_VAULT_PATH_MAX];
    assert_string_equal(r.path, bo_vault_bid_path(v, "T-1", hash, expect));
    struct stat st;
    assert_int_equal(stat(r.path, &st), 0);
    assert_int_equal(st.st_size, sizeof data);
    bo_vault_upload_close(up);

    /* a wrong hash is refused and the part file is gone */
    uint8_t wrong[32] = {1};
    memset(&r, 0, sizeof r);
    bo_vault_upload_open(v, "T-1", "91350100MA0004200W", wrong, 10, on_open, &r);
    run(&loop, &r);
    up = r.up;
    memset(&r, 0, sizeof r);
    bo_vault_upload_write(up, data, 10, on_write, &r);
    run(&loop, &r);
    memset(&r, 0, sizeof r);
    bo_vault_upload_commit(up, NULL, NULL, on_commit, &r);
    run(&loop, &r);
    assert_int_equal(r.err, BO_E_BAD_FIELD);
    assert_non_null(strstr(r.detail, "hash"));
    bo_vault_upload_close(up);

    /* a refused check: the part file is removed, nothing is stored */
    uint8_t h10[32];
    bo_sha256(data, 10, h10);
    memset(&r, 0, sizeof r);
    bo_vault_upload_open(v, "T-1", "91350100MA0004200W", h10, 10, on_open, &r);
    run(&loop, &r);
    up = r.up;
    memset(&r, 0, sizeof r);
    bo_vault_upload_write(up, data, 10, on_write, &r);
    run(&loop, &r);
    memset(&r, 0, sizeof r);
    bo_vault_upload_commit(up, refuse_check, NULL, on_commit, &r);
    run(&loop, &r);
    assert_int_equal(r.err, BO_E_MALFORMED);
    assert_string_equal(r.detail, "not an envelope");
    assert_int_not_equal(stat(bo_vault_bid_path(v, "T-1", h10, expect), &st), 0);
    bo_vault_upload_close(up);

    bo_vault_free(v);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upload_resume_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
