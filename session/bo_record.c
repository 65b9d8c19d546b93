/* bidopen: the opening record (开标记录, docs/protocol.md §11), a pure function of the
 * state and so of the log. Everything in it comes from public events, so a public
 * transcript suffices to check it; it is self-contained, so an exporter renders it alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hash.h"
#include "bo_session_internal.h"

#define RECORD_VERSION 1

/* How the record is taken: as the state stands, or as it will be when closed at at. */
typedef struct rec {
    const bo_session *s;
    bool closing;          /* as it will be when closed at closing_at */
    bo_time_ms closing_at;
} rec;

static bool final_statuses(const rec *r)
{
    return r->closing || r->s->conf.closed || r->s->conf.window_closed;
}

/* Adds m's finished map under key of outer (m freed in any case). */
static bo_err put_map(bo_mpmap *outer, const char *key, bo_mpmap *m)
{
    return bo__session_put_map(outer, key, m);
}

/* Adds every member of a canonical map body to m (draw_result, benchmark_price). */
static bo_err put_members(bo_mpmap *m, const uint8_t *body, size_t len)
{
    msgpack_zone *z = NULL;
    msgpack_object o;
    bo_err err = bo_mp_parse(body, len, &z, &o);
    if (!err && o.type != MSGPACK_OBJECT_MAP)
        err = BO_E_INTERNAL;
    for (uint32_t i = 0; !err && i < o.via.map.size; i++) {
        const msgpack_object_kv *kv = &o.via.map.ptr[i];
        char key[64];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size >= sizeof(key)) {
            err = BO_E_INTERNAL;
            break;
        }
        memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
        key[kv->key.via.str.size] = 0;
        bo_buf v;
        bo_buf_init(&v, SIZE_MAX / 4);
        err = bo_mp_canonical(&v, &kv->val);
        if (!err)
            err = bo_mpmap_raw(m, key, v.data, v.len);
        bo_buf_cleanup(&v);
    }
    msgpack_zone_free(z);
    return err;
}

/* Appends an array of n items, each written by one(i). */
typedef bo_err (*item_fn)(const rec *r, size_t i, bo_buf *out, bool *skip);

static bo_err put_array(bo_mpmap *m, const char *key, const rec *r, size_t n, item_fn one)
{
    /* count first: items may be skipped */
    uint32_t k = 0;
    bo_buf items;
    bo_buf_init(&items, SIZE_MAX / 4);
    bo_err err = BO_E_OK;
    for (size_t i = 0; i < n && !err; i++) {
        bool skip = false;
        err = one(r, i, &items, &skip);
        k += !skip;
    }
    bo_buf arr;
    bo_buf_init(&arr, SIZE_MAX / 4);
    if (!err)
        err = bo_mp_array_header(&arr, k);
    if (!err && items.len)
        err = bo_buf_append(&arr, items.data, items.len);
    if (!err)
        err = bo_mpmap_raw(m, key, arr.data, arr.len);
    bo_buf_cleanup(&items);
    bo_buf_cleanup(&arr);
    return err;
}

static bo_err finish(bo_mpmap *m, bo_buf *out)
{
    bo_err err = bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    return err;
}

/* ------------------------------------------------------------------ items ---- */

static bo_err timeline_item(const rec *r, size_t i, bo_buf *out, bool *skip)
{
    const bo_session *s = r->s;
    bo_phase phase = i < s->n_timeline ? s->timeline[i].phase : BO_PHASE_CLOSED;
    bo_time_ms at = i < s->n_timeline ? s->timeline[i].at : r->closing_at;
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "phase", bo_phase_name(phase));
    bo_mpmap_i64(m, "at", at);
    return finish(m, out);
}

static bo_err bid_item(const rec *r, size_t i, bo_buf *out, bool *skip)
{
    const bo__bidder *b = &r->s->bidders[i];
    const bo__bid *bid = &b->bid;
    if (!bid->listed) {
        *skip = true;
        return BO_E_OK;
    }
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "org", b->org);
    bo_mpmap_bin(m, "bid", bid->hash, 32);
    bo_mpmap_str(m, "status", bo__bid_status(bid));
    if (bid->decrypted)
        bo_mpmap_u64(m, "size", bid->size);
    if (bid->form_error[0])
        bo_mpmap_str(m, "form_error", bid->form_error);
    if (bid->reason)
        bo_mpmap_str(m, "reason", bid->reason);
    if (bid->resp)
        bo_mpmap_raw(m, "resp", bid->resp, bid->resp_len);
    if (bid->announced) {
        bo_mpmap_u64(m, "n", bid->announced);
        if (bo__bid_valid(bid)) { /* what bid_announced made public */
            bo_mpmap_raw(m, "fields", bid->form, bid->form ? bid->form_len : 0);
            bo_mpmap_bin(m, "commit", bid->commit, 32);
            bo_mpmap_bin(m, "signin_sig", b->signin_sig, b->signin_sig_len);
        }
    }
    return finish(m, out);
}

static bo_err draw_item(const rec *r, size_t i, bo_buf *out, bool *skip)
{
    const bo__drawn *d = &r->s->drawn[i];
    if (!d->done) {
        *skip = true;
        return BO_E_OK;
    }
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    err = put_members(m, d->body, d->body_len); /* id, kind, seed, inputs, value | order */
    bo_mpmap_str(m, "label", r->s->tender.draws[i].label);
    bo_mpmap_i64(m, "at", d->at);
    if (err) {
        bo_mpmap_free(m);
        return err;
    }
    return finish(m, out);
}

static bo_err objection_item(const rec *r, size_t i, bo_buf *out, bool *skip)
{
    const bo__objection *x = &r->s->objections[i];
    const bo__bidder *b = bo__session_bidder(r->s, x->uscc);
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "n", x->n);
    bo_mpmap_str(m, "uscc", x->uscc);
    bo_mpmap_str(m, "org", b ? b->org : "");
    bo_mpmap_str(m, "text", x->text);
    bo_mpmap_i64(m, "at", x->at);
    bo_mpmap_bin(m, "sig", x->sig, x->sig_len);
    if (x->answered) {
        bo_mpmap *a = bo_mpmap_new(&err);
        if (!a) {
            bo_mpmap_free(m);
            return err;
        }
        bo_mpmap_str(a, "text", x->answer);
        bo_mpmap_i64(a, "at", x->answered_at);
        bo_mpmap_bin(a, "sig", x->answer_sig, x->answer_sig_len);
        bo_mpmap_bin(a, "host_fpr", x->host_fpr, 32);
        put_map(m, "answer", a);
    }
    return finish(m, out);
}

/* Every valid bidder: confirmed (when, signature), objected, deemed (视为认可: neither,
 * once the window has closed or at the close) or pending. */
static bo_err confirmation_item(const rec *r, size_t i, bo_buf *out, bool *skip)
{
    const bo__bidder *b = &r->s->bidders[i];
    if (!bo__bid_valid(&b->bid)) {
        *skip = true;
        return BO_E_OK;
    }
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    const char *status = b->confirmed     ? "confirmed"
                         : b->objections  ? "objected"
                         : final_statuses(r) ? "deemed"
                                          : "pending";
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "org", b->org);
    bo_mpmap_str(m, "status", status);
    if (b->confirmed) {
        bo_mpmap_i64(m, "at", b->confirmed_at);
        bo_mpmap_bin(m, "sig", b->confirm_sig, b->confirm_sig_len);
    }
    return finish(m, out);
}

/* ---------------------------------------------------------------- sections ---- */

static bo_err put_benchmark(bo_mpmap *outer, const bo_session *s)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    err = put_members(m, s->benchmark, s->benchmark_len);
    bo_mpmap_i64(m, "at", s->benchmark_at);
    if (err) {
        bo_mpmap_free(m);
        return err;
    }
    return put_map(outer, "benchmark", m);
}

static bo_err put_head(bo_mpmap *outer, const char *key, uint64_t seq, const uint8_t hash[32])
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "seq", seq);
    bo_mpmap_bin(m, "hash", hash, 32);
    return put_map(outer, key, m);
}

static bo_err put_confirmation(bo_mpmap *outer, const rec *r)
{
    const bo__confirm *f = &r->s->conf;
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_bin(m, "record_hash", f->record_hash, 32);
    put_head(m, "head", f->head_seq, f->head_hash);
    bo_mpmap_i64(m, "opened_at", f->opened_at);
    bo_mpmap_i64(m, "ends_at", f->ends_at);
    err = put_map(outer, "confirmation", m);
    if (!err)
        err = put_array(outer, "objections", r, r->s->n_objections, objection_item);
    if (!err)
        err = put_array(outer, "confirmations", r, r->s->n_bidders, confirmation_item);
    return err;
}

bo_err bo__record(const bo_session *s, const bo_time_ms *closing_at, bo_buf *out)
{
    if (!s->has_tender)
        return BO_E_NOT_FOUND;
    rec r = {s, closing_at != NULL, closing_at ? *closing_at : 0};
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "v", RECORD_VERSION);
    bo_mpmap_str(m, "oid", s->oid);
    bo_mpmap_raw(m, "tender", s->tender_mp, s->tender_len);
    bo_mpmap_bin(m, "host_fpr", s->host_fpr, 32);
    if (s->host_name[0])
        bo_mpmap_str(m, "host_name", s->host_name);
    bo_mpmap_bin(m, "seed_commit", s->seed_commit, 32);
    bo_mpmap_str(m, "phase", bo_phase_name(r.closing ? BO_PHASE_CLOSED : s->phase));
    if (s->phase == BO_PHASE_FAILED && s->failed_reason[0])
        bo_mpmap_str(m, "failed_reason", s->failed_reason);
    err = put_array(m, "timeline", &r, s->n_timeline + r.closing, timeline_item);
    if (!err)
        err = put_array(m, "bids", &r, s->n_bidders, bid_item);
    if (!err)
        err = put_array(m, "draws", &r, s->tender.n_draws, draw_item);
    if (!err && s->benchmark)
        err = put_benchmark(m, s);
    if (!err && s->conf.opened)
        err = put_confirmation(m, &r);
    if (!err) {
        bool fixed = s->conf.closed && !r.closing;
        err = put_head(m, "head", fixed ? s->conf.final_seq : s->seq,
                       fixed ? s->conf.final_head : s->head);
    }
    if (err) {
        bo_mpmap_free(m);
        return err;
    }
    return finish(m, out);
}

bo_err bo__record_hash(const bo_session *s, const bo_time_ms *closing_at, uint8_t out[32])
{
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = bo__record(s, closing_at, &b);
    if (!err)
        bo_sha256(b.data, b.len, out);
    bo_buf_cleanup(&b);
    return err;
}

bo_err bo_session_record(const bo_session *s, bo_buf *out)
{
    return bo__record(s, NULL, out);
}

/* ------------------------------------------------ the record bidders confirmed ---- */

/* The timeline up to and including announcing, canonical. */
static bo_err timeline_until_announcing(const msgpack_object *tl, bo_buf *out)
{
    if (!tl || tl->type != MSGPACK_OBJECT_ARRAY)
        return BO_E_BAD_FIELD;
    uint32_t k = 0;
    bool found = false;
    for (; k < tl->via.array.size && !found; k++) {
        const char *p;
        size_t n;
        const msgpack_object *e = &tl->via.array.ptr[k];
        if (e->type != MSGPACK_OBJECT_MAP || !bo_mpo_str(e, "phase", &p, &n))
            return BO_E_BAD_FIELD;
        found = n == strlen("announcing") && !memcmp(p, "announcing", n);
    }
    if (!found)
        return BO_E_BAD_FIELD;
    bo_err err = bo_mp_array_header(out, k);
    for (uint32_t i = 0; i < k && !err; i++)
        err = bo_mp_canonical(out, &tl->via.array.ptr[i]);
    return err;
}

static bo_err confirmable(const msgpack_object *o, bo_buf *out)
{
    const msgpack_object *conf = bo_mpo_get(o, "confirmation");
    const msgpack_object *head = conf && conf->type == MSGPACK_OBJECT_MAP
                                     ? bo_mpo_get(conf, "head")
                                     : NULL;
    if (o->type != MSGPACK_OBJECT_MAP || !head || head->type != MSGPACK_OBJECT_MAP)
        return BO_E_BAD_FIELD;
    bo_err err = BO_E_OK;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    for (uint32_t i = 0; i < o->via.map.size && !err; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        char key[32];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size >= sizeof(key)) {
            err = BO_E_BAD_FIELD;
            break;
        }
        memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
        key[kv->key.via.str.size] = 0;
        if (!strcmp(key, "confirmation") || !strcmp(key, "objections") ||
            !strcmp(key, "confirmations") || !strcmp(key, "failed_reason"))
            continue;
        bo_buf v;
        bo_buf_init(&v, SIZE_MAX / 4);
        if (!strcmp(key, "phase"))
            err = bo_mp_str(&v, "announcing", strlen("announcing"));
        else if (!strcmp(key, "timeline"))
            err = timeline_until_announcing(&kv->val, &v);
        else
            err = bo_mp_canonical(&v, !strcmp(key, "head") ? head : &kv->val);
        if (!err)
            err = bo_mpmap_raw(m, key, v.data, v.len);
        bo_buf_cleanup(&v);
    }
    if (err) {
        bo_mpmap_free(m);
        return err;
    }
    return finish(m, out);
}

bo_err bo_record_confirmable(const uint8_t *record_mp, size_t len, bo_buf *out)
{
    static const bo_wire_caps caps = {
        .frame = 16u << 20, .depth = 8, .elems = 2000000, .str = 64u << 10, .bin = 64u << 10};
    bo_err err = bo_mp_check(record_mp, len, &caps);
    if (err)
        return err;
    msgpack_zone *z = NULL;
    msgpack_object o;
    err = bo_mp_parse(record_mp, len, &z, &o);
    size_t mark = out->len;
    if (!err)
        err = confirmable(&o, out);
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    msgpack_zone_free(z);
    return err;
}
