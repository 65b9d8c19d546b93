/* bidopen: one opening's state: names, seal, fold (the only mutation) and accessors.
 * What commands do is in bo_phase.c; who sees what in bo_view.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/utf8.h"
#include "bo_session_internal.h"

/* ------------------------------------------------------------------- names ---- */

static const char *const role_names[] = {
    [BO_ROLE_NONE] = "none",       [BO_ROLE_OPERATOR] = "operator", [BO_ROLE_HOST] = "host",
    [BO_ROLE_SUPERVISOR] = "supervisor", [BO_ROLE_BIDDER] = "bidder", [BO_ROLE_SITE] = "site",
    [BO_ROLE_OBSERVER] = "observer", [BO_ROLE_SYSTEM] = "system",
};

const char *bo_role_name(bo_role r)
{
    if ((unsigned)r > BO_ROLE_SYSTEM)
        return "none";
    return role_names[r];
}

bo_err bo_role_parse(const char *s, bo_role *out)
{
    for (int r = BO_ROLE_OPERATOR; s && r <= BO_ROLE_OBSERVER; r++)
        if (!strcmp(s, role_names[r])) {
            *out = (bo_role)r;
            return BO_E_OK;
        }
    return BO_E_BAD_FIELD;
}

static const char *const phase_names[] = {
    [BO_PHASE_NONE] = "none",
    [BO_PHASE_SCHEDULED] = "scheduled",
    [BO_PHASE_CHECKIN] = "checkin",
    [BO_PHASE_AWAITING_OPEN] = "awaiting_open",
    [BO_PHASE_DECRYPTING] = "decrypting",
    [BO_PHASE_ANNOUNCING] = "announcing",
    [BO_PHASE_CONFIRMING] = "confirming",
    [BO_PHASE_CLOSED] = "closed",
    [BO_PHASE_FAILED] = "failed",
};

const char *bo_phase_name(bo_phase p)
{
    if ((unsigned)p > BO_PHASE_FAILED)
        return NULL;
    return phase_names[p];
}

bo_err bo_phase_parse(const char *s, bo_phase *out)
{
    for (int p = BO_PHASE_NONE; s && p <= BO_PHASE_FAILED; p++)
        if (!strcmp(s, phase_names[p])) {
            *out = (bo_phase)p;
            return BO_E_OK;
        }
    return BO_E_BAD_FIELD;
}

/* ------------------------------------------------------------- life cycle ---- */

bo_session *bo_session_new(const char *oid, bo_err *err)
{
    if (!bo_oid_valid(oid)) {
        if (err)
            *err = BO_E_BAD_FIELD;
        return NULL;
    }
    bo_session *s = calloc(1, sizeof(*s));
    if (!s) {
        if (err)
            *err = BO_E_NOMEM;
        return NULL;
    }
    snprintf(s->oid, sizeof(s->oid), "%s", oid);
    return s;
}

void bo_session_free(bo_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_bidders; i++) {
        free(s->bidders[i].sign_cert);
        free(s->bidders[i].signin_sig);
        free(s->bidders[i].confirm_sig);
        bo__bid_cleanup(&s->bidders[i].bid);
    }
    free(s->bidders);
    free(s->tender_mp);
    bo__announce_cleanup(s);
    free(s);
}

/* ---------------------------------------------------------------- helpers ---- */

bo_err bo__session_refuse(char *detail, size_t detail_len, bo_err err, const char *fmt, ...)
{
    if (detail && detail_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, detail_len, fmt, ap);
        va_end(ap);
    }
    return err;
}

bo_err bo__session_push(bo_event_list *out, bo_event_kind kind, bo_aud aud, const char *uscc,
                        bo_time_ms ts, bo_buf *body)
{
    bo_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.aud = aud;
    ev.ts = ts;
    if (uscc)
        snprintf(ev.aud_uscc, sizeof(ev.aud_uscc), "%s", uscc);
    ev.body = bo_buf_steal(body, &ev.body_len);
    if (!ev.body)
        return BO_E_INVALID_ARG;
    bo_err err = bo_event_list_push(out, &ev);
    if (err)
        bo_event_cleanup(&ev);
    return err;
}

/* Binary search; *at is where the USCC is or would be inserted. */
static bool find_bidder(const bo_session *s, const char *uscc, size_t *at)
{
    size_t lo = 0, hi = s->n_bidders;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->bidders[mid].uscc, uscc);
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

const bo__bidder *bo__session_bidder(const bo_session *s, const char *uscc)
{
    size_t at;
    return uscc && find_bidder(s, uscc, &at) ? &s->bidders[at] : NULL;
}

bool bo__session_is_host(const bo_session *s, const uint8_t *fpr)
{
    return s->has_tender && fpr && !memcmp(fpr, s->host_fpr, 32);
}

static void count_one(bo__counts *n, const bo__bidder *b)
{
    bool counted = b->registered && !b->intercepted;
    n->registered += counted;
    n->signed_in += b->signed_in;
    n->intercepted += b->intercepted;
    n->submitted += counted && b->bid.present;
}

bo__counts bo__session_counts_if(const bo_session *s, const bo__bidder *changed)
{
    bo__counts n = {0, 0, 0, 0};
    bool seen = false;
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (changed && !strcmp(b->uscc, changed->uscc)) {
            b = changed;
            seen = true;
        }
        count_one(&n, b);
    }
    if (changed && !seen)
        count_one(&n, changed);
    return n;
}

bool bo__session_before_deadline(const bo_session *s)
{
    return !s->revealed;
}

/* Makes room for one more bidder (no visible change to the state). */
static bo_err reserve_bidder(bo_session *s)
{
    if (s->n_bidders < s->alloc_bidders)
        return BO_E_OK;
    size_t na = s->alloc_bidders ? s->alloc_bidders * 2 : 8;
    bo__bidder *v = realloc(s->bidders, na * sizeof(*v));
    if (!v)
        return BO_E_NOMEM;
    s->bidders = v;
    s->alloc_bidders = na;
    return BO_E_OK;
}

/* The bidder with this USCC, inserted (zeroed) if new. Call reserve_bidder first. */
static bo__bidder *upsert_bidder(bo_session *s, const char *uscc)
{
    size_t at;
    if (!find_bidder(s, uscc, &at)) {
        memmove(&s->bidders[at + 1], &s->bidders[at], (s->n_bidders - at) * sizeof(bo__bidder));
        memset(&s->bidders[at], 0, sizeof(bo__bidder));
        snprintf(s->bidders[at].uscc, sizeof(s->bidders[at].uscc), "%s", uscc);
        s->n_bidders++;
    }
    return &s->bidders[at];
}

/* -------------------------------------------------------------- body reads ---- */

bool bo__body_str(const msgpack_object *o, const char *key, char *dst, size_t n)
{
    const char *s;
    size_t len;
    if (!bo_mpo_str(o, key, &s, &len) || len >= n || !bo_utf8_valid(s, len))
        return false;
    if (len)
        memcpy(dst, s, len);
    dst[len] = 0;
    return true;
}

bool bo__body_fpr(const msgpack_object *o, const char *key, uint8_t out[32])
{
    const uint8_t *p;
    size_t len;
    if (!bo_mpo_bin(o, key, &p, &len) || len != 32)
        return false;
    memcpy(out, p, 32);
    return true;
}

bool bo__text_ok(const char *s, size_t len, size_t max_chars, bool empty_ok)
{
    if (!len)
        return empty_ok;
    return bo_utf8_valid(s, len) && !memchr(s, 0, len) && bo_utf8_count(s, len) <= max_chars;
}

/* ---------------------------------------------------------- fold per kind ---- */

static bo_err fold_created(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    const msgpack_object *t = bo_mpo_get(o, "tender");
    uint8_t host[32], seed[32];
    char host_name[BO__NAME_MAX] = "";
    if (s->phase != BO_PHASE_NONE || !t || t->type != MSGPACK_OBJECT_MAP ||
        !bo__body_fpr(o, "host_fpr", host) || !bo__body_fpr(o, "seed_commit", seed) ||
        (bo_mpo_get(o, "host_name") &&
         !bo__body_str(o, "host_name", host_name, sizeof(host_name))))
        return BO_E_BAD_FIELD;
    bo_buf mp;
    bo_buf_init(&mp, SIZE_MAX / 4);
    bo_tender *tender = malloc(sizeof(*tender));
    bo_err err = tender ? bo_mp_canonical(&mp, t) : BO_E_NOMEM;
    if (!err)
        err = bo_tender_decode_stored(mp.data, mp.len, tender) ? BO_E_BAD_FIELD : BO_E_OK;
    if (!err && strcmp(tender->oid, s->oid))
        err = BO_E_BAD_FIELD;
    if (!err) {
        s->tender = *tender;
        s->has_tender = true;
        s->tender_mp = bo_buf_steal(&mp, &s->tender_len);
        memcpy(s->host_fpr, host, 32);
        memcpy(s->seed_commit, seed, 32);
        memcpy(s->host_name, host_name, sizeof(host_name));
        s->phase = BO_PHASE_SCHEDULED;
        s->timeline[0] = (bo__entered){BO_PHASE_SCHEDULED, ev->ts};
        s->n_timeline = 1;
    }
    free(tender);
    bo_buf_cleanup(&mp);
    return err;
}

/* The phase after p on the way to closed. */
static bo_phase next_phase(bo_phase p)
{
    return p >= BO_PHASE_SCHEDULED && p < BO_PHASE_CLOSED ? (bo_phase)(p + 1) : BO_PHASE_NONE;
}

/* phase_changed to announcing: {valid, min, quorum}, valid counting the valid bids, every
 * decrypted bid's form folded. */
static bool announcing_ok(const bo_session *s, const msgpack_object *o, bool *quorum)
{
    uint64_t valid, min;
    for (size_t i = 0; i < s->n_bidders; i++)
        if (s->bidders[i].bid.listed && s->bidders[i].bid.decrypted && !s->bidders[i].bid.formed)
            return false;
    return bo_mpo_u64(o, "valid", &valid) && valid == bo__session_valid_count(s) &&
           bo_mpo_u64(o, "min", &min) && min == s->tender.min_bidders &&
           bo_mpo_bool(o, "quorum", quorum) && *quorum == (valid >= min);
}

static bo_err fold_phase(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    char from[32], to[32], reason[sizeof(s->failed_reason)] = "";
    bo_phase pf, pt;
    if (!bo__body_str(o, "from", from, sizeof(from)) || !bo__body_str(o, "to", to, sizeof(to)) ||
        bo_phase_parse(from, &pf) || bo_phase_parse(to, &pt) || pf != s->phase)
        return BO_E_BAD_FIELD;
    bool to_failed = pt == BO_PHASE_FAILED && pf != BO_PHASE_CLOSED && pf != BO_PHASE_FAILED;
    if (!to_failed && pt != next_phase(pf))
        return BO_E_BAD_FIELD;
    /* decryption starts with a quorum and ends when every bid is resolved */
    if (pt == BO_PHASE_DECRYPTING && !(s->revealed && s->quorum))
        return BO_E_BAD_FIELD;
    if (pf == BO_PHASE_DECRYPTING && pt == BO_PHASE_ANNOUNCING && !bo__session_all_resolved(s))
        return BO_E_BAD_FIELD;
    bool quorum = s->quorum;
    if (pt == BO_PHASE_ANNOUNCING && !announcing_ok(s, o, &quorum))
        return BO_E_BAD_FIELD;
    /* the confirmation window opens first; the close records the final hash first */
    if (pt == BO_PHASE_CONFIRMING && !s->conf.opened)
        return BO_E_BAD_FIELD;
    if (pt == BO_PHASE_CLOSED && (!s->conf.closed || ev->ts != s->conf.closed_at))
        return BO_E_BAD_FIELD;
    if (bo_mpo_get(o, "reason") && !bo__body_str(o, "reason", reason, sizeof(reason)))
        return BO_E_BAD_FIELD;
    if (s->n_timeline == BO__TIMELINE_MAX)
        return BO_E_BAD_FIELD; /* cannot happen: each phase is entered once */
    s->timeline[s->n_timeline++] = (bo__entered){pt, ev->ts};
    s->quorum = quorum;
    s->phase = pt;
    if (to_failed) {
        s->paused = false;
        memcpy(s->failed_reason, reason, sizeof(reason));
    }
    return BO_E_OK;
}

/* The first certificate of a chain (array of bin) member. */
static bool body_leaf(const msgpack_object *o, const char *key, const uint8_t **p, size_t *n)
{
    const msgpack_object *a = bo_mpo_get(o, key);
    if (!a || a->type != MSGPACK_OBJECT_ARRAY || !a->via.array.size)
        return false;
    const msgpack_object *leaf = &a->via.array.ptr[0];
    if (leaf->type != MSGPACK_OBJECT_BIN || !leaf->via.bin.size)
        return false;
    *p = (const uint8_t *)leaf->via.bin.ptr;
    *n = leaf->via.bin.size;
    return true;
}

static bo_err fold_registered(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    char uscc[19], org[256];
    uint8_t sign[32], enc[32];
    const uint8_t *leaf;
    size_t leaf_len;
    if ((s->phase != BO_PHASE_SCHEDULED && s->phase != BO_PHASE_CHECKIN) ||
        !bo__body_str(o, "uscc", uscc, sizeof(uscc)) || strcmp(uscc, ev->aud_uscc) ||
        !bo__body_str(o, "org", org, sizeof(org)) || !bo__body_fpr(o, "sign_fpr", sign) ||
        !bo__body_fpr(o, "enc_fpr", enc) || !body_leaf(o, "sign_chain", &leaf, &leaf_len))
        return BO_E_BAD_FIELD;
    uint8_t *cert = malloc(leaf_len);
    if (!cert || reserve_bidder(s)) {
        free(cert);
        return BO_E_NOMEM;
    }
    memcpy(cert, leaf, leaf_len);
    bo__bidder *b = upsert_bidder(s, uscc);
    free(b->sign_cert);
    b->sign_cert = cert;
    b->sign_cert_len = leaf_len;
    memcpy(b->org, org, sizeof(org));
    memcpy(b->sign_fpr, sign, 32);
    memcpy(b->enc_fpr, enc, 32);
    b->registered = true;
    b->signed_in = false;
    b->intercepted = false;
    return BO_E_OK;
}

static bo_err fold_signed_in(bo_session *s, const msgpack_object *o)
{
    char uscc[19];
    size_t at, sig_len;
    const uint8_t *sig;
    bo_phase p = s->phase;
    if ((p != BO_PHASE_CHECKIN && p != BO_PHASE_AWAITING_OPEN && p != BO_PHASE_DECRYPTING) ||
        !bo__body_str(o, "uscc", uscc, sizeof(uscc)) || !find_bidder(s, uscc, &at) ||
        !s->bidders[at].registered || (s->revealed && !s->bidders[at].bid.listed) ||
        !bo_mpo_bin(o, "sig", &sig, &sig_len) || !sig_len)
        return BO_E_BAD_FIELD;
    uint8_t *copy = bo__dup(sig, sig_len);
    if (!copy)
        return BO_E_NOMEM;
    free(s->bidders[at].signin_sig);
    s->bidders[at].signin_sig = copy; /* the last sign-in's: an input of the draws */
    s->bidders[at].signin_sig_len = sig_len;
    s->bidders[at].signed_in = true;
    s->bidders[at].intercepted = false;
    return BO_E_OK;
}

static bo_err fold_intercepted(bo_session *s, const msgpack_object *o)
{
    char uscc[19], org[256];
    if (!bo__body_str(o, "uscc", uscc, sizeof(uscc)) || !bo__body_str(o, "org", org, sizeof(org)))
        return BO_E_BAD_FIELD;
    if (reserve_bidder(s))
        return BO_E_NOMEM;
    bo__bidder *b = upsert_bidder(s, uscc);
    if (!b->registered)
        memcpy(b->org, org, sizeof(org));
    b->intercepted = true;
    b->signed_in = false;
    return BO_E_OK;
}

/* Whether b is named in bidders_revealed: registered, not intercepted, with a bid. */
static bool opens(const bo__bidder *b)
{
    return b->registered && !b->intercepted && b->bid.present;
}

/* The list must name exactly the bids that open, in USCC order. */
static bool revealed_list_ok(const bo_session *s, const msgpack_object *list)
{
    if (!list || list->type != MSGPACK_OBJECT_ARRAY)
        return false;
    uint32_t k = 0;
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (!opens(b))
            continue;
        const msgpack_object *e = k < list->via.array.size ? &list->via.array.ptr[k] : NULL;
        char uscc[19];
        uint8_t bid[32];
        if (!e || e->type != MSGPACK_OBJECT_MAP || !bo__body_str(e, "uscc", uscc, sizeof(uscc)) ||
            strcmp(uscc, b->uscc) || !bo__body_fpr(e, "bid", bid) || memcmp(bid, b->bid.hash, 32))
            return false;
        k++;
    }
    return k == list->via.array.size;
}

static bo_err fold_revealed(bo_session *s, const msgpack_object *o)
{
    bool quorum;
    uint64_t count, min;
    if (s->revealed || s->phase != BO_PHASE_AWAITING_OPEN || !bo_mpo_bool(o, "quorum", &quorum) ||
        !bo_mpo_u64(o, "count", &count) || !bo_mpo_u64(o, "min", &min) ||
        min != s->tender.min_bidders || quorum != (count >= min) ||
        !revealed_list_ok(s, bo_mpo_get(o, "bidders")) ||
        count != bo_mpo_get(o, "bidders")->via.array.size)
        return BO_E_BAD_FIELD;
    s->revealed = true;
    s->quorum = quorum;
    for (size_t i = 0; i < s->n_bidders; i++)
        s->bidders[i].bid.listed = opens(&s->bidders[i]);
    return BO_E_OK;
}

/* The end of the window a pause freezes now (decryption's or confirmation's), or NULL. */
static bo_time_ms *open_window(bo_session *s)
{
    if (s->phase == BO_PHASE_DECRYPTING && s->dec.started && !s->dec.window_closed)
        return &s->dec.ends_at;
    if (s->phase == BO_PHASE_CONFIRMING && s->conf.opened && !s->conf.window_closed)
        return &s->conf.ends_at;
    return NULL;
}

bo_time_ms bo__session_open_window_end(const bo_session *s)
{
    bo_time_ms *at = open_window((bo_session *)s);
    return at ? *at : 0;
}

static bo_err fold_pause(bo_session *s, const bo_event *ev, const msgpack_object *o, bool paused)
{
    if (s->paused == paused)
        return BO_E_BAD_FIELD;
    bo_time_ms *window = open_window(s), ends_at = window ? *window : 0;
    if (!paused) {
        /* paused_ms is the pause's length; an open window moves by it */
        uint64_t ms;
        int64_t at = 0;
        bo_time_ms want = ev->ts > s->paused_at ? ev->ts - s->paused_at : 0;
        bool moves = window != NULL;
        bool has_at = bo_mpo_get(o, "ends_at") != NULL;
        if (!bo_mpo_u64(o, "paused_ms", &ms) || ms != (uint64_t)want || has_at != moves ||
            (moves && (!bo_mpo_i64(o, "ends_at", &at) || at != *window + want)))
            return BO_E_BAD_FIELD;
        if (moves)
            ends_at = at;
    }
    s->paused = paused;
    s->paused_at = paused ? ev->ts : 0;
    if (window)
        *window = ends_at;
    return BO_E_OK;
}

static bo_err fold_body(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    switch (ev->kind) {
    case BO_EV_OPENING_CREATED:
        return fold_created(s, ev, o);
    case BO_EV_PHASE_CHANGED:
        return fold_phase(s, ev, o);
    case BO_EV_BIDDER_REGISTERED:
        return fold_registered(s, ev, o);
    case BO_EV_BIDDER_SIGNED_IN:
        return fold_signed_in(s, o);
    case BO_EV_BIDDER_INTERCEPTED:
        return fold_intercepted(s, o);
    case BO_EV_BIDDERS_REVEALED:
        return fold_revealed(s, o);
    case BO_EV_PAUSED:
    case BO_EV_RESUMED:
        return fold_pause(s, ev, o, ev->kind == BO_EV_PAUSED);
    case BO_EV_TALLY:
    case BO_EV_HEAD_SIGNED:
        return BO_E_OK;
    default:
        if (ev->kind >= BO_EV_BID_ANNOUNCED)
            return bo__announce_fold(s, ev, o);
        return bo__bid_fold(s, ev, o);
    }
}

/* The audience protocol.md §7 gives this kind now. */
static bool audience_ok(const bo_session *s, const bo_event *ev)
{
    bool before = bo__session_before_deadline(s);
    switch (ev->kind) {
    case BO_EV_BIDDER_REGISTERED:
        return ev->aud == BO_AUD_BIDDER;
    case BO_EV_TALLY:
        return ev->aud == (s->has_tender && s->tender.counts_early ? BO_AUD_PUB : BO_AUD_STAFF);
    case BO_EV_BIDDER_SIGNED_IN:
        return ev->aud == (before ? BO_AUD_BIDDER : BO_AUD_PUB);
    case BO_EV_BIDDER_INTERCEPTED:
        return ev->aud == (before ? BO_AUD_SUP : BO_AUD_STAFF);
    case BO_EV_HEAD_SIGNED:
        return ev->aud == (before ? BO_AUD_SUP : BO_AUD_PUB);
    case BO_EV_BID_SUBMITTED:
    case BO_EV_DECRYPT_REQUEST:
        return ev->aud == BO_AUD_BIDDER;
    case BO_EV_DECRYPT_REFUSED:
    case BO_EV_DECRYPT_DIAGNOSTIC:
        return ev->aud == BO_AUD_STAFF;
    case BO_EV_BID_FORM:
        return ev->aud == BO_AUD_SUP;
    default:
        return ev->aud == BO_AUD_PUB;
    }
}

/* Stream positions (protocol.md §7: each stream numbered from 1 without gaps). */
static void count_streams(bo_session *s, bo_event *ev)
{
    ev->priv_pos = 0;
    switch (ev->aud) {
    case BO_AUD_PUB:
        ev->pub_pos = ++s->pub_count;
        return;
    case BO_AUD_STAFF:
        ev->priv_pos = ++s->staff_count;
        break;
    case BO_AUD_BIDDER: {
        size_t at;
        if (find_bidder(s, ev->aud_uscc, &at))
            ev->priv_pos = ++s->bidders[at].stream;
        break;
    }
    default:
        break;
    }
    ev->pub_pos = s->pub_count;
}

/* ------------------------------------------------------------- seal, fold ---- */

bo_err bo_session_seal(const bo_session *s, bo_event_list *evs)
{
    const uint8_t *prev = s->head;
    for (size_t i = 0; i < evs->n; i++) {
        bo_event *ev = &evs->v[i];
        ev->seq = s->seq + 1 + i;
        memcpy(ev->prev_hash, prev, 32);
        bo_event_compute_hash(s->oid, ev, ev->hash);
        prev = ev->hash;
    }
    return BO_E_OK;
}

static bo_err check_link(const bo_session *s, const bo_event *ev)
{
    if (ev->seq != s->seq + 1 || memcmp(ev->prev_hash, s->head, 32))
        return BO_E_CONFLICT;
    uint8_t want[32];
    bo_event_compute_hash(s->oid, ev, want);
    if (memcmp(want, ev->hash, 32))
        return BO_E_BAD_FIELD;
    if (ev->aud == BO_AUD_BIDDER && strlen(ev->aud_uscc) != 18)
        return BO_E_BAD_FIELD;
    return BO_E_OK;
}

bo_err bo_session_fold(bo_session *s, bo_event *ev)
{
    bo_err err = check_link(s, ev);
    if (err)
        return err;
    if (s->phase == BO_PHASE_NONE && ev->kind != BO_EV_OPENING_CREATED)
        return BO_E_BAD_FIELD;
    if (!audience_ok(s, ev))
        return BO_E_BAD_FIELD;
    msgpack_zone *z = NULL;
    msgpack_object o;
    err = bo_mp_parse(ev->body, ev->body_len, &z, &o);
    if (!err && o.type != MSGPACK_OBJECT_MAP)
        err = BO_E_BAD_FIELD;
    if (err == BO_E_MALFORMED)
        err = BO_E_BAD_FIELD;
    if (!err)
        err = fold_body(s, ev, &o);
    msgpack_zone_free(z);
    if (err)
        return err;
    s->seq = ev->seq;
    memcpy(s->head, ev->hash, 32);
    count_streams(s, ev);
    return BO_E_OK;
}

/* ------------------------------------------------------------------- heads ---- */

bo_err bo_session_head_payload(const char *oid, uint64_t seq, const uint8_t hash[32],
                               bo_time_ms ts, bo_buf *out)
{
    size_t mark = out->len;
    bo_err err = bo_mp_array_header(out, 4);
    if (!err)
        err = bo_mp_str(out, oid, strlen(oid));
    if (!err)
        err = bo_mp_u64(out, seq);
    if (!err)
        err = bo_mp_bin(out, hash, 32);
    if (!err)
        err = bo_mp_i64(out, ts);
    if (err && out->data) {
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

/* Whether the log is public at phase_after: the deadline has passed. */
static bool public_after(const bo_session *s, bo_phase phase_after)
{
    if (phase_after == BO_PHASE_FAILED)
        return s->revealed;
    return phase_after >= BO_PHASE_AWAITING_OPEN && phase_after <= BO_PHASE_CLOSED;
}

bo_err bo_session_head_event(const bo_session *s, bo_phase phase_after, uint64_t last_seq,
                             const uint8_t last_hash[32], bo_time_ms ts, const uint8_t *sig,
                             size_t sig_len, const uint8_t key_fpr[32], bo_event_list *out)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "seq", last_seq);
    bo_mpmap_bin(m, "hash", last_hash, 32);
    bo_mpmap_i64(m, "ts", ts);
    bo_mpmap_bin(m, "sig", sig, sig_len);
    bo_mpmap_bin(m, "key_fpr", key_fpr, 32);
    bo_buf body;
    bo_buf_init(&body, SIZE_MAX / 4);
    err = bo_mpmap_finish(m, &body);
    bo_mpmap_free(m);
    bo_aud aud = public_after(s, phase_after) ? BO_AUD_PUB : BO_AUD_SUP;
    if (!err)
        err = bo__session_push(out, BO_EV_HEAD_SIGNED, aud, NULL, ts, &body);
    bo_buf_cleanup(&body);
    return err;
}

/* ---------------------------------------------------------------- reading ---- */

const char *bo_session_oid(const bo_session *s)
{
    return s->oid;
}

uint64_t bo_session_seq(const bo_session *s)
{
    return s->seq;
}

const uint8_t *bo_session_head(const bo_session *s)
{
    return s->head;
}

bo_phase bo_session_phase(const bo_session *s)
{
    return s->phase;
}

bool bo_session_paused(const bo_session *s)
{
    return s->paused;
}

const bo_tender *bo_session_tender(const bo_session *s)
{
    return s->has_tender ? &s->tender : NULL;
}

const uint8_t *bo_session_host_fpr(const bo_session *s)
{
    return s->host_fpr;
}

uint64_t bo_session_pub_count(const bo_session *s)
{
    return s->pub_count;
}

uint64_t bo_session_staff_count(const bo_session *s)
{
    return s->staff_count;
}

uint64_t bo_session_bidder_count(const bo_session *s, const char *uscc)
{
    const bo__bidder *b = bo__session_bidder(s, uscc);
    return b ? b->stream : 0;
}

bool bo_session_is_registered(const bo_session *s, const char *uscc)
{
    const bo__bidder *b = bo__session_bidder(s, uscc);
    return b && b->registered && !b->intercepted;
}

bool bo_session_is_signed_in(const bo_session *s, const char *uscc)
{
    const bo__bidder *b = bo__session_bidder(s, uscc);
    return b && b->signed_in;
}

void bo_session_counts(const bo_session *s, unsigned *registered, unsigned *signed_in,
                       unsigned *intercepted)
{
    bo__counts n = bo__session_counts_if(s, NULL);
    *registered = n.registered;
    *signed_in = n.signed_in;
    *intercepted = n.intercepted;
}

bool bo_session_revealed(const bo_session *s)
{
    return s->revealed;
}

bo_time_ms bo_session_next_timer(const bo_session *s)
{
    if (!s->has_tender || s->paused)
        return 0;
    if (s->phase == BO_PHASE_SCHEDULED)
        return s->tender.checkin_at;
    if (s->phase == BO_PHASE_CHECKIN)
        return s->tender.deadline;
    if (s->phase == BO_PHASE_DECRYPTING && s->dec.started && !s->dec.window_closed)
        return s->dec.ends_at;
    if (s->phase == BO_PHASE_CONFIRMING && s->conf.opened && !s->conf.window_closed)
        return s->conf.ends_at;
    return 0;
}
