/* bo-bench: bidopen's benchmarks (bench/README.md). One program, one subcommand per
 * benchmark driver and per load process; bench/run runs them all and writes the report. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bo/log.h"

typedef struct sub {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} sub;

static const sub subs[] = {
    {"pki", bn_cmd_pki, "write (or keep) the benchmark PKI"},
    {"signin", bn_cmd_signin, "1. sign-in burst (driver)"},
    {"signin-load", bn_cmd_signin_load, "load process of signin and memory"},
    {"fanout", bn_cmd_fanout, "2. live fan-out (driver)"},
    {"observe", bn_cmd_observe, "load process of fanout (observers, mirror clients)"},
    {"decrypt", bn_cmd_decrypt, "3. bulk decryption (driver)"},
    {"many", bn_cmd_many, "4. many bidders decrypting at once (driver)"},
    {"memory", bn_cmd_memory, "5. memory per idle connection (driver)"},
    {"opening", bn_cmd_opening, "6. a whole opening (driver)"},
};

int main(int argc, char **argv)
{
    bn_set_self(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    bo_log_setup(stderr, BO_LOG_WARN);
    if (argc >= 2)
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
            if (!strcmp(argv[1], subs[i].name))
                return subs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "usage: bo-bench COMMAND [options]\n");
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        fprintf(stderr, "  %-12s %s\n", subs[i].name, subs[i].help);
    return 1;
}
