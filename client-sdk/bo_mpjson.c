#include "bo/mpjson.h"

#include <math.h>

#include "bo/hex.h"
#include "bo/json_esc.h"

static bo_err hex_append(bo_buf *out, const char *p, size_t n)
{
    uint8_t *dst;
    bo_err err = bo_buf_append(out, "\"", 1);
    if (!err && n > (SIZE_MAX - 2) / 2)
        err = BO_E_TOO_BIG;
    if (!err)
        err = bo_buf_reserve(out, 2 * n + 1, &dst);
    if (err)
        return err;
    bo_hex_encode((const uint8_t *)p, n, (char *)dst);
    bo_buf_commit(out, 2 * n);
    return bo_buf_append(out, "\"", 1);
}

static bo_err append(bo_buf *out, const msgpack_object *o, unsigned depth);

static bo_err append_key(bo_buf *out, const msgpack_object *k, unsigned depth)
{
    if (k->type == MSGPACK_OBJECT_STR)
        return bo_json_esc_append_n(out, k->via.str.ptr, k->via.str.size);
    /* a non-string key: its JSON text, as a string */
    bo_buf tmp;
    bo_buf_init(&tmp, out->cap);
    bo_err err = append(&tmp, k, depth);
    if (!err)
        err = bo_json_esc_append_n(out, tmp.data ? (const char *)tmp.data : "", tmp.len);
    bo_buf_cleanup(&tmp);
    return err;
}

static bo_err append(bo_buf *out, const msgpack_object *o, unsigned depth)
{
    bo_err err = BO_E_OK;
    if ((o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP) &&
        depth > BO_MPJSON_MAX_DEPTH)
        return BO_E_TOO_DEEP; /* containers count; the top-level one is depth 1 */
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return bo_buf_append_str(out, "null");
    case MSGPACK_OBJECT_BOOLEAN:
        return bo_buf_append_str(out, o->via.boolean ? "true" : "false");
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return bo_buf_appendf(out, "%llu", (unsigned long long)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return bo_buf_appendf(out, "%lld", (long long)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64))
            return bo_buf_append_str(out, "null");
        return bo_buf_appendf(out, "%.17g", o->via.f64);
    case MSGPACK_OBJECT_STR:
        return bo_json_esc_append_n(out, o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return hex_append(out, o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        return hex_append(out, o->via.ext.ptr, o->via.ext.size);
    case MSGPACK_OBJECT_ARRAY:
        err = bo_buf_append(out, "[", 1);
        for (uint32_t i = 0; !err && i < o->via.array.size; i++) {
            if (i)
                err = bo_buf_append(out, ",", 1);
            if (!err)
                err = append(out, &o->via.array.ptr[i], depth + 1);
        }
        return err ? err : bo_buf_append(out, "]", 1);
    case MSGPACK_OBJECT_MAP:
        err = bo_buf_append(out, "{", 1);
        for (uint32_t i = 0; !err && i < o->via.map.size; i++) {
            if (i)
                err = bo_buf_append(out, ",", 1);
            if (!err)
                err = append_key(out, &o->via.map.ptr[i].key, depth + 1);
            if (!err)
                err = bo_buf_append(out, ":", 1);
            if (!err)
                err = append(out, &o->via.map.ptr[i].val, depth + 1);
        }
        return err ? err : bo_buf_append(out, "}", 1);
    }
    return bo_buf_append_str(out, "null");
}

bo_err bo_mpjson_append(bo_buf *out, const msgpack_object *o)
{
    return append(out, o, 1);
}
