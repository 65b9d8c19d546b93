/* bidopen: internals of the wire codec shared by bo_wire.c, bo_wire_mp.c and
 * bo_wire_schema.c. Not a public header. */
#ifndef BO_WIRE_INTERNAL_H
#define BO_WIRE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/wire.h"

/* msgpack-c's unpacker keeps a fixed stack of 32 containers; deeper is never accepted. */
#define BO__WIRE_MAX_DEPTH 32

/* How a schema field is stored in its struct. */
typedef enum bo__wire_kind {
    BO__WK_STR = 1,  /* const char *, NUL-terminated, valid UTF-8 without NUL */
    BO__WK_BIN,      /* bo_bytes */
    BO__WK_U64,      /* uint64_t */
    BO__WK_I64,      /* int64_t */
    BO__WK_SIZE,     /* size_t */
    BO__WK_UINT,     /* unsigned */
    BO__WK_BOOL,     /* bool */
    BO__WK_BIN_LIST, /* bo_bytes_list */
    BO__WK_STR_LIST, /* bo_str_list */
    BO__WK_RAW_MAP,  /* bo_raw: any map, kept canonical */
    BO__WK_MAP,      /* a nested struct described by sub */
    BO__WK_MAP_LIST, /* {T *v; size_t n;} of nested structs described by sub */
} bo__wire_kind;

typedef struct bo__wire_table bo__wire_table;

typedef struct bo__wire_field {
    const char *key;
    bo__wire_kind kind;
    bool required;
    /* STR: max characters; BIN: max bytes; U64: max value; lists: max count; 0: only the
     * frame caps apply. */
    uint64_t cap;
    uint64_t min;      /* U64: smallest value */
    bool exact;        /* BIN: length must equal cap */
    uint64_t elem_cap; /* STR_LIST: max characters of one element */
    size_t off;        /* offset of the value in its struct */
    ptrdiff_t has_off; /* offset of a bool set when the value is present, or -1 */
    const char *const *oneof;            /* STR: allowed values (NULL-terminated), or NULL */
    bool (*valid)(const char *s);        /* STR: extra check, or NULL */
    const bo__wire_table *sub;           /* MAP, MAP_LIST */
    size_t elem_size;                    /* MAP_LIST */
} bo__wire_field;

/* The fields of one map, sorted by key (byte-wise). */
struct bo__wire_table {
    const bo__wire_field *f;
    size_t n;
};

typedef struct bo__wire_schema {
    bo_msg_type type;
    const char *name;
    bool from_client;
    bool request; /* carries a required id */
    bo__wire_table fields;
} bo__wire_schema;

/** The schema of a type, or NULL. */
const bo__wire_schema *bo__wire_schema_of(bo_msg_type t);
/** The schema named s (len bytes), or NULL. */
const bo__wire_schema *bo__wire_schema_named(const char *s, size_t len);

/* A path into a message for error details: "tender.title", "chain[2]". */
typedef struct bo__wire_path {
    char s[128];
    size_t len;
} bo__wire_path;

size_t bo__wire_path_key(bo__wire_path *p, const char *key, size_t key_len);
size_t bo__wire_path_index(bo__wire_path *p, size_t i);
void bo__wire_path_pop(bo__wire_path *p, size_t mark);

/** bo_mp_canonical with a path for the detail of an error (path may be NULL). */
bo_err bo__wire_canonical(bo_buf *out, const msgpack_object *obj, bo__wire_path *path);

/** Map header writer (shortest form). */
bo_err bo__mp_map_header(bo_buf *out, uint32_t n);

/** Read the request id at the top of a frame without trusting the rest; false if none. */
bool bo__wire_scan_id(const uint8_t *p, size_t len, uint64_t *id);

#endif
