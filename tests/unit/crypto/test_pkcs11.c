/* bo_key_load("pkcs11:...") through the libp11 ENGINE with a SoftHSM2 token made here: the
 * keys are generated inside the token (never extractable), certificates are issued from CSRs
 * the token signs, and bids sealed to them are unwrapped by the token (RSA PKCS#1 v1.5, RSA
 * OAEP-SHA256 through libp11's raw-RSA fallback, EC P-256 ECDH). Skipped, with a message, only
 * when softhsm2, opensc (pkcs11-tool) or libengine-pkcs11-openssl are not installed
 * (scripts/deps installs them). */
#include "sealed_test_util.h"

#include <unistd.h>

#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/seal.h"
#include "bo_softhsm.h"

#define PIN "1234"

static const char *g_module;
static const char *g_missing; /* why the tests are skipped, or NULL */
static char *g_dir;
static char g_token[64];
static uint8_t *g_rsa_der, *g_ec_der;
static size_t g_rsa_len, g_ec_len;
static bo_secret *g_cek;

static void load_cert(const char *name, uint8_t **der, size_t *len)
{
    char *p = st_path(g_dir, name);
    bo_blob_list l = {0};
    assert_int_equal(bo_pem_chain_load(p, &l), BO_E_OK);
    *len = l.list.v[0].len;
    *der = malloc(*len);
    memcpy(*der, l.list.v[0].p, *len);
    bo_blob_list_cleanup(&l);
    free(p);
}

/* A key pair generated in the token, a CSR signed by the token, a certificate from the test CA. */
static void make_token_key(const char *label, const char *id, const char *type, const char *ku)
{
    assert_int_equal(bo_softhsm_keypair(g_token, PIN, type, id, label), 0);
    char subj[128], csr[1024];
    snprintf(subj, sizeof subj, "/CN=%s", label);
    snprintf(csr, sizeof csr, "%s/%s.csr", g_dir, label);
    assert_int_equal(bo_softhsm_csr(g_token, PIN, label, subj, csr), 0);
    assert_int_equal(st_sh("cd '%s' && printf 'keyUsage=critical,%s\\n' > %s.ext && "
                           "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                           "-days 30 -extfile %s.ext -out %s.pem 2>/dev/null",
                           g_dir, ku, label, label, label, label),
                     0);
}

static int setup(void **state)
{
    g_missing = bo_softhsm_missing();
    if (g_missing)
        return 0;
    g_module = bo_softhsm_module();
    g_dir = st_tmpdir();
    snprintf(g_token, sizeof g_token, "bo-test-%d", (int)getpid());
    assert_int_equal(bo_softhsm_token(g_dir, g_token, PIN, "5678"), 0);
    assert_int_equal(st_sh("cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
                           "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -subj "
                           "'/CN=Token Test CA' -days 30 2>/dev/null",
                           g_dir),
                     0);
    make_token_key("enc-rsa", "01", "rsa:2048", "keyEncipherment");
    make_token_key("enc-ec", "02", "EC:prime256v1", "keyAgreement");
    load_cert("enc-rsa.pem", &g_rsa_der, &g_rsa_len);
    load_cert("enc-ec.pem", &g_ec_der, &g_ec_len);
    uint8_t k[32];
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(7 * i);
    bo_err e = BO_E_OK;
    g_cek = bo_secret_from(k, 32, &e);
    return 0;
}

static int teardown(void **state)
{
    if (g_dir)
        tu_rmtree(g_dir);
    free(g_dir);
    free(g_rsa_der);
    free(g_ec_der);
    bo_secret_free(g_cek);
    return 0;
}

#define SKIP_IF_MISSING()                                                                          \
    do {                                                                                           \
        if (g_missing) {                                                                           \
            print_message("skipping: %s (scripts/deps installs it)\n", g_missing);                 \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static bo_key *load(const char *object, const char *pin, bo_err *e, char *detail, size_t n)
{
    char uri[512];
    snprintf(uri, sizeof uri, "pkcs11:token=%s;object=%s;type=private", g_token, object);
    return bo_key_load(uri, pin, e, detail, n);
}

/* Runs first: the first load of the process chooses the module (here through the URI's
 * module-path query attribute, with the PIN as pin-value). */
static void uri_query_and_refusals(void **state)
{
    SKIP_IF_MISSING();
    bo_err e = BO_E_OK;
    char detail[256] = "";
    char uri[1024];
    snprintf(uri, sizeof uri, "pkcs11:token=%s;object=enc-rsa;type=private?module-path=%s&pin-value=0000",
             g_token, g_module);
    assert_null(bo_key_load(uri, NULL, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_INVALID_ARG);
    /* the token's refusal is named (CKR_PIN_INCORRECT), not taken for a missing key */
    if (!strstr(detail, "wrong PIN") || !strstr(detail, "CKR_PIN_INCORRECT"))
        fail_msg("a wrong PIN reads: %s", detail);
    snprintf(uri, sizeof uri, "pkcs11:token=%s;object=enc-rsa;type=private?module-path=%s&pin-value=" PIN,
             g_token, g_module);
    bo_key *k = bo_key_load(uri, NULL, &e, detail, sizeof detail);
    if (!k)
        fail_msg("%s: %s", bo_err_name(e), detail);
    assert_int_equal(bo_key_alg(k), BO_KEY_RSA);
    assert_int_equal(bo_key_matches_cert(k, g_rsa_der, g_rsa_len), BO_E_OK);
    assert_int_equal(bo_key_matches_cert(k, g_ec_der, g_ec_len), BO_E_NOT_FOUND);
    /* the private key never leaves the token */
    bo_buf pem;
    bo_buf_init(&pem, 1 << 16);
    assert_int_not_equal(bo_key_to_pem(k, NULL, &pem), BO_E_OK);
    bo_buf_cleanup_wipe(&pem);
    bo_key_free(k);
    assert_null(load("no-such-key", PIN, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_INVALID_ARG);
    if (!strstr(detail, "no private key at this PKCS#11 URI") || strstr(detail, "PIN"))
        fail_msg("a missing key reads: %s", detail);
    assert_null(bo_key_load("pkcs11:token=no-such-token;object=x", PIN, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    assert_null(bo_key_load("pkcs11:token=x?module-path=%zz", PIN, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
}

static void seal_unwrap_decrypt(const bo_key *k, const uint8_t *cert, size_t cert_len,
                                bo_seal_rsa pad)
{
    char *in = st_path(g_dir, "bid.bin"), *env = st_path(g_dir, "bid.cms"),
         *out = st_path(g_dir, "bid.out");
    st_spit(in, "price=1234567.89;pm=张三", 26);
    bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC, .rsa_padding = pad, .cek = g_cek};
    bo_bytes c = {cert, cert_len};
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_file(in, env, &o, &c, 1, &res, NULL, 0), BO_E_OK);
    bo_secret *cek = NULL;
    bo_err e = bo_cek_unwrap(res.ri.list.v[0].p, res.ri.list.v[0].len, k, cert, cert_len, &cek);
    if (e != BO_E_OK)
        fail_msg("unwrap through the token (padding %d): %s", (int)pad, bo_err_name(e));
    assert_true(bo_secret_equal(cek, g_cek));
    assert_int_equal(bo_cek_commitment_check(cek, "op-1", ST_USCC, res.record.commitment),
                     BO_E_OK);
    assert_int_equal(bo_envelope_decrypt(env, cek, out, NULL, NULL, NULL, 0), BO_E_OK);
    size_t n;
    uint8_t *pt = st_slurp(out, &n);
    assert_int_equal(n, 26);
    assert_memory_equal(pt, "price=1234567.89;pm=张三", 26);
    free(pt);
    bo_secret_free(cek);
    bo_seal_result_cleanup(&res);
    remove(out);
    free(in);
    free(env);
    free(out);
}

static void rsa_in_token(void **state)
{
    SKIP_IF_MISSING();
    bo_err e = BO_E_OK;
    char detail[256] = "";
    bo_key *k = load("enc-rsa", PIN, &e, detail, sizeof detail);
    if (!k)
        fail_msg("%s: %s", bo_err_name(e), detail);
    seal_unwrap_decrypt(k, g_rsa_der, g_rsa_len, BO_SEAL_RSA_OAEP_SHA256);
    seal_unwrap_decrypt(k, g_rsa_der, g_rsa_len, BO_SEAL_RSA_PKCS1);
    /* a bid made by the openssl command line, and its commitment computed with the token */
    char *in = st_path(g_dir, "cli.bin"), *env = st_path(g_dir, "cli.cms");
    st_spit(in, "openssl-made bid", 16);
    assert_int_equal(st_sh("openssl cms -encrypt -binary -stream -aes-256-gcm -outform DER "
                           "-in '%s' -out '%s' -recip '%s/enc-rsa.pem'",
                           in, env, g_dir),
                     0);
    uint8_t c[32];
    assert_int_equal(bo_envelope_commitment_from_key(env, k, g_rsa_der, g_rsa_len, "op-1",
                                                     ST_USCC, c, detail, sizeof detail),
                     BO_E_OK);
    /* a corrupted encrypted key fails through the token with the uniform code */
    bo_envelope_info info;
    assert_int_equal(bo_envelope_info_file(env, &info, NULL, 0), BO_E_OK);
    uint8_t *ri = malloc(info.ri[0].der.len);
    memcpy(ri, info.ri[0].der.p, info.ri[0].der.len);
    ri[info.ri[0].der.len - 7] ^= 1;
    bo_secret *cek = NULL;
    assert_int_equal(bo_cek_unwrap(ri, info.ri[0].der.len, k, g_rsa_der, g_rsa_len, &cek),
                     BO_E_UNWRAP_FAILED);
    free(ri);
    bo_envelope_info_cleanup(&info);
    /* the token's key signs too (sign-in and package signatures) */
    bo_buf sig;
    bo_buf_init(&sig, 1024);
    assert_int_equal(bo_key_sign(k, "auth", (const uint8_t *)"payload", 7, &sig), BO_E_OK);
    assert_int_equal(bo_sig_verify(g_rsa_der, g_rsa_len, "auth", (const uint8_t *)"payload", 7,
                                   sig.data, sig.len),
                     BO_E_OK);
    bo_buf_cleanup(&sig);
    bo_key_free(k);
    free(in);
    free(env);
}

static void ec_in_token(void **state)
{
    SKIP_IF_MISSING();
    bo_err e = BO_E_OK;
    char detail[256] = "";
    bo_key *k = load("enc-ec", PIN, &e, detail, sizeof detail);
    if (!k)
        fail_msg("%s: %s", bo_err_name(e), detail);
    assert_int_equal(bo_key_alg(k), BO_KEY_EC_P256);
    assert_int_equal(bo_key_matches_cert(k, g_ec_der, g_ec_len), BO_E_OK);
    seal_unwrap_decrypt(k, g_ec_der, g_ec_len, BO_SEAL_RSA_OAEP_SHA256);
    /* openssl's default KARI (SHA-1 KDF) through the token as well */
    char *in = st_path(g_dir, "cli.bin"), *env = st_path(g_dir, "cli-ec.cms");
    st_spit(in, "openssl-made bid", 16);
    assert_int_equal(st_sh("openssl cms -encrypt -binary -stream -aes-256-gcm -outform DER "
                           "-in '%s' -out '%s' -recip '%s/enc-ec.pem'",
                           in, env, g_dir),
                     0);
    uint8_t c[32];
    assert_int_equal(bo_envelope_commitment_from_key(env, k, g_ec_der, g_ec_len, "op-1", ST_USCC,
                                                     c, detail, sizeof detail),
                     BO_E_OK);
    bo_key_free(k);
    free(in);
    free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uri_query_and_refusals),
        cmocka_unit_test(rsa_in_token),
        cmocka_unit_test(ec_in_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
