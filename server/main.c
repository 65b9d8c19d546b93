/* bidopen-server: remote bid openings over WebSocket/TLS. See docs/operations.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libwebsockets.h>

#include "bo/log.h"
#include "bo_config.h"
#include "bo_server.h"

static void lws_log_to_ours(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    bo_log(level == LLL_ERR ? BO_LOG_ERROR : BO_LOG_WARN, "lws", NULL, 0, BO_E_OK, "%.*s", (int)n,
           line);
}

/* Up to the hard limit, but not past BO_SRV_FD_TABLE_MAX: libwebsockets sizes its
 * descriptor tables by the soft limit (bo_server.c). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
        rl.rlim_cur < BO_SRV_FD_TABLE_MAX) {
        rl.rlim_cur = rl.rlim_max < BO_SRV_FD_TABLE_MAX ? rl.rlim_max : BO_SRV_FD_TABLE_MAX;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    bo_config cfg;
    char detail[512] = "";
    bo_config_defaults(&cfg);
    if (bo_config_parse_args(&cfg, argc, argv, detail, sizeof(detail))) {
        fprintf(stderr, "bidopen-server: %s\n", detail);
        return 2;
    }
    if (cfg.help) {
        bo_config_print_help(stdout);
        return 0;
    }
    if (cfg.version) {
        printf("bidopen-server 0.1.0 (protocol bidopen.v1)\n");
        return 0;
    }
    bo_log_level level = BO_LOG_INFO;
    bo_log_level_parse(cfg.log_level, &level);
    bo_log_setup(stderr, level);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_ours);

    if (cfg.check_config) {
        bo_err err = bo_srv_check(&cfg, detail, sizeof(detail));
        if (err) {
            fprintf(stderr, "bidopen-server: configuration refused: %s\n", detail);
            return 2;
        }
        printf("configuration ok\n");
        return 0;
    }
    if (bo_config_validate(&cfg, detail, sizeof(detail))) {
        fprintf(stderr, "bidopen-server: %s\n", detail);
        return 2;
    }
    raise_fd_limit();
    /* The worker pool verifies signatures and opens bids: more than libuv's default 4. */
    setenv("UV_THREADPOOL_SIZE", "8", 0);

    uv_loop_t loop;
    uv_loop_init(&loop);
    bo_err err;
    bo_srv *srv = bo_srv_start(&loop, &cfg, &err, detail, sizeof(detail));
    int code;
    if (!srv) {
        fprintf(stderr, "bidopen-server: cannot start: %s (%s)\n", detail, bo_err_name(err));
        uv_run(&loop, UV_RUN_DEFAULT);
        code = 1;
    } else {
        uv_run(&loop, UV_RUN_DEFAULT);
        if (bo_srv_finish(srv))
            uv_run(&loop, UV_RUN_DEFAULT);
        code = bo_srv_free(srv);
    }
    if (uv_loop_close(&loop) != 0) {
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    bo_log(BO_LOG_INFO, "server", NULL, 0, BO_E_OK, "stopped");
    return code;
}
