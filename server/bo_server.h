/* bidopen-server: the server as main() and tests see it. */
#ifndef BO_SERVER_H
#define BO_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "bo/err.h"
#include "bo_config.h"

typedef struct bo_srv bo_srv;

/* The largest descriptor limit (RLIMIT_NOFILE) the server works with as it is: its
 * libwebsockets tables are indexed by descriptor and sized by the limit, 16 bytes per
 * descriptor of address space. main() raises the soft limit to the hard one up to here. */
#define BO_SRV_FD_TABLE_MAX (1u << 20)

/** Start listening and connecting to the store on loop. Errors: NULL with *err set and
 * detail saying what is wrong (BO_E_CONFIG for bad files or a busy port). After a NULL
 * return the caller still runs the loop until it has no active handles.
 * Ownership: free with bo_srv_free after the loop has finished. Context: loop thread. */
bo_srv *bo_srv_start(uv_loop_t *loop, const bo_config *cfg, bo_err *err, char *detail,
                     size_t n);

/** Begin an orderly shutdown (also on SIGINT/SIGTERM): connections closed with 1001, the
 * store closed, the managed redis-server stopped. The loop ends by itself afterwards. */
void bo_srv_stop(bo_srv *srv, int exit_code);

/** After uv_run returned: complete libwebsockets' staged destruction. Returns true if the
 * caller must run the loop once more (until it has no handles) before bo_srv_free. */
bool bo_srv_finish(bo_srv *srv);

/** Free after uv_run returned; returns the exit code. */
int bo_srv_free(bo_srv *srv);

/** The port actually listened on. */
int bo_srv_port(const bo_srv *srv);

/** --check-config: validate options, trust store, keys and roster without starting.
 * Errors: BO_E_CONFIG and others with detail. */
bo_err bo_srv_check(const bo_config *cfg, char *detail, size_t n);

#endif
