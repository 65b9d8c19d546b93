#include "bo/timesync.h"

#include <string.h>

void bo_timesync_init(bo_timesync *ts)
{
    memset(ts, 0, sizeof(*ts));
    ts->rtt_ms = -1;
}

/* Floor division by 2, so that the offset does not depend on the sign convention of C's
 * truncation (a +1 ms and a -1 ms asymmetry round the same way). */
static int64_t half_floor(int64_t v)
{
    return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

bo_err bo_timesync_compute(int64_t t0, int64_t t1, int64_t t2, int64_t t3, int64_t *offset,
                           int64_t *rtt)
{
    int64_t r = (t3 - t0) - (t2 - t1);
    if (t2 < t1 || t3 < t0 || r < 0)
        return BO_E_BAD_FIELD;
    *offset = half_floor((t1 - t0) + (t2 - t3));
    *rtt = r;
    return BO_E_OK;
}

bo_err bo_timesync_add(bo_timesync *ts, int64_t t0, int64_t t1, int64_t t2, int64_t t3)
{
    int64_t off, rtt;
    bo_err err = bo_timesync_compute(t0, t1, t2, t3, &off, &rtt);
    if (err)
        return err;
    ts->s[ts->next] = (bo_timesync_sample){off, rtt};
    ts->next = (ts->next + 1) % BO_TIMESYNC_WINDOW;
    if (ts->n < BO_TIMESYNC_WINDOW)
        ts->n++;
    unsigned best = 0;
    for (unsigned i = 1; i < ts->n; i++)
        if (ts->s[i].rtt_ms < ts->s[best].rtt_ms)
            best = i;
    ts->offset_ms = ts->s[best].offset_ms;
    ts->rtt_ms = ts->s[best].rtt_ms;
    ts->have = true;
    return BO_E_OK;
}

void bo_timesync_hint(bo_timesync *ts, int64_t server_time, int64_t t_local)
{
    if (ts->n)
        return;
    ts->offset_ms = server_time - t_local;
    ts->rtt_ms = -1;
    ts->have = true;
}

void bo_timesync_forget(bo_timesync *ts)
{
    ts->n = 0;
    ts->next = 0;
}

int64_t bo_timesync_server_time(const bo_timesync *ts, int64_t local_ms)
{
    return local_ms + ts->offset_ms;
}
