#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "bo/evfmt.h"
#include "bo/wire.h"

static bo_mpmap *mm_new(void)
{
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    assert_non_null(m);
    return m;
}

static void check_line(const char *kind, bo_mpmap *body, const char *st, uint64_t seq,
                       const char *want)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_mpmap_finish(body, &b), BO_E_OK);
    bo_mpmap_free(body);
    msgpack_zone *z = NULL;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(b.data, b.len, &z, &o), BO_E_OK);
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    /* 2026-11-27T02:00:03Z is 10:00:03 in UTC+8 */
    assert_int_equal(bo_evfmt_event(&out, kind, &o, 1795744803000LL, st, seq, 480), BO_E_OK);
    if (strcmp((const char *)out.data, want) != 0)
        fail_msg("%s:\n got  %s\n want %s", kind, (const char *)out.data, want);
    bo_buf_cleanup(&out);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);
}

static void event_lines(void **state)
{
    bo_mpmap *m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "org", "福建某建设有限公司");
    check_line("bidder_signed_in", m, "pub", 12,
               "[10:00:03 #12] 签到 signed in: 91350100M000100Y43 福建某建设有限公司");

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "org", "福建某建设有限公司");
    bo_mpmap_bool(m, "replaced", true);
    check_line("bidder_registered", m, "b", 3,
               "[10:00:03 b#3] 报名 registered: 91350100M000100Y43 福建某建设有限公司 "
               "(更新证书 certificates replaced)");

    m = mm_new();
    bo_mpmap_str(m, "from", "checkin");
    bo_mpmap_str(m, "to", "awaiting_open");
    check_line("phase_changed", m, NULL, 7,
               "[10:00:03 #7] 阶段 phase: 签到中 check-in → 待开标 awaiting opening");

    m = mm_new();
    bo_mpmap_str(m, "from", "decrypting");
    bo_mpmap_str(m, "to", "failed");
    bo_mpmap_str(m, "reason", "quorum");
    check_line("phase_changed", m, "all", 9,
               "[10:00:03 #9] 阶段 phase: 解密中 decrypting → 流标 failed (quorum)");

    m = mm_new();
    bo_mpmap_u64(m, "registered", 5);
    bo_mpmap_u64(m, "signed_in", 3);
    bo_mpmap_u64(m, "intercepted", 1);
    bo_mpmap_str(m, "cause", "signin");
    check_line("tally", m, "staff", 2,
               "[10:00:03 staff#2] 统计 tally: 报名 registered 5 · 签到 signed in 3 · "
               "拦截 intercepted 1");

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91110000X00000000A");
    bo_mpmap_str(m, "org", "某失信公司");
    bo_mpmap_str(m, "reason", "失信被执行人");
    check_line("bidder_intercepted", m, "staff", 4,
               "[10:00:03 staff#4] 拦截 intercepted: 91110000X00000000A 某失信公司: 失信被执行人");

    m = mm_new();
    bo_mpmap_str(m, "reason", "分会场网络中断");
    check_line("paused", m, "pub", 20, "[10:00:03 #20] 暂停 paused: 分会场网络中断");

    m = mm_new();
    bo_mpmap_u64(m, "paused_ms", 62000);
    check_line("resumed", m, "pub", 21, "[10:00:03 #21] 恢复 resumed (暂停了 paused for 01:02)");

    /* missing fields print as ?, unknown kinds as JSON */
    m = mm_new();
    check_line("bidder_signed_in", m, "pub", 1, "[10:00:03 #1] 签到 signed in: ? ?");
    m = mm_new();
    bo_mpmap_u64(m, "x", 1);
    check_line("price_announced", m, "pub", 30, "[10:00:03 #30] price_announced: {\"x\":1}");

    /* bidders_revealed lists every bidder */
    bo_buf list;
    bo_buf_init(&list, 4096);
    bo_mp_array_header(&list, 2);
    for (int i = 0; i < 2; i++) {
        bo_mpmap *b = mm_new();
        bo_mpmap_str(b, "uscc", i ? "91350100M000100Y43" : "91350200MA00000001");
        bo_mpmap_str(b, "org", i ? "福建某建设有限公司" : "厦门某工程公司");
        bo_mpmap_bool(b, "signed_in", i);
        bo_mpmap_finish(b, &list);
        bo_mpmap_free(b);
    }
    m = mm_new();
    bo_mpmap_raw(m, "bidders", list.data, list.len);
    bo_mpmap_u64(m, "count", 2);
    bo_mpmap_u64(m, "min", 3);
    bo_mpmap_bool(m, "quorum", false);
    check_line("bidders_revealed", m, "pub", 8,
               "[10:00:03 #8] 公布投标人 bidders revealed: 2 (最少 min 3, 不足 no quorum: "
               "流标 only failing is possible)\n"
               "  1. 91350200MA00000001 厦门某工程公司  ✗ 未签到 not signed in\n"
               "  2. 91350100M000100Y43 福建某建设有限公司  ✓ 已签到 signed in");
    bo_buf_cleanup(&list);
}

static void countdowns(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 4096);
    const int64_t now = 1000000000000LL;
    assert_int_equal(bo_evfmt_countdown(&b, "scheduled", false, now + 65000, now + 3725000, now),
                     BO_E_OK);
    assert_string_equal((char *)b.data, "距签到开始 check-in opens in 01:05");
    bo_buf_reset(&b);
    bo_evfmt_countdown(&b, "scheduled", false, 0, now + 3725000, now);
    assert_string_equal((char *)b.data, "距开标 opening in 1:02:05");
    bo_buf_reset(&b);
    bo_evfmt_countdown(&b, "checkin", false, now - 1000, now + 59001, now);
    assert_string_equal((char *)b.data, "距开标 opening in 01:00");
    bo_buf_reset(&b);
    bo_evfmt_countdown(&b, "checkin", false, 0, now - 5000, now); /* late timer: 00:00 */
    assert_string_equal((char *)b.data, "距开标 opening in 00:00");
    bo_buf_reset(&b);
    bo_evfmt_countdown(&b, "decrypting", false, 0, now - 5000, now);
    assert_string_equal((char *)b.data, "解密中 decrypting");
    bo_buf_reset(&b);
    bo_evfmt_countdown(&b, "announcing", true, 0, now - 5000, now);
    assert_string_equal((char *)b.data, "已暂停 paused (唱标中 announcing)");
    bo_buf_cleanup(&b);

    assert_string_equal(bo_evfmt_phase_label("checkin"), "签到中 check-in");
    assert_string_equal(bo_evfmt_phase_label("new_phase"), "new_phase");
    assert_string_equal(bo_evfmt_phase_label(NULL), "?");
    char clk[16];
    assert_string_equal(bo_evfmt_clock(1795744803000LL, 0, clk, sizeof clk), "02:00:03");
    assert_string_equal(bo_evfmt_clock(1795744803000LL, -300, clk, sizeof clk), "21:00:03");
}

static void presence_and_snapshot(void **state)
{
    bo_buf online, sites, snap, tender, counts, out;
    bo_buf_init(&online, 4096);
    bo_buf_init(&sites, 4096);
    bo_buf_init(&snap, 4096);
    bo_buf_init(&tender, 4096);
    bo_buf_init(&counts, 4096);
    bo_buf_init(&out, 4096);
    bo_mpmap *m = mm_new();
    bo_mpmap_u64(m, "bidder", 3);
    bo_mpmap_u64(m, "site", 1);
    bo_mpmap_finish(m, &online);
    bo_mpmap_free(m);
    bo_mp_array_header(&sites, 1);
    m = mm_new();
    bo_mpmap_str(m, "name", "福州市民服务中心");
    bo_mpmap_u64(m, "rtt_ms", 12);
    bo_mpmap_finish(m, &sites);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_raw(m, "online", online.data, online.len);
    bo_mpmap_raw(m, "sites", sites.data, sites.len);
    bo_mpmap_u64(m, "bidders", 3);
    bo_mpmap_finish(m, &snap);
    bo_mpmap_free(m);
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(snap.data, snap.len, &z, &o), BO_E_OK);
    assert_int_equal(bo_evfmt_presence(&out, &o), BO_E_OK);
    assert_string_equal((char *)out.data,
                        "在线 online: bidder 3, site 1 | 分会场 sites: 福州市民服务中心 12 ms | "
                        "投标人 bidders: 3");
    msgpack_zone_free(z);

    m = mm_new();
    bo_mpmap_str(m, "title", "某某道路工程施工");
    bo_mpmap_str(m, "lot", "一标段");
    bo_mpmap_i64(m, "tz_offset_min", 480);
    bo_mpmap_finish(m, &tender);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_u64(m, "registered", 4);
    bo_mpmap_u64(m, "signed_in", 2);
    bo_mpmap_u64(m, "intercepted", 0);
    bo_mpmap_finish(m, &counts);
    bo_mpmap_free(m);
    bo_buf_reset(&snap);
    m = mm_new();
    bo_mpmap_str(m, "oid", "demo-1");
    bo_mpmap_raw(m, "tender", tender.data, tender.len);
    bo_mpmap_str(m, "phase", "checkin");
    bo_mpmap_bool(m, "paused", false);
    bo_mpmap_i64(m, "deadline", 1795744800000LL);
    bo_mpmap_i64(m, "checkin_at", 1795743000000LL);
    bo_mpmap_raw(m, "counts", counts.data, counts.len);
    bo_mpmap_finish(m, &snap);
    bo_mpmap_free(m);
    assert_int_equal(bo_mp_parse(snap.data, snap.len, &z, &o), BO_E_OK);
    bo_buf_reset(&out);
    assert_int_equal(bo_evfmt_snapshot(&out, &o), BO_E_OK);
    assert_string_equal((char *)out.data,
                        "开标 opening demo-1: 某某道路工程施工 · 一标段\n"
                        "阶段 phase: 签到中 check-in\n"
                        "开标时间 opening at 2026-11-27T10:00:00+08:00 · "
                        "签到开始 check-in from 2026-11-27T09:30:00+08:00\n"
                        "统计 counts: 报名 registered 4 · 签到 signed in 2 · 拦截 intercepted 0");
    msgpack_zone_free(z);
    bo_buf_cleanup(&online);
    bo_buf_cleanup(&sites);
    bo_buf_cleanup(&snap);
    bo_buf_cleanup(&tender);
    bo_buf_cleanup(&counts);
    bo_buf_cleanup(&out);
}

/* §10: submissions, decryption, classification; progress in server time. */
static void sealed_lines(void **state)
{
    (void)state;
    uint8_t h[32];
    for (int i = 0; i < 32; i++)
        h[i] = (uint8_t)(0xa0 + i);
    bo_mpmap *m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_bin(m, "hash", h, 32);
    bo_mpmap_u64(m, "size", 3 * 1048576 + 104858);
    bo_mpmap_bin(m, "replaces", h, 32);
    check_line("bid_submitted", m, "b", 4,
               "[10:00:03 b#4] 投标文件已递交 bid submitted: 91350100M000100Y43 a0a1a2a3a4a5a6a7… "
               "(3.1 MiB) (替换 replaces an earlier bid)");

    m = mm_new();
    bo_mpmap_u64(m, "registered", 5);
    bo_mpmap_u64(m, "signed_in", 3);
    bo_mpmap_u64(m, "intercepted", 0);
    bo_mpmap_u64(m, "submitted", 4);
    check_line("tally", m, "staff", 6,
               "[10:00:03 staff#6] 统计 tally: 报名 registered 5 · 签到 signed in 3 · "
               "拦截 intercepted 0 · 递交 submitted 4");

    m = mm_new();
    bo_mpmap_u64(m, "window_s", 1800);
    bo_mpmap_i64(m, "ends_at", 1795746603000LL);
    bo_mpmap_u64(m, "bids", 5);
    check_line("decryption_started", m, "pub", 9,
               "[10:00:03 #9] 开始解密 decryption started: 5 份投标 bids, 时限 window 30:00");

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "req", "0123456789abcdef0123456789abcdef");
    bo_mpmap_bin(m, "bid", h, 32);
    check_line("decrypt_request", m, "b", 5,
               "[10:00:03 b#5] 解密请求 decryption request: bid a0a1a2a3a4a5a6a7… req "
               "0123456789abcdef0123456789abcdef");

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "stage", "cert");
    bo_mpmap_str(m, "error", "certificate renewed: bid sealed to serial 1008");
    check_line("decrypt_diagnostic", m, "staff", 7,
               "[10:00:03 staff#7] 解密失败诊断 decryption failed: 91350100M000100Y43 [cert] "
               "certificate renewed: bid sealed to serial 1008");

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "code", "E_COMMITMENT_MISMATCH");
    check_line("decrypt_refused", m, "staff", 8,
               "[10:00:03 staff#8] 解密被拒 decryption refused: 91350100M000100Y43 "
               "E_COMMITMENT_MISMATCH");

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "org", "福建某建设有限公司");
    bo_mpmap_u64(m, "size", 2048);
    check_line("bid_decrypted", m, "pub", 10,
               "[10:00:03 #10] 解密成功 bid decrypted: 91350100M000100Y43 福建某建设有限公司 "
               "(2.0 KiB)");

    bo_mpmap *f = mm_new();
    bo_mpmap_str(f, "price", "1234567.89");
    bo_mpmap_str(f, "duration", "180");
    bo_buf fb;
    bo_buf_init(&fb, 4096);
    bo_mpmap_finish(f, &fb);
    bo_mpmap_free(f);
    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_raw(m, "form", fb.data, fb.len);
    check_line("bid_form", m, "all", 40,
               "[10:00:03 #40] 开标一览 opening form: 91350100M000100Y43 duration=180, "
               "price=1234567.89");
    bo_buf_cleanup(&fb);

    m = mm_new();
    bo_mpmap_i64(m, "ends_at", 1795748403000LL);
    bo_mpmap_str(m, "reason", "网络故障");
    check_line("decryption_extended", m, "pub", 11,
               "[10:00:03 #11] 延长解密 decryption extended to 2026-11-27T11:00:03+08:00: 网络故障");

    bo_buf list;
    bo_buf_init(&list, 4096);
    bo_mp_array_header(&list, 1);
    bo_mp_str(&list, "91350100M000100Y43", 18);
    m = mm_new();
    bo_mpmap_raw(m, "undecrypted", list.data, list.len);
    check_line("decryption_window_closed", m, "pub", 12,
               "[10:00:03 #12] 解密时限结束 decryption window closed: 1 份未解密 not decrypted "
               "91350100M000100Y43");
    bo_buf_cleanup(&list);

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "outcome", "revoked");
    bo_mpmap_str(m, "reason", "证书已更新，投标人未能解密");
    check_line("bid_classified", m, "pub", 13,
               "[10:00:03 #13] 认定 classified: 91350100M000100Y43 撤销 revoked: "
               "证书已更新，投标人未能解密");

    m = mm_new();
    bo_mpmap_u64(m, "paused_ms", 62000);
    bo_mpmap_i64(m, "ends_at", 1795748403000LL);
    check_line("resumed", m, "pub", 14,
               "[10:00:03 #14] 恢复 resumed (暂停了 paused for 01:02), 时限截止 window ends "
               "2026-11-27T11:00:03+08:00");

    /* progress */
    bo_buf b;
    bo_buf_init(&b, 4096);
    const int64_t now = 1000000000000LL;
    assert_int_equal(bo_evfmt_decrypt_progress(&b, 5, 3, 0, now + 724000, false, now), BO_E_OK);
    assert_string_equal((char *)b.data, "解密 decrypted 3/5 · 剩余 time left 12:04");
    bo_buf_reset(&b);
    bo_evfmt_decrypt_progress(&b, 5, 4, 1, now - 1, false, now);
    assert_string_equal((char *)b.data, "解密 decrypted 4/5 · 已认定 classified 1 · 时限已过 "
                                        "window closed");
    bo_buf_reset(&b);
    bo_evfmt_decrypt_progress(&b, 5, 3, 0, now + 724000, true, now);
    assert_string_equal((char *)b.data, "解密 decrypted 3/5 · 已暂停 paused");
    bo_buf_reset(&b);
    bo_evfmt_decrypt_progress(&b, 2, 0, 0, 0, false, now);
    assert_string_equal((char *)b.data, "解密 decrypted 0/2");
    bo_buf_cleanup(&b);
}

/* presence.decrypt: the bids the server is opening right now */
static void presence_decrypt(void **state)
{
    (void)state;
    bo_buf arr, out;
    bo_buf_init(&arr, 4096);
    bo_mp_array_header(&arr, 2);
    bo_mpmap *d = mm_new();
    bo_mpmap_str(d, "uscc", "91350100M000100Y43");
    bo_mpmap_str(d, "state", "opening");
    bo_mpmap_u64(d, "done", 450);
    bo_mpmap_u64(d, "total", 1000);
    bo_mpmap_finish(d, &arr);
    bo_mpmap_free(d);
    d = mm_new();
    bo_mpmap_str(d, "uscc", "91350200MA00042015");
    bo_mpmap_str(d, "state", "queued");
    bo_mpmap_u64(d, "done", 0);
    bo_mpmap_u64(d, "total", 1000);
    bo_mpmap_finish(d, &arr);
    bo_mpmap_free(d);
    bo_mpmap *m = mm_new();
    bo_mpmap_raw(m, "decrypt", arr.data, arr.len);
    bo_buf mp;
    bo_buf_init(&mp, 4096);
    bo_mpmap_finish(m, &mp);
    bo_mpmap_free(m);
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(mp.data, mp.len, &z, &o), BO_E_OK);
    bo_buf_init(&out, 4096);
    assert_int_equal(bo_evfmt_presence(&out, &o), BO_E_OK);
    assert_non_null(strstr((char *)out.data, "正在解密 opening: 91350100M000100Y43 45%, "
                                             "91350200MA00042015 排队 queued"));
    msgpack_zone_free(z);
    bo_buf_cleanup(&mp);
    bo_buf_cleanup(&out);
    bo_buf_cleanup(&arr);
}

/* A canonical map of str -> str. */
static void str_map(bo_buf *out, const char *const *kv, size_t n)
{
    bo_mpmap *m = mm_new();
    for (size_t i = 0; i < n; i++)
        bo_mpmap_str(m, kv[2 * i], kv[2 * i + 1]);
    assert_int_equal(bo_mpmap_finish(m, out), BO_E_OK);
    bo_mpmap_free(m);
}

static void str_array(bo_buf *out, const char *const *v, size_t n)
{
    bo_mp_array_header(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        bo_mp_str(out, v[i], strlen(v[i]));
}

/* §11: the announcement, draws, the benchmark price, confirmation, objections, the close. */
static void closing_lines(void **state)
{
    (void)state;
    uint8_t h[32];
    for (int i = 0; i < 32; i++)
        h[i] = (uint8_t)(0x10 + i);
    const char *hex = "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";
    char want[1024];

    bo_mpmap *m = mm_new();
    bo_mpmap_str(m, "from", "decrypting");
    bo_mpmap_str(m, "to", "announcing");
    bo_mpmap_u64(m, "valid", 2);
    bo_mpmap_u64(m, "min", 3);
    bo_mpmap_bool(m, "quorum", false);
    check_line("phase_changed", m, "pub", 30,
               "[10:00:03 #30] 阶段 phase: 解密中 decrypting → 唱标中 announcing: 有效投标 valid "
               "bids 2 (最少 min 3, 不足 no quorum: 流标 only failing is possible)");

    bo_buf f;
    bo_buf_init(&f, 4096);
    static const char *const form[] = {"price", "1000000.10", "duration", "200"};
    str_map(&f, form, 2);
    m = mm_new();
    bo_mpmap_u64(m, "n", 1);
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "org", "福建某建设有限公司");
    bo_mpmap_str(m, "status", "valid");
    bo_mpmap_bin(m, "bid", h, 32);
    bo_mpmap_raw(m, "fields", f.data, f.len);
    bo_mpmap_bin(m, "commit", h, 32);
    check_line("bid_announced", m, "pub", 31,
               "[10:00:03 #31] 唱标 announced #1: 91350100M000100Y43 福建某建设有限公司 · "
               "有效 valid · duration=200, price=1000000.10");
    m = mm_new();
    bo_mpmap_u64(m, "n", 2);
    bo_mpmap_str(m, "uscc", "91350300MA00000002");
    bo_mpmap_str(m, "org", "ABC Ltd");
    bo_mpmap_str(m, "status", "invalid");
    bo_mpmap_str(m, "form_error", "price: must be a decimal");
    check_line("bid_announced", m, "pub", 32,
               "[10:00:03 #32] 唱标 announced #2: 91350300MA00000002 ABC Ltd · 无效 invalid · "
               "开标一览表有误 form error: price: must be a decimal");

    m = mm_new();
    bo_mpmap_str(m, "id", "k1");
    bo_mpmap_str(m, "kind", "coefficient");
    bo_mpmap_str(m, "value", "0.97");
    bo_mpmap_bin(m, "seed", h, 32);
    bo_mpmap_bin(m, "inputs", h, 32);
    snprintf(want, sizeof(want),
             "[10:00:03 #33] 抽取 draw k1 (系数 coefficient): 0.97\n"
             "  可复核 verifiable: 种子 seed %s (SHA-256 = seed_commit)\n  输入 inputs %s",
             hex, hex);
    check_line("draw_result", m, "pub", 33, want);
    bo_buf l;
    bo_buf_init(&l, 4096);
    static const char *const order[] = {"91350200MA00000001", "91350100M000100Y43"};
    str_array(&l, order, 2);
    m = mm_new();
    bo_mpmap_str(m, "id", "ord");
    bo_mpmap_str(m, "kind", "order");
    bo_mpmap_raw(m, "order", l.data, l.len);
    bo_mpmap_bin(m, "seed", h, 32);
    bo_mpmap_bin(m, "inputs", h, 32);
    snprintf(want, sizeof(want),
             "[10:00:03 #34] 抽取 draw ord (顺序 order): 91350200MA00000001, 91350100M000100Y43\n"
             "  可复核 verifiable: 种子 seed %s (SHA-256 = seed_commit)\n  输入 inputs %s",
             hex, hex);
    check_line("draw_result", m, "pub", 34, want);

    /* the benchmark price with its inputs, the dropped ones marked */
    bo_buf in, rule;
    bo_buf_init(&in, 4096);
    bo_buf_init(&rule, 4096);
    bo_mp_array_header(&in, 3);
    static const char *const ins[3][4] = {{"uscc", "91350100M000100Y43", "value", "1000000.10"},
                                          {"uscc", "91350200MA00000001", "value", "998000.5"},
                                          {"uscc", "91350300MA00000002", "value", "1200000"}};
    for (int i = 0; i < 3; i++)
        str_map(&in, ins[i], 2);
    bo_buf_reset(&l);
    static const char *const dropped[] = {"91350300MA00000002"};
    str_array(&l, dropped, 1);
    m = mm_new();
    bo_mpmap_str(m, "field", "price");
    bo_mpmap_u64(m, "trim", 1);
    bo_mpmap_u64(m, "trim_min", 3);
    bo_mpmap_str(m, "coefficient", "draw:k1");
    bo_mpmap_u64(m, "places", 2);
    bo_mpmap_str(m, "rounding", "half_up");
    bo_mpmap_finish(m, &rule);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_str(m, "value", "1919880.57");
    bo_mpmap_str(m, "mean", "999000.300000");
    bo_mpmap_str(m, "sum", "1998000.6");
    bo_mpmap_u64(m, "count", 2);
    bo_mpmap_raw(m, "inputs", in.data, in.len);
    bo_mpmap_raw(m, "dropped", l.data, l.len);
    bo_mpmap_str(m, "coefficient", "0.97");
    bo_mpmap_raw(m, "rule", rule.data, rule.len);
    check_line("benchmark_price", m, "pub", 35,
               "[10:00:03 #35] 评标基准价 benchmark price: 1919880.57 = 合计 sum 1998000.6 ÷ 2 × "
               "系数 coefficient 0.97 (均值 mean 999000.300000; 2 位小数 places, half_up, "
               "去掉最高最低各 trim 1 when >= 3 bids)\n"
               "  91350100M000100Y43 1000000.10\n"
               "  91350200MA00000001 998000.5\n"
               "  91350300MA00000002 1200000  (去掉 dropped)");

    m = mm_new();
    bo_mpmap_bin(m, "record_hash", h, 32);
    bo_mpmap_i64(m, "ends_at", 1795745403000LL);
    snprintf(want, sizeof(want),
             "[10:00:03 #36] 开标记录待确认 record open for confirmation until "
             "2026-11-27T10:10:03+08:00\n  记录哈希 record hash %s",
             hex);
    check_line("confirmation_opened", m, "pub", 36, want);

    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_bin(m, "record_hash", h, 32);
    bo_mpmap_bin(m, "sig", h, 32);
    check_line("bidder_confirmed", m, "pub", 37,
               "[10:00:03 #37] 已确认 confirmed the record: 91350100M000100Y43");

    m = mm_new();
    bo_mpmap_u64(m, "n", 1);
    bo_mpmap_str(m, "uscc", "91350200MA00000001");
    bo_mpmap_str(m, "text", "第2标的报价明显低于成本");
    bo_mpmap_bin(m, "record_hash", h, 32);
    bo_mpmap_bin(m, "sig", h, 32);
    check_line("objection", m, "pub", 38,
               "[10:00:03 #38] 异议 objection #1 from 91350200MA00000001: 第2标的报价明显低于成本");

    m = mm_new();
    bo_mpmap_u64(m, "n", 1);
    bo_mpmap_str(m, "text", "报价合理性由评标委员会评审。");
    bo_mpmap_bin(m, "sig", h, 32);
    bo_mpmap_bin(m, "host_fpr", h, 32);
    check_line("objection_answered", m, "pub", 39,
               "[10:00:03 #39] 答复 answer to objection #1: 报价合理性由评标委员会评审。");

    m = mm_new();
    bo_mpmap_str(m, "from_role", "site");
    bo_mpmap_str(m, "from", "福州市民服务中心");
    bo_mpmap_str(m, "text", "分会场已就绪");
    bo_mpmap_bin(m, "fpr", h, 32);
    check_line("message", m, "pub", 40,
               "[10:00:03 #40] 消息 message from 福州市民服务中心 (site): 分会场已就绪");

    bo_buf_reset(&l);
    static const char *const deemed[] = {"91350300MA00000002"};
    str_array(&l, deemed, 1);
    m = mm_new();
    bo_mpmap_raw(m, "deemed", l.data, l.len);
    check_line("confirmation_window_closed", m, "pub", 41,
               "[10:00:03 #41] 确认时限结束 confirmation window closed: 1 家视为认可 deemed to "
               "accept: 91350300MA00000002");
    bo_buf c;
    bo_buf_init(&c, 4096);
    str_array(&c, order, 2);
    m = mm_new();
    bo_mpmap_bin(m, "record_hash", h, 32);
    bo_mpmap_raw(m, "confirmed", c.data, c.len);
    bo_mpmap_raw(m, "deemed", l.data, l.len);
    snprintf(want, sizeof(want),
             "[10:00:03 #42] 开标结束 opening closed: 已确认 confirmed 2 · 视为认可 deemed 1 "
             "(91350300MA00000002)\n  开标记录哈希 record hash %s",
             hex);
    check_line("opening_closed", m, "pub", 42, want);
    bo_buf_reset(&l);
    str_array(&l, NULL, 0);
    m = mm_new();
    bo_mpmap_raw(m, "deemed", l.data, l.len);
    check_line("confirmation_window_closed", m, "pub", 43,
               "[10:00:03 #43] 确认时限结束 confirmation window closed: 0 家视为认可 deemed to "
               "accept: —");

    /* the confirmation window in server time */
    bo_buf b;
    bo_buf_init(&b, 4096);
    const int64_t now = 1000000000000LL;
    assert_int_equal(bo_evfmt_confirm_progress(&b, 2, 5, 1, 1, now + 492000, false, false, now),
                     BO_E_OK);
    assert_string_equal((char *)b.data, "确认 confirmed 2/5 · 异议 objections 1 (待答复 "
                                        "unanswered 1) · 剩余 time left 08:12");
    bo_buf_reset(&b);
    bo_evfmt_confirm_progress(&b, 3, 3, 0, 0, now + 492000, false, true, now);
    assert_string_equal((char *)b.data, "确认 confirmed 3/3 · 已暂停 paused");
    bo_buf_reset(&b);
    bo_evfmt_confirm_progress(&b, 1, 3, 0, 0, now + 492000, true, false, now);
    assert_string_equal((char *)b.data, "确认 confirmed 1/3 · 确认时限已过 window closed");
    bo_buf_reset(&b);
    bo_evfmt_confirm_progress(&b, 1, 3, 2, 0, now - 1, false, false, now);
    assert_string_equal((char *)b.data, "确认 confirmed 1/3 · 异议 objections 2 (待答复 "
                                        "unanswered 0) · 确认时限已过 window closed");
    bo_buf_cleanup(&b);
    bo_buf_cleanup(&f);
    bo_buf_cleanup(&l);
    bo_buf_cleanup(&in);
    bo_buf_cleanup(&rule);
    bo_buf_cleanup(&c);
}

/* The tender of the table tests: price (decimal), duration (days), pm (text). */
static void table_tender(bo_buf *out)
{
    bo_buf fl;
    bo_buf_init(&fl, 4096);
    bo_mp_array_header(&fl, 3);
    static const char *const fs[3][6] = {
        {"key", "price", "label", "投标报价", "type", "decimal"},
        {"key", "duration", "label", "工期", "type", "days"},
        {"key", "pm", "label", "项目经理", "type", "text"}};
    for (int i = 0; i < 3; i++)
        str_map(&fl, fs[i], 3);
    bo_mpmap *t = mm_new();
    bo_mpmap_str(t, "title", "某某道路工程施工");
    bo_mpmap_raw(t, "fields", fl.data, fl.len);
    bo_mpmap_i64(t, "tz_offset_min", 480);
    assert_int_equal(bo_mpmap_finish(t, out), BO_E_OK);
    bo_mpmap_free(t);
    bo_buf_cleanup(&fl);
}

/* The table's rows as a msgpack array: three announced, one not yet. */
static void table_rows(bo_buf *out)
{
    bo_mp_array_header(out, 4);
    static const char *const f1[] = {"price", "1000000.10", "duration", "200", "pm", "李明"};
    static const char *const f2[] = {"price", "998000.5", "duration", "180", "pm", "王工"};
    bo_buf a, b;
    bo_buf_init(&a, 4096);
    bo_buf_init(&b, 4096);
    str_map(&a, f1, 3);
    str_map(&b, f2, 3);
    /* in another order than their numbers */
    bo_mpmap *m = mm_new();
    bo_mpmap_u64(m, "n", 2);
    bo_mpmap_str(m, "uscc", "91350200MA00000001");
    bo_mpmap_str(m, "org", "厦门某工程公司");
    bo_mpmap_str(m, "status", "valid");
    bo_mpmap_raw(m, "fields", b.data, b.len);
    bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_str(m, "uscc", "91350400MA00000003");
    bo_mpmap_str(m, "org", "未唱标公司");
    bo_mpmap_str(m, "status", "valid");
    bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_u64(m, "n", 3);
    bo_mpmap_str(m, "uscc", "91350300MA00000002");
    bo_mpmap_str(m, "org", "ABC Ltd");
    bo_mpmap_str(m, "status", "invalid");
    bo_mpmap_str(m, "form_error", "price: must be a decimal");
    bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_u64(m, "n", 1);
    bo_mpmap_str(m, "uscc", "91350100M000100Y43");
    bo_mpmap_str(m, "org", "福建某建设有限公司");
    bo_mpmap_str(m, "status", "valid");
    bo_mpmap_raw(m, "fields", a.data, a.len);
    bo_mpmap_finish(m, out);
    bo_mpmap_free(m);
    bo_buf_cleanup(&a);
    bo_buf_cleanup(&b);
}

/* The announcement table: numbered order, columns aligned by display width (CJK counts
 * two), numbers right-aligned, missing fields as —, the form error as a note. */
static void bids_table(void **state)
{
    (void)state;
    assert_int_equal(bo_evfmt_width("abc", 3), 3);
    assert_int_equal(bo_evfmt_width("投标报价 price", strlen("投标报价 price")), 14);
    assert_int_equal(bo_evfmt_width("—·✓", strlen("—·✓")), 3);
    assert_int_equal(bo_evfmt_width("ＡＢ", strlen("ＡＢ")), 4); /* fullwidth */
    assert_int_equal(bo_evfmt_width("\xff", 1), 1);             /* not UTF-8: a byte each */

    bo_buf tb, rb, out;
    bo_buf_init(&tb, 4096);
    bo_buf_init(&rb, 4096);
    bo_buf_init(&out, 1 << 16);
    table_tender(&tb);
    table_rows(&rb);
    msgpack_zone *zt, *zr;
    msgpack_object t, r;
    assert_int_equal(bo_mp_parse(tb.data, tb.len, &zt, &t), BO_E_OK);
    assert_int_equal(bo_mp_parse(rb.data, rb.len, &zr, &r), BO_E_OK);
    const msgpack_object *rows[4];
    for (int i = 0; i < 4; i++)
        rows[i] = &r.via.array.ptr[i];
    assert_int_equal(bo_evfmt_bids_table(&out, &t, rows, 4, 4), BO_E_OK);
    const char *want =
                        "唱标 announcement (3/4):\n"
                        "  序号 No.  投标人 bidder       统一社会信用代码 USCC  状态 status   投标报价 price  工期 duration  项目经理 pm  备注 note\n"
                        "         1  福建某建设有限公司  91350100M000100Y43     有效 valid        1000000.10            200  李明\n"
                        "         2  厦门某工程公司      91350200MA00000001     有效 valid          998000.5            180  王工\n"
                        "         3  ABC Ltd             91350300MA00000002     无效 invalid               —              —  —            price: must be a decimal";
    if (strcmp((char *)out.data, want) != 0)
        fail_msg("table:\n%s\nwant:\n%s", (char *)out.data, want);

    /* nothing announced yet: the title and the header */
    bo_buf_reset(&out);
    assert_int_equal(bo_evfmt_bids_table(&out, &t, rows + 1, 1, 0), BO_E_OK);
    assert_string_equal((char *)out.data,
                        "唱标 announcement:\n"
                        "  序号 No.  投标人 bidder  统一社会信用代码 USCC  状态 status  "
                        "投标报价 price  工期 duration  项目经理 pm");

    /* the snapshot shows the table, the draws, the benchmark, confirmation, objections */
    bo_buf snap, ann, conf, objs, draws, bm, confirmed, ans;
    bo_buf_init(&snap, 1 << 16);
    bo_buf_init(&ann, 4096);
    bo_buf_init(&conf, 4096);
    bo_buf_init(&objs, 4096);
    bo_buf_init(&draws, 4096);
    bo_buf_init(&bm, 4096);
    bo_buf_init(&confirmed, 4096);
    bo_buf_init(&ans, 4096);
    uint8_t h[32];
    memset(h, 0xab, 32);
    bo_mpmap *m = mm_new();
    bo_mpmap_u64(m, "announced", 3);
    bo_mpmap_u64(m, "total", 4);
    bo_mpmap_str(m, "next", "91350400MA00000003");
    bo_mpmap_finish(m, &ann);
    bo_mpmap_free(m);
    bo_mp_array_header(&draws, 1);
    m = mm_new();
    bo_mpmap_str(m, "id", "k1");
    bo_mpmap_str(m, "kind", "coefficient");
    bo_mpmap_str(m, "value", "0.97");
    bo_mpmap_bin(m, "seed", h, 32);
    bo_mpmap_bin(m, "inputs", h, 32);
    bo_mpmap_finish(m, &draws);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_str(m, "value", "1919880.57");
    bo_mpmap_str(m, "mean", "999000.300000");
    bo_mpmap_str(m, "coefficient", "0.97");
    bo_mpmap_u64(m, "count", 2);
    bo_mpmap_finish(m, &bm);
    bo_mpmap_free(m);
    static const char *const who[] = {"91350100M000100Y43"};
    str_array(&confirmed, who, 1);
    m = mm_new();
    bo_mpmap_bin(m, "record_hash", h, 32);
    bo_mpmap_i64(m, "ends_at", 1795745403000LL);
    bo_mpmap_bool(m, "window_closed", true);
    bo_mpmap_raw(m, "confirmed", confirmed.data, confirmed.len);
    bo_mpmap_bin(m, "final_hash", h, 32);
    bo_mpmap_finish(m, &conf);
    bo_mpmap_free(m);
    m = mm_new();
    bo_mpmap_str(m, "text", "不予采纳");
    bo_mpmap_i64(m, "at", 1795745000000LL);
    bo_mpmap_finish(m, &ans);
    bo_mpmap_free(m);
    bo_mp_array_header(&objs, 2);
    for (int i = 1; i <= 2; i++) {
        m = mm_new();
        bo_mpmap_u64(m, "n", (uint64_t)i);
        bo_mpmap_str(m, "uscc", "91350200MA00000001");
        bo_mpmap_str(m, "text", i == 1 ? "报价异常" : "工期异常");
        bo_mpmap_i64(m, "at", 1795744900000LL);
        if (i == 1)
            bo_mpmap_raw(m, "answer", ans.data, ans.len);
        bo_mpmap_finish(m, &objs);
        bo_mpmap_free(m);
    }
    m = mm_new();
    bo_mpmap_str(m, "oid", "demo-1");
    bo_mpmap_raw(m, "tender", tb.data, tb.len);
    bo_mpmap_str(m, "phase", "closed");
    bo_mpmap_raw(m, "bidders", rb.data, rb.len);
    bo_mpmap_raw(m, "announce", ann.data, ann.len);
    bo_mpmap_raw(m, "draws", draws.data, draws.len);
    bo_mpmap_raw(m, "benchmark", bm.data, bm.len);
    bo_mpmap_raw(m, "confirm", conf.data, conf.len);
    bo_mpmap_raw(m, "objections", objs.data, objs.len);
    bo_mpmap_finish(m, &snap);
    bo_mpmap_free(m);
    msgpack_zone *zs;
    msgpack_object so;
    assert_int_equal(bo_mp_parse(snap.data, snap.len, &zs, &so), BO_E_OK);
    bo_buf_reset(&out);
    assert_int_equal(bo_evfmt_snapshot(&out, &so), BO_E_OK);
    const char *o = (const char *)out.data;
    static const char *const has[] = {
        "  1. 91350200MA00000001 厦门某工程公司  · 有效 valid",
        "唱标 announcement: 3/4 已唱 announced · 下一个 next 91350400MA00000003\n唱标 announcement (3/4):\n",
        "  序号 No.  投标人 bidder",
        "         1  福建某建设有限公司  91350100M000100Y43",
        "\n抽取 draw k1: 0.97 · 种子 seed abababab",
        "\n评标基准价 benchmark price: 1919880.57 (均值 mean 999000.300000 × 系数 coefficient "
        "0.97, 2 份 bids counted)",
        "\n确认 confirmation: 1 家已确认 confirmed · 截止 ends 2026-11-27T10:10:03+08:00 · "
        "确认时限已过 window closed\n  记录哈希 record hash abab",
        "\n  开标记录哈希 final record hash abab",
        "\n异议 objection #1 from 91350200MA00000001: 报价异常\n  答复 answer: 不予采纳",
        "\n异议 objection #2 from 91350200MA00000001: 工期异常\n  待答复 not answered yet",
    };
    for (size_t i = 0; i < sizeof(has) / sizeof(has[0]); i++)
        if (!strstr(o, has[i]))
            fail_msg("snapshot lacks \"%s\":\n%s", has[i], o);
    msgpack_zone_free(zs);
    msgpack_zone_free(zt);
    msgpack_zone_free(zr);
    bo_buf_cleanup(&tb);
    bo_buf_cleanup(&rb);
    bo_buf_cleanup(&out);
    bo_buf_cleanup(&snap);
    bo_buf_cleanup(&ann);
    bo_buf_cleanup(&conf);
    bo_buf_cleanup(&objs);
    bo_buf_cleanup(&draws);
    bo_buf_cleanup(&bm);
    bo_buf_cleanup(&confirmed);
    bo_buf_cleanup(&ans);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(event_lines),
        cmocka_unit_test(countdowns),
        cmocka_unit_test(presence_and_snapshot),
        cmocka_unit_test(sealed_lines),
        cmocka_unit_test(presence_decrypt),
        cmocka_unit_test(closing_lines),
        cmocka_unit_test(bids_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
