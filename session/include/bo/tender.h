/* bidopen: the tender definition an opening is created from (docs/protocol.md §5). */
#ifndef BO_TENDER_H
#define BO_TENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/err.h"

#define BO_TENDER_MAX_FIELDS 32

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

/** Decode what bo_tender_encode wrote without the "in the future" checks (replaying a log
 * whose deadline has passed). Errors: BO_E_BAD_TENDER. */
bo_err bo_tender_decode_stored(const uint8_t *mp, size_t len, bo_tender *out);

#endif
