/* bidopen: the command-line client (docs/cli.md is its manual). */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bo/bidstore.h"
#include "bo/cert.h"
#include "bo/client.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/envelope.h"
#include "bo/evfmt.h"
#include "bo/hex.h"
#include "bo/identity.h"
#include "bo/json_esc.h"
#include "bo/mpjson.h"
#include "bo/package.h"
#include "bo/pki.h"
#include "bo/sitelink.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo/submit.h"
#include "bo/tender_json.h"
#include "bo_cli.h"
#include "bo_cli_export.h"

#ifndef BO_VERSION
#define BO_VERSION "0.0.0"
#endif

#define FILE_MAX (16u << 20) /* tender and blacklist files */
#define MAX_SHOWN_BIDDERS 1000u /* per-bidder decryption states the live views keep */

/* One announced bid (bid_announced, or a snapshot's bidders entry with n), kept as
 * canonical msgpack for the table. */
typedef struct announced_row {
    char uscc[19];
    uint8_t *mp;
    size_t len;
} announced_row;

/* One bidder's decryption state as the live views show it. */
typedef struct bidder_state {
    char uscc[19];
    char state[64];
} bidder_state;

typedef struct cli {
    const bo_cli_opts *o;
    uv_loop_t loop;
    bo_client_ctx *ctx;
    bo_client *c;
    bo_cred *cred;
    const char *role;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    bool done;
    int exit_code;
    bool tty;
    int64_t give_up_at; /* monotonic ms; 0: never */
    /* the opening as seen */
    const char *oid;
    char phase[32];
    bool paused, have_snap;
    int64_t deadline, checkin_at;
    int tz;
    bool have_counts;
    uint64_t n_registered, n_signed_in;
    bool have_last;
    uint64_t last_seq;
    int64_t last_ts;
    bool status_shown;
    int64_t last_plain_countdown;
    bool was_joined;
    /* bidder */
    bool registered, signed_in, reg_sent, signin_sent;
    bool have_bid;      /* the snapshot's me.bid */
    bool bid_opened;    /* --decrypt: the server opened our bid */
    bool decrypt_hint;  /* said that a request needs a sign-in */
    bo_key *enc_key;
    char enc_key_error[400];
    bo_bid_record extra_rec;
    bool have_extra_rec;
    bo_responder *resp;
    /* decryption progress (live views) */
    bool dec_known, dec_closed;
    unsigned dec_bids, dec_done, dec_classified;
    int64_t dec_ends_at;
    bidder_state *bstates;
    size_t n_bstates;
    bool bstates_changed;
    /* bidder submit */
    uint8_t sub_commit[32];
    bo_submission *sub;
    uint64_t sub_done, sub_total, sub_first;
    int64_t sub_t0, sub_last_print;
    unsigned sub_pct_shown;
    bool sub_bar;
    /* bidder receipt */
    bo_receipt rc;
    bool have_rc;
    /* the end of the opening (§11): the table, the confirmation window */
    bo_buf tender_mp;         /* the snapshot's tender (the table's columns) */
    announced_row *rows;
    size_t n_rows;
    unsigned ann_total;       /* bids to announce; 0: not known */
    bool table_dirty;
    uv_timer_t table_timer;
    bool conf_known, conf_closed;
    int64_t conf_ends_at;
    char rec_hash[65];        /* confirmation_opened.record_hash, hex */
    char final_hash[65];      /* opening_closed.record_hash, hex */
    unsigned n_valid, n_confirmed, n_objections, n_answered;
    /* bidder --confirm / --object, bidder confirm|object */
    bool conf_sent, conf_done;
    /* host commands of §11: they join, and wait for the event that shows the result */
    const char *await_kind;   /* NULL: nothing awaited */
    unsigned await_n;         /* that many events of await_kind after the request */
    bool reply_ok;
    int64_t await_until;      /* monotonic ms: give up waiting for the event then */
    /* one-shot commands */
    bool request_sent;
    bo_buf tender_json;
    char created_oid[65];
    bo_buf last_presence;
} cli;

/* ------------------------------------------------------------------ output ---- */

static void clear_status(cli *s)
{
    if (s->status_shown) {
        fputs("\r\033[K", stdout);
        s->status_shown = false;
    }
}

static void say(cli *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(cli *s, const char *fmt, ...)
{
    if (s->o->json || s->o->quiet)
        return;
    clear_status(s);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void json_line(cli *s, bo_buf *b)
{
    if (!b->data)
        return;
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

/* {"type":type,<key>:<obj>...} helpers */
static void json_obj(bo_buf *b, const char *key, const msgpack_object *o)
{
    bo_buf_appendf(b, ",\"%s\":", key);
    if (o)
        bo_mpjson_append(b, o);
    else
        bo_buf_append_str(b, "null");
}

static void json_str(bo_buf *b, const char *key, const char *v)
{
    bo_buf_appendf(b, ",\"%s\":", key);
    if (v)
        bo_json_esc_append(b, v);
    else
        bo_buf_append_str(b, "null");
}

static void finish(cli *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish(cli *s, int code, const char *fmt, ...)
{
    if (s->done)
        return;
    s->done = true;
    s->exit_code = code;
    char msg[600] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
    }
    if (s->o->json) {
        bo_buf b;
        bo_buf_init(&b, 8192);
        bo_buf_appendf(&b, "{\"type\":\"exit\",\"code\":%d", code);
        json_str(&b, "msg", msg);
        bo_buf_append_str(&b, "}");
        json_line(s, &b);
        bo_buf_cleanup(&b);
    }
    clear_status(s);
    if (code != BO_EXIT_OK && msg[0])
        fprintf(stderr, "bidopen: %s\n", msg);
    else if (msg[0] && !s->o->quiet && !s->o->json)
        fprintf(stdout, "%s\n", msg);
    fflush(stdout);
}

/* ----------------------------------------------------------- phase logic ---- */

static int phase_rank(const char *p)
{
    static const char *const order[] = {"scheduled",  "checkin",    "awaiting_open",
                                        "decrypting", "announcing", "confirming",
                                        "closed"};
    for (int i = 0; i < 7; i++)
        if (strcmp(p, order[i]) == 0)
            return i;
    return strcmp(p, "failed") == 0 ? 100 : -1;
}

/* 1: reached, 0: not yet, -1: can never be reached (the opening ended otherwise) */
static int until_reached(const char *phase, const char *until)
{
    int p = phase_rank(phase), u = phase_rank(until);
    if (p < 0)
        return 0;
    if (u == 100)
        return p == 100 ? 1 : (p == 6 ? -1 : 0);
    if (p == 100)
        return -1;
    return p >= u ? 1 : 0;
}

static void render_status(cli *s)
{
    if (!s->have_snap || s->o->json || s->o->quiet)
        return;
    bo_buf b;
    bo_buf_init(&b, 4096);
    bo_evfmt_countdown(&b, s->phase, s->paused, s->checkin_at, s->deadline,
                       bo_client_server_now(s->c));
    if (s->have_counts)
        bo_buf_appendf(&b, " | 报名 registered %llu · 签到 signed in %llu",
                       (unsigned long long)s->n_registered,
                       (unsigned long long)s->n_signed_in);
    if (s->dec_known && phase_rank(s->phase) == 3) {
        bo_buf_append_str(&b, " | ");
        bo_evfmt_decrypt_progress(&b, s->dec_bids, s->dec_done, s->dec_classified,
                                  s->dec_closed ? 0 : s->dec_ends_at, s->paused,
                                  bo_client_server_now(s->c));
        if (s->dec_closed)
            bo_buf_append_str(&b, " · 时限已过 window closed");
    }
    if (phase_rank(s->phase) == 4 && s->ann_total)
        bo_buf_appendf(&b, " | 唱标 announced %zu/%u", s->n_rows, s->ann_total);
    if (phase_rank(s->phase) == 5 && s->conf_known) {
        bo_buf_append_str(&b, " | ");
        bo_evfmt_confirm_progress(&b, s->n_confirmed, s->n_valid, s->n_objections,
                                  s->n_objections - s->n_answered, s->conf_ends_at,
                                  s->conf_closed, s->paused, bo_client_server_now(s->c));
    }
    if (s->tty) {
        bool big = s->o->cmd == BO_CMD_SITE;
        fprintf(stdout, "\r\033[K%s%s%s", big ? "\033[1;7m " : "\033[1m", (char *)b.data,
                big ? " \033[0m" : "\033[0m");
        fflush(stdout);
        s->status_shown = true;
    } else {
        int64_t now = bo_clock_mono_ms();
        if (now - s->last_plain_countdown >= 60000) {
            s->last_plain_countdown = now;
            fprintf(stdout, "%s\n", (char *)b.data);
            fflush(stdout);
        }
    }
    bo_buf_cleanup(&b);
}

static void reply_json(cli *s, const char *req, bo_err err, const char *code, const char *msg,
                       const msgpack_object *data)
{
    bo_buf b;
    bo_buf_init(&b, 16u << 20);
    bo_buf_appendf(&b, "{\"type\":\"reply\",\"req\":\"%s\",\"ok\":%s", req,
                   err ? "false" : "true");
    if (err) {
        json_str(&b, "code", code);
        json_str(&b, "msg", msg);
    } else {
        json_obj(&b, "data", data);
    }
    bo_buf_append_str(&b, "}");
    json_line(s, &b);
    bo_buf_cleanup(&b);
}

/* A refused or canceled request ends the command. Returns true when it did. */
static bool reply_failed(cli *s, const char *req, bo_err err, const char *code,
                         const char *msg)
{
    if (!err)
        return false;
    if (err == BO_E_CANCELED)
        finish(s, BO_EXIT_CONNECT, "%s: the connection was lost before the reply%s", req,
               strcmp(req, "create") == 0
                   ? " (the opening may exist: check with bidopen list)"
                   : "");
    else
        finish(s, BO_EXIT_REFUSED, "%s refused: %s %s", req, code ? code : bo_err_name(err),
               msg ? msg : bo_strerror(err));
    return true;
}

static void check_progress(cli *s);

/* ------------------------------------------------- decryption progress ---- */

/* Remember one bidder's state for the live view ("decrypted", "failed [cert]", ...). */
static void bstate_set(cli *s, const char *uscc, size_t un, const char *state)
{
    if (!uscc || un != 18)
        return;
    for (size_t i = 0; i < s->n_bstates; i++)
        if (!memcmp(s->bstates[i].uscc, uscc, 18)) {
            if (strcmp(s->bstates[i].state, state) != 0) {
                snprintf(s->bstates[i].state, sizeof(s->bstates[i].state), "%s", state);
                s->bstates_changed = true;
            }
            return;
        }
    if (s->n_bstates == MAX_SHOWN_BIDDERS)
        return;
    if (!s->bstates && !(s->bstates = calloc(MAX_SHOWN_BIDDERS, sizeof(*s->bstates))))
        return;
    bidder_state *b = &s->bstates[s->n_bstates++];
    memcpy(b->uscc, uscc, 18);
    b->uscc[18] = 0;
    snprintf(b->state, sizeof(b->state), "%s", state);
    s->bstates_changed = true;
}

static void bstate_from_body(cli *s, const msgpack_object *body, const char *state)
{
    const char *u;
    size_t n;
    if (bo_mpo_str(body, "uscc", &u, &n))
        bstate_set(s, u, n, state);
}

/* One line with every bidder's state, when something changed (host, supervisor, site). */
static void bstates_show(cli *s)
{
    if (!s->bstates_changed || !s->dec_known || s->o->json || s->o->quiet ||
        s->o->cmd == BO_CMD_BIDDER || s->o->cmd == BO_CMD_BIDDER_CONFIRM ||
        s->o->cmd == BO_CMD_BIDDER_OBJECT)
        return;
    s->bstates_changed = false;
    bo_buf b;
    bo_buf_init(&b, 1u << 20);
    bo_buf_appendf(&b, "解密状态 decryption status (%u/%u):", s->dec_done, s->dec_bids);
    if (s->n_bstates <= 20) {
        for (size_t i = 0; i < s->n_bstates; i++)
            bo_buf_appendf(&b, "%s %s %s", i ? "," : "", s->bstates[i].uscc,
                           s->bstates[i].state);
    } else { /* many bidders: how many are in each state */
        bool *seen = calloc(s->n_bstates, sizeof(*seen));
        for (size_t i = 0; seen && i < s->n_bstates; i++) {
            if (seen[i])
                continue;
            unsigned n = 0;
            for (size_t j = i; j < s->n_bstates; j++)
                if (!seen[j] && !strcmp(s->bstates[j].state, s->bstates[i].state)) {
                    seen[j] = true;
                    n++;
                }
            bo_buf_appendf(&b, "%s %s %u", i ? "," : "", s->bstates[i].state, n);
        }
        free(seen);
    }
    say(s, "%s", b.data ? (char *)b.data : "");
    bo_buf_cleanup(&b);
}

static void dec_from_snapshot(cli *s, const msgpack_object *snap)
{
    const msgpack_object *d = bo_mpo_get(snap, "decrypt");
    if (d && d->type == MSGPACK_OBJECT_MAP) {
        uint64_t v;
        s->dec_known = true;
        if (bo_mpo_u64(d, "bids", &v))
            s->dec_bids = (unsigned)v;
        if (bo_mpo_u64(d, "decrypted", &v))
            s->dec_done = (unsigned)v;
        if (bo_mpo_u64(d, "classified", &v))
            s->dec_classified = (unsigned)v;
        bo_mpo_i64(d, "ends_at", &s->dec_ends_at);
        s->dec_closed = false;
        bo_mpo_bool(d, "window_closed", &s->dec_closed);
    }
    const msgpack_object *l = bo_mpo_get(snap, "bidders");
    if (l && l->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < l->via.array.size; i++) {
            const msgpack_object *e = &l->via.array.ptr[i];
            const char *st, *u;
            size_t sn, un;
            char state[64];
            if (bo_mpo_str(e, "state", &st, &sn) && bo_mpo_str(e, "uscc", &u, &un)) {
                snprintf(state, sizeof(state), "%.*s", (int)sn, st);
                bstate_set(s, u, un, state);
            }
        }
    s->bstates_changed = false; /* the snapshot's lines show them */
}

/* The decryption events (all views). */
static void dec_from_event(cli *s, const bo_client_event *ev)
{
    const char *k = ev->kind;
    int64_t t;
    uint64_t v;
    if (!strcmp(k, "decryption_started")) {
        s->dec_known = true;
        if (bo_mpo_u64(ev->body, "bids", &v))
            s->dec_bids = (unsigned)v;
        bo_mpo_i64(ev->body, "ends_at", &s->dec_ends_at);
    } else if (!strcmp(k, "bid_decrypted")) {
        s->dec_done++;
        bstate_from_body(s, ev->body, "decrypted");
    } else if (!strcmp(k, "decryption_extended") || !strcmp(k, "resumed")) {
        if (bo_mpo_i64(ev->body, "ends_at", &t))
            s->dec_ends_at = t;
    } else if (!strcmp(k, "decryption_window_closed")) {
        s->dec_closed = true;
    } else if (!strcmp(k, "bid_classified")) {
        const char *oc;
        size_t on;
        char st[40] = "classified";
        s->dec_classified++;
        if (bo_mpo_str(ev->body, "outcome", &oc, &on))
            snprintf(st, sizeof(st), "%.*s", (int)on, oc);
        bstate_from_body(s, ev->body, st);
    } else if (!strcmp(k, "decrypt_refused")) {
        const char *c;
        size_t cn;
        char st[64] = "refused";
        if (bo_mpo_str(ev->body, "code", &c, &cn))
            snprintf(st, sizeof(st), "refused %.*s", (int)cn, c);
        bstate_from_body(s, ev->body, st);
    } else if (!strcmp(k, "decrypt_diagnostic")) {
        const char *c;
        size_t cn;
        char st[64] = "failed";
        if (bo_mpo_str(ev->body, "stage", &c, &cn))
            snprintf(st, sizeof(st), "failed [%.*s]", (int)cn, c);
        bstate_from_body(s, ev->body, st);
    } else if (!strcmp(k, "bidders_revealed")) {
        const msgpack_object *l = bo_mpo_get(ev->body, "bidders");
        for (uint32_t i = 0; l && l->type == MSGPACK_OBJECT_ARRAY && i < l->via.array.size; i++)
            bstate_from_body(s, &l->via.array.ptr[i], "submitted");
        s->bstates_changed = false;
    } else {
        return;
    }
    bstates_show(s);
}

/* ---------------------------------------------- the end of the opening ---- */

static bool is_bidder_cmd(bo_cli_cmd c)
{
    return c == BO_CMD_BIDDER || c == BO_CMD_BIDDER_CONFIRM || c == BO_CMD_BIDDER_OBJECT;
}

/* The host's commands of §11: they join to show what their command did. */
static bool is_closing_host_cmd(bo_cli_cmd c)
{
    return c == BO_CMD_HOST_ANNOUNCE || c == BO_CMD_HOST_DRAW || c == BO_CMD_HOST_BENCHMARK ||
           c == BO_CMD_HOST_CONFIRM_OPEN || c == BO_CMD_HOST_ANSWER || c == BO_CMD_HOST_CLOSE;
}

static void rows_clear(cli *s)
{
    for (size_t i = 0; i < s->n_rows; i++)
        free(s->rows[i].mp);
    s->n_rows = 0;
}

/* Remember (or replace) one announced bid. */
static void row_put(cli *s, const msgpack_object *e)
{
    const char *u;
    size_t un;
    uint64_t n;
    if (!bo_mpo_str(e, "uscc", &u, &un) || un != 18 || !bo_mpo_u64(e, "n", &n))
        return;
    bo_buf b;
    bo_buf_init(&b, 1u << 20);
    if (bo_mp_canonical(&b, e) != BO_E_OK) {
        bo_buf_cleanup(&b);
        return;
    }
    size_t i = 0;
    while (i < s->n_rows && memcmp(s->rows[i].uscc, u, 18) != 0)
        i++;
    if (i == s->n_rows) {
        if (s->n_rows == MAX_SHOWN_BIDDERS ||
            (!s->rows && !(s->rows = calloc(MAX_SHOWN_BIDDERS, sizeof(*s->rows))))) {
            bo_buf_cleanup(&b);
            return;
        }
        s->n_rows++;
        memcpy(s->rows[i].uscc, u, 18);
        s->rows[i].uscc[18] = 0;
    } else {
        free(s->rows[i].mp);
    }
    s->rows[i].mp = b.data; /* taken over */
    s->rows[i].len = b.len;
    s->table_dirty = true;
}

/* Print the announcement table when it changed (human output only). */
static void table_show(cli *s)
{
    if (!s->table_dirty || !s->n_rows || s->o->json || s->o->quiet || !s->tender_mp.len)
        return;
    s->table_dirty = false;
    bo_buf all, out;
    bo_buf_init(&all, 64u << 20);
    bo_buf_init(&out, 16u << 20);
    bo_mp_array_header(&all, (uint32_t)s->n_rows);
    for (size_t i = 0; i < s->n_rows; i++)
        bo_buf_append(&all, s->rows[i].mp, s->rows[i].len);
    msgpack_zone *zt = NULL, *zr = NULL;
    msgpack_object t, r;
    const msgpack_object **rows = calloc(s->n_rows, sizeof(*rows));
    if (rows && bo_mp_parse(s->tender_mp.data, s->tender_mp.len, &zt, &t) == BO_E_OK &&
        bo_mp_parse(all.data, all.len, &zr, &r) == BO_E_OK && r.type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < r.via.array.size; i++)
            rows[i] = &r.via.array.ptr[i];
        if (bo_evfmt_bids_table(&out, &t, rows, r.via.array.size, s->ann_total) == BO_E_OK)
            say(s, "%s", (char *)out.data);
    }
    free(rows);
    if (zt)
        msgpack_zone_free(zt);
    if (zr)
        msgpack_zone_free(zr);
    bo_buf_cleanup(&all);
    bo_buf_cleanup(&out);
}

static void on_table_timer(uv_timer_t *t)
{
    cli *s = t->data;
    if (!s->done)
        table_show(s);
}

/* A bid was announced: the table is printed once a burst of announcements is over. */
static void table_later(cli *s)
{
    if (s->o->json || s->o->quiet)
        return;
    uv_timer_start(&s->table_timer, on_table_timer, 300, 0);
}

static void hex_of(const msgpack_object *m, const char *key, char out[65])
{
    const uint8_t *h;
    size_t n;
    if (bo_mpo_bin(m, key, &h, &n) && n == 32)
        bo_hex_encode(h, 32, out);
}

static bool own_uscc(cli *s, const msgpack_object *body);

/* What the snapshot says about the end of the opening. */
static void closing_from_snapshot(cli *s, const msgpack_object *snap)
{
    bo_buf_reset(&s->tender_mp);
    const msgpack_object *t = bo_mpo_get(snap, "tender");
    if (t)
        bo_mp_canonical(&s->tender_mp, t);
    rows_clear(s);
    s->n_valid = 0;
    const msgpack_object *l = bo_mpo_get(snap, "bidders");
    for (uint32_t i = 0; l && l->type == MSGPACK_OBJECT_ARRAY && i < l->via.array.size; i++) {
        const msgpack_object *e = &l->via.array.ptr[i];
        const char *st;
        size_t sn;
        if (bo_mpo_str(e, "status", &st, &sn) && sn == 5 && !memcmp(st, "valid", 5))
            s->n_valid++;
        row_put(s, e);
    }
    s->table_dirty = false; /* the snapshot's lines show it */
    uint64_t v;
    const msgpack_object *a = bo_mpo_get(snap, "announce");
    if (a && bo_mpo_u64(a, "total", &v))
        s->ann_total = (unsigned)v;
    else if (l && l->type == MSGPACK_OBJECT_ARRAY && phase_rank(s->phase) >= 2)
        s->ann_total = l->via.array.size;
    const msgpack_object *c = bo_mpo_get(snap, "confirm");
    s->conf_known = c && c->type == MSGPACK_OBJECT_MAP;
    if (s->conf_known) {
        bo_mpo_i64(c, "ends_at", &s->conf_ends_at);
        s->conf_closed = false;
        bo_mpo_bool(c, "window_closed", &s->conf_closed);
        hex_of(c, "record_hash", s->rec_hash);
        hex_of(c, "final_hash", s->final_hash);
        const msgpack_object *cf = bo_mpo_get(c, "confirmed");
        s->n_confirmed = cf && cf->type == MSGPACK_OBJECT_ARRAY ? cf->via.array.size : 0;
        const bo_client_identity *me = bo_client_whoami(s->c);
        for (uint32_t i = 0; me && me->uscc[0] && s->o->confirm && cf &&
                             cf->type == MSGPACK_OBJECT_ARRAY && i < cf->via.array.size;
             i++) {
            const msgpack_object *x = &cf->via.array.ptr[i];
            if (x->type == MSGPACK_OBJECT_STR && x->via.str.size == strlen(me->uscc) &&
                !memcmp(x->via.str.ptr, me->uscc, x->via.str.size))
                s->conf_done = true; /* confirmed before (a reply lost with the connection) */
        }
    }
    const msgpack_object *ob = bo_mpo_get(snap, "objections");
    s->n_objections = s->n_answered = 0;
    for (uint32_t i = 0; ob && ob->type == MSGPACK_OBJECT_ARRAY && i < ob->via.array.size; i++) {
        const msgpack_object *o = &ob->via.array.ptr[i];
        s->n_objections++;
        s->n_answered += bo_mpo_get(o, "answer") != NULL;
        const char *tx;
        size_t tn;
        if (s->o->object_text && own_uscc(s, o) && bo_mpo_str(o, "text", &tx, &tn) &&
            tn == strlen(s->o->object_text) && !memcmp(tx, s->o->object_text, tn))
            s->conf_done = true; /* objected before (a reply lost with the connection) */
    }
}

/* The events of §11 (all views). */
static void closing_from_event(cli *s, const bo_client_event *ev)
{
    const char *k = ev->kind;
    uint64_t v;
    int64_t t;
    if (!strcmp(k, "bidders_revealed")) {
        if (bo_mpo_u64(ev->body, "count", &v))
            s->ann_total = (unsigned)v;
    } else if (!strcmp(k, "phase_changed")) {
        if (bo_mpo_u64(ev->body, "valid", &v))
            s->n_valid = (unsigned)v;
    } else if (!strcmp(k, "bid_announced")) {
        row_put(s, ev->body);
        table_later(s);
    } else if (!strcmp(k, "confirmation_opened")) {
        s->conf_known = true;
        s->conf_closed = false;
        bo_mpo_i64(ev->body, "ends_at", &s->conf_ends_at);
        hex_of(ev->body, "record_hash", s->rec_hash);
        s->last_plain_countdown = 0;
    } else if (!strcmp(k, "resumed")) {
        if (phase_rank(s->phase) == 5 && bo_mpo_i64(ev->body, "ends_at", &t))
            s->conf_ends_at = t;
    } else if (!strcmp(k, "bidder_confirmed")) {
        s->n_confirmed++;
    } else if (!strcmp(k, "objection")) {
        s->n_objections++;
    } else if (!strcmp(k, "objection_answered")) {
        s->n_answered++;
    } else if (!strcmp(k, "confirmation_window_closed")) {
        s->conf_closed = true;
    } else if (!strcmp(k, "opening_closed")) {
        hex_of(ev->body, "record_hash", s->final_hash);
    }
}

/* -------------------------------------------------------------- bidder ---- */

static void on_register_reply(void *ud, bo_err err, const char *code, const char *msg,
                              const msgpack_object *data)
{
    cli *s = ud;
    if (s->o->json)
        reply_json(s, "register", err, code, msg, data);
    if (err == BO_E_CANCELED) {
        s->reg_sent = false; /* the snapshot after the reconnect tells whether it worked */
        return;
    }
    if (reply_failed(s, "register", err, code, msg))
        return;
    s->registered = true;
    say(s, "已报名 registered for %s", s->oid);
    check_progress(s);
}

static void on_signin_reply(void *ud, bo_err err, const char *code, const char *msg,
                            const msgpack_object *data)
{
    cli *s = ud;
    if (s->o->json)
        reply_json(s, "signin", err, code, msg, data);
    if (err == BO_E_CANCELED) {
        s->signin_sent = false;
        return;
    }
    if (reply_failed(s, "signin", err, code, msg))
        return;
    bool already = false;
    bo_mpo_bool(data, "already", &already);
    s->signed_in = true;
    say(s, "%s", already ? "已签到 already signed in" : "签到成功 signed in");
    check_progress(s);
}

/* Before signing: what the bidder signs (the record hash) and what it covers. */
static void show_record(cli *s)
{
    if (s->o->json || s->o->quiet)
        return;
    s->table_dirty = true;
    table_show(s);
    say(s, "%s 开标记录哈希 record hash %s\n  (the record as announced: every bid above, the draws "
           "and the benchmark price; SHA-256 of the record, docs/protocol.md §11)",
        s->o->confirm ? "确认签署 signing to confirm:" : "异议签署 signing the objection to:",
        s->rec_hash[0] ? s->rec_hash : "?");
}

static void on_confirm_reply(void *ud, bo_err err, const char *code, const char *msg,
                             const msgpack_object *data)
{
    cli *s = ud;
    const char *req = s->o->confirm ? "confirm" : "object";
    if (s->o->json)
        reply_json(s, req, err, code, msg, data);
    if (err == BO_E_CANCELED) {
        s->conf_sent = false; /* the snapshot after the reconnect tells whether it went */
        return;
    }
    if (reply_failed(s, req, err, code, msg))
        return;
    bool already = false;
    bo_mpo_bool(data, "already", &already);
    s->conf_done = true;
    if (s->o->confirm)
        say(s, "%s", already ? "已确认过 already confirmed" : "已确认 confirmed the record");
    else
        say(s, "异议已提交 objection raised: the host must answer it before closing");
    check_progress(s);
}

/* The host's commands of §11, sent once joined; they finish when the event that shows the
 * result arrived (or a few seconds after the ok, if it does not). */
static void on_closing_reply(void *ud, bo_err err, const char *code, const char *msg,
                             const msgpack_object *data)
{
    cli *s = ud;
    const char *req = bo_cli_cmd_name(s->o->cmd);
    if (s->o->json)
        reply_json(s, req, err, code, msg, data);
    if (reply_failed(s, req, err, code, msg))
        return;
    s->reply_ok = true;
    s->await_until = bo_clock_mono_ms() + 5000;
    check_progress(s);
}

static void send_closing_host(cli *s)
{
    const bo_cli_opts *o = s->o;
    if (!s->request_sent) {
        bo_err err = BO_E_OK;
        s->request_sent = true;
        s->await_n = 1;
        switch (o->cmd) {
        case BO_CMD_HOST_ANNOUNCE:
            s->await_kind = "bid_announced";
            if (o->all)
                s->await_n = s->ann_total > s->n_rows ? s->ann_total - (unsigned)s->n_rows : 1;
            err = bo_client_announce(s->c, o->oid, o->all, on_closing_reply, s);
            break;
        case BO_CMD_HOST_DRAW:
            s->await_kind = "draw_result";
            err = bo_client_draw(s->c, o->oid, o->draw_id, on_closing_reply, s);
            break;
        case BO_CMD_HOST_BENCHMARK:
            s->await_kind = "benchmark_price";
            err = bo_client_benchmark(s->c, o->oid, on_closing_reply, s);
            break;
        case BO_CMD_HOST_CONFIRM_OPEN:
            s->await_kind = "confirmation_opened";
            err = bo_client_confirm_open(s->c, o->oid, o->window_s, on_closing_reply, s);
            break;
        case BO_CMD_HOST_ANSWER:
            s->await_kind = "objection_answered";
            err = bo_client_answer(s->c, o->oid, o->objection, o->text, on_closing_reply, s);
            break;
        case BO_CMD_HOST_CLOSE:
            s->await_kind = "opening_closed";
            err = bo_client_close(s->c, o->oid, on_closing_reply, s);
            break;
        default:
            break;
        }
        if (err)
            return finish(s, err == BO_E_INVALID_ARG ? BO_EXIT_USAGE : BO_EXIT_LOCAL, "%s: %s",
                          bo_cli_cmd_name(o->cmd),
                          err == BO_E_INVALID_ARG ? "invalid arguments (a text of 1 to 2000 "
                                                    "characters for an answer)"
                                                  : bo_strerror(err));
        return;
    }
    if (!s->reply_ok || (s->await_n && bo_clock_mono_ms() < s->await_until))
        return;
    if (o->cmd == BO_CMD_HOST_ANNOUNCE) {
        s->table_dirty = true;
        table_show(s);
    }
    if (o->cmd == BO_CMD_HOST_CLOSE && s->final_hash[0] && !o->json)
        say(s, "开标记录哈希 record hash %s", s->final_hash);
    if (o->cmd == BO_CMD_HOST_CONFIRM_OPEN && s->rec_hash[0] && !o->json)
        say(s, "待确认记录哈希 record hash to confirm %s", s->rec_hash);
    finish(s, BO_EXIT_OK, "%s: ok", bo_cli_cmd_name(o->cmd));
}

static bool signin_phase(const char *p)
{
    return strcmp(p, "checkin") == 0 || strcmp(p, "awaiting_open") == 0 ||
           strcmp(p, "decrypting") == 0;
}

static void check_progress(cli *s)
{
    if (s->done || !s->have_snap || bo_client_state_get(s->c) != BO_CLIENT_JOINED)
        return;
    const bo_cli_opts *o = s->o;
    bool steps_done = true;
    if (is_closing_host_cmd(o->cmd)) {
        send_closing_host(s);
        return;
    }
    if (is_bidder_cmd(o->cmd)) {
        if (o->do_register && !s->registered) {
            steps_done = false;
            if (!s->reg_sent) {
                bo_err err = bo_client_register(s->c, s->oid, on_register_reply, s);
                if (err)
                    return finish(s, BO_EXIT_LOCAL, "register: %s", bo_strerror(err));
                s->reg_sent = true;
            }
        }
        if (o->do_signin && !s->signed_in) {
            steps_done = false;
            bool ready = !o->do_register || s->registered;
            bool phase_ok = signin_phase(s->phase) ||
                            (phase_rank(s->phase) > 3 && phase_rank(s->phase) != -1);
            /* after decrypting the server refuses (E_PHASE): send anyway, report it */
            if (ready && phase_ok && !s->signin_sent && !s->paused) {
                bo_err err = bo_client_signin(s->c, s->oid, on_signin_reply, s);
                if (err)
                    return finish(s, BO_EXIT_LOCAL, "signin: %s", bo_strerror(err));
                s->signin_sent = true;
            }
        }
        if (o->decrypt && !s->bid_opened) {
            steps_done = false;
            int pr = phase_rank(s->phase);
            if (pr >= 4)
                return finish(s, BO_EXIT_REFUSED,
                              "the opening left decryption (now %s) before your bid was opened",
                              s->phase);
            if (pr >= 2 && !s->have_bid)
                return finish(s, BO_EXIT_REFUSED,
                              "you have no bid in this opening: there is nothing to decrypt");
            if (pr >= 2 && !s->signed_in && !o->do_signin && !s->decrypt_hint) {
                s->decrypt_hint = true;
                say(s, "注意 note: you are not signed in; the decryption request comes after "
                       "sign-in (add --signin)");
            }
        }
        if ((o->confirm || o->object_text) && !s->conf_done) {
            steps_done = false;
            int pr = phase_rank(s->phase);
            if (pr == 6 || pr == 100)
                return finish(s, BO_EXIT_REFUSED,
                              "the opening is %s: the record can no longer be confirmed or "
                              "objected to",
                              s->phase);
            uint8_t h[32];
            if (pr == 5 && !s->conf_sent && bo_client_record_hash(s->c, h)) {
                show_record(s);
                bo_err err = o->confirm
                                 ? bo_client_confirm(s->c, s->oid, NULL, on_confirm_reply, s)
                                 : bo_client_object(s->c, s->oid, o->object_text,
                                                    on_confirm_reply, s);
                if (err)
                    return finish(s, err == BO_E_INVALID_ARG ? BO_EXIT_USAGE : BO_EXIT_LOCAL,
                                  "%s: %s", o->confirm ? "confirm" : "object",
                                  err == BO_E_INVALID_ARG ? "the text must be 1 to 1000 "
                                                            "characters of UTF-8"
                                                          : bo_strerror(err));
                s->conf_sent = true;
            }
        }
        if (!steps_done)
            return;
        if (!o->until && !o->watch)
            return finish(s, BO_EXIT_OK, NULL);
    }
    if (o->until) {
        int r = until_reached(s->phase, o->until);
        if (r > 0)
            finish(s, BO_EXIT_OK, NULL);
        else if (r < 0)
            finish(s, BO_EXIT_REFUSED, "the opening ended as '%s' before reaching '%s'",
                   s->phase, o->until);
    }
}

/* -------------------------------------------------------- client callbacks ---- */

static void on_state(void *ud, bo_client_state st, bo_err err, const char *code,
                     const char *msg);

static void snapshot_note(cli *s, const msgpack_object *snap)
{
    const char *p;
    size_t n;
    if (bo_mpo_str(snap, "phase", &p, &n) && n < sizeof(s->phase)) {
        memcpy(s->phase, p, n);
        s->phase[n] = 0;
    }
    bo_mpo_bool(snap, "paused", &s->paused);
    bo_mpo_i64(snap, "deadline", &s->deadline);
    s->checkin_at = 0;
    bo_mpo_i64(snap, "checkin_at", &s->checkin_at);
    int64_t tz = 480;
    bo_mpo_i64(bo_mpo_get(snap, "tender"), "tz_offset_min", &tz);
    s->tz = (int)tz;
    const msgpack_object *c = bo_mpo_get(snap, "counts");
    s->have_counts = c && bo_mpo_u64(c, "registered", &s->n_registered) &&
                     bo_mpo_u64(c, "signed_in", &s->n_signed_in);
    const msgpack_object *me = bo_mpo_get(snap, "me");
    if (me) {
        bool v = false;
        if (bo_mpo_bool(me, "registered", &v) && v)
            s->registered = true;
        v = false;
        if (bo_mpo_bool(me, "signed_in", &v) && v)
            s->signed_in = true;
        s->have_bid = bo_mpo_get(me, "bid") != NULL;
    }
    dec_from_snapshot(s, snap);
    closing_from_snapshot(s, snap);
    const bo_client_identity *who = s->c ? bo_client_whoami(s->c) : NULL;
    for (size_t i = 0; who && who->uscc[0] && i < s->n_bstates; i++)
        if (!strcmp(s->bstates[i].uscc, who->uscc) && !strcmp(s->bstates[i].state, "decrypted"))
            s->bid_opened = true;
    s->have_snap = true;
}

static void on_snapshot(void *ud, const msgpack_object *snap, bool recovered)
{
    cli *s = ud;
    if (s->done)
        return;
    if (s->o->json && !is_closing_host_cmd(s->o->cmd)) {
        bo_buf b;
        bo_buf_init(&b, 64u << 20);
        bo_buf_appendf(&b, "{\"type\":\"snapshot\",\"recovered\":%s",
                       recovered ? "true" : "false");
        json_obj(&b, "snap", snap);
        bo_buf_append_str(&b, "}");
        json_line(s, &b);
        bo_buf_cleanup(&b);
    }
    snapshot_note(s, snap);
    if (is_closing_host_cmd(s->o->cmd)) {
        s->was_joined = true; /* it shows what its command did, not the opening */
        return;
    }
    if (recovered && s->was_joined) {
        say(s, "已恢复 resumed: no event missed (last #%llu)", (unsigned long long)s->last_seq);
    } else if (!s->o->json && !s->o->quiet) {
        bo_buf b;
        bo_buf_init(&b, 16u << 20);
        bo_evfmt_snapshot(&b, snap);
        say(s, "%s", b.data ? (char *)b.data : "");
        bo_buf_cleanup(&b);
    }
    s->was_joined = true;
}

static bool own_uscc(cli *s, const msgpack_object *body)
{
    const bo_client_identity *me = bo_client_whoami(s->c);
    const char *u;
    size_t n;
    return me && me->uscc[0] && bo_mpo_str(body, "uscc", &u, &n) && n == strlen(me->uscc) &&
           memcmp(u, me->uscc, n) == 0;
}

static void on_event(void *ud, const bo_client_event *ev)
{
    cli *s = ud;
    if (s->done)
        return; /* the rest of a batch after the command finished */
    bool closing_host = is_closing_host_cmd(s->o->cmd);
    bool show = !closing_host || s->request_sent;
    if (closing_host && s->request_sent && s->await_kind && s->await_n &&
        !strcmp(ev->kind, s->await_kind))
        s->await_n--;
    if (!show) {
    } else if (s->o->json) {
        bo_buf b;
        bo_buf_init(&b, 64u << 20);
        char hash[65];
        bo_buf_append_str(&b, "{\"type\":\"event\"");
        json_str(&b, "oid", ev->oid);
        json_str(&b, "st", ev->st);
        bo_buf_appendf(&b, ",\"seq\":%llu", (unsigned long long)ev->seq);
        if (ev->has_at)
            bo_buf_appendf(&b, ",\"at\":%llu", (unsigned long long)ev->at);
        bo_buf_appendf(&b, ",\"ts\":%lld", (long long)ev->ts);
        json_str(&b, "kind", ev->kind);
        json_obj(&b, "body", ev->body);
        json_str(&b, "hash", bo_hex_encode(ev->hash, 32, hash));
        bo_buf_append_str(&b, "}");
        json_line(s, &b);
        bo_buf_cleanup(&b);
    } else if (!s->o->quiet) {
        bo_buf b;
        bo_buf_init(&b, 16u << 20);
        bo_evfmt_event(&b, ev->kind, ev->body, ev->ts, ev->st, ev->seq, s->tz);
        say(s, "%s", b.data ? (char *)b.data : "");
        bo_buf_cleanup(&b);
    }
    if (strcmp(ev->st, "pub") == 0 || strcmp(ev->st, "all") == 0) {
        s->have_last = true;
        s->last_seq = ev->seq;
        s->last_ts = ev->ts;
    }
    const char *p;
    size_t n;
    if (strcmp(ev->kind, "phase_changed") == 0 && bo_mpo_str(ev->body, "to", &p, &n) &&
        n < sizeof(s->phase)) {
        memcpy(s->phase, p, n);
        s->phase[n] = 0;
        s->last_plain_countdown = 0;
    } else if (strcmp(ev->kind, "paused") == 0) {
        s->paused = true;
    } else if (strcmp(ev->kind, "resumed") == 0) {
        s->paused = false;
    } else if (strcmp(ev->kind, "tally") == 0) {
        s->have_counts = bo_mpo_u64(ev->body, "registered", &s->n_registered) &&
                         bo_mpo_u64(ev->body, "signed_in", &s->n_signed_in);
    } else if (strcmp(ev->kind, "bidder_registered") == 0 && own_uscc(s, ev->body)) {
        s->registered = true;
    } else if (strcmp(ev->kind, "bidder_signed_in") == 0) {
        /* After the deadline sign-ins are public but only staff get a `tally`: a view that
         * has counts (from its snapshot) counts them itself; a tally, which follows every
         * change, sets the exact figures again (protocol.md §6) */
        if (s->have_counts)
            s->n_signed_in++;
        if (own_uscc(s, ev->body))
            s->signed_in = true;
    } else if (strcmp(ev->kind, "bid_submitted") == 0 && own_uscc(s, ev->body)) {
        s->have_bid = true;
    } else if (strcmp(ev->kind, "bid_decrypted") == 0 && own_uscc(s, ev->body)) {
        s->bid_opened = true;
    }
    dec_from_event(s, ev);
    closing_from_event(s, ev);
    check_progress(s);
}

static void on_presence(void *ud, const msgpack_object *data)
{
    cli *s = ud;
    if (s->done)
        return;
    if (s->o->json) {
        bo_buf b;
        bo_buf_init(&b, 16u << 20);
        bo_buf_append_str(&b, "{\"type\":\"presence\"");
        json_obj(&b, "data", data);
        bo_buf_append_str(&b, "}");
        json_line(s, &b);
        bo_buf_cleanup(&b);
        return;
    }
    /* people read changes, not the same line every few seconds */
    bo_buf b;
    bo_buf_init(&b, 16u << 20);
    bo_evfmt_presence(&b, data);
    if (b.data && (!s->last_presence.data || strcmp((char *)b.data,
                                                    (char *)s->last_presence.data) != 0)) {
        say(s, "%s", (char *)b.data);
        bo_buf_reset(&s->last_presence);
        bo_buf_append(&s->last_presence, b.data, b.len);
    }
    bo_buf_cleanup(&b);
}

static void on_notice(void *ud, const char *code, const char *msg)
{
    cli *s = ud;
    if (s->done)
        return;
    if (s->o->json) {
        bo_buf b;
        bo_buf_init(&b, 16384);
        bo_buf_append_str(&b, "{\"type\":\"notice\"");
        json_str(&b, "code", code);
        json_str(&b, "msg", msg);
        bo_buf_append_str(&b, "}");
        json_line(s, &b);
        bo_buf_cleanup(&b);
        return;
    }
    say(s, "通知 notice: %s %s", code, msg);
}

/* ------------------------------------------------------- one-shot requests ---- */

static void print_list(cli *s, const msgpack_object *data)
{
    const msgpack_object *l = bo_mpo_get(data, "openings");
    if (!l || l->type != MSGPACK_OBJECT_ARRAY || s->o->quiet)
        return;
    for (uint32_t i = 0; i < l->via.array.size; i++) {
        const msgpack_object *e = &l->via.array.ptr[i];
        const char *oid = "?", *title = "?", *lot = "", *phase = "?";
        size_t no = 1, nt = 1, nl = 0, np = 1;
        bo_mpo_str(e, "oid", &oid, &no);
        bo_mpo_str(e, "title", &title, &nt);
        bo_mpo_str(e, "lot", &lot, &nl);
        bo_mpo_str(e, "phase", &phase, &np);
        int64_t dl = 0;
        char t[40] = "?";
        if (bo_mpo_i64(e, "deadline", &dl))
            bo_time_format_local(dl, 480, t, sizeof(t));
        char ph[32];
        snprintf(ph, sizeof(ph), "%.*s", (int)np, phase);
        printf("%.*s\t%s\t%s\t%.*s%s%.*s\n", (int)no, oid, bo_evfmt_phase_label(ph), t, (int)nt,
               title, nl ? " · " : "", (int)nl, lot);
    }
}

static void print_bl(cli *s, const msgpack_object *data)
{
    const msgpack_object *l = bo_mpo_get(data, "entries");
    uint64_t count;
    if (bo_mpo_u64(data, "count", &count) && !s->o->quiet)
        printf("%llu\n", (unsigned long long)count);
    if (!l || l->type != MSGPACK_OBJECT_ARRAY || s->o->quiet)
        return;
    for (uint32_t i = 0; i < l->via.array.size; i++) {
        const msgpack_object *e = &l->via.array.ptr[i];
        const char *v[4] = {"", "", "", ""};
        size_t n[4] = {0, 0, 0, 0};
        static const char *const k[4] = {"uscc", "name", "reason", "source"};
        for (int j = 0; j < 4; j++)
            bo_mpo_str(e, k[j], &v[j], &n[j]);
        printf("%.*s\t%.*s\t%.*s\t%.*s\n", (int)n[0], v[0], (int)n[1], v[1], (int)n[2], v[2],
               (int)n[3], v[3]);
    }
}

static void on_simple_reply(void *ud, bo_err err, const char *code, const char *msg,
                            const msgpack_object *data)
{
    cli *s = ud;
    const char *req = bo_cli_cmd_name(s->o->cmd);
    if (s->o->json)
        reply_json(s, req, err, code, msg, data);
    if (reply_failed(s, req, err, code, msg))
        return;
    if (!s->o->json) {
        if (s->o->cmd == BO_CMD_LIST)
            print_list(s, data);
        else if (s->o->cmd >= BO_CMD_BL_ADD && s->o->cmd <= BO_CMD_BL_LIST)
            print_bl(s, data);
        else
            say(s, "%s: ok", req);
    }
    finish(s, BO_EXIT_OK, NULL);
}

static int start_client(cli *s, const char *oid, const char *role);

static void on_create_reply(void *ud, bo_err err, const char *code, const char *msg,
                            const msgpack_object *data)
{
    cli *s = ud;
    if (s->o->json)
        reply_json(s, "create", err, code, msg, data);
    if (reply_failed(s, "create", err, code, msg))
        return;
    const char *oid;
    size_t n;
    if (!bo_mpo_str(data, "oid", &oid, &n) || n >= sizeof(s->created_oid))
        return finish(s, BO_EXIT_REFUSED, "create: the reply carries no oid");
    memcpy(s->created_oid, oid, n);
    s->created_oid[n] = 0;
    if (!s->o->json)
        printf("%s\n", s->created_oid);
    fflush(stdout);
    if (!s->o->watch)
        return finish(s, BO_EXIT_OK, NULL);
    /* watch it: a new connection that joins (freeing this client from its callback is
     * allowed) */
    bo_client_free(s->c);
    s->c = NULL;
    int rc = start_client(s, s->created_oid, s->role);
    if (rc)
        finish(s, rc, "cannot watch %s", s->created_oid);
}

static int read_file(const char *path, bo_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char tmp[65536];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        rc = bo_buf_append(out, tmp, n) ? -1 : 0;
    if (ferror(f))
        rc = -1;
    fclose(f);
    return rc;
}

/* Blacklist entries from --file or --uscc/--name/--reason. */
static bo_err send_blacklist(cli *s)
{
    const bo_cli_opts *o = s->o;
    if (o->cmd == BO_CMD_BL_LIST)
        return bo_client_bl_list(s->c, on_simple_reply, s);
    if (!o->file) {
        if (o->cmd == BO_CMD_BL_REMOVE)
            return bo_client_bl_remove(s->c, o->usccs, o->n_usccs, on_simple_reply, s);
        bo_bl_entry e = {o->usccs[0], o->name, o->reason, o->source};
        return o->cmd == BO_CMD_BL_ADD ? bo_client_bl_add(s->c, &e, 1, on_simple_reply, s)
                                       : bo_client_bl_replace(s->c, &e, 1, on_simple_reply, s);
    }
    bo_buf raw;
    bo_buf_init(&raw, FILE_MAX);
    if (read_file(o->file, &raw)) {
        bo_buf_cleanup(&raw);
        finish(s, BO_EXIT_LOCAL, "cannot read %s", o->file);
        return BO_E_OK;
    }
    json_error_t jerr;
    json_t *root = json_loadb(raw.data ? (char *)raw.data : "", raw.len, 0, &jerr);
    bo_buf_cleanup(&raw);
    if (!root) {
        finish(s, BO_EXIT_USAGE, "%s line %d: %s", o->file, jerr.line, jerr.text);
        return BO_E_OK;
    }
    json_t *arr = json_is_array(root) ? root
                  : json_object_get(root, o->cmd == BO_CMD_BL_REMOVE && json_object_get(root, "usccs")
                                              ? "usccs"
                                              : "entries");
    size_t n = json_array_size(arr);
    bo_err err = BO_E_OK;
    if (!json_is_array(arr)) {
        finish(s, BO_EXIT_USAGE, "%s: expected an array of entries", o->file);
    } else if (o->cmd == BO_CMD_BL_REMOVE) {
        const char **v = calloc(n ? n : 1, sizeof(*v));
        bool ok = v != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *x = json_array_get(arr, i);
            v[i] = json_is_string(x) ? json_string_value(x)
                                     : json_string_value(json_object_get(x, "uscc"));
            ok = v[i] != NULL;
        }
        if (ok)
            err = bo_client_bl_remove(s->c, v, n, on_simple_reply, s);
        else
            finish(s, BO_EXIT_USAGE, "%s: expected USCC strings or {uscc} entries", o->file);
        free(v);
    } else {
        bo_bl_entry *v = calloc(n ? n : 1, sizeof(*v));
        bool ok = v != NULL;
        size_t bad = 0;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *x = json_array_get(arr, i);
            v[i].uscc = json_string_value(json_object_get(x, "uscc"));
            v[i].name = json_string_value(json_object_get(x, "name"));
            v[i].reason = json_string_value(json_object_get(x, "reason"));
            v[i].source = json_string_value(json_object_get(x, "source"));
            ok = v[i].uscc && v[i].name && v[i].reason;
            bad = i;
        }
        if (ok)
            err = o->cmd == BO_CMD_BL_ADD ? bo_client_bl_add(s->c, v, n, on_simple_reply, s)
                                          : bo_client_bl_replace(s->c, v, n, on_simple_reply, s);
        else
            finish(s, BO_EXIT_USAGE, "%s: entry %zu needs uscc, name and reason", o->file, bad);
        free(v);
    }
    json_decref(root);
    return err;
}

/* ------------------------------------------------ remote decryption (bidder) ---- */

static const char *what_name(bo_responder_what w)
{
    static const char *const n[] = {"",     "request", "ignored", "waiting",
                                    "sent", "opened",  "refused", "failed"};
    return (unsigned)w < sizeof(n) / sizeof(n[0]) ? n[w] : "?";
}

static void on_resp_status(void *ud, const bo_responder_status *st)
{
    cli *s = ud;
    if (s->done)
        return;
    char bid[20] = "?";
    if (st->bid) {
        bo_hex_encode(st->bid, 8, bid);
        strcat(bid, "…");
    }
    if (s->o->json) {
        bo_buf b;
        bo_buf_init(&b, 16384);
        char hex[65];
        bo_buf_appendf(&b, "{\"type\":\"decrypt\",\"what\":\"%s\"", what_name(st->what));
        json_str(&b, "req", st->req);
        json_str(&b, "bid", st->bid ? bo_hex_encode(st->bid, 32, hex) : NULL);
        if (st->err)
            json_str(&b, "err", bo_err_name(st->err));
        json_str(&b, "code", st->code);
        json_str(&b, "msg", st->msg);
        if (st->what == BO_RESP_FAILED) {
            json_str(&b, "stage", bo_stage_name(st->stage));
            if (st->diag && st->diag->sealed_serial[0])
                json_str(&b, "sealed_serial", st->diag->sealed_serial);
            if (st->diag && st->diag->held_serial[0])
                json_str(&b, "held_serial", st->diag->held_serial);
        }
        bo_buf_append_str(&b, "}");
        json_line(s, &b);
        bo_buf_cleanup(&b);
    }
    switch (st->what) {
    case BO_RESP_REQUEST:
        say(s, "解密请求 decryption request for your bid %s (req %s)", bid, st->req);
        break;
    case BO_RESP_WAITING:
        say(s, "等待 waiting: %s", st->msg ? st->msg : "");
        break;
    case BO_RESP_IGNORED:
        say(s, "未应答 not answered: %s", st->msg ? st->msg : bo_strerror(st->err));
        break;
    case BO_RESP_SENT:
        say(s, "已发送 sent: the bid's key went to the server, which is opening bid %s", bid);
        break;
    case BO_RESP_OPENED:
        say(s, "解密成功 your bid %s is open", bid);
        s->bid_opened = true;
        check_progress(s);
        break;
    case BO_RESP_REFUSED:
        if (st->code && !strcmp(st->code, "E_NOT_FOUND")) {
            say(s, "请求已过期 the request expired on that server: %s", st->msg ? st->msg : "");
            break;
        }
        finish(s, BO_EXIT_REFUSED, "decrypt_response refused: %s %s",
               st->code ? st->code : bo_err_name(st->err), st->msg ? st->msg : "");
        break;
    case BO_RESP_FAILED:
        finish(s, BO_EXIT_LOCAL, "cannot decrypt [%s]: %s (signed diagnostics %s)",
               bo_stage_name(st->stage), st->msg ? st->msg : "",
               st->err ? "could not be delivered" : "sent to the server");
        break;
    }
}

/* ------------------------------------------------------- bidder submit ---- */

static void print_receipt(cli *s, const bo_receipt *r, bool verified, const uint8_t key_fpr[32])
{
    if (s->o->json || s->o->quiet)
        return;
    char hash[65], commit[65], t[40], kf[65];
    bo_time_format_local(r->ts, s->tz, t, sizeof(t));
    say(s, "回执 receipt: opening %s, bidder %s\n  envelope sha256 %s\n  size %llu bytes, "
           "commitment %s\n  accepted at %s%s\n  server signature %s (key %s)",
        r->oid, r->uscc, bo_hex_encode(r->hash, 32, hash), (unsigned long long)r->size,
        bo_hex_encode(r->commit, 32, commit), t, r->replaced ? " (替换 replaces your earlier bid)" : "",
        verified ? "✓ verified" : "✗ DOES NOT VERIFY", key_fpr ? bo_hex_encode(key_fpr, 32, kf) : "?");
}

static void receipt_json(cli *s, const char *req, const bo_receipt *r, bool verified,
                         const uint8_t key_fpr[32])
{
    bo_buf b;
    bo_buf_init(&b, 16384);
    char hex[2 * BO_SIG_MAX + 1];
    bo_buf_appendf(&b, "{\"type\":\"receipt\",\"req\":\"%s\",\"oid\":", req);
    bo_json_esc_append(&b, r->oid);
    bo_buf_appendf(&b, ",\"uscc\":\"%s\",\"hash\":\"%s\"", r->uscc, bo_hex_encode(r->hash, 32, hex));
    bo_buf_appendf(&b, ",\"size\":%llu,\"commit\":\"%s\",\"ts\":%lld", (unsigned long long)r->size,
                   bo_hex_encode(r->commit, 32, hex), (long long)r->ts);
    bo_buf_appendf(&b, ",\"sig\":\"%s\"", bo_hex_encode(r->sig, r->sig_len, hex));
    bo_buf_appendf(&b, ",\"replaced\":%s,\"verified\":%s", r->replaced ? "true" : "false",
                   verified ? "true" : "false");
    if (key_fpr)
        bo_buf_appendf(&b, ",\"key_fpr\":\"%s\"", bo_hex_encode(key_fpr, 32, hex));
    bo_buf_append_str(&b, "}");
    json_line(s, &b);
    bo_buf_cleanup(&b);
}

static void draw_bar(cli *s, bool final)
{
    int64_t now = bo_clock_mono_ms();
    if (!final && now - s->sub_last_print < (s->tty ? 200 : 5000))
        return;
    s->sub_last_print = now;
    double secs = (double)(now - s->sub_t0) / 1000.0;
    double rate = secs > 0.5 ? (double)(s->sub_done - s->sub_first) / secs : 0;
    unsigned pct = s->sub_total ? (unsigned)(s->sub_done * 100 / s->sub_total) : 0;
    if (s->o->json) {
        bo_buf b;
        bo_buf_init(&b, 512);
        bo_buf_appendf(&b, "{\"type\":\"progress\",\"done\":%llu,\"total\":%llu}",
                       (unsigned long long)s->sub_done, (unsigned long long)s->sub_total);
        json_line(s, &b);
        bo_buf_cleanup(&b);
        return;
    }
    if (s->o->quiet)
        return;
    char line[200];
    if (s->tty) {
        char bar[41];
        unsigned fill = pct * 40 / 100;
        for (unsigned i = 0; i < 40; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[40] = 0;
        snprintf(line, sizeof(line), "上传 uploading [%s] %3u%% %.1f/%.1f MiB %.1f MiB/s", bar, pct,
                 (double)s->sub_done / 1048576.0, (double)s->sub_total / 1048576.0,
                 rate / 1048576.0);
        fprintf(stdout, "\r\033[K%s", line);
        fflush(stdout);
        s->status_shown = true;
        if (final)
            clear_status(s);
    } else if (final ? s->sub_pct_shown != 100 : pct >= s->sub_pct_shown + 10) {
        s->sub_pct_shown = pct;
        snprintf(line, sizeof(line), "上传 uploading %u%% (%llu of %llu bytes)", pct,
                 (unsigned long long)s->sub_done, (unsigned long long)s->sub_total);
        say(s, "%s", line);
    }
}

static void on_sub_progress(void *ud, uint64_t done, uint64_t total)
{
    cli *s = ud;
    if (s->done)
        return;
    if (!s->sub_t0) {
        s->sub_t0 = bo_clock_mono_ms();
        s->sub_first = done;
        s->sub_pct_shown = total ? (unsigned)(done * 100 / total) : 0;
        if (done && !s->o->json)
            say(s, "续传 resuming: the server already holds %llu of %llu bytes",
                (unsigned long long)done, (unsigned long long)total);
    }
    s->sub_done = done;
    s->sub_total = total;
    draw_bar(s, done == total);
}

static void on_sub_done(void *ud, bo_err err, const char *code, const char *msg,
                        const bo_submit_result *res)
{
    cli *s = ud;
    s->sub = NULL;
    if (s->done)
        return;
    if (res->receipt) {
        const uint8_t *kf = res->record && res->record->has_receipt ? res->record->server_key_fpr
                                                                    : NULL;
        if (s->o->json)
            receipt_json(s, "submit", res->receipt, res->receipt_verified, kf);
        print_receipt(s, res->receipt, res->receipt_verified, kf);
    }
    if (!err)
        return finish(s, BO_EXIT_OK, "已递交 submitted");
    if (err == BO_E_CANCELED)
        return finish(s, BO_EXIT_CONNECT, "the upload was interrupted: %s (run the same command "
                                          "again to continue)",
                      msg ? msg : "canceled");
    if (code)
        return finish(s, BO_EXIT_REFUSED, "submit refused: %s %s", code, msg ? msg : "");
    finish(s, res->receipt ? BO_EXIT_LOCAL : BO_EXIT_LOCAL, "submit: %s", msg ? msg : bo_strerror(err));
}

static bo_err start_submit(cli *s)
{
    bo_submit_opts so;
    memset(&so, 0, sizeof(so));
    so.oid = s->o->oid;
    so.envelope = s->o->bid;
    so.commit = s->sub_commit;
    so.store_dir = s->o->store;
    so.progress = on_sub_progress;
    so.done = on_sub_done;
    so.ud = s;
    say(s, "递交 submitting %s to opening %s", s->o->bid, s->o->oid);
    return bo_client_submit_ex(s->c, &so, &s->sub);
}

/* The key commitment of the bid to submit: from its record, or computed with the key. */
static int submit_prepare(cli *s)
{
    const bo_cli_opts *o = s->o;
    char path[1100], detail[600] = "";
    bo_bid_record rec;
    if (access(o->bid, R_OK) != 0) {
        fprintf(stderr, "bidopen: cannot read %s: %s\n", o->bid, strerror(errno));
        return BO_EXIT_LOCAL;
    }
    const char *rp = o->record;
    if (!rp) {
        snprintf(path, sizeof(path), "%s.json", o->bid);
        if (access(path, R_OK) == 0)
            rp = path;
    }
    if (rp) {
        bo_err err = bo_bid_record_read(rp, &rec, detail, sizeof(detail));
        if (err) {
            fprintf(stderr, "bidopen: %s\n", detail);
            return BO_EXIT_LOCAL;
        }
        if (strcmp(rec.seal.oid, o->oid) != 0) {
            fprintf(stderr, "bidopen: %s is a record for opening %s, not %s\n", rp,
                    rec.seal.oid, o->oid);
            bo_bid_record_cleanup(&rec);
            return BO_EXIT_USAGE;
        }
        memcpy(s->sub_commit, rec.seal.commitment, 32);
        bo_bid_record_cleanup(&rec);
        return BO_EXIT_OK;
    }
    if (!o->enc_key) {
        fprintf(stderr, "bidopen: no record %s.json: give --record FILE, or --enc-key KEY to "
                        "compute the key commitment of a bid sealed by another tool\n",
                o->bid);
        return BO_EXIT_USAGE;
    }
    bo_err err;
    bo_key *k = bo_key_load(o->enc_key, o->enc_pass, &err, detail, sizeof(detail));
    if (!k) {
        fprintf(stderr, "bidopen: %s: %s\n", o->enc_key, detail[0] ? detail : bo_strerror(err));
        return BO_EXIT_LOCAL;
    }
    bo_bytes_list enc = bo_cred_enc_chain(s->cred), sign = bo_cred_chain(s->cred);
    char uscc[19];
    if (bo_cert_uscc(sign.v[0].p, sign.v[0].len, NULL, uscc) &&
        bo_cert_uscc(enc.v[0].p, enc.v[0].len, NULL, uscc)) {
        fprintf(stderr, "bidopen: no USCC in the certificates' serialNumber\n");
        bo_key_free(k);
        return BO_EXIT_LOCAL;
    }
    if (!o->quiet && !o->json)
        printf("计算承诺 computing the key commitment of %s (one pass over the file)…\n", o->bid);
    err = bo_envelope_commitment_from_key(o->bid, k, enc.v[0].p, enc.v[0].len, o->oid, uscc,
                                          s->sub_commit, detail, sizeof(detail));
    bo_key_free(k);
    if (err) {
        fprintf(stderr, "bidopen: %s: %s\n", o->bid, detail[0] ? detail : bo_strerror(err));
        return BO_EXIT_LOCAL;
    }
    return BO_EXIT_OK;
}

/* ------------------------------------------------------ bidder receipt ---- */

static void on_receipt_key(void *ud, bo_err err, const char *code, const char *msg,
                           const msgpack_object *data)
{
    cli *s = ud;
    if (reply_failed(s, "server_key", err, code, msg))
        return;
    bo_server_key k;
    char detail[300] = "";
    if (bo_server_key_parse(data, &k, detail, sizeof(detail)))
        return finish(s, BO_EXIT_REFUSED, "server_key: %s", detail);
    bool ok = bo_receipt_verify(&s->rc, &k) == BO_E_OK;
    if (s->o->json)
        receipt_json(s, "receipt", &s->rc, ok, k.fpr);
    print_receipt(s, &s->rc, ok, k.fpr);
    /* compare with (and complete) the local record */
    bo_bid_record rec;
    bo_err e = bo_bidstore_find(s->o->store, s->rc.oid, s->rc.uscc, s->rc.hash, &rec, detail,
                                sizeof(detail));
    if (e) {
        say(s, "注意 note: no local record of this bid in the store (%s): this computer cannot "
               "answer its decryption request without one",
            detail);
    } else {
        char why[200];
        if (bo_receipt_matches(&s->rc, &rec, why, sizeof(why)))
            say(s, "警告 warning: %s", why);
        else
            say(s, "本地记录 local record: matches (%s)", rec.envelope[0] ? rec.envelope : "-");
        if (ok && !rec.has_receipt) {
            rec.has_receipt = true;
            rec.receipt_ts = s->rc.ts;
            rec.receipt_sig = malloc(s->rc.sig_len);
            if (rec.receipt_sig) {
                memcpy(rec.receipt_sig, s->rc.sig, s->rc.sig_len);
                rec.receipt_sig_len = s->rc.sig_len;
                memcpy(rec.server_key_fpr, k.fpr, 32);
                rec.receipt_verified = true;
                bo_bidstore_save(s->o->store, &rec, why, sizeof(why));
            }
        }
        bo_bid_record_cleanup(&rec);
    }
    if (!ok)
        return finish(s, BO_EXIT_REFUSED, "the receipt's signature does not verify with the "
                                          "server's key");
    finish(s, BO_EXIT_OK, NULL);
}

static void on_receipt_reply(void *ud, bo_err err, const char *code, const char *msg,
                             const msgpack_object *data)
{
    cli *s = ud;
    if (reply_failed(s, "receipt", err, code, msg))
        return;
    char detail[300] = "";
    if (bo_receipt_parse(data, &s->rc, detail, sizeof(detail)))
        return finish(s, BO_EXIT_REFUSED, "receipt: %s", detail);
    s->have_rc = true;
    err = bo_client_server_key(s->c, on_receipt_key, s);
    if (err)
        finish(s, BO_EXIT_LOCAL, "server_key: %s", bo_strerror(err));
}

/* --------------------------------------------------------- host decryption ---- */

static void on_ends_reply(void *ud, bo_err err, const char *code, const char *msg,
                          const msgpack_object *data)
{
    cli *s = ud;
    const char *req = bo_cli_cmd_name(s->o->cmd);
    if (s->o->json)
        reply_json(s, req, err, code, msg, data);
    if (reply_failed(s, req, err, code, msg))
        return;
    int64_t ends = 0;
    char t[40];
    if (bo_mpo_i64(data, "ends_at", &ends))
        say(s, "%s: ok, 解密截止 decryption ends at %s", req,
            bo_time_format_local(ends, 480, t, sizeof(t)));
    else
        say(s, "%s: ok", req);
    finish(s, BO_EXIT_OK, NULL);
}

static void on_ready(cli *s)
{
    if (s->request_sent || s->done)
        return;
    const bo_cli_opts *o = s->o;
    bo_err err = BO_E_OK;
    s->request_sent = true;
    switch (o->cmd) {
    case BO_CMD_HOST_CREATE: {
        bo_buf mp;
        bo_buf_init(&mp, 1u << 20);
        char detail[300];
        err = bo_tender_json_to_mp((const char *)s->tender_json.data, s->tender_json.len,
                                   bo_client_server_now(s->c), &mp, detail, sizeof(detail));
        if (err) {
            bo_buf_cleanup(&mp);
            return finish(s, BO_EXIT_USAGE, "%s: %s", o->tender, detail);
        }
        err = bo_client_create(s->c, mp.data, mp.len, on_create_reply, s);
        bo_buf_cleanup(&mp);
        break;
    }
    case BO_CMD_HOST_PAUSE:
        err = bo_client_pause(s->c, o->oid, o->reason, on_simple_reply, s);
        break;
    case BO_CMD_HOST_RESUME:
        err = bo_client_resume(s->c, o->oid, on_simple_reply, s);
        break;
    case BO_CMD_HOST_FAIL:
        err = bo_client_fail(s->c, o->oid, o->reason, on_simple_reply, s);
        break;
    case BO_CMD_BL_ADD:
    case BO_CMD_BL_REMOVE:
    case BO_CMD_BL_REPLACE:
    case BO_CMD_BL_LIST:
        err = send_blacklist(s);
        break;
    case BO_CMD_LIST:
        err = bo_client_list(s->c, on_simple_reply, s);
        break;
    case BO_CMD_HOST_DECRYPT_START:
        err = bo_client_decrypt_start(s->c, o->oid, o->window_s, on_ends_reply, s);
        break;
    case BO_CMD_HOST_EXTEND:
        err = bo_client_decrypt_extend(s->c, o->oid, o->seconds, o->reason, on_ends_reply, s);
        break;
    case BO_CMD_HOST_CLASSIFY:
        err = bo_client_classify(s->c, o->oid, o->usccs[0], o->outcome, o->reason,
                                 on_simple_reply, s);
        break;
    case BO_CMD_BIDDER_SUBMIT:
        err = start_submit(s);
        break;
    case BO_CMD_BIDDER_RECEIPT:
        err = bo_client_receipt(s->c, o->oid, on_receipt_reply, s);
        break;
    case BO_CMD_MESSAGE:
        err = bo_client_message(s->c, o->oid, o->text, on_simple_reply, s);
        if (err == BO_E_INVALID_ARG)
            return finish(s, BO_EXIT_USAGE, "message: the text must be 1 to 300 characters");
        break;
    default:
        break;
    }
    if (err)
        finish(s, err == BO_E_TOO_BIG ? BO_EXIT_USAGE : BO_EXIT_LOCAL, "%s: %s",
               bo_cli_cmd_name(o->cmd), bo_strerror(err));
}

static void on_state(void *ud, bo_client_state st, bo_err err, const char *code,
                     const char *msg)
{
    cli *s = ud;
    if (s->done)
        return;
    if (s->o->json) {
        bo_buf b;
        bo_buf_init(&b, 16384);
        bo_buf_appendf(&b, "{\"type\":\"state\",\"state\":\"%s\"", bo_client_state_name(st));
        if (err) {
            json_str(&b, "err", bo_err_name(err));
            json_str(&b, "code", code);
            json_str(&b, "msg", msg);
        }
        if (st == BO_CLIENT_BACKOFF)
            bo_buf_appendf(&b, ",\"retry_ms\":%lld", (long long)bo_client_retry_in(s->c));
        bo_buf_append_str(&b, "}");
        json_line(s, &b);
        bo_buf_cleanup(&b);
    }
    switch (st) {
    case BO_CLIENT_BACKOFF: {
        char when[16] = "";
        if (s->have_last)
            bo_evfmt_clock(s->last_ts, s->tz, when, sizeof(when));
        if (s->have_last)
            say(s, "重连中 reconnecting… last event #%llu at %s (retry in %.1f s: %s)",
                (unsigned long long)s->last_seq, when, bo_client_retry_in(s->c) / 1000.0,
                msg ? msg : bo_strerror(err));
        else
            say(s, "重连中 reconnecting… (retry in %.1f s: %s)",
                bo_client_retry_in(s->c) / 1000.0, msg ? msg : bo_strerror(err));
        break;
    }
    case BO_CLIENT_FAILED:
        if (code)
            finish(s, BO_EXIT_REFUSED, "refused: %s %s", code, msg ? msg : "");
        else
            finish(s, BO_EXIT_CONNECT, "%s", msg ? msg : bo_strerror(err));
        break;
    case BO_CLIENT_CLOSED:
        if (!s->done)
            finish(s, BO_EXIT_CONNECT, "%s", msg ? msg : "the connection was closed");
        break;
    case BO_CLIENT_READY:
        on_ready(s);
        break;
    case BO_CLIENT_JOINED:
        check_progress(s);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ running ---- */

static int start_client(cli *s, const char *oid, const char *role)
{
    const bo_cli_opts *o = s->o;
    bool observer = strcmp(role, "observer") == 0;
    bool watching = oid != NULL && !is_closing_host_cmd(o->cmd);
    bo_client_opts co = {
        .urls = o->servers,
        .n_urls = o->n_servers,
        .role = role,
        .oid = oid,
        .max_retries = o->retries >= 0                     ? (unsigned)o->retries
                       : watching                          ? 0u
                       : o->cmd == BO_CMD_BIDDER_SUBMIT    ? 10u
                                                           : 3u,
        .cb = {on_state, on_snapshot, on_event, on_presence, on_notice},
        .ud = s,
    };
    if (!observer && s->cred) {
        co.key = bo_cred_key(s->cred);
        co.chain = bo_cred_chain(s->cred);
        co.enc_chain = bo_cred_enc_chain(s->cred);
    }
    bo_err err;
    s->c = bo_client_new(s->ctx, &co, &err);
    if (!s->c) {
        fprintf(stderr, "bidopen: %s\n", err == BO_E_INVALID_ARG
                                             ? "invalid server URL, role, oid or credentials"
                                             : bo_strerror(err));
        return err == BO_E_INVALID_ARG ? BO_EXIT_USAGE : BO_EXIT_LOCAL;
    }
    s->oid = oid;
    if (o->cmd == BO_CMD_BIDDER && o->decrypt) {
        /* before the start: the responder needs the join's snapshot */
        bo_responder_opts ro;
        memset(&ro, 0, sizeof(ro));
        ro.enc_key = s->enc_key;
        ro.key_error = s->enc_key ? NULL : s->enc_key_error;
        ro.store_dir = o->store;
        ro.records = s->have_extra_rec ? &s->extra_rec : NULL;
        ro.n_records = s->have_extra_rec ? 1 : 0;
        ro.on_status = on_resp_status;
        ro.ud = s;
        s->resp = bo_responder_new(s->c, &ro, &err);
        if (!s->resp) {
            fprintf(stderr, "bidopen: cannot answer decryption requests: %s\n", bo_strerror(err));
            return BO_EXIT_LOCAL;
        }
    }
    if (bo_client_start(s->c))
        return BO_EXIT_LOCAL;
    return BO_EXIT_OK;
}

static void on_tick(uv_timer_t *t)
{
    cli *s = t->data;
    if (s->done)
        return;
    if (s->give_up_at && bo_clock_mono_ms() >= s->give_up_at) {
        char what[64] = "the condition";
        if (s->o->until)
            snprintf(what, sizeof(what), "phase '%s'", s->o->until);
        return finish(s, BO_EXIT_TIMEOUT, "timed out after %g s before %s was reached",
                      s->o->timeout_s, what);
    }
    if (s->c && bo_client_state_get(s->c) == BO_CLIENT_JOINED)
        render_status(s);
    if (is_closing_host_cmd(s->o->cmd) && s->reply_ok)
        check_progress(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    cli *s = h->data;
    bool condition = s->o->until || (is_bidder_cmd(s->o->cmd) && !s->o->watch) ||
                     (s->o->cmd != BO_CMD_HOST_WATCH && s->o->cmd != BO_CMD_SITE &&
                      s->o->cmd != BO_CMD_OBSERVE && !s->o->watch);
    if (s->o->cmd == BO_CMD_BIDDER_SUBMIT)
        return finish(s, BO_EXIT_TIMEOUT, "interrupted: run the same command again to continue "
                                          "the upload where the server stopped");
    finish(s, condition ? BO_EXIT_TIMEOUT : BO_EXIT_OK, "interrupted");
}

static bool is_done(void *arg)
{
    return ((cli *)arg)->done;
}

static const char *default_role(const bo_cli_opts *o)
{
    if (o->role)
        return o->role;
    switch (o->cmd) {
    case BO_CMD_BIDDER:
    case BO_CMD_BIDDER_SUBMIT:
    case BO_CMD_BIDDER_RECEIPT:
    case BO_CMD_BIDDER_CONFIRM:
    case BO_CMD_BIDDER_OBJECT:
        return "bidder";
    case BO_CMD_MESSAGE:
        return o->enc_cert ? "bidder" : "host";
    case BO_CMD_SITE:
        return "site";
    case BO_CMD_OBSERVE:
        return "observer";
    case BO_CMD_BL_ADD:
    case BO_CMD_BL_REMOVE:
    case BO_CMD_BL_REPLACE:
    case BO_CMD_BL_LIST:
        return "operator";
    case BO_CMD_LIST:
        return o->cert || o->p12 ? "host" : "observer";
    default:
        return "host";
    }
}

static void close_quiet(uv_handle_t *h)
{
    (void)h;
}

/* ------------------------------------------------------- local commands ---- */

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* bidopen seal: build the package and seal it (or write the package only). */
static int run_seal(const bo_cli_opts *o)
{
    bo_cred_files f = {o->cert, o->key, o->pass, o->p12, o->enc_cert};
    bo_err err;
    char detail[600] = "";
    bo_cred *cred = bo_cred_load(&f, &err, detail, sizeof(detail));
    if (!cred) {
        fprintf(stderr, "bidopen: %s\n", detail[0] ? detail : bo_strerror(err));
        return BO_EXIT_LOCAL;
    }
    bo_bytes_list sign = bo_cred_chain(cred), enc = bo_cred_enc_chain(cred);
    char uscc[19] = "";
    if (o->n_usccs) {
        snprintf(uscc, sizeof(uscc), "%s", o->usccs[0]);
    } else if (bo_cert_uscc(sign.v[0].p, sign.v[0].len, NULL, uscc) != BO_E_OK &&
               (!enc.n || bo_cert_uscc(enc.v[0].p, enc.v[0].len, NULL, uscc) != BO_E_OK)) {
        fprintf(stderr, "bidopen: seal: no USCC in the signing certificate's serialNumber: give "
                        "--uscc\n");
        bo_cred_free(cred);
        return BO_EXIT_USAGE;
    }
    bo_package_field form[BO_CLI_MAX_FORMS];
    char *keys[BO_CLI_MAX_FORMS];
    for (size_t i = 0; i < o->n_forms; i++) {
        const char *eq = strchr(o->forms[i], '=');
        keys[i] = strndup(o->forms[i], (size_t)(eq - o->forms[i]));
        form[i].key = keys[i];
        form[i].value = eq + 1;
    }
    bo_package_doc *docs = calloc(o->n_docs ? o->n_docs : 1, sizeof(*docs));
    for (size_t i = 0; docs && i < o->n_docs; i++) {
        docs[i].name = base_name(o->docs[i]);
        docs[i].path = o->docs[i];
    }
    bo_package_spec spec = {
        .oid = o->oid,
        .uscc = uscc,
        .form = form,
        .n_form = o->n_forms,
        .docs = docs,
        .n_docs = o->n_docs,
        .sign_cert_der = sign.v[0].p,
        .sign_cert_len = sign.v[0].len,
    };
    int rc = BO_EXIT_OK;
    if (!docs) {
        rc = BO_EXIT_LOCAL;
    } else if (o->package_only) {
        err = bo_package_write_file(&spec, bo_cred_key(cred), o->out, detail, sizeof(detail));
        if (err) {
            fprintf(stderr, "bidopen: seal: %s\n", detail[0] ? detail : bo_strerror(err));
            rc = err == BO_E_INVALID_ARG ? BO_EXIT_USAGE : BO_EXIT_LOCAL;
        } else if (o->json) {
            printf("{\"type\":\"package\",\"out\":");
            bo_buf b;
            bo_buf_init(&b, 4096);
            bo_json_esc_append(&b, o->out);
            printf("%s}\n", (char *)b.data);
            bo_buf_cleanup(&b);
        } else if (!o->quiet) {
            printf("package written to %s (signed, not sealed): seal it with e.g.\n"
                   "  openssl cms -encrypt -binary -stream -aes-256-gcm -outform DER "
                   "-recip ENC-CERT.pem -in %s -out BID.cms\n"
                   "then submit with: bidopen bidder submit --bid BID.cms --enc-key ENC-KEY ...\n",
                   o->out, o->out);
        }
    } else {
        bo_seal_opts so;
        memset(&so, 0, sizeof(so));
        so.cipher = o->cbc ? BO_SEAL_AES256_CBC : BO_SEAL_AES256_GCM;
        so.rsa_padding = o->rsa_pkcs1 ? BO_SEAL_RSA_PKCS1 : BO_SEAL_RSA_OAEP_SHA256;
        so.oid = o->oid;
        so.uscc = uscc;
        bo_seal_result res;
        memset(&res, 0, sizeof(res));
        bo_bytes cert = enc.v[0];
        err = bo_seal_package(&spec, bo_cred_key(cred), &so, &cert, 1, o->out, &res, detail,
                              sizeof(detail));
        bo_bid_record rec;
        memset(&rec, 0, sizeof(rec));
        if (!err) {
            rec.seal = res.record;
            snprintf(rec.cipher, sizeof(rec.cipher), "%s", o->cbc ? "aes-256-cbc" : "aes-256-gcm");
            char abs[1024];
            snprintf(rec.envelope, sizeof(rec.envelope), "%s",
                     realpath(o->out, abs) ? abs : o->out);
            rec.ri = malloc(res.ri.list.v[0].len);
            rec.enc_cert = malloc(cert.len);
            if (!rec.ri || !rec.enc_cert) {
                err = BO_E_NOMEM;
            } else {
                memcpy(rec.ri, res.ri.list.v[0].p, res.ri.list.v[0].len);
                rec.ri_len = res.ri.list.v[0].len;
                memcpy(rec.enc_cert, cert.p, cert.len);
                rec.enc_cert_len = cert.len;
                bo_cert_fpr(cert.p, cert.len, rec.enc_fpr);
                rec.created = bo_clock_now_ms();
                char side[1100];
                snprintf(side, sizeof(side), "%s.json", o->out);
                err = bo_bid_record_write(side, &rec, detail, sizeof(detail));
            }
        }
        if (err) {
            fprintf(stderr, "bidopen: seal: %s\n", detail[0] ? detail : bo_strerror(err));
            rc = err == BO_E_INVALID_ARG || err == BO_E_UNSUPPORTED_KEY ? BO_EXIT_USAGE
                                                                        : BO_EXIT_LOCAL;
        } else {
            char h[65], c[65];
            bo_hex_encode(rec.seal.env_sha256, 32, h);
            bo_hex_encode(rec.seal.commitment, 32, c);
            if (o->json)
                printf("{\"type\":\"sealed\",\"oid\":\"%s\",\"uscc\":\"%s\",\"hash\":\"%s\","
                       "\"size\":%llu,\"commitment\":\"%s\",\"cipher\":\"%s\"}\n",
                       rec.seal.oid, rec.seal.uscc, h, (unsigned long long)rec.seal.env_size, c,
                       rec.cipher);
            else if (!o->quiet)
                printf("已封装 sealed %s (%llu bytes, %s) for opening %s, bidder %s\n"
                       "  envelope sha256 %s\n  key commitment  %s\n  record          %s.json\n",
                       o->out, (unsigned long long)rec.seal.env_size, rec.cipher, rec.seal.oid,
                       rec.seal.uscc, h, c, o->out);
        }
        bo_bid_record_cleanup(&rec);
        bo_seal_result_cleanup(&res);
    }
    for (size_t i = 0; i < o->n_forms; i++)
        free(keys[i]);
    free(docs);
    bo_cred_free(cred);
    return rc;
}

/* bidopen bidder preflight: local, nothing sent. */
static int run_preflight(const bo_cli_opts *o)
{
    char detail[600] = "";
    bo_err err;
    bo_blob_list held = {0};
    if (o->enc_cert && bo_pem_chain_load(o->enc_cert, &held) != BO_E_OK) {
        fprintf(stderr, "bidopen: cannot read %s\n", o->enc_cert);
        return BO_EXIT_LOCAL;
    }
    char uscc[19] = "";
    if (o->cert) {
        bo_blob_list sc = {0};
        if (bo_pem_chain_load(o->cert, &sc) == BO_E_OK && sc.list.n)
            bo_cert_uscc(sc.list.v[0].p, sc.list.v[0].len, NULL, uscc);
        bo_blob_list_cleanup(&sc);
    }
    bo_bid_record *recs = NULL;
    size_t n = 0;
    if (o->record) {
        recs = calloc(1, sizeof(*recs));
        err = recs ? bo_bid_record_read(o->record, recs, detail, sizeof(detail)) : BO_E_NOMEM;
        n = err ? 0 : 1;
    } else {
        err = bo_bidstore_load(o->store, o->oid, uscc[0] ? uscc : NULL, &recs, &n, detail,
                               sizeof(detail));
    }
    if (err || n == 0) {
        fprintf(stderr, "bidopen: preflight: %s\n",
                err ? detail : "no record of a bid for this opening in the store (give "
                               "--record BID.cms.json, or --store DIR)");
        bo_bid_records_free(recs, n);
        bo_blob_list_cleanup(&held);
        return BO_EXIT_LOCAL;
    }
    bo_key *k = bo_key_load(o->enc_key, o->enc_pass, &err, detail, sizeof(detail));
    if (!k) {
        fprintf(stderr, "bidopen: preflight [token]: the key %s could not be loaded: %s\n",
                o->enc_key, detail[0] ? detail : bo_strerror(err));
        bo_bid_records_free(recs, n);
        bo_blob_list_cleanup(&held);
        return BO_EXIT_LOCAL;
    }
    /* the bid that counts: the newest with a receipt, else the newest */
    size_t cur = 0;
    for (size_t i = 0; i < n; i++)
        if (recs[i].has_receipt) {
            cur = i;
            break;
        }
    int rc = BO_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        bo_preflight_result r;
        bo_preflight(&recs[i], k, held.list.n ? held.list.v[0].p : NULL,
                     held.list.n ? held.list.v[0].len : 0, &r);
        char h[17];
        bo_hex_encode(recs[i].seal.env_sha256, 8, h);
        if (o->json) {
            bo_buf b;
            bo_buf_init(&b, 8192);
            bo_buf_appendf(&b, "{\"type\":\"preflight\",\"bid\":\"%s\",\"current\":%s,\"ok\":%s,"
                               "\"stage\":\"%s\",\"msg\":",
                           h, i == cur ? "true" : "false", r.err ? "false" : "true",
                           bo_stage_name(r.stage));
            bo_json_esc_append(&b, r.msg);
            bo_buf_appendf(&b, ",\"sealed_serial\":\"%s\",\"held_serial\":\"%s\"}",
                           r.sealed_serial, r.held_serial);
            printf("%s\n", (char *)b.data);
            bo_buf_cleanup(&b);
        } else if (!o->quiet || r.err) {
            printf("%s bid %s…%s%s: %s\n", r.err ? "✗" : "✓", h,
                   recs[i].has_receipt ? " (submitted)" : "", i == cur ? "" : " (older)", r.msg);
        }
        if (i == cur && r.err)
            rc = BO_EXIT_LOCAL;
    }
    bo_key_free(k);
    bo_bid_records_free(recs, n);
    bo_blob_list_cleanup(&held);
    return rc;
}

int bo_cli_run(const bo_cli_opts *o)
{
    if (o->cmd == BO_CMD_VERSION) {
        printf("bidopen %s\n", BO_VERSION);
        return BO_EXIT_OK;
    }
    if (o->cmd == BO_CMD_PKI_INIT) {
        char detail[300] = "";
        bo_err err = bo_pki_write_demo(o->dir, bo_clock_now_ms(), detail, sizeof(detail));
        if (err) {
            fprintf(stderr, "bidopen: pki init: %s%s%s\n", bo_strerror(err),
                    detail[0] ? ": " : "", detail);
            return BO_EXIT_LOCAL;
        }
        if (!o->quiet)
            printf("demo PKI written to %s\n", o->dir);
        return BO_EXIT_OK;
    }
    if (o->cmd == BO_CMD_SEAL)
        return run_seal(o);
    if (o->cmd == BO_CMD_BIDDER_PREFLIGHT)
        return run_preflight(o);
    if (o->cmd == BO_CMD_VERIFY)
        return bo_cli_run_verify(o);
    if (o->cmd == BO_CMD_HOST_EXPORT)
        return bo_cli_run_export(o);

    cli s;
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.tz = 480;
    s.tty = isatty(STDOUT_FILENO) && !o->json;
    s.role = default_role(o);
    strcpy(s.phase, "?");
    bo_buf_init(&s.tender_json, BO_TENDER_JSON_MAX);
    bo_buf_init(&s.last_presence, 1u << 20);
    bo_buf_init(&s.tender_mp, 1u << 20);

    /* everything local is checked before connecting */
    if (o->cmd == BO_CMD_HOST_CREATE) {
        if (read_file(o->tender, &s.tender_json)) {
            fprintf(stderr, "bidopen: cannot read %s (at most 1 MiB)\n", o->tender);
            bo_buf_cleanup(&s.tender_json);
            return BO_EXIT_LOCAL;
        }
        bo_buf mp;
        bo_buf_init(&mp, 1u << 20);
        char detail[300];
        bo_err err = bo_tender_json_to_mp((const char *)s.tender_json.data, s.tender_json.len,
                                          bo_clock_now_ms(), &mp, detail, sizeof(detail));
        bo_buf_cleanup(&mp);
        if (err) {
            fprintf(stderr, "bidopen: %s: %s\n", o->tender,
                    err == BO_E_BAD_TENDER ? detail : bo_strerror(err));
            bo_buf_cleanup(&s.tender_json);
            return BO_EXIT_USAGE;
        }
    }
    if (strcmp(s.role, "observer") != 0) {
        bo_cred_files f = {o->cert, o->key, o->pass, o->p12, o->enc_cert};
        bo_err err;
        char detail[400];
        s.cred = bo_cred_load(&f, &err, detail, sizeof(detail));
        if (!s.cred) {
            fprintf(stderr, "bidopen: %s\n", detail[0] ? detail : bo_strerror(err));
            bo_buf_cleanup(&s.tender_json);
            return BO_EXIT_LOCAL;
        }
    }
    int prep = BO_EXIT_OK;
    if (o->cmd == BO_CMD_BIDDER_SUBMIT)
        prep = submit_prepare(&s);
    if (!prep && o->cmd == BO_CMD_BIDDER && o->decrypt) {
        char detail[400] = "";
        bo_err err;
        s.enc_key = bo_key_load(o->enc_key, o->enc_pass, &err, detail, sizeof(detail));
        if (!s.enc_key) {
            snprintf(s.enc_key_error, sizeof(s.enc_key_error), "%s",
                     detail[0] ? detail : bo_strerror(err));
            if (strncmp(o->enc_key, "pkcs11:", 7) != 0) {
                fprintf(stderr, "bidopen: %s: %s\n", o->enc_key, s.enc_key_error);
                prep = BO_EXIT_LOCAL;
            } else {
                fprintf(stderr, "bidopen: 警告 the token key could not be opened: %s\n"
                                "(the decryption request will be answered with signed "
                                "diagnostics, stage token)\n",
                        s.enc_key_error);
            }
        }
        if (!prep && o->record) {
            if (bo_bid_record_read(o->record, &s.extra_rec, detail, sizeof(detail))) {
                fprintf(stderr, "bidopen: %s\n", detail);
                prep = BO_EXIT_LOCAL;
            } else {
                s.have_extra_rec = true;
            }
        }
    }
    if (prep) {
        bo_key_free(s.enc_key);
        bo_bid_record_cleanup(&s.extra_rec);
        bo_cred_free(s.cred);
        bo_buf_cleanup(&s.tender_json);
        return prep;
    }

    uv_loop_init(&s.loop);
    uv_timer_init(&s.loop, &s.table_timer);
    s.table_timer.data = &s;
    bo_client_ctx_opts co = {.ca_file = o->ca, .lws_log_level = 0};
    bo_err err;
    s.ctx = bo_client_ctx_new(&s.loop, &co, &err);
    int rc = BO_EXIT_OK;
    if (!s.ctx) {
        fprintf(stderr, "bidopen: %s%s\n", o->ca ? o->ca : "TLS setup",
                err == BO_E_IO ? ": cannot read the CA file"
                : err == BO_E_CERT_INVALID ? ": no certificate in the CA file"
                                           : ": cannot set up TLS");
        rc = BO_EXIT_LOCAL;
    }
    if (!rc) {
        bool joins = o->cmd == BO_CMD_HOST_WATCH || is_bidder_cmd(o->cmd) ||
                     o->cmd == BO_CMD_SITE || o->cmd == BO_CMD_OBSERVE ||
                     is_closing_host_cmd(o->cmd);
        rc = start_client(&s, joins ? o->oid : NULL, s.role);
    }
    if (!rc) {
        uv_timer_init(&s.loop, &s.tick);
        s.tick.data = &s;
        if (o->timeout_s > 0)
            s.give_up_at = bo_clock_mono_ms() + (int64_t)(o->timeout_s * 1000);
        uv_timer_start(&s.tick, on_tick, 200, 1000);
        uv_signal_init(&s.loop, &s.sigint);
        uv_signal_init(&s.loop, &s.sigterm);
        s.sigint.data = s.sigterm.data = &s;
        uv_signal_start(&s.sigint, on_signal, SIGINT);
        uv_signal_start(&s.sigterm, on_signal, SIGTERM);
        bo_client_run_until(&s.loop, is_done, &s, -1);
        rc = s.exit_code;
        uv_close((uv_handle_t *)&s.tick, close_quiet);
        uv_close((uv_handle_t *)&s.sigint, close_quiet);
        uv_close((uv_handle_t *)&s.sigterm, close_quiet);
    }
    clear_status(&s);
    if (s.sub)
        bo_submission_cancel(s.sub);
    bo_responder_free(s.resp);
    bo_client_free(s.c);
    bo_client_ctx_free(s.ctx);
    uv_close((uv_handle_t *)&s.table_timer, close_quiet);
    uv_run(&s.loop, UV_RUN_DEFAULT); /* also the responder's last job on the worker pool */
    uv_loop_close(&s.loop);
    bo_key_free(s.enc_key);
    bo_bid_record_cleanup(&s.extra_rec);
    free(s.bstates);
    rows_clear(&s);
    free(s.rows);
    bo_buf_cleanup(&s.tender_mp);
    bo_cred_free(s.cred);
    bo_buf_cleanup(&s.tender_json);
    bo_buf_cleanup(&s.last_presence);
    return rc;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++) /* host site-link reads its own options (bo/sitelink.h) */
        if (!strcmp(argv[i], "host") && !strcmp(argv[i + 1], "site-link"))
            return bo_sitelink_cli(argc, argv);
    bo_cli_opts o;
    bo_buf msg;
    bo_buf_init(&msg, 4096);
    int rc = bo_cli_parse(argc, argv, &o, &msg);
    if (rc) {
        fprintf(stderr, "bidopen: %s\n(bidopen --help for usage)\n",
                msg.data ? (char *)msg.data : "usage error");
        bo_buf_cleanup(&msg);
        return rc;
    }
    bo_buf_cleanup(&msg);
    if (o.help) {
        fputs(bo_cli_usage(o.cmd), stdout);
        return BO_EXIT_OK;
    }
    signal(SIGPIPE, SIG_IGN);
    return bo_cli_run(&o);
}
