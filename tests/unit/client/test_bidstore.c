/* The local bid record store: records made from envelopes, JSON round trips and every
 * refusal of a damaged record, atomic files in DIR/<oid>/<sha256>.json, loading, filtering,
 * finding, and what is skipped. */
#include "client_test_util.h"

#include <errno.h>

#include "bo/hash.h"
#include "bo/hex.h"

static bo_pki_ca *CA;
static ct_party ENC, OTHER;
static char *DIR_;

static int setup(void **state)
{
    (void)state;
    CA = ct_ca();
    ct_party_make(CA, BO_KEY_EC_P256, BO_PKI_ENC, "enc", 365, &ENC);
    ct_party_make(CA, BO_KEY_EC_P256, BO_PKI_ENC, "other", 365, &OTHER);
    DIR_ = ct_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_party_free(&ENC);
    ct_party_free(&OTHER);
    bo_pki_ca_free(CA);
    ct_rmtree(DIR_);
    free(DIR_);
    return 0;
}

static void assert_same_record(const bo_bid_record *a, const bo_bid_record *b)
{
    assert_string_equal(a->seal.oid, b->seal.oid);
    assert_string_equal(a->seal.uscc, b->seal.uscc);
    assert_memory_equal(a->seal.env_sha256, b->seal.env_sha256, 32);
    assert_int_equal(a->seal.env_size, b->seal.env_size);
    assert_memory_equal(a->seal.ri_sha256, b->seal.ri_sha256, 32);
    assert_memory_equal(a->seal.commitment, b->seal.commitment, 32);
    assert_string_equal(a->cipher, b->cipher);
    assert_string_equal(a->envelope, b->envelope);
    assert_int_equal(a->ri_len, b->ri_len);
    assert_memory_equal(a->ri, b->ri, a->ri_len);
    assert_int_equal(a->enc_cert_len, b->enc_cert_len);
    assert_memory_equal(a->enc_cert, b->enc_cert, a->enc_cert_len);
    assert_memory_equal(a->enc_fpr, b->enc_fpr, 32);
    assert_int_equal(a->created, b->created);
    assert_int_equal(a->has_receipt, b->has_receipt);
    if (a->has_receipt) {
        assert_int_equal(a->receipt_ts, b->receipt_ts);
        assert_int_equal(a->receipt_sig_len, b->receipt_sig_len);
        assert_memory_equal(a->receipt_sig, b->receipt_sig, a->receipt_sig_len);
        assert_memory_equal(a->server_key_fpr, b->server_key_fpr, 32);
        assert_int_equal(a->receipt_verified, b->receipt_verified);
        assert_int_equal(a->replaced, b->replaced);
    }
}

/* A record made from an envelope names what is in it; JSON keeps every field. */
static void make_and_json(void **state)
{
    (void)state;
    bo_bid_record r;
    ct_seal(DIR_, "a.cms", &ENC, BO_SEAL_RSA_OAEP_SHA256, 1000, &r);
    assert_string_equal(r.seal.oid, CT_OID);
    assert_string_equal(r.cipher, "aes-256-gcm");
    uint8_t h[32];
    bo_sha256(r.ri, r.ri_len, h);
    assert_memory_equal(h, r.seal.ri_sha256, 32);
    bo_cert_fpr(ENC.der, ENC.len, h);
    assert_memory_equal(h, r.enc_fpr, 32);
    assert_true(r.seal.env_size > 1000);

    /* with a receipt */
    r.has_receipt = true;
    r.receipt_ts = 1795744803000LL;
    r.receipt_sig = malloc(64);
    memset(r.receipt_sig, 0xAB, 64);
    r.receipt_sig_len = 64;
    memset(r.server_key_fpr, 0x11, 32);
    r.receipt_verified = true;
    r.replaced = true;

    bo_buf j;
    bo_buf_init(&j, BO_BIDSTORE_RECORD_MAX);
    assert_int_equal(bo_bid_record_to_json(&r, &j), BO_E_OK);
    assert_non_null(strstr((char *)j.data, "\"enc_cert_serial\""));
    bo_bid_record back;
    char detail[200] = "";
    assert_int_equal(bo_bid_record_from_json((char *)j.data, j.len, &back, detail, sizeof(detail)),
                     BO_E_OK);
    assert_same_record(&r, &back);

    bo_bid_record copy;
    assert_int_equal(bo_bid_record_copy(&copy, &back), BO_E_OK);
    assert_same_record(&copy, &r);
    bo_bid_record_cleanup(&copy);
    bo_bid_record_cleanup(&back);
    bo_buf_cleanup(&j);

    /* not sealed to that certificate */
    char path[600];
    snprintf(path, sizeof(path), "%s/a.cms", DIR_);
    bo_bid_record x;
    assert_int_equal(bo_bid_record_make(path, OTHER.der, OTHER.len, CT_OID, CT_USCC,
                                        r.seal.commitment, &x, detail, sizeof(detail)),
                     BO_E_RECIPIENT_MISMATCH);
    assert_non_null(strstr(detail, "not sealed to"));
    /* bad names */
    assert_int_equal(bo_bid_record_make(path, ENC.der, ENC.len, "..", CT_USCC,
                                        r.seal.commitment, &x, detail, sizeof(detail)),
                     BO_E_INVALID_ARG);
    assert_int_equal(bo_bid_record_make(path, ENC.der, ENC.len, CT_OID, "91350100M000100Y44",
                                        r.seal.commitment, &x, detail, sizeof(detail)),
                     BO_E_INVALID_ARG);
    /* not an envelope */
    snprintf(path, sizeof(path), "%s/a.cms.plain", DIR_);
    assert_int_equal(bo_bid_record_make(path, ENC.der, ENC.len, CT_OID, CT_USCC,
                                        r.seal.commitment, &x, detail, sizeof(detail)),
                     BO_E_ENVELOPE_MALFORMED);
    bo_bid_record_cleanup(&r);
}

/* Replace the first occurrence of `from` in a JSON text and parse it: must be refused. */
static void refused(const char *json, const char *from, const char *to, bo_err want,
                    const char *field)
{
    const char *at = strstr(json, from);
    if (!at)
        fail_msg("'%s' not in the record", from);
    size_t n = strlen(json) + strlen(to) + 1;
    char *t = malloc(n);
    size_t pre = (size_t)(at - json);
    memcpy(t, json, pre);
    strcpy(t + pre, to);
    strcat(t, at + strlen(from));
    bo_bid_record r;
    char detail[200] = "";
    bo_err err = bo_bid_record_from_json(t, strlen(t), &r, detail, sizeof(detail));
    if (err != want)
        fail_msg("%s -> %s: got %s (%s), want %s", from, to, bo_err_name(err), detail,
                 bo_err_name(want));
    if (field && !strstr(detail, field))
        fail_msg("%s -> %s: detail '%s' does not name %s", from, to, detail, field);
    assert_null(r.ri); /* nothing left behind */
    free(t);
}

/* Every field is checked: damaged records are refused with the field named. */
static void damaged_records(void **state)
{
    (void)state;
    bo_bid_record r;
    ct_seal(DIR_, "b.cms", &ENC, BO_SEAL_RSA_OAEP_SHA256, 10, &r);
    bo_buf j;
    bo_buf_init(&j, BO_BIDSTORE_RECORD_MAX);
    assert_int_equal(bo_bid_record_to_json(&r, &j), BO_E_OK);
    const char *json = (const char *)j.data;
    char hex[65];

    refused(json, "\"v\": 1", "\"v\": 2", BO_E_MALFORMED, "v");
    refused(json, "\"oid\": \"" CT_OID, "\"oid\": \"a/b", BO_E_MALFORMED, "oid");
    refused(json, "\"oid\": \"" CT_OID "\"", "\"oid\": \"..\"", BO_E_MALFORMED, "oid");
    refused(json, CT_USCC, "91350100M000100Y44", BO_E_MALFORMED, "uscc");
    bo_hex_encode(r.seal.env_sha256, 32, hex);
    refused(json, hex, "00", BO_E_MALFORMED, "env_sha256");
    refused(json, "\"env_size\": ", "\"env_size\": -", BO_E_MALFORMED, "env_size");
    bo_hex_encode(r.seal.ri_sha256, 32, hex);
    hex[0] = hex[0] == '0' ? '1' : '0';
    char orig[65];
    bo_hex_encode(r.seal.ri_sha256, 32, orig);
    refused(json, orig, hex, BO_E_MALFORMED, "ri_sha256");
    bo_hex_encode(r.enc_fpr, 32, orig);
    snprintf(hex, sizeof(hex), "%s", orig);
    hex[5] = hex[5] == 'a' ? 'b' : 'a';
    refused(json, orig, hex, BO_E_MALFORMED, "enc_fpr");
    refused(json, "\"ri\": \"", "\"ri\": \"zz", BO_E_MALFORMED, "ri");
    refused(json, "\"commitment\"", "\"commitmenx\"", BO_E_MALFORMED, "commitment");
    refused(json, "{", "{\"v\": 1, ", BO_E_MALFORMED, NULL); /* duplicate key */
    refused(json, "}", "", BO_E_MALFORMED, NULL);            /* truncated */

    /* a RecipientInfo over the cap */
    size_t big = 2 * (BO_BIDSTORE_RI_MAX + 1) + 1;
    char *huge = malloc(big);
    memset(huge, 'a', big - 1);
    huge[big - 1] = 0;
    char *from = malloc(2 * r.ri_len + 1);
    bo_hex_encode(r.ri, r.ri_len, from);
    refused(json, from, huge, BO_E_TOO_BIG, "ri");
    free(from);
    free(huge);

    bo_bid_record x;
    char detail[100];
    assert_int_equal(bo_bid_record_from_json(json, BO_BIDSTORE_RECORD_MAX + 1, &x, detail,
                                             sizeof(detail)),
                     BO_E_TOO_BIG);
    bo_buf_cleanup(&j);
    bo_bid_record_cleanup(&r);
}

static mode_t mode_of(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return st.st_mode & 0777;
}

/* Saving, loading, finding: one file per envelope, newest first, filtered by bidder;
 * damaged and stray files are skipped; the files are private. */
static void store(void **state)
{
    (void)state;
    char sdir[600], path[800], hex[65], detail[400];
    snprintf(sdir, sizeof(sdir), "%s/store/nested", DIR_);
    bo_bid_record *v;
    size_t n;
    /* nothing yet */
    assert_int_equal(bo_bidstore_load(sdir, CT_OID, NULL, &v, &n, detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    bo_bid_record one;
    assert_int_equal(bo_bidstore_find(sdir, CT_OID, NULL, NULL, &one, detail, sizeof(detail)),
                     BO_E_NOT_FOUND);

    bo_bid_record a, b, c;
    ct_seal(DIR_, "s1.cms", &ENC, BO_SEAL_RSA_OAEP_SHA256, 100, &a);
    ct_seal(DIR_, "s2.cms", &ENC, BO_SEAL_RSA_OAEP_SHA256, 200, &b);
    ct_seal(DIR_, "s3.cms", &ENC, BO_SEAL_RSA_OAEP_SHA256, 300, &c);
    a.created = 1000;
    b.created = 3000;
    c.created = 2000;
    snprintf(c.seal.uscc, sizeof(c.seal.uscc), "%s", "91350200MA00042015"); /* another bidder */
    assert_int_equal(bo_bidstore_save(sdir, &a, detail, sizeof(detail)), BO_E_OK);
    assert_int_equal(bo_bidstore_save(sdir, &b, detail, sizeof(detail)), BO_E_OK);
    assert_int_equal(bo_bidstore_save(sdir, &c, detail, sizeof(detail)), BO_E_OK);
    /* saving again replaces */
    assert_int_equal(bo_bidstore_save(sdir, &a, detail, sizeof(detail)), BO_E_OK);

    snprintf(path, sizeof(path), "%s/%s/%s.json", sdir, CT_OID,
             bo_hex_encode(a.seal.env_sha256, 32, hex));
    assert_int_equal(mode_of(path), 0600);
    snprintf(path, sizeof(path), "%s/%s", sdir, CT_OID);
    assert_int_equal(mode_of(path), 0700);
    snprintf(path, sizeof(path), "%s/%s/%s.json.tmp", sdir, CT_OID, hex);
    assert_int_equal(access(path, F_OK), -1); /* no temporary file left */

    assert_int_equal(bo_bidstore_load(sdir, CT_OID, NULL, &v, &n, detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].created, 3000); /* newest first */
    assert_int_equal(v[1].created, 2000);
    assert_int_equal(v[2].created, 1000);
    assert_same_record(&v[2], &a);
    bo_bid_records_free(v, n);
    assert_int_equal(bo_bidstore_load(sdir, CT_OID, CT_USCC, &v, &n, detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(n, 2);
    bo_bid_records_free(v, n);
    assert_int_equal(bo_bidstore_load(sdir, "T-OTHER", NULL, &v, &n, detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(n, 0);

    /* find: by hash, or the newest of a bidder */
    assert_int_equal(bo_bidstore_find(sdir, CT_OID, CT_USCC, a.seal.env_sha256, &one, detail,
                                      sizeof(detail)),
                     BO_E_OK);
    assert_same_record(&one, &a);
    bo_bid_record_cleanup(&one);
    assert_int_equal(bo_bidstore_find(sdir, CT_OID, CT_USCC, NULL, &one, detail, sizeof(detail)),
                     BO_E_OK);
    assert_same_record(&one, &b);
    bo_bid_record_cleanup(&one);
    assert_int_equal(bo_bidstore_find(sdir, CT_OID, CT_USCC, c.seal.env_sha256, &one, detail,
                                      sizeof(detail)),
                     BO_E_NOT_FOUND); /* another bidder's */

    /* a damaged file, a stray temporary file and a misnamed one are skipped */
    snprintf(path, sizeof(path), "%s/%s/%s.json", sdir, CT_OID,
             bo_hex_encode(b.seal.env_sha256, 32, hex));
    ct_write(path, "{\"v\":1}", 7);
    snprintf(path, sizeof(path), "%s/%s/%s.json.tmp", sdir, CT_OID, hex);
    ct_write(path, "junk", 4);
    char from[800], to[800];
    snprintf(from, sizeof(from), "%s/%s/%s.json", sdir, CT_OID,
             bo_hex_encode(a.seal.env_sha256, 32, hex));
    memset(hex, 'e', 64);
    snprintf(to, sizeof(to), "%s/%s/%s.json", sdir, CT_OID, hex);
    assert_int_equal(rename(from, to), 0);
    detail[0] = 0;
    assert_int_equal(bo_bidstore_load(sdir, CT_OID, NULL, &v, &n, detail, sizeof(detail)),
                     BO_E_OK);
    assert_int_equal(n, 1);
    assert_same_record(&v[0], &c);
    assert_non_null(strstr(detail, "skipped"));
    bo_bid_records_free(v, n);

    /* oids that are not directory names */
    assert_int_equal(bo_bidstore_load(sdir, "..", NULL, &v, &n, detail, sizeof(detail)),
                     BO_E_INVALID_ARG);
    snprintf(a.seal.oid, sizeof(a.seal.oid), "..");
    assert_int_equal(bo_bidstore_save(sdir, &a, detail, sizeof(detail)), BO_E_INVALID_ARG);

    /* a store that is a file */
    snprintf(path, sizeof(path), "%s/plainfile", DIR_);
    ct_write(path, "x", 1);
    snprintf(b.seal.oid, sizeof(b.seal.oid), "%s", CT_OID);
    assert_int_equal(bo_bidstore_save(path, &b, detail, sizeof(detail)), BO_E_IO);
    bo_bid_record_cleanup(&a);
    bo_bid_record_cleanup(&b);
    bo_bid_record_cleanup(&c);
}

static void default_dir(void **state)
{
    (void)state;
    char out[1024];
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv(BO_BIDSTORE_ENV, "/srv/bids", 1);
    assert_int_equal(bo_bidstore_default_dir(out, sizeof(out)), BO_E_OK);
    assert_string_equal(out, "/srv/bids");
    unsetenv(BO_BIDSTORE_ENV);
    setenv("HOME", "/home/tester", 1);
    assert_int_equal(bo_bidstore_default_dir(out, sizeof(out)), BO_E_OK);
    assert_string_equal(out, "/home/tester/.bidopen/bids");
    assert_int_equal(bo_bidstore_default_dir(out, 10), BO_E_TOO_BIG);
    unsetenv("HOME");
    assert_int_equal(bo_bidstore_default_dir(out, sizeof(out)), BO_E_CONFIG);
    bo_bid_record *v;
    size_t n;
    char detail[200];
    assert_int_equal(bo_bidstore_load(NULL, CT_OID, NULL, &v, &n, detail, sizeof(detail)),
                     BO_E_CONFIG);
    if (old_home)
        setenv("HOME", old_home, 1);
    free(old_home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(make_and_json),
        cmocka_unit_test(damaged_records),
        cmocka_unit_test(store),
        cmocka_unit_test(default_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
