/* Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/{wire,tender,record}:
 * wire: one valid frame of every message type, non-canonical variants, broken frames;
 * tender: valid and invalid tenders; record: storage records of every event kind's shape
 * (those of sealed bids and of §11 taken from the openings of fuzz_opening.h), tampered ones. Run it when a format changes and commit the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/event.h"
#include "bo/tender.h"
#include "bo/wire.h"
#include "bo_wire_internal.h"
#include "fuzz_opening.h"

static const char *root;
static const char *dir = "wire";

static void put(const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

#define PUT_LIT(name, lit) put(name, lit, sizeof(lit) - 1)

static uint8_t n32[32];
static const uint8_t cert[] = {0x30, 0x03, 0x02, 0x01, 0x01};
static const char *usccs[] = {"91350100M000100Y43", "91350100M000100Y44"};
static const char req[] = "00112233445566778899aabbccddeeff";
static const char upload[] = "abababababababababababababababababababababababababababababababab";

static bo_raw small_map(bo_buf *store)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_mpmap_str(m, "title", "道路改造工程");
    bo_mpmap_i64(m, "deadline", 1800000000000);
    bo_mpmap_u64(m, "min_bidders", 3);
    bo_mpmap_finish(m, store);
    bo_mpmap_free(m);
    return (bo_raw){{store->data, store->len}, NULL};
}

static void fill(bo_msg *m, bo_msg_type t, bo_buf *store, bo_bytes *chain, bo_bl_entry *ents)
{
    memset(m, 0, sizeof(*m));
    m->type = t;
    m->id = 7;
    m->has_id = true;
    chain[0] = chain[1] = (bo_bytes){cert, sizeof(cert)};
    ents[0] = (bo_bl_entry){usccs[0], "某公司", "失信", "信用中国"};
    ents[1] = (bo_bl_entry){usccs[1], "B", "r", NULL};
    bo_bytes sig = {n32, 9};
    switch (t) {
    case BO_MSG_AUTH:
        m->u.auth = (bo_msg_auth){"bidder", {chain, 2}, {chain, 1}, sig, 5, true, NULL};
        break;
    case BO_MSG_TIME:
        m->u.time.t0 = 1700000000123;
        break;
    case BO_MSG_CREATE:
        m->u.create.tender = small_map(store);
        break;
    case BO_MSG_JOIN:
        m->u.join.oid = "o1";
        m->u.join.since = (bo_msg_since){true, true, true, false, 3, 1, 0};
        break;
    case BO_MSG_REGISTER:
    case BO_MSG_SIGNIN:
        m->u.reg.oid = "o1";
        m->u.reg.sig = sig;
        break;
    case BO_MSG_PAUSE:
    case BO_MSG_FAIL:
        m->u.host_cmd.reason = "网络故障";
        /* fall through */
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
    case BO_MSG_PING:
        m->u.ping.n = 5;
        m->u.ping.time = 1;
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
        m->u.ok.data = small_map(store);
        break;
    case BO_MSG_ERR:
        m->u.err.code = "E_PHASE";
        m->u.err.msg = "not now";
        break;
    case BO_MSG_NOTICE:
        m->u.notice.code = "E_SHUTTING_DOWN";
        m->u.notice.msg = "bye";
        break;
    case BO_MSG_EV:
        m->u.ev = (typeof(m->u.ev)){"o1", "staff", 3, 2, true, 17, "tally", small_map(store),
                                    {n32, 32}};
        break;
    case BO_MSG_PRESENCE:
        m->u.presence.oid = "o1";
        m->u.presence.data = small_map(store);
        break;
    case BO_MSG_SUBMIT_BEGIN:
        m->u.submit_begin = (typeof(m->u.submit_begin)){"o1", 1234567, {n32, 32}, {n32, 32}};
        break;
    case BO_MSG_SUBMIT_CHUNK:
        m->u.submit_chunk = (typeof(m->u.submit_chunk)){"o1", upload, 65536, {cert, 5}};
        break;
    case BO_MSG_SUBMIT_COMMIT:
        m->u.submit_commit = (typeof(m->u.submit_commit)){"o1", upload};
        break;
    case BO_MSG_RECEIPT:
        m->u.receipt.oid = "o1";
        break;
    case BO_MSG_DECRYPT_START:
        m->u.decrypt_start = (typeof(m->u.decrypt_start)){"o1", 1800, true};
        break;
    case BO_MSG_DECRYPT_RESPONSE:
        m->u.decrypt_response =
            (typeof(m->u.decrypt_response)){"o1", req, {n32, 32}, {n32, 28}, sig};
        break;
    case BO_MSG_DECRYPT_FAILED:
        m->u.decrypt_failed = (typeof(m->u.decrypt_failed)){"o1",       req, "cert",
                                                            "key differs", {n32, 32}, sig};
        break;
    case BO_MSG_DECRYPT_EXTEND:
        m->u.decrypt_extend = (typeof(m->u.decrypt_extend)){"o1", 600, "网络故障"};
        break;
    case BO_MSG_CLASSIFY:
        m->u.classify = (typeof(m->u.classify)){"o1", usccs[0], "withdrawn", "平台故障"};
        break;
    case BO_MSG_BENCHMARK:
    case BO_MSG_CLOSE:
        m->u.opening.oid = "o1";
        break;
    case BO_MSG_ANNOUNCE:
        m->u.announce = (typeof(m->u.announce)){"o1", true, true};
        break;
    case BO_MSG_DRAW:
        m->u.draw = (typeof(m->u.draw)){"o1", "k"};
        break;
    case BO_MSG_CONFIRM_OPEN:
        m->u.confirm_open = (typeof(m->u.confirm_open)){"o1", 600, true};
        break;
    case BO_MSG_CONFIRM:
        m->u.confirm = (typeof(m->u.confirm)){"o1", {n32, 32}, sig};
        break;
    case BO_MSG_OBJECT:
        m->u.object = (typeof(m->u.object)){"o1", "报价大写与小写不一致", sig};
        break;
    case BO_MSG_ANSWER:
        m->u.answer = (typeof(m->u.answer)){"o1", 1, "以大写金额为准", sig};
        break;
    case BO_MSG_MESSAGE:
        m->u.message = (typeof(m->u.message)){"o1", "请确认开标记录"};
        break;
    case BO_MSG_EXPORT:
        m->u.export_req = (typeof(m->u.export_req)){"o1", "record", 0, false};
        break;
    default:
        break;
    }
}

static void valid_frames(void)
{
    for (int t = BO_MSG_NONE + 1; t < BO_MSG__COUNT; t++) {
        bo_msg m;
        bo_buf store, out;
        bo_bytes chain[2];
        bo_bl_entry ents[2];
        bo_buf_init(&store, 1 << 20);
        bo_buf_init(&out, 1 << 20);
        fill(&m, (bo_msg_type)t, &store, chain, ents);
        if (bo_wire_encode(&out, &m) != BO_E_OK) {
            fprintf(stderr, "cannot encode %s\n", bo_msg_type_name((bo_msg_type)t));
            exit(1);
        }
        char name[64];
        snprintf(name, sizeof(name), "valid-%s", bo_msg_type_name((bo_msg_type)t));
        put(name, out.data, out.len);
        if (t == BO_MSG_EV) { /* every truncation of one rich frame */
            for (size_t cut = 1; cut < out.len; cut += out.len / 6 + 1) {
                snprintf(name, sizeof(name), "bad-truncated-ev-%zu", cut);
                put(name, out.data, cut);
            }
            uint8_t *trail = malloc(out.len + 1);
            memcpy(trail, out.data, out.len);
            trail[out.len] = 0xc0;
            put("bad-trailing-ev", trail, out.len + 1);
            free(trail);
        }
        bo_buf_cleanup(&store);
        bo_buf_cleanup(&out);
    }
}

static void deep(const char *name, unsigned depth)
{
    uint8_t b[64];
    size_t n = 0;
    b[n++] = 0x81, b[n++] = 0xa1, b[n++] = 't', b[n++] = 0xa2, b[n++] = 'o', b[n++] = 'k';
    b[0] = 0x82;
    b[n++] = 0xa4, memcpy(b + n, "data", 4), n += 4;
    b[n++] = 0x81, b[n++] = 0xa1, b[n++] = 'a';
    for (unsigned i = 0; i < depth - 1; i++)
        b[n++] = 0x91;
    b[n++] = 0x90;
    put(name, b, n);
}

static void put_buf(const char *name, bo_buf *b)
{
    put(name, b->data, b->len);
    bo_buf_reset(b);
}

static void tenders(void)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    bo_tender t;
    memset(&t, 0, sizeof(t));
    strcpy(t.oid, "T-2026.001");
    strcpy(t.title, "道路改造工程施工");
    strcpy(t.lot, "一标段");
    t.checkin_at = 1800000000000;
    t.deadline = 1800003600000;
    t.min_bidders = 3;
    t.decrypt_window_s = 1800;
    strcpy(t.currency, "CNY");
    t.tz_offset_min = 480;
    static const char *keys[] = {"price", "days", "manager"};
    static const bo_field_type types[] = {BO_FIELD_DECIMAL, BO_FIELD_DAYS, BO_FIELD_TEXT};
    for (int i = 0; i < 3; i++) {
        strcpy(t.fields[i].key, keys[i]);
        strcpy(t.fields[i].label, keys[i]);
        t.fields[i].type = types[i];
    }
    t.n_fields = 3;
    bo_tender_encode(&t, &b), put_buf("valid-full", &b);
    t.has_host_fpr = true;
    memset(t.host_fpr, 3, 32);
    t.counts_early = true;
    bo_tender_encode(&t, &b), put_buf("valid-host-fpr", &b);
    /* §11: an order draw, a coefficient draw and a benchmark price that uses it */
    t.has_host_fpr = false;
    t.announce_order = BO_ORDER_DRAW;
    strcpy(t.announce_draw, "ord");
    t.n_draws = 2;
    strcpy(t.draws[0].id, "ord");
    t.draws[0].kind = BO_DRAW_ORDER;
    strcpy(t.draws[0].label, "唱标顺序");
    strcpy(t.draws[1].id, "k");
    t.draws[1].kind = BO_DRAW_COEFFICIENT;
    strcpy(t.draws[1].label, "下浮系数");
    for (int i = 0; i < 4; i++)
        t.draws[1].values[i] = (bo_decimal){95 + i, 2};
    t.draws[1].n_values = 4;
    t.benchmark = (bo_tender_benchmark){true, "price", 5, 1, true, "k", {1, 0}, 2,
                                        BO_ROUND_HALF_EVEN};
    bo_tender_encode(&t, &b), put_buf("valid-opening", &b);
    t.benchmark.coef_draw = false;
    t.benchmark.coefficient = (bo_decimal){1005, 3};
    t.announce_order = BO_ORDER_USCC;
    t.n_draws = 0;
    bo_tender_encode(&t, &b), put_buf("valid-benchmark-fixed", &b);
    PUT_LIT("bad-order-draw", "\x84\xa5title\xa1t\xaa\x63heckin_at\x01\xa8\x64\x65\x61\x64line"
                              "\x02\xae\x61nnounce_order\xa6\x64raw:x");
    PUT_LIT("bad-benchmark-field", "\x84\xa5title\xa1t\xaa\x63heckin_at\x01\xa8\x64\x65\x61"
                                   "\x64line\x02\xa9\x62\x65nchmark\x81\xa5\x66ield\xa1p");
    PUT_LIT("valid-minimal", "\x83\xa5title\xa1t\xaa\x63heckin_at\x01\xa8\x64\x65\x61\x64line"
                             "\xcf\x00\x00\x01\xa3\x18\x5c\x50\x00");
    PUT_LIT("bad-unknown-key", "\x81\xa3zzz\x01");
    PUT_LIT("bad-float", "\x81\xa5title\xca\0\0\0\0");
    PUT_LIT("bad-dup", "\x82\xa5title\xa1t\xa5title\xa1u");
    PUT_LIT("bad-fields", "\x81\xa6\x66ields\x91\x83\xa3key\xa1K\xa5label\xa1x\xa4type\xa1y");
    bo_buf_cleanup(&b);
}

static void record_of(const char *name, bo_event_kind kind, bo_aud aud, const char *uscc,
                      const bo_buf *body, uint64_t seq)
{
    bo_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.seq = seq;
    ev.ts = 1800000000000;
    ev.kind = kind;
    ev.aud = aud;
    if (uscc)
        strcpy(ev.aud_uscc, uscc);
    ev.body = body->data;
    ev.body_len = body->len;
    memset(ev.prev_hash, seq > 1 ? 0x42 : 0, 32);
    bo_event_compute_hash("o1", &ev, ev.hash);
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    bo_event_encode_record(&ev, &b);
    put(name, b.data, b.len);
    if (seq == 2) { /* a tampered copy */
        b.data[b.len / 2] ^= 1;
        char tname[96];
        snprintf(tname, sizeof(tname), "bad-tampered-%s", name);
        put(tname, b.data, b.len);
    }
    bo_buf_cleanup(&b);
}

/* opening_created of the opening "o1" */
static void created_body(bo_buf *body)
{
    bo_tender t;
    memset(&t, 0, sizeof(t));
    strcpy(t.oid, "o1");
    strcpy(t.title, "道路改造工程施工");
    t.checkin_at = 1800000000000;
    t.deadline = 1800003600000;
    t.min_bidders = 3;
    t.decrypt_window_s = 1800;
    strcpy(t.currency, "CNY");
    t.tz_offset_min = 480;
    bo_buf tender;
    bo_buf_init(&tender, 1 << 20);
    bo_tender_encode(&t, &tender);
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_mpmap_raw(m, "tender", tender.data, tender.len);
    bo_mpmap_bin(m, "host_fpr", n32, 32);
    bo_mpmap_str(m, "host_name", "host");
    bo_mpmap_bin(m, "seed_commit", n32, 32);
    bo_mpmap_finish(m, body);
    bo_mpmap_free(m);
    bo_buf_cleanup(&tender);
}

/* Writes one record of each kind in log not seen yet (named prefix-kind); with also, that
 * kind is written even if seen. */
static void kinds_of(const bo_event_list *log, bool *seen, const char *prefix,
                     bo_event_kind also)
{
    for (size_t i = 0; i < log->n; i++) {
        const bo_event *ev = &log->v[i];
        if (seen[ev->kind] && ev->kind != also)
            continue;
        if (ev->kind == also)
            also = BO_EV_NONE; /* once */
        seen[ev->kind] = true;
        bo_buf b;
        bo_buf_init(&b, 1 << 20);
        bo_event_encode_record(ev, &b);
        char name[96];
        snprintf(name, sizeof(name), "%s-%s", prefix, bo_event_kind_name(ev->kind));
        put(name, b.data, b.len);
        if (ev->kind == BO_EV_DECRYPT_REQUEST || ev->kind == BO_EV_BENCHMARK_PRICE) {
            char bad[96];
            b.data[b.len / 2] ^= 1;
            snprintf(bad, sizeof(bad), "bad-tampered-%s", bo_event_kind_name(ev->kind));
            put(bad, b.data, b.len);
        }
        bo_buf_cleanup(&b);
    }
}

/* One record of each kind the openings of fuzz_opening.h write, and tampered ones. */
static void opening_records(void)
{
    bo_event_list log;
    bo_event_list_init(&log);
    fz_opening o;
    fz_decrypting(&o, &log);
    fz_finish(&o);
    bo_session_free(o.s);
    bool seen[BO_EV__COUNT] = {false};
    kinds_of(&log, seen, "valid-ev", BO_EV_NONE);
    bo_event_list_cleanup(&log);
    fz_confirming(&o, &log);
    fz_close(&o);
    bo_session_free(o.s);
    kinds_of(&log, seen, "valid-ev11", BO_EV_BID_DECRYPTED); /* with its evidence */
    bo_event_list_cleanup(&log);
}

/* Opening records: closed, confirming, failed while confirming; broken ones. */
static void oprecords(void)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 22);
    fz_opening o;
    fz_confirming(&o, NULL);
    bo_session_record(o.s, &b), put_buf("valid-confirming", &b);
    bo_cmd c = fz_cmd(&o, BO_CMD_FAIL, &o.host, FZ_OPEN + 1);
    c.reason = "停电";
    fz_run(&o, &c);
    bo_session_record(o.s, &b), put_buf("valid-failed", &b);
    bo_session_free(o.s);
    fz_confirming(&o, NULL);
    fz_close(&o);
    bo_session_record(o.s, &b);
    put("valid-closed", b.data, b.len);
    put("bad-closed-truncated", b.data, b.len - 3);
    bo_buf_reset(&b);
    bo_session_free(o.s);
    fz_announcing(&o, NULL);
    bo_session_record(o.s, &b), put_buf("valid-announcing", &b);
    bo_session_free(o.s);
    bo_buf_cleanup(&b);
    PUT_LIT("bad-not-map", "\x91\x01");
    PUT_LIT("bad-float", "\x81\xa1v\xca\0\0\0\0");
    PUT_LIT("valid-no-timeline", "\x82\xaconfirmation\x81\xa4head\x80\xa5phase\xa1x");
}

static void records(void)
{
    bo_buf body;
    bo_buf_init(&body, 1 << 20);
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_mpmap_str(m, "from", "scheduled");
    bo_mpmap_str(m, "to", "checkin");
    bo_mpmap_finish(m, &body), bo_mpmap_free(m);
    record_of("valid-phase", BO_EV_PHASE_CHANGED, BO_AUD_PUB, NULL, &body, 1);
    bo_buf_reset(&body);
    m = bo_mpmap_new(&err);
    bo_mpmap_u64(m, "registered", 2);
    bo_mpmap_u64(m, "signed_in", 1);
    bo_mpmap_u64(m, "intercepted", 0);
    bo_mpmap_str(m, "cause", "signed_in");
    bo_mpmap_finish(m, &body), bo_mpmap_free(m);
    record_of("valid-tally", BO_EV_TALLY, BO_AUD_STAFF, NULL, &body, 2);
    record_of("valid-bidder", BO_EV_BIDDER_SIGNED_IN, BO_AUD_BIDDER, usccs[0], &body, 3);
    record_of("valid-sup", BO_EV_BIDDER_INTERCEPTED, BO_AUD_SUP, NULL, &body, 4);
    bo_buf_reset(&body);
    created_body(&body);
    record_of("valid-created", BO_EV_OPENING_CREATED, BO_AUD_PUB, NULL, &body, 1);
    bo_buf_cleanup(&body);
    PUT_LIT("bad-not-map", "\x91\x01");
    PUT_LIT("bad-short-map", "\x81\xa3\x61ud\xa3pub");
    opening_records();
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
        return 2;
    }
    root = argv[1];
    memset(n32, 0xab, sizeof(n32));
    dir = "tender";
    tenders();
    dir = "record";
    records();
    dir = "oprecord";
    oprecords();
    dir = "wire";
    valid_frames();
    /* non-canonical but valid */
    PUT_LIT("valid-time-unsorted-wide-ints", "\x83\xa2t0\xcf\0\0\0\0\0\0\x01\x2c\xa1t\xa4time"
                                             "\xa2id\xd3\0\0\0\0\0\0\0\x05");
    PUT_LIT("valid-create-nested-unsorted", "\x83\xa1t\xa6\x63reate\xa2id\x01\xa6tender\x82"
                                            "\xa1\x62\x82\xa1y\x01\xa1x\xd0\x02\xa1\x61\x91"
                                            "\x82\xa1\x64\x01\xa1\x63\xd2\xff\xff\xff\xff");
    PUT_LIT("valid-ok-no-data", "\x82\xa1t\xa2ok\xa2re\x01");
    PUT_LIT("valid-join-no-since", "\x83\xa1t\xa4join\xa2id\x01\xa3oid\xa2o1");
    deep("valid-depth-8", 6);
    deep("bad-depth-9", 7);
    deep("bad-depth-33", 31);
    /* broken */
    PUT_LIT("bad-empty-map", "\x80");
    PUT_LIT("bad-array-top", "\x92\x01\x02");
    PUT_LIT("bad-string-top", "\xa4time");
    PUT_LIT("bad-never-used-tag", "\xc1");
    PUT_LIT("bad-unknown-type", "\x82\xa1t\xa3zap\xa2id\x09");
    PUT_LIT("bad-unknown-key", "\x84\xa2id\x07\xa1t\xa4time\xa2t0\x01\xa1x\x01");
    PUT_LIT("bad-missing-t0", "\x82\xa2id\x07\xa1t\xa4time");
    PUT_LIT("bad-missing-id", "\x82\xa1t\xa4time\xa2t0\x01");
    PUT_LIT("bad-wrong-type", "\x83\xa2id\x07\xa1t\xa4time\xa2t0\xa3\x61\x62\x63");
    PUT_LIT("bad-float", "\x82\xa1t\xa4pong\xa1n\xcb\0\0\0\0\0\0\0\0");
    PUT_LIT("bad-ext", "\x82\xa1t\xa4pong\xa1n\xd4\x01\x01");
    PUT_LIT("bad-int-key", "\x83\xa1t\xa4pong\xa1n\x01\x05\x01");
    PUT_LIT("bad-dup-key", "\x83\xa1t\xa4pong\xa1n\x01\xa1n\x02");
    PUT_LIT("bad-utf8", "\x83\xa1t\xa6notice\xa4\x63ode\xa3\x45_X\xa3msg\xa2\xc3\x28");
    PUT_LIT("bad-nul", "\x83\xa1t\xa6notice\xa4\x63ode\xa3\x45_X\xa3msg\xa3\x61\x00\x62");
    PUT_LIT("bad-huge-array", "\x81\xa1\x61\xdd\xff\xff\xff\xff");
    PUT_LIT("bad-huge-map", "\x81\xa1\x61\xdf\xff\xff\xff\xff");
    PUT_LIT("bad-huge-str", "\x81\xa1\x61\xdb\xff\xff\xff\xff");
    PUT_LIT("bad-huge-bin", "\x81\xa1\x61\xc6\xff\xff\xff\xff");
    PUT_LIT("bad-chain-elem", "\x84\xa1t\xa4\x61uth\xa2id\x01\xa4role\xa6\x62idder\xa5\x63hain"
                              "\x93\xc4\x01\x00\xc4\x01\x00\x01");
    PUT_LIT("bad-tender-utf8", "\x83\xa1t\xa6\x63reate\xa2id\x01\xa6tender\x81\xa5title"
                               "\xa2\xc3\x28");
    PUT_LIT("bad-entries-missing", "\x83\xa1t\xa6\x62l_add\xa2id\x01\xa7\x65ntries\x91\x82"
                                   "\xa4name\xa1n\xa6reason\xa1r");
    PUT_LIT("bad-nonce-short", "\x86\xa1t\xa5hello\xa1v\x01\xa4time\x01\xa4node\xa1n"
                               "\xa5nonce\xc4\x01\x00\xa4\x63\x61ps\x80");
    PUT_LIT("bad-since-negative", "\x84\xa1t\xa4join\xa2id\x01\xa3oid\xa1o\xa5since\x81"
                                  "\xa3pub\xff");
    PUT_LIT("bad-window-short", "\x84\xa1t\xad\x64\x65\x63rypt_start\xa2id\x01\xa3oid\xa1o"
                                "\xa8window_s\x3b");
    PUT_LIT("bad-receipt-oid", "\x83\xa1t\xa7receipt\xa2id\x01\xa3oid\xa3o 1");
    PUT_LIT("bad-outcome", "\x86\xa1t\xa8\x63lassify\xa2id\x01\xa3oid\xa1o\xa4uscc\xa1u"
                           "\xa7outcome\xa4lost\xa6reason\xa1r");
    PUT_LIT("valid-server-key-unsorted", "\x82\xa2id\x03\xa1t\xaaserver_key");
    PUT_LIT("bad-answer-zero", "\x86\xa1t\xa6\x61nswer\xa2id\x01\xa3oid\xa1o\xa9objection"
                               "\x00\xa4text\xa1x\xa3sig\xc4\x01\x00");
    PUT_LIT("bad-export-format", "\x84\xa1t\xa6\x65xport\xa2id\x01\xa3oid\xa1o\xa6\x66ormat"
                                 "\xa3pdf");
    PUT_LIT("bad-draw-id", "\x84\xa1t\xa4\x64raw\xa2id\x01\xa3oid\xa1o\xa4\x64raw\xa1K");
    return 0;
}
