/* bidopen: what the commands of sealed bids and remote decryption do (docs/protocol.md §10):
 * submission before the deadline, the decryption window and its timer, requests,
 * refusals, diagnostics, results and classification. Like bo_phase.c, this only decides;
 * the fold of these events and the accessors are in bo_bid_fold.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo_session_internal.h"

typedef bo__actx actx;
#define REFUSE BO__REFUSE

/* The caps of an opening form carried in bid_form: it travels inside an ev frame to
 * supervisors, so it stays far below a frame (the package allows 32 short fields). */
#define FORM_MAX_BYTES (64u << 10)
static const bo_wire_caps form_caps = {
    .frame = FORM_MAX_BYTES, .depth = 4, .elems = 1000, .str = 4096, .bin = 4096};

static bo_mpmap *body_new(bo_err *err)
{
    *err = BO_E_OK;
    return bo_mpmap_new(err);
}

/* ------------------------------------------------------------------ guards ---- */

/* The registered bidder behind a bidder's command (same signing certificate). */
static bo_err need_bidder(actx *c, const bo__bidder **out)
{
    if (strlen(c->a->uscc) != 18)
        return REFUSE(c, BO_E_INVALID_ARG, "The bidder has no USCC.");
    const bo__bidder *b = bo__session_bidder(c->s, c->a->uscc);
    if (!b || !b->registered)
        return REFUSE(c, BO_E_NOT_REGISTERED, "Not registered as a bidder for this opening.");
    if (memcmp(b->sign_fpr, c->a->fpr, 32))
        return REFUSE(c, BO_E_NOT_REGISTERED,
                      "signing certificate differs from the registered one");
    *out = b;
    return BO_E_OK;
}

static bo_err need_system(actx *c)
{
    if (c->a->role != BO_ROLE_SYSTEM)
        return REFUSE(c, BO_E_FORBIDDEN, "Only the server records this.");
    return bo__need_opening(c);
}

static bo_err need_decrypting(actx *c)
{
    if (c->s->phase != BO_PHASE_DECRYPTING || !c->s->dec.started)
        return REFUSE(c, BO_E_PHASE, "Decryption is not under way (the opening is %s).",
                      bo_phase_name(c->s->phase));
    return BO_E_OK;
}

/* This opening's host, who may act now (not paused, quorum), while decrypting. */
static bo_err need_host_decrypting(actx *c)
{
    bo_err err = bo__need_host(c, false);
    if (!err)
        err = bo__need_opening(c);
    if (!err)
        err = bo__need_not_over(c);
    if (!err)
        err = bo__need_host_may_act(c);
    if (!err)
        err = need_decrypting(c);
    return err;
}

/* The bidder named by a system or host command, with a bid opened here. */
static bo_err need_listed(actx *c, const char *uscc, const bo__bidder **out)
{
    const bo__bidder *b = uscc ? bo__session_bidder(c->s, uscc) : NULL;
    if (!b || !b->bid.listed)
        return REFUSE(c, BO_E_NOT_FOUND, "No bid of %.18s is opened here.",
                      uscc ? uscc : "(none)");
    *out = b;
    return BO_E_OK;
}

static bool resolved(const bo__bidder *b)
{
    return b->bid.decrypted || b->bid.outcome != BO__OUTCOME_NONE;
}

static bo_err need_unresolved(actx *c, const bo__bidder *b)
{
    if (b->bid.decrypted)
        return REFUSE(c, BO_E_ALREADY_DONE, "The bid of %s is already decrypted.", b->uscc);
    if (b->bid.outcome != BO__OUTCOME_NONE)
        return REFUSE(c, BO_E_ALREADY_DONE, "The bid of %s is already classified.", b->uscc);
    return BO_E_OK;
}

/* Whether every listed bid but except's is resolved. */
static bool all_resolved_but(const bo_session *s, const bo__bidder *except)
{
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (b != except && b->bid.listed && !resolved(b))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- submit ---- */

static bool bid_info_ok(const bo_bid_info *bi)
{
    return bi && bi->size && bi->cipher && bo__cipher_valid(bi->cipher) && bi->ri.p &&
           bi->ri.len && bi->receipt_sig.p && bi->receipt_sig.len;
}

static bo_err submit_guards(actx *c, const bo__bidder **b)
{
    bo_err err = bo__need_role(c, BO_ROLE_BIDDER);
    if (!err)
        err = bo__need_opening(c);
    if (!err)
        err = bo__need_not_over(c);
    if (err)
        return err;
    if (c->s->phase >= BO_PHASE_AWAITING_OPEN || c->cmd->now >= c->s->tender.deadline)
        return REFUSE(c, BO_E_DEADLINE_PASSED, "The bid deadline has passed.");
    if ((err = need_bidder(c, b)))
        return err;
    if (!bid_info_ok(c->cmd->bid))
        return REFUSE(c, BO_E_INVALID_ARG, "The stored envelope is not fully described.");
    return BO_E_OK;
}

bo_err bo__apply_submit(actx *c)
{
    const bo__bidder *b = NULL;
    bo_err err = submit_guards(c, &b);
    if (err)
        return err;
    if (c->cmd->blacklisted)
        return bo__apply_intercept(c, b);
    if (b->intercepted)
        return REFUSE(c, BO_E_BLACKLISTED, "The organisation is on the credit blacklist.");
    const bo_bid_info *bi = c->cmd->bid;
    if (b->bid.present && !memcmp(b->bid.hash, bi->hash, 32)) {
        c->info->already = true;
        return BO_E_OK;
    }
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_bin(m, "hash", bi->hash, 32);
    bo_mpmap_u64(m, "size", bi->size);
    bo_mpmap_bin(m, "commit", bi->commit, 32);
    bo_mpmap_str(m, "cipher", bi->cipher);
    bo_mpmap_bin(m, "ri", bi->ri.p, bi->ri.len);
    bo_mpmap_i64(m, "ts", c->cmd->now);
    bo_mpmap_bin(m, "receipt_sig", bi->receipt_sig.p, bi->receipt_sig.len);
    if (b->bid.present)
        bo_mpmap_bin(m, "replaces", b->bid.hash, 32);
    c->info->replaced = b->bid.present;
    err = bo__apply_emit(c, m, BO_EV_BID_SUBMITTED, BO_AUD_BIDDER, b->uscc);
    bo__bidder x = *b;
    x.bid.present = true;
    bo__counts before = bo__session_counts_if(c->s, NULL);
    bo__counts after = bo__session_counts_if(c->s, &x);
    if (!err && memcmp(&before, &after, sizeof(before)))
        err = bo__apply_tally(c, after, "submitted");
    return err;
}

/* -------------------------------------------------------------- requests ---- */

static bool req_in_use(const bo_session *s, const char *req)
{
    for (size_t i = 0; i < s->n_bidders; i++)
        if (!strcmp(s->bidders[i].bid.req, req))
            return true;
    return false;
}

/* The request the server prepared for this bidder, checked. */
static bo_err find_req(actx *c, const bo__bidder *b, const bo_decrypt_req **out)
{
    const bo_decrypt_req *r = NULL;
    for (size_t i = 0; c->cmd->reqs && i < c->cmd->n_reqs && !r; i++)
        if (!strcmp(c->cmd->reqs[i].uscc, b->uscc))
            r = &c->cmd->reqs[i];
    if (!r)
        return REFUSE(c, BO_E_INVALID_ARG, "No decryption request was prepared for %s.",
                      b->uscc);
    if (!bo__req_valid(r->req) || !r->sig.p || !r->sig.len)
        return REFUSE(c, BO_E_INVALID_ARG, "The decryption request for %s is malformed.",
                      b->uscc);
    if (req_in_use(c->s, r->req))
        return REFUSE(c, BO_E_INVALID_ARG, "The request id %s is already in use.", r->req);
    *out = r;
    return BO_E_OK;
}

/* decrypt_request {uscc, req, bid, ri, server_pub, ends_at, sig} in the bidder's stream. */
static bo_err emit_request(actx *c, const bo__bidder *b, const bo_decrypt_req *r,
                           bo_time_ms ends_at)
{
    bo_err err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "req", r->req);
    bo_mpmap_bin(m, "bid", b->bid.hash, 32);
    bo_mpmap_bin(m, "ri", b->bid.ri, b->bid.ri_len);
    bo_mpmap_bin(m, "server_pub", r->server_pub, 32);
    bo_mpmap_i64(m, "ends_at", ends_at);
    bo_mpmap_bin(m, "sig", r->sig.p, r->sig.len);
    return bo__apply_emit(c, m, BO_EV_DECRYPT_REQUEST, BO_AUD_BIDDER, b->uscc);
}

bo_err bo__apply_signin_request(actx *c, const bo__bidder *b)
{
    char due[1][19];
    if (!bo_session_decrypt_due(c->s, BO_CMD_SIGNIN, b->uscc, due, 1))
        return BO_E_OK;
    const bo_decrypt_req *r = NULL;
    bo_err err = find_req(c, b, &r);
    return err ? err : emit_request(c, b, r, c->s->dec.ends_at);
}

/* A new request replacing a bidder's pending one (the node that got the response lost the
 * request's key): the newer one supersedes it. */
bo_err bo__apply_decrypt_reissue(actx *c)
{
    bo_err err = need_system(c);
    if (!err)
        err = need_decrypting(c);
    const bo__bidder *b = NULL;
    if (!err)
        err = need_listed(c, c->cmd->uscc, &b);
    if (!err)
        err = need_unresolved(c, b);
    if (err)
        return err;
    if (!bo_session_window_open(c->s, c->cmd->now))
        return REFUSE(c, BO_E_PHASE, "The decryption window has closed.");
    if (!b->bid.req[0])
        return REFUSE(c, BO_E_NOT_FOUND, "%s has no request to replace.", b->uscc);
    if (!b->signed_in)
        return REFUSE(c, BO_E_NOT_SIGNED_IN, "%s is not signed in.", b->uscc);
    const bo_decrypt_req *r = NULL;
    err = find_req(c, b, &r);
    return err ? err : emit_request(c, b, r, c->s->dec.ends_at);
}

/* ---------------------------------------------------------------- window ---- */

static bo_err start_guards(actx *c, uint32_t *window_s)
{
    bo_err err = bo__need_host(c, false);
    if (!err)
        err = bo__need_opening(c);
    if (!err)
        err = bo__need_not_over(c);
    if (!err)
        err = bo__need_host_may_act(c);
    if (err)
        return err;
    if (c->s->phase != BO_PHASE_AWAITING_OPEN)
        return REFUSE(c, BO_E_PHASE, c->s->phase < BO_PHASE_AWAITING_OPEN
                                         ? "Decryption starts after the bid deadline."
                                         : "Decryption has already started.");
    uint32_t w = c->cmd->window_s;
    if (w && (w < BO__WINDOW_MIN_S || w > BO__WINDOW_MAX_S))
        return REFUSE(c, BO_E_BAD_FIELD, "window_s must be %d to %d seconds.",
                      BO__WINDOW_MIN_S, BO__WINDOW_MAX_S);
    *window_s = w ? w : c->s->tender.decrypt_window_s;
    return BO_E_OK;
}

bo_err bo__apply_decrypt_start(actx *c)
{
    uint32_t window_s = 0;
    bo_err err = start_guards(c, &window_s);
    if (err)
        return err;
    const bo_session *s = c->s;
    bo_time_ms ends_at = c->cmd->now + (bo_time_ms)window_s * 1000;
    /* every request first, so that a missing one refuses the command */
    size_t n_due = 0;
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bidder *b = &s->bidders[i];
        const bo_decrypt_req *r;
        if (!b->bid.listed || !b->signed_in)
            continue;
        if ((err = find_req(c, b, &r)))
            return err;
        for (size_t j = 0; j < c->cmd->n_reqs; j++) /* one id, one bidder */
            if (!strcmp(c->cmd->reqs[j].req, r->req) && strcmp(c->cmd->reqs[j].uscc, r->uscc))
                return REFUSE(c, BO_E_INVALID_ARG, "The request id %s is given to two bidders.",
                              r->req);
        n_due++;
    }
    unsigned bids = 0;
    bo__session_bid_counts(s, &bids, NULL, NULL);
    err = bo__apply_phase(c, BO_PHASE_AWAITING_OPEN, BO_PHASE_DECRYPTING, NULL);
    bo_mpmap *m = err ? NULL : body_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "window_s", window_s);
    bo_mpmap_i64(m, "ends_at", ends_at);
    bo_mpmap_u64(m, "bids", bids);
    err = bo__apply_emit(c, m, BO_EV_DECRYPTION_STARTED, BO_AUD_PUB, NULL);
    for (size_t i = 0; i < s->n_bidders && !err && n_due; i++) {
        const bo__bidder *b = &s->bidders[i];
        const bo_decrypt_req *r;
        if (b->bid.listed && b->signed_in && !(err = find_req(c, b, &r)))
            err = emit_request(c, b, r, ends_at);
    }
    return err;
}

bo_err bo__apply_decrypt_extend(actx *c)
{
    bo_err err = need_host_decrypting(c);
    if (err)
        return err;
    const bo__decrypt *d = &c->s->dec;
    if (d->window_closed || c->cmd->now >= d->ends_at)
        return REFUSE(c, BO_E_PHASE, "The decryption window has closed.");
    if (d->extended)
        return REFUSE(c, BO_E_ALREADY_DONE, "The decryption window was already extended once.");
    uint32_t sec = c->cmd->window_s;
    if (sec < BO__WINDOW_MIN_S || sec > BO__WINDOW_MAX_S)
        return REFUSE(c, BO_E_BAD_FIELD, "An extension is %d to %d seconds.", BO__WINDOW_MIN_S,
                      BO__WINDOW_MAX_S);
    if ((err = bo__need_reason(c)))
        return err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_i64(m, "ends_at", d->ends_at + (bo_time_ms)sec * 1000);
    bo_mpmap_str(m, "reason", c->cmd->reason);
    return bo__apply_emit(c, m, BO_EV_DECRYPTION_EXTENDED, BO_AUD_PUB, NULL);
}

bo_err bo__apply_window_tick(actx *c)
{
    const bo_session *s = c->s;
    if (!s->dec.started || s->dec.window_closed || c->cmd->now < s->dec.ends_at)
        return BO_E_OK;
    bo_buf list;
    bo_buf_init(&list, SIZE_MAX / 4);
    uint32_t n = 0;
    for (size_t i = 0; i < s->n_bidders; i++)
        n += s->bidders[i].bid.listed && !resolved(&s->bidders[i]);
    bo_err err = bo_mp_array_header(&list, n);
    for (size_t i = 0; i < s->n_bidders && !err; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (b->bid.listed && !resolved(b))
            err = bo_mp_str(&list, b->uscc, strlen(b->uscc));
    }
    bo_mpmap *m = err ? NULL : body_new(&err);
    if (m) {
        bo_mpmap_raw(m, "undecrypted", list.data, list.len);
        err = bo__apply_emit(c, m, BO_EV_DECRYPTION_WINDOW_CLOSED, BO_AUD_PUB, NULL);
    }
    bo_buf_cleanup(&list);
    if (!err && n == 0)
        err = bo__apply_phase(c, BO_PHASE_DECRYPTING, BO_PHASE_ANNOUNCING, NULL);
    return err;
}

/* ------------------------------------------------------------- responses ---- */

bo_err bo__apply_decrypt_refused(actx *c)
{
    bo_err err = need_system(c);
    if (!err)
        err = need_decrypting(c);
    const bo__bidder *b = NULL;
    if (!err)
        err = need_listed(c, c->cmd->uscc, &b);
    if (err)
        return err;
    const char *code = bo_err_name(c->cmd->code);
    if (!c->cmd->req || !bo__req_valid(c->cmd->req))
        return REFUSE(c, BO_E_INVALID_ARG, "The refused request id is malformed.");
    if (c->cmd->code == BO_E_OK || strncmp(code, "E_", 2) || !strcmp(code, "E_UNKNOWN"))
        return REFUSE(c, BO_E_INVALID_ARG, "A refusal needs an error code.");
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "req", c->cmd->req);
    bo_mpmap_str(m, "code", code);
    return bo__apply_emit(c, m, BO_EV_DECRYPT_REFUSED, BO_AUD_STAFF, NULL);
}

static bool stage_valid(const char *s)
{
    static const char *const stages[] = {"token", "cert", "unwrap", "other"};
    for (size_t i = 0; s && i < sizeof(stages) / sizeof(stages[0]); i++)
        if (!strcmp(s, stages[i]))
            return true;
    return false;
}

static bo_err diag_guards(actx *c, const bo__bidder **out)
{
    bo_err err = bo__need_role(c, BO_ROLE_BIDDER);
    if (!err)
        err = bo__need_opening(c);
    if (!err)
        err = need_decrypting(c);
    if (!err)
        err = need_bidder(c, out);
    if (err)
        return err;
    if (!bo_session_window_open(c->s, c->cmd->now))
        return REFUSE(c, BO_E_PHASE, "The decryption window has closed.");
    const bo__bidder *b = *out;
    if (!b->bid.listed || !b->bid.req[0] || !c->cmd->req || strcmp(b->bid.req, c->cmd->req))
        return REFUSE(c, BO_E_NOT_FOUND, "This is not your current decryption request.");
    if ((err = need_unresolved(c, b)))
        return err;
    const char *e = c->cmd->error;
    if (!stage_valid(c->cmd->stage))
        return REFUSE(c, BO_E_BAD_FIELD, "stage must be token, cert, unwrap or other.");
    if (!e || !bo__text_ok(e, strlen(e), BO__ERROR_MAX_CHARS, true))
        return REFUSE(c, BO_E_BAD_FIELD, "error must be at most %d characters.",
                      BO__ERROR_MAX_CHARS);
    if (!c->cmd->sig.p || !c->cmd->sig.len)
        return REFUSE(c, BO_E_INVALID_ARG, "The signature is missing.");
    return BO_E_OK;
}

bo_err bo__apply_decrypt_diag(actx *c)
{
    const bo__bidder *b = NULL;
    bo_err err = diag_guards(c, &b);
    if (err)
        return err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "req", b->bid.req);
    bo_mpmap_str(m, "stage", c->cmd->stage);
    bo_mpmap_str(m, "error", c->cmd->error);
    bo_mpmap_bin(m, "cert_fpr", c->cmd->cert_fpr, 32);
    bo_mpmap_bin(m, "sig", c->cmd->sig.p, c->cmd->sig.len);
    return bo__apply_emit(c, m, BO_EV_DECRYPT_DIAGNOSTIC, BO_AUD_STAFF, NULL);
}

/* The opening form as canonical msgpack (a map within form_caps) into out. */
static bo_err canonical_form(actx *c, bo_buf *out)
{
    const bo_bytes *f = &c->cmd->form;
    if (!f->p || !f->len || bo_mp_check(f->p, f->len, &form_caps))
        return REFUSE(c, BO_E_INVALID_ARG, "The opening form is not a msgpack map of at most "
                                           "%u bytes.", FORM_MAX_BYTES);
    msgpack_zone *z = NULL;
    msgpack_object o;
    bo_err err = bo_mp_parse(f->p, f->len, &z, &o);
    if (!err)
        err = o.type == MSGPACK_OBJECT_MAP ? bo_mp_canonical(out, &o) : BO_E_BAD_FIELD;
    msgpack_zone_free(z);
    if (err && err != BO_E_NOMEM)
        return REFUSE(c, BO_E_INVALID_ARG, "The opening form is not a msgpack map.");
    return err;
}

/* The decrypt_response the bid was opened with, checked (all of it or none). */
static bo_err resp_guards(actx *c)
{
    const bo_cmd *k = c->cmd;
    if (!k->resp_req) {
        if (k->resp_wrapped.len || k->resp_sig.len)
            return REFUSE(c, BO_E_INVALID_ARG, "The decryption evidence needs its request id.");
        return BO_E_OK;
    }
    if (!bo__req_valid(k->resp_req))
        return REFUSE(c, BO_E_INVALID_ARG, "The evidence's request id is malformed.");
    if (!k->resp_wrapped.p || !k->resp_wrapped.len || k->resp_wrapped.len > 256)
        return REFUSE(c, BO_E_INVALID_ARG, "The evidence's wrapped key must be 1 to 256 bytes.");
    if (!k->resp_sig.p || !k->resp_sig.len || k->resp_sig.len > 1024)
        return REFUSE(c, BO_E_INVALID_ARG, "The evidence's signature must be 1 to 1024 bytes.");
    return BO_E_OK;
}

static void put_resp(bo_mpmap *m, const bo_cmd *k)
{
    bo_err err;
    bo_mpmap *r = bo_mpmap_new(&err);
    if (!r) {
        bo_mpmap_raw(m, "resp", NULL, 0); /* sticky error */
        return;
    }
    bo_mpmap_str(r, "req", k->resp_req);
    bo_mpmap_bin(r, "client_pub", k->resp_client_pub, 32);
    bo_mpmap_bin(r, "wrapped", k->resp_wrapped.p, k->resp_wrapped.len);
    bo_mpmap_bin(r, "sig", k->resp_sig.p, k->resp_sig.len);
    bo__session_put_map(m, "resp", r);
}

bo_err bo__apply_bid_decrypted(actx *c)
{
    bo_err err = need_system(c);
    if (!err)
        err = need_decrypting(c);
    const bo__bidder *b = NULL;
    if (!err)
        err = need_listed(c, c->cmd->uscc, &b);
    if (!err)
        err = need_unresolved(c, b);
    if (!err)
        err = resp_guards(c);
    if (err)
        return err;
    bo_buf form;
    bo_buf_init(&form, FORM_MAX_BYTES);
    err = canonical_form(c, &form);
    /* a form that fails the tender's fields is recorded: the bid is decrypted, not valid */
    char form_error[BO__FORM_ERROR_MAX] = "";
    if (!err && bo_tender_check_form(&c->s->tender, form.data, form.len, form_error,
                                     sizeof(form_error)) == BO_E_NOMEM)
        err = BO_E_NOMEM;
    bo_mpmap *m = err ? NULL : body_new(&err);
    if (m) {
        bo_mpmap_str(m, "uscc", b->uscc);
        bo_mpmap_str(m, "org", b->org);
        bo_mpmap_bin(m, "bid", b->bid.hash, 32);
        bo_mpmap_u64(m, "size", b->bid.size);
        if (form_error[0])
            bo_mpmap_str(m, "form_error", form_error);
        if (c->cmd->resp_req)
            put_resp(m, c->cmd);
        err = bo__apply_emit(c, m, BO_EV_BID_DECRYPTED, BO_AUD_PUB, NULL);
    }
    c->pending = b;
    c->pending_valid = !form_error[0];
    m = err ? NULL : body_new(&err);
    if (m) {
        bo_mpmap_str(m, "uscc", b->uscc);
        bo_mpmap_raw(m, "form", form.data, form.len);
        err = bo__apply_emit(c, m, BO_EV_BID_FORM, BO_AUD_SUP, NULL);
    }
    bo_buf_cleanup(&form);
    if (!err && all_resolved_but(c->s, b))
        err = bo__apply_phase(c, BO_PHASE_DECRYPTING, BO_PHASE_ANNOUNCING, NULL);
    return err;
}

bo_err bo__apply_classify(actx *c)
{
    bo_err err = need_host_decrypting(c);
    if (err)
        return err;
    if (!c->s->dec.window_closed)
        return REFUSE(c, BO_E_PHASE, "Bids are classified after the decryption window closed.");
    const bo__bidder *b = NULL;
    if ((err = need_listed(c, c->cmd->uscc, &b)) || (err = need_unresolved(c, b)))
        return err;
    bo__outcome outcome;
    if (!c->cmd->outcome || !bo__outcome_parse(c->cmd->outcome, &outcome))
        return REFUSE(c, BO_E_BAD_FIELD, "outcome must be revoked (撤销) or withdrawn (撤回).");
    if ((err = bo__need_reason(c)))
        return err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "outcome", bo__outcome_name(outcome));
    bo_mpmap_str(m, "reason", c->cmd->reason);
    err = bo__apply_emit(c, m, BO_EV_BID_CLASSIFIED, BO_AUD_PUB, NULL);
    if (!err && all_resolved_but(c->s, b))
        err = bo__apply_phase(c, BO_PHASE_DECRYPTING, BO_PHASE_ANNOUNCING, NULL);
    return err;
}
