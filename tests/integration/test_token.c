/* One bidder's encryption key lives in a SoftHSM2 token and opens its bid through PKCS#11,
 * end to end through the real server (its managed Redis) and the `bidopen` command line.
 *
 * Before the server starts: a SoftHSM2 token ("bidopen", PIN 1234) of the test's own
 * (SOFTHSM2_CONF and the token dir in the test's temp dir, tests/support/bo_softhsm.h), an
 * RSA-2048 key pair generated INSIDE it, a CA made with the openssl command line and put in
 * the server's trust dir with its CRL, and from it the bidder t1-token's signing certificate
 * (a P-256 key in a file) and its encryption certificate for the token's public key (the
 * CSR is signed by the token through the pkcs11 engine). Then, with the `bidopen` CLI
 * (BO_CLI_BIN), each command a process of its own:
 *
 *   - t1-token seals its bid to that certificate (`seal`, RSA-OAEP), registers
 *     (`bidder --register`: the server checks chain, CRL, key usage, USCC), submits
 *     (`bidder submit`, a verified receipt in the store) and signs in (`bidder --signin`);
 *     b2-p256 (a key in a file, from the demo PKI) does the same through the library;
 *   - pre-flight: `bidder preflight --enc-key pkcs11:...` passes with the PIN and exits 5
 *     with a wrong one, naming the token and the wrong PIN;
 *   - after the deadline the host starts the decryption. `bidder --decrypt --enc-key
 *     pkcs11:... --enc-pass 0000`: the key cannot be loaded, the client sends signed
 *     diagnostics (stage "token") and exits 5; the host sees them as decrypt_diagnostic, and
 *     its signature verifies with t1-token's signing certificate. With the PIN the same
 *     command answers the request with the key used in the token and exits 0 once the server
 *     has opened the bid; b2-p256's opens too;
 *   - in this process: bo_key_load of the pkcs11: URI names a wrong PIN, then with the PIN
 *     the key matches the certificate, cannot be exported, and bo_preflight passes;
 *   - the opened package in the vault verifies and carries t1-token's form; the private key
 *     is still in the token, sensitive and never extractable (pkcs11-tool --list-objects).
 *
 * The wrong PIN comes first in this process on purpose: once the libp11 engine has logged in
 * to the token, a later load with a wrong PIN succeeds (the engine keeps the session).
 * Skipped, with a message, when softhsm2, opensc (pkcs11-tool) or libengine-pkcs11-openssl
 * are missing (scripts/deps installs them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "bo/bidstore.h"
#include "bo/cert.h"
#include "bo/hex.h"
#include "bo/package.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo/sigpayload.h"
#include "bo/submit.h"
#include "bo/uscc.h"
#include "bo_itest.h"
#include "bo_sbid.h"
#include "bo_softhsm.h"

extern char **environ;

#define OID "T-token"
#define PIN "1234"
#define BAD_PIN "0000"
#define TOKEN "bidopen"
/* six CLI processes (ASan) and b2's library steps before it, on a shared 2-core machine */
#define DEADLINE_MS 45000
#define TOKEN_ORG "杭州钱塘智能装备有限公司"
#define TOKEN_PERSON "周敏"
#define TK_PRICE "7654321.00"
#define B2_PRICE "7777777.77"

enum { TK, B2, NB };

static bo_world W;
static bo_sbid BD[NB]; /* t1-token (made in prep), b2-p256 of the demo PKI */
static char STORE[600];
static char CA[600]; /* the server's TLS CA */
static const char *SKIP_WHY;
static char TOKDIR[700];
static char URI[1024]; /* the token's private key, without the PIN */

/* ------------------------------------------------------------------ shell ---- */

/* Run a shell command (stdin from /dev/null, stdout and stderr to TOKDIR/cmd.log); fails
 * the test, printing the log, when it does not exit 0. */
static void sh_ok(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sh_ok(const char *what, const char *fmt, ...)
{
    char cmd[4096], full[5000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "(%s) </dev/null >>'%s/cmd.log' 2>&1", cmd, TOKDIR);
    int st = system(full);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    if (rc != 0) {
        char p[800];
        snprintf(p, sizeof(p), "%s/cmd.log", TOKDIR);
        char *log = bo_h_read_file(p, NULL);
        fprintf(stderr, "%s\n", log ? log : "");
        free(log);
        fail_msg("%s: exit %d", what, rc);
    }
}

/* A child process whose exit the test's loop waits for (the connected clients keep running). */
typedef struct child {
    pid_t pid;
    bool exited;
    int status;
} child;

static bool child_exited(void *arg)
{
    child *c = arg;
    int st;
    if (!c->exited && waitpid(c->pid, &st, WNOHANG) == c->pid) {
        c->exited = true;
        c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return c->exited;
}

static void tick(uv_timer_t *t)
{
    (void)t; /* wakes the loop so that child_exited is asked again */
}

static void tick_closed(uv_handle_t *h)
{
    *(bool *)h->data = true;
}

/* Run argv (stdin /dev/null, stdout and stderr together into out) while W's loop runs;
 * returns its exit status. Each run's output stays in TOKDIR/run-N.out. */
static int run_argv(const char *const *argv, char *out, size_t n, int timeout_ms)
{
    static int seq;
    char path[800];
    snprintf(path, sizeof(path), "%s/run-%d.out", TOKDIR, ++seq);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    child c = {0};
    int rc = posix_spawnp(&c.pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        fail_msg("cannot run %s: %s", argv[0], strerror(rc));
    uv_timer_t t;
    bool closed = false;
    uv_timer_init(&W.loop, &t);
    t.data = &closed;
    uv_timer_start(&t, tick, 100, 100);
    bo_client_run_until(&W.loop, child_exited, &c, timeout_ms);
    uv_close((uv_handle_t *)&t, tick_closed);
    while (!closed)
        uv_run(&W.loop, UV_RUN_NOWAIT);
    if (!c.exited) {
        kill(c.pid, SIGKILL);
        while (waitpid(c.pid, NULL, 0) < 0)
            ;
    }
    char *o = bo_h_read_file(path, NULL);
    snprintf(out, n, "%s", o ? o : "");
    free(o);
    if (!c.exited)
        fail_msg("%s %s did not end within %d ms: %s", argv[0], argv[1], timeout_ms, out);
    return c.status;
}

static const char *cli_bin(void)
{
    const char *b = getenv("BO_CLI_BIN");
    if (!b)
        fail_msg("BO_CLI_BIN is not set (ctest sets it)");
    return b;
}

/* ------------------------------------------------------------ the token's PKI ---- */

/* Everything before the server starts: the token and its key, a CA (with a CRL) in the
 * trust dir, t1-token's certificates. */
static void prep(const char *pki, void *ud)
{
    (void)ud;
    snprintf(TOKDIR, sizeof(TOKDIR), "%s/token", pki);
    assert_int_equal(mkdir(TOKDIR, 0700), 0);
    /* SOFTHSM2_CONF for this process (the library's bo_key_load) and every command */
    assert_int_equal(bo_softhsm_token(TOKDIR, TOKEN, PIN, "5678"), 0);
    assert_int_equal(bo_softhsm_keypair(TOKEN, PIN, "rsa:2048", "01", "enc"), 0);

    /* the CA and its CRL (openssl ca needs a database, even an empty one) */
    sh_ok("ca", "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                "-nodes -keyout ca.key -out ca.pem -days 3650 -utf8 "
                "-subj '/C=CN/O=令牌测试认证中心 (test)/CN=Token Test CA' && "
                "touch index.txt && echo 1000 > crlnumber && "
                "printf '[ca]\\ndefault_ca = d\\n[d]\\ndatabase = index.txt\\n"
                "crlnumber = crlnumber\\ndefault_md = sha256\\ndefault_crl_days = 30\\n' "
                "> ca.cnf && "
                "openssl ca -gencrl -config ca.cnf -keyfile ca.key -cert ca.pem -out ca.crl && "
                "cp ca.pem '%s/trust/token-ca.pem' && cp ca.crl '%s/trust/token-ca.crl'",
          TOKDIR, pki, pki);

    /* t1-token: a signing key in a file, the encryption key in the token */
    bo_sbid *b = &BD[TK];
    char dir[700];
    snprintf(dir, sizeof(dir), "%s/bidders/t1-token", pki);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(bo_uscc_complete("91330100MA0009903", b->uscc), BO_E_OK);
    char subj[400];
    snprintf(subj, sizeof(subj), "/C=CN/O=%s/CN=%s/serialNumber=%s", TOKEN_ORG, TOKEN_PERSON,
             b->uscc);
    snprintf(b->sign_cert, sizeof(b->sign_cert), "%s/sign-cert.pem", dir);
    snprintf(b->sign_key, sizeof(b->sign_key), "%s/sign-key.pem", dir);
    snprintf(b->enc_cert, sizeof(b->enc_cert), "%s/enc-cert.pem", dir);
    sh_ok("sign cert",
          "cd '%s' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
          "-keyout '%s' -utf8 -subj '%s' -out sign.csr && "
          "printf 'keyUsage=critical,digitalSignature,nonRepudiation\\n' > sign.ext && "
          "openssl x509 -req -in sign.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 "
          "-extfile sign.ext -out '%s'",
          TOKDIR, b->sign_key, subj, b->sign_cert);
    chmod(b->sign_key, 0600);
    char csr[800];
    snprintf(csr, sizeof(csr), "%s/enc.csr", TOKDIR);
    assert_int_equal(bo_softhsm_csr(TOKEN, PIN, "enc", subj, csr), 0); /* signed in the token */
    sh_ok("enc cert",
          "cd '%s' && printf 'keyUsage=critical,keyEncipherment,dataEncipherment\\n' > enc.ext "
          "&& openssl x509 -req -in enc.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 "
          "-extfile enc.ext -out '%s'",
          TOKDIR, b->enc_cert);
    snprintf(URI, sizeof(URI), "pkcs11:token=" TOKEN ";object=enc;type=private?module-path=%s",
             bo_softhsm_module());
}

/* ------------------------------------------------------------------ helpers ---- */

/* A string member of a JSON object ("" when absent). */
static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The decrypt_diagnostic the host received: t1-token's, stage token, naming the wrong PIN,
 * the fingerprint of its encryption certificate, and signed (ctx decrypt_diag over
 * [oid, uscc, req, stage, error, cert_fpr], docs/protocol.md §10) with its signing key. */
static void check_diagnostic(const tc_event *dg)
{
    bo_sbid *tk = &BD[TK];
    json_error_t je;
    json_t *j = json_loads(dg->body_json, 0, &je);
    if (!j)
        fail_msg("decrypt_diagnostic is not JSON (%s): %s", je.text, dg->body_json);
    if (strcmp(jstr(j, "stage"), "token") || strcmp(jstr(j, "uscc"), tk->uscc) ||
        !strstr(jstr(j, "error"), "wrong PIN") || !jstr(j, "req")[0])
        fail_msg("decrypt_diagnostic: %s", dg->body_json);
    bo_blob_list ec = {0}, sc = {0};
    assert_int_equal(bo_pem_chain_load(tk->enc_cert, &ec), BO_E_OK);
    assert_int_equal(bo_pem_chain_load(tk->sign_cert, &sc), BO_E_OK);
    uint8_t fpr[32], held[32], sig[512];
    bo_cert_fpr(ec.list.v[0].p, ec.list.v[0].len, held);
    const char *fpr_hex = jstr(j, "cert_fpr"), *sig_hex = jstr(j, "sig");
    assert_int_equal(strlen(fpr_hex), 64);
    assert_int_equal(bo_hex_decode(fpr_hex, 64, fpr, 32), BO_E_OK);
    assert_memory_equal(fpr, held, 32);
    size_t sig_len = strlen(sig_hex) / 2;
    assert_true(sig_len > 0 && sig_len <= sizeof(sig));
    assert_int_equal(bo_hex_decode(sig_hex, 2 * sig_len, sig, sig_len), BO_E_OK);
    bo_buf payload;
    bo_buf_init(&payload, 4096);
    assert_int_equal(bo_sigpayload_decrypt_diag(&payload, OID, tk->uscc, jstr(j, "req"), "token",
                                                jstr(j, "error"), fpr),
                     BO_E_OK);
    assert_int_equal(bo_sig_verify(sc.list.v[0].p, sc.list.v[0].len, BO_CTX_DECRYPT_DIAG,
                                   payload.data, payload.len, sig, sig_len),
                     BO_E_OK);
    /* and not with the other bidder's certificate */
    bo_blob_list oc = {0};
    assert_int_equal(bo_pem_chain_load(BD[B2].sign_cert, &oc), BO_E_OK);
    assert_int_not_equal(bo_sig_verify(oc.list.v[0].p, oc.list.v[0].len, BO_CTX_DECRYPT_DIAG,
                                       payload.data, payload.len, sig, sig_len),
                         BO_E_OK);
    printf("# the host saw (signature verified): stage %s, error \"%s\"\n", jstr(j, "stage"),
           jstr(j, "error"));
    bo_buf_cleanup(&payload);
    bo_blob_list_cleanup(&oc);
    bo_blob_list_cleanup(&sc);
    bo_blob_list_cleanup(&ec);
    json_decref(j);
}

/* -------------------------------------------------------------------- test ---- */

static void token_bidder_opens(void **state)
{
    (void)state;
    if (SKIP_WHY) {
        print_message("skipping: %s (scripts/deps installs it)\n", SKIP_WHY);
        skip();
    }
    /* the bidders: t1-token (made in prep) and b2-p256 from the demo PKI */
    bo_sbid *tk = &BD[TK], *b2 = &BD[B2];
    tk->name = "t1-token";
    tk->store = STORE;
    bo_sbid_init_index(b2, &W, "b2-p256", STORE);

    tc *h0 = bo_world_staff(&W, "host", "host", NULL);
    assert_true(bo_world_connect(&W, h0));
    char oid[65];
    assert_true(bo_world_create_min(&W, h0, OID, 0, DEADLINE_MS, 2, "", oid));
    tc_free(h0);
    tc *host = bo_world_staff(&W, "host", "host", OID);
    tc *sup = bo_world_staff(&W, "supervisor", "supervisor", OID);
    assert_true(bo_world_connect(&W, host));
    assert_true(bo_world_connect(&W, sup));

    /* b2-p256 through the library: registration, sign-in, its sealed bid */
    b2->t = bo_sbid_tc(&W, b2, NULL, 0, OID);
    assert_true(bo_world_connect(&W, b2->t));
    bo_err e = bo_world_register(&W, b2->t);
    if (e)
        fail_msg("b2-p256: register: %s %s", b2->t->reply_code, b2->t->reply_msg);
    e = BO_E_TIMEOUT;
    for (int k = 0; k < 50 && (e = bo_world_signin(&W, b2->t)) != BO_E_OK; k++)
        bo_world_run(&W, 200); /* sign-in opens at checkin_at */
    assert_int_equal(e, BO_E_OK);
    char env[800];
    snprintf(env, sizeof(env), "%s/b2.cms", W.dir);
    bo_package_field b2form[1] = {{"price", B2_PRICE}};
    bo_sbid_bid b2bid = {.oid = OID, .form = b2form, .n_form = 1};
    bo_sbid_seal(b2, &b2bid, env);
    bo_sbid_submit(&W, b2, OID, env, b2->commit, 30000);

    /* t1-token with the command line: seal to the token's certificate, register, submit,
     * sign in */
    char out[16384], letter[800], tkenv[800], form[64];
    snprintf(letter, sizeof(letter), "%s/投标函.txt", W.dir);
    FILE *f = fopen(letter, "w");
    assert_non_null(f);
    fputs("投标函：我方愿按招标文件的要求承包本工程。\n", f);
    fclose(f);
    snprintf(tkenv, sizeof(tkenv), "%s/t1.cms", W.dir);
    snprintf(form, sizeof(form), "price=%s", TK_PRICE);
#define CONN "--server", W.srv.url, "--ca", CA, "--cert", tk->sign_cert, "--key", tk->sign_key, \
             "--enc-cert", tk->enc_cert
    const char *seal_argv[] = {cli_bin(), "seal", "--oid", OID, "--form", form, "--doc", letter,
                               "--cert", tk->sign_cert, "--key", tk->sign_key, "--enc-cert",
                               tk->enc_cert, "--out", tkenv, NULL};
    int rc = run_argv(seal_argv, out, sizeof(out), 60000);
    if (rc != 0 || !strstr(out, "aes-256-gcm"))
        fail_msg("bidopen seal: exit %d: %s", rc, out);
    const char *reg_argv[] = {cli_bin(), "bidder", "--oid", OID, "--register", CONN,
                              "--timeout", "60", NULL};
    rc = run_argv(reg_argv, out, sizeof(out), 70000);
    if (rc != 0)
        fail_msg("bidopen bidder --register: exit %d: %s", rc, out);
    const char *sub_argv[] = {cli_bin(), "bidder", "submit", "--oid", OID, "--bid", tkenv,
                              "--store", STORE, CONN, "--timeout", "60", NULL};
    rc = run_argv(sub_argv, out, sizeof(out), 70000);
    if (rc != 0)
        fail_msg("bidopen bidder submit: exit %d: %s", rc, out);
    bo_bid_record rec;
    char detail[400] = "";
    assert_int_equal(bo_bidstore_find(STORE, OID, tk->uscc, NULL, &rec, detail, sizeof(detail)),
                     BO_E_OK);
    assert_true(rec.has_receipt);
    assert_true(rec.receipt_verified);
    memcpy(tk->env_sha, rec.seal.env_sha256, 32);
    bo_bid_record_cleanup(&rec);
    const char *signin_argv[] = {cli_bin(), "bidder", "--oid", OID, "--signin", CONN,
                                 "--timeout", "60", NULL};
    rc = run_argv(signin_argv, out, sizeof(out), 70000);
    if (rc != 0)
        fail_msg("bidopen bidder --signin: exit %d: %s", rc, out);

    /* pre-flight against the token: the PIN opens the bid, a wrong one is a token failure
     * (exit 5) that says so */
    const char *pf_ok[] = {cli_bin(), "bidder", "preflight", "--oid", OID, "--enc-key", URI,
                           "--enc-pass", PIN, "--store", STORE, "--cert", tk->sign_cert,
                           "--enc-cert", tk->enc_cert, "--json", NULL};
    rc = run_argv(pf_ok, out, sizeof(out), 60000);
    if (rc != 0 || !strstr(out, "\"ok\":true"))
        fail_msg("bidopen bidder preflight with the token: exit %d: %s", rc, out);
    const char *pf_bad[] = {cli_bin(), "bidder", "preflight", "--oid", OID, "--enc-key", URI,
                            "--enc-pass", BAD_PIN, "--store", STORE, "--cert", tk->sign_cert,
                            "--enc-cert", tk->enc_cert, NULL};
    rc = run_argv(pf_bad, out, sizeof(out), 60000);
    if (rc != 5 || !strstr(out, "[token]") || !strstr(out, "wrong PIN"))
        fail_msg("bidopen bidder preflight with a wrong PIN: exit %d: %s", rc, out);
    printf("# preflight, wrong PIN: %s", out);

    /* the deadline; the decryption starts */
    assert_true(tc_wait_event(&W.loop, host, "bidders_revealed", DEADLINE_MS + 20000));
    assert_int_equal(tc_count(sup, "bid_submitted"), 2);
    tc_reply_reset(host);
    assert_int_equal(bo_client_decrypt_start(host->c, OID, 600, tc_on_reply, host), BO_E_OK);
    assert_int_equal(tc_wait_reply(&W.loop, host, 10000), BO_E_OK);

    /* a wrong PIN: the client sends signed diagnostics (stage token) and exits 5 */
    const char *dec_bad[] = {cli_bin(), "bidder", "--oid", OID, "--decrypt", "--enc-key", URI,
                             "--enc-pass", BAD_PIN, "--store", STORE, CONN, "--timeout", "60",
                             NULL};
    rc = run_argv(dec_bad, out, sizeof(out), 70000);
    if (rc != 5 || !strstr(out, "cannot decrypt [token]") || !strstr(out, "wrong PIN") ||
        !strstr(out, "sent to the server"))
        fail_msg("bidopen bidder --decrypt with a wrong PIN: exit %d: %s", rc, out);
    printf("# decrypt, wrong PIN: %s", out);
    assert_true(tc_wait_event(&W.loop, host, "decrypt_diagnostic", 10000));
    check_diagnostic(tc_last(host, "decrypt_diagnostic"));
    assert_int_equal(tc_count(host, "bid_decrypted"), 0);

    /* b2-p256 answers with its key file (library) */
    bo_sbid_attach(b2, NULL);

    /* the PIN: the same command answers with the key used in the token */
    const char *dec_ok[] = {cli_bin(), "bidder", "--oid", OID, "--decrypt", "--enc-key", URI,
                            "--enc-pass", PIN, "--store", STORE, CONN, "--timeout", "90", NULL};
    rc = run_argv(dec_ok, out, sizeof(out), 100000);
    if (rc != 0 || !strstr(out, "解密成功"))
        fail_msg("bidopen bidder --decrypt with the token: exit %d: %s", rc, out);
    assert_int_equal(bo_client_run_until(&W.loop, bo_sbid_settled, b2, 60000), BO_E_OK);
    if (!b2->opened)
        fail_msg("b2-p256: failed %u refused %u: %s", b2->failed, b2->refused, b2->why);
    assert_true(tc_wait_event(&W.loop, host, "bid_decrypted", 10000));
    for (int k = 0; k < 50 && tc_count(host, "bid_decrypted") < 2; k++)
        bo_world_run(&W, 200);
    assert_int_equal(tc_count(host, "bid_decrypted"), 2);
    assert_int_equal(tc_count(host, "decrypt_diagnostic"), 1);
    /* the supervisor sees t1-token's form */
    bool form_seen = false;
    for (int k = 0; k < 50 && !form_seen; k++) {
        for (size_t i = 0; i < sup->n_events; i++)
            form_seen |= !strcmp(sup->events[i].kind, "bid_form") &&
                         strstr(sup->events[i].body_json, tk->uscc) &&
                         strstr(sup->events[i].body_json, TK_PRICE);
        if (!form_seen)
            bo_world_run(&W, 200);
    }
    assert_true(form_seen);

    /* in this process: a wrong PIN is named (the first use of the token here), then the key
     * through the pkcs11: URI; it never leaves the token */
    bo_key *bad = bo_key_load(URI, BAD_PIN, &e, detail, sizeof(detail));
    assert_null(bad);
    if (!strstr(detail, "wrong PIN"))
        fail_msg("bo_key_load with a wrong PIN: %s: %s", bo_err_name(e), detail);
    bo_key *tkey = bo_key_load(URI, PIN, &e, detail, sizeof(detail));
    if (!tkey)
        fail_msg("%s: %s %s", URI, bo_err_name(e), detail);
    assert_int_equal(bo_key_alg(tkey), BO_KEY_RSA);
    bo_buf pem;
    bo_buf_init(&pem, 1 << 16);
    assert_int_not_equal(bo_key_to_pem(tkey, NULL, &pem), BO_E_OK);
    bo_buf_cleanup_wipe(&pem);
    bo_blob_list held = {0};
    assert_int_equal(bo_pem_chain_load(tk->enc_cert, &held), BO_E_OK);
    assert_int_equal(bo_key_matches_cert(tkey, held.list.v[0].p, held.list.v[0].len), BO_E_OK);
    assert_int_equal(bo_bidstore_find(STORE, OID, tk->uscc, NULL, &rec, detail, sizeof(detail)),
                     BO_E_OK);
    bo_preflight_result pr;
    assert_int_equal(bo_preflight(&rec, tkey, held.list.v[0].p, held.list.v[0].len, &pr), BO_E_OK);
    assert_int_equal(pr.stage, BO_STAGE_OK);
    bo_bid_record_cleanup(&rec);
    bo_blob_list_cleanup(&held);
    bo_key_free(tkey);

    /* the opened package in the vault */
    char hex[65], plain[1200];
    bo_hex_encode(tk->env_sha, 32, hex);
    snprintf(plain, sizeof(plain), "%s/data/vault/%s/plain/%s.pkg", W.srv.dir, OID, hex);
    bo_package_reader *rd = bo_package_open(plain, &e, detail, sizeof(detail));
    if (!rd)
        fail_msg("%s: %s", plain, detail);
    bo_blob_list sc = {0};
    assert_int_equal(bo_pem_chain_load(tk->sign_cert, &sc), BO_E_OK);
    assert_int_equal(bo_package_verify(rd, sc.list.v[0].p, sc.list.v[0].len), BO_E_OK);
    bo_blob_list_cleanup(&sc);
    assert_string_equal(bo_package_uscc(rd), tk->uscc);
    assert_string_equal(bo_package_form_get(rd, "price"), TK_PRICE);
    assert_int_equal(bo_package_read_docs(rd, NULL, NULL, detail, sizeof(detail)), BO_E_OK);
    bo_package_close(rd);

    /* the private key is still in the token, sensitive and never extractable */
    char mod[300];
    snprintf(mod, sizeof(mod), "%s", bo_softhsm_module());
    const char *lo[] = {"pkcs11-tool", "--module", mod, "--token-label", TOKEN, "--login",
                        "--pin", PIN, "--list-objects", "--type", "privkey", NULL};
    assert_int_equal(run_argv(lo, out, sizeof(out), 60000), 0);
    const char *access = strstr(out, "Access:");
    if (!strstr(out, "label:      enc") || !access || !strstr(access, "never extractable") ||
        !strstr(access, "sensitive"))
        fail_msg("the token's private key: %s", out);
    char line[300];
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(access, "\n"), access);
    /* "extractable" only as part of "never extractable" */
    const char *x = strstr(line, "extractable");
    assert_true(x && x - line >= 6 && !strncmp(x - 6, "never ", 6));
    assert_null(strstr(x + 1, "extractable"));
    printf("# %s\n", line);

    bo_sbid_detach(b2);
    bo_world_run(&W, 300);
    tc_free(b2->t);
    b2->t = NULL;
    tc_free(host);
    tc_free(sup);
    bo_world_run(&W, 200);
    assert_int_equal(bo_world_stop(&W), 0);
#undef CONN
}

/* ------------------------------------------------------------------- setup ---- */

static int setup(void **state)
{
    (void)state;
    SKIP_WHY = bo_softhsm_missing();
    if (SKIP_WHY)
        return 0;
    bo_world_up_prep(&W, "token", NULL, prep, NULL);
    snprintf(STORE, sizeof(STORE), "%s/store", W.dir);
    bo_h_path(CA, W.pki, "server/ca.pem");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (SKIP_WHY)
        return 0;
    bo_sbid_release(&W, BD, NB);
    bo_world_down(&W);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_bidder_opens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
