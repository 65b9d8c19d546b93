#include "bo_ratelimit.h"

void bo_tbucket_init(bo_tbucket *b, double rate, double burst, int64_t now_ms)
{
    b->rate = rate;
    b->burst = burst;
    b->tokens = burst;
    b->last_ms = now_ms;
}

bool bo_tbucket_take(bo_tbucket *b, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    return false;
}
