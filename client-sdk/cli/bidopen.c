/* bidopen: the command-line client (docs/cli.md is its manual). */
#include <jansson.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bo/client.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/evfmt.h"
#include "bo/hex.h"
#include "bo/json_esc.h"
#include "bo/mpjson.h"
#include "bo/pki.h"
#include "bo/sitelink.h"
#include "bo/tender_json.h"
#include "bo_cli.h"

#ifndef BO_VERSION
#define BO_VERSION "0.0.0"
#endif

#define FILE_MAX (16u << 20) /* tender and blacklist files */

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
    if (o->cmd == BO_CMD_BIDDER) {
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
    }
    s->have_snap = true;
}

static void on_snapshot(void *ud, const msgpack_object *snap, bool recovered)
{
    cli *s = ud;
    if (s->done)
        return;
    if (s->o->json) {
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
    if (s->o->json) {
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
    } else if (strcmp(ev->kind, "bidder_signed_in") == 0 && own_uscc(s, ev->body)) {
        s->signed_in = true;
    }
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
    bool watching = oid != NULL;
    bo_client_opts co = {
        .urls = o->servers,
        .n_urls = o->n_servers,
        .role = role,
        .oid = oid,
        .max_retries = o->retries >= 0 ? (unsigned)o->retries : (watching ? 0u : 3u),
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
}

static void on_signal(uv_signal_t *h, int signum)
{
    cli *s = h->data;
    bool condition = s->o->until || (s->o->cmd == BO_CMD_BIDDER && !s->o->watch) ||
                     (s->o->cmd != BO_CMD_HOST_WATCH && s->o->cmd != BO_CMD_SITE &&
                      s->o->cmd != BO_CMD_OBSERVE && !s->o->watch);
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
        return "bidder";
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

    cli s;
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.tz = 480;
    s.tty = isatty(STDOUT_FILENO) && !o->json;
    s.role = default_role(o);
    strcpy(s.phase, "?");
    bo_buf_init(&s.tender_json, BO_TENDER_JSON_MAX);
    bo_buf_init(&s.last_presence, 1u << 20);

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

    uv_loop_init(&s.loop);
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
        bool joins = o->cmd == BO_CMD_HOST_WATCH || o->cmd == BO_CMD_BIDDER ||
                     o->cmd == BO_CMD_SITE || o->cmd == BO_CMD_OBSERVE;
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
    bo_client_free(s.c);
    bo_client_ctx_free(s.ctx);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    uv_loop_close(&s.loop);
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
