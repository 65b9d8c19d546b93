/* bidopen client: the server clock as seen from here (docs/protocol.md §9).
 *
 * A `time{t0}` request is answered with `{t0, t1, t2}` (server receive and send times);
 * with the local receive time t3:
 *     offset = ((t1 - t0) + (t2 - t3)) / 2      round trip = (t3 - t0) - (t2 - t1)
 * The estimate in force is the offset of the sample with the smallest round trip among the
 * last BO_TIMESYNC_WINDOW (the NTP clock filter: queueing delay only ever adds error).
 * Pure: the caller passes every clock reading.
 */
#ifndef BO_TIMESYNC_H
#define BO_TIMESYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "bo/err.h"

#define BO_TIMESYNC_WINDOW 8

typedef struct bo_timesync_sample {
    int64_t offset_ms;
    int64_t rtt_ms;
} bo_timesync_sample;

typedef struct bo_timesync {
    bo_timesync_sample s[BO_TIMESYNC_WINDOW];
    unsigned n;        /* samples held (<= window) */
    unsigned next;     /* ring position of the next sample */
    int64_t offset_ms; /* server clock minus local clock: the estimate in force */
    int64_t rtt_ms;    /* round trip of the sample in force; -1 for a hint */
    bool have;         /* an estimate exists (sample or hint) */
} bo_timesync;

/** No estimate yet (offset 0). Context: any thread. */
void bo_timesync_init(bo_timesync *ts);

/** The NTP formulas for one exchange (all in ms). Errors: BO_E_BAD_FIELD when the round
 * trip is negative (a clock went backwards, or t1 > t2): the sample is meaningless.
 * Context: any thread. */
bo_err bo_timesync_compute(int64_t t0, int64_t t1, int64_t t2, int64_t t3, int64_t *offset,
                           int64_t *rtt);

/** Add one exchange; the estimate becomes the window's smallest-rtt sample.
 * Errors: as bo_timesync_compute (nothing changes). Context: any thread. */
bo_err bo_timesync_add(bo_timesync *ts, int64_t t0, int64_t t1, int64_t t2, int64_t t3);

/** A one-way hint (hello.time, ping.time) received at local time t_local: used only while
 * no sample exists (it is off by the one-way delay). Context: any thread. */
void bo_timesync_hint(bo_timesync *ts, int64_t server_time, int64_t t_local);

/** Forget the samples (a new connection may reach another node with another clock) but keep
 * the estimate until a new sample arrives. Context: any thread. */
void bo_timesync_forget(bo_timesync *ts);

/** Local time converted to server time. Context: any thread. */
int64_t bo_timesync_server_time(const bo_timesync *ts, int64_t local_ms);

#endif
