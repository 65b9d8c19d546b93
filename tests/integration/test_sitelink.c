/* Site links end to end: a hall's screen authenticates with a link the opening's host signed
 * (no certificate of its own), joins, answers pings, and appears in the host's presence by
 * name with its round trip; every bad link is refused with E_BAD_TOKEN (or E_FORBIDDEN)
 * saying why; `bidopen host site-link` prints a link the server accepts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/cred.h"
#include "bo/hex.h"
#include "bo/sitelink.h"
#include "bo/wire.h"
#include "bo_itest.h"
#include "bo_rawws.h"

static bo_world W;
static char OID[65], OID2[65];

typedef struct who {
    bo_cred *cred;
    const uint8_t *cert;
    size_t cert_len;
} who;

static who load(const char *name)
{
    char cert[600], key[600], rel[128];
    snprintf(rel, sizeof(rel), "staff/%s-cert.pem", name);
    bo_h_path(cert, W.pki, rel);
    snprintf(rel, sizeof(rel), "staff/%s-key.pem", name);
    bo_h_path(key, W.pki, rel);
    bo_cred_files f = {cert, key, NULL, NULL, NULL};
    bo_err err;
    char detail[300];
    who w = {0};
    w.cred = bo_cred_load(&f, &err, detail, sizeof(detail));
    if (!w.cred)
        fail_msg("%s: %s", name, detail);
    bo_bytes_list ch = bo_cred_chain(w.cred);
    w.cert = ch.v[0].p;
    w.cert_len = ch.v[0].len;
    return w;
}

/* A token built by hand: the signed values may differ from the shown ones (tampering). */
static char *forge(const who *w, const char *oid, const char *site_signed,
                   const char *site_shown, bo_time_ms exp)
{
    bo_buf tbs, sig, mp;
    bo_buf_init(&tbs, 4096);
    bo_buf_init(&sig, 4096);
    bo_buf_init(&mp, 16384);
    assert_int_equal(bo_mp_array_header(&tbs, 3), BO_E_OK);
    bo_mp_str(&tbs, oid, strlen(oid));
    bo_mp_str(&tbs, site_signed, strlen(site_signed));
    bo_mp_i64(&tbs, exp);
    assert_int_equal(bo_key_sign(bo_cred_key(w->cred), BO_SITELINK_CTX, tbs.data, tbs.len, &sig),
                     BO_E_OK);
    uint8_t fpr[32];
    bo_cert_fpr(w->cert, w->cert_len, fpr);
    bo_err err;
    bo_mpmap *m = bo_mpmap_new(&err);
    bo_mpmap_bin(m, "cert", w->cert, w->cert_len);
    bo_mpmap_i64(m, "exp", exp);
    bo_mpmap_bin(m, "host_fpr", fpr, 32);
    bo_mpmap_str(m, "oid", oid);
    bo_mpmap_bin(m, "sig", sig.data, sig.len);
    bo_mpmap_str(m, "site", site_shown);
    assert_int_equal(bo_mpmap_finish(m, &mp), BO_E_OK);
    bo_mpmap_free(m);
    char *b64 = malloc(4 * ((mp.len + 2) / 3) + 1);
    size_t n = bo_b64_encode(mp.data, mp.len, b64);
    b64[n] = 0; /* standard base64 with padding: the server takes both alphabets */
    bo_buf_cleanup(&tbs);
    bo_buf_cleanup(&sig);
    bo_buf_cleanup(&mp);
    return b64;
}

static char *token_of(const who *w, const char *oid, const char *site, int64_t ttl_ms)
{
    bo_buf t;
    bo_buf_init(&t, BO_SITELINK_TOKEN_MAX);
    bo_time_ms now = bo_clock_now_ms();
    assert_int_equal(bo_sitelink_token(bo_cred_key(w->cred), w->cert, w->cert_len, oid, site,
                                       now + ttl_ms, now, &t),
                     BO_E_OK);
    return (char *)bo_buf_steal(&t, NULL);
}

static bo_rawws_ctx *RX;
static uint64_t next_id = 100;

/* A fresh connection that sends auth{role:site, token}; returns the reply (NULL: none). */
static const bo_rawws_msg *auth_with(bo_rawws **out, const char *role, const char *token)
{
    bo_rawws *ws = bo_rawws_open(RX, "hall", W.srv.url, BO_RAWWS_PROTO);
    assert_non_null(ws);
    assert_true(bo_rawws_wait_hello(ws, 10000));
    size_t jl = strlen(token) + 200;
    char *json = malloc(jl);
    uint64_t id = next_id++;
    snprintf(json, jl, "{\"t\":\"auth\",\"id\":%llu,\"role\":\"%s\",\"token\":\"%s\"}",
             (unsigned long long)id, role, token);
    assert_int_equal(bo_rawws_send_json(ws, json), BO_E_OK);
    free(json);
    *out = ws;
    return bo_rawws_wait_reply(ws, id, 10000);
}

static void expect_refused(const char *role, const char *token, const char *code,
                           const char *words)
{
    bo_rawws *ws;
    const bo_rawws_msg *r = auth_with(&ws, role, token);
    assert_non_null(r);
    if (strcmp(r->t, "err") || strcmp(r->code, code))
        fail_msg("expected %s (%s), got %s", code, words ? words : "", r->json);
    if (words && !strstr(r->msg, words))
        fail_msg("refusal '%s' does not say '%s'", r->msg, words);
    bo_rawws_free(ws);
}

static bool host_sees(void *ud)
{
    tc *host = ud;
    return host->presence_json && strstr(host->presence_json, "县政务服务中心") &&
           strstr(host->presence_json, "\"rtt_ms\":") &&
           !strstr(host->presence_json, "\"rtt_ms\":-1");
}

/* The hall appears in the host's presence with its name and round trip. */
static void link_signs_in_and_shows(void **state)
{
    (void)state;
    who host = load("host");
    char *tok = token_of(&host, OID, "某县政务服务中心开标室", 3600 * 1000);
    tc *h = bo_world_staff(&W, "host", "host", OID);
    assert_true(bo_world_connect(&W, h));

    bo_rawws *ws;
    const bo_rawws_msg *r = auth_with(&ws, "site", tok);
    assert_non_null(r);
    if (strcmp(r->t, "ok"))
        fail_msg("auth refused: %s %s", r->code, r->msg);
    assert_non_null(strstr(r->json, "\"role\":\"site\""));
    assert_non_null(strstr(r->json, "某县政务服务中心开标室"));
    assert_non_null(strstr(r->json, OID));
    assert_true(bo_rawws_join(ws, next_id++, OID, 10000));
    /* the first ping comes within a second of auth: answer it */
    assert_true(bo_rawws_wait_count(ws, "ping", 1, 5000));
    assert_int_equal(bo_rawws_send_json(ws, "{\"t\":\"pong\",\"n\":1}"), BO_E_OK);
    assert_true(bo_h_run_until(&W.loop, host_sees, h, 10000));
    assert_non_null(strstr(h->presence_json, "\"site\":1"));

    /* the same link does not open another opening */
    uint64_t id = next_id++;
    char json[200];
    snprintf(json, sizeof(json), "{\"t\":\"join\",\"id\":%llu,\"oid\":\"%s\"}",
             (unsigned long long)id, OID2);
    assert_int_equal(bo_rawws_send_json(ws, json), BO_E_OK);
    r = bo_rawws_wait_reply(ws, id, 10000);
    assert_non_null(r);
    assert_string_equal(r->code, "E_FORBIDDEN");
    bo_rawws_free(ws);
    tc_free(h);
    free(tok);
    bo_cred_free(host.cred);
}

static void bad_links_refused(void **state)
{
    (void)state;
    who host = load("host"), host2 = load("host2"), sup = load("supervisor");
    bo_time_ms now = bo_clock_now_ms();
    char *t;

    t = forge(&host, OID, "A 厅", "B 厅", now + 3600000); /* shown name is not the signed one */
    expect_refused("site", t, "E_BAD_TOKEN", "signature");
    free(t);
    t = forge(&host, OID, "A 厅", "A 厅", now - 1000);
    expect_refused("site", t, "E_BAD_TOKEN", "expired");
    free(t);
    t = forge(&host, OID, "A 厅", "A 厅", now + 8LL * 24 * 3600 * 1000);
    expect_refused("site", t, "E_BAD_TOKEN", "7 days");
    free(t);
    t = forge(&sup, OID, "A 厅", "A 厅", now + 3600000); /* not a host */
    expect_refused("site", t, "E_BAD_TOKEN", "roster as host");
    free(t);
    t = forge(&host, OID, "", "", now + 3600000);
    expect_refused("site", t, "E_BAD_TOKEN", "site");
    free(t);
    expect_refused("site", "bm90IGEgdG9rZW4", "E_BAD_TOKEN", "msgpack");
    t = forge(&host, OID, "A 厅", "A 厅", now + 3600000);
    expect_refused("observer", t, "E_BAD_FIELD", "role site");
    free(t);

    /* host2 is a host, but not this opening's: auth passes, join does not */
    t = token_of(&host2, OID, "A 厅", 3600000);
    bo_rawws *ws;
    const bo_rawws_msg *r = auth_with(&ws, "site", t);
    assert_non_null(r);
    assert_string_equal(r->t, "ok");
    uint64_t id = next_id++;
    char json[200];
    snprintf(json, sizeof(json), "{\"t\":\"join\",\"id\":%llu,\"oid\":\"%s\"}",
             (unsigned long long)id, OID);
    assert_int_equal(bo_rawws_send_json(ws, json), BO_E_OK);
    r = bo_rawws_wait_reply(ws, id, 10000);
    assert_non_null(r);
    assert_string_equal(r->code, "E_BAD_TOKEN");
    bo_rawws_free(ws);
    free(t);
    bo_cred_free(host.cred);
    bo_cred_free(host2.cred);
    bo_cred_free(sup.cred);
}

/* The CLI's link: its token is accepted, its URL has the shape docs/hall.md shows. */
static void cli_link(void **state)
{
    (void)state;
    const char *cli = getenv("BO_CLI_BIN");
    assert_non_null(cli);
    char cert[600], key[600], cmd[2400];
    snprintf(cmd, sizeof(cmd),
             "'%s' host site-link --oid %s --site '二号开标厅' --ttl 2h "
             "--server wss://127.0.0.1:%d/ws --cert '%s' --key '%s' 2>/dev/null",
             cli, OID, W.srv.port, bo_h_path(cert, W.pki, "staff/host-cert.pem"),
             bo_h_path(key, W.pki, "staff/host-key.pem"));
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char url[BO_SITELINK_TOKEN_MAX + 512] = "";
    assert_non_null(fgets(url, sizeof(url), f));
    assert_int_equal(pclose(f), 0);
    url[strcspn(url, "\n")] = 0;
    char want[200];
    snprintf(want, sizeof(want), "https://127.0.0.1:%d/?oid=%s#site=", W.srv.port, OID);
    if (strncmp(url, want, strlen(want)))
        fail_msg("url %s does not start with %s", url, want);
    bo_rawws *ws;
    const bo_rawws_msg *r = auth_with(&ws, "site", url + strlen(want));
    assert_non_null(r);
    assert_string_equal(r->t, "ok");
    assert_non_null(strstr(r->json, "二号开标厅"));
    bo_rawws_free(ws);

    /* usage errors: exit 1 */
    snprintf(cmd, sizeof(cmd), "'%s' host site-link --oid %s --ttl 9d --site x "
                               "--server wss://127.0.0.1:1/ws --cert '%s' 2>/dev/null",
             cli, OID, cert);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof(cmd), "'%s' host site-link --oid %s --site x 2>/dev/null", cli, OID);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
}

static void pure_helpers(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(bo_sitelink_ttl_parse("8h", &ms), BO_E_OK);
    assert_int_equal(ms, 8LL * 3600 * 1000);
    assert_int_equal(bo_sitelink_ttl_parse("90m", &ms), BO_E_OK);
    assert_int_equal(ms, 90LL * 60 * 1000);
    assert_int_equal(bo_sitelink_ttl_parse("7d", &ms), BO_E_OK);
    assert_int_equal(bo_sitelink_ttl_parse("3600", &ms), BO_E_OK);
    assert_int_equal(ms, 3600LL * 1000);
    assert_int_equal(bo_sitelink_ttl_parse("8d", &ms), BO_E_INVALID_ARG);
    assert_int_equal(bo_sitelink_ttl_parse("0h", &ms), BO_E_INVALID_ARG);
    assert_int_equal(bo_sitelink_ttl_parse("1w", &ms), BO_E_INVALID_ARG);
    assert_int_equal(bo_sitelink_ttl_parse("", &ms), BO_E_INVALID_ARG);
    assert_int_equal(bo_sitelink_ttl_parse("-1h", &ms), BO_E_INVALID_ARG);

    bo_buf u;
    bo_buf_init(&u, 4096);
    assert_int_equal(bo_sitelink_url("wss://hall.example:8443/ws", "T-1", "abc", &u), BO_E_OK);
    assert_string_equal((char *)u.data, "https://hall.example:8443/?oid=T-1#site=abc");
    bo_buf_reset(&u);
    assert_int_equal(bo_sitelink_url("https://h.example/", "T-1", "abc", &u), BO_E_OK);
    assert_string_equal((char *)u.data, "https://h.example/?oid=T-1#site=abc");
    bo_buf_reset(&u);
    assert_int_equal(bo_sitelink_url("https://h.example/hall//", "T-1", "abc", &u), BO_E_OK);
    assert_string_equal((char *)u.data, "https://h.example/hall/?oid=T-1#site=abc");
    assert_int_equal(bo_sitelink_url("http://h.example", "T-1", "abc", &u), BO_E_INVALID_ARG);
    bo_buf_cleanup(&u);

    /* the token: url-safe alphabet, no padding; refusals */
    who host = load("host");
    bo_time_ms now = bo_clock_now_ms();
    bo_buf t;
    bo_buf_init(&t, BO_SITELINK_TOKEN_MAX);
    assert_int_equal(bo_sitelink_token(bo_cred_key(host.cred), host.cert, host.cert_len, "T-1",
                                       "厅", now + 1000, now, &t),
                     BO_E_OK);
    assert_null(strpbrk((char *)t.data, "+/="));
    uint8_t raw[BO_SITELINK_TOKEN_MAX];
    size_t rl = 0;
    assert_int_equal(bo_b64_decode((char *)t.data, t.len, raw, &rl), BO_E_OK);
    msgpack_zone *z = NULL;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(raw, rl, &z, &o), BO_E_OK);
    int64_t exp = 0;
    assert_true(bo_mpo_i64(&o, "exp", &exp));
    assert_int_equal(exp, now + 1000);
    msgpack_zone_free(z);
    bo_buf_reset(&t);
    const bo_key *k = bo_cred_key(host.cred);
    assert_int_equal(bo_sitelink_token(k, host.cert, host.cert_len, "T-1", "厅", now, now, &t),
                     BO_E_INVALID_ARG); /* not in the future */
    assert_int_equal(bo_sitelink_token(k, host.cert, host.cert_len, "T-1", "厅",
                                       now + BO_SITELINK_TTL_MAX_MS + 1, now, &t),
                     BO_E_INVALID_ARG);
    assert_int_equal(bo_sitelink_token(k, host.cert, host.cert_len, "bad oid", "厅", now + 1000,
                                       now, &t),
                     BO_E_INVALID_ARG);
    assert_int_equal(bo_sitelink_token(k, host.cert, host.cert_len, "T-1", "", now + 1000, now,
                                       &t),
                     BO_E_INVALID_ARG);
    who sup = load("supervisor"); /* the key is not the certificate's */
    assert_int_equal(bo_sitelink_token(k, sup.cert, sup.cert_len, "T-1", "厅", now + 1000, now,
                                       &t),
                     BO_E_INVALID_ARG);
    bo_buf_cleanup(&t);
    bo_cred_free(host.cred);
    bo_cred_free(sup.cred);
}

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "sitelink", NULL);
    tc *host = bo_world_staff(&W, "host", "host", NULL);
    if (!bo_world_connect(&W, host) ||
        !bo_world_create(&W, host, "T-link", 60000, 600000, "", OID) ||
        !bo_world_create(&W, host, "T-link-2", 60000, 600000, "", OID2))
        return -1;
    tc_free(host);
    char ca[600];
    RX = bo_rawws_ctx_new(&W.loop, bo_h_path(ca, W.pki, "server/ca.pem"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_rawws_ctx_free(RX);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pure_helpers),
        cmocka_unit_test(link_signs_in_and_shows),
        cmocka_unit_test(bad_links_refused),
        cmocka_unit_test(cli_link),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
