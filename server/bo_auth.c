/* bidopen-server: authentication (hello/nonce/signature) and the signature checks of
 * register and sign-in, on the libuv worker pool.
 *
 * A job copies everything it needs; when it returns to the loop thread it finds its
 * connection again by id (the connection may have gone meanwhile). */
#include <stdlib.h>
#include <string.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/hex.h"
#include "bo/log.h"
#include "bo/sigpayload.h"
#include "bo/utf8.h"
#include "bo_server_internal.h"

typedef enum { JOB_AUTH, JOB_REGISTER, JOB_SIGNIN, JOB_SITE_LINK } job_kind;

/* Site links (docs/protocol.md §3): a host signs {oid, site, exp} with ctx "site_link". */
#define SITE_LINK_CTX "site_link"
#define SITE_LINK_TOKEN_MAX 8192                       /* characters of base64url */
#define SITE_LINK_TTL_MAX_MS (7LL * 24 * 3600 * 1000)  /* a link is good for a week at most */
#define SITE_NAME_MAX 64                               /* characters */

typedef struct sig_job {
    uv_work_t req;
    bo_srv *srv;
    job_kind kind;
    uint64_t conn_id, req_id;
    bo_role role;
    bo_time_ms now;
    bo_blob_list chain, enc_chain; /* JOB_AUTH: what to verify */
    bo_buf cert;                   /* JOB_REGISTER/SIGNIN: the signer's certificate */
    bo_buf payload;
    uint8_t *sig;
    size_t sig_len;
    char oid[65];
    int64_t t0_mono; /* the request arrived (sign-in latency) */
    struct sig_job *c_prev, *c_next; /* on its connection's list until it is back */
    bool linked;
    char site[256];  /* JOB_SITE_LINK: the site's name from the link */
    uint8_t host_fpr[32];
    /* results */
    bo_err err;
    char detail[256];
    bo_identity ident;
} sig_job;

static void job_free(sig_job *j)
{
    bo_blob_list_cleanup(&j->chain);
    bo_blob_list_cleanup(&j->enc_chain);
    bo_buf_cleanup(&j->cert);
    bo_buf_cleanup(&j->payload);
    free(j->sig);
    free(j);
}

static void job_work(uv_work_t *req)
{
    sig_job *j = req->data;
    if (j->kind == JOB_SITE_LINK) {
        /* the host's certificate as at sign-in (trusted, current, unrevoked), then the link */
        char why[200] = "";
        j->err = bo_identity_verify(j->srv->trust, &j->chain.list, NULL, j->now, 0, &j->ident,
                                    why, sizeof(why));
        if (j->err) {
            snprintf(j->detail, sizeof(j->detail), "the certificate of the host who signed the link: %s",
                     why);
            return;
        }
        const bo_bytes *cert = &j->chain.list.v[0];
        if (bo_sig_verify(cert->p, cert->len, SITE_LINK_CTX, j->payload.data, j->payload.len,
                          j->sig, j->sig_len) != BO_E_OK) {
            j->err = BO_E_BAD_TOKEN;
            snprintf(j->detail, sizeof(j->detail),
                     "the link's signature does not verify with the host's certificate");
        }
        return;
    }
    if (j->kind == JOB_AUTH) {
        unsigned flags = j->role == BO_ROLE_BIDDER ? BO_ID_REQUIRE_USCC : 0;
        j->err = bo_identity_verify(j->srv->trust, &j->chain.list,
                                    j->enc_chain.list.n ? &j->enc_chain.list : NULL, j->now,
                                    flags, &j->ident, j->detail, sizeof(j->detail));
        if (j->err)
            return;
        const bo_bytes *leaf = &j->chain.list.v[0];
        if (bo_sig_verify(leaf->p, leaf->len, BO_CTX_AUTH, j->payload.data, j->payload.len,
                          j->sig, j->sig_len) != BO_E_OK) {
            j->err = BO_E_AUTH_FAILED;
            snprintf(j->detail, sizeof(j->detail),
                     "the signature over the hello nonce does not verify with the certificate");
        }
        return;
    }
    const char *ctx = j->kind == JOB_REGISTER ? BO_CTX_REGISTER : BO_CTX_SIGNIN;
    if (bo_sig_verify(j->cert.data, j->cert.len, ctx, j->payload.data, j->payload.len, j->sig,
                      j->sig_len) != BO_E_OK) {
        j->err = BO_E_BAD_SIGNATURE;
        snprintf(j->detail, sizeof(j->detail), "the %s signature does not verify",
                 j->kind == JOB_REGISTER ? "registration" : "sign-in");
    }
}

static void reply_auth_ok(bo_conn *c, uint64_t req_id)
{
    const bo_actor *a = &c->actor;
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_buf b;
    bo_buf_init(&b, 4096);
    if (m) {
        bo_mpmap_str(m, "role", bo_role_name(a->role));
        bo_mpmap_str(m, "org", a->org);
        bo_mpmap_str(m, "name", a->person);
        if (a->uscc[0])
            bo_mpmap_str(m, "uscc", a->uscc);
        bo_mpmap_bin(m, "fpr", a->fpr, 32);
        if (c->link_oid[0])
            bo_mpmap_str(m, "oid", c->link_oid);
        bo_mpmap_finish(m, &b);
        bo_mpmap_free(m);
    }
    bo__conn_reply_ok(c, req_id, b.data, b.len);
    bo_buf_cleanup(&b);
}

static void auth_done(bo_conn *c, sig_job *j)
{
    if (j->err) {
        c->state = BO_CONN_NEW;
        char msg[320];
        snprintf(msg, sizeof(msg), "%s: %s", bo_strerror(j->err), j->detail);
        bo_log(BO_LOG_INFO, "auth", NULL, c->id, j->err, "refused %s from %s: %s",
               bo_role_name(j->role), c->peer, j->detail);
        bo__conn_reply_err(c, true, j->req_id, j->err, msg);
        return;
    }
    const bo_identity *id = &j->ident;
    bo_actor *a = &c->actor;
    if (j->role != BO_ROLE_BIDDER) {
        const bo_staff_entry *s = bo__staff_find(c->srv, id->fpr, j->role);
        if (!s) {
            c->state = BO_CONN_NEW;
            bo_log(BO_LOG_INFO, "auth", NULL, c->id, BO_E_UNKNOWN_STAFF,
                   "certificate of %s is not on the roster as %s", id->person,
                   bo_role_name(j->role));
            bo__conn_reply_err(c, true, j->req_id, BO_E_UNKNOWN_STAFF, NULL);
            return;
        }
        snprintf(a->org, sizeof(a->org), "%s", s->name);
    } else {
        snprintf(a->org, sizeof(a->org), "%s", id->org);
        snprintf(a->uscc, sizeof(a->uscc), "%s", id->uscc);
    }
    a->role = j->role;
    memcpy(a->fpr, id->fpr, 32);
    snprintf(a->person, sizeof(a->person), "%s", id->person);
    a->has_enc = id->has_enc;
    if (id->has_enc)
        memcpy(a->enc_fpr, id->enc_fpr, 32);
    bo_blob_list_cleanup(&c->sign_chain);
    bo_blob_list_cleanup(&c->enc_chain);
    c->sign_chain = j->chain;
    c->enc_chain = j->enc_chain;
    memset(&j->chain, 0, sizeof(j->chain));
    memset(&j->enc_chain, 0, sizeof(j->enc_chain));
    a->sign_chain = c->sign_chain.list;
    a->enc_chain = c->enc_chain.list;
    bo__conn_authed(c);
    bo_log(BO_LOG_INFO, "auth", NULL, c->id, BO_E_OK, "%s authenticated: %s (%s)",
           bo_role_name(a->role), a->org, a->uscc[0] ? a->uscc : a->person);
    reply_auth_ok(c, j->req_id);
}

static void link_done(bo_conn *c, sig_job *j)
{
    if (j->err) {
        c->state = BO_CONN_NEW;
        char msg[320];
        snprintf(msg, sizeof(msg), "%s: %s", bo_strerror(j->err), j->detail);
        bo_log(BO_LOG_INFO, "auth", j->oid, c->id, j->err, "refused a site link from %s: %s",
               c->peer, j->detail);
        bo__conn_reply_err(c, true, j->req_id, j->err, msg);
        return;
    }
    const bo_staff_entry *host = bo__staff_find(c->srv, j->host_fpr, BO_ROLE_HOST);
    bo_actor *a = &c->actor;
    a->role = BO_ROLE_SITE;
    snprintf(a->org, sizeof(a->org), "%s", j->site);
    snprintf(a->person, sizeof(a->person), "link from %.100s", host ? host->name : "the host");
    memcpy(a->fpr, j->host_fpr, 32);
    snprintf(c->link_oid, sizeof(c->link_oid), "%s", j->oid);
    memcpy(c->link_host_fpr, j->host_fpr, 32);
    bo__conn_authed(c);
    c->srv->m.site_links++;
    bo_log(BO_LOG_INFO, "auth", j->oid, c->id, BO_E_OK, "site %s authenticated by a link from %s",
           a->org, host ? host->name : "?");
    reply_auth_ok(c, j->req_id);
}

bool bo__auth_link_refuse_join(bo_conn *c, const bo_room *r, uint64_t req_id)
{
    if (!c->link_oid[0])
        return false;
    if (strcmp(c->link_oid, r->oid)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "this site link is for opening %s", c->link_oid);
        bo__conn_reply_err(c, true, req_id, BO_E_FORBIDDEN, msg);
        return true;
    }
    const uint8_t *host = bo_session_host_fpr(r->sess);
    if (!host || memcmp(host, c->link_host_fpr, 32)) {
        bo__conn_reply_err(c, true, req_id, BO_E_BAD_TOKEN,
                           "the site link was not issued by this opening's host");
        return true;
    }
    return false;
}

static void signed_cmd_done(bo_conn *c, sig_job *j)
{
    if (j->err) {
        char msg[320];
        snprintf(msg, sizeof(msg), "%s: %s", bo_strerror(j->err), j->detail);
        bo__conn_reply_err(c, true, j->req_id, j->err, msg);
        return;
    }
    bo_room *r = bo__room_get(c->srv, j->oid, true);
    bo_pcmd *p = r ? bo__pcmd_from_conn(c, j->kind == JOB_REGISTER ? BO_CMD_REGISTER
                                                                    : BO_CMD_SIGNIN,
                                        j->req_id)
                   : NULL;
    if (!p) {
        bo__conn_reply_err(c, true, j->req_id, r ? BO_E_INTERNAL : BO_E_BAD_FIELD,
                           r ? NULL : "invalid opening id");
        return;
    }
    p->sig = j->sig;
    p->sig_len = j->sig_len;
    p->t0_mono = j->t0_mono;
    j->sig = NULL;
    const bo_bl_item *bl = bo__blacklist_find(c->srv, c->actor.uscc);
    if (bl) {
        p->blacklisted = true;
        snprintf(p->bl_reason, sizeof(p->bl_reason), "%s", bl->reason);
        snprintf(p->bl_source, sizeof(p->bl_source), "%s", bl->source);
        bo_log(BO_LOG_WARN, "blacklist", j->oid, c->id, BO_E_BLACKLISTED,
               "credit blacklist interception at %s", j->kind == JOB_REGISTER ? "registration" : "sign-in");
    }
    bo__room_enqueue(r, p);
}

static void job_unlink(bo_conn *c, sig_job *j)
{
    if (!j->linked)
        return;
    if (j->c_prev)
        j->c_prev->c_next = j->c_next;
    else
        c->jobs = j->c_next;
    if (j->c_next)
        j->c_next->c_prev = j->c_prev;
    j->c_prev = j->c_next = NULL;
    j->linked = false;
}

/* The connection is gone: its jobs still waiting for a worker are dropped (job_after runs
 * with UV_ECANCELED and finds no connection). In a burst, the queue holds the work of
 * clients that gave up waiting; doing it anyway only delays everyone behind them. */
void bo__auth_conn_closed(bo_conn *c)
{
    while (c->jobs) {
        sig_job *j = c->jobs;
        job_unlink(c, j);
        if (uv_cancel((uv_req_t *)&j->req) == 0)
            c->srv->m.auth_jobs_dropped++;
    }
}

static void job_after(uv_work_t *req, int status)
{
    sig_job *j = req->data;
    j->srv->m.auth_jobs--;
    bo_conn *c = j->linked ? bo__conn_find(j->srv, j->conn_id) : NULL;
    if (c) {
        job_unlink(c, j);
        c->busy--;
        if (status == UV_ECANCELED)
            bo__conn_reply_err(c, true, j->req_id, BO_E_SHUTTING_DOWN, NULL);
        else if (j->kind == JOB_AUTH)
            auth_done(c, j);
        else if (j->kind == JOB_SITE_LINK)
            link_done(c, j);
        else
            signed_cmd_done(c, j);
    }
    job_free(j);
}

static bo_err copy_list(bo_blob_list *dst, const bo_bytes_list *src)
{
    for (size_t i = 0; i < src->n; i++) {
        bo_err err = bo_blob_list_push(dst, src->v[i].p, src->v[i].len);
        if (err)
            return err;
    }
    return BO_E_OK;
}

static bool queue_job(bo_conn *c, sig_job *j)
{
    j->req.data = j;
    if (uv_queue_work(c->srv->loop, &j->req, job_work, job_after) != 0) {
        bo__conn_reply_err(c, true, j->req_id, BO_E_INTERNAL, NULL);
        job_free(j);
        return false;
    }
    c->busy++;
    c->srv->m.auth_jobs++;
    j->c_next = c->jobs;
    if (c->jobs)
        c->jobs->c_prev = j;
    c->jobs = j;
    j->linked = true;
    return true;
}

static void refuse_link(bo_conn *c, uint64_t req_id, const char *why)
{
    char msg[320];
    snprintf(msg, sizeof(msg), "%s: %s", bo_strerror(BO_E_BAD_TOKEN), why);
    bo_log(BO_LOG_INFO, "auth", NULL, c->id, BO_E_BAD_TOKEN, "refused a site link from %s: %s",
           c->peer, why);
    bo__conn_reply_err(c, true, req_id, BO_E_BAD_TOKEN, msg);
}

/* auth {role:"site", token}: check what can be checked here, then the host's certificate
 * and the signature on the worker pool. */
static void auth_site_link(bo_conn *c, uint64_t req_id, const char *token)
{
    size_t tlen = strlen(token);
    if (tlen > SITE_LINK_TOKEN_MAX) {
        refuse_link(c, req_id, "the token is too long");
        return;
    }
    uint8_t *raw = malloc(3 * (tlen / 4) + 3);
    size_t rawlen = 0;
    msgpack_zone *zone = NULL;
    msgpack_object o;
    bo_wire_caps caps;
    bo_wire_caps_default(&caps);
    sig_job *j = NULL;
    const char *oid = NULL, *site = NULL;
    size_t oid_len = 0, site_len = 0, cert_len = 0, fpr_len = 0, sig_len = 0;
    const uint8_t *cert = NULL, *fpr = NULL, *sig = NULL;
    int64_t exp = 0;
    const char *why = NULL;
    if (!raw) {
        bo__conn_reply_err(c, true, req_id, BO_E_INTERNAL, NULL);
        return;
    }
    if (bo_b64_decode(token, tlen, raw, &rawlen) || bo_mp_check(raw, rawlen, &caps) ||
        bo_mp_parse(raw, rawlen, &zone, &o) || o.type != MSGPACK_OBJECT_MAP)
        why = "the token is not base64url of a msgpack map";
    else if (!bo_mpo_str(&o, "oid", &oid, &oid_len) || !bo_mpo_str(&o, "site", &site, &site_len) ||
             !bo_mpo_i64(&o, "exp", &exp) || !bo_mpo_bin(&o, "host_fpr", &fpr, &fpr_len) ||
             !bo_mpo_bin(&o, "cert", &cert, &cert_len) || !bo_mpo_bin(&o, "sig", &sig, &sig_len))
        why = "the token needs oid, site, exp, host_fpr, cert and sig";
    else if (oid_len > 64 || fpr_len != 32 || !cert_len || cert_len > BO_CERT_MAX_DER ||
             !sig_len || sig_len > BO_SIG_MAX)
        why = "a field of the token has the wrong size";
    else if (!bo_utf8_valid(site, site_len) || !site_len ||
             bo_utf8_count(site, site_len) > SITE_NAME_MAX || memchr(site, 0, site_len))
        why = "site must be a name of 1 to 64 characters";
    if (why)
        goto refuse;
    j = calloc(1, sizeof(*j));
    if (!j) {
        bo__conn_reply_err(c, true, req_id, BO_E_INTERNAL, NULL);
        goto out;
    }
    memcpy(j->oid, oid, oid_len);
    memcpy(j->site, site, site_len);
    j->now = bo_clock_now_ms();
    uint8_t cfpr[32];
    bo_cert_fpr(cert, cert_len, cfpr);
    if (!bo_oid_valid(j->oid))
        why = "oid: not a valid opening id";
    else if (exp <= j->now)
        why = "the site link has expired: ask the host for a new one";
    else if (exp > j->now + SITE_LINK_TTL_MAX_MS + BO_TIME_SKEW_MS)
        why = "the site link is valid for more than 7 days: links must be short-lived";
    else if (memcmp(cfpr, fpr, 32))
        why = "host_fpr is not the fingerprint of cert";
    else if (!bo__staff_find(c->srv, fpr, BO_ROLE_HOST))
        why = "the link was signed by a certificate that is not on this server's roster as host";
    if (why)
        goto refuse;
    j->srv = c->srv;
    j->kind = JOB_SITE_LINK;
    j->conn_id = c->id;
    j->req_id = req_id;
    j->role = BO_ROLE_SITE;
    memcpy(j->host_fpr, fpr, 32);
    bo_buf_init(&j->payload, 1024);
    bo_buf_init(&j->cert, 0);
    j->sig = malloc(sig_len);
    bo_err err = j->sig ? bo_blob_list_push(&j->chain, cert, cert_len) : BO_E_NOMEM;
    if (!err)
        err = bo_mp_array_header(&j->payload, 3);
    if (!err)
        err = bo_mp_str(&j->payload, oid, oid_len);
    if (!err)
        err = bo_mp_str(&j->payload, site, site_len);
    if (!err)
        err = bo_mp_i64(&j->payload, exp);
    if (err) {
        bo__conn_reply_err(c, true, req_id, BO_E_INTERNAL, NULL);
        job_free(j);
        goto out;
    }
    memcpy(j->sig, sig, sig_len);
    j->sig_len = sig_len;
    if (queue_job(c, j))
        c->state = BO_CONN_AUTHING;
    goto out;
refuse:
    refuse_link(c, req_id, why);
    if (j)
        free(j);
out:
    if (zone)
        msgpack_zone_free(zone);
    free(raw);
}

void bo__auth_handle(bo_conn *c, const bo_msg *m)
{
    const bo_msg_auth *a = &m->u.auth;
    bo_role role;
    if (bo_role_parse(a->role, &role) != BO_E_OK) {
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD,
                           "role must be operator, host, supervisor, bidder, site or observer");
        return;
    }
    if (a->token) {
        if (role != BO_ROLE_SITE || a->chain.n || a->sig.len) {
            bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD,
                               "a token is sent with role site alone (no chain, no sig)");
            return;
        }
        auth_site_link(c, m->id, a->token);
        return;
    }
    if (role == BO_ROLE_OBSERVER) {
        c->actor.role = BO_ROLE_OBSERVER;
        snprintf(c->actor.org, sizeof(c->actor.org), "observer");
        bo__conn_authed(c);
        bo_err err;
        bo_mpmap *mm = bo_mpmap_new(&err);
        bo_buf b;
        bo_buf_init(&b, 256);
        if (mm) {
            bo_mpmap_str(mm, "role", "observer");
            bo_mpmap_finish(mm, &b);
            bo_mpmap_free(mm);
        }
        bo__conn_reply_ok(c, m->id, b.data, b.len);
        bo_buf_cleanup(&b);
        return;
    }
    if (!a->chain.n || !a->sig.len || !a->has_time) {
        bo__conn_reply_err(c, true, m->id, BO_E_MISSING_FIELD,
                           "auth needs chain, sig and time (observers send only the role)");
        return;
    }
    bo_time_ms now = bo_clock_now_ms();
    if (a->time < now - BO_TIME_SKEW_MS || a->time > now + BO_TIME_SKEW_MS) {
        bo__conn_reply_err(c, true, m->id, BO_E_STALE_NONCE,
                           "the signed time is more than 5 minutes from the server clock: "
                           "synchronise with a time request first");
        return;
    }
    if (role != BO_ROLE_BIDDER && a->enc_chain.n) {
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, "enc_chain is for bidders only");
        return;
    }
    sig_job *j = calloc(1, sizeof(*j));
    if (!j) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    j->srv = c->srv;
    j->kind = JOB_AUTH;
    j->conn_id = c->id;
    j->req_id = m->id;
    j->role = role;
    j->now = now;
    bo_buf_init(&j->payload, 1024);
    bo_buf_init(&j->cert, 0);
    j->sig = malloc(a->sig.len);
    if (!j->sig || copy_list(&j->chain, &a->chain) || copy_list(&j->enc_chain, &a->enc_chain) ||
        bo_sigpayload_auth(&j->payload, c->actor.nonce, a->role, a->time)) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        job_free(j);
        return;
    }
    memcpy(j->sig, a->sig.p, a->sig.len);
    j->sig_len = a->sig.len;
    if (queue_job(c, j))
        c->state = BO_CONN_AUTHING;
}

void bo__auth_signed_cmd(bo_conn *c, const bo_msg *m)
{
    bool reg = m->type == BO_MSG_REGISTER;
    const char *oid = reg ? m->u.reg.oid : m->u.signin.oid;
    bo_bytes sig = reg ? m->u.reg.sig : m->u.signin.sig;
    if (c->actor.role != BO_ROLE_BIDDER) {
        bo__conn_reply_err(c, true, m->id, BO_E_FORBIDDEN, "only bidders register and sign in");
        return;
    }
    if (reg && !c->actor.has_enc) {
        bo__conn_reply_err(c, true, m->id, BO_E_MISSING_FIELD,
                           "registration needs your encryption certificate: send enc_chain in auth");
        return;
    }
    if (!bo_oid_valid(oid)) {
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, "oid: not a valid opening id");
        return;
    }
    sig_job *j = calloc(1, sizeof(*j));
    if (!j) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    j->srv = c->srv;
    j->kind = reg ? JOB_REGISTER : JOB_SIGNIN;
    j->t0_mono = bo_clock_mono_ms();
    j->conn_id = c->id;
    j->req_id = m->id;
    j->role = c->actor.role;
    snprintf(j->oid, sizeof(j->oid), "%s", oid);
    bo_buf_init(&j->payload, 1024);
    bo_buf_init(&j->cert, BO_CERT_MAX_DER);
    j->sig = malloc(sig.len ? sig.len : 1);
    const bo_bytes *leaf = &c->sign_chain.list.v[0];
    bo_err err = j->sig ? bo_buf_append(&j->cert, leaf->p, leaf->len) : BO_E_NOMEM;
    if (!err)
        err = reg ? bo_sigpayload_register(&j->payload, oid, c->actor.uscc, c->actor.fpr,
                                           c->actor.enc_fpr, c->actor.nonce)
                  : bo_sigpayload_signin(&j->payload, oid, c->actor.uscc, c->actor.nonce);
    if (err) {
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        job_free(j);
        return;
    }
    memcpy(j->sig, sig.p, sig.len);
    j->sig_len = sig.len;
    queue_job(c, j);
}
