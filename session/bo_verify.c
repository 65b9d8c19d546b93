/* bidopen: offline verification of a transcript (bo/verify.h, docs/transcript.md). It reuses
 * the state machine itself (bo_session_fold) for the replay and its functions for the
 * diagnosis of a body the replay refuses; where the replay cannot go (public transcripts),
 * the draws and the benchmark price are recomputed here from the public bodies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/cert.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/sigpayload.h"
#include "bo/sign.h"
#include "bo/verify.h"
#include "bo_session_internal.h"

/* Findings are sentences cut to the size of their buffer on purpose (a long value in a
 * tampered transcript must not grow a message without bound). */
#pragma GCC diagnostic ignored "-Wformat-truncation"


const char *bo_verify_level_name(bo_verify_level l)
{
    switch (l) {
    case BO_VERIFY_PASSED:
        return "passed";
    case BO_VERIFY_UNCHECKED:
        return "unchecked";
    case BO_VERIFY_ERROR:
        return "error";
    default:
        return "?";
    }
}

/* One event of the transcript and what the chain check found about it. */
typedef struct vev {
    const bo_transcript_event *te;
    uint64_t seq;
    bool dup;      /* another event of the transcript has this seq and came first */
    bool hash_bad; /* its content does not match its hash */
    bool prev_bad; /* its prev_hash is not the hash of the event before */
} vev;

/* A bidder as the log registered it. */
typedef struct reg {
    char uscc[19];
    char org[256];
    uint8_t sign_fpr[32];
    bo_blob_list sign_chain, enc_chain;
    bo_blob_list bid_chain; /* the signing chain registered when its bid was submitted */
} reg;

typedef struct vctx {
    const bo_verify_opts *o;
    bo_verify_summary *sum;
    bo_transcript *t;
    vev *evs; /* file order */
    size_t n;
    vev **by_seq; /* [1..max] */
    uint64_t max;
    bo_bytes cert, spki; /* the server key */
    reg *regs;
    size_t n_regs;
    uint64_t replay_stop; /* 0: every event replayed; else the first one that was not */
    uint64_t diagnosed;   /* the event whose refusal the replay explained */
    bool chain_whole;     /* every event present once, every hash and link right */
    unsigned uncert;      /* signatures whose certificate was not checked (no trust store) */
    bo_err err;           /* NOMEM */
    char msg[2048];
} vctx;

/* ------------------------------------------------------------- reporting ---- */

static void report(vctx *v, bo_verify_level lvl, const char *check, uint64_t seq,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(vctx *v, bo_verify_level lvl, const char *check, uint64_t seq,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
    va_end(ap);
    const vev *e = seq && seq <= v->max ? v->by_seq[seq] : NULL;
    bo_verify_finding f = {lvl, check, seq, e ? bo_event_kind_name(e->te->ev.kind) : NULL, v->msg};
    if (lvl == BO_VERIFY_ERROR)
        v->sum->errors++;
    else if (lvl == BO_VERIFY_UNCHECKED)
        v->sum->unchecked++;
    else
        v->sum->passed++;
    v->o->report(v->o->ud, &f);
}

/* The first 16 hex digits of a hash, for messages. */
static const char *short_hex(const uint8_t *p, size_t n, char out[24])
{
    char full[65];
    bo_hex_encode(p, n < 32 ? n : 32, full);
    snprintf(out, 24, "%.16s%s", full, n > 8 ? "…" : "");
    return out;
}

static const char *at_time(bo_time_ms ts, char out[40])
{
    return bo_time_format_rfc3339(ts, out, 40);
}

static const char *kind_of(const vev *e)
{
    return bo_event_kind_name(e->te->ev.kind);
}

/* ---------------------------------------------------------------- bodies ---- */

typedef struct vbody {
    msgpack_zone *z;
    msgpack_object o;
} vbody;

static bool body_open(const vev *e, vbody *b)
{
    b->z = NULL;
    if (!e || e->te->withheld || !e->te->ev.body)
        return false;
    if (bo_mp_parse(e->te->ev.body, e->te->ev.body_len, &b->z, &b->o) ||
        b->o.type != MSGPACK_OBJECT_MAP) {
        msgpack_zone_free(b->z);
        b->z = NULL;
        return false;
    }
    return true;
}

static void body_close(vbody *b)
{
    msgpack_zone_free(b->z);
    b->z = NULL;
}

/* A string member into dst (NUL-terminated); "" when absent. */
static const char *bstr(const msgpack_object *o, const char *key, char *dst, size_t n)
{
    const char *s;
    size_t len;
    dst[0] = 0;
    if (o && o->type == MSGPACK_OBJECT_MAP && bo_mpo_str(o, key, &s, &len) && len < n) {
        memcpy(dst, s, len);
        dst[len] = 0;
    }
    return dst;
}

static bool bbin(const msgpack_object *o, const char *key, const uint8_t **p, size_t *n)
{
    return o && o->type == MSGPACK_OBJECT_MAP && bo_mpo_bin(o, key, p, n);
}

static bool b32(const msgpack_object *o, const char *key, const uint8_t **p)
{
    size_t n;
    return bbin(o, key, p, &n) && n == 32;
}

/* A chain (array of bin) member into l (at most BO_CHAIN_MAX). */
static bool bchain(const msgpack_object *o, const char *key, bo_blob_list *l)
{
    const msgpack_object *a = bo_mpo_get(o, key);
    if (!a || a->type != MSGPACK_OBJECT_ARRAY || !a->via.array.size ||
        a->via.array.size > BO_CHAIN_MAX)
        return false;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        const msgpack_object *c = &a->via.array.ptr[i];
        if (c->type != MSGPACK_OBJECT_BIN || !c->via.bin.size ||
            bo_blob_list_push(l, c->via.bin.ptr, c->via.bin.size))
            return false;
    }
    return true;
}

/* ------------------------------------------------------ describing values ---- */

static void append(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *out, size_t n, const char *fmt, ...)
{
    size_t k = strlen(out);
    if (k + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + k, n - k, fmt, ap);
    va_end(ap);
}

/* Up to max bytes of s, cut on a character boundary. */
static int utf8_cut(const char *s, int len, int max)
{
    if (len <= max)
        return len;
    int k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    return k;
}

/* A short text for a value: "text", 0x1f2e…, 12, [a, b], {…}. */
static void describe(const msgpack_object *o, char *out, size_t n)
{
    char h[24];
    out[0] = 0;
    if (!o) {
        snprintf(out, n, "absent");
        return;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_STR: {
        int len = utf8_cut(o->via.str.ptr, (int)o->via.str.size, 80);
        snprintf(out, n, "\"%.*s%s\"", len, o->via.str.ptr,
                 (uint32_t)len < o->via.str.size ? "…" : "");
        return;
    }
    case MSGPACK_OBJECT_BIN:
        snprintf(out, n, "%s", short_hex((const uint8_t *)o->via.bin.ptr, o->via.bin.size, h));
        return;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(out, n, "%llu", (unsigned long long)o->via.u64);
        return;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(out, n, "%lld", (long long)o->via.i64);
        return;
    case MSGPACK_OBJECT_BOOLEAN:
        snprintf(out, n, "%s", o->via.boolean ? "true" : "false");
        return;
    case MSGPACK_OBJECT_ARRAY:
        append(out, n, "[");
        for (uint32_t i = 0; i < o->via.array.size && strlen(out) < 160; i++) {
            char item[200];
            describe(&o->via.array.ptr[i], item, sizeof(item));
            append(out, n, "%s%s", i ? ", " : "", item);
        }
        append(out, n, "]");
        return;
    case MSGPACK_OBJECT_MAP:
        snprintf(out, n, "{…}");
        return;
    default:
        snprintf(out, n, "nil");
        return;
    }
}

/* The first difference between a body in the log and the body recomputed, as
 * "<path> is <got> <mid> <want>" (mid: "in the log; recomputed"). */
static void diff_as(const msgpack_object *got, const msgpack_object *want, const char *path,
                    const char *mid, char *out, size_t n)
{
    char g[256], w[256], sub[160];
    if (got && want && got->type == MSGPACK_OBJECT_MAP && want->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < want->via.map.size; i++) {
            const msgpack_object_kv *kv = &want->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR)
                continue;
            snprintf(sub, sizeof(sub), "%s%s%.*s", path, path[0] ? "." : "",
                     (int)kv->key.via.str.size, kv->key.via.str.ptr);
            const msgpack_object *x = NULL;
            for (uint32_t k = 0; k < got->via.map.size && !x; k++)
                if (msgpack_object_equal(got->via.map.ptr[k].key, kv->key))
                    x = &got->via.map.ptr[k].val;
            if (!x) {
                describe(&kv->val, w, sizeof(w));
                snprintf(out, n, "%s is missing; recomputed %s", sub, w);
                return;
            }
            if (!msgpack_object_equal(*x, kv->val)) {
                diff_as(x, &kv->val, sub, mid, out, n);
                return;
            }
        }
        for (uint32_t k = 0; k < got->via.map.size; k++) {
            const msgpack_object_kv *kv = &got->via.map.ptr[k];
            bool known = false;
            for (uint32_t i = 0; i < want->via.map.size && !known; i++)
                known = msgpack_object_equal(want->via.map.ptr[i].key, kv->key);
            if (!known && kv->key.type == MSGPACK_OBJECT_STR) {
                snprintf(out, n, "%s%s%.*s should not be there", path, path[0] ? "." : "",
                         (int)kv->key.via.str.size, kv->key.via.str.ptr);
                return;
            }
        }
        snprintf(out, n, "%s differs", path[0] ? path : "the body");
        return;
    }
    if (got && want && got->type == MSGPACK_OBJECT_ARRAY && want->type == MSGPACK_OBJECT_ARRAY &&
        got->via.array.size == want->via.array.size) {
        for (uint32_t i = 0; i < want->via.array.size; i++)
            if (!msgpack_object_equal(got->via.array.ptr[i], want->via.array.ptr[i])) {
                snprintf(sub, sizeof(sub), "%s[%u]", path, i);
                diff_as(&got->via.array.ptr[i], &want->via.array.ptr[i], sub, mid, out, n);
                return;
            }
    }
    describe(got, g, sizeof(g));
    describe(want, w, sizeof(w));
    snprintf(out, n, "%s is %s %s %s", path[0] ? path : "the body", g, mid, w);
}

static void diff(const msgpack_object *got, const msgpack_object *want, const char *path,
                 char *out, size_t n)
{
    diff_as(got, want, path, "in the log; recomputed", out, n);
}

/* The members people read first, in the order a difference in them is reported. */
static const char *const first_keys[] = {"value", "order", "record_hash", "fields", "status",
                                         "mean", "sum", "count", "coefficient", "confirmed",
                                         "deemed", NULL};

/* diff of an event's body against canonical bytes: the members above first. */
static void diff_body(const vev *e, const bo_buf *want, char *out, size_t n)
{
    vbody b;
    msgpack_zone *z = NULL;
    msgpack_object w;
    snprintf(out, n, "it differs from what the log gives");
    if (!body_open(e, &b))
        return;
    if (!bo_mp_parse(want->data, want->len, &z, &w) && w.type == MSGPACK_OBJECT_MAP) {
        bool done = false;
        for (size_t i = 0; first_keys[i] && !done; i++) {
            const msgpack_object *g = bo_mpo_get(&b.o, first_keys[i]);
            const msgpack_object *x = bo_mpo_get(&w, first_keys[i]);
            if (g && x && !msgpack_object_equal(*g, *x)) {
                diff(g, x, first_keys[i], out, n);
                done = true;
            }
        }
        if (!done)
            diff(&b.o, &w, "", out, n);
    }
    msgpack_zone_free(z);
    body_close(&b);
}

/* --------------------------------------------------------- 1. server key ---- */

static bool server_sig_ok(vctx *v, const char *ctx, const bo_buf *payload, const uint8_t *sig,
                          size_t sig_len)
{
    if (v->cert.len)
        return bo_sig_verify(v->cert.p, v->cert.len, ctx, payload->data, payload->len, sig,
                             sig_len) == BO_E_OK;
    return bo_sig_verify_spki(v->spki.p, v->spki.len, ctx, payload->data, payload->len, sig,
                              sig_len) == BO_E_OK;
}

/* The time the opening was created and the last event's, for certificate checks. */
static bo_time_ms first_ts(const vctx *v)
{
    return v->max && v->by_seq[1] ? v->by_seq[1]->te->ev.ts : 0;
}

static void check_server(vctx *v)
{
    const bo_transcript_server *s = &v->t->server;
    uint8_t fpr[32];
    char a[24], b[24], t[40];
    v->cert = s->cert;
    v->spki = s->spki;
    if (s->cert.len)
        bo_cert_fpr(s->cert.p, s->cert.len, fpr);
    else
        bo_sha256(s->spki.p, s->spki.len, fpr);
    if (memcmp(fpr, s->key_fpr, 32))
        report(v, BO_VERIFY_ERROR, "server", 0,
               "server.key_fpr %s is not the SHA-256 of the transcript's server %s (%s)",
               short_hex(s->key_fpr, 32, a), s->cert.len ? "certificate" : "key",
               short_hex(fpr, 32, b));
    if (v->o->server_key_fpr) {
        if (memcmp(v->o->server_key_fpr, s->key_fpr, 32))
            report(v, BO_VERIFY_ERROR, "server", 0,
                   "the transcript names server key %s, not the expected key %s: its server "
                   "signatures prove nothing",
                   short_hex(s->key_fpr, 32, a), short_hex(v->o->server_key_fpr, 32, b));
        else
            report(v, BO_VERIFY_PASSED, "server", 0, "the server key %s is the expected one",
                   short_hex(s->key_fpr, 32, a));
    }
    if (s->cert.len && v->o->trust) {
        bo_bytes one = s->cert;
        bo_bytes_list chain = {&one, 1};
        bo_identity id;
        char detail[256] = "";
        bo_time_ms ts = first_ts(v);
        bo_err err = bo_identity_verify(v->o->trust, &chain, NULL, ts, 0, &id, detail,
                                        sizeof(detail));
        if (err)
            report(v, BO_VERIFY_ERROR, "server", 0,
                   "the server's certificate is not valid at %s: %s (%s)", at_time(ts, t),
                   detail[0] ? detail : bo_strerror(err), bo_err_name(err));
        else
            report(v, BO_VERIFY_PASSED, "server", 0,
                   "the server's certificate (%s) is trusted at %s (issuer %s)", id.org,
                   at_time(ts, t), id.anchor);
    } else if (!s->cert.len && !v->o->server_key_fpr) {
        report(v, BO_VERIFY_UNCHECKED, "server", 0,
               "the transcript has no server certificate and no expected key was given: its "
               "key %s is taken as the transcript says; compare it with the key the operator "
               "publishes (--server-key)",
               short_hex(s->key_fpr, 32, a));
    } else if (s->cert.len && !v->o->trust) {
        report(v, BO_VERIFY_UNCHECKED, "server", 0,
               "the server's certificate was not checked: no trust store");
    }
}

/* ---------------------------------------------------------------- 2. chain ---- */

static void check_chain(vctx *v)
{
    uint64_t last = 0;
    bool whole = true;
    /* order and duplicates, in file order */
    for (size_t i = 0; i < v->n; i++) {
        vev *e = &v->evs[i];
        if (e->dup) {
            report(v, BO_VERIFY_ERROR, "chain", e->seq,
                   "the transcript holds event %llu twice",
                   (unsigned long long)e->seq);
            whole = false;
            continue;
        }
        if (e->seq < last) {
            report(v, BO_VERIFY_ERROR, "chain", e->seq,
                   "it comes after event %llu in the transcript: the events are out of order",
                   (unsigned long long)last);
            whole = false;
        }
        if (e->seq > last)
            last = e->seq;
    }
    /* missing events, by ranges */
    for (uint64_t s = 1; s <= v->max; s++) {
        if (v->by_seq[s])
            continue;
        uint64_t end = s;
        while (end < v->max && !v->by_seq[end + 1])
            end++;
        if (end == s)
            report(v, BO_VERIFY_ERROR, "chain", s,
                   "event %llu is missing: the transcript goes from event %llu to event %llu",
                   (unsigned long long)s, (unsigned long long)(s - 1),
                   (unsigned long long)(end + 1));
        else
            report(v, BO_VERIFY_ERROR, "chain", s,
                   "events %llu to %llu are missing: the transcript goes from event %llu to "
                   "event %llu",
                   (unsigned long long)s, (unsigned long long)end, (unsigned long long)(s - 1),
                   (unsigned long long)(end + 1));
        whole = false;
        s = end;
    }
    /* hashes and links, by seq */
    static const uint8_t zero[32];
    for (uint64_t s = 1; s <= v->max; s++) {
        vev *e = v->by_seq[s];
        if (!e)
            continue;
        uint8_t h[32];
        bo_event_chain_hash(v->t->oid, &e->te->ev, e->te->body_hash, h);
        if (memcmp(h, e->te->ev.hash, 32)) {
            e->hash_bad = true;
            whole = false;
            report(v, BO_VERIFY_ERROR, "chain", s,
                   "its content does not match its hash: its %s was changed after it was logged",
                   e->te->withheld ? "body hash, time, kind or audience"
                                   : "body, time, kind or audience");
        }
        const vev *p = s > 1 ? v->by_seq[s - 1] : NULL;
        if (s == 1 && memcmp(e->te->ev.prev_hash, zero, 32)) {
            e->prev_bad = true;
            whole = false;
            report(v, BO_VERIFY_ERROR, "chain", s,
                   "the first event's prev_hash is not 32 zero bytes: the log does not start "
                   "here");
        } else if (p && memcmp(e->te->ev.prev_hash, p->te->ev.hash, 32)) {
            e->prev_bad = true;
            whole = false;
            report(v, BO_VERIFY_ERROR, "chain", s,
                   "its prev_hash is not the hash of event %llu (%s): event %llu was replaced or "
                   "the chain was rebuilt from there",
                   (unsigned long long)(s - 1), kind_of(p), (unsigned long long)(s - 1));
        }
    }
    if (v->max && (!v->by_seq[1] || v->by_seq[1]->te->ev.kind != BO_EV_OPENING_CREATED)) {
        report(v, BO_VERIFY_ERROR, "chain", 1, "the log does not begin with opening_created");
        whole = false;
    }
    v->chain_whole = whole;
    if (whole)
        report(v, BO_VERIFY_PASSED, "chain", 0,
               "the hash chain of %llu events is whole: each event present once, in order, "
               "matching its hash and linked to the one before",
               (unsigned long long)v->max);
}

/* ----------------------------------------------------------------- 3. heads ---- */

static void check_heads(vctx *v)
{
    unsigned ok = 0, withheld = 0;
    uint64_t covered = 0, closed_at = 0;
    char a[24], b[24];
    for (uint64_t s = 1; s <= v->max; s++) {
        vev *e = v->by_seq[s];
        if (!e)
            continue;
        if (e->te->ev.kind == BO_EV_OPENING_CLOSED)
            closed_at = s;
        if (e->te->ev.kind != BO_EV_HEAD_SIGNED)
            continue;
        vbody bd;
        if (!body_open(e, &bd)) {
            withheld++;
            continue;
        }
        uint64_t hs = 0;
        int64_t ts = 0;
        const uint8_t *hash = NULL, *fpr = NULL, *sig = NULL;
        size_t sig_len = 0;
        if (!bo_mpo_u64(&bd.o, "seq", &hs) || !bo_mpo_i64(&bd.o, "ts", &ts) ||
            !b32(&bd.o, "hash", &hash) || !b32(&bd.o, "key_fpr", &fpr) ||
            !bbin(&bd.o, "sig", &sig, &sig_len)) {
            report(v, BO_VERIFY_ERROR, "head", s, "the signed head lacks seq, hash, ts, sig or "
                                                  "key_fpr");
            body_close(&bd);
            continue;
        }
        bool good = true;
        if (memcmp(fpr, v->t->server.key_fpr, 32)) {
            report(v, BO_VERIFY_ERROR, "head", s,
                   "it is signed by key %s, not by the server's key %s", short_hex(fpr, 32, a),
                   short_hex(v->t->server.key_fpr, 32, b));
            good = false;
        }
        const vev *h = hs && hs <= v->max ? v->by_seq[hs] : NULL;
        if (hs >= s) {
            report(v, BO_VERIFY_ERROR, "head", s,
                   "it signs event %llu, which does not come before it", (unsigned long long)hs);
            good = false;
        } else if (!h) {
            report(v, BO_VERIFY_ERROR, "head", s, "it signs event %llu, which is missing",
                   (unsigned long long)hs);
            good = false;
        } else if (memcmp(hash, h->te->ev.hash, 32)) {
            report(v, BO_VERIFY_ERROR, "head", s,
                   "it signs event %llu with hash %s, but the log's event %llu (%s) has hash %s: "
                   "the log was changed up to there after the server signed it",
                   (unsigned long long)hs, short_hex(hash, 32, a), (unsigned long long)hs,
                   kind_of(h), short_hex(h->te->ev.hash, 32, b));
            good = false;
        }
        bo_buf payload;
        bo_buf_init(&payload, 1024);
        if (bo_session_head_payload(v->t->oid, hs, hash, ts, &payload) ||
            !server_sig_ok(v, BO_CTX_HEAD, &payload, sig, sig_len)) {
            report(v, BO_VERIFY_ERROR, "head", s,
                   "the server's signature over the chain head at event %llu does not verify "
                   "with the server key %s",
                   (unsigned long long)hs, short_hex(v->t->server.key_fpr, 32, a));
            good = false;
        } else if (!ok && v->cert.len &&
                   bo_sig_verify_spki(v->spki.p, v->spki.len, BO_CTX_HEAD, payload.data,
                                      payload.len, sig, sig_len)) {
            report(v, BO_VERIFY_ERROR, "server", 0,
                   "server.spki is not the key of server.cert");
        }
        bo_buf_cleanup(&payload);
        body_close(&bd);
        if (good) {
            ok++;
            v->sum->server_sigs++;
            if (hs > covered)
                covered = hs;
        }
    }
    if (withheld)
        report(v, BO_VERIFY_UNCHECKED, "head", 0,
               "%u signed heads of the time before the deadline are withheld (supervisors "
               "only) and were not checked",
               withheld);
    uint64_t last = v->max; /* the last event a head should cover (heads need none) */
    while (last && v->by_seq[last] && v->by_seq[last]->te->ev.kind == BO_EV_HEAD_SIGNED)
        last--;
    if (closed_at) /* also where the replay cannot go (a public transcript) */
        v->sum->closed = true;
    if (closed_at && covered < closed_at)
        report(v, BO_VERIFY_ERROR, "head", closed_at,
               "no server signature covers the close: the last verified signed head covers "
               "event %llu; the end of the log may have been cut off or changed",
               (unsigned long long)covered);
    else if (covered < last)
        report(v, BO_VERIFY_UNCHECKED, "head", covered + 1,
               "events %llu to %llu come after the last verified signed head: no server "
               "signature covers them",
               (unsigned long long)(covered + 1), (unsigned long long)last);
    if (ok)
        report(v, BO_VERIFY_PASSED, "head", 0,
               "%u server signatures over the chain head verify; the last covers event %llu",
               ok, (unsigned long long)covered);
}

/* ------------------------------------------------------- 4. signatures ---- */

static reg *reg_find(vctx *v, const char *uscc)
{
    for (size_t i = 0; i < v->n_regs; i++)
        if (!strcmp(v->regs[i].uscc, uscc))
            return &v->regs[i];
    return NULL;
}

static reg *reg_get(vctx *v, const char *uscc)
{
    reg *r = reg_find(v, uscc);
    if (r)
        return r;
    reg *nv = realloc(v->regs, (v->n_regs + 1) * sizeof(*nv));
    if (!nv) {
        v->err = BO_E_NOMEM;
        return NULL;
    }
    v->regs = nv;
    r = &nv[v->n_regs++];
    memset(r, 0, sizeof(*r));
    snprintf(r->uscc, sizeof(r->uscc), "%s", uscc);
    return r;
}

static void regs_free(vctx *v)
{
    for (size_t i = 0; i < v->n_regs; i++) {
        bo_blob_list_cleanup(&v->regs[i].sign_chain);
        bo_blob_list_cleanup(&v->regs[i].enc_chain);
        bo_blob_list_cleanup(&v->regs[i].bid_chain);
    }
    free(v->regs);
}

static bool chain_copy(bo_blob_list *dst, const bo_blob_list *src)
{
    bo_blob_list_cleanup(dst);
    for (size_t i = 0; i < src->list.n; i++)
        if (bo_blob_list_push(dst, src->list.v[i].p, src->list.v[i].len))
            return false;
    return true;
}

/* The certificates against the trust store at the event's time. */
static void cert_check(vctx *v, uint64_t seq, bo_time_ms ts, const char *who,
                       const bo_bytes_list *sign, const bo_bytes_list *enc, const char *uscc)
{
    if (!v->o->trust) {
        v->uncert++;
        return;
    }
    bo_identity id;
    char detail[256] = "", t[40];
    bo_err err = bo_identity_verify(v->o->trust, sign, enc, ts, uscc ? BO_ID_REQUIRE_USCC : 0,
                                    &id, detail, sizeof(detail));
    if (err)
        report(v, BO_VERIFY_ERROR, "certificate", seq, "%s: the certificate is not valid at %s: "
                                                       "%s (%s)",
               who, at_time(ts, t), detail[0] ? detail : bo_strerror(err), bo_err_name(err));
    else if (uscc && strcmp(id.uscc, uscc))
        report(v, BO_VERIFY_ERROR, "certificate", seq,
               "%s: the certificate carries USCC %s, not %s", who, id.uscc, uscc);
}

/* Verify a participant's signature with a certificate chain's leaf and check the chain. */
static void party_sig(vctx *v, const vev *e, const char *what, const char *who,
                      const bo_blob_list *chain, const char *ctx, const bo_buf *payload,
                      const uint8_t *sig, size_t sig_len, const char *uscc)
{
    if (!chain->list.n) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "%s of %s cannot be checked: the log registers no certificate for it before",
               what, who);
        return;
    }
    const bo_bytes *leaf = &chain->list.v[0];
    if (bo_sig_verify(leaf->p, leaf->len, ctx, payload->data, payload->len, sig, sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "%s of %s does not verify with its registered signing certificate: it is "
               "forged or altered",
               what, who);
        return;
    }
    v->sum->participant_sigs++;
    char whose[400];
    snprintf(whose, sizeof(whose), "%s of %s", what, who);
    cert_check(v, e->seq, e->te->ev.ts, whose, &chain->list, NULL, uscc);
}

static void who_of(const reg *r, const char *uscc, char *out, size_t n)
{
    snprintf(out, n, "%s (%s)", uscc, r && r->org[0] ? r->org : "unregistered");
}

static void sig_registered(vctx *v, const vev *e, const msgpack_object *o)
{
    char uscc[19], org[256], who[300], nonce_s[4];
    const uint8_t *sign_fpr, *enc_fpr, *nonce, *sig;
    size_t sig_len;
    bo_blob_list sc = {{NULL, 0}}, ec = {{NULL, 0}};
    bstr(o, "uscc", uscc, sizeof(uscc));
    bstr(o, "org", org, sizeof(org));
    snprintf(who, sizeof(who), "%s (%s)", uscc, org);
    (void)nonce_s;
    if (!b32(o, "sign_fpr", &sign_fpr) || !b32(o, "enc_fpr", &enc_fpr) ||
        !b32(o, "nonce", &nonce) || !bbin(o, "sig", &sig, &sig_len) ||
        !bchain(o, "sign_chain", &sc) || !bchain(o, "enc_chain", &ec)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the registration of %s lacks its certificates, fingerprints, nonce or signature",
               who);
        goto out;
    }
    uint8_t f[32];
    bo_cert_fpr(sc.list.v[0].p, sc.list.v[0].len, f);
    if (memcmp(f, sign_fpr, 32))
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the registration of %s: sign_fpr is not the SHA-256 of its signing certificate",
               who);
    bo_cert_fpr(ec.list.v[0].p, ec.list.v[0].len, f);
    if (memcmp(f, enc_fpr, 32))
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the registration of %s: enc_fpr is not the SHA-256 of its encryption "
               "certificate",
               who);
    bo_buf p;
    bo_buf_init(&p, 4096);
    bo_sigpayload_register(&p, v->t->oid, uscc, sign_fpr, enc_fpr, nonce);
    if (bo_sig_verify(sc.list.v[0].p, sc.list.v[0].len, BO_CTX_REGISTER, p.data, p.len, sig,
                      sig_len))
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the registration of %s is not signed by the signing certificate it registers",
               who);
    else
        v->sum->participant_sigs++;
    bo_buf_cleanup(&p);
    char whose[400];
    snprintf(whose, sizeof(whose), "the registration of %s", who);
    if (v->o->trust)
        cert_check(v, e->seq, e->te->ev.ts, whose, &sc.list, &ec.list, uscc);
    else
        v->uncert++;
    reg *r = reg_get(v, uscc);
    if (r) {
        snprintf(r->org, sizeof(r->org), "%s", org);
        memcpy(r->sign_fpr, sign_fpr, 32);
        if (!chain_copy(&r->sign_chain, &sc) || !chain_copy(&r->enc_chain, &ec))
            v->err = BO_E_NOMEM;
    }
out:
    bo_blob_list_cleanup(&sc);
    bo_blob_list_cleanup(&ec);
}

static void sig_signed_in(vctx *v, const vev *e, const msgpack_object *o)
{
    char uscc[19], who[300];
    const uint8_t *fpr, *nonce, *sig;
    size_t sig_len;
    bstr(o, "uscc", uscc, sizeof(uscc));
    reg *r = reg_find(v, uscc);
    who_of(r, uscc, who, sizeof(who));
    if (!b32(o, "fpr", &fpr) || !b32(o, "nonce", &nonce) || !bbin(o, "sig", &sig, &sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq, "the sign-in of %s lacks fpr, nonce or "
                                                        "sig",
               who);
        return;
    }
    if (r && memcmp(fpr, r->sign_fpr, 32)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the sign-in of %s names a certificate other than its registered one", who);
        return;
    }
    bo_buf p;
    bo_buf_init(&p, 4096);
    bo_sigpayload_signin(&p, v->t->oid, uscc, nonce);
    static const bo_blob_list none = {{NULL, 0}};
    party_sig(v, e, "the sign-in", who, r ? &r->sign_chain : &none, BO_CTX_SIGNIN, &p, sig,
              sig_len, uscc);
    bo_buf_cleanup(&p);
}

static void sig_submitted(vctx *v, const vev *e, const msgpack_object *o)
{
    char uscc[19], who[300];
    const uint8_t *hash, *commit, *sig;
    size_t sig_len;
    uint64_t size;
    int64_t ts;
    bstr(o, "uscc", uscc, sizeof(uscc));
    reg *r = reg_find(v, uscc);
    who_of(r, uscc, who, sizeof(who));
    if (!b32(o, "hash", &hash) || !b32(o, "commit", &commit) || !bo_mpo_u64(o, "size", &size) ||
        !bo_mpo_i64(o, "ts", &ts) || !bbin(o, "receipt_sig", &sig, &sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq, "the submission of %s lacks its receipt",
               who);
        return;
    }
    bo_buf p;
    bo_buf_init(&p, 4096);
    bo_sigpayload_receipt(&p, v->t->oid, uscc, hash, size, commit, ts);
    if (!server_sig_ok(v, BO_CTX_RECEIPT, &p, sig, sig_len))
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the receipt of %s's bid is not signed by the server key", who);
    else
        v->sum->server_sigs++;
    bo_buf_cleanup(&p);
    if (r && !chain_copy(&r->bid_chain, &r->sign_chain))
        v->err = BO_E_NOMEM;
}

static void sig_request(vctx *v, const vev *e, const msgpack_object *o)
{
    char uscc[19], req[40], who[300];
    const uint8_t *bid, *ri, *spub, *sig;
    size_t ri_len, sig_len;
    int64_t ends_at;
    bstr(o, "uscc", uscc, sizeof(uscc));
    bstr(o, "req", req, sizeof(req));
    who_of(reg_find(v, uscc), uscc, who, sizeof(who));
    if (!b32(o, "bid", &bid) || !bbin(o, "ri", &ri, &ri_len) || !b32(o, "server_pub", &spub) ||
        !bo_mpo_i64(o, "ends_at", &ends_at) || !bbin(o, "sig", &sig, &sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq, "the decryption request for %s lacks "
                                                        "its members",
               who);
        return;
    }
    uint8_t ri_hash[32];
    bo_sha256(ri, ri_len, ri_hash);
    bo_buf p;
    bo_buf_init(&p, 4096);
    bo_sigpayload_decrypt_request(&p, v->t->oid, uscc, req, bid, ri_hash, spub, ends_at);
    if (!server_sig_ok(v, BO_CTX_DECRYPT_REQUEST, &p, sig, sig_len))
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the decryption request for %s is not signed by the server key", who);
    else
        v->sum->server_sigs++;
    bo_buf_cleanup(&p);
}

static void sig_diag(vctx *v, const vev *e, const msgpack_object *o)
{
    char uscc[19], req[40], stage[32], error[1024], who[300];
    const uint8_t *cert_fpr, *sig;
    size_t sig_len;
    bstr(o, "uscc", uscc, sizeof(uscc));
    reg *r = reg_find(v, uscc);
    who_of(r, uscc, who, sizeof(who));
    if (!b32(o, "cert_fpr", &cert_fpr) || !bbin(o, "sig", &sig, &sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq, "the diagnostics of %s lack their "
                                                        "signature",
               who);
        return;
    }
    bo_buf p;
    bo_buf_init(&p, 8192);
    bo_sigpayload_decrypt_diag(&p, v->t->oid, uscc, bstr(o, "req", req, sizeof(req)),
                               bstr(o, "stage", stage, sizeof(stage)),
                               bstr(o, "error", error, sizeof(error)), cert_fpr);
    static const bo_blob_list none = {{NULL, 0}};
    party_sig(v, e, "the decryption diagnostics", who, r ? &r->bid_chain : &none,
              BO_CTX_DECRYPT_DIAG, &p, sig, sig_len, uscc);
    bo_buf_cleanup(&p);
}

static unsigned sig_decrypted(vctx *v, const vev *e, const msgpack_object *o)
{
    char uscc[19], req[40], who[300];
    const uint8_t *bid, *cpub, *wrapped, *sig;
    size_t wrapped_len, sig_len;
    bstr(o, "uscc", uscc, sizeof(uscc));
    reg *r = reg_find(v, uscc);
    who_of(r, uscc, who, sizeof(who));
    const msgpack_object *resp = bo_mpo_get(o, "resp");
    if (!resp)
        return 1; /* no evidence recorded */
    if (!b32(o, "bid", &bid) || resp->type != MSGPACK_OBJECT_MAP ||
        !b32(resp, "client_pub", &cpub) || !bbin(resp, "wrapped", &wrapped, &wrapped_len) ||
        !bbin(resp, "sig", &sig, &sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the decryption response of %s (bid_decrypted.resp) lacks its members", who);
        return 0;
    }
    bo_buf p;
    bo_buf_init(&p, 4096);
    bo_sigpayload_decrypt_response(&p, v->t->oid, uscc, bstr(resp, "req", req, sizeof(req)), bid,
                                   cpub, wrapped, wrapped_len);
    if (v->t->kind == BO_TRANSCRIPT_PUBLIC) {
        bo_buf_cleanup(&p);
        return 2; /* no certificate to check it with */
    }
    static const bo_blob_list none = {{NULL, 0}};
    party_sig(v, e, "the decryption response", who, r ? &r->bid_chain : &none,
              BO_CTX_DECRYPT_RESPONSE, &p, sig, sig_len, uscc);
    bo_buf_cleanup(&p);
    return 0;
}

/* confirm and objection: both over the record_hash the bidder saw. */
static void sig_decision(vctx *v, const vev *e, const msgpack_object *o, bool objection)
{
    char uscc[19], who[300], text[8192];
    const uint8_t *rh, *sig;
    size_t sig_len;
    bstr(o, "uscc", uscc, sizeof(uscc));
    reg *r = reg_find(v, uscc);
    who_of(r, uscc, who, sizeof(who));
    if (!b32(o, "record_hash", &rh) || !bbin(o, "sig", &sig, &sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq, "the %s of %s lacks record_hash or sig",
               objection ? "objection" : "confirmation", who);
        return;
    }
    bo_buf p;
    bo_buf_init(&p, 16384);
    if (objection)
        bo_sigpayload_objection(&p, v->t->oid, uscc, rh, bstr(o, "text", text, sizeof(text)));
    else
        bo_sigpayload_confirm(&p, v->t->oid, uscc, rh);
    static const bo_blob_list none = {{NULL, 0}};
    party_sig(v, e, objection ? "the objection" : "the confirmation", who,
              r ? &r->sign_chain : &none, objection ? BO_CTX_OBJECTION : BO_CTX_CONFIRM, &p, sig,
              sig_len, uscc);
    bo_buf_cleanup(&p);
}

static void sig_answer(vctx *v, const vev *e, const msgpack_object *o, unsigned *no_cert)
{
    uint64_t n;
    char text[8192], a[24];
    const uint8_t *fpr, *sig;
    size_t sig_len;
    if (!bo_mpo_u64(o, "n", &n) || !b32(o, "host_fpr", &fpr) || !bbin(o, "sig", &sig, &sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq, "the answer lacks n, host_fpr or sig");
        return;
    }
    const bo_bytes *hc = &v->o->host_cert;
    uint8_t hf[32];
    if (hc->len)
        bo_cert_fpr(hc->p, hc->len, hf);
    if (!hc->len || memcmp(hf, fpr, 32)) {
        if (!*no_cert)
            report(v, BO_VERIFY_UNCHECKED, "signature", e->seq,
                   "the host's answers to objections cannot be checked: the log names the host "
                   "by its certificate's fingerprint (%s) but does not carry the certificate; "
                   "give it with --host-cert",
                   short_hex(fpr, 32, a));
        (*no_cert)++;
        return;
    }
    bo_buf p;
    bo_buf_init(&p, 16384);
    bo_sigpayload_answer(&p, v->t->oid, n, bstr(o, "text", text, sizeof(text)));
    if (bo_sig_verify(hc->p, hc->len, BO_CTX_ANSWER, p.data, p.len, sig, sig_len)) {
        report(v, BO_VERIFY_ERROR, "signature", e->seq,
               "the host's answer to objection %llu does not verify with the host's "
               "certificate: it is forged or altered",
               (unsigned long long)n);
    } else {
        v->sum->participant_sigs++;
        bo_bytes one = *hc;
        bo_bytes_list chain = {&one, 1};
        char whose[64];
        snprintf(whose, sizeof(whose), "the host's answer to objection %llu",
                 (unsigned long long)n);
        cert_check(v, e->seq, e->te->ev.ts, whose, &chain, NULL, NULL);
    }
    bo_buf_cleanup(&p);
}

static void check_signatures(vctx *v)
{
    unsigned unsigned_resp = 0, no_cert_resp = 0, no_cert_pub = 0, no_host = 0;
    unsigned before_p = v->sum->participant_sigs, before_s = v->sum->server_sigs;
    unsigned errors = v->sum->errors;
    for (uint64_t s = 1; s <= v->max && !v->err; s++) {
        const vev *e = v->by_seq[s];
        vbody b;
        if (!e || !body_open(e, &b))
            continue;
        bool pub = v->t->kind == BO_TRANSCRIPT_PUBLIC;
        switch (e->te->ev.kind) {
        case BO_EV_BIDDER_REGISTERED:
            sig_registered(v, e, &b.o);
            break;
        case BO_EV_BIDDER_SIGNED_IN:
        case BO_EV_BIDDER_CONFIRMED:
        case BO_EV_OBJECTION:
            if (pub) {
                no_cert_pub++;
                break;
            }
            if (e->te->ev.kind == BO_EV_BIDDER_SIGNED_IN)
                sig_signed_in(v, e, &b.o);
            else
                sig_decision(v, e, &b.o, e->te->ev.kind == BO_EV_OBJECTION);
            break;
        case BO_EV_BID_SUBMITTED:
            sig_submitted(v, e, &b.o);
            break;
        case BO_EV_DECRYPT_REQUEST:
            sig_request(v, e, &b.o);
            break;
        case BO_EV_DECRYPT_DIAGNOSTIC:
            sig_diag(v, e, &b.o);
            break;
        case BO_EV_BID_DECRYPTED: {
            unsigned k = sig_decrypted(v, e, &b.o);
            unsigned_resp += k == 1;
            no_cert_resp += k == 2;
            break;
        }
        case BO_EV_OBJECTION_ANSWERED:
            sig_answer(v, e, &b.o, &no_host);
            break;
        default:
            break;
        }
        body_close(&b);
    }
    if (unsigned_resp)
        report(v, BO_VERIFY_UNCHECKED, "signature", 0,
               "%u decrypted bids carry no decryption response (bid_decrypted.resp): the "
               "bidders' part in opening them cannot be checked",
               unsigned_resp);
    if (no_cert_pub || no_cert_resp)
        report(v, BO_VERIFY_UNCHECKED, "signature", 0,
               "%u participant signatures (sign-ins, decryption responses, confirmations, "
               "objections) were not checked: a public transcript does not carry the bidders' "
               "certificates (bidder_registered is private)",
               no_cert_pub + no_cert_resp);
    if (no_host > 1)
        report(v, BO_VERIFY_UNCHECKED, "signature", 0,
               "%u answers to objections were not checked: no host certificate", no_host);
    if (v->uncert)
        report(v, BO_VERIFY_UNCHECKED, "certificate", 0,
               "%u certificates were not checked against a trust store (none given)", v->uncert);
    if (v->sum->errors == errors &&
        (v->sum->participant_sigs > before_p || v->sum->server_sigs > before_s))
        report(v, BO_VERIFY_PASSED, "signature", 0,
               "%u participant signatures and %u receipts and decryption requests of the "
               "server verify%s",
               v->sum->participant_sigs - before_p, v->sum->server_sigs - before_s,
               v->o->trust && !v->uncert ? ", with certificates valid at each event's time" : "");
}

/* ---------------------------------------------------------------- 5. replay ---- */

/* Why fold refused e, in one sentence (the state is as just before e). */
static void diagnose(vctx *v, const bo_session *s, const vev *e, char *out, size_t n)
{
    bo_buf want;
    bo_buf_init(&want, SIZE_MAX / 4);
    vbody b;
    bool have = body_open(e, &b);
    char a[24], c[24], t[160];
    const uint8_t *p;
    snprintf(out, n, "it does not follow from the events before it (the opening is %s%s)",
             bo_phase_name(s->phase), s->paused ? ", paused" : "");
    switch (e->te->ev.kind) {
    case BO_EV_BID_ANNOUNCED: {
        const bo__bidder *next = NULL;
        if (bo__announce_next(s, &next) || !next) {
            snprintf(out, n, "no bid is left to announce at this point");
            break;
        }
        if (!bo__body_announced(s, next, s->announced + 1, &want)) {
            diff_body(e, &want, t, sizeof(t));
            snprintf(out, n, "the announcement is not what the log gives for %s (%s): %s",
                     next->uscc, next->org, t);
        }
        break;
    }
    case BO_EV_DRAW_RESULT: {
        char id[40];
        const bo_tender_draw *d = have ? bo_tender_draw_find(&s->tender,
                                                             bstr(&b.o, "id", id, sizeof(id)))
                                       : NULL;
        uint8_t commit[32];
        if (have && b32(&b.o, "seed", &p)) {
            bo_sha256(p, 32, commit);
            if (memcmp(commit, s->seed_commit, 32)) {
                snprintf(out, n,
                         "the SHA-256 of its seed is %s, not the seed_commit %s of "
                         "opening_created: the seed is not the one the server committed to",
                         short_hex(commit, 32, a), short_hex(s->seed_commit, 32, c));
                break;
            }
            if (d && !bo__body_draw(s, d, p, &want)) {
                diff_body(e, &want, t, sizeof(t));
                snprintf(out, n, "the draw is not what its seed and the valid bids give: %s", t);
            }
        }
        break;
    }
    case BO_EV_BENCHMARK_PRICE:
        if (!bo__body_benchmark(s, &want, NULL, 0)) {
            diff_body(e, &want, t, sizeof(t));
            snprintf(out, n, "the benchmark price is not what the announced bids give: %s", t);
        }
        break;
    case BO_EV_CONFIRMATION_OPENED: {
        uint8_t h[32];
        if (have && b32(&b.o, "record_hash", &p) && !bo__record_hash(s, NULL, h) &&
            memcmp(h, p, 32))
            snprintf(out, n,
                     "its record_hash %s is not the hash of the record as it stands, "
                     "recomputed %s",
                     short_hex(p, 32, a), short_hex(h, 32, c));
        break;
    }
    case BO_EV_BIDDER_CONFIRMED:
    case BO_EV_OBJECTION:
        if (have && b32(&b.o, "record_hash", &p) && s->conf.opened &&
            memcmp(p, s->conf.record_hash, 32))
            snprintf(out, n,
                     "it signs record_hash %s, not the %s the confirmation window opened with",
                     short_hex(p, 32, a), short_hex(s->conf.record_hash, 32, c));
        break;
    case BO_EV_CONFIRMATION_WINDOW_CLOSED:
        if (!bo__body_window_closed(s, &want)) {
            diff_body(e, &want, t, sizeof(t));
            snprintf(out, n, "the bidders deemed to accept are not the log's: %s", t);
        }
        break;
    case BO_EV_OPENING_CLOSED:
        if (!bo__body_closed(s, e->te->ev.ts, &want)) {
            diff_body(e, &want, t, sizeof(t));
            snprintf(out, n, "the close is not what the log gives: %s%s", t,
                     strstr(t, "record_hash") ? " (the final record recomputed from the log has "
                                                "another hash)"
                                              : "");
        }
        break;
    default:
        break;
    }
    if (have)
        body_close(&b);
    bo_buf_cleanup(&want);
}

static void replay(vctx *v)
{
    if (v->t->kind != BO_TRANSCRIPT_FULL || !v->max)
        return;
    bo_err err;
    bo_session *s = bo_session_new(v->t->oid, &err);
    if (!s) {
        v->err = err;
        return;
    }
    uint64_t seq = 1;
    char why[1024];
    for (; seq <= v->max; seq++) {
        vev *e = v->by_seq[seq];
        if (!e || e->hash_bad || e->prev_bad) {
            report(v, BO_VERIFY_UNCHECKED, "replay", seq,
                   "events %llu to %llu were not replayed: the chain is broken at event %llu "
                   "(above)",
                   (unsigned long long)seq, (unsigned long long)v->max, (unsigned long long)seq);
            break;
        }
        if (e->te->withheld) {
            report(v, BO_VERIFY_ERROR, "replay", seq,
                   "its body is withheld in a transcript that says it is full: events %llu to "
                   "%llu were not replayed",
                   (unsigned long long)seq, (unsigned long long)v->max);
            break;
        }
        bo_event ev;
        if ((err = bo_event_copy(&ev, &e->te->ev))) {
            v->err = err;
            break;
        }
        err = bo_session_fold(s, &ev);
        bo_event_cleanup(&ev);
        if (err == BO_E_NOMEM) {
            v->err = err;
            break;
        }
        if (err) {
            diagnose(v, s, e, why, sizeof(why));
            v->diagnosed = seq;
            report(v, BO_VERIFY_ERROR, "replay", seq,
                   "the state machine refuses it: %s; events %llu to %llu were not replayed",
                   why, (unsigned long long)seq, (unsigned long long)v->max);
            break;
        }
    }
    if (seq <= v->max) {
        v->replay_stop = seq;
        bo_session_free(s);
        return;
    }
    v->sum->replayed = true;
    bo_buf rec;
    bo_buf_init(&rec, SIZE_MAX / 4);
    err = bo_session_record(s, &rec);
    if (!err) {
        bo_sha256(rec.data, rec.len, v->sum->record_hash);
        v->sum->has_record = true;
    }
    uint8_t closed[32], conf[32];
    char a[24], c[24];
    /* the record the bidders signed, derived from the final one as anyone holding only the
     * record would (bo_record_confirmable), is the one the window opened with */
    if (!err && bo_session_confirm_hash(s, conf)) {
        bo_buf d;
        bo_buf_init(&d, SIZE_MAX / 4);
        uint8_t dh[32];
        if (bo_record_confirmable(rec.data, rec.len, &d) ||
            bo_sigpayload_record_hash(d.data, d.len, dh) || memcmp(dh, conf, 32))
            report(v, BO_VERIFY_ERROR, "record", 0,
                   "the record the bidders confirmed (%s, confirmation_opened) cannot be derived "
                   "from the recomputed final record",
                   short_hex(conf, 32, a));
        bo_buf_cleanup(&d);
    }
    bo_buf_cleanup(&rec);
    report(v, BO_VERIFY_PASSED, "replay", 0,
           "the state machine replays all %llu events: every announcement, draw, benchmark "
           "price and record hash in the log is what the events before it give",
           (unsigned long long)v->max);
    if (bo_session_closed_hash(s, closed)) {
        v->sum->closed = true;
        bool conf_ok = bo_session_confirm_hash(s, conf);
        report(v, BO_VERIFY_PASSED, "record", 0,
               "the record recomputed from the log has SHA-256 %s, the record_hash of "
               "opening_closed; the confirmations and objections sign %s, the hash of the "
               "record as it stood when the confirmation window opened",
               short_hex(closed, 32, a), conf_ok ? short_hex(conf, 32, c) : "nothing");
    } else if (v->sum->has_record) {
        report(v, BO_VERIFY_PASSED, "record", 0,
               "the record recomputed from the log (opening %s, not closed) has SHA-256 %s",
               bo_phase_name(bo_session_phase(s)), short_hex(v->sum->record_hash, 32, a));
    }
    bo_session_free(s);
}

/* ------------------------------------------------- 6. recomputed in public ---- */

/* A bid as announced. */
typedef struct ann {
    char uscc[19];
    char org[256];
    bool valid;
    bo_buf fields;     /* canonical map */
    bo_buf signin_sig;
    uint8_t commit[32];
    uint64_t seq;
} ann;

typedef struct pubstate {
    bo_tender *tender;
    uint8_t seed_commit[32];
    bool has_created;
    uint64_t opened; /* bidders_revealed.count */
    bool revealed;
    ann *a;
    size_t n;
} pubstate;

static void pub_free(pubstate *p)
{
    for (size_t i = 0; i < p->n; i++) {
        bo_buf_cleanup(&p->a[i].fields);
        bo_buf_cleanup(&p->a[i].signin_sig);
    }
    free(p->a);
    free(p->tender);
}

static int ann_by_uscc(const void *x, const void *y)
{
    return strcmp(((const ann *)x)->uscc, ((const ann *)y)->uscc);
}

/* Reads opening_created, bidders_revealed and every bid_announced. */
static bo_err pub_gather(vctx *v, pubstate *p)
{
    memset(p, 0, sizeof(*p));
    for (uint64_t s = 1; s <= v->max; s++) {
        const vev *e = v->by_seq[s];
        vbody b;
        if (!e || !body_open(e, &b))
            continue;
        bo_err err = BO_E_OK;
        const uint8_t *x;
        size_t xn;
        switch (e->te->ev.kind) {
        case BO_EV_OPENING_CREATED: {
            const msgpack_object *t = bo_mpo_get(&b.o, "tender");
            bo_buf tb;
            bo_buf_init(&tb, 1u << 20);
            p->tender = p->tender ? p->tender : malloc(sizeof(*p->tender));
            if (!p->tender)
                err = BO_E_NOMEM;
            else if (t && !bo_mp_canonical(&tb, t) &&
                     !bo_tender_decode_stored(tb.data, tb.len, p->tender) &&
                     b32(&b.o, "seed_commit", &x)) {
                memcpy(p->seed_commit, x, 32);
                p->has_created = true;
            }
            bo_buf_cleanup(&tb);
            break;
        }
        case BO_EV_BIDDERS_REVEALED:
            p->revealed = bo_mpo_u64(&b.o, "count", &p->opened);
            break;
        case BO_EV_BID_ANNOUNCED: {
            ann *na = realloc(p->a, (p->n + 1) * sizeof(*na));
            if (!na) {
                err = BO_E_NOMEM;
                break;
            }
            p->a = na;
            ann *a = &na[p->n++];
            memset(a, 0, sizeof(*a));
            bo_buf_init(&a->fields, 1u << 20);
            bo_buf_init(&a->signin_sig, 4096);
            char st[16];
            bstr(&b.o, "uscc", a->uscc, sizeof(a->uscc));
            bstr(&b.o, "org", a->org, sizeof(a->org));
            a->valid = !strcmp(bstr(&b.o, "status", st, sizeof(st)), "valid");
            a->seq = s;
            const msgpack_object *f = bo_mpo_get(&b.o, "fields");
            if (f && f->type == MSGPACK_OBJECT_MAP)
                err = bo_mp_canonical(&a->fields, f);
            if (!err && bbin(&b.o, "signin_sig", &x, &xn))
                err = bo_buf_append(&a->signin_sig, x, xn);
            if (b32(&b.o, "commit", &x))
                memcpy(a->commit, x, 32);
            break;
        }
        default:
            break;
        }
        body_close(&b);
        if (err)
            return err;
    }
    if (p->n > 1)
        qsort(p->a, p->n, sizeof(*p->a), ann_by_uscc);
    return BO_E_OK;
}

/* Whether every opened bid was announced (validity is then known for all). */
static bool all_announced(const pubstate *p)
{
    return p->revealed && p->n == p->opened;
}

static bo_err pub_inputs(const pubstate *p, uint8_t out[32])
{
    unsigned k = 0;
    for (size_t i = 0; i < p->n; i++)
        k += p->a[i].valid;
    bo_buf b;
    bo_buf_init(&b, SIZE_MAX / 4);
    bo_err err = bo_mp_array_header(&b, k);
    for (size_t i = 0; i < p->n && !err; i++) {
        const ann *a = &p->a[i];
        if (!a->valid)
            continue;
        err = bo_mp_array_header(&b, 3);
        if (!err)
            err = bo_mp_str(&b, a->uscc, strlen(a->uscc));
        if (!err)
            err = bo_mp_bin(&b, a->signin_sig.data, a->signin_sig.len);
        if (!err)
            err = bo_mp_bin(&b, a->commit, 32);
    }
    if (!err)
        bo_sha256(b.data, b.len, out);
    bo_buf_cleanup(&b);
    return err;
}

/* The draw_result body recomputed from its seed and the announced valid bids (the same
 * derivation as the session's, bo__draw_body). */
static bo_err pub_draw_body(const vctx *v, const pubstate *p, const bo_tender_draw *d,
                            const uint8_t seed[32], bo_buf *out)
{
    uint8_t inputs[32];
    bo_err err = pub_inputs(p, inputs);
    if (err)
        return err;
    const char **valid = calloc(p->n + 1, sizeof(*valid));
    if (!valid)
        return BO_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->a[i].valid)
            valid[n++] = p->a[i].uscc;
    err = bo__draw_body(v->t->oid, d, seed, inputs, valid, n, out);
    free(valid);
    return err;
}

typedef struct pprice {
    const ann *a;
    bo_decimal v;
    char text[BO_DECIMAL_TEXT_MAX + 1];
    bool dropped;
} pprice;

static int pprice_by_value(const void *x, const void *y)
{
    const pprice *a = x, *b = y;
    int c = bo_decimal_cmp(&a->v, &b->v);
    return c ? c : strcmp(a->a->uscc, b->a->uscc);
}

static int pprice_by_uscc(const void *x, const void *y)
{
    return strcmp(((const pprice *)x)->a->uscc, ((const pprice *)y)->a->uscc);
}

/* The form value of key in an announced bid's fields. */
static bool ann_value(const ann *a, const char *key, char *out, size_t n)
{
    msgpack_zone *z = NULL;
    msgpack_object o;
    char tmp[1100];
    bool ok = a->fields.len && !bo_mp_parse(a->fields.data, a->fields.len, &z, &o) &&
              bstr(&o, key, tmp, sizeof(tmp))[0] && strlen(tmp) < n;
    if (ok)
        snprintf(out, n, "%s", tmp);
    msgpack_zone_free(z);
    return ok;
}

/* The benchmark_price body recomputed from the announced valid bids (coefficient: the
 * draw's value, given). */
static bo_err pub_benchmark_body(const pubstate *p, const bo_decimal *coef, bo_buf *out)
{
    const bo_tender_benchmark *bm = &p->tender->benchmark;
    pprice *v = calloc(p->n + 1, sizeof(*v));
    if (!v)
        return BO_E_NOMEM;
    unsigned k = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->a[i].valid)
            continue;
        v[k].a = &p->a[i];
        if (!ann_value(&p->a[i], bm->field, v[k].text, sizeof(v[k].text)) ||
            bo_decimal_parse(v[k].text, strlen(v[k].text), &v[k].v)) {
            free(v);
            return BO_E_BAD_FIELD;
        }
        k++;
    }
    if (bm->trim && k >= bm->trim_min && k > 2 * bm->trim) {
        qsort(v, k, sizeof(*v), pprice_by_value);
        for (unsigned i = 0; i < bm->trim; i++)
            v[i].dropped = v[k - 1 - i].dropped = true;
        qsort(v, k, sizeof(*v), pprice_by_uscc);
    }
    bo_decimal sum = bo_decimal_from_int(0), mean, value, scaled;
    unsigned kept = 0;
    bo_err err = BO_E_OK;
    for (unsigned i = 0; i < k && !err; i++)
        if (!v[i].dropped) {
            err = bo_decimal_add(&sum, &v[i].v, &sum);
            kept++;
        }
    if (!err && !kept)
        err = BO_E_BAD_FIELD;
    if (!err)
        err = bo_decimal_div_int(&sum, kept, 6, bm->rounding, &mean);
    if (!err)
        err = bo_decimal_mul(&sum, coef, &scaled);
    if (!err)
        err = bo_decimal_div_int(&scaled, kept, bm->places, bm->rounding, &value);
    char s_value[BO_DECIMAL_STR_MAX], s_mean[BO_DECIMAL_STR_MAX], s_sum[BO_DECIMAL_STR_MAX],
        s_coef[BO_DECIMAL_STR_MAX];
    if (!err)
        err = bo_decimal_format(&value, s_value, sizeof(s_value));
    if (!err)
        err = bo_decimal_format(&mean, s_mean, sizeof(s_mean));
    if (!err)
        err = bo_decimal_canonical(&sum, s_sum, sizeof(s_sum));
    if (!err)
        err = bo_decimal_canonical(coef, s_coef, sizeof(s_coef));
    bo_buf in, drop, rule;
    bo_buf_init(&in, SIZE_MAX / 4);
    bo_buf_init(&drop, SIZE_MAX / 4);
    bo_buf_init(&rule, SIZE_MAX / 4);
    unsigned nd = 0;
    for (unsigned i = 0; i < k; i++)
        nd += v[i].dropped;
    if (!err)
        err = bo_mp_array_header(&in, k);
    if (!err)
        err = bo_mp_array_header(&drop, nd);
    for (unsigned i = 0; i < k && !err; i++) {
        bo_mpmap *e = bo_mpmap_new(&err);
        if (!e)
            break;
        bo_mpmap_str(e, "uscc", v[i].a->uscc);
        bo_mpmap_str(e, "value", v[i].text);
        err = bo_mpmap_finish(e, &in);
        bo_mpmap_free(e);
        if (!err && v[i].dropped)
            err = bo_mp_str(&drop, v[i].a->uscc, strlen(v[i].a->uscc));
    }
    if (!err)
        err = bo_tender_encode_benchmark(p->tender, &rule);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        bo_mpmap_str(m, "value", s_value);
        bo_mpmap_str(m, "mean", s_mean);
        bo_mpmap_str(m, "sum", s_sum);
        bo_mpmap_u64(m, "count", kept);
        bo_mpmap_str(m, "coefficient", s_coef);
        bo_mpmap_raw(m, "inputs", in.data, in.len);
        bo_mpmap_raw(m, "dropped", drop.data, drop.len);
        bo_mpmap_raw(m, "rule", rule.data, rule.len);
        err = bo_mpmap_finish(m, out);
        bo_mpmap_free(m);
    }
    bo_buf_cleanup(&in);
    bo_buf_cleanup(&drop);
    bo_buf_cleanup(&rule);
    free(v);
    return err;
}

/* The coefficient of the benchmark: fixed, or the value of the draw in the log. */
static bool pub_coefficient(vctx *v, const pubstate *p, bo_decimal *out)
{
    const bo_tender_benchmark *bm = &p->tender->benchmark;
    if (!bm->coef_draw) {
        *out = bm->coefficient;
        return true;
    }
    for (uint64_t s = 1; s <= v->max; s++) {
        const vev *e = v->by_seq[s];
        vbody b;
        if (!e || e->te->ev.kind != BO_EV_DRAW_RESULT || !body_open(e, &b))
            continue;
        char id[40], val[64];
        bool ok = !strcmp(bstr(&b.o, "id", id, sizeof(id)), bm->coef_id) &&
                  bstr(&b.o, "value", val, sizeof(val))[0] &&
                  !bo_decimal_parse(val, strlen(val), out);
        body_close(&b);
        if (ok)
            return true;
    }
    return false;
}

/* Each valid bid's announcement against its opening form (bid_form, full transcripts). */
static void pub_forms(vctx *v, const pubstate *p, uint64_t from, unsigned *checked)
{
    for (uint64_t s = 1; s <= v->max; s++) {
        const vev *e = v->by_seq[s];
        vbody b;
        if (!e || e->te->ev.kind != BO_EV_BID_FORM || !body_open(e, &b))
            continue;
        char uscc[19];
        bstr(&b.o, "uscc", uscc, sizeof(uscc));
        const msgpack_object *form = bo_mpo_get(&b.o, "form");
        const ann *a = NULL;
        for (size_t i = 0; i < p->n && !a; i++)
            if (!strcmp(p->a[i].uscc, uscc))
                a = &p->a[i];
        if (a && a->valid && form && form->type == MSGPACK_OBJECT_MAP &&
            (a->seq >= from || s >= from) && a->seq != v->diagnosed) {
            msgpack_zone *z = NULL;
            msgpack_object fo;
            char t[400];
            if (!bo_mp_parse(a->fields.data, a->fields.len, &z, &fo)) {
                if (!msgpack_object_equal(fo, *form)) {
                    diff_as(&fo, form, "fields", "as announced; the opening form says", t,
                            sizeof(t));
                    report(v, BO_VERIFY_ERROR, "announcement", a->seq,
                           "the announcement of %s (%s) is not its opening form (bid_form, "
                           "event %llu): %s",
                           a->uscc, a->org, (unsigned long long)s, t);
                } else {
                    (*checked)++;
                }
            }
            msgpack_zone_free(z);
        }
        body_close(&b);
    }
}

static void public_checks(vctx *v)
{
    /* from: the first event the replay did not vouch for */
    uint64_t from = v->t->kind == BO_TRANSCRIPT_PUBLIC ? 1 : v->replay_stop;
    if (!from || !v->max)
        return;
    pubstate p;
    bo_err err = pub_gather(v, &p);
    if (err || !p.has_created) {
        if (err)
            v->err = err;
        else
            report(v, BO_VERIFY_UNCHECKED, "draw", 0,
                   "the draws and the benchmark price were not recomputed: no readable "
                   "opening_created");
        pub_free(&p);
        return;
    }
    unsigned draws = 0, forms = 0, bench = 0;
    char t[400], a[24], c[24];
    for (uint64_t s = from; s <= v->max; s++) {
        const vev *e = v->by_seq[s];
        vbody b;
        if (!e || s == v->diagnosed || !body_open(e, &b))
            continue;
        bo_buf want;
        bo_buf_init(&want, SIZE_MAX / 4);
        if (e->te->ev.kind == BO_EV_DRAW_RESULT) {
            char id[40];
            const uint8_t *seed;
            const bo_tender_draw *d = bo_tender_draw_find(p.tender, bstr(&b.o, "id", id, sizeof(id)));
            uint8_t commit[32];
            if (!d || !b32(&b.o, "seed", &seed)) {
                report(v, BO_VERIFY_ERROR, "draw", s, "it names no draw of the tender, or no seed");
            } else if (bo_sha256(seed, 32, commit), memcmp(commit, p.seed_commit, 32)) {
                report(v, BO_VERIFY_ERROR, "draw", s,
                       "the SHA-256 of its seed is %s, not the seed_commit %s of "
                       "opening_created: the seed is not the one the server committed to",
                       short_hex(commit, 32, a), short_hex(p.seed_commit, 32, c));
            } else if (!all_announced(&p)) {
                report(v, BO_VERIFY_UNCHECKED, "draw", s,
                       "the draw %s matches its seed commitment, but its result was not "
                       "recomputed: not every opened bid was announced",
                       d->id);
            } else if (!pub_draw_body(v, &p, d, seed, &want)) {
                if (want.len != e->te->ev.body_len ||
                    memcmp(want.data, e->te->ev.body, want.len)) {
                    diff_body(e, &want, t, sizeof(t));
                    report(v, BO_VERIFY_ERROR, "draw", s,
                           "the draw %s is not what its seed and the announced valid bids "
                           "give: %s",
                           d->id, t);
                } else {
                    draws++;
                }
            }
        } else if (e->te->ev.kind == BO_EV_BENCHMARK_PRICE) {
            bo_decimal coef;
            if (!p.tender->benchmark.present) {
                report(v, BO_VERIFY_ERROR, "benchmark", s, "the tender has no benchmark price");
            } else if (!all_announced(&p) || !pub_coefficient(v, &p, &coef)) {
                report(v, BO_VERIFY_UNCHECKED, "benchmark", s,
                       "the benchmark price was not recomputed: not every bid was announced, "
                       "or its coefficient draw is not in the log");
            } else if (!pub_benchmark_body(&p, &coef, &want)) {
                if (want.len != e->te->ev.body_len ||
                    memcmp(want.data, e->te->ev.body, want.len)) {
                    diff_body(e, &want, t, sizeof(t));
                    report(v, BO_VERIFY_ERROR, "benchmark", s,
                           "the benchmark price is not what the announced bids give: %s", t);
                } else {
                    bench++;
                }
            } else {
                report(v, BO_VERIFY_ERROR, "benchmark", s,
                       "the benchmark price cannot be computed from the announced bids");
            }
        }
        bo_buf_cleanup(&want);
        body_close(&b);
    }
    pub_forms(v, &p, from, &forms);
    if (draws || bench || forms)
        report(v, BO_VERIFY_PASSED, "draw", 0,
               "recomputed from the public events%s: draws %u (each seed against its "
               "commitment, each result from the seed and the announced bids), benchmark "
               "prices %u, announcements matching their opening forms %u",
               from > 1 ? " after the replay stopped" : "", draws, bench, forms);
    if (v->t->kind == BO_TRANSCRIPT_PUBLIC)
        report(v, BO_VERIFY_UNCHECKED, "record", 0,
               "the record was not recomputed: the replay needs the private events of a full "
               "transcript; its hash in opening_closed is vouched for by the server's signed "
               "head only");
    pub_free(&p);
}

/* ----------------------------------------------------------------- driver ---- */

static bo_err index_events(vctx *v)
{
    v->n = v->t->n_events;
    v->evs = calloc(v->n ? v->n : 1, sizeof(*v->evs));
    if (!v->evs)
        return BO_E_NOMEM;
    uint64_t max = 0;
    /* seqs beyond twice the count cannot be a log with a few events missing: ignore them */
    uint64_t limit = 2 * (uint64_t)v->n + 16;
    for (size_t i = 0; i < v->n; i++) {
        v->evs[i].te = &v->t->events[i];
        v->evs[i].seq = v->t->events[i].ev.seq;
        if (v->evs[i].seq <= limit && v->evs[i].seq > max)
            max = v->evs[i].seq;
    }
    v->max = max;
    v->by_seq = calloc(max + 1, sizeof(*v->by_seq));
    if (!v->by_seq)
        return BO_E_NOMEM;
    for (size_t i = 0; i < v->n; i++) {
        vev *e = &v->evs[i];
        if (!e->seq || e->seq > limit) {
            report(v, BO_VERIFY_ERROR, "chain", 0,
                   "the event at position %zu has seq %llu, out of the log's range: ignored", i,
                   (unsigned long long)e->seq);
            e->dup = true; /* ignored below */
            continue;
        }
        if (v->by_seq[e->seq])
            e->dup = true;
        else
            v->by_seq[e->seq] = e;
    }
    return BO_E_OK;
}

bo_err bo_verify(const uint8_t *transcript, size_t len, const bo_verify_opts *o,
                 bo_verify_summary *out)
{
    if (!o || !o->report || !out)
        return BO_E_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    vctx v;
    memset(&v, 0, sizeof(v));
    v.o = o;
    v.sum = out;
    char detail[512] = "";
    bo_err err = bo_transcript_parse(transcript, len, &v.t, detail, sizeof(detail));
    if (err == BO_E_NOMEM)
        return err;
    if (err) {
        report(&v, BO_VERIFY_ERROR, "transcript", 0, "the transcript cannot be read: %s",
               detail[0] ? detail : bo_strerror(err));
        return BO_E_OK;
    }
    out->events = v.t->n_events;
    out->kind = v.t->kind;
    snprintf(out->oid, sizeof(out->oid), "%s", v.t->oid);
    err = index_events(&v);
    if (!err) {
        check_server(&v);
        check_chain(&v);
        check_heads(&v);
        check_signatures(&v);
    }
    if (!err && !v.err)
        replay(&v);
    if (!err && !v.err)
        public_checks(&v);
    if (!err)
        err = v.err;
    regs_free(&v);
    free(v.by_seq);
    free(v.evs);
    bo_transcript_free(v.t);
    return err;
}
