/* bidopen: time. All times are int64 milliseconds since the Unix epoch (UTC).
 * session/ never reads a clock: time is an input there. */
#ifndef BO_CLOCK_H
#define BO_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

typedef int64_t bo_time_ms;

/** Wall clock (CLOCK_REALTIME) in ms. Context: any thread. */
bo_time_ms bo_clock_now_ms(void);

/** Monotonic clock in ms, for timeouts and durations only. Context: any thread. */
int64_t bo_clock_mono_ms(void);

/** Monotonic clock in ns, for measurements. Context: any thread. */
int64_t bo_clock_mono_ns(void);

/** Format as RFC 3339 UTC with milliseconds, e.g. 2026-11-27T02:00:00.000Z.
 * Writes at most n bytes including the NUL (30 is enough). Returns out. */
char *bo_time_format_rfc3339(bo_time_ms t, char *out, size_t n);

/** Format in a fixed UTC offset (minutes east), e.g. 2026-11-27T10:00:00+08:00 (seconds only).
 * Returns out. */
char *bo_time_format_local(bo_time_ms t, int offset_min, char *out, size_t n);

/** Parse RFC 3339: YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm). Errors: BO_E_BAD_FIELD. */
bo_err bo_time_parse_rfc3339(const char *s, bo_time_ms *out);

/** Format a duration as a countdown, "1:02:03" or "02:03" (negative shows as 00:00). */
char *bo_duration_format(int64_t ms, char *out, size_t n);

#endif
