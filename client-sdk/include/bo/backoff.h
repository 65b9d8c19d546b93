/* bidopen client: reconnect backoff, exponential with full jitter (docs/protocol.md §1).
 *
 * The delay before attempt n is uniform in [0, min(max, min * 2^n)] ("full jitter": a
 * reconnect storm of thousands of clients spreads over the whole window instead of
 * arriving in waves). A connection that stayed usable for stable_ms resets n to 0.
 * Pure: randomness and time are inputs, so the schedule is testable.
 */
#ifndef BO_BACKOFF_H
#define BO_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define BO_BACKOFF_MIN_MS 500u
#define BO_BACKOFF_MAX_MS 20000u
#define BO_BACKOFF_STABLE_MS 60000u

typedef struct bo_backoff {
    uint32_t min_ms;    /* ceiling of the first retry */
    uint32_t max_ms;    /* cap of the ceiling */
    uint32_t stable_ms; /* usable this long resets the schedule */
    uint32_t attempt;   /* failed attempts since the last reset */
    int64_t up_since;   /* monotonic ms when the connection became usable; -1 when down */
} bo_backoff;

/** Start a schedule. min_ms 0 means BO_BACKOFF_MIN_MS, max_ms 0 BO_BACKOFF_MAX_MS; max_ms is
 * raised to min_ms if smaller. Ownership: b is the caller's (no allocation).
 * Context: any thread. */
void bo_backoff_init(bo_backoff *b, uint32_t min_ms, uint32_t max_ms);

/** The ceiling for the next attempt: min(max_ms, min_ms * 2^attempt). Context: any thread. */
uint32_t bo_backoff_ceiling(const bo_backoff *b);

/** The delay before the next attempt, rnd mapped uniformly onto [0, ceiling]; counts the
 * attempt. rnd is any 32-bit random value. Context: any thread. */
uint32_t bo_backoff_next(bo_backoff *b, uint32_t rnd);

/** The connection became usable (authenticated) at now_ms (monotonic). Context: any thread. */
void bo_backoff_up(bo_backoff *b, int64_t now_ms);

/** The connection was lost at now_ms: if it had been usable for stable_ms or more, the
 * schedule starts again from min_ms. Returns true when it was reset. Context: any thread. */
bool bo_backoff_down(bo_backoff *b, int64_t now_ms);

/** Start the schedule again from min_ms. Context: any thread. */
void bo_backoff_reset(bo_backoff *b);

#endif
