/* SoftHSM2 tokens for tests: bo_softhsm.h. */
#include "bo_softhsm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_log[1024]; /* DIR/softhsm.log, once bo_softhsm_token has run */

const char *bo_softhsm_module(void)
{
    static const char *const cands[] = {"/usr/lib/softhsm/libsofthsm2.so",
                                        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                                        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (access(cands[i], R_OK) == 0)
            return cands[i];
    return NULL;
}

static int status(int st)
{
    return st == -1 ? 127 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const char *bo_softhsm_missing(void)
{
    if (!bo_softhsm_module())
        return "softhsm2 is not installed";
    if (status(system("command -v softhsm2-util >/dev/null && command -v pkcs11-tool "
                      ">/dev/null")) != 0)
        return "softhsm2-util or pkcs11-tool (opensc) is not installed";
    if (status(system("openssl engine pkcs11 >/dev/null 2>&1")) != 0)
        return "the pkcs11 engine (libengine-pkcs11-openssl) is not installed";
    return NULL;
}

/* Run a shell command (stdin /dev/null, output appended to the log); print the log when it
 * fails. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096], full[6000];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof cmd) {
        fprintf(stderr, "bo_softhsm: command too long\n");
        return 126;
    }
    snprintf(full, sizeof full, "(%s) </dev/null >>'%s' 2>&1", cmd,
             g_log[0] ? g_log : "/dev/null");
    int rc = status(system(full));
    if (rc != 0) {
        fprintf(stderr, "bo_softhsm: exit %d: %s\n", rc, cmd);
        FILE *f = g_log[0] ? fopen(g_log, "r") : NULL;
        if (f) {
            char line[1024];
            while (fgets(line, sizeof line, f))
                fputs(line, stderr);
            fclose(f);
        }
    }
    return rc;
}

int bo_softhsm_token(const char *dir, const char *label, const char *pin, const char *so_pin)
{
    const char *module = bo_softhsm_module();
    if (!module)
        return 127;
    char conf[1024], tokens[1024];
    snprintf(g_log, sizeof g_log, "%s/softhsm.log", dir);
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", dir);
    snprintf(tokens, sizeof tokens, "%s/tokens", dir);
    int rc = sh("mkdir -m 700 '%s'", tokens);
    if (rc)
        return rc;
    FILE *f = fopen(conf, "w");
    if (!f)
        return 126;
    fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens);
    if (fclose(f) != 0)
        return 126;
    setenv("SOFTHSM2_CONF", conf, 1);
    return sh("softhsm2-util --init-token --free --label '%s' --pin '%s' --so-pin '%s'", label,
              pin, so_pin);
}

int bo_softhsm_keypair(const char *label, const char *pin, const char *key_type, const char *id,
                       const char *object)
{
    return sh("pkcs11-tool --module '%s' --token-label '%s' --login --pin '%s' --keypairgen "
              "--key-type '%s' --id '%s' --label '%s'",
              bo_softhsm_module(), label, pin, key_type, id, object);
}

int bo_softhsm_csr(const char *label, const char *pin, const char *object, const char *subj,
                   const char *csr_out)
{
    return sh("openssl req -new -engine pkcs11 -keyform engine -key "
              "'pkcs11:token=%s;object=%s;type=private;pin-value=%s' -utf8 -subj '%s' -out '%s'",
              label, object, pin, subj, csr_out);
}
