/* Integration tests: one "world" per test program: a temp dir, the demo PKI, a real
 * bidopen-server with its managed redis-server, a libuv loop and a client context.
 * Helpers create openings and participants from the demo PKI's index. */
#ifndef BO_ITEST_H
#define BO_ITEST_H

#include <stdbool.h>
#include <uv.h>

#include "bo_harness.h"
#include "bo_tclient.h"

typedef struct bo_world {
    char dir[512];
    char pki[600];
    bo_h_server srv;
    uv_loop_t loop;
    bo_client_ctx *ctx;
    char *index_json; /* bidders/index.json */
} bo_world;

/** Set up everything (aborts on failure). extra_args go to the server. */
void bo_world_up(bo_world *w, const char *name, const char *const *extra_args);
/** Same, and prep(pki_dir, ud) runs after the PKI is written and before the server starts
 * (e.g. to add a CA to pki/trust and bidders it issued). */
void bo_world_up_prep(bo_world *w, const char *name, const char *const *extra_args,
                      void (*prep)(const char *pki_dir, void *ud), void *ud);
/** Stop the server now (SIGTERM) and return its exit status as waitpid gives it (0: a clean
 * exit); prints its log when it is not 0. bo_world_down then leaves the server alone. */
int bo_world_stop(bo_world *w);
/** Stop the server, free the clients' context, remove the temp dir. */
void bo_world_down(bo_world *w);

/** A staff participant: who is "host", "host2", "supervisor", "operator", "site-1", ... */
tc *bo_world_staff(bo_world *w, const char *who, const char *role, const char *oid);
/** A bidder from index.json by name (e.g. "b1-rsa"); with_enc adds its encryption chain. */
tc *bo_world_bidder(bo_world *w, const char *name, bool with_enc, const char *oid);
/** An observer (no certificate). */
tc *bo_world_observer(bo_world *w, const char *name, const char *oid);
/** Same, against another server URL. */
tc *bo_world_observer_at(bo_world *w, const char *name, const char *url, const char *oid);

/** A bidder's field from index.json ("uscc", "org", "expect"...); "" if absent. */
const char *bo_world_bidder_field(bo_world *w, const char *name, const char *field,
                                  char out[512]);

/** Create an opening as the given host (READY client, no oid) with checkin and deadline
 * relative to now (ms); extra_json is spliced into the tender object (may be ""). Writes the
 * oid and returns true on success. */
bool bo_world_create(bo_world *w, tc *host, const char *oid, int64_t checkin_in_ms,
                     int64_t deadline_in_ms, const char *extra_json, char oid_out[65]);

/** Same, with the tender's min_bidders (1..1000; bo_world_create uses 3). */
bool bo_world_create_min(bo_world *w, tc *host, const char *oid, int64_t checkin_in_ms,
                         int64_t deadline_in_ms, unsigned min_bidders, const char *extra_json,
                         char oid_out[65]);

/** Start a participant and run until it is JOINED (or READY without oid). */
bool bo_world_connect(bo_world *w, tc *t);

/** Send a request through a helper (register, signin, ...) and wait for its reply.
 * Returns the reply's error. */
bo_err bo_world_register(bo_world *w, tc *t);
bo_err bo_world_signin(bo_world *w, tc *t);

/** Same as bo_world_staff / bo_world_bidder, against another server URL (a proxy, a node). */
tc *bo_world_staff_at(bo_world *w, const char *who, const char *role, const char *url,
                      const char *oid);
tc *bo_world_bidder_at(bo_world *w, const char *name, bool with_enc, const char *url,
                       const char *oid);

/** Start another bidopen-server with the world's PKI, its files under w->dir/<name>, and
 * extra arguments (e.g. --redis, --node, --sndbuf). Aborts the test on failure. Stop it with
 * bo_h_server_stop. */
void bo_world_node(bo_world *w, bo_h_server *s, const char *name,
                   const char *const *extra_args);

/** pause{reason} / resume of the host's own opening; waits for the reply. */
bo_err bo_world_pause(bo_world *w, tc *host, const char *reason);
bo_err bo_world_resume(bo_world *w, tc *host);

/** As the operator, add the demo PKI's credit blacklist (bidders/blacklist.json: the
 * "blacklisted" bidder's organisation) to the server at url. Aborts the test on failure. */
void bo_world_load_blacklist(bo_world *w, const char *url);

/** Seal a small bid to the bidder's encryption certificate (RSA or P-256: b1-rsa, b2-p256,
 * b5-mixed; SM2 cannot be a recipient) and submit it over t (authenticated and registered
 * for oid) with submit_begin, one submit_chunk and submit_commit, each waited for; files go
 * under w->dir/bids. Returns the first refusal (t->reply_code says which) or BO_E_OK. */
bo_err bo_world_submit_bid(bo_world *w, tc *t, const char *oid);

/** Start all the participants at once and run until every one is JOINED (or READY, or
 * FAILED) or timeout_ms passed. Returns how many are JOINED/READY. */
size_t bo_world_connect_all(bo_world *w, tc *const *v, size_t n, int timeout_ms);

/** Run the loop for ms. */
void bo_world_run(bo_world *w, int ms);

#endif
