/* bidopen integration: bo_redis_sup starts, adopts, restarts and stops a real redis-server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bo/log.h"
#include "bo_redis_sup.h"
#include "redis_fixture.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define RUN_UNTIL(t, cond, ms)                                                                     \
    __extension__({                                                                                \
        int64_t _dl = mono_ms() + (ms);                                                            \
        while (!(cond) && mono_ms() < _dl)                                                         \
            uv_run(&(t)->loop, UV_RUN_ONCE);                                                       \
        (cond);                                                                                    \
    })

typedef struct tctx {
    uv_loop_t loop;
    uv_timer_t ticker;
    char dir[128];
    char sock[200];
    int readies;
    char ready_path[200];
    bool stopped;
    int pids[8]; /* every Redis pid seen, killed at teardown in case a test failed */
    int npids;
} tctx;

static void noop_timer(uv_timer_t *h)
{
    (void)h;
}

static void on_ready(void *ud, const char *path)
{
    tctx *t = ud;
    t->readies++;
    snprintf(t->ready_path, sizeof(t->ready_path), "%s", path);
}

static void on_stopped(void *ud)
{
    ((tctx *)ud)->stopped = true;
}

static void remember(tctx *t, int pid)
{
    if (pid > 0 && t->npids < 8)
        t->pids[t->npids++] = pid;
}

static bool alive(int pid)
{
    return kill(pid, 0) == 0;
}

static int setup(void **state)
{
    tctx *t = calloc(1, sizeof(*t));
    if (!t || bo_test_tmpdir(t->dir, sizeof(t->dir)) != 0) {
        free(t);
        return -1;
    }
    snprintf(t->sock, sizeof(t->sock), "%s/redis.sock", t->dir);
    uv_loop_init(&t->loop);
    uv_timer_init(&t->loop, &t->ticker);
    uv_timer_start(&t->ticker, noop_timer, 5, 5);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tctx *t = *state;
    for (int i = 0; i < t->npids; i++)
        if (alive(t->pids[i])) {
            kill(t->pids[i], SIGCONT);
            kill(t->pids[i], SIGKILL);
            waitpid(t->pids[i], NULL, 0);
        }
    uv_close((uv_handle_t *)&t->ticker, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&t->loop);
    if (rc != 0)
        fprintf(stderr, "uv_loop_close: %s (a handle was left open)\n", uv_strerror(rc));
    bo_test_rmtree(t->dir);
    free(t);
    return rc == 0 ? 0 : -1;
}

static bo_redis_sup *start(tctx *t)
{
    bo_err err = BO_E_INTERNAL;
    bo_redis_sup *s = bo_redis_sup_start(&t->loop, t->dir, getenv("BO_REDIS_SERVER"), on_ready, t,
                                         &err);
    assert_int_equal(err, BO_E_OK);
    assert_non_null(s);
    return s;
}

static void stop(tctx *t, bo_redis_sup *s, bool stop_redis)
{
    t->stopped = false;
    bo_redis_sup_stop(s, stop_redis, on_stopped, t);
    assert_true(RUN_UNTIL(t, t->stopped, 20000));
}

static void cmd(tctx *t, const char *c, const char *want_prefix)
{
    char out[256];
    assert_true(bo_test_redis_cmd(t->sock, c, out, sizeof(out), 2000) > 0);
    if (strncmp(out, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("%s: got %s, want %s...", c, out, want_prefix);
}

/* Starts, is configured as promised, keeps data across stop/start, and stop leaves nothing. */
static void test_start_stop_and_data_survives(void **state)
{
    tctx *t = *state;
    bo_redis_sup *s = start(t);
    assert_true(RUN_UNTIL(t, t->readies == 1, 10000));
    assert_string_equal(t->ready_path, t->sock);
    assert_true(bo_redis_sup_ready(s));
    int pid = bo_redis_sup_pid(s);
    assert_true(pid > 0);
    remember(t, pid);

    struct stat st;
    assert_int_equal(stat(t->sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    cmd(t, "CONFIG GET appendonly", "*2\r\n$10\r\nappendonly\r\n$3\r\nyes");
    cmd(t, "CONFIG GET appendfsync", "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways");
    cmd(t, "CONFIG GET port", "*2\r\n$4\r\nport\r\n$1\r\n0");
    cmd(t, "SET bo:test kept", "+OK");

    stop(t, s, true);
    assert_false(alive(pid));
    assert_int_equal(t->readies, 1);

    bo_redis_sup *s2 = start(t);
    assert_true(RUN_UNTIL(t, t->readies == 2, 10000));
    int pid2 = bo_redis_sup_pid(s2);
    remember(t, pid2);
    assert_true(pid2 > 0);
    cmd(t, "GET bo:test", "$4\r\nkept");
    stop(t, s2, true);
    assert_false(alive(pid2));
}

/* Dropped without stopping Redis (as after kill -9 of the server): the next start adopts it;
 * when the adopted one goes away a child replaces it. */
static void test_adopt_then_replace(void **state)
{
    tctx *t = *state;
    bo_redis_sup *s = start(t);
    assert_true(RUN_UNTIL(t, t->readies == 1, 10000));
    int pid = bo_redis_sup_pid(s);
    remember(t, pid);
    cmd(t, "SET bo:adopt 1", "+OK");
    stop(t, s, false);
    assert_true(alive(pid));
    cmd(t, "PING", "+PONG");

    bo_redis_sup *s2 = start(t);
    assert_true(RUN_UNTIL(t, t->readies == 2, 10000));
    assert_int_equal(bo_redis_sup_pid(s2), pid); /* the same process: adopted, not doubled */

    /* the adopted Redis dies (it is still our child here, so reap it like init would) */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_true(RUN_UNTIL(t, bo_redis_sup_ready(s2) && bo_redis_sup_pid(s2) != pid &&
                                 bo_redis_sup_pid(s2) > 0,
                          10000));
    int pid2 = bo_redis_sup_pid(s2);
    remember(t, pid2);
    assert_int_equal(t->readies, 2); /* on_ready runs once per supervisor */
    cmd(t, "GET bo:adopt", "$1\r\n1");
    stop(t, s2, true);
    assert_false(alive(pid2));
}

/* The child is killed: the supervisor restarts it, and the AOF brings the data back. */
static void test_restart_after_sigkill(void **state)
{
    tctx *t = *state;
    bo_redis_sup *s = start(t);
    assert_true(RUN_UNTIL(t, t->readies == 1, 10000));
    int pid = bo_redis_sup_pid(s);
    remember(t, pid);
    cmd(t, "SET bo:crash survived", "+OK");
    kill(pid, SIGKILL);
    assert_true(RUN_UNTIL(t, bo_redis_sup_pid(s) != pid, 5000));
    assert_true(RUN_UNTIL(t, bo_redis_sup_ready(s) && bo_redis_sup_pid(s) > 0, 10000));
    int pid2 = bo_redis_sup_pid(s);
    remember(t, pid2);
    assert_false(alive(pid));
    cmd(t, "GET bo:crash", "$8\r\nsurvived");
    stop(t, s, true);
    assert_false(alive(pid2));
}

/* A Redis of this data dir that runs but does not answer is waited for, never doubled. */
static void test_hung_redis_is_not_doubled(void **state)
{
    tctx *t = *state;
    bo_redis_sup *s = start(t);
    assert_true(RUN_UNTIL(t, t->readies == 1, 10000));
    int pid = bo_redis_sup_pid(s);
    remember(t, pid);
    stop(t, s, false);
    kill(pid, SIGSTOP);

    bo_redis_sup *s2 = start(t);
    RUN_UNTIL(t, false, 2200); /* longer than a probe timeout */
    assert_int_equal(t->readies, 1);
    assert_false(bo_redis_sup_ready(s2));
    assert_int_equal(bo_redis_sup_pid(s2), 0); /* nothing spawned */
    kill(pid, SIGCONT);
    assert_true(RUN_UNTIL(t, t->readies == 2, 10000));
    assert_int_equal(bo_redis_sup_pid(s2), pid);
    stop(t, s2, true); /* stops the adopted one too */
    waitpid(pid, NULL, 0);
    assert_false(alive(pid));
}

static void test_bad_config(void **state)
{
    tctx *t = *state;
    bo_err err = BO_E_OK;
    assert_null(bo_redis_sup_start(&t->loop, t->dir, "/nonexistent/redis-server", on_ready, t,
                                   &err));
    assert_int_equal(err, BO_E_CONFIG);
    char longdir[400];
    snprintf(longdir, sizeof(longdir), "%s/%0120d", t->dir, 0);
    err = BO_E_OK;
    assert_null(bo_redis_sup_start(&t->loop, longdir, NULL, on_ready, t, &err));
    assert_int_equal(err, BO_E_CONFIG);
    rmdir(longdir);
}

int main(void)
{
    bo_log_setup(stderr, BO_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_stop_and_data_survives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_then_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hung_redis_is_not_doubled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
