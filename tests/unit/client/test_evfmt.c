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
               "[10:00:03 #14] 恢复 resumed (暂停了 paused for 01:02), 解密截止 decryption ends "
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(event_lines),
        cmocka_unit_test(countdowns),
        cmocka_unit_test(presence_and_snapshot),
        cmocka_unit_test(sealed_lines),
        cmocka_unit_test(presence_decrypt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
