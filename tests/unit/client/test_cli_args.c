#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bo_cli.h"

#define S "--server", "wss://localhost:8443/ws"
#define C "--cert", "c.pem", "--key", "k.pem"

static int parse_v(bo_cli_opts *o, bo_buf *msg, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    bo_buf_reset(msg);
    return bo_cli_parse(argc, (char *const *)argv, o, msg);
}

#define PARSE(o, msg, ...) parse_v(o, msg, (const char *const[]){"bidopen", __VA_ARGS__, NULL})

static void help_everywhere(void **state)
{
    bo_buf msg;
    bo_buf_init(&msg, 4096);
    bo_cli_opts o;
    const char *const helps[][5] = {
        {"--help"},
        {"help"},
        {"pki", "init", "--help"},
        {"pki", "--help"},
        {"host", "--help"},
        {"host", "create", "--help"},
        {"host", "watch", "--help"},
        {"host", "pause", "--help"},
        {"host", "resume", "-h"},
        {"host", "fail", "--help"},
        {"bidder", "--help"},
        {"site", "--help"},
        {"observe", "--help"},
        {"operator", "--help"},
        {"operator", "blacklist", "--help"},
        {"operator", "blacklist", "add", "--help"},
        {"operator", "blacklist", "remove", "--help"},
        {"operator", "blacklist", "replace", "--help"},
        {"operator", "blacklist", "list", "--help"},
        {"list", "--help"},
        {"version", "--help"},
    };
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        const char *argv[7] = {"bidopen"};
        int n = 1;
        for (int j = 0; j < 5 && helps[i][j]; j++)
            argv[n++] = helps[i][j];
        argv[n] = NULL;
        if (parse_v(&o, &msg, argv) != BO_EXIT_OK || !o.help)
            fail_msg("%s %s: not a help request (%s)", helps[i][0], helps[i][1] ? helps[i][1] : "",
                     msg.data ? (char *)msg.data : "");
        assert_non_null(strstr(bo_cli_usage(o.cmd), "usage: bidopen"));
    }
    /* no arguments: the overview */
    assert_int_equal(parse_v(&o, &msg, (const char *const[]){"bidopen", NULL}), BO_EXIT_OK);
    assert_true(o.help);
    assert_non_null(strstr(bo_cli_usage(o.cmd), "Exit codes"));
    /* --help after other options still wins, even with errors before it are absent */
    assert_int_equal(PARSE(&o, &msg, "bidder", "--oid", "x", "--help"), BO_EXIT_OK);
    assert_true(o.help);
    assert_int_equal(o.cmd, BO_CMD_BIDDER);
    bo_buf_cleanup(&msg);
}

static void good_command_lines(void **state)
{
    bo_buf msg;
    bo_buf_init(&msg, 4096);
    bo_cli_opts o;
    assert_int_equal(PARSE(&o, &msg, "bidder", "--oid", "T1", S, "--server=wss://b:9/ws", C,
                           "--enc-cert", "e.pem", "--register", "--signin", "--until",
                           "awaiting_open", "--timeout", "90", "--json"),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER);
    assert_false(o.help);
    assert_string_equal(o.oid, "T1");
    assert_int_equal(o.n_servers, 2);
    assert_string_equal(o.servers[1], "wss://b:9/ws");
    assert_true(o.do_register && o.do_signin && o.json);
    assert_string_equal(o.until, "awaiting_open");
    assert_true(o.timeout_s == 90.0);
    assert_int_equal(o.retries, -1);

    assert_int_equal(PARSE(&o, &msg, "host", "create", "--tender", "t.json", "--watch", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_CREATE);
    assert_true(o.watch);

    assert_int_equal(PARSE(&o, &msg, "host", "pause", "--oid", "T1", "--reason", "断网", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_PAUSE);
    assert_string_equal(o.reason, "断网");

    assert_int_equal(PARSE(&o, &msg, "observe", "--oid", "T1", S, "--quiet", "--retries", "0"),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_OBSERVE);
    assert_int_equal(o.retries, 0);

    assert_int_equal(PARSE(&o, &msg, "site", "--oid", "T1", S, "--p12", "s.p12", "--pass", "x"),
                     BO_EXIT_OK);
    assert_int_equal(PARSE(&o, &msg, "operator", "blacklist", "remove", "--uscc", "A", "--uscc",
                           "B", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BL_REMOVE);
    assert_int_equal(o.n_usccs, 2);
    assert_int_equal(PARSE(&o, &msg, "operator", "blacklist", "add", "--uscc", "A", "--name",
                           "N", "--reason", "R", "--source", "court", S, C),
                     BO_EXIT_OK);
    assert_int_equal(PARSE(&o, &msg, "operator", "blacklist", "replace", "--file", "bl.json", S,
                           C),
                     BO_EXIT_OK);
    assert_int_equal(PARSE(&o, &msg, "list", S), BO_EXIT_OK); /* no certificate needed */
    assert_int_equal(PARSE(&o, &msg, "pki", "init", "/tmp/x"), BO_EXIT_OK);
    assert_string_equal(o.dir, "/tmp/x");
    assert_int_equal(PARSE(&o, &msg, "version"), BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_VERSION);
    bo_buf_cleanup(&msg);
}

typedef struct bad {
    const char *argv[16];
    const char *says;
} bad;

static void bad_command_lines(void **state)
{
    static const bad cases[] = {
        {{"frobnicate"}, "unknown command"},
        {{"host"}, "host: expected"},
        {{"host", "explode"}, "host: expected"},
        {{"pki"}, "pki: expected"},
        {{"pki", "init"}, "give the directory"},
        {{"operator"}, "expected 'blacklist'"},
        {{"operator", "blacklist", "burn"}, "expected add"},
        {{"bidder", S, C}, "--oid is required"},
        {{"bidder", "--oid", "T", C}, "--server"},
        {{"bidder", "--oid", "T", S}, "a certificate is required"},
        {{"bidder", "--oid", "T", S, C, "--register"}, "--register needs --enc-cert"},
        {{"bidder", "--oid", "T", S, C, "--until", "soon"}, "unknown phase"},
        {{"bidder", "--oid", "T", S, C, "--bogus"}, "unknown option"},
        {{"bidder", "--oid", "T", S, C, "--tender", "t.json"}, "does not apply"},
        {{"bidder", "--oid"}, "needs a value"},
        {{"bidder", "--oid", "T", S, C, "--json=yes"}, "takes no value"},
        {{"bidder", "--oid", "T", S, C, "stray"}, "unexpected argument"},
        {{"bidder", "--oid", "T", "--server", "http://x", C}, "--server wants wss://"},
        {{"bidder", "--oid", "T", S, C, "--timeout", "0"}, "--timeout wants"},
        {{"bidder", "--oid", "T", S, C, "--timeout", "soon"}, "--timeout wants"},
        {{"bidder", "--oid", "T", S, C, "--retries", "-1"}, "--retries wants"},
        {{"bidder", "--oid", "T", S, C, "--role", "king"}, "unknown role"},
        {{"bidder", "--oid", "T", S, "--p12", "a.p12", "--cert", "c.pem"}, "either --p12"},
        {{"bidder", "--oid", "T", S, "--key", "k.pem"}, "--key needs --cert"},
        {{"host", "create", S, C}, "--tender FILE.json is required"},
        {{"host", "pause", "--oid", "T", S, C}, "--reason is required"},
        {{"host", "fail", "--oid", "T", "--reason", "", S, C}, "--reason must not be empty"},
        {{"host", "resume", "--reason", "x", "--oid", "T", S, C}, "does not apply"},
        {{"site", S, C}, "--oid is required"},
        {{"observe", "--oid", "T", S, "--watch"}, "does not apply"},
        {{"operator", "blacklist", "add", S, C}, "give --file"},
        {{"operator", "blacklist", "add", "--file", "f", "--uscc", "A", S, C}, "either --file"},
        {{"operator", "blacklist", "add", "--uscc", "A", "--name", "N", S, C}, "give --file"},
        {{"operator", "blacklist", "remove", S, C}, "either --file"},
        {{"operator", "blacklist", "list", "--oid", "T", S, C}, "does not apply"},
        {{"list", "--oid", "T", S}, "does not apply"},
    };
    bo_buf msg;
    bo_buf_init(&msg, 4096);
    bo_cli_opts o;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[18] = {"bidopen"};
        int n = 1;
        for (int j = 0; cases[i].argv[j]; j++)
            argv[n++] = cases[i].argv[j];
        argv[n] = NULL;
        int rc = parse_v(&o, &msg, argv);
        const char *m = msg.data ? (const char *)msg.data : "";
        if (rc != BO_EXIT_USAGE || !strstr(m, cases[i].says))
            fail_msg("case %zu (%s ...): rc %d, message \"%s\", want \"%s\"", i,
                     cases[i].argv[0], rc, m, cases[i].says);
    }
    bo_buf_cleanup(&msg);
}


/* Sealed bids and remote decryption: seal, bidder submit|receipt|preflight, bidder --decrypt,
 * host decrypt-start|extend|classify. */
static void sealed_command_lines(void **state)
{
    bo_buf msg;
    bo_buf_init(&msg, 4096);
    bo_cli_opts o;
    /* local: no --server */
    assert_int_equal(PARSE(&o, &msg, "seal", "--oid", "T1", "--form", "price=1234.50", "--form",
                           "duration=180", "--doc", "a.pdf", "--doc", "b.pdf", C, "--enc-cert",
                           "e.pem", "--out", "bid.cms", "--cbc", "--rsa-pkcs1"),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_SEAL);
    assert_int_equal(o.n_forms, 2);
    assert_string_equal(o.forms[1], "duration=180");
    assert_int_equal(o.n_docs, 2);
    assert_string_equal(o.out, "bid.cms");
    assert_true(o.cbc && o.rsa_pkcs1 && !o.package_only);
    assert_int_equal(PARSE(&o, &msg, "seal", "--oid", "T1", "--form", "price=1", C,
                           "--package-only", "--out", "pkg"),
                     BO_EXIT_OK); /* no --enc-cert needed for the package alone */
    assert_true(o.package_only);
    assert_int_equal(PARSE(&o, &msg, "bidder", "preflight", "--oid", "T1", "--enc-key",
                           "pkcs11:token=x;object=enc", "--enc-pass", "1234"),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER_PREFLIGHT);
    assert_string_equal(o.enc_pass, "1234");
    /* connecting ones */
    assert_int_equal(PARSE(&o, &msg, "bidder", "submit", "--oid", "T1", "--bid", "bid.cms", S, C,
                           "--enc-cert", "e.pem", "--store", "/srv/bids"),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER_SUBMIT);
    assert_string_equal(o.bid, "bid.cms");
    assert_string_equal(o.store, "/srv/bids");
    assert_int_equal(PARSE(&o, &msg, "bidder", "receipt", "--oid", "T1", S, C), BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER_RECEIPT);
    assert_int_equal(PARSE(&o, &msg, "bidder", "--oid", "T1", S, C, "--signin", "--decrypt",
                           "--enc-key", "enc.pem", "--record", "bid.cms.json", "--until",
                           "announcing"),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER);
    assert_true(o.decrypt);
    assert_string_equal(o.enc_key, "enc.pem");
    assert_string_equal(o.record, "bid.cms.json");
    assert_int_equal(PARSE(&o, &msg, "host", "decrypt-start", "--oid", "T1", "--window", "1800",
                           S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_DECRYPT_START);
    assert_int_equal(o.window_s, 1800);
    assert_int_equal(PARSE(&o, &msg, "host", "decrypt-start", "--oid", "T1", S, C), BO_EXIT_OK);
    assert_int_equal(o.window_s, 0);
    assert_int_equal(PARSE(&o, &msg, "host", "extend", "--oid", "T1", "--seconds", "600",
                           "--reason", "网络故障", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_EXTEND);
    assert_int_equal(o.seconds, 600);
    assert_int_equal(PARSE(&o, &msg, "host", "classify", "--oid", "T1", "--uscc",
                           "91350100M000100Y43", "--outcome", "withdrawn", "--reason", "平台故障",
                           S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_CLASSIFY);
    assert_string_equal(o.outcome, "withdrawn");
    assert_string_equal(o.usccs[0], "91350100M000100Y43");

    static const bad cases[] = {
        {{"seal", "--oid", "T", C, "--enc-cert", "e"}, "--out FILE is required"},
        {{"seal", "--oid", "T", C, "--out", "x"}, "--enc-cert"},
        {{"seal", "--oid", "T", "--enc-cert", "e", "--out", "x"}, "signing certificate"},
        {{"seal", "--oid", "T", C, "--enc-cert", "e", "--out", "x", "--form", "price"},
         "--form wants KEY=VALUE"},
        {{"seal", "--oid", "T", C, "--enc-cert", "e", "--out", "x", "--form", "=1"},
         "--form wants KEY=VALUE"},
        {{"seal", "--oid", "T", C, "--enc-cert", "e", "--out", "x", S}, "does not apply"},
        {{"seal", "--oid", "T", C, "--enc-cert", "e", "--out", "x", "--decrypt"}, "does not apply"},
        {{"bidder", "submit", "--oid", "T", S, C, "--enc-cert", "e"}, "--bid BID.cms is required"},
        {{"bidder", "submit", "--oid", "T", "--bid", "b", S, C}, "--enc-cert is required"},
        {{"bidder", "submit", "--oid", "T", "--bid", "b", C, "--enc-cert", "e"}, "--server"},
        {{"bidder", "receipt", S, C}, "--oid is required"},
        {{"bidder", "preflight", "--oid", "T"}, "--enc-key"},
        {{"bidder", "--oid", "T", S, C, "--decrypt"}, "--decrypt needs --enc-key"},
        {{"bidder", "--oid", "T", S, C, "--enc-key", "k"}, "go with --decrypt"},
        {{"host", "decrypt-start", "--oid", "T", "--window", "59", S, C}, "60 to 86400"},
        {{"host", "decrypt-start", "--oid", "T", "--window", "86401", S, C}, "60 to 86400"},
        {{"host", "extend", "--oid", "T", "--seconds", "600", S, C}, "--reason are required"},
        {{"host", "extend", "--oid", "T", "--reason", "x", S, C}, "--seconds and"},
        {{"host", "classify", "--oid", "T", "--uscc", "A", "--reason", "r", S, C}, "--outcome"},
        {{"host", "classify", "--oid", "T", "--uscc", "A", "--outcome", "lost", S, C},
         "revoked (撤销) or withdrawn"},
        {{"host", "classify", "--oid", "T", "--outcome", "revoked", "--reason", "r", S, C},
         "one --uscc"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[18] = {"bidopen"};
        int n = 1;
        for (int j = 0; cases[i].argv[j]; j++)
            argv[n++] = cases[i].argv[j];
        argv[n] = NULL;
        int rc = parse_v(&o, &msg, argv);
        const char *m = msg.data ? (const char *)msg.data : "";
        if (rc != BO_EXIT_USAGE || !strstr(m, cases[i].says))
            fail_msg("sealed case %zu (%s %s ...): rc %d, message \"%s\", want \"%s\"", i,
                     cases[i].argv[0], cases[i].argv[1], rc, m, cases[i].says);
    }
    /* every new command has its usage */
    static const char *const helps[][2] = {{"seal", NULL},          {"bidder", "submit"},
                                           {"bidder", "receipt"},   {"bidder", "preflight"},
                                           {"host", "decrypt-start"}, {"host", "extend"},
                                           {"host", "classify"}};
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        const char *argv[5] = {"bidopen", helps[i][0], helps[i][1] ? helps[i][1] : "--help",
                               helps[i][1] ? "--help" : NULL, NULL};
        assert_int_equal(parse_v(&o, &msg, argv), BO_EXIT_OK);
        assert_true(o.help);
        char want[64];
        snprintf(want, sizeof(want), "usage: bidopen %s", bo_cli_cmd_name(o.cmd));
        if (!strstr(bo_cli_usage(o.cmd), want))
            fail_msg("%s: usage does not start with '%s'", bo_cli_cmd_name(o.cmd), want);
    }
    bo_buf_cleanup(&msg);
}

/* §11: announcement, draws, confirmation, objections, answers, messages, the close. */
static void closing_command_lines(void **state)
{
    (void)state;
    bo_buf msg;
    bo_buf_init(&msg, 4096);
    bo_cli_opts o;
    assert_int_equal(PARSE(&o, &msg, "host", "announce", "--oid", "T1", S, C), BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_ANNOUNCE);
    assert_false(o.all);
    assert_int_equal(PARSE(&o, &msg, "host", "announce", "--oid", "T1", "--all", S, C),
                     BO_EXIT_OK);
    assert_true(o.all);
    assert_int_equal(PARSE(&o, &msg, "host", "draw", "--oid", "T1", "--draw", "k_1", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_DRAW);
    assert_string_equal(o.draw_id, "k_1");
    assert_int_equal(PARSE(&o, &msg, "host", "benchmark", "--oid", "T1", S, C), BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_BENCHMARK);
    assert_int_equal(PARSE(&o, &msg, "host", "confirm-open", "--oid", "T1", "--window", "900", S,
                           C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_CONFIRM_OPEN);
    assert_int_equal(o.window_s, 900);
    assert_int_equal(PARSE(&o, &msg, "host", "answer", "--oid", "T1", "--objection", "2",
                           "--text", "经核实，记录无误。", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_ANSWER);
    assert_int_equal(o.objection, 2);
    assert_string_equal(o.text, "经核实，记录无误。");
    assert_int_equal(PARSE(&o, &msg, "host", "close", "--oid", "T1", S, C), BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_CLOSE);
    assert_int_equal(PARSE(&o, &msg, "bidder", "confirm", "--oid", "T1", S, C), BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER_CONFIRM);
    assert_true(o.confirm);
    assert_null(o.object_text);
    assert_int_equal(PARSE(&o, &msg, "bidder", "object", "--oid", "T1", "--text", "报价有误", S,
                           C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER_OBJECT);
    assert_false(o.confirm);
    assert_string_equal(o.object_text, "报价有误");
    assert_int_equal(PARSE(&o, &msg, "bidder", "--oid", "T1", "--signin", "--confirm", "--until",
                           "closed", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_BIDDER);
    assert_true(o.confirm);
    assert_int_equal(PARSE(&o, &msg, "bidder", "--oid", "T1", "--object=工期不符", "--watch", S, C),
                     BO_EXIT_OK);
    assert_string_equal(o.object_text, "工期不符");
    assert_int_equal(PARSE(&o, &msg, "message", "--oid", "T1", "--text", "请确认", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_MESSAGE);
    assert_string_equal(o.text, "请确认");
    assert_int_equal(PARSE(&o, &msg, "message", "--oid", "T1", "--text", "hi", "--role", "site",
                           S, C),
                     BO_EXIT_OK);
    assert_string_equal(o.role, "site");

    static const bad cases[] = {
        {{"host", "announce", S, C}, "--oid is required"},
        {{"host", "announce", "--oid", "T", "--all=1", S, C}, "takes no value"},
        {{"host", "draw", "--oid", "T", S, C}, "--draw ID are required"},
        {{"host", "draw", "--oid", "T", "--draw", "K1", S, C}, "[a-z0-9_]{1,32}"},
        {{"host", "draw", "--oid", "T", "--draw", "", S, C}, "[a-z0-9_]{1,32}"},
        {{"host", "confirm-open", "--oid", "T", "--window", "30", S, C}, "60 to 86400"},
        {{"host", "answer", "--oid", "T", "--text", "x", S, C}, "--objection N"},
        {{"host", "answer", "--oid", "T", "--objection", "0", "--text", "x", S, C},
         "objection's number"},
        {{"host", "answer", "--oid", "T", "--objection", "-1", "--text", "x", S, C},
         "objection's number"},
        {{"host", "answer", "--oid", "T", "--objection", "1", S, C}, "--text are required"},
        {{"host", "answer", "--oid", "T", "--objection", "1", "--text", "", S, C},
         "--text must not be empty"},
        {{"host", "close", "--oid", "T", "--all", S, C}, "does not apply"},
        {{"bidder", "object", "--oid", "T", S, C}, "--text are required"},
        {{"bidder", "confirm", "--oid", "T", "--text", "x", S, C}, "does not apply"},
        {{"bidder", "--oid", "T", "--confirm", "--object", "x", S, C}, "not both"},
        {{"host", "watch", "--oid", "T", "--confirm", S, C}, "does not apply"},
        {{"message", "--oid", "T", S, C}, "--text are required"},
        {{"message", "--text", "x", S, C}, "--oid and --text"},
        {{"message", "--oid", "T", "--text", "x", C}, "--server"},
        {{"host", "dance", "--oid", "T", S, C}, "confirm-open, answer, close or export"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[18] = {"bidopen"};
        int n = 1;
        for (int j = 0; cases[i].argv[j]; j++)
            argv[n++] = cases[i].argv[j];
        argv[n] = NULL;
        int rc = parse_v(&o, &msg, argv);
        const char *m = msg.data ? (const char *)msg.data : "";
        if (rc != BO_EXIT_USAGE || !strstr(m, cases[i].says))
            fail_msg("closing case %zu (%s %s ...): rc %d, message \"%s\", want \"%s\"", i,
                     cases[i].argv[0], cases[i].argv[1], rc, m, cases[i].says);
    }
    static const char *const helps[][2] = {
        {"host", "announce"}, {"host", "draw"},     {"host", "benchmark"},
        {"host", "confirm-open"}, {"host", "answer"}, {"host", "close"},
        {"bidder", "confirm"}, {"bidder", "object"}, {"message", NULL}};
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        const char *argv[5] = {"bidopen", helps[i][0], helps[i][1] ? helps[i][1] : "--help",
                               helps[i][1] ? "--help" : NULL, NULL};
        assert_int_equal(parse_v(&o, &msg, argv), BO_EXIT_OK);
        assert_true(o.help);
        char want[64];
        snprintf(want, sizeof(want), "usage: bidopen %s", bo_cli_cmd_name(o.cmd));
        if (!strstr(bo_cli_usage(o.cmd), want))
            fail_msg("%s: usage does not start with '%s'", bo_cli_cmd_name(o.cmd), want);
    }
    assert_non_null(strstr(bo_cli_usage(BO_CMD_HELP), "host announce"));
    assert_non_null(strstr(bo_cli_usage(BO_CMD_BIDDER), "--confirm"));
    bo_buf_cleanup(&msg);
}

static void export_command_lines(void **state)
{
    (void)state;
    bo_buf msg;
    bo_buf_init(&msg, 4096);
    bo_cli_opts o;
    assert_int_equal(PARSE(&o, &msg, "host", "export", "--oid", "T1", "--format", "html", "--out",
                           "r.html", S, C),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_HOST_EXPORT);
    assert_string_equal(o.format, "html");
    assert_string_equal(o.out, "r.html");
    assert_null(o.all_dir);
    /* --all is a directory here (announce's --all is a flag) */
    assert_int_equal(PARSE(&o, &msg, "host", "export", "--oid", "T1", "--all", "out", S, C),
                     BO_EXIT_OK);
    assert_string_equal(o.all_dir, "out");
    assert_false(o.all);
    assert_int_equal(PARSE(&o, &msg, "host", "announce", "--oid", "T1", "--all", S, C),
                     BO_EXIT_OK);
    assert_true(o.all);
    assert_null(o.all_dir);
    /* the public needs no certificate */
    assert_int_equal(PARSE(&o, &msg, "host", "export", "--oid", "T1", "--format",
                           "transcript_public", "--out", "p.transcript", "--role", "observer", S),
                     BO_EXIT_OK);
    assert_string_equal(o.role, "observer");
    /* verify: local, no server */
    assert_int_equal(PARSE(&o, &msg, "verify", "T1.transcript", "--trust", "pki/trust",
                           "--server-key",
                           "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                           "--host-cert", "host.pem", "--require-crl", "--uscc-attr", "OU",
                           "--json"),
                     BO_EXIT_OK);
    assert_int_equal(o.cmd, BO_CMD_VERIFY);
    assert_string_equal(o.transcript, "T1.transcript");
    assert_string_equal(o.trust, "pki/trust");
    assert_string_equal(o.host_cert, "host.pem");
    assert_string_equal(o.uscc_attr, "OU");
    assert_true(o.require_crl);
    assert_true(o.json);
    assert_int_equal(PARSE(&o, &msg, "verify", "--quiet", "x.transcript"), BO_EXIT_OK);
    assert_string_equal(o.transcript, "x.transcript");
    assert_true(o.quiet);

    static const bad cases[] = {
        {{"host", "export", "--format", "html", "--out", "x", S, C}, "--oid is required"},
        {{"host", "export", "--oid", "T", S, C}, "--format and --out, or --all"},
        {{"host", "export", "--oid", "T", "--format", "html", S, C}, "go together"},
        {{"host", "export", "--oid", "T", "--out", "x", S, C}, "go together"},
        {{"host", "export", "--oid", "T", "--all", "d", "--out", "x", S, C},
         "--format and --out, or --all"},
        {{"host", "export", "--oid", "T", "--format", "pdf", "--out", "x", S, C},
         "record, ocds, html, transcript or transcript_public"},
        {{"host", "export", "--oid", "T", "--all", "d", C}, "--server"},
        {{"host", "export", "--oid", "T", "--all", "d", S}, "a certificate is required"},
        {{"host", "export", "--oid", "T", "--all", "d", "--trust", "t", S, C}, "does not apply"},
        {{"verify", "--trust", "t"}, "give the transcript file"},
        {{"verify", "a", "b"}, "unexpected argument 'b'"},
        {{"verify", "a", "--server-key", "abc"}, "64 hexadecimal digits"},
        {{"verify", "a", "--oid", "T"}, "does not apply"},
        {{"verify", "a", S}, "does not apply"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[18] = {"bidopen"};
        int n = 1;
        for (int j = 0; cases[i].argv[j]; j++)
            argv[n++] = cases[i].argv[j];
        argv[n] = NULL;
        int rc = parse_v(&o, &msg, argv);
        const char *m = msg.data ? (const char *)msg.data : "";
        if (rc != BO_EXIT_USAGE || !strstr(m, cases[i].says))
            fail_msg("export case %zu (%s %s ...): rc %d, message \"%s\", want \"%s\"", i,
                     cases[i].argv[0], cases[i].argv[1], rc, m, cases[i].says);
    }
    const char *hargv[] = {"bidopen", "host", "export", "--help", NULL};
    assert_int_equal(parse_v(&o, &msg, hargv), BO_EXIT_OK);
    assert_true(o.help);
    assert_non_null(strstr(bo_cli_usage(o.cmd), "usage: bidopen host export"));
    const char *vargv[] = {"bidopen", "verify", "--help", NULL};
    assert_int_equal(parse_v(&o, &msg, vargv), BO_EXIT_OK);
    assert_true(o.help);
    assert_non_null(strstr(bo_cli_usage(o.cmd), "usage: bidopen verify TRANSCRIPT"));
    assert_non_null(strstr(bo_cli_usage(BO_CMD_HELP), "verify TRANSCRIPT"));
    bo_buf_cleanup(&msg);
}

static void names_and_phases(void **state)
{
    assert_string_equal(bo_cli_cmd_name(BO_CMD_BL_ADD), "operator blacklist add");
    assert_string_equal(bo_cli_cmd_name((bo_cli_cmd)999), "?");
    assert_true(bo_cli_phase_known("awaiting_open"));
    assert_true(bo_cli_phase_known("failed"));
    assert_false(bo_cli_phase_known("paused")); /* a flag, not a phase */
    assert_false(bo_cli_phase_known(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_everywhere),
        cmocka_unit_test(good_command_lines),
        cmocka_unit_test(bad_command_lines),
        cmocka_unit_test(sealed_command_lines),
        cmocka_unit_test(closing_command_lines),
        cmocka_unit_test(export_command_lines),
        cmocka_unit_test(names_and_phases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
