/* bidopen client: stream cursors, so an application sees every event once and in order
 * across reconnects (docs/protocol.md §7 "join and resume").
 *
 * A connection reads `pub` plus one private stream (`staff` or `b`), or the single `all`
 * stream for supervisors. Each stream is numbered from 1 without gaps. The cursor holds the
 * last seq delivered per stream: an event at or below it is a duplicate (dropped), the next
 * one is delivered, anything further is a gap (the client rejoins from the cursor).
 * Pure: no I/O, testable with plain sequences.
 */
#ifndef BO_CURSOR_H
#define BO_CURSOR_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "bo/err.h"

typedef struct bo_cursor {
    bool set;      /* a snapshot position has been taken (the client has joined once) */
    bool all;      /* supervisor mode: one `all` stream */
    uint64_t pub;  /* last pub seq delivered */
    uint64_t priv; /* last seq delivered of the private stream (staff or b) */
    uint64_t seq;  /* last seq delivered of the `all` stream */
} bo_cursor;

typedef enum bo_cursor_verdict {
    BO_CURSOR_DELIVER = 0, /* the next event: hand it to the application (cursor advanced) */
    BO_CURSOR_DUP,         /* already delivered: drop silently */
    BO_CURSOR_GAP,         /* events are missing before this one: rejoin (cursor unchanged) */
    BO_CURSOR_INVALID,     /* unknown stream, seq 0, or a stream that does not fit the mode */
} bo_cursor_verdict;

/** An empty cursor (no join yet). Context: any thread. */
void bo_cursor_init(bo_cursor *c);

/** Decide what to do with an event of stream st ("pub", "staff", "b", "all") at seq, and
 * advance the cursor when it is delivered. Before the first join (set false) everything is
 * INVALID. Context: any thread. */
bo_cursor_verdict bo_cursor_accept(bo_cursor *c, const char *st, uint64_t seq);

/** Take a join reply's `snap.pos` ({pub, priv} or {all}). When *recovered is true the cursor
 * keeps its positions (the replay that follows fills the gap up to pos); when false, or when
 * the cursor is in another mode or ahead of pos (the server lost events, so the snapshot is
 * the truth), the cursor jumps to pos and *recovered is set to false.
 * Errors: BO_E_BAD_FIELD (pos is not a map of uints in one of the two shapes); the cursor is
 * unchanged then. Context: any thread. */
bo_err bo_cursor_join(bo_cursor *c, const msgpack_object *pos, bool *recovered);

/** Whether the stream name belongs to the private cursor ("staff" or "b"). */
bool bo_cursor_is_private(const char *st);

#endif
