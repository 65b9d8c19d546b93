/* PKCS#11 keys through the libp11 ENGINE (research/crypto.md §4). The ENGINE API is
 * deprecated in OpenSSL 3.0 but is what Debian 12 main offers (pkcs11-provider is
 * bookworm-backports only); keys loaded here are legacy EVP_PKEYs whose private operations
 * run in the token: RSA decryption (PKCS#1 v1.5; OAEP through libp11's raw-RSA fallback,
 * OpenSSL removing the padding), RSA signatures, and ECDH (CKM_ECDH1_DERIVE, KDF in
 * software). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "bo_pkcs11_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "bo_crypto_internal.h"

#define URI_MAX 4096u

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode src[0..len) into out (NUL-terminated). False on a bad escape, an embedded
 * NUL or when out is too small. */
static bool pct_decode(const char *src, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return false;
            int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
            if (h < 0 || l < 0)
                return false;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return false;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return true;
}

/* Take module-path and pin-value out of the query part (after '?'); the URI given to libp11
 * keeps only the path part. */
static bool split_uri(const char *uri, char *path, char *module, char *pin, size_t cap)
{
    const char *q = strchr(uri, '?');
    size_t pl = q ? (size_t)(q - uri) : strlen(uri);
    module[0] = pin[0] = 0;
    if (pl + 1 > cap)
        return false;
    memcpy(path, uri, pl);
    path[pl] = 0;
    while (q && *q) {
        q++;
        const char *end = strchr(q, '&');
        size_t al = end ? (size_t)(end - q) : strlen(q);
        if (al > 12 && strncmp(q, "module-path=", 12) == 0) {
            if (!pct_decode(q + 12, al - 12, module, cap))
                return false;
        } else if (al > 10 && strncmp(q, "pin-value=", 10) == 0) {
            if (!pct_decode(q + 10, al - 10, pin, cap))
                return false;
        }
        q = end;
    }
    return true;
}

/* Keep the engine module mapped for the life of the process. OpenSSL dlcloses a dynamic
 * engine when its last reference goes (at the latest in its exit-time cleanup), but libp11
 * 0.4.12 deliberately leaves its module state and methods behind (its engine_destroy skips
 * the finish, to avoid a deadlock): unmapping it turns them into leaks and risks running
 * code of an unloaded module. RTLD_NOLOAD only marks the already loaded module. */
static void pin_engine_module(void)
{
    const char *dir = getenv("OPENSSL_ENGINES");
    char path[1024];
    if (!dir) {
        /* "ENGINESDIR: \"/usr/lib/x86_64-linux-gnu/engines-3\"" */
        const char *v = OpenSSL_version(OPENSSL_ENGINES_DIR);
        const char *q1 = v ? strchr(v, '"') : NULL;
        const char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
        if (!q2)
            return;
        snprintf(path, sizeof path, "%.*s/pkcs11.so", (int)(q2 - q1 - 1), q1 + 1);
    } else {
        snprintf(path, sizeof path, "%s/pkcs11.so", dir);
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    if (h)
        dlclose(h); /* drops only our reference; RTLD_NODELETE stays */
}

/* Why the token refused the login, from the error queue (emptied), or NULL. libp11 queues
 * the PKCS#11 module's return values as reasons of its library "PKCS#11 module" (the CKR_
 * codes of PKCS#11 v2.40 §5.1). */
static const char *token_refusal(void)
{
    const char *why = NULL;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        const char *lib = ERR_lib_error_string(e);
        if (!lib || strcmp(lib, "PKCS#11 module") != 0)
            continue;
        switch (ERR_GET_REASON(e)) {
        case 0xA0: /* CKR_PIN_INCORRECT */
        case 0xA1: /* CKR_PIN_INVALID */
        case 0xA2: /* CKR_PIN_LEN_RANGE */
            why = "wrong PIN: the token refused it (CKR_PIN_INCORRECT)";
            break;
        case 0xA3: /* CKR_PIN_EXPIRED */
            why = "the token's PIN has expired (CKR_PIN_EXPIRED): change it with the token's tool";
            break;
        case 0xA4: /* CKR_PIN_LOCKED */
            why = "the token's PIN is locked after too many wrong PINs (CKR_PIN_LOCKED): unblock "
                  "it with the token's tool and its SO PIN";
            break;
        case 0xE0: /* CKR_TOKEN_NOT_PRESENT */
            why = "the token is not present (CKR_TOKEN_NOT_PRESENT)";
            break;
        default:
            break;
        }
    }
    return why;
}

bo_key *bo__pkcs11_engine_key(const char *uri, const char *pass, bo_err *err, char *detail,
                              size_t n)
{
    if (strlen(uri) >= URI_MAX) {
        *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "the PKCS#11 URI is too long");
        return NULL;
    }
    char *path = OPENSSL_zalloc(URI_MAX), *module = OPENSSL_zalloc(URI_MAX);
    char *pin = OPENSSL_secure_zalloc(URI_MAX);
    bo_key *k = NULL;
    ENGINE *e = NULL;
    if (!path || !module || !pin) {
        *err = BO_E_NOMEM;
        goto out;
    }
    if (!split_uri(uri, path, module, pin, URI_MAX)) {
        *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "bad PKCS#11 URI");
        goto out;
    }
    e = ENGINE_by_id("pkcs11");
    if (!e) {
        *err = bo__crypto_fail(BO_E_UNSUPPORTED, detail, n,
                               "no PKCS#11 support: neither a PKCS#11 provider for OSSL_STORE nor "
                               "the pkcs11 engine (Debian: libengine-pkcs11-openssl) is available");
        goto out;
    }
    pin_engine_module();
    /* libp11 prints its errors to stderr unless told otherwise; ours go to detail */
    ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 0);
    if (module[0] && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) {
        *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "the pkcs11 engine refused %s",
                               module);
        goto out;
    }
    const char *p = pass ? pass : pin[0] ? pin : NULL;
    if (p && !ENGINE_ctrl_cmd_string(e, "PIN", p, 0)) {
        *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "the pkcs11 engine refused the PIN");
        goto out;
    }
    if (!ENGINE_init(e)) {
        *err = bo__crypto_fail(BO_E_UNSUPPORTED, detail, n,
                               "the pkcs11 engine does not start (PKCS#11 module missing?)");
        bo__crypto_ossl_reason(detail, n);
        goto out;
    }
    EVP_PKEY *pk = ENGINE_load_private_key(e, path, NULL, NULL);
    ENGINE_finish(e); /* the key keeps its own reference */
    if (!pk) {
        const char *why = token_refusal();
        if (why)
            *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n, "%s", why);
        else if (!p)
            *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n,
                                   "no private key at this PKCS#11 URI, or the token needs a "
                                   "PIN and none was given");
        else
            *err = bo__crypto_fail(BO_E_INVALID_ARG, detail, n,
                                   "no private key at this PKCS#11 URI (no token or no object "
                                   "matches it)");
        goto out;
    }
    k = bo__key_wrap(pk, err);
    if (!k && *err == BO_E_UNSUPPORTED_KEY)
        bo__crypto_fail(*err, detail, n, "unsupported key type in the token");
out:
    ENGINE_free(e);
    OPENSSL_free(path);
    OPENSSL_free(module);
    OPENSSL_secure_clear_free(pin, URI_MAX);
    ERR_clear_error();
    return k;
}
