#include "bo/evfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo/hex.h"
#include "bo/mpjson.h"
#include "bo/utf8.h"
#include "bo/wire.h"

typedef struct label {
    const char *name;
    const char *text;
} label;

/* The text of the label named (name, n) in v[0..count); NULL if there is none. */
static const char *label_of(const label *v, size_t count, const char *name, size_t n)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(v[i].name) == n && memcmp(v[i].name, name, n) == 0)
            return v[i].text;
    return NULL;
}

static const label phases[] = {
    {"scheduled", "投标中 scheduled"},     {"checkin", "签到中 check-in"},
    {"awaiting_open", "待开标 awaiting opening"}, {"decrypting", "解密中 decrypting"},
    {"announcing", "唱标中 announcing"},  {"confirming", "确认中 confirming"},
    {"closed", "已结束 closed"},           {"failed", "流标 failed"},
};

const char *bo_evfmt_phase_label(const char *phase)
{
    if (!phase)
        return "?";
    const char *t = label_of(phases, sizeof(phases) / sizeof(phases[0]), phase, strlen(phase));
    return t ? t : phase;
}

char *bo_evfmt_clock(int64_t t, int tz_offset_min, char *out, size_t n)
{
    char full[40];
    bo_time_format_local(t, tz_offset_min, full, sizeof(full));
    /* 2026-11-27T10:00:00+08:00 -> 10:00:00 */
    snprintf(out, n, "%.8s", strlen(full) >= 19 ? full + 11 : "??:??:??");
    return out;
}

/* A string field, or "?" when it is absent or not a string. */
static bo_err put_s(bo_buf *out, const msgpack_object *m, const char *key)
{
    const char *s;
    size_t n;
    if (!bo_mpo_str(m, key, &s, &n))
        return bo_buf_append_str(out, "?");
    return bo_buf_append(out, s, n);
}

/* A string field converted to a phase label. */
static bo_err put_phase(bo_buf *out, const msgpack_object *m, const char *key)
{
    const char *s;
    size_t n;
    char name[32];
    if (!bo_mpo_str(m, key, &s, &n) || n >= sizeof(name))
        return bo_buf_append_str(out, "?");
    memcpy(name, s, n);
    name[n] = 0;
    return bo_buf_append_str(out, bo_evfmt_phase_label(name));
}

static bo_err put_u(bo_buf *out, const msgpack_object *m, const char *key)
{
    uint64_t v;
    if (!bo_mpo_u64(m, key, &v))
        return bo_buf_append_str(out, "?");
    return bo_buf_appendf(out, "%llu", (unsigned long long)v);
}

/* "<uscc> <org>" of a map that has both. */
static bo_err put_who(bo_buf *out, const msgpack_object *m)
{
    bo_err err = put_s(out, m, "uscc");
    if (!err)
        err = bo_buf_append_str(out, " ");
    return err ? err : put_s(out, m, "org");
}

/* The first 8 bytes of a 32-byte binary field in hex with an ellipsis ("?" if absent). */
static bo_err put_short_hash(bo_buf *out, const msgpack_object *m, const char *key)
{
    const uint8_t *h;
    size_t n;
    char hex[17];
    if (!bo_mpo_bin(m, key, &h, &n) || n < 8)
        return bo_buf_append_str(out, "?");
    return bo_buf_appendf(out, "%s…", bo_hex_encode(h, 8, hex));
}

static bo_err put_size(bo_buf *out, uint64_t v)
{
    if (v >= (1ull << 30))
        return bo_buf_appendf(out, "%.1f GiB", (double)v / (double)(1ull << 30));
    if (v >= (1ull << 20))
        return bo_buf_appendf(out, "%.1f MiB", (double)v / (double)(1ull << 20));
    if (v >= 1024)
        return bo_buf_appendf(out, "%.1f KiB", (double)v / 1024.0);
    return bo_buf_appendf(out, "%llu bytes", (unsigned long long)v);
}

static const char *bid_state_label(const char *st, size_t n)
{
    static const label states[] = {
        {"submitted", "已提交 submitted"}, {"requested", "待解密 requested"},
        {"decrypted", "已解密 decrypted"}, {"revoked", "撤销 revoked"},
        {"withdrawn", "撤回 withdrawn"},
    };
    return label_of(states, sizeof(states) / sizeof(states[0]), st, n);
}

/* A whole binary field in hex ("?" if absent), at most 64 bytes. */
static bo_err put_hex(bo_buf *out, const msgpack_object *m, const char *key)
{
    const uint8_t *h;
    size_t n;
    char hex[129];
    if (!bo_mpo_bin(m, key, &h, &n) || n > 64)
        return bo_buf_append_str(out, "?");
    return bo_buf_append_str(out, bo_hex_encode(h, n, hex));
}

/* The status of an opened bid once decrypted or classified (docs/protocol.md §11). */
static const char *status_label(const char *st, size_t n)
{
    static const label sts[] = {
        {"valid", "有效 valid"},       {"invalid", "无效 invalid"},
        {"revoked", "撤销 revoked"},   {"withdrawn", "撤回 withdrawn"},
        {"missing", "缺失 missing"},   {"confirmed", "已确认 confirmed"},
        {"objected", "有异议 objected"}, {"deemed", "视为认可 deemed"},
        {"pending", "待确认 pending"},
    };
    return label_of(sts, sizeof(sts) / sizeof(sts[0]), st, n);
}

static bo_err put_status(bo_buf *out, const msgpack_object *m, const char *key)
{
    const char *st;
    size_t n;
    if (!bo_mpo_str(m, key, &st, &n))
        return bo_buf_append_str(out, "?");
    const char *l = status_label(st, n);
    return l ? bo_buf_append_str(out, l) : bo_buf_append(out, st, n);
}

/* "a, b, c" of an array of strings; "—" when empty or absent. */
static bo_err put_str_list(bo_buf *out, const msgpack_object *a)
{
    bo_err err = BO_E_OK;
    uint32_t k = 0;
    for (uint32_t i = 0; a && a->type == MSGPACK_OBJECT_ARRAY && !err && i < a->via.array.size;
         i++)
        if (a->via.array.ptr[i].type == MSGPACK_OBJECT_STR)
            err = bo_buf_appendf(out, "%s%.*s", k++ ? ", " : "",
                                 (int)a->via.array.ptr[i].via.str.size,
                                 a->via.array.ptr[i].via.str.ptr);
    return !err && k == 0 ? bo_buf_append_str(out, "—") : err;
}

static uint32_t arr_len(const msgpack_object *a)
{
    return a && a->type == MSGPACK_OBJECT_ARRAY ? a->via.array.size : 0;
}

/* "key=value, ..." of a map of strings (an opening form). */
static bo_err put_form(bo_buf *out, const msgpack_object *f)
{
    bo_err err = BO_E_OK;
    for (uint32_t i = 0; f && f->type == MSGPACK_OBJECT_MAP && !err && i < f->via.map.size; i++) {
        const msgpack_object_kv *kv = &f->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
            continue;
        err = bo_buf_appendf(out, "%s%.*s=%.*s", i ? ", " : "", (int)kv->key.via.str.size,
                             kv->key.via.str.ptr, (int)kv->val.via.str.size,
                             kv->val.via.str.ptr);
    }
    return err;
}

static bo_err put_bidder_lines(bo_buf *out, const msgpack_object *list)
{
    bo_err err = BO_E_OK;
    if (!list || list->type != MSGPACK_OBJECT_ARRAY)
        return BO_E_OK;
    for (uint32_t i = 0; !err && i < list->via.array.size; i++) {
        const msgpack_object *b = &list->via.array.ptr[i];
        bool in = false;
        err = bo_buf_appendf(out, "\n  %u. ", i + 1);
        if (!err)
            err = put_who(out, b);
        if (!err && bo_mpo_bool(b, "signed_in", &in))
            err = bo_buf_append_str(out, in ? "  ✓ 已签到 signed in" : "  ✗ 未签到 not signed in");
        const char *st;
        size_t sn;
        if (!err && bo_mpo_str(b, "state", &st, &sn)) {
            const char *l = bid_state_label(st, sn);
            err = l ? bo_buf_appendf(out, "  · %s", l)
                    : bo_buf_appendf(out, "  · %.*s", (int)sn, st);
        }
        if (!err && bo_mpo_get(b, "status")) {
            err = bo_buf_append_str(out, "  · ");
            if (!err)
                err = put_status(out, b, "status");
        }
    }
    return err;
}

static bo_err put_event_body(bo_buf *out, const char *kind, const msgpack_object *body,
                             int disp_tz)
{
    bo_err err = BO_E_OK;
    bool b;
    int64_t v;
    const char *s;
    size_t n;
    char tmp[40];
    if (strcmp(kind, "opening_created") == 0) {
        const msgpack_object *t = bo_mpo_get(body, "tender");
        err = bo_buf_append_str(out, "创建开标 opening created: ");
        if (!err)
            err = put_s(out, t, "title");
        if (!err && bo_mpo_str(t, "lot", &s, &n)) {
            err = bo_buf_append_str(out, " · ");
            if (!err)
                err = bo_buf_append(out, s, n);
        }
        if (!err && bo_mpo_i64(t, "deadline", &v)) {
            int64_t tz = 480;
            bo_mpo_i64(t, "tz_offset_min", &tz);
            err = bo_buf_appendf(out, ", 开标时间 opening at %s",
                                 bo_time_format_local(v, (int)tz, tmp, sizeof(tmp)));
        }
        if (!err && bo_mpo_str(body, "host_name", &s, &n)) {
            err = bo_buf_append_str(out, ", 主持人 host ");
            if (!err)
                err = bo_buf_append(out, s, n);
        }
    } else if (strcmp(kind, "phase_changed") == 0) {
        err = bo_buf_append_str(out, "阶段 phase: ");
        if (!err)
            err = put_phase(out, body, "from");
        if (!err)
            err = bo_buf_append_str(out, " → ");
        if (!err)
            err = put_phase(out, body, "to");
        uint64_t valid, min;
        if (!err && bo_mpo_u64(body, "valid", &valid) && bo_mpo_u64(body, "min", &min)) {
            err = bo_buf_appendf(out, ": 有效投标 valid bids %llu (最少 min %llu, ",
                                 (unsigned long long)valid, (unsigned long long)min);
            if (!err)
                err = bo_buf_append_str(out, bo_mpo_bool(body, "quorum", &b) && b
                                                 ? "满足 quorum met)"
                                                 : "不足 no quorum: 流标 only failing is "
                                                   "possible)");
        }
        if (!err && bo_mpo_str(body, "reason", &s, &n)) {
            err = bo_buf_append_str(out, " (");
            if (!err)
                err = bo_buf_append(out, s, n);
            if (!err)
                err = bo_buf_append_str(out, ")");
        }
    } else if (strcmp(kind, "bidder_registered") == 0) {
        err = bo_buf_append_str(out, "报名 registered: ");
        if (!err)
            err = put_who(out, body);
        if (!err && bo_mpo_bool(body, "replaced", &b) && b)
            err = bo_buf_append_str(out, " (更新证书 certificates replaced)");
    } else if (strcmp(kind, "tally") == 0) {
        err = bo_buf_append_str(out, "统计 tally: 报名 registered ");
        if (!err)
            err = put_u(out, body, "registered");
        if (!err)
            err = bo_buf_append_str(out, " · 签到 signed in ");
        if (!err)
            err = put_u(out, body, "signed_in");
        if (!err)
            err = bo_buf_append_str(out, " · 拦截 intercepted ");
        if (!err)
            err = put_u(out, body, "intercepted");
        if (!err && bo_mpo_get(body, "submitted")) {
            err = bo_buf_append_str(out, " · 递交 submitted ");
            if (!err)
                err = put_u(out, body, "submitted");
        }
    } else if (strcmp(kind, "bidder_signed_in") == 0) {
        err = bo_buf_append_str(out, "签到 signed in: ");
        if (!err)
            err = put_who(out, body);
    } else if (strcmp(kind, "bidder_intercepted") == 0) {
        err = bo_buf_append_str(out, "拦截 intercepted: ");
        if (!err)
            err = put_who(out, body);
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err)
            err = put_s(out, body, "reason");
    } else if (strcmp(kind, "bidders_revealed") == 0) {
        err = bo_buf_append_str(out, "公布投标人 bidders revealed: ");
        if (!err)
            err = put_u(out, body, "count");
        if (!err)
            err = bo_buf_append_str(out, " (最少 min ");
        if (!err)
            err = put_u(out, body, "min");
        if (!err && bo_mpo_bool(body, "quorum", &b))
            err = bo_buf_append_str(out, b ? ", 满足 quorum met)" : ", 不足 no quorum: 流标 only failing is possible)");
        else if (!err)
            err = bo_buf_append_str(out, ")");
        if (!err)
            err = put_bidder_lines(out, bo_mpo_get(body, "bidders"));
    } else if (strcmp(kind, "paused") == 0) {
        err = bo_buf_append_str(out, "暂停 paused: ");
        if (!err)
            err = put_s(out, body, "reason");
    } else if (strcmp(kind, "resumed") == 0) {
        err = bo_buf_append_str(out, "恢复 resumed");
        if (!err && bo_mpo_i64(body, "paused_ms", &v))
            err = bo_buf_appendf(out, " (暂停了 paused for %s)",
                                 bo_duration_format(v, tmp, sizeof(tmp)));
        if (!err && bo_mpo_i64(body, "ends_at", &v))
            err = bo_buf_appendf(out, ", 时限截止 window ends %s",
                                 bo_time_format_local(v, disp_tz, tmp, sizeof(tmp)));
    } else if (strcmp(kind, "head_signed") == 0) {
        const uint8_t *h;
        err = bo_buf_append_str(out, "链头签名 chain head signed: #");
        if (!err)
            err = put_u(out, body, "seq");
        if (!err && bo_mpo_bin(body, "hash", &h, &n) && n >= 8) {
            char hex[17];
            err = bo_buf_appendf(out, " %s…", bo_hex_encode(h, 8, hex));
        }
    } else if (strcmp(kind, "bid_submitted") == 0) {
        err = bo_buf_append_str(out, "投标文件已递交 bid submitted: ");
        if (!err)
            err = put_s(out, body, "uscc");
        if (!err)
            err = bo_buf_append_str(out, " ");
        if (!err)
            err = put_short_hash(out, body, "hash");
        uint64_t sz;
        if (!err && bo_mpo_u64(body, "size", &sz)) {
            err = bo_buf_append_str(out, " (");
            if (!err)
                err = put_size(out, sz);
            if (!err)
                err = bo_buf_append_str(out, ")");
        }
        if (!err && bo_mpo_get(body, "replaces"))
            err = bo_buf_append_str(out, " (替换 replaces an earlier bid)");
    } else if (strcmp(kind, "decryption_started") == 0) {
        err = bo_buf_append_str(out, "开始解密 decryption started: ");
        if (!err)
            err = put_u(out, body, "bids");
        if (!err)
            err = bo_buf_append_str(out, " 份投标 bids");
        if (!err && bo_mpo_i64(body, "window_s", &v))
            err = bo_buf_appendf(out, ", 时限 window %s",
                                 bo_duration_format(v * 1000, tmp, sizeof(tmp)));
    } else if (strcmp(kind, "decrypt_request") == 0) {
        err = bo_buf_append_str(out, "解密请求 decryption request: bid ");
        if (!err)
            err = put_short_hash(out, body, "bid");
        if (!err)
            err = bo_buf_append_str(out, " req ");
        if (!err)
            err = put_s(out, body, "req");
    } else if (strcmp(kind, "decrypt_refused") == 0) {
        err = bo_buf_append_str(out, "解密被拒 decryption refused: ");
        if (!err)
            err = put_s(out, body, "uscc");
        if (!err)
            err = bo_buf_append_str(out, " ");
        if (!err)
            err = put_s(out, body, "code");
    } else if (strcmp(kind, "decrypt_diagnostic") == 0) {
        err = bo_buf_append_str(out, "解密失败诊断 decryption failed: ");
        if (!err)
            err = put_s(out, body, "uscc");
        if (!err)
            err = bo_buf_append_str(out, " [");
        if (!err)
            err = put_s(out, body, "stage");
        if (!err)
            err = bo_buf_append_str(out, "] ");
        if (!err)
            err = put_s(out, body, "error");
    } else if (strcmp(kind, "bid_decrypted") == 0) {
        err = bo_buf_append_str(out, "解密成功 bid decrypted: ");
        if (!err)
            err = put_who(out, body);
        uint64_t sz;
        if (!err && bo_mpo_u64(body, "size", &sz)) {
            err = bo_buf_append_str(out, " (");
            if (!err)
                err = put_size(out, sz);
            if (!err)
                err = bo_buf_append_str(out, ")");
        }
    } else if (strcmp(kind, "bid_form") == 0) {
        const msgpack_object *f = bo_mpo_get(body, "form");
        err = bo_buf_append_str(out, "开标一览 opening form: ");
        if (!err)
            err = put_s(out, body, "uscc");
        if (!err && f && f->type == MSGPACK_OBJECT_MAP) {
            for (uint32_t i = 0; !err && i < f->via.map.size; i++) {
                const msgpack_object_kv *kv = &f->via.map.ptr[i];
                if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
                    continue;
                err = bo_buf_appendf(out, "%s %.*s=%.*s", i ? "," : "",
                                     (int)kv->key.via.str.size, kv->key.via.str.ptr,
                                     (int)kv->val.via.str.size, kv->val.via.str.ptr);
            }
        }
    } else if (strcmp(kind, "decryption_extended") == 0) {
        err = bo_buf_append_str(out, "延长解密 decryption extended");
        if (!err && bo_mpo_i64(body, "ends_at", &v))
            err = bo_buf_appendf(out, " to %s", bo_time_format_local(v, disp_tz, tmp, sizeof(tmp)));
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err)
            err = put_s(out, body, "reason");
    } else if (strcmp(kind, "decryption_window_closed") == 0) {
        const msgpack_object *u = bo_mpo_get(body, "undecrypted");
        uint32_t nu = u && u->type == MSGPACK_OBJECT_ARRAY ? u->via.array.size : 0;
        err = bo_buf_appendf(out, "解密时限结束 decryption window closed: %u 份未解密 not decrypted",
                             nu);
        for (uint32_t i = 0; !err && i < nu; i++)
            if (u->via.array.ptr[i].type == MSGPACK_OBJECT_STR)
                err = bo_buf_appendf(out, "%s %.*s", i ? "," : "",
                                     (int)u->via.array.ptr[i].via.str.size,
                                     u->via.array.ptr[i].via.str.ptr);
    } else if (strcmp(kind, "bid_classified") == 0) {
        const char *oc;
        size_t on;
        err = bo_buf_append_str(out, "认定 classified: ");
        if (!err)
            err = put_s(out, body, "uscc");
        if (!err && bo_mpo_str(body, "outcome", &oc, &on)) {
            const char *l = bid_state_label(oc, on);
            err = l ? bo_buf_appendf(out, " %s", l) : bo_buf_appendf(out, " %.*s", (int)on, oc);
        }
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err)
            err = put_s(out, body, "reason");
    } else if (strcmp(kind, "bid_announced") == 0) {
        err = bo_buf_append_str(out, "唱标 announced #");
        if (!err)
            err = put_u(out, body, "n");
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err)
            err = put_who(out, body);
        if (!err)
            err = bo_buf_append_str(out, " · ");
        if (!err)
            err = put_status(out, body, "status");
        const msgpack_object *f = bo_mpo_get(body, "fields");
        if (!err && f && f->type == MSGPACK_OBJECT_MAP) {
            err = bo_buf_append_str(out, " · ");
            if (!err)
                err = put_form(out, f);
        }
        if (!err && bo_mpo_str(body, "form_error", &s, &n)) {
            err = bo_buf_append_str(out, " · 开标一览表有误 form error: ");
            if (!err)
                err = bo_buf_append(out, s, n);
        }
    } else if (strcmp(kind, "draw_result") == 0) {
        const char *k;
        size_t kn;
        bool order = bo_mpo_str(body, "kind", &k, &kn) && kn == 5 && !memcmp(k, "order", 5);
        err = bo_buf_append_str(out, "抽取 draw ");
        if (!err)
            err = put_s(out, body, "id");
        if (!err)
            err = bo_buf_append_str(out, order ? " (顺序 order): " : " (系数 coefficient): ");
        if (!err && order)
            err = put_str_list(out, bo_mpo_get(body, "order"));
        else if (!err)
            err = put_s(out, body, "value");
        if (!err)
            err = bo_buf_append_str(out, "\n  可复核 verifiable: 种子 seed ");
        if (!err)
            err = put_hex(out, body, "seed");
        if (!err)
            err = bo_buf_append_str(out, " (SHA-256 = seed_commit)\n  输入 inputs ");
        if (!err)
            err = put_hex(out, body, "inputs");
    } else if (strcmp(kind, "benchmark_price") == 0) {
        const msgpack_object *in = bo_mpo_get(body, "inputs"), *dr = bo_mpo_get(body, "dropped");
        const msgpack_object *rule = bo_mpo_get(body, "rule");
        err = bo_buf_append_str(out, "评标基准价 benchmark price: ");
        if (!err)
            err = put_s(out, body, "value");
        if (!err)
            err = bo_buf_append_str(out, " = 合计 sum ");
        if (!err)
            err = put_s(out, body, "sum");
        if (!err)
            err = bo_buf_append_str(out, " ÷ ");
        if (!err)
            err = put_u(out, body, "count");
        if (!err)
            err = bo_buf_append_str(out, " × 系数 coefficient ");
        if (!err)
            err = put_s(out, body, "coefficient");
        if (!err)
            err = bo_buf_append_str(out, " (均值 mean ");
        if (!err)
            err = put_s(out, body, "mean");
        if (!err && rule && rule->type == MSGPACK_OBJECT_MAP) {
            uint64_t places = 0, trim = 0, trim_min = 0;
            bo_mpo_u64(rule, "places", &places);
            bo_mpo_u64(rule, "trim", &trim);
            bo_mpo_u64(rule, "trim_min", &trim_min);
            err = bo_buf_appendf(out, "; %llu 位小数 places, ", (unsigned long long)places);
            if (!err)
                err = put_s(out, rule, "rounding");
            if (!err && trim)
                err = bo_buf_appendf(out, ", 去掉最高最低各 trim %llu when >= %llu bids",
                                     (unsigned long long)trim, (unsigned long long)trim_min);
        }
        if (!err)
            err = bo_buf_append_str(out, ")");
        for (uint32_t i = 0; !err && i < arr_len(in); i++) {
            const msgpack_object *e = &in->via.array.ptr[i];
            const char *u;
            size_t un;
            bool dropped = false;
            for (uint32_t j = 0; bo_mpo_str(e, "uscc", &u, &un) && j < arr_len(dr); j++) {
                const msgpack_object *d = &dr->via.array.ptr[j];
                dropped |= d->type == MSGPACK_OBJECT_STR && d->via.str.size == un &&
                           !memcmp(d->via.str.ptr, u, un);
            }
            err = bo_buf_append_str(out, "\n  ");
            if (!err)
                err = put_s(out, e, "uscc");
            if (!err)
                err = bo_buf_append_str(out, " ");
            if (!err)
                err = put_s(out, e, "value");
            if (!err && dropped)
                err = bo_buf_append_str(out, "  (去掉 dropped)");
        }
    } else if (strcmp(kind, "confirmation_opened") == 0) {
        err = bo_buf_append_str(out, "开标记录待确认 record open for confirmation");
        if (!err && bo_mpo_i64(body, "ends_at", &v))
            err = bo_buf_appendf(out, " until %s",
                                 bo_time_format_local(v, disp_tz, tmp, sizeof(tmp)));
        if (!err)
            err = bo_buf_append_str(out, "\n  记录哈希 record hash ");
        if (!err)
            err = put_hex(out, body, "record_hash");
    } else if (strcmp(kind, "bidder_confirmed") == 0) {
        err = bo_buf_append_str(out, "已确认 confirmed the record: ");
        if (!err)
            err = put_s(out, body, "uscc");
    } else if (strcmp(kind, "objection") == 0) {
        err = bo_buf_append_str(out, "异议 objection #");
        if (!err)
            err = put_u(out, body, "n");
        if (!err)
            err = bo_buf_append_str(out, " from ");
        if (!err)
            err = put_s(out, body, "uscc");
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err)
            err = put_s(out, body, "text");
    } else if (strcmp(kind, "objection_answered") == 0) {
        err = bo_buf_append_str(out, "答复 answer to objection #");
        if (!err)
            err = put_u(out, body, "n");
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err)
            err = put_s(out, body, "text");
    } else if (strcmp(kind, "message") == 0) {
        err = bo_buf_append_str(out, "消息 message from ");
        if (!err)
            err = put_s(out, body, "from");
        if (!err)
            err = bo_buf_append_str(out, " (");
        if (!err)
            err = put_s(out, body, "from_role");
        if (!err)
            err = bo_buf_append_str(out, "): ");
        if (!err)
            err = put_s(out, body, "text");
    } else if (strcmp(kind, "confirmation_window_closed") == 0) {
        const msgpack_object *d = bo_mpo_get(body, "deemed");
        err = bo_buf_appendf(out, "确认时限结束 confirmation window closed: %u 家视为认可 deemed "
                                  "to accept: ",
                             arr_len(d));
        if (!err)
            err = put_str_list(out, d);
    } else if (strcmp(kind, "opening_closed") == 0) {
        const msgpack_object *c = bo_mpo_get(body, "confirmed"), *d = bo_mpo_get(body, "deemed");
        err = bo_buf_appendf(out, "开标结束 opening closed: 已确认 confirmed %u · 视为认可 "
                                  "deemed %u",
                             arr_len(c), arr_len(d));
        if (!err && arr_len(d)) {
            err = bo_buf_append_str(out, " (");
            if (!err)
                err = put_str_list(out, d);
            if (!err)
                err = bo_buf_append_str(out, ")");
        }
        if (!err)
            err = bo_buf_append_str(out, "\n  开标记录哈希 record hash ");
        if (!err)
            err = put_hex(out, body, "record_hash");
    } else {
        err = bo_buf_append_str(out, kind);
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err && body)
            err = bo_mpjson_append(out, body);
        else if (!err)
            err = bo_buf_append_str(out, "{}");
    }
    return err;
}

bo_err bo_evfmt_event(bo_buf *out, const char *kind, const msgpack_object *body, int64_t ts,
                      const char *st, uint64_t seq, int tz_offset_min)
{
    char clock[16];
    bo_evfmt_clock(ts, tz_offset_min, clock, sizeof(clock));
    bool pub = !st || strcmp(st, "pub") == 0 || strcmp(st, "all") == 0;
    bo_err err = bo_buf_appendf(out, "[%s %s#%llu] ", clock, pub ? "" : st,
                                (unsigned long long)seq);
    return err ? err : put_event_body(out, kind ? kind : "?", body, tz_offset_min);
}

bo_err bo_evfmt_countdown(bo_buf *out, const char *phase, bool paused, int64_t checkin_at,
                          int64_t deadline, int64_t server_now)
{
    char d[32];
    if (!phase)
        phase = "?";
    if (paused)
        return bo_buf_appendf(out, "已暂停 paused (%s)", bo_evfmt_phase_label(phase));
    bool before = strcmp(phase, "scheduled") == 0 || strcmp(phase, "checkin") == 0;
    if (!before)
        return bo_buf_append_str(out, bo_evfmt_phase_label(phase));
    if (strcmp(phase, "scheduled") == 0 && checkin_at > server_now)
        return bo_buf_appendf(out, "距签到开始 check-in opens in %s",
                              bo_duration_format(checkin_at - server_now, d, sizeof(d)));
    return bo_buf_appendf(out, "距开标 opening in %s",
                          bo_duration_format(deadline - server_now, d, sizeof(d)));
}

bo_err bo_evfmt_presence(bo_buf *out, const msgpack_object *data)
{
    bo_err err = bo_buf_append_str(out, "在线 online:");
    const msgpack_object *online = bo_mpo_get(data, "online");
    if (online && online->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; !err && i < online->via.map.size; i++) {
            const msgpack_object_kv *kv = &online->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                continue;
            err = bo_buf_appendf(out, "%s %.*s %llu", i ? "," : "", (int)kv->key.via.str.size,
                                 kv->key.via.str.ptr, (unsigned long long)kv->val.via.u64);
        }
    }
    const msgpack_object *sites = bo_mpo_get(data, "sites");
    if (!err && sites && sites->type == MSGPACK_OBJECT_ARRAY && sites->via.array.size) {
        err = bo_buf_append_str(out, " | 分会场 sites:");
        for (uint32_t i = 0; !err && i < sites->via.array.size; i++) {
            const msgpack_object *s = &sites->via.array.ptr[i];
            err = bo_buf_append_str(out, i ? ", " : " ");
            if (!err)
                err = put_s(out, s, "name");
            int64_t rtt;
            if (!err && bo_mpo_i64(s, "rtt_ms", &rtt) && rtt >= 0)
                err = bo_buf_appendf(out, " %lld ms", (long long)rtt);
        }
    }
    const msgpack_object *staff = bo_mpo_get(data, "staff");
    if (!err && staff && staff->type == MSGPACK_OBJECT_ARRAY && staff->via.array.size) {
        err = bo_buf_append_str(out, " | 工作人员 staff:");
        for (uint32_t i = 0; !err && i < staff->via.array.size; i++) {
            const msgpack_object *s = &staff->via.array.ptr[i];
            err = bo_buf_append_str(out, i ? ", " : " ");
            if (!err)
                err = put_s(out, s, "name");
            if (!err)
                err = bo_buf_append_str(out, " (");
            if (!err)
                err = put_s(out, s, "role");
            if (!err)
                err = bo_buf_append_str(out, ")");
        }
    }
    const msgpack_object *dec = bo_mpo_get(data, "decrypt");
    if (!err && dec && dec->type == MSGPACK_OBJECT_ARRAY && dec->via.array.size) {
        err = bo_buf_append_str(out, " | 正在解密 opening:");
        for (uint32_t i = 0; !err && i < dec->via.array.size; i++) {
            const msgpack_object *d = &dec->via.array.ptr[i];
            uint64_t done = 0, total = 0;
            const char *st;
            size_t sn;
            err = bo_buf_append_str(out, i ? ", " : " ");
            if (!err)
                err = put_s(out, d, "uscc");
            bool queued = bo_mpo_str(d, "state", &st, &sn) && sn == 6 && !memcmp(st, "queued", 6);
            if (!err && queued)
                err = bo_buf_append_str(out, " 排队 queued");
            else if (!err && bo_mpo_u64(d, "done", &done) && bo_mpo_u64(d, "total", &total) &&
                     total)
                err = bo_buf_appendf(out, " %u%%", (unsigned)(done * 100 / total));
        }
    }
    const msgpack_object *bidders = bo_mpo_get(data, "bidders");
    if (!err && bidders && bidders->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        err = bo_buf_appendf(out, " | 投标人 bidders: %llu",
                             (unsigned long long)bidders->via.u64);
    else if (!err && bidders && bidders->type == MSGPACK_OBJECT_ARRAY) {
        err = bo_buf_appendf(out, " | 投标人 bidders (%u):", bidders->via.array.size);
        for (uint32_t i = 0; !err && i < bidders->via.array.size; i++) {
            err = bo_buf_append_str(out, i ? ", " : " ");
            if (!err)
                err = put_s(out, &bidders->via.array.ptr[i], "org");
        }
    }
    return err;
}

static bo_err put_closing(bo_buf *out, const msgpack_object *snap, int tz);

bo_err bo_evfmt_snapshot(bo_buf *out, const msgpack_object *snap)
{
    const msgpack_object *t = bo_mpo_get(snap, "tender");
    const char *s;
    size_t n;
    int64_t v, tz = 480;
    bool b;
    char tmp[40];
    bo_mpo_i64(t, "tz_offset_min", &tz);

    bo_err err = bo_buf_append_str(out, "开标 opening ");
    if (!err)
        err = put_s(out, snap, "oid");
    if (!err)
        err = bo_buf_append_str(out, ": ");
    if (!err)
        err = put_s(out, t, "title");
    if (!err && bo_mpo_str(t, "lot", &s, &n)) {
        err = bo_buf_append_str(out, " · ");
        if (!err)
            err = bo_buf_append(out, s, n);
    }
    if (!err)
        err = bo_buf_append_str(out, "\n阶段 phase: ");
    if (!err)
        err = put_phase(out, snap, "phase");
    if (!err && bo_mpo_bool(snap, "paused", &b) && b)
        err = bo_buf_append_str(out, " · 已暂停 paused");
    if (!err && bo_mpo_str(snap, "failed_reason", &s, &n)) {
        err = bo_buf_append_str(out, " · 流标原因 reason: ");
        if (!err)
            err = bo_buf_append(out, s, n);
    }
    if (!err && bo_mpo_i64(snap, "deadline", &v))
        err = bo_buf_appendf(out, "\n开标时间 opening at %s",
                             bo_time_format_local(v, (int)tz, tmp, sizeof(tmp)));
    if (!err && bo_mpo_i64(snap, "checkin_at", &v) && v > 0)
        err = bo_buf_appendf(out, " · 签到开始 check-in from %s",
                             bo_time_format_local(v, (int)tz, tmp, sizeof(tmp)));
    const msgpack_object *c = bo_mpo_get(snap, "counts");
    if (!err && c && c->type == MSGPACK_OBJECT_MAP) {
        err = bo_buf_append_str(out, "\n统计 counts: 报名 registered ");
        if (!err)
            err = put_u(out, c, "registered");
        if (!err)
            err = bo_buf_append_str(out, " · 签到 signed in ");
        if (!err)
            err = put_u(out, c, "signed_in");
        if (!err)
            err = bo_buf_append_str(out, " · 拦截 intercepted ");
        if (!err)
            err = put_u(out, c, "intercepted");
        if (!err && bo_mpo_get(c, "submitted")) {
            err = bo_buf_append_str(out, " · 递交 submitted ");
            if (!err)
                err = put_u(out, c, "submitted");
        }
    }
    const msgpack_object *dec = bo_mpo_get(snap, "decrypt");
    if (!err && dec && dec->type == MSGPACK_OBJECT_MAP) {
        uint64_t bids = 0, done = 0, cls = 0;
        bo_mpo_u64(dec, "bids", &bids);
        bo_mpo_u64(dec, "decrypted", &done);
        bo_mpo_u64(dec, "classified", &cls);
        err = bo_buf_appendf(out, "\n解密 decryption: %llu/%llu 已解密 decrypted",
                             (unsigned long long)done, (unsigned long long)bids);
        if (!err && cls)
            err = bo_buf_appendf(out, " · %llu 已认定 classified", (unsigned long long)cls);
        if (!err && bo_mpo_i64(dec, "ends_at", &v) && v > 0)
            err = bo_buf_appendf(out, " · 截止 ends %s",
                                 bo_time_format_local(v, (int)tz, tmp, sizeof(tmp)));
        if (!err && bo_mpo_bool(dec, "window_closed", &b) && b)
            err = bo_buf_append_str(out, " · 时限已过 window closed");
    }
    const msgpack_object *bl = bo_mpo_get(snap, "bidders");
    if (!err && bl && bl->type == MSGPACK_OBJECT_ARRAY) {
        err = bo_buf_appendf(out, "\n投标人 bidders (%u):", bl->via.array.size);
        if (!err)
            err = put_bidder_lines(out, bl);
    }
    if (!err)
        err = put_closing(out, snap, (int)tz);
    const msgpack_object *me = bo_mpo_get(snap, "me");
    if (!err && me && me->type == MSGPACK_OBJECT_MAP) {
        bool reg = false, in = false;
        bo_mpo_bool(me, "registered", &reg);
        bo_mpo_bool(me, "signed_in", &in);
        err = bo_buf_appendf(out, "\n本单位 me: %s, %s",
                             reg ? "已报名 registered" : "未报名 not registered",
                             in ? "已签到 signed in" : "未签到 not signed in");
        const msgpack_object *bid = bo_mpo_get(me, "bid");
        if (!err && bid && bid->type == MSGPACK_OBJECT_MAP) {
            uint64_t sz = 0;
            err = bo_buf_append_str(out, ", 已递交 bid submitted ");
            if (!err)
                err = put_short_hash(out, bid, "hash");
            if (!err && bo_mpo_u64(bid, "size", &sz)) {
                err = bo_buf_append_str(out, " (");
                if (!err)
                    err = put_size(out, sz);
                if (!err)
                    err = bo_buf_append_str(out, ")");
            }
        }
        if (!err && bo_mpo_get(me, "req"))
            err = bo_buf_append_str(out, ", 待解密 decryption requested");
    }
    if (!err && bo_mpo_bool(snap, "quorum", &b))
        err = bo_buf_append_str(out, b ? "\n法定人数 quorum: 满足 met"
                                       : "\n法定人数 quorum: 不足 not met");
    return err;
}

bo_err bo_evfmt_decrypt_progress(bo_buf *out, unsigned bids, unsigned decrypted,
                                 unsigned classified, int64_t ends_at, bool paused,
                                 int64_t server_now)
{
    char d[32];
    bo_err err = bo_buf_appendf(out, "解密 decrypted %u/%u", decrypted, bids);
    if (!err && classified)
        err = bo_buf_appendf(out, " · 已认定 classified %u", classified);
    if (err || !ends_at)
        return err;
    if (paused)
        return bo_buf_append_str(out, " · 已暂停 paused");
    if (ends_at > server_now)
        return bo_buf_appendf(out, " · 剩余 time left %s",
                              bo_duration_format(ends_at - server_now, d, sizeof(d)));
    return bo_buf_append_str(out, " · 时限已过 window closed");
}

/* --------------------------------------------- the announcement (§11) ---- */

/* East Asian wide and fullwidth ranges (Unicode EAW W and F, the common blocks). */
static unsigned cp_width(uint32_t c)
{
    if (c == 0 || (c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) ||
        (c >= 0xfe00 && c <= 0xfe0f))
        return 0;
    if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
        (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
        (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
        (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
        (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
        (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
        (c >= 0x20000 && c <= 0x3fffd))
        return 2;
    return 1;
}

size_t bo_evfmt_width(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0, i = 0;
    while (i < n) {
        size_t l = bo_utf8_seq_len(p + i, n - i);
        if (l == 0) { /* not UTF-8: one column per byte */
            w++;
            i++;
            continue;
        }
        uint32_t c = l == 1   ? p[i]
                     : l == 2 ? (uint32_t)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f)
                     : l == 3 ? (uint32_t)(p[i] & 0x0f) << 12 | (uint32_t)(p[i + 1] & 0x3f) << 6 |
                                    (p[i + 2] & 0x3f)
                              : (uint32_t)(p[i] & 0x07) << 18 | (uint32_t)(p[i + 1] & 0x3f) << 12 |
                                    (uint32_t)(p[i + 2] & 0x3f) << 6 | (p[i + 3] & 0x3f);
        w += cp_width(c);
        i += l;
    }
    return w;
}

typedef struct cell {
    const char *p;
    size_t n;
} cell;

static bo_err pad(bo_buf *out, size_t k)
{
    bo_err err = BO_E_OK;
    while (!err && k--)
        err = bo_buf_append(out, " ", 1);
    return err;
}

/* One table line: cells separated by two spaces, aligned to widths; the last column is not
 * padded (no trailing blanks). */
static bo_err put_row(bo_buf *out, const cell *c, const size_t *w, const bool *right, size_t nc)
{
    bo_err err = bo_buf_append_str(out, "\n  ");
    size_t start = out->len;
    for (size_t j = 0; !err && j < nc; j++) {
        size_t cw = bo_evfmt_width(c[j].p, c[j].n);
        size_t gap = w[j] > cw ? w[j] - cw : 0;
        if (j)
            err = bo_buf_append_str(out, "  ");
        if (!err && right[j])
            err = pad(out, gap);
        if (!err)
            err = bo_buf_append(out, c[j].p, c[j].n);
        if (!err && !right[j])
            err = pad(out, gap);
    }
    while (!err && out->len > start && out->data[out->len - 1] == ' ')
        out->data[--out->len] = 0; /* no trailing blanks (empty last cells) */
    return err;
}

static int row_n_cmp(const void *a, const void *b)
{
    uint64_t x = 0, y = 0;
    bo_mpo_u64(*(const msgpack_object *const *)a, "n", &x);
    bo_mpo_u64(*(const msgpack_object *const *)b, "n", &y);
    return x < y ? -1 : x > y;
}

static cell cstr(const char *s)
{
    return (cell){s, strlen(s)};
}

bo_err bo_evfmt_bids_table(bo_buf *out, const msgpack_object *tender,
                           const msgpack_object *const *rows, size_t n_rows, unsigned total)
{
    const msgpack_object *fl = bo_mpo_get(tender, "fields");
    size_t nf = arr_len(fl);
    /* the announced rows, by number */
    const msgpack_object **r = calloc(n_rows ? n_rows : 1, sizeof(*r));
    if (!r)
        return BO_E_NOMEM;
    size_t nr = 0;
    bool note = false;
    for (size_t i = 0; i < n_rows; i++) {
        uint64_t n;
        if (rows[i] && bo_mpo_u64(rows[i], "n", &n)) {
            r[nr++] = rows[i];
            note |= bo_mpo_get(rows[i], "form_error") != NULL;
        }
    }
    qsort(r, nr, sizeof(*r), row_n_cmp);
    size_t nc = 4 + nf + (note ? 1 : 0);
    cell *grid = calloc((nr + 1) * nc, sizeof(*grid));
    size_t *w = calloc(nc, sizeof(*w));
    bool *right = calloc(nc, sizeof(*right));
    char (*nums)[24] = calloc(nr ? nr : 1, sizeof(*nums));
    char (*heads)[400] = calloc(nf ? nf : 1, sizeof(*heads));
    bo_err err = grid && w && right && nums && heads ? BO_E_OK : BO_E_NOMEM;
    if (!err) {
        grid[0] = cstr("序号 No.");
        grid[1] = cstr("投标人 bidder");
        grid[2] = cstr("统一社会信用代码 USCC");
        grid[3] = cstr("状态 status");
        right[0] = true;
        for (size_t j = 0; j < nf; j++) {
            const msgpack_object *f = &fl->via.array.ptr[j];
            const char *k = "?", *l = "", *t = "";
            size_t kn = 1, ln = 0, tn = 0;
            bo_mpo_str(f, "key", &k, &kn);
            bo_mpo_str(f, "label", &l, &ln);
            bo_mpo_str(f, "type", &t, &tn);
            if (ln && !(ln == kn && !memcmp(l, k, kn)))
                snprintf(heads[j], sizeof(heads[j]), "%.*s %.*s", (int)ln, l, (int)kn, k);
            else
                snprintf(heads[j], sizeof(heads[j]), "%.*s", (int)kn, k);
            grid[4 + j] = cstr(heads[j]);
            right[4 + j] = !(tn == 4 && !memcmp(t, "text", 4));
        }
        if (note)
            grid[nc - 1] = cstr("备注 note");
    }
    for (size_t i = 0; !err && i < nr; i++) {
        cell *c = &grid[(i + 1) * nc];
        uint64_t n = 0;
        bo_mpo_u64(r[i], "n", &n);
        snprintf(nums[i], sizeof(nums[i]), "%llu", (unsigned long long)n);
        c[0] = cstr(nums[i]);
        c[1] = cstr("?");
        c[2] = cstr("?");
        c[3] = cstr("?");
        bo_mpo_str(r[i], "org", &c[1].p, &c[1].n);
        bo_mpo_str(r[i], "uscc", &c[2].p, &c[2].n);
        const char *st;
        size_t sn;
        if (bo_mpo_str(r[i], "status", &st, &sn)) {
            const char *l = status_label(st, sn);
            c[3] = l ? cstr(l) : (cell){st, sn};
        }
        const msgpack_object *form = bo_mpo_get(r[i], "fields");
        for (size_t j = 0; j < nf; j++) {
            const char *k;
            size_t kn;
            c[4 + j] = cstr("—");
            if (!bo_mpo_str(&fl->via.array.ptr[j], "key", &k, &kn) || !form ||
                form->type != MSGPACK_OBJECT_MAP)
                continue;
            for (uint32_t x = 0; x < form->via.map.size; x++) {
                const msgpack_object_kv *kv = &form->via.map.ptr[x];
                if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == kn &&
                    !memcmp(kv->key.via.str.ptr, k, kn) && kv->val.type == MSGPACK_OBJECT_STR)
                    c[4 + j] = (cell){kv->val.via.str.ptr, kv->val.via.str.size};
            }
        }
        if (note) {
            c[nc - 1] = cstr("");
            bo_mpo_str(r[i], "form_error", &c[nc - 1].p, &c[nc - 1].n);
        }
    }
    for (size_t i = 0; !err && i <= nr; i++)
        for (size_t j = 0; j < nc; j++) {
            size_t cw = bo_evfmt_width(grid[i * nc + j].p, grid[i * nc + j].n);
            if (cw > w[j])
                w[j] = cw;
        }
    if (!err)
        err = total ? bo_buf_appendf(out, "唱标 announcement (%zu/%u):", nr, total)
                    : bo_buf_append_str(out, "唱标 announcement:");
    for (size_t i = 0; !err && i <= nr; i++)
        err = put_row(out, &grid[i * nc], w, right, nc);
    free(r);
    free(grid);
    free(w);
    free(right);
    free(nums);
    free(heads);
    return err;
}

bo_err bo_evfmt_confirm_progress(bo_buf *out, unsigned confirmed, unsigned valid,
                                 unsigned objections, unsigned unanswered, int64_t ends_at,
                                 bool window_closed, bool paused, int64_t server_now)
{
    char d[32];
    bo_err err = bo_buf_appendf(out, "确认 confirmed %u/%u", confirmed, valid);
    if (!err && objections)
        err = bo_buf_appendf(out, " · 异议 objections %u (待答复 unanswered %u)", objections,
                             unanswered);
    if (err)
        return err;
    if (paused && !window_closed)
        return bo_buf_append_str(out, " · 已暂停 paused");
    if (!window_closed && ends_at > server_now)
        return bo_buf_appendf(out, " · 剩余 time left %s",
                              bo_duration_format(ends_at - server_now, d, sizeof(d)));
    return bo_buf_append_str(out, " · 确认时限已过 window closed");
}

/* The snapshot's keys of §11: announcement (with the table), draws, benchmark, confirmation,
 * objections. */
static bo_err put_closing(bo_buf *out, const msgpack_object *snap, int tz)
{
    bo_err err = BO_E_OK;
    char tmp[40];
    int64_t v;
    bool b;
    const msgpack_object *a = bo_mpo_get(snap, "announce");
    uint64_t announced = 0, total = 0;
    if (a && a->type == MSGPACK_OBJECT_MAP) {
        bo_mpo_u64(a, "announced", &announced);
        bo_mpo_u64(a, "total", &total);
        err = bo_buf_appendf(out, "\n唱标 announcement: %llu/%llu 已唱 announced",
                             (unsigned long long)announced, (unsigned long long)total);
        if (!err && bo_mpo_get(a, "next")) {
            err = bo_buf_append_str(out, " · 下一个 next ");
            if (!err)
                err = put_s(out, a, "next");
        }
    }
    const msgpack_object *bl = bo_mpo_get(snap, "bidders");
    if (!err && announced && arr_len(bl)) {
        const msgpack_object **rows = calloc(arr_len(bl), sizeof(*rows));
        if (!rows)
            return BO_E_NOMEM;
        for (uint32_t i = 0; i < arr_len(bl); i++)
            rows[i] = &bl->via.array.ptr[i];
        err = bo_buf_append_str(out, "\n");
        if (!err)
            err = bo_evfmt_bids_table(out, bo_mpo_get(snap, "tender"), rows, arr_len(bl),
                                      (unsigned)total);
        free(rows);
    }
    const msgpack_object *dr = bo_mpo_get(snap, "draws");
    for (uint32_t i = 0; !err && i < arr_len(dr); i++) {
        const msgpack_object *d = &dr->via.array.ptr[i];
        err = bo_buf_append_str(out, "\n抽取 draw ");
        if (!err)
            err = put_s(out, d, "id");
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err && bo_mpo_get(d, "order"))
            err = put_str_list(out, bo_mpo_get(d, "order"));
        else if (!err)
            err = put_s(out, d, "value");
        if (!err)
            err = bo_buf_append_str(out, " · 种子 seed ");
        if (!err)
            err = put_hex(out, d, "seed");
    }
    const msgpack_object *bm = bo_mpo_get(snap, "benchmark");
    if (!err && bm && bm->type == MSGPACK_OBJECT_MAP) {
        err = bo_buf_append_str(out, "\n评标基准价 benchmark price: ");
        if (!err)
            err = put_s(out, bm, "value");
        if (!err)
            err = bo_buf_append_str(out, " (均值 mean ");
        if (!err)
            err = put_s(out, bm, "mean");
        if (!err)
            err = bo_buf_append_str(out, " × 系数 coefficient ");
        if (!err)
            err = put_s(out, bm, "coefficient");
        if (!err)
            err = bo_buf_append_str(out, ", ");
        if (!err)
            err = put_u(out, bm, "count");
        if (!err)
            err = bo_buf_append_str(out, " 份 bids counted)");
    }
    const msgpack_object *c = bo_mpo_get(snap, "confirm");
    if (!err && c && c->type == MSGPACK_OBJECT_MAP) {
        err = bo_buf_appendf(out, "\n确认 confirmation: %u 家已确认 confirmed",
                             arr_len(bo_mpo_get(c, "confirmed")));
        if (!err && bo_mpo_i64(c, "ends_at", &v))
            err = bo_buf_appendf(out, " · 截止 ends %s",
                                 bo_time_format_local(v, tz, tmp, sizeof(tmp)));
        if (!err && bo_mpo_bool(c, "window_closed", &b) && b)
            err = bo_buf_append_str(out, " · 确认时限已过 window closed");
        if (!err)
            err = bo_buf_append_str(out, "\n  记录哈希 record hash ");
        if (!err)
            err = put_hex(out, c, "record_hash");
        if (!err && bo_mpo_get(c, "final_hash")) {
            err = bo_buf_append_str(out, "\n  开标记录哈希 final record hash ");
            if (!err)
                err = put_hex(out, c, "final_hash");
        }
    }
    const msgpack_object *ob = bo_mpo_get(snap, "objections");
    for (uint32_t i = 0; !err && i < arr_len(ob); i++) {
        const msgpack_object *o = &ob->via.array.ptr[i];
        const msgpack_object *ans = bo_mpo_get(o, "answer");
        err = bo_buf_append_str(out, "\n异议 objection #");
        if (!err)
            err = put_u(out, o, "n");
        if (!err)
            err = bo_buf_append_str(out, " from ");
        if (!err)
            err = put_s(out, o, "uscc");
        if (!err)
            err = bo_buf_append_str(out, ": ");
        if (!err)
            err = put_s(out, o, "text");
        if (!err && ans && ans->type == MSGPACK_OBJECT_MAP) {
            err = bo_buf_append_str(out, "\n  答复 answer: ");
            if (!err)
                err = put_s(out, ans, "text");
        } else if (!err) {
            err = bo_buf_append_str(out, "\n  待答复 not answered yet");
        }
    }
    return err;
}
