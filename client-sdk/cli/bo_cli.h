/* bidopen CLI: command-line parsing (pure, tested by tests/unit/client/test_cli_args.c)
 * and the commands (bidopen.c). docs/cli.md is the manual. */
#ifndef BO_CLI_H
#define BO_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "bo/buf.h"

/* Exit codes (docs/cli.md). */
#define BO_EXIT_OK 0
#define BO_EXIT_USAGE 1
#define BO_EXIT_REFUSED 2
#define BO_EXIT_CONNECT 3
#define BO_EXIT_TIMEOUT 4
#define BO_EXIT_LOCAL 5

typedef enum bo_cli_cmd {
    BO_CMD_NONE = 0,
    BO_CMD_HELP,
    BO_CMD_VERSION,
    BO_CMD_PKI_INIT,
    BO_CMD_HOST_CREATE,
    BO_CMD_HOST_WATCH,
    BO_CMD_HOST_PAUSE,
    BO_CMD_HOST_RESUME,
    BO_CMD_HOST_FAIL,
    BO_CMD_BIDDER,
    BO_CMD_SITE,
    BO_CMD_OBSERVE,
    BO_CMD_BL_ADD,
    BO_CMD_BL_REMOVE,
    BO_CMD_BL_REPLACE,
    BO_CMD_BL_LIST,
    BO_CMD_LIST,
    /* sealed bids and remote decryption */
    BO_CMD_SEAL,
    BO_CMD_BIDDER_SUBMIT,
    BO_CMD_BIDDER_RECEIPT,
    BO_CMD_BIDDER_PREFLIGHT,
    BO_CMD_HOST_DECRYPT_START,
    BO_CMD_HOST_EXTEND,
    BO_CMD_HOST_CLASSIFY,
    /* announcement, draws, confirmation, the record (docs/protocol.md §11) */
    BO_CMD_HOST_ANNOUNCE,
    BO_CMD_HOST_DRAW,
    BO_CMD_HOST_BENCHMARK,
    BO_CMD_HOST_CONFIRM_OPEN,
    BO_CMD_HOST_ANSWER,
    BO_CMD_HOST_CLOSE,
    BO_CMD_BIDDER_CONFIRM,
    BO_CMD_BIDDER_OBJECT,
    BO_CMD_MESSAGE,
    /* exports and offline verification (docs/transcript.md) */
    BO_CMD_HOST_EXPORT,
    BO_CMD_VERIFY,
} bo_cli_cmd;

#define BO_CLI_MAX_SERVERS 16
#define BO_CLI_MAX_USCCS 64
#define BO_CLI_MAX_FORMS 32  /* --form key=value (the package's cap) */
#define BO_CLI_MAX_DOCS 256  /* --doc FILE */

typedef struct bo_cli_opts {
    bo_cli_cmd cmd;
    bool help; /* --help: print usage of cmd (or the overview) and exit 0 */
    /* common */
    const char *servers[BO_CLI_MAX_SERVERS];
    size_t n_servers;
    const char *ca, *cert, *key, *pass, *p12, *enc_cert, *role;
    bool json, quiet;
    double timeout_s; /* 0: none */
    int retries;      /* -1: the command's default */
    /* per command */
    const char *oid, *tender, *reason, *file, *name, *source, *until, *dir;
    const char *usccs[BO_CLI_MAX_USCCS];
    size_t n_usccs;
    bool watch, do_register, do_signin;
    /* sealed bids and remote decryption */
    const char *forms[BO_CLI_MAX_FORMS]; /* "key=value" */
    size_t n_forms;
    const char *docs[BO_CLI_MAX_DOCS];
    size_t n_docs;
    const char *out, *bid, *record, *enc_key, *enc_pass, *store, *outcome;
    bool cbc, rsa_pkcs1, package_only, decrypt;
    unsigned window_s; /* 0: the tender's (decrypt-start) or the server's (confirm-open) */
    unsigned seconds;
    /* announcement, draws, confirmation (§11) */
    bool all;                /* host announce --all */
    const char *draw_id;     /* host draw --draw ID */
    unsigned long long objection; /* host answer --objection N (>= 1) */
    const char *text;        /* --text: answer, objection, message */
    bool confirm;            /* bidder --confirm; set by bidder confirm */
    const char *object_text; /* bidder --object TEXT; set by bidder object --text */
    /* host export, verify (bo_cli_export.c) */
    const char *format;     /* host export --format */
    const char *all_dir;    /* host export --all DIR */
    const char *transcript; /* verify TRANSCRIPT */
    const char *trust, *server_key, *host_cert, *uscc_attr; /* verify */
    bool require_crl;
} bo_cli_opts;

/** Parse argv (argv[0] is the program). Returns BO_EXIT_OK with *o filled (o->help set
 * when --help was asked or no command was given), or BO_EXIT_USAGE with a one-line reason
 * in msg. Pure: no I/O. */
int bo_cli_parse(int argc, char *const *argv, bo_cli_opts *o, bo_buf *msg);

/** The usage text of a command (BO_CMD_NONE/HELP: the overview). Never NULL. */
const char *bo_cli_usage(bo_cli_cmd cmd);

/** "host create", "bidder", ... Never NULL. */
const char *bo_cli_cmd_name(bo_cli_cmd cmd);

/** Whether the phase name is one of the opening's phases. */
bool bo_cli_phase_known(const char *phase);

/** Run a parsed command. Returns the exit code. */
int bo_cli_run(const bo_cli_opts *o);

#endif
