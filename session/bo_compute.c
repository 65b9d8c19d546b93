/* bidopen: what the announcement, the draws and the benchmark price compute
 * (docs/protocol.md §11), as pure functions of the state. apply builds the event bodies with
 * them; fold builds them again and compares the bytes, so a log whose announcement order,
 * draw or benchmark price differs from what the rules give does not fold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hash.h"
#include "bo_session_internal.h"

#define DRAW_CTX "bidopen/draw/v1"
#define ORDER_CTX "bidopen/order/v1"
#define MEAN_PLACES 6 /* benchmark_price.mean */

uint8_t *bo__dup(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* Finishes m (freed in any case) into out. */
static bo_err finish(bo_mpmap *m, bo_buf *out)
{
    bo_err err = bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    return err;
}

/* -------------------------------------------------------------- the order ---- */

static int by_seq(const void *a, const void *b)
{
    const bo__bidder *x = *(const bo__bidder *const *)a, *y = *(const bo__bidder *const *)b;
    return x->bid.seq < y->bid.seq ? -1 : x->bid.seq > y->bid.seq;
}

bo_err bo__announce_order(const bo_session *s, const bo__bidder **out, size_t *n)
{
    size_t k = 0;
    *n = 0;
    switch (s->tender.announce_order) {
    case BO_ORDER_DRAW:
        if (!s->order)
            return BO_E_PHASE;
        for (size_t i = 0; i < s->n_order; i++) {
            const bo__bidder *b = bo__session_bidder(s, s->order[i]);
            if (!b || !b->bid.listed || !bo__bid_valid(&b->bid))
                return BO_E_INTERNAL; /* fold keeps the order to the valid bids */
            out[k++] = b;
        }
        for (size_t i = 0; i < s->n_bidders; i++) /* then the others, by USCC */
            if (s->bidders[i].bid.listed && !bo__bid_valid(&s->bidders[i].bid))
                out[k++] = &s->bidders[i];
        break;
    case BO_ORDER_SUBMISSION:
    case BO_ORDER_USCC:
    default:
        for (size_t i = 0; i < s->n_bidders; i++)
            if (s->bidders[i].bid.listed)
                out[k++] = &s->bidders[i];
        if (s->tender.announce_order == BO_ORDER_SUBMISSION)
            qsort(out, k, sizeof(*out), by_seq);
        break;
    }
    *n = k;
    return BO_E_OK;
}

bo_err bo__announce_next(const bo_session *s, const bo__bidder **out)
{
    *out = NULL;
    if (!s->n_bidders)
        return BO_E_OK;
    const bo__bidder **order = malloc(s->n_bidders * sizeof(*order));
    if (!order)
        return BO_E_NOMEM;
    size_t n;
    bo_err err = bo__announce_order(s, order, &n);
    if (!err && s->announced < n)
        *out = order[s->announced];
    free(order);
    return err;
}

bo_err bo__body_announced(const bo_session *s, const bo__bidder *b, unsigned n, bo_buf *out)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bool valid = bo__bid_valid(&b->bid);
    bo_mpmap_u64(m, "n", n);
    bo_mpmap_str(m, "uscc", b->uscc);
    bo_mpmap_str(m, "org", b->org);
    bo_mpmap_str(m, "status", bo__bid_status(&b->bid));
    bo_mpmap_bin(m, "bid", b->bid.hash, 32);
    if (valid) {
        /* the form of a valid bid has exactly the tender's fields, as strings */
        bo_mpmap_raw(m, "fields", b->bid.form, b->bid.form ? b->bid.form_len : 0);
        bo_mpmap_bin(m, "commit", b->bid.commit, 32);
        bo_mpmap_bin(m, "signin_sig", b->signin_sig, b->signin_sig_len);
    } else if (b->bid.form_error[0]) {
        bo_mpmap_str(m, "form_error", b->bid.form_error);
    }
    (void)s;
    return finish(m, out);
}

/* ------------------------------------------------------------------ draws ---- */

/* inputs = SHA-256(canonical([[uscc, signin_sig, commit] for each valid bid, by USCC])) */
static bo_err draw_inputs(const bo_session *s, uint8_t inputs[32])
{
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = bo_mp_array_header(&b, bo__session_valid_count(s));
    for (size_t i = 0; i < s->n_bidders && !err; i++) {
        const bo__bidder *x = &s->bidders[i];
        if (!x->bid.listed || !bo__bid_valid(&x->bid))
            continue;
        err = bo_mp_array_header(&b, 3);
        if (!err)
            err = bo_mp_str(&b, x->uscc, strlen(x->uscc));
        if (!err)
            err = bo_mp_bin(&b, x->signin_sig, x->signin_sig_len);
        if (!err)
            err = bo_mp_bin(&b, x->bid.commit, 32);
    }
    if (!err)
        bo_sha256(b.data, b.len, inputs);
    bo_buf_cleanup(&b);
    return err;
}

/* HMAC-SHA256(seed, ctx || 0x00 || oid || 0x00 || id || inputs || uscc?) */
static bo_err draw_mac(const char *oid, const char *ctx, const char *id, const uint8_t seed[32],
                       const uint8_t inputs[32], const char *uscc, uint8_t out[32])
{
    bo_buf b;
    bo_buf_init(&b, 4096);
    bo_err err = bo_buf_append(&b, ctx, strlen(ctx) + 1);
    if (!err)
        err = bo_buf_append(&b, oid, strlen(oid) + 1);
    if (!err)
        err = bo_buf_append_str(&b, id);
    if (!err)
        err = bo_buf_append(&b, inputs, 32);
    if (!err && uscc)
        err = bo_buf_append_str(&b, uscc);
    if (!err)
        err = bo_hmac_sha256(seed, 32, b.data, b.len, out);
    bo_buf_cleanup(&b);
    return err;
}

typedef struct keyed {
    uint8_t key[32];
    const char *uscc;
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = memcmp(x->key, y->key, 32);
    return c ? c : strcmp(x->uscc, y->uscc);
}

/* order: the valid bids sorted by their HMAC, as a msgpack array of USCCs. */
static bo_err draw_order(const char *oid, const char *id, const uint8_t seed[32],
                         const uint8_t inputs[32], const char *const *valid, size_t n,
                         bo_buf *out)
{
    keyed *v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return BO_E_NOMEM;
    bo_err err = BO_E_OK;
    for (size_t i = 0; i < n && !err; i++) {
        v[i].uscc = valid[i];
        err = draw_mac(oid, ORDER_CTX, id, seed, inputs, valid[i], v[i].key);
    }
    if (!err) {
        qsort(v, n, sizeof(*v), by_key);
        err = bo_mp_array_header(out, (uint32_t)n);
    }
    for (size_t i = 0; i < n && !err; i++)
        err = bo_mp_str(out, v[i].uscc, strlen(v[i].uscc));
    free(v);
    return err;
}

bo_err bo__draw_body(const char *oid, const bo_tender_draw *d, const uint8_t seed[32],
                     const uint8_t inputs[32], const char *const *valid, size_t n_valid,
                     bo_buf *out)
{
    uint8_t r[32];
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    if (!m)
        return err;
    bo_mpmap_str(m, "id", d->id);
    bo_mpmap_str(m, "kind", d->kind == BO_DRAW_ORDER ? "order" : "coefficient");
    bo_mpmap_bin(m, "seed", seed, 32);
    bo_mpmap_bin(m, "inputs", inputs, 32);
    if (d->kind == BO_DRAW_COEFFICIENT) {
        err = draw_mac(oid, DRAW_CTX, d->id, seed, inputs, NULL, r);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | r[i];
        char value[BO_DECIMAL_STR_MAX];
        if (!err && !d->n_values)
            err = BO_E_INVALID_ARG;
        if (!err)
            err = bo_decimal_canonical(&d->values[u % d->n_values], value, sizeof(value));
        if (!err)
            bo_mpmap_str(m, "value", value);
    } else {
        bo_buf order;
        bo_buf_init(&order, SIZE_MAX / 4);
        err = draw_order(oid, d->id, seed, inputs, valid, n_valid, &order);
        if (!err)
            bo_mpmap_raw(m, "order", order.data, order.len);
        bo_buf_cleanup(&order);
    }
    if (err) {
        bo_mpmap_free(m);
        return err;
    }
    return finish(m, out);
}

bo_err bo__body_draw(const bo_session *s, const bo_tender_draw *d, const uint8_t seed[32],
                     bo_buf *out)
{
    uint8_t inputs[32];
    bo_err err = draw_inputs(s, inputs);
    if (err)
        return err;
    unsigned n = bo__session_valid_count(s);
    size_t k = 0;
    const char **valid = calloc(n ? n : 1, sizeof(*valid));
    if (!valid)
        return BO_E_NOMEM;
    for (size_t i = 0; i < s->n_bidders && k < n; i++) {
        const bo__bidder *x = &s->bidders[i];
        if (x->bid.listed && bo__bid_valid(&x->bid))
            valid[k++] = x->uscc;
    }
    err = bo__draw_body(s->oid, d, seed, inputs, valid, k, out);
    free(valid);
    return err;
}

bool bo__drawn_value(const bo_session *s, const char *id, bo_decimal *out)
{
    const bo_tender_draw *d = bo_tender_draw_find(&s->tender, id);
    if (!d || d->kind != BO_DRAW_COEFFICIENT || !s->drawn[d - s->tender.draws].done)
        return false;
    *out = s->drawn[d - s->tender.draws].value;
    return true;
}

/* -------------------------------------------------------------- benchmark ---- */

/* The form's text of key as a decimal (and its text). */
static bool form_decimal(const bo__bid *b, const char *key, bo_decimal *out, char *text,
                         size_t n)
{
    msgpack_zone *z = NULL;
    msgpack_object o;
    const char *v;
    size_t len;
    bool ok = b->form && bo_mp_parse(b->form, b->form_len, &z, &o) == BO_E_OK &&
              o.type == MSGPACK_OBJECT_MAP && bo_mpo_str(&o, key, &v, &len) && len < n &&
              bo_decimal_parse(v, len, out) == BO_E_OK;
    if (ok) {
        memcpy(text, v, len);
        text[len] = 0;
    }
    msgpack_zone_free(z);
    return ok;
}

typedef struct price {
    const bo__bidder *b;
    bo_decimal v;
    char text[BO_DECIMAL_TEXT_MAX + 1];
    bool dropped;
} price;

static int by_price(const void *a, const void *b)
{
    const price *x = a, *y = b;
    int c = bo_decimal_cmp(&x->v, &y->v);
    return c ? c : strcmp(x->b->uscc, y->b->uscc);
}

static int by_uscc(const void *a, const void *b)
{
    return strcmp(((const price *)a)->b->uscc, ((const price *)b)->b->uscc);
}

/* The valid bids' prices; trimmed ones marked dropped; back in USCC order. */
static bo_err prices(const bo_session *s, price **out, unsigned *n)
{
    const bo_tender_benchmark *bm = &s->tender.benchmark;
    unsigned k = 0, total = bo__session_valid_count(s);
    price *v = calloc(total ? total : 1, sizeof(*v));
    if (!v)
        return BO_E_NOMEM;
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (!b->bid.listed || !bo__bid_valid(&b->bid))
            continue;
        v[k].b = b;
        if (!form_decimal(&b->bid, bm->field, &v[k].v, v[k].text, sizeof(v[k].text))) {
            free(v);
            return BO_E_INTERNAL; /* a valid bid's form is well-formed */
        }
        k++;
    }
    if (bm->trim && k >= bm->trim_min && k > 2 * bm->trim) {
        qsort(v, k, sizeof(*v), by_price);
        for (unsigned i = 0; i < bm->trim; i++)
            v[i].dropped = v[k - 1 - i].dropped = true;
        qsort(v, k, sizeof(*v), by_uscc);
    }
    *out = v;
    *n = k;
    return BO_E_OK;
}

static bo_err put_prices(bo_mpmap *m, const price *v, unsigned n)
{
    bo_buf in, drop;
    bo_buf_init(&in, SIZE_MAX / 4);
    bo_buf_init(&drop, SIZE_MAX / 4);
    unsigned nd = 0;
    for (unsigned i = 0; i < n; i++)
        nd += v[i].dropped;
    bo_err err = bo_mp_array_header(&in, n);
    if (!err)
        err = bo_mp_array_header(&drop, nd);
    for (unsigned i = 0; i < n && !err; i++) {
        bo_mpmap *e = bo_mpmap_new(&err);
        if (!e)
            break;
        bo_mpmap_str(e, "uscc", v[i].b->uscc);
        bo_mpmap_str(e, "value", v[i].text);
        err = finish(e, &in);
        if (!err && v[i].dropped)
            err = bo_mp_str(&drop, v[i].b->uscc, strlen(v[i].b->uscc));
    }
    if (!err)
        err = bo_mpmap_raw(m, "inputs", in.data, in.len);
    if (!err)
        err = bo_mpmap_raw(m, "dropped", drop.data, drop.len);
    bo_buf_cleanup(&in);
    bo_buf_cleanup(&drop);
    return err;
}

/* sum, mean, value of the kept prices; *detail on a refusal. */
static bo_err compute(const price *v, unsigned n, const bo_decimal *coef,
                      const bo_tender_benchmark *bm, bo_decimal *sum, bo_decimal *mean,
                      bo_decimal *value, unsigned *kept)
{
    *sum = bo_decimal_from_int(0);
    *kept = 0;
    bo_err err = BO_E_OK;
    for (unsigned i = 0; i < n && !err; i++)
        if (!v[i].dropped) {
            err = bo_decimal_add(sum, &v[i].v, sum);
            (*kept)++;
        }
    if (!err && !*kept)
        err = BO_E_INVALID_ARG;
    bo_decimal scaled;
    if (!err)
        err = bo_decimal_div_int(sum, *kept, MEAN_PLACES, bm->rounding, mean);
    if (!err) /* value = round(sum * coefficient / kept): one rounding, at the end */
        err = bo_decimal_mul(sum, coef, &scaled);
    if (!err)
        err = bo_decimal_div_int(&scaled, *kept, bm->places, bm->rounding, value);
    return err;
}

static bo_err put_decimal(bo_mpmap *m, const char *key, const bo_decimal *d, bool canonical)
{
    char s[BO_DECIMAL_STR_MAX];
    bo_err err = canonical ? bo_decimal_canonical(d, s, sizeof(s))
                           : bo_decimal_format(d, s, sizeof(s));
    return err ? err : bo_mpmap_str(m, key, s);
}

bo_err bo__body_benchmark(const bo_session *s, bo_buf *out, char *detail, size_t detail_len)
{
    const bo_tender_benchmark *bm = &s->tender.benchmark;
    bo_decimal coef = bm->coefficient, sum, mean, value;
    if (!bm->present)
        return BO_E_NOT_FOUND;
    if (bm->coef_draw && !bo__drawn_value(s, bm->coef_id, &coef))
        return bo__session_refuse(detail, detail_len, BO_E_PHASE,
                                  "The coefficient comes from draw %s: draw it first.",
                                  bm->coef_id);
    price *v = NULL;
    unsigned n = 0, kept = 0;
    bo_err err = prices(s, &v, &n);
    if (!err)
        err = compute(v, n, &coef, bm, &sum, &mean, &value, &kept);
    if (err == BO_E_TOO_BIG)
        bo__session_refuse(detail, detail_len, err, "The benchmark price leaves the range of "
                                                    "exact decimals (10^38).");
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        bo_buf rule;
        bo_buf_init(&rule, SIZE_MAX / 4);
        put_decimal(m, "value", &value, false); /* exactly `places` decimals */
        put_decimal(m, "mean", &mean, false);   /* exactly 6 */
        put_decimal(m, "sum", &sum, true);
        bo_mpmap_u64(m, "count", kept);
        put_decimal(m, "coefficient", &coef, true);
        err = put_prices(m, v, n);
        if (!err)
            err = bo_tender_encode_benchmark(&s->tender, &rule);
        if (!err)
            bo_mpmap_raw(m, "rule", rule.data, rule.len);
        bo_buf_cleanup(&rule);
        if (err)
            bo_mpmap_free(m);
        else
            err = finish(m, out);
    }
    free(v);
    return err;
}

/* ----------------------------------------------------------- confirmation ---- */

static bo_err put_bidders_if(const bo_session *s, bo_buf *out, unsigned *n, bool confirmed)
{
    unsigned k = 0;
    for (size_t i = 0; i < s->n_bidders; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (b->bid.listed && bo__bid_valid(&b->bid) &&
            (confirmed ? b->confirmed : !b->confirmed && !b->objections))
            k++;
    }
    bo_err err = bo_mp_array_header(out, k);
    for (size_t i = 0; i < s->n_bidders && !err; i++) {
        const bo__bidder *b = &s->bidders[i];
        if (b->bid.listed && bo__bid_valid(&b->bid) &&
            (confirmed ? b->confirmed : !b->confirmed && !b->objections))
            err = bo_mp_str(out, b->uscc, strlen(b->uscc));
    }
    if (n)
        *n = k;
    return err;
}

bool bo__all_confirmed(const bo_session *s)
{
    for (size_t i = 0; i < s->n_bidders; i++)
        if (bo__bid_valid(&s->bidders[i].bid) && !s->bidders[i].confirmed)
            return false;
    return true;
}

bo_err bo__put_undecided(const bo_session *s, bo_buf *out, unsigned *n)
{
    return put_bidders_if(s, out, n, false);
}

bo_err bo__put_confirmed(const bo_session *s, bo_buf *out, unsigned *n)
{
    return put_bidders_if(s, out, n, true);
}

bo_err bo__body_window_closed(const bo_session *s, bo_buf *out)
{
    bo_buf list;
    bo_buf_init(&list, SIZE_MAX / 4);
    bo_err err = bo__put_undecided(s, &list, NULL);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        bo_mpmap_raw(m, "deemed", list.data, list.len);
        err = finish(m, out);
    }
    bo_buf_cleanup(&list);
    return err;
}

bo_err bo__body_closed(const bo_session *s, bo_time_ms at, bo_buf *out)
{
    uint8_t hash[32];
    bo_buf confirmed, deemed;
    bo_buf_init(&confirmed, SIZE_MAX / 4);
    bo_buf_init(&deemed, SIZE_MAX / 4);
    bo_err err = bo__put_confirmed(s, &confirmed, NULL);
    if (!err)
        err = bo__put_undecided(s, &deemed, NULL);
    if (!err)
        err = bo__record_hash(s, &at, hash);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        bo_mpmap_bin(m, "record_hash", hash, 32);
        bo_mpmap_raw(m, "confirmed", confirmed.data, confirmed.len);
        bo_mpmap_raw(m, "deemed", deemed.data, deemed.len);
        err = finish(m, out);
    }
    bo_buf_cleanup(&confirmed);
    bo_buf_cleanup(&deemed);
    return err;
}
