/* bo_seal: every recipient kind (RSA, EC P-256, SM2), cipher and encoding, checked against the
 * real `openssl cms -decrypt`; the seal record (sizes, hashes, commitment); refusals; a sealed
 * package. */
#include "sealed_test_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/hash.h"
#include "bo/package.h"
#include "bo/seal.h"

static bo_pki_ca *g_ca;
static st_party g_rsa, g_ec, g_sm2, g_sign;
static char *g_dir;
static char *g_plain;      /* plaintext file */
static uint8_t *g_pt;
static size_t g_pt_len = 150001;

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
    st_party_make(g_ca, BO_KEY_RSA, BO_PKI_ENC, "bidder-enc-rsa", &g_rsa);
    st_party_make(g_ca, BO_KEY_EC_P256, BO_PKI_ENC, "bidder-enc-ec", &g_ec);
    st_party_make(g_ca, BO_KEY_SM2, BO_PKI_ENC, "bidder-enc-sm2", &g_sm2);
    st_party_make(g_ca, BO_KEY_EC_P256, BO_PKI_SIGN, "bidder-sign", &g_sign);
    g_dir = st_tmpdir();
    write_party_files(&g_rsa, "rsa");
    write_party_files(&g_ec, "ec");
    write_party_files(&g_sm2, "sm2");
    g_pt = malloc(g_pt_len);
    st_random(g_pt, g_pt_len, 42);
    g_plain = st_path(g_dir, "plain.bin");
    st_spit(g_plain, g_pt, g_pt_len);
    return 0;
}

static int teardown(void **state)
{
    st_party_free(&g_rsa);
    st_party_free(&g_ec);
    st_party_free(&g_sm2);
    st_party_free(&g_sign);
    bo_pki_ca_free(g_ca);
    tu_rmtree(g_dir);
    free(g_dir);
    free(g_plain);
    free(g_pt);
    return 0;
}

/* `openssl cms -decrypt` the envelope with name's key; compare with want. */
static void openssl_opens(const char *env, const char *name, const uint8_t *want, size_t want_len)
{
    char *out = st_path(g_dir, "cli-out.bin");
    remove(out);
    int rc = st_sh("openssl cms -decrypt -binary -inform DER -in '%s' -inkey '%s/%s-key.pem' "
                   "-recip '%s/%s-cert.pem' -out '%s' 2>'%s/cli.err'",
                   env, g_dir, name, g_dir, name, out, g_dir);
    if (rc != 0)
        st_sh("cat '%s/cli.err' >&2", g_dir);
    assert_int_equal(rc, 0);
    size_t n;
    uint8_t *got = st_slurp(out, &n);
    assert_int_equal(n, want_len);
    if (want_len)
        assert_memory_equal(got, want, want_len);
    free(got);
    free(out);
}

static void check_record(const bo_seal_result *res, const char *env)
{
    size_t n;
    uint8_t *b = st_slurp(env, &n);
    uint8_t h[32];
    bo_sha256(b, n, h);
    assert_int_equal(res->record.env_size, n);
    assert_memory_equal(res->record.env_sha256, h, 32);
    assert_true(res->ri.list.n >= 1);
    bo_sha256(res->ri.list.v[0].p, res->ri.list.v[0].len, h);
    assert_memory_equal(res->record.ri_sha256, h, 32);
    /* the RecipientInfo is in the envelope, byte for byte */
    assert_non_null(memmem(b, n, res->ri.list.v[0].p, res->ri.list.v[0].len));
    assert_string_equal(res->record.oid, "op-1");
    assert_string_equal(res->record.uscc, ST_USCC);
    free(b);
}

static void every_combination(void **state)
{
    struct {
        const st_party *to;
        const char *name;
        bo_seal_rsa pad;
    } recips[] = {{&g_rsa, "rsa", BO_SEAL_RSA_OAEP_SHA256},
                  {&g_rsa, "rsa", BO_SEAL_RSA_PKCS1},
                  {&g_ec, "ec", BO_SEAL_RSA_OAEP_SHA256},
                  {&g_sm2, "sm2", BO_SEAL_RSA_OAEP_SHA256}}; /* the padding is RSA's only */
    char *env = st_path(g_dir, "env.der");
    for (size_t r = 0; r < sizeof recips / sizeof recips[0]; r++)
        for (int cipher = 0; cipher < 2; cipher++)
            for (int der = 0; der < 2; der++) {
                bo_seal_opts o = {.cipher = (bo_seal_cipher)cipher, .rsa_padding = recips[r].pad,
                                  .der = der, .oid = "op-1", .uscc = ST_USCC};
                bo_bytes c = st_bytes(recips[r].to);
                bo_seal_result res = {0};
                char detail[256] = "";
                bo_err e = bo_seal_file(g_plain, env, &o, &c, 1, &res, detail, sizeof detail);
                if (e != BO_E_OK)
                    fail_msg("seal %s cipher %d der %d: %s %s", recips[r].name, cipher, der,
                             bo_err_name(e), detail);
                check_record(&res, env);
                size_t n;
                uint8_t *b = st_slurp(env, &n);
                assert_int_equal(b[0], 0x30);
                if (der)
                    assert_int_equal(b[1], 0x83); /* 150 KB: a 3-byte definite length */
                else
                    assert_int_equal(b[1], 0x80);
                /* the content type */
                const uint8_t auth[] = {0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09,
                                        0x10, 0x01, 0x17};
                const uint8_t env_oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                           0xf7, 0x0d, 0x01, 0x07, 0x03};
                size_t at = der ? 5 : 2;
                if (cipher == BO_SEAL_AES256_GCM)
                    assert_memory_equal(b + at, auth, sizeof auth);
                else
                    assert_memory_equal(b + at, env_oid, sizeof env_oid);
                free(b);
                openssl_opens(env, recips[r].name, g_pt, g_pt_len);
                bo_seal_result_cleanup(&res);
            }
    free(env);
}

/* With a given CEK the commitment is HMAC-SHA256(CEK, label 0 oid 0 uscc), computed here with
 * plain OpenSSL. */
static void commitment_in_record(void **state)
{
    uint8_t k[32];
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(i * 7 + 1);
    bo_err e = BO_E_OK;
    bo_secret *cek = bo_secret_from(k, 32, &e);
    bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC, .cek = cek};
    bo_bytes c = st_bytes(&g_ec);
    bo_seal_result res = {0};
    char *env = st_path(g_dir, "commit.der");
    assert_int_equal(bo_seal_file(g_plain, env, &o, &c, 1, &res, NULL, 0), BO_E_OK);
    const char msg[] = "bidopen/cek-commit/v1\0op-1\0" ST_USCC;
    uint8_t want[32];
    unsigned wl = 32;
    HMAC(EVP_sha256(), k, 32, (const uint8_t *)msg, sizeof msg - 1, want, &wl);
    assert_memory_equal(res.record.commitment, want, 32);
    uint8_t again[32];
    assert_int_equal(bo_cek_commitment(cek, "op-1", ST_USCC, again), BO_E_OK);
    assert_memory_equal(again, want, 32);
    assert_int_equal(bo_cek_commitment_check(cek, "op-1", ST_USCC, want), BO_E_OK);
    assert_int_equal(bo_cek_commitment_check(cek, "op-2", ST_USCC, want), BO_E_COMMITMENT_MISMATCH);
    assert_int_equal(bo_cek_commitment_check(cek, "op-1", "91110000MA01ABCD1M", want),
                     BO_E_COMMITMENT_MISMATCH);
    /* the boundary between oid and uscc is not ambiguous */
    assert_int_equal(bo_cek_commitment_check(cek, "op-1\0", ST_USCC, want), BO_E_OK);
    k[0] ^= 1;
    bo_secret *other = bo_secret_from(k, 32, &e);
    assert_int_equal(bo_cek_commitment_check(other, "op-1", ST_USCC, want),
                     BO_E_COMMITMENT_MISMATCH);
    bo_secret *short_cek = bo_secret_from(k, 16, &e);
    assert_int_equal(bo_cek_commitment(short_cek, "op-1", ST_USCC, again), BO_E_CEK_INVALID);
    assert_int_equal(bo_cek_commitment(cek, "", ST_USCC, again), BO_E_INVALID_ARG);
    openssl_opens(env, "ec", g_pt, g_pt_len);
    bo_secret_free(short_cek);
    bo_secret_free(other);
    bo_secret_free(cek);
    bo_seal_result_cleanup(&res);
    free(env);
}

static void two_recipients(void **state)
{
    bo_bytes c[2] = {st_bytes(&g_rsa), st_bytes(&g_ec)};
    bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC, .der = 1};
    bo_seal_result res = {0};
    char *env = st_path(g_dir, "two.der");
    assert_int_equal(bo_seal_file(g_plain, env, &o, c, 2, &res, NULL, 0), BO_E_OK);
    assert_int_equal(res.ri.list.n, 2);
    assert_int_equal(res.ri.list.v[0].p[0], 0x30); /* KTRI for the RSA certificate (first) */
    assert_int_equal(res.ri.list.v[1].p[0], 0xa1); /* KARI for the EC one */
    check_record(&res, env);
    openssl_opens(env, "rsa", g_pt, g_pt_len);
    openssl_opens(env, "ec", g_pt, g_pt_len);
    bo_seal_result_cleanup(&res);
    free(env);
}

static void empty_content(void **state)
{
    char *empty = st_path(g_dir, "empty.bin");
    st_spit(empty, "", 0);
    char *env = st_path(g_dir, "empty.der");
    for (int cipher = 0; cipher < 2; cipher++)
        for (int der = 0; der < 2; der++) {
            bo_seal_opts o = {.cipher = (bo_seal_cipher)cipher, .der = der, .oid = "op-1",
                              .uscc = ST_USCC};
            bo_bytes c = st_bytes(&g_rsa);
            bo_seal_result res = {0};
            assert_int_equal(bo_seal_file(empty, env, &o, &c, 1, &res, NULL, 0), BO_E_OK);
            openssl_opens(env, "rsa", NULL, 0);
            bo_seal_result_cleanup(&res);
        }
    free(env);
    free(empty);
}

/* SM2 encryption certificates (the encryption half of GM dual certificates): a KTRI, version 0,
 * IssuerAndSerialNumber, keyEncryptionAlgorithm sm2encrypt (1.2.156.10197.1.301.3) without
 * parameters, encryptedKey the GM/T 0009 SM2Cipher of the CEK (checked here with plain OpenSSL);
 * EnvelopedData keeps version 0. Then the whole way back: inspection, matching, unwrap,
 * decryption, the commitment from the key, and `openssl cms -decrypt`. */
static void sm2_recipient(void **state)
{
    uint8_t k[32];
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(0x5a ^ (i * 3));
    bo_err e = BO_E_OK;
    bo_secret *cek = bo_secret_from(k, 32, &e);
    st_party other;
    st_party_make(g_ca, BO_KEY_SM2, BO_PKI_ENC, "bidder-enc-sm2-other", &other);
    BIO *kb = BIO_new_mem_buf(g_sm2.key_pem.data, (int)g_sm2.key_pem.len);
    EVP_PKEY *sk = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    BIO_free(kb);
    assert_non_null(sk);
    char *env = st_path(g_dir, "sm2.cms");
    char *out = st_path(g_dir, "sm2.out");
    static const uint8_t alg[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x81, 0x1c, 0xcf,
                                  0x55, 0x01, 0x82, 0x2d, 0x03};
    for (int cipher = 0; cipher < 2; cipher++) {
        bo_seal_opts o = {.cipher = (bo_seal_cipher)cipher, .oid = "op-1", .uscc = ST_USCC,
                          .cek = cek};
        bo_bytes c = st_bytes(&g_sm2);
        bo_seal_result res = {0};
        char detail[256] = "";
        assert_int_equal(bo_seal_file(g_plain, env, &o, &c, 1, &res, detail, sizeof detail),
                         BO_E_OK);
        check_record(&res, env);
        /* the RecipientInfo, byte by byte: SEQUENCE { 0, IssuerAndSerialNumber, alg, ek } */
        const bo_bytes *ri = &res.ri.list.v[0];
        assert_int_equal(ri->p[0], 0x30);
        const uint8_t *a = memmem(ri->p, ri->len, alg, sizeof alg);
        assert_non_null(a);
        size_t at = (size_t)(a - ri->p) + sizeof alg;
        assert_int_equal(ri->p[at], 0x04);
        size_t ekl = ri->p[at + 1] == 0x81 ? ri->p[at + 2] : ri->p[at + 1];
        size_t hl = ri->p[at + 1] == 0x81 ? 3 : 2;
        assert_int_equal(at + hl + ekl, ri->len); /* the encryptedKey is the last element */
        assert_true(ekl >= 131 && ekl <= 141);    /* SEQUENCE { x, y, C3 (32), C2 (32) } */
        assert_int_equal(ri->p[at + hl], 0x30);
        uint8_t pt[64];
        size_t ptl = sizeof pt;
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL);
        assert_int_equal(EVP_PKEY_decrypt_init(pc), 1);
        assert_int_equal(EVP_PKEY_decrypt(pc, pt, &ptl, ri->p + at + hl, ekl), 1);
        EVP_PKEY_CTX_free(pc);
        assert_int_equal(ptl, 32);
        assert_memory_equal(pt, k, 32);
        /* EnvelopedData with only this KTRI stays version 0 (BER: the version follows at once) */
        size_t n;
        uint8_t *b = st_slurp(env, &n);
        static const uint8_t ver0_env[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                           0x07, 0x03, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00};
        if (cipher == BO_SEAL_AES256_CBC)
            assert_non_null(memmem(b, n, ver0_env, sizeof ver0_env));
        free(b);

        /* inspection and matching */
        bo_envelope_info info;
        assert_int_equal(bo_envelope_info_file(env, &info, detail, sizeof detail), BO_E_OK);
        assert_int_equal(info.type, cipher ? BO_ENVELOPE_ENVELOPED : BO_ENVELOPE_AUTH_ENVELOPED);
        assert_int_equal(info.n_ri, 1);
        assert_int_equal(info.ri[0].type, BO_RI_KTRI);
        assert_string_equal(info.ri[0].alg, "sm2encrypt");
        assert_false(info.ri[0].rid_is_ski);
        assert_int_equal(info.ri[0].der.len, ri->len);
        assert_memory_equal(info.ri[0].der.p, ri->p, ri->len);
        assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, g_sm2.der, g_sm2.len),
                         BO_E_OK);
        assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, other.der, other.len),
                         BO_E_RECIPIENT_MISMATCH);
        assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, g_rsa.der, g_rsa.len),
                         BO_E_RECIPIENT_MISMATCH);
        assert_int_equal(bo_envelope_recipient_matches(ri->p, ri->len, g_ec.der, g_ec.len),
                         BO_E_RECIPIENT_MISMATCH);
        size_t idx = 9;
        assert_int_equal(bo_envelope_find_recipient(&info, g_sm2.der, g_sm2.len, &idx), BO_E_OK);
        assert_int_equal(idx, 0);
        assert_int_equal(bo_envelope_find_recipient(&info, other.der, other.len, &idx),
                         BO_E_RECIPIENT_MISMATCH);

        /* unwrap: the bidder's key; not another SM2 key, not with kinds crossed */
        bo_secret *got = NULL;
        assert_int_equal(bo_cek_unwrap(ri->p, ri->len, g_sm2.key, g_sm2.der, g_sm2.len, &got),
                         BO_E_OK);
        assert_true(bo_secret_equal(got, cek));
        bo_secret_free(got);
        got = NULL;
        /* the same key from a PKCS#12 file (a .pfx, as CAs hand them out) */
        bo_buf p12;
        bo_buf_init(&p12, 1 << 16);
        assert_int_equal(bo_pki_pkcs12(&g_sm2.key_pem, &g_sm2.cert_pem, "pw", "enc", &p12),
                         BO_E_OK);
        bo_key *pk = bo_key_from_mem(p12.data, p12.len, "pw", &e, NULL, 0);
        assert_non_null(pk);
        assert_int_equal(bo_key_alg(pk), BO_KEY_SM2);
        assert_int_equal(bo_cek_unwrap(ri->p, ri->len, pk, g_sm2.der, g_sm2.len, &got), BO_E_OK);
        assert_true(bo_secret_equal(got, cek));
        bo_secret_free(got);
        got = NULL;
        bo_key_free(pk);
        bo_buf_cleanup_wipe(&p12);
        assert_int_equal(bo_cek_unwrap(ri->p, ri->len, other.key, g_sm2.der, g_sm2.len, &got),
                         BO_E_RECIPIENT_MISMATCH);
        assert_int_equal(bo_cek_unwrap(ri->p, ri->len, other.key, other.der, other.len, &got),
                         BO_E_RECIPIENT_MISMATCH);
        assert_int_equal(bo_cek_unwrap(ri->p, ri->len, g_rsa.key, g_rsa.der, g_rsa.len, &got),
                         BO_E_RECIPIENT_MISMATCH);
        assert_null(got);

        /* decryption with the CEK, and the commitment a client computes from the key */
        bo_decrypt_opts dop = {.expect_sha256 = res.record.env_sha256};
        assert_int_equal(bo_envelope_decrypt(env, cek, out, &dop, NULL, detail, sizeof detail),
                         BO_E_OK);
        uint8_t *dec = st_slurp(out, &n);
        assert_int_equal(n, g_pt_len);
        assert_memory_equal(dec, g_pt, g_pt_len);
        free(dec);
        remove(out);
        uint8_t cm[32];
        assert_int_equal(bo_envelope_commitment_from_key(env, g_sm2.key, g_sm2.der, g_sm2.len,
                                                         "op-1", ST_USCC, cm, detail,
                                                         sizeof detail),
                         BO_E_OK);
        assert_memory_equal(cm, res.record.commitment, 32);
        assert_int_equal(bo_envelope_commitment_from_key(env, other.key, other.der, other.len,
                                                         "op-1", ST_USCC, cm, NULL, 0),
                         BO_E_RECIPIENT_MISMATCH);
        openssl_opens(env, "sm2", g_pt, g_pt_len);
        bo_envelope_info_cleanup(&info);
        bo_seal_result_cleanup(&res);
    }
    /* next to RSA and EC recipients: each opens it, with bidopen and with openssl */
    bo_bytes three[3] = {st_bytes(&g_sm2), st_bytes(&g_rsa), st_bytes(&g_ec)};
    const st_party *who[3] = {&g_sm2, &g_rsa, &g_ec};
    const char *names[3] = {"sm2", "rsa", "ec"};
    bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC, .der = 1, .cek = cek};
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_file(g_plain, env, &o, three, 3, &res, NULL, 0), BO_E_OK);
    check_record(&res, env);
    bo_envelope_info info;
    assert_int_equal(bo_envelope_info_file(env, &info, NULL, 0), BO_E_OK);
    assert_int_equal(info.n_ri, 3);
    for (size_t i = 0; i < 3; i++) {
        size_t idx = 9;
        assert_int_equal(bo_envelope_find_recipient(&info, who[i]->der, who[i]->len, &idx),
                         BO_E_OK);
        assert_int_equal(info.ri[idx].der.len, res.ri.list.v[i].len);
        assert_memory_equal(info.ri[idx].der.p, res.ri.list.v[i].p, res.ri.list.v[i].len);
        bo_secret *got = NULL;
        assert_int_equal(bo_cek_unwrap(info.ri[idx].der.p, info.ri[idx].der.len, who[i]->key,
                                       who[i]->der, who[i]->len, &got),
                         BO_E_OK);
        assert_true(bo_secret_equal(got, cek));
        bo_secret_free(got);
        openssl_opens(env, names[i], g_pt, g_pt_len);
    }
    bo_envelope_info_cleanup(&info);
    bo_seal_result_cleanup(&res);
    EVP_PKEY_free(sk);
    st_party_free(&other);
    bo_secret_free(cek);
    free(env);
    free(out);
}

static bo_err fail_after(void *ud, const uint8_t *p, size_t n)
{
    size_t *left = ud;
    if (n > *left)
        return BO_E_IO;
    *left -= n;
    return BO_E_OK;
}

static void refusals(void **state)
{
    bo_err e = BO_E_OK;
    bo_buf out;
    bo_buf_init(&out, 1 << 24);
    bo_bytes c = st_bytes(&g_rsa);
    bo_bytes five[5] = {c, c, c, c, c};
    bo_seal_opts ok = {.oid = "op-1", .uscc = ST_USCC};
    bo_seal_opts o;
    assert_null(bo_seal_new(&ok, &c, 0, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    assert_null(bo_seal_new(&ok, five, 5, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    o = ok;
    o.oid = NULL;
    assert_null(bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    o = ok;
    o.oid = "has space";
    assert_null(bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    o = ok;
    o.uscc = "91350100M000100Y44"; /* wrong check character */
    assert_null(bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    o = ok;
    o.cipher = (bo_seal_cipher)7;
    assert_null(bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    bo_secret *k16 = bo_secret_new(16, &e);
    o = ok;
    o.cek = k16;
    assert_null(bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_INVALID_ARG);
    bo_secret_free(k16);
    /* not a certificate */
    bo_bytes junk = {(const uint8_t *)"\x30\x03\x02\x01\x00", 5};
    assert_null(bo_seal_new(&ok, &junk, 1, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_CERT_INVALID);
    /* P-384 (bo_pki's BO_KEY_OTHER) and Ed25519 certificates cannot receive a bid, also not
     * next to a good one */
    st_party ed;
    st_party_make(g_ca, BO_KEY_ED25519, BO_PKI_SIGN, "ed", &ed);
    bo_pki_leaf_opts lo = {.alg = BO_KEY_OTHER, .subj = {.c = "CN", .cn = "p384-enc"},
                           .uscc = ST_USCC, .usage = BO_PKI_ENC, .not_before = ST_NOW - DAY_MS,
                           .not_after = ST_NOW + DAY_MS};
    bo_buf p384_pem;
    bo_buf_init(&p384_pem, 1 << 16);
    assert_int_equal(bo_pki_issue(g_ca, &lo, NULL, &p384_pem, NULL), BO_E_OK);
    bo_blob_list p384 = {0};
    assert_int_equal(bo_pem_chain_parse(p384_pem.data, p384_pem.len, &p384), BO_E_OK);
    char detail[256] = "";
    bo_bytes s = p384.list.v[0];
    assert_null(bo_seal_new(&ok, &s, 1, st_buf_write, &out, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_UNSUPPORTED_KEY);
    assert_non_null(strstr(detail, bo_keyalg_name(BO_KEY_OTHER)));
    assert_non_null(strstr(detail, "SM2"));
    s = st_bytes(&ed);
    detail[0] = 0;
    assert_null(bo_seal_new(&ok, &s, 1, st_buf_write, &out, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_UNSUPPORTED_KEY);
    assert_non_null(strstr(detail, bo_keyalg_name(BO_KEY_ED25519)));
    bo_bytes mixed[2] = {st_bytes(&g_sm2), st_bytes(&ed)};
    assert_null(bo_seal_new(&ok, mixed, 2, st_buf_write, &out, &e, NULL, 0));
    assert_int_equal(e, BO_E_UNSUPPORTED_KEY);
    assert_int_equal(out.len, 0); /* nothing written */
    bo_blob_list_cleanup(&p384);
    bo_buf_cleanup(&p384_pem);
    st_party_free(&ed);

    /* DER: exactly content_len bytes */
    o = ok;
    o.der = 1;
    o.content_len = 10;
    bo_seal *sl = bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0);
    assert_non_null(sl);
    assert_int_equal(bo_seal_update(sl, "0123456789A", 11), BO_E_INVALID_ARG);
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_finish(sl, &res), BO_E_INVALID_ARG);
    bo_seal_free(sl);
    sl = bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0);
    assert_int_equal(bo_seal_update(sl, "012345678", 9), BO_E_OK);
    assert_int_equal(bo_seal_finish(sl, &res), BO_E_INVALID_ARG);
    assert_int_equal(bo_seal_update(sl, "9", 1), BO_E_INVALID_ARG);
    bo_seal_free(sl);

    /* the sink's error comes back from update, and the seal is dead afterwards */
    size_t left = 2000; /* enough for the header */
    sl = bo_seal_new(&ok, &c, 1, fail_after, &left, &e, NULL, 0);
    assert_non_null(sl);
    bo_err got = BO_E_OK;
    for (int i = 0; i < 10 && got == BO_E_OK; i++)
        got = bo_seal_update(sl, g_pt, 100000);
    assert_int_equal(got, BO_E_IO);
    assert_int_equal(bo_seal_update(sl, g_pt, 1), BO_E_INVALID_ARG);
    bo_seal_free(sl);
    left = 10; /* not even the header */
    assert_null(bo_seal_new(&ok, &c, 1, fail_after, &left, &e, NULL, 0));
    assert_int_equal(e, BO_E_IO);

    /* missing input file: no output left behind */
    char *env = st_path(g_dir, "never.der");
    char *partial = st_path(g_dir, "never.der.partial");
    assert_int_equal(bo_seal_file("/nonexistent/x", env, &ok, &c, 1, &res, NULL, 0), BO_E_IO);
    assert_false(st_exists(env));
    assert_false(st_exists(partial));
    free(env);
    free(partial);
    bo_buf_cleanup(&out);
}

/* Streaming through bo_seal_new/_update in odd pieces gives what openssl reads back. */
static void odd_pieces(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 1 << 24);
    bo_bytes c = st_bytes(&g_ec);
    bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC, .cipher = BO_SEAL_AES256_CBC};
    bo_err e = BO_E_OK;
    bo_seal *s = bo_seal_new(&o, &c, 1, st_buf_write, &out, &e, NULL, 0);
    assert_non_null(s);
    size_t at = 0, step = 1;
    while (at < g_pt_len) {
        size_t n = step < g_pt_len - at ? step : g_pt_len - at;
        assert_int_equal(bo_seal_update(s, g_pt + at, n), BO_E_OK);
        at += n;
        step = step * 3 + 1;
    }
    bo_seal_result res = {0};
    assert_int_equal(bo_seal_finish(s, &res), BO_E_OK);
    assert_int_equal(res.record.env_size, out.len);
    bo_seal_free(s);
    char *env = st_path(g_dir, "pieces.der");
    st_spit(env, out.data, out.len);
    openssl_opens(env, "ec", g_pt, g_pt_len);
    bo_seal_result_cleanup(&res);
    bo_buf_cleanup(&out);
    free(env);
}

static void sealed_package(void **state)
{
    bo_package_field form[] = {{"price", "1234567.89"}, {"pm", "张三"}};
    bo_package_doc docs[] = {{.name = "bid.bin", .path = g_plain}};
    bo_package_spec spec = {.oid = "op-1", .uscc = ST_USCC, .form = form, .n_form = 2,
                            .docs = docs, .n_docs = 1, .sign_cert_der = g_sign.der,
                            .sign_cert_len = g_sign.len};
    char *env = st_path(g_dir, "pkg.der");
    char *out = st_path(g_dir, "cli-out.bin");
    for (int der = 0; der < 2; der++) {
        bo_seal_opts o = {.oid = "op-1", .uscc = ST_USCC, .der = der};
        bo_bytes c = st_bytes(&g_rsa);
        bo_seal_result res = {0};
        char detail[256] = "";
        assert_int_equal(bo_seal_package(&spec, g_sign.key, &o, &c, 1, &env[0], &res, detail,
                                         sizeof detail),
                         BO_E_OK);
        check_record(&res, env);
        assert_int_equal(st_sh("openssl cms -decrypt -binary -inform DER -in '%s' -inkey "
                               "'%s/rsa-key.pem' -out '%s'",
                               env, g_dir, out),
                         0);
        bo_err e = BO_E_OK;
        bo_package_reader *r = bo_package_open(out, &e, detail, sizeof detail);
        assert_non_null(r);
        assert_int_equal(bo_package_verify(r, g_sign.der, g_sign.len), BO_E_OK);
        assert_string_equal(bo_package_form_get(r, "price"), "1234567.89");
        assert_string_equal(bo_package_form_get(r, "pm"), "张三");
        assert_int_equal(bo_package_read_docs(r, NULL, NULL, NULL, 0), BO_E_OK);
        bo_package_close(r);
        bo_seal_result_cleanup(&res);
    }
    free(env);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_combination), cmocka_unit_test(commitment_in_record),
        cmocka_unit_test(two_recipients),    cmocka_unit_test(empty_content),
        cmocka_unit_test(refusals),          cmocka_unit_test(odd_pieces),
        cmocka_unit_test(sealed_package),    cmocka_unit_test(sm2_recipient),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
