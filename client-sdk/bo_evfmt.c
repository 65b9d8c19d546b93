#include "bo/evfmt.h"

#include <stdio.h>
#include <string.h>

#include "bo/clock.h"
#include "bo/hex.h"
#include "bo/mpjson.h"
#include "bo/wire.h"

typedef struct label {
    const char *name;
    const char *text;
} label;

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
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
        if (strcmp(phases[i].name, phase) == 0)
            return phases[i].text;
    return phase;
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
    }
    return err;
}

static bo_err put_event_body(bo_buf *out, const char *kind, const msgpack_object *body)
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
    } else if (strcmp(kind, "head_signed") == 0) {
        const uint8_t *h;
        err = bo_buf_append_str(out, "链头签名 chain head signed: #");
        if (!err)
            err = put_u(out, body, "seq");
        if (!err && bo_mpo_bin(body, "hash", &h, &n) && n >= 8) {
            char hex[17];
            err = bo_buf_appendf(out, " %s…", bo_hex_encode(h, 8, hex));
        }
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
    return err ? err : put_event_body(out, kind ? kind : "?", body);
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
    }
    const msgpack_object *bl = bo_mpo_get(snap, "bidders");
    if (!err && bl && bl->type == MSGPACK_OBJECT_ARRAY) {
        err = bo_buf_appendf(out, "\n投标人 bidders (%u):", bl->via.array.size);
        if (!err)
            err = put_bidder_lines(out, bl);
    }
    const msgpack_object *me = bo_mpo_get(snap, "me");
    if (!err && me && me->type == MSGPACK_OBJECT_MAP) {
        bool reg = false, in = false;
        bo_mpo_bool(me, "registered", &reg);
        bo_mpo_bool(me, "signed_in", &in);
        err = bo_buf_appendf(out, "\n本单位 me: %s, %s",
                             reg ? "已报名 registered" : "未报名 not registered",
                             in ? "已签到 signed in" : "未签到 not signed in");
    }
    if (!err && bo_mpo_bool(snap, "quorum", &b))
        err = bo_buf_append_str(out, b ? "\n法定人数 quorum: 满足 met"
                                       : "\n法定人数 quorum: 不足 not met");
    return err;
}
