#include "bo/cursor.h"

#include <string.h>

void bo_cursor_init(bo_cursor *c)
{
    memset(c, 0, sizeof(*c));
}

bool bo_cursor_is_private(const char *st)
{
    return st && (strcmp(st, "staff") == 0 || strcmp(st, "b") == 0);
}

static bo_cursor_verdict step(uint64_t *cur, uint64_t seq)
{
    if (seq <= *cur)
        return BO_CURSOR_DUP;
    if (seq != *cur + 1)
        return BO_CURSOR_GAP;
    *cur = seq;
    return BO_CURSOR_DELIVER;
}

bo_cursor_verdict bo_cursor_accept(bo_cursor *c, const char *st, uint64_t seq)
{
    if (!c->set || !st || seq == 0)
        return BO_CURSOR_INVALID;
    if (c->all)
        return strcmp(st, "all") == 0 ? step(&c->seq, seq) : BO_CURSOR_INVALID;
    if (strcmp(st, "pub") == 0)
        return step(&c->pub, seq);
    if (bo_cursor_is_private(st))
        return step(&c->priv, seq);
    return BO_CURSOR_INVALID;
}

/* A uint under key in a msgpack map; false when absent or not a non-negative integer. */
static bool pos_get(const msgpack_object *map, const char *key, uint64_t *out, bool *present)
{
    size_t klen = strlen(key);
    *present = false;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != klen ||
            memcmp(kv->key.via.str.ptr, key, klen) != 0)
            continue;
        if (*present || kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return false;
        *present = true;
        *out = kv->val.via.u64;
    }
    return true;
}

bo_err bo_cursor_join(bo_cursor *c, const msgpack_object *pos, bool *recovered)
{
    if (!pos || pos->type != MSGPACK_OBJECT_MAP)
        return BO_E_BAD_FIELD;
    uint64_t pub = 0, priv = 0, all = 0;
    bool has_pub, has_priv, has_all;
    if (!pos_get(pos, "pub", &pub, &has_pub) || !pos_get(pos, "priv", &priv, &has_priv) ||
        !pos_get(pos, "all", &all, &has_all))
        return BO_E_BAD_FIELD;
    bool is_all;
    if (has_all && !has_pub && !has_priv && pos->via.map.size == 1)
        is_all = true;
    else if (!has_all && has_pub && pos->via.map.size == (has_priv ? 2u : 1u))
        is_all = false; /* priv may be absent for roles with no private stream */
    else
        return BO_E_BAD_FIELD;

    bool keep = *recovered && c->set && c->all == is_all &&
                (is_all ? c->seq <= all : (c->pub <= pub && c->priv <= priv));
    if (!keep) {
        c->all = is_all;
        c->seq = all;
        c->pub = pub;
        c->priv = priv;
        *recovered = false;
    }
    c->set = true;
    return BO_E_OK;
}
