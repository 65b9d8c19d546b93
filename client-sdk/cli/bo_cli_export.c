/* bidopen CLI: `host export` (the server's export request, in pieces, to files) and
 * `verify` (a transcript checked offline with session/'s verifier). docs/cli.md is the
 * manual, docs/transcript.md the formats and the checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/client.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/export.h"
#include "bo/hex.h"
#include "bo/identity.h"
#include "bo/json_esc.h"
#include "bo/transcript.h"
#include "bo/verify.h"
#include "bo_cli.h"
#include "bo_cli_export.h"

#define EXPORT_TIMEOUT_MS 120000 /* without --timeout */

/* ---------------------------------------------------------------- files ---- */

/* Write a file atomically: a temporary file beside it, then rename. */
static int write_file(const char *path, const uint8_t *p, size_t n)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.part", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    bool ok = fwrite(p, 1, n, f) == n;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Read a whole file of at most cap bytes. */
static int read_all(const char *path, size_t cap, bo_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = 0;
    uint8_t chunk[65536];
    size_t n;
    while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (out->len + n > cap || bo_buf_append(out, chunk, n))
            rc = -2;
    if (ferror(f))
        rc = -1;
    fclose(f);
    return rc;
}

/* --------------------------------------------------------------- export ---- */

typedef struct exp {
    const bo_cli_opts *o;
    uv_loop_t loop;
    bo_client_ctx *ctx;
    bo_client *c;
    bo_cred *cred;
    bo_export_format formats[5];
    size_t n_formats, at; /* the format being downloaded */
    bo_buf doc;           /* its bytes so far */
    uint64_t total;
    unsigned restarts;    /* the document changed size while downloading */
    unsigned refused;     /* formats the server refused */
    bool sent, done;
    int exit_code;
} exp;

static void exp_finish(exp *e, int code)
{
    if (!e->done) {
        e->done = true;
        e->exit_code = code;
    }
}

static const char *exp_path(const exp *e, bo_export_format f, char *out, size_t n)
{
    if (e->o->out)
        snprintf(out, n, "%s", e->o->out);
    else
        snprintf(out, n, "%s/%s%s", e->o->all_dir, e->o->oid, bo_export_suffix(f));
    return out;
}

static void exp_request(exp *e);

static void exp_next_format(exp *e)
{
    e->at++;
    bo_buf_reset(&e->doc);
    e->total = 0;
    e->restarts = 0;
    if (e->at == e->n_formats)
        exp_finish(e, e->refused ? BO_EXIT_REFUSED : BO_EXIT_OK);
    else
        exp_request(e);
}

static void exp_say(const exp *e, bo_export_format f, const char *path, const char *mime,
                    const char *code, const char *msg)
{
    if (e->o->json) {
        bo_buf b;
        bo_buf_init(&b, 8192);
        bo_buf_appendf(&b, "{\"type\":\"export\",\"format\":\"%s\",\"oid\":",
                       bo_export_format_name(f));
        bo_json_esc_append(&b, e->o->oid);
        if (code) {
            bo_buf_appendf(&b, ",\"ok\":false,\"code\":\"%s\",\"msg\":", code);
            bo_json_esc_append(&b, msg ? msg : "");
        } else {
            bo_buf_appendf(&b, ",\"ok\":true,\"bytes\":%zu,\"mime\":\"%s\",\"file\":",
                           e->doc.len, mime);
            bo_json_esc_append(&b, path);
        }
        bo_buf_append_str(&b, "}\n");
        fputs(b.data ? (const char *)b.data : "", stdout);
        bo_buf_cleanup(&b);
    } else if (code) {
        fprintf(stderr, "bidopen: export %s of %s refused: %s%s%s\n", bo_export_format_name(f),
                e->o->oid, code, msg ? ": " : "", msg ? msg : "");
    } else if (!e->o->quiet) {
        printf("%s: %s (%zu bytes, %s)\n", bo_export_format_name(f), path, e->doc.len, mime);
    }
    fflush(stdout);
}

static void exp_on_reply(void *ud, bo_err err, const char *code, const char *msg,
                         const msgpack_object *data)
{
    exp *e = ud;
    bo_export_format f = e->formats[e->at];
    e->sent = false;
    if (e->done)
        return;
    if (err == BO_E_CANCELED)
        return; /* the connection dropped: the client reconnects and exp_on_state asks again */
    if (err) {
        exp_say(e, f, NULL, NULL, code ? code : bo_err_name(err), msg);
        if (err == BO_E_NOT_FOUND) {
            exp_finish(e, BO_EXIT_REFUSED);
            return;
        }
        e->refused++;
        exp_next_format(e);
        return;
    }
    const uint8_t *p = NULL;
    size_t n = 0;
    uint64_t offset = 0, total = 0;
    const char *mime;
    size_t mime_len;
    if (!data || !bo_mpo_bin(data, "data", &p, &n) || !bo_mpo_u64(data, "offset", &offset) ||
        !bo_mpo_u64(data, "total", &total) || !bo_mpo_str(data, "mime", &mime, &mime_len) ||
        total > BO_TRANSCRIPT_MAX_BYTES || offset != e->doc.len || offset + n > total) {
        fprintf(stderr, "bidopen: export %s: the server's reply is not a piece of it\n",
                bo_export_format_name(f));
        exp_finish(e, BO_EXIT_REFUSED);
        return;
    }
    if (e->doc.len && total != e->total) {
        /* the log grew meanwhile (the opening still runs): start again, a few times */
        if (++e->restarts > 3) {
            fprintf(stderr, "bidopen: export %s: the opening keeps changing; try again later\n",
                    bo_export_format_name(f));
            exp_finish(e, BO_EXIT_REFUSED);
            return;
        }
        bo_buf_reset(&e->doc);
        exp_request(e);
        return;
    }
    e->total = total;
    if (n && bo_buf_append(&e->doc, p, n)) {
        exp_finish(e, BO_EXIT_LOCAL);
        return;
    }
    if (e->doc.len < total) {
        exp_request(e);
        return;
    }
    char path[4096], mt[128];
    snprintf(mt, sizeof(mt), "%.*s", (int)(mime_len < 100 ? mime_len : 100), mime);
    exp_path(e, f, path, sizeof(path));
    if (write_file(path, e->doc.data ? e->doc.data : (const uint8_t *)"", e->doc.len)) {
        fprintf(stderr, "bidopen: cannot write %s: %s\n", path, strerror(errno));
        exp_finish(e, BO_EXIT_LOCAL);
        return;
    }
    exp_say(e, f, path, mt, NULL, NULL);
    exp_next_format(e);
}

static void exp_request(exp *e)
{
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_EXPORT;
    m.u.export_req.oid = e->o->oid;
    m.u.export_req.format = bo_export_format_name(e->formats[e->at]);
    m.u.export_req.offset = e->doc.len;
    m.u.export_req.has_offset = e->doc.len > 0;
    bo_err err = bo_client_request(e->c, &m, exp_on_reply, e);
    if (err == BO_E_UNAUTHENTICATED)
        return; /* not connected now: asked again when READY */
    if (err) {
        fprintf(stderr, "bidopen: export: %s\n", bo_strerror(err));
        exp_finish(e, BO_EXIT_LOCAL);
        return;
    }
    e->sent = true;
}

static void exp_on_state(void *ud, bo_client_state st, bo_err err, const char *code,
                         const char *msg)
{
    exp *e = ud;
    if (st == BO_CLIENT_READY && !e->sent && !e->done) {
        bo_buf_reset(&e->doc); /* after a reconnect: the piece in flight is lost */
        e->total = 0;
        exp_request(e);
    } else if (st == BO_CLIENT_FAILED) {
        fprintf(stderr, "bidopen: %s%s%s\n", code ? code : bo_strerror(err), msg ? ": " : "",
                msg ? msg : "");
        exp_finish(e, code ? BO_EXIT_REFUSED : BO_EXIT_CONNECT);
    }
}

static bool exp_done(void *arg)
{
    return ((exp *)arg)->done;
}

int bo_cli_run_export(const bo_cli_opts *o)
{
    exp e;
    memset(&e, 0, sizeof(e));
    e.o = o;
    bo_buf_init(&e.doc, BO_TRANSCRIPT_MAX_BYTES);
    if (o->all_dir) {
        static const bo_export_format all[] = {BO_EXPORT_RECORD, BO_EXPORT_OCDS, BO_EXPORT_HTML,
                                               BO_EXPORT_TRANSCRIPT_PUBLIC,
                                               BO_EXPORT_TRANSCRIPT};
        memcpy(e.formats, all, sizeof(all));
        e.n_formats = 5;
        if (mkdir(o->all_dir, 0755) && errno != EEXIST) {
            fprintf(stderr, "bidopen: cannot make %s: %s\n", o->all_dir, strerror(errno));
            return BO_EXIT_LOCAL;
        }
    } else {
        bo_export_format_parse(o->format, &e.formats[0]); /* checked by the parser */
        e.n_formats = 1;
    }
    const char *role = o->role ? o->role : "host";
    bool observer = !strcmp(role, "observer");
    if (!observer) {
        bo_cred_files f = {o->cert, o->key, o->pass, o->p12, NULL};
        bo_err err;
        char detail[400] = "";
        e.cred = bo_cred_load(&f, &err, detail, sizeof(detail));
        if (!e.cred) {
            fprintf(stderr, "bidopen: %s\n", detail[0] ? detail : bo_strerror(err));
            bo_buf_cleanup(&e.doc);
            return BO_EXIT_LOCAL;
        }
    }
    uv_loop_init(&e.loop);
    bo_client_ctx_opts co = {.ca_file = o->ca, .lws_log_level = 0};
    bo_err err;
    e.ctx = bo_client_ctx_new(&e.loop, &co, &err);
    int rc = BO_EXIT_OK;
    if (!e.ctx) {
        fprintf(stderr, "bidopen: %s: cannot set up TLS\n", o->ca ? o->ca : "TLS");
        rc = BO_EXIT_LOCAL;
    }
    if (!rc) {
        bo_client_opts cl = {
            .urls = o->servers,
            .n_urls = o->n_servers,
            .role = role,
            .max_retries = o->retries >= 0 ? (unsigned)o->retries : 3u,
            .cb = {.on_state = exp_on_state},
            .ud = &e,
        };
        if (e.cred) {
            cl.key = bo_cred_key(e.cred);
            cl.chain = bo_cred_chain(e.cred);
        }
        e.c = bo_client_new(e.ctx, &cl, &err);
        if (!e.c || bo_client_start(e.c)) {
            fprintf(stderr, "bidopen: invalid server URL, role or credentials\n");
            rc = BO_EXIT_USAGE;
        }
    }
    if (!rc) {
        int64_t timeout = o->timeout_s > 0 ? (int64_t)(o->timeout_s * 1000) : EXPORT_TIMEOUT_MS;
        if (bo_client_run_until(&e.loop, exp_done, &e, timeout) == BO_E_TIMEOUT) {
            fprintf(stderr, "bidopen: export: no answer within %lld s\n",
                    (long long)(timeout / 1000));
            rc = BO_EXIT_TIMEOUT;
        } else {
            rc = e.exit_code;
        }
    }
    if (o->json)
        printf("{\"type\":\"exit\",\"code\":%d,\"msg\":\"\"}\n", rc);
    bo_client_free(e.c);
    bo_client_ctx_free(e.ctx);
    uv_run(&e.loop, UV_RUN_DEFAULT);
    uv_loop_close(&e.loop);
    bo_cred_free(e.cred);
    bo_buf_cleanup(&e.doc);
    return rc;
}

/* --------------------------------------------------------------- verify ---- */

typedef struct ver {
    const bo_cli_opts *o;
} ver;

static void ver_report(void *ud, const bo_verify_finding *f)
{
    const ver *v = ud;
    if (v->o->json) {
        bo_buf b;
        bo_buf_init(&b, 8192);
        bo_buf_appendf(&b, "{\"type\":\"finding\",\"level\":\"%s\",\"check\":\"%s\",\"seq\":%llu,"
                           "\"kind\":",
                       bo_verify_level_name(f->level), f->check, (unsigned long long)f->seq);
        if (f->kind)
            bo_json_esc_append(&b, f->kind);
        else
            bo_buf_append_str(&b, "null");
        bo_buf_append_str(&b, ",\"msg\":");
        bo_json_esc_append(&b, f->msg);
        bo_buf_append_str(&b, "}\n");
        fputs(b.data ? (const char *)b.data : "", stdout);
        bo_buf_cleanup(&b);
        return;
    }
    if (v->o->quiet && f->level != BO_VERIFY_ERROR)
        return;
    static const char *const tag[] = {"ok", "UNCHECKED", "ERROR"};
    char where[96] = "";
    if (f->seq && f->kind)
        snprintf(where, sizeof(where), "event %llu (%s): ", (unsigned long long)f->seq, f->kind);
    else if (f->seq)
        snprintf(where, sizeof(where), "event %llu: ", (unsigned long long)f->seq);
    printf("%-9s %-12s %s%s\n", tag[f->level], f->check, where, f->msg);
}

int bo_cli_run_verify(const bo_cli_opts *o)
{
    bo_buf t;
    bo_buf_init(&t, BO_TRANSCRIPT_MAX_BYTES);
    int r = read_all(o->transcript, BO_TRANSCRIPT_MAX_BYTES, &t);
    if (r) {
        fprintf(stderr, "bidopen: %s: %s\n", o->transcript,
                r == -2 ? "larger than a transcript may be (256 MiB)" : strerror(errno));
        bo_buf_cleanup(&t);
        return BO_EXIT_LOCAL;
    }
    bo_verify_opts vo;
    memset(&vo, 0, sizeof(vo));
    bo_trust *trust = NULL;
    bo_blob_list host = {{NULL, 0}};
    uint8_t key_fpr[32];
    int rc = BO_EXIT_OK;
    if (o->trust) {
        bo_trust_opts to = BO_TRUST_OPTS_INIT;
        to.dir = o->trust;
        to.uscc_attr = o->uscc_attr ? o->uscc_attr : "serialNumber";
        to.crl_required = o->require_crl;
        bo_err err;
        char detail[400] = "";
        trust = bo_trust_load(&to, &err, detail, sizeof(detail));
        if (!trust) {
            fprintf(stderr, "bidopen: --trust %s: %s\n", o->trust,
                    detail[0] ? detail : bo_strerror(err));
            rc = BO_EXIT_LOCAL;
        }
    }
    if (!rc && o->server_key &&
        (strlen(o->server_key) != 64 || bo_hex_decode(o->server_key, 64, key_fpr, 32))) {
        fprintf(stderr, "bidopen: --server-key: 64 hexadecimal digits (server_key's key_fpr)\n");
        rc = BO_EXIT_USAGE;
    }
    if (!rc && o->host_cert && bo_pem_chain_load(o->host_cert, &host)) {
        fprintf(stderr, "bidopen: --host-cert %s: no certificate in it\n", o->host_cert);
        rc = BO_EXIT_LOCAL;
    }
    if (!rc) {
        ver v = {o};
        vo.trust = trust;
        vo.server_key_fpr = o->server_key ? key_fpr : NULL;
        if (host.list.n)
            vo.host_cert = host.list.v[0];
        vo.report = ver_report;
        vo.ud = &v;
        bo_verify_summary sum;
        bo_err err = bo_verify(t.data ? t.data : (const uint8_t *)"", t.len, &vo, &sum);
        if (err) {
            fprintf(stderr, "bidopen: verify: %s\n", bo_strerror(err));
            rc = BO_EXIT_LOCAL;
        } else {
            char h[65] = "";
            if (sum.has_record)
                bo_hex_encode(sum.record_hash, 32, h);
            const char *kind = sum.kind ? bo_transcript_kind_name(sum.kind) : "unreadable";
            if (o->json)
                printf("{\"type\":\"verify\",\"oid\":\"%s\",\"kind\":\"%s\",\"events\":%zu,"
                       "\"errors\":%u,\"unchecked\":%u,\"passed\":%u,\"replayed\":%s,"
                       "\"closed\":%s,\"record_sha256\":%s%s%s}\n",
                       sum.oid, kind, sum.events, sum.errors, sum.unchecked, sum.passed,
                       sum.replayed ? "true" : "false", sum.closed ? "true" : "false",
                       h[0] ? "\"" : "", h[0] ? h : "null", h[0] ? "\"" : "");
            else
                printf("%s: %s %s transcript of %zu events: %u error%s, %u unchecked%s%s\n",
                       o->transcript, sum.errors ? "FAILED" : "verified", kind, sum.events,
                       sum.errors, sum.errors == 1 ? "" : "s", sum.unchecked,
                       h[0] ? "; record SHA-256 " : "", h);
            rc = sum.errors ? BO_EXIT_REFUSED : BO_EXIT_OK;
        }
    }
    bo_blob_list_cleanup(&host);
    bo_trust_free(trust);
    bo_buf_cleanup(&t);
    return rc;
}
