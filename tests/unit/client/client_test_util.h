/* Helpers for the client's sealed-bid unit tests (header-only; each test is one program):
 * a throwaway CA and parties, a sealed envelope with its record, temp dirs. */
#ifndef BO_CLIENT_TEST_UTIL_H
#define BO_CLIENT_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/bidstore.h"
#include "bo/cert.h"
#include "bo/clock.h"
#include "bo/pki.h"
#include "bo/seal.h"
#include "bo/sign.h"

#define CT_DAY_MS (86400000LL)
#define CT_OID "T-2026-001"
#define CT_USCC "91350100M000100Y43"

typedef struct ct_party {
    bo_key *key;
    uint8_t *der;
    size_t len;
    uint64_t serial;
} ct_party;

static inline bo_pki_ca *ct_ca(void)
{
    bo_err e = BO_E_OK;
    bo_pki_name rn = {.c = "CN", .o = "Client Test", .cn = "Client Test CA"};
    bo_time_ms now = bo_clock_now_ms();
    bo_pki_ca *ca = bo_pki_ca_root(&rn, BO_KEY_EC_P256, now - 30 * CT_DAY_MS,
                                   now + 3650 * CT_DAY_MS, &e);
    assert_non_null(ca);
    return ca;
}

/* A key and certificate; not_after_days sets the validity's end from now. */
static inline void ct_party_make(bo_pki_ca *ca, bo_keyalg alg, unsigned usage, const char *cn,
                                 int not_after_days, ct_party *p)
{
    memset(p, 0, sizeof(*p));
    bo_time_ms now = bo_clock_now_ms();
    bo_pki_leaf_opts o = {.alg = alg, .subj = {.c = "CN", .o = "测试公司", .cn = cn},
                          .uscc = CT_USCC, .usage = usage, .not_before = now - CT_DAY_MS,
                          .not_after = now + not_after_days * CT_DAY_MS};
    bo_buf kp, cp;
    bo_buf_init(&kp, 1 << 16);
    bo_buf_init(&cp, 1 << 16);
    assert_int_equal(bo_pki_issue(ca, &o, &kp, &cp, &p->serial), BO_E_OK);
    bo_err e = BO_E_OK;
    p->key = bo_key_from_mem(kp.data, kp.len, NULL, &e, NULL, 0);
    assert_non_null(p->key);
    bo_blob_list chain = {0};
    assert_int_equal(bo_pem_chain_parse(cp.data, cp.len, &chain), BO_E_OK);
    p->len = chain.list.v[0].len;
    p->der = malloc(p->len);
    memcpy(p->der, chain.list.v[0].p, p->len);
    bo_blob_list_cleanup(&chain);
    bo_buf_cleanup_wipe(&kp);
    bo_buf_cleanup(&cp);
}

static inline void ct_party_free(ct_party *p)
{
    bo_key_free(p->key);
    free(p->der);
    memset(p, 0, sizeof(*p));
}

static inline int ct_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline char *ct_tmpdir(void)
{
    char *d = strdup("/tmp/bo-client-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static inline void ct_rmtree(const char *dir)
{
    nftw(dir, ct_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void ct_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Seal `len` bytes of content to the party's certificate into path; fill the record as the
 * client would (bo_bid_record_make with the commitment from sealing). */
static inline void ct_seal(const char *dir, const char *name, const ct_party *enc,
                           bo_seal_rsa pad, size_t len, bo_bid_record *rec)
{
    char in[600], out[600];
    snprintf(in, sizeof(in), "%s/%s.plain", dir, name);
    snprintf(out, sizeof(out), "%s/%s", dir, name);
    uint8_t *plain = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        plain[i] = (uint8_t)(i * 7 + 3);
    ct_write(in, plain, len);
    free(plain);
    bo_seal_opts o;
    memset(&o, 0, sizeof(o));
    o.rsa_padding = pad;
    o.oid = CT_OID;
    o.uscc = CT_USCC;
    bo_bytes cert = {enc->der, enc->len};
    bo_seal_result res;
    memset(&res, 0, sizeof(res));
    char detail[300] = "";
    bo_err err = bo_seal_file(in, out, &o, &cert, 1, &res, detail, sizeof(detail));
    if (err)
        fail_msg("seal: %s %s", bo_err_name(err), detail);
    err = bo_bid_record_make(out, enc->der, enc->len, CT_OID, CT_USCC, res.record.commitment, rec,
                             detail, sizeof(detail));
    if (err)
        fail_msg("record: %s %s", bo_err_name(err), detail);
    assert_memory_equal(rec->seal.env_sha256, res.record.env_sha256, 32);
    assert_memory_equal(rec->seal.ri_sha256, res.record.ri_sha256, 32);
    bo_seal_result_cleanup(&res);
}

#endif
