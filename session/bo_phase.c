/* bidopen: what a command or a timer does to an opening (docs/protocol.md §6-§7); the
 * commands of sealed bids and remote decryption (§10) are in bo_bid.c.
 *
 * bo_session_apply only decides: it checks role, phase and identity, and builds the
 * events (unsealed). The state changes when the caller folds them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/utf8.h"
#include "bo_session_internal.h"

typedef bo__actx actx;
#define REFUSE BO__REFUSE

/* ------------------------------------------------------------------ bodies ---- */

bo_err bo__apply_emit(actx *c, bo_mpmap *m, bo_event_kind kind, bo_aud aud, const char *uscc)
{
    bo_buf body;
    bo_buf_init(&body, SIZE_MAX / 4);
    bo_err err = bo_mpmap_finish(m, &body);
    bo_mpmap_free(m);
    if (!err)
        err = bo__session_push(c->evs, kind, aud, uscc, c->cmd->now, &body);
    bo_buf_cleanup(&body);
    return err;
}

static bo_mpmap *body_new(bo_err *err)
{
    *err = BO_E_OK;
    return bo_mpmap_new(err);
}

static void put_chain(bo_mpmap *m, const char *key, const bo_bytes_list *chain)
{
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = bo_mp_array_header(&b, (uint32_t)chain->n);
    for (size_t i = 0; i < chain->n && !err; i++)
        err = bo_mp_bin(&b, chain->v[i].p, chain->v[i].len);
    /* on error, an empty raw value makes the map's error sticky: finish reports it */
    bo_mpmap_raw(m, key, err ? NULL : b.data, err ? 0 : b.len);
    bo_buf_cleanup(&b);
}

bo_err bo__apply_phase(actx *c, bo_phase from, bo_phase to, const char *reason)
{
    bo_err err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "from", bo_phase_name(from));
    bo_mpmap_str(m, "to", bo_phase_name(to));
    if (reason)
        bo_mpmap_str(m, "reason", reason);
    if (to == BO_PHASE_ANNOUNCING) {
        /* the quorum counts valid bids when announcing begins (docs/protocol.md §11) */
        unsigned valid = bo__session_valid_count(c->s) + (c->pending && c->pending_valid);
        bo_mpmap_u64(m, "valid", valid);
        bo_mpmap_u64(m, "min", c->s->tender.min_bidders);
        bo_mpmap_bool(m, "quorum", valid >= c->s->tender.min_bidders);
    }
    c->info->needs_head = true;
    return bo__apply_emit(c, m, BO_EV_PHASE_CHANGED, BO_AUD_PUB, NULL);
}

bo_err bo__apply_tally(actx *c, bo__counts n, const char *cause)
{
    bo_err err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "registered", n.registered);
    bo_mpmap_u64(m, "signed_in", n.signed_in);
    bo_mpmap_u64(m, "intercepted", n.intercepted);
    bo_mpmap_u64(m, "submitted", n.submitted);
    bo_mpmap_str(m, "cause", cause);
    bo_aud aud = c->s->tender.counts_early ? BO_AUD_PUB : BO_AUD_STAFF;
    return bo__apply_emit(c, m, BO_EV_TALLY, aud, NULL);
}

static bo_err emit_revealed(actx *c)
{
    bo_err err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    unsigned count = 0;
    bo__session_put_bidders(m, c->s, BO__LIST_BIDS, &count);
    bo_mpmap_u64(m, "count", count);
    bo_mpmap_u64(m, "min", c->s->tender.min_bidders);
    bo_mpmap_bool(m, "quorum", count >= c->s->tender.min_bidders);
    return bo__apply_emit(c, m, BO_EV_BIDDERS_REVEALED, BO_AUD_PUB, NULL);
}

/* ------------------------------------------------------------------ guards ---- */

bo_err bo__need_opening(actx *c)
{
    if (c->s->phase == BO_PHASE_NONE)
        return REFUSE(c, BO_E_NOT_FOUND, "This opening has not been created.");
    return BO_E_OK;
}

bo_err bo__need_not_over(actx *c)
{
    if (c->s->phase == BO_PHASE_CLOSED || c->s->phase == BO_PHASE_FAILED)
        return REFUSE(c, BO_E_PHASE, "The opening is %s.", bo_phase_name(c->s->phase));
    return BO_E_OK;
}

/* This opening's host (or, when allowed, an operator). */
bo_err bo__need_host(actx *c, bool operator_too)
{
    if (c->a->role == BO_ROLE_OPERATOR && operator_too)
        return BO_E_OK;
    if (c->a->role != BO_ROLE_HOST)
        return REFUSE(c, BO_E_FORBIDDEN, "Only the host%s may do this.",
                      operator_too ? " or an operator" : "");
    if (!bo__session_is_host(c->s, c->a->fpr))
        return REFUSE(c, BO_E_NOT_HOST, "Only this opening's host may do this.");
    return BO_E_OK;
}

bo_err bo__need_role(actx *c, bo_role role)
{
    if (c->a->role != role)
        return REFUSE(c, BO_E_FORBIDDEN, "Only a %s may do this.", bo_role_name(role));
    return BO_E_OK;
}

bo_err bo__need_host_may_act(actx *c)
{
    if (c->s->paused)
        return REFUSE(c, BO_E_PAUSED, "The opening is paused; resume it first.");
    if (c->s->revealed && !c->s->quorum)
        return REFUSE(c, BO_E_QUORUM, "Fewer bids than the tender's minimum: the opening "
                                      "can only be declared failed.");
    return BO_E_OK;
}

bo_err bo__need_reason(actx *c)
{
    const char *r = c->cmd->reason;
    size_t n = r ? strlen(r) : 0;
    if (!n || !bo_utf8_valid(r, n) || bo_utf8_count(r, n) > BO__REASON_MAX_CHARS)
        return REFUSE(c, BO_E_BAD_FIELD, "A reason of 1 to %d characters is required.",
                      BO__REASON_MAX_CHARS);
    return BO_E_OK;
}

static bo_err need_bidder_identity(actx *c)
{
    if (strlen(c->a->uscc) != 18)
        return REFUSE(c, BO_E_INVALID_ARG, "The bidder has no USCC.");
    if (!c->cmd->sig.len)
        return REFUSE(c, BO_E_INVALID_ARG, "The signature is missing.");
    return BO_E_OK;
}

/* ---------------------------------------------------------------- commands ---- */

static bo_err do_create(actx *c)
{
    const bo_tender *t = c->cmd->tender;
    if (c->a->role != BO_ROLE_OPERATOR && c->a->role != BO_ROLE_HOST)
        return REFUSE(c, BO_E_FORBIDDEN, "Only an operator or a host may create an opening.");
    if (c->s->phase != BO_PHASE_NONE)
        return REFUSE(c, BO_E_EXISTS, "An opening with this id already exists.");
    if (!t || (t->oid[0] && strcmp(t->oid, c->s->oid)))
        return REFUSE(c, BO_E_INVALID_ARG, "The tender does not belong to this opening.");
    if (c->a->role == BO_ROLE_OPERATOR && !t->has_host_fpr)
        return REFUSE(c, BO_E_BAD_TENDER, "host_fpr required when an operator creates");
    bo_tender *copy = malloc(sizeof(*copy));
    if (!copy)
        return BO_E_NOMEM;
    *copy = *t;
    memcpy(copy->oid, c->s->oid, sizeof(copy->oid));
    bo_buf tmp;
    bo_buf_init(&tmp, SIZE_MAX / 4);
    bo_err err = bo_tender_encode(copy, &tmp);
    free(copy);
    bo_mpmap *m = err ? NULL : body_new(&err);
    if (m) {
        bo_mpmap_raw(m, "tender", tmp.data, tmp.len);
        bo_mpmap_bin(m, "host_fpr", t->has_host_fpr ? t->host_fpr : c->a->fpr, 32);
        if (c->a->role == BO_ROLE_HOST)
            bo_mpmap_str(m, "host_name", c->a->person[0] ? c->a->person : c->a->org);
        bo_mpmap_bin(m, "seed_commit", c->cmd->seed_commit, 32);
        c->info->needs_head = true;
        err = bo__apply_emit(c, m, BO_EV_OPENING_CREATED, BO_AUD_PUB, NULL);
    }
    bo_buf_cleanup(&tmp);
    return err;
}

static bo_err do_tick(actx *c)
{
    const bo_session *s = c->s;
    if (c->a->role != BO_ROLE_SYSTEM)
        return REFUSE(c, BO_E_FORBIDDEN, "Timers are the server's.");
    bo_phase p = s->phase;
    bo_err err = BO_E_OK;
    if (s->paused || !s->has_tender)
        return BO_E_OK;
    if (p == BO_PHASE_SCHEDULED && c->cmd->now >= s->tender.checkin_at) {
        err = bo__apply_phase(c, p, BO_PHASE_CHECKIN, NULL);
        p = BO_PHASE_CHECKIN;
    }
    if (!err && p == BO_PHASE_CHECKIN && c->cmd->now >= s->tender.deadline) {
        err = bo__apply_phase(c, p, BO_PHASE_AWAITING_OPEN, NULL);
        if (!err)
            err = emit_revealed(c);
    }
    if (!err && p == BO_PHASE_DECRYPTING)
        err = bo__apply_window_tick(c);
    if (!err && p == BO_PHASE_CONFIRMING)
        err = bo__apply_confirm_tick(c);
    return err;
}

/* The actor's bidder as it is (a zeroed one with its USCC if new), to be changed and
 * passed to bo__session_counts_if. */
static bo__bidder actor_bidder(actx *c, const bo__bidder *b)
{
    bo__bidder x;
    if (b)
        return *b;
    memset(&x, 0, sizeof(x));
    snprintf(x.uscc, sizeof(x.uscc), "%s", c->a->uscc);
    return x;
}

/* bidder_intercepted and its tally; the command is then refused with E_BLACKLISTED. */
bo_err bo__apply_intercept(actx *c, const bo__bidder *b)
{
    bo_err err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", c->a->uscc);
    bo_mpmap_str(m, "org", b && b->registered ? b->org : c->a->org);
    bo_mpmap_str(m, "reason", c->cmd->bl_reason ? c->cmd->bl_reason : "blacklisted");
    if (c->cmd->bl_source)
        bo_mpmap_str(m, "source", c->cmd->bl_source);
    bool before = bo__session_before_deadline(c->s);
    err = bo__apply_emit(c, m, BO_EV_BIDDER_INTERCEPTED, before ? BO_AUD_SUP : BO_AUD_STAFF,
                         NULL);
    bo__bidder x = actor_bidder(c, b);
    x.intercepted = true;
    x.signed_in = false;
    if (!err)
        err = bo__apply_tally(c, bo__session_counts_if(c->s, &x), "intercepted");
    c->info->refuse_after = BO_E_BLACKLISTED;
    REFUSE(c, BO_E_BLACKLISTED, "The organisation is on the credit blacklist.");
    return err;
}

static bool same_certs(const bo__bidder *b, const bo_actor *a)
{
    return !memcmp(b->sign_fpr, a->fpr, 32) && !memcmp(b->enc_fpr, a->enc_fpr, 32);
}

static bo_err registration_event(actx *c, bool replaced)
{
    const bo_actor *a = c->a;
    bo_err err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", a->uscc);
    bo_mpmap_str(m, "org", a->org);
    bo_mpmap_str(m, "person", a->person);
    put_chain(m, "sign_chain", &a->sign_chain);
    put_chain(m, "enc_chain", &a->enc_chain);
    bo_mpmap_bin(m, "sign_fpr", a->fpr, 32);
    bo_mpmap_bin(m, "enc_fpr", a->enc_fpr, 32);
    bo_mpmap_bin(m, "nonce", a->nonce, 32);
    bo_mpmap_bin(m, "sig", c->cmd->sig.p, c->cmd->sig.len);
    bo_mpmap_bool(m, "replaced", replaced);
    return bo__apply_emit(c, m, BO_EV_BIDDER_REGISTERED, BO_AUD_BIDDER, a->uscc);
}

static bo_err register_guards(actx *c)
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
    if (!c->a->has_enc || !c->a->sign_chain.n || !c->a->enc_chain.n)
        return REFUSE(c, BO_E_FORBIDDEN, "Registering needs the signing and the encryption "
                                         "certificate (enc_chain in auth).");
    return need_bidder_identity(c);
}

static bo_err do_register(actx *c)
{
    bo_err err = register_guards(c);
    if (err)
        return err;
    const bo__bidder *b = bo__session_bidder(c->s, c->a->uscc);
    if (c->cmd->blacklisted)
        return bo__apply_intercept(c, b);
    bool valid = b && b->registered && !b->intercepted;
    if (valid && same_certs(b, c->a)) {
        c->info->already = true;
        return BO_E_OK;
    }
    bool replaced = b && b->registered;
    c->info->replaced = replaced;
    err = registration_event(c, replaced);
    bo__bidder x = actor_bidder(c, b);
    x.registered = true;
    x.signed_in = false;
    x.intercepted = false;
    bo__counts before = bo__session_counts_if(c->s, NULL);
    bo__counts after = bo__session_counts_if(c->s, &x);
    if (!err && memcmp(&before, &after, sizeof(before)))
        err = bo__apply_tally(c, after, "registered");
    return err;
}

static bo_err signin_guards(actx *c, const bo__bidder **out)
{
    bo_err err = bo__need_role(c, BO_ROLE_BIDDER);
    if (!err)
        err = bo__need_opening(c);
    if (err)
        return err;
    bo_phase p = c->s->phase;
    if (p != BO_PHASE_CHECKIN && p != BO_PHASE_AWAITING_OPEN && p != BO_PHASE_DECRYPTING)
        return REFUSE(c, BO_E_PHASE, p == BO_PHASE_SCHEDULED ? "Sign-in has not opened yet."
                                                             : "Sign-in is over.");
    const bo__bidder *b = bo__session_bidder(c->s, c->a->uscc);
    if (!b || !b->registered)
        return REFUSE(c, BO_E_NOT_REGISTERED, "Not registered as a bidder for this opening.");
    if (memcmp(b->sign_fpr, c->a->fpr, 32))
        return REFUSE(c, BO_E_NOT_REGISTERED,
                      "signing certificate differs from the registered one");
    if (c->s->revealed && !b->bid.listed)
        return REFUSE(c, BO_E_NOT_REGISTERED, "After the deadline only the bidders who "
                                              "submitted a bid take part.");
    *out = b;
    return need_bidder_identity(c);
}

static bo_err do_signin(actx *c)
{
    const bo__bidder *b = NULL;
    bo_err err = signin_guards(c, &b);
    if (err)
        return err;
    if (c->cmd->blacklisted)
        return bo__apply_intercept(c, b);
    if (b->signed_in) {
        c->info->already = true;
        return BO_E_OK;
    }
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "org", b->org);
    bo_mpmap_bin(m, "fpr", c->a->fpr, 32);
    bo_mpmap_bin(m, "nonce", c->a->nonce, 32);
    bo_mpmap_bin(m, "sig", c->cmd->sig.p, c->cmd->sig.len);
    bool before = bo__session_before_deadline(c->s);
    err = bo__apply_emit(c, m, BO_EV_BIDDER_SIGNED_IN, before ? BO_AUD_BIDDER : BO_AUD_PUB,
                         b->uscc);
    bo__bidder x = *b;
    x.signed_in = true;
    x.intercepted = false;
    if (!err)
        err = bo__apply_tally(c, bo__session_counts_if(c->s, &x), "signed_in");
    if (!err)
        err = bo__apply_signin_request(c, b);
    return err;
}

static bo_err do_pause(actx *c)
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
    if (c->s->phase < BO_PHASE_AWAITING_OPEN)
        return REFUSE(c, BO_E_PHASE, "The bid deadline is fixed and cannot be paused.");
    if ((err = bo__need_reason(c)))
        return err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "reason", c->cmd->reason);
    return bo__apply_emit(c, m, BO_EV_PAUSED, BO_AUD_PUB, NULL);
}

static bo_err do_resume(actx *c)
{
    bo_err err = bo__need_host(c, false);
    if (!err)
        err = bo__need_opening(c);
    if (!err)
        err = bo__need_not_over(c);
    if (err)
        return err;
    if (!c->s->paused)
        return REFUSE(c, BO_E_PHASE, "The opening is not paused.");
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_time_ms ms = c->cmd->now - c->s->paused_at;
    ms = ms > 0 ? ms : 0;
    bo_mpmap_u64(m, "paused_ms", (uint64_t)ms);
    /* an open window's remaining time was frozen (decryption's, confirmation's): its end
     * moves by the pause */
    bo_time_ms ends_at = bo__session_open_window_end(c->s);
    if (ends_at)
        bo_mpmap_i64(m, "ends_at", ends_at + ms);
    return bo__apply_emit(c, m, BO_EV_RESUMED, BO_AUD_PUB, NULL);
}

static bo_err do_fail(actx *c)
{
    bo_err err = bo__need_host(c, true);
    if (!err)
        err = bo__need_opening(c);
    if (!err)
        err = bo__need_not_over(c);
    if (!err)
        err = bo__need_reason(c);
    if (err)
        return err;
    return bo__apply_phase(c, c->s->phase, BO_PHASE_FAILED, c->cmd->reason);
}

static bo_err dispatch(actx *c)
{
    switch (c->cmd->type) {
    case BO_CMD_CREATE:
        return do_create(c);
    case BO_CMD_TICK:
        return do_tick(c);
    case BO_CMD_REGISTER:
        return do_register(c);
    case BO_CMD_SIGNIN:
        return do_signin(c);
    case BO_CMD_PAUSE:
        return do_pause(c);
    case BO_CMD_RESUME:
        return do_resume(c);
    case BO_CMD_FAIL:
        return do_fail(c);
    case BO_CMD_SUBMIT:
        return bo__apply_submit(c);
    case BO_CMD_DECRYPT_START:
        return bo__apply_decrypt_start(c);
    case BO_CMD_DECRYPT_REFUSED:
        return bo__apply_decrypt_refused(c);
    case BO_CMD_DECRYPT_DIAG:
        return bo__apply_decrypt_diag(c);
    case BO_CMD_BID_DECRYPTED:
        return bo__apply_bid_decrypted(c);
    case BO_CMD_DECRYPT_EXTEND:
        return bo__apply_decrypt_extend(c);
    case BO_CMD_CLASSIFY:
        return bo__apply_classify(c);
    case BO_CMD_DECRYPT_REISSUE:
        return bo__apply_decrypt_reissue(c);
    case BO_CMD_ANNOUNCE:
        return bo__apply_announce(c);
    case BO_CMD_DRAW:
        return bo__apply_draw(c);
    case BO_CMD_BENCHMARK:
        return bo__apply_benchmark(c);
    case BO_CMD_CONFIRM_OPEN:
        return bo__apply_confirm_open(c);
    case BO_CMD_CONFIRM:
        return bo__apply_confirm(c);
    case BO_CMD_OBJECT:
        return bo__apply_object(c);
    case BO_CMD_ANSWER:
        return bo__apply_answer(c);
    case BO_CMD_MESSAGE:
        return bo__apply_message(c);
    case BO_CMD_CLOSE:
        return bo__apply_close(c);
    default:
        return REFUSE(c, BO_E_INVALID_ARG, "Unknown command.");
    }
}

/* Moves every event of from to the end of to. */
static bo_err move_events(bo_event_list *to, bo_event_list *from)
{
    if (!to->n) {
        bo_event_list_cleanup(to);
        *to = *from;
        bo_event_list_init(from);
        return BO_E_OK;
    }
    for (size_t i = 0; i < from->n; i++) {
        bo_err err = bo_event_list_push(to, &from->v[i]);
        if (err)
            return err;
    }
    from->n = 0;
    return BO_E_OK;
}

bo_err bo_session_apply(const bo_session *s, const bo_cmd *cmd, bo_event_list *out,
                        bo_apply_info *info, char *detail, size_t detail_len)
{
    memset(info, 0, sizeof(*info));
    if (detail && detail_len)
        detail[0] = 0;
    if (!cmd || !cmd->actor)
        return BO_E_INVALID_ARG;
    bo_event_list evs;
    bo_event_list_init(&evs);
    actx c = {s, cmd, cmd->actor, &evs, info, detail, detail_len, NULL, false};
    bo_err err = dispatch(&c);
    if (!err)
        err = move_events(out, &evs);
    bo_event_list_cleanup(&evs);
    if (err) {
        memset(info, 0, sizeof(*info));
        if (err == BO_E_NOMEM)
            REFUSE(&c, err, "Out of memory.");
    }
    return err;
}
