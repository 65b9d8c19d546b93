/* Helpers shared by the crypto unit tests (header-only; each test file is one executable). */
#ifndef BO_CRYPTO_TEST_UTIL_H
#define BO_CRYPTO_TEST_UTIL_H

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/cert.h"

#define DAY_MS (24LL * 3600 * 1000)

static inline int tu_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* rm -rf dir (dir was made by the test under /tmp). */
static inline void tu_rmtree(const char *dir)
{
    if (dir && strncmp(dir, "/tmp/", 5) == 0)
        nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int tu_write(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static inline int tu_write_buf(const char *dir, const char *name, const bo_buf *b)
{
    return tu_write(dir, name, b->data, b->len);
}

/* A list view of the first k elements of an owned list. */
static inline bo_bytes_list tu_first(const bo_blob_list *l, size_t k)
{
    bo_bytes_list v = {l->list.v, k < l->list.n ? k : l->list.n};
    return v;
}

#endif
