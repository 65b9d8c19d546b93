#include "bo_vault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/log.h"

struct bo_vault {
    uv_loop_t *loop;
    char dir[BO_VAULT_PATH_MAX / 2];
};

struct bo_vault_upload {
    bo_vault *v;
    char oid[65];
    char part[BO_VAULT_PATH_MAX];
    char final[BO_VAULT_PATH_MAX];
    uint8_t hash[32];
    uint64_t size;
    uint64_t offset;
    int fd;
    bool busy;
    bool in_cb;  /* its callback is running: the owner may close or start the next op */
    bool closed; /* the owner let go: free when the operation in flight completes */
};

typedef enum { OP_OPEN, OP_WRITE, OP_COMMIT } op_kind;

typedef struct op {
    uv_work_t req;
    op_kind kind;
    bo_vault_upload *up;
    /* write */
    uint8_t *data;
    size_t len;
    /* commit */
    bo_vault_check_fn check;
    void *check_ud;
    /* results */
    bo_err err;
    char detail[256];
    uint64_t offset;
    void *cb;
    void *ud;
} op;

static int mkdir_p(const char *path)
{
    char tmp[BO_VAULT_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0700) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* A full disk (or quota) is its own refusal: the client can do nothing but wait. */
static bo_err disk_err(int e)
{
    return e == ENOSPC || e == EDQUOT ? BO_E_VAULT_FULL : BO_E_IO;
}

/* The disk is full: drop what the upload holds, so that no partial file stays behind and
 * its space is free again for others (the descriptor stays open until the upload closes). */
static void drop_part(bo_vault_upload *up)
{
    int rc = up->fd >= 0 ? ftruncate(up->fd, 0) : 0;
    (void)rc; /* if it fails, the unlink frees the space when the descriptor closes */
    unlink(up->part);
}

static int fsync_dir(const char *path)
{
    char dir[BO_VAULT_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

bo_vault *bo_vault_open(uv_loop_t *loop, const char *dir, bo_err *err)
{
    bo_vault *v = calloc(1, sizeof(*v));
    if (!v) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    v->loop = loop;
    snprintf(v->dir, sizeof(v->dir), "%s", dir);
    if (mkdir_p(dir) || access(dir, W_OK)) {
        bo_log(BO_LOG_ERROR, "vault", NULL, 0, BO_E_IO, "vault %s: %s", dir, strerror(errno));
        free(v);
        *err = BO_E_IO;
        return NULL;
    }
    return v;
}

void bo_vault_free(bo_vault *v)
{
    free(v);
}

static const char *path_of(const bo_vault *v, const char *oid, const char *sub,
                           const uint8_t hash[32], const char *ext, char *out)
{
    char hex[65];
    snprintf(out, BO_VAULT_PATH_MAX, "%s/%s/%s/%s%s", v->dir, oid, sub,
             bo_hex_encode(hash, 32, hex), ext);
    return out;
}

const char *bo_vault_bid_path(const bo_vault *v, const char *oid, const uint8_t hash[32],
                              char *out)
{
    return path_of(v, oid, "bids", hash, ".cms", out);
}

const char *bo_vault_plain_path(const bo_vault *v, const char *oid, const uint8_t hash[32],
                                char *out)
{
    return path_of(v, oid, "plain", hash, ".pkg", out);
}

bo_err bo_vault_prepare_path(const char *file_path)
{
    char dir[BO_VAULT_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", file_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return BO_E_IO;
    *slash = 0;
    return mkdir_p(dir) ? BO_E_IO : BO_E_OK;
}

uint64_t bo_vault_upload_offset(const bo_vault_upload *up)
{
    return up->offset;
}

/* ---------- worker side ---------- */

static void do_open(op *o)
{
    bo_vault_upload *up = o->up;
    char dir[BO_VAULT_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", up->part);
    *strrchr(dir, '/') = 0;
    if (mkdir_p(dir)) {
        o->err = disk_err(errno);
        return;
    }
    up->fd = open(up->part, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (up->fd < 0 || fstat(up->fd, &st)) {
        o->err = disk_err(errno);
        return;
    }
    uint64_t have = (uint64_t)st.st_size;
    if (have > up->size) {
        if (ftruncate(up->fd, 0)) {
            o->err = BO_E_IO;
            return;
        }
        have = 0;
    }
    /* Refuse at once what cannot fit (nothing is reserved: two uploads may still race for
     * the last bytes, and a write then fails with the same error). */
    struct statvfs vfs;
    if (!fstatvfs(up->fd, &vfs) &&
        (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize < up->size - have) {
        drop_part(up);
        o->err = BO_E_VAULT_FULL;
        snprintf(o->detail, sizeof(o->detail),
                 "the vault has %llu bytes free, the rest of this bid needs %llu",
                 (unsigned long long)vfs.f_bavail * (unsigned long long)vfs.f_frsize,
                 (unsigned long long)(up->size - have));
        return;
    }
    o->offset = have;
}

static void do_write(op *o)
{
    bo_vault_upload *up = o->up;
    size_t done = 0;
    while (done < o->len) {
        ssize_t n = pwrite(up->fd, o->data + done, o->len - done, (off_t)(up->offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            o->err = n < 0 ? disk_err(errno) : BO_E_IO;
            if (o->err == BO_E_VAULT_FULL) {
                drop_part(up);
                o->offset = 0;
                snprintf(o->detail, sizeof(o->detail), "writing at byte %llu: %s",
                         (unsigned long long)(up->offset + done), strerror(ENOSPC));
            } else {
                o->offset = up->offset;
            }
            return;
        }
        done += (size_t)n;
    }
    o->offset = up->offset + o->len;
}

static bo_err hash_file(const char *path, uint8_t out[32], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return BO_E_IO;
    bo_err err;
    bo_sha256_ctx *h = bo_sha256_new(&err);
    uint8_t *buf = malloc(1u << 20);
    uint64_t total = 0;
    if (h && buf) {
        ssize_t n;
        while ((n = read(fd, buf, 1u << 20)) > 0) {
            bo_sha256_update(h, buf, (size_t)n);
            total += (uint64_t)n;
        }
        err = n < 0 ? BO_E_IO : BO_E_OK;
        bo_sha256_final(h, out);
    } else {
        err = BO_E_NOMEM;
    }
    bo_sha256_free(h);
    free(buf);
    close(fd);
    *size = total;
    return err;
}

static void do_commit(op *o)
{
    bo_vault_upload *up = o->up;
    if (fsync(up->fd)) {
        if ((o->err = disk_err(errno)) == BO_E_VAULT_FULL)
            drop_part(up);
        return;
    }
    uint8_t got[32];
    uint64_t size = 0;
    if ((o->err = hash_file(up->part, got, &size)))
        return;
    if (size != up->size) {
        o->err = BO_E_BAD_FIELD;
        snprintf(o->detail, sizeof(o->detail), "size: the upload has %llu bytes, %llu were announced",
                 (unsigned long long)size, (unsigned long long)up->size);
    } else if (!bo_ct_equal(got, up->hash, 32)) {
        o->err = BO_E_BAD_FIELD;
        snprintf(o->detail, sizeof(o->detail), "hash: the SHA-256 of the upload is not the announced one");
    } else if (o->check) {
        o->err = o->check(o->check_ud, up->part, o->detail, sizeof(o->detail));
    }
    if (o->err) {
        unlink(up->part); /* refused: the client must upload again */
        return;
    }
    char dir[BO_VAULT_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", up->final);
    *strrchr(dir, '/') = 0;
    if (mkdir_p(dir) || rename(up->part, up->final) || fsync_dir(up->final) ||
        fsync_dir(up->part)) {
        int e = errno;
        o->err = disk_err(e);
        if (o->err == BO_E_VAULT_FULL && access(up->final, F_OK))
            drop_part(up); /* not renamed: no partial file stays */
        snprintf(o->detail, sizeof(o->detail), "storing the envelope failed: %s", strerror(e));
    }
}

static void work(uv_work_t *req)
{
    op *o = req->data;
    switch (o->kind) {
    case OP_OPEN:
        do_open(o);
        break;
    case OP_WRITE:
        do_write(o);
        break;
    case OP_COMMIT:
        do_commit(o);
        break;
    }
}

/* ---------- loop side ---------- */

static void upload_free(bo_vault_upload *up)
{
    if (up->fd >= 0)
        close(up->fd);
    free(up);
}

static void after(uv_work_t *req, int status)
{
    op *o = req->data;
    bo_vault_upload *up = o->up;
    up->busy = false;
    if (status == UV_ECANCELED && !o->err)
        o->err = BO_E_CANCELED;
    if (o->err == BO_E_VAULT_FULL)
        bo_log(BO_LOG_WARN, "vault", up->oid, 0, o->err, "disk full, upload %s dropped%s%s",
               strrchr(up->part, '/') + 1, o->detail[0] ? ": " : "", o->detail);
    /* The callback may close the upload or start its next operation: the upload is freed
     * only after the callback returned, and only if nothing new is in flight. */
    up->in_cb = true;
    switch (o->kind) {
    case OP_OPEN: {
        void (*cb)(void *, bo_err, bo_vault_upload *, uint64_t) = o->cb;
        if (!o->err)
            up->offset = o->offset;
        if (o->err || up->closed) {
            up->closed = true; /* the caller never gets it */
            cb(o->ud, o->err ? o->err : BO_E_CANCELED, NULL, 0);
        } else {
            cb(o->ud, BO_E_OK, up, up->offset);
        }
        break;
    }
    case OP_WRITE: {
        void (*cb)(void *, bo_err, uint64_t) = o->cb;
        if (!o->err || o->err == BO_E_VAULT_FULL)
            up->offset = o->offset; /* full: the part file is gone, nothing is held */
        free(o->data);
        cb(o->ud, o->err, up->offset);
        break;
    }
    case OP_COMMIT: {
        void (*cb)(void *, bo_err, const char *, const char *) = o->cb;
        cb(o->ud, o->err, o->err ? NULL : up->final, o->detail);
        break;
    }
    }
    up->in_cb = false;
    free(o);
    if (up->closed && !up->busy)
        upload_free(up);
}

static bo_err queue(bo_vault_upload *up, op *o, void *cb, void *ud)
{
    if (up->busy || up->closed) {
        free(o);
        return BO_E_DUPLICATE_ID;
    }
    o->up = up;
    o->cb = cb;
    o->ud = ud;
    o->req.data = o;
    if (uv_queue_work(up->v->loop, &o->req, work, after)) {
        free(o);
        return BO_E_INTERNAL;
    }
    up->busy = true;
    return BO_E_OK;
}

bo_err bo_vault_upload_open(bo_vault *v, const char *oid, const char *uscc,
                            const uint8_t hash[32], uint64_t size,
                            void (*cb)(void *ud, bo_err err, bo_vault_upload *up,
                                       uint64_t offset),
                            void *ud)
{
    if (!oid || !uscc || strlen(oid) > 64 || strlen(uscc) > 18 || !cb)
        return BO_E_INVALID_ARG;
    bo_vault_upload *up = calloc(1, sizeof(*up));
    op *o = calloc(1, sizeof(*o));
    if (!up || !o) {
        free(up);
        free(o);
        return BO_E_NOMEM;
    }
    char hex[65];
    up->v = v;
    up->fd = -1;
    up->size = size;
    memcpy(up->hash, hash, 32);
    snprintf(up->oid, sizeof(up->oid), "%s", oid);
    snprintf(up->part, sizeof(up->part), "%s/%s/uploads/%s-%s.part", v->dir, oid, uscc,
             bo_hex_encode(hash, 32, hex));
    bo_vault_bid_path(v, oid, hash, up->final);
    o->kind = OP_OPEN;
    bo_err err = queue(up, o, (void *)cb, ud);
    if (err)
        free(up);
    return err;
}

bo_err bo_vault_upload_write(bo_vault_upload *up, const uint8_t *data, size_t len,
                             void (*cb)(void *ud, bo_err err, uint64_t offset), void *ud)
{
    if (up->offset + len > up->size)
        return BO_E_TOO_BIG;
    if (up->busy || up->closed)
        return BO_E_DUPLICATE_ID;
    op *o = calloc(1, sizeof(*o));
    if (!o)
        return BO_E_NOMEM;
    o->kind = OP_WRITE;
    o->data = malloc(len ? len : 1);
    if (!o->data) {
        free(o);
        return BO_E_NOMEM;
    }
    memcpy(o->data, data, len);
    o->len = len;
    uint8_t *copy = o->data;
    bo_err err = queue(up, o, (void *)cb, ud); /* frees o on error */
    if (err)
        free(copy);
    return err;
}

bo_err bo_vault_upload_commit(bo_vault_upload *up, bo_vault_check_fn check, void *check_ud,
                              void (*cb)(void *ud, bo_err err, const char *path,
                                         const char *detail),
                              void *ud)
{
    op *o = calloc(1, sizeof(*o));
    if (!o)
        return BO_E_NOMEM;
    o->kind = OP_COMMIT;
    o->check = check;
    o->check_ud = check_ud;
    return queue(up, o, (void *)cb, ud);
}

void bo_vault_upload_close(bo_vault_upload *up)
{
    if (!up)
        return;
    if (up->busy || up->in_cb) {
        up->closed = true;
        return;
    }
    upload_free(up);
}
