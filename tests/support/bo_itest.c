#include "bo_itest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/hash.h"
#include "bo/seal.h"
#include "bo/wire.h"
#include "bo/tender_json.h"

void bo_world_up(bo_world *w, const char *name, const char *const *extra_args)
{
    bo_world_up_prep(w, name, extra_args, NULL, NULL);
}

void bo_world_up_prep(bo_world *w, const char *name, const char *const *extra_args,
                      void (*prep)(const char *pki_dir, void *ud), void *ud)
{
    memset(w, 0, sizeof(*w));
    bo_h_tmpdir(name, w->dir);
    bo_h_pki(w->dir);
    bo_h_path(w->pki, w->dir, "pki");
    if (prep)
        prep(w->pki, ud);
    char srvdir[600];
    bo_h_path(srvdir, w->dir, "srv");
    if (bo_h_server_start(&w->srv, srvdir, w->pki, extra_args, 30000) != 0) {
        fprintf(stderr, "itest: server did not start\n");
        abort();
    }
    uv_loop_init(&w->loop);
    char ca[600];
    bo_client_ctx_opts o;
    memset(&o, 0, sizeof(o));
    o.ca_file = bo_h_path(ca, w->pki, "server/ca.pem");
    bo_err err;
    w->ctx = bo_client_ctx_new(&w->loop, &o, &err);
    if (!w->ctx) {
        fprintf(stderr, "itest: client context: %s\n", bo_strerror(err));
        abort();
    }
    char idx[600];
    w->index_json = bo_h_read_file(bo_h_path(idx, w->pki, "bidders/index.json"), NULL);
}

int bo_world_stop(bo_world *w)
{
    int st = bo_h_server_stop(&w->srv, SIGTERM, 20000);
    if (st != 0) {
        fprintf(stderr, "itest: server exit status %d\n", st);
        bo_h_server_dump_log(&w->srv);
    }
    return st;
}

void bo_world_down(bo_world *w)
{
    bo_client_ctx_free(w->ctx);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    if (w->srv.pid > 0) { /* a test may have stopped it already (bo_world_stop) */
        int st = bo_h_server_stop(&w->srv, SIGTERM, 20000);
        if (st != 0) {
            fprintf(stderr, "itest: server exit status %d\n", st);
            bo_h_server_dump_log(&w->srv);
        }
    }
    bo_h_server_reap_redis(&w->srv);
    free(w->index_json);
    bo_h_rmtree(w->dir);
}

tc *bo_world_staff(bo_world *w, const char *who, const char *role, const char *oid)
{
    char rel[200], cert[600], key[600];
    snprintf(rel, sizeof(rel), "staff/%s-cert.pem", who);
    bo_h_path(cert, w->pki, rel);
    snprintf(rel, sizeof(rel), "staff/%s-key.pem", who);
    bo_h_path(key, w->pki, rel);
    return tc_new(w->ctx, who, w->srv.url, role, cert, key, NULL, oid);
}

const char *bo_world_bidder_field(bo_world *w, const char *name, const char *field,
                                  char out[512])
{
    out[0] = 0;
    json_t *root = json_loads(w->index_json, 0, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(root, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) != 0)
            continue;
        json_t *v = json_object_get(e, field);
        if (!v)
            v = json_object_get(json_object_get(e, "files"), field);
        if (json_is_string(v))
            snprintf(out, 512, "%s", json_string_value(v));
    }
    json_decref(root);
    return out;
}

tc *bo_world_bidder(bo_world *w, const char *name, bool with_enc, const char *oid)
{
    char rel[512], cert[600], key[600], enc[600];
    bo_h_path(cert, w->pki, bo_world_bidder_field(w, name, "sign_cert", rel));
    bo_h_path(key, w->pki, bo_world_bidder_field(w, name, "sign_key", rel));
    bo_h_path(enc, w->pki, bo_world_bidder_field(w, name, "enc_cert", rel));
    return tc_new(w->ctx, name, w->srv.url, "bidder", cert, key, with_enc ? enc : NULL, oid);
}

tc *bo_world_observer_at(bo_world *w, const char *name, const char *url, const char *oid)
{
    return tc_new(w->ctx, name, url, "observer", NULL, NULL, NULL, oid);
}

tc *bo_world_observer(bo_world *w, const char *name, const char *oid)
{
    return bo_world_observer_at(w, name, w->srv.url, oid);
}

bool bo_world_connect(bo_world *w, tc *t)
{
    return tc_wait_state(&w->loop, t, BO_CLIENT_JOINED, 20000); /* or READY without an oid */
}

bool bo_world_create(bo_world *w, tc *host, const char *oid, int64_t checkin_in_ms,
                     int64_t deadline_in_ms, const char *extra_json, char oid_out[65])
{
    return bo_world_create_min(w, host, oid, checkin_in_ms, deadline_in_ms, 3, extra_json,
                               oid_out);
}

bool bo_world_create_min(bo_world *w, tc *host, const char *oid, int64_t checkin_in_ms,
                         int64_t deadline_in_ms, unsigned min_bidders, const char *extra_json,
                         char oid_out[65])
{
    char json[4096];
    char checkin[40], deadline[40];
    bo_time_ms now = bo_clock_now_ms();
    bo_time_format_rfc3339(now + checkin_in_ms, checkin, sizeof(checkin));
    bo_time_format_rfc3339(now + deadline_in_ms, deadline, sizeof(deadline));
    snprintf(json, sizeof(json),
             "{\"oid\":\"%s\",\"title\":\"某市政道路改造工程施工\",\"lot\":\"第一标段\","
             "\"checkin_at\":\"%s\",\"deadline\":\"%s\",\"min_bidders\":%u%s%s}",
             oid, checkin, deadline, min_bidders, extra_json && *extra_json ? "," : "",
             extra_json ? extra_json : "");
    bo_buf mp;
    bo_buf_init(&mp, 1u << 20);
    char detail[256];
    if (bo_tender_json_to_mp(json, strlen(json), now, &mp, detail, sizeof(detail))) {
        fprintf(stderr, "itest: tender: %s\n", detail);
        bo_buf_cleanup(&mp);
        return false;
    }
    tc_reply_reset(host);
    bo_err err = bo_client_create(host->c, mp.data, mp.len, tc_on_reply, host);
    bo_buf_cleanup(&mp);
    if (err)
        return false;
    err = tc_wait_reply(&w->loop, host, 10000);
    if (err) {
        fprintf(stderr, "itest: create refused: %s %s\n", host->reply_code, host->reply_msg);
        return false;
    }
    snprintf(oid_out, 65, "%s", oid);
    return true;
}

bo_err bo_world_register(bo_world *w, tc *t)
{
    tc_reply_reset(t);
    bo_err err = bo_client_register(t->c, NULL, tc_on_reply, t);
    return err ? err : tc_wait_reply(&w->loop, t, 10000);
}

bo_err bo_world_signin(bo_world *w, tc *t)
{
    tc_reply_reset(t);
    bo_err err = bo_client_signin(t->c, NULL, tc_on_reply, t);
    return err ? err : tc_wait_reply(&w->loop, t, 10000);
}

void bo_world_run(bo_world *w, int ms)
{
    bo_h_run_for(&w->loop, ms);
}

tc *bo_world_staff_at(bo_world *w, const char *who, const char *role, const char *url,
                      const char *oid)
{
    char rel[200], cert[600], key[600];
    snprintf(rel, sizeof(rel), "staff/%s-cert.pem", who);
    bo_h_path(cert, w->pki, rel);
    snprintf(rel, sizeof(rel), "staff/%s-key.pem", who);
    bo_h_path(key, w->pki, rel);
    return tc_new(w->ctx, who, url, role, cert, key, NULL, oid);
}

tc *bo_world_bidder_at(bo_world *w, const char *name, bool with_enc, const char *url,
                       const char *oid)
{
    char rel[512], cert[600], key[600], enc[600];
    bo_h_path(cert, w->pki, bo_world_bidder_field(w, name, "sign_cert", rel));
    bo_h_path(key, w->pki, bo_world_bidder_field(w, name, "sign_key", rel));
    bo_h_path(enc, w->pki, bo_world_bidder_field(w, name, "enc_cert", rel));
    return tc_new(w->ctx, name, url, "bidder", cert, key, with_enc ? enc : NULL, oid);
}

void bo_world_node(bo_world *w, bo_h_server *s, const char *name,
                   const char *const *extra_args)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/%s", w->dir, name);
    if (bo_h_server_start(s, dir, w->pki, extra_args, 30000) != 0) {
        fprintf(stderr, "itest: server %s did not start\n", name);
        abort();
    }
}

bo_err bo_world_pause(bo_world *w, tc *host, const char *reason)
{
    tc_reply_reset(host);
    bo_err err = bo_client_pause(host->c, NULL, reason, tc_on_reply, host);
    return err ? err : tc_wait_reply(&w->loop, host, 10000);
}

bo_err bo_world_resume(bo_world *w, tc *host)
{
    tc_reply_reset(host);
    bo_err err = bo_client_resume(host->c, NULL, tc_on_reply, host);
    return err ? err : tc_wait_reply(&w->loop, host, 10000);
}

typedef struct all_wait {
    tc *const *v;
    size_t n;
} all_wait;

static size_t count_settled(const all_wait *a, bool joined_only)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        bo_client_state st = a->v[i]->state;
        bool up = st == BO_CLIENT_JOINED || st == BO_CLIENT_READY;
        k += joined_only ? up : up || st == BO_CLIENT_FAILED;
    }
    return k;
}

static bool all_settled(void *arg)
{
    all_wait *a = arg;
    return count_settled(a, false) == a->n;
}

size_t bo_world_connect_all(bo_world *w, tc *const *v, size_t n, int timeout_ms)
{
    for (size_t i = 0; i < n; i++)
        if (bo_client_state_get(v[i]->c) == BO_CLIENT_IDLE)
            bo_client_start(v[i]->c);
    all_wait a = {v, n};
    bo_client_run_until(&w->loop, all_settled, &a, timeout_ms);
    return count_settled(&a, true);
}

/* One request through t, waiting for its reply; the reply's data is t->reply_json. */
static bo_err request(bo_world *w, tc *t, const bo_msg *m)
{
    tc_reply_reset(t);
    bo_err err = bo_client_request(t->c, m, tc_on_reply, t);
    return err ? err : tc_wait_reply(&w->loop, t, 20000);
}

bo_err bo_world_submit_bid(bo_world *w, tc *t, const char *oid)
{
    char dir[600], plain[700], env[700], rel[512], enc_pem[600], uscc[512], detail[256] = "";
    snprintf(dir, sizeof(dir), "%s/bids", w->dir);
    mkdir(dir, 0700);
    snprintf(plain, sizeof(plain), "%s/%s-%s.txt", dir, oid, t->name);
    snprintf(env, sizeof(env), "%s/%s-%s.cms", dir, oid, t->name);
    FILE *f = fopen(plain, "w");
    if (!f)
        return BO_E_IO;
    fprintf(f, "投标报价：%s 对 %s 的报价 1234567.89 元\n", t->name, oid);
    fclose(f);
    bo_h_path(enc_pem, w->pki, bo_world_bidder_field(w, t->name, "enc_cert", rel));
    bo_world_bidder_field(w, t->name, "uscc", uscc);
    bo_blob_list enc;
    memset(&enc, 0, sizeof(enc));
    bo_err err = bo_pem_chain_load(enc_pem, &enc);
    if (err)
        return err;
    bo_seal_opts so;
    memset(&so, 0, sizeof(so));
    so.oid = oid;
    so.uscc = uscc;
    bo_seal_result res;
    memset(&res, 0, sizeof(res));
    err = bo_seal_file(plain, env, &so, &enc.list.v[0], 1, &res, detail, sizeof(detail));
    bo_blob_list_cleanup(&enc);
    size_t len = 0;
    char *data = err ? NULL : bo_h_read_file(env, &len);
    if (err || !data || len > BO_WIRE_CHUNK_MAX) {
        fprintf(stderr, "itest: seal: %s\n", detail);
        bo_seal_result_cleanup(&res);
        free(data);
        return err ? err : BO_E_IO;
    }
    uint8_t hash[32];
    bo_sha256(data, len, hash);

    /* submit_begin, one submit_chunk, submit_commit (docs/protocol.md §10) */
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_SUBMIT_BEGIN;
    m.u.submit_begin.oid = oid;
    m.u.submit_begin.size = len;
    m.u.submit_begin.hash = (bo_bytes){hash, 32};
    m.u.submit_begin.commit = (bo_bytes){res.record.commitment, 32};
    err = request(w, t, &m);
    char upload[80] = "";
    if (!err) {
        json_t *r = json_loads(t->reply_json, 0, NULL);
        const char *u = json_string_value(json_object_get(r, "upload"));
        snprintf(upload, sizeof(upload), "%s", u ? u : "");
        json_decref(r);
        memset(&m, 0, sizeof(m));
        m.type = BO_MSG_SUBMIT_CHUNK;
        m.u.submit_chunk.oid = oid;
        m.u.submit_chunk.upload = upload;
        m.u.submit_chunk.offset = 0;
        m.u.submit_chunk.data = (bo_bytes){(const uint8_t *)data, len};
        err = request(w, t, &m);
    }
    if (!err) {
        memset(&m, 0, sizeof(m));
        m.type = BO_MSG_SUBMIT_COMMIT;
        m.u.submit_commit.oid = oid;
        m.u.submit_commit.upload = upload;
        err = request(w, t, &m);
    }
    if (err)
        fprintf(stderr, "itest: submit (%s): %s %s\n", t->name, t->reply_code, t->reply_msg);
    bo_seal_result_cleanup(&res);
    free(data);
    return err;
}

void bo_world_load_blacklist(bo_world *w, const char *url)
{
    tc *op = bo_world_staff_at(w, "operator", "operator", url, NULL);
    char path[600];
    json_t *root = json_load_file(bo_h_path(path, w->pki, "bidders/blacklist.json"), 0, NULL);
    size_t n = json_array_size(root);
    bo_bl_entry *v = calloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(root, i);
        v[i].uscc = json_string_value(json_object_get(e, "uscc"));
        v[i].name = json_string_value(json_object_get(e, "name"));
        v[i].reason = json_string_value(json_object_get(e, "reason"));
        v[i].source = json_string_value(json_object_get(e, "source"));
    }
    bool ok = n > 0 && bo_world_connect(w, op);
    if (ok) {
        tc_reply_reset(op);
        ok = bo_client_bl_add(op->c, v, n, tc_on_reply, op) == BO_E_OK &&
             tc_wait_reply(&w->loop, op, 10000) == BO_E_OK;
    }
    free(v);
    json_decref(root);
    tc_free(op);
    if (!ok) {
        fprintf(stderr, "itest: could not load the blacklist\n");
        abort();
    }
}
