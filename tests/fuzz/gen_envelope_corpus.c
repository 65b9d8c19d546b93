/* Writes the seed corpora of fuzz_envelope into <root>/envelope and of fuzz_package into
 * <root>/package. Envelopes: of each kind sealed
 * with the fixture's CEK (envelope_fixture.h) around a small bid package signed by the
 * fixture's key (GCM and CBC, BER and DER, KARI alone and with an RSA KTRI in OAEP or PKCS#1
 * v1.5 or an SM2 KTRI, an SM2 KTRI alone, empty content, nested content segments, a non-package plaintext), and broken ones
 * (truncated, tag / ciphertext / header flipped, trailing byte). Packages: the same package,
 * a form-only one, and broken ones (truncated, bad magic, a non-canonical manifest, a flipped
 * document byte, a trailing byte). Run it when a format
 * changes and commit the result:
 *   cmake --build <dir> --target gen_envelope_corpus &&
 *   <dir>/tests/fuzz/gen_envelope_corpus tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/package.h"
#include "bo/pki.h"
#include "bo/seal.h"
#include "envelope_fixture.h"

static const char *root;

static const char *sub = "envelope";

static void put(const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s", root, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static bo_err to_buf(void *ud, const uint8_t *p, size_t n)
{
    return bo_buf_append(ud, p, n);
}

static void check(bo_err e, const char *what)
{
    if (e != BO_E_OK) {
        fprintf(stderr, "%s: %s\n", what, bo_err_name(e));
        exit(1);
    }
}

/* Seal pt to the certificates with the fixture's CEK. */
static void seal(const fx *f, bo_seal_cipher c, int der, bo_seal_rsa pad, const bo_bytes *certs,
                 size_t n, const bo_buf *pt, bo_buf *out)
{
    bo_seal_opts o = {.cipher = c, .der = der, .content_len = pt->len, .rsa_padding = pad,
                      .oid = FX_OID, .uscc = FX_USCC, .cek = f->cek};
    bo_err e = BO_E_OK;
    bo_seal *s = bo_seal_new(&o, certs, n, to_buf, out, &e, NULL, 0);
    check(s ? BO_E_OK : e, "seal");
    if (pt->len)
        check(bo_seal_update(s, pt->data, pt->len), "update");
    bo_seal_result res = {0};
    check(bo_seal_finish(s, &res), "finish");
    bo_seal_result_cleanup(&res);
    bo_seal_free(s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus root>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    fx f;
    check(fx_init(&f) == 0 ? BO_E_OK : BO_E_INTERNAL, "fixture");
    bo_err e = BO_E_OK;
    bo_pki_name rn = {.cn = "corpus CA"};
    bo_pki_ca *ca = bo_pki_ca_root(&rn, BO_KEY_EC_P256, 1700000000000LL, 2000000000000LL, &e);
    bo_pki_leaf_opts lo = {.alg = BO_KEY_RSA, .subj = {.cn = "rsa"}, .usage = BO_PKI_ENC,
                           .not_before = 1700000000000LL, .not_after = 2000000000000LL};
    bo_buf kp, cp;
    bo_buf_init(&kp, 1 << 16);
    bo_buf_init(&cp, 1 << 16);
    check(ca ? bo_pki_issue(ca, &lo, &kp, &cp, NULL) : e, "rsa leaf");
    bo_blob_list rsa = {0};
    check(bo_pem_chain_parse(cp.data, cp.len, &rsa), "rsa cert");
    lo.alg = BO_KEY_SM2;
    lo.subj.cn = "sm2";
    bo_buf_cleanup_wipe(&kp);
    bo_buf_cleanup(&cp);
    bo_buf_init(&kp, 1 << 16);
    bo_buf_init(&cp, 1 << 16);
    check(bo_pki_issue(ca, &lo, &kp, &cp, NULL), "sm2 leaf");
    bo_blob_list sm2 = {0};
    check(bo_pem_chain_parse(cp.data, cp.len, &sm2), "sm2 cert");

    /* the plaintext: a small package signed by the fixture's key */
    bo_package_field form[] = {{"price", "1234567.89"}, {"duration", "365"}, {"pm", "张三"}};
    bo_package_doc docs[] = {{.name = "bid.txt", .data = (const uint8_t *)"the bid", .len = 7}};
    bo_package_spec spec = {.oid = FX_OID, .uscc = FX_USCC, .form = form, .n_form = 3,
                            .docs = docs, .n_docs = 1, .sign_cert_der = f.cert,
                            .sign_cert_len = f.cert_len};
    bo_package *p = bo_package_prepare(&spec, f.key, &e, NULL, 0);
    check(p ? BO_E_OK : e, "package");
    bo_buf pkg;
    bo_buf_init(&pkg, 1 << 20);
    check(bo_package_emit(p, to_buf, &pkg, NULL, 0), "emit");
    bo_package_free(p);

    bo_bytes fxc = {f.cert, f.cert_len};
    bo_bytes two[2] = {fxc, rsa.list.v[0]};
    struct {
        const char *name;
        bo_seal_cipher c;
        int der;
        bo_seal_rsa pad;
        size_t n;
    } kinds[] = {
        {"gcm-ber-kari", BO_SEAL_AES256_GCM, 0, 0, 1},
        {"gcm-der-kari", BO_SEAL_AES256_GCM, 1, 0, 1},
        {"cbc-ber-kari", BO_SEAL_AES256_CBC, 0, 0, 1},
        {"cbc-der-kari", BO_SEAL_AES256_CBC, 1, 0, 1},
        {"gcm-ber-kari-ktri-oaep", BO_SEAL_AES256_GCM, 0, BO_SEAL_RSA_OAEP_SHA256, 2},
        {"gcm-der-kari-ktri-pkcs1", BO_SEAL_AES256_GCM, 1, BO_SEAL_RSA_PKCS1, 2},
        {"cbc-der-kari-ktri-oaep", BO_SEAL_AES256_CBC, 1, BO_SEAL_RSA_OAEP_SHA256, 2},
    };
    bo_buf out;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        bo_buf_init(&out, 1 << 20);
        seal(&f, kinds[i].c, kinds[i].der, kinds[i].pad, two, kinds[i].n, &pkg, &out);
        put(kinds[i].name, out.data, out.len);
        bo_buf_cleanup(&out);
    }
    /* SM2 key transport (GM/T 0009 ciphertext): next to the fixture's KARI, and alone */
    bo_bytes with_sm2[2] = {fxc, sm2.list.v[0]};
    bo_buf_init(&out, 1 << 20);
    seal(&f, BO_SEAL_AES256_GCM, 0, 0, with_sm2, 2, &pkg, &out);
    put("gcm-ber-kari-ktri-sm2", out.data, out.len);
    bo_buf_cleanup(&out);
    bo_buf_init(&out, 1 << 20);
    seal(&f, BO_SEAL_AES256_CBC, 1, 0, &sm2.list.v[0], 1, &pkg, &out);
    put("cbc-der-ktri-sm2", out.data, out.len);
    bo_buf_cleanup(&out);
    /* empty content; a plaintext that is not a package */
    bo_buf empty, junk;
    bo_buf_init(&empty, 16);
    bo_buf_init(&junk, 1024);
    check(bo_buf_append(&junk, "BOPKG\0\0\1\0\0\0\3abc", 15), "junk");
    bo_buf_init(&out, 1 << 20);
    seal(&f, BO_SEAL_AES256_GCM, 0, 0, &fxc, 1, &empty, &out);
    put("gcm-ber-empty", out.data, out.len);
    bo_buf_cleanup(&out);
    bo_buf_init(&out, 1 << 20);
    seal(&f, BO_SEAL_AES256_GCM, 1, 0, &fxc, 1, &junk, &out);
    put("gcm-der-not-a-package", out.data, out.len);
    bo_buf_cleanup(&out);

    /* broken variants of one BER and one DER envelope */
    for (int der = 0; der < 2; der++) {
        bo_buf_init(&out, 1 << 20);
        seal(&f, BO_SEAL_AES256_GCM, der, 0, &fxc, 1, &pkg, &out);
        uint8_t *b = malloc(out.len + 1);
        char name[64];
        const char *kind = der ? "der" : "ber";
        snprintf(name, sizeof name, "bad-%s-truncated", kind);
        put(name, out.data, out.len / 2);
        size_t tag_at = der ? out.len - 5 : out.len - 6 - 5;
        memcpy(b, out.data, out.len);
        b[tag_at] ^= 1;
        snprintf(name, sizeof name, "bad-%s-tag", kind);
        put(name, b, out.len);
        memcpy(b, out.data, out.len);
        b[out.len - 60] ^= 1;
        snprintf(name, sizeof name, "bad-%s-ciphertext", kind);
        put(name, b, out.len);
        memcpy(b, out.data, out.len);
        b[0] ^= 1;
        snprintf(name, sizeof name, "bad-%s-header", kind);
        put(name, b, out.len);
        memcpy(b, out.data, out.len);
        b[out.len] = 0;
        snprintf(name, sizeof name, "bad-%s-trailing", kind);
        put(name, b, out.len + 1);
        if (!der) {
            /* nested segments: [0] { 04 L ct } -> [0] { 24 80 { 04 l1 ct1 04 l2 ct2 } 00 00 } */
            const uint8_t *seg = memmem(out.data, out.len, "\xa0\x80\x04", 3);
            if (!seg)
                check(BO_E_INTERNAL, "segment");
            size_t at = (size_t)(seg - out.data) + 2;
            size_t hl = out.data[at + 1] < 0x80 ? 2 : 2 + (out.data[at + 1] & 0x7f);
            size_t len = 0;
            for (size_t k = 2; k < hl; k++)
                len = (len << 8) | out.data[at + k];
            if (hl == 2)
                len = out.data[at + 1];
            const uint8_t *ct = out.data + at + hl;
            bo_buf nest;
            bo_buf_init(&nest, 1 << 20);
            check(bo_buf_append(&nest, out.data, at), "nest");
            check(bo_buf_append(&nest, "\x24\x80", 2), "nest");
            size_t l1 = len / 3, l2 = len - l1;
            uint8_t h[4] = {0x04, 0x82, (uint8_t)(l1 >> 8), (uint8_t)l1};
            check(bo_buf_append(&nest, h, 4), "nest");
            check(bo_buf_append(&nest, ct, l1), "nest");
            uint8_t h2[4] = {0x04, 0x82, (uint8_t)(l2 >> 8), (uint8_t)l2};
            check(bo_buf_append(&nest, h2, 4), "nest");
            check(bo_buf_append(&nest, ct + l1, l2), "nest");
            check(bo_buf_append(&nest, "\x00\x00", 2), "nest");
            check(bo_buf_append(&nest, ct + len, out.len - (size_t)(ct + len - out.data)), "nest");
            put("gcm-ber-nested-segments", nest.data, nest.len);
            bo_buf_cleanup(&nest);
        }
        free(b);
        bo_buf_cleanup(&out);
    }

    /* packages */
    sub = "package";
    put("package", pkg.data, pkg.len);
    put("bad-truncated-head", pkg.data, 40);
    put("bad-truncated-doc", pkg.data, pkg.len - 3);
    uint8_t *b = malloc(pkg.len + 1);
    memcpy(b, pkg.data, pkg.len);
    b[0] = 'X';
    put("bad-magic", b, pkg.len);
    memcpy(b, pkg.data, pkg.len);
    b[pkg.len - 1] ^= 1;
    put("bad-doc-digest", b, pkg.len);
    memcpy(b, pkg.data, pkg.len);
    b[pkg.len] = 0;
    put("bad-trailing", b, pkg.len + 1);
    /* "oid" as str8 instead of fixstr: same meaning, not canonical */
    uint8_t *k = memmem(pkg.data, pkg.len, "\xa3oid", 4);
    if (k) {
        bo_buf nc;
        bo_buf_init(&nc, 1 << 20);
        size_t at = (size_t)(k - pkg.data);
        check(bo_buf_append(&nc, pkg.data, at), "nc");
        check(bo_buf_append(&nc, "\xd9\x03oid", 5), "nc");
        check(bo_buf_append(&nc, pkg.data + at + 4, pkg.len - at - 4), "nc");
        nc.data[11]++; /* manifest length + 1 (it is < 256 here) */
        put("bad-non-canonical", nc.data, nc.len);
        bo_buf_cleanup(&nc);
    }
    free(b);
    spec.n_docs = 0;
    spec.n_form = 1;
    p = bo_package_prepare(&spec, f.key, &e, NULL, 0);
    check(p ? BO_E_OK : e, "package");
    bo_buf form_only;
    bo_buf_init(&form_only, 1 << 20);
    check(bo_package_emit(p, to_buf, &form_only, NULL, 0), "emit");
    bo_package_free(p);
    put("form-only", form_only.data, form_only.len);
    bo_buf_cleanup(&form_only);

    bo_buf_cleanup(&pkg);
    bo_buf_cleanup(&empty);
    bo_buf_cleanup(&junk);
    bo_blob_list_cleanup(&rsa);
    bo_blob_list_cleanup(&sm2);
    bo_buf_cleanup_wipe(&kp);
    bo_buf_cleanup(&cp);
    bo_pki_ca_free(ca);
    fx_cleanup(&f);
    printf("wrote %s/envelope and %s/package\n", root, root);
    return 0;
}
