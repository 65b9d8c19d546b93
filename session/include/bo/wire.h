/* bidopen: the bidopen.v1 wire codec (docs/protocol.md is its specification).
 *
 * Decoding is table-driven: each message type has a schema (key, type, cap, required);
 * the decoder checks the frame against the caps before anything is allocated, refuses
 * unknown types and keys, and fills a typed struct. Encoding writes canonical msgpack
 * (sorted keys, shortest integers) from the same tables.
 */
#ifndef BO_WIRE_H
#define BO_WIRE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/err.h"

/* Hard caps. The server may lower them; they are announced in hello.caps. */
typedef struct bo_wire_caps {
    size_t frame;    /* max bytes in one frame (default 256 KiB) */
    unsigned depth;  /* max nesting depth; the top-level map is depth 1 (default 8; at most 32) */
    size_t elems;    /* max total elements (map pairs count 2) in one message (default 20000) */
    size_t str;      /* max bytes of one string (default 64 KiB) */
    size_t bin;      /* max bytes of one binary (default 128 KiB: one submit_chunk) */
} bo_wire_caps;

/* The largest submit_chunk.data (docs/protocol.md §10). */
#define BO_WIRE_CHUNK_MAX 131072

/* Texts of §11 in characters: objection, answer to one, public message. */
#define BO_WIRE_OBJECTION_MAX 1000
#define BO_WIRE_ANSWER_MAX 2000
#define BO_WIRE_MESSAGE_MAX 300

/** The default caps listed in docs/protocol.md. */
void bo_wire_caps_default(bo_wire_caps *caps);

typedef enum bo_msg_type {
    BO_MSG_NONE = 0,
    /* client -> server */
    BO_MSG_AUTH,
    BO_MSG_TIME,
    BO_MSG_LIST,
    BO_MSG_CREATE,
    BO_MSG_JOIN,
    BO_MSG_LEAVE,
    BO_MSG_REGISTER,
    BO_MSG_SIGNIN,
    BO_MSG_PAUSE,
    BO_MSG_RESUME,
    BO_MSG_FAIL,
    BO_MSG_BL_ADD,
    BO_MSG_BL_REMOVE,
    BO_MSG_BL_REPLACE,
    BO_MSG_BL_LIST,
    BO_MSG_PONG,
    /* server -> client */
    BO_MSG_HELLO,
    BO_MSG_OK,
    BO_MSG_ERR,
    BO_MSG_EV,
    BO_MSG_PRESENCE,
    BO_MSG_PING,
    BO_MSG_NOTICE,
    /* client -> server: sealed bids and remote decryption (docs/protocol.md §10). Direction
     * is the schema's, not the position: bo_msg_type_from_client tells. */
    BO_MSG_SUBMIT_BEGIN,
    BO_MSG_SUBMIT_CHUNK,
    BO_MSG_SUBMIT_COMMIT,
    BO_MSG_RECEIPT,
    BO_MSG_SERVER_KEY,
    BO_MSG_DECRYPT_START,
    BO_MSG_DECRYPT_RESPONSE,
    BO_MSG_DECRYPT_FAILED,
    BO_MSG_DECRYPT_EXTEND,
    BO_MSG_CLASSIFY,
    /* client -> server: announcement, draws, confirmation, the record (protocol.md §11) */
    BO_MSG_ANNOUNCE,
    BO_MSG_DRAW,
    BO_MSG_BENCHMARK,
    BO_MSG_CONFIRM_OPEN,
    BO_MSG_CONFIRM,
    BO_MSG_OBJECT,
    BO_MSG_ANSWER,
    BO_MSG_MESSAGE,
    BO_MSG_CLOSE,
    BO_MSG_EXPORT,
    BO_MSG__COUNT
} bo_msg_type;

/** "auth", "ev", ... for a type; NULL for BO_MSG_NONE or out of range. */
const char *bo_msg_type_name(bo_msg_type t);

/** Whether a type is sent by clients (and so accepted by the server's decoder). */
bool bo_msg_type_from_client(bo_msg_type t);

/* A list of strings. */
typedef struct bo_str_list {
    const char **v;
    size_t n;
} bo_str_list;

/* An opaque sub-map kept as canonical msgpack bytes plus a parsed view of it. */
typedef struct bo_raw {
    bo_bytes mp;              /* canonical msgpack of the value; len 0 when absent */
    const msgpack_object *obj; /* NULL when absent */
} bo_raw;

typedef struct bo_bl_entry {
    const char *uscc;
    const char *name;
    const char *reason;
    const char *source; /* NULL when absent */
} bo_bl_entry;

typedef struct bo_msg_auth {
    const char *role;
    bo_bytes_list chain;     /* n == 0 when absent */
    bo_bytes_list enc_chain; /* n == 0 when absent */
    bo_bytes sig;            /* len == 0 when absent */
    int64_t time;
    bool has_time;
    const char *token; /* NULL when absent (hall links) */
} bo_msg_auth;

typedef struct bo_msg_since {
    bool present;
    bool has_pub, has_priv, has_all;
    uint64_t pub, priv, all;
} bo_msg_since;

typedef struct bo_msg {
    bo_msg_type type;
    uint64_t id; /* requests; 0 when absent */
    bool has_id;
    union {
        bo_msg_auth auth;
        struct {
            int64_t t0;
        } time;
        struct {
            bo_raw tender;
        } create;
        struct {
            const char *oid;
            bo_msg_since since;
        } join;
        struct {
            const char *oid;
            bo_bytes sig;
        } reg; /* BO_MSG_REGISTER */
        struct {
            const char *oid;
            bo_bytes sig;
        } signin;
        struct {
            const char *oid;
            const char *reason; /* pause, fail; NULL for resume */
        } host_cmd;             /* BO_MSG_PAUSE, BO_MSG_RESUME, BO_MSG_FAIL */
        struct {
            bo_bl_entry *v;
            size_t n;
        } bl_entries; /* BO_MSG_BL_ADD, BO_MSG_BL_REPLACE */
        struct {
            bo_str_list usccs;
        } bl_remove;
        struct {
            uint64_t n;
        } pong;
        struct {
            uint64_t v;
            int64_t time;
            bo_bytes nonce;
            const char *node;
            bo_wire_caps caps;
        } hello;
        struct {
            uint64_t re;
            bool has_re;
            bo_raw data; /* absent when the request returns nothing */
        } ok;
        struct {
            uint64_t re;
            bool has_re;
            const char *code; /* "E_..." */
            const char *msg;
        } err;
        struct {
            const char *oid;
            const char *st; /* "pub", "staff", "b", "all" */
            uint64_t seq;
            uint64_t at;
            bool has_at;
            int64_t ts;
            const char *kind;
            bo_raw body;
            bo_bytes hash; /* 32 bytes */
        } ev;
        struct {
            const char *oid;
            bo_raw data;
        } presence;
        struct {
            uint64_t n;
            int64_t time;
        } ping;
        struct {
            const char *code;
            const char *msg;
        } notice;
        /* sealed bids and remote decryption (docs/protocol.md §10); BO_MSG_SERVER_KEY has
         * no fields */
        struct {
            const char *oid;
            uint64_t size;
            bo_bytes hash;   /* 32 bytes: SHA-256 of the envelope file */
            bo_bytes commit; /* 32 bytes: key commitment */
        } submit_begin;
        struct {
            const char *oid;
            const char *upload; /* [A-Za-z0-9._-]{1,64} */
            uint64_t offset;
            bo_bytes data; /* <= BO_WIRE_CHUNK_MAX bytes */
        } submit_chunk;
        struct {
            const char *oid;
            const char *upload;
        } submit_commit;
        struct {
            const char *oid;
        } receipt;
        struct {
            const char *oid;
            uint64_t window_s; /* 60..86400 when present */
            bool has_window_s;
        } decrypt_start;
        struct {
            const char *oid;
            const char *req;     /* 32 lowercase hex characters */
            bo_bytes client_pub; /* 32 bytes */
            bo_bytes wrapped;    /* <= 256 bytes */
            bo_bytes sig;
        } decrypt_response;
        struct {
            const char *oid;
            const char *req;
            const char *stage; /* "token", "cert", "unwrap" or "other" */
            const char *error; /* <= 200 characters */
            bo_bytes cert_fpr; /* 32 bytes */
            bo_bytes sig;
        } decrypt_failed;
        struct {
            const char *oid;
            uint64_t seconds; /* 60..86400 */
            const char *reason;
        } decrypt_extend;
        struct {
            const char *oid;
            const char *uscc;
            const char *outcome; /* "revoked" or "withdrawn" */
            const char *reason;
        } classify;
        /* announcement, draws, confirmation, the record (docs/protocol.md §11) */
        struct {
            const char *oid;
        } opening; /* BO_MSG_BENCHMARK, BO_MSG_CLOSE */
        struct {
            const char *oid;
            bool all; /* announce every bid that remains */
            bool has_all;
        } announce;
        struct {
            const char *oid;
            const char *draw; /* the id of the tender's draw: [a-z0-9_]{1,32} ("id" is the
                                 request's) */
        } draw;
        struct {
            const char *oid;
            uint64_t window_s; /* 60..86400 when present */
            bool has_window_s;
        } confirm_open;
        struct {
            const char *oid;
            bo_bytes record_hash; /* 32 bytes */
            bo_bytes sig;         /* ctx "confirm" */
        } confirm;
        struct {
            const char *oid;
            const char *text; /* <= BO_WIRE_OBJECTION_MAX characters */
            bo_bytes sig;     /* ctx "objection" */
        } object;
        struct {
            const char *oid;
            uint64_t objection; /* its n, >= 1 */
            const char *text;   /* <= BO_WIRE_ANSWER_MAX characters */
            bo_bytes sig;       /* ctx "answer" */
        } answer;
        struct {
            const char *oid;
            const char *text; /* <= BO_WIRE_MESSAGE_MAX characters */
        } message;
        struct {
            const char *oid;
            const char *format; /* record, ocds, html, transcript, transcript_public */
            uint64_t offset;
            bool has_offset;
        } export_req; /* BO_MSG_EXPORT */
    } u;
    void *mem; /* internal: the memory of a decoded message (NULL in one built by hand) */
} bo_msg;

/** Decode one frame. On success *out is a message the caller frees with bo_msg_free.
 * from_client: accept only client->server types (the server's view) or only
 * server->client types (a client's view).
 * Errors: BO_E_MALFORMED (not msgpack, not a map, trailing bytes), BO_E_TOO_BIG,
 * BO_E_TOO_DEEP, BO_E_TOO_MANY, BO_E_UNKNOWN_TYPE, BO_E_UNKNOWN_FIELD, BO_E_MISSING_FIELD,
 * BO_E_BAD_FIELD, BO_E_NOMEM. On error *out is NULL, *id_out is the request id if one could
 * be read (else 0), and detail (if not NULL) names the offending key, e.g. "tender.title".
 * Ownership: *out belongs to the caller. Context: any thread. */
bo_err bo_wire_decode(const uint8_t *frame, size_t len, const bo_wire_caps *caps,
                      bool from_client, bo_msg **out, uint64_t *id_out, char *detail,
                      size_t detail_len);

/** Free a decoded message, or one built by hand in malloc'd memory with mem NULL (then only
 * the struct itself is freed). Accepts NULL. */
void bo_msg_free(bo_msg *m);

/** Encode a message canonically (the fields the message's type defines; absent optional
 * fields omitted). Appends to out. Errors: BO_E_INVALID_ARG (a required field is missing),
 * BO_E_TOO_BIG (out's cap), BO_E_NOMEM. Context: any thread. */
bo_err bo_wire_encode(bo_buf *out, const bo_msg *m);

/* Convenience encoders for what the server sends most. Each appends one canonical frame. */

/** ok{re, data?}; data_mp is canonical msgpack of a map or NULL. */
bo_err bo_wire_encode_ok(bo_buf *out, uint64_t re, const uint8_t *data_mp, size_t data_len);
/** err{re?, code, msg}; has_re false omits re. msg NULL uses bo_strerror(code). */
bo_err bo_wire_encode_err(bo_buf *out, bool has_re, uint64_t re, bo_err code, const char *msg);

/* ---- canonical msgpack building blocks (also used for event bodies and signatures) ---- */

/* A canonical map writer: collect key/value pairs in any order, then write them sorted.
 * Values are given as already-encoded canonical msgpack. The first error of an add
 * (BO_E_INVALID_ARG for a NULL or non-UTF-8 string, BO_E_NOMEM) is kept and returned again
 * by bo_mpmap_finish, so a caller may check only the finish. */
typedef struct bo_mpmap bo_mpmap;

/** Ownership: caller frees with bo_mpmap_free (accepts NULL). Errors: NULL, *err set. */
bo_mpmap *bo_mpmap_new(bo_err *err);
void bo_mpmap_free(bo_mpmap *m);
bo_err bo_mpmap_str(bo_mpmap *m, const char *key, const char *val);
bo_err bo_mpmap_strn(bo_mpmap *m, const char *key, const char *val, size_t len);
bo_err bo_mpmap_bin(bo_mpmap *m, const char *key, const void *val, size_t len);
bo_err bo_mpmap_u64(bo_mpmap *m, const char *key, uint64_t val);
bo_err bo_mpmap_i64(bo_mpmap *m, const char *key, int64_t val);
bo_err bo_mpmap_bool(bo_mpmap *m, const char *key, bool val);
/** Value is canonical msgpack bytes (a nested map or array built separately). */
bo_err bo_mpmap_raw(bo_mpmap *m, const char *key, const void *mp, size_t len);
/** Write the map (sorted keys; duplicate keys are BO_E_INVALID_ARG) to out. */
bo_err bo_mpmap_finish(bo_mpmap *m, bo_buf *out);

/* Canonical scalar writers that append to a bo_buf (array elements, signature payloads). */
bo_err bo_mp_array_header(bo_buf *out, uint32_t n);
bo_err bo_mp_str(bo_buf *out, const char *s, size_t len);
bo_err bo_mp_bin(bo_buf *out, const void *p, size_t len);
bo_err bo_mp_u64(bo_buf *out, uint64_t v);
bo_err bo_mp_i64(bo_buf *out, int64_t v);
bo_err bo_mp_bool(bo_buf *out, bool v);
bo_err bo_mp_nil(bo_buf *out);

/** Re-encode any msgpack object canonically (sorting every nested map).
 * Errors: BO_E_BAD_FIELD (floats, ext, duplicate or non-string keys, strings that are not
 * UTF-8 or hold NUL), BO_E_TOO_BIG, BO_E_TOO_DEEP (over 32 levels), BO_E_NOMEM. */
bo_err bo_mp_canonical(bo_buf *out, const msgpack_object *obj);

/** Parse canonical msgpack bytes (already cap-checked or self-produced) into a zone.
 * Ownership: the object lives in *zone, which the caller frees with msgpack_zone_free.
 * Errors: BO_E_MALFORMED, BO_E_NOMEM. */
bo_err bo_mp_parse(const uint8_t *mp, size_t len, msgpack_zone **zone, msgpack_object *out);

/** Check a msgpack byte range against caps without allocating (the pre-pass the decoder
 * runs). Errors: BO_E_MALFORMED, BO_E_TOO_BIG, BO_E_TOO_DEEP, BO_E_TOO_MANY. */
bo_err bo_mp_check(const uint8_t *p, size_t len, const bo_wire_caps *caps);

/* Readers over a decoded msgpack map (event bodies, snapshots, ok.data). */
const msgpack_object *bo_mpo_get(const msgpack_object *map, const char *key);
/** Each returns false when the key is absent or has another type. Strings come back as a
 * pointer and length (NOT NUL-terminated). */
bool bo_mpo_str(const msgpack_object *map, const char *key, const char **s, size_t *len);
bool bo_mpo_bin(const msgpack_object *map, const char *key, const uint8_t **p, size_t *len);
bool bo_mpo_u64(const msgpack_object *map, const char *key, uint64_t *v);
bool bo_mpo_i64(const msgpack_object *map, const char *key, int64_t *v);
bool bo_mpo_bool(const msgpack_object *map, const char *key, bool *v);

#endif
