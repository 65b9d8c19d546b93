/* Integration tests: a participant driven through libbidopen-client that records what it
 * sees (state changes, snapshots, events, presence, replies) for assertions. */
#ifndef BO_TCLIENT_H
#define BO_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/client.h"

#define TC_MAX_EVENTS 4096

typedef struct tc_event {
    char st[8];
    uint64_t seq;
    char kind[40];
    char *body_json; /* malloc'd JSON of the body */
    uint8_t hash[32];
    uint64_t at;     /* private streams: pub events before this one */
    bool has_at;
    int64_t ts;      /* server time */
} tc_event;

typedef struct tc {
    bo_client *c;
    bo_key *key;
    bo_blob_list chain, enc_chain;
    char name[64];
    /* what it saw */
    bo_client_state state;
    char last_code[40];   /* last refusal code seen in on_state */
    char *snap_json;      /* last snapshot */
    unsigned snapshots;
    bool last_recovered;
    tc_event *events;
    size_t n_events;
    char *presence_json;
    unsigned presences;
    unsigned joins;       /* times it reached JOINED */
    unsigned backoffs;    /* times it lost its connection (entered BACKOFF) */
    unsigned recovered_joins; /* snapshots with recovered true */
    uint64_t first_pos_pub, first_pos_priv, first_pos_all; /* snap.pos of the first join */
    /* last reply */
    bool replied;
    bo_err reply_err;
    char reply_code[40];
    char reply_msg[400];
    char *reply_json;
} tc;

/** Load credentials: chain PEM, key PEM (or NULL for observers), encryption chain PEM (NULL:
 * none). Aborts the test on failure. Ownership: tc_free. */
tc *tc_new(bo_client_ctx *ctx, const char *name, const char *url, const char *role,
           const char *chain_pem, const char *key_pem, const char *enc_chain_pem,
           const char *oid);

/** Same, with several server URLs. */
tc *tc_new_urls(bo_client_ctx *ctx, const char *name, const char *const *urls, size_t n_urls,
                const char *role, const char *chain_pem, const char *key_pem,
                const char *enc_chain_pem, const char *oid);

void tc_free(tc *t);

/** Start and run the loop until the state is reached (JOINED also accepts READY, for a
 * client without an oid), or FAILED, or timeout.
 * Returns true if reached. */
bool tc_wait_state(uv_loop_t *loop, tc *t, bo_client_state want, int timeout_ms);

/** Prepare for a request: clears the last reply. Use as the ud/cb of a request. */
void tc_reply_reset(tc *t);
void tc_on_reply(void *ud, bo_err err, const char *code, const char *msg,
                 const msgpack_object *data);
/** Run until the reply came; returns its error (BO_E_TIMEOUT if none within timeout). */
bo_err tc_wait_reply(uv_loop_t *loop, tc *t, int timeout_ms);

/** Run until the participant has seen an event of this kind (any stream). */
bool tc_wait_event(uv_loop_t *loop, tc *t, const char *kind, int timeout_ms);
/** Run until it has at least n events. */
bool tc_wait_events(uv_loop_t *loop, tc *t, size_t n, int timeout_ms);
/** Number of events of a kind seen. */
size_t tc_count(const tc *t, const char *kind);
/** The last event of a kind (NULL if none). */
const tc_event *tc_last(const tc *t, const char *kind);
/** Whether any recorded text (events, snapshots, presence) contains s. */
bool tc_saw_text(const tc *t, const char *s);

/** A stream position of the last snapshot (snap.pos.<key>: "pub", "priv" or "all"); 0 if
 * there is no snapshot or no such key. */
uint64_t tc_snap_pos(const tc *t, const char *key);

/** The last seq seen in stream st ("pub", "staff", "b", "all"); 0 if none. */
uint64_t tc_last_seq(const tc *t, const char *st);

/** Run until the participant has seen seq >= n in stream st. */
bool tc_wait_seq(uv_loop_t *loop, tc *t, const char *st, uint64_t n, int timeout_ms);

/** Stream st of t has no gap and no duplicate from first_pos + 1 on (prints the first
 * offence to stderr). */
bool tc_gap_free(const tc *t, const char *st, uint64_t first_pos);

/** t's pub stream is gap-free from its first join's position and equal (seq, kind, hash)
 * to ref's from there to ref's last event; ref must have joined no later than t. */
bool tc_same_pub(const tc *ref, const tc *t);

/** The supervisor lists a and b hold the same events (seq, kind, hash) where they overlap,
 * and both end at the same seq. */
bool tc_same_all(const tc *a, const tc *b);

/** Convert a msgpack object to a malloc'd JSON string (bin as hex). */
char *tc_json(const msgpack_object *o);

#endif
