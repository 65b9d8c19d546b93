/* bidopen: the tender definition an opening is created from (docs/protocol.md §5). */
#ifndef BO_TENDER_H
#define BO_TENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/decimal.h"
#include "bo/err.h"

#define BO_TENDER_MAX_FIELDS 32
#define BO_TENDER_MAX_DRAWS 8       /* docs/protocol.md §11 */
#define BO_DRAW_MIN_VALUES 2        /* of a coefficient draw */
#define BO_DRAW_MAX_VALUES 100
#define BO_BENCHMARK_MAX_TRIM 100   /* bids dropped at each end */
#define BO_BENCHMARK_MAX_TRIM_MIN 1000
#define BO_BENCHMARK_MAX_PLACES 6
#define BO_FORM_TEXT_MAX 1024       /* bytes of a text value in the opening form */
#define BO_FORM_DAYS_DIGITS 6       /* a days value is [0-9]{1,6} */
#define BO_FORM_INT_DIGITS 18       /* an int value is -?[0-9]{1,18} */

typedef enum bo_field_type {
    BO_FIELD_DECIMAL = 1, /* exact decimal, e.g. a price */
    BO_FIELD_TEXT,
    BO_FIELD_INT,
    BO_FIELD_DAYS, /* a duration in days */
} bo_field_type;

typedef struct bo_tender_field {
    char key[33];     /* [a-z0-9_]{1,32} */
    char label[257];  /* UTF-8, <= 64 characters (up to 4 bytes each) */
    bo_field_type type;
} bo_tender_field;

/* How bids are announced (tender.announce_order). */
typedef enum bo_announce_order {
    BO_ORDER_SUBMISSION = 0, /* "submission": the order the bids were accepted (default) */
    BO_ORDER_USCC,           /* "uscc": by USCC */
    BO_ORDER_DRAW,           /* "draw:<id>": the valid bids in the order draw's order */
} bo_announce_order;

typedef enum bo_draw_kind {
    BO_DRAW_COEFFICIENT = 1, /* picks one of values */
    BO_DRAW_ORDER,           /* the announcement order */
} bo_draw_kind;

/* A verifiable draw of the opening (docs/protocol.md §11). */
typedef struct bo_tender_draw {
    char id[33];     /* [a-z0-9_]{1,32}, unique */
    bo_draw_kind kind;
    char label[257]; /* 1 to 64 characters */
    bo_decimal values[BO_DRAW_MAX_VALUES]; /* coefficient: 2..100 distinct values */
    size_t n_values;
} bo_tender_draw;

/* The benchmark price (评标基准价) formula. */
typedef struct bo_tender_benchmark {
    bool present;
    char field[33];         /* the key of a decimal field */
    uint32_t trim_min;      /* trim when there are at least this many valid bids */
    uint32_t trim;          /* bids dropped at each end */
    bool coef_draw;         /* the coefficient is the result of draw coef_id */
    char coef_id[33];
    bo_decimal coefficient; /* when not drawn: 0 < coefficient <= 1000 */
    unsigned places;        /* 0..6 */
    bo_rounding rounding;
} bo_tender_benchmark;

typedef struct bo_tender {
    char oid[65];
    char title[801];   /* <= 200 characters (UTF-8, up to 4 bytes each) */
    char lot[401];
    char code[257];   /* <= 64 characters */
    char buyer[801];
    char agency[801];
    bo_time_ms checkin_at;
    bo_time_ms deadline;
    uint32_t min_bidders;
    bool counts_early;
    uint32_t decrypt_window_s;
    char currency[4];
    int32_t tz_offset_min;
    bo_tender_field fields[BO_TENDER_MAX_FIELDS];
    size_t n_fields;
    uint8_t host_fpr[32];
    bool has_host_fpr;
    /* announcement, draws and the benchmark price (docs/protocol.md §11) */
    bo_announce_order announce_order;
    char announce_draw[33]; /* BO_ORDER_DRAW: the id of the order draw */
    bo_tender_draw draws[BO_TENDER_MAX_DRAWS];
    size_t n_draws;
    bo_tender_benchmark benchmark;
} bo_tender;

/** Valid opening id: [A-Za-z0-9._-]{1,64}. */
bool bo_oid_valid(const char *oid);

/** Parse and validate a tender map (msgpack). now is the server time (the deadline must be
 * in the future, checkin_at before it). Errors: BO_E_BAD_TENDER with detail naming the key
 * and the rule, e.g. "deadline: must be after checkin_at". Fills defaults. An absent oid
 * stays "" (the caller generates one). Context: any thread. */
bo_err bo_tender_parse(const uint8_t *mp, size_t len, bo_time_ms now, bo_tender *out,
                       char *detail, size_t detail_len);

/** Canonical msgpack of the tender as stored in opening_created (every field, defaults
 * filled, host_fpr included when set). */
bo_err bo_tender_encode(const bo_tender *t, bo_buf *out);

/** The draw with this id, or NULL. */
const bo_tender_draw *bo_tender_draw_find(const bo_tender *t, const char *id);

/** The field with this key, or NULL. */
const bo_tender_field *bo_tender_field_find(const bo_tender *t, const char *key);

/** Whether value[0..len) is well-formed for a field of this type (docs/protocol.md §11):
 * decimal the decimal syntax of bo/decimal.h; int -?[0-9]{1,18}; days [0-9]{1,6}; text
 * UTF-8 without NUL, at most BO_FORM_TEXT_MAX bytes (may be empty). Context: any thread. */
bool bo_tender_value_ok(bo_field_type type, const char *value, size_t len);

/** Check an opening form (msgpack map of str -> str, as the bid package carries it) against
 * the tender's fields: every field present and well-formed for its type, no other key.
 * Errors: BO_E_BAD_FIELD with detail naming the key and the rule but never the value, e.g.
 * "price: must be a decimal (at most 18 digits before the point and 6 after)",
 * "remarks: not a field of this tender", "days: missing"; the first problem in key order.
 * Context: any thread. */
bo_err bo_tender_check_form(const bo_tender *t, const uint8_t *form_mp, size_t len,
                            char *detail, size_t detail_len);

/** The benchmark formula as bo_tender_encode stores it (canonical map, every member, the
 * coefficient as a canonical decimal or "draw:<id>"); it is the `rule` of benchmark_price.
 * Errors: BO_E_INVALID_ARG (the tender has no benchmark), BO_E_NOMEM. */
bo_err bo_tender_encode_benchmark(const bo_tender *t, bo_buf *out);

/** Decode what bo_tender_encode wrote without the "in the future" checks (replaying a log
 * whose deadline has passed). Errors: BO_E_BAD_TENDER. */
bo_err bo_tender_decode_stored(const uint8_t *mp, size_t len, bo_tender *out);

#endif
