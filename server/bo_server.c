/* bidopen-server: the server object: libwebsockets on a foreign libuv loop, the store on
 * the same loop, housekeeping, start-up and an orderly shutdown. */
#include "bo_server.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/log.h"
#include "bo/hash.h"
#include "bo/tlsopts.h"
#include "bo_http.h"
#include "bo_redis_sup.h"
#include "bo_vault.h"
#include "bo_server_internal.h"

/* ---------- libwebsockets glue ---------- */

static bo_srv *srv_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    bo_srv *srv;
    switch (reason) {
    case LWS_CALLBACK_WSI_CREATE:
        srv_of(wsi)->wsi_live++;
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        srv = srv_of(wsi);
        if (srv->wsi_live)
            srv->wsi_live--;
        break;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        srv = srv_of(wsi);
        if (srv->stopping || bo_map_count(srv->conns) >= (size_t)srv->cfg.max_conns ||
            !bo_tbucket_take(&srv->accept_rate, bo_clock_mono_ms())) {
            srv->m.conns_refused_rate++;
            return 1;
        }
        /* Admission: at most --max-unauthed connections between accept and auth. A burst
         * of N new connections otherwise runs N TLS handshakes and signature checks at once,
         * on a loop and a worker pool that finish them in N / (a few hundred per second):
         * past the clients' handshake and auth timeouts they give up, reconnect and queue
         * again (5,000 at once: 2,500 auth timeouts, 10,000: a third never signed in within
         * 600 s). Refusing here costs an accept and a close; the client backs off with jitter
         * and comes back when there is room. */
        if (srv->wsi_live >= srv->n_authed + (size_t)srv->cfg.max_unauthed) {
            srv->m.conns_refused_unauthed++;
            return 1;
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade without the bidopen.v1 subprotocol lands here. */
        return 1;
    case LWS_CALLBACK_HTTP:
        return bo_http_request(srv_of(wsi), wsi, in);
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    bo_conn **pss = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
        bo_srv *srv = srv_of(wsi);
        *pss = bo__conn_new(srv, wsi);
        if (!*pss)
            return -1;
        if (srv->stopping)
            bo__conn_close(*pss, BO_CLOSE_SHUTDOWN, "E_SHUTTING_DOWN");
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        /* Traffic from the peer (its pong to our ping every 10 s, at least): the connection
         * lives. lws' own WebSocket ping comes only after 25 s without such a sign, and its
         * hangup 15 s later is judged before the loop turn's I/O: a loop stalled that long
         * (a storm of TLS handshakes) would hang up on peers whose pong sits unread. */
        lws_validity_confirmed(wsi);
        return *pss ? bo__conn_receive(*pss, in, len) : -1;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (*pss)
            bo__conn_alive(*pss);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return *pss ? bo__conn_writeable(*pss) : -1;
    case LWS_CALLBACK_CLOSED:
        if (*pss) {
            bo__conn_closed(*pss);
            *pss = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

/* lws' connection validity timers off (a hang-up of 0: without any policy lws applies its
 * default of 300 s): liveness is checked in the housekeeping tick instead (bo_conn.c). */
static const lws_retry_bo_t no_validity = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

static const struct lws_protocols protocols[] = {
    {"http", cb_http, 0, 0, 0, NULL, 0},
    {BO_PROTOCOL_NAME, cb_ws, sizeof(bo_conn *), 0 /* rx: pt_serv_buf_size (4 KiB) per connection */, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---------- store glue ---------- */

static void load_openings_cb(void *ud, bo_err err, const char *const *oids, size_t n)
{
    bo_srv *srv = ud;
    if (err)
        return;
    for (size_t i = 0; i < n; i++)
        if (bo_oid_valid(oids[i]))
            bo__room_get(srv, oids[i], true);
}

static void on_health(void *ud, bool up)
{
    bo_srv *srv = ud;
    srv->store_up = up;
    if (!up) {
        size_t pos = 0;
        void *v;
        while (bo_map_next(srv->rooms, &pos, NULL, NULL, &v))
            bo__room_store_down(v);
    }
    bo_log(up ? BO_LOG_INFO : BO_LOG_WARN, "store", NULL, 0,
           up ? BO_E_OK : BO_E_STORE_UNAVAILABLE, up ? "store up" : "store down");
}

static void on_resync(void *ud)
{
    bo_srv *srv = ud;
    size_t pos = 0;
    void *v;
    while (bo_map_next(srv->rooms, &pos, NULL, NULL, &v))
        bo__room_resync(v);
    bo__blacklist_reload(srv);
    bo_store_openings(srv->store, load_openings_cb, srv);
}

void bo__srv_on_store_event(void *ud, const char *oid, uint64_t seq, const uint8_t *rec,
                            size_t len)
{
    bo_srv *srv = ud;
    if (!bo_oid_valid(oid))
        return;
    bo_room *r = bo__room_get(srv, oid, false);
    if (!r) {
        bo__room_get(srv, oid, true); /* a new opening, or one we never loaded: read it all */
        return;
    }
    bo__room_on_record(r, seq, rec, len);
}

static void on_notify(void *ud, const char *channel, const uint8_t *msg, size_t len)
{
    bo_srv *srv = ud;
    if (!strcmp(channel, "bo:bl"))
        bo__blacklist_reload(srv);
    (void)msg;
    (void)len;
}

static bo_err start_store(bo_srv *srv, const char *unix_path, const char *host, int port)
{
    bo_store_opts o;
    memset(&o, 0, sizeof(o));
    o.loop = srv->loop;
    o.unix_path = unix_path;
    o.host = host;
    o.port = port;
    o.node_id = srv->node;
    o.allow_volatile = srv->cfg.allow_volatile_redis;
    o.on_health = on_health;
    o.on_event = bo__srv_on_store_event;
    o.on_resync = on_resync;
    o.on_notify = on_notify;
    o.ud = srv;
    bo_err err;
    srv->store = bo_store_new(&o, &err);
    if (!srv->store)
        return err;
    return bo_store_watch(srv->store, "bo:bl");
}

static void on_redis_ready(void *ud, const char *unix_path)
{
    bo_srv *srv = ud;
    if (srv->store || srv->stopping)
        return;
    snprintf(srv->redis_path, sizeof(srv->redis_path), "%s", unix_path);
    bo_err err = start_store(srv, srv->redis_path, NULL, 0);
    if (err) {
        bo_log(BO_LOG_ERROR, "store", NULL, 0, err, "cannot start the store");
        bo_srv_stop(srv, 1);
    }
}

/* ---------- housekeeping ---------- */

static bool room_idle_empty(const bo_room *r)
{
    return r->state == BO_ROOM_READY && bo_session_seq(r->sess) == 0 && !r->n_members &&
           !r->q_head && !r->in_flight && !r->filling && !r->pending_joins.n;
}

static void on_tick(uv_timer_t *t)
{
    bo_srv *srv = t->data;
    int64_t now = bo_clock_mono_ms();
    /* TLS handshakes leave freed buffers behind in malloc's arenas; after a burst of
     * connections (or of closes), hand the free pages back so idle connections cost what
     * they hold. Only then: each trim madvises every free page and flushes the TLBs of the
     * other threads, which in steady broadcast to 5,000 connections was a fifth of the
     * server's CPU (bench fanout), and the pages come back as faults at the next one. */
    if (now - srv->trim_mono >= 10000 &&
        (srv->m.conns_accepted != srv->trim_accepted || srv->wsi_live < srv->trim_live)) {
        srv->trim_mono = now;
        srv->trim_accepted = srv->m.conns_accepted;
        srv->trim_live = srv->wsi_live;
        malloc_trim(0);
    } else if (srv->wsi_live > srv->trim_live) {
        srv->trim_live = srv->wsi_live; /* a later drop is measured from the peak */
    }
    /* A tick more than a second late follows a stalled turn of the loop (a storm of TLS
     * handshakes), and timers run before I/O: what would meet a connection's deadline (its
     * auth, its progress) may be sitting unread. Such a tick leaves the connections to the
     * next one, after a turn of I/O; never two in a row, so a loop that stays stalled still
     * enforces the deadlines. */
    bool defer = srv->tick_mono && now - srv->tick_mono > 2000 && !srv->tick_deferred;
    srv->tick_deferred = defer;
    srv->tick_mono = now;
    size_t pos = 0;
    void *v;
    while (!defer && bo_map_next(srv->conns, &pos, NULL, NULL, &v))
        bo__conn_housekeeping(v, now);
    pos = 0;
    while (bo_map_next(srv->rooms, &pos, NULL, NULL, &v)) {
        bo_room *r = v;
        if (room_idle_empty(r)) {
            bo_map_del_str(srv->rooms, r->oid);
            bo__room_free(r);
            continue;
        }
        if (bo__decrypt_busy(srv, r))
            r->presence_dirty = true; /* decryption progress for the host, once a second */
        bo__room_presence_flush(r);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    bo_srv *srv = h->data;
    bo_log(BO_LOG_INFO, "server", NULL, 0, BO_E_OK, "signal %d: shutting down", signum);
    bo_srv_stop(srv, 0);
}

/* ---------- start / stop ---------- */

static bo_err load_identity(bo_srv *srv, char *detail, size_t n)
{
    bo_trust_opts to;
    memset(&to, 0, sizeof(to));
    to.dir = srv->cfg.trust;
    to.uscc_attr = srv->cfg.uscc_attr;
    to.crl_required = srv->cfg.crl_required;
    bo_err err;
    srv->trust = bo_trust_load(&to, &err, detail, n);
    if (!srv->trust)
        return err;
    srv->sign_key = bo_key_load(srv->cfg.sign_key, srv->cfg.sign_key_pass[0] ? srv->cfg.sign_key_pass : NULL,
                                &err, detail, n);
    if (!srv->sign_key)
        return err;
    bo_buf spki;
    bo_buf_init(&spki, 65536);
    err = bo_key_public_der(srv->sign_key, &spki);
    if (err) {
        bo_buf_cleanup(&spki);
        return err;
    }
    bo_sha256(spki.data, spki.len, srv->sign_key_fpr);
    srv->sign_spki = bo_buf_steal(&spki, &srv->sign_spki_len);
    if (srv->cfg.sign_cert[0]) {
        bo_blob_list chain;
        memset(&chain, 0, sizeof(chain));
        err = bo_pem_chain_load(srv->cfg.sign_cert, &chain);
        if (err || !chain.list.n) {
            snprintf(detail, n, "sign-cert %s: no certificate", srv->cfg.sign_cert);
            bo_blob_list_cleanup(&chain);
            return BO_E_CONFIG;
        }
        if (bo_key_matches_cert(srv->sign_key, chain.list.v[0].p, chain.list.v[0].len)) {
            snprintf(detail, n, "sign-cert %s does not match sign-key", srv->cfg.sign_cert);
            bo_blob_list_cleanup(&chain);
            return BO_E_CONFIG;
        }
        /* The key's fingerprint is the certificate's: what verifiers look up in a trust dir. */
        bo_cert_fpr(chain.list.v[0].p, chain.list.v[0].len, srv->sign_key_fpr);
        srv->sign_cert = malloc(chain.list.v[0].len);
        if (srv->sign_cert) {
            memcpy(srv->sign_cert, chain.list.v[0].p, chain.list.v[0].len);
            srv->sign_cert_len = chain.list.v[0].len;
        }
        bo_blob_list_cleanup(&chain);
    }
    return bo__staff_load(srv, srv->cfg.staff, detail, n);
}

bo_err bo_srv_check(const bo_config *cfg, char *detail, size_t n)
{
    bo_srv srv;
    memset(&srv, 0, sizeof(srv));
    srv.cfg = *cfg;
    bo_err err = bo_config_validate(cfg, detail, n);
    if (!err)
        err = load_identity(&srv, detail, n);
    bo_trust_free(srv.trust);
    bo_key_free(srv.sign_key);
    free(srv.sign_cert);
    free(srv.sign_spki);
    free(srv.staff);
    return err;
}

bo_srv *bo_srv_start(uv_loop_t *loop, const bo_config *cfg, bo_err *err, char *detail, size_t n)
{
    bo_srv *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->exit_code = 0;
    if (cfg->node[0]) {
        snprintf(srv->node, sizeof(srv->node), "%s", cfg->node);
    } else {
        char host[40] = "node";
        gethostname(host, sizeof(host) - 1);
        snprintf(srv->node, sizeof(srv->node), "%.40s-%d", host, (int)getpid());
    }
    bo_wire_caps_default(&srv->caps);
    srv->caps.frame = (size_t)cfg->max_frame;
    bo_tbucket_init(&srv->accept_rate, (double)cfg->accept_rate, (double)cfg->accept_burst,
                    bo_clock_mono_ms());
    srv->rooms = bo_map_new(err);
    srv->conns = srv->rooms ? bo_map_new(err) : NULL;
    srv->blacklist = srv->conns ? bo_map_new(err) : NULL;
    if (!srv->blacklist)
        goto fail;
    if ((*err = load_identity(srv, detail, n)))
        goto fail;
    char vault_dir[600];
    if (cfg->vault[0])
        snprintf(vault_dir, sizeof(vault_dir), "%s", cfg->vault);
    else
        snprintf(vault_dir, sizeof(vault_dir), "%s/vault", cfg->data);
    srv->vault = bo_vault_open(loop, vault_dir, err);
    if (!srv->vault) {
        snprintf(detail, n, "vault %s: cannot create or write it", vault_dir);
        goto fail;
    }

    /* the store: our own redis-server under --data, or the one named by --redis */
    if (cfg->redis[0]) {
        char host[256] = "";
        int port = 0;
        const char *unix_path = NULL;
        if (!strncmp(cfg->redis, "unix:", 5)) {
            unix_path = cfg->redis + 5;
        } else {
            const char *colon = strrchr(cfg->redis, ':');
            snprintf(host, sizeof(host), "%.*s", (int)(colon - cfg->redis), cfg->redis);
            if (host[0] == '[') { /* [::1]:6379 */
                memmove(host, host + 1, strlen(host));
                host[strlen(host) - 1] = 0;
            }
            port = atoi(colon + 1);
        }
        if ((*err = start_store(srv, unix_path, unix_path ? NULL : host, port))) {
            snprintf(detail, n, "redis %s: cannot use it", cfg->redis);
            goto fail;
        }
    } else {
        srv->redis_sup = bo_redis_sup_start(loop, cfg->data, cfg->redis_server, on_redis_ready,
                                            srv, err);
        if (!srv->redis_sup) {
            snprintf(detail, n, "data %s: cannot start redis-server (%s)", cfg->data,
                     cfg->redis_server);
            goto fail;
        }
    }

    bo_http_setup(srv);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *foreign[1] = {loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = foreign;
    info.user = srv;
    info.pcontext = &srv->lws; /* lws sets it to NULL once the context is really gone */
    /* lws looks a descriptor up by indexing a table sized by the soft descriptor limit,
     * unless fd_limit_per_thread is below that limit: then every lookup (each event of every
     * connection), insertion and removal scans the whole table, which makes a burst of N
     * connections cost O(N^2) (4.8% of the server's CPU in wsi_from_fd alone at 5,000
     * bidders signing in). So the table follows the limit; only an unreasonably large limit
     * (main() does not raise it past BO_SRV_FD_TABLE_MAX) gets the bounded, slow tables. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur > BO_SRV_FD_TABLE_MAX) {
        info.fd_limit_per_thread = (unsigned)cfg->max_conns + 256;
        bo_log(BO_LOG_WARN, "server", NULL, 0, BO_E_OK,
               "descriptor limit %llu is above %u: lws falls back to linear descriptor "
               "lookups (set ulimit -n to at most %u)",
               (unsigned long long)nofile.rlim_cur, BO_SRV_FD_TABLE_MAX, BO_SRV_FD_TABLE_MAX);
    }
    srv->lws = lws_create_context(&info);
    if (!srv->lws) {
        *err = BO_E_INTERNAL;
        snprintf(detail, n, "cannot create the libwebsockets context (is libwebsockets-evlib-uv installed?)");
        goto fail;
    }
    memset(&info, 0, sizeof(info));
    info.port = (int)cfg->port;
    info.iface = cfg->listen;
    info.protocols = protocols;
    info.vhost_name = "bidopen";
    info.ssl_cert_filepath = cfg->tls_cert;
    info.ssl_private_key_filepath = cfg->tls_key;
    info.ssl_options_set = bo_tls_options_min12();
    info.ssl_cipher_list = bo_tls12_ciphers();
    info.alpn = "http/1.1";
    info.retry_and_idle_policy = &no_validity;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_LIBUV;
    if (cfg->listen[0] && strchr(cfg->listen, ':'))
        info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY;
    srv->vhost = lws_create_vhost(srv->lws, &info);
    if (!srv->vhost) {
        *err = BO_E_CONFIG;
        snprintf(detail, n, "cannot listen on %s port %lld (in use, or the TLS files are wrong)",
                 cfg->listen, (long long)cfg->port);
        goto fail;
    }
    srv->port = lws_get_vhost_listen_port(srv->vhost);
    if (cfg->port_file[0]) {
        FILE *f = fopen(cfg->port_file, "w");
        if (f) {
            fprintf(f, "%d\n", srv->port);
            fclose(f);
        }
    }
    uv_timer_init(loop, &srv->tick);
    srv->tick.data = srv;
    /* Memory goes back to the system in on_tick after bursts of connections, not in free():
     * glibc's own trimming madvises (and flushes the TLBs of every thread) as soon as the
     * top of a heap is 128 KiB free, which a broadcast to thousands does again and again.
     * Setting the trim threshold fixes the mmap threshold too: 1 MiB keeps upload chunks and
     * frames in the heap. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    uv_timer_start(&srv->tick, on_tick, 1000, 1000);
    uv_signal_init(loop, &srv->sigint);
    uv_signal_init(loop, &srv->sigterm);
    srv->sigint.data = srv->sigterm.data = srv;
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    bo_log(BO_LOG_INFO, "server", NULL, 0, BO_E_OK, "node %s listening on %s port %d", srv->node,
           cfg->listen, srv->port);
    return srv;
fail:
    /* The loop is not running yet: run it here until everything started is closed. */
    srv->stopping = true;
    if (srv->lws)
        lws_context_destroy(srv->lws);
    if (srv->store)
        bo_store_close(srv->store, NULL, NULL);
    srv->store = NULL;
    if (srv->redis_sup)
        bo_redis_sup_stop(srv->redis_sup, true, NULL, NULL);
    srv->redis_sup = NULL;
    uv_run(loop, UV_RUN_DEFAULT);
    if (srv->lws) {
        lws_context_destroy(srv->lws);
        uv_run(loop, UV_RUN_DEFAULT);
    }
    bo_trust_free(srv->trust);
    bo_key_free(srv->sign_key);
    free(srv->sign_cert);
    free(srv->sign_spki);
    free(srv->staff);
    bo_vault_free(srv->vault);
    bo__blacklist_free(srv);
    bo_map_free(srv->conns);
    bo_map_free(srv->rooms);
    free(srv);
    return NULL;
}

int bo_srv_port(const bo_srv *srv)
{
    return srv->port;
}

static void free_rooms(bo_srv *srv)
{
    size_t pos = 0;
    void *v;
    while (bo_map_next(srv->rooms, &pos, NULL, NULL, &v))
        bo__room_free(v);
    bo_map_free(srv->rooms);
    srv->rooms = NULL;
}

static void on_store_closed(void *ud)
{
    bo_srv *srv = ud;
    srv->store = NULL;
    free_rooms(srv);
    if (srv->redis_sup)
        bo_redis_sup_stop(srv->redis_sup, true, NULL, NULL);
    srv->redis_sup = NULL;
}

static void stop_now(bo_srv *srv)
{
    uv_close((uv_handle_t *)&srv->tick, NULL);
    /* Connections first (their CLOSED callbacks leave the rooms), then the store (pending
     * callbacks get BO_E_CANCELED while the rooms still exist), then the rooms. */
    if (srv->lws)
        lws_context_destroy(srv->lws); /* first stage; bo_srv_finish completes it */
    if (srv->store)
        bo_store_close(srv->store, on_store_closed, srv);
    else
        on_store_closed(srv);
}

static void on_drain_tick(uv_timer_t *t)
{
    bo_srv *srv = t->data;
    /* Clients were told; give their close handshakes up to a second, then go. */
    if (bo_map_count(srv->conns) == 0 || bo_clock_mono_ms() >= srv->stop_deadline_mono) {
        uv_timer_stop(t);
        stop_now(srv);
    }
}

void bo_srv_stop(bo_srv *srv, int exit_code)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    if (exit_code)
        srv->exit_code = exit_code;
    uv_signal_stop(&srv->sigint);
    uv_signal_stop(&srv->sigterm);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    /* Tell every client to reconnect elsewhere, close with 1001, and drain briefly. */
    bo_msg m;
    memset(&m, 0, sizeof(m));
    m.type = BO_MSG_NOTICE;
    m.u.notice.code = bo_err_name(BO_E_SHUTTING_DOWN);
    m.u.notice.msg = bo_strerror(BO_E_SHUTTING_DOWN);
    bo_buf b;
    bo_buf_init(&b, 1024);
    bo_wire_encode(&b, &m);
    size_t pos = 0;
    void *v;
    while (bo_map_next(srv->conns, &pos, NULL, NULL, &v)) {
        if (b.len)
            bo__conn_send(v, b.data, b.len);
        bo__conn_close(v, 1001, "going away");
    }
    bo_buf_cleanup(&b);
    srv->stop_deadline_mono = bo_clock_mono_ms() + 1000;
    uv_timer_stop(&srv->tick);
    uv_timer_start(&srv->tick, on_drain_tick, 20, 20);
}

bool bo_srv_finish(bo_srv *srv)
{
    if (!srv->lws)
        return false;
    /* With a foreign libuv loop, lws destroys its context in stages: the last one needs a
     * second call once the loop has stopped (lws 4.1 lib/core/context.c). */
    lws_context_destroy(srv->lws);
    return true;
}

int bo_srv_free(bo_srv *srv)
{
    int code = srv->exit_code;
    bo_trust_free(srv->trust);
    bo_key_free(srv->sign_key);
    free(srv->sign_cert);
    free(srv->sign_spki);
    free(srv->staff);
    bo_vault_free(srv->vault);
    bo__blacklist_free(srv);
    bo_map_free(srv->conns);
    if (srv->rooms)
        free_rooms(srv);
    free(srv);
    return code;
}
