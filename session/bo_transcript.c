/* bidopen: the transcript of an opening (docs/transcript.md): its log in one canonical
 * msgpack file, whole or with the private bodies replaced by their hashes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hash.h"
#include "bo/session.h"
#include "bo/tender.h"
#include "bo/transcript.h"
#include "bo/wire.h"

/* The storage record's caps (bo_event.c), two levels deeper for the transcript's map and
 * its events array. */
static const bo_wire_caps transcript_caps = {.frame = BO_TRANSCRIPT_MAX_BYTES,
                                             .depth = 10,
                                             .elems = 32u << 20,
                                             .str = 64u << 10,
                                             .bin = 64u << 10};
#define RECORD_MAX (4u << 20)

const char *bo_transcript_kind_name(bo_transcript_kind k)
{
    switch (k) {
    case BO_TRANSCRIPT_FULL:
        return "full";
    case BO_TRANSCRIPT_PUBLIC:
        return "public";
    default:
        return NULL;
    }
}

static bo_err say(char *detail, size_t n, bo_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bo_err say(char *detail, size_t n, bo_err err, const char *fmt, ...)
{
    if (detail && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, n, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* ------------------------------------------------------------------ writing ---- */

/* One record: the storage record, or with its body replaced by body_hash. */
static bo_err put_event(bo_buf *out, const bo_event *ev, const uint8_t *body_hash,
                        bool withhold)
{
    if (!withhold)
        return bo_event_encode_record(ev, out);
    char aud[24];
    const char *kind = bo_event_kind_name(ev->kind);
    uint8_t h[32];
    if (!kind)
        return BO_E_INVALID_ARG;
    if (!body_hash) {
        if (!ev->body || !ev->body_len)
            return BO_E_INVALID_ARG;
        bo_sha256(ev->body, ev->body_len, h);
        body_hash = h;
    }
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "aud", bo_event_aud_string(ev, aud, sizeof(aud)));
    bo_mpmap_bin(m, "body_hash", body_hash, 32);
    bo_mpmap_bin(m, "hash", ev->hash, 32);
    bo_mpmap_str(m, "kind", kind);
    bo_mpmap_bin(m, "prev", ev->prev_hash, 32);
    bo_mpmap_u64(m, "seq", ev->seq);
    bo_mpmap_i64(m, "ts", ev->ts);
    err = bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    return err;
}

/* The members after "events", in key order: kind, oid, server, v. */
static bo_err put_trailer(bo_buf *out, const char *oid, bo_transcript_kind kind,
                          const bo_transcript_server *server)
{
    const char *k = bo_transcript_kind_name(kind);
    bo_err err = bo_mp_str(out, "kind", 4);
    if (!err)
        err = bo_mp_str(out, k, strlen(k));
    if (!err)
        err = bo_mp_str(out, "oid", 3);
    if (!err)
        err = bo_mp_str(out, oid, strlen(oid));
    if (!err)
        err = bo_mp_str(out, "server", 6);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        if (server->cert.len)
            bo_mpmap_bin(m, "cert", server->cert.p, server->cert.len);
        bo_mpmap_bin(m, "key_fpr", server->key_fpr, 32);
        bo_mpmap_bin(m, "spki", server->spki.p, server->spki.len);
        err = bo_mpmap_finish(m, out);
        bo_mpmap_free(m);
    }
    if (!err)
        err = bo_mp_str(out, "v", 1);
    if (!err)
        err = bo_mp_u64(out, BO_TRANSCRIPT_VERSION);
    return err;
}

/* Where the events come from: a getter, or a parsed transcript (which may withhold). */
typedef struct source {
    size_t n;
    bo_transcript_get_fn get;
    void *ud;
    const bo_transcript_event *tev;
} source;

static bo_err build(const char *oid, bo_transcript_kind kind, const bo_transcript_server *server,
                    const source *src, bo_buf *out)
{
    if (!oid || !bo_oid_valid(oid) || !bo_transcript_kind_name(kind) || !server ||
        !server->spki.len || src->n > BO_TRANSCRIPT_MAX_EVENTS)
        return BO_E_INVALID_ARG;
    size_t mark = out->len;
    static const uint8_t map5 = 0x85; /* fixmap of 5: events, kind, oid, server, v */
    bo_err err = bo_buf_append(out, &map5, 1);
    if (!err)
        err = bo_mp_str(out, "events", 6);
    if (!err)
        err = bo_mp_array_header(out, (uint32_t)src->n);
    for (size_t i = 0; i < src->n && !err; i++) {
        const bo_event *ev = src->tev ? &src->tev[i].ev : src->get(src->ud, i);
        const uint8_t *bh = src->tev && src->tev[i].withheld ? src->tev[i].body_hash : NULL;
        if (!ev)
            err = BO_E_INVALID_ARG;
        else
            err = put_event(out, ev, bh,
                            bh != NULL || (kind == BO_TRANSCRIPT_PUBLIC && ev->aud != BO_AUD_PUB));
    }
    if (!err)
        err = put_trailer(out, oid, kind, server);
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

bo_err bo_transcript_build(const char *oid, bo_transcript_kind kind,
                           const bo_transcript_server *server, size_t n, bo_transcript_get_fn get,
                           void *ud, bo_buf *out)
{
    if (!get && n)
        return BO_E_INVALID_ARG;
    source src = {n, get, ud, NULL};
    return build(oid, kind, server, &src, out);
}

static const bo_event *list_get(void *ud, size_t i)
{
    return &((const bo_event_list *)ud)->v[i];
}

bo_err bo_transcript_build_list(const char *oid, bo_transcript_kind kind,
                                const bo_transcript_server *server, const bo_event_list *evs,
                                bo_buf *out)
{
    return bo_transcript_build(oid, kind, server, evs->n, list_get, (void *)evs, out);
}

/* ------------------------------------------------------------------ reading ---- */

/* What a parsed transcript owns besides the struct: its events' bodies and the server's
 * certificate and key. */
typedef struct tmem {
    uint8_t *cert;
    uint8_t *spki;
} tmem;

void bo_transcript_free(bo_transcript *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_events; i++)
        bo_event_cleanup(&t->events[i].ev);
    free(t->events);
    tmem *m = t->mem;
    if (m) {
        free(m->cert);
        free(m->spki);
        free(m);
    }
    free(t);
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static bool is_str(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           !memcmp(o->via.str.ptr, s, o->via.str.size);
}

/* A withheld record {aud, body_hash, hash, kind, prev, seq, ts}: decoded as a storage
 * record with an empty body (the same checks of aud, kind, hashes, seq, ts), then the body
 * dropped. */
static bo_err decode_withheld(const msgpack_object *o, bo_transcript_event *te)
{
    const uint8_t *bh;
    size_t bh_len;
    if (o->via.map.size != 7 || !bo_mpo_bin(o, "body_hash", &bh, &bh_len) || bh_len != 32)
        return BO_E_BAD_FIELD;
    bo_err err = BO_E_OK;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    static const uint8_t empty_map = 0x80;
    for (uint32_t i = 0; i < o->via.map.size && !err; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size > 16) {
            err = BO_E_BAD_FIELD;
            break;
        }
        char key[17];
        memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
        key[kv->key.via.str.size] = 0;
        if (!strcmp(key, "body_hash")) {
            err = bo_mpmap_raw(m, "body", &empty_map, 1);
            continue;
        }
        bo_buf v;
        bo_buf_init(&v, 1024);
        err = bo_mp_canonical(&v, &kv->val);
        if (!err)
            err = bo_mpmap_raw(m, key, v.data, v.len);
        bo_buf_cleanup(&v);
    }
    bo_buf rec;
    bo_buf_init(&rec, 4096);
    if (!err)
        err = bo_mpmap_finish(m, &rec);
    bo_mpmap_free(m);
    if (!err)
        err = bo_event_decode_record(NULL, rec.data, rec.len, &te->ev);
    bo_buf_cleanup(&rec);
    if (err)
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    bo_event_cleanup(&te->ev);
    te->withheld = true;
    memcpy(te->body_hash, bh, 32);
    return BO_E_OK;
}

static bo_err decode_full(const msgpack_object *o, bo_transcript_event *te)
{
    bo_buf rec;
    bo_buf_init(&rec, RECORD_MAX);
    bo_err err = bo_mp_canonical(&rec, o);
    if (!err)
        err = bo_event_decode_record(NULL, rec.data, rec.len, &te->ev);
    bo_buf_cleanup(&rec);
    if (!err)
        bo_sha256(te->ev.body, te->ev.body_len, te->body_hash);
    return err;
}

/* Names the member of one record that is wrong, for the detail. */
static const char *record_problem(const msgpack_object *o)
{
    static const char *const keys[] = {"aud", "hash", "kind", "prev", "seq", "ts"};
    const char *s;
    size_t n;
    const uint8_t *b;
    uint64_t u;
    int64_t i64;
    bo_event_kind k;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!bo_mpo_get(o, keys[i]))
            return keys[i];
    if (!bo_mpo_str(o, "kind", &s, &n) || n > 63)
        return "kind";
    char kind[64];
    memcpy(kind, s, n);
    kind[n] = 0;
    if (bo_event_kind_parse(kind, &k))
        return "kind: not an event kind";
    if (!bo_mpo_bin(o, "hash", &b, &n) || n != 32)
        return "hash";
    if (!bo_mpo_bin(o, "prev", &b, &n) || n != 32)
        return "prev";
    if (!bo_mpo_u64(o, "seq", &u))
        return "seq";
    if (!bo_mpo_i64(o, "ts", &i64))
        return "ts";
    if (!bo_mpo_str(o, "aud", &s, &n))
        return "aud";
    return "aud or body";
}

static bo_err parse_events(const msgpack_object *a, bo_transcript *t, char *detail, size_t dn)
{
    if (!a || a->type != MSGPACK_OBJECT_ARRAY)
        return say(detail, dn, BO_E_BAD_FIELD, "events: missing or not an array");
    if (a->via.array.size > BO_TRANSCRIPT_MAX_EVENTS)
        return say(detail, dn, BO_E_TOO_MANY, "events: more than %u", BO_TRANSCRIPT_MAX_EVENTS);
    t->events = calloc(a->via.array.size ? a->via.array.size : 1, sizeof(*t->events));
    if (!t->events)
        return BO_E_NOMEM;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        const msgpack_object *o = &a->via.array.ptr[i];
        bo_transcript_event *te = &t->events[i];
        uint64_t seq = 0;
        if (o->type != MSGPACK_OBJECT_MAP)
            return say(detail, dn, BO_E_BAD_FIELD, "event at position %u: not a map", i);
        bo_mpo_u64(o, "seq", &seq);
        bo_err err = bo_mpo_get(o, "body_hash") ? decode_withheld(o, te) : decode_full(o, te);
        if (err == BO_E_NOMEM)
            return err;
        if (err)
            return say(detail, dn, BO_E_BAD_FIELD, "event %llu (position %u): %s",
                       (unsigned long long)seq, i, record_problem(o));
        t->n_events++;
    }
    return BO_E_OK;
}

static bo_err parse_server(const msgpack_object *o, bo_transcript *t, char *detail, size_t dn)
{
    tmem *m = t->mem;
    const uint8_t *p;
    size_t n;
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return say(detail, dn, BO_E_BAD_FIELD, "server: missing or not a map");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (!is_str(k, "cert") && !is_str(k, "key_fpr") && !is_str(k, "spki"))
            return say(detail, dn, BO_E_BAD_FIELD, "server: unknown member");
    }
    if (!bo_mpo_bin(o, "key_fpr", &p, &n) || n != 32)
        return say(detail, dn, BO_E_BAD_FIELD, "server.key_fpr: missing or not 32 bytes");
    memcpy(t->server.key_fpr, p, 32);
    if (!bo_mpo_bin(o, "spki", &p, &n) || !n)
        return say(detail, dn, BO_E_BAD_FIELD, "server.spki: missing or empty");
    if (!(m->spki = dup_bytes(p, n)))
        return BO_E_NOMEM;
    t->server.spki = (bo_bytes){m->spki, n};
    if (bo_mpo_get(o, "cert")) {
        if (!bo_mpo_bin(o, "cert", &p, &n) || !n)
            return say(detail, dn, BO_E_BAD_FIELD, "server.cert: not a certificate (bin)");
        if (!(m->cert = dup_bytes(p, n)))
            return BO_E_NOMEM;
        t->server.cert = (bo_bytes){m->cert, n};
    }
    return BO_E_OK;
}

static bo_err parse_top(const msgpack_object *o, bo_transcript *t, char *detail, size_t dn)
{
    uint64_t v;
    const char *s;
    size_t n;
    if (o->type != MSGPACK_OBJECT_MAP)
        return say(detail, dn, BO_E_MALFORMED, "not a transcript: not a msgpack map");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (!is_str(k, "events") && !is_str(k, "kind") && !is_str(k, "oid") &&
            !is_str(k, "server") && !is_str(k, "v"))
            return say(detail, dn, BO_E_BAD_FIELD, "not a transcript: unknown member");
    }
    if (!bo_mpo_u64(o, "v", &v) || v != BO_TRANSCRIPT_VERSION)
        return say(detail, dn, BO_E_BAD_FIELD, "v: not a version-%d transcript",
                   BO_TRANSCRIPT_VERSION);
    t->v = (unsigned)v;
    if (!bo_mpo_str(o, "oid", &s, &n) || n >= sizeof(t->oid))
        return say(detail, dn, BO_E_BAD_FIELD, "oid: missing or too long");
    memcpy(t->oid, s, n);
    t->oid[n] = 0;
    if (!bo_oid_valid(t->oid))
        return say(detail, dn, BO_E_BAD_FIELD, "oid: not an opening id");
    if (!bo_mpo_str(o, "kind", &s, &n) ||
        !((n == 4 && !memcmp(s, "full", 4)) || (n == 6 && !memcmp(s, "public", 6))))
        return say(detail, dn, BO_E_BAD_FIELD, "kind: must be \"full\" or \"public\"");
    t->kind = n == 4 ? BO_TRANSCRIPT_FULL : BO_TRANSCRIPT_PUBLIC;
    bo_err err = parse_server(bo_mpo_get(o, "server"), t, detail, dn);
    if (!err)
        err = parse_events(bo_mpo_get(o, "events"), t, detail, dn);
    return err;
}

bo_err bo_transcript_parse(const uint8_t *p, size_t len, bo_transcript **out, char *detail,
                           size_t detail_len)
{
    *out = NULL;
    if (detail && detail_len)
        detail[0] = 0;
    bo_err err = bo_mp_check(p, len, &transcript_caps);
    if (err)
        return say(detail, detail_len, err, "not a transcript: %s", bo_strerror(err));
    bo_transcript *t = calloc(1, sizeof(*t));
    tmem *m = calloc(1, sizeof(*m));
    if (!t || !m) {
        free(t);
        free(m);
        return BO_E_NOMEM;
    }
    t->mem = m;
    msgpack_zone *z = NULL;
    msgpack_object o;
    err = bo_mp_parse(p, len, &z, &o);
    if (err)
        say(detail, detail_len, err, "not a transcript: %s", bo_strerror(err));
    else
        err = parse_top(&o, t, detail, detail_len);
    msgpack_zone_free(z);
    if (err) {
        bo_transcript_free(t);
        return err;
    }
    *out = t;
    return BO_E_OK;
}

bo_err bo_transcript_redact(const uint8_t *p, size_t len, bo_buf *out, char *detail,
                            size_t detail_len)
{
    bo_transcript *t;
    bo_err err = bo_transcript_parse(p, len, &t, detail, detail_len);
    if (err)
        return err;
    source src = {t->n_events, NULL, NULL, t->events};
    err = build(t->oid, BO_TRANSCRIPT_PUBLIC, &t->server, &src, out);
    if (err)
        say(detail, detail_len, err, "the public transcript could not be written: %s",
            bo_strerror(err));
    bo_transcript_free(t);
    return err;
}
