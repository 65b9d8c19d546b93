/* bidopen: site links: the link a host gives a county hall so that its big screen appears in
 * the opening as a named remote site (docs/protocol.md §3, docs/hall.md), without any
 * certificate in the hall's browser.
 *
 * The token is base64url (no padding) of the canonical msgpack map
 *     {cert, exp, host_fpr, oid, sig, site}
 * where cert is the host's signing certificate (DER), host_fpr its SHA-256, exp the end of
 * validity (ms since the epoch, at most 7 days ahead), and sig the host's signature with ctx
 * "site_link" over the canonical [oid, site, exp]. The hall screen sends it as
 * auth {role:"site", token}; the server checks the certificate, the roster (host), the
 * signature and exp, and at join that the link's host is the opening's.
 *
 * The link is <base>/?oid=<oid>#site=<token>: the token travels in the fragment, which
 * browsers never send in HTTP requests, so it stays out of access logs and referrers.
 */
#ifndef BO_SITELINK_H
#define BO_SITELINK_H

#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/err.h"
#include "bo/sign.h"

#define BO_SITELINK_CTX "site_link"
#define BO_SITELINK_TTL_MAX_MS (7LL * 24 * 3600 * 1000) /* the server refuses longer ones */
#define BO_SITELINK_SITE_MAX 64                         /* characters of the site's name */
#define BO_SITELINK_TOKEN_MAX 8192                      /* characters of the token */

/** Append the token for site (1..64 characters of UTF-8) at opening oid, valid until exp,
 * signed by key whose certificate (DER) is cert.
 * Errors: BO_E_INVALID_ARG (oid, site, exp not in the future, cert empty, key not the
 * certificate's), BO_E_TOO_BIG (the token would pass BO_SITELINK_TOKEN_MAX: a certificate
 * over about 5 KB), those of bo_key_sign and bo_buf_append.
 * Ownership: out is the caller's. Context: any thread. */
bo_err bo_sitelink_token(const bo_key *key, const uint8_t *cert, size_t cert_len,
                         const char *oid, const char *site, bo_time_ms exp, bo_time_ms now,
                         bo_buf *out);

/** Append the hall screen's URL for a token: base (an https:// URL of the server, with or
 * without a trailing '/'; a wss://host:port/ws server URL is turned into https://host:port)
 * followed by "/?oid=<oid>#site=<token>".
 * Errors: BO_E_INVALID_ARG (base neither https:// nor wss://), those of bo_buf_append.
 * Ownership: out is the caller's. Context: any thread. */
bo_err bo_sitelink_url(const char *base, const char *oid, const char *token, bo_buf *out);

/** Parse a validity like "8h", "90m", "2d", "3600s" or plain seconds into milliseconds.
 * Errors: BO_E_INVALID_ARG (not a number with one of s, m, h, d; zero; over 7 days).
 * Context: any thread. */
bo_err bo_sitelink_ttl_parse(const char *s, int64_t *ms);

/** The `bidopen host site-link` command: argv holds the whole command line; the options
 * it reads are --oid, --site, --ttl (default 8h), --base (default: from --server),
 * --server, --cert, --key, --pass, --p12, --json and --help (others of the common options
 * are accepted and ignored). Prints the URL (with --json: {"url", "oid", "site", "exp"})
 * on stdout. Returns the CLI's exit code (docs/cli.md): 0, 1 usage, 5 local error.
 * Context: the main thread of the CLI. */
int bo_sitelink_cli(int argc, char **argv);

#endif
