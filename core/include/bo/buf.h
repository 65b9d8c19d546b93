/* bidopen: a growable byte buffer with a hard cap fixed at init (curl dynbuf). */
#ifndef BO_BUF_H
#define BO_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

typedef struct bo_buf {
    uint8_t *data; /* NULL until the first append; always NUL-terminated past len when non-NULL */
    size_t len;
    size_t alloc;
    size_t cap; /* appends that would make len > cap fail with BO_E_TOO_BIG */
} bo_buf;

/** Start an empty buffer that may hold at most cap bytes. No allocation happens here.
 * Ownership: the caller owns b and must call bo_buf_cleanup(). */
void bo_buf_init(bo_buf *b, size_t cap);

/** Release the memory. Safe on a zeroed or already cleaned buffer. */
void bo_buf_cleanup(bo_buf *b);

/** Same as bo_buf_cleanup but wipes the bytes first (for secrets kept in a bo_buf). */
void bo_buf_cleanup_wipe(bo_buf *b);

/** Drop the content, keep the allocation. */
void bo_buf_reset(bo_buf *b);

/** Append n bytes. Errors: BO_E_TOO_BIG (content unchanged), BO_E_NOMEM. */
bo_err bo_buf_append(bo_buf *b, const void *p, size_t n);

/** Append a NUL-terminated string (without its NUL). Errors as bo_buf_append. */
bo_err bo_buf_append_str(bo_buf *b, const char *s);

/** printf-style append. Errors as bo_buf_append, BO_E_INVALID_ARG on a format error. */
bo_err bo_buf_appendf(bo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Make room for n more bytes and return a pointer to them (len is not changed; call
 * bo_buf_commit after writing). Errors as bo_buf_append; *out is NULL on error. */
bo_err bo_buf_reserve(bo_buf *b, size_t n, uint8_t **out);

/** Mark n bytes written after bo_buf_reserve. n must not exceed what was reserved. */
void bo_buf_commit(bo_buf *b, size_t n);

/** Take the data out: returns the malloc'd bytes (NUL-terminated) and leaves b empty.
 * Ownership: the caller frees the result with free(). Returns NULL for an empty buffer. */
uint8_t *bo_buf_steal(bo_buf *b, size_t *len);

#endif
