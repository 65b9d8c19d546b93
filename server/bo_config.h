/* bidopen-server: options, from the command line and from a configuration file.
 * One table (bo_config.c) defines every option: its name, type, default and help text; the
 * --help output, the sample configuration file and docs/operations.md's option list come
 * from it. */
#ifndef BO_CONFIG_H
#define BO_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bo/err.h"

typedef struct bo_config {
    char config[512];
    char listen[128];
    int64_t port;
    char port_file[512];
    char tls_cert[512];
    char tls_key[512];
    char trust[512];
    char uscc_attr[64];
    bool crl_required;
    char staff[512];
    char sign_key[512];
    char sign_key_pass[256];
    char sign_cert[512];
    char data[512];
    char vault[512];
    int64_t max_bid;
    char redis[512];
    bool allow_volatile_redis;
    char redis_server[512];
    char node[64];
    char log_level[16];
    int64_t max_conns;
    int64_t max_unauthed;
    int64_t accept_rate;
    int64_t accept_burst;
    int64_t msg_rate;
    int64_t msg_burst;
    int64_t max_frame;
    int64_t max_lag;
    int64_t max_lag_ms;
    int64_t sndbuf;
    char web_root[512];
    bool check_config;
    bool help;
    bool version;
} bo_config;

/** Defaults for every option. */
void bo_config_defaults(bo_config *c);

/** Parse argv (options as --name=value or --name value; booleans as --name or
 * --name=yes|no). A --config FILE is read first, then the other arguments override it.
 * Errors: BO_E_CONFIG with detail naming the option and the problem. */
bo_err bo_config_parse_args(bo_config *c, int argc, char **argv, char *detail, size_t n);

/** Read "name = value" lines (# comments) from a file. Errors: BO_E_CONFIG (detail names the
 * file, line and option), BO_E_IO. */
bo_err bo_config_load_file(bo_config *c, const char *path, char *detail, size_t n);

/** Check the options make sense together and that the files and directories they name exist
 * and are readable (does not parse certificates: main does that). Errors: BO_E_CONFIG. */
bo_err bo_config_validate(const bo_config *c, char *detail, size_t n);

/** Print the option list (--help) or a commented sample configuration file. */
void bo_config_print_help(FILE *out);
void bo_config_print_sample(FILE *out);

#endif
