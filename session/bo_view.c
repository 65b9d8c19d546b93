/* bidopen: who sees what: the streams of a view and the snapshot (docs/protocol.md §7). */
#include <string.h>

#include "bo_session_internal.h"

const char *bo_stream_name(bo_stream st)
{
    switch (st) {
    case BO_STREAM_PUB:
        return "pub";
    case BO_STREAM_STAFF:
        return "staff";
    case BO_STREAM_BIDDER:
        return "b";
    case BO_STREAM_ALL:
        return "all";
    default:
        return NULL;
    }
}

/* -------------------------------------------------------------- streams ---- */

static bool is_this_host(const bo_session *s, const bo_view *v)
{
    return v->role == BO_ROLE_HOST && bo__session_is_host(s, v->fpr);
}

static bool is_bidder(const bo_view *v, const char *uscc)
{
    return v->role == BO_ROLE_BIDDER && v->uscc && uscc && !strcmp(v->uscc, uscc);
}

bo_stream bo_session_private_stream(const bo_session *s, const bo_view *v)
{
    if (v->role == BO_ROLE_SUPERVISOR)
        return BO_STREAM_ALL;
    if (is_this_host(s, v))
        return BO_STREAM_STAFF;
    if (v->role == BO_ROLE_BIDDER && v->uscc && v->uscc[0])
        return BO_STREAM_BIDDER;
    return BO_STREAM_NONE;
}

bo_stream bo_session_event_stream(const bo_session *s, const bo_view *v, const bo_event *ev)
{
    if (v->role == BO_ROLE_SUPERVISOR)
        return BO_STREAM_ALL;
    switch (ev->aud) {
    case BO_AUD_PUB:
        return BO_STREAM_PUB;
    case BO_AUD_STAFF:
        return is_this_host(s, v) ? BO_STREAM_STAFF : BO_STREAM_NONE;
    case BO_AUD_BIDDER:
        return is_bidder(v, ev->aud_uscc) ? BO_STREAM_BIDDER : BO_STREAM_NONE;
    default:
        return BO_STREAM_NONE;
    }
}

/* ------------------------------------------------------------- snapshot ---- */

/* What a view may see (protocol.md §6 secrecy, §7 snapshot). */
typedef struct sight {
    bool counts;  /* host and supervisor; everyone with counts_early or after the deadline */
    bool bidders; /* supervisor before the deadline; everyone after it */
    bool me;      /* bidders */
} sight;

static sight sight_of(const bo_session *s, const bo_view *v)
{
    bool sup = v->role == BO_ROLE_SUPERVISOR;
    sight g;
    g.counts = sup || is_this_host(s, v) || s->tender.counts_early || s->revealed;
    g.bidders = sup || s->revealed;
    g.me = v->role == BO_ROLE_BIDDER && v->uscc && v->uscc[0];
    return g;
}

bo_err bo__session_put_map(bo_mpmap *outer, const char *key, bo_mpmap *inner)
{
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = bo_mpmap_finish(inner, &b);
    bo_mpmap_free(inner);
    /* an empty value makes outer's error sticky, so its finish reports it */
    bo_err err2 = bo_mpmap_raw(outer, key, err ? NULL : b.data, err ? 0 : b.len);
    bo_buf_cleanup(&b);
    return err ? err : err2;
}

static bo_err put_pos(bo_mpmap *m, const bo_session *s, const bo_view *v)
{
    bo_err err;
    bo_mpmap *p = bo_mpmap_new(&err);
    if (!p)
        return err;
    bo_stream st = bo_session_private_stream(s, v);
    if (st == BO_STREAM_ALL) {
        bo_mpmap_u64(p, "all", s->seq);
    } else {
        bo_mpmap_u64(p, "pub", s->pub_count);
        if (st == BO_STREAM_STAFF)
            bo_mpmap_u64(p, "priv", s->staff_count);
        else if (st == BO_STREAM_BIDDER)
            bo_mpmap_u64(p, "priv", bo_session_bidder_count(s, v->uscc));
    }
    return bo__session_put_map(m, "pos", p);
}

static bo_err put_counts(bo_mpmap *m, const bo_session *s)
{
    bo__counts n = bo__session_counts_if(s, NULL);
    bo_err err;
    bo_mpmap *c = bo_mpmap_new(&err);
    if (!c)
        return err;
    bo_mpmap_u64(c, "registered", n.registered);
    bo_mpmap_u64(c, "signed_in", n.signed_in);
    bo_mpmap_u64(c, "intercepted", n.intercepted);
    bo_mpmap_u64(c, "submitted", n.submitted);
    return bo__session_put_map(m, "counts", c);
}

static bool in_list(const bo__bidder *b, bo__list which)
{
    bool counted = b->registered && !b->intercepted;
    switch (which) {
    case BO__LIST_REGISTERED:
        return counted;
    case BO__LIST_BIDS:
        return counted && b->bid.present;
    default:
        return b->bid.listed;
    }
}

static bo_err put_list_entry(bo_buf *out, const bo__bidder *b, bo__list which)
{
    bo_err err;
    bo_mpmap *e = bo_mpmap_new(&err);
    if (!e)
        return err;
    bo_mpmap_str(e, "uscc", b->uscc);
    bo_mpmap_str(e, "org", b->org);
    bo_mpmap_bool(e, "signed_in", b->signed_in);
    if (b->bid.present)
        bo_mpmap_bin(e, "bid", b->bid.hash, 32);
    if (which == BO__LIST_OPENED) {
        const bo__bid *bid = &b->bid;
        bo_mpmap_str(e, "state", bo__bid_state(bid));
        /* what bid_decrypted, bid_classified and bid_announced made public */
        if (bid->decrypted || bid->outcome != BO__OUTCOME_NONE)
            bo_mpmap_str(e, "status", bo__bid_status(bid));
        if (bid->form_error[0])
            bo_mpmap_str(e, "form_error", bid->form_error);
        if (bid->announced) {
            bo_mpmap_u64(e, "n", bid->announced);
            if (bo__bid_valid(bid))
                bo_mpmap_raw(e, "fields", bid->form, bid->form ? bid->form_len : 0);
        }
    }
    err = bo_mpmap_finish(e, out);
    bo_mpmap_free(e);
    return err;
}

bo_err bo__session_put_bidders(bo_mpmap *m, const bo_session *s, bo__list which,
                               unsigned *count)
{
    uint32_t n = 0;
    for (size_t i = 0; i < s->n_bidders; i++)
        n += in_list(&s->bidders[i], which);
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = bo_mp_array_header(&b, n);
    for (size_t i = 0; i < s->n_bidders && !err; i++)
        if (in_list(&s->bidders[i], which))
            err = put_list_entry(&b, &s->bidders[i], which);
    bo_err err2 = bo_mpmap_raw(m, "bidders", err ? NULL : b.data, err ? 0 : b.len);
    bo_buf_cleanup(&b);
    if (count)
        *count = n;
    return err ? err : err2;
}

/* me.bid {hash, size, receipt_sig, ts}: what the bidder's receipt says. */
static void put_my_bid(bo_mpmap *me, const bo__bid *bid)
{
    bo_err err;
    bo_mpmap *b = bo_mpmap_new(&err);
    if (!b) {
        bo_mpmap_raw(me, "bid", NULL, 0); /* sticky error */
        return;
    }
    bo_mpmap_bin(b, "hash", bid->hash, 32);
    bo_mpmap_u64(b, "size", bid->size);
    bo_mpmap_bin(b, "receipt_sig", bid->receipt_sig, bid->receipt_sig_len);
    bo_mpmap_i64(b, "ts", bid->ts);
    bo__session_put_map(me, "bid", b);
}

static bo_err put_me(bo_mpmap *m, const bo_session *s, const char *uscc)
{
    bo_err err;
    bo_mpmap *me = bo_mpmap_new(&err);
    if (!me)
        return err;
    const bo__bidder *b = bo__session_bidder(s, uscc);
    bo_mpmap_bool(me, "registered", bo_session_is_registered(s, uscc));
    bo_mpmap_bool(me, "signed_in", bo_session_is_signed_in(s, uscc));
    if (b && b->bid.present)
        put_my_bid(me, &b->bid);
    /* the pending request, so that a client that reconnects can go on decrypting */
    if (b && b->bid.req_body && s->phase == BO_PHASE_DECRYPTING && !b->bid.decrypted &&
        b->bid.outcome == BO__OUTCOME_NONE)
        bo_mpmap_raw(me, "req", b->bid.req_body, b->bid.req_body_len);
    return bo__session_put_map(m, "me", me);
}

/* decrypt {ends_at, bids, decrypted, classified, window_closed, extended} */
static bo_err put_decrypt(bo_mpmap *m, const bo_session *s)
{
    bo_err err;
    bo_mpmap *d = bo_mpmap_new(&err);
    if (!d)
        return err;
    unsigned bids, decrypted, classified;
    bo__session_bid_counts(s, &bids, &decrypted, &classified);
    bo_mpmap_i64(d, "ends_at", s->dec.ends_at);
    bo_mpmap_u64(d, "bids", bids);
    bo_mpmap_u64(d, "decrypted", decrypted);
    bo_mpmap_u64(d, "classified", classified);
    bo_mpmap_bool(d, "window_closed", s->dec.window_closed);
    bo_mpmap_bool(d, "extended", s->dec.extended);
    return bo__session_put_map(m, "decrypt", d);
}

/* announce {announced, total, next?}: next is the bid announced next once the order is
 * known. */
static bo_err put_announce(bo_mpmap *m, const bo_session *s)
{
    bo_err err;
    bo_mpmap *a = bo_mpmap_new(&err);
    if (!a)
        return err;
    unsigned announced, total;
    bo_session_announce_progress(s, &announced, &total);
    bo_mpmap_u64(a, "announced", announced);
    bo_mpmap_u64(a, "total", total);
    const bo__bidder *next = NULL;
    err = bo__announce_next(s, &next);
    if (err == BO_E_PHASE) /* the order is not drawn yet */
        err = BO_E_OK;
    if (next && s->phase == BO_PHASE_ANNOUNCING)
        bo_mpmap_str(a, "next", next->uscc);
    if (err) {
        bo_mpmap_free(a);
        return err;
    }
    return bo__session_put_map(m, "announce", a);
}

/* draws [draw_result bodies] in the tender's order, benchmark (its body). */
static bo_err put_results(bo_mpmap *m, const bo_session *s)
{
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    uint32_t n = 0;
    for (size_t i = 0; i < s->tender.n_draws; i++)
        n += s->drawn[i].done;
    bo_err err = BO_E_OK;
    if (n) {
        err = bo_mp_array_header(&b, n);
        for (size_t i = 0; i < s->tender.n_draws && !err; i++)
            if (s->drawn[i].done)
                err = bo_buf_append(&b, s->drawn[i].body, s->drawn[i].body_len);
        if (!err)
            err = bo_mpmap_raw(m, "draws", b.data, b.len);
    }
    bo_buf_cleanup(&b);
    if (!err && s->benchmark)
        err = bo_mpmap_raw(m, "benchmark", s->benchmark, s->benchmark_len);
    return err;
}

/* confirm {record_hash, ends_at, window_closed, confirmed, final_hash?} and objections
 * [{n, uscc, text, at, answer?: {text, at}}]. */
static bo_err put_confirm(bo_mpmap *m, const bo_session *s)
{
    const bo__confirm *f = &s->conf;
    bo_err err;
    bo_mpmap *c = bo_mpmap_new(&err);
    if (!c)
        return err;
    bo_buf list;
    bo_buf_init(&list, SIZE_MAX / 4);
    bo_mpmap_bin(c, "record_hash", f->record_hash, 32);
    bo_mpmap_i64(c, "ends_at", f->ends_at);
    bo_mpmap_bool(c, "window_closed", f->window_closed);
    if (f->closed)
        bo_mpmap_bin(c, "final_hash", f->final_hash, 32);
    err = bo__put_confirmed(s, &list, NULL);
    bo_mpmap_raw(c, "confirmed", err ? NULL : list.data, err ? 0 : list.len);
    bo_buf_reset(&list);
    err = bo__session_put_map(m, "confirm", c);
    if (!err)
        err = bo_mp_array_header(&list, (uint32_t)s->n_objections);
    for (size_t i = 0; i < s->n_objections && !err; i++) {
        const bo__objection *x = &s->objections[i];
        bo_mpmap *o = bo_mpmap_new(&err);
        if (!o)
            break;
        bo_mpmap_u64(o, "n", x->n);
        bo_mpmap_str(o, "uscc", x->uscc);
        bo_mpmap_str(o, "text", x->text);
        bo_mpmap_i64(o, "at", x->at);
        if (x->answered) {
            bo_mpmap *a = bo_mpmap_new(&err);
            if (a) {
                bo_mpmap_str(a, "text", x->answer);
                bo_mpmap_i64(a, "at", x->answered_at);
            }
            bo__session_put_map(o, "answer", a);
        }
        err = bo_mpmap_finish(o, &list);
        bo_mpmap_free(o);
    }
    if (!err)
        err = bo_mpmap_raw(m, "objections", list.data, list.len);
    bo_buf_cleanup(&list);
    return err;
}

static void put_state(bo_mpmap *m, const bo_session *s, bo_time_ms now)
{
    bo_mpmap_str(m, "oid", s->oid);
    bo_mpmap_raw(m, "tender", s->tender_mp, s->tender_len);
    bo_mpmap_bin(m, "seed_commit", s->seed_commit, 32); /* public: lets clients check a draw */
    bo_mpmap_str(m, "phase", bo_phase_name(s->phase));
    bo_mpmap_bool(m, "paused", s->paused);
    if (s->phase == BO_PHASE_FAILED && s->failed_reason[0])
        bo_mpmap_str(m, "failed_reason", s->failed_reason);
    bo_mpmap_i64(m, "checkin_at", s->tender.checkin_at);
    bo_mpmap_i64(m, "deadline", s->tender.deadline);
    bo_mpmap_i64(m, "now", now);
    if (s->revealed)
        bo_mpmap_bool(m, "quorum", s->quorum);
}

bo_err bo_session_snapshot(const bo_session *s, const bo_view *v, bo_time_ms now, bo_buf *out)
{
    if (!s->has_tender)
        return BO_E_NOT_FOUND;
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    sight g = sight_of(s, v);
    put_state(m, s, now);
    err = put_pos(m, s, v);
    if (!err && g.counts)
        err = put_counts(m, s);
    if (!err && g.bidders)
        err = bo__session_put_bidders(m, s, s->revealed ? BO__LIST_OPENED : BO__LIST_REGISTERED,
                                      NULL);
    if (!err && g.me)
        err = put_me(m, s, v->uscc);
    if (!err && s->dec.started)
        err = put_decrypt(m, s);
    bool announcing = false; /* entered, even if failed since */
    for (size_t i = 0; i < s->n_timeline; i++)
        announcing = announcing || s->timeline[i].phase == BO_PHASE_ANNOUNCING;
    if (!err && announcing)
        err = put_announce(m, s);
    if (!err)
        err = put_results(m, s);
    if (!err && s->conf.opened)
        err = put_confirm(m, s);
    if (!err)
        err = bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    return err;
}
