/* Tests for the bidopen.v1 codec: round trips of every message type, canonical output,
 * every cap at its limit and one past it, and the ways a frame can be bad. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/wire.h"
#include "bo_wire_internal.h"
#include "corpus_walk.h"

#define BIG (1u << 24)

/* ------------------------------------------------------------------ helpers ---- */

static bo_wire_caps default_caps(void)
{
    bo_wire_caps c;
    bo_wire_caps_default(&c);
    return c;
}

/* Appends raw bytes. */
static void raw(bo_buf *b, const char *bytes, size_t n)
{
    assert_int_equal(bo_buf_append(b, bytes, n), BO_E_OK);
}

static void key(bo_buf *b, const char *k)
{
    assert_int_equal(bo_mp_str(b, k, strlen(k)), BO_E_OK);
}

static void map(bo_buf *b, uint32_t n)
{
    assert_int_equal(bo__mp_map_header(b, n), BO_E_OK);
}

typedef struct decoded {
    bo_err err;
    bo_msg *m;
    uint64_t id;
    char detail[128];
} decoded;

static decoded decode_caps(const bo_buf *b, bool from_client, const bo_wire_caps *caps)
{
    decoded d;
    d.err = bo_wire_decode(b->data, b->len, caps, from_client, &d.m, &d.id, d.detail,
                           sizeof(d.detail));
    if (d.err)
        assert_null(d.m);
    return d;
}

static decoded decode(const bo_buf *b, bool from_client)
{
    bo_wire_caps caps = default_caps();
    return decode_caps(b, from_client, &caps);
}

static void expect_error(const bo_buf *b, bool from_client, bo_err want, const char *detail)
{
    decoded d = decode(b, from_client);
    if (d.err != want)
        fail_msg("want %s, got %s (detail \"%s\")", bo_err_name(want), bo_err_name(d.err),
                 d.detail);
    if (detail)
        assert_string_equal(d.detail, detail);
}

/* ------------------------------------------------------ round trips (per type) ---- */

static const uint8_t cert_a[] = {0x30, 0x82, 0x01, 0x0a, 0x02};
static const uint8_t cert_b[] = {0x30, 0x03, 0x02, 0x01, 0x01, 0xff};
static const uint8_t sig[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static uint8_t n32[32];
#define REQ "0123456789abcdef0123456789abcdef"
#define UPLOAD "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static bo_raw tender_raw(bo_buf *store)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    assert_non_null(m);
    assert_int_equal(bo_mpmap_str(m, "title", "道路改造工程"), BO_E_OK);
    assert_int_equal(bo_mpmap_i64(m, "deadline", 1800000000000), BO_E_OK);
    assert_int_equal(bo_mpmap_u64(m, "min_bidders", 3), BO_E_OK);
    assert_int_equal(bo_mpmap_bool(m, "counts_early", false), BO_E_OK);
    assert_int_equal(bo_mpmap_finish(m, store), BO_E_OK);
    bo_mpmap_free(m);
    bo_raw r = {{store->data, store->len}, NULL};
    return r;
}

/* Fills m with every field of its type set (optional ones included). */
static void fill(bo_msg *m, bo_msg_type t, bo_buf *store, bo_bytes *chain, bo_bl_entry *ents,
                 const char **usccs)
{
    memset(m, 0, sizeof(*m));
    m->type = t;
    m->id = 4242;
    m->has_id = bo_msg_type_from_client(t) && t != BO_MSG_PONG;
    chain[0] = (bo_bytes){cert_a, sizeof(cert_a)};
    chain[1] = (bo_bytes){cert_b, sizeof(cert_b)};
    ents[0] = (bo_bl_entry){"91350100M000100Y43", "某公司", "失信", "信用中国"};
    ents[1] = (bo_bl_entry){"91350100M000100Y44", "B", "r", NULL};
    usccs[0] = "91350100M000100Y43";
    usccs[1] = "91350100M000100Y44";
    bo_bytes s = {sig, sizeof(sig)};
    switch (t) {
    case BO_MSG_AUTH:
        m->u.auth = (bo_msg_auth){"bidder", {chain, 2}, {chain + 1, 1}, s, -5, true, "tok"};
        break;
    case BO_MSG_TIME:
        m->u.time.t0 = 1700000000123;
        break;
    case BO_MSG_CREATE:
        m->u.create.tender = tender_raw(store);
        break;
    case BO_MSG_JOIN:
        m->u.join.oid = "T-2026.001_a";
        m->u.join.since = (bo_msg_since){true, true, true, false, 3, 1, 0};
        break;
    case BO_MSG_REGISTER:
        m->u.reg.oid = "o1";
        m->u.reg.sig = s;
        break;
    case BO_MSG_SIGNIN:
        m->u.signin.oid = "o1";
        m->u.signin.sig = s;
        break;
    case BO_MSG_PAUSE:
    case BO_MSG_FAIL:
        m->u.host_cmd.oid = "o1";
        m->u.host_cmd.reason = "网络故障";
        break;
    case BO_MSG_RESUME:
        m->u.host_cmd.oid = "o1";
        break;
    case BO_MSG_BL_ADD:
    case BO_MSG_BL_REPLACE:
        m->u.bl_entries.v = ents;
        m->u.bl_entries.n = 2;
        break;
    case BO_MSG_BL_REMOVE:
        m->u.bl_remove.usccs = (bo_str_list){usccs, 2};
        break;
    case BO_MSG_PONG:
        m->u.pong.n = 77;
        break;
    case BO_MSG_HELLO:
        m->u.hello.v = 1;
        m->u.hello.time = 1700000000000;
        m->u.hello.nonce = (bo_bytes){n32, 32};
        m->u.hello.node = "node-1";
        bo_wire_caps_default(&m->u.hello.caps);
        break;
    case BO_MSG_OK:
        m->u.ok.re = 9;
        m->u.ok.has_re = true;
        m->u.ok.data = tender_raw(store);
        break;
    case BO_MSG_ERR:
        m->u.err.re = 9;
        m->u.err.has_re = true;
        m->u.err.code = "E_PHASE";
        m->u.err.msg = "not now";
        break;
    case BO_MSG_EV:
        m->u.ev.oid = "o1";
        m->u.ev.st = "staff";
        m->u.ev.seq = 3;
        m->u.ev.at = 2;
        m->u.ev.has_at = true;
        m->u.ev.ts = 1700000000000;
        m->u.ev.kind = "tally";
        m->u.ev.body = tender_raw(store);
        m->u.ev.hash = (bo_bytes){n32, 32};
        break;
    case BO_MSG_PRESENCE:
        m->u.presence.oid = "o1";
        m->u.presence.data = tender_raw(store);
        break;
    case BO_MSG_PING:
        m->u.ping.n = 5;
        m->u.ping.time = 1;
        break;
    case BO_MSG_NOTICE:
        m->u.notice.code = "E_SHUTTING_DOWN";
        m->u.notice.msg = "bye";
        break;
    case BO_MSG_SUBMIT_BEGIN:
        m->u.submit_begin.oid = "o1";
        m->u.submit_begin.size = 5000000000ull;
        m->u.submit_begin.hash = (bo_bytes){n32, 32};
        m->u.submit_begin.commit = (bo_bytes){n32, 32};
        break;
    case BO_MSG_SUBMIT_CHUNK:
        m->u.submit_chunk.oid = "o1";
        m->u.submit_chunk.upload = UPLOAD;
        m->u.submit_chunk.offset = 131072;
        m->u.submit_chunk.data = (bo_bytes){cert_a, sizeof(cert_a)};
        break;
    case BO_MSG_SUBMIT_COMMIT:
        m->u.submit_commit.oid = "o1";
        m->u.submit_commit.upload = UPLOAD;
        break;
    case BO_MSG_RECEIPT:
        m->u.receipt.oid = "o1";
        break;
    case BO_MSG_DECRYPT_START:
        m->u.decrypt_start.oid = "o1";
        m->u.decrypt_start.window_s = 900;
        m->u.decrypt_start.has_window_s = true;
        break;
    case BO_MSG_DECRYPT_RESPONSE:
        m->u.decrypt_response.oid = "o1";
        m->u.decrypt_response.req = REQ;
        m->u.decrypt_response.client_pub = (bo_bytes){n32, 32};
        m->u.decrypt_response.wrapped = (bo_bytes){cert_b, sizeof(cert_b)};
        m->u.decrypt_response.sig = s;
        break;
    case BO_MSG_DECRYPT_FAILED:
        m->u.decrypt_failed.oid = "o1";
        m->u.decrypt_failed.req = REQ;
        m->u.decrypt_failed.stage = "token";
        m->u.decrypt_failed.error = "CKR_PIN_INCORRECT (0xa0)";
        m->u.decrypt_failed.cert_fpr = (bo_bytes){n32, 32};
        m->u.decrypt_failed.sig = s;
        break;
    case BO_MSG_DECRYPT_EXTEND:
        m->u.decrypt_extend.oid = "o1";
        m->u.decrypt_extend.seconds = 600;
        m->u.decrypt_extend.reason = "投标人网络故障";
        break;
    case BO_MSG_CLASSIFY:
        m->u.classify.oid = "o1";
        m->u.classify.uscc = "91350100M000100Y43";
        m->u.classify.outcome = "revoked";
        m->u.classify.reason = "证书已更换";
        break;
    case BO_MSG_BENCHMARK:
    case BO_MSG_CLOSE:
        m->u.opening.oid = "o1";
        break;
    case BO_MSG_ANNOUNCE:
        m->u.announce.oid = "o1";
        m->u.announce.all = true;
        m->u.announce.has_all = true;
        break;
    case BO_MSG_DRAW:
        m->u.draw.oid = "o1";
        m->u.draw.draw = "k_1";
        break;
    case BO_MSG_CONFIRM_OPEN:
        m->u.confirm_open.oid = "o1";
        m->u.confirm_open.window_s = 600;
        m->u.confirm_open.has_window_s = true;
        break;
    case BO_MSG_CONFIRM:
        m->u.confirm.oid = "o1";
        m->u.confirm.record_hash = (bo_bytes){n32, 32};
        m->u.confirm.sig = s;
        break;
    case BO_MSG_OBJECT:
        m->u.object.oid = "o1";
        m->u.object.text = "报价大写与小写不一致";
        m->u.object.sig = s;
        break;
    case BO_MSG_ANSWER:
        m->u.answer.oid = "o1";
        m->u.answer.objection = 3;
        m->u.answer.text = "以大写金额为准";
        m->u.answer.sig = s;
        break;
    case BO_MSG_MESSAGE:
        m->u.message.oid = "o1";
        m->u.message.text = "请各投标人确认开标记录";
        break;
    case BO_MSG_EXPORT:
        m->u.export_req.oid = "o1";
        m->u.export_req.format = "transcript_public";
        m->u.export_req.offset = 131072;
        m->u.export_req.has_offset = true;
        break;
    default:
        break;
    }
}

static void every_type_round_trips(void **state)
{
    for (int t = BO_MSG_NONE + 1; t < BO_MSG__COUNT; t++) {
        bo_msg m;
        bo_buf store, a, b;
        bo_bytes chain[2];
        bo_bl_entry ents[2];
        const char *usccs[2];
        bo_buf_init(&store, BIG);
        bo_buf_init(&a, BIG);
        bo_buf_init(&b, BIG);
        fill(&m, (bo_msg_type)t, &store, chain, ents, usccs);
        if (bo_wire_encode(&a, &m) != BO_E_OK)
            fail_msg("encode %s", bo_msg_type_name((bo_msg_type)t));
        decoded d = decode(&a, bo_msg_type_from_client((bo_msg_type)t));
        if (d.err)
            fail_msg("decode %s: %s at \"%s\"", bo_msg_type_name((bo_msg_type)t),
                     bo_err_name(d.err), d.detail);
        assert_int_equal(d.m->type, t);
        assert_int_equal(d.m->has_id, m.has_id);
        if (m.has_id)
            assert_int_equal(d.m->id, 4242);
        assert_int_equal(bo_wire_encode(&b, d.m), BO_E_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        bo_msg_free(d.m);
        bo_buf_cleanup(&store);
        bo_buf_cleanup(&a);
        bo_buf_cleanup(&b);
    }
}

static void decoded_fields_are_typed(void **state)
{
    bo_msg m;
    bo_buf store, a;
    bo_bytes chain[2];
    bo_bl_entry ents[2];
    const char *usccs[2];
    bo_buf_init(&store, BIG);
    bo_buf_init(&a, BIG);

    fill(&m, BO_MSG_AUTH, &store, chain, ents, usccs);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    decoded d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_string_equal(d.m->u.auth.role, "bidder");
    assert_int_equal(d.m->u.auth.chain.n, 2);
    assert_memory_equal(d.m->u.auth.chain.v[1].p, cert_b, sizeof(cert_b));
    assert_int_equal(d.m->u.auth.enc_chain.n, 1);
    assert_int_equal(d.m->u.auth.time, -5);
    assert_true(d.m->u.auth.has_time);
    assert_string_equal(d.m->u.auth.token, "tok");
    assert_int_equal(d.id, 4242);
    bo_msg_free(d.m);

    bo_buf_reset(&a);
    bo_buf_reset(&store);
    fill(&m, BO_MSG_BL_ADD, &store, chain, ents, usccs);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_int_equal(d.m->u.bl_entries.n, 2);
    assert_string_equal(d.m->u.bl_entries.v[0].source, "信用中国");
    assert_null(d.m->u.bl_entries.v[1].source);
    assert_string_equal(d.m->u.bl_entries.v[1].uscc, "91350100M000100Y44");
    bo_msg_free(d.m);

    bo_buf_reset(&a);
    bo_buf_reset(&store);
    fill(&m, BO_MSG_CREATE, &store, chain, ents, usccs);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    const char *title;
    size_t tlen;
    assert_true(bo_mpo_str(d.m->u.create.tender.obj, "title", &title, &tlen));
    assert_int_equal(tlen, strlen("道路改造工程"));
    assert_memory_equal(d.m->u.create.tender.mp.p, store.data, store.len);
    bo_msg_free(d.m);

    bo_buf_reset(&a);
    fill(&m, BO_MSG_JOIN, &store, chain, ents, usccs);
    m.u.join.since = (bo_msg_since){0};
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_false(d.m->u.join.since.present);
    bo_msg_free(d.m);

    bo_buf_cleanup(&store);
    bo_buf_cleanup(&a);
}

static void encode_refuses_missing_required(void **state)
{
    bo_msg m;
    bo_buf a;
    bo_buf_init(&a, BIG);
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_JOIN;
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_INVALID_ARG); /* no oid */
    assert_int_equal(a.len, 0);
    m.type = BO_MSG_CREATE;
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_INVALID_ARG); /* no tender */
    m.type = BO_MSG_NONE;
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_INVALID_ARG);
    m.type = BO_MSG_ERR;
    m.u.err.code = "E_X";
    m.u.err.msg = "\xff";
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_INVALID_ARG); /* not UTF-8 */
    bo_buf out_small;
    bo_buf_init(&out_small, 4);
    assert_int_equal(bo_wire_encode_err(&out_small, false, 0, BO_E_PHASE, NULL), BO_E_TOO_BIG);
    assert_int_equal(out_small.len, 0);
    bo_buf_cleanup(&out_small);
    bo_buf_cleanup(&a);
}

static void ok_and_err_helpers(void **state)
{
    bo_buf a, data;
    bo_buf_init(&a, BIG);
    bo_buf_init(&data, BIG);
    bo_raw r = tender_raw(&data);
    assert_int_equal(bo_wire_encode_ok(&a, 17, r.mp.p, r.mp.len), BO_E_OK);
    decoded d = decode(&a, false);
    assert_int_equal(d.err, BO_E_OK);
    assert_int_equal(d.m->type, BO_MSG_OK);
    assert_int_equal(d.m->u.ok.re, 17);
    assert_memory_equal(d.m->u.ok.data.mp.p, data.data, data.len);
    bo_msg_free(d.m);

    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode_ok(&a, 18, NULL, 0), BO_E_OK);
    d = decode(&a, false);
    assert_int_equal(d.err, BO_E_OK);
    assert_null(d.m->u.ok.data.obj);
    assert_int_equal(d.m->u.ok.data.mp.len, 0);
    bo_msg_free(d.m);

    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode_err(&a, true, 19, BO_E_QUORUM, NULL), BO_E_OK);
    d = decode(&a, false);
    assert_int_equal(d.err, BO_E_OK);
    assert_string_equal(d.m->u.err.code, "E_QUORUM");
    assert_string_equal(d.m->u.err.msg, bo_strerror(BO_E_QUORUM));
    assert_true(d.m->u.err.has_re);
    bo_msg_free(d.m);

    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode_err(&a, false, 0, BO_E_MALFORMED, "bad"), BO_E_OK);
    d = decode(&a, false);
    assert_int_equal(d.err, BO_E_OK);
    assert_false(d.m->u.err.has_re);
    assert_string_equal(d.m->u.err.msg, "bad");
    bo_msg_free(d.m);
    bo_buf_cleanup(&a);
    bo_buf_cleanup(&data);
}

static void type_names_and_directions(void **state)
{
    assert_string_equal(bo_msg_type_name(BO_MSG_BL_REPLACE), "bl_replace");
    assert_string_equal(bo_msg_type_name(BO_MSG_EV), "ev");
    assert_null(bo_msg_type_name(BO_MSG_NONE));
    assert_null(bo_msg_type_name(BO_MSG__COUNT));
    assert_true(bo_msg_type_from_client(BO_MSG_PONG));
    assert_false(bo_msg_type_from_client(BO_MSG_PING));
    assert_false(bo_msg_type_from_client(BO_MSG_NONE));
    for (int t = BO_MSG_NONE + 1; t < BO_MSG__COUNT; t++) {
        const bo__wire_schema *s = bo__wire_schema_of((bo_msg_type)t);
        assert_non_null(s);
        assert_int_equal(s->type, t);
        for (size_t i = 1; i < s->fields.n; i++)
            if (strcmp(s->fields.f[i - 1].key, s->fields.f[i].key) >= 0)
                fail_msg("%s: keys not sorted at %s", s->name, s->fields.f[i].key);
    }
}

/* ------------------------------------------------------------- sealed bids ---- */

/* Encodes m (which must encode) and decodes it as the server does, with caps. */
static void expect_msg_caps(const bo_msg *m, const bo_wire_caps *caps, bo_err want,
                            const char *detail)
{
    bo_buf b;
    bo_buf_init(&b, BIG);
    assert_int_equal(bo_wire_encode(&b, m), BO_E_OK);
    decoded d = decode_caps(&b, true, caps);
    if (d.err != want)
        fail_msg("%s: want %s, got %s (detail \"%s\")", bo_msg_type_name(m->type),
                 bo_err_name(want), bo_err_name(d.err), d.detail);
    if (detail)
        assert_string_equal(d.detail, detail);
    bo_msg_free(d.m);
    bo_buf_cleanup(&b);
}

static void expect_msg(const bo_msg *m, bo_err want, const char *detail)
{
    bo_wire_caps caps = default_caps();
    expect_msg_caps(m, &caps, want, detail);
}

static void sealed_bid_messages(void **state)
{
    bo_msg m;
    bo_buf store, a;
    bo_bytes chain[2];
    bo_bl_entry ents[2];
    const char *usccs[2];
    bo_buf_init(&store, BIG);
    bo_buf_init(&a, BIG);
    static const bo_msg_type types[] = {
        BO_MSG_SUBMIT_BEGIN,     BO_MSG_SUBMIT_CHUNK,   BO_MSG_SUBMIT_COMMIT,
        BO_MSG_RECEIPT,          BO_MSG_SERVER_KEY,     BO_MSG_DECRYPT_START,
        BO_MSG_DECRYPT_RESPONSE, BO_MSG_DECRYPT_FAILED, BO_MSG_DECRYPT_EXTEND,
        BO_MSG_CLASSIFY};
    static const char *const names[] = {
        "submit_begin",     "submit_chunk",   "submit_commit", "receipt",  "server_key",
        "decrypt_start",    "decrypt_response", "decrypt_failed", "decrypt_extend", "classify"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_string_equal(bo_msg_type_name(types[i]), names[i]);
        assert_true(bo_msg_type_from_client(types[i])); /* requests, with an id */
        fill(&m, types[i], &store, chain, ents, usccs);
        bo_buf_reset(&a);
        assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
        decoded d = decode(&a, false); /* a client never accepts them */
        assert_int_equal(d.err, BO_E_UNKNOWN_TYPE);
        m.has_id = false; /* and they need an id */
        bo_buf_reset(&a);
        assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
        a.data[0]--;                                  /* drop the id pair from the header */
        uint8_t *id = memmem(a.data, a.len, "\xa2id\xcd\x10\x92", 6);
        assert_non_null(id);
        memmove(id, id + 6, a.len - (size_t)(id + 6 - a.data));
        a.len -= 6;
        d = decode(&a, true);
        assert_int_equal(d.err, BO_E_MISSING_FIELD);
        assert_string_equal(d.detail, "id");
    }

    /* typed fields */
    fill(&m, BO_MSG_SUBMIT_BEGIN, &store, chain, ents, usccs);
    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    decoded d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_int_equal(d.m->u.submit_begin.size, 5000000000ull);
    assert_int_equal(d.m->u.submit_begin.commit.len, 32);
    assert_string_equal(d.m->u.submit_begin.oid, "o1");
    bo_msg_free(d.m);
    fill(&m, BO_MSG_DECRYPT_START, &store, chain, ents, usccs);
    m.u.decrypt_start.has_window_s = false; /* optional: the tender's window */
    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    assert_null(memmem(a.data, a.len, "window_s", 8));
    d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_false(d.m->u.decrypt_start.has_window_s);
    bo_msg_free(d.m);

    /* a chunk of 128 KiB fits the default caps; one byte more does not */
    static uint8_t chunk[BO_WIRE_CHUNK_MAX + 1];
    bo_wire_caps caps = default_caps(), wide = default_caps();
    assert_int_equal(caps.bin, 131072);
    wide.bin = 1u << 20;
    fill(&m, BO_MSG_SUBMIT_CHUNK, &store, chain, ents, usccs);
    m.u.submit_chunk.data = (bo_bytes){chunk, BO_WIRE_CHUNK_MAX};
    expect_msg(&m, BO_E_OK, NULL);
    m.u.submit_chunk.data.len++;
    expect_msg(&m, BO_E_TOO_BIG, NULL);
    expect_msg_caps(&m, &wide, BO_E_BAD_FIELD, "data"); /* the field's own cap */
    m.u.submit_chunk.data.len = 0;
    expect_msg(&m, BO_E_OK, NULL);
    m.u.submit_chunk.upload = "a b";
    expect_msg(&m, BO_E_BAD_FIELD, "upload");
    m.u.submit_chunk.upload = UPLOAD "0"; /* 65 characters */
    expect_msg(&m, BO_E_BAD_FIELD, "upload");

    /* windows: 60..86400 seconds */
    static const struct {
        uint64_t v;
        bo_err want;
    } windows[] = {{0, BO_E_BAD_FIELD},    {59, BO_E_BAD_FIELD},     {60, BO_E_OK},
                   {86400, BO_E_OK},       {86401, BO_E_BAD_FIELD}};
    for (size_t i = 0; i < 5; i++) {
        fill(&m, BO_MSG_DECRYPT_START, &store, chain, ents, usccs);
        m.u.decrypt_start.window_s = windows[i].v;
        expect_msg(&m, windows[i].want, windows[i].want ? "window_s" : NULL);
        fill(&m, BO_MSG_DECRYPT_EXTEND, &store, chain, ents, usccs);
        m.u.decrypt_extend.seconds = windows[i].v;
        expect_msg(&m, windows[i].want, windows[i].want ? "seconds" : NULL);
    }
    fill(&m, BO_MSG_DECRYPT_EXTEND, &store, chain, ents, usccs);
    m.u.decrypt_extend.reason = NULL;
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_INVALID_ARG); /* a reason is required */

    /* request ids: 32 lowercase hex characters */
    static const char *const bad_reqs[] = {"0123456789ABCDEF0123456789abcdef",
                                           "0123456789abcdef0123456789abcde",
                                           "0123456789abcdef0123456789abcdef0", "",
                                           "0123456789abcdef0123456789abcdeg"};
    for (size_t i = 0; i < 5; i++) {
        fill(&m, BO_MSG_DECRYPT_RESPONSE, &store, chain, ents, usccs);
        m.u.decrypt_response.req = bad_reqs[i];
        expect_msg(&m, BO_E_BAD_FIELD, "req");
        fill(&m, BO_MSG_DECRYPT_FAILED, &store, chain, ents, usccs);
        m.u.decrypt_failed.req = bad_reqs[i];
        expect_msg(&m, BO_E_BAD_FIELD, "req");
    }

    /* exact and capped binaries */
    fill(&m, BO_MSG_SUBMIT_BEGIN, &store, chain, ents, usccs);
    m.u.submit_begin.hash.len = 31;
    expect_msg(&m, BO_E_BAD_FIELD, "hash");
    fill(&m, BO_MSG_DECRYPT_RESPONSE, &store, chain, ents, usccs);
    m.u.decrypt_response.client_pub = (bo_bytes){chunk, 33};
    expect_msg(&m, BO_E_BAD_FIELD, "client_pub");
    fill(&m, BO_MSG_DECRYPT_RESPONSE, &store, chain, ents, usccs);
    m.u.decrypt_response.wrapped = (bo_bytes){chunk, 256};
    expect_msg(&m, BO_E_OK, NULL);
    m.u.decrypt_response.wrapped.len = 257;
    expect_msg(&m, BO_E_BAD_FIELD, "wrapped");
    m.u.decrypt_response.wrapped.len = 60;
    m.u.decrypt_response.sig = (bo_bytes){chunk, 1025};
    expect_msg(&m, BO_E_BAD_FIELD, "sig");
    fill(&m, BO_MSG_DECRYPT_FAILED, &store, chain, ents, usccs);
    m.u.decrypt_failed.cert_fpr.len = 16;
    expect_msg(&m, BO_E_BAD_FIELD, "cert_fpr");

    /* listed values and text caps */
    static const char *const stages[] = {"token", "cert", "unwrap", "other"};
    for (size_t i = 0; i < 4; i++) {
        fill(&m, BO_MSG_DECRYPT_FAILED, &store, chain, ents, usccs);
        m.u.decrypt_failed.stage = stages[i];
        expect_msg(&m, BO_E_OK, NULL);
    }
    m.u.decrypt_failed.stage = "disk";
    expect_msg(&m, BO_E_BAD_FIELD, "stage");
    char e201[202];
    memset(e201, 'e', 201), e201[201] = 0;
    fill(&m, BO_MSG_DECRYPT_FAILED, &store, chain, ents, usccs);
    m.u.decrypt_failed.error = e201 + 1; /* 200 */
    expect_msg(&m, BO_E_OK, NULL);
    m.u.decrypt_failed.error = e201;
    expect_msg(&m, BO_E_BAD_FIELD, "error");
    fill(&m, BO_MSG_CLASSIFY, &store, chain, ents, usccs);
    m.u.classify.outcome = "withdrawn";
    expect_msg(&m, BO_E_OK, NULL);
    m.u.classify.outcome = "Revoked";
    expect_msg(&m, BO_E_BAD_FIELD, "outcome");
    fill(&m, BO_MSG_CLASSIFY, &store, chain, ents, usccs);
    m.u.classify.uscc = "91350100M000100Y430";
    expect_msg(&m, BO_E_BAD_FIELD, "uscc");

    /* server_key has nothing but t and id */
    bo_buf_reset(&a);
    map(&a, 3), key(&a, "t"), key(&a, "server_key"), key(&a, "id"), raw(&a, "\x01", 1);
    key(&a, "oid"), key(&a, "o1");
    expect_error(&a, true, BO_E_UNKNOWN_FIELD, "oid");
    bo_buf_cleanup(&store);
    bo_buf_cleanup(&a);
}


/* ------------------------------------------------- announcement and record ---- */

/* A string of n copies of c (a UTF-8 character), static storage per slot. */
static const char *chars(int slot, const char *c, size_t n)
{
    static char buf[4][8192];
    size_t l = strlen(c);
    assert_true(l * n < sizeof(buf[slot]));
    for (size_t i = 0; i < n; i++)
        memcpy(buf[slot] + i * l, c, l);
    buf[slot][l * n] = 0;
    return buf[slot];
}

static void opening_messages(void **state)
{
    bo_msg m;
    bo_buf store, a;
    bo_bytes chain[2];
    bo_bl_entry ents[2];
    const char *usccs[2];
    bo_buf_init(&store, BIG);
    bo_buf_init(&a, BIG);
    static const bo_msg_type types[] = {
        BO_MSG_ANNOUNCE, BO_MSG_DRAW,    BO_MSG_BENCHMARK, BO_MSG_CONFIRM_OPEN, BO_MSG_CONFIRM,
        BO_MSG_OBJECT,   BO_MSG_ANSWER,  BO_MSG_MESSAGE,   BO_MSG_CLOSE,        BO_MSG_EXPORT};
    static const char *const names[] = {"announce", "draw",    "benchmark", "confirm_open",
                                        "confirm",  "object",  "answer",    "message",
                                        "close",    "export"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_string_equal(bo_msg_type_name(types[i]), names[i]);
        assert_true(bo_msg_type_from_client(types[i]));
        fill(&m, types[i], &store, chain, ents, usccs);
        bo_buf_reset(&a);
        assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
        assert_int_equal(decode(&a, false).err, BO_E_UNKNOWN_TYPE); /* never to a client */
        expect_msg(&m, BO_E_OK, NULL);
        m.u.opening.oid = "o 1"; /* every one names its opening first */
        expect_msg(&m, BO_E_BAD_FIELD, "oid");
    }

    /* typed fields, and optional ones left out */
    fill(&m, BO_MSG_ANNOUNCE, &store, chain, ents, usccs);
    m.has_id = true;
    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    decoded d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_true(d.m->u.announce.all && d.m->u.announce.has_all);
    bo_msg_free(d.m);
    m.u.announce.has_all = false;
    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    assert_null(memmem(a.data, a.len, "all", 3));
    d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_false(d.m->u.announce.has_all);
    bo_msg_free(d.m);
    fill(&m, BO_MSG_ANSWER, &store, chain, ents, usccs);
    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_int_equal(d.m->u.answer.objection, 3);
    assert_string_equal(d.m->u.answer.text, "以大写金额为准");
    bo_msg_free(d.m);
    fill(&m, BO_MSG_EXPORT, &store, chain, ents, usccs);
    m.u.export_req.has_offset = false;
    bo_buf_reset(&a);
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_OK);
    d = decode(&a, true);
    assert_int_equal(d.err, BO_E_OK);
    assert_false(d.m->u.export_req.has_offset);
    assert_string_equal(d.m->u.export_req.format, "transcript_public");
    bo_msg_free(d.m);
    fill(&m, BO_MSG_CONFIRM_OPEN, &store, chain, ents, usccs);
    m.u.confirm_open.has_window_s = false;
    expect_msg(&m, BO_E_OK, NULL);

    /* caps at their limit and one past it (characters, 3-byte ones too) */
    static const struct {
        bo_msg_type t;
        size_t max;
        const char *key;
    } texts[] = {{BO_MSG_OBJECT, BO_WIRE_OBJECTION_MAX, "text"},
                 {BO_MSG_ANSWER, BO_WIRE_ANSWER_MAX, "text"},
                 {BO_MSG_MESSAGE, BO_WIRE_MESSAGE_MAX, "text"}};
    for (size_t i = 0; i < 3; i++)
        for (int wide = 0; wide < 2; wide++) {
            const char *ch = wide ? "异" : "x";
            fill(&m, texts[i].t, &store, chain, ents, usccs);
            const char **text = texts[i].t == BO_MSG_OBJECT   ? &m.u.object.text
                                : texts[i].t == BO_MSG_ANSWER ? &m.u.answer.text
                                                              : &m.u.message.text;
            *text = chars(0, ch, texts[i].max);
            expect_msg(&m, BO_E_OK, NULL);
            *text = chars(0, ch, texts[i].max + 1);
            expect_msg(&m, BO_E_BAD_FIELD, texts[i].key);
        }
    fill(&m, BO_MSG_CONFIRM, &store, chain, ents, usccs);
    m.u.confirm.record_hash.len = 31;
    expect_msg(&m, BO_E_BAD_FIELD, "record_hash");
    fill(&m, BO_MSG_CONFIRM, &store, chain, ents, usccs);
    static uint8_t big[1025];
    m.u.confirm.sig = (bo_bytes){big, 1025};
    expect_msg(&m, BO_E_BAD_FIELD, "sig");
    m.u.confirm.sig.len = 1024;
    expect_msg(&m, BO_E_OK, NULL);
    fill(&m, BO_MSG_OBJECT, &store, chain, ents, usccs);
    m.u.object.sig = (bo_bytes){big, 1025};
    expect_msg(&m, BO_E_BAD_FIELD, "sig");
    fill(&m, BO_MSG_ANSWER, &store, chain, ents, usccs);
    m.u.answer.objection = 0;
    expect_msg(&m, BO_E_BAD_FIELD, "objection");
    static const struct {
        uint64_t v;
        bo_err want;
    } windows[] = {{0, BO_E_BAD_FIELD}, {59, BO_E_BAD_FIELD}, {60, BO_E_OK},
                   {86400, BO_E_OK},    {86401, BO_E_BAD_FIELD}};
    for (size_t i = 0; i < 5; i++) {
        fill(&m, BO_MSG_CONFIRM_OPEN, &store, chain, ents, usccs);
        m.u.confirm_open.window_s = windows[i].v;
        expect_msg(&m, windows[i].want, windows[i].want ? "window_s" : NULL);
    }
    static const char *const ids[] = {"k", "a_1", "abcdefghijklmnopqrstuvwxyz012345"};
    static const char *const bad_ids[] = {"", "K", "a-b", "draw:k",
                                          "abcdefghijklmnopqrstuvwxyz0123456"};
    for (size_t i = 0; i < 3; i++) {
        fill(&m, BO_MSG_DRAW, &store, chain, ents, usccs);
        m.u.draw.draw = ids[i];
        expect_msg(&m, BO_E_OK, NULL);
    }
    for (size_t i = 0; i < 5; i++) {
        fill(&m, BO_MSG_DRAW, &store, chain, ents, usccs);
        m.u.draw.draw = bad_ids[i];
        expect_msg(&m, BO_E_BAD_FIELD, "draw");
    }
    static const char *const formats[] = {"record", "ocds", "html", "transcript",
                                          "transcript_public"};
    for (size_t i = 0; i < 5; i++) {
        fill(&m, BO_MSG_EXPORT, &store, chain, ents, usccs);
        m.u.export_req.format = formats[i];
        expect_msg(&m, BO_E_OK, NULL);
    }
    m.u.export_req.format = "pdf";
    expect_msg(&m, BO_E_BAD_FIELD, "format");
    fill(&m, BO_MSG_OBJECT, &store, chain, ents, usccs);
    m.u.object.text = NULL;
    assert_int_equal(bo_wire_encode(&a, &m), BO_E_INVALID_ARG); /* required */

    /* unknown keys: a benchmark or a close carries nothing but its opening */
    bo_buf_reset(&a);
    map(&a, 4), key(&a, "t"), key(&a, "close"), key(&a, "id"), raw(&a, "\x01", 1);
    key(&a, "oid"), key(&a, "o1"), key(&a, "force"), raw(&a, "\xc3", 1);
    expect_error(&a, true, BO_E_UNKNOWN_FIELD, "force");
    bo_buf_reset(&a);
    map(&a, 4), key(&a, "t"), key(&a, "announce"), key(&a, "id"), raw(&a, "\x01", 1);
    key(&a, "oid"), key(&a, "o1"), key(&a, "all"), raw(&a, "\x01", 1);
    expect_error(&a, true, BO_E_BAD_FIELD, "all"); /* a bool, not 1 */
    bo_buf_cleanup(&store);
    bo_buf_cleanup(&a);
}

/* ---------------------------------------------------------------- canonical ---- */

static void canonical_regardless_of_key_order(void **state)
{
    /* {t:"time", id:5, t0:300} three ways: different order, non-shortest ints */
    bo_buf x, y, z, ex, ey, ez;
    bo_buf_init(&x, BIG);
    bo_buf_init(&y, BIG);
    bo_buf_init(&z, BIG);
    map(&x, 3), key(&x, "t"), key(&x, "time"), key(&x, "id"), raw(&x, "\x05", 1);
    key(&x, "t0"), raw(&x, "\xcd\x01\x2c", 3);
    map(&y, 3), key(&y, "t0"), raw(&y, "\xcf\0\0\0\0\0\0\x01\x2c", 9), key(&y, "id");
    raw(&y, "\xd3\0\0\0\0\0\0\0\x05", 9), key(&y, "t"), key(&y, "time");
    map(&z, 3), key(&z, "id"), raw(&z, "\xcc\x05", 2), key(&z, "t0");
    raw(&z, "\xd1\x01\x2c", 3), key(&z, "t"), key(&z, "time");
    bo_buf_init(&ex, BIG);
    bo_buf_init(&ey, BIG);
    bo_buf_init(&ez, BIG);
    decoded a = decode(&x, true), b = decode(&y, true), c = decode(&z, true);
    assert_int_equal(a.err, BO_E_OK);
    assert_int_equal(b.err, BO_E_OK);
    assert_int_equal(c.err, BO_E_OK);
    assert_int_equal(bo_wire_encode(&ex, a.m), BO_E_OK);
    assert_int_equal(bo_wire_encode(&ey, b.m), BO_E_OK);
    assert_int_equal(bo_wire_encode(&ez, c.m), BO_E_OK);
    static const char want[] = "\x83\xa2id\x05\xa1t\xa4time\xa2t0\xcd\x01\x2c";
    assert_int_equal(ex.len, sizeof(want) - 1);
    assert_memory_equal(ex.data, want, ex.len);
    assert_memory_equal(ey.data, want, ey.len);
    assert_memory_equal(ez.data, want, ez.len);
    bo_msg_free(a.m), bo_msg_free(b.m), bo_msg_free(c.m);
    bo_buf_cleanup(&x), bo_buf_cleanup(&y), bo_buf_cleanup(&z);
    bo_buf_cleanup(&ex), bo_buf_cleanup(&ey), bo_buf_cleanup(&ez);
}

static void canonical_nested_raw(void **state)
{
    /* tender {b:{y:1,x:2}, a:[{d:1,c:-1}]} arrives unsorted, is kept sorted */
    bo_buf f;
    bo_buf_init(&f, BIG);
    map(&f, 3), key(&f, "t"), key(&f, "create"), key(&f, "id"), raw(&f, "\x01", 1);
    key(&f, "tender"), map(&f, 2), key(&f, "b"), map(&f, 2), key(&f, "y"), raw(&f, "\x01", 1);
    key(&f, "x"), raw(&f, "\xd0\x02", 2), key(&f, "a"), raw(&f, "\x91", 1), map(&f, 2);
    key(&f, "d"), raw(&f, "\x01", 1), key(&f, "c"), raw(&f, "\xd2\xff\xff\xff\xff", 5);
    decoded d = decode(&f, true);
    assert_int_equal(d.err, BO_E_OK);
    static const char want[] = "\x82\xa1\x61\x91\x82\xa1\x63\xff\xa1\x64\x01"
                               "\xa1\x62\x82\xa1\x78\x02\xa1\x79\x01";
    assert_int_equal(d.m->u.create.tender.mp.len, sizeof(want) - 1);
    assert_memory_equal(d.m->u.create.tender.mp.p, want, sizeof(want) - 1);
    bo_msg_free(d.m);
    bo_buf_cleanup(&f);
}

static void shortest_integers(void **state)
{
    static const struct {
        int64_t v;
        const char *enc;
        size_t n;
    } cases[] = {
        {0, "\x00", 1},
        {127, "\x7f", 1},
        {128, "\xcc\x80", 2},
        {255, "\xcc\xff", 2},
        {256, "\xcd\x01\x00", 3},
        {65535, "\xcd\xff\xff", 3},
        {65536, "\xce\x00\x01\x00\x00", 5},
        {4294967295, "\xce\xff\xff\xff\xff", 5},
        {4294967296, "\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 9},
        {-1, "\xff", 1},
        {-32, "\xe0", 1},
        {-33, "\xd0\xdf", 2},
        {-128, "\xd0\x80", 2},
        {-129, "\xd1\xff\x7f", 3},
        {-32768, "\xd1\x80\x00", 3},
        {-32769, "\xd2\xff\xff\x7f\xff", 5},
        {INT32_MIN, "\xd2\x80\x00\x00\x00", 5},
        {(int64_t)INT32_MIN - 1, "\xd3\xff\xff\xff\xff\x7f\xff\xff\xff", 9},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bo_buf b;
        bo_buf_init(&b, 64);
        assert_int_equal(bo_mp_i64(&b, cases[i].v), BO_E_OK);
        if (b.len != cases[i].n || memcmp(b.data, cases[i].enc, b.len))
            fail_msg("%lld encoded wrong", (long long)cases[i].v);
        bo_buf_cleanup(&b);
    }
    bo_buf b;
    bo_buf_init(&b, 64);
    assert_int_equal(bo_mp_u64(&b, UINT64_MAX), BO_E_OK);
    assert_memory_equal(b.data, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    bo_buf_reset(&b);
    assert_int_equal(bo_mp_bool(&b, true), BO_E_OK);
    assert_int_equal(bo_mp_nil(&b), BO_E_OK);
    assert_int_equal(bo_mp_array_header(&b, 16), BO_E_OK);
    assert_memory_equal(b.data, "\xc3\xc0\xdc\x00\x10", 5);
    bo_buf_reset(&b);
    assert_int_equal(bo_mp_str(&b, "a\0b", 3), BO_E_INVALID_ARG);
    assert_int_equal(bo_mp_bin(&b, "", 0), BO_E_OK);
    assert_memory_equal(b.data, "\xc4\x00", 2);
    bo_buf_cleanup(&b);
}

static void mpmap_sorts_and_refuses_duplicates(void **state)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_buf b;
    bo_buf_init(&b, 256);
    assert_int_equal(bo_mpmap_u64(m, "b", 1), BO_E_OK);
    assert_int_equal(bo_mpmap_u64(m, "aa", 2), BO_E_OK);
    assert_int_equal(bo_mpmap_u64(m, "a", 3), BO_E_OK);
    assert_int_equal(bo_mpmap_u64(m, "B", 4), BO_E_OK);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_OK);
    static const char want[] = "\x84\xa1" "B\x04\xa1" "a\x03\xa2" "aa\x02\xa1" "b\x01";
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.data, want, b.len);
    bo_mpmap_free(m);

    m = bo_mpmap_new(&err);
    bo_buf_reset(&b);
    assert_int_equal(bo_mpmap_u64(m, "k", 1), BO_E_OK);
    assert_int_equal(bo_mpmap_str(m, "k", "v"), BO_E_OK);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_INVALID_ARG);
    assert_int_equal(b.len, 0);
    bo_mpmap_free(m);

    m = bo_mpmap_new(&err);
    assert_int_equal(bo_mpmap_strn(m, "k", "\xc3\x28", 2), BO_E_INVALID_ARG);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_INVALID_ARG); /* sticky */
    bo_mpmap_free(m);
    bo_mpmap_free(NULL);
    bo_buf_cleanup(&b);
}

static void canonical_refuses_floats_ext_dups(void **state)
{
    static const struct {
        const char *mp;
        size_t n;
    } bad[] = {
        {"\x81\xa1x\xca\x3f\x80\x00\x00", 8},         /* float32 */
        {"\x81\xa1x\xcb\x3f\xf0\0\0\0\0\0\0", 12},    /* float64 */
        {"\x81\xa1x\xd4\x01\x00", 6},                 /* fixext1 */
        {"\x82\xa1x\x01\xa1x\x02", 7},                /* duplicate key */
        {"\x81\x01\x01", 3},                          /* int key */
        {"\x81\xa2\xc3\x28\x01", 5},                  /* invalid UTF-8 key */
        {"\x81\xa1x\xa3\x61\x00\x62", 7},             /* NUL in a value */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msgpack_zone *z;
        msgpack_object o;
        assert_int_equal(bo_mp_parse((const uint8_t *)bad[i].mp, bad[i].n, &z, &o), BO_E_OK);
        bo_buf b;
        bo_buf_init(&b, 256);
        if (bo_mp_canonical(&b, &o) != BO_E_BAD_FIELD)
            fail_msg("case %zu accepted", i);
        assert_int_equal(b.len, 0);
        bo_buf_cleanup(&b);
        msgpack_zone_free(z);
    }
}

static void parse_and_readers(void **state)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_buf b;
    bo_buf_init(&b, 256);
    bo_mpmap_str(m, "s", "hé");
    bo_mpmap_bin(m, "b", "\x01\x02", 2);
    bo_mpmap_u64(m, "u", 300);
    bo_mpmap_i64(m, "i", -7);
    bo_mpmap_bool(m, "f", true);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_OK);
    bo_mpmap_free(m);
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(b.data, b.len, &z, &o), BO_E_OK);
    memset(b.data, 0, b.len); /* the object must not point into the input */
    const char *s;
    const uint8_t *p;
    size_t n;
    uint64_t u;
    int64_t i;
    bool f;
    assert_true(bo_mpo_str(&o, "s", &s, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(s, "hé", 3);
    assert_true(bo_mpo_bin(&o, "b", &p, &n));
    assert_memory_equal(p, "\x01\x02", 2);
    assert_true(bo_mpo_u64(&o, "u", &u));
    assert_int_equal(u, 300);
    assert_true(bo_mpo_i64(&o, "i", &i));
    assert_int_equal(i, -7);
    assert_true(bo_mpo_i64(&o, "u", &i));
    assert_int_equal(i, 300);
    assert_false(bo_mpo_u64(&o, "i", &u));
    assert_true(bo_mpo_bool(&o, "f", &f));
    assert_true(f);
    assert_false(bo_mpo_str(&o, "u", &s, &n));
    assert_null(bo_mpo_get(&o, "missing"));
    assert_null(bo_mpo_get(NULL, "s"));
    msgpack_zone_free(z);
    assert_int_equal(bo_mp_parse((const uint8_t *)"\x81\xa1", 2, &z, &o), BO_E_MALFORMED);
    assert_null(z);
    assert_int_equal(bo_mp_parse((const uint8_t *)"\x01\x02", 2, &z, &o), BO_E_MALFORMED);
    bo_buf_cleanup(&b);
}

/* --------------------------------------------------------------------- caps ---- */

/* An array of bins whose encoding is exactly total bytes (total >= 64). */
static void bins_of_size(bo_buf *b, size_t total)
{
    size_t n = 5, data = total - 1 - 3 * n;
    assert_int_equal(bo_mp_array_header(b, (uint32_t)n), BO_E_OK);
    for (size_t i = 0; i < n; i++) {
        size_t len = data / n + (i < data % n ? 1 : 0);
        char hdr[3] = {(char)0xc5, (char)(len >> 8), (char)len};
        raw(b, hdr, 3);
        for (size_t j = 0; j < len; j++)
            raw(b, "x", 1);
    }
    assert_int_equal(b->len, total);
}

static void cap_frame(void **state)
{
    bo_wire_caps caps = default_caps();
    bo_buf b;
    bo_buf_init(&b, BIG);
    bins_of_size(&b, caps.frame);
    assert_int_equal(bo_mp_check(b.data, b.len, &caps), BO_E_OK);
    bo_buf_reset(&b);
    bins_of_size(&b, caps.frame + 1);
    assert_int_equal(bo_mp_check(b.data, b.len, &caps), BO_E_TOO_BIG);
    /* and through the decoder, with a lowered cap */
    bo_buf_reset(&b);
    map(&b, 3), key(&b, "t"), key(&b, "ping"), key(&b, "n"), raw(&b, "\x01", 1);
    key(&b, "time"), raw(&b, "\x02", 1);
    caps.frame = b.len;
    decoded d = decode_caps(&b, false, &caps);
    assert_int_equal(d.err, BO_E_OK);
    bo_msg_free(d.m);
    caps.frame = b.len - 1;
    d = decode_caps(&b, false, &caps);
    assert_int_equal(d.err, BO_E_TOO_BIG);
    bo_buf_cleanup(&b);
}

static void nested_arrays(bo_buf *b, unsigned depth)
{
    for (unsigned i = 0; i < depth - 1; i++)
        raw(b, "\x91", 1);
    raw(b, "\x90", 1);
}

static void cap_depth(void **state)
{
    bo_wire_caps caps = default_caps();
    bo_buf b;
    bo_buf_init(&b, BIG);
    nested_arrays(&b, caps.depth);
    assert_int_equal(bo_mp_check(b.data, b.len, &caps), BO_E_OK);
    bo_buf_reset(&b);
    nested_arrays(&b, caps.depth + 1);
    assert_int_equal(bo_mp_check(b.data, b.len, &caps), BO_E_TOO_DEEP);
    /* ok{re, data:{a:[[...]]}}: top map 1, data 2, the arrays 3.. */
    for (unsigned extra = 0; extra < 2; extra++) {
        bo_buf_reset(&b);
        map(&b, 3), key(&b, "t"), key(&b, "ok"), key(&b, "re"), raw(&b, "\x01", 1);
        key(&b, "data"), map(&b, 1), key(&b, "a");
        nested_arrays(&b, caps.depth - 2 + extra);
        decoded d = decode(&b, false);
        assert_int_equal(d.err, extra ? BO_E_TOO_DEEP : BO_E_OK);
        bo_msg_free(d.m);
    }
    bo_buf_cleanup(&b);
}

static void flat_array(bo_buf *b, size_t n)
{
    assert_int_equal(bo_mp_array_header(b, (uint32_t)n), BO_E_OK);
    for (size_t i = 0; i < n; i++)
        raw(b, "\x01", 1);
}

static void cap_elements(void **state)
{
    bo_wire_caps caps = default_caps();
    bo_buf b;
    bo_buf_init(&b, BIG);
    flat_array(&b, caps.elems);
    assert_int_equal(bo_mp_check(b.data, b.len, &caps), BO_E_OK);
    bo_buf_reset(&b);
    flat_array(&b, caps.elems + 1);
    assert_int_equal(bo_mp_check(b.data, b.len, &caps), BO_E_TOO_MANY);
    /* ok{re, data:{a:[...]}}: 3 pairs + 1 pair = 8 elements before the array's */
    for (size_t extra = 0; extra < 2; extra++) {
        bo_buf_reset(&b);
        map(&b, 3), key(&b, "t"), key(&b, "ok"), key(&b, "re"), raw(&b, "\x01", 1);
        key(&b, "data"), map(&b, 1), key(&b, "a");
        flat_array(&b, caps.elems - 8 + extra);
        decoded d = decode(&b, false);
        assert_int_equal(d.err, extra ? BO_E_TOO_MANY : BO_E_OK);
        bo_msg_free(d.m);
    }
    bo_buf_cleanup(&b);
}

static void ok_with(bo_buf *b, const char *type, size_t len)
{
    map(b, 3), key(b, "t"), key(b, "ok"), key(b, "re"), raw(b, "\x01", 1);
    key(b, "data"), map(b, 1), key(b, "v");
    uint8_t *p;
    assert_int_equal(bo_buf_reserve(b, len, &p), BO_E_OK);
    memset(p, 'a', len);
    bo_buf tmp;
    bo_buf_init(&tmp, BIG);
    if (!strcmp(type, "str"))
        assert_int_equal(bo_mp_str(&tmp, (const char *)p, len), BO_E_OK);
    else
        assert_int_equal(bo_mp_bin(&tmp, p, len), BO_E_OK);
    raw(b, (const char *)tmp.data, tmp.len);
    bo_buf_cleanup(&tmp);
}

static void cap_string_and_binary(void **state)
{
    bo_wire_caps caps = default_caps();
    const char *types[] = {"str", "bin"};
    for (int t = 0; t < 2; t++) {
        size_t cap = t ? caps.bin : caps.str;
        for (size_t extra = 0; extra < 2; extra++) {
            bo_buf b;
            bo_buf_init(&b, BIG);
            ok_with(&b, types[t], cap + extra);
            decoded d = decode(&b, false);
            if (d.err != (extra ? BO_E_TOO_BIG : BO_E_OK))
                fail_msg("%s of %zu: %s", types[t], cap + extra, bo_err_name(d.err));
            bo_msg_free(d.m);
            bo_buf_cleanup(&b);
        }
    }
}

static void huge_claims_fail_fast(void **state)
{
    static const struct {
        const char *mp;
        size_t n;
    } claims[] = {
        {"\x81\xa1\x61\xdd\xff\xff\xff\xff", 8}, /* array of 2^32-1 */
        {"\x81\xa1\x61\xdf\xff\xff\xff\xff", 8}, /* map of 2^32-1 pairs */
        {"\xdd\xff\xff\xff\xff\x01", 6},
        {"\x81\xa1\x61\xdb\xff\xff\xff\xff", 8}, /* str of 4 GiB */
        {"\x81\xa1\x61\xc6\xff\xff\xff\xff", 8}, /* bin of 4 GiB */
        {"\x81\xa1\x61\xc9\xff\xff\xff\xff\x01", 9}, /* ext of 4 GiB */
    };
    bo_wire_caps caps = default_caps();
    bo_wire_caps loose = {SIZE_MAX, 32, SIZE_MAX, SIZE_MAX, SIZE_MAX};
    for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
        const uint8_t *p = (const uint8_t *)claims[i].mp;
        bo_err e = bo_mp_check(p, claims[i].n, &caps);
        if (e != BO_E_TOO_MANY && e != BO_E_TOO_BIG && e != BO_E_MALFORMED)
            fail_msg("claim %zu: %s", i, bo_err_name(e));
        assert_int_equal(bo_mp_check(p, claims[i].n, &loose), BO_E_MALFORMED);
        bo_msg *m;
        assert_int_not_equal(bo_wire_decode(p, claims[i].n, &loose, false, &m, NULL, NULL, 0),
                             BO_E_OK);
        msgpack_zone *z;
        msgpack_object o;
        assert_int_equal(bo_mp_parse(p, claims[i].n, &z, &o), BO_E_MALFORMED);
    }
    assert_int_equal(bo_mp_check((const uint8_t *)claims[0].mp, 8, &caps), BO_E_TOO_MANY);
}

/* ---------------------------------------------------------------- bad frames ---- */

static void ping_frame(bo_buf *b)
{
    map(b, 3), key(b, "t"), key(b, "ping"), key(b, "n"), raw(b, "\x01", 1);
    key(b, "time"), raw(b, "\x02", 1);
}

static void truncated_and_trailing(void **state)
{
    bo_buf b;
    bo_buf_init(&b, BIG);
    ping_frame(&b);
    for (size_t n = 0; n < b.len; n++) {
        bo_msg *m;
        bo_wire_caps caps = default_caps();
        bo_err e = bo_wire_decode(b.data, n, &caps, false, &m, NULL, NULL, 0);
        if (e != BO_E_MALFORMED)
            fail_msg("prefix %zu: %s", n, bo_err_name(e));
    }
    raw(&b, "\xc0", 1);
    expect_error(&b, false, BO_E_MALFORMED, NULL);
    bo_buf_cleanup(&b);
}

static void not_a_map(void **state)
{
    static const char *frames[] = {"\x90", "\xa1t", "\x01", "\xc0", "\xc1", "\x92\x01\x02"};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        bo_buf b;
        bo_buf_init(&b, 64);
        raw(&b, frames[i], strlen(frames[i]) ? strlen(frames[i]) : 1);
        expect_error(&b, true, BO_E_MALFORMED, NULL);
        bo_buf_cleanup(&b);
    }
}

static void unknown_type_and_direction(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 256);
    map(&b, 2), key(&b, "t"), key(&b, "zap"), key(&b, "id"), raw(&b, "\x09", 1);
    decoded d = decode(&b, true);
    assert_int_equal(d.err, BO_E_UNKNOWN_TYPE);
    assert_int_equal(d.id, 9);
    assert_string_equal(d.detail, "t");
    bo_buf_reset(&b);
    ping_frame(&b);
    expect_error(&b, true, BO_E_UNKNOWN_TYPE, "t"); /* a server type from a client */
    bo_buf_reset(&b);
    map(&b, 2), key(&b, "t"), key(&b, "pong"), key(&b, "n"), raw(&b, "\x01", 1);
    expect_error(&b, false, BO_E_UNKNOWN_TYPE, "t");
    bo_buf_reset(&b);
    map(&b, 1), key(&b, "id"), raw(&b, "\x01", 1);
    expect_error(&b, true, BO_E_MISSING_FIELD, "t");
    bo_buf_reset(&b);
    map(&b, 1), key(&b, "t"), raw(&b, "\x01", 1);
    expect_error(&b, true, BO_E_BAD_FIELD, "t");
    bo_buf_cleanup(&b);
}

static void unknown_missing_and_wrong_keys(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 256);
    map(&b, 4), key(&b, "id"), raw(&b, "\x07", 1), key(&b, "t"), key(&b, "time");
    key(&b, "t0"), raw(&b, "\x01", 1), key(&b, "x"), raw(&b, "\x01", 1);
    decoded d = decode(&b, true);
    assert_int_equal(d.err, BO_E_UNKNOWN_FIELD);
    assert_string_equal(d.detail, "x");
    assert_int_equal(d.id, 7);

    bo_buf_reset(&b);
    map(&b, 2), key(&b, "id"), raw(&b, "\x07", 1), key(&b, "t"), key(&b, "time");
    expect_error(&b, true, BO_E_MISSING_FIELD, "t0");

    bo_buf_reset(&b);
    map(&b, 2), key(&b, "t"), key(&b, "time"), key(&b, "t0"), raw(&b, "\x01", 1);
    expect_error(&b, true, BO_E_MISSING_FIELD, "id");

    bo_buf_reset(&b);
    map(&b, 3), key(&b, "id"), raw(&b, "\x07", 1), key(&b, "t"), key(&b, "time");
    key(&b, "t0"), key(&b, "abc");
    d = decode(&b, true);
    assert_int_equal(d.err, BO_E_BAD_FIELD);
    assert_string_equal(d.detail, "t0");
    assert_int_equal(d.id, 7); /* readable although the rest failed */

    bo_buf_reset(&b); /* pong carries no id */
    map(&b, 3), key(&b, "t"), key(&b, "pong"), key(&b, "n"), raw(&b, "\x01", 1);
    key(&b, "id"), raw(&b, "\x01", 1);
    expect_error(&b, true, BO_E_UNKNOWN_FIELD, "id");

    bo_buf_reset(&b); /* negative uint */
    map(&b, 2), key(&b, "t"), key(&b, "pong"), key(&b, "n"), raw(&b, "\xff", 1);
    expect_error(&b, true, BO_E_BAD_FIELD, "n");

    bo_buf_reset(&b); /* id not a uint */
    map(&b, 3), key(&b, "t"), key(&b, "list"), key(&b, "id"), raw(&b, "\xff", 1);
    key(&b, "z"), raw(&b, "\x01", 1);
    d = decode(&b, true);
    assert_int_equal(d.err, BO_E_BAD_FIELD);
    assert_string_equal(d.detail, "id");
    assert_int_equal(d.id, 0);

    bo_buf_reset(&b); /* role not one of the six */
    map(&b, 3), key(&b, "t"), key(&b, "auth"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "role"), key(&b, "system");
    expect_error(&b, true, BO_E_BAD_FIELD, "role");

    bo_buf_reset(&b); /* oid syntax */
    map(&b, 3), key(&b, "t"), key(&b, "resume"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "oid"), key(&b, "a b");
    expect_error(&b, true, BO_E_BAD_FIELD, "oid");

    bo_buf_reset(&b); /* nonce must be 32 bytes */
    map(&b, 6), key(&b, "t"), key(&b, "hello"), key(&b, "v"), raw(&b, "\x01", 1);
    key(&b, "time"), raw(&b, "\x01", 1), key(&b, "node"), key(&b, "n");
    key(&b, "nonce"), raw(&b, "\xc4\x01\x00", 3), key(&b, "caps"), map(&b, 0);
    expect_error(&b, false, BO_E_BAD_FIELD, "nonce");
    bo_buf_cleanup(&b);
}

static void details_name_nested_keys(void **state)
{
    bo_buf b;
    bo_buf_init(&b, BIG);
    /* auth chain[2] is not a bin */
    map(&b, 4), key(&b, "t"), key(&b, "auth"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "role"), key(&b, "bidder"), key(&b, "chain");
    raw(&b, "\x93\xc4\x01\x00\xc4\x01\x00\x01", 8);
    expect_error(&b, true, BO_E_BAD_FIELD, "chain[2]");

    bo_buf_reset(&b); /* more than 4 certificates */
    map(&b, 4), key(&b, "t"), key(&b, "auth"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "role"), key(&b, "bidder"), key(&b, "chain");
    raw(&b, "\x95\xc4\x00\xc4\x00\xc4\x00\xc4\x00\xc4\x00", 11);
    expect_error(&b, true, BO_E_BAD_FIELD, "chain");

    bo_buf_reset(&b); /* tender.title not UTF-8 */
    map(&b, 3), key(&b, "t"), key(&b, "create"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "tender"), map(&b, 1), key(&b, "title"), raw(&b, "\xa2\xc3\x28", 3);
    expect_error(&b, true, BO_E_BAD_FIELD, "tender.title");

    bo_buf_reset(&b); /* float inside the tender */
    map(&b, 3), key(&b, "t"), key(&b, "create"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "tender"), map(&b, 1), key(&b, "fields"), raw(&b, "\x91", 1), map(&b, 1);
    key(&b, "w"), raw(&b, "\xca\0\0\0\0", 5);
    expect_error(&b, true, BO_E_BAD_FIELD, "tender.fields[0].w");

    bo_buf_reset(&b); /* entries[1].uscc missing */
    map(&b, 3), key(&b, "t"), key(&b, "bl_add"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "entries"), raw(&b, "\x92", 1);
    map(&b, 3), key(&b, "uscc"), key(&b, "u"), key(&b, "name"), key(&b, "n");
    key(&b, "reason"), key(&b, "r");
    map(&b, 2), key(&b, "name"), key(&b, "n"), key(&b, "reason"), key(&b, "r");
    expect_error(&b, true, BO_E_MISSING_FIELD, "entries[1].uscc");

    bo_buf_reset(&b); /* since.pub negative */
    map(&b, 4), key(&b, "t"), key(&b, "join"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "oid"), key(&b, "o"), key(&b, "since"), map(&b, 1), key(&b, "pub");
    raw(&b, "\xff", 1);
    expect_error(&b, true, BO_E_BAD_FIELD, "since.pub");

    bo_buf_reset(&b); /* since with an unknown key */
    map(&b, 4), key(&b, "t"), key(&b, "join"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "oid"), key(&b, "o"), key(&b, "since"), map(&b, 1), key(&b, "zz");
    raw(&b, "\x01", 1);
    expect_error(&b, true, BO_E_UNKNOWN_FIELD, "since.zz");

    bo_buf_reset(&b); /* reason over 500 characters */
    map(&b, 4), key(&b, "t"), key(&b, "pause"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "oid"), key(&b, "o"), key(&b, "reason");
    char r[502];
    memset(r, 'r', 501);
    r[501] = 0;
    key(&b, r);
    expect_error(&b, true, BO_E_BAD_FIELD, "reason");
    bo_buf_cleanup(&b);
}

static void strings_must_be_clean_utf8(void **state)
{
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"\xc3\x28", 2},         /* bad continuation */
        {"\xed\xa0\x80", 3},     /* surrogate */
        {"\xc0\xaf", 2},         /* overlong */
        {"ab\0cd", 5},           /* NUL */
        {"\xf4\x90\x80\x80", 4}, /* > U+10FFFF */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bo_buf b;
        bo_buf_init(&b, 256);
        map(&b, 3), key(&b, "t"), key(&b, "notice"), key(&b, "code"), key(&b, "E_X");
        key(&b, "msg");
        char hdr = (char)(0xa0 | bad[i].n);
        raw(&b, &hdr, 1);
        raw(&b, bad[i].s, bad[i].n);
        expect_error(&b, false, BO_E_BAD_FIELD, "msg");
        bo_buf_cleanup(&b);
    }
    bo_buf b; /* a valid 4-byte sequence passes */
    bo_buf_init(&b, 256);
    map(&b, 3), key(&b, "t"), key(&b, "notice"), key(&b, "code"), key(&b, "E_X");
    key(&b, "msg"), key(&b, "\xf0\x9f\x98\x80");
    decoded d = decode(&b, false);
    assert_int_equal(d.err, BO_E_OK);
    assert_string_equal(d.m->u.notice.msg, "\xf0\x9f\x98\x80");
    bo_msg_free(d.m);
    bo_buf_cleanup(&b);
}

static void floats_ext_keys_duplicates(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 256);
    map(&b, 2), key(&b, "t"), key(&b, "pong"), key(&b, "n"), raw(&b, "\xcb\0\0\0\0\0\0\0\0", 9);
    expect_error(&b, true, BO_E_BAD_FIELD, "n");

    bo_buf_reset(&b);
    map(&b, 2), key(&b, "t"), key(&b, "pong"), key(&b, "n"), raw(&b, "\xd4\x01\x01", 3);
    expect_error(&b, true, BO_E_BAD_FIELD, "n");

    bo_buf_reset(&b);
    map(&b, 3), key(&b, "t"), key(&b, "pong"), key(&b, "n"), raw(&b, "\x01", 1);
    raw(&b, "\x05\x01", 2);
    expect_error(&b, true, BO_E_BAD_FIELD, "[2]");

    bo_buf_reset(&b);
    map(&b, 3), key(&b, "t"), key(&b, "pong"), key(&b, "n"), raw(&b, "\x01", 1);
    key(&b, "n"), raw(&b, "\x02", 1);
    expect_error(&b, true, BO_E_BAD_FIELD, "n");

    bo_buf_reset(&b);
    map(&b, 3), key(&b, "t"), key(&b, "pong"), key(&b, "t"), key(&b, "pong");
    key(&b, "n"), raw(&b, "\x02", 1);
    expect_error(&b, true, BO_E_BAD_FIELD, "t");

    bo_buf_reset(&b); /* duplicate key inside an opaque map */
    map(&b, 3), key(&b, "t"), key(&b, "create"), key(&b, "id"), raw(&b, "\x01", 1);
    key(&b, "tender"), map(&b, 2), key(&b, "a"), raw(&b, "\x01", 1), key(&b, "a");
    raw(&b, "\x01", 1);
    expect_error(&b, true, BO_E_BAD_FIELD, "tender.a");
    bo_buf_cleanup(&b);
}

static void id_survives_cap_errors(void **state)
{
    bo_buf b;
    bo_buf_init(&b, BIG);
    map(&b, 3), key(&b, "id"), raw(&b, "\xcd\x01\x00", 3), key(&b, "t"), key(&b, "create");
    key(&b, "tender"), map(&b, 1), key(&b, "a");
    flat_array(&b, 30000);
    decoded d = decode(&b, true);
    assert_int_equal(d.err, BO_E_TOO_MANY);
    assert_int_equal(d.id, 256);
    assert_string_equal(d.detail, "elements");
    bo_buf_cleanup(&b);
}

/* The seed corpus of fuzz_wire says what it is: valid-* decodes, bad-* does not. */
static void corpus_file(const char *name, const uint8_t *data, size_t len, bool valid)
{
    bo_buf b = {(uint8_t *)data, len, len, len};
    decoded c = decode(&b, true), s = decode(&b, false);
    bool ok = c.err == BO_E_OK || s.err == BO_E_OK;
    bo_msg_free(c.m);
    bo_msg_free(s.m);
    if (ok != valid)
        fail_msg("%s: %s / %s", name, bo_err_name(c.err), bo_err_name(s.err));
}

static void corpus_matches_names(void **state)
{
    assert_true(corpus_walk("wire", corpus_file) >= 40);
}

int main(void)
{
    memset(n32, 0xab, sizeof(n32));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_round_trips),
        cmocka_unit_test(decoded_fields_are_typed),
        cmocka_unit_test(encode_refuses_missing_required),
        cmocka_unit_test(ok_and_err_helpers),
        cmocka_unit_test(type_names_and_directions),
        cmocka_unit_test(sealed_bid_messages),
        cmocka_unit_test(opening_messages),
        cmocka_unit_test(canonical_regardless_of_key_order),
        cmocka_unit_test(canonical_nested_raw),
        cmocka_unit_test(shortest_integers),
        cmocka_unit_test(mpmap_sorts_and_refuses_duplicates),
        cmocka_unit_test(canonical_refuses_floats_ext_dups),
        cmocka_unit_test(parse_and_readers),
        cmocka_unit_test(cap_frame),
        cmocka_unit_test(cap_depth),
        cmocka_unit_test(cap_elements),
        cmocka_unit_test(cap_string_and_binary),
        cmocka_unit_test(huge_claims_fail_fast),
        cmocka_unit_test(truncated_and_trailing),
        cmocka_unit_test(not_a_map),
        cmocka_unit_test(unknown_type_and_direction),
        cmocka_unit_test(unknown_missing_and_wrong_keys),
        cmocka_unit_test(details_name_nested_keys),
        cmocka_unit_test(strings_must_be_clean_utf8),
        cmocka_unit_test(floats_ext_keys_duplicates),
        cmocka_unit_test(id_survives_cap_errors),
        cmocka_unit_test(corpus_matches_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
