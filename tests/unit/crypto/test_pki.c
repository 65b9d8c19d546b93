/* bo_pki: the throwaway PKI, and the demo layout (every bidder in index.json verifies with the
 * outcome it announces). */
#include "crypto_test_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bo/clock.h"
#include "bo/hex.h"
#include "bo/identity.h"
#include "bo/pki.h"
#include "bo/sign.h"

#define NOW (1800000000000LL)

static X509 *first_cert(const bo_buf *pem)
{
    BIO *b = BIO_new_mem_buf(pem->data, (int)pem->len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(x);
    return x;
}

static void leaf_extensions(void **state)
{
    bo_err e = BO_E_OK;
    bo_pki_name rn = {.c = "CN", .o = "T", .cn = "T Root"};
    bo_pki_ca *root = bo_pki_ca_root(&rn, BO_KEY_EC_P256, NOW - DAY_MS, NOW + DAY_MS, &e);
    assert_non_null(root);
    struct {
        bo_keyalg alg;
        unsigned usage;
        uint32_t want_ku;
        uint32_t want_xku;
    } cases[] = {
        {BO_KEY_EC_P256, BO_PKI_SIGN, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION, 0},
        {BO_KEY_EC_P256, BO_PKI_ENC, KU_KEY_AGREEMENT, 0},
        {BO_KEY_SM2, BO_PKI_ENC, KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT, 0},
        {BO_KEY_ED25519, BO_PKI_SIGN | BO_PKI_TLS_CLIENT, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION,
         XKU_SSL_CLIENT},
        {BO_KEY_EC_P256, BO_PKI_TLS_SERVER, KU_DIGITAL_SIGNATURE, XKU_SSL_SERVER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bo_pki_leaf_opts o = {.alg = cases[i].alg, .subj = {.cn = "leaf"}, .usage = cases[i].usage,
                              .not_before = NOW - DAY_MS, .not_after = NOW + DAY_MS};
        bo_buf key, cert;
        bo_buf_init(&key, 1 << 16);
        bo_buf_init(&cert, 1 << 16);
        uint64_t serial = 0;
        assert_int_equal(bo_pki_issue(root, &o, &key, &cert, &serial), BO_E_OK);
        assert_true(serial > 0);
        X509 *x = first_cert(&cert);
        assert_int_equal(X509_get_key_usage(x), cases[i].want_ku);
        if (cases[i].want_xku)
            assert_int_equal(X509_get_extended_key_usage(x), cases[i].want_xku);
        assert_int_equal(X509_check_ca(x), 0);
        if (cases[i].usage & BO_PKI_TLS_SERVER) {
            assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
            assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
            assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
        }
        /* the key in key_pem is the certificate's */
        bo_key *k = bo_key_from_mem(key.data, key.len, NULL, &e, NULL, 0);
        assert_non_null(k);
        unsigned char *der = NULL;
        int dl = i2d_X509(x, &der);
        assert_int_equal(bo_key_matches_cert(k, der, (size_t)dl), BO_E_OK);
        OPENSSL_free(der);
        bo_key_free(k);
        X509_free(x);
        bo_buf_cleanup_wipe(&key);
        bo_buf_cleanup(&cert);
    }
    /* Ed25519 cannot be an encryption certificate; nothing at all is not a usage */
    bo_pki_leaf_opts bad = {.alg = BO_KEY_ED25519, .usage = BO_PKI_ENC};
    bo_buf c;
    bo_buf_init(&c, 1 << 16);
    assert_int_equal(bo_pki_issue(root, &bad, NULL, &c, NULL), BO_E_INVALID_ARG);
    bad.usage = 0;
    assert_int_equal(bo_pki_issue(root, &bad, NULL, &c, NULL), BO_E_INVALID_ARG);
    bad.alg = BO_KEY_EC_P256;
    bad.usage = BO_PKI_SIGN;
    bad.uscc = "91350100M000100Y43";
    bad.uscc_attr = "not an oid";
    assert_int_equal(bo_pki_issue(root, &bad, NULL, &c, NULL), BO_E_INVALID_ARG);
    bo_buf_cleanup(&c);
    bo_pki_ca_free(root);
}

static void crl_lists_revoked(void **state)
{
    bo_err e = BO_E_OK;
    bo_pki_name rn = {.cn = "R"};
    bo_pki_ca *root = bo_pki_ca_root(&rn, BO_KEY_EC_P256, NOW - DAY_MS, NOW + DAY_MS, &e);
    assert_int_equal(bo_pki_revoke(root, 0x1234, NOW - 1000), BO_E_OK);
    assert_int_equal(bo_pki_revoke(root, 0x99, NOW - 1000), BO_E_OK);
    bo_buf pem;
    bo_buf_init(&pem, 1 << 16);
    assert_int_equal(bo_pki_crl(root, NOW - 1000, NOW + DAY_MS, &pem), BO_E_OK);
    BIO *b = BIO_new_mem_buf(pem.data, (int)pem.len);
    X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    assert_non_null(crl);
    STACK_OF(X509_REVOKED) *rv = X509_CRL_get_REVOKED(crl);
    assert_int_equal(sk_X509_REVOKED_num(rv), 2);
    size_t dl;
    const uint8_t *der = bo_pki_ca_cert_der(root, &dl);
    const unsigned char *p = der;
    X509 *ca = d2i_X509(NULL, &p, (long)dl);
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
    assert_int_equal(X509_CRL_get_version(crl), 1);
    X509_free(ca);
    X509_CRL_free(crl);
    BIO_free(b);
    bo_buf_cleanup(&pem);
    bo_pki_ca_free(root);
}

static void encrypted_key_and_p12(void **state)
{
    bo_err e = BO_E_OK;
    bo_pki_name rn = {.cn = "R"};
    bo_pki_ca *root = bo_pki_ca_root(&rn, BO_KEY_SM2, NOW - DAY_MS, NOW + DAY_MS, &e);
    bo_pki_name in = {.cn = "I"};
    bo_pki_ca *inter = bo_pki_ca_intermediate(root, &in, BO_KEY_SM2, NOW - DAY_MS, NOW + DAY_MS, &e);
    assert_non_null(inter);
    bo_pki_leaf_opts o = {.alg = BO_KEY_EC_P256, .subj = {.cn = "L"}, .usage = BO_PKI_SIGN,
                          .not_before = NOW - DAY_MS, .not_after = NOW + DAY_MS,
                          .key_pass = "pw"};
    bo_buf key, cert, p12;
    bo_buf_init(&key, 1 << 16);
    bo_buf_init(&cert, 1 << 16);
    bo_buf_init(&p12, 1 << 16);
    assert_int_equal(bo_pki_issue(inter, &o, &key, &cert, NULL), BO_E_OK);
    assert_non_null(strstr((char *)key.data, "ENCRYPTED"));
    assert_null(bo_key_from_mem(key.data, key.len, NULL, &e, NULL, 0));
    bo_key *k = bo_key_from_mem(key.data, key.len, "pw", &e, NULL, 0);
    assert_non_null(k);
    bo_buf plain;
    bo_buf_init(&plain, 1 << 16);
    assert_int_equal(bo_key_to_pem(k, NULL, &plain), BO_E_OK);
    bo_key_free(k);
    assert_int_equal(bo_pki_pkcs12(&plain, &cert, "bidopen", "L", &p12), BO_E_OK);
    char dir[] = "/tmp/bo_test_pki_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(tu_write_buf(dir, "l.p12", &p12), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/l.p12", dir);
    bo_blob_list chain = {0};
    k = bo_key_load_p12(path, "bidopen", &chain, &e, NULL, 0);
    assert_non_null(k);
    assert_int_equal(chain.list.n, 2); /* leaf + intermediate, in order */
    bo_blob_list want = {0};
    assert_int_equal(bo_pem_chain_parse(cert.data, cert.len, &want), BO_E_OK);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(chain.list.v[i].len, want.list.v[i].len);
        assert_memory_equal(chain.list.v[i].p, want.list.v[i].p, want.list.v[i].len);
    }
    bo_blob_list_cleanup(&want);
    bo_blob_list_cleanup(&chain);
    bo_key_free(k);
    tu_rmtree(dir);
    bo_buf_cleanup_wipe(&key);
    bo_buf_cleanup_wipe(&plain);
    bo_buf_cleanup(&cert);
    bo_buf_cleanup(&p12);
    bo_pki_ca_free(inter);
    bo_pki_ca_free(root);
}

/* ---- the demo layout ---------------------------------------------------------------------- */

static char g_demo[64];
static bo_time_ms g_now;

static int demo_setup(void **state)
{
    strcpy(g_demo, "/tmp/bo_test_demo_XXXXXX");
    if (!mkdtemp(g_demo))
        return -1;
    g_now = bo_clock_now_ms();
    char detail[256];
    int64_t t0 = bo_clock_mono_ms();
    bo_err e = bo_pki_write_demo(g_demo, g_now, detail, sizeof detail);
    print_message("demo PKI written in %lld ms\n", (long long)(bo_clock_mono_ms() - t0));
    if (e != BO_E_OK) {
        fprintf(stderr, "demo: %s %s\n", bo_err_name(e), detail);
        return -1;
    }
    return 0;
}

static int demo_teardown(void **state)
{
    tu_rmtree(g_demo);
    return 0;
}

static void load_chain(const char *rel, bo_blob_list *out)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_demo, rel);
    bo_err e = bo_pem_chain_load(path, out);
    if (e != BO_E_OK)
        print_error("cannot load %s: %s\n", path, bo_err_name(e));
    assert_int_equal(e, BO_E_OK);
}

static bo_key *load_key(const char *rel, const char *pass)
{
    char path[512], detail[200];
    snprintf(path, sizeof path, "%s/%s", g_demo, rel);
    bo_err e = BO_E_OK;
    bo_key *k = bo_key_load(path, pass, &e, detail, sizeof detail);
    if (!k)
        print_error("cannot load %s: %s %s\n", path, bo_err_name(e), detail);
    assert_non_null(k);
    return k;
}

/* A key and its certificate belong together and sign verifiably. */
static void check_pair(const char *cert_rel, const char *key_rel)
{
    bo_blob_list c = {0};
    load_chain(cert_rel, &c);
    bo_key *k = load_key(key_rel, NULL);
    assert_int_equal(bo_key_matches_cert(k, c.list.v[0].p, c.list.v[0].len), BO_E_OK);
    bo_buf sig;
    bo_buf_init(&sig, BO_SIG_MAX);
    assert_int_equal(bo_key_sign(k, "auth", (const uint8_t *)"x", 1, &sig), BO_E_OK);
    assert_int_equal(bo_sig_verify(c.list.v[0].p, c.list.v[0].len, "auth", (const uint8_t *)"x", 1,
                                   sig.data, sig.len),
                     BO_E_OK);
    bo_buf_cleanup(&sig);
    bo_key_free(k);
    bo_blob_list_cleanup(&c);
}

static bo_trust *demo_trust(void)
{
    char dir[128], detail[256];
    snprintf(dir, sizeof dir, "%s/trust", g_demo);
    bo_trust_opts o = BO_TRUST_OPTS_INIT;
    o.dir = dir;
    bo_err e = BO_E_OK;
    bo_trust *t = bo_trust_load(&o, &e, detail, sizeof detail);
    if (!t)
        print_error("trust: %s %s\n", bo_err_name(e), detail);
    assert_non_null(t);
    return t;
}

static void demo_bidders(void **state)
{
    bo_trust *t = demo_trust();
    bo_trust_stats st;
    bo_trust_get_stats(t, &st);
    assert_int_equal(st.anchors, 4);       /* CA-A, CA-B, GM, staff */
    assert_int_equal(st.intermediates, 3); /* CA-A, CA-B, GM issuing CAs */
    assert_int_equal(st.crls, 7);
    assert_int_equal(st.cas_without_crl, 0);

    char path[512];
    snprintf(path, sizeof path, "%s/bidders/index.json", g_demo);
    json_error_t jerr;
    json_t *ix = json_load_file(path, 0, &jerr);
    assert_non_null(ix);
    assert_true(json_array_size(ix) >= 14);
    int good = 0, algs[BO_KEY_OTHER + 1] = {0};
    size_t i;
    json_t *b;
    json_array_foreach(ix, i, b) {
        const char *name = json_string_value(json_object_get(b, "name"));
        const char *uscc = json_string_value(json_object_get(b, "uscc"));
        const char *identity = json_string_value(json_object_get(b, "identity"));
        const char *expect = json_string_value(json_object_get(b, "expect"));
        json_t *files = json_object_get(b, "files");
        assert_non_null(name);
        assert_non_null(identity);
        assert_non_null(expect);
        bo_blob_list sc = {0}, ec = {0};
        load_chain(json_string_value(json_object_get(files, "sign_cert")), &sc);
        load_chain(json_string_value(json_object_get(files, "enc_cert")), &ec);
        bo_identity id;
        char detail[256];
        bo_err got = bo_identity_verify(t, &sc.list, &ec.list, g_now, BO_ID_REQUIRE_USCC, &id,
                                        detail, sizeof detail);
        print_message("  %-16s %-22s %s\n", name, bo_err_name(got), detail);
        bo_err want = BO_E_OK;
        if (strcmp(identity, "ok") != 0)
            assert_int_equal(bo_err_from_name(identity, &want), BO_E_OK);
        assert_int_equal(got, want);
        /* the chain files carry the intermediate (but never the root) */
        if (strcmp(name, "rogue") != 0)
            assert_int_equal(sc.list.n, 2);
        if (got == BO_E_OK) {
            assert_string_equal(id.uscc, uscc);
            assert_string_equal(id.org, json_string_value(json_object_get(b, "org")));
            if (strcmp(expect, "ok") == 0)
                good++;
            bo_keyalg a;
            assert_int_equal(bo_keyalg_parse(json_string_value(json_object_get(b, "alg")), &a),
                             BO_E_OK);
            assert_int_equal(id.alg, a);
            algs[a]++;
            check_pair(json_string_value(json_object_get(files, "sign_cert")),
                       json_string_value(json_object_get(files, "sign_key")));
            bo_key *ek = load_key(json_string_value(json_object_get(files, "enc_key")), NULL);
            assert_int_equal(bo_key_matches_cert(ek, ec.list.v[0].p, ec.list.v[0].len), BO_E_OK);
            bo_key_free(ek);
        }
        json_t *enc2 = json_object_get(files, "enc2_cert");
        if (enc2) {
            bo_blob_list e2 = {0};
            load_chain(json_string_value(enc2), &e2);
            bo_identity id2;
            assert_int_equal(bo_identity_verify(t, &sc.list, &e2.list, g_now, BO_ID_REQUIRE_USCC,
                                                &id2, detail, sizeof detail),
                             BO_E_OK);
            assert_memory_not_equal(id2.enc_fpr, id.enc_fpr, 32);
            assert_true(id2.enc_not_after > id.enc_not_after);
            bo_blob_list_cleanup(&e2);
        }
        json_t *p12 = json_object_get(files, "sign_p12");
        if (p12) {
            snprintf(path, sizeof path, "%s/%s", g_demo, json_string_value(p12));
            bo_blob_list pc = {0};
            bo_err e = BO_E_OK;
            bo_key *k = bo_key_load_p12(path, "bidopen", &pc, &e, detail, sizeof detail);
            assert_non_null(k);
            assert_int_equal(pc.list.n, 2);
            assert_memory_equal(pc.list.v[0].p, sc.list.v[0].p, sc.list.v[0].len);
            assert_int_equal(bo_identity_verify(t, &pc.list, NULL, g_now, BO_ID_REQUIRE_USCC, &id,
                                                detail, sizeof detail),
                             BO_E_OK);
            bo_key_free(k);
            bo_blob_list_cleanup(&pc);
        }
        bo_blob_list_cleanup(&sc);
        bo_blob_list_cleanup(&ec);
    }
    assert_true(good >= 5);
    assert_true(algs[BO_KEY_RSA] >= 1);
    assert_true(algs[BO_KEY_EC_P256] >= 1);
    assert_true(algs[BO_KEY_SM2] >= 1);
    json_decref(ix);

    /* the blacklist names the blacklisted bidder */
    snprintf(path, sizeof path, "%s/bidders/blacklist.json", g_demo);
    json_t *bl = json_load_file(path, 0, &jerr);
    assert_non_null(bl);
    assert_int_equal(json_array_size(bl), 1);
    assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(bl, 0), "uscc"))), 18);
    json_decref(bl);
    bo_trust_free(t);
}

static void demo_staff_and_server(void **state)
{
    bo_trust *t = demo_trust();
    char path[512];
    snprintf(path, sizeof path, "%s/staff/roster.json", g_demo);
    json_error_t jerr;
    json_t *roster = json_load_file(path, 0, &jerr);
    assert_non_null(roster);
    assert_int_equal(json_array_size(roster), 6);
    size_t i;
    json_t *s;
    int hosts = 0;
    json_array_foreach(roster, i, s) {
        const char *file = json_string_value(json_object_get(s, "file"));
        const char *role = json_string_value(json_object_get(s, "role"));
        hosts += strcmp(role, "host") == 0;
        char rel[128], krel[128];
        snprintf(rel, sizeof rel, "staff/%s-cert.pem", file);
        snprintf(krel, sizeof krel, "staff/%s-key.pem", file);
        bo_blob_list c = {0};
        load_chain(rel, &c);
        bo_identity id;
        char detail[256], hex[65];
        assert_int_equal(bo_identity_verify(t, &c.list, NULL, g_now, 0, &id, detail, sizeof detail),
                         BO_E_OK);
        assert_string_equal(bo_hex_encode(id.fpr, 32, hex),
                            json_string_value(json_object_get(s, "fpr")));
        check_pair(rel, krel);
        bo_blob_list_cleanup(&c);
    }
    assert_int_equal(hosts, 2);
    json_decref(roster);

    /* server: TLS certificate for localhost, head-signing key, the CA clients pin */
    check_pair("server/tls-cert.pem", "server/tls-key.pem");
    check_pair("server/sign-cert.pem", "server/sign-key.pem");
    bo_blob_list ca = {0}, tls = {0};
    load_chain("server/ca.pem", &ca);
    load_chain("server/tls-cert.pem", &tls);
    bo_cert_info ci;
    assert_int_equal(bo_cert_describe(tls.list.v[0].p, tls.list.v[0].len, &ci), BO_E_OK);
    assert_string_equal(ci.cn, "localhost");
    assert_int_equal(bo_cert_describe(ca.list.v[0].p, ca.list.v[0].len, &ci), BO_E_OK);
    assert_true(ci.is_ca);
    bo_blob_list_cleanup(&ca);
    bo_blob_list_cleanup(&tls);

    bo_key *sk = load_key("server/sign-key.pem", NULL);
    assert_int_equal(bo_key_alg(sk), BO_KEY_ED25519);
    bo_buf sig, spki;
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_buf_init(&spki, 4096);
    assert_int_equal(bo_key_sign(sk, "head", (const uint8_t *)"h", 1, &sig), BO_E_OK);
    snprintf(path, sizeof path, "%s/server/sign-pub.der", g_demo);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t der[256];
    size_t dl = fread(der, 1, sizeof der, f);
    fclose(f);
    assert_int_equal(bo_sig_verify_spki(der, dl, "head", (const uint8_t *)"h", 1, sig.data, sig.len),
                     BO_E_OK);
    bo_buf_cleanup(&sig);
    bo_buf_cleanup(&spki);
    bo_key_free(sk);

    /* private keys are not world-readable */
    struct stat sb;
    snprintf(path, sizeof path, "%s/server/tls-key.pem", g_demo);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    /* the rogue CA is not in trust/ */
    snprintf(path, sizeof path, "%s/trust/rogue.pem", g_demo);
    assert_int_not_equal(stat(path, &sb), 0);
    snprintf(path, sizeof path, "%s/rogue/ca.pem", g_demo);
    assert_int_equal(stat(path, &sb), 0);
    bo_trust_free(t);
}

int main(void)
{
    const struct CMUnitTest basics[] = {
        cmocka_unit_test(leaf_extensions),
        cmocka_unit_test(crl_lists_revoked),
        cmocka_unit_test(encrypted_key_and_p12),
    };
    const struct CMUnitTest demo[] = {
        cmocka_unit_test(demo_bidders),
        cmocka_unit_test(demo_staff_and_server),
    };
    int failed = cmocka_run_group_tests_name("pki", basics, NULL, NULL);
    failed += cmocka_run_group_tests_name("demo", demo, demo_setup, demo_teardown);
    return failed;
}
