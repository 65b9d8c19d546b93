/* bidopen tests: tampering with a log, as a forger would (cmocka; header only).
 *
 * The verifier's tests change events of a real or generated log and check that
 * `bo_verify` says exactly what is wrong: a member of a body set to another value (the chain
 * hash is left as it was, unless the caller recomputes it with bo_event_compute_hash), an
 * event dropped, two events swapped. Used by tests/unit/session (generated openings) and
 * tests/integration/test_record.c (the transcript of an opening through the real server).
 */
#ifndef BO_TAMPER_H
#define BO_TAMPER_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/event.h"
#include "bo/wire.h"

/* The event with this seq in l (fails the test when there is none). */
static inline bo_event *bo_tamper_at(bo_event_list *l, uint64_t seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].seq == seq)
            return &l->v[i];
    fail_msg("no event %llu", (unsigned long long)seq);
    return NULL;
}

/* A map rebuilt with the member at a dotted path set to val (canonical msgpack). */
static inline void bo_tamper_rebuild(const msgpack_object *o, const char *path,
                                     const bo_buf *val, bo_buf *out)
{
    const char *dot = strchr(path, '.');
    size_t head = dot ? (size_t)(dot - path) : strlen(path);
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bool seen = false;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        char k[64];
        snprintf(k, sizeof(k), "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
        bo_buf v;
        bo_buf_init(&v, 1 << 20);
        if (strlen(k) == head && !strncmp(k, path, head)) {
            seen = true;
            if (dot)
                bo_tamper_rebuild(&kv->val, dot + 1, val, &v);
            else
                bo_buf_append(&v, val->data, val->len);
        } else {
            assert_int_equal(bo_mp_canonical(&v, &kv->val), BO_E_OK);
        }
        bo_mpmap_raw(m, k, v.data, v.len);
        bo_buf_cleanup(&v);
    }
    assert_true(seen);
    assert_int_equal(bo_mpmap_finish(m, out), BO_E_OK);
    bo_mpmap_free(m);
}

/* Sets a member of an event's body (the hash is left as it was). */
static inline void bo_tamper_set(bo_event *ev, const char *path, const bo_buf *val)
{
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(ev->body, ev->body_len, &z, &o), BO_E_OK);
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    bo_tamper_rebuild(&o, path, val, &b);
    msgpack_zone_free(z);
    free(ev->body);
    ev->body = bo_buf_steal(&b, &ev->body_len);
    bo_buf_cleanup(&b);
}

static inline void bo_tamper_set_str(bo_event *ev, const char *path, const char *s)
{
    bo_buf v;
    bo_buf_init(&v, 4096);
    bo_mp_str(&v, s, strlen(s));
    bo_tamper_set(ev, path, &v);
    bo_buf_cleanup(&v);
}

static inline void bo_tamper_set_bin(bo_event *ev, const char *path, const uint8_t *p, size_t n)
{
    bo_buf v;
    bo_buf_init(&v, 4096);
    bo_mp_bin(&v, p, n);
    bo_tamper_set(ev, path, &v);
    bo_buf_cleanup(&v);
}

/* Removes the event with this seq from the list. */
static inline void bo_tamper_drop(bo_event_list *l, uint64_t seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].seq == seq) {
            bo_event_cleanup(&l->v[i]);
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(bo_event));
            l->n--;
            return;
        }
    fail_msg("no event %llu to drop", (unsigned long long)seq);
}

/* Swaps the events with seq a and b in the list (their content is left as it was). */
static inline void bo_tamper_swap(bo_event_list *l, uint64_t a, uint64_t b)
{
    bo_event *x = bo_tamper_at(l, a), *y = bo_tamper_at(l, b);
    bo_event tmp = *x;
    *x = *y;
    *y = tmp;
}

#endif
