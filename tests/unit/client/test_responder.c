/* The bidder's side of remote decryption, without a server: decrypt_request bodies, the
 * checks before any unwrap (bidder, signature, phase, own record), the unwrap and handoff
 * round trip against the server's half, and the diagnoses: a renewed certificate names both
 * certificates, a wrong key, no key (token), and one uniform answer for every failure that
 * involves the private key. */
#include "client_test_util.h"

#include "bo/cek.h"
#include "bo/handoff.h"
#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/responder.h"
#include "bo/sigpayload.h"
#include "bo/utf8.h"
#include "bo/wire.h"

static bo_pki_ca *CA;
static ct_party ENC_RSA, ENC_EC, RENEWED, STRANGER;
static bo_key *SRV;
static bo_server_key SK;
static char *DIR_;
static bo_bid_record REC_RSA, REC_EC, REC_PKCS1;

static int setup(void **state)
{
    (void)state;
    CA = ct_ca();
    ct_party_make(CA, BO_KEY_RSA, BO_PKI_ENC, "enc-rsa", 365, &ENC_RSA);
    ct_party_make(CA, BO_KEY_EC_P256, BO_PKI_ENC, "enc-ec", 200, &ENC_EC);
    ct_party_make(CA, BO_KEY_EC_P256, BO_PKI_ENC, "enc-ec", 730, &RENEWED); /* same subject */
    ct_party_make(CA, BO_KEY_EC_P256, BO_PKI_ENC, "stranger", 365, &STRANGER);
    bo_err e;
    SRV = bo_key_generate(BO_KEY_ED25519, &e);
    assert_non_null(SRV);
    bo_buf spki;
    bo_buf_init(&spki, 4096);
    assert_int_equal(bo_key_public_der(SRV, &spki), BO_E_OK);
    memset(&SK, 0, sizeof(SK));
    memcpy(SK.spki, spki.data, spki.len);
    SK.spki_len = spki.len;
    bo_sha256(spki.data, spki.len, SK.fpr);
    bo_buf_cleanup(&spki);
    DIR_ = ct_tmpdir();
    ct_seal(DIR_, "rsa.cms", &ENC_RSA, BO_SEAL_RSA_OAEP_SHA256, 5000, &REC_RSA);
    ct_seal(DIR_, "ec.cms", &ENC_EC, BO_SEAL_RSA_OAEP_SHA256, 5000, &REC_EC);
    ct_seal(DIR_, "pkcs1.cms", &ENC_RSA, BO_SEAL_RSA_PKCS1, 100, &REC_PKCS1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bo_bid_record_cleanup(&REC_RSA);
    bo_bid_record_cleanup(&REC_EC);
    bo_bid_record_cleanup(&REC_PKCS1);
    ct_party_free(&ENC_RSA);
    ct_party_free(&ENC_EC);
    ct_party_free(&RENEWED);
    ct_party_free(&STRANGER);
    bo_key_free(SRV);
    bo_pki_ca_free(CA);
    ct_rmtree(DIR_);
    free(DIR_);
    return 0;
}

#define REQ_ID "0123456789abcdef0123456789abcdef"

/* A decrypt_request body for rec as the server makes it; server_pub from h. */
static void make_request(const bo_bid_record *rec, const uint8_t server_pub[32], const char *uscc,
                         bo_buf *b, msgpack_zone **z, msgpack_object *o)
{
    uint8_t ri_hash[32];
    bo_sha256(rec->ri, rec->ri_len, ri_hash);
    int64_t ends_at = bo_clock_now_ms() + 1800000;
    bo_buf payload, sig;
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, BO_SIG_MAX);
    assert_int_equal(bo_sigpayload_decrypt_request(&payload, rec->seal.oid, uscc, REQ_ID,
                                                   rec->seal.env_sha256, ri_hash, server_pub,
                                                   ends_at),
                     BO_E_OK);
    assert_int_equal(bo_key_sign(SRV, BO_CTX_DECRYPT_REQUEST, payload.data, payload.len, &sig),
                     BO_E_OK);
    bo_err e;
    bo_mpmap *m = bo_mpmap_new(&e);
    bo_mpmap_str(m, "uscc", uscc);
    bo_mpmap_str(m, "req", REQ_ID);
    bo_mpmap_bin(m, "bid", rec->seal.env_sha256, 32);
    bo_mpmap_bin(m, "ri", rec->ri, rec->ri_len);
    bo_mpmap_bin(m, "server_pub", server_pub, 32);
    bo_mpmap_i64(m, "ends_at", ends_at);
    bo_mpmap_bin(m, "sig", sig.data, sig.len);
    bo_buf_init(b, 1 << 16);
    assert_int_equal(bo_mpmap_finish(m, b), BO_E_OK);
    bo_mpmap_free(m);
    assert_int_equal(bo_mp_parse(b->data, b->len, z, o), BO_E_OK);
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
}

/* Parse, check and answer a request, and let the server's half recover the CEK: it must be
 * the bid's (the commitment holds). */
static void round_trip(const bo_bid_record *rec, const ct_party *enc)
{
    bo_err e;
    bo_handoff_server *h = bo_handoff_server_new(&e);
    assert_non_null(h);
    bo_buf b;
    msgpack_zone *z;
    msgpack_object o;
    make_request(rec, bo_handoff_server_pub(h), CT_USCC, &b, &z, &o);
    bo_responder_request r;
    char detail[400] = "";
    assert_int_equal(bo_responder_request_parse(&o, &r, detail, sizeof(detail)), BO_E_OK);
    size_t idx = 99;
    bo_time_ms now = bo_clock_now_ms();
    bo_bid_record recs[2];
    recs[0] = REC_PKCS1.seal.env_sha256[0] == rec->seal.env_sha256[0] ? REC_EC : REC_PKCS1;
    recs[1] = *rec;
    assert_int_equal(bo_responder_check(&r, CT_OID, CT_USCC, &SK, recs, 2, now - 1000, now, &idx,
                                        detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(idx, 1);

    bo_preflight_result pr;
    bo_secret *cek = NULL;
    assert_int_equal(bo_responder_unwrap(rec, enc->key, NULL, enc->der, enc->len, &cek, &pr),
                     BO_STAGE_OK);
    assert_int_equal(pr.err, BO_E_OK);
    assert_non_null(strstr(pr.msg, "ready"));
    assert_non_null(cek);

    bo_handoff_bind bind = {CT_OID, r.req, r.bid, r.ri, r.ri_len};
    bo_buf blob;
    bo_buf_init(&blob, 256);
    assert_int_equal(bo_handoff_client_wrap(&bind, r.server_pub, cek, &blob), BO_E_OK);
    assert_int_equal(blob.len, BO_HANDOFF_BLOB_LEN);
    bo_secret *got = NULL;
    assert_int_equal(bo_handoff_server_unwrap(h, &bind, blob.data, blob.len, &got), BO_E_OK);
    assert_true(bo_secret_equal(got, cek));
    assert_int_equal(bo_cek_commitment_check(got, CT_OID, CT_USCC, rec->seal.commitment),
                     BO_E_OK);
    bo_secret_free(got);
    bo_secret_free(cek);
    bo_buf_cleanup(&blob);
    bo_handoff_server_free(h);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);
}

static void answer_rsa_and_ec(void **state)
{
    (void)state;
    round_trip(&REC_RSA, &ENC_RSA);
    round_trip(&REC_EC, &ENC_EC);
    round_trip(&REC_PKCS1, &ENC_RSA);
}

/* What gets no answer at all. */
static void checks_before_unwrap(void **state)
{
    (void)state;
    uint8_t pub[32];
    memset(pub, 9, 32);
    bo_buf b;
    msgpack_zone *z;
    msgpack_object o;
    bo_responder_request r;
    char detail[400];
    size_t idx;
    bo_time_ms now = bo_clock_now_ms();

    make_request(&REC_EC, pub, CT_USCC, &b, &z, &o);
    assert_int_equal(bo_responder_request_parse(&o, &r, detail, sizeof(detail)), BO_E_OK);
    /* another bidder's request */
    assert_int_equal(bo_responder_check(&r, CT_OID, "91350200MA00042015", &SK, &REC_EC, 1, now,
                                        now, &idx, detail, sizeof(detail)),
                     BO_E_FORBIDDEN);
    /* the opening has not started decrypting */
    assert_int_equal(bo_responder_check(&r, CT_OID, CT_USCC, &SK, &REC_EC, 1, 0, now, &idx,
                                        detail, sizeof(detail)),
                     BO_E_TOO_EARLY);
    assert_int_equal(bo_responder_check(&r, CT_OID, CT_USCC, &SK, &REC_EC, 1, now + 60000, now,
                                        &idx, detail, sizeof(detail)),
                     BO_E_TOO_EARLY);
    /* not a bid this client recorded */
    assert_int_equal(bo_responder_check(&r, CT_OID, CT_USCC, &SK, &REC_RSA, 1, now, now, &idx,
                                        detail, sizeof(detail)),
                     BO_E_NOT_MY_ENVELOPE);
    assert_non_null(strstr(detail, "no record"));
    assert_int_equal(bo_responder_check(&r, CT_OID, CT_USCC, &SK, NULL, 0, now, now, &idx, detail,
                                        sizeof(detail)),
                     BO_E_NOT_MY_ENVELOPE);
    /* another opening: the signature covers the oid */
    assert_int_equal(bo_responder_check(&r, "T-OTHER", CT_USCC, &SK, &REC_EC, 1, now, now, &idx,
                                        detail, sizeof(detail)),
                     BO_E_BAD_SIGNATURE);
    /* another RecipientInfo (a decryption oracle attempt): the signature covers its hash */
    bo_responder_request r2 = r;
    memcpy(r2.ri, REC_RSA.ri, REC_RSA.ri_len);
    r2.ri_len = REC_RSA.ri_len;
    assert_int_equal(bo_responder_check(&r2, CT_OID, CT_USCC, &SK, &REC_EC, 1, now, now, &idx,
                                        detail, sizeof(detail)),
                     BO_E_BAD_SIGNATURE);
    /* a key that is not the server's */
    bo_server_key other = SK;
    other.spki[other.spki_len - 1] ^= 1;
    assert_int_equal(bo_responder_check(&r, CT_OID, CT_USCC, &other, &REC_EC, 1, now, now, &idx,
                                        detail, sizeof(detail)),
                     BO_E_BAD_SIGNATURE);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);

    /* malformed bodies */
    bo_err e;
    bo_mpmap *m = bo_mpmap_new(&e);
    bo_mpmap_str(m, "uscc", CT_USCC);
    bo_mpmap_str(m, "req", "NOT-HEX-NOT-HEX-NOT-HEX-NOT-HEX!");
    bo_buf_init(&b, 4096);
    assert_int_equal(bo_mpmap_finish(m, &b), BO_E_OK);
    bo_mpmap_free(m);
    assert_int_equal(bo_mp_parse(b.data, b.len, &z, &o), BO_E_OK);
    assert_int_equal(bo_responder_request_parse(&o, &r, detail, sizeof(detail)), BO_E_MALFORMED);
    assert_non_null(strstr(detail, "req"));
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);
}

/* The diagnoses of decrypt_failed. */
static void diagnoses(void **state)
{
    (void)state;
    bo_preflight_result r;
    bo_cert_info sealed, held;
    assert_int_equal(bo_cert_describe(ENC_EC.der, ENC_EC.len, &sealed), BO_E_OK);
    assert_int_equal(bo_cert_describe(RENEWED.der, RENEWED.len, &held), BO_E_OK);

    /* ready */
    assert_int_equal(bo_preflight(&REC_EC, ENC_EC.key, ENC_EC.der, ENC_EC.len, &r), BO_E_OK);
    assert_int_equal(r.stage, BO_STAGE_OK);

    /* renewed: the token holds the new certificate's key */
    assert_int_equal(bo_preflight(&REC_EC, RENEWED.key, RENEWED.der, RENEWED.len, &r),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(r.stage, BO_STAGE_CERT);
    assert_true(r.renewed);
    assert_non_null(strstr(r.msg, "certificate renewed"));
    assert_non_null(strstr(r.msg, sealed.serial));
    assert_non_null(strstr(r.msg, held.serial));
    assert_string_equal(r.sealed_serial, sealed.serial);
    assert_string_equal(r.held_serial, held.serial);
    assert_int_equal(r.sealed_not_after, sealed.not_after);
    char day[40];
    bo_time_format_rfc3339(sealed.not_after, day, sizeof(day));
    day[10] = 0;
    assert_non_null(strstr(r.msg, day)); /* valid until */
    assert_non_null(strstr(r.wire, "renewed"));
    assert_non_null(strstr(r.wire, sealed.serial));
    assert_non_null(strstr(r.wire, held.serial));
    assert_true(strlen(r.wire) <= BO_RESPONDER_ERROR_MAX);
    assert_true(bo_utf8_valid(r.wire, strlen(r.wire)));

    /* a wrong key, the sealed certificate held */
    assert_int_equal(bo_preflight(&REC_EC, STRANGER.key, ENC_EC.der, ENC_EC.len, &r),
                     BO_E_RECIPIENT_MISMATCH);
    assert_int_equal(r.stage, BO_STAGE_CERT);
    assert_false(r.renewed);
    assert_non_null(strstr(r.msg, "wrong key"));
    /* a wrong key, another certificate held that is not the key's either */
    assert_int_equal(bo_preflight(&REC_EC, STRANGER.key, RENEWED.der, RENEWED.len, &r),
                     BO_E_RECIPIENT_MISMATCH);
    assert_false(r.renewed);
    assert_non_null(strstr(r.msg, "neither"));
    /* no certificate held */
    assert_int_equal(bo_preflight(&REC_EC, STRANGER.key, NULL, 0, &r), BO_E_RECIPIENT_MISMATCH);
    assert_non_null(strstr(r.msg, sealed.serial));

    /* no key: the token failed */
    assert_int_equal(bo_responder_unwrap(&REC_EC, NULL, "PIN locked", NULL, 0, NULL, &r),
                     BO_STAGE_TOKEN);
    assert_non_null(strstr(r.wire, "PIN locked"));

    /* one uniform answer for every failure involving the private key: a commitment that does
     * not match, and a damaged encrypted key (PKCS#1 v1.5: no padding oracle) */
    bo_bid_record bad;
    assert_int_equal(bo_bid_record_copy(&bad, &REC_RSA), BO_E_OK);
    bad.seal.commitment[0] ^= 1;
    bo_preflight_result r1, r2;
    assert_int_equal(bo_responder_unwrap(&bad, ENC_RSA.key, NULL, NULL, 0, NULL, &r1),
                     BO_STAGE_UNWRAP);
    bo_bid_record_cleanup(&bad);
    assert_int_equal(bo_bid_record_copy(&bad, &REC_PKCS1), BO_E_OK);
    bad.ri[bad.ri_len - 5] ^= 0x5A; /* inside encryptedKey, the last field */
    assert_int_equal(bo_responder_unwrap(&bad, ENC_RSA.key, NULL, NULL, 0, NULL, &r2),
                     BO_STAGE_UNWRAP);
    assert_int_equal(r1.err, BO_E_UNWRAP_FAILED);
    assert_int_equal(r2.err, BO_E_UNWRAP_FAILED);
    assert_string_equal(r1.msg, r2.msg);
    assert_string_equal(r1.wire, r2.wire);
    bo_bid_record_cleanup(&bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answer_rsa_and_ec),
        cmocka_unit_test(checks_before_unwrap),
        cmocka_unit_test(diagnoses),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
