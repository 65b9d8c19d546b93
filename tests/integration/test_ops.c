/* Running bidopen in production, end to end against the real server: /healthz follows
 * Redis (SIGSTOP, then SIGKILL of the managed redis-server, which the supervisor restarts)
 * and recovers; /metrics is valid Prometheus text and its numbers move during an opening;
 * the hall screen's files are served from --web-root with their types and cache headers,
 * and nothing outside it is. HTTPS requests go through curl (scripts/deps installs it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo_itest.h"

static bo_world W;
static char webroot[512];

/* ---------- HTTPS through curl ---------- */

typedef struct http_res {
    int status;
    char *body;
    char *headers;
} http_res;

static void http_free(http_res *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

static http_res http_get(const char *path)
{
    char ca[600], bodyf[600], hdrf[600], cmd[2400];
    bo_h_path(ca, W.pki, "server/ca.pem");
    bo_h_path(bodyf, W.dir, "http-body");
    bo_h_path(hdrf, W.dir, "http-headers");
    snprintf(cmd, sizeof(cmd),
             "curl -sS --path-as-is --max-time 10 --cacert '%s' -o '%s' -D '%s' "
             "-w '%%{http_code}' 'https://127.0.0.1:%d%s'",
             ca, bodyf, hdrf, W.srv.port, path);
    http_res r = {0};
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char code[16] = "";
    if (!fgets(code, sizeof(code), f))
        code[0] = 0;
    pclose(f);
    r.status = atoi(code);
    r.body = bo_h_read_file(bodyf, NULL);
    r.headers = bo_h_read_file(hdrf, NULL);
    if (!r.body)
        r.body = strdup("");
    if (!r.headers)
        r.headers = strdup("");
    for (char *p = r.headers; *p; p++) /* header names are case-insensitive */
        *p = (char)tolower((unsigned char)*p);
    return r;
}

/* ---------- a Prometheus text-format checker (exposition format 0.0.4) ---------- */

#define MAX_FAMILIES 64

typedef struct prom {
    char fam[MAX_FAMILIES][96];
    char type[MAX_FAMILIES][16];
    size_t n_fam;
    size_t samples;
} prom;

static bool name_ok(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return false;
    return true;
}

static int family_of(const prom *p, const char *name, size_t n)
{
    for (size_t i = 0; i < p->n_fam; i++) {
        size_t fl = strlen(p->fam[i]);
        if (n == fl && !memcmp(name, p->fam[i], n))
            return (int)i;
        /* histogram series: <fam>_bucket, _sum, _count */
        if (!strcmp(p->type[i], "histogram") && n > fl && !memcmp(name, p->fam[i], fl) &&
            (!strncmp(name + fl, "_bucket", n - fl) || !strncmp(name + fl, "_sum", n - fl) ||
             !strncmp(name + fl, "_count", n - fl)) &&
            (n - fl == 7 || n - fl == 4 || n - fl == 6))
            return (int)i;
    }
    return -1;
}

/* Checks every line; fails the test with the line on the first error. */
static void prom_check(const char *text, prom *p)
{
    memset(p, 0, sizeof(*p));
    const char *line = text;
    size_t lineno = 0;
    assert_true(strlen(text) > 0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    while (*line) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        size_t len = (size_t)(eol - line);
        char l[2048];
        assert_true(len < sizeof(l));
        memcpy(l, line, len);
        l[len] = 0;
        lineno++;
        if (l[0] == '#') {
            char kw[8], name[96], rest[1024];
            if (sscanf(l, "# %7s %95s %1023[^\n]", kw, name, rest) < 3)
                fail_msg("line %zu: bad comment: %s", lineno, l);
            if (!strcmp(kw, "TYPE")) {
                if (!name_ok(name, strlen(name)))
                    fail_msg("line %zu: bad metric name: %s", lineno, l);
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") &&
                    strcmp(rest, "histogram") && strcmp(rest, "summary") && strcmp(rest, "untyped"))
                    fail_msg("line %zu: bad type: %s", lineno, l);
                if (family_of(p, name, strlen(name)) >= 0)
                    fail_msg("line %zu: TYPE given twice: %s", lineno, l);
                assert_true(p->n_fam < MAX_FAMILIES);
                memcpy(p->fam[p->n_fam], name, sizeof(name));
                snprintf(p->type[p->n_fam], sizeof(p->type[0]), "%.15s", rest);
                p->n_fam++;
            } else if (strcmp(kw, "HELP")) {
                fail_msg("line %zu: comment neither HELP nor TYPE: %s", lineno, l);
            }
        } else {
            /* name{label="value",...} value */
            size_t i = 0;
            while (l[i] && l[i] != '{' && l[i] != ' ')
                i++;
            if (!name_ok(l, i))
                fail_msg("line %zu: bad sample name: %s", lineno, l);
            if (family_of(p, l, i) < 0)
                fail_msg("line %zu: sample before its TYPE: %s", lineno, l);
            if (l[i] == '{') {
                i++;
                while (l[i] != '}') {
                    size_t s = i;
                    while (l[i] && l[i] != '=')
                        i++;
                    if (!name_ok(l + s, i - s) || l[i] != '=' || l[i + 1] != '"')
                        fail_msg("line %zu: bad label: %s", lineno, l);
                    i += 2;
                    while (l[i] && l[i] != '"') {
                        if (l[i] == '\\') {
                            if (l[i + 1] != '\\' && l[i + 1] != '"' && l[i + 1] != 'n')
                                fail_msg("line %zu: bad escape: %s", lineno, l);
                            i++;
                        }
                        i++;
                    }
                    if (l[i] != '"')
                        fail_msg("line %zu: unterminated label value: %s", lineno, l);
                    i++;
                    if (l[i] == ',')
                        i++;
                    else if (l[i] != '}')
                        fail_msg("line %zu: bad label list: %s", lineno, l);
                }
                i++;
            }
            if (l[i] != ' ')
                fail_msg("line %zu: no value: %s", lineno, l);
            const char *v = l + i + 1;
            char *end;
            double d = strtod(v, &end);
            (void)d;
            if (end == v || (*end && *end != ' '))
                fail_msg("line %zu: bad value: %s", lineno, l);
            p->samples++;
        }
        line = eol + 1;
    }
    assert_true(p->samples > 10);
}

/* The value of one sample line "series value" (series with its labels), -1 if absent. */
static double prom_value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, series, n) && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    return -1;
}

/* Histogram buckets are cumulative and end at +Inf = _count. */
static void prom_hist_ok(const char *text, const char *fam)
{
    char pfx[128];
    snprintf(pfx, sizeof(pfx), "%s_bucket{le=\"", fam);
    double last = 0;
    size_t buckets = 0;
    for (const char *l = strstr(text, pfx); l; l = strstr(l + 1, pfx)) {
        const char *sp = strchr(l, ' ');
        double v = strtod(sp + 1, NULL);
        assert_true(v >= last);
        last = v;
        buckets++;
    }
    assert_true(buckets >= 2);
    char inf[160], cnt[160];
    snprintf(inf, sizeof(inf), "%s_bucket{le=\"+Inf\"}", fam);
    snprintf(cnt, sizeof(cnt), "%s_count", fam);
    assert_true(prom_value(text, inf) == prom_value(text, cnt));
}

static http_res metrics_checked(prom *p)
{
    http_res r = http_get("/metrics");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "content-type: text/plain; version=0.0.4"));
    prom_check(r.body, p);
    prom_hist_ok(r.body, "bidopen_signin_seconds");
    prom_hist_ok(r.body, "bidopen_decrypt_seconds");
    return r;
}

/* ---------- tests ---------- */

/* An opening with three bidders signing in moves the counters; the gauges see them. */
static void metrics_move(void **state)
{
    (void)state;
    prom p;
    http_res before = metrics_checked(&p);
    assert_true(p.n_fam >= 15);
    double appended0 = prom_value(before.body, "bidopen_events_appended_total");
    double frames0 = prom_value(before.body, "bidopen_frames_written_total");
    double signins0 = prom_value(before.body, "bidopen_signin_seconds_count");
    assert_true(appended0 >= 0 && frames0 >= 0 && signins0 >= 0);
    assert_true(prom_value(before.body, "bidopen_redis_up") == 1);
    assert_true(prom_value(before.body, "bidopen_log_writable") == 1);
    assert_true(prom_value(before.body, "bidopen_worker_jobs{kind=\"auth\"}") == 0);
    http_free(&before);

    char oid[65];
    tc *host = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, host));
    assert_true(bo_world_create(&W, host, "T-metrics", 1500, 120000, "", oid));
    static const char *names[] = {"b1-rsa", "b2-p256", "b3-sm2"};
    tc *b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = bo_world_bidder(&W, names[i], true, oid);
        assert_true(bo_world_connect(&W, b[i]));
        assert_int_equal(bo_world_register(&W, b[i]), BO_E_OK);
    }
    assert_true(tc_wait_event(&W.loop, b[0], "phase_changed", 10000));
    for (int i = 0; i < 3; i++)
        assert_int_equal(bo_world_signin(&W, b[i]), BO_E_OK);
    bo_world_run(&W, 300);

    http_res after = metrics_checked(&p);
    double appended1 = prom_value(after.body, "bidopen_events_appended_total");
    /* created + head, 3 registrations and tallies, checkin, 3 sign-ins and tallies */
    if (!(appended1 >= appended0 + 12))
        fail_msg("events appended %g -> %g", appended0, appended1);
    assert_true(prom_value(after.body, "bidopen_frames_written_total") > frames0);
    assert_true(prom_value(after.body, "bidopen_signin_seconds_count") == signins0 + 3);
    assert_true(prom_value(after.body, "bidopen_signin_seconds_sum") > 0);
    assert_true(prom_value(after.body, "bidopen_connections{role=\"bidder\"}") == 3);
    assert_true(prom_value(after.body, "bidopen_connections{role=\"host\"}") >= 1);
    assert_true(prom_value(after.body, "bidopen_openings{phase=\"checkin\"}") >= 1);
    assert_true(prom_value(after.body, "bidopen_requests_total{result=\"ok\"}") >= 8);
    assert_true(prom_value(after.body, "bidopen_redis_rtt_seconds") > 0);
    assert_true(prom_value(after.body, "bidopen_fanout_lag_events") >= 0);
    assert_non_null(strstr(after.body, "bidopen_info{version=\"0.1.0\",node=\""));
    http_free(&after);
    for (int i = 0; i < 3; i++)
        tc_free(b[i]);
    tc_free(host);
}

static http_res health_until(int want, int timeout_ms)
{
    http_res r = {0};
    for (int waited = 0;; waited += 250) {
        http_free(&r);
        r = http_get("/healthz");
        if (r.status == want || waited >= timeout_ms)
            return r;
        usleep(250 * 1000);
    }
}

static pid_t redis_pid(void)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/data/redis.pid", W.srv.dir);
    char *s = bo_h_read_file(path, NULL);
    assert_non_null(s);
    pid_t pid = (pid_t)atoi(s);
    free(s);
    assert_true(pid > 1);
    return pid;
}

/* /healthz is 200 only while Redis answers: a stopped Redis, a killed one (restarted by the
 * supervisor) each flip it to 503 and back. */
static void healthz_follows_redis(void **state)
{
    (void)state;
    http_res r = http_get("/healthz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    assert_non_null(strstr(r.headers, "cache-control: no-store"));
    http_free(&r);

    pid_t pid = redis_pid();
    assert_int_equal(kill(pid, SIGSTOP), 0);
    r = health_until(503, 15000);
    kill(pid, SIGCONT);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "store unavailable\n");
    http_free(&r);
    r = health_until(200, 20000);
    assert_int_equal(r.status, 200);
    http_free(&r);
    /* the metric says the same */
    prom p;
    r = metrics_checked(&p);
    assert_true(prom_value(r.body, "bidopen_redis_up") == 1);
    http_free(&r);

    assert_int_equal(kill(pid, SIGKILL), 0);
    r = health_until(503, 10000);
    assert_int_equal(r.status, 503);
    http_free(&r);
    r = health_until(200, 30000);
    assert_int_equal(r.status, 200);
    http_free(&r);
    assert_true(redis_pid() != pid); /* a new redis-server */
}

/* The hall screen's files: index at /, types, cache headers, security headers; nothing
 * outside the web root, no hidden files, no directory listings; only GET. */
static void static_files(void **state)
{
    (void)state;
    http_res r = http_get("/");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "<!doctype html><title>hall</title>\n");
    assert_non_null(strstr(r.headers, "content-type: text/html; charset=utf-8"));
    assert_non_null(strstr(r.headers, "cache-control: no-cache"));
    assert_non_null(strstr(r.headers, "x-content-type-options: nosniff"));
    assert_non_null(strstr(r.headers, "content-security-policy: default-src 'self'"));
    http_free(&r);

    r = http_get("/assets/app-ABC123.js");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "console.log(1)\n");
    assert_non_null(strstr(r.headers, "content-type: text/javascript; charset=utf-8"));
    assert_non_null(strstr(r.headers, "cache-control: public, max-age=31536000, immutable"));
    http_free(&r);

    r = http_get("/assets/app-ABC123.css");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "content-type: text/css; charset=utf-8"));
    http_free(&r);

    static const char *const refused[] = {
        "/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/.hidden",
        "/assets", "/assets/", "//etc/passwd", "/nope.html", "/index.html/x",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        r = http_get(refused[i]);
        if (r.status != 404 && r.status != 400 && r.status != 403)
            fail_msg("%s: status %d", refused[i], r.status);
        if (strstr(r.body, "TOP SECRET") || strstr(r.body, "root:"))
            fail_msg("%s: served something it must not", refused[i]);
        http_free(&r);
    }

    /* other methods */
    char ca[600], cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "curl -sS -o /dev/null -w '%%{http_code}' -X POST --data x --cacert '%s' "
             "'https://127.0.0.1:%d/'",
             bo_h_path(ca, W.pki, "server/ca.pem"), W.srv.port);
    FILE *f = popen(cmd, "r");
    char code[16] = "";
    assert_non_null(fgets(code, sizeof(code), f));
    pclose(f);
    assert_string_equal(code, "405");
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    /* a web root with a page, hashed assets and a dot file, and a secret beside it */
    bo_h_tmpdir("ops-web", webroot);
    char root[600];
    snprintf(root, sizeof(root), "%s/root", webroot);
    mkdir(root, 0700);
    char assets[700];
    snprintf(assets, sizeof(assets), "%s/assets", root);
    mkdir(assets, 0700);
    write_file(root, "index.html", "<!doctype html><title>hall</title>\n");
    write_file(root, ".hidden", "TOP SECRET\n");
    write_file(assets, "app-ABC123.js", "console.log(1)\n");
    write_file(assets, "app-ABC123.css", "body{}\n");
    write_file(webroot, "secret.txt", "TOP SECRET\n");
    const char *args[] = {"--web-root", root, NULL};
    bo_world_up(&W, "ops", args);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_world_down(&W);
    bo_h_rmtree(webroot);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(static_files),
        cmocka_unit_test(metrics_move),
        cmocka_unit_test(healthz_follows_redis),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
