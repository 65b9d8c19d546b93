/* bidopen-server: the bid vault: sealed envelopes and opened packages on disk.
 *
 *   <vault>/<oid>/uploads/<uscc>-<hash>.part   an upload in progress (resumable)
 *   <vault>/<oid>/bids/<hash>.cms              a submitted envelope (content-addressed)
 *   <vault>/<oid>/plain/<hash>.pkg             the package, once decrypted and verified
 *
 * Files reach their final name only by rename after fsync (and the directory's fsync), so
 * a crash leaves either the old state or the new one. Every disk operation runs on the
 * libuv worker pool; callbacks run on the loop thread.
 *
 * Async contract for every call taking a callback: if the call returns an error the
 * callback never runs; otherwise it runs exactly once on the loop thread.
 */
#ifndef BO_VAULT_H
#define BO_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bo/err.h"

#define BO_VAULT_PATH_MAX 1024

typedef struct bo_vault bo_vault;

/** Open (create) the vault directory. Errors: NULL with *err = BO_E_IO (not creatable or not
 * writable), BO_E_NOMEM. Ownership: bo_vault_free. Context: start-up (blocking mkdir). */
bo_vault *bo_vault_open(uv_loop_t *loop, const char *dir, bo_err *err);
void bo_vault_free(bo_vault *v);

/** Paths (hash is 32 bytes, written as hex). out must hold BO_VAULT_PATH_MAX bytes. */
const char *bo_vault_bid_path(const bo_vault *v, const char *oid, const uint8_t hash[32],
                              char *out);
const char *bo_vault_plain_path(const bo_vault *v, const char *oid, const uint8_t hash[32],
                                char *out);

/** Create the directories a vault file path needs (blocking: call it on a worker).
 * Errors: BO_E_IO. Context: any thread. */
bo_err bo_vault_prepare_path(const char *file_path);

typedef struct bo_vault_upload bo_vault_upload;

/** Open or resume the upload of an envelope of `size` bytes whose SHA-256 will be `hash`.
 * cb gets the upload and the bytes already held (0 for a new one; a part file longer than
 * size is truncated). Errors: BO_E_INVALID_ARG, BO_E_NOMEM; cb: BO_E_IO.
 * Ownership: the upload belongs to the caller (bo_vault_upload_close). */
bo_err bo_vault_upload_open(bo_vault *v, const char *oid, const char *uscc,
                            const uint8_t hash[32], uint64_t size,
                            void (*cb)(void *ud, bo_err err, bo_vault_upload *up,
                                       uint64_t offset),
                            void *ud);

/** Bytes held so far (confirmed writes). */
uint64_t bo_vault_upload_offset(const bo_vault_upload *up);

/** Append len bytes at the current end (the caller checked offset == held). One write at a
 * time per upload (BO_E_DUPLICATE_ID while one is in flight). The data is copied.
 * Errors: BO_E_TOO_BIG (past the declared size), BO_E_NOMEM; cb: BO_E_IO. */
bo_err bo_vault_upload_write(bo_vault_upload *up, const uint8_t *data, size_t len,
                             void (*cb)(void *ud, bo_err err, uint64_t offset), void *ud);

/* Called on the worker thread with the complete file before it is renamed; returns
 * BO_E_OK to accept it (e.g. the envelope's recipient check). */
typedef bo_err (*bo_vault_check_fn)(void *check_ud, const char *path, char *detail, size_t n);

/** Finish: fsync, check the size and the SHA-256, run check, rename to bids/<hash>.cms and
 * fsync the directory. cb gets the final path. On a refusal the part file is deleted (the
 * client must upload again): BO_E_BAD_FIELD (size or hash differ), or check's error.
 * Errors: BO_E_DUPLICATE_ID (a write in flight); cb: BO_E_IO, the refusals above. */
bo_err bo_vault_upload_commit(bo_vault_upload *up, bo_vault_check_fn check, void *check_ud,
                              void (*cb)(void *ud, bo_err err, const char *path,
                                         const char *detail),
                              void *ud);

/** Close the file (the part file stays for a resume). Safe with an operation in flight: the
 * upload is freed when it completes (its callback still runs). Accepts NULL. */
void bo_vault_upload_close(bo_vault_upload *up);

#endif
