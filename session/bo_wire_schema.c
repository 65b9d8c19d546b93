/* bidopen: the schema of every bidopen.v1 message (docs/protocol.md §3, §4, §8, §10, §11).
 *
 * One row per key: how it is stored, whether it is required, its cap. Rows are sorted by
 * key so that encoding walks them in canonical order; test_wire checks the order. */
#include <string.h>

#include "bo/tender.h"
#include "bo_wire_internal.h"

#define M(field) offsetof(bo_msg, u.field)
#define NOHAS (-1)
#define HAS(field) ((ptrdiff_t)offsetof(bo_msg, u.field))
#define TABLE(a) {a, sizeof(a) / sizeof(a[0])}
#define NONE {NULL, 0}

static bool oid_ok(const char *s)
{
    return bo_oid_valid(s);
}

/* A decryption request id: 32 lowercase hexadecimal characters. */
static bool req_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 32;
}

static const char *const roles[] = {"operator", "host", "supervisor", "bidder",
                                    "site",     "observer", NULL};
static const char *const streams[] = {"pub", "staff", "b", "all", NULL};
static const char *const stages[] = {"token", "cert", "unwrap", "other", NULL};
static const char *const outcomes[] = {"revoked", "withdrawn", NULL};
static const char *const formats[] = {"record", "ocds", "html", "transcript",
                                      "transcript_public", NULL};

/* A draw id of the tender: [a-z0-9_]{1,32}. */
static bool draw_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return false;
    return n >= 1 && n <= 32;
}

/* ---- nested maps ---- */

static const bo__wire_field since_f[] = {
    {.key = "all", .kind = BO__WK_U64, .off = offsetof(bo_msg_since, all),
     .has_off = offsetof(bo_msg_since, has_all)},
    {.key = "priv", .kind = BO__WK_U64, .off = offsetof(bo_msg_since, priv),
     .has_off = offsetof(bo_msg_since, has_priv)},
    {.key = "pub", .kind = BO__WK_U64, .off = offsetof(bo_msg_since, pub),
     .has_off = offsetof(bo_msg_since, has_pub)},
};
static const bo__wire_table since_t = TABLE(since_f);

static const bo__wire_field caps_f[] = {
    {.key = "bin", .kind = BO__WK_SIZE, .required = true, .off = offsetof(bo_wire_caps, bin),
     .has_off = NOHAS},
    {.key = "depth", .kind = BO__WK_UINT, .required = true,
     .off = offsetof(bo_wire_caps, depth), .has_off = NOHAS},
    {.key = "elems", .kind = BO__WK_SIZE, .required = true,
     .off = offsetof(bo_wire_caps, elems), .has_off = NOHAS},
    {.key = "frame", .kind = BO__WK_SIZE, .required = true,
     .off = offsetof(bo_wire_caps, frame), .has_off = NOHAS},
    {.key = "str", .kind = BO__WK_SIZE, .required = true, .off = offsetof(bo_wire_caps, str),
     .has_off = NOHAS},
};
static const bo__wire_table caps_t = TABLE(caps_f);

static const bo__wire_field bl_entry_f[] = {
    {.key = "name", .kind = BO__WK_STR, .required = true, .cap = 200,
     .off = offsetof(bo_bl_entry, name), .has_off = NOHAS},
    {.key = "reason", .kind = BO__WK_STR, .required = true, .cap = 500,
     .off = offsetof(bo_bl_entry, reason), .has_off = NOHAS},
    {.key = "source", .kind = BO__WK_STR, .cap = 200, .off = offsetof(bo_bl_entry, source),
     .has_off = NOHAS},
    {.key = "uscc", .kind = BO__WK_STR, .required = true, .cap = 18,
     .off = offsetof(bo_bl_entry, uscc), .has_off = NOHAS},
};
static const bo__wire_table bl_entry_t = TABLE(bl_entry_f);

/* ---- client -> server ---- */

static const bo__wire_field auth_f[] = {
    {.key = "chain", .kind = BO__WK_BIN_LIST, .cap = 4, .off = M(auth.chain), .has_off = NOHAS},
    {.key = "enc_chain", .kind = BO__WK_BIN_LIST, .cap = 4, .off = M(auth.enc_chain),
     .has_off = NOHAS},
    {.key = "role", .kind = BO__WK_STR, .required = true, .off = M(auth.role), .has_off = NOHAS,
     .oneof = roles},
    {.key = "sig", .kind = BO__WK_BIN, .cap = 1024, .off = M(auth.sig), .has_off = NOHAS},
    {.key = "time", .kind = BO__WK_I64, .off = M(auth.time), .has_off = HAS(auth.has_time)},
    {.key = "token", .kind = BO__WK_STR, .cap = 8192, .off = M(auth.token), .has_off = NOHAS},
};

static const bo__wire_field time_f[] = {
    {.key = "t0", .kind = BO__WK_I64, .required = true, .off = M(time.t0), .has_off = NOHAS},
};

static const bo__wire_field create_f[] = {
    {.key = "tender", .kind = BO__WK_RAW_MAP, .required = true, .off = M(create.tender),
     .has_off = NOHAS},
};

static const bo__wire_field join_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(join.oid), .has_off = NOHAS,
     .valid = oid_ok},
    {.key = "since", .kind = BO__WK_MAP, .off = M(join.since),
     .has_off = HAS(join.since.present), .sub = &since_t},
};

static const bo__wire_field register_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(reg.oid), .has_off = NOHAS,
     .valid = oid_ok},
    {.key = "sig", .kind = BO__WK_BIN, .required = true, .cap = 1024, .off = M(reg.sig),
     .has_off = NOHAS},
};

static const bo__wire_field signin_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(signin.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "sig", .kind = BO__WK_BIN, .required = true, .cap = 1024, .off = M(signin.sig),
     .has_off = NOHAS},
};

static const bo__wire_field host_reason_f[] = { /* pause, fail */
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(host_cmd.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "reason", .kind = BO__WK_STR, .required = true, .cap = 500,
     .off = M(host_cmd.reason), .has_off = NOHAS},
};

static const bo__wire_field resume_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(host_cmd.oid),
     .has_off = NOHAS, .valid = oid_ok},
};

static const bo__wire_field bl_entries_f[] = { /* bl_add, bl_replace */
    {.key = "entries", .kind = BO__WK_MAP_LIST, .required = true, .cap = 10000,
     .off = M(bl_entries), .has_off = NOHAS, .sub = &bl_entry_t,
     .elem_size = sizeof(bo_bl_entry)},
};

static const bo__wire_field bl_remove_f[] = {
    {.key = "usccs", .kind = BO__WK_STR_LIST, .required = true, .cap = 10000, .elem_cap = 18,
     .off = M(bl_remove.usccs), .has_off = NOHAS},
};

static const bo__wire_field pong_f[] = {
    {.key = "n", .kind = BO__WK_U64, .required = true, .off = M(pong.n), .has_off = NOHAS},
};

/* ---- client -> server: sealed bids and remote decryption (§10) ---- */

static const bo__wire_field submit_begin_f[] = {
    {.key = "commit", .kind = BO__WK_BIN, .required = true, .cap = 32, .exact = true,
     .off = M(submit_begin.commit), .has_off = NOHAS},
    {.key = "hash", .kind = BO__WK_BIN, .required = true, .cap = 32, .exact = true,
     .off = M(submit_begin.hash), .has_off = NOHAS},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(submit_begin.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "size", .kind = BO__WK_U64, .required = true, .off = M(submit_begin.size),
     .has_off = NOHAS},
};

static const bo__wire_field submit_chunk_f[] = {
    {.key = "data", .kind = BO__WK_BIN, .required = true, .cap = BO_WIRE_CHUNK_MAX,
     .off = M(submit_chunk.data), .has_off = NOHAS},
    {.key = "offset", .kind = BO__WK_U64, .required = true, .off = M(submit_chunk.offset),
     .has_off = NOHAS},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(submit_chunk.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "upload", .kind = BO__WK_STR, .required = true, .off = M(submit_chunk.upload),
     .has_off = NOHAS, .valid = oid_ok},
};

static const bo__wire_field submit_commit_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(submit_commit.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "upload", .kind = BO__WK_STR, .required = true, .off = M(submit_commit.upload),
     .has_off = NOHAS, .valid = oid_ok},
};

static const bo__wire_field receipt_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(receipt.oid),
     .has_off = NOHAS, .valid = oid_ok},
};

static const bo__wire_field decrypt_start_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(decrypt_start.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "window_s", .kind = BO__WK_U64, .cap = 86400, .min = 60,
     .off = M(decrypt_start.window_s), .has_off = HAS(decrypt_start.has_window_s)},
};

static const bo__wire_field decrypt_response_f[] = {
    {.key = "client_pub", .kind = BO__WK_BIN, .required = true, .cap = 32, .exact = true,
     .off = M(decrypt_response.client_pub), .has_off = NOHAS},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(decrypt_response.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "req", .kind = BO__WK_STR, .required = true, .off = M(decrypt_response.req),
     .has_off = NOHAS, .valid = req_ok},
    {.key = "sig", .kind = BO__WK_BIN, .required = true, .cap = 1024,
     .off = M(decrypt_response.sig), .has_off = NOHAS},
    {.key = "wrapped", .kind = BO__WK_BIN, .required = true, .cap = 256,
     .off = M(decrypt_response.wrapped), .has_off = NOHAS},
};

static const bo__wire_field decrypt_failed_f[] = {
    {.key = "cert_fpr", .kind = BO__WK_BIN, .required = true, .cap = 32, .exact = true,
     .off = M(decrypt_failed.cert_fpr), .has_off = NOHAS},
    {.key = "error", .kind = BO__WK_STR, .required = true, .cap = 200,
     .off = M(decrypt_failed.error), .has_off = NOHAS},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(decrypt_failed.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "req", .kind = BO__WK_STR, .required = true, .off = M(decrypt_failed.req),
     .has_off = NOHAS, .valid = req_ok},
    {.key = "sig", .kind = BO__WK_BIN, .required = true, .cap = 1024,
     .off = M(decrypt_failed.sig), .has_off = NOHAS},
    {.key = "stage", .kind = BO__WK_STR, .required = true, .off = M(decrypt_failed.stage),
     .has_off = NOHAS, .oneof = stages},
};

static const bo__wire_field decrypt_extend_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(decrypt_extend.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "reason", .kind = BO__WK_STR, .required = true, .cap = 500,
     .off = M(decrypt_extend.reason), .has_off = NOHAS},
    {.key = "seconds", .kind = BO__WK_U64, .required = true, .cap = 86400, .min = 60,
     .off = M(decrypt_extend.seconds), .has_off = NOHAS},
};

static const bo__wire_field classify_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(classify.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "outcome", .kind = BO__WK_STR, .required = true, .off = M(classify.outcome),
     .has_off = NOHAS, .oneof = outcomes},
    {.key = "reason", .kind = BO__WK_STR, .required = true, .cap = 500,
     .off = M(classify.reason), .has_off = NOHAS},
    {.key = "uscc", .kind = BO__WK_STR, .required = true, .cap = 18, .off = M(classify.uscc),
     .has_off = NOHAS},
};

/* ---- client -> server: announcement, draws, confirmation, the record (§11) ---- */

static const bo__wire_field opening_f[] = { /* benchmark, close */
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(opening.oid),
     .has_off = NOHAS, .valid = oid_ok},
};

static const bo__wire_field announce_f[] = {
    {.key = "all", .kind = BO__WK_BOOL, .off = M(announce.all), .has_off = HAS(announce.has_all)},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(announce.oid),
     .has_off = NOHAS, .valid = oid_ok},
};

static const bo__wire_field draw_f[] = {
    {.key = "draw", .kind = BO__WK_STR, .required = true, .off = M(draw.draw),
     .has_off = NOHAS, .valid = draw_id_ok},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(draw.oid), .has_off = NOHAS,
     .valid = oid_ok},
};

static const bo__wire_field confirm_open_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(confirm_open.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "window_s", .kind = BO__WK_U64, .cap = 86400, .min = 60,
     .off = M(confirm_open.window_s), .has_off = HAS(confirm_open.has_window_s)},
};

static const bo__wire_field confirm_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(confirm.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "record_hash", .kind = BO__WK_BIN, .required = true, .cap = 32, .exact = true,
     .off = M(confirm.record_hash), .has_off = NOHAS},
    {.key = "sig", .kind = BO__WK_BIN, .required = true, .cap = 1024, .off = M(confirm.sig),
     .has_off = NOHAS},
};

static const bo__wire_field object_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(object.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "sig", .kind = BO__WK_BIN, .required = true, .cap = 1024, .off = M(object.sig),
     .has_off = NOHAS},
    {.key = "text", .kind = BO__WK_STR, .required = true, .cap = BO_WIRE_OBJECTION_MAX,
     .off = M(object.text), .has_off = NOHAS},
};

static const bo__wire_field answer_f[] = {
    {.key = "objection", .kind = BO__WK_U64, .required = true, .min = 1,
     .off = M(answer.objection), .has_off = NOHAS},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(answer.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "sig", .kind = BO__WK_BIN, .required = true, .cap = 1024, .off = M(answer.sig),
     .has_off = NOHAS},
    {.key = "text", .kind = BO__WK_STR, .required = true, .cap = BO_WIRE_ANSWER_MAX,
     .off = M(answer.text), .has_off = NOHAS},
};

static const bo__wire_field message_f[] = {
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(message.oid),
     .has_off = NOHAS, .valid = oid_ok},
    {.key = "text", .kind = BO__WK_STR, .required = true, .cap = BO_WIRE_MESSAGE_MAX,
     .off = M(message.text), .has_off = NOHAS},
};

static const bo__wire_field export_f[] = {
    {.key = "format", .kind = BO__WK_STR, .required = true, .off = M(export_req.format),
     .has_off = NOHAS, .oneof = formats},
    {.key = "offset", .kind = BO__WK_U64, .off = M(export_req.offset),
     .has_off = HAS(export_req.has_offset)},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(export_req.oid),
     .has_off = NOHAS, .valid = oid_ok},
};

/* ---- server -> client ---- */

static const bo__wire_field hello_f[] = {
    {.key = "caps", .kind = BO__WK_MAP, .required = true, .off = M(hello.caps),
     .has_off = NOHAS, .sub = &caps_t},
    {.key = "node", .kind = BO__WK_STR, .required = true, .cap = 256, .off = M(hello.node),
     .has_off = NOHAS},
    {.key = "nonce", .kind = BO__WK_BIN, .required = true, .cap = 32, .exact = true,
     .off = M(hello.nonce), .has_off = NOHAS},
    {.key = "time", .kind = BO__WK_I64, .required = true, .off = M(hello.time),
     .has_off = NOHAS},
    {.key = "v", .kind = BO__WK_U64, .required = true, .off = M(hello.v), .has_off = NOHAS},
};

static const bo__wire_field ok_f[] = {
    {.key = "data", .kind = BO__WK_RAW_MAP, .off = M(ok.data), .has_off = NOHAS},
    {.key = "re", .kind = BO__WK_U64, .off = M(ok.re), .has_off = HAS(ok.has_re)},
};

static const bo__wire_field err_f[] = {
    {.key = "code", .kind = BO__WK_STR, .required = true, .cap = 64, .off = M(err.code),
     .has_off = NOHAS},
    {.key = "msg", .kind = BO__WK_STR, .required = true, .cap = 4096, .off = M(err.msg),
     .has_off = NOHAS},
    {.key = "re", .kind = BO__WK_U64, .off = M(err.re), .has_off = HAS(err.has_re)},
};

static const bo__wire_field ev_f[] = {
    {.key = "at", .kind = BO__WK_U64, .off = M(ev.at), .has_off = HAS(ev.has_at)},
    {.key = "body", .kind = BO__WK_RAW_MAP, .required = true, .off = M(ev.body),
     .has_off = NOHAS},
    {.key = "hash", .kind = BO__WK_BIN, .required = true, .cap = 32, .exact = true,
     .off = M(ev.hash), .has_off = NOHAS},
    {.key = "kind", .kind = BO__WK_STR, .required = true, .cap = 64, .off = M(ev.kind),
     .has_off = NOHAS},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(ev.oid), .has_off = NOHAS,
     .valid = oid_ok},
    {.key = "seq", .kind = BO__WK_U64, .required = true, .off = M(ev.seq), .has_off = NOHAS},
    {.key = "st", .kind = BO__WK_STR, .required = true, .off = M(ev.st), .has_off = NOHAS,
     .oneof = streams},
    {.key = "ts", .kind = BO__WK_I64, .required = true, .off = M(ev.ts), .has_off = NOHAS},
};

static const bo__wire_field presence_f[] = {
    {.key = "data", .kind = BO__WK_RAW_MAP, .required = true, .off = M(presence.data),
     .has_off = NOHAS},
    {.key = "oid", .kind = BO__WK_STR, .required = true, .off = M(presence.oid),
     .has_off = NOHAS, .valid = oid_ok},
};

static const bo__wire_field ping_f[] = {
    {.key = "n", .kind = BO__WK_U64, .required = true, .off = M(ping.n), .has_off = NOHAS},
    {.key = "time", .kind = BO__WK_I64, .required = true, .off = M(ping.time),
     .has_off = NOHAS},
};

static const bo__wire_field notice_f[] = {
    {.key = "code", .kind = BO__WK_STR, .required = true, .cap = 64, .off = M(notice.code),
     .has_off = NOHAS},
    {.key = "msg", .kind = BO__WK_STR, .required = true, .cap = 4096, .off = M(notice.msg),
     .has_off = NOHAS},
};

/* Indexed by bo_msg_type. */
static const bo__wire_schema schemas[BO_MSG__COUNT] = {
    [BO_MSG_AUTH] = {BO_MSG_AUTH, "auth", true, true, TABLE(auth_f)},
    [BO_MSG_TIME] = {BO_MSG_TIME, "time", true, true, TABLE(time_f)},
    [BO_MSG_LIST] = {BO_MSG_LIST, "list", true, true, NONE},
    [BO_MSG_CREATE] = {BO_MSG_CREATE, "create", true, true, TABLE(create_f)},
    [BO_MSG_JOIN] = {BO_MSG_JOIN, "join", true, true, TABLE(join_f)},
    [BO_MSG_LEAVE] = {BO_MSG_LEAVE, "leave", true, true, NONE},
    [BO_MSG_REGISTER] = {BO_MSG_REGISTER, "register", true, true, TABLE(register_f)},
    [BO_MSG_SIGNIN] = {BO_MSG_SIGNIN, "signin", true, true, TABLE(signin_f)},
    [BO_MSG_PAUSE] = {BO_MSG_PAUSE, "pause", true, true, TABLE(host_reason_f)},
    [BO_MSG_RESUME] = {BO_MSG_RESUME, "resume", true, true, TABLE(resume_f)},
    [BO_MSG_FAIL] = {BO_MSG_FAIL, "fail", true, true, TABLE(host_reason_f)},
    [BO_MSG_BL_ADD] = {BO_MSG_BL_ADD, "bl_add", true, true, TABLE(bl_entries_f)},
    [BO_MSG_BL_REMOVE] = {BO_MSG_BL_REMOVE, "bl_remove", true, true, TABLE(bl_remove_f)},
    [BO_MSG_BL_REPLACE] = {BO_MSG_BL_REPLACE, "bl_replace", true, true, TABLE(bl_entries_f)},
    [BO_MSG_BL_LIST] = {BO_MSG_BL_LIST, "bl_list", true, true, NONE},
    [BO_MSG_PONG] = {BO_MSG_PONG, "pong", true, false, TABLE(pong_f)},
    [BO_MSG_HELLO] = {BO_MSG_HELLO, "hello", false, false, TABLE(hello_f)},
    [BO_MSG_OK] = {BO_MSG_OK, "ok", false, false, TABLE(ok_f)},
    [BO_MSG_ERR] = {BO_MSG_ERR, "err", false, false, TABLE(err_f)},
    [BO_MSG_EV] = {BO_MSG_EV, "ev", false, false, TABLE(ev_f)},
    [BO_MSG_PRESENCE] = {BO_MSG_PRESENCE, "presence", false, false, TABLE(presence_f)},
    [BO_MSG_PING] = {BO_MSG_PING, "ping", false, false, TABLE(ping_f)},
    [BO_MSG_NOTICE] = {BO_MSG_NOTICE, "notice", false, false, TABLE(notice_f)},
    [BO_MSG_SUBMIT_BEGIN] = {BO_MSG_SUBMIT_BEGIN, "submit_begin", true, true,
                             TABLE(submit_begin_f)},
    [BO_MSG_SUBMIT_CHUNK] = {BO_MSG_SUBMIT_CHUNK, "submit_chunk", true, true,
                             TABLE(submit_chunk_f)},
    [BO_MSG_SUBMIT_COMMIT] = {BO_MSG_SUBMIT_COMMIT, "submit_commit", true, true,
                              TABLE(submit_commit_f)},
    [BO_MSG_RECEIPT] = {BO_MSG_RECEIPT, "receipt", true, true, TABLE(receipt_f)},
    [BO_MSG_SERVER_KEY] = {BO_MSG_SERVER_KEY, "server_key", true, true, NONE},
    [BO_MSG_DECRYPT_START] = {BO_MSG_DECRYPT_START, "decrypt_start", true, true,
                              TABLE(decrypt_start_f)},
    [BO_MSG_DECRYPT_RESPONSE] = {BO_MSG_DECRYPT_RESPONSE, "decrypt_response", true, true,
                                 TABLE(decrypt_response_f)},
    [BO_MSG_DECRYPT_FAILED] = {BO_MSG_DECRYPT_FAILED, "decrypt_failed", true, true,
                               TABLE(decrypt_failed_f)},
    [BO_MSG_DECRYPT_EXTEND] = {BO_MSG_DECRYPT_EXTEND, "decrypt_extend", true, true,
                               TABLE(decrypt_extend_f)},
    [BO_MSG_CLASSIFY] = {BO_MSG_CLASSIFY, "classify", true, true, TABLE(classify_f)},
    [BO_MSG_ANNOUNCE] = {BO_MSG_ANNOUNCE, "announce", true, true, TABLE(announce_f)},
    [BO_MSG_DRAW] = {BO_MSG_DRAW, "draw", true, true, TABLE(draw_f)},
    [BO_MSG_BENCHMARK] = {BO_MSG_BENCHMARK, "benchmark", true, true, TABLE(opening_f)},
    [BO_MSG_CONFIRM_OPEN] = {BO_MSG_CONFIRM_OPEN, "confirm_open", true, true,
                             TABLE(confirm_open_f)},
    [BO_MSG_CONFIRM] = {BO_MSG_CONFIRM, "confirm", true, true, TABLE(confirm_f)},
    [BO_MSG_OBJECT] = {BO_MSG_OBJECT, "object", true, true, TABLE(object_f)},
    [BO_MSG_ANSWER] = {BO_MSG_ANSWER, "answer", true, true, TABLE(answer_f)},
    [BO_MSG_MESSAGE] = {BO_MSG_MESSAGE, "message", true, true, TABLE(message_f)},
    [BO_MSG_CLOSE] = {BO_MSG_CLOSE, "close", true, true, TABLE(opening_f)},
    [BO_MSG_EXPORT] = {BO_MSG_EXPORT, "export", true, true, TABLE(export_f)},
};

const bo__wire_schema *bo__wire_schema_of(bo_msg_type t)
{
    if (t <= BO_MSG_NONE || t >= BO_MSG__COUNT)
        return NULL;
    return &schemas[t];
}

const bo__wire_schema *bo__wire_schema_named(const char *s, size_t len)
{
    for (int t = BO_MSG_NONE + 1; t < BO_MSG__COUNT; t++)
        if (strlen(schemas[t].name) == len && !memcmp(schemas[t].name, s, len))
            return &schemas[t];
    return NULL;
}
