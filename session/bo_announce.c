/* bidopen: what the commands of the opening's last part do (docs/protocol.md §11): the
 * announcement (唱标), verifiable draws, the benchmark price (评标基准价), the confirmation
 * window with objections and answers, public messages and the close. Like bo_phase.c this
 * only decides; the bodies come from bo_compute.c and the fold is in bo_announce_fold.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hash.h"
#include "bo/utf8.h"
#include "bo_session_internal.h"

typedef bo__actx actx;
#define REFUSE BO__REFUSE

static bo_mpmap *body_new(bo_err *err)
{
    *err = BO_E_OK;
    return bo_mpmap_new(err);
}

/* Appends an event whose body is already built (taken over). */
static bo_err emit_body(actx *c, bo_event_kind kind, bo_buf *body)
{
    return bo__session_push(c->evs, kind, BO_AUD_PUB, NULL, c->cmd->now, body);
}

/* ------------------------------------------------------------------ guards ---- */

/* This opening's host, who may act now (not paused, quorum), while announcing. */
static bo_err need_host_announcing(actx *c)
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
    if (c->s->phase != BO_PHASE_ANNOUNCING)
        return REFUSE(c, BO_E_PHASE, c->s->phase < BO_PHASE_ANNOUNCING
                                         ? "Bids are announced once every bid is decrypted "
                                           "or classified."
                                         : "The announcement is over.");
    return BO_E_OK;
}

/* This opening's host, who may act now, while confirming. */
static bo_err need_host_confirming(actx *c)
{
    bo_err err = bo__need_host(c, false);
    if (!err)
        err = bo__need_opening(c);
    if (!err)
        err = bo__need_not_over(c);
    if (!err)
        err = bo__need_host_may_act(c);
    if (!err && c->s->phase != BO_PHASE_CONFIRMING)
        err = REFUSE(c, BO_E_PHASE, "The record is not open for confirmation.");
    return err;
}

/* The next bid to announce; refuses while the order draw is not made. */
static bo_err next_bid(actx *c, const bo__bidder **next)
{
    bo_err err = bo__announce_next(c->s, next);
    if (err == BO_E_PHASE)
        return REFUSE(c, err, "Draw the announcement order first (draw %s).",
                      c->s->tender.announce_draw);
    return err;
}

/* Every bid announced, every draw made, the benchmark price computed: the record is whole. */
static bo_err need_all_done(actx *c)
{
    const bo__bidder *next = NULL;
    bo_err err = next_bid(c, &next);
    if (err)
        return err;
    if (next)
        return REFUSE(c, BO_E_PHASE, "Announce every bid first (%s is next).", next->uscc);
    const bo_tender *t = &c->s->tender;
    for (size_t i = 0; i < t->n_draws; i++)
        if (!c->s->drawn[i].done)
            return REFUSE(c, BO_E_PHASE, "Make draw %s first.", t->draws[i].id);
    if (t->benchmark.present && !c->s->benchmark)
        return REFUSE(c, BO_E_PHASE, "Compute the benchmark price first.");
    return BO_E_OK;
}

/* The registered bidder behind a bidder's command (same signing certificate). */
static bo_err need_registered(actx *c, const bo__bidder **out)
{
    bo_err err = bo__need_role(c, BO_ROLE_BIDDER);
    if (!err)
        err = bo__need_opening(c);
    if (err)
        return err;
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

/* A bidder's confirmation or objection: registered, its bid opened, the window open. */
static bo_err need_confirming_bidder(actx *c, const bo__bidder **out)
{
    bo_err err = need_registered(c, out);
    if (err)
        return err;
    if (c->s->phase != BO_PHASE_CONFIRMING)
        return REFUSE(c, BO_E_PHASE, "The record is not open for confirmation.");
    if (!(*out)->bid.listed)
        return REFUSE(c, BO_E_NOT_REGISTERED, "Only the bidders whose bid was opened take "
                                              "part.");
    if (!bo_session_confirm_window_open(c->s, c->cmd->now))
        return REFUSE(c, BO_E_PHASE, "The confirmation window has closed.");
    if (!c->cmd->sig.p || !c->cmd->sig.len)
        return REFUSE(c, BO_E_INVALID_ARG, "The signature is missing.");
    return BO_E_OK;
}

/* A text of 1..max characters, UTF-8 without NUL. */
static bo_err need_text(actx *c, size_t max)
{
    const char *t = c->cmd->text;
    if (!t || !bo__text_ok(t, strlen(t), max, false))
        return REFUSE(c, BO_E_BAD_FIELD, "text must be 1 to %zu characters.", max);
    return BO_E_OK;
}

/* -------------------------------------------------------------- announce ---- */

bo_err bo__apply_announce(actx *c)
{
    bo_err err = need_host_announcing(c);
    const bo__bidder *next = NULL;
    if (!err)
        err = next_bid(c, &next);
    if (err)
        return err;
    if (!next)
        return REFUSE(c, BO_E_ALREADY_DONE, "Every bid has been announced.");
    const bo_session *s = c->s;
    const bo__bidder **order = malloc(s->n_bidders * sizeof(*order));
    size_t n = 0;
    if (!order)
        return BO_E_NOMEM;
    err = bo__announce_order(s, order, &n);
    size_t until = c->cmd->all ? n : s->announced + 1;
    for (size_t i = s->announced; i < until && !err; i++) {
        bo_buf body;
        bo_buf_init(&body, SIZE_MAX / 4);
        err = bo__body_announced(s, order[i], (unsigned)i + 1, &body);
        if (!err)
            err = emit_body(c, BO_EV_BID_ANNOUNCED, &body);
        bo_buf_cleanup(&body);
    }
    free(order);
    return err;
}

/* ------------------------------------------------------------------ draws ---- */

bo_err bo__apply_draw(actx *c)
{
    bo_err err = need_host_announcing(c);
    if (err)
        return err;
    const bo_session *s = c->s;
    const bo_tender_draw *d = bo_tender_draw_find(&s->tender, c->cmd->draw);
    if (!d)
        return REFUSE(c, BO_E_NOT_FOUND, "The tender has no draw %.32s.",
                      c->cmd->draw ? c->cmd->draw : "(none)");
    if (s->drawn[d - s->tender.draws].done)
        return REFUSE(c, BO_E_ALREADY_DONE, "Draw %s has been made.", d->id);
    if (d->kind == BO_DRAW_ORDER && s->announced)
        return REFUSE(c, BO_E_PHASE, "The announcement order is drawn before the first bid is "
                                     "announced.");
    uint8_t commit[32];
    bo_sha256(c->cmd->seed, 32, commit);
    if (memcmp(commit, s->seed_commit, 32))
        return REFUSE(c, BO_E_INVALID_ARG, "The seed does not match the opening's seed "
                                           "commitment.");
    bo_buf body;
    bo_buf_init(&body, SIZE_MAX / 4);
    err = bo__body_draw(s, d, c->cmd->seed, &body);
    if (!err)
        err = emit_body(c, BO_EV_DRAW_RESULT, &body);
    bo_buf_cleanup(&body);
    return err;
}

/* -------------------------------------------------------------- benchmark ---- */

bo_err bo__apply_benchmark(actx *c)
{
    bo_err err = need_host_announcing(c);
    if (err)
        return err;
    if (!c->s->tender.benchmark.present)
        return REFUSE(c, BO_E_NOT_FOUND, "This tender has no benchmark price.");
    if (c->s->benchmark)
        return REFUSE(c, BO_E_ALREADY_DONE, "The benchmark price has been computed.");
    const bo__bidder *next = NULL;
    if ((err = next_bid(c, &next)))
        return err;
    if (next)
        return REFUSE(c, BO_E_PHASE, "Announce every bid first (%s is next).", next->uscc);
    bo_buf body;
    bo_buf_init(&body, SIZE_MAX / 4);
    err = bo__body_benchmark(c->s, &body, c->detail, c->detail_len);
    if (!err)
        err = emit_body(c, BO_EV_BENCHMARK_PRICE, &body);
    bo_buf_cleanup(&body);
    return err;
}

/* ----------------------------------------------------------- confirmation ---- */

bo_err bo__apply_confirm_open(actx *c)
{
    bo_err err = need_host_announcing(c);
    if (!err)
        err = need_all_done(c);
    if (err)
        return err;
    uint32_t w = c->cmd->window_s ? c->cmd->window_s : BO__CONFIRM_WINDOW_S;
    if (w < BO__WINDOW_MIN_S || w > BO__WINDOW_MAX_S)
        return REFUSE(c, BO_E_BAD_FIELD, "window_s must be %d to %d seconds.", BO__WINDOW_MIN_S,
                      BO__WINDOW_MAX_S);
    /* the record as it stands now, before these events: what bidders confirm */
    uint8_t hash[32];
    if ((err = bo__record_hash(c->s, NULL, hash)))
        return err;
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_bin(m, "record_hash", hash, 32);
    bo_mpmap_i64(m, "ends_at", c->cmd->now + (bo_time_ms)w * 1000);
    err = bo__apply_emit(c, m, BO_EV_CONFIRMATION_OPENED, BO_AUD_PUB, NULL);
    if (!err)
        err = bo__apply_phase(c, BO_PHASE_ANNOUNCING, BO_PHASE_CONFIRMING, NULL);
    return err;
}

bo_err bo__apply_confirm_tick(actx *c)
{
    const bo__confirm *f = &c->s->conf;
    if (!f->opened || f->window_closed || c->cmd->now < f->ends_at)
        return BO_E_OK;
    bo_buf body;
    bo_buf_init(&body, SIZE_MAX / 4);
    bo_err err = bo__body_window_closed(c->s, &body);
    if (!err)
        err = emit_body(c, BO_EV_CONFIRMATION_WINDOW_CLOSED, &body);
    bo_buf_cleanup(&body);
    return err;
}

bo_err bo__apply_confirm(actx *c)
{
    const bo__bidder *b = NULL;
    bo_err err = need_confirming_bidder(c, &b);
    if (err)
        return err;
    if (!bo__bid_valid(&b->bid))
        return REFUSE(c, BO_E_FORBIDDEN, "Only bidders with a valid bid confirm the record.");
    if (memcmp(c->cmd->record_hash, c->s->conf.record_hash, 32))
        return REFUSE(c, BO_E_BAD_FIELD, "record_hash is not the hash of this opening's "
                                         "record.");
    if (b->confirmed) {
        c->info->already = true;
        return BO_E_OK;
    }
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_bin(m, "record_hash", c->s->conf.record_hash, 32);
    bo_mpmap_bin(m, "sig", c->cmd->sig.p, c->cmd->sig.len);
    return bo__apply_emit(c, m, BO_EV_BIDDER_CONFIRMED, BO_AUD_PUB, NULL);
}

bo_err bo__apply_object(actx *c)
{
    const bo__bidder *b = NULL;
    bo_err err = need_confirming_bidder(c, &b);
    if (!err)
        err = need_text(c, BO_WIRE_OBJECTION_MAX);
    if (err)
        return err;
    if (b->confirmed)
        return REFUSE(c, BO_E_ALREADY_DONE, "You have confirmed the record.");
    if (b->objections >= BO__OBJECTIONS_PER_BIDDER)
        return REFUSE(c, BO_E_TOO_MANY, "At most %d objections per bidder.",
                      BO__OBJECTIONS_PER_BIDDER);
    if (c->s->n_objections >= BO__OBJECTIONS_MAX)
        return REFUSE(c, BO_E_TOO_MANY, "At most %d objections per opening.",
                      BO__OBJECTIONS_MAX);
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "n", c->s->n_objections + 1);
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "text", c->cmd->text);
    bo_mpmap_bin(m, "record_hash", c->s->conf.record_hash, 32);
    bo_mpmap_bin(m, "sig", c->cmd->sig.p, c->cmd->sig.len);
    return bo__apply_emit(c, m, BO_EV_OBJECTION, BO_AUD_PUB, NULL);
}

bo_err bo__apply_answer(actx *c)
{
    bo_err err = need_host_confirming(c);
    if (err)
        return err;
    uint64_t n = c->cmd->objection;
    if (!n || n > c->s->n_objections)
        return REFUSE(c, BO_E_NOT_FOUND, "There is no objection %llu.", (unsigned long long)n);
    if (c->s->objections[n - 1].answered)
        return REFUSE(c, BO_E_ALREADY_DONE, "Objection %llu has been answered.",
                      (unsigned long long)n);
    if ((err = need_text(c, BO_WIRE_ANSWER_MAX)))
        return err;
    if (!c->cmd->sig.p || !c->cmd->sig.len)
        return REFUSE(c, BO_E_INVALID_ARG, "The signature is missing.");
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_u64(m, "n", n);
    bo_mpmap_str(m, "text", c->cmd->text);
    bo_mpmap_bin(m, "sig", c->cmd->sig.p, c->cmd->sig.len);
    bo_mpmap_bin(m, "host_fpr", c->a->fpr, 32);
    return bo__apply_emit(c, m, BO_EV_OBJECTION_ANSWERED, BO_AUD_PUB, NULL);
}

/* ---------------------------------------------------------------- message ---- */

/* Who speaks: the display name and the last time they did (0 with *spoke false). */
static bo_err speaker(actx *c, const char **from, bool *spoke, bo_time_ms *last)
{
    const bo_session *s = c->s;
    const bo_actor *a = c->a;
    *spoke = false;
    switch (a->role) {
    case BO_ROLE_BIDDER: {
        const bo__bidder *b = NULL;
        bo_err err = need_registered(c, &b);
        if (err)
            return err;
        if (!s->revealed)
            return REFUSE(c, BO_E_FORBIDDEN, "Bidders speak after the bid deadline: who bids "
                                             "is secret until then.");
        if (!b->bid.listed)
            return REFUSE(c, BO_E_NOT_REGISTERED, "Only the bidders whose bid was opened take "
                                                  "part.");
        *from = b->org;
        *spoke = b->spoke;
        *last = b->last_message;
        return BO_E_OK;
    }
    case BO_ROLE_HOST:
        if (!bo__session_is_host(s, a->fpr))
            return REFUSE(c, BO_E_NOT_HOST, "Only this opening's host may do this.");
        /* fall through */
    case BO_ROLE_SUPERVISOR:
    case BO_ROLE_SITE:
        *from = a->role != BO_ROLE_SITE && a->person[0] ? a->person : a->org;
        for (size_t i = 0; i < s->n_speakers; i++)
            if (s->speakers[i].role == a->role && !memcmp(s->speakers[i].fpr, a->fpr, 32)) {
                *spoke = true;
                *last = s->speakers[i].last;
            }
        return BO_E_OK;
    default:
        return REFUSE(c, BO_E_FORBIDDEN, "Only the host, supervisors, sites and bidders send "
                                         "messages.");
    }
}

bo_err bo__apply_message(actx *c)
{
    bo_err err = bo__need_opening(c);
    if (!err)
        err = bo__need_not_over(c);
    if (err)
        return err;
    const char *from = NULL;
    bool spoke;
    bo_time_ms last = 0;
    if ((err = speaker(c, &from, &spoke, &last)) || (err = need_text(c, BO_WIRE_MESSAGE_MAX)))
        return err;
    if (!from[0] || !bo__text_ok(from, strlen(from), BO__NAME_MAX - 1, false))
        return REFUSE(c, BO_E_INVALID_ARG, "The sender has no name.");
    if (spoke && c->cmd->now - last < BO__MESSAGE_GAP_MS)
        return REFUSE(c, BO_E_RATE_LIMITED, "One message every %d seconds.",
                      BO__MESSAGE_GAP_MS / 1000);
    bo_mpmap *m = body_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "from_role", bo_role_name(c->a->role));
    bo_mpmap_str(m, "from", from);
    bo_mpmap_str(m, "text", c->cmd->text);
    if (c->a->role == BO_ROLE_BIDDER)
        bo_mpmap_str(m, "uscc", c->a->uscc);
    else
        bo_mpmap_bin(m, "fpr", c->a->fpr, 32);
    return bo__apply_emit(c, m, BO_EV_MESSAGE, BO_AUD_PUB, NULL);
}

/* ------------------------------------------------------------------ close ---- */

bo_err bo__apply_close(actx *c)
{
    bo_err err = need_host_confirming(c);
    if (err)
        return err;
    const bo_session *s = c->s;
    for (size_t i = 0; i < s->n_objections; i++)
        if (!s->objections[i].answered)
            return REFUSE(c, BO_E_OBJECTION_PENDING, "Objection %u has not been answered.",
                          s->objections[i].n);
    if (!s->conf.window_closed && !bo__all_confirmed(s) && c->cmd->now < s->conf.ends_at)
        return REFUSE(c, BO_E_PHASE, "The confirmation window is open until %lld, unless every "
                                     "bidder with a valid bid confirms first.",
                      (long long)s->conf.ends_at);
    bo_buf body;
    bo_buf_init(&body, SIZE_MAX / 4);
    err = bo__body_closed(s, c->cmd->now, &body);
    if (!err)
        err = emit_body(c, BO_EV_OPENING_CLOSED, &body);
    bo_buf_cleanup(&body);
    if (!err)
        err = bo__apply_phase(c, BO_PHASE_CONFIRMING, BO_PHASE_CLOSED, NULL);
    return err;
}
