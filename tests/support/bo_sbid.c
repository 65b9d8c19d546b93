/* Integration tests: sealed-bid bidders (bo_sbid.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/identity.h"
#include "bo/submit.h"
#include "bo/uscc.h"
#include "bo_sbid.h"

void bo_sbid_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("%s: cannot create", path);
    size_t w = fwrite(p, 1, n, f);
    if (fclose(f) != 0 || w != n)
        fail_msg("%s: cannot write", path);
}

void bo_sbid_issue(bo_pki_ca *ca, const char *dir, const char *what, bo_keyalg alg,
                   unsigned usage, const char *org, const char *person, const char *uscc)
{
    bo_time_ms now = bo_clock_now_ms();
    bo_pki_leaf_opts o = {.alg = alg, .subj = {.c = "CN", .o = org, .cn = person}, .uscc = uscc,
                          .usage = usage, .not_before = now - 86400000LL,
                          .not_after = now + 365 * 86400000LL};
    bo_buf k, c;
    bo_buf_init(&k, 1 << 16);
    bo_buf_init(&c, 1 << 16);
    assert_int_equal(bo_pki_issue(ca, &o, &k, &c, NULL), BO_E_OK);
    char p[800];
    snprintf(p, sizeof(p), "%s/%s-key.pem", dir, what);
    bo_sbid_write_file(p, k.data, k.len);
    chmod(p, 0600);
    snprintf(p, sizeof(p), "%s/%s-cert.pem", dir, what);
    bo_sbid_write_file(p, c.data, c.len);
    bo_buf_cleanup_wipe(&k);
    bo_buf_cleanup(&c);
}

void bo_sbid_prep_x(const char *pki, void *ud)
{
    (void)ud;
    bo_err e;
    bo_time_ms now = bo_clock_now_ms();
    bo_pki_name rn = {.c = "CN", .st = "浙江", .o = "浙江省数字证书认证中心 (test)", .cn = "ZJCA X"};
    bo_pki_ca *ca = bo_pki_ca_root(&rn, BO_KEY_EC_P256, now - 365 * 86400000LL,
                                   now + 3650 * 86400000LL, &e);
    assert_non_null(ca);
    bo_buf pem;
    bo_buf_init(&pem, 1 << 16);
    assert_int_equal(bo_pki_ca_cert_pem(ca, &pem), BO_E_OK);
    char p[700];
    snprintf(p, sizeof(p), "%s/trust/ca-x.pem", pki);
    bo_sbid_write_file(p, pem.data, pem.len);
    bo_buf_reset(&pem);
    assert_int_equal(bo_pki_crl(ca, now - 3600000, now + 30 * 86400000LL, &pem), BO_E_OK);
    snprintf(p, sizeof(p), "%s/trust/ca-x.crl", pki);
    bo_sbid_write_file(p, pem.data, pem.len);
    bo_buf_cleanup(&pem);
    static const struct {
        const char *name, *first17, *org, *person;
        bo_keyalg sign, enc;
    } x[] = {{"x1-rsa", "91330100MA0009901", "杭州西湖建筑工程有限公司", "钱伟", BO_KEY_RSA,
              BO_KEY_RSA},
             {"x2-p256", "91330200MA0009902", "宁波港城市政工程有限公司", "孙丽", BO_KEY_EC_P256,
              BO_KEY_EC_P256}};
    for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
        char uscc[19], dir[700];
        assert_int_equal(bo_uscc_complete(x[i].first17, uscc), BO_E_OK);
        snprintf(dir, sizeof(dir), "%s/bidders/%s", pki, x[i].name);
        mkdir(dir, 0700);
        bo_sbid_issue(ca, dir, "sign", x[i].sign, BO_PKI_SIGN, x[i].org, x[i].person, uscc);
        bo_sbid_issue(ca, dir, "enc", x[i].enc, BO_PKI_ENC, x[i].org, x[i].person, uscc);
    }
    bo_pki_ca_free(ca);
}

void bo_sbid_init_index(bo_sbid *b, bo_world *w, const char *name, const char *store)
{
    char rel[512];
    memset(b, 0, sizeof(*b));
    b->name = name;
    b->store = store;
    bo_h_path(b->sign_cert, w->pki, bo_world_bidder_field(w, name, "sign_cert", rel));
    bo_h_path(b->sign_key, w->pki, bo_world_bidder_field(w, name, "sign_key", rel));
    bo_h_path(b->enc_cert, w->pki, bo_world_bidder_field(w, name, "enc_cert", rel));
    bo_h_path(b->enc_key, w->pki, bo_world_bidder_field(w, name, "enc_key", rel));
    bo_world_bidder_field(w, name, "uscc", rel);
    if (strlen(rel) != 18)
        fail_msg("%s: no uscc in index.json (\"%s\")", name, rel);
    memcpy(b->uscc, rel, 19);
}

void bo_sbid_init_dir(bo_sbid *b, const char *name, const char *dir, const char *store)
{
    memset(b, 0, sizeof(*b));
    b->name = name;
    b->store = store;
    snprintf(b->sign_cert, sizeof(b->sign_cert), "%s/sign-cert.pem", dir);
    snprintf(b->sign_key, sizeof(b->sign_key), "%s/sign-key.pem", dir);
    snprintf(b->enc_cert, sizeof(b->enc_cert), "%s/enc-cert.pem", dir);
    snprintf(b->enc_key, sizeof(b->enc_key), "%s/enc-key.pem", dir);
    bo_blob_list sc = {0};
    assert_int_equal(bo_pem_chain_load(b->sign_cert, &sc), BO_E_OK);
    assert_int_equal(bo_cert_uscc(sc.list.v[0].p, sc.list.v[0].len, NULL, b->uscc), BO_E_OK);
    bo_blob_list_cleanup(&sc);
}

tc *bo_sbid_tc(bo_world *w, const bo_sbid *b, const char *const *urls, size_t n_urls,
               const char *oid)
{
    const char *one[1] = {w->srv.url};
    if (!urls) {
        urls = one;
        n_urls = 1;
    }
    return tc_new_urls(w->ctx, b->name, urls, n_urls, "bidder", b->sign_cert, b->sign_key,
                       b->enc_cert, oid);
}

bo_key *bo_sbid_load_key(const char *path)
{
    char detail[300] = "";
    bo_err e;
    bo_key *k = bo_key_load(path, NULL, &e, detail, sizeof(detail));
    if (!k)
        fail_msg("%s: %s", path, detail);
    return k;
}

/* --------------------------------------------------------------------- seal ---- */

bo_err bo_sbid_seal_with(const char *sign_cert, const char *sign_key, const char *enc_cert,
                         const char *uscc, const bo_sbid_bid *bid, const char *out,
                         bo_seal_result *res, char *detail, size_t detail_len)
{
    memset(res, 0, sizeof(*res));
    detail[0] = 0;
    bo_blob_list sc = {0}, ec = {0};
    bo_key *k = NULL;
    bo_err e = bo_pem_chain_load(sign_cert, &sc);
    if (e) {
        snprintf(detail, detail_len, "%s: cannot load", sign_cert);
        goto out;
    }
    if ((e = bo_pem_chain_load(enc_cert, &ec))) {
        snprintf(detail, detail_len, "%s: cannot load", enc_cert);
        goto out;
    }
    if (!(k = bo_key_load(sign_key, NULL, &e, detail, detail_len)))
        goto out;
    static const uint8_t letter[] = "投标函：我方愿按招标文件的要求承包本工程。";
    bo_package_doc docs[2];
    size_t n_docs = 0;
    if (!bid->no_letter)
        docs[n_docs++] = (bo_package_doc){"投标函.txt", NULL, letter, sizeof(letter) - 1};
    if (bid->doc)
        docs[n_docs++] = (bo_package_doc){"technical.bin", bid->doc, NULL, 0};
    bo_package_spec spec = {.oid = bid->oid, .uscc = uscc, .form = bid->form,
                            .n_form = bid->n_form, .docs = docs, .n_docs = n_docs,
                            .sign_cert_der = sc.list.v[0].p, .sign_cert_len = sc.list.v[0].len};
    bo_seal_opts o;
    memset(&o, 0, sizeof(o));
    o.cipher = bid->cipher;
    o.rsa_padding = bid->rsa_padding;
    o.oid = bid->oid;
    o.uscc = uscc;
    e = bo_seal_package(&spec, k, &o, &ec.list.v[0], 1, out, res, detail, detail_len);
out:
    bo_key_free(k);
    bo_blob_list_cleanup(&sc);
    bo_blob_list_cleanup(&ec);
    return e;
}

bo_err bo_sbid_seal_try(const bo_sbid *b, const bo_sbid_bid *bid, const char *out,
                        bo_seal_result *res, char *detail, size_t detail_len)
{
    return bo_sbid_seal_with(b->sign_cert, b->sign_key, b->enc_cert, b->uscc, bid, out, res,
                             detail, detail_len);
}

void bo_sbid_seal(bo_sbid *b, const bo_sbid_bid *bid, const char *out)
{
    char detail[400];
    bo_seal_result res;
    bo_err e = bo_sbid_seal_try(b, bid, out, &res, detail, sizeof(detail));
    if (!e) {
        memcpy(b->commit, res.record.commitment, 32);
        memcpy(b->env_sha, res.record.env_sha256, 32);
    }
    bo_seal_result_cleanup(&res);
    if (e)
        fail_msg("seal %s: %s %s", b->name, bo_err_name(e), detail);
}

/* ------------------------------------------------------------------- submit ---- */

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    (void)total;
    ((bo_sbid *)ud)->progress = done;
}

static void on_done(void *ud, bo_err err, const char *code, const char *msg,
                    const bo_submit_result *res)
{
    bo_sbid *b = ud;
    b->done = true;
    b->err = err;
    snprintf(b->code, sizeof(b->code), "%s", code ? code : "");
    snprintf(b->msg, sizeof(b->msg), "%s", msg ? msg : "");
    b->verified = res->receipt && res->receipt_verified;
}

void bo_sbid_submit_start(bo_sbid *b, const char *oid, const char *env,
                          const uint8_t commit[32])
{
    b->done = b->verified = false;
    b->err = BO_E_OK;
    b->code[0] = b->msg[0] = 0;
    b->progress = 0;
    bo_submit_opts o;
    memset(&o, 0, sizeof(o));
    o.oid = oid;
    o.envelope = env;
    o.commit = commit;
    o.store_dir = b->store;
    o.progress = on_progress;
    o.done = on_done;
    o.ud = b;
    assert_int_equal(bo_client_submit_ex(b->t->c, &o, NULL), BO_E_OK);
}

static bool one_done(void *arg)
{
    return ((bo_sbid *)arg)->done;
}

int64_t bo_sbid_submit(bo_world *w, bo_sbid *b, const char *oid, const char *env,
                       const uint8_t commit[32], int64_t timeout_ms)
{
    int64_t t0 = bo_clock_mono_ms();
    bo_sbid_submit_start(b, oid, env, commit);
    bo_client_run_until(&w->loop, one_done, b, timeout_ms);
    int64_t ms = bo_clock_mono_ms() - t0;
    if (!b->done || b->err || !b->verified)
        fail_msg("%s: submission to %s %s after %lld ms (%llu bytes held): %s %s %s%s", b->name,
                 oid, b->done ? "failed" : "timed out", (long long)ms,
                 (unsigned long long)b->progress, bo_err_name(b->err), b->code, b->msg,
                 b->done && !b->err ? "no verified receipt" : "");
    return ms;
}

typedef struct sbids {
    bo_sbid *v;
    size_t n;
} sbids;

static bool all_done(void *arg)
{
    sbids *s = arg;
    for (size_t i = 0; i < s->n; i++)
        if (!s->v[i].done)
            return false;
    return true;
}

void bo_sbid_wait_submitted(bo_world *w, bo_sbid *v, size_t n, int64_t timeout_ms,
                            bool receipts)
{
    sbids s = {v, n};
    bo_client_run_until(&w->loop, all_done, &s, timeout_ms > 0 ? timeout_ms : 1);
    for (size_t i = 0; i < n; i++)
        if (!v[i].done || v[i].err || (receipts && !v[i].verified))
            fail_msg("%s: submission %s: %s %s %s%s", v[i].name,
                     v[i].done ? "failed" : "not done in time", bo_err_name(v[i].err),
                     v[i].code, v[i].msg, v[i].done && !v[i].err ? "no verified receipt" : "");
}

/* ---------------------------------------------------------------- responder ---- */

static void on_status(void *ud, const bo_responder_status *st)
{
    bo_sbid *b = ud;
    const char *code = st->code ? st->code : "", *msg = st->msg ? st->msg : "";
    switch (st->what) {
    case BO_RESP_REQUEST:
        b->requests++;
        return;
    case BO_RESP_SENT:
        b->sent++;
        return;
    case BO_RESP_OPENED:
        b->opened++;
        return;
    case BO_RESP_REFUSED:
        b->refused++;
        snprintf(b->last_refusal, sizeof(b->last_refusal), "%s %s", code, msg);
        break;
    case BO_RESP_FAILED:
        b->failed++;
        b->stage = st->stage;
        break;
    case BO_RESP_IGNORED:
        b->ignored++;
        break;
    default:
        return;
    }
    snprintf(b->why, sizeof(b->why), "%s %s", code, msg);
    fprintf(stderr, "[%s] %s: %s\n", b->name,
            st->what == BO_RESP_REFUSED  ? "response refused"
            : st->what == BO_RESP_FAILED ? "cannot decrypt"
                                         : "request ignored",
            b->why);
}

void bo_sbid_attach(bo_sbid *b, const bo_key *key)
{
    if (!key) {
        if (!b->key)
            b->key = bo_sbid_load_key(b->enc_key);
        key = b->key;
    }
    b->requests = b->sent = b->opened = b->refused = b->failed = b->ignored = 0;
    b->last_refusal[0] = b->why[0] = 0;
    bo_responder_opts o;
    memset(&o, 0, sizeof(o));
    o.enc_key = key;
    o.store_dir = b->store;
    o.on_status = on_status;
    o.ud = b;
    bo_err err = BO_E_OK;
    b->resp = bo_responder_new(b->t->c, &o, &err);
    if (!b->resp)
        fail_msg("%s: responder: %s", b->name, bo_err_name(err));
}

void bo_sbid_detach(bo_sbid *b)
{
    bo_responder_free(b->resp);
    b->resp = NULL;
}

bool bo_sbid_settled(void *arg)
{
    const bo_sbid *b = arg;
    return b->opened || b->failed || b->refused;
}

static bool all_opened(void *arg)
{
    sbids *s = arg;
    for (size_t i = 0; i < s->n; i++)
        if (!s->v[i].opened)
            return false;
    return true;
}

bo_err bo_sbid_wait_opened(bo_world *w, bo_sbid *v, size_t n, int timeout_ms)
{
    sbids s = {v, n};
    return bo_client_run_until(&w->loop, all_opened, &s, timeout_ms);
}

void bo_sbid_print(const bo_sbid *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s: %u requests, %u sent, %u opened, %u refused (%s), %u failed, "
                        "%u ignored; last: %s\n",
                v[i].name, v[i].requests, v[i].sent, v[i].opened, v[i].refused,
                v[i].last_refusal, v[i].failed, v[i].ignored, v[i].why);
}

void bo_sbid_release(bo_world *w, bo_sbid *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bo_sbid_detach(&v[i]);
    bo_world_run(w, 200);
    for (size_t i = 0; i < n; i++) {
        tc_free(v[i].t);
        v[i].t = NULL;
        bo_key_free(v[i].key);
        v[i].key = NULL;
    }
}
