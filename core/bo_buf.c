#include "bo/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bo_buf_init(bo_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void bo_buf_cleanup(bo_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void bo_buf_cleanup_wipe(bo_buf *b)
{
    if (b->data) {
        volatile uint8_t *p = b->data;
        for (size_t i = 0; i < b->alloc; i++)
            p[i] = 0;
    }
    bo_buf_cleanup(b);
}

void bo_buf_reset(bo_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

bo_err bo_buf_reserve(bo_buf *b, size_t n, uint8_t **out)
{
    *out = NULL;
    if (n > b->cap || b->len > b->cap - n)
        return BO_E_TOO_BIG;
    size_t need = b->len + n + 1; /* +1 keeps a NUL terminator */
    if (need > b->alloc) {
        size_t na = b->alloc ? b->alloc : 64;
        while (na < need)
            na = na > SIZE_MAX / 2 ? need : na * 2;
        if (na > b->cap + 1)
            na = b->cap + 1;
        uint8_t *p = realloc(b->data, na);
        if (!p)
            return BO_E_NOMEM;
        b->data = p;
        b->alloc = na;
    }
    *out = b->data + b->len;
    return BO_E_OK;
}

void bo_buf_commit(bo_buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = 0;
}

bo_err bo_buf_append(bo_buf *b, const void *p, size_t n)
{
    uint8_t *dst;
    bo_err err = bo_buf_reserve(b, n, &dst);
    if (err)
        return err;
    if (n)
        memcpy(dst, p, n);
    bo_buf_commit(b, n);
    return BO_E_OK;
}

bo_err bo_buf_append_str(bo_buf *b, const char *s)
{
    return bo_buf_append(b, s, strlen(s));
}

bo_err bo_buf_appendf(bo_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return BO_E_INVALID_ARG;
    uint8_t *dst;
    bo_err err = bo_buf_reserve(b, (size_t)n, &dst);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bo_buf_commit(b, (size_t)n);
    return BO_E_OK;
}

uint8_t *bo_buf_steal(bo_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}
