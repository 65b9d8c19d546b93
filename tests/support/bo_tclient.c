#include "bo_tclient.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/mpjson.h"

typedef struct tc_priv {
    tc pub;
    bo_cred *cred;
} tc_priv;

char *tc_json(const msgpack_object *o)
{
    bo_buf b;
    bo_buf_init(&b, 64u << 20);
    if (!o || bo_mpjson_append(&b, o) != BO_E_OK)
        bo_buf_append_str(&b, "null");
    char *s = (char *)bo_buf_steal(&b, NULL);
    return s ? s : strdup("");
}

static void on_state(void *ud, bo_client_state st, bo_err err, const char *code, const char *msg)
{
    tc *t = ud;
    t->state = st;
    if (code)
        snprintf(t->last_code, sizeof(t->last_code), "%s", code);
    if (st == BO_CLIENT_JOINED)
        t->joins++;
    if (st == BO_CLIENT_BACKOFF)
        t->backoffs++;
    if (getenv("BO_TEST_VERBOSE"))
        fprintf(stderr, "%lld [%s] state %s %s %s\n", (long long)(bo_clock_mono_ms() % 100000), t->name, bo_client_state_name(st),
                code ? code : "", msg ? msg : "");
    (void)err;
}

static void on_snapshot(void *ud, const msgpack_object *snap, bool recovered)
{
    tc *t = ud;
    free(t->snap_json);
    t->snap_json = tc_json(snap);
    t->snapshots++;
    t->last_recovered = recovered;
    if (recovered)
        t->recovered_joins++;
    if (t->snapshots == 1) {
        t->first_pos_pub = tc_snap_pos(t, "pub");
        t->first_pos_priv = tc_snap_pos(t, "priv");
        t->first_pos_all = tc_snap_pos(t, "all");
    }
}

static void on_event(void *ud, const bo_client_event *ev)
{
    tc *t = ud;
    if (t->n_events >= TC_MAX_EVENTS)
        return;
    tc_event *e = &t->events[t->n_events++];
    snprintf(e->st, sizeof(e->st), "%s", ev->st);
    e->seq = ev->seq;
    snprintf(e->kind, sizeof(e->kind), "%s", ev->kind);
    e->body_json = tc_json(ev->body);
    memcpy(e->hash, ev->hash, 32);
    e->at = ev->at;
    e->has_at = ev->has_at;
    e->ts = ev->ts;
    if (getenv("BO_TEST_VERBOSE"))
        fprintf(stderr, "%lld [%s] ev %s#%llu %s %.160s\n", (long long)(bo_clock_mono_ms() % 100000), t->name, e->st,
                (unsigned long long)e->seq, e->kind, e->body_json);
}

static void on_presence(void *ud, const msgpack_object *data)
{
    tc *t = ud;
    free(t->presence_json);
    t->presence_json = tc_json(data);
    t->presences++;
}

tc *tc_new_urls(bo_client_ctx *ctx, const char *name, const char *const *urls, size_t n_urls,
                const char *role, const char *chain_pem, const char *key_pem,
                const char *enc_chain_pem, const char *oid)
{
    tc_priv *p = calloc(1, sizeof(*p));
    tc *t = &p->pub;
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->events = calloc(TC_MAX_EVENTS, sizeof(tc_event));
    bo_err err;
    char detail[256] = "";
    bo_client_opts o;
    memset(&o, 0, sizeof(o));
    if (chain_pem) {
        bo_cred_files f;
        memset(&f, 0, sizeof(f));
        f.cert = chain_pem;
        f.key = key_pem;
        f.enc_cert = enc_chain_pem;
        p->cred = bo_cred_load(&f, &err, detail, sizeof(detail));
        if (!p->cred) {
            fprintf(stderr, "tc_new(%s): credentials: %s\n", name, detail);
            abort();
        }
        o.key = bo_cred_key(p->cred);
        o.chain = bo_cred_chain(p->cred);
        o.enc_chain = bo_cred_enc_chain(p->cred);
    }
    o.urls = urls;
    o.n_urls = n_urls;
    o.role = role;
    o.oid = oid;
    o.backoff_min_ms = 100;
    o.backoff_max_ms = 1000;
    o.cb.on_state = on_state;
    o.cb.on_snapshot = on_snapshot;
    o.cb.on_event = on_event;
    o.cb.on_presence = on_presence;
    o.ud = t;
    t->c = bo_client_new(ctx, &o, &err);
    if (!t->c) {
        fprintf(stderr, "tc_new(%s): %s\n", name, bo_strerror(err));
        abort();
    }
    return t;
}

tc *tc_new(bo_client_ctx *ctx, const char *name, const char *url, const char *role,
           const char *chain_pem, const char *key_pem, const char *enc_chain_pem,
           const char *oid)
{
    const char *urls[1] = {url};
    return tc_new_urls(ctx, name, urls, 1, role, chain_pem, key_pem, enc_chain_pem, oid);
}

void tc_free(tc *t)
{
    if (!t)
        return;
    tc_priv *p = (tc_priv *)t;
    bo_client_free(t->c);
    bo_cred_free(p->cred);
    for (size_t i = 0; i < t->n_events; i++)
        free(t->events[i].body_json);
    free(t->events);
    free(t->snap_json);
    free(t->presence_json);
    free(t->reply_json);
    free(p);
}

typedef struct wait_ctx {
    tc *t;
    bo_client_state want;
    const char *kind;
    size_t n;
} wait_ctx;

static bool state_reached(void *arg)
{
    wait_ctx *w = arg;
    bo_client_state st = w->t->state;
    /* JOINED also accepts READY: a client without an oid stops there */
    return st == w->want || (w->want == BO_CLIENT_JOINED && st == BO_CLIENT_READY) ||
           (w->want != BO_CLIENT_FAILED && st == BO_CLIENT_FAILED);
}

bool tc_wait_state(uv_loop_t *loop, tc *t, bo_client_state want, int timeout_ms)
{
    if (bo_client_state_get(t->c) == BO_CLIENT_IDLE)
        bo_client_start(t->c);
    wait_ctx w = {t, want, NULL, 0};
    bo_client_run_until(loop, state_reached, &w, timeout_ms);
    return t->state == want || (want == BO_CLIENT_JOINED && t->state == BO_CLIENT_READY);
}

void tc_reply_reset(tc *t)
{
    t->replied = false;
    t->reply_err = BO_E_OK;
    t->reply_code[0] = 0;
    t->reply_msg[0] = 0;
    free(t->reply_json);
    t->reply_json = NULL;
}

void tc_on_reply(void *ud, bo_err err, const char *code, const char *msg,
                 const msgpack_object *data)
{
    tc *t = ud;
    t->replied = true;
    t->reply_err = err;
    snprintf(t->reply_code, sizeof(t->reply_code), "%s", code ? code : "OK");
    snprintf(t->reply_msg, sizeof(t->reply_msg), "%s", msg ? msg : "");
    free(t->reply_json);
    t->reply_json = data ? tc_json(data) : NULL;
    if (getenv("BO_TEST_VERBOSE"))
        fprintf(stderr, "%lld [%s] reply %s %s\n", (long long)(bo_clock_mono_ms() % 100000), t->name, t->reply_code, t->reply_msg);
}

static bool replied(void *arg)
{
    return ((tc *)arg)->replied;
}

bo_err tc_wait_reply(uv_loop_t *loop, tc *t, int timeout_ms)
{
    bo_client_run_until(loop, replied, t, timeout_ms);
    return t->replied ? t->reply_err : BO_E_TIMEOUT;
}

size_t tc_count(const tc *t, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_events; i++)
        n += strcmp(t->events[i].kind, kind) == 0;
    return n;
}

const tc_event *tc_last(const tc *t, const char *kind)
{
    for (size_t i = t->n_events; i > 0; i--)
        if (!strcmp(t->events[i - 1].kind, kind))
            return &t->events[i - 1];
    return NULL;
}

static bool has_kind(void *arg)
{
    wait_ctx *w = arg;
    return tc_count(w->t, w->kind) > 0;
}

bool tc_wait_event(uv_loop_t *loop, tc *t, const char *kind, int timeout_ms)
{
    wait_ctx w = {t, 0, kind, 0};
    bo_client_run_until(loop, has_kind, &w, timeout_ms);
    return tc_count(t, kind) > 0;
}

static bool has_n(void *arg)
{
    wait_ctx *w = arg;
    return w->t->n_events >= w->n;
}

bool tc_wait_events(uv_loop_t *loop, tc *t, size_t n, int timeout_ms)
{
    wait_ctx w = {t, 0, NULL, n};
    bo_client_run_until(loop, has_n, &w, timeout_ms);
    return t->n_events >= n;
}

bool tc_saw_text(const tc *t, const char *s)
{
    for (size_t i = 0; i < t->n_events; i++)
        if (strstr(t->events[i].body_json, s))
            return true;
    return (t->snap_json && strstr(t->snap_json, s)) ||
           (t->presence_json && strstr(t->presence_json, s));
}

uint64_t tc_snap_pos(const tc *t, const char *key)
{
    if (!t->snap_json)
        return 0;
    json_t *root = json_loads(t->snap_json, 0, NULL);
    json_t *v = json_object_get(json_object_get(root, "pos"), key);
    uint64_t n = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    json_decref(root);
    return n;
}

uint64_t tc_last_seq(const tc *t, const char *st)
{
    for (size_t i = t->n_events; i > 0; i--)
        if (!strcmp(t->events[i - 1].st, st))
            return t->events[i - 1].seq;
    return 0;
}

typedef struct seq_wait {
    tc *t;
    const char *st;
    uint64_t n;
} seq_wait;

static bool seq_reached(void *arg)
{
    seq_wait *w = arg;
    return tc_last_seq(w->t, w->st) >= w->n;
}

bool tc_wait_seq(uv_loop_t *loop, tc *t, const char *st, uint64_t n, int timeout_ms)
{
    seq_wait w = {t, st, n};
    bo_client_run_until(loop, seq_reached, &w, timeout_ms);
    return tc_last_seq(t, st) >= n;
}

bool tc_gap_free(const tc *t, const char *st, uint64_t first_pos)
{
    uint64_t want = first_pos + 1;
    for (size_t i = 0; i < t->n_events; i++) {
        const tc_event *e = &t->events[i];
        if (strcmp(e->st, st))
            continue;
        if (e->seq != want) {
            fprintf(stderr, "%s: %s stream: got seq %llu (%s), expected %llu\n", t->name, st,
                    (unsigned long long)e->seq, e->kind, (unsigned long long)want);
            return false;
        }
        want++;
    }
    return true;
}

bool tc_same_pub(const tc *ref, const tc *t)
{
    if (!tc_gap_free(t, "pub", t->first_pos_pub) || !tc_gap_free(ref, "pub", ref->first_pos_pub))
        return false;
    if (ref->first_pos_pub > t->first_pos_pub) {
        fprintf(stderr, "%s joined after %s\n", ref->name, t->name);
        return false;
    }
    size_t j = 0; /* ref's pub events, in order */
    size_t matched = 0;
    for (size_t i = 0; i < ref->n_events; i++) {
        const tc_event *r = &ref->events[i];
        if (strcmp(r->st, "pub") || r->seq <= t->first_pos_pub)
            continue;
        while (j < t->n_events && strcmp(t->events[j].st, "pub"))
            j++;
        if (j == t->n_events) {
            fprintf(stderr, "%s: no pub #%llu (%s) that %s has\n", t->name,
                    (unsigned long long)r->seq, r->kind, ref->name);
            return false;
        }
        const tc_event *e = &t->events[j++];
        if (e->seq != r->seq || strcmp(e->kind, r->kind) || memcmp(e->hash, r->hash, 32)) {
            fprintf(stderr, "%s: pub #%llu %s differs from %s's #%llu %s\n", t->name,
                    (unsigned long long)e->seq, e->kind, ref->name, (unsigned long long)r->seq,
                    r->kind);
            return false;
        }
        matched++;
    }
    while (j < t->n_events && strcmp(t->events[j].st, "pub"))
        j++;
    if (j != t->n_events) {
        fprintf(stderr, "%s: pub #%llu beyond %s's last\n", t->name,
                (unsigned long long)t->events[j].seq, ref->name);
        return false;
    }
    (void)matched;
    return true;
}

bool tc_same_all(const tc *a, const tc *b)
{
    if (!tc_gap_free(a, "all", a->first_pos_all) || !tc_gap_free(b, "all", b->first_pos_all))
        return false;
    for (size_t i = 0; i < a->n_events; i++)
        for (size_t k = 0; k < b->n_events; k++) {
            const tc_event *x = &a->events[i], *y = &b->events[k];
            if (x->seq != y->seq)
                continue;
            if (strcmp(x->kind, y->kind) || memcmp(x->hash, y->hash, 32)) {
                fprintf(stderr, "%s and %s differ at #%llu: %s / %s\n", a->name, b->name,
                        (unsigned long long)x->seq, x->kind, y->kind);
                return false;
            }
        }
    if (tc_last_seq(a, "all") != tc_last_seq(b, "all")) {
        fprintf(stderr, "%s ends at %llu, %s at %llu\n", a->name,
                (unsigned long long)tc_last_seq(a, "all"), b->name,
                (unsigned long long)tc_last_seq(b, "all"));
        return false;
    }
    return true;
}
