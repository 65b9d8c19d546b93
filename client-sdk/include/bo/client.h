/* bidopen client: one connection to a bidopen server, driven by a libuv loop.
 *
 * A bo_client_ctx wraps one libwebsockets client context on the application's uv_loop_t;
 * any number of bo_client share it (integration tests and load generators run hundreds on
 * one loop; each costs about a kilobyte while idle). A bo_client runs one participant's
 * connection through its life:
 *
 *   CONNECTING -> HELLO -> AUTH -> JOINING -> JOINED      (READY instead of JOINING/JOINED
 *        ^                                      |          when no opening is to be joined)
 *        +------------- BACKOFF <---------------+          (lost: reconnect, resume)
 *   FAILED: refused for good (auth or join refused, retries exhausted); CLOSED: stopped.
 *
 * It cycles through the server URLs with exponential backoff and full jitter (0.5 s
 * doubling to 20 s, reset after a minute of stable connection), resumes from its stream
 * cursors on every rejoin so that the application sees each event exactly once and in order
 * (a seq jump makes it reconnect and resume), answers the server's pings, and keeps the
 * server clock (docs/protocol.md §9) for countdowns and for the time it signs.
 *
 * Every function and every callback runs on the loop thread. Callbacks may call any
 * function here, bo_client_free of their own client included.
 */
#ifndef BO_CLIENT_H
#define BO_CLIENT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bo/bytes.h"
#include "bo/cursor.h"
#include "bo/err.h"
#include "bo/sign.h"
#include "bo/wire.h"

/* Limits of one client. */
#define BO_CLIENT_RX_MAX (4u << 20)  /* bytes of one message from the server */
#define BO_CLIENT_QUEUE_MAX 64u      /* default outgoing frames queued */
#define BO_CLIENT_PENDING_MAX 256u   /* requests in flight */
#define BO_CLIENT_URLS_MAX 16u       /* server URLs */
#define BO_CLIENT_TIME_SYNC_MS 30000 /* time request period */
#define BO_CLIENT_IDLE_MS 35000      /* nothing received this long: the connection is dead */
#define BO_CLIENT_HELLO_MS 10000     /* connected, no hello this long: drop and retry */

typedef struct bo_client_ctx bo_client_ctx;
typedef struct bo_client bo_client;

/* ------------------------------------------------------------------ context ---- */

typedef struct bo_client_ctx_opts {
    const char *ca_file;   /* PEM file of the CA(s) that issued the servers' TLS certificates;
                              NULL: the system store */
    bool allow_plain_ws;   /* accept ws:// URLs (no TLS). Tests on loopback only. */
    bool skip_hostname_check; /* accept a server certificate for another name (tests) */
    unsigned max_clients;  /* sizing hint for lws' fd tables; 0: from `ulimit -n` */
    int lws_log_level;     /* lws_set_log_level() bits (process-wide); 0: errors only;
                              -1: leave lws' setting alone */
} bo_client_ctx_opts;

/** Create the shared context on loop (LWS_SERVER_OPTION_LIBUV with loop as a foreign loop).
 * Errors: NULL with *err = BO_E_IO (ca_file unreadable), BO_E_CERT_INVALID (ca_file holds no
 * certificate), BO_E_CONFIG (libwebsockets refused; see its log), BO_E_NOMEM.
 * Ownership: free with bo_client_ctx_free. Context: loop thread. */
bo_client_ctx *bo_client_ctx_new(uv_loop_t *loop, const bo_client_ctx_opts *o, bo_err *err);

/** Free the context and every client still on it (their pending requests get BO_E_CANCELED;
 * no state callback runs). Asynchronous: libwebsockets closes its handles on the loop, so
 * the application keeps running the loop afterwards, e.g.
 *     bo_client_ctx_free(ctx);
 *     uv_run(loop, UV_RUN_DEFAULT);   // returns once lws' and the clients' handles closed
 *     uv_loop_close(loop);            // (if the application has no handles of its own)
 * Safe from inside a client callback (the destruction starts on the next loop iteration).
 * Accepts NULL. Context: loop thread. */
void bo_client_ctx_free(bo_client_ctx *ctx);

/** The loop the context runs on. Context: any thread. */
uv_loop_t *bo_client_ctx_loop(const bo_client_ctx *ctx);

/* ------------------------------------------------------------------- client ---- */

typedef enum bo_client_state {
    BO_CLIENT_IDLE = 0,   /* created, not started */
    BO_CLIENT_CONNECTING, /* TCP, TLS and WebSocket handshakes */
    BO_CLIENT_HELLO,      /* connected, waiting for the server's hello */
    BO_CLIENT_AUTH,       /* auth sent */
    BO_CLIENT_JOINING,    /* authenticated, join sent */
    BO_CLIENT_READY,      /* authenticated; no opening to join (opts.oid NULL) */
    BO_CLIENT_JOINED,     /* joined: snapshot delivered, events flow */
    BO_CLIENT_BACKOFF,    /* connection lost or refused for now: reconnecting after a delay */
    BO_CLIENT_FAILED,     /* refused for good or out of retries: no more attempts */
    BO_CLIENT_CLOSED,     /* stopped (bo_client_stop, or the server closed with 1000) */
} bo_client_state;

/** "connecting", "joined", ... Never NULL. Context: any thread. */
const char *bo_client_state_name(bo_client_state s);

/* One event as it arrived (docs/protocol.md §7). Everything points into the frame and is
 * valid only during the callback. */
typedef struct bo_client_event {
    const char *oid;
    const char *st;   /* "pub", "staff", "b" or "all" */
    uint64_t seq;     /* position in st */
    uint64_t at;      /* private streams: pub events before this one */
    bool has_at;
    int64_t ts;       /* server time */
    const char *kind; /* "phase_changed", ... */
    const msgpack_object *body; /* a map */
    const uint8_t *hash;        /* 32 bytes: the event's chain hash */
} bo_client_event;

typedef struct bo_client_callbacks {
    /* Every state change. err is BO_E_OK except for BACKOFF (why the connection was lost or
     * could not be made), FAILED (why it gave up) and CLOSED by the server; code is the
     * server's "E_..." code when the server refused (else NULL), msg a sentence (or NULL). */
    void (*on_state)(void *ud, bo_client_state st, bo_err err, const char *code,
                     const char *msg);
    /* The join reply's snapshot. recovered true: the client resumed and the events missed
     * while away follow through on_event (the application's own state is still valid);
     * false: the snapshot replaces whatever the application knew. */
    void (*on_snapshot)(void *ud, const msgpack_object *snap, bool recovered);
    /* An event: each one once, in log order, across reconnects. */
    void (*on_event)(void *ud, const bo_client_event *ev);
    /* presence.data (hosts and supervisors). */
    void (*on_presence)(void *ud, const msgpack_object *data);
    /* A server notice (e.g. E_SHUTTING_DOWN before a restart). */
    void (*on_notice)(void *ud, const char *code, const char *msg);
} bo_client_callbacks;

typedef struct bo_client_opts {
    const char *const *urls; /* wss://host[:port][/path] (port 443, path /ws by default),
                                tried in turn; copied */
    size_t n_urls;           /* 1..BO_CLIENT_URLS_MAX */
    const char *role;        /* operator, host, supervisor, bidder, site, observer; copied */
    /* Credentials (all roles but observer), borrowed: they must outlive the client; many
     * clients may share them. */
    const bo_key *key;
    bo_bytes_list chain;     /* signing certificate (DER) first, then intermediates; <= 4 */
    bo_bytes_list enc_chain; /* bidders: encryption certificate and intermediates; optional */
    const char *oid;         /* opening to join; NULL: none (create, list, blacklist); copied */
    uint32_t backoff_min_ms; /* 0: 500 */
    uint32_t backoff_max_ms; /* 0: 20000 */
    unsigned max_retries;    /* retries of a failed attempt before FAILED (FAILED after
                              * max_retries + 1 failures in a row); 0: never give up */
    unsigned queue_max;      /* outgoing frames queued; 0: BO_CLIENT_QUEUE_MAX */
    bo_client_callbacks cb;  /* any may be NULL */
    void *ud;                /* passed to every callback */
} bo_client_opts;

/** Make a client (it does not connect before bo_client_start).
 * Errors: NULL with *err = BO_E_INVALID_ARG (no or too many URLs, a URL that does not
 * parse or is ws:// without allow_plain_ws, an unknown role, credentials missing for a role
 * that needs them, an invalid oid), BO_E_NOMEM.
 * Ownership: free with bo_client_free; opts are copied except the credentials.
 * Context: loop thread. */
bo_client *bo_client_new(bo_client_ctx *ctx, const bo_client_opts *o, bo_err *err);

/** Start connecting (to the first URL, at once). Errors: BO_E_INVALID_ARG (not IDLE).
 * Context: loop thread. */
bo_err bo_client_start(bo_client *c);

/** Stop: close the connection (WebSocket close 1000), cancel pending requests
 * (BO_E_CANCELED) and stay CLOSED. Context: loop thread. */
void bo_client_stop(bo_client *c);

/** Stop and free. Pending requests get BO_E_CANCELED; no state callback runs. The memory is
 * released once the client's timer handle closed (a loop iteration later). Accepts NULL.
 * Context: loop thread; also from inside this client's own callbacks. */
void bo_client_free(bo_client *c);

/** The current state. Context: loop thread. */
bo_client_state bo_client_state_get(const bo_client *c);

/** The server clock now, in ms since the epoch: local clock + the NTP-style offset (the
 * local clock until a first estimate exists). Context: loop thread. */
int64_t bo_client_server_now(const bo_client *c);

/** Offset (server minus local, ms) and the round trip of the sample it came from (-1 when
 * the estimate is only hello's one-way time, or none yet). Context: loop thread. */
void bo_client_clock(const bo_client *c, int64_t *offset_ms, int64_t *rtt_ms);

/** The stream cursors (last seq delivered per stream). Context: loop thread. */
const bo_cursor *bo_client_cursor(const bo_client *c);

/** How long until the next connection attempt while in BACKOFF (ms), else 0.
 * Context: loop thread. */
int64_t bo_client_retry_in(const bo_client *c);

/** Connections made successfully (reached HELLO) since start. Context: loop thread. */
uint64_t bo_client_connects(const bo_client *c);

/* Who the server says we are (auth reply data); strings are "" when absent. */
typedef struct bo_client_identity {
    const char *role;
    const char *org;
    const char *name;
    const char *uscc;
    uint8_t fpr[32];
    bool has_fpr;
} bo_client_identity;

/** The identity of the last successful auth, or NULL before one.
 * Ownership: valid until the next auth or bo_client_free. Context: loop thread. */
const bo_client_identity *bo_client_whoami(const bo_client *c);

/* ----------------------------------------------------------------- requests ---- */

/* A request's one reply. err BO_E_OK: data is ok.data (NULL when the reply has none), code
 * and msg are NULL. Otherwise code is the server's "E_..." code (err its bo_err, or
 * BO_E_INTERNAL for a code this client does not know) and msg its sentence; BO_E_CANCELED
 * (code "E_CANCELED") when the connection dropped or the client was stopped or freed before
 * the reply. Everything is valid only during the callback. */
typedef void (*bo_client_reply_cb)(void *ud, bo_err err, const char *code, const char *msg,
                                   const msgpack_object *data);

/** Send a request (any client->server type but auth and pong): the client assigns req's id
 * (req itself is not changed) and encodes it now.
 * Async contract: if this returns an error the callback never runs; otherwise it runs
 * exactly once. Errors: BO_E_UNAUTHENTICATED (not READY, JOINING or JOINED), BO_E_TOO_BIG
 * (outgoing queue full, too many requests in flight, or the frame exceeds the server's
 * caps), BO_E_INVALID_ARG (a type that is not a request, or a field the encoder refuses),
 * BO_E_NOMEM. Ownership: req and everything it points to are only read during the call.
 * cb may be NULL (the reply is dropped). Context: loop thread. */
bo_err bo_client_request(bo_client *c, const bo_msg *req, bo_client_reply_cb cb, void *ud);

/** create{tender}: tender_mp is the canonical msgpack map (bo_tender_json_to_mp).
 * ok.data is {oid}. Errors as bo_client_request. */
bo_err bo_client_create(bo_client *c, const uint8_t *tender_mp, size_t len,
                        bo_client_reply_cb cb, void *ud);

/** register{oid, sig}: signs [oid, uscc, sign_fpr, enc_fpr, nonce] (ctx "register") with the
 * connection's nonce, the USCC from auth and the fingerprints of the signing and encryption
 * certificates. oid NULL: the client's own. Errors: as bo_client_request; BO_E_INVALID_ARG
 * (no oid, no encryption chain, no USCC in the auth reply); the signer's errors. */
bo_err bo_client_register(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud);

/** signin{oid, sig}: signs [oid, uscc, nonce] (ctx "signin"). Errors as bo_client_register
 * (no encryption chain needed). */
bo_err bo_client_signin(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud);

/** pause{oid, reason}, resume{oid}, fail{oid, reason} (host; fail also operator).
 * oid NULL: the client's own. Errors as bo_client_request; BO_E_INVALID_ARG (no oid, no
 * reason for pause/fail). */
bo_err bo_client_pause(bo_client *c, const char *oid, const char *reason,
                       bo_client_reply_cb cb, void *ud);
bo_err bo_client_resume(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud);
bo_err bo_client_fail(bo_client *c, const char *oid, const char *reason,
                      bo_client_reply_cb cb, void *ud);

/** Blacklist (operator; list also supervisor): bl_add and bl_replace take entries
 * (bo_bl_entry from wire.h: uscc, name, reason, source?), bl_remove USCCs. ok.data is
 * {count} or {entries}. Errors as bo_client_request. */
bo_err bo_client_bl_add(bo_client *c, const bo_bl_entry *v, size_t n, bo_client_reply_cb cb,
                        void *ud);
bo_err bo_client_bl_replace(bo_client *c, const bo_bl_entry *v, size_t n,
                            bo_client_reply_cb cb, void *ud);
bo_err bo_client_bl_remove(bo_client *c, const char *const *usccs, size_t n,
                           bo_client_reply_cb cb, void *ud);
bo_err bo_client_bl_list(bo_client *c, bo_client_reply_cb cb, void *ud);

/** list: ok.data is {openings:[{oid, title, lot, phase, deadline}]}. */
bo_err bo_client_list(bo_client *c, bo_client_reply_cb cb, void *ud);

/* ------------------------------------------- sealed bids and decryption ---- */
/* docs/protocol.md §10. Submitting a whole bid (chunks, resume, receipt) is bo/submit.h;
 * answering decryption requests is bo/decrypt.h. */

/** receipt{oid}: the bidder's current receipt, ok.data {receipt:{oid, uscc, hash, size,
 * commit, ts}, sig} (verify it with bo_receipt_verify, bo/submit.h). oid NULL: the client's
 * own. Errors as bo_client_request; BO_E_INVALID_ARG (no oid). */
bo_err bo_client_receipt(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud);

/** server_key: ok.data {cert?, spki, key_fpr}: the server's signing key (receipts,
 * decryption requests, chain heads). Errors as bo_client_request. */
bo_err bo_client_server_key(bo_client *c, bo_client_reply_cb cb, void *ud);

/** decrypt_start{oid, window_s?} (host): window_s 0 takes the tender's window, else
 * 60..86400 seconds. ok.data {ends_at}. oid NULL: the client's own.
 * Errors as bo_client_request; BO_E_INVALID_ARG (no oid). */
bo_err bo_client_decrypt_start(bo_client *c, const char *oid, uint32_t window_s,
                               bo_client_reply_cb cb, void *ud);

/** decrypt_extend{oid, seconds, reason} (host, once): ok.data {ends_at}.
 * Errors as bo_client_request; BO_E_INVALID_ARG (no oid or reason). */
bo_err bo_client_decrypt_extend(bo_client *c, const char *oid, uint32_t seconds,
                                const char *reason, bo_client_reply_cb cb, void *ud);

/** classify{oid, uscc, outcome, reason} (host): outcome "revoked" (撤销, the bidder caused
 * it) or "withdrawn" (撤回). Errors as bo_client_request; BO_E_INVALID_ARG (no oid, uscc or
 * reason, another outcome). */
bo_err bo_client_classify(bo_client *c, const char *oid, const char *uscc, const char *outcome,
                          const char *reason, bo_client_reply_cb cb, void *ud);

/* ------------------------ announcement, draws, confirmation, the record ---- */
/* docs/protocol.md §11. Every helper: oid NULL means the client's own; ok.data is {} unless
 * said otherwise; the results come as events (bid_announced, draw_result, ...). Errors: as
 * bo_client_request (same async contract), plus those listed. Ownership: every argument is
 * only read during the call. Context: loop thread. */

/** announce{oid, all?} (host): the next bid, or with all every bid that remains.
 * Errors: BO_E_INVALID_ARG (no oid). */
bo_err bo_client_announce(bo_client *c, const char *oid, bool all, bo_client_reply_cb cb,
                          void *ud);

/** draw{oid, draw} (host): makes the tender's draw draw_id ([a-z0-9_]{1,32}).
 * Errors: BO_E_INVALID_ARG (no oid, a malformed id). */
bo_err bo_client_draw(bo_client *c, const char *oid, const char *draw_id, bo_client_reply_cb cb,
                      void *ud);

/** benchmark{oid} (host): computes the benchmark price (评标基准价).
 * Errors: BO_E_INVALID_ARG (no oid). */
bo_err bo_client_benchmark(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud);

/** confirm_open{oid, window_s?} (host): opens the confirmation window; window_s 0 is the
 * server's default (600 s), else 60..86400.
 * Errors: BO_E_INVALID_ARG (no oid, window_s out of range). */
bo_err bo_client_confirm_open(bo_client *c, const char *oid, uint32_t window_s,
                              bo_client_reply_cb cb, void *ud);

/** confirm{oid, record_hash, sig} (bidder): signs [oid, uscc, record_hash] (ctx "confirm")
 * with the USCC from auth. record_hash NULL: the one this client saw for its own opening
 * (bo_client_record_hash). ok.data is {already}.
 * Errors: BO_E_UNAUTHENTICATED; BO_E_INVALID_ARG (no oid, no USCC in the auth reply, no
 * signing key); BO_E_PHASE (record_hash NULL and no record hash seen: the window has not
 * opened, or oid is not the opening this client joined); the signer's errors.
 * Ownership: record_hash is only read during the call. */
bo_err bo_client_confirm(bo_client *c, const char *oid, const uint8_t record_hash[32],
                         bo_client_reply_cb cb, void *ud);

/** object{oid, text, sig} (bidder): an objection (异议) of 1..1000 characters, signed over
 * [oid, uscc, record_hash, text] (ctx "objection") with the record hash this client saw in
 * confirmation_opened or the snapshot of its own opening.
 * Errors: as bo_client_confirm; BO_E_INVALID_ARG also for an empty or too long text (or
 * not UTF-8). */
bo_err bo_client_object(bo_client *c, const char *oid, const char *text, bo_client_reply_cb cb,
                        void *ud);

/** answer{oid, objection, text, sig} (host): answers objection n (>= 1) with 1..2000
 * characters, signed over [oid, n, text] (ctx "answer") with the host's key.
 * Errors: BO_E_INVALID_ARG (no oid, n 0, a bad text, no signing key); the signer's errors. */
bo_err bo_client_answer(bo_client *c, const char *oid, uint64_t n, const char *text,
                        bo_client_reply_cb cb, void *ud);

/** message{oid, text} (host, supervisor, site, bidder): a public message of 1..300
 * characters. Errors: BO_E_INVALID_ARG (no oid, a bad text). */
bo_err bo_client_message(bo_client *c, const char *oid, const char *text, bo_client_reply_cb cb,
                         void *ud);

/** close{oid} (host): closes the opening (not the connection: that is bo_client_stop);
 * opening_closed carries the final record's hash. Errors: BO_E_INVALID_ARG (no oid). */
bo_err bo_client_close(bo_client *c, const char *oid, bo_client_reply_cb cb, void *ud);

/** The record hash bidders confirm (confirmation_opened.record_hash) of the opening this
 * client joined, as last seen in a snapshot (confirm.record_hash) or an event. Returns false
 * when none was seen (the window has not opened, or the client joins no opening).
 * Context: loop thread. */
bool bo_client_record_hash(const bo_client *c, uint8_t out[32]);

/* -------------------------------------------------------------- helpers ---- */

/* A parsed server URL. */
typedef struct bo_client_url {
    bool tls;       /* wss */
    char host[256]; /* without brackets for IPv6 */
    int port;
    char path[256];
} bo_client_url;

/** Parse "wss://host[:port][/path]" (or ws://). IPv6 hosts go in brackets.
 * Errors: BO_E_INVALID_ARG. Context: any thread. */
bo_err bo_client_url_parse(const char *url, bo_client_url *out);

/** Run loop until cond(arg) returns true (checked before and after each loop iteration) or
 * timeout_ms passes (< 0: no timeout). For tests and the CLI.
 * Errors: BO_E_TIMEOUT. Context: loop thread, not from inside a callback. */
bo_err bo_client_run_until(uv_loop_t *loop, bool (*cond)(void *arg), void *arg,
                           int64_t timeout_ms);

#endif
