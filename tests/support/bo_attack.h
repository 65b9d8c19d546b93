/* Fault drills: hostile clients against a bidopen-server, run by a thread of their own with
 * plain sockets and OpenSSL (no libwebsockets, no libuv), so that they cost the test's loop
 * nothing and behave exactly as badly as asked:
 *
 *   half-open  TCP connects and then sends nothing, not even a TLS ClientHello;
 *   slowloris  completes TLS, then sends an HTTP request one byte every 500 ms, never ending
 *              its headers;
 *   unauth     completes the WebSocket upgrade (bidopen.v1), sends 30 `list` requests at
 *              once without authenticating, reads (and discards) what comes, never
 *              authenticates;
 *   oversize   completes the upgrade and sends one frame of 300 KiB (over the server's 256 KiB
 *              cap), then reads;
 *   noread     completes the upgrade with a small receive buffer, authenticates as an
 *              observer, joins the given opening and sends `join` again every 100 ms (each
 *              answered with a snapshot), and never reads a byte.
 *
 * The thread sets the connections up one after the other (kinds interleaved), watching those
 * set up meanwhile: a connection is "cut" when the server ends it (FIN or RST seen, or a
 * write fails), timed from its own set-up.
 * Everything here is for tests only. */
#ifndef BO_ATTACK_H
#define BO_ATTACK_H

#include <stdbool.h>
#include <stdint.h>

typedef enum bo_atk_kind {
    BO_ATK_HALF_OPEN,
    BO_ATK_SLOWLORIS,
    BO_ATK_UNAUTH,
    BO_ATK_OVERSIZE,
    BO_ATK_NOREAD,
    BO_ATK_KINDS
} bo_atk_kind;

typedef struct bo_attack_plan {
    int port;                   /* the server's TLS port on 127.0.0.1 */
    const char *oid;            /* the opening the noread clients join */
    unsigned n[BO_ATK_KINDS];   /* connections of each kind */
} bo_attack_plan;

typedef struct bo_atk_stats {
    unsigned planned;
    unsigned set_up;            /* got as far as its kind means to */
    unsigned failed;            /* could not be set up (refused, closed during set-up) */
    unsigned cut;               /* set up, then ended by the server */
    unsigned open;              /* set up and still open */
    int64_t cut_min_ms, cut_max_ms; /* time from its set-up to its cut, over those cut */
    int64_t last_cut_at_ms;     /* when the last one was cut, from the attack's start */
} bo_atk_stats;

typedef struct bo_attack bo_attack;

/** Start the thread. Aborts the test if it cannot. Ownership: bo_attack_stop. */
bo_attack *bo_attack_start(const bo_attack_plan *plan);

/** Whether every connection has been set up (or failed to be). */
bool bo_attack_ready(bo_attack *a);

/** Milliseconds the set-up took (0 while not ready). */
int64_t bo_attack_setup_ms(bo_attack *a);

/** A copy of the figures so far. */
void bo_attack_stats_get(bo_attack *a, bo_atk_stats out[BO_ATK_KINDS]);

/** Connections set up and not cut yet, all kinds. */
unsigned bo_attack_open(bo_attack *a);

/** "half-open", "slowloris", ... */
const char *bo_attack_kind_name(bo_atk_kind k);

/** Stop the thread and close whatever is still open. Accepts NULL. */
void bo_attack_stop(bo_attack *a);

#endif
