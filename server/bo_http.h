/* bidopen-server: everything plain HTTP(S) on the server's one TLS port, next to the
 * WebSocket at /ws:
 *
 *   /healthz   200 "ok" when the node can serve: both Redis connections ready and the log
 *              writable; 503 with the reason otherwise (and while shutting down)
 *   /metrics   Prometheus text format 0.0.4 (bo_metrics.h)
 *   /, /...    the hall screen's built files from --web-root (GET only): / is
 *              index.html, other paths must name a regular file below the root; hashed
 *              assets (assets/...) are cached for a year, the rest revalidated
 *
 * Anything else is 404; other methods 405. */
#ifndef BO_HTTP_H
#define BO_HTTP_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

struct bo_srv;

#define BO_HTTP_PATH_MAX 256 /* bytes of a request path we serve a file for */

/** At start: when --web-root is empty, look for the built page next to the binary
 * (<dir of the binary>/web, then <dir>/../share/bidopen/web; each needs an index.html) and
 * use it if found; log where the hall screen comes from.
 * Context: loop thread, before listening. */
void bo_http_setup(struct bo_srv *srv);

/** LWS_CALLBACK_HTTP: answer the request for path (lws gives it without the query).
 * Returns what the lws callback must return (-1 closes the connection).
 * Context: loop thread. */
int bo_http_request(struct bo_srv *srv, struct lws *wsi, const char *path);

/** Whether path is one we would serve from the web root: '/'-separated segments of
 * [A-Za-z0-9._-], none empty or starting with '.', at most BO_HTTP_PATH_MAX bytes.
 * Exposed for the unit test. Context: any thread. */
bool bo_http_path_ok(const char *path);

/** The Content-Type for a file name by its extension ("application/octet-stream" when
 * unknown). Context: any thread. */
const char *bo_http_mime(const char *name);

#endif
