/* bidopen: a hash map from byte-string keys to pointers (open addressing, linear probing).
 * Keys are copied; values are borrowed. Not thread-safe: one owner thread. */
#ifndef BO_MAP_H
#define BO_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

typedef struct bo_map bo_map;

/** Ownership: the caller frees with bo_map_free (accepts NULL). Errors: NULL, *err set. */
bo_map *bo_map_new(bo_err *err);
/** Frees the map and its key copies, not the values. */
void bo_map_free(bo_map *m);

/** Insert or replace. Errors: BO_E_NOMEM (map unchanged). */
bo_err bo_map_put(bo_map *m, const void *key, size_t klen, void *val);
/** The value, or NULL. */
void *bo_map_get(const bo_map *m, const void *key, size_t klen);
/** Remove; returns the old value or NULL. */
void *bo_map_del(bo_map *m, const void *key, size_t klen);
size_t bo_map_count(const bo_map *m);

/* String and integer key shorthands. */
bo_err bo_map_put_str(bo_map *m, const char *key, void *val);
void *bo_map_get_str(const bo_map *m, const char *key);
void *bo_map_del_str(bo_map *m, const char *key);
bo_err bo_map_put_u64(bo_map *m, uint64_t key, void *val);
void *bo_map_get_u64(const bo_map *m, uint64_t key);
void *bo_map_del_u64(bo_map *m, uint64_t key);

/** Iterate: start with *pos = 0; returns 0 at the end. Do not insert while iterating
 * (deleting the current entry is allowed). */
int bo_map_next(const bo_map *m, size_t *pos, const void **key, size_t *klen, void **val);

#endif
