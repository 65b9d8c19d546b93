#include "bo/map.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint8_t *key; /* NULL: empty */
    size_t klen;
    uint64_t hash;
    void *val;
} slot;

struct bo_map {
    slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

static uint64_t hash_bytes(const void *key, size_t len)
{
    /* FNV-1a with a final avalanche (keys here are short ids, not attacker-chosen at scale,
     * but the mix keeps clustering low for sequential integers). */
    const uint8_t *p = key;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

bo_map *bo_map_new(bo_err *err)
{
    bo_map *m = calloc(1, sizeof(*m));
    if (m)
        m->slots = calloc(16, sizeof(slot));
    if (!m || !m->slots) {
        free(m);
        *err = BO_E_NOMEM;
        return NULL;
    }
    m->cap = 16;
    return m;
}

void bo_map_free(bo_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static size_t find(const bo_map *m, const void *key, size_t klen, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0))
            return i;
    }
}

static bo_err grow(bo_map *m)
{
    size_t ncap = m->cap * 2;
    slot *ns = calloc(ncap, sizeof(slot));
    if (!ns)
        return BO_E_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        slot *s = &m->slots[i];
        if (!s->key)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return BO_E_OK;
}

bo_err bo_map_put(bo_map *m, const void *key, size_t klen, void *val)
{
    uint64_t h = hash_bytes(key, klen);
    size_t i = find(m, key, klen, h);
    if (m->slots[i].key) {
        m->slots[i].val = val;
        return BO_E_OK;
    }
    if ((m->count + 1) * 4 > m->cap * 3) {
        if (grow(m))
            return BO_E_NOMEM;
        i = find(m, key, klen, h);
    }
    uint8_t *k = malloc(klen ? klen : 1);
    if (!k)
        return BO_E_NOMEM;
    memcpy(k, key, klen);
    m->slots[i] = (slot){k, klen, h, val};
    m->count++;
    return BO_E_OK;
}

void *bo_map_get(const bo_map *m, const void *key, size_t klen)
{
    size_t i = find(m, key, klen, hash_bytes(key, klen));
    return m->slots[i].key ? m->slots[i].val : NULL;
}

void *bo_map_del(bo_map *m, const void *key, size_t klen)
{
    size_t i = find(m, key, klen, hash_bytes(key, klen));
    if (!m->slots[i].key)
        return NULL;
    void *val = m->slots[i].val;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->count--;
    /* Backward-shift deletion keeps probe chains intact. */
    size_t mask = m->cap - 1;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        /* Move j into the hole if its home is not in (hole, j]. */
        int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            m->slots[hole] = m->slots[j];
            m->slots[j].key = NULL;
            hole = j;
        }
    }
    return val;
}

size_t bo_map_count(const bo_map *m)
{
    return m->count;
}

bo_err bo_map_put_str(bo_map *m, const char *key, void *val)
{
    return bo_map_put(m, key, strlen(key), val);
}

void *bo_map_get_str(const bo_map *m, const char *key)
{
    return bo_map_get(m, key, strlen(key));
}

void *bo_map_del_str(bo_map *m, const char *key)
{
    return bo_map_del(m, key, strlen(key));
}

bo_err bo_map_put_u64(bo_map *m, uint64_t key, void *val)
{
    return bo_map_put(m, &key, sizeof(key), val);
}

void *bo_map_get_u64(const bo_map *m, uint64_t key)
{
    return bo_map_get(m, &key, sizeof(key));
}

void *bo_map_del_u64(bo_map *m, uint64_t key)
{
    return bo_map_del(m, &key, sizeof(key));
}

int bo_map_next(const bo_map *m, size_t *pos, const void **key, size_t *klen, void **val)
{
    while (*pos < m->cap) {
        slot *s = &m->slots[(*pos)++];
        if (s->key) {
            if (key)
                *key = s->key;
            if (klen)
                *klen = s->klen;
            if (val)
                *val = s->val;
            return 1;
        }
    }
    return 0;
}
