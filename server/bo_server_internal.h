/* bidopen-server internals shared by the server's files. Only the loop thread touches
 * anything here, except the job structs handed to the worker pool (see bo_jobs.c). */
#ifndef BO_SERVER_INTERNAL_H
#define BO_SERVER_INTERNAL_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/identity.h"
#include "bo/map.h"
#include "bo/session.h"
#include "bo/sign.h"
#include "bo/wire.h"
#include "bo_config.h"
#include "bo_metrics.h"
#include "bo_ratelimit.h"
#include "bo_store.h"

#define BO_PROTOCOL_NAME "bidopen.v1"
#define BO_REPLAY_CAP 1000          /* events replayed on join before a snapshot reload */
#define BO_CTRL_QUEUE_CAP (1u << 20) /* bytes of replies/pushes queued for one connection */
#define BO_AUTH_DEADLINE_MS 10000
#define BO_TIME_SKEW_MS (5 * 60 * 1000)
#define BO_PING_EVERY_MS 10000
#define BO_SILENT_PING_MS 25000   /* no pong this long: a WebSocket ping */
#define BO_SILENT_CLOSE_MS 40000  /* ... and this long: the peer is gone (or never reads) */
#define BO_CMD_RETRIES 5

#define BO_CLOSE_LAGGING 4000
#define BO_CLOSE_AUTH_TIMEOUT 4001
#define BO_CLOSE_MALFORMED 4002
#define BO_CLOSE_RATE 4003
#define BO_CLOSE_SHUTDOWN 4004

typedef struct bo_srv bo_srv;
typedef struct bo_conn bo_conn;
typedef struct bo_room bo_room;

/* One encoded frame with LWS_PRE bytes of headroom before data. */
typedef struct bo_frame {
    struct bo_frame *next;
    size_t len;
    uint8_t data[]; /* LWS_PRE + len */
} bo_frame;

/** Copy a payload into a new frame. Returns NULL on allocation failure. */
bo_frame *bo__frame_new(const uint8_t *p, size_t len);

/* A growable vector of sequence numbers (stream index: position -> global seq). */
typedef struct bo_u64vec {
    uint64_t *v;
    size_t n, alloc;
} bo_u64vec;
bo_err bo__u64vec_push(bo_u64vec *vec, uint64_t x);
void bo__u64vec_cleanup(bo_u64vec *vec);

typedef enum bo_conn_state {
    BO_CONN_NEW = 0,  /* hello sent, waiting for auth */
    BO_CONN_AUTHING,  /* auth verification on the worker pool */
    BO_CONN_AUTHED,
} bo_conn_state;

/* An intrusive list of room members. */
typedef struct bo_member_list {
    bo_conn *head;
    size_t n;
} bo_member_list;

struct bo_conn {
    uint64_t id;
    struct lws *wsi;
    bo_srv *srv;
    bo_conn_state state;
    bo_actor actor;              /* role, identity, nonce; chains point into the lists below */
    bo_blob_list sign_chain;
    bo_blob_list enc_chain;
    char link_oid[65];           /* a site signed in by a host's link: its one opening */
    uint8_t link_host_fpr[32];   /* and the host who issued it */
    int64_t opened_mono;
    char peer[64];

    bo_buf rx;                   /* fragment reassembly, capped at caps.frame */
    bo_frame *ctrl_head, *ctrl_tail;
    size_t ctrl_bytes;

    /* room membership and stream cursors (next position to send, 1-based) */
    bo_room *room;
    bo_stream priv_st;           /* NONE, STAFF, BIDDER or ALL */
    bo_u64vec *priv_idx;         /* STAFF/BIDDER: the room's index of that stream */
    uint64_t next_pub, next_priv;
    int64_t progress_mono;       /* last time a frame was written while behind */
    bo_conn *m_prev, *m_next;
    bo_member_list *m_list;
    bool joining;                /* a join waits for the room to load */

    bo_tbucket rate;
    unsigned rate_strikes;
    unsigned busy;               /* worker jobs in flight for this connection */
    struct sig_job *jobs;        /* its signature jobs not back yet (bo_auth.c) */

    uint64_t ping_n;
    int64_t ping_sent_mono;
    int64_t rx_mono;             /* the last pong (ours or WebSocket's), or the connection */
    bool ws_ping_due, ws_pinged; /* a WebSocket ping to write / written since rx_mono */
    int rtt_ms;                  /* -1 until measured */

    struct bo_upload *upload;    /* the bid being uploaded on this connection, if any */

    uint16_t close_code;         /* non-zero: close after the queued frames are out */
    bool close_sent;             /* the close frame is written: drop at the next WRITEABLE */
    char close_reason[64];
};

/* A command waiting for its room's append pipeline. */
typedef struct bo_pcmd {
    struct bo_pcmd *next;
    uint64_t conn_id; /* 0 for timer ticks */
    uint64_t req_id;
    bo_cmd_type type;
    bo_actor actor;
    bo_blob_list sign_chain, enc_chain; /* owned copies the actor points into */
    bo_tender *tender;                  /* create */
    uint8_t seed_commit[32];
    uint8_t *sig;
    size_t sig_len;
    char reason[2048];
    bool has_reason;
    bool blacklisted;
    char bl_reason[512];
    char bl_source[256];
    unsigned retries;
    int64_t t0_mono;    /* when the request arrived (latency metrics); 0 unknown */
    bo_time_ms fixed_now; /* non-zero: decide at this server time (a receipt's ts) */
    bool replied;         /* its client already has its one reply (E_STORE_PENDING) */
    /* submit */
    bool has_bid;
    uint8_t bid_hash[32];
    uint64_t bid_size;
    uint8_t bid_commit[32];
    char bid_cipher[16];
    uint8_t *bid_ri;
    size_t bid_ri_len;
    uint8_t *receipt_sig;
    size_t receipt_sig_len;
    /* decryption (bo_decrypt.c) */
    bo_decrypt_req *reqs;               /* prepared requests, with their keys below */
    struct bo_handoff_server **hks;
    uint8_t **req_sigs;
    size_t n_reqs;
    uint32_t window_s;
    char target_uscc[19];
    char req[33];
    bo_err code;
    char stage[16];
    char error[801];
    uint8_t cert_fpr[32];
    uint8_t *form;
    size_t form_len;
    char outcome[16];
    bool reply_to_bidder;
    /* bid_decrypted: the response it was opened with (evidence for offline verification) */
    char resp_req[33];
    uint8_t resp_client_pub[32];
    uint8_t *resp_wrapped;
    size_t resp_wrapped_len;
    uint8_t *resp_sig;
    size_t resp_sig_len;
    /* announcement, draws, confirmation (bo_closing.c) */
    bool all;
    char draw_id[33];
    uint8_t seed[32];
    uint8_t record_hash[32];
    char *text;
    uint64_t objection;
} bo_pcmd;

/* One event as the room keeps it: the event (with its stream positions) and its frames. */
typedef struct bo_rev {
    bo_event ev;
    bo_frame *frame;     /* in its own stream (pub, staff or b); NULL for sup-only events */
    bo_frame *frame_all; /* the supervisors' copy, made on first use */
} bo_rev;

typedef enum bo_room_state {
    BO_ROOM_LOADING = 0, /* reading the log from Redis */
    BO_ROOM_READY,
    BO_ROOM_BROKEN,      /* the log did not verify: serves nothing, logged */
} bo_room_state;

struct bo_room {
    bo_srv *srv;
    char oid[65];
    bo_session *sess;
    bo_room_state state;
    bool filling;        /* a range read is in flight */
    bool refill;         /* another gap was seen while filling */

    bo_rev *evs;         /* evs[seq - 1] */
    size_t n_evs, alloc_evs;
    bo_u64vec pub_idx;   /* pub position -> seq */
    bo_u64vec staff_idx;
    bo_map *bidder_idx;  /* uscc -> bo_u64vec* */

    bo_member_list pub_members;   /* observers, sites, operators, other hosts */
    bo_member_list staff_members; /* this opening's host */
    bo_member_list sup_members;
    bo_map *bidder_members;       /* uscc -> bo_member_list* */
    size_t n_members;
    bo_u64vec pending_joins;      /* connection ids waiting for LOADING to finish */

    bo_pcmd *q_head, *q_tail;     /* commands waiting */
    bo_pcmd *in_flight;
    bool flight_uncertain;        /* its append's outcome is unknown (store failed mid-way) */
    bool resolving;               /* read the log, then resolve the uncertain append */
    bo_event_list flight_evs;     /* the sealed events of in_flight */
    bo_apply_info flight_info;

    bo_map *handoffs;             /* request id -> key of a pending decryption request */
    uv_timer_t timer;             /* next phase timer */
    bool timer_init;
    bool presence_dirty;
    bool closing;
};

typedef struct bo_bl_item {
    char uscc[19];
    char name[256];
    char reason[512];
    char source[256];
} bo_bl_item;

typedef struct bo_staff_entry {
    bo_role role;
    char name[128];
    uint8_t fpr[32];
} bo_staff_entry;


struct bo_srv {
    uv_loop_t *loop;
    bo_config cfg;
    struct lws_context *lws;
    struct lws_vhost *vhost;
    int port;
    char node[64];
    bo_wire_caps caps;

    bo_trust *trust;
    bo_key *sign_key;
    uint8_t sign_key_fpr[32];
    uint8_t *sign_cert; /* DER, when --sign-cert is given */
    size_t sign_cert_len;
    uint8_t *sign_spki; /* DER SubjectPublicKeyInfo of the signing key */
    size_t sign_spki_len;
    bo_staff_entry *staff;
    size_t n_staff;

    bo_store *store;
    bool store_up;
    struct bo_vault *vault;
    struct bo_redis_sup *redis_sup;
    char redis_path[512];

    bo_map *rooms;      /* oid -> bo_room* */
    bo_map *conns;      /* id -> bo_conn* */
    uint64_t next_conn_id;
    bo_map *blacklist;  /* uscc -> bo_bl_item* */

    void *decrypt_active;  /* struct djob list (bo_decrypt.c) */
    void *decrypt_waiting;
    unsigned decrypt_running;
    bo_tbucket accept_rate;
    uv_timer_t tick;    /* 1 Hz housekeeping: auth deadlines, lag, pings, presence */
    uv_signal_t sigint, sigterm;
    bool stopping;
    int64_t stop_deadline_mono;
    int64_t trim_mono;
    uint64_t trim_accepted; /* conns_accepted at the last malloc_trim */
    size_t trim_live;       /* wsi_live at the last malloc_trim */
    int64_t tick_mono;  /* the last housekeeping tick */
    size_t wsi_live;    /* lws connections (TLS and HTTP included) not yet destroyed */
    size_t n_authed;    /* ... of them authenticated (bo_conn in BO_CONN_AUTHED) */
    bool tick_deferred; /* it left the deadlines to the next one (bo_server.c on_tick) */
    int exit_code;
    bo_metrics m;
};

/* ---- bo_conn.c ---- */
bo_conn *bo__conn_new(bo_srv *srv, struct lws *wsi);
void bo__conn_closed(bo_conn *c);               /* LWS_CALLBACK_CLOSED */
int bo__conn_receive(bo_conn *c, const void *in, size_t len); /* returns -1 to close */
int bo__conn_writeable(bo_conn *c);             /* returns -1 to close */
void bo__conn_alive(bo_conn *c);                /* a pong came (the peer reads) */
void bo__conn_authed(bo_conn *c);               /* auth succeeded: state BO_CONN_AUTHED */
/** Queue a frame for this connection (copies the payload) and ask for WRITEABLE.
 * On overflow the connection is marked lagging and closed. */
void bo__conn_send(bo_conn *c, const uint8_t *p, size_t len);
void bo__conn_send_buf(bo_conn *c, bo_buf *b);  /* sends and resets b */
void bo__conn_reply_ok(bo_conn *c, uint64_t re, const uint8_t *data, size_t len);
void bo__conn_reply_err(bo_conn *c, bool has_re, uint64_t re, bo_err code, const char *msg);
/** Close after what is queued: code and reason go into the close frame. */
void bo__conn_close(bo_conn *c, uint16_t code, const char *reason);
bo_conn *bo__conn_find(bo_srv *srv, uint64_t id);
void bo__conn_housekeeping(bo_conn *c, int64_t now_mono);

/* ---- bo_auth.c ---- */
void bo__auth_handle(bo_conn *c, const bo_msg *m);
/** register / signin: verify the signature on the worker pool, then queue the command. */
void bo__auth_signed_cmd(bo_conn *c, const bo_msg *m);
/* the connection is closing: drop its signature jobs still waiting for a worker */
void bo__auth_conn_closed(bo_conn *c);
/** For a site authenticated by a link: refuse (with the reply) a join of another opening
 * than the link's or of an opening whose host did not issue it. Returns true if refused. */
bool bo__auth_link_refuse_join(bo_conn *c, const bo_room *r, uint64_t req_id);

/* ---- bo_room.c ---- */
/** The room for oid, created (LOADING) and loaded from the store if not in memory.
 * create_new: make an empty READY room for a create command instead of loading. */
bo_room *bo__room_get(bo_srv *srv, const char *oid, bool load);
void bo__room_free(bo_room *r);
void bo__room_enqueue(bo_room *r, bo_pcmd *p);
void bo__room_on_record(bo_room *r, uint64_t seq, const uint8_t *rec, size_t len);
void bo__room_resync(bo_room *r);
/** The store went down: refuse the commands waiting (E_STORE_UNAVAILABLE). */
void bo__room_store_down(bo_room *r);
void bo__room_join(bo_room *r, bo_conn *c, uint64_t req_id, const bo_msg_since *since);
void bo__room_leave(bo_conn *c);
/** Write at most one event frame for c; returns 1 if written, 0 if nothing to send, -1 on
 * a write error. */
int bo__room_write_next(bo_conn *c);
bool bo__room_conn_behind(const bo_conn *c);
/** Events c has still to receive (0 when it is in no room). */
uint64_t bo__room_conn_pending(const bo_conn *c);
void bo__room_presence_flush(bo_room *r);
void bo__pcmd_free(bo_pcmd *p);
const char *bo__cmd_type_name(bo_cmd_type t);
/** A pcmd for a connection's command, with the actor copied. NULL on allocation failure. */
bo_pcmd *bo__pcmd_from_conn(const bo_conn *c, bo_cmd_type type, uint64_t req_id);

/* ---- bo_submit.c ---- */
void bo__submit_begin(bo_conn *c, const bo_msg *m);
void bo__submit_chunk(bo_conn *c, const bo_msg *m);
void bo__submit_commit(bo_conn *c, const bo_msg *m);
void bo__submit_receipt(bo_conn *c, const bo_msg *m);
void bo__submit_conn_closed(bo_conn *c);
/** ok.data of a stored submission: {receipt, sig, replaced}. */
bo_err bo__submit_reply_data(const bo_room *r, const bo_pcmd *p, bool replaced, bo_buf *out);

/* ---- bo_decrypt.c ---- */
bo_err bo__decrypt_prepare(bo_room *r, bo_pcmd *p, bo_time_ms now);
void bo__decrypt_adopt(bo_room *r, bo_pcmd *p);
void bo__decrypt_prep_free(bo_pcmd *p);
void bo__decrypt_room_free(bo_room *r);
void bo__decrypt_host_cmd(bo_conn *c, const bo_msg *m);
void bo__decrypt_response(bo_conn *c, const bo_msg *m);
void bo__decrypt_failed(bo_conn *c, const bo_msg *m);
bo_err bo__decrypt_progress_put(bo_srv *srv, const bo_room *r, bo_mpmap *presence);
bool bo__decrypt_busy(const bo_srv *srv, const bo_room *r);
/** Decryption jobs waiting for a slot on the worker pool. */
size_t bo__decrypt_waiting_count(const bo_srv *srv);

/* ---- bo_closing.c ---- */
void bo__closing_request(bo_conn *c, const bo_msg *m);

/* ---- bo_export_cmd.c ---- */
/** export {oid, format, offset?}: the record (JSON, OCDS, HTML) or the transcript (full or
 * public) in pieces of at most 128 KiB (docs/protocol.md §11, docs/transcript.md). */
void bo__export_request(bo_conn *c, const bo_msg *m);

/* ---- bo_commands.c ---- */
void bo__cmd_dispatch(bo_conn *c, const bo_msg *m);

/* ---- bo_blacklist.c ---- */
const bo_bl_item *bo__blacklist_find(const bo_srv *srv, const char *uscc);
void bo__blacklist_reload(bo_srv *srv);
void bo__blacklist_cmd(bo_conn *c, const bo_msg *m);
void bo__blacklist_free(bo_srv *srv);

/* ---- bo_staff.c ---- */
bo_err bo__staff_load(bo_srv *srv, const char *path, char *detail, size_t n);
const bo_staff_entry *bo__staff_find(const bo_srv *srv, const uint8_t fpr[32], bo_role role);

/* ---- bo_server.c ---- */
void bo__srv_on_store_event(void *ud, const char *oid, uint64_t seq, const uint8_t *rec,
                            size_t len);

#endif
