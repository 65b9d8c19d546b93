/* bidopen: the state of sealed bids and their decryption (docs/protocol.md §10): how their
 * events fold (every body checked against the state, which is unchanged on error) and what
 * the state tells the server about bids. What the commands do is in bo_bid.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo_session_internal.h"

/* ---------------------------------------------------------------- helpers ---- */

const char *bo__outcome_name(bo__outcome o)
{
    switch (o) {
    case BO__OUTCOME_REVOKED:
        return "revoked";
    case BO__OUTCOME_WITHDRAWN:
        return "withdrawn";
    default:
        return NULL;
    }
}

bool bo__outcome_parse(const char *s, bo__outcome *out)
{
    if (!strcmp(s, "revoked"))
        *out = BO__OUTCOME_REVOKED;
    else if (!strcmp(s, "withdrawn"))
        *out = BO__OUTCOME_WITHDRAWN;
    else
        return false;
    return true;
}

bool bo__req_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 32;
}

bool bo__cipher_valid(const char *s)
{
    return !strcmp(s, "aes-256-gcm") || !strcmp(s, "aes-256-cbc");
}

const char *bo__bid_state(const bo__bid *b)
{
    if (b->decrypted)
        return "decrypted";
    if (b->outcome != BO__OUTCOME_NONE)
        return bo__outcome_name(b->outcome);
    return b->req[0] ? "requested" : "submitted";
}

void bo__bid_cleanup(bo__bid *b)
{
    free(b->ri);
    free(b->receipt_sig);
    free(b->sign_cert);
    free(b->req_body);
    free(b->form);
    free(b->resp);
    free(b->reason);
    memset(b, 0, sizeof(*b));
}

bool bo__bid_valid(const bo__bid *b)
{
    return b->listed && b->decrypted && b->outcome == BO__OUTCOME_NONE && !b->form_error[0];
}

unsigned bo__session_valid_count(const bo_session *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < s->n_bidders; i++)
        n += bo__bid_valid(&s->bidders[i].bid);
    return n;
}

const char *bo__bid_status(const bo__bid *b)
{
    if (b->outcome != BO__OUTCOME_NONE)
        return bo__outcome_name(b->outcome);
    if (!b->decrypted)
        return "missing";
    return b->form_error[0] ? "invalid" : "valid";
}

static bool resolved(const bo__bid *b)
{
    return b->decrypted || b->outcome != BO__OUTCOME_NONE;
}

void bo__session_bid_counts(const bo_session *s, unsigned *bids, unsigned *decrypted,
                            unsigned *classified)
{
    unsigned n = 0, d = 0, c = 0;
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bid *b = &s->bidders[i].bid;
        n += b->listed;
        d += b->listed && b->decrypted;
        c += b->listed && b->outcome != BO__OUTCOME_NONE;
    }
    if (bids)
        *bids = n;
    if (decrypted)
        *decrypted = d;
    if (classified)
        *classified = c;
}

bool bo__session_all_resolved(const bo_session *s)
{
    for (size_t i = 0; i < s->n_bidders; i++)
        if (s->bidders[i].bid.listed && !resolved(&s->bidders[i].bid))
            return false;
    return true;
}

/* The bidder named by a body's uscc (and, for private events, its audience). */
static bo__bidder *body_bidder(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    char uscc[19];
    if (!bo__body_str(o, "uscc", uscc, sizeof(uscc)))
        return NULL;
    if (ev->aud == BO_AUD_BIDDER && strcmp(uscc, ev->aud_uscc))
        return NULL;
    return (bo__bidder *)bo__session_bidder(s, uscc);
}

/* A listed bid not yet decrypted or classified, while decrypting. */
static bo__bidder *pending_bidder(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    if (s->phase != BO_PHASE_DECRYPTING || !s->dec.started)
        return NULL;
    bo__bidder *b = body_bidder(s, ev, o);
    return b && b->bid.listed && !resolved(&b->bid) ? b : NULL;
}

static bool body_bin(const msgpack_object *o, const char *key, const uint8_t **p, size_t *n)
{
    return bo_mpo_bin(o, key, p, n) && *n > 0;
}

static bool body_text(const msgpack_object *o, const char *key, size_t max, bool empty_ok)
{
    const char *s;
    size_t n;
    return bo_mpo_str(o, key, &s, &n) && bo__text_ok(s, n, max, empty_ok);
}

static bool body_req(const msgpack_object *o, char out[33])
{
    return bo__body_str(o, "req", out, 33) && bo__req_valid(out);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* ------------------------------------------------------------ submission ---- */

static bo_err fold_submitted(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    bo__bidder *b = body_bidder(s, ev, o);
    char cipher[16];
    uint8_t hash[32], commit[32], replaces[32];
    uint64_t size;
    int64_t ts;
    const uint8_t *ri, *rs;
    size_t ri_len, rs_len;
    if (!b || !b->registered || b->intercepted || s->revealed ||
        (s->phase != BO_PHASE_SCHEDULED && s->phase != BO_PHASE_CHECKIN) ||
        !bo__body_fpr(o, "hash", hash) || !bo__body_fpr(o, "commit", commit) ||
        !bo_mpo_u64(o, "size", &size) || !size ||
        !bo__body_str(o, "cipher", cipher, sizeof(cipher)) || !bo__cipher_valid(cipher) ||
        !body_bin(o, "ri", &ri, &ri_len) || !body_bin(o, "receipt_sig", &rs, &rs_len) ||
        !bo_mpo_i64(o, "ts", &ts) || ts != ev->ts)
        return BO_E_BAD_FIELD;
    bool has_replaces = bo_mpo_get(o, "replaces") != NULL;
    if (has_replaces != b->bid.present ||
        (has_replaces && (!bo__body_fpr(o, "replaces", replaces) ||
                          memcmp(replaces, b->bid.hash, 32) || !memcmp(hash, replaces, 32))))
        return BO_E_BAD_FIELD;
    bo__bid n;
    memset(&n, 0, sizeof(n));
    n.ri = dup_bytes(ri, ri_len);
    n.receipt_sig = dup_bytes(rs, rs_len);
    n.sign_cert = dup_bytes(b->sign_cert, b->sign_cert_len);
    if (!n.ri || !n.receipt_sig || !n.sign_cert) {
        bo__bid_cleanup(&n);
        return BO_E_NOMEM;
    }
    n.present = true;
    n.seq = ev->seq;
    memcpy(n.hash, hash, 32);
    n.size = size;
    memcpy(n.commit, commit, 32);
    memcpy(n.cipher, cipher, sizeof(cipher));
    n.ts = ts;
    n.ri_len = ri_len;
    n.receipt_sig_len = rs_len;
    memcpy(n.sign_fpr, b->sign_fpr, 32);
    n.sign_cert_len = b->sign_cert_len;
    bo__bid_cleanup(&b->bid);
    b->bid = n;
    return BO_E_OK;
}

/* ---------------------------------------------------------------- window ---- */

static bo_err fold_started(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    uint64_t window_s, bids;
    int64_t ends_at;
    unsigned listed;
    bo__session_bid_counts(s, &listed, NULL, NULL);
    if (s->phase != BO_PHASE_DECRYPTING || s->dec.started ||
        !bo_mpo_u64(o, "window_s", &window_s) || window_s < BO__WINDOW_MIN_S ||
        window_s > BO__WINDOW_MAX_S || !bo_mpo_i64(o, "ends_at", &ends_at) ||
        ends_at != ev->ts + (int64_t)window_s * 1000 || !bo_mpo_u64(o, "bids", &bids) ||
        bids != listed)
        return BO_E_BAD_FIELD;
    s->dec.started = true;
    s->dec.window_s = (uint32_t)window_s;
    s->dec.ends_at = ends_at;
    s->dec.bids = listed;
    return BO_E_OK;
}

static bo_err fold_extended(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    int64_t ends_at;
    bo__decrypt *d = &s->dec;
    if (s->phase != BO_PHASE_DECRYPTING || !d->started || d->extended || d->window_closed ||
        ev->ts >= d->ends_at || !bo_mpo_i64(o, "ends_at", &ends_at) ||
        !body_text(o, "reason", BO__REASON_MAX_CHARS, false))
        return BO_E_BAD_FIELD;
    int64_t delta = ends_at - d->ends_at;
    if (delta < BO__WINDOW_MIN_S * 1000LL || delta > BO__WINDOW_MAX_S * 1000LL || delta % 1000)
        return BO_E_BAD_FIELD;
    d->ends_at = ends_at;
    d->extended = true;
    return BO_E_OK;
}

static bo_err fold_window_closed(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    const msgpack_object *list = bo_mpo_get(o, "undecrypted");
    if (s->phase != BO_PHASE_DECRYPTING || !s->dec.started || s->dec.window_closed ||
        ev->ts < s->dec.ends_at || !list || list->type != MSGPACK_OBJECT_ARRAY)
        return BO_E_BAD_FIELD;
    /* exactly the pending bids, in USCC order */
    uint32_t k = 0;
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (!b->bid.listed || resolved(&b->bid))
            continue;
        const msgpack_object *e = k < list->via.array.size ? &list->via.array.ptr[k] : NULL;
        if (!e || e->type != MSGPACK_OBJECT_STR || e->via.str.size != strlen(b->uscc) ||
            memcmp(e->via.str.ptr, b->uscc, e->via.str.size))
            return BO_E_BAD_FIELD;
        k++;
    }
    if (k != list->via.array.size)
        return BO_E_BAD_FIELD;
    s->dec.window_closed = true;
    return BO_E_OK;
}

/* -------------------------------------------------------------- requests ---- */

static bool req_in_use(const bo_session *s, const char *req)
{
    for (size_t i = 0; i < s->n_bidders; i++)
        if (!strcmp(s->bidders[i].bid.req, req))
            return true;
    return false;
}

static bo_err fold_request(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    bo__bidder *b = pending_bidder(s, ev, o);
    char req[33];
    uint8_t bid[32], pub[32];
    int64_t ends_at;
    const uint8_t *ri, *sig;
    size_t ri_len, sig_len;
    if (!b || !b->signed_in || s->dec.window_closed || !body_req(o, req) ||
        req_in_use(s, req) || !bo__body_fpr(o, "bid", bid) || memcmp(bid, b->bid.hash, 32) ||
        !body_bin(o, "ri", &ri, &ri_len) || ri_len != b->bid.ri_len ||
        memcmp(ri, b->bid.ri, ri_len) || !bo__body_fpr(o, "server_pub", pub) ||
        !bo_mpo_i64(o, "ends_at", &ends_at) || ends_at != s->dec.ends_at ||
        !body_bin(o, "sig", &sig, &sig_len))
        return BO_E_BAD_FIELD;
    uint8_t *body = dup_bytes(ev->body, ev->body_len);
    if (!body)
        return BO_E_NOMEM;
    free(b->bid.req_body);
    b->bid.req_body = body;
    b->bid.req_body_len = ev->body_len;
    memcpy(b->bid.req, req, sizeof(req));
    memcpy(b->bid.server_pub, pub, 32);
    return BO_E_OK;
}

static bool stage_valid(const msgpack_object *o)
{
    char stage[8];
    return bo__body_str(o, "stage", stage, sizeof(stage)) &&
           (!strcmp(stage, "token") || !strcmp(stage, "cert") || !strcmp(stage, "unwrap") ||
            !strcmp(stage, "other"));
}

static bo_err fold_refused(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    char req[33], code[65];
    bo_err e;
    const bo__bidder *b = body_bidder(s, ev, o);
    if (s->phase != BO_PHASE_DECRYPTING || !s->dec.started || !b || !b->bid.listed ||
        !body_req(o, req) || !bo__body_str(o, "code", code, sizeof(code)) ||
        bo_err_from_name(code, &e) || e == BO_E_OK)
        return BO_E_BAD_FIELD;
    return BO_E_OK;
}

static bo_err fold_diagnostic(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    const bo__bidder *b = pending_bidder(s, ev, o);
    char req[33];
    uint8_t fpr[32];
    const uint8_t *sig;
    size_t sig_len;
    if (!b || s->dec.window_closed || !body_req(o, req) || strcmp(req, b->bid.req) ||
        !stage_valid(o) ||
        !body_text(o, "error", BO__ERROR_MAX_CHARS, true) ||
        !bo__body_fpr(o, "cert_fpr", fpr) || !body_bin(o, "sig", &sig, &sig_len))
        return BO_E_BAD_FIELD;
    return BO_E_OK;
}

/* --------------------------------------------------------------- results ---- */

/* bid_decrypted.resp {req, client_pub, wrapped, sig}: exactly these, well-formed. */
static bool resp_ok(const msgpack_object *r)
{
    char req[33];
    uint8_t pub[32];
    const uint8_t *p;
    size_t n;
    return r->type == MSGPACK_OBJECT_MAP && r->via.map.size == 4 && body_req(r, req) &&
           bo__body_fpr(r, "client_pub", pub) && body_bin(r, "wrapped", &p, &n) && n <= 256 &&
           body_bin(r, "sig", &p, &n) && n <= 1024;
}

static bo_err fold_decrypted(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    bo__bidder *b = pending_bidder(s, ev, o);
    char org[256], form_error[BO__FORM_ERROR_MAX] = "";
    uint8_t bid[32];
    uint64_t size;
    const msgpack_object *resp = bo_mpo_get(o, "resp");
    if (!b || !bo__body_str(o, "org", org, sizeof(org)) || strcmp(org, b->org) ||
        !bo__body_fpr(o, "bid", bid) || memcmp(bid, b->bid.hash, 32) ||
        !bo_mpo_u64(o, "size", &size) || size != b->bid.size ||
        (bo_mpo_get(o, "form_error") &&
         (!bo__body_str(o, "form_error", form_error, sizeof(form_error)) || !form_error[0])) ||
        (resp && !resp_ok(resp)))
        return BO_E_BAD_FIELD;
    uint8_t *r = NULL;
    size_t r_len = 0;
    if (resp) {
        bo_buf rb;
        bo_buf_init(&rb, SIZE_MAX / 4);
        bo_err err = bo_mp_canonical(&rb, resp);
        r = err ? NULL : bo_buf_steal(&rb, &r_len);
        bo_buf_cleanup(&rb);
        if (!r)
            return err ? err : BO_E_NOMEM;
    }
    b->bid.decrypted = true;
    memcpy(b->bid.form_error, form_error, sizeof(form_error));
    free(b->bid.resp);
    b->bid.resp = r;
    b->bid.resp_len = r_len;
    return BO_E_OK;
}

/* The form's check must give the form_error bid_decrypted recorded. */
static bo_err fold_form(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    bo__bidder *b = body_bidder(s, ev, o);
    const msgpack_object *form = bo_mpo_get(o, "form");
    if (s->phase != BO_PHASE_DECRYPTING || !b || !b->bid.listed || !b->bid.decrypted ||
        b->bid.formed || !form || form->type != MSGPACK_OBJECT_MAP)
        return BO_E_BAD_FIELD;
    bo_buf fb;
    bo_buf_init(&fb, SIZE_MAX / 4);
    bo_err err = bo_mp_canonical(&fb, form);
    char why[BO__FORM_ERROR_MAX] = "";
    if (!err && bo_tender_check_form(&s->tender, fb.data, fb.len, why, sizeof(why)) ==
                    BO_E_NOMEM)
        err = BO_E_NOMEM;
    if (!err && strcmp(why, b->bid.form_error))
        err = BO_E_BAD_FIELD;
    size_t len = 0;
    uint8_t *copy = err ? NULL : bo_buf_steal(&fb, &len);
    bo_buf_cleanup(&fb);
    if (!err && !copy)
        err = BO_E_NOMEM;
    if (err)
        return err == BO_E_NOMEM ? err : BO_E_BAD_FIELD;
    free(b->bid.form);
    b->bid.form = copy;
    b->bid.form_len = len;
    b->bid.formed = true;
    return BO_E_OK;
}

static bo_err fold_classified(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    bo__bidder *b = pending_bidder(s, ev, o);
    char outcome[16];
    bo__outcome oc;
    const char *r;
    size_t r_len;
    if (!b || !s->dec.window_closed || !bo__body_str(o, "outcome", outcome, sizeof(outcome)) ||
        !bo__outcome_parse(outcome, &oc) ||
        !body_text(o, "reason", BO__REASON_MAX_CHARS, false) ||
        !bo_mpo_str(o, "reason", &r, &r_len))
        return BO_E_BAD_FIELD;
    char *reason = malloc(r_len + 1);
    if (!reason)
        return BO_E_NOMEM;
    memcpy(reason, r, r_len);
    reason[r_len] = 0;
    free(b->bid.reason);
    b->bid.reason = reason;
    b->bid.outcome = oc;
    return BO_E_OK;
}

bo_err bo__bid_fold(bo_session *s, const bo_event *ev, const msgpack_object *o)
{
    switch (ev->kind) {
    case BO_EV_BID_SUBMITTED:
        return fold_submitted(s, ev, o);
    case BO_EV_DECRYPTION_STARTED:
        return fold_started(s, ev, o);
    case BO_EV_DECRYPT_REQUEST:
        return fold_request(s, ev, o);
    case BO_EV_DECRYPT_REFUSED:
        return fold_refused(s, ev, o);
    case BO_EV_DECRYPT_DIAGNOSTIC:
        return fold_diagnostic(s, ev, o);
    case BO_EV_BID_DECRYPTED:
        return fold_decrypted(s, ev, o);
    case BO_EV_BID_FORM:
        return fold_form(s, ev, o);
    case BO_EV_DECRYPTION_EXTENDED:
        return fold_extended(s, ev, o);
    case BO_EV_DECRYPTION_WINDOW_CLOSED:
        return fold_window_closed(s, ev, o);
    case BO_EV_BID_CLASSIFIED:
        return fold_classified(s, ev, o);
    default:
        return BO_E_BAD_FIELD;
    }
}

/* ---------------------------------------------------------------- reading ---- */

static void view_of(const bo__bidder *b, bo_bid_view *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->uscc, b->uscc, sizeof(out->uscc));
    memcpy(out->org, b->org, sizeof(out->org));
    memcpy(out->hash, b->bid.hash, 32);
    out->size = b->bid.size;
    memcpy(out->commit, b->bid.commit, 32);
    memcpy(out->cipher, b->bid.cipher, sizeof(out->cipher));
    out->ri = (bo_bytes){b->bid.ri, b->bid.ri_len};
    memcpy(out->sign_fpr, b->bid.sign_fpr, 32);
    out->sign_chain = (bo_bytes){b->bid.sign_cert, b->bid.sign_cert_len};
    out->signed_in = b->signed_in;
    out->decrypted = b->bid.decrypted;
    out->classified = b->bid.outcome != BO__OUTCOME_NONE;
    memcpy(out->req, b->bid.req, sizeof(out->req));
    memcpy(out->server_pub, b->bid.server_pub, 32);
    out->ts = b->bid.ts;
    out->receipt_sig = (bo_bytes){b->bid.receipt_sig, b->bid.receipt_sig_len};
}

bool bo_session_bid(const bo_session *s, const char *uscc, bo_bid_view *out)
{
    const bo__bidder *b = bo__session_bidder(s, uscc);
    if (!b || !b->bid.present)
        return false;
    if (out)
        view_of(b, out);
    return true;
}

bool bo_session_find_request(const bo_session *s, const char *req, bo_bid_view *out)
{
    for (size_t i = 0; req && req[0] && i < s->n_bidders; i++)
        if (!strcmp(s->bidders[i].bid.req, req)) {
            if (out)
                view_of(&s->bidders[i], out);
            return true;
        }
    return false;
}

/* Whether b gets a request if the command were applied now. */
static bool due(const bo_session *s, bo_cmd_type type, const bo__bidder *b)
{
    const bo__bid *bid = &b->bid;
    if (!bid->listed || resolved(bid))
        return false;
    if (type == BO_CMD_DECRYPT_REISSUE)
        return s->phase == BO_PHASE_DECRYPTING && s->dec.started && !s->dec.window_closed &&
               b->signed_in && bid->req[0];
    if (bid->req[0])
        return false;
    if (type == BO_CMD_DECRYPT_START)
        return s->phase == BO_PHASE_AWAITING_OPEN && b->signed_in;
    if (type == BO_CMD_SIGNIN)
        return s->phase == BO_PHASE_DECRYPTING && s->dec.started && !s->dec.window_closed &&
               !b->signed_in;
    return false;
}

size_t bo_session_decrypt_due(const bo_session *s, bo_cmd_type type, const char *uscc,
                              char (*out)[19], size_t max)
{
    size_t n = 0;
    if (type == BO_CMD_SIGNIN || type == BO_CMD_DECRYPT_REISSUE) {
        const bo__bidder *b = bo__session_bidder(s, uscc);
        if (b && max && due(s, type, b))
            memcpy(out[n++], b->uscc, 19);
        return n;
    }
    for (size_t i = 0; i < s->n_bidders && n < max; i++)
        if (due(s, type, &s->bidders[i]))
            memcpy(out[n++], s->bidders[i].uscc, 19);
    return n;
}

bool bo_session_window_open(const bo_session *s, bo_time_ms now)
{
    return s->phase == BO_PHASE_DECRYPTING && s->dec.started && !s->dec.window_closed &&
           (s->paused || now < s->dec.ends_at);
}

void bo_session_decrypt_progress(const bo_session *s, unsigned *bids, unsigned *decrypted,
                                 unsigned *classified, bo_time_ms *ends_at)
{
    bo__session_bid_counts(s, bids, decrypted, classified);
    if (ends_at)
        *ends_at = s->dec.started ? s->dec.ends_at : 0;
}
