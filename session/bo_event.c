/* bidopen: events of an opening's log, their hash chain (docs/protocol.md §7) and their
 * encodings: the storage record (Redis) and the wire frame (one per stream). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/event.h"
#include "bo/hash.h"
#include "bo/session.h"
#include "bo/wire.h"

/* Caps for one storage record: larger than a wire frame (a registration carries two
 * certificate chains, bidders_revealed every bidder), still bounded. */
static const bo_wire_caps record_caps = {
    .frame = 4u << 20, .depth = 8, .elems = 200000, .str = 64u << 10, .bin = 64u << 10};

static const char *const kind_names[BO_EV__COUNT] = {
    [BO_EV_OPENING_CREATED] = "opening_created",
    [BO_EV_PHASE_CHANGED] = "phase_changed",
    [BO_EV_BIDDER_REGISTERED] = "bidder_registered",
    [BO_EV_TALLY] = "tally",
    [BO_EV_BIDDER_SIGNED_IN] = "bidder_signed_in",
    [BO_EV_BIDDER_INTERCEPTED] = "bidder_intercepted",
    [BO_EV_BIDDERS_REVEALED] = "bidders_revealed",
    [BO_EV_PAUSED] = "paused",
    [BO_EV_RESUMED] = "resumed",
    [BO_EV_HEAD_SIGNED] = "head_signed",
    [BO_EV_BID_SUBMITTED] = "bid_submitted",
    [BO_EV_DECRYPTION_STARTED] = "decryption_started",
    [BO_EV_DECRYPT_REQUEST] = "decrypt_request",
    [BO_EV_DECRYPT_REFUSED] = "decrypt_refused",
    [BO_EV_DECRYPT_DIAGNOSTIC] = "decrypt_diagnostic",
    [BO_EV_BID_DECRYPTED] = "bid_decrypted",
    [BO_EV_BID_FORM] = "bid_form",
    [BO_EV_DECRYPTION_EXTENDED] = "decryption_extended",
    [BO_EV_DECRYPTION_WINDOW_CLOSED] = "decryption_window_closed",
    [BO_EV_BID_CLASSIFIED] = "bid_classified",
    [BO_EV_BID_ANNOUNCED] = "bid_announced",
    [BO_EV_DRAW_RESULT] = "draw_result",
    [BO_EV_BENCHMARK_PRICE] = "benchmark_price",
    [BO_EV_CONFIRMATION_OPENED] = "confirmation_opened",
    [BO_EV_BIDDER_CONFIRMED] = "bidder_confirmed",
    [BO_EV_OBJECTION] = "objection",
    [BO_EV_OBJECTION_ANSWERED] = "objection_answered",
    [BO_EV_MESSAGE] = "message",
    [BO_EV_CONFIRMATION_WINDOW_CLOSED] = "confirmation_window_closed",
    [BO_EV_OPENING_CLOSED] = "opening_closed",
};

const char *bo_event_kind_name(bo_event_kind k)
{
    if (k <= BO_EV_NONE || k >= BO_EV__COUNT)
        return NULL;
    return kind_names[k];
}

bo_err bo_event_kind_parse(const char *s, bo_event_kind *out)
{
    for (int k = BO_EV_NONE + 1; s && k < BO_EV__COUNT; k++)
        if (!strcmp(s, kind_names[k])) {
            *out = (bo_event_kind)k;
            return BO_E_OK;
        }
    return BO_E_BAD_FIELD;
}

const char *bo_event_aud_string(const bo_event *ev, char *out, size_t n)
{
    switch (ev->aud) {
    case BO_AUD_PUB:
        snprintf(out, n, "pub");
        break;
    case BO_AUD_STAFF:
        snprintf(out, n, "staff");
        break;
    case BO_AUD_SUP:
        snprintf(out, n, "sup");
        break;
    case BO_AUD_BIDDER:
        snprintf(out, n, "b:%.18s", ev->aud_uscc);
        break;
    default:
        snprintf(out, n, "?");
        break;
    }
    return out;
}

/* Parses an audience string into ev->aud / ev->aud_uscc. */
static bo_err aud_parse(const char *s, size_t n, bo_event *ev)
{
    static const struct {
        const char *name;
        bo_aud aud;
    } simple[] = {{"pub", BO_AUD_PUB}, {"staff", BO_AUD_STAFF}, {"sup", BO_AUD_SUP}};
    for (size_t i = 0; i < 3; i++)
        if (strlen(simple[i].name) == n && !memcmp(s, simple[i].name, n)) {
            ev->aud = simple[i].aud;
            return BO_E_OK;
        }
    if (n != 20 || memcmp(s, "b:", 2))
        return BO_E_BAD_FIELD;
    for (size_t i = 2; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
            return BO_E_BAD_FIELD;
    ev->aud = BO_AUD_BIDDER;
    memcpy(ev->aud_uscc, s + 2, 18);
    ev->aud_uscc[18] = 0;
    return BO_E_OK;
}

/* ------------------------------------------------------------------- chain ---- */

/* canonical([oid, seq, ts, kind, aud, body_hash, prev_hash]) */
static bo_err chain_payload(const char *oid, const bo_event *ev, const uint8_t body_hash[32],
                            bo_buf *out)
{
    char aud[24];
    const char *kind = bo_event_kind_name(ev->kind);
    bo_event_aud_string(ev, aud, sizeof(aud));
    if (!kind)
        kind = "";
    bo_err err = bo_mp_array_header(out, 7);
    if (!err)
        err = bo_mp_str(out, oid, strlen(oid));
    if (!err)
        err = bo_mp_u64(out, ev->seq);
    if (!err)
        err = bo_mp_i64(out, ev->ts);
    if (!err)
        err = bo_mp_str(out, kind, strlen(kind));
    if (!err)
        err = bo_mp_str(out, aud, strlen(aud));
    if (!err)
        err = bo_mp_bin(out, body_hash, 32);
    if (!err)
        err = bo_mp_bin(out, ev->prev_hash, 32);
    return err;
}

void bo_event_compute_hash(const char *oid, const bo_event *ev, uint8_t out[32])
{
    uint8_t body_hash[32];
    bo_sha256(ev->body, ev->body_len, body_hash);
    bo_event_chain_hash(oid, ev, body_hash, out);
}

void bo_event_chain_hash(const char *oid, const bo_event *ev, const uint8_t body_hash[32],
                         uint8_t out[32])
{
    static const char ctx[] = "bidopen/event/v1"; /* followed by its NUL, as 0x00 */
    /* The payload is bounded (oid <= 64, kind and aud short, two 32-byte hashes), so it
     * is built in a stack array: a bo_buf never reallocates below its allocation. */
    uint8_t mem[sizeof(ctx) + 512];
    bo_buf b = {mem, 0, sizeof(mem), sizeof(mem) - 1};
    bo_err err = bo_buf_append(&b, ctx, sizeof(ctx));
    if (!err && strlen(oid) <= 64)
        err = chain_payload(oid, ev, body_hash, &b);
    else
        err = BO_E_INVALID_ARG;
    if (err) {
        memset(out, 0, 32); /* an invalid oid never verifies */
        return;
    }
    bo_sha256(b.data, b.len, out);
}

/* ------------------------------------------------------------------ memory ---- */

void bo_event_cleanup(bo_event *ev)
{
    free(ev->body);
    ev->body = NULL;
    ev->body_len = 0;
}

bo_err bo_event_copy(bo_event *dst, const bo_event *src)
{
    uint8_t *body = malloc(src->body_len ? src->body_len : 1);
    if (!body)
        return BO_E_NOMEM;
    if (src->body_len)
        memcpy(body, src->body, src->body_len);
    *dst = *src;
    dst->body = body;
    return BO_E_OK;
}

void bo_event_list_init(bo_event_list *l)
{
    memset(l, 0, sizeof(*l));
}

void bo_event_list_cleanup(bo_event_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        bo_event_cleanup(&l->v[i]);
    free(l->v);
    bo_event_list_init(l);
}

bo_err bo_event_list_push(bo_event_list *l, bo_event *ev)
{
    if (l->n == l->alloc) {
        size_t na = l->alloc ? l->alloc * 2 : 4;
        bo_event *v = realloc(l->v, na * sizeof(*v));
        if (!v)
            return BO_E_NOMEM;
        l->v = v;
        l->alloc = na;
    }
    l->v[l->n++] = *ev;
    memset(ev, 0, sizeof(*ev));
    return BO_E_OK;
}

/* ------------------------------------------------------------------ record ---- */

bo_err bo_event_encode_record(const bo_event *ev, bo_buf *out)
{
    char aud[24];
    const char *kind = bo_event_kind_name(ev->kind);
    if (!kind || !ev->body || !ev->body_len)
        return BO_E_INVALID_ARG;
    bo_err err = BO_E_OK;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "aud", bo_event_aud_string(ev, aud, sizeof(aud)));
    bo_mpmap_raw(m, "body", ev->body, ev->body_len);
    bo_mpmap_bin(m, "hash", ev->hash, 32);
    bo_mpmap_str(m, "kind", kind);
    bo_mpmap_bin(m, "prev", ev->prev_hash, 32);
    bo_mpmap_u64(m, "seq", ev->seq);
    bo_mpmap_i64(m, "ts", ev->ts);
    err = bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    return err;
}

static bo_err record_str(const msgpack_object *o, const char *key, char *dst, size_t n)
{
    const char *s;
    size_t len;
    if (!bo_mpo_str(o, key, &s, &len) || len >= n)
        return BO_E_BAD_FIELD;
    memcpy(dst, s, len);
    dst[len] = 0;
    return BO_E_OK;
}

static bo_err record_hash(const msgpack_object *o, const char *key, uint8_t dst[32])
{
    const uint8_t *p;
    size_t len;
    if (!bo_mpo_bin(o, key, &p, &len) || len != 32)
        return BO_E_BAD_FIELD;
    memcpy(dst, p, 32);
    return BO_E_OK;
}

static bo_err record_fields(const msgpack_object *o, bo_event *ev)
{
    char aud[24], kind[32];
    if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != 7)
        return BO_E_MALFORMED;
    bo_err err = record_str(o, "aud", aud, sizeof(aud));
    if (!err)
        err = aud_parse(aud, strlen(aud), ev);
    if (!err)
        err = record_str(o, "kind", kind, sizeof(kind));
    if (!err)
        err = bo_event_kind_parse(kind, &ev->kind);
    if (!err)
        err = record_hash(o, "hash", ev->hash);
    if (!err)
        err = record_hash(o, "prev", ev->prev_hash);
    if (!err && !bo_mpo_u64(o, "seq", &ev->seq))
        err = BO_E_BAD_FIELD;
    if (!err && !bo_mpo_i64(o, "ts", &ev->ts))
        err = BO_E_BAD_FIELD;
    const msgpack_object *body = bo_mpo_get(o, "body");
    if (!err && (!body || body->type != MSGPACK_OBJECT_MAP))
        err = BO_E_BAD_FIELD;
    return err;
}

static bo_err record_body(const msgpack_object *o, bo_event *ev)
{
    bo_buf b;
    bo_buf_init(&b, record_caps.frame);
    bo_err err = bo_mp_canonical(&b, bo_mpo_get(o, "body"));
    if (!err) {
        ev->body = bo_buf_steal(&b, &ev->body_len);
        if (!ev->body)
            err = BO_E_NOMEM;
    }
    bo_buf_cleanup(&b);
    return err;
}

/* The record must be exactly what bo_event_encode_record writes. */
static bo_err record_is_canonical(const bo_event *ev, const uint8_t *p, size_t len)
{
    bo_buf b;
    bo_buf_init(&b, record_caps.frame);
    bo_err err = bo_event_encode_record(ev, &b);
    if (!err && (b.len != len || memcmp(b.data, p, len)))
        err = BO_E_BAD_FIELD;
    bo_buf_cleanup(&b);
    return err == BO_E_NOMEM ? err : err ? BO_E_BAD_FIELD : BO_E_OK;
}

bo_err bo_event_decode_record(const char *oid, const uint8_t *p, size_t len, bo_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    bo_err err = bo_mp_check(p, len, &record_caps);
    if (err)
        return err == BO_E_MALFORMED ? err : BO_E_MALFORMED;
    msgpack_zone *z = NULL;
    msgpack_object o;
    err = bo_mp_parse(p, len, &z, &o);
    if (!err)
        err = record_fields(&o, ev);
    if (!err)
        err = record_body(&o, ev);
    msgpack_zone_free(z);
    if (!err)
        err = record_is_canonical(ev, p, len);
    uint8_t want[32];
    if (!err && oid) {
        bo_event_compute_hash(oid, ev, want);
        if (memcmp(want, ev->hash, 32))
            err = BO_E_BAD_FIELD;
    }
    if (err)
        bo_event_cleanup(ev);
    return err;
}

/* -------------------------------------------------------------------- wire ---- */

bo_err bo_event_encode_wire(const char *oid, const bo_event *ev, int st, bo_buf *out)
{
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_EV;
    m.u.ev.oid = oid;
    m.u.ev.st = bo_stream_name((bo_stream)st);
    m.u.ev.ts = ev->ts;
    m.u.ev.kind = bo_event_kind_name(ev->kind);
    m.u.ev.body.mp = (bo_bytes){ev->body, ev->body_len};
    m.u.ev.hash = (bo_bytes){ev->hash, 32};
    switch (st) {
    case BO_STREAM_PUB:
        m.u.ev.seq = ev->pub_pos;
        break;
    case BO_STREAM_STAFF:
    case BO_STREAM_BIDDER:
        m.u.ev.seq = ev->priv_pos;
        m.u.ev.at = ev->pub_pos;
        m.u.ev.has_at = true;
        break;
    case BO_STREAM_ALL:
        m.u.ev.seq = ev->seq;
        break;
    default:
        return BO_E_INVALID_ARG;
    }
    if (!m.u.ev.kind || !m.u.ev.st)
        return BO_E_INVALID_ARG;
    return bo_wire_encode(out, &m);
}
