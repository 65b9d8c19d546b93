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
    unsigned r, si, ic;
    bo__session_counts(s, &r, &si, &ic);
    bo_err err;
    bo_mpmap *c = bo_mpmap_new(&err);
    if (!c)
        return err;
    bo_mpmap_u64(c, "registered", r);
    bo_mpmap_u64(c, "signed_in", si);
    bo_mpmap_u64(c, "intercepted", ic);
    return bo__session_put_map(m, "counts", c);
}

bo_err bo__session_put_bidders(bo_mpmap *m, const bo_session *s, unsigned *count)
{
    unsigned r, si, ic;
    bo__session_counts(s, &r, &si, &ic);
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = bo_mp_array_header(&b, r);
    for (size_t i = 0; i < s->n_bidders && !err; i++) {
        const bo__bidder *bd = &s->bidders[i];
        if (!bd->registered || bd->intercepted)
            continue;
        bo_mpmap *e = bo_mpmap_new(&err);
        if (!e)
            break;
        bo_mpmap_str(e, "uscc", bd->uscc);
        bo_mpmap_str(e, "org", bd->org);
        bo_mpmap_bool(e, "signed_in", bd->signed_in);
        err = bo_mpmap_finish(e, &b);
        bo_mpmap_free(e);
    }
    bo_err err2 = bo_mpmap_raw(m, "bidders", err ? NULL : b.data, err ? 0 : b.len);
    bo_buf_cleanup(&b);
    if (count)
        *count = r;
    return err ? err : err2;
}

static bo_err put_me(bo_mpmap *m, const bo_session *s, const char *uscc)
{
    bo_err err;
    bo_mpmap *me = bo_mpmap_new(&err);
    if (!me)
        return err;
    bo_mpmap_bool(me, "registered", bo_session_is_registered(s, uscc));
    bo_mpmap_bool(me, "signed_in", bo_session_is_signed_in(s, uscc));
    return bo__session_put_map(m, "me", me);
}

static void put_state(bo_mpmap *m, const bo_session *s, bo_time_ms now)
{
    bo_mpmap_str(m, "oid", s->oid);
    bo_mpmap_raw(m, "tender", s->tender_mp, s->tender_len);
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
        err = bo__session_put_bidders(m, s, NULL);
    if (!err && g.me)
        err = put_me(m, s, v->uscc);
    if (!err)
        err = bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    return err;
}
