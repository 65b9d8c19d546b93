/* bidopen-server: token buckets for message and connection rates. Pure: time is an input. */
#ifndef BO_RATELIMIT_H
#define BO_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct bo_tbucket {
    double tokens;
    double rate;  /* tokens per second */
    double burst; /* bucket size */
    int64_t last_ms;
} bo_tbucket;

/** A full bucket refilling at rate per second up to burst. */
void bo_tbucket_init(bo_tbucket *b, double rate, double burst, int64_t now_ms);

/** Take one token if there is one: true if allowed. Context: owner thread. */
bool bo_tbucket_take(bo_tbucket *b, int64_t now_ms);

#endif
