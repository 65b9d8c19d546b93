/* bo_http's pure parts (which paths are served, MIME types) and bo_metrics' histogram and
 * log check. The requests themselves are tested end to end in tests/integration/test_ops.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bo_http.h"
#include "bo_metrics.h"

static void paths(void **state)
{
    (void)state;
    static const char *const ok[] = {"/index.html", "/assets/app-3F2A9.js", "/a/b/c.css",
                                     "/favicon.ico", "/x", "/a.b.c"};
    static const char *const bad[] = {
        "", "index.html", "/", "/..", "/../etc/passwd", "/assets/../../x", "/.env", "/a/.git/x",
        "//etc/passwd", "/a//b", "/a/", "/a b", "/a%2e%2e", "/a\\b", "/é", "/a?b", "/a:b",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (!bo_http_path_ok(ok[i]))
            fail_msg("refused %s", ok[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bo_http_path_ok(bad[i]))
            fail_msg("accepted %s", bad[i]);
    }
    assert_false(bo_http_path_ok(NULL));
    char longp[BO_HTTP_PATH_MAX + 2];
    longp[0] = '/';
    memset(longp + 1, 'a', BO_HTTP_PATH_MAX);
    longp[BO_HTTP_PATH_MAX + 1] = 0;
    assert_false(bo_http_path_ok(longp)); /* one byte over */
    longp[BO_HTTP_PATH_MAX] = 0;
    assert_true(bo_http_path_ok(longp)); /* at the cap */
}

static void mime(void **state)
{
    (void)state;
    assert_string_equal(bo_http_mime("/index.html"), "text/html; charset=utf-8");
    assert_string_equal(bo_http_mime("/assets/app-1.js"), "text/javascript; charset=utf-8");
    assert_string_equal(bo_http_mime("/assets/app-1.css"), "text/css; charset=utf-8");
    assert_string_equal(bo_http_mime("/f.woff2"), "font/woff2");
    assert_string_equal(bo_http_mime("/f.svg"), "image/svg+xml");
    assert_string_equal(bo_http_mime("/noext"), "application/octet-stream");
    assert_string_equal(bo_http_mime("/a.exe"), "application/octet-stream");
    assert_string_equal(bo_http_mime("/a.html.bak"), "application/octet-stream");
}

static void histogram(void **state)
{
    (void)state;
    bo_hist h;
    memset(&h, 0, sizeof(h));
    bo_metrics_observe(&h, -3);     /* counted as 0: first bucket */
    bo_metrics_observe(&h, 5);      /* on the bound: first bucket (le is inclusive) */
    bo_metrics_observe(&h, 6);      /* second */
    bo_metrics_observe(&h, 300000); /* last finite */
    bo_metrics_observe(&h, 300001); /* +Inf */
    assert_int_equal(h.bucket[0], 2);
    assert_int_equal(h.bucket[1], 1);
    assert_int_equal(h.bucket[BO_HIST_N - 1], 1);
    assert_int_equal(h.bucket[BO_HIST_N], 1);
    assert_int_equal(h.count, 5);
    assert_int_equal(h.sum_ms, 0 + 5 + 6 + 300000 + 300001);
}

/* Point stderr at fd for one check, then put it back. */
static bool writable_with(int fd, char *why, size_t n)
{
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    bool ok = bo_metrics_log_writable(why, n);
    dup2(saved, STDERR_FILENO);
    close(saved);
    return ok;
}

static void log_check(void **state)
{
    (void)state;
    char why[160];
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_WRONLY);
    assert_true(null >= 0);
    assert_true(writable_with(null, why, sizeof(why)));
    assert_string_equal(why, "");
    close(null);

    int ro = open("/dev/null", O_RDONLY);
    assert_false(writable_with(ro, why, sizeof(why)));
    assert_non_null(strstr(why, "not open for writing"));
    close(ro);

    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_true(writable_with(p[1], why, sizeof(why))); /* someone reads */
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    while (write(p[1], junk, sizeof(junk)) > 0)
        ;
    assert_false(writable_with(p[1], why, sizeof(why))); /* nobody does: full */
    assert_non_null(strstr(why, "full"));
    close(p[0]);
    assert_false(writable_with(p[1], why, sizeof(why))); /* the reader is gone */
    assert_non_null(strstr(why, "reader is gone"));
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        cmocka_unit_test(mime),
        cmocka_unit_test(histogram),
        cmocka_unit_test(log_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
