/* bo_envelope: inspection and streaming decryption of our own envelopes and of those made by
 * the real `openssl cms -encrypt`; every byte flipped and every truncation refused without a
 * plaintext file; hand-built envelopes for each rule of the profile. */
#include "sealed_test_util.h"

#include <openssl/evp.h>

#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/hash.h"
#include "bo/seal.h"

static bo_pki_ca *g_ca;
static st_party g_rsa, g_ec, g_rsa2;
static char *g_dir;
static char *g_plain;
static uint8_t *g_pt;
static size_t g_pt_len = 100003;
static bo_secret *g_cek;
static uint8_t g_key[32];

static void write_party_files(const st_party *p, const char *name)
{
    char n[64];
    snprintf(n, sizeof n, "%s-cert.pem", name);
    char *c = st_path(g_dir, n);
    st_spit(c, p->cert_pem.data, p->cert_pem.len);
    snprintf(n, sizeof n, "%s-key.pem", name);
    char *k = st_path(g_dir, n);
    st_spit(k, p->key_pem.data, p->key_pem.len);
    free(c);
    free(k);
}

static int setup(void **state)
{
    g_ca = st_ca();
    st_party_make(g_ca, BO_KEY_RSA, BO_PKI_ENC, "enc-rsa", &g_rsa);
    st_party_make(g_ca, BO_KEY_EC_P256, BO_PKI_ENC, "enc-ec", &g_ec);
    st_party_make(g_ca, BO_KEY_RSA, BO_PKI_ENC, "enc-rsa-2", &g_rsa2);
    g_dir = st_tmpdir();
    write_party_files(&g_rsa, "rsa");
    write_party_files(&g_ec, "ec");
    g_pt = malloc(g_pt_len);
    st_random(g_pt, g_pt_len, 3);
    g_plain = st_path(g_dir, "plain.bin");
    st_spit(g_plain, g_pt, g_pt_len);
    for (int i = 0; i < 32; i++)
        g_key[i] = (uint8_t)(0x42 + i);
    bo_err e = BO_E_OK;
    g_cek = bo_secret_from(g_key, 32, &e);
    return 0;
}

static int teardown(void **state)
{
    st_party_free(&g_rsa);
    st_party_free(&g_ec);
    st_party_free(&g_rsa2);
    bo_pki_ca_free(g_ca);
    bo_secret_free(g_cek);
    tu_rmtree(g_dir);
    free(g_dir);
    free(g_plain);
    free(g_pt);
    return 0;
}

static void assert_no_output(const char *out)
{
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", out);
    assert_false(st_exists(out));
    assert_false(st_exists(partial));
}

static void assert_plain(const char *path, const uint8_t *want, size_t n)
{
    size_t got_n;
    uint8_t *got = st_slurp(path, &got_n);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, want, n);
    free(got);
}

typedef struct prog {
    uint64_t last_done, last_total;
    int calls;
    bool monotonic;
} prog;

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    prog *p = ud;
    if (done < p->last_done)
        p->monotonic = false;
    p->last_done = done;
    p->last_total = total;
    p->calls++;
}

/* ---- our own envelopes --------------------------------------------------------------------- */

static void own_envelopes(void **state)
{
    struct {
        const st_party *to;
        bo_seal_rsa pad;
        bo_ri_type type;
        const char *alg;
    } recips[] = {
        {&g_rsa, BO_SEAL_RSA_OAEP_SHA256, BO_RI_KTRI, "rsaes-oaep(SHA256,mgf1-SHA256)"},
        {&g_rsa, BO_SEAL_RSA_PKCS1, BO_RI_KTRI, "rsaes-pkcs1-v1_5"},
        {&g_ec, BO_SEAL_RSA_OAEP_SHA256, BO_RI_KARI, "ecdh(SHA256-kdf)+AES-256-WRAP"},
    };
    char *env = st_path(g_dir, "own.cms");
    char *out = st_path(g_dir, "own.out");
    for (size_t r = 0; r < 3; r++)
        for (int cipher = 0; cipher < 2; cipher++)
            for (int der = 0; der < 2; der++) {
                bo_seal_opts o = {.cipher = (bo_seal_cipher)cipher, .rsa_padding = recips[r].pad,
                                  .der = der, .oid = "op-1", .uscc = ST_USCC, .cek = g_cek};
                bo_bytes c = st_bytes(recips[r].to);
                bo_seal_result res = {0};
                assert_int_equal(bo_seal_file(g_plain, env, &o, &c, 1, &res, NULL, 0), BO_E_OK);

                bo_envelope_info info;
                char detail[256] = "";
                assert_int_equal(bo_envelope_info_file(env, &info, detail, sizeof detail), BO_E_OK);
                assert_int_equal(info.type, cipher ? BO_ENVELOPE_ENVELOPED
                                                   : BO_ENVELOPE_AUTH_ENVELOPED);
                assert_int_equal(info.cipher, cipher ? BO_ENVELOPE_AES256_CBC
                                                     : BO_ENVELOPE_AES256_GCM);
                assert_int_equal(info.indefinite, !der);
                assert_int_equal(info.size, res.record.env_size);
                assert_memory_equal(info.sha256, res.record.env_sha256, 32);
                assert_int_equal(info.content_len, cipher ? (g_pt_len / 16 + 1) * 16 : g_pt_len);
                assert_int_equal(info.n_ri, 1);
                assert_int_equal(info.ri[0].type, recips[r].type);
                assert_string_equal(info.ri[0].alg, recips[r].alg);
                assert_false(info.ri[0].rid_is_ski);
                assert_int_equal(info.ri[0].der.len, res.ri.list.v[0].len);
                assert_memory_equal(info.ri[0].der.p, res.ri.list.v[0].p, info.ri[0].der.len);
                /* addressed to its certificate, not to another */
                const bo_bytes *ri = &info.ri[0].der;
                assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, recips[r].to->der,
                                                               recips[r].to->len),
                                 BO_E_OK);
                assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, g_rsa2.der,
                                                               g_rsa2.len),
                                 BO_E_RECIPIENT_MISMATCH);
                const st_party *other = recips[r].to == &g_rsa ? &g_ec : &g_rsa;
                assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, other->der,
                                                               other->len),
                                 BO_E_RECIPIENT_MISMATCH);
                size_t idx = 9;
                assert_int_equal(bo_envelope_find_recipient(&info, recips[r].to->der,
                                                            recips[r].to->len, &idx),
                                 BO_E_OK);
                assert_int_equal(idx, 0);
                /* the bidder's key recovers the CEK */
                bo_secret *cek = NULL;
                assert_int_equal(bo_cek_unwrap(ri->p, ri->len, recips[r].to->key,
                                               recips[r].to->der, recips[r].to->len, &cek),
                                 BO_E_OK);
                assert_true(bo_secret_equal(cek, g_cek));
                bo_secret_free(cek);

                prog p = {.monotonic = true};
                bo_decrypt_opts dop = {.progress = on_progress, .progress_ud = &p,
                                       .expect_sha256 = res.record.env_sha256};
                bo_envelope_info info2;
                assert_int_equal(bo_envelope_decrypt(env, g_cek, out, &dop, &info2, detail,
                                                     sizeof detail),
                                 BO_E_OK);
                assert_plain(out, g_pt, g_pt_len);
                assert_true(p.calls >= 1);
                assert_true(p.monotonic);
                assert_int_equal(p.last_done, info.size);
                assert_int_equal(p.last_total, info.size);
                assert_memory_equal(info2.sha256, info.sha256, 32);
                assert_int_equal(info2.n_ri, 1);
                assert_memory_equal(info2.ri[0].der.p, ri->p, ri->len);
                bo_envelope_info_cleanup(&info2);
                bo_envelope_info_cleanup(&info);
                bo_seal_result_cleanup(&res);
                remove(out);
            }
    free(env);
    free(out);
}

/* ---- envelopes made by the openssl command line --------------------------------------------- */

static void openssl_made(void **state)
{
    struct {
        const char *who;
        const st_party *p;
        const char *args;
        bo_envelope_type type;
        const char *alg;
        int indefinite;
    } cases[] = {
        /* the command of the design brief, to an RSA and to an EC certificate */
        {"rsa", &g_rsa, "-binary -stream -aes-256-gcm -outform DER", BO_ENVELOPE_AUTH_ENVELOPED,
         "rsaes-pkcs1-v1_5", 1},
        {"ec", &g_ec, "-binary -stream -aes-256-gcm -outform DER", BO_ENVELOPE_AUTH_ENVELOPED,
         "ecdh(SHA1-kdf)+AES-256-WRAP", 1},
        {"rsa", &g_rsa, "-binary -stream -aes-256-cbc -outform DER", BO_ENVELOPE_ENVELOPED,
         "rsaes-pkcs1-v1_5", 1},
        {"rsa", &g_rsa, "-binary -aes-256-gcm -outform DER", BO_ENVELOPE_AUTH_ENVELOPED,
         "rsaes-pkcs1-v1_5", 0},
        {"ec", &g_ec, "-binary -aes-256-cbc -outform DER", BO_ENVELOPE_ENVELOPED,
         "ecdh(SHA1-kdf)+AES-256-WRAP", 0},
    };
    struct {
        const char *who;
        const st_party *p;
        const char *keyopts;
        const char *alg;
    } keyopt_cases[] = {
        {"rsa", &g_rsa,
         "-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256",
         "rsaes-oaep(SHA256,mgf1-SHA256)"},
        {"rsa", &g_rsa, "-keyopt rsa_padding_mode:oaep", "rsaes-oaep(SHA1,mgf1-SHA1)"},
        {"ec", &g_ec, "-keyopt ecdh_kdf_md:sha256", "ecdh(SHA256-kdf)+AES-256-WRAP"},
    };
    char *env = st_path(g_dir, "cli.cms");
    char *out = st_path(g_dir, "cli.out");
    size_t total = sizeof cases / sizeof cases[0] + sizeof keyopt_cases / sizeof keyopt_cases[0];
    for (size_t i = 0; i < total; i++) {
        bool ko = i >= sizeof cases / sizeof cases[0];
        size_t k = ko ? i - sizeof cases / sizeof cases[0] : i;
        const char *who = ko ? keyopt_cases[k].who : cases[k].who;
        const st_party *p = ko ? keyopt_cases[k].p : cases[k].p;
        int rc = st_sh("openssl cms -encrypt %s -in '%s' -out '%s' -recip '%s/%s-cert.pem' %s",
                       ko ? "-binary -stream -aes-256-gcm -outform DER" : cases[k].args, g_plain,
                       env, g_dir, who, ko ? keyopt_cases[k].keyopts : "");
        assert_int_equal(rc, 0);
        bo_envelope_info info;
        char detail[256] = "";
        bo_err e = bo_envelope_info_file(env, &info, detail, sizeof detail);
        if (e != BO_E_OK)
            fail_msg("case %zu: %s %s", i, bo_err_name(e), detail);
        if (!ko) {
            assert_int_equal(info.type, cases[k].type);
            assert_int_equal(info.indefinite, cases[k].indefinite);
        }
        assert_string_equal(info.ri[0].alg, ko ? keyopt_cases[k].alg : cases[k].alg);
        size_t idx;
        assert_int_equal(bo_envelope_find_recipient(&info, p->der, p->len, &idx), BO_E_OK);
        bo_secret *cek = NULL;
        assert_int_equal(bo_cek_unwrap(info.ri[idx].der.p, info.ri[idx].der.len, p->key, p->der,
                                       p->len, &cek),
                         BO_E_OK);
        assert_int_equal(bo_envelope_decrypt(env, cek, out, NULL, NULL, detail, sizeof detail),
                         BO_E_OK);
        assert_plain(out, g_pt, g_pt_len);
        /* the commitment a bidder's client computes for such a bid */
        uint8_t c1[32], c2[32];
        assert_int_equal(bo_envelope_commitment_from_key(env, p->key, p->der, p->len, "op-9",
                                                         ST_USCC, c1, detail, sizeof detail),
                         BO_E_OK);
        assert_int_equal(bo_cek_commitment(cek, "op-9", ST_USCC, c2), BO_E_OK);
        assert_memory_equal(c1, c2, 32);
        /* not with a key the bid is not sealed to */
        assert_int_equal(bo_envelope_commitment_from_key(env, g_rsa2.key, g_rsa2.der, g_rsa2.len,
                                                         "op-9", ST_USCC, c1, NULL, 0),
                         BO_E_RECIPIENT_MISMATCH);
        bo_secret_free(cek);
        bo_envelope_info_cleanup(&info);
        remove(out);
    }
    free(env);
    free(out);
}

/* The demo PKI's bidders (crypto/README.md): bids sealed by `openssl cms` to their encryption
 * certificates open with their keys (PEM and PKCS#12); bids sealed here to SM2 certificates
 * open with theirs (bidopen and `openssl cms`); a bid sealed to a certificate that was since renewed does not open with the new key,
 * which is exactly what the pre-flight check must tell the bidder. */
static void demo_pki_bids(void **state)
{
    char *demo = st_path(g_dir, "demo");
    char detail[256] = "";
    assert_int_equal(bo_pki_write_demo(demo, ST_NOW, detail, sizeof detail), BO_E_OK);
    char *env = st_path(g_dir, "demo.cms");
    char *out = st_path(g_dir, "demo.out");
    struct {
        const char *bidder;
        const char *key;
        const char *pass;
    } cases[] = {
        {"b1-rsa", "enc-key.pem", NULL},
        {"b1-rsa", "enc.p12", "bidopen"},
        {"b2-p256", "enc-key.pem", NULL},
        {"b5-mixed", "enc-key.pem", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(st_sh("openssl cms -encrypt -binary -stream -aes-256-gcm -outform DER "
                               "-in '%s' -out '%s' -recip '%s/bidders/%s/enc-cert.pem'",
                               g_plain, env, demo, cases[i].bidder),
                         0);
        char path[1024];
        snprintf(path, sizeof path, "%s/bidders/%s/%s", demo, cases[i].bidder, cases[i].key);
        bo_err e = BO_E_OK;
        bo_key *k = bo_key_load(path, cases[i].pass, &e, detail, sizeof detail);
        assert_non_null(k);
        snprintf(path, sizeof path, "%s/bidders/%s/enc-cert.pem", demo, cases[i].bidder);
        bo_blob_list chain = {0};
        assert_int_equal(bo_pem_chain_load(path, &chain), BO_E_OK);
        const bo_bytes *cert = &chain.list.v[0];
        bo_envelope_info info;
        assert_int_equal(bo_envelope_info_file(env, &info, NULL, 0), BO_E_OK);
        size_t idx;
        assert_int_equal(bo_envelope_find_recipient(&info, cert->p, cert->len, &idx), BO_E_OK);
        bo_secret *cek = NULL;
        assert_int_equal(bo_cek_unwrap(info.ri[idx].der.p, info.ri[idx].der.len, k, cert->p,
                                       cert->len, &cek),
                         BO_E_OK);
        assert_int_equal(bo_envelope_decrypt(env, cek, out, NULL, NULL, NULL, 0), BO_E_OK);
        assert_plain(out, g_pt, g_pt_len);
        remove(out);
        bo_secret_free(cek);
        bo_envelope_info_cleanup(&info);
        bo_blob_list_cleanup(&chain);
        bo_key_free(k);
    }
    /* SM2 encryption certificates (GM and mixed dual certificates): sealed here, opened with
     * their keys by bidopen and by `openssl cms -decrypt` */
    char path[1024];
    bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC};
    bo_seal_result res = {0};
    for (int b = 0; b < 2; b++) {
        const char *who = b ? "b4-mixed" : "b3-sm2";
        snprintf(path, sizeof path, "%s/bidders/%s/enc-cert.pem", demo, who);
        bo_blob_list sm2 = {0};
        assert_int_equal(bo_pem_chain_load(path, &sm2), BO_E_OK);
        o.cipher = b ? BO_SEAL_AES256_CBC : BO_SEAL_AES256_GCM;
        assert_int_equal(bo_seal_file(g_plain, env, &o, &sm2.list.v[0], 1, &res, NULL, 0),
                         BO_E_OK);
        assert_int_equal(st_sh("openssl cms -decrypt -binary -inform DER -in '%s' -out '%s' "
                               "-inkey '%s/bidders/%s/enc-key.pem' -recip '%s'",
                               env, out, demo, who, path),
                         0);
        assert_plain(out, g_pt, g_pt_len);
        remove(out);
        snprintf(path, sizeof path, "%s/bidders/%s/enc-key.pem", demo, who);
        bo_err ke = BO_E_OK;
        bo_key *k = bo_key_load(path, NULL, &ke, NULL, 0);
        assert_non_null(k);
        const bo_bytes *ri = &res.ri.list.v[0];
        bo_secret *cek = NULL;
        assert_int_equal(bo_cek_unwrap(ri->p, ri->len, k, sm2.list.v[0].p, sm2.list.v[0].len,
                                       &cek),
                         BO_E_OK);
        assert_int_equal(bo_envelope_decrypt(env, cek, out, NULL, NULL, NULL, 0), BO_E_OK);
        assert_plain(out, g_pt, g_pt_len);
        remove(out);
        bo_secret_free(cek);
        bo_key_free(k);
        bo_seal_result_cleanup(&res);
        bo_blob_list_cleanup(&sm2);
    }
    /* renewed: sealed to the old certificate, the new key and certificate are not its recipient */
    snprintf(path, sizeof path, "%s/bidders/renewed/enc-cert.pem", demo);
    bo_blob_list old = {0}, fresh = {0};
    assert_int_equal(bo_pem_chain_load(path, &old), BO_E_OK);
    snprintf(path, sizeof path, "%s/bidders/renewed/enc2-cert.pem", demo);
    assert_int_equal(bo_pem_chain_load(path, &fresh), BO_E_OK);
    assert_int_equal(bo_seal_file(g_plain, env, &o, &old.list.v[0], 1, &res, NULL, 0), BO_E_OK);
    snprintf(path, sizeof path, "%s/bidders/renewed/enc2-key.pem", demo);
    bo_err e = BO_E_OK;
    bo_key *k2 = bo_key_load(path, NULL, &e, NULL, 0);
    assert_non_null(k2);
    const bo_bytes *ri = &res.ri.list.v[0];
    assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, fresh.list.v[0].p,
                                                   fresh.list.v[0].len),
                     BO_E_RECIPIENT_MISMATCH);
    bo_secret *cek = NULL;
    assert_int_equal(bo_cek_unwrap(ri->p, ri->len, k2, fresh.list.v[0].p, fresh.list.v[0].len,
                                   &cek),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(bo_cek_unwrap(ri->p, ri->len, k2, old.list.v[0].p, old.list.v[0].len, &cek),
                     BO_E_RECIPIENT_MISMATCH);
    bo_key_free(k2);
    bo_seal_result_cleanup(&res);
    bo_blob_list_cleanup(&old);
    bo_blob_list_cleanup(&fresh);
    free(demo);
    free(env);
    free(out);
}

/* ---- damage ---------------------------------------------------------------------------------- */

static void seal_small(int der, bo_seal_cipher cipher, const st_party *to, uint8_t **env,
                       size_t *n, bo_seal_result *res)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    bo_seal_opts o = {.der = der, .cipher = cipher, .content_len = 1000, .oid = "op-1",
                      .uscc = ST_USCC, .cek = g_cek};
    bo_bytes c = st_bytes(to);
    bo_err e = BO_E_OK;
    bo_seal *s = bo_seal_new(&o, &c, 1, st_buf_write, &b, &e, NULL, 0);
    assert_non_null(s);
    assert_int_equal(bo_seal_update(s, g_pt, 1000), BO_E_OK);
    memset(res, 0, sizeof(*res));
    assert_int_equal(bo_seal_finish(s, res), BO_E_OK);
    bo_seal_free(s);
    *n = b.len;
    *env = bo_buf_steal(&b, n);
}

static bo_err discard(void *ud, const uint8_t *p, size_t n)
{
    return BO_E_OK;
}

/* Flip every byte: only bytes inside the (unauthenticated) RecipientInfos may still decrypt,
 * and then to the same plaintext; with the recorded hash every flip is refused. Nothing is
 * ever left behind on failure. */
static void every_byte_flipped(void **state)
{
    char *env = st_path(g_dir, "flip.cms");
    char *out = st_path(g_dir, "flip.out");
    for (int der = 0; der < 2; der++) {
        uint8_t *orig;
        size_t n;
        bo_seal_result res;
        seal_small(der, BO_SEAL_AES256_GCM, &g_rsa, &orig, &n, &res);
        const uint8_t *ri = memmem(orig, n, res.ri.list.v[0].p, res.ri.list.v[0].len);
        assert_non_null(ri);
        size_t ri_from = (size_t)(ri - orig), ri_to = ri_from + res.ri.list.v[0].len;
        uint8_t *b = malloc(n);
        int counts[8] = {0};
        for (size_t i = 0; i < n; i++) {
            memcpy(b, orig, n);
            b[i] ^= 0x01;
            /* through memory for every byte; through files (no plaintext left behind) for
             * every 17th byte and the last ones */
            bool files = i % 17 == 0 || i + 20 > n;
            bo_err e;
            if (files) {
                st_spit(env, b, n);
                e = bo_envelope_decrypt(env, g_cek, out, NULL, NULL, NULL, 0);
            } else {
                bo_mem_reader m = {b, n, 0};
                bo_buf pt;
                bo_buf_init(&pt, 1 << 20);
                e = bo_envelope_decrypt_stream(bo_mem_read, &m, n, g_cek, st_buf_write, &pt, NULL,
                                               NULL, NULL, 0);
                if (e == BO_E_OK)
                    assert_memory_equal(pt.data, g_pt, 1000);
                bo_buf_cleanup(&pt);
            }
            if (e == BO_E_OK) {
                if (i < ri_from - 4 || i >= ri_to)
                    fail_msg("der %d: flipping byte %zu of %zu was accepted", der, i, n);
                if (files) {
                    assert_plain(out, g_pt, 1000);
                    remove(out);
                }
            } else if (files) {
                assert_no_output(out);
            }
            counts[e == BO_E_OK                   ? 0
                   : e == BO_E_TAG_MISMATCH       ? 1
                   : e == BO_E_ENVELOPE_MALFORMED ? 2
                   : e == BO_E_ENVELOPE_TRUNCATED ? 3
                   : e == BO_E_ENVELOPE_CIPHER    ? 4
                                                  : 5]++;
            bo_decrypt_opts o = {.expect_sha256 = res.record.env_sha256};
            bo_mem_reader m = {b, n, 0};
            e = bo_envelope_decrypt_stream(bo_mem_read, &m, n, g_cek, discard, NULL, &o, NULL,
                                           NULL, 0);
            assert_int_not_equal(e, BO_E_OK);
        }
        /* each kind of failure really happened: ciphertext/nonce/tag, structure */
        assert_true(counts[1] > 900);
        assert_true(counts[2] > 10);
        assert_int_equal(counts[5], 0);
        free(b);
        free(orig);
        bo_seal_result_cleanup(&res);
    }
    free(env);
    free(out);
}

/* Named regions, with the code each must give. */
static void regions(void **state)
{
    char *env = st_path(g_dir, "reg.cms");
    char *out = st_path(g_dir, "reg.out");
    uint8_t *orig;
    size_t n;
    bo_seal_result res;
    seal_small(1, BO_SEAL_AES256_GCM, &g_rsa, &orig, &n, &res);
    uint8_t *b = malloc(n);
    /* DER layout: ... alg [30 1e 06 09 <gcm> 30 11 04 0c <nonce> 02 01 10] 80 82 03 e8 <ct>
     * 04 10 <tag> */
    const uint8_t gcm_oid[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2e};
    const uint8_t *g = memmem(orig, n, gcm_oid, sizeof gcm_oid);
    assert_non_null(g);
    size_t nonce = (size_t)(g - orig) + sizeof gcm_oid + 4;
    size_t ct = nonce + 12 + 3 + 4;
    size_t tag = n - 16;
    assert_int_equal(orig[ct - 4], 0x80);
    struct {
        const char *what;
        size_t at;
        bo_err want;
    } cases[] = {
        {"ContentInfo tag", 0, BO_E_ENVELOPE_MALFORMED},
        {"content type", 6, BO_E_ENVELOPE_MALFORMED},
        {"RecipientInfos tag", (size_t)((const uint8_t *)memmem(orig, n, res.ri.list.v[0].p, 4) - orig) - 4,
         BO_E_ENVELOPE_MALFORMED},
        {"GCM OID", (size_t)(g - orig) + 10, BO_E_ENVELOPE_CIPHER},
        {"nonce", nonce + 5, BO_E_TAG_MISMATCH},
        {"ICV length", nonce + 14, BO_E_ENVELOPE_CIPHER},
        {"ciphertext first", ct, BO_E_TAG_MISMATCH},
        {"ciphertext last", tag - 3, BO_E_TAG_MISMATCH},
        {"mac tag", tag - 2, BO_E_ENVELOPE_MALFORMED},
        {"mac", tag + 7, BO_E_TAG_MISMATCH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, orig, n);
        b[cases[i].at] ^= 0x01;
        st_spit(env, b, n);
        char detail[256] = "";
        bo_err e = bo_envelope_decrypt(env, g_cek, out, NULL, NULL, detail, sizeof detail);
        if (e != cases[i].want)
            fail_msg("%s: got %s (%s), want %s", cases[i].what, bo_err_name(e), detail,
                     bo_err_name(cases[i].want));
        assert_no_output(out);
    }
    /* a byte inside the encryptedKey: the content still decrypts with the CEK (the
     * RecipientInfo is not authenticated), but the bidder's unwrap fails, uniformly */
    memcpy(b, orig, n);
    size_t ek = (size_t)((const uint8_t *)memmem(orig, n, res.ri.list.v[0].p, res.ri.list.v[0].len) - orig) +
                res.ri.list.v[0].len - 10;
    b[ek] ^= 0x01;
    st_spit(env, b, n);
    bo_envelope_info info;
    assert_int_equal(bo_envelope_info_file(env, &info, NULL, 0), BO_E_OK);
    bo_secret *cek = NULL;
    assert_int_equal(bo_cek_unwrap(info.ri[0].der.p, info.ri[0].der.len, g_rsa.key, g_rsa.der,
                                   g_rsa.len, &cek),
                     BO_E_UNWRAP_FAILED);
    assert_null(cek);
    bo_envelope_info_cleanup(&info);
    free(b);
    free(orig);
    bo_seal_result_cleanup(&res);
    free(env);
    free(out);
}

static void every_truncation(void **state)
{
    char *env = st_path(g_dir, "trunc.cms");
    char *out = st_path(g_dir, "trunc.out");
    for (int der = 0; der < 2; der++)
        for (int cipher = 0; cipher < 2; cipher++) {
            uint8_t *orig;
            size_t n;
            bo_seal_result res;
            seal_small(der, (bo_seal_cipher)cipher, &g_ec, &orig, &n, &res);
            for (size_t cut = 0; cut < n; cut++) {
                char detail[256] = "";
                bo_err e;
                if (cut % 13 == 0 || cut + 30 > n) { /* through files: nothing left behind */
                    st_spit(env, orig, cut);
                    e = bo_envelope_decrypt(env, g_cek, out, NULL, NULL, detail, sizeof detail);
                    assert_no_output(out);
                } else {
                    bo_mem_reader m = {orig, cut, 0};
                    e = bo_envelope_decrypt_stream(bo_mem_read, &m, cut, g_cek, discard, NULL, NULL,
                                                   NULL, detail, sizeof detail);
                }
                if (e != BO_E_ENVELOPE_TRUNCATED)
                    fail_msg("der %d cipher %d cut %zu/%zu: %s (%s)", der, cipher, cut, n,
                             bo_err_name(e), detail);
                bo_mem_reader m = {orig, cut, 0};
                bo_envelope_info info;
                assert_int_equal(bo_envelope_info_read(bo_mem_read, &m, 0, &info, NULL, 0),
                                 BO_E_ENVELOPE_TRUNCATED);
                assert_int_equal(info.n_ri, 0);
            }
            st_spit(env, orig, n);
            assert_int_equal(bo_envelope_decrypt(env, g_cek, out, NULL, NULL, NULL, 0), BO_E_OK);
            remove(out);
            free(orig);
            bo_seal_result_cleanup(&res);
        }
    free(env);
    free(out);
}

static void key_and_path_errors(void **state)
{
    char *env = st_path(g_dir, "keys.cms");
    char *out = st_path(g_dir, "keys.out");
    uint8_t *orig;
    size_t n;
    bo_seal_result res;
    seal_small(0, BO_SEAL_AES256_GCM, &g_rsa, &orig, &n, &res);
    st_spit(env, orig, n);
    bo_err e = BO_E_OK;
    bo_secret *k16 = bo_secret_from(g_key, 16, &e);
    bo_secret *k33 = bo_secret_new(33, &e);
    uint8_t wrong[32];
    memcpy(wrong, g_key, 32);
    wrong[31] ^= 0x80;
    bo_secret *kw = bo_secret_from(wrong, 32, &e);
    assert_int_equal(bo_envelope_decrypt(env, k16, out, NULL, NULL, NULL, 0), BO_E_CEK_INVALID);
    assert_no_output(out);
    assert_int_equal(bo_envelope_decrypt(env, k33, out, NULL, NULL, NULL, 0), BO_E_CEK_INVALID);
    assert_int_equal(bo_envelope_decrypt(env, NULL, out, NULL, NULL, NULL, 0), BO_E_CEK_INVALID);
    assert_int_equal(bo_envelope_decrypt(env, kw, out, NULL, NULL, NULL, 0), BO_E_TAG_MISMATCH);
    assert_no_output(out);
    assert_int_equal(bo_envelope_decrypt(env, g_cek, env, NULL, NULL, NULL, 0), BO_E_INVALID_ARG);
    char *missing = st_path(g_dir, "missing.cms");
    assert_int_equal(bo_envelope_decrypt(missing, g_cek, out, NULL, NULL, NULL, 0), BO_E_IO);
    assert_no_output(out);
    /* not the envelope recorded at submission */
    uint8_t other[32] = {1};
    bo_decrypt_opts o = {.expect_sha256 = other};
    char detail[256] = "";
    assert_int_equal(bo_envelope_decrypt(env, g_cek, out, &o, NULL, detail, sizeof detail),
                     BO_E_ENVELOPE_MALFORMED);
    assert_non_null(strstr(detail, "SHA-256"));
    assert_no_output(out);
    /* an output that exists stays untouched on failure */
    st_spit(out, "old", 3);
    assert_int_equal(bo_envelope_decrypt(env, kw, out, NULL, NULL, NULL, 0), BO_E_TAG_MISMATCH);
    assert_plain(out, (const uint8_t *)"old", 3);
    remove(out);
    /* the streaming core hands out plaintext before the tag check: only OK makes it genuine */
    bo_buf pt;
    bo_buf_init(&pt, 1 << 20);
    bo_mem_reader m = {orig, n, 0};
    assert_int_equal(bo_envelope_decrypt_stream(bo_mem_read, &m, n, kw, st_buf_write, &pt, NULL,
                                                NULL, NULL, 0),
                     BO_E_TAG_MISMATCH);
    bo_buf_cleanup(&pt);
    bo_buf_init(&pt, 1 << 20);
    m.pos = 0;
    assert_int_equal(bo_envelope_decrypt_stream(bo_mem_read, &m, n, g_cek, st_buf_write, &pt,
                                                NULL, NULL, NULL, 0),
                     BO_E_OK);
    assert_int_equal(pt.len, 1000);
    assert_memory_equal(pt.data, g_pt, 1000);
    bo_buf_cleanup(&pt);
    bo_secret_free(k16);
    bo_secret_free(k33);
    bo_secret_free(kw);
    free(missing);
    free(orig);
    bo_seal_result_cleanup(&res);
    free(env);
    free(out);
}

/* ---- hand-built envelopes ------------------------------------------------------------------ */

static void put(bo_buf *b, const void *p, size_t n)
{
    assert_int_equal(bo_buf_append(b, p, n), BO_E_OK);
}

static void put_hdr(bo_buf *b, uint8_t tag, size_t len)
{
    uint8_t h[6] = {tag};
    size_t hl = 2;
    if (len < 0x80)
        h[1] = (uint8_t)len;
    else if (len < 0x100)
        h[1] = 0x81, h[2] = (uint8_t)len, hl = 3;
    else if (len < 0x10000)
        h[1] = 0x82, h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len, hl = 4;
    else
        h[1] = 0x83, h[2] = (uint8_t)(len >> 16), h[3] = (uint8_t)(len >> 8), h[4] = (uint8_t)len,
        hl = 5;
    put(b, h, hl);
}

/* Wrap b[from..) in a definite TLV. */
static void wrap(bo_buf *b, size_t from, uint8_t tag)
{
    size_t n = b->len - from;
    uint8_t *tmp = malloc(n ? n : 1);
    memcpy(tmp, b->data + from, n);
    b->len = from;
    put_hdr(b, tag, n);
    put(b, tmp, n);
    free(tmp);
}

typedef struct hand {
    const uint8_t *ctype;     /* ContentInfo content type OID (full TLV) */
    size_t ctype_len;
    uint8_t version;
    bool originator_info;
    bool kekri;               /* add a KEKRecipientInfo */
    int n_extra_ri;           /* copies of the RI */
    const uint8_t *inner;     /* inner content type OID TLV */
    size_t inner_len;
    const uint8_t *alg;       /* AlgorithmIdentifier TLV; NULL: AES-256-GCM, nonce, ICV 16 */
    size_t alg_len;
    int content;              /* 0 primitive, 1 segments, 2 nested (depth), 3 absent */
    int depth;
    bool indef;               /* indefinite outer layers and segments */
    bool auth_attrs;
    size_t mac_len;           /* 16 */
    bool unauth_attrs;
    bool trailing;
} hand;

static const uint8_t OID_AUTH[] = {0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                   0x01, 0x09, 0x10, 0x01, 0x17};
static const uint8_t OID_DATA[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
static const uint8_t NONCE[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* The content encrypted with g_key under NONCE (GCM). */
static void gcm_encrypt(const uint8_t *pt, size_t n, uint8_t *ct, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    assert_int_equal(EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), g_key, NONCE, NULL), 1);
    assert_int_equal(EVP_EncryptUpdate(c, ct, &l, pt, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, ct + l, &l), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(c);
}

static void open_hdr(bo_buf *b, uint8_t tag, bool indef, size_t *mark)
{
    if (indef)
        put(b, (uint8_t[]){tag, 0x80}, 2);
    *mark = b->len;
}

static void close_hdr(bo_buf *b, uint8_t tag, bool indef, size_t mark)
{
    if (indef)
        put(b, (uint8_t[]){0, 0}, 2);
    else
        wrap(b, mark, tag);
}

static void nested(bo_buf *b, const uint8_t *ct, size_t n, int depth, bool indef)
{
    if (depth == 0) {
        /* two segments, one empty */
        put_hdr(b, 0x04, 0);
        put_hdr(b, 0x04, n);
        put(b, ct, n);
        return;
    }
    size_t m;
    open_hdr(b, 0x24, indef, &m);
    nested(b, ct, n / 2, depth - 1, indef);
    put_hdr(b, 0x04, n - n / 2);
    put(b, ct + n / 2, n - n / 2);
    close_hdr(b, 0x24, indef, m);
}

static void build(const hand *h, const bo_bytes *ri, bo_buf *b)
{
    static uint8_t ct[1000];
    uint8_t tag[16];
    gcm_encrypt(g_pt, sizeof ct, ct, tag);
    size_t m_ci, m_a0, m_aed, m_eci, m_c;
    open_hdr(b, 0x30, h->indef, &m_ci);
    put(b, h->ctype ? h->ctype : OID_AUTH, h->ctype ? h->ctype_len : sizeof OID_AUTH);
    open_hdr(b, 0xa0, h->indef, &m_a0);
    open_hdr(b, 0x30, h->indef, &m_aed);
    put(b, (uint8_t[]){0x02, 0x01, h->version}, 3);
    if (h->originator_info)
        put(b, (uint8_t[]){0xa0, 0x00}, 2);
    size_t m_set = b->len;
    for (int i = 0; i <= h->n_extra_ri; i++)
        put(b, ri->p, ri->len);
    if (h->kekri) {
        /* [2] { 4, KEKIdentifier { OCTET STRING }, AlgId aes256-wrap, OCTET STRING } */
        static const uint8_t k[] = {0xa2, 0x1f, 0x02, 0x01, 0x04, 0x30, 0x03, 0x04, 0x01, 0x01,
                                    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
                                    0x04, 0x01, 0x2d, 0x04, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
        put(b, k, sizeof k);
    }
    wrap(b, m_set, 0x31);
    open_hdr(b, 0x30, h->indef, &m_eci);
    put(b, h->inner ? h->inner : OID_DATA, h->inner ? h->inner_len : sizeof OID_DATA);
    if (h->alg) {
        put(b, h->alg, h->alg_len);
    } else {
        size_t a = b->len;
        put(b, (uint8_t[]){0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2e}, 11);
        size_t p = b->len;
        put_hdr(b, 0x04, 12);
        put(b, NONCE, 12);
        put(b, (uint8_t[]){0x02, 0x01, 0x10}, 3);
        wrap(b, p, 0x30);
        wrap(b, a, 0x30);
    }
    if (h->content == 0) {
        put_hdr(b, 0x80, sizeof ct);
        put(b, ct, sizeof ct);
    } else if (h->content == 1 || h->content == 2) {
        open_hdr(b, 0xa0, h->indef, &m_c);
        nested(b, ct, sizeof ct, h->content == 2 ? h->depth : 0, h->indef);
        close_hdr(b, 0xa0, h->indef, m_c);
    }
    close_hdr(b, 0x30, h->indef, m_eci);
    if (h->auth_attrs)
        put(b, (uint8_t[]){0xa1, 0x00}, 2);
    put_hdr(b, 0x04, h->mac_len);
    put(b, tag, h->mac_len > 16 ? 16 : h->mac_len);
    for (size_t i = 16; i < h->mac_len; i++)
        put(b, "", 1);
    if (h->unauth_attrs)
        put(b, (uint8_t[]){0xa2, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x31, 0x03,
                           0x0c, 0x01, 'x'},
            14);
    close_hdr(b, 0x30, h->indef, m_aed);
    close_hdr(b, 0xa0, h->indef, m_a0);
    close_hdr(b, 0x30, h->indef, m_ci);
    if (h->trailing)
        put(b, "", 1);
}

static void hand_built(void **state)
{
    uint8_t *e0;
    size_t n0;
    bo_seal_result res;
    seal_small(1, BO_SEAL_AES256_GCM, &g_rsa, &e0, &n0, &res);
    free(e0);
    const bo_bytes *ri = &res.ri.list.v[0];
    static const uint8_t gcm_nonce16[] = {0x30, 0x22, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                          0x03, 0x04, 0x01, 0x2e, 0x30, 0x15, 0x04, 0x10, 1, 2,
                                          3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x02,
                                          0x01, 0x10};
    static const uint8_t gcm_icv12[] = {0x30, 0x1e, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                        0x03, 0x04, 0x01, 0x2e, 0x30, 0x11, 0x04, 0x0c, 1, 2, 3,
                                        4, 5, 6, 7, 8, 9, 10, 11, 12, 0x02, 0x01, 0x0c};
    static const uint8_t gcm_icv_default[] = {0x30, 0x1b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                              0x65, 0x03, 0x04, 0x01, 0x2e, 0x30, 0x0e, 0x04,
                                              0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t aes128_gcm[] = {0x30, 0x1e, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                         0x03, 0x04, 0x01, 0x06, 0x30, 0x11, 0x04, 0x0c, 1, 2, 3,
                                         4, 5, 6, 7, 8, 9, 10, 11, 12, 0x02, 0x01, 0x10};
    static const uint8_t cbc[] = {0x30, 0x1d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
                                  0x04, 0x01, 0x2a, 0x04, 0x10, 1, 2, 3, 4, 5, 6, 7, 8,
                                  9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t signed_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                          0xf7, 0x0d, 0x01, 0x07, 0x02};
    static const uint8_t enveloped[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                        0xf7, 0x0d, 0x01, 0x07, 0x03};
    struct {
        const char *what;
        hand h;
        bo_err want;
    } cases[] = {
        {"plain DER", {.mac_len = 16}, BO_E_OK},
        {"indefinite, segments", {.mac_len = 16, .indef = true, .content = 1}, BO_E_OK},
        {"definite segments", {.mac_len = 16, .content = 1}, BO_E_OK},
        {"nested 3, indefinite", {.mac_len = 16, .indef = true, .content = 2, .depth = 3}, BO_E_OK},
        {"nested 3, definite", {.mac_len = 16, .content = 2, .depth = 3}, BO_E_OK},
        {"nested 5", {.mac_len = 16, .indef = true, .content = 2, .depth = 5}, BO_E_OK},
        {"nested 6", {.mac_len = 16, .indef = true, .content = 2, .depth = 6},
         BO_E_ENVELOPE_MALFORMED},
        {"unauthAttrs", {.mac_len = 16, .unauth_attrs = true}, BO_E_OK},
        {"16 RecipientInfos", {.mac_len = 16, .n_extra_ri = 15}, BO_E_OK},
        {"17 RecipientInfos", {.mac_len = 16, .n_extra_ri = 16}, BO_E_ENVELOPE_MALFORMED},
        {"authAttrs", {.mac_len = 16, .auth_attrs = true}, BO_E_ENVELOPE_MALFORMED},
        {"mac of 12", {.mac_len = 12}, BO_E_ENVELOPE_MALFORMED},
        {"mac of 17", {.mac_len = 17}, BO_E_ENVELOPE_MALFORMED},
        {"nonce of 16", {.mac_len = 16, .alg = gcm_nonce16, .alg_len = sizeof gcm_nonce16},
         BO_E_ENVELOPE_CIPHER},
        {"ICVlen 12", {.mac_len = 16, .alg = gcm_icv12, .alg_len = sizeof gcm_icv12},
         BO_E_ENVELOPE_CIPHER},
        {"ICVlen default",
         {.mac_len = 16, .alg = gcm_icv_default, .alg_len = sizeof gcm_icv_default},
         BO_E_ENVELOPE_CIPHER},
        {"AES-128-GCM", {.mac_len = 16, .alg = aes128_gcm, .alg_len = sizeof aes128_gcm},
         BO_E_ENVELOPE_CIPHER},
        {"CBC in AuthEnveloped", {.mac_len = 16, .alg = cbc, .alg_len = sizeof cbc},
         BO_E_ENVELOPE_CIPHER},
        {"KEKRecipientInfo", {.mac_len = 16, .kekri = true}, BO_E_ENVELOPE_CIPHER},
        {"originatorInfo", {.mac_len = 16, .originator_info = true}, BO_E_ENVELOPE_MALFORMED},
        {"version 2", {.mac_len = 16, .version = 2}, BO_E_ENVELOPE_MALFORMED},
        {"no content", {.mac_len = 16, .content = 3}, BO_E_ENVELOPE_MALFORMED},
        {"trailing byte", {.mac_len = 16, .trailing = true}, BO_E_ENVELOPE_MALFORMED},
        {"inner type", {.mac_len = 16, .inner = enveloped, .inner_len = sizeof enveloped},
         BO_E_ENVELOPE_MALFORMED},
        {"SignedData",
         {.mac_len = 16, .ctype = signed_data, .ctype_len = sizeof signed_data},
         BO_E_ENVELOPE_MALFORMED},
        {"GCM in EnvelopedData",
         {.mac_len = 16, .ctype = enveloped, .ctype_len = sizeof enveloped},
         BO_E_ENVELOPE_CIPHER},
    };
    char *env = st_path(g_dir, "hand.cms");
    char *out = st_path(g_dir, "hand.out");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bo_buf b;
        bo_buf_init(&b, 1 << 20);
        build(&cases[i].h, ri, &b);
        st_spit(env, b.data, b.len);
        char detail[256] = "";
        bo_err e = bo_envelope_decrypt(env, g_cek, out, NULL, NULL, detail, sizeof detail);
        if (e != cases[i].want)
            fail_msg("%s: got %s (%s), want %s", cases[i].what, bo_err_name(e), detail,
                     bo_err_name(cases[i].want));
        if (e == BO_E_OK) {
            assert_plain(out, g_pt, 1000);
            remove(out);
            /* and OpenSSL agrees that it is a valid envelope */
            if (!cases[i].h.n_extra_ri)
                assert_int_equal(st_sh("openssl cms -decrypt -binary -inform DER -in '%s' "
                                       "-inkey '%s/rsa-key.pem' -out /dev/null",
                                       env, g_dir),
                                 0);
        } else {
            assert_no_output(out);
        }
        bo_buf_cleanup(&b);
    }
    /* byte-level oddities */
    struct {
        const char *what;
        const uint8_t *p;
        size_t n;
        bo_err want;
    } raw[] = {
        {"empty", (const uint8_t *)"", 0, BO_E_ENVELOPE_TRUNCATED},
        {"high tag", (const uint8_t *)"\x1f\x81\x00", 3, BO_E_ENVELOPE_MALFORMED},
        {"9-byte length", (const uint8_t *)"\x30\x89\x01\x00\x00\x00\x00\x00\x00\x00\x00", 11,
         BO_E_ENVELOPE_MALFORMED},
        {"indefinite primitive", (const uint8_t *)"\x30\x80\x06\x80", 4, BO_E_ENVELOPE_MALFORMED},
        {"longer than container", (const uint8_t *)"\x30\x03\x06\x09\x2a", 5,
         BO_E_ENVELOPE_MALFORMED},
        {"huge length", (const uint8_t *)"\x30\x88\xff\xff\xff\xff\xff\xff\xff\xff", 10,
         BO_E_ENVELOPE_MALFORMED},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        bo_mem_reader m = {raw[i].p, raw[i].n, 0};
        bo_envelope_info info;
        bo_err e = bo_envelope_info_read(bo_mem_read, &m, 0, &info, NULL, 0);
        if (e != raw[i].want)
            fail_msg("%s: got %s, want %s", raw[i].what, bo_err_name(e), bo_err_name(raw[i].want));
    }
    bo_seal_result_cleanup(&res);
    free(env);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_envelopes),       cmocka_unit_test(openssl_made),
        cmocka_unit_test(demo_pki_bids),
        cmocka_unit_test(every_byte_flipped),  cmocka_unit_test(regions),
        cmocka_unit_test(every_truncation),    cmocka_unit_test(key_and_path_errors),
        cmocka_unit_test(hand_built),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
