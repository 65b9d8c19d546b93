/* bo_pki_write_demo: the throwaway PKI of the demo and the integration tests.
 * The layout is documented in crypto/README.md; keep the two in step. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bo/hash.h"
#include "bo/hex.h"
#include "bo/json_esc.h"
#include "bo/pki.h"
#include "bo/uscc.h"

#define DAY (24LL * 3600 * 1000)

typedef struct demo {
    const char *dir;
    bo_time_ms now;
    char *detail;
    size_t n;
    bo_pki_ca *a_root, *a_int, *b_root, *b_int, *gm_root, *gm_int, *staff, *rogue;
    bo_buf index;     /* bidders/index.json */
    bo_buf roster;    /* staff/roster.json */
    bo_buf blacklist; /* bidders/blacklist.json */
} demo;

static bo_err io_fail(demo *d, const char *what, const char *path)
{
    if (d->detail && d->n)
        snprintf(d->detail, d->n, "cannot %s %s: %s", what, path, strerror(errno));
    return BO_E_IO;
}

static bo_err mkdir_p(demo *d, const char *rel)
{
    char path[1024];
    int len = snprintf(path, sizeof path, "%s/%s", d->dir, rel);
    if (len < 0 || (size_t)len >= sizeof path)
        return BO_E_INVALID_ARG;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return io_fail(d, "create", path);
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return io_fail(d, "create", path);
    return BO_E_OK;
}

/* Keys are written 0600, everything else 0644. */
static bo_err put(demo *d, const char *rel, const bo_buf *b, bool secret)
{
    char path[1024];
    int len = snprintf(path, sizeof path, "%s/%s", d->dir, rel);
    if (len < 0 || (size_t)len >= sizeof path)
        return BO_E_INVALID_ARG;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, secret ? 0600 : 0644);
    if (fd < 0)
        return io_fail(d, "write", path);
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return io_fail(d, "write", path);
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        return io_fail(d, "write", path);
    return BO_E_OK;
}

static bo_err put_ca(demo *d, bo_pki_ca *ca, const char *rel_cert, const char *rel_crl)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    bo_err e = bo_pki_ca_cert_pem(ca, &b);
    if (e == BO_E_OK)
        e = put(d, rel_cert, &b, false);
    if (e == BO_E_OK && rel_crl) {
        bo_buf_reset(&b);
        e = bo_pki_crl(ca, d->now - 3600 * 1000, d->now + 30 * DAY, &b);
        if (e == BO_E_OK)
            e = put(d, rel_crl, &b, false);
    }
    bo_buf_cleanup(&b);
    return e;
}

/* Issue one leaf and write <rel>-cert.pem (chain) and <rel>-key.pem. */
static bo_err put_leaf(demo *d, bo_pki_ca *ca, const bo_pki_leaf_opts *o, const char *rel,
                       uint64_t *serial, uint8_t fpr[32], bo_buf *key_out, bo_buf *chain_out)
{
    bo_buf key, cert;
    bo_buf_init(&key, 1 << 16);
    bo_buf_init(&cert, 1 << 20);
    char path[512];
    bo_err e = bo_pki_issue(ca, o, &key, &cert, serial);
    if (e == BO_E_OK) {
        snprintf(path, sizeof path, "%s-cert.pem", rel);
        e = put(d, path, &cert, false);
    }
    if (e == BO_E_OK) {
        snprintf(path, sizeof path, "%s-key.pem", rel);
        e = put(d, path, &key, true);
    }
    if (e == BO_E_OK && fpr) {
        bo_blob_list l = {0};
        e = bo_pem_chain_parse(cert.data, cert.len, &l);
        if (e == BO_E_OK)
            bo_cert_fpr(l.list.v[0].p, l.list.v[0].len, fpr);
        bo_blob_list_cleanup(&l);
    }
    if (e == BO_E_OK && key_out)
        e = bo_buf_append(key_out, key.data, key.len);
    if (e == BO_E_OK && chain_out)
        e = bo_buf_append(chain_out, cert.data, cert.len);
    bo_buf_cleanup_wipe(&key);
    bo_buf_cleanup(&cert);
    return e;
}

/* ---- CAs ------------------------------------------------------------------------------ */

static bo_err make_cas(demo *d)
{
    bo_err e = BO_E_OK;
    bo_time_ms nb = d->now - 365 * DAY, na = d->now + 3650 * DAY;
    bo_pki_name a_root = {.c = "CN", .st = "\xe7\xa6\x8f\xe5\xbb\xba", /* 福建 */
                          .o = "Province A Certificate Authority", .cn = "CA-A Root (RSA)"};
    bo_pki_name a_int = a_root;
    a_int.cn = "CA-A Issuing CA (RSA)";
    bo_pki_name b_root = {.c = "CN", .st = "\xe5\xb9\xbf\xe4\xb8\x9c", /* 广东 */
                          .o = "Province B Certificate Authority", .cn = "CA-B Root (P-256)"};
    bo_pki_name b_int = b_root;
    b_int.cn = "CA-B Issuing CA (P-256)";
    bo_pki_name gm_root = {.c = "CN", .o = "GM Demo CA", .cn = "GM Root CA (SM2)"};
    bo_pki_name gm_int = gm_root;
    gm_int.cn = "GM Issuing CA (SM2)";
    bo_pki_name staff = {.c = "CN", .o = "bidopen demo", .cn = "bidopen Staff CA (P-256)"};
    bo_pki_name rogue = {.c = "CN", .o = "Rogue Certificate Authority", .cn = "Rogue CA"};

    if (!(d->a_root = bo_pki_ca_root(&a_root, BO_KEY_RSA, nb, na, &e)) ||
        !(d->a_int = bo_pki_ca_intermediate(d->a_root, &a_int, BO_KEY_RSA, nb, na, &e)) ||
        !(d->b_root = bo_pki_ca_root(&b_root, BO_KEY_EC_P256, nb, na, &e)) ||
        !(d->b_int = bo_pki_ca_intermediate(d->b_root, &b_int, BO_KEY_EC_P256, nb, na, &e)) ||
        !(d->gm_root = bo_pki_ca_root(&gm_root, BO_KEY_SM2, nb, na, &e)) ||
        !(d->gm_int = bo_pki_ca_intermediate(d->gm_root, &gm_int, BO_KEY_SM2, nb, na, &e)) ||
        !(d->staff = bo_pki_ca_root(&staff, BO_KEY_EC_P256, nb, na, &e)) ||
        !(d->rogue = bo_pki_ca_root(&rogue, BO_KEY_EC_P256, nb, na, &e)))
        return e;
    return BO_E_OK;
}

static bo_err write_trust(demo *d)
{
    struct {
        bo_pki_ca *ca;
        const char *name;
    } list[] = {{d->a_root, "ca-a-root"}, {d->a_int, "ca-a-int"},   {d->b_root, "ca-b-root"},
                {d->b_int, "ca-b-int"},   {d->gm_root, "gm-root"},   {d->gm_int, "gm-int"},
                {d->staff, "staff-ca"}};
    bo_err e = mkdir_p(d, "trust");
    for (size_t i = 0; e == BO_E_OK && i < sizeof list / sizeof list[0]; i++) {
        char c[64], r[64];
        snprintf(c, sizeof c, "trust/%s.pem", list[i].name);
        snprintf(r, sizeof r, "trust/%s.crl", list[i].name);
        e = put_ca(d, list[i].ca, c, r);
    }
    if (e == BO_E_OK)
        e = mkdir_p(d, "rogue");
    if (e == BO_E_OK)
        e = put_ca(d, d->rogue, "rogue/ca.pem", "rogue/ca.crl");
    return e;
}

/* ---- server and staff ---------------------------------------------------------------------- */

static bo_err write_server(demo *d)
{
    bo_err e = mkdir_p(d, "server");
    bo_pki_leaf_opts tls = {.alg = BO_KEY_EC_P256,
                            .subj = {.c = "CN", .o = "bidopen demo", .cn = "localhost"},
                            .usage = BO_PKI_TLS_SERVER,
                            .not_before = d->now - DAY,
                            .not_after = d->now + 825 * DAY};
    if (e == BO_E_OK)
        e = put_leaf(d, d->staff, &tls, "server/tls", NULL, NULL, NULL, NULL);
    bo_pki_leaf_opts sign = tls;
    sign.alg = BO_KEY_ED25519;
    sign.subj.cn = "bidopen server head signing key";
    sign.usage = BO_PKI_SIGN;
    bo_buf key;
    bo_buf_init(&key, 1 << 16);
    if (e == BO_E_OK)
        e = put_leaf(d, d->staff, &sign, "server/sign", NULL, NULL, &key, NULL);
    if (e == BO_E_OK) {
        /* the public key alone, DER SubjectPublicKeyInfo, for verifiers */
        bo_err le = BO_E_OK;
        bo_key *k = bo_key_from_mem(key.data, key.len, NULL, &le, NULL, 0);
        bo_buf spki;
        bo_buf_init(&spki, 4096);
        e = k ? bo_key_public_der(k, &spki) : le;
        if (e == BO_E_OK)
            e = put(d, "server/sign-pub.der", &spki, false);
        bo_buf_cleanup(&spki);
        bo_key_free(k);
    }
    bo_buf_cleanup_wipe(&key);
    if (e == BO_E_OK)
        e = put_ca(d, d->staff, "server/ca.pem", NULL);
    return e;
}

static bo_err write_staff(demo *d)
{
    static const struct {
        const char *file, *role, *name;
    } staff[] = {
        {"host", "host", "\xe7\x8e\x8b\xe8\x8a\xb3 (host)"},                /* 王芳 */
        {"host2", "host", "\xe6\x9d\x8e\xe5\xbc\xba (host)"},               /* 李强 */
        {"supervisor", "supervisor", "\xe8\xb5\xb5\xe6\x95\x8f (supervisor)"}, /* 赵敏 */
        {"operator", "operator", "\xe9\x99\x88\xe6\x9d\xb0 (operator)"},     /* 陈杰 */
        {"site-1", "site", "Site 1 \xe5\xbc\x80\xe6\xa0\x87\xe5\xae\xa4"},   /* 开标室 */
        {"site-2", "site", "Site 2 \xe5\xbc\x80\xe6\xa0\x87\xe5\xae\xa4"},
    };
    bo_err e = mkdir_p(d, "staff");
    if (e == BO_E_OK)
        e = bo_buf_append_str(&d->roster, "[\n");
    for (size_t i = 0; e == BO_E_OK && i < sizeof staff / sizeof staff[0]; i++) {
        bo_pki_leaf_opts o = {.alg = BO_KEY_EC_P256,
                              .subj = {.c = "CN", .o = "bidopen demo", .ou = staff[i].role,
                                       .cn = staff[i].name},
                              .usage = BO_PKI_SIGN | BO_PKI_TLS_CLIENT,
                              .not_before = d->now - 30 * DAY,
                              .not_after = d->now + 365 * DAY};
        char rel[64], hex[65];
        uint8_t fpr[32];
        snprintf(rel, sizeof rel, "staff/%s", staff[i].file);
        e = put_leaf(d, d->staff, &o, rel, NULL, fpr, NULL, NULL);
        if (e == BO_E_OK)
            e = bo_buf_appendf(&d->roster, "  {\"role\":\"%s\",\"file\":\"%s\",\"name\":",
                               staff[i].role, staff[i].file);
        if (e == BO_E_OK)
            e = bo_json_esc_append(&d->roster, staff[i].name);
        if (e == BO_E_OK)
            e = bo_buf_appendf(&d->roster, ",\"fpr\":\"%s\"}%s\n", bo_hex_encode(fpr, 32, hex),
                               i + 1 < sizeof staff / sizeof staff[0] ? "," : "");
    }
    if (e == BO_E_OK)
        e = bo_buf_append_str(&d->roster, "]\n");
    if (e == BO_E_OK)
        e = put(d, "staff/roster.json", &d->roster, false);
    return e;
}

/* ---- bidders ------------------------------------------------------------------------------ */

typedef enum kind {
    K_OK,
    K_EXPIRED,
    K_NOT_YET_VALID,
    K_REVOKED,
    K_ROGUE,
    K_BAD_USCC,
    K_WRONG_KU,
    K_USCC_MISMATCH,
    K_BLACKLISTED,
    K_RENEWED,
} kind;

typedef struct bidder {
    const char *name;     /* directory under bidders/ */
    const char *org;      /* subject O (UTF-8) */
    const char *person;   /* subject CN */
    const char *region;   /* 6-digit region code of the USCC */
    kind k;
    bo_keyalg sign_alg, enc_alg;
    int sign_ca, enc_ca; /* index into the CA table of write_bidders */
    bool p12;
} bidder;

enum { CA_A, CA_B, CA_GM, CA_ROGUE };

static const bidder BIDDERS[] = {
    /* 福州华建工程有限公司 */
    {"b1-rsa", "\xe7\xa6\x8f\xe5\xb7\x9e\xe5\x8d\x8e\xe5\xbb\xba\xe5\xb7\xa5\xe7\xa8\x8b\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe6\x9e\x97\xe5\xbb\xba\xe5\x9b\xbd", "350100", K_OK, BO_KEY_RSA, BO_KEY_RSA, CA_A, CA_A, true},
    /* 厦门海丰建设集团有限公司 */
    {"b2-p256", "\xe5\x8e\xa6\xe9\x97\xa8\xe6\xb5\xb7\xe4\xb8\xb0\xe5\xbb\xba\xe8\xae\xbe\xe9\x9b\x86\xe5\x9b\xa2\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe9\xbb\x84\xe6\xb5\xb7", "350200", K_OK, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_B, CA_B, false},
    /* 北京国密信息技术有限公司 */
    {"b3-sm2", "\xe5\x8c\x97\xe4\xba\xac\xe5\x9b\xbd\xe5\xaf\x86\xe4\xbf\xa1\xe6\x81\xaf\xe6\x8a\x80\xe6\x9c\xaf\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe5\xbc\xa0\xe4\xbc\x9f", "110000", K_OK, BO_KEY_SM2, BO_KEY_SM2, CA_GM, CA_GM, false},
    /* 上海申城路桥有限公司: P-256 signing (CA-B), SM2 encryption (GM) */
    {"b4-mixed", "\xe4\xb8\x8a\xe6\xb5\xb7\xe7\x94\xb3\xe5\x9f\x8e\xe8\xb7\xaf\xe6\xa1\xa5\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe5\x91\xa8\xe6\x98\x8e", "310000", K_OK, BO_KEY_EC_P256, BO_KEY_SM2, CA_B, CA_GM, false},
    /* 广州南方水利工程有限公司: P-256 leaves under the RSA CA-A */
    {"b5-mixed", "\xe5\xb9\xbf\xe5\xb7\x9e\xe5\x8d\x97\xe6\x96\xb9\xe6\xb0\xb4\xe5\x88\xa9\xe5\xb7\xa5\xe7\xa8\x8b\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe5\x90\xb4\xe7\xa3\x8a", "440100", K_OK, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_A, CA_A, false},
    /* 泉州过期建材有限公司 */
    {"expired", "\xe6\xb3\x89\xe5\xb7\x9e\xe8\xbf\x87\xe6\x9c\x9f\xe5\xbb\xba\xe6\x9d\x90\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe9\x83\x91\xe4\xb8\x80", "350500", K_EXPIRED, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_B, CA_B, false},
    /* 漳州未来工程有限公司 */
    {"not-yet-valid", "\xe6\xbc\xb3\xe5\xb7\x9e\xe6\x9c\xaa\xe6\x9d\xa5\xe5\xb7\xa5\xe7\xa8\x8b\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe5\x86\xaf\xe4\xba\x8c", "350600", K_NOT_YET_VALID, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_A, CA_A, false},
    /* 莆田吊销建设有限公司 */
    {"revoked", "\xe8\x8e\x86\xe7\x94\xb0\xe5\x90\x8a\xe9\x94\x80\xe5\xbb\xba\xe8\xae\xbe\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe9\x99\x88\xe4\xb8\x89", "350300", K_REVOKED, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_B, CA_B, false},
    /* 冒名顶替有限公司 */
    {"rogue", "\xe5\x86\x92\xe5\x90\x8d\xe9\xa1\xb6\xe6\x9b\xbf\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe8\xa4\x9a\xe5\x9b\x9b", "350400", K_ROGUE, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_ROGUE, CA_ROGUE, false},
    /* 三明错码贸易有限公司 */
    {"bad-uscc", "\xe4\xb8\x89\xe6\x98\x8e\xe9\x94\x99\xe7\xa0\x81\xe8\xb4\xb8\xe6\x98\x93\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe5\x8d\xab\xe4\xba\x94", "350400", K_BAD_USCC, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_B, CA_B, false},
    /* 南平用错证书有限公司: SM2 "signing" certificate with keyEncipherment only */
    {"wrong-key-usage", "\xe5\x8d\x97\xe5\xb9\xb3\xe7\x94\xa8\xe9\x94\x99\xe8\xaf\x81\xe4\xb9\xa6\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe8\x92\x8b\xe5\x85\xad", "350700", K_WRONG_KU, BO_KEY_SM2, BO_KEY_SM2, CA_GM, CA_GM, false},
    /* 龙岩双证不符有限公司 */
    {"uscc-mismatch", "\xe9\xbe\x99\xe5\xb2\xa9\xe5\x8f\x8c\xe8\xaf\x81\xe4\xb8\x8d\xe7\xac\xa6\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe6\xb2\x88\xe4\xb8\x83", "350800", K_USCC_MISMATCH, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_B, CA_B, false},
    /* 宁德失信工程有限公司 */
    {"blacklisted", "\xe5\xae\x81\xe5\xbe\xb7\xe5\xa4\xb1\xe4\xbf\xa1\xe5\xb7\xa5\xe7\xa8\x8b\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe9\x9f\xa9\xe5\x85\xab", "350900", K_BLACKLISTED, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_B, CA_B, false},
    /* 平潭换证科技有限公司: a second, newer encryption certificate */
    {"renewed", "\xe5\xb9\xb3\xe6\xbd\xad\xe6\x8d\xa2\xe8\xaf\x81\xe7\xa7\x91\xe6\x8a\x80\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8",
     "\xe6\x9d\xa8\xe4\xb9\x9d", "350128", K_RENEWED, BO_KEY_EC_P256, BO_KEY_EC_P256, CA_A, CA_A, false},
};

static const char *expect_code(kind k)
{
    switch (k) {
    case K_EXPIRED:
        return "E_CERT_EXPIRED";
    case K_NOT_YET_VALID:
        return "E_CERT_NOT_YET_VALID";
    case K_REVOKED:
        return "E_CERT_REVOKED";
    case K_ROGUE:
        return "E_CERT_UNKNOWN_ISSUER";
    case K_BAD_USCC:
        return "E_CERT_BAD_USCC";
    case K_WRONG_KU:
        return "E_CERT_KEY_USAGE";
    case K_USCC_MISMATCH:
        return "E_CERT_USCC_MISMATCH";
    case K_BLACKLISTED:
        return "E_BLACKLISTED";
    default:
        return "ok";
    }
}

static bo_err json_kv(bo_buf *b, const char *key, const char *val, bool comma)
{
    bo_err e = bo_buf_appendf(b, "\"%s\":", key);
    if (e == BO_E_OK)
        e = bo_json_esc_append(b, val);
    if (e == BO_E_OK && comma)
        e = bo_buf_append_str(b, ",");
    return e;
}

static bo_err write_bidder(demo *d, const bidder *bd, int idx, bool last)
{
    bo_pki_ca *cas[] = {d->a_int, d->b_int, d->gm_int, d->rogue};
    /* 91 (enterprise) + region + "MA" + 7 digits, then the GB 32100 check character */
    char first17[40], uscc[BO_USCC_LEN + 1], other[BO_USCC_LEN + 1], rel[128];
    snprintf(first17, sizeof first17, "91%.6sMA%07d", bd->region, 4200 + idx);
    bo_err e = bo_uscc_complete(first17, uscc);
    snprintf(first17, sizeof first17, "91%.6sMA%07d", bd->region, 9900 + idx);
    if (e == BO_E_OK)
        e = bo_uscc_complete(first17, other);
    if (e != BO_E_OK)
        return BO_E_INTERNAL;
    char cert_uscc[BO_USCC_LEN + 1];
    memcpy(cert_uscc, uscc, sizeof uscc);
    if (bd->k == K_BAD_USCC) {
        static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        cert_uscc[17] = cs[(strchr(cs, uscc[17]) - cs + 1) % 31];
    }
    snprintf(rel, sizeof rel, "bidders/%s", bd->name);
    e = mkdir_p(d, rel);

    bo_time_ms nb = d->now - 30 * DAY, na = d->now + 365 * DAY;
    if (bd->k == K_EXPIRED) {
        nb = d->now - 400 * DAY;
        na = d->now - DAY;
    } else if (bd->k == K_NOT_YET_VALID) {
        nb = d->now + 30 * DAY;
        na = d->now + 400 * DAY;
    }
    bo_pki_leaf_opts so = {.alg = bd->sign_alg,
                           .subj = {.c = "CN", .o = bd->org, .cn = bd->person},
                           .uscc = cert_uscc,
                           .usage = bd->k == K_WRONG_KU ? BO_PKI_ENC : BO_PKI_SIGN,
                           .not_before = nb,
                           .not_after = na};
    bo_pki_leaf_opts eo = so;
    eo.alg = bd->enc_alg;
    eo.usage = BO_PKI_ENC;
    if (bd->k == K_USCC_MISMATCH)
        eo.uscc = other;
    if (bd->k == K_RENEWED) {
        eo.not_before = d->now - 300 * DAY;
        eo.not_after = d->now + 65 * DAY;
    }
    uint64_t serial = 0;
    bo_buf skey, schain, ekey, echain;
    bo_buf_init(&skey, 1 << 16);
    bo_buf_init(&schain, 1 << 20);
    bo_buf_init(&ekey, 1 << 16);
    bo_buf_init(&echain, 1 << 20);
    char srel[160], erel[160];
    snprintf(srel, sizeof srel, "%s/sign", rel);
    snprintf(erel, sizeof erel, "%s/enc", rel);
    if (e == BO_E_OK)
        e = put_leaf(d, cas[bd->sign_ca], &so, srel, &serial, NULL, &skey, &schain);
    if (e == BO_E_OK && bd->k == K_REVOKED)
        e = bo_pki_revoke(cas[bd->sign_ca], serial, d->now - 5 * DAY);
    if (e == BO_E_OK)
        e = put_leaf(d, cas[bd->enc_ca], &eo, erel, NULL, NULL, &ekey, &echain);
    if (e == BO_E_OK && bd->k == K_RENEWED) {
        bo_pki_leaf_opts e2 = eo;
        e2.not_before = d->now - DAY;
        e2.not_after = d->now + 730 * DAY;
        snprintf(erel, sizeof erel, "%s/enc2", rel);
        e = put_leaf(d, cas[bd->enc_ca], &e2, erel, NULL, NULL, NULL, NULL);
    }
    if (e == BO_E_OK && bd->p12) {
        bo_buf p12;
        bo_buf_init(&p12, 1 << 20);
        char prel[160];
        e = bo_pki_pkcs12(&skey, &schain, "bidopen", bd->name, &p12);
        snprintf(prel, sizeof prel, "%s/sign.p12", rel);
        if (e == BO_E_OK)
            e = put(d, prel, &p12, true);
        bo_buf_reset(&p12);
        if (e == BO_E_OK)
            e = bo_pki_pkcs12(&ekey, &echain, "bidopen", bd->name, &p12);
        snprintf(prel, sizeof prel, "%s/enc.p12", rel);
        if (e == BO_E_OK)
            e = put(d, prel, &p12, true);
        bo_buf_cleanup(&p12);
    }
    bo_buf_cleanup_wipe(&skey);
    bo_buf_cleanup(&schain);
    bo_buf_cleanup_wipe(&ekey);
    bo_buf_cleanup(&echain);

    /* index.json entry */
    static const char *ca_names[] = {"CA-A", "CA-B", "GM", "rogue"};
    bo_buf *ix = &d->index;
    const char *expect = expect_code(bd->k);
    const char *identity = bd->k == K_BLACKLISTED ? "ok" : expect;
    if (e == BO_E_OK)
        e = bo_buf_append_str(ix, "  {");
    if (e == BO_E_OK)
        e = json_kv(ix, "name", bd->name, true);
    if (e == BO_E_OK)
        e = json_kv(ix, "org", bd->org, true);
    if (e == BO_E_OK)
        e = json_kv(ix, "person", bd->person, true);
    if (e == BO_E_OK)
        e = json_kv(ix, "uscc", uscc, true);
    if (e == BO_E_OK)
        e = json_kv(ix, "cert_uscc", cert_uscc, true);
    if (e == BO_E_OK)
        e = bo_buf_appendf(ix, "\"alg\":\"%s\",\"enc_alg\":\"%s\",\"ca\":\"%s\",\"enc_ca\":\"%s\",",
                           bo_keyalg_name(bd->sign_alg), bo_keyalg_name(bd->enc_alg),
                           ca_names[bd->sign_ca], ca_names[bd->enc_ca]);
    if (e == BO_E_OK)
        e = bo_buf_appendf(ix,
                           "\"files\":{\"sign_cert\":\"%s/sign-cert.pem\",\"sign_key\":\"%s/"
                           "sign-key.pem\",\"enc_cert\":\"%s/enc-cert.pem\",\"enc_key\":\"%s/"
                           "enc-key.pem\"",
                           rel, rel, rel, rel);
    if (e == BO_E_OK && bd->k == K_RENEWED)
        e = bo_buf_appendf(ix, ",\"enc2_cert\":\"%s/enc2-cert.pem\",\"enc2_key\":\"%s/enc2-key.pem\"",
                           rel, rel);
    if (e == BO_E_OK && bd->p12)
        e = bo_buf_appendf(ix, ",\"sign_p12\":\"%s/sign.p12\",\"enc_p12\":\"%s/enc.p12\","
                               "\"p12_password\":\"bidopen\"",
                           rel, rel);
    if (e == BO_E_OK)
        e = bo_buf_appendf(ix, "},\"expect\":\"%s\",\"identity\":\"%s\"}%s\n", expect, identity,
                           last ? "" : ",");

    if (e == BO_E_OK && bd->k == K_BLACKLISTED) {
        bo_buf *bl = &d->blacklist;
        e = bo_buf_append_str(bl, "  {");
        if (e == BO_E_OK)
            e = json_kv(bl, "uscc", uscc, true);
        if (e == BO_E_OK)
            e = json_kv(bl, "name", bd->org, true);
        /* 失信被执行人 (demo) */
        if (e == BO_E_OK)
            e = json_kv(bl, "reason",
                        "\xe5\xa4\xb1\xe4\xbf\xa1\xe8\xa2\xab\xe6\x89\xa7\xe8\xa1\x8c\xe4\xba\xba "
                        "(demo)",
                        true);
        if (e == BO_E_OK)
            e = json_kv(bl, "source", "demo", false);
        if (e == BO_E_OK)
            e = bo_buf_append_str(bl, "}\n");
    }
    return e;
}

static bo_err write_bidders(demo *d)
{
    bo_err e = mkdir_p(d, "bidders");
    size_t nb = sizeof BIDDERS / sizeof BIDDERS[0];
    if (e == BO_E_OK)
        e = bo_buf_append_str(&d->index, "[\n");
    if (e == BO_E_OK)
        e = bo_buf_append_str(&d->blacklist, "[\n");
    for (size_t i = 0; e == BO_E_OK && i < nb; i++)
        e = write_bidder(d, &BIDDERS[i], (int)i, i + 1 == nb);
    if (e == BO_E_OK)
        e = bo_buf_append_str(&d->index, "]\n");
    if (e == BO_E_OK)
        e = bo_buf_append_str(&d->blacklist, "]\n");
    if (e == BO_E_OK)
        e = put(d, "bidders/index.json", &d->index, false);
    if (e == BO_E_OK)
        e = put(d, "bidders/blacklist.json", &d->blacklist, false);
    return e;
}

bo_err bo_pki_write_demo(const char *dir, bo_time_ms now, char *detail, size_t n)
{
    demo d = {.dir = dir, .now = now, .detail = detail, .n = n};
    if (detail && n)
        detail[0] = '\0';
    bo_buf_init(&d.index, 1 << 20);
    bo_buf_init(&d.roster, 1 << 20);
    bo_buf_init(&d.blacklist, 1 << 20);
    bo_err e = dir && *dir ? BO_E_OK : BO_E_INVALID_ARG;
    if (e == BO_E_OK && mkdir(dir, 0755) != 0 && errno != EEXIST)
        e = io_fail(&d, "create", dir);
    if (e == BO_E_OK)
        e = make_cas(&d);
    /* bidders first: the revoked one must be on its CA's CRL when trust/ is written */
    if (e == BO_E_OK)
        e = write_bidders(&d);
    if (e == BO_E_OK)
        e = write_staff(&d);
    if (e == BO_E_OK)
        e = write_server(&d);
    if (e == BO_E_OK)
        e = write_trust(&d);
    if (e != BO_E_OK && e != BO_E_IO && detail && n && !detail[0])
        snprintf(detail, n, "generating the demo PKI failed: %s", bo_strerror(e));
    bo_pki_ca *cas[] = {d.a_root, d.a_int, d.b_root, d.b_int, d.gm_root, d.gm_int, d.staff, d.rogue};
    for (size_t i = 0; i < sizeof cas / sizeof cas[0]; i++)
        bo_pki_ca_free(cas[i]);
    bo_buf_cleanup(&d.index);
    bo_buf_cleanup(&d.roster);
    bo_buf_cleanup(&d.blacklist);
    return e;
}
