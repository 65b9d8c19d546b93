#include "bo_config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { OPT_STR, OPT_INT, OPT_BOOL, OPT_FLAG } opt_type;

typedef struct opt {
    const char *name;
    opt_type type;
    size_t off;
    size_t size;      /* strings: buffer size */
    int64_t min, max; /* ints */
    const char *def;  /* shown in help; the value itself is set by bo_config_defaults */
    const char *help;
    bool cli_only;
} opt;

#define S(f) OPT_STR, offsetof(bo_config, f), sizeof(((bo_config *)0)->f), 0, 0
#define I(f, lo, hi) OPT_INT, offsetof(bo_config, f), 0, lo, hi
#define B(f) OPT_BOOL, offsetof(bo_config, f), 0, 0, 0
#define F(f) OPT_FLAG, offsetof(bo_config, f), 0, 0, 0

static const opt opts[] = {
    {"config", S(config), "", "read options from this file first (name = value lines)", true},
    {"listen", S(listen), "127.0.0.1", "address to listen on (IPv4 or IPv6 literal)", false},
    {"port", I(port, 0, 65535), "8443", "TLS port for WebSocket and HTTPS; 0 picks a free one", false},
    {"port-file", S(port_file), "", "write the port actually used to this file (for scripts)", false},
    {"tls-cert", S(tls_cert), "", "TLS certificate chain (PEM) of this server [required]", false},
    {"tls-key", S(tls_key), "", "TLS private key (PEM) [required]", false},
    {"trust", S(trust), "", "trust store directory: CA certificates and CRLs [required]", false},
    {"uscc-attr", S(uscc_attr), "serialNumber",
     "subject attribute carrying the USCC: serialNumber, OU, organizationIdentifier or an OID",
     false},
    {"crl-required", B(crl_required), "yes",
     "refuse certificates whose CA has no current CRL in the trust store", false},
    {"staff", S(staff), "", "staff roster (JSON): operators, hosts, supervisors, sites [required]",
     false},
    {"sign-key", S(sign_key), "", "the server's signing key (PEM) for chain heads [required]",
     false},
    {"sign-key-pass", S(sign_key_pass), "", "password of the signing key, if encrypted", false},
    {"sign-cert", S(sign_cert), "", "certificate of the signing key (published to verifiers)",
     false},
    {"data", S(data), "",
     "data directory: with no --redis, a private redis-server runs here (AOF, fsync always)",
     false},
    {"vault", S(vault), "<data>/vault",
     "bid vault directory (sealed envelopes, opened packages); shared by all nodes", false},
    {"max-bid", I(max_bid, 1024, (int64_t)64 << 30), "8589934592",
     "largest sealed bid accepted, in bytes", false},
    {"redis", S(redis), "", "use this Redis instead: host:port (IP literal) or unix:/path", false},
    {"allow-volatile-redis", B(allow_volatile_redis), "no",
     "accept a Redis without AOF persistence (loses acknowledged events on a crash)", false},
    {"redis-server", S(redis_server), "redis-server", "redis-server binary for --data", false},
    {"node", S(node), "<hostname>-<pid>", "this node's name (several nodes share one Redis)",
     false},
    {"log-level", S(log_level), "info", "debug, info, warn or error", false},
    {"max-conns", I(max_conns, 1, 1000000), "19000", "connections at most", false},
    {"max-unauthed", I(max_unauthed, 1, 1000000), "1024",
     "connections at most still in their TLS handshake or auth; more are refused before TLS "
     "(the clients back off and come back)", false},
    {"accept-rate", I(accept_rate, 1, 1000000), "500", "new connections per second", false},
    {"accept-burst", I(accept_burst, 1, 1000000), "3000", "burst of new connections", false},
    {"msg-rate", I(msg_rate, 1, 100000), "20", "messages per second per connection", false},
    {"msg-burst", I(msg_burst, 1, 100000), "40", "message burst per connection", false},
    {"max-frame", I(max_frame, 4096, 16777216), "262144", "largest accepted frame in bytes",
     false},
    {"max-lag", I(max_lag, 64, 1000000), "4096",
     "a connection this many events behind is closed with 4000 and resumes", false},
    {"max-lag-ms", I(max_lag_ms, 1000, 3600000), "30000",
     "a connection behind without progress this long is closed with 4000", false},
    {"sndbuf", I(sndbuf, 0, 67108864), "0",
     "kernel send buffer per connection in bytes (SO_SNDBUF); 0 keeps the kernel's", false},
    {"web-root", S(web_root), "",
     "directory of the hall screen's built files, served at /; unset: web/ next to the binary, "
     "if there",
     false},
    {"check-config", F(check_config), "", "validate the configuration and trust store, then exit",
     true},
    {"help", F(help), "", "show this help", true},
    {"version", F(version), "", "show the version", true},
};

void bo_config_defaults(bo_config *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->listen, "127.0.0.1");
    c->port = 8443;
    strcpy(c->uscc_attr, "serialNumber");
    c->crl_required = true;
    strcpy(c->redis_server, "redis-server");
    strcpy(c->log_level, "info");
    c->max_conns = 19000;
    c->max_unauthed = 1024;
    c->accept_rate = 500;
    c->accept_burst = 3000;
    c->msg_rate = 20;
    c->msg_burst = 40;
    c->max_frame = 262144;
    c->max_lag = 4096;
    c->max_bid = (int64_t)8 << 30;
    c->max_lag_ms = 30000;
}

static const opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static bo_err set_opt(bo_config *c, const opt *o, const char *val, char *detail, size_t n)
{
    char *base = (char *)c + o->off;
    switch (o->type) {
    case OPT_STR:
        if (strlen(val) >= o->size) {
            snprintf(detail, n, "option %s: value longer than %zu bytes", o->name, o->size - 1);
            return BO_E_CONFIG;
        }
        strcpy(base, val);
        return BO_E_OK;
    case OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end || v < o->min || v > o->max) {
            snprintf(detail, n, "option %s: '%s' is not a whole number from %lld to %lld",
                     o->name, val, (long long)o->min, (long long)o->max);
            return BO_E_CONFIG;
        }
        *(int64_t *)base = v;
        return BO_E_OK;
    }
    case OPT_BOOL:
    case OPT_FLAG:
        if (!strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "on"))
            *(bool *)base = true;
        else if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "0") ||
                 !strcmp(val, "off"))
            *(bool *)base = false;
        else {
            snprintf(detail, n, "option %s: '%s' is not yes or no", o->name, val);
            return BO_E_CONFIG;
        }
        return BO_E_OK;
    }
    return BO_E_CONFIG;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

bo_err bo_config_load_file(bo_config *c, const char *path, char *detail, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(detail, n, "config %s: %s", path, strerror(errno));
        return BO_E_IO;
    }
    char line[2048];
    int lineno = 0;
    bo_err err = BO_E_OK;
    while (!err && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(detail, n, "config %s:%d: expected 'name = value'", path, lineno);
            err = BO_E_CONFIG;
            break;
        }
        *eq = 0;
        char *name = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = 0;
            val++;
        }
        const opt *o = find_opt(name, strlen(name));
        if (!o || o->cli_only) {
            snprintf(detail, n, "config %s:%d: unknown option '%s'", path, lineno, name);
            err = BO_E_CONFIG;
            break;
        }
        char sub[512];
        err = set_opt(c, o, val, sub, sizeof(sub));
        if (err)
            snprintf(detail, n, "config %s:%d: %s", path, lineno, sub);
    }
    fclose(f);
    return err;
}

bo_err bo_config_parse_args(bo_config *c, int argc, char **argv, char *detail, size_t n)
{
    /* --config first, so that the command line overrides the file. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *path = NULL;
        if (!strncmp(a, "--config=", 9))
            path = a + 9;
        else if (!strcmp(a, "--config") && i + 1 < argc)
            path = argv[i + 1];
        if (path) {
            bo_err err = bo_config_load_file(c, path, detail, n);
            if (err)
                return err == BO_E_IO ? BO_E_CONFIG : err;
            strncpy(c->config, path, sizeof(c->config) - 1);
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(detail, n, "unexpected argument '%s' (options start with --)", a);
            return BO_E_CONFIG;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const opt *o = find_opt(a, nl);
        if (!o) {
            snprintf(detail, n, "unknown option --%.*s (see --help)", (int)nl, a);
            return BO_E_CONFIG;
        }
        const char *val;
        if (eq)
            val = eq + 1;
        else if (o->type == OPT_BOOL || o->type == OPT_FLAG)
            val = "yes";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            snprintf(detail, n, "option --%s needs a value", o->name);
            return BO_E_CONFIG;
        }
        if (!strcmp(o->name, "config"))
            continue;
        bo_err err = set_opt(c, o, val, detail, n);
        if (err)
            return err;
    }
    return BO_E_OK;
}

static bool readable_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

static bool dir_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bo_err need_file(const char *name, const char *val, char *detail, size_t n)
{
    if (!*val) {
        snprintf(detail, n, "option %s is required", name);
        return BO_E_CONFIG;
    }
    if (!readable_file(val)) {
        snprintf(detail, n, "option %s: cannot read file '%s'", name, val);
        return BO_E_CONFIG;
    }
    return BO_E_OK;
}

bo_err bo_config_validate(const bo_config *c, char *detail, size_t n)
{
    bo_err err;
    if ((err = need_file("tls-cert", c->tls_cert, detail, n)) ||
        (err = need_file("tls-key", c->tls_key, detail, n)) ||
        (err = need_file("staff", c->staff, detail, n)) ||
        (err = need_file("sign-key", c->sign_key, detail, n)))
        return err;
    if (*c->sign_cert && (err = need_file("sign-cert", c->sign_cert, detail, n)))
        return err;
    if (!*c->trust || !dir_exists(c->trust)) {
        snprintf(detail, n, "option trust: '%s' is not a directory", c->trust);
        return BO_E_CONFIG;
    }
    if (!*c->data && !*c->redis) {
        snprintf(detail, n, "option data or redis is required (data starts a private Redis)");
        return BO_E_CONFIG;
    }
    if (!*c->data && !*c->vault) {
        snprintf(detail, n, "option vault is required with --redis (no data directory)");
        return BO_E_CONFIG;
    }
    if (*c->data && !dir_exists(c->data)) {
        snprintf(detail, n, "option data: '%s' is not a directory", c->data);
        return BO_E_CONFIG;
    }
    if (*c->redis && strncmp(c->redis, "unix:", 5) != 0) {
        const char *colon = strrchr(c->redis, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == c->redis || *end || port < 1 || port > 65535) {
            snprintf(detail, n, "option redis: '%s' is not host:port or unix:/path", c->redis);
            return BO_E_CONFIG;
        }
    }
    static const char *levels[] = {"debug", "info", "warn", "error"};
    bool ok = false;
    for (int i = 0; i < 4; i++)
        ok |= !strcmp(levels[i], c->log_level);
    if (!ok) {
        snprintf(detail, n, "option log-level: '%s' is not debug, info, warn or error",
                 c->log_level);
        return BO_E_CONFIG;
    }
    if (*c->web_root && !dir_exists(c->web_root)) {
        snprintf(detail, n, "option web-root: '%s' is not a directory", c->web_root);
        return BO_E_CONFIG;
    }
    if (c->msg_burst < c->msg_rate) {
        snprintf(detail, n, "option msg-burst: must be at least msg-rate (%lld)",
                 (long long)c->msg_rate);
        return BO_E_CONFIG;
    }
    return BO_E_OK;
}

static const char *type_hint(const opt *o)
{
    switch (o->type) {
    case OPT_STR:
        return "=VALUE";
    case OPT_INT:
        return "=N";
    case OPT_BOOL:
        return "[=yes|no]";
    default:
        return "";
    }
}

void bo_config_print_help(FILE *out)
{
    fprintf(out, "usage: bidopen-server [options]\n\n"
                 "Runs remote bid openings over WebSocket/TLS (subprotocol bidopen.v1).\n"
                 "Options may also be given in a file (--config FILE, 'name = value').\n\n");
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", opts[i].name, type_hint(&opts[i]));
        fprintf(out, "  %-28s %s", left, opts[i].help);
        if (*opts[i].def)
            fprintf(out, " (default %s)", opts[i].def);
        fputc('\n', out);
    }
}

void bo_config_print_sample(FILE *out)
{
    fprintf(out, "# bidopen-server configuration. Every option, with its default.\n"
                 "# Command-line options (--name=value) override this file.\n\n");
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (opts[i].cli_only)
            continue;
        fprintf(out, "# %s\n# %s = %s\n\n", opts[i].help, opts[i].name, opts[i].def);
    }
}
