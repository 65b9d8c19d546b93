/* bidopen: borrowed byte strings and lists of them (certificate chains, blobs). */
#ifndef BO_BYTES_H
#define BO_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

/* A byte string that points into memory someone else owns. */
typedef struct bo_bytes {
    const uint8_t *p;
    size_t len;
} bo_bytes;

/* A list of byte strings (e.g. a certificate chain, leaf first). */
typedef struct bo_bytes_list {
    bo_bytes *v;
    size_t n;
} bo_bytes_list;

/* An owned list: every element and the array are malloc'd. */
typedef struct bo_blob_list {
    bo_bytes_list list; /* view of the owned data */
} bo_blob_list;

/** Append a copy of p[0..len). Errors: BO_E_NOMEM. */
bo_err bo_blob_list_push(bo_blob_list *l, const void *p, size_t len);
/** Free every element. Safe on a zeroed list. */
void bo_blob_list_cleanup(bo_blob_list *l);

#endif
