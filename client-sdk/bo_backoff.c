#include "bo/backoff.h"

void bo_backoff_init(bo_backoff *b, uint32_t min_ms, uint32_t max_ms)
{
    b->min_ms = min_ms ? min_ms : BO_BACKOFF_MIN_MS;
    b->max_ms = max_ms ? max_ms : BO_BACKOFF_MAX_MS;
    if (b->max_ms < b->min_ms)
        b->max_ms = b->min_ms;
    b->stable_ms = BO_BACKOFF_STABLE_MS;
    b->attempt = 0;
    b->up_since = -1;
}

uint32_t bo_backoff_ceiling(const bo_backoff *b)
{
    uint64_t c = b->min_ms;
    for (uint32_t i = 0; i < b->attempt && c < b->max_ms; i++)
        c *= 2;
    return c > b->max_ms ? b->max_ms : (uint32_t)c;
}

uint32_t bo_backoff_next(bo_backoff *b, uint32_t rnd)
{
    uint64_t ceiling = bo_backoff_ceiling(b);
    if (b->attempt < UINT32_MAX)
        b->attempt++;
    /* multiply-shift maps rnd onto [0, ceiling] without the bias of a modulo */
    return (uint32_t)(((uint64_t)rnd * (ceiling + 1)) >> 32);
}

void bo_backoff_up(bo_backoff *b, int64_t now_ms)
{
    b->up_since = now_ms;
}

bool bo_backoff_down(bo_backoff *b, int64_t now_ms)
{
    bool reset = false;
    if (b->up_since >= 0 && now_ms - b->up_since >= (int64_t)b->stable_ms) {
        b->attempt = 0;
        reset = true;
    }
    b->up_since = -1;
    return reset;
}

void bo_backoff_reset(bo_backoff *b)
{
    b->attempt = 0;
}
