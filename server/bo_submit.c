/* bidopen-server: sealed bids in: submit_begin / submit_chunk / submit_commit / receipt
 * (docs/protocol.md §10).
 *
 * An upload lives on one connection. Its chunks are written to the vault in order, one at a
 * time, on the worker pool; a client may send several before the replies come. The commit
 * checks the file (size, SHA-256, envelope structure, recipient = the bidder's registered
 * encryption certificate) on the worker pool, stores it, signs the receipt and appends
 * bid_submitted through the room's pipeline: the receipt goes out only after Redis took it. */
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo/envelope.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/log.h"
#include "bo/sigpayload.h"
#include "bo_server_internal.h"
#include "bo_vault.h"

#define CHUNK_QUEUE_MAX 16 /* chunks queued per upload (16 x 128 KiB) */
#define VAULT_FULL_MSG                                                                         \
    "the bid vault's disk is full: this upload was dropped and nothing of it is kept (an "    \
    "earlier bid stays as it was); submit it again later"

typedef struct chunk {
    struct chunk *next;
    uint64_t req_id;
    uint8_t *data;
    size_t len;
} chunk;

typedef struct bo_upload {
    bo_srv *srv;
    uint64_t conn_id; /* 0: orphaned (the connection closed); freed when idle */
    char id[33];
    char oid[65];
    char uscc[19];
    uint8_t hash[32];
    uint8_t commit[32];
    uint64_t size;
    bo_vault_upload *vu;
    uint64_t begin_req;
    uint64_t expect; /* offset after every queued chunk */
    chunk *q_head, *q_tail;
    unsigned q_n;
    bool busy;       /* a vault operation is in flight */
    bool commit_wanted;
    uint64_t commit_req;
    uint8_t *enc_cert; /* the connection's encryption certificate, for the recipient check */
    size_t enc_cert_len;
    /* filled by the check on the worker */
    char cipher[16];
    uint8_t *ri;
    size_t ri_len;
} bo_upload;

static void upload_free(bo_upload *u)
{
    for (chunk *k = u->q_head, *n; k; k = n) {
        n = k->next;
        free(k->data);
        free(k);
    }
    bo_vault_upload_close(u->vu);
    free(u->enc_cert);
    free(u->ri);
    free(u);
}

/* The connection that owns u, or NULL (and u is freed if nothing is in flight). */
static bo_conn *owner(bo_upload *u)
{
    bo_conn *c = u->conn_id ? bo__conn_find(u->srv, u->conn_id) : NULL;
    if (!c && !u->busy)
        upload_free(u);
    return c;
}

void bo__submit_conn_closed(bo_conn *c)
{
    bo_upload *u = c->upload;
    if (!u)
        return;
    c->upload = NULL;
    u->conn_id = 0;
    if (!u->busy)
        upload_free(u);
}

static void reply_offset(bo_conn *c, uint64_t re, const char *upload, uint64_t offset)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_buf b;
    bo_buf_init(&b, 512);
    if (m) {
        if (upload)
            bo_mpmap_str(m, "upload", upload);
        bo_mpmap_u64(m, "offset", offset);
        bo_mpmap_finish(m, &b);
        bo_mpmap_free(m);
    }
    bo__conn_reply_ok(c, re, b.data, b.len);
    bo_buf_cleanup(&b);
}

/* Whether the bidder may submit now: registered, before the deadline. */
static bo_err may_submit(bo_conn *c, const char *oid, bo_room **out, char *detail, size_t n)
{
    if (c->actor.role != BO_ROLE_BIDDER) {
        snprintf(detail, n, "only bidders submit bids");
        return BO_E_FORBIDDEN;
    }
    if (!c->srv->vault) {
        snprintf(detail, n, "this server has no bid vault");
        return BO_E_UNSUPPORTED;
    }
    if (!bo_oid_valid(oid)) {
        snprintf(detail, n, "oid: not a valid opening id");
        return BO_E_BAD_FIELD;
    }
    bo_room *r = bo__room_get(c->srv, oid, true);
    if (!r)
        return BO_E_INTERNAL;
    if (r->state != BO_ROOM_READY) {
        snprintf(detail, n, "the opening is still loading; retry in a moment");
        return BO_E_STORE_UNAVAILABLE;
    }
    if (!bo_session_tender(r->sess)) {
        snprintf(detail, n, "no opening with this id");
        return BO_E_NOT_FOUND;
    }
    bo_phase ph = bo_session_phase(r->sess);
    if (ph >= BO_PHASE_AWAITING_OPEN || bo_clock_now_ms() >= bo_session_tender(r->sess)->deadline) {
        snprintf(detail, n, "the bid deadline has passed (server clock)");
        return BO_E_DEADLINE_PASSED;
    }
    if (!bo_session_is_registered(r->sess, c->actor.uscc)) {
        snprintf(detail, n, "register for this opening before submitting");
        return BO_E_NOT_REGISTERED;
    }
    if (!c->actor.has_enc || !c->enc_chain.list.n) {
        snprintf(detail, n, "authenticate with your encryption certificate (enc_chain)");
        return BO_E_MISSING_FIELD;
    }
    *out = r;
    return BO_E_OK;
}

/* ---------- submit_begin ---------- */

static void on_opened(void *ud, bo_err err, bo_vault_upload *vu, uint64_t offset)
{
    bo_upload *u = ud;
    u->busy = false;
    u->vu = vu;
    bo_conn *c = owner(u);
    if (!c)
        return;
    if (err) {
        if (err == BO_E_VAULT_FULL)
            c->srv->m.vault_full++;
        bo__conn_reply_err(c, true, u->begin_req, err == BO_E_VAULT_FULL ? err : BO_E_IO,
                           err == BO_E_VAULT_FULL ? VAULT_FULL_MSG
                                                  : "the vault cannot store the upload");
        c->upload = NULL;
        upload_free(u);
        return;
    }
    u->expect = offset;
    reply_offset(c, u->begin_req, u->id, offset);
}

void bo__submit_begin(bo_conn *c, const bo_msg *m)
{
    char detail[200] = "";
    bo_room *r;
    bo_err err = may_submit(c, m->u.submit_begin.oid, &r, detail, sizeof(detail));
    if (!err && (m->u.submit_begin.size == 0 || m->u.submit_begin.size > (uint64_t)c->srv->cfg.max_bid)) {
        snprintf(detail, sizeof(detail), "size: a bid is 1 to %lld bytes",
                 (long long)c->srv->cfg.max_bid);
        err = BO_E_TOO_BIG;
    }
    if (err) {
        bo__conn_reply_err(c, true, m->id, err, detail);
        return;
    }
    /* The upload's name is what it will contain: the same begin after a reconnect resumes. */
    uint8_t digest[32];
    bo_buf name;
    bo_buf_init(&name, 512);
    bo_buf_appendf(&name, "%s|%s|%llu|", m->u.submit_begin.oid, c->actor.uscc,
                   (unsigned long long)m->u.submit_begin.size);
    bo_buf_append(&name, m->u.submit_begin.hash.p, 32);
    bo_buf_append(&name, m->u.submit_begin.commit.p, 32);
    bo_sha256(name.data, name.len, digest);
    bo_buf_cleanup(&name);
    char id[65];
    bo_hex_encode(digest, 16, id);

    bo_upload *old = c->upload;
    if (old && !strcmp(old->id, id) && old->vu && !old->busy && !old->q_n) {
        reply_offset(c, m->id, old->id, bo_vault_upload_offset(old->vu));
        return;
    }
    if (old) { /* another upload on this connection: abandon it (its file stays) */
        c->upload = NULL;
        old->conn_id = 0;
        if (!old->busy)
            upload_free(old);
    }
    bo_upload *u = calloc(1, sizeof(*u));
    const bo_bytes *enc = &c->enc_chain.list.v[0];
    if (u)
        u->enc_cert = malloc(enc->len);
    if (!u || !u->enc_cert) {
        free(u);
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    memcpy(u->enc_cert, enc->p, enc->len);
    u->enc_cert_len = enc->len;
    u->srv = c->srv;
    u->conn_id = c->id;
    memcpy(u->id, id, 32);
    u->id[32] = 0;
    snprintf(u->oid, sizeof(u->oid), "%s", m->u.submit_begin.oid);
    snprintf(u->uscc, sizeof(u->uscc), "%s", c->actor.uscc);
    memcpy(u->hash, m->u.submit_begin.hash.p, 32);
    memcpy(u->commit, m->u.submit_begin.commit.p, 32);
    u->size = m->u.submit_begin.size;
    u->begin_req = m->id;
    err = bo_vault_upload_open(c->srv->vault, u->oid, u->uscc, u->hash, u->size, on_opened, u);
    if (err) {
        upload_free(u);
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    u->busy = true;
    c->upload = u;
}

/* ---------- submit_chunk ---------- */

static void pump(bo_upload *u);

/* A chunk could not be written: the chunks queued behind it (and a commit waiting for them)
 * get the same refusal; none of them may be written at another offset than the client
 * meant. */
static void refuse_queued(bo_upload *u, bo_conn *c, bo_err err, const char *msg)
{
    for (chunk *k = u->q_head, *n; k; k = n) {
        n = k->next;
        bo__conn_reply_err(c, true, k->req_id, err, msg);
        free(k->data);
        free(k);
    }
    u->q_head = u->q_tail = NULL;
    u->q_n = 0;
    if (u->commit_wanted) {
        u->commit_wanted = false;
        bo__conn_reply_err(c, true, u->commit_req, err, msg);
    }
}

static void on_written(void *ud, bo_err err, uint64_t offset)
{
    bo_upload *u = ud;
    u->busy = false;
    chunk *k = u->q_head;
    u->q_head = k->next;
    if (!u->q_head)
        u->q_tail = NULL;
    u->q_n--;
    uint64_t req = k->req_id;
    free(k->data);
    free(k);
    bo_conn *c = owner(u);
    if (!c)
        return;
    if (err == BO_E_VAULT_FULL) { /* the vault dropped the part file: the upload is over */
        c->srv->m.vault_full++;
        bo_log(BO_LOG_WARN, "submit", u->oid, c->id, err, "upload %s refused: disk full", u->id);
        bo__conn_reply_err(c, true, req, err, VAULT_FULL_MSG);
        refuse_queued(u, c, err, VAULT_FULL_MSG);
        c->upload = NULL;
        upload_free(u);
        return;
    }
    if (err) {
        bo__conn_reply_err(c, true, req, BO_E_IO, "the vault could not write the chunk");
        refuse_queued(u, c, BO_E_IO,
                      "an earlier chunk could not be written: send submit_begin again and go "
                      "on from its offset");
        u->expect = offset; /* the client resumes from what is really held */
        return;
    }
    reply_offset(c, req, NULL, offset);
    pump(u);
}

static void commit_now(bo_upload *u, bo_conn *c);

static void pump(bo_upload *u)
{
    if (u->busy || !u->vu)
        return;
    if (u->q_head) {
        chunk *k = u->q_head;
        bo_err err = bo_vault_upload_write(u->vu, k->data, k->len, on_written, u);
        if (!err) {
            u->busy = true;
            return;
        }
        on_written(u, err, bo_vault_upload_offset(u->vu));
        return;
    }
    if (u->commit_wanted) {
        bo_conn *c = owner(u);
        if (c)
            commit_now(u, c);
    }
}

static bo_upload *find_upload(bo_conn *c, const bo_msg *m, const char *oid, const char *id)
{
    bo_upload *u = c->upload;
    if (!u || strcmp(u->id, id) || strcmp(u->oid, oid)) {
        bo__conn_reply_err(c, true, m->id, BO_E_NOT_FOUND,
                           "no such upload on this connection: send submit_begin again");
        return NULL;
    }
    return u;
}

void bo__submit_chunk(bo_conn *c, const bo_msg *m)
{
    bo_upload *u = find_upload(c, m, m->u.submit_chunk.oid, m->u.submit_chunk.upload);
    if (!u)
        return;
    char detail[200];
    bo_room *r;
    bo_err err = may_submit(c, u->oid, &r, detail, sizeof(detail));
    if (err) {
        bo__conn_reply_err(c, true, m->id, err, detail);
        return;
    }
    const bo_bytes *d = &m->u.submit_chunk.data;
    if (m->u.submit_chunk.offset != u->expect) {
        snprintf(detail, sizeof(detail), "offset: expected %llu", (unsigned long long)u->expect);
        bo__conn_reply_err(c, true, m->id, BO_E_BAD_FIELD, detail);
        return;
    }
    if (!d->len || u->expect + d->len > u->size) {
        snprintf(detail, sizeof(detail), "data: the upload is %llu bytes, this chunk goes past it",
                 (unsigned long long)u->size);
        bo__conn_reply_err(c, true, m->id, BO_E_TOO_BIG, detail);
        return;
    }
    if (u->q_n >= CHUNK_QUEUE_MAX || u->commit_wanted) {
        bo__conn_reply_err(c, true, m->id, BO_E_RATE_LIMITED,
                           "too many chunks in flight: wait for replies");
        return;
    }
    chunk *k = calloc(1, sizeof(*k));
    if (k)
        k->data = malloc(d->len);
    if (!k || !k->data) {
        free(k);
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
        return;
    }
    memcpy(k->data, d->p, d->len);
    k->len = d->len;
    k->req_id = m->id;
    if (u->q_tail)
        u->q_tail->next = k;
    else
        u->q_head = k;
    u->q_tail = k;
    u->q_n++;
    u->expect += d->len;
    pump(u);
}

/* ---------- submit_commit ---------- */

/* On the worker: the envelope parses, its cipher is allowed and one of its recipients is
 * the bidder's encryption certificate. */
static bo_err check_envelope(void *ud, const char *path, char *detail, size_t n)
{
    bo_upload *u = ud;
    bo_envelope_info info;
    bo_err err = bo_envelope_info_file(path, &info, detail, n);
    if (err)
        return err;
    size_t idx = 0;
    err = bo_envelope_find_recipient(&info, u->enc_cert, u->enc_cert_len, &idx);
    if (err) {
        snprintf(detail, n, "the envelope is not sealed to your registered encryption "
                            "certificate");
    } else {
        snprintf(u->cipher, sizeof(u->cipher), "%s",
                 info.cipher == BO_ENVELOPE_AES256_GCM ? "aes-256-gcm" : "aes-256-cbc");
        u->ri = malloc(info.ri[idx].der.len);
        if (u->ri) {
            memcpy(u->ri, info.ri[idx].der.p, info.ri[idx].der.len);
            u->ri_len = info.ri[idx].der.len;
        } else {
            err = BO_E_NOMEM;
        }
    }
    bo_envelope_info_cleanup(&info);
    return err;
}

static void on_committed(void *ud, bo_err err, const char *path, const char *detail)
{
    bo_upload *u = ud;
    u->busy = false;
    bo_conn *c = owner(u);
    if (!c)
        return;
    uint64_t req = u->commit_req;
    u->commit_wanted = false;
    if (err) {
        bo_log(BO_LOG_INFO, "submit", u->oid, c->id, err, "envelope refused: %s", detail);
        if (err == BO_E_VAULT_FULL) {
            c->srv->m.vault_full++;
            detail = VAULT_FULL_MSG;
        }
        bo__conn_reply_err(c, true, req, err, detail && *detail ? detail : NULL);
        c->upload = NULL;
        upload_free(u);
        return;
    }
    bo_room *r = bo__room_get(c->srv, u->oid, true);
    bo_pcmd *p = r ? bo__pcmd_from_conn(c, BO_CMD_SUBMIT, req) : NULL;
    bo_buf payload, sig;
    bo_buf_init(&payload, 1024);
    bo_buf_init(&sig, 1024);
    if (p) {
        p->fixed_now = bo_clock_now_ms();
        p->has_bid = true;
        memcpy(p->bid_hash, u->hash, 32);
        memcpy(p->bid_commit, u->commit, 32);
        p->bid_size = u->size;
        snprintf(p->bid_cipher, sizeof(p->bid_cipher), "%s", u->cipher);
        p->bid_ri = u->ri;
        p->bid_ri_len = u->ri_len;
        u->ri = NULL;
        err = bo_sigpayload_receipt(&payload, u->oid, u->uscc, u->hash, u->size, u->commit,
                                    p->fixed_now);
        if (!err)
            err = bo_key_sign(c->srv->sign_key, BO_CTX_RECEIPT, payload.data, payload.len, &sig);
        if (!err) {
            p->receipt_sig = bo_buf_steal(&sig, &p->receipt_sig_len);
            err = p->receipt_sig ? BO_E_OK : BO_E_NOMEM;
        }
    }
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    c->upload = NULL;
    upload_free(u);
    if (!p || err) {
        bo__pcmd_free(p);
        bo__conn_reply_err(c, true, req, BO_E_INTERNAL, NULL);
        return;
    }
    bo__room_enqueue(r, p);
}

static void commit_now(bo_upload *u, bo_conn *c)
{
    bo_err err = bo_vault_upload_commit(u->vu, check_envelope, u, on_committed, u);
    if (err) {
        bo__conn_reply_err(c, true, u->commit_req, BO_E_INTERNAL, NULL);
        u->commit_wanted = false;
        return;
    }
    u->busy = true;
}

void bo__submit_commit(bo_conn *c, const bo_msg *m)
{
    bo_upload *u = find_upload(c, m, m->u.submit_commit.oid, m->u.submit_commit.upload);
    if (!u)
        return;
    char detail[200];
    bo_room *r;
    bo_err err = may_submit(c, u->oid, &r, detail, sizeof(detail));
    if (!err && u->expect != u->size) {
        snprintf(detail, sizeof(detail), "the upload holds %llu of %llu bytes: send the rest",
                 (unsigned long long)u->expect, (unsigned long long)u->size);
        err = BO_E_BAD_FIELD;
    }
    if (!err && u->commit_wanted)
        err = BO_E_DUPLICATE_ID, snprintf(detail, sizeof(detail), "already committing");
    if (err) {
        bo__conn_reply_err(c, true, m->id, err, detail);
        return;
    }
    u->commit_wanted = true;
    u->commit_req = m->id;
    pump(u); /* commits once the queued chunks are written */
}

/* ---------- receipts ---------- */

bo_err bo__submit_reply_data(const bo_room *r, const bo_pcmd *p, bool replaced, bo_buf *out)
{
    bo_err err;
    bo_mpmap *rc = bo_mpmap_new(&err);
    bo_mpmap *m = rc ? bo_mpmap_new(&err) : NULL;
    bo_buf tmp;
    bo_buf_init(&tmp, 4096);
    if (m) {
        bo_mpmap_str(rc, "oid", r->oid);
        bo_mpmap_str(rc, "uscc", p->actor.uscc);
        bo_mpmap_bin(rc, "hash", p->bid_hash, 32);
        bo_mpmap_u64(rc, "size", p->bid_size);
        bo_mpmap_bin(rc, "commit", p->bid_commit, 32);
        bo_mpmap_i64(rc, "ts", p->fixed_now);
        err = bo_mpmap_finish(rc, &tmp);
        bo_mpmap_raw(m, "receipt", tmp.data, tmp.len);
        bo_mpmap_bin(m, "sig", p->receipt_sig, p->receipt_sig_len);
        bo_mpmap_bool(m, "replaced", replaced);
        if (!err)
            err = bo_mpmap_finish(m, out);
    }
    bo_mpmap_free(rc);
    bo_mpmap_free(m);
    bo_buf_cleanup(&tmp);
    return err;
}

void bo__submit_receipt(bo_conn *c, const bo_msg *m)
{
    if (c->actor.role != BO_ROLE_BIDDER) {
        bo__conn_reply_err(c, true, m->id, BO_E_FORBIDDEN, "only bidders have receipts");
        return;
    }
    bo_room *r = bo_oid_valid(m->u.receipt.oid) ? bo__room_get(c->srv, m->u.receipt.oid, false)
                                                 : NULL;
    bo_bid_view v;
    if (!r || r->state != BO_ROOM_READY || !bo_session_bid(r->sess, c->actor.uscc, &v)) {
        bo__conn_reply_err(c, true, m->id, BO_E_NOT_FOUND, "you have no bid in this opening");
        return;
    }
    bo_pcmd p;
    memset(&p, 0, sizeof(p));
    p.actor = c->actor;
    memcpy(p.bid_hash, v.hash, 32);
    memcpy(p.bid_commit, v.commit, 32);
    p.bid_size = v.size;
    p.fixed_now = v.ts;
    p.receipt_sig = (uint8_t *)v.receipt_sig.p;
    p.receipt_sig_len = v.receipt_sig.len;
    bo_buf b;
    bo_buf_init(&b, 8192);
    if (bo__submit_reply_data(r, &p, false, &b) == BO_E_OK)
        bo__conn_reply_ok(c, m->id, b.data, b.len);
    else
        bo__conn_reply_err(c, true, m->id, BO_E_INTERNAL, NULL);
    bo_buf_cleanup(&b);
}
