/* bo_identity: the trust store and every refusal of bo_identity_verify, each with a
 * certificate generated for it (bo_pki). */
#include "crypto_test_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bo/identity.h"
#include "bo/pki.h"
#include "bo/uscc.h"

#define NOW (1800000000000LL) /* 2027-01-15 */
#define USCC_A "91350100M000100Y43"
#define USCC_B "91110000600001760P"
#define ORG_A "\xe7\xa6\x8f\xe5\xbb\xba\xe7\x9c\x81\xe5\xbb\xba\xe8\xae\xbe\xe5\xb7\xa5\xe7\xa8\x8b\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8" /* 福建省建设工程有限公司 */

typedef struct leaf {
    bo_blob_list chain; /* DER, leaf first, then the intermediates */
    bo_buf key;
    uint64_t serial;
} leaf;

/* The fixture: several CAs, a trust directory, and one leaf per case. */
static struct {
    bo_pki_ca *rsa_root, *rsa_int, *ec_root, *ec_int, *gm_root, *gm_int, *staff, *rogue;
    bo_pki_ca *orphan_int; /* issued by ec_root, NOT in the trust directory */
    bo_pki_ca *long_ca[5]; /* root + 4 intermediates for the too-long chain */
    char dir[64];          /* trust directory */
    char dir_nocrl[64];    /* same CAs, no CRL for ec_int */
    char dir_oldcrl[64];   /* same CAs, ec_int's CRL expired */
    char dir_ou[64];       /* ec CAs only: for USCC in OU / OID tests */
    bo_trust *trust;
    leaf rsa_sign, rsa_enc, ec_sign, ec_enc, gm_sign, gm_enc, staff_leaf;
    leaf expired, notyet, revoked, gm_revoked, rogue_leaf, orphan, enc_as_sign, sign_as_enc, no_ku;
    leaf bad_uscc, no_uscc, other_uscc_enc, p384, longleaf, uscc_in_ou, uscc_in_oid;
} F;

static bo_pki_name name(const char *o, const char *cn)
{
    bo_pki_name n = {.c = "CN", .o = o, .cn = cn};
    return n;
}

static void issue(bo_pki_ca *ca, leaf *l, bo_keyalg alg, unsigned usage, const char *uscc,
                  bo_time_ms nb, bo_time_ms na, const char *attr)
{
    bo_pki_leaf_opts o = {.alg = alg, .subj = name(ORG_A, "\xe5\xbc\xa0\xe4\xb8\x89"),
                          .uscc = uscc, .uscc_attr = attr, .usage = usage, .not_before = nb,
                          .not_after = na};
    bo_buf cert;
    bo_buf_init(&cert, 1 << 20);
    bo_buf_init(&l->key, 1 << 16);
    assert_int_equal(bo_pki_issue(ca, &o, &l->key, &cert, &l->serial), BO_E_OK);
    assert_int_equal(bo_pem_chain_parse(cert.data, cert.len, &l->chain), BO_E_OK);
    bo_buf_cleanup(&cert);
}

static void std_leaf(bo_pki_ca *ca, leaf *l, bo_keyalg alg, unsigned usage, const char *uscc)
{
    issue(ca, l, alg, usage, uscc, NOW - 30 * DAY_MS, NOW + 365 * DAY_MS, NULL);
}

static void leaf_free(leaf *l)
{
    bo_blob_list_cleanup(&l->chain);
    bo_buf_cleanup_wipe(&l->key);
}

static void write_ca(const char *dir, const char *name_, bo_pki_ca *ca)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_pki_ca_cert_pem(ca, &b), BO_E_OK);
    assert_int_equal(tu_write_buf(dir, name_, &b), 0);
    bo_buf_cleanup(&b);
}

static void write_crl(const char *dir, const char *name_, bo_pki_ca *ca, bo_time_ms tu,
                      bo_time_ms nu)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_pki_crl(ca, tu, nu, &b), BO_E_OK);
    assert_int_equal(tu_write_buf(dir, name_, &b), 0);
    bo_buf_cleanup(&b);
}

static void write_trust(const char *dir, int variant)
{
    struct {
        const char *n;
        bo_pki_ca *ca;
    } cas[] = {{"a-root.pem", F.rsa_root}, {"a-int.crt", F.rsa_int},  {"b-root.pem", F.ec_root},
               {"b-int.pem", F.ec_int},    {"gm-root.pem", F.gm_root}, {"gm-int.pem", F.gm_int},
               {"staff.pem", F.staff},     {"long0.pem", F.long_ca[0]}};
    for (size_t i = 0; i < sizeof cas / sizeof cas[0]; i++) {
        char crl[64];
        write_ca(dir, cas[i].n, cas[i].ca);
        snprintf(crl, sizeof crl, "%s.crl", cas[i].n);
        if (cas[i].ca == F.ec_int && variant == 1)
            continue;
        if (cas[i].ca == F.ec_int && variant == 2)
            write_crl(dir, crl, cas[i].ca, NOW - 40 * DAY_MS, NOW - 10 * DAY_MS);
        else
            write_crl(dir, crl, cas[i].ca, NOW - DAY_MS, NOW + 7 * DAY_MS);
    }
}

static int setup(void **state)
{
    bo_err e = BO_E_OK;
    bo_time_ms nb = NOW - 365 * DAY_MS, na = NOW + 3650 * DAY_MS;
    bo_pki_name n;
    n = name("CA-A", "CA-A Root");
    F.rsa_root = bo_pki_ca_root(&n, BO_KEY_RSA, nb, na, &e);
    n = name("CA-A", "CA-A Issuing CA");
    F.rsa_int = bo_pki_ca_intermediate(F.rsa_root, &n, BO_KEY_RSA, nb, na, &e);
    n = name("CA-B", "CA-B Root");
    F.ec_root = bo_pki_ca_root(&n, BO_KEY_EC_P256, nb, na, &e);
    n = name("CA-B", "CA-B Issuing CA");
    F.ec_int = bo_pki_ca_intermediate(F.ec_root, &n, BO_KEY_EC_P256, nb, na, &e);
    n = name("GM CA", "GM SM2 Root");
    F.gm_root = bo_pki_ca_root(&n, BO_KEY_SM2, nb, na, &e);
    n = name("GM CA", "GM SM2 Issuing CA");
    F.gm_int = bo_pki_ca_intermediate(F.gm_root, &n, BO_KEY_SM2, nb, na, &e);
    n = name("Staff", "Staff CA");
    F.staff = bo_pki_ca_root(&n, BO_KEY_EC_P256, nb, na, &e);
    n = name("Rogue", "Rogue CA");
    F.rogue = bo_pki_ca_root(&n, BO_KEY_EC_P256, nb, na, &e);
    n = name("CA-B", "CA-B Orphan CA");
    F.orphan_int = bo_pki_ca_intermediate(F.ec_root, &n, BO_KEY_EC_P256, nb, na, &e);
    n = name("Long", "Long 0");
    F.long_ca[0] = bo_pki_ca_root(&n, BO_KEY_EC_P256, nb, na, &e);
    for (int i = 1; i < 5; i++) {
        char cn[16];
        snprintf(cn, sizeof cn, "Long %d", i);
        n = name("Long", cn);
        F.long_ca[i] = bo_pki_ca_intermediate(F.long_ca[i - 1], &n, BO_KEY_EC_P256, nb, na, &e);
    }
    if (!F.rsa_root || !F.rsa_int || !F.ec_root || !F.ec_int || !F.gm_root || !F.gm_int ||
        !F.staff || !F.rogue || !F.orphan_int || !F.long_ca[4])
        return -1;

    std_leaf(F.rsa_int, &F.rsa_sign, BO_KEY_RSA, BO_PKI_SIGN, USCC_A);
    std_leaf(F.rsa_int, &F.rsa_enc, BO_KEY_RSA, BO_PKI_ENC, USCC_A);
    std_leaf(F.ec_int, &F.ec_sign, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B);
    std_leaf(F.ec_int, &F.ec_enc, BO_KEY_EC_P256, BO_PKI_ENC, USCC_B);
    std_leaf(F.gm_int, &F.gm_sign, BO_KEY_SM2, BO_PKI_SIGN, USCC_A);
    std_leaf(F.gm_int, &F.gm_enc, BO_KEY_SM2, BO_PKI_ENC, USCC_A);
    std_leaf(F.staff, &F.staff_leaf, BO_KEY_ED25519, BO_PKI_SIGN | BO_PKI_TLS_CLIENT, NULL);
    issue(F.ec_int, &F.expired, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B, NOW - 400 * DAY_MS,
          NOW - 35 * DAY_MS, NULL);
    issue(F.ec_int, &F.notyet, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B, NOW + 5 * DAY_MS,
          NOW + 400 * DAY_MS, NULL);
    std_leaf(F.ec_int, &F.revoked, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B);
    assert_int_equal(bo_pki_revoke(F.ec_int, F.revoked.serial, NOW - 2 * DAY_MS), BO_E_OK);
    std_leaf(F.gm_int, &F.gm_revoked, BO_KEY_SM2, BO_PKI_SIGN, USCC_A);
    assert_int_equal(bo_pki_revoke(F.gm_int, F.gm_revoked.serial, NOW - 2 * DAY_MS), BO_E_OK);
    std_leaf(F.rogue, &F.rogue_leaf, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B);
    std_leaf(F.orphan_int, &F.orphan, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B);
    std_leaf(F.gm_int, &F.enc_as_sign, BO_KEY_SM2, BO_PKI_ENC, USCC_A);
    std_leaf(F.ec_int, &F.sign_as_enc, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B);
    std_leaf(F.ec_int, &F.no_ku, BO_KEY_EC_P256, BO_PKI_SIGN | BO_PKI_NO_KU, USCC_B);
    std_leaf(F.ec_int, &F.bad_uscc, BO_KEY_EC_P256, BO_PKI_SIGN, "91110000600001760Q");
    std_leaf(F.ec_int, &F.no_uscc, BO_KEY_EC_P256, BO_PKI_SIGN, NULL);
    std_leaf(F.ec_int, &F.other_uscc_enc, BO_KEY_EC_P256, BO_PKI_ENC, USCC_A);
    std_leaf(F.ec_int, &F.p384, BO_KEY_OTHER, BO_PKI_SIGN, USCC_B);
    std_leaf(F.long_ca[4], &F.longleaf, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B);
    issue(F.ec_int, &F.uscc_in_ou, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B, NOW - DAY_MS,
          NOW + DAY_MS, "OU");
    issue(F.ec_int, &F.uscc_in_oid, BO_KEY_EC_P256, BO_PKI_SIGN, USCC_B, NOW - DAY_MS,
          NOW + DAY_MS, "2.5.4.97");

    const char *dirs[] = {F.dir, F.dir_nocrl, F.dir_oldcrl, F.dir_ou};
    for (int i = 0; i < 4; i++) {
        strcpy((char *)dirs[i], "/tmp/bo_test_trust_XXXXXX");
        if (!mkdtemp((char *)dirs[i]))
            return -1;
        if (i < 3)
            write_trust(dirs[i], i);
    }
    write_ca(F.dir_ou, "b-root.pem", F.ec_root);
    write_ca(F.dir_ou, "b-int.pem", F.ec_int);
    write_crl(F.dir_ou, "b-int.crl", F.ec_int, NOW - DAY_MS, NOW + 7 * DAY_MS);

    bo_trust_opts o = BO_TRUST_OPTS_INIT;
    o.dir = F.dir;
    char detail[256];
    F.trust = bo_trust_load(&o, &e, detail, sizeof detail);
    if (!F.trust) {
        fprintf(stderr, "trust load: %s: %s\n", bo_err_name(e), detail);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    bo_trust_free(F.trust);
    leaf *leaves[] = {&F.rsa_sign, &F.rsa_enc,     &F.ec_sign,     &F.ec_enc,        &F.gm_sign,
                      &F.gm_enc,   &F.staff_leaf,  &F.expired,     &F.notyet,        &F.revoked,
                      &F.gm_revoked, &F.rogue_leaf,     &F.orphan,      &F.enc_as_sign,   &F.sign_as_enc,
                      &F.no_ku,    &F.bad_uscc,    &F.no_uscc,     &F.other_uscc_enc, &F.p384,
                      &F.longleaf, &F.uscc_in_ou,  &F.uscc_in_oid};
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
        leaf_free(leaves[i]);
    bo_pki_ca *cas[] = {F.rsa_root, F.rsa_int, F.ec_root, F.ec_int, F.gm_root, F.gm_int,
                        F.staff,    F.rogue,   F.orphan_int};
    for (size_t i = 0; i < sizeof cas / sizeof cas[0]; i++)
        bo_pki_ca_free(cas[i]);
    for (int i = 0; i < 5; i++)
        bo_pki_ca_free(F.long_ca[i]);
    tu_rmtree(F.dir);
    tu_rmtree(F.dir_nocrl);
    tu_rmtree(F.dir_oldcrl);
    tu_rmtree(F.dir_ou);
    return 0;
}

static char g_detail[512];

static bo_err verify_t(const bo_trust *t, const leaf *s, const leaf *enc, unsigned flags,
                       bo_identity *id)
{
    bo_identity tmp;
    bo_bytes_list ec = enc ? enc->chain.list : (bo_bytes_list){0};
    bo_err e = bo_identity_verify(t, &s->chain.list, enc ? &ec : NULL, NOW, flags,
                                  id ? id : &tmp, g_detail, sizeof g_detail);
    if (e != BO_E_OK)
        print_message("    -> %s: %s\n", bo_err_name(e), g_detail);
    return e;
}

static bo_err verify(const leaf *s, const leaf *enc, unsigned flags)
{
    return verify_t(F.trust, s, enc, flags, NULL);
}

static void good_dual_certs(void **state)
{
    bo_identity id;
    assert_int_equal(verify_t(F.trust, &F.ec_sign, &F.ec_enc, BO_ID_REQUIRE_USCC, &id), BO_E_OK);
    assert_string_equal(id.uscc, USCC_B);
    assert_string_equal(id.org, ORG_A);
    assert_string_equal(id.person, "\xe5\xbc\xa0\xe4\xb8\x89");
    assert_non_null(strstr(id.anchor, "CN=CA-B Root"));
    assert_int_equal(id.alg, BO_KEY_EC_P256);
    assert_true(id.has_enc);
    assert_int_equal(id.enc_alg, BO_KEY_EC_P256);
    assert_int_equal(id.not_after, NOW + 365 * DAY_MS);
    uint8_t fpr[32];
    bo_cert_fpr(F.ec_sign.chain.list.v[0].p, F.ec_sign.chain.list.v[0].len, fpr);
    assert_memory_equal(id.fpr, fpr, 32);
    bo_cert_fpr(F.ec_enc.chain.list.v[0].p, F.ec_enc.chain.list.v[0].len, fpr);
    assert_memory_equal(id.enc_fpr, fpr, 32);

    /* RSA (province A) and SM2 (GM) chains against the same store: several anchors at once */
    assert_int_equal(verify_t(F.trust, &F.rsa_sign, &F.rsa_enc, BO_ID_REQUIRE_USCC, &id), BO_E_OK);
    assert_non_null(strstr(id.anchor, "CN=CA-A Root"));
    assert_int_equal(id.alg, BO_KEY_RSA);
    assert_int_equal(verify_t(F.trust, &F.gm_sign, &F.gm_enc, BO_ID_REQUIRE_USCC, &id), BO_E_OK);
    assert_non_null(strstr(id.anchor, "CN=GM SM2 Root"));
    assert_int_equal(id.alg, BO_KEY_SM2);
    assert_int_equal(id.enc_alg, BO_KEY_SM2);

    /* staff: no USCC required, Ed25519 key, root-issued */
    assert_int_equal(verify_t(F.trust, &F.staff_leaf, NULL, 0, &id), BO_E_OK);
    assert_string_equal(id.uscc, "");
    assert_false(id.has_enc);
    assert_int_equal(id.alg, BO_KEY_ED25519);

    /* the intermediate is found in the trust directory when the client sends the leaf only */
    bo_bytes_list only = tu_first(&F.ec_sign.chain, 1);
    assert_int_equal(bo_identity_verify(F.trust, &only, NULL, NOW, BO_ID_REQUIRE_USCC, &id,
                                        g_detail, sizeof g_detail),
                     BO_E_OK);
}

/* The 3-level GM chain verifies only because every SM2-signed certificate gets the GM/T 0009
 * ID: the certificates really are signed with it (OpenSSL's empty default ID fails). */
static void sm2_chain_uses_gm_id(void **state)
{
    const unsigned char *p = F.gm_sign.chain.list.v[0].p;
    X509 *lx = d2i_X509(NULL, &p, (long)F.gm_sign.chain.list.v[0].len);
    p = F.gm_sign.chain.list.v[1].p;
    X509 *inter = d2i_X509(NULL, &p, (long)F.gm_sign.chain.list.v[1].len);
    assert_non_null(lx);
    assert_non_null(inter);
    assert_int_equal(X509_get_signature_nid(lx), NID_SM2_with_SM3);
    EVP_PKEY *ik = X509_get0_pubkey(inter);
    assert_int_not_equal(X509_verify(lx, ik), 1);
    ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(id, (const unsigned char *)"1234567812345678", 16);
    X509_set0_distinguishing_id(lx, id);
    assert_int_equal(X509_verify(lx, ik), 1);
    X509_free(lx);

    /* the SM2 CRL is signed with the GM ID too, which OpenSSL 3.0 alone cannot check */
    bo_buf pem;
    bo_buf_init(&pem, 1 << 16);
    assert_int_equal(bo_pki_crl(F.gm_int, NOW - DAY_MS, NOW + DAY_MS, &pem), BO_E_OK);
    BIO *b = BIO_new_mem_buf(pem.data, (int)pem.len);
    X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    assert_non_null(crl);
    assert_int_equal(X509_CRL_get_signature_nid(crl), NID_SM2_with_SM3);
    assert_int_not_equal(X509_CRL_verify(crl, ik), 1);
    X509_CRL_free(crl);
    BIO_free(b);
    bo_buf_cleanup(&pem);
    X509_free(inter);

    /* ... yet it is used: a revoked GM certificate is refused as revoked */
    assert_int_equal(verify(&F.gm_revoked, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_REVOKED);
}

static void refusals_time(void **state)
{
    assert_int_equal(verify(&F.expired, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_EXPIRED);
    assert_non_null(strstr(g_detail, "signing certificate expired 20"));
    assert_int_equal(verify(&F.notyet, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_NOT_YET_VALID);
    assert_non_null(strstr(g_detail, "not valid before"));
    /* an expired encryption certificate is refused as well */
    assert_int_equal(verify(&F.ec_sign, &F.expired, BO_ID_REQUIRE_USCC), BO_E_CERT_EXPIRED);
    assert_non_null(strstr(g_detail, "encryption certificate"));
    /* the same good certificate long after: expired */
    bo_identity id;
    assert_int_equal(bo_identity_verify(F.trust, &F.ec_sign.chain.list, NULL, NOW + 400 * DAY_MS,
                                        BO_ID_REQUIRE_USCC, &id, g_detail, sizeof g_detail),
                     BO_E_CERT_EXPIRED);
}

static void refusal_revoked(void **state)
{
    assert_int_equal(verify(&F.revoked, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_REVOKED);
    assert_non_null(strstr(g_detail, "revoked"));
    /* before the revocation date? CRLs say "revoked", full stop; still refused */
}

static void refusal_unknown_issuer(void **state)
{
    assert_int_equal(verify(&F.rogue_leaf, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_UNKNOWN_ISSUER);
    assert_non_null(strstr(g_detail, "Rogue CA"));
    /* an intermediate not in the trust dir and not sent */
    bo_bytes_list only = tu_first(&F.orphan.chain, 1);
    bo_identity id;
    assert_int_equal(bo_identity_verify(F.trust, &only, NULL, NOW, BO_ID_REQUIRE_USCC, &id,
                                        g_detail, sizeof g_detail),
                     BO_E_CERT_UNKNOWN_ISSUER);
    /* sent along, it chains to a trusted root: accepted (the CRL of the orphan CA is missing,
     * so only with crl_required = false) */
    bo_trust_opts o = BO_TRUST_OPTS_INIT;
    o.dir = F.dir;
    o.crl_required = false;
    bo_err e;
    bo_trust *lax = bo_trust_load(&o, &e, g_detail, sizeof g_detail);
    assert_non_null(lax);
    assert_int_equal(verify_t(lax, &F.orphan, NULL, BO_ID_REQUIRE_USCC, NULL), BO_E_OK);
    assert_int_equal(verify(&F.orphan, NULL, BO_ID_REQUIRE_USCC), BO_E_CRL_UNAVAILABLE);
    bo_trust_free(lax);
    /* a self-signed leaf or a rogue root sent along does not help */
    leaf both = {0};
    bo_blob_list_push(&both.chain, F.rogue_leaf.chain.list.v[0].p, F.rogue_leaf.chain.list.v[0].len);
    size_t rl;
    const uint8_t *rd = bo_pki_ca_cert_der(F.rogue, &rl);
    bo_blob_list_push(&both.chain, rd, rl);
    assert_int_equal(verify(&both, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_UNKNOWN_ISSUER);
    bo_blob_list_cleanup(&both.chain);
}

/* Intermediates in the trust dir only help build chains: a dir holding the GM intermediate
 * but not the GM root does not make GM leaves trusted. */
static void intermediate_is_not_an_anchor(void **state)
{
    char dir[] = "/tmp/bo_test_trust_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_ca(dir, "b-root.pem", F.ec_root);
    write_ca(dir, "gm-int.pem", F.gm_int);
    write_crl(dir, "gm-int.crl", F.gm_int, NOW - DAY_MS, NOW + DAY_MS);
    bo_trust_opts o = BO_TRUST_OPTS_INIT;
    o.dir = dir;
    bo_err e;
    bo_trust *t = bo_trust_load(&o, &e, g_detail, sizeof g_detail);
    assert_non_null(t);
    bo_trust_stats st;
    bo_trust_get_stats(t, &st);
    assert_int_equal(st.anchors, 1);
    assert_int_equal(st.intermediates, 1);
    assert_int_equal(st.crls, 1);
    assert_int_equal(st.cas_without_crl, 1);
    assert_int_equal(verify_t(t, &F.gm_sign, NULL, BO_ID_REQUIRE_USCC, NULL),
                     BO_E_CERT_UNKNOWN_ISSUER);
    bo_trust_free(t);

    /* only an intermediate: no anchor at all is a configuration error */
    remove(strcat(strcpy((char[128]){0}, dir), "/b-root.pem"));
    assert_null(bo_trust_load(&o, &e, g_detail, sizeof g_detail));
    assert_int_equal(e, BO_E_CONFIG);
    tu_rmtree(dir);
}

static void refusals_key_usage(void **state)
{
    /* an encryption-only (keyEncipherment) certificate used to sign */
    assert_int_equal(verify(&F.enc_as_sign, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_KEY_USAGE);
    assert_non_null(strstr(g_detail, "signing certificate"));
    /* a signing-only certificate offered for encryption */
    assert_int_equal(verify(&F.ec_sign, &F.sign_as_enc, BO_ID_REQUIRE_USCC), BO_E_CERT_KEY_USAGE);
    assert_non_null(strstr(g_detail, "keyAgreement"));
    /* RSA encryption certificates need keyEncipherment: a signing one is refused */
    assert_int_equal(verify(&F.rsa_sign, &F.rsa_sign, BO_ID_REQUIRE_USCC), BO_E_CERT_KEY_USAGE);
    assert_non_null(strstr(g_detail, "keyEncipherment"));
    /* no keyUsage extension at all */
    assert_int_equal(verify(&F.no_ku, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_KEY_USAGE);
    /* an Ed25519 key cannot be an encryption certificate */
    assert_int_equal(verify(&F.ec_sign, &F.staff_leaf, 0), BO_E_UNSUPPORTED_KEY);
}

static void refusals_uscc(void **state)
{
    assert_int_equal(verify(&F.bad_uscc, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_BAD_USCC);
    assert_non_null(strstr(g_detail, "91110000600001760Q"));
    assert_int_equal(verify(&F.no_uscc, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_BAD_USCC);
    /* staff and sites do not need one */
    bo_identity id;
    assert_int_equal(verify_t(F.trust, &F.bad_uscc, NULL, 0, &id), BO_E_OK);
    assert_string_equal(id.uscc, "");
    assert_int_equal(verify(&F.ec_sign, &F.other_uscc_enc, BO_ID_REQUIRE_USCC),
                     BO_E_CERT_USCC_MISMATCH);
    assert_non_null(strstr(g_detail, USCC_A));
    /* a dual pair from two different CAs with the same USCC is fine */
    assert_int_equal(verify(&F.gm_sign, &F.rsa_enc, BO_ID_REQUIRE_USCC), BO_E_OK);

    char u[19];
    assert_int_equal(bo_cert_uscc(F.ec_sign.chain.list.v[0].p, F.ec_sign.chain.list.v[0].len,
                                  NULL, u),
                     BO_E_OK);
    assert_string_equal(u, USCC_B);
    assert_int_equal(bo_cert_uscc(F.bad_uscc.chain.list.v[0].p, F.bad_uscc.chain.list.v[0].len,
                                  "serialNumber", u),
                     BO_E_CERT_BAD_USCC);
    assert_int_equal(bo_cert_uscc(F.ec_sign.chain.list.v[0].p, 5, NULL, u), BO_E_CERT_INVALID);
    assert_int_equal(bo_cert_uscc(F.ec_sign.chain.list.v[0].p, F.ec_sign.chain.list.v[0].len,
                                  "nonsense", u),
                     BO_E_CONFIG);
}

static void uscc_attribute_configurable(void **state)
{
    const char *attrs[] = {"OU", "2.5.4.97", "organizationIdentifier"};
    const leaf *expect_ok[] = {&F.uscc_in_ou, &F.uscc_in_oid, &F.uscc_in_oid};
    for (int i = 0; i < 3; i++) {
        bo_trust_opts o = BO_TRUST_OPTS_INIT;
        o.dir = F.dir_ou;
        o.uscc_attr = attrs[i];
        bo_err e;
        bo_trust *t = bo_trust_load(&o, &e, g_detail, sizeof g_detail);
        assert_non_null(t);
        bo_identity id;
        assert_int_equal(verify_t(t, expect_ok[i], NULL, BO_ID_REQUIRE_USCC, &id), BO_E_OK);
        assert_string_equal(id.uscc, USCC_B);
        /* the serialNumber one does not count here */
        assert_int_equal(verify_t(t, &F.ec_sign, NULL, BO_ID_REQUIRE_USCC, NULL),
                         BO_E_CERT_BAD_USCC);
        bo_trust_free(t);
    }
    bo_trust_opts o = BO_TRUST_OPTS_INIT;
    o.dir = F.dir_ou;
    o.uscc_attr = "foo";
    bo_err e;
    assert_null(bo_trust_load(&o, &e, g_detail, sizeof g_detail));
    assert_int_equal(e, BO_E_CONFIG);
}

static void refusals_invalid(void **state)
{
    bo_identity id;
    /* not DER */
    uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    bo_bytes b = {junk, sizeof junk};
    bo_bytes_list l = {&b, 1};
    assert_int_equal(bo_identity_verify(F.trust, &l, NULL, NOW, 0, &id, g_detail, sizeof g_detail),
                     BO_E_CERT_INVALID);
    /* truncated */
    b.p = F.ec_sign.chain.list.v[0].p;
    b.len = F.ec_sign.chain.list.v[0].len - 1;
    assert_int_equal(bo_identity_verify(F.trust, &l, NULL, NOW, 0, &id, g_detail, sizeof g_detail),
                     BO_E_CERT_INVALID);
    /* empty chain */
    l.n = 0;
    assert_int_equal(bo_identity_verify(F.trust, &l, NULL, NOW, 0, &id, g_detail, sizeof g_detail),
                     BO_E_CERT_INVALID);
    /* a flipped bit in the signature of the leaf */
    size_t n = F.ec_sign.chain.list.v[0].len;
    uint8_t *bad = malloc(n);
    memcpy(bad, F.ec_sign.chain.list.v[0].p, n);
    bad[n - 5] ^= 0x01;
    b.p = bad;
    b.len = n;
    l.n = 1;
    assert_int_equal(bo_identity_verify(F.trust, &l, NULL, NOW, 0, &id, g_detail, sizeof g_detail),
                     BO_E_CERT_INVALID);
    assert_non_null(strstr(g_detail, "signature"));
    free(bad);
    /* chain of 5: too long */
    assert_int_equal(F.longleaf.chain.list.n, 5);
    assert_int_equal(verify(&F.longleaf, NULL, BO_ID_REQUIRE_USCC), BO_E_CERT_INVALID);
    assert_non_null(strstr(g_detail, "at most 4"));
    /* a broken certificate in the middle of the chain */
    bo_bytes two[2] = {F.ec_sign.chain.list.v[0], {junk, sizeof junk}};
    bo_bytes_list l2 = {two, 2};
    assert_int_equal(bo_identity_verify(F.trust, &l2, NULL, NOW, 0, &id, g_detail, sizeof g_detail),
                     BO_E_CERT_INVALID);
    /* unsupported key: P-384 */
    assert_int_equal(verify(&F.p384, NULL, BO_ID_REQUIRE_USCC), BO_E_UNSUPPORTED_KEY);
}

static void refusals_crl(void **state)
{
    const char *dirs[] = {F.dir_nocrl, F.dir_oldcrl};
    for (int i = 0; i < 2; i++) {
        bo_trust_opts o = BO_TRUST_OPTS_INIT;
        o.dir = dirs[i];
        bo_err e;
        bo_trust *t = bo_trust_load(&o, &e, g_detail, sizeof g_detail);
        assert_non_null(t);
        assert_int_equal(verify_t(t, &F.ec_sign, NULL, BO_ID_REQUIRE_USCC, NULL),
                         BO_E_CRL_UNAVAILABLE);
        assert_non_null(strstr(g_detail, "CA-B Issuing CA"));
        /* other CAs are unaffected */
        assert_int_equal(verify_t(t, &F.rsa_sign, NULL, BO_ID_REQUIRE_USCC, NULL), BO_E_OK);
        bo_trust_free(t);

        o.crl_required = false;
        t = bo_trust_load(&o, &e, g_detail, sizeof g_detail);
        assert_non_null(t);
        assert_int_equal(verify_t(t, &F.ec_sign, NULL, BO_ID_REQUIRE_USCC, NULL), BO_E_OK);
        /* a stale CRL still revokes; without any CRL nothing can */
        assert_int_equal(verify_t(t, &F.revoked, NULL, BO_ID_REQUIRE_USCC, NULL),
                         i == 1 ? BO_E_CERT_REVOKED : BO_E_OK);
        bo_trust_free(t);
    }
}

static void trust_load_errors(void **state)
{
    bo_err e;
    bo_trust_opts o = BO_TRUST_OPTS_INIT;
    o.dir = "/nonexistent/bo/trust";
    assert_null(bo_trust_load(&o, &e, g_detail, sizeof g_detail));
    assert_int_equal(e, BO_E_CONFIG);
    char dir[] = "/tmp/bo_test_trust_XXXXXX";
    assert_non_null(mkdtemp(dir));
    o.dir = dir;
    assert_null(bo_trust_load(&o, &e, g_detail, sizeof g_detail));
    assert_int_equal(e, BO_E_CONFIG);
    write_ca(dir, "root.pem", F.ec_root);
    assert_int_equal(tu_write(dir, "junk.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n", 33), 0);
    assert_null(bo_trust_load(&o, &e, g_detail, sizeof g_detail));
    assert_int_equal(e, BO_E_CONFIG);
    assert_non_null(strstr(g_detail, "junk.pem"));
    remove(strcat(strcpy((char[128]){0}, dir), "/junk.pem"));
    /* a DER certificate, files of other types ignored */
    size_t dl;
    const uint8_t *der = bo_pki_ca_cert_der(F.gm_root, &dl);
    assert_int_equal(tu_write(dir, "gm.der", der, dl), 0);
    assert_int_equal(tu_write(dir, "README.txt", "hello", 5), 0);
    bo_trust *t = bo_trust_load(&o, &e, g_detail, sizeof g_detail);
    assert_non_null(t);
    bo_trust_stats st;
    bo_trust_get_stats(t, &st);
    assert_int_equal(st.anchors, 2);
    assert_int_equal(st.cas_without_crl, 2);
    bo_trust *t2 = bo_trust_ref(t);
    bo_trust_free(t);
    bo_trust_get_stats(t2, &st); /* still alive */
    assert_int_equal(st.anchors, 2);
    bo_trust_free(t2);
    tu_rmtree(dir);
}

/* Worker threads verify on one store at once. */
static void *worker(void *arg)
{
    const leaf *cases[][2] = {{&F.ec_sign, &F.ec_enc}, {&F.rsa_sign, &F.rsa_enc},
                              {&F.gm_sign, &F.gm_enc}, {&F.revoked, NULL}};
    const bo_err want[] = {BO_E_OK, BO_E_OK, BO_E_OK, BO_E_CERT_REVOKED};
    intptr_t bad = 0;
    for (int r = 0; r < 12; r++) {
        int c = (int)((r + (intptr_t)arg) % 4);
        bo_identity id;
        char d[256];
        bo_bytes_list ec = cases[c][1] ? cases[c][1]->chain.list : (bo_bytes_list){0};
        bo_err e = bo_identity_verify(F.trust, &cases[c][0]->chain.list, &ec, NOW,
                                      BO_ID_REQUIRE_USCC, &id, d, sizeof d);
        bad += e != want[c];
    }
    return (void *)bad;
}

static void concurrent_verify(void **state)
{
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_int_equal((intptr_t)r, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_dual_certs),
        cmocka_unit_test(sm2_chain_uses_gm_id),
        cmocka_unit_test(refusals_time),
        cmocka_unit_test(refusal_revoked),
        cmocka_unit_test(refusal_unknown_issuer),
        cmocka_unit_test(intermediate_is_not_an_anchor),
        cmocka_unit_test(refusals_key_usage),
        cmocka_unit_test(refusals_uscc),
        cmocka_unit_test(uscc_attribute_configurable),
        cmocka_unit_test(refusals_invalid),
        cmocka_unit_test(refusals_crl),
        cmocka_unit_test(trust_load_errors),
        cmocka_unit_test(concurrent_verify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
