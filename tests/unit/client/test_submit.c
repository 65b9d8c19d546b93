/* The pure parts of submitting: the chunk plan (windows, acknowledgements, resumes, a
 * disagreement), the server's key and the receipt (parse, verify, match the record). */
#include "client_test_util.h"

#include "bo/hash.h"
#include "bo/sigpayload.h"
#include "bo/submit.h"
#include "bo/wire.h"

/* ---------------------------------------------------------------- the plan ---- */

static void plan_in_order(void **state)
{
    (void)state;
    bo_upload_plan p;
    bo_upload_plan_init(&p, 10 * 1000 + 7, 1000, 3);
    assert_int_equal(bo_upload_plan_resume(&p, 0), BO_E_OK);
    uint64_t off;
    size_t len;
    /* the window fills */
    for (int i = 0; i < 3; i++) {
        assert_true(bo_upload_plan_next(&p, &off, &len));
        assert_int_equal(off, (uint64_t)i * 1000);
        assert_int_equal(len, 1000);
    }
    assert_false(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(p.inflight, 3);
    /* replies come in order and open the window again */
    assert_int_equal(bo_upload_plan_ack(&p, 1000), BO_E_OK);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(off, 3000);
    assert_int_equal(bo_upload_plan_ack(&p, 2000), BO_E_OK);
    assert_int_equal(bo_upload_plan_ack(&p, 3000), BO_E_OK);
    assert_int_equal(bo_upload_plan_ack(&p, 4000), BO_E_OK);
    assert_int_equal(p.inflight, 0);
    /* to the end: the last chunk is short */
    uint64_t last = 0;
    size_t last_len = 0;
    while (bo_upload_plan_next(&p, &off, &len)) {
        last = off;
        last_len = len;
        assert_false(bo_upload_plan_complete(&p));
        assert_int_equal(bo_upload_plan_ack(&p, off + len), BO_E_OK);
    }
    assert_int_equal(last, 10000);
    assert_int_equal(last_len, 7);
    assert_true(bo_upload_plan_complete(&p));
    assert_int_equal(bo_upload_plan_ack(&p, 10007), BO_E_INVALID_ARG); /* nothing in flight */

    /* a size that is a multiple of the chunk; window 0 means 1 */
    bo_upload_plan_init(&p, 2000, 1000, 0);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_false(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(bo_upload_plan_ack(&p, 1000), BO_E_OK);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(len, 1000);
    assert_int_equal(bo_upload_plan_ack(&p, 2000), BO_E_OK);
    assert_true(bo_upload_plan_complete(&p));
    assert_false(bo_upload_plan_next(&p, &off, &len));

    /* default chunk */
    bo_upload_plan_init(&p, 1u << 20, 0, 8);
    assert_int_equal(p.chunk, BO_SUBMIT_CHUNK);
}

static void plan_resume_and_disagreement(void **state)
{
    (void)state;
    bo_upload_plan p;
    uint64_t off;
    size_t len;
    bo_upload_plan_init(&p, 5000, 1000, 4);
    /* the server already holds 2,500 bytes (a dropped connection) */
    assert_int_equal(bo_upload_plan_resume(&p, 2500), BO_E_OK);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(off, 2500);
    assert_int_equal(len, 1000);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(off, 3500);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(off, 4500);
    assert_int_equal(len, 500);
    assert_false(bo_upload_plan_next(&p, &off, &len)); /* nothing left to send */
    /* the server says something else than expected: nothing more goes out */
    assert_int_equal(bo_upload_plan_ack(&p, 3000), BO_E_BAD_FIELD);
    assert_false(bo_upload_plan_next(&p, &off, &len));
    bo_upload_plan_lost(&p);
    bo_upload_plan_lost(&p);
    assert_int_equal(p.inflight, 0);
    bo_upload_plan_lost(&p); /* harmless */
    assert_int_equal(p.inflight, 0);
    assert_false(bo_upload_plan_complete(&p));
    /* begin again: the server's offset rules */
    assert_int_equal(bo_upload_plan_resume(&p, 3500), BO_E_OK);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(off, 3500);
    assert_int_equal(bo_upload_plan_ack(&p, 4500), BO_E_OK);
    assert_true(bo_upload_plan_next(&p, &off, &len));
    assert_int_equal(bo_upload_plan_ack(&p, 5000), BO_E_OK);
    assert_true(bo_upload_plan_complete(&p));
    /* the server holds everything already: complete at once */
    assert_int_equal(bo_upload_plan_resume(&p, 5000), BO_E_OK);
    assert_true(bo_upload_plan_complete(&p));
    assert_false(bo_upload_plan_next(&p, &off, &len));
    /* an offset past the end is refused */
    assert_int_equal(bo_upload_plan_resume(&p, 5001), BO_E_BAD_FIELD);
}

/* --------------------------------------------------- server key, receipts ---- */

typedef struct srvkey {
    bo_key *key;
    bo_buf spki;
    uint8_t fpr[32];
} srvkey;

static void srvkey_make(srvkey *k)
{
    bo_err e;
    k->key = bo_key_generate(BO_KEY_ED25519, &e);
    assert_non_null(k->key);
    bo_buf_init(&k->spki, 4096);
    assert_int_equal(bo_key_public_der(k->key, &k->spki), BO_E_OK);
    bo_sha256(k->spki.data, k->spki.len, k->fpr);
}

static void srvkey_free(srvkey *k)
{
    bo_key_free(k->key);
    bo_buf_cleanup(&k->spki);
}

/* Parse canonical msgpack built with an mpmap into an object (zone returned). */
static const msgpack_object *parse_map(bo_mpmap *m, bo_buf *b, msgpack_zone **z,
                                       msgpack_object *o)
{
    bo_buf_init(b, 1 << 20);
    assert_int_equal(bo_mpmap_finish(m, b), BO_E_OK);
    bo_mpmap_free(m);
    assert_int_equal(bo_mp_parse(b->data, b->len, z, o), BO_E_OK);
    return o;
}

static bo_mpmap *mm(void)
{
    bo_err e;
    bo_mpmap *m = bo_mpmap_new(&e);
    assert_non_null(m);
    return m;
}

static void server_key(void **state)
{
    (void)state;
    srvkey k;
    srvkey_make(&k);
    bo_buf b;
    msgpack_zone *z;
    msgpack_object o;
    bo_server_key sk;
    char detail[200];

    bo_mpmap *m = mm();
    bo_mpmap_bin(m, "spki", k.spki.data, k.spki.len);
    bo_mpmap_bin(m, "key_fpr", k.fpr, 32);
    assert_int_equal(bo_server_key_parse(parse_map(m, &b, &z, &o), &sk, detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(sk.cert_len, 0);
    assert_memory_equal(sk.fpr, k.fpr, 32);
    /* a signature verifies with it, another does not */
    bo_buf sig;
    bo_buf_init(&sig, BO_SIG_MAX);
    assert_int_equal(bo_key_sign(k.key, "receipt", (const uint8_t *)"abc", 3, &sig), BO_E_OK);
    assert_int_equal(bo_server_key_verify(&sk, "receipt", (const uint8_t *)"abc", 3, sig.data,
                                          sig.len),
                     BO_E_OK);
    assert_int_equal(bo_server_key_verify(&sk, "receipt", (const uint8_t *)"abd", 3, sig.data,
                                          sig.len),
                     BO_E_BAD_SIGNATURE);
    bo_buf_cleanup(&sig);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);

    /* a key_fpr that is not the key's */
    uint8_t wrong[32];
    memcpy(wrong, k.fpr, 32);
    wrong[0] ^= 1;
    m = mm();
    bo_mpmap_bin(m, "spki", k.spki.data, k.spki.len);
    bo_mpmap_bin(m, "key_fpr", wrong, 32);
    assert_int_equal(bo_server_key_parse(parse_map(m, &b, &z, &o), &sk, detail, sizeof(detail)),
                     BO_E_MALFORMED);
    assert_non_null(strstr(detail, "key_fpr"));
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);

    /* missing spki */
    m = mm();
    bo_mpmap_bin(m, "key_fpr", k.fpr, 32);
    assert_int_equal(bo_server_key_parse(parse_map(m, &b, &z, &o), &sk, detail, sizeof(detail)),
                     BO_E_MALFORMED);
    assert_non_null(strstr(detail, "spki"));
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);

    /* with a certificate: key_fpr is the certificate's fingerprint */
    bo_pki_ca *ca = ct_ca();
    ct_party p;
    ct_party_make(ca, BO_KEY_EC_P256, BO_PKI_SIGN, "server", 365, &p);
    uint8_t cfpr[32];
    bo_cert_fpr(p.der, p.len, cfpr);
    bo_buf pspki;
    bo_buf_init(&pspki, 4096);
    assert_int_equal(bo_key_public_der(p.key, &pspki), BO_E_OK);
    m = mm();
    bo_mpmap_bin(m, "cert", p.der, p.len);
    bo_mpmap_bin(m, "spki", pspki.data, pspki.len);
    bo_mpmap_bin(m, "key_fpr", cfpr, 32);
    assert_int_equal(bo_server_key_parse(parse_map(m, &b, &z, &o), &sk, detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(sk.cert_len, p.len);
    bo_buf_init(&sig, BO_SIG_MAX);
    assert_int_equal(bo_key_sign(p.key, "head", (const uint8_t *)"x", 1, &sig), BO_E_OK);
    assert_int_equal(bo_server_key_verify(&sk, "head", (const uint8_t *)"x", 1, sig.data, sig.len),
                     BO_E_OK);
    bo_buf_cleanup(&sig);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);
    bo_buf_cleanup(&pspki);
    ct_party_free(&p);
    bo_pki_ca_free(ca);
    srvkey_free(&k);
}

/* Build a receipt reply as the server does, signed with k. */
static void receipt_reply(const srvkey *k, const bo_bid_record *r, int64_t ts, bool tamper,
                          bo_buf *b, msgpack_zone **z, msgpack_object *o)
{
    bo_buf payload, sig, inner;
    bo_buf_init(&payload, 4096);
    bo_buf_init(&sig, BO_SIG_MAX);
    bo_buf_init(&inner, 4096);
    assert_int_equal(bo_sigpayload_receipt(&payload, r->seal.oid, r->seal.uscc, r->seal.env_sha256,
                                           r->seal.env_size, r->seal.commitment, ts),
                     BO_E_OK);
    assert_int_equal(bo_key_sign(k->key, BO_CTX_RECEIPT, payload.data, payload.len, &sig),
                     BO_E_OK);
    bo_mpmap *rc = mm();
    bo_mpmap_str(rc, "oid", r->seal.oid);
    bo_mpmap_str(rc, "uscc", r->seal.uscc);
    bo_mpmap_bin(rc, "hash", r->seal.env_sha256, 32);
    bo_mpmap_u64(rc, "size", r->seal.env_size + (tamper ? 1 : 0));
    bo_mpmap_bin(rc, "commit", r->seal.commitment, 32);
    bo_mpmap_i64(rc, "ts", ts);
    assert_int_equal(bo_mpmap_finish(rc, &inner), BO_E_OK);
    bo_mpmap_free(rc);
    bo_mpmap *m = mm();
    bo_mpmap_raw(m, "receipt", inner.data, inner.len);
    bo_mpmap_bin(m, "sig", sig.data, sig.len);
    bo_mpmap_bool(m, "replaced", true);
    parse_map(m, b, z, o);
    bo_buf_cleanup(&payload);
    bo_buf_cleanup(&sig);
    bo_buf_cleanup(&inner);
}

static void receipts(void **state)
{
    (void)state;
    srvkey k;
    srvkey_make(&k);
    bo_server_key sk;
    memset(&sk, 0, sizeof(sk));
    memcpy(sk.spki, k.spki.data, k.spki.len);
    sk.spki_len = k.spki.len;
    memcpy(sk.fpr, k.fpr, 32);

    bo_pki_ca *ca = ct_ca();
    ct_party enc;
    ct_party_make(ca, BO_KEY_EC_P256, BO_PKI_ENC, "enc", 365, &enc);
    char *dir = ct_tmpdir();
    bo_bid_record rec;
    ct_seal(dir, "r.cms", &enc, BO_SEAL_RSA_OAEP_SHA256, 64, &rec);

    bo_buf b;
    msgpack_zone *z;
    msgpack_object o;
    bo_receipt r;
    char detail[200];
    receipt_reply(&k, &rec, 1795744803000LL, false, &b, &z, &o);
    assert_int_equal(bo_receipt_parse(&o, &r, detail, sizeof(detail)), BO_E_OK);
    assert_true(r.replaced);
    assert_int_equal(r.ts, 1795744803000LL);
    assert_int_equal(bo_receipt_verify(&r, &sk), BO_E_OK);
    assert_int_equal(bo_receipt_matches(&r, &rec, detail, sizeof(detail)), BO_E_OK);
    /* a receipt for another envelope */
    bo_bid_record other = rec;
    other.seal.env_sha256[3] ^= 1;
    assert_int_equal(bo_receipt_matches(&r, &other, detail, sizeof(detail)),
                     BO_E_NOT_MY_ENVELOPE);
    assert_non_null(strstr(detail, "hash"));
    other = rec;
    other.seal.commitment[0] ^= 1;
    assert_int_equal(bo_receipt_matches(&r, &other, detail, sizeof(detail)),
                     BO_E_NOT_MY_ENVELOPE);
    assert_non_null(strstr(detail, "commit"));
    /* a changed field breaks the signature */
    r.ts++;
    assert_int_equal(bo_receipt_verify(&r, &sk), BO_E_BAD_SIGNATURE);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);
    receipt_reply(&k, &rec, 1795744803000LL, true, &b, &z, &o);
    assert_int_equal(bo_receipt_parse(&o, &r, detail, sizeof(detail)), BO_E_OK);
    assert_int_equal(bo_receipt_verify(&r, &sk), BO_E_BAD_SIGNATURE);
    assert_int_equal(bo_receipt_matches(&r, &rec, detail, sizeof(detail)), BO_E_NOT_MY_ENVELOPE);
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);

    /* malformed replies */
    bo_mpmap *m = mm();
    bo_mpmap_bin(m, "sig", "x", 1);
    assert_int_equal(bo_receipt_parse(parse_map(m, &b, &z, &o), &r, detail, sizeof(detail)),
                     BO_E_MALFORMED);
    assert_non_null(strstr(detail, "receipt"));
    msgpack_zone_free(z);
    bo_buf_cleanup(&b);

    bo_bid_record_cleanup(&rec);
    ct_party_free(&enc);
    bo_pki_ca_free(ca);
    ct_rmtree(dir);
    free(dir);
    srvkey_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_in_order),
        cmocka_unit_test(plan_resume_and_disagreement),
        cmocka_unit_test(server_key),
        cmocka_unit_test(receipts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
