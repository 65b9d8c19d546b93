/* End to end, through the real bidopen-server over TLS: malformed, oversized and out-of-role
 * messages get their error and change nothing.
 *
 * Raw frames go through tests/support/bo_rawws (a bare lws client that sends exactly what it
 * is given); out-of-role requests through libbidopen-client. Throughout, a supervisor
 * watches an opening and its `all` stream must not move because of a refused message.
 * (test_abuse_close.c is the regression test of the bugs these checks found.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/clock.h"
#include "bo_itest.h"
#include "bo_rawws.h"

static bo_world W;
static bo_rawws_ctx *RX;
static tc *WATCH;      /* a supervisor joined to the watched opening */
static char WATCH_OID[65];

/* ---------------------------------------------------------------- helpers ---- */

static bo_rawws *raw_open(const char *name)
{
    bo_rawws *ws = bo_rawws_open(RX, name, W.srv.url, BO_RAWWS_PROTO);
    assert_non_null(ws);
    assert_true(bo_rawws_wait_hello(ws, 10000));
    return ws;
}

static bo_rawws *raw_observer(const char *name)
{
    bo_rawws *ws = raw_open(name);
    assert_true(bo_rawws_auth_observer(ws, 1, 10000));
    return ws;
}

/* The watched opening's log position as its supervisor sees it. */
static uint64_t watch_pos(void)
{
    uint64_t last = tc_last_seq(WATCH, "all");
    uint64_t snap = tc_snap_pos(WATCH, "all");
    return last > snap ? last : snap;
}

/* A `time` request is answered: the connection is open and working. */
static void assert_time_works(bo_rawws *ws, uint64_t id)
{
    char js[96];
    snprintf(js, sizeof(js), "{\"t\":\"time\",\"id\":%llu,\"t0\":0}", (unsigned long long)id);
    assert_int_equal(bo_rawws_send_json(ws, js), BO_E_OK);
    const bo_rawws_msg *r = bo_rawws_wait_reply(ws, id, 5000);
    assert_non_null(r);
    assert_string_equal(r->t, "ok");
    assert_false(ws->closed);
}

/* The message at index >= from that is an err (any re), or NULL. */
static const bo_rawws_msg *first_err(const bo_rawws *ws, size_t from)
{
    return bo_rawws_find(ws, "err", from);
}

/* ------------------------------------------- frames that cannot be decoded ---- */

typedef struct bad_frame {
    const char *what;
    const uint8_t *p;
    size_t len;
    bool binary;
    const char *code; /* expected err code */
    bool reset;       /* the server stops reading with our bytes still coming: its close
                         becomes a TCP reset that may overtake the err and the close frame
                         (test_abuse_reset.c) */
} bad_frame;

/* Each of these gets err E_MALFORMED (E_TOO_BIG for the oversized frame), then close 4002
 * (protocol.md §1); nothing else is answered on that connection. The client sends nothing
 * after the bad frame (more bytes would be unread when the server closes: see reset). */
static void undecodable_frames_close_connection(void **state)
{
    (void)state;
    uint64_t pos0 = watch_pos();

    /* {t:"time", id:3, t0:1} */
    bo_buf good;
    bo_buf_init(&good, 1024);
    assert_int_equal(bo_rawws_mp_from_json("{\"t\":\"time\",\"id\":3,\"t0\":1}", &good), BO_E_OK);
    uint8_t trailing[64];
    memcpy(trailing, good.data, good.len);
    trailing[good.len] = 0xc0; /* nil after the map */
    bo_buf arr;
    bo_buf_init(&arr, 1024);
    assert_int_equal(bo_rawws_mp_from_json("[\"time\",3,1]", &arr), BO_E_OK);
    static const uint8_t not_mp[] = {0xc1, 0xc1, 0xde, 0xad}; /* 0xc1 is never used */
    static const char text[] = "{\"t\":\"time\",\"id\":3,\"t0\":1}";
    size_t big_len = 300 * 1024; /* the server's frame cap is 256 KiB */
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    /* a map with one key whose bin value fills the frame: well-formed but too big */
    big[0] = 0x81;
    big[1] = 0xa1;
    big[2] = 'x';
    big[3] = 0xc6; /* bin 32 */
    uint32_t bl = (uint32_t)(big_len - 8);
    big[4] = (uint8_t)(bl >> 24);
    big[5] = (uint8_t)(bl >> 16);
    big[6] = (uint8_t)(bl >> 8);
    big[7] = (uint8_t)bl;
    memset(big + 8, 0x5a, big_len - 8);

    bad_frame cases[] = {
        {"bytes that are not msgpack", not_mp, sizeof(not_mp), true, "E_MALFORMED", false},
        {"an array instead of a map", arr.data, arr.len, true, "E_MALFORMED", false},
        {"a truncated map", good.data, good.len - 1, true, "E_MALFORMED", false},
        {"trailing bytes after the map", trailing, good.len + 1, true, "E_MALFORMED", false},
        {"a text frame", (const uint8_t *)text, strlen(text), false, "E_MALFORMED", false},
        {"a frame over the frame cap", big, big_len, true, "E_TOO_BIG", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const bad_frame *c = &cases[i];
        bo_rawws *ws = raw_observer("bad");
        size_t from = ws->n_msgs;
        assert_int_equal(bo_rawws_send(ws, c->p, c->len, c->binary), BO_E_OK);
        bool closed = bo_rawws_wait_closed(ws, 10000);
        const bo_rawws_msg *e = first_err(ws, from);
        printf("# %-30s -> closed %d, err %s, close frame %u %s (expected %s, 4002)\n",
               c->what, closed, e ? e->code : "(none)", ws->close_code, ws->close_reason,
               c->code);
        assert_true(closed);
        assert_false(ws->conn_error); /* it was established and then closed */
        for (size_t k = from; k < ws->n_msgs; k++) {
            assert_string_not_equal(ws->msgs[k].t, "ok");
            assert_string_not_equal(ws->msgs[k].t, "ev");
        }
        if (!c->reset || e) {
            assert_non_null(e);
            assert_string_equal(e->code, c->code);
        }
        if (!c->reset || ws->got_close) {
            assert_true(ws->got_close);
            assert_int_equal(ws->close_code, 4002);
        }
        bo_rawws_free(ws);
    }
    free(big);
    bo_buf_cleanup(&good);
    bo_buf_cleanup(&arr);
    bo_world_run(&W, 200);
    assert_int_equal(watch_pos(), pos0);
}

/* ------------------------------ well-formed maps that break a rule: err only ---- */

static char *json_array_of_zeros(const char *prefix, size_t n, const char *suffix)
{
    size_t len = strlen(prefix) + 2 * n + strlen(suffix) + 4;
    char *s = malloc(len);
    assert_non_null(s);
    char *p = s + sprintf(s, "%s[", prefix);
    for (size_t i = 0; i < n; i++) {
        *p++ = '0';
        if (i + 1 < n)
            *p++ = ',';
    }
    sprintf(p, "]%s", suffix);
    return s;
}

static char *json_long_string(const char *prefix, size_t n, const char *suffix)
{
    char *s = malloc(strlen(prefix) + n + strlen(suffix) + 4);
    assert_non_null(s);
    char *p = s + sprintf(s, "%s\"", prefix);
    memset(p, 'a', n);
    sprintf(p + n, "\"%s", suffix);
    return s;
}

typedef struct bad_map {
    const char *what;
    char *json;       /* malloc'd */
    uint64_t id;
    const char *code;
} bad_map;

static void bad_maps_get_err_and_connection_stays(void **state)
{
    (void)state;
    uint64_t pos0 = watch_pos();
    bo_rawws *ws = raw_observer("fields");

    /* caps (hello.caps): depth 8, elements 20,000, string 65,536 bytes. The top-level map
     * is depth 1; {t,id,t0,x} is 4 pairs = 8 elements. */
    bad_map cases[] = {
        {"nesting at the cap (depth 8)", strdup("{\"t\":\"time\",\"id\":10,\"t0\":1,"
                                                "\"x\":[[[[[[[1]]]]]]]}"),
         10, "E_UNKNOWN_FIELD"},
        {"nesting over the cap (depth 9)", strdup("{\"t\":\"time\",\"id\":11,\"t0\":1,"
                                                  "\"x\":[[[[[[[[1]]]]]]]]}"),
         11, "E_TOO_DEEP"},
        {"elements at the cap (20,000)",
         json_array_of_zeros("{\"t\":\"time\",\"id\":12,\"t0\":1,\"x\":", 20000 - 8, "}"), 12,
         "E_UNKNOWN_FIELD"},
        {"elements over the cap (20,001)",
         json_array_of_zeros("{\"t\":\"time\",\"id\":13,\"t0\":1,\"x\":", 20001 - 8, "}"), 13,
         "E_TOO_MANY"},
        {"a string at the cap (65,536 bytes)",
         json_long_string("{\"t\":\"time\",\"id\":14,\"t0\":1,\"x\":", 65536, "}"), 14,
         "E_UNKNOWN_FIELD"},
        {"a string over the cap (65,537 bytes)",
         json_long_string("{\"t\":\"time\",\"id\":15,\"t0\":1,\"x\":", 65537, "}"), 15,
         "E_TOO_BIG"},
        {"an unknown type", strdup("{\"t\":\"frobnicate\",\"id\":16}"), 16, "E_UNKNOWN_TYPE"},
        {"an unknown field", strdup("{\"t\":\"time\",\"id\":17,\"t0\":1,\"zz\":1}"), 17,
         "E_UNKNOWN_FIELD"},
        {"a missing field", strdup("{\"t\":\"time\",\"id\":18}"), 18, "E_MISSING_FIELD"},
        {"a wrong type (str for int)", strdup("{\"t\":\"time\",\"id\":19,\"t0\":\"1\"}"), 19,
         "E_BAD_FIELD"},
        {"a wrong type (float for int)", strdup("{\"t\":\"time\",\"id\":20,\"t0\":1.5}"), 20,
         "E_BAD_FIELD"},
        {"an invalid value (oid)", strdup("{\"t\":\"join\",\"id\":21,\"oid\":\"a b\"}"), 21,
         "E_BAD_FIELD"},
        {"a string with NUL", strdup("{\"t\":\"join\",\"id\":22,\"oid\":\"a\\u0000b\"}"), 22,
         "E_BAD_FIELD"},
    };
    uint64_t probe = 100;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bad_map *c = &cases[i];
        assert_int_equal(bo_rawws_send_json(ws, c->json), BO_E_OK);
        const bo_rawws_msg *r = bo_rawws_wait_reply(ws, c->id, 5000);
        printf("# %-36s -> %s %s (%s)\n", c->what, r ? r->t : "(no reply)",
               r ? r->code : "", r ? r->msg : "");
        assert_non_null(r);
        assert_string_equal(r->t, "err");
        assert_string_equal(r->code, c->code);
        assert_time_works(ws, probe++);
        free(c->json);
    }
    assert_false(ws->got_close);
    bo_rawws_free(ws);
    bo_world_run(&W, 200);
    assert_int_equal(watch_pos(), pos0);
}

/* ------------------------------------------------------------ connecting ---- */

/* A WebSocket upgrade without the bidopen.v1 subprotocol (or with another) is refused. */
static void upgrade_without_subprotocol_refused(void **state)
{
    (void)state;
    const char *protos[] = {NULL, "bidopen.v2", "chat"};
    for (size_t i = 0; i < 3; i++) {
        bo_rawws *ws = bo_rawws_open(RX, "noproto", W.srv.url, protos[i]);
        if (!ws)
            continue; /* refused at once: fine */
        assert_true(bo_rawws_wait_closed(ws, 10000));
        printf("# subprotocol %-10s -> established %d, error \"%s\", hello %d\n",
               protos[i] ? protos[i] : "(none)", ws->established, ws->error, ws->have_hello);
        assert_false(ws->have_hello);
        assert_int_equal(bo_rawws_count(ws, NULL), 0);
        bo_rawws_free(ws);
    }
    /* and with it, the same server answers */
    bo_rawws *ok = raw_open("proto");
    assert_true(ok->established);
    bo_rawws_free(ok);
}

/* Requests before auth get E_UNAUTHENTICATED with their id; `time` is answered. */
static void requests_before_auth(void **state)
{
    (void)state;
    uint64_t pos0 = watch_pos();
    bo_rawws *ws = raw_open("early");
    char js[256];
    const char *reqs[] = {
        "{\"t\":\"list\",\"id\":31}",
        "{\"t\":\"join\",\"id\":32,\"oid\":\"@\"}",
        "{\"t\":\"pause\",\"id\":33,\"oid\":\"@\",\"reason\":\"r\"}",
        "{\"t\":\"bl_list\",\"id\":34}",
        "{\"t\":\"leave\",\"id\":35}",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        const char *at = strchr(reqs[i], '@');
        if (at)
            snprintf(js, sizeof(js), "%.*s%s%s", (int)(at - reqs[i]), reqs[i], WATCH_OID,
                     at + 1);
        else
            snprintf(js, sizeof(js), "%s", reqs[i]);
        assert_int_equal(bo_rawws_send_json(ws, js), BO_E_OK);
        const bo_rawws_msg *r = bo_rawws_wait_reply(ws, 31 + i, 5000);
        assert_non_null(r);
        assert_string_equal(r->t, "err");
        assert_string_equal(r->code, "E_UNAUTHENTICATED");
    }
    assert_int_equal(bo_rawws_count(ws, "ev"), 0);
    assert_time_works(ws, 40);
    /* after auth the same connection works */
    assert_true(bo_rawws_auth_observer(ws, 41, 5000));
    assert_true(bo_rawws_join(ws, 42, WATCH_OID, 5000));
    bo_rawws_free(ws);
    bo_world_run(&W, 200);
    assert_int_equal(watch_pos(), pos0);
}

/* No auth within 10 s: err E_AUTH_TIMEOUT, close 4001. A connection that authenticated in
 * time stays. */
static void auth_timeout_closes_connection(void **state)
{
    (void)state;
    int64_t t0 = bo_clock_mono_ms();
    bo_rawws *ws = raw_open("silent");
    bo_rawws *ok = raw_observer("talker");
    assert_true(bo_rawws_wait_closed(ws, 15000));
    int64_t took = bo_clock_mono_ms() - t0;
    const bo_rawws_msg *e = first_err(ws, 0);
    printf("# closed after %lld ms: err %s, close frame %u %s (expected E_AUTH_TIMEOUT, 4001)\n",
           (long long)took, e ? e->code : "(none)", ws->close_code, ws->close_reason);
    assert_true(took >= 9500);
    assert_true(took <= 13000);
    assert_false(ws->conn_error);
    assert_non_null(e);
    assert_string_equal(e->code, "E_AUTH_TIMEOUT");
    assert_true(ws->got_close);
    assert_int_equal(ws->close_code, 4001);
    assert_false(ok->closed);
    assert_time_works(ok, 77);
    bo_rawws_free(ws);
    bo_rawws_free(ok);
}

/* More than the burst (40) at once: the excess gets E_RATE_LIMITED (with its request's id),
 * the connection stays and works again once the bucket refilled. */
static void rate_limit_burst(void **state)
{
    (void)state;
    bo_rawws *ws = raw_observer("burst");
    bo_world_run(&W, 2100); /* the auth used a token: let the bucket fill up again */
    size_t from = ws->n_msgs;
    const int N = 80;
    char js[96];
    for (int i = 0; i < N; i++) {
        snprintf(js, sizeof(js), "{\"t\":\"time\",\"id\":%d,\"t0\":0}", 1000 + i);
        assert_int_equal(bo_rawws_send_json(ws, js), BO_E_OK);
    }
    bo_rawws_wait_count(ws, NULL, from + (size_t)N, 10000);
    int ok = 0, limited = 0, limited_re = 0;
    for (size_t i = from; i < ws->n_msgs; i++) {
        const bo_rawws_msg *m = &ws->msgs[i];
        if (!strcmp(m->t, "ok"))
            ok++;
        else if (!strcmp(m->t, "err") && !strcmp(m->code, "E_RATE_LIMITED")) {
            limited++;
            limited_re += m->has_re;
        }
    }
    printf("# %d requests at once: %d ok, %d E_RATE_LIMITED (%d of them with re)\n", N, ok,
           limited, limited_re);
    assert_int_equal(limited_re, limited);
    assert_int_equal(ok + limited, N);
    assert_true(ok >= 40);
    assert_true(ok <= 60); /* 20/s refill while the burst arrives (slow on a loaded machine) */
    assert_true(limited >= N - 60);
    assert_false(ws->closed);
    bo_world_run(&W, 1000);
    assert_time_works(ws, 2000);
    bo_rawws_free(ws);
}

/* ------------------------------------------------------ out-of-role requests ---- */

static size_t list_count(tc *t)
{
    tc_reply_reset(t);
    assert_int_equal(bo_client_list(t->c, tc_on_reply, t), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, t, 5000), BO_E_OK);
    size_t n = 0;
    for (const char *p = t->reply_json; (p = strstr(p, "\"oid\":")); p++)
        n++;
    return n;
}

static size_t bl_count(tc *sup)
{
    tc_reply_reset(sup);
    assert_int_equal(bo_client_bl_list(sup->c, tc_on_reply, sup), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, sup, 5000), BO_E_OK);
    size_t n = 0;
    for (const char *p = sup->reply_json; (p = strstr(p, "\"uscc\":")); p++)
        n++;
    return n;
}

/* After a refusal: the reply's code, and the supervisor's view of the log did not move. */
static void expect_refused(tc *who, bo_err err, const char *code, tc *sup, uint64_t pos)
{
    printf("# %-10s -> %s (%s)\n", who->name, who->reply_code, who->reply_msg);
    assert_int_not_equal(err, BO_E_OK);
    assert_string_equal(bo_err_name(err), code);
    assert_string_equal(who->reply_code, code);
    bo_world_run(&W, 250);
    assert_int_equal(tc_last_seq(sup, "all"), pos);
}

static bo_err wait_req(tc *t, bo_err sent)
{
    return sent ? sent : tc_wait_reply(&W.loop, t, 10000);
}

static void out_of_role_refused(void **state)
{
    (void)state;
    char oid[65];
    tc *host = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, host));
    assert_true(bo_world_create(&W, host, "T-roles", 0, 8000, "", oid));
    tc_free(host);

    host = bo_world_staff(&W, "host", "host", oid);
    tc *host2 = bo_world_staff(&W, "host2", "host", oid);
    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", oid);
    tc *site = bo_world_staff(&W, "site-1", "site", oid);
    tc *obs = bo_world_observer(&W, "observer", oid);
    /* three registered before the deadline, one to register late, one never registered */
    const char *names[] = {"b1-rsa", "b2-p256", "b5-mixed", "b4-mixed", "b3-sm2"};
    tc *b[5];
    for (int i = 0; i < 5; i++)
        b[i] = bo_world_bidder(&W, names[i], true, oid);
    tc *all[] = {host, host2, sup, site, obs, b[0], b[1], b[2], b[3], b[4]};
    assert_int_equal(bo_world_connect_all(&W, all, 10, 30000), 10);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bo_world_register(&W, b[i]), BO_E_OK);
    assert_int_equal(bo_world_signin(&W, b[0]), BO_E_OK);
    /* the deadline passes: awaiting_open, the list revealed, the head signed */
    assert_true(tc_wait_event(&W.loop, sup, "bidders_revealed", 15000));
    bo_world_run(&W, 700);
    uint64_t pos = tc_last_seq(sup, "all");
    assert_true(pos > 0);
    size_t openings = list_count(obs);
    size_t bl = bl_count(sup);

    /* an observer creates an opening */
    assert_false(bo_world_create(&W, obs, "T-observer", 0, 60000, "", oid));
    expect_refused(obs, obs->reply_err, "E_FORBIDDEN", sup, pos);
    assert_int_equal(list_count(obs), openings);

    /* a bidder pauses */
    tc_reply_reset(b[0]);
    bo_err e = wait_req(b[0], bo_client_pause(b[0]->c, NULL, "bidder says stop", tc_on_reply, b[0]));
    expect_refused(b[0], e, "E_FORBIDDEN", sup, pos);

    /* another host pauses this host's opening */
    tc_reply_reset(host2);
    e = wait_req(host2, bo_client_pause(host2->c, NULL, "not mine", tc_on_reply, host2));
    expect_refused(host2, e, "E_NOT_HOST", sup, pos);
    tc_reply_reset(host2);
    e = wait_req(host2, bo_client_fail(host2->c, NULL, "not mine", tc_on_reply, host2));
    expect_refused(host2, e, "E_NOT_HOST", sup, pos);

    /* a supervisor declares the opening failed */
    tc_reply_reset(sup);
    e = wait_req(sup, bo_client_fail(sup->c, NULL, "supervisor says fail", tc_on_reply, sup));
    expect_refused(sup, e, "E_FORBIDDEN", sup, pos);

    /* a bidder registers after the deadline */
    e = bo_world_register(&W, b[3]);
    expect_refused(b[3], e, "E_DEADLINE_PASSED", sup, pos);

    /* a site adds to the blacklist */
    bo_bl_entry ent = {.uscc = "91350100M000100Y43", .name = "某公司", .reason = "test"};
    tc_reply_reset(site);
    e = wait_req(site, bo_client_bl_add(site->c, &ent, 1, tc_on_reply, site));
    expect_refused(site, e, "E_FORBIDDEN", sup, pos);
    assert_int_equal(bl_count(sup), bl);

    /* a bidder signs in to an opening it is not registered for */
    e = bo_world_signin(&W, b[4]);
    expect_refused(b[4], e, "E_NOT_REGISTERED", sup, pos);

    /* an observer pauses, a site resumes */
    tc_reply_reset(obs);
    e = wait_req(obs, bo_client_pause(obs->c, NULL, "observer", tc_on_reply, obs));
    expect_refused(obs, e, "E_FORBIDDEN", sup, pos);
    tc_reply_reset(site);
    e = wait_req(site, bo_client_resume(site->c, NULL, tc_on_reply, site));
    expect_refused(site, e, "E_FORBIDDEN", sup, pos);

    /* and the host can still act: the refusals left the opening as it was. (Without
     * sealed bids there is no quorum after the deadline: `fail` is what the host may do.) */
    size_t changes = tc_count(sup, "phase_changed");
    tc_reply_reset(host);
    e = wait_req(host, bo_client_fail(host->c, NULL, "无人投标", tc_on_reply, host));
    assert_int_equal(e, BO_E_OK);
    assert_true(tc_wait_seq(&W.loop, sup, "all", pos + 1, 5000));
    bo_world_run(&W, 500);
    assert_int_equal(tc_count(sup, "phase_changed"), changes + 1);
    uint64_t end = tc_last_seq(sup, "all");
    assert_true(end > pos);
    assert_non_null(strstr(tc_last(sup, "phase_changed")->body_json, "\"to\":\"failed\""));

    /* a supervisor that joins now sees the same position in its snapshot */
    tc *sup2 = bo_world_staff(&W, "supervisor", "supervisor", oid);
    assert_true(bo_world_connect(&W, sup2));
    assert_int_equal(tc_snap_pos(sup2, "all"), end);
    tc_free(sup2);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tc_free(all[i]);
}

/* ------------------------------------------------------------------ setup ---- */

static int setup(void **state)
{
    (void)state;
    bo_world_up(&W, "abuse", NULL);
    char ca[600];
    RX = bo_rawws_ctx_new(&W.loop, bo_h_path(ca, W.pki, "server/ca.pem"));
    tc *host = bo_world_staff(&W, "host", "host", NULL);
    if (!bo_world_connect(&W, host) ||
        !bo_world_create(&W, host, "T-watch", 0, 3600 * 1000, "", WATCH_OID))
        return -1;
    tc_free(host);
    WATCH = bo_world_staff(&W, "supervisor", "supervisor", WATCH_OID);
    if (!bo_world_connect(&W, WATCH))
        return -1;
    /* the check-in phase change comes at once: let it pass so that the log stands still */
    bo_world_run(&W, 1000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tc_free(WATCH);
    bo_rawws_ctx_free(RX);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(undecodable_frames_close_connection),
        cmocka_unit_test(bad_maps_get_err_and_connection_stays),
        cmocka_unit_test(upgrade_without_subprotocol_refused),
        cmocka_unit_test(requests_before_auth),
        cmocka_unit_test(rate_limit_burst),
        cmocka_unit_test(out_of_role_refused),
        cmocka_unit_test(auth_timeout_closes_connection),
    };
    if (getenv("BO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("BO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
