/* bidopen: site links for hall screens (bo/sitelink.h). */
#include "bo/sitelink.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bo/cert.h"
#include "bo/cred.h"
#include "bo/hex.h"
#include "bo/tender.h"
#include "bo/utf8.h"
#include "bo/wire.h"

static bo_err payload(bo_buf *out, const char *oid, const char *site, bo_time_ms exp)
{
    bo_err err = bo_mp_array_header(out, 3);
    if (!err)
        err = bo_mp_str(out, oid, strlen(oid));
    if (!err)
        err = bo_mp_str(out, site, strlen(site));
    if (!err)
        err = bo_mp_i64(out, exp);
    return err;
}

bo_err bo_sitelink_token(const bo_key *key, const uint8_t *cert, size_t cert_len,
                         const char *oid, const char *site, bo_time_ms exp, bo_time_ms now,
                         bo_buf *out)
{
    size_t sl = site ? strlen(site) : 0;
    if (!key || !cert || !cert_len || !oid || !bo_oid_valid(oid) || !sl ||
        !bo_utf8_valid(site, sl) || bo_utf8_count(site, sl) > BO_SITELINK_SITE_MAX ||
        exp <= now || exp > now + BO_SITELINK_TTL_MAX_MS)
        return BO_E_INVALID_ARG;
    if (bo_key_matches_cert(key, cert, cert_len) != BO_E_OK)
        return BO_E_INVALID_ARG;
    bo_buf tbs, sig, mp;
    bo_buf_init(&tbs, 4096);
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_buf_init(&mp, BO_SITELINK_TOKEN_MAX);
    uint8_t fpr[32];
    bo_cert_fpr(cert, cert_len, fpr);
    bo_err err = payload(&tbs, oid, site, exp);
    if (!err)
        err = bo_key_sign(key, BO_SITELINK_CTX, tbs.data, tbs.len, &sig);
    bo_mpmap *m = err ? NULL : bo_mpmap_new(&err);
    if (m) {
        bo_mpmap_bin(m, "cert", cert, cert_len);
        bo_mpmap_i64(m, "exp", exp);
        bo_mpmap_bin(m, "host_fpr", fpr, 32);
        bo_mpmap_str(m, "oid", oid);
        bo_mpmap_bin(m, "sig", sig.data, sig.len);
        bo_mpmap_str(m, "site", site);
        err = bo_mpmap_finish(m, &mp);
        bo_mpmap_free(m);
    }
    if (!err && 4 * ((mp.len + 2) / 3) > BO_SITELINK_TOKEN_MAX)
        err = BO_E_TOO_BIG;
    char *b64 = err ? NULL : malloc(4 * ((mp.len + 2) / 3) + 1);
    if (!err && !b64)
        err = BO_E_NOMEM;
    if (!err) {
        size_t n = bo_b64_encode(mp.data, mp.len, b64);
        while (n && b64[n - 1] == '=')
            n--;
        for (size_t i = 0; i < n; i++)
            b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
        err = bo_buf_append(out, b64, n);
    }
    free(b64);
    bo_buf_cleanup(&tbs);
    bo_buf_cleanup(&sig);
    bo_buf_cleanup(&mp);
    return err;
}

bo_err bo_sitelink_url(const char *base, const char *oid, const char *token, bo_buf *out)
{
    const char *rest;
    if (!base || !oid || !token)
        return BO_E_INVALID_ARG;
    if (!strncmp(base, "https://", 8))
        rest = base + 8;
    else if (!strncmp(base, "wss://", 6))
        rest = base + 6;
    else
        return BO_E_INVALID_ARG;
    size_t hl = strcspn(rest, "/?#"); /* host[:port] */
    if (!hl)
        return BO_E_INVALID_ARG;
    bo_err err;
    if (!strncmp(base, "wss://", 6)) {
        err = bo_buf_appendf(out, "https://%.*s/", (int)hl, rest);
    } else {
        size_t bl = strcspn(base, "?#");
        while (bl > 8 + hl && base[bl - 1] == '/')
            bl--;
        err = bo_buf_appendf(out, "%.*s/", (int)bl, base);
    }
    if (!err)
        err = bo_buf_appendf(out, "?oid=%s#site=%s", oid, token);
    return err;
}

bo_err bo_sitelink_ttl_parse(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return BO_E_INVALID_ARG;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v <= 0 || v > 7LL * 24 * 3600)
        return BO_E_INVALID_ARG;
    long long unit = !*end || !strcmp(end, "s") ? 1
                     : !strcmp(end, "m")        ? 60
                     : !strcmp(end, "h")        ? 3600
                     : !strcmp(end, "d")        ? 86400
                                                : 0;
    if (!unit || v * unit * 1000 > BO_SITELINK_TTL_MAX_MS)
        return BO_E_INVALID_ARG;
    *ms = v * unit * 1000;
    return BO_E_OK;
}

/* ---------- bidopen host site-link ---------- */

static const char usage[] =
    "usage: bidopen host site-link --oid OID --site NAME [--ttl 8h] [--base https://HOST:PORT]\n"
    "                              (--cert FILE [--key FILE] | --p12 FILE) [--pass PASS]\n"
    "                              [--server wss://HOST:PORT/ws] [--json]\n"
    "Prints the link a remote hall opens on its big screen to appear as site NAME in the\n"
    "opening OID (docs/hall.md). Signed with the host's key; valid for --ttl (at most 7d).\n"
    "--base is the server's https:// address (default: from --server).\n";

int bo_sitelink_cli(int argc, char **argv)
{
    const char *oid = NULL, *site = NULL, *ttl = "8h", *base = NULL, *server = NULL;
    bo_cred_files f = {0};
    bool json = false;
    /* options we do not use here but the CLI knows: they take a value */
    static const char *const skip_val[] = {"--ca", "--role", "--timeout", "--retries",
                                           "--enc-cert", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "host") || !strcmp(a, "site-link"))
            continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(a, "--quiet"))
            continue;
        static const char *const names[] = {"--oid", "--site", "--ttl", "--base", "--server",
                                            "--cert", "--key", "--pass", "--p12", NULL};
        const char **dst[] = {&oid, &site, &ttl, &base, &server, &f.cert, &f.key, &f.pass, &f.p12};
        const char *val = NULL;
        int which = -1;
        for (int k = 0; names[k] && which < 0; k++) {
            size_t nl = strlen(names[k]);
            if (!strcmp(a, names[k])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "bidopen: %s needs a value\n%s", a, usage);
                    return 1;
                }
                val = argv[++i];
                which = k;
            } else if (!strncmp(a, names[k], nl) && a[nl] == '=') {
                val = a + nl + 1;
                which = k;
            }
        }
        if (which >= 0) {
            *dst[which] = val;
            continue;
        }
        bool skipped = false;
        for (int k = 0; skip_val[k] && !skipped; k++) {
            size_t nl = strlen(skip_val[k]);
            if (!strcmp(a, skip_val[k]) && i + 1 < argc) {
                i++;
                skipped = true;
            } else if (!strncmp(a, skip_val[k], nl) && a[nl] == '=') {
                skipped = true;
            }
        }
        if (skipped)
            continue;
        fprintf(stderr, "bidopen: host site-link: unknown argument '%s'\n%s", a, usage);
        return 1;
    }
    int64_t ttl_ms = 0;
    if (!oid || !bo_oid_valid(oid)) {
        fprintf(stderr, "bidopen: host site-link: --oid OID is required (an opening id)\n%s",
                usage);
        return 1;
    }
    size_t sl = site ? strlen(site) : 0;
    if (!sl || !bo_utf8_valid(site, sl) || bo_utf8_count(site, sl) > BO_SITELINK_SITE_MAX) {
        fprintf(stderr, "bidopen: host site-link: --site NAME is required, 1 to %d characters\n",
                BO_SITELINK_SITE_MAX);
        return 1;
    }
    if (bo_sitelink_ttl_parse(ttl, &ttl_ms)) {
        fprintf(stderr, "bidopen: host site-link: --ttl %s: give a duration such as 8h, 90m or "
                        "2d, at most 7d\n", ttl);
        return 1;
    }
    if (!base)
        base = server;
    if (!base) {
        fprintf(stderr, "bidopen: host site-link: --base https://HOST:PORT (or --server) is "
                        "required\n");
        return 1;
    }
    if (!f.cert && !f.p12) {
        fprintf(stderr, "bidopen: host site-link: the host's --cert (or --p12) is required\n");
        return 1;
    }
    bo_err err;
    char detail[600] = "";
    bo_cred *cred = bo_cred_load(&f, &err, detail, sizeof(detail));
    if (!cred) {
        fprintf(stderr, "bidopen: %s\n", detail[0] ? detail : bo_strerror(err));
        return 5;
    }
    bo_bytes_list chain = bo_cred_chain(cred);
    bo_time_ms now = bo_clock_now_ms(), exp = now + ttl_ms;
    bo_buf tok, url;
    bo_buf_init(&tok, BO_SITELINK_TOKEN_MAX);
    bo_buf_init(&url, BO_SITELINK_TOKEN_MAX + 1024);
    err = chain.n ? bo_sitelink_token(bo_cred_key(cred), chain.v[0].p, chain.v[0].len, oid, site,
                                      exp, now, &tok)
                  : BO_E_INVALID_ARG;
    int rc = 0;
    if (err) {
        fprintf(stderr, "bidopen: cannot make the link: %s\n",
                err == BO_E_TOO_BIG ? "the certificate is too large for a link" : bo_strerror(err));
        rc = 5;
    } else if (bo_sitelink_url(base, oid, (const char *)tok.data, &url)) {
        fprintf(stderr, "bidopen: host site-link: --base must be https://HOST[:PORT] or "
                        "wss://HOST[:PORT]/ws\n");
        rc = 1;
    } else if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "url", (const char *)url.data, "oid", oid,
                              "site", site, "exp", (json_int_t)exp);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        char when[40];
        bo_time_format_rfc3339(exp, when, sizeof(when));
        printf("%s\n", (const char *)url.data);
        fprintf(stderr, "site link for \"%s\" in opening %s, valid until %s\n", site, oid, when);
    }
    bo_buf_cleanup(&tok);
    bo_buf_cleanup(&url);
    bo_cred_free(cred);
    return rc;
}
