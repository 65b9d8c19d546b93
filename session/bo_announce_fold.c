/* bidopen: the state of the opening's last part (docs/protocol.md §11): how its events fold
 * and what the state tells about them. Bodies that are computed (an announcement, a draw,
 * the benchmark price, the confirmation and close) are rebuilt here with the functions
 * apply used (bo_compute.c) and must be the same bytes; the others are checked field by
 * field against the state, which is unchanged on error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hash.h"
#include "bo/utf8.h"
#include "bo_session_internal.h"

/* Whether ev's body is exactly what build gives. */
static bool same_body(const bo_event *ev, const bo_buf *want)
{
    return want->len == ev->body_len && !memcmp(want->data, ev->body, ev->body_len);
}

/* A body text of 1..max characters. */
static bool text_of(const msgpack_object *o, const char *key, size_t max, const char **s,
                    size_t *n)
{
    return bo_mpo_str(o, key, s, n) && bo__text_ok(*s, *n, max, false);
}

static char *dup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* While announcing with a quorum. */
static bool announcing(const bo_session *s)
{
    return s->phase == BO_PHASE_ANNOUNCING && s->quorum;
}

/* ----------------------------------------------------------- announcement ---- */

static bo_err fold_announced(bo_session *s, const bo_event *ev)
{
    const bo__bidder *next = NULL;
    if (!announcing(s) || bo__announce_next(s, &next) || !next)
        return BO_E_BAD_FIELD;
    bo_buf want;
    bo_buf_init(&want, SIZE_MAX / 4);
    bo_err err = bo__body_announced(s, next, s->announced + 1, &want);
    if (!err && !same_body(ev, &want))
        err = BO_E_BAD_FIELD;
    bo_buf_cleanup(&want);
    if (err)
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    ((bo__bidder *)next)->bid.announced = ++s->announced;
    return BO_E_OK;
}

/* ------------------------------------------------------------------ draws ---- */

/* The order draw's result: USCCs (valid bids, each once) into s->order. */
static bo_err keep_order(bo_session *s, const msgpack_object *o)
{
    const msgpack_object *a = bo_mpo_get(o, "order");
    if (!a || a->type != MSGPACK_OBJECT_ARRAY)
        return BO_E_BAD_FIELD;
    char(*v)[19] = calloc(a->via.array.size ? a->via.array.size : 1, sizeof(*v));
    if (!v)
        return BO_E_NOMEM;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        const msgpack_object *e = &a->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_STR || e->via.str.size != 18) {
            free(v);
            return BO_E_BAD_FIELD;
        }
        memcpy(v[i], e->via.str.ptr, 18);
    }
    free(s->order);
    s->order = v;
    s->n_order = a->via.array.size;
    return BO_E_OK;
}

static bo_err fold_draw(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    char id[33];
    const uint8_t *seed;
    size_t seed_len;
    uint8_t commit[32];
    const bo_tender_draw *d = NULL;
    if (!announcing(s) || !bo__body_str(o, "id", id, sizeof(id)) ||
        !(d = bo_tender_draw_find(&s->tender, id)) || s->drawn[d - s->tender.draws].done ||
        (d->kind == BO_DRAW_ORDER && s->announced) || !bo_mpo_bin(o, "seed", &seed, &seed_len) ||
        seed_len != 32)
        return BO_E_BAD_FIELD;
    bo_sha256(seed, 32, commit);
    if (memcmp(commit, s->seed_commit, 32))
        return BO_E_BAD_FIELD;
    bo_buf want;
    bo_buf_init(&want, SIZE_MAX / 4);
    bo_err err = bo__body_draw(s, d, seed, &want);
    if (!err && !same_body(ev, &want))
        err = BO_E_BAD_FIELD;
    bo_buf_cleanup(&want);
    bo__drawn n = {true, ev->ts, {0, 0}, NULL, 0};
    const char *v;
    size_t v_len;
    if (!err && d->kind == BO_DRAW_COEFFICIENT &&
        (!bo_mpo_str(o, "value", &v, &v_len) || bo_decimal_parse(v, v_len, &n.value)))
        err = BO_E_BAD_FIELD;
    if (!err && !(n.body = bo__dup(ev->body, ev->body_len)))
        err = BO_E_NOMEM;
    if (!err && d->kind == BO_DRAW_ORDER)
        err = keep_order(s, o);
    if (err) {
        free(n.body);
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    }
    n.body_len = ev->body_len;
    s->drawn[d - s->tender.draws] = n;
    return BO_E_OK;
}

static bo_err fold_benchmark(bo_session *s, const bo_event *ev)
{
    const bo__bidder *next = NULL;
    if (!announcing(s) || !s->tender.benchmark.present || s->benchmark ||
        bo__announce_next(s, &next) || next)
        return BO_E_BAD_FIELD;
    bo_buf want;
    bo_buf_init(&want, SIZE_MAX / 4);
    bo_err err = bo__body_benchmark(s, &want, NULL, 0);
    if (!err && !same_body(ev, &want))
        err = BO_E_BAD_FIELD;
    bo_buf_cleanup(&want);
    uint8_t *copy = err ? NULL : bo__dup(ev->body, ev->body_len);
    if (!err && !copy)
        err = BO_E_NOMEM;
    if (err)
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    s->benchmark = copy;
    s->benchmark_len = ev->body_len;
    s->benchmark_at = ev->ts;
    return BO_E_OK;
}

/* ----------------------------------------------------------- confirmation ---- */

/* Everything announced, drawn and computed. */
static bool record_whole(const bo_session *s)
{
    const bo__bidder *next = NULL;
    if (bo__announce_next(s, &next) || next)
        return false;
    for (size_t i = 0; i < s->tender.n_draws; i++)
        if (!s->drawn[i].done)
            return false;
    return !s->tender.benchmark.present || s->benchmark;
}

static bo_err fold_confirm_opened(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    uint8_t hash[32], want[32];
    int64_t ends_at;
    if (!announcing(s) || s->conf.opened || !record_whole(s) ||
        !bo__body_fpr(o, "record_hash", hash) || !bo_mpo_i64(o, "ends_at", &ends_at) ||
        o->via.map.size != 2)
        return BO_E_BAD_FIELD;
    int64_t w = ends_at - ev->ts;
    if (w < BO__WINDOW_MIN_S * 1000LL || w > BO__WINDOW_MAX_S * 1000LL || w % 1000)
        return BO_E_BAD_FIELD;
    bo_err err = bo__record_hash(s, NULL, want);
    if (err)
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    if (memcmp(hash, want, 32))
        return BO_E_BAD_FIELD;
    bo__confirm *f = &s->conf;
    f->opened = true;
    memcpy(f->record_hash, hash, 32);
    f->head_seq = s->seq;
    memcpy(f->head_hash, s->head, 32);
    f->opened_at = ev->ts;
    f->ends_at = ends_at;
    return BO_E_OK;
}

/* Confirming, and the window open at ts (a pause freezes it). */
static bool window_open_at(const bo_session *s, bo_time_ms ts)
{
    return s->phase == BO_PHASE_CONFIRMING && s->conf.opened && !s->conf.window_closed &&
           (s->paused || ts < s->conf.ends_at);
}

/* The listed bidder a body names, while its window is open, who has not confirmed. */
static bo__bidder *deciding_bidder(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    char uscc[19];
    uint8_t hash[32];
    if (!window_open_at(s, ev->ts) || !bo__body_str(o, "uscc", uscc, sizeof(uscc)) ||
        !bo__body_fpr(o, "record_hash", hash) || memcmp(hash, s->conf.record_hash, 32))
        return NULL;
    bo__bidder *b = (bo__bidder *)bo__session_bidder(s, uscc);
    return b && b->bid.listed && !b->confirmed ? b : NULL;
}

static bo_err fold_confirmed(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    bo__bidder *b = deciding_bidder(s, ev, o);
    const uint8_t *sig;
    size_t sig_len;
    if (!b || !bo__bid_valid(&b->bid) || !bo_mpo_bin(o, "sig", &sig, &sig_len) || !sig_len ||
        o->via.map.size != 3)
        return BO_E_BAD_FIELD;
    uint8_t *copy = bo__dup(sig, sig_len);
    if (!copy)
        return BO_E_NOMEM;
    b->confirmed = true;
    b->confirmed_at = ev->ts;
    free(b->confirm_sig);
    b->confirm_sig = copy;
    b->confirm_sig_len = sig_len;
    return BO_E_OK;
}

static bo_err fold_objection(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    bo__bidder *b = deciding_bidder(s, ev, o);
    uint64_t n;
    const char *text;
    const uint8_t *sig;
    size_t text_len, sig_len;
    if (!b || !bo_mpo_u64(o, "n", &n) || n != s->n_objections + 1 ||
        b->objections >= BO__OBJECTIONS_PER_BIDDER || s->n_objections >= BO__OBJECTIONS_MAX ||
        !text_of(o, "text", BO_WIRE_OBJECTION_MAX, &text, &text_len) ||
        !bo_mpo_bin(o, "sig", &sig, &sig_len) || !sig_len || o->via.map.size != 5)
        return BO_E_BAD_FIELD;
    bo__objection *v = realloc(s->objections, (s->n_objections + 1) * sizeof(*v));
    if (!v)
        return BO_E_NOMEM;
    s->objections = v;
    bo__objection x;
    memset(&x, 0, sizeof(x));
    x.n = (unsigned)n;
    memcpy(x.uscc, b->uscc, sizeof(x.uscc));
    x.text = dup_str(text, text_len);
    x.sig = bo__dup(sig, sig_len);
    x.sig_len = sig_len;
    x.at = ev->ts;
    if (!x.text || !x.sig) {
        free(x.text);
        free(x.sig);
        return BO_E_NOMEM;
    }
    v[s->n_objections++] = x;
    b->objections++;
    return BO_E_OK;
}

static bo_err fold_answered(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    uint64_t n;
    const char *text;
    const uint8_t *sig;
    size_t text_len, sig_len;
    uint8_t fpr[32];
    if (s->phase != BO_PHASE_CONFIRMING || !bo_mpo_u64(o, "n", &n) || !n ||
        n > s->n_objections || s->objections[n - 1].answered ||
        !text_of(o, "text", BO_WIRE_ANSWER_MAX, &text, &text_len) ||
        !bo_mpo_bin(o, "sig", &sig, &sig_len) || !sig_len || !bo__body_fpr(o, "host_fpr", fpr) ||
        memcmp(fpr, s->host_fpr, 32) || o->via.map.size != 4)
        return BO_E_BAD_FIELD;
    bo__objection *x = &s->objections[n - 1];
    char *answer = dup_str(text, text_len);
    uint8_t *copy = bo__dup(sig, sig_len);
    if (!answer || !copy) {
        free(answer);
        free(copy);
        return BO_E_NOMEM;
    }
    x->answered = true;
    x->answer = answer;
    x->answer_sig = copy;
    x->answer_sig_len = sig_len;
    memcpy(x->host_fpr, fpr, 32);
    x->answered_at = ev->ts;
    return BO_E_OK;
}

static bo_err fold_window_closed(bo_session *s, const bo_event *ev)
{
    if (s->phase != BO_PHASE_CONFIRMING || !s->conf.opened || s->conf.window_closed ||
        ev->ts < s->conf.ends_at)
        return BO_E_BAD_FIELD;
    bo_buf want;
    bo_buf_init(&want, SIZE_MAX / 4);
    bo_err err = bo__body_window_closed(s, &want);
    if (!err && !same_body(ev, &want))
        err = BO_E_BAD_FIELD;
    bo_buf_cleanup(&want);
    if (err)
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    s->conf.window_closed = true;
    return BO_E_OK;
}

static bo_err fold_closed(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    uint8_t hash[32];
    bo__confirm *f = &s->conf;
    if (s->phase != BO_PHASE_CONFIRMING || !f->opened || f->closed ||
        !bo_session_objections_answered(s) ||
        !(f->window_closed || bo__all_confirmed(s) || ev->ts >= f->ends_at) ||
        !bo__body_fpr(o, "record_hash", hash))
        return BO_E_BAD_FIELD;
    bo_buf want;
    bo_buf_init(&want, SIZE_MAX / 4);
    bo_err err = bo__body_closed(s, ev->ts, &want);
    if (!err && !same_body(ev, &want))
        err = BO_E_BAD_FIELD;
    bo_buf_cleanup(&want);
    if (err)
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    f->closed = true;
    memcpy(f->final_hash, hash, 32);
    f->final_seq = s->seq;
    memcpy(f->final_head, s->head, 32);
    f->closed_at = ev->ts;
    return BO_E_OK;
}

/* --------------------------------------------------------------- messages ---- */

static bo_err fold_message(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    char role_name[16], from[BO__NAME_MAX], uscc[19];
    uint8_t fpr[32];
    const char *text;
    size_t text_len;
    bo_role role;
    if (s->phase == BO_PHASE_NONE || s->phase == BO_PHASE_CLOSED ||
        s->phase == BO_PHASE_FAILED || !bo__body_str(o, "from_role", role_name,
                                                     sizeof(role_name)) ||
        bo_role_parse(role_name, &role) || !bo__body_str(o, "from", from, sizeof(from)) ||
        !from[0] || !text_of(o, "text", BO_WIRE_MESSAGE_MAX, &text, &text_len) ||
        o->via.map.size != 4)
        return BO_E_BAD_FIELD;
    if (role == BO_ROLE_BIDDER) {
        bo__bidder *b = NULL;
        if (!s->revealed || !bo__body_str(o, "uscc", uscc, sizeof(uscc)) ||
            !(b = (bo__bidder *)bo__session_bidder(s, uscc)) || !b->bid.listed ||
            strcmp(from, b->org) || (b->spoke && ev->ts - b->last_message < BO__MESSAGE_GAP_MS))
            return BO_E_BAD_FIELD;
        b->spoke = true;
        b->last_message = ev->ts;
        return BO_E_OK;
    }
    if ((role != BO_ROLE_HOST && role != BO_ROLE_SUPERVISOR && role != BO_ROLE_SITE) ||
        !bo__body_fpr(o, "fpr", fpr) ||
        (role == BO_ROLE_HOST && memcmp(fpr, s->host_fpr, 32)))
        return BO_E_BAD_FIELD;
    bo__speaker *sp = NULL;
    for (size_t i = 0; i < s->n_speakers && !sp; i++)
        if (s->speakers[i].role == role && !memcmp(s->speakers[i].fpr, fpr, 32))
            sp = &s->speakers[i];
    if (sp && ev->ts - sp->last < BO__MESSAGE_GAP_MS)
        return BO_E_BAD_FIELD;
    if (!sp) {
        bo__speaker *v = realloc(s->speakers, (s->n_speakers + 1) * sizeof(*v));
        if (!v)
            return BO_E_NOMEM;
        s->speakers = v;
        sp = &v[s->n_speakers++];
        sp->role = role;
        memcpy(sp->fpr, fpr, 32);
    }
    sp->last = ev->ts;
    return BO_E_OK;
}

bo_err bo__announce_fold(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    switch (ev->kind) {
    case BO_EV_BID_ANNOUNCED:
        return fold_announced(s, ev);
    case BO_EV_DRAW_RESULT:
        return fold_draw(s, ev, o);
    case BO_EV_BENCHMARK_PRICE:
        return fold_benchmark(s, ev);
    case BO_EV_CONFIRMATION_OPENED:
        return fold_confirm_opened(s, ev, o);
    case BO_EV_BIDDER_CONFIRMED:
        return fold_confirmed(s, ev, o);
    case BO_EV_OBJECTION:
        return fold_objection(s, ev, o);
    case BO_EV_OBJECTION_ANSWERED:
        return fold_answered(s, ev, o);
    case BO_EV_MESSAGE:
        return fold_message(s, ev, o);
    case BO_EV_CONFIRMATION_WINDOW_CLOSED:
        return fold_window_closed(s, ev);
    case BO_EV_OPENING_CLOSED:
        return fold_closed(s, ev, o);
    default:
        return BO_E_BAD_FIELD;
    }
}

void bo__announce_cleanup(bo_session *s)
{
    for (size_t i = 0; i < s->n_objections; i++) {
        bo__objection *x = &s->objections[i];
        free(x->text);
        free(x->sig);
        free(x->answer);
        free(x->answer_sig);
    }
    free(s->objections);
    free(s->speakers);
    for (size_t i = 0; i < BO_TENDER_MAX_DRAWS; i++)
        free(s->drawn[i].body);
    free(s->order);
    free(s->benchmark);
}

/* ---------------------------------------------------------------- reading ---- */

const uint8_t *bo_session_seed_commit(const bo_session *s)
{
    return s->seed_commit;
}

void bo_session_announce_progress(const bo_session *s, unsigned *announced, unsigned *total)
{
    unsigned bids = 0;
    bo__session_bid_counts(s, &bids, NULL, NULL);
    if (announced)
        *announced = s->announced;
    if (total)
        *total = bids;
}

bool bo_session_draw_done(const bo_session *s, const char *id)
{
    const bo_tender_draw *d = bo_tender_draw_find(&s->tender, id);
    return d && s->drawn[d - s->tender.draws].done;
}

bool bo_session_benchmark_done(const bo_session *s)
{
    return s->benchmark != NULL;
}

bool bo_session_confirm_hash(const bo_session *s, uint8_t out[32])
{
    if (!s->conf.opened)
        return false;
    memcpy(out, s->conf.record_hash, 32);
    return true;
}

bool bo_session_closed_hash(const bo_session *s, uint8_t out[32])
{
    if (!s->conf.closed)
        return false;
    memcpy(out, s->conf.final_hash, 32);
    return true;
}

bool bo_session_confirm_window_open(const bo_session *s, bo_time_ms now)
{
    return window_open_at(s, now);
}

bool bo_session_objections_answered(const bo_session *s)
{
    for (size_t i = 0; i < s->n_objections; i++)
        if (!s->objections[i].answered)
            return false;
    return true;
}
