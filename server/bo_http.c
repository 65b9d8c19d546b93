/* bidopen-server: plain HTTPS on the TLS port: /healthz, /metrics and the hall screen's
 * files (bo_http.h). */
#include "bo_http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/log.h"
#include "bo_metrics.h"
#include "bo_server_internal.h"

#define METRICS_MAX (1u << 20)

/* Every answer carries these: the page needs nothing from elsewhere. */
static const char *const sec_headers[][2] = {
    {"x-content-type-options:", "nosniff"},
    {"referrer-policy:", "no-referrer"},
    {"x-frame-options:", "DENY"},
    {"content-security-policy:",
     "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
     "script-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
     "form-action 'none'"},
};

static int add_headers(struct lws *wsi, const char *cache, uint8_t **p, uint8_t *end)
{
    for (size_t i = 0; i < sizeof(sec_headers) / sizeof(sec_headers[0]); i++)
        if (lws_add_http_header_by_name(wsi, (const uint8_t *)sec_headers[i][0],
                                        (const uint8_t *)sec_headers[i][1],
                                        (int)strlen(sec_headers[i][1]), p, end))
            return 1;
    return lws_add_http_header_by_name(wsi, (const uint8_t *)"cache-control:",
                                       (const uint8_t *)cache, (int)strlen(cache), p, end);
}

/* A whole answer from memory: headers, then the body in one write. */
static int reply(struct lws *wsi, unsigned status, const char *ctype, const void *body,
                 size_t len)
{
    uint8_t hdr[LWS_PRE + 2048];
    uint8_t *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)len, &p, end) ||
        add_headers(wsi, "no-store", &p, end) || lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (len) {
        uint8_t *b = malloc(LWS_PRE + len);
        if (!b)
            return -1;
        memcpy(b + LWS_PRE, body, len);
        int n = lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
        free(b);
        if (n < 0)
            return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int reply_text(struct lws *wsi, unsigned status, const char *text)
{
    return reply(wsi, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* ---------- /healthz, /metrics ---------- */

static int healthz(bo_srv *srv, struct lws *wsi)
{
    char why[160];
    if (srv->stopping)
        return reply_text(wsi, 503, "shutting down\n");
    if (!srv->store || !bo_store_up(srv->store))
        return reply_text(wsi, 503, "store unavailable\n");
    if (!bo_metrics_log_writable(why, sizeof(why))) {
        char msg[200];
        snprintf(msg, sizeof(msg), "log not writable: %s\n", why);
        return reply_text(wsi, 503, msg);
    }
    return reply_text(wsi, 200, "ok\n");
}

/* /metrics counts bidders' connections and sign-ins: before a deadline that number is
 * secret (招标投标法 §22), so only this machine may read it. */
static bool peer_is_loopback(struct lws *wsi)
{
    char peer[64] = "";
    lws_get_peer_simple(wsi, peer, sizeof(peer));
    return !strncmp(peer, "127.", 4) || !strcmp(peer, "::1") || !strncmp(peer, "::ffff:127.", 11);
}

static int metrics(bo_srv *srv, struct lws *wsi)
{
    if (!peer_is_loopback(wsi))
        return reply_text(wsi, 403, "metrics are served to this machine only\n");
    bo_buf b;
    bo_buf_init(&b, METRICS_MAX);
    bo_err err = bo_metrics_render(srv, &b);
    int rc = err ? reply_text(wsi, 500, "cannot render the metrics\n")
                 : reply(wsi, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    bo_buf_cleanup(&b);
    return rc;
}

/* ---------- the hall screen's files ---------- */

bool bo_http_path_ok(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (!n || n > BO_HTTP_PATH_MAX || path[0] != '/')
        return false;
    bool seg_start = true;
    for (size_t i = 1; i < n; i++) {
        char ch = path[i];
        if (ch == '/') {
            if (seg_start)
                return false; /* empty segment: "//" */
            seg_start = true;
            continue;
        }
        if (seg_start && ch == '.')
            return false; /* ".", "..", hidden files */
        seg_start = false;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return !seg_start; /* no trailing '/' */
}

const char *bo_http_mime(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (!strcmp(dot, types[i][0]))
                return types[i][1];
    return "application/octet-stream";
}

static int serve_file(bo_srv *srv, struct lws *wsi, const char *path)
{
    if (!srv->cfg.web_root[0])
        return reply_text(wsi, 404, "not found (this server has no --web-root)\n");
    const char *rel = strcmp(path, "/") ? path : "/index.html";
    if (!bo_http_path_ok(rel))
        return reply_text(wsi, 404, "not found\n");
    char file[sizeof(srv->cfg.web_root) + BO_HTTP_PATH_MAX + 2];
    snprintf(file, sizeof(file), "%s%s", srv->cfg.web_root, rel);
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
        return reply_text(wsi, 404, "not found\n");
    /* esbuild names assets by their content hash: they never change under a name */
    bool immutable = !strncmp(rel, "/assets/", 8);
    uint8_t hdr[LWS_PRE + 1024];
    uint8_t *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (add_headers(wsi, immutable ? "public, max-age=31536000, immutable" : "no-cache", &p, end))
        return -1;
    int n = lws_serve_http_file(wsi, file, bo_http_mime(rel), (const char *)start,
                                (int)(p - start));
    if (n < 0)
        return -1;
    return n > 0 && lws_http_transaction_completed(wsi) ? -1 : 0;
}

int bo_http_request(bo_srv *srv, struct lws *wsi, const char *path)
{
    srv->m.http_requests++;
    char *uri = NULL;
    int ulen = 0;
    int meth = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    if (meth != LWSHUMETH_GET)
        return reply_text(wsi, 405, "method not allowed\n");
    if (!path)
        return reply_text(wsi, 404, "not found\n");
    if (!strcmp(path, "/healthz"))
        return healthz(srv, wsi);
    if (!strcmp(path, "/metrics"))
        return metrics(srv, wsi);
    return serve_file(srv, wsi, path);
}

/* ---------- start-up ---------- */

static bool has_index(const char *dir)
{
    char f[PATH_MAX + 16];
    struct stat st;
    int len = snprintf(f, sizeof(f), "%s/index.html", dir);
    return len > 0 && (size_t)len < sizeof(f) && stat(f, &st) == 0 && S_ISREG(st.st_mode);
}

void bo_http_setup(bo_srv *srv)
{
    char *root = srv->cfg.web_root;
    size_t cap = sizeof(srv->cfg.web_root);
    if (!root[0]) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
            exe[n] = 0;
            char *slash = strrchr(exe, '/');
            if (slash)
                *slash = 0;
            char cand[PATH_MAX + 32];
            snprintf(cand, sizeof(cand), "%s/web", exe);
            if (!has_index(cand))
                snprintf(cand, sizeof(cand), "%s/../share/bidopen/web", exe);
            size_t cl = strlen(cand);
            if (has_index(cand) && cl < cap)
                memcpy(root, cand, cl + 1);
        }
    }
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = 0;
    if (!root[0])
        bo_log(BO_LOG_INFO, "http", NULL, 0, BO_E_OK,
               "no hall screen: no --web-root and no built page next to the binary");
    else if (!has_index(root))
        bo_log(BO_LOG_WARN, "http", NULL, 0, BO_E_OK,
               "web root %s has no index.html: the hall screen will be 404 (run scripts/web-build)",
               root);
    else
        bo_log(BO_LOG_INFO, "http", NULL, 0, BO_E_OK, "hall screen served from %s", root);
}
