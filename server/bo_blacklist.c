/* bidopen-server: the credit blacklist (失信主体). Kept in Redis (hash bo:blacklist, field =
 * USCC, value = canonical msgpack {name, reason, source}), mirrored in memory on every node,
 * reloaded when any node publishes on bo:bl. Checked at registration and sign-in; the
 * interception itself becomes an event (session/). */
#include <stdlib.h>
#include <string.h>

#include "bo/log.h"
#include "bo/uscc.h"
#include "bo/utf8.h"
#include "bo_server_internal.h"

#define BL_KEY "bo:blacklist"
#define BL_CHANNEL "bo:bl"

const bo_bl_item *bo__blacklist_find(const bo_srv *srv, const char *uscc)
{
    return uscc && *uscc ? bo_map_get_str(srv->blacklist, uscc) : NULL;
}

void bo__blacklist_free(bo_srv *srv)
{
    if (!srv->blacklist)
        return;
    size_t pos = 0;
    void *v;
    while (bo_map_next(srv->blacklist, &pos, NULL, NULL, &v))
        free(v);
    bo_map_free(srv->blacklist);
    srv->blacklist = NULL;
}

static void copy_str(char *dst, size_t n, const char *s, size_t len)
{
    if (len >= n)
        len = n - 1;
    memcpy(dst, s, len);
    dst[len] = 0;
}

static void on_getall(void *ud, bo_err err, const char *const *fields, const bo_bytes *vals,
                      size_t n)
{
    bo_srv *srv = ud;
    if (err) {
        if (err != BO_E_CANCELED)
            bo_log(BO_LOG_WARN, "blacklist", NULL, 0, err, "could not load the blacklist");
        return;
    }
    bo_map *fresh = bo_map_new(&err);
    if (!fresh)
        return;
    for (size_t i = 0; i < n; i++) {
        bo_bl_item *it = calloc(1, sizeof(*it));
        if (!it)
            break;
        snprintf(it->uscc, sizeof(it->uscc), "%s", fields[i]);
        msgpack_zone *z = NULL;
        msgpack_object o;
        if (bo_mp_parse(vals[i].p, vals[i].len, &z, &o) == BO_E_OK) {
            const char *s;
            size_t len;
            if (bo_mpo_str(&o, "name", &s, &len))
                copy_str(it->name, sizeof(it->name), s, len);
            if (bo_mpo_str(&o, "reason", &s, &len))
                copy_str(it->reason, sizeof(it->reason), s, len);
            if (bo_mpo_str(&o, "source", &s, &len))
                copy_str(it->source, sizeof(it->source), s, len);
        }
        if (z)
            msgpack_zone_free(z);
        if (bo_map_put_str(fresh, it->uscc, it) != BO_E_OK)
            free(it);
    }
    bo__blacklist_free(srv);
    srv->blacklist = fresh;
    bo_log(BO_LOG_INFO, "blacklist", NULL, 0, BO_E_OK, "blacklist loaded: %zu entries", n);
}

void bo__blacklist_reload(bo_srv *srv)
{
    bo_store_hgetall(srv->store, BL_KEY, on_getall, srv);
}

/* ---- operator commands ---- */

typedef struct bl_job {
    bo_srv *srv;
    uint64_t conn_id, req_id;
    uint64_t count;
} bl_job;

static void on_published(void *ud, bo_err err)
{
    bl_job *j = ud;
    bo_conn *c = bo__conn_find(j->srv, j->conn_id);
    if (c) {
        bo_err e;
        bo_mpmap *m = bo_mpmap_new(&e);
        bo_buf b;
        bo_buf_init(&b, 256);
        if (m) {
            bo_mpmap_u64(m, "count", j->count);
            bo_mpmap_finish(m, &b);
            bo_mpmap_free(m);
        }
        bo__conn_reply_ok(c, j->req_id, b.data, b.len);
        bo_buf_cleanup(&b);
    }
    (void)err; /* the change is stored; nodes that missed the notice reload on resync */
    free(j);
}

static void after_write(bl_job *j, bo_err err)
{
    if (err) {
        bo_conn *c = bo__conn_find(j->srv, j->conn_id);
        if (c)
            bo__conn_reply_err(c, true, j->req_id,
                               err == BO_E_CANCELED ? BO_E_SHUTTING_DOWN : BO_E_STORE_UNAVAILABLE,
                               NULL);
        free(j);
        return;
    }
    bo__blacklist_reload(j->srv);
    if (bo_store_publish(j->srv->store, BL_CHANNEL, (const uint8_t *)"changed", 7, on_published,
                         j) != BO_E_OK)
        on_published(j, BO_E_STORE_UNAVAILABLE);
}

static void on_hset(void *ud, bo_err err)
{
    after_write(ud, err);
}

static void on_hdel(void *ud, bo_err err, uint64_t removed)
{
    bl_job *j = ud;
    j->count = removed;
    after_write(j, err);
}

static bool text_ok(const char *s, size_t max_chars)
{
    return s && bo_utf8_count(s, strlen(s)) <= max_chars;
}

static void bl_write(bo_conn *c, const bo_msg *m, bool replace)
{
    size_t n = m->u.bl_entries.n;
    char msg[200];
    for (size_t i = 0; i < n; i++) {
        const bo_bl_entry *e = &m->u.bl_entries.v[i];
        const char *bad = !bo_uscc_valid(e->uscc)          ? "uscc (GB 32100 check failed)"
                          : !text_ok(e->name, 200) || !*e->name ? "name (1 to 200 characters)"
                          : !text_ok(e->reason, 500)       ? "reason (at most 500 characters)"
                          : e->source && !text_ok(e->source, 200) ? "source (at most 200 characters)"
                                                                  : NULL;
        if (bad) {
            snprintf(msg, sizeof(msg), "entries[%zu].%s", i, bad);
            bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, msg);
            return;
        }
    }
    const char **fields = calloc(n ? n : 1, sizeof(*fields));
    bo_bytes *vals = calloc(n ? n : 1, sizeof(*vals));
    bo_buf *bufs = calloc(n ? n : 1, sizeof(*bufs));
    bl_job *j = calloc(1, sizeof(*j));
    bo_err err = (fields && vals && bufs && j) ? BO_E_OK : BO_E_NOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        const bo_bl_entry *e = &m->u.bl_entries.v[i];
        bo_buf_init(&bufs[i], 4096);
        bo_mpmap *mm = bo_mpmap_new(&err);
        if (!mm)
            break;
        bo_mpmap_str(mm, "name", e->name);
        bo_mpmap_str(mm, "reason", e->reason);
        bo_mpmap_str(mm, "source", e->source ? e->source : "");
        err = bo_mpmap_finish(mm, &bufs[i]);
        bo_mpmap_free(mm);
        fields[i] = e->uscc;
        vals[i].p = bufs[i].data;
        vals[i].len = bufs[i].len;
    }
    if (!err) {
        j->srv = c->srv;
        j->conn_id = c->id;
        j->req_id = m->id;
        j->count = n;
        err = bo_store_hset(c->srv->store, BL_KEY, fields, vals, n, replace, on_hset, j);
        if (!err)
            j = NULL;
    }
    if (err)
        bo__conn_reply_err(c, true, m->id,
                           err == BO_E_NOMEM ? BO_E_INTERNAL : BO_E_STORE_UNAVAILABLE, NULL);
    for (size_t i = 0; bufs && i < n; i++)
        bo_buf_cleanup(&bufs[i]);
    free(bufs);
    free(vals);
    free(fields);
    free(j);
}

static void bl_list(bo_conn *c, const bo_msg *m)
{
    bo_buf items, arr, out;
    bo_buf_init(&items, 64u << 20);
    bo_buf_init(&arr, 64u << 20);
    bo_buf_init(&out, 64u << 20);
    size_t pos = 0;
    void *v;
    uint32_t n = 0;
    while (bo_map_next(c->srv->blacklist, &pos, NULL, NULL, &v)) {
        const bo_bl_item *it = v;
        bo_err err;
        bo_mpmap *mm = bo_mpmap_new(&err);
        if (!mm)
            break;
        bo_mpmap_str(mm, "uscc", it->uscc);
        bo_mpmap_str(mm, "name", it->name);
        bo_mpmap_str(mm, "reason", it->reason);
        bo_mpmap_str(mm, "source", it->source);
        bo_mpmap_finish(mm, &items);
        bo_mpmap_free(mm);
        n++;
    }
    bo_mp_array_header(&arr, n);
    bo_buf_append(&arr, items.data, items.len);
    bo_err err;
    bo_mpmap *mm = bo_mpmap_new(&err);
    if (mm) {
        bo_mpmap_raw(mm, "entries", arr.data, arr.len);
        bo_mpmap_finish(mm, &out);
        bo_mpmap_free(mm);
    }
    bo__conn_reply_ok(c, m->id, out.data, out.len);
    bo_buf_cleanup(&items);
    bo_buf_cleanup(&arr);
    bo_buf_cleanup(&out);
}

void bo__blacklist_cmd(bo_conn *c, const bo_msg *m)
{
    bo_role role = c->actor.role;
    if (m->type == BO_MSG_BL_LIST) {
        if (role != BO_ROLE_OPERATOR && role != BO_ROLE_SUPERVISOR) {
            bo__conn_reply_err(c, true, m->id, BO_E_FORBIDDEN,
                               "only operators and supervisors read the blacklist");
            return;
        }
        bl_list(c, m);
        return;
    }
    if (role != BO_ROLE_OPERATOR) {
        bo__conn_reply_err(c, true, m->id, BO_E_FORBIDDEN, "only operators change the blacklist");
        return;
    }
    if (m->type == BO_MSG_BL_REMOVE) {
        const bo_str_list *u = &m->u.bl_remove.usccs;
        for (size_t i = 0; i < u->n; i++)
            if (!bo_uscc_valid(u->v[i])) {
                char msg[80];
                snprintf(msg, sizeof(msg), "usccs[%zu]: GB 32100 check failed", i);
                bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, msg);
                return;
            }
        bl_job *j = calloc(1, sizeof(*j));
        if (!j) {
            bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
            return;
        }
        j->srv = c->srv;
        j->conn_id = c->id;
        j->req_id = m->id;
        if (bo_store_hdel(c->srv->store, BL_KEY, u->v, u->n, on_hdel, j) != BO_E_OK) {
            free(j);
            bo__conn_reply_err(c, true, m->id, BO_E_STORE_UNAVAILABLE, NULL);
        }
        return;
    }
    bl_write(c, m, m->type == BO_MSG_BL_REPLACE);
}
