/* bo_package: the bid package round trip (form, documents, signature), its canonical
 * manifest, and every way a package can be refused. */
#include "sealed_test_util.h"

#include "bo/hash.h"
#include "bo/package.h"

static bo_pki_ca *g_ca;
static st_party g_sign, g_other;
static char *g_dir;

static int setup(void **state)
{
    g_ca = st_ca();
    st_party_make(g_ca, BO_KEY_EC_P256, BO_PKI_SIGN, "bidder-sign", &g_sign);
    st_party_make(g_ca, BO_KEY_EC_P256, BO_PKI_SIGN, "someone-else", &g_other);
    g_dir = st_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    st_party_free(&g_sign);
    st_party_free(&g_other);
    bo_pki_ca_free(g_ca);
    tu_rmtree(g_dir);
    free(g_dir);
    return 0;
}

static const bo_package_field FORM[] = {
    {"price", "1234567.89"},
    {"duration", "365"},
    {"pm", "张三"},
    {"quality", "合格"},
};

static uint8_t g_doc2[200000];

/* A spec with two documents: one in memory, one in a file. */
static bo_package_spec spec_with(bo_package_doc *docs, const char *file)
{
    st_random(g_doc2, sizeof g_doc2, 7);
    st_spit(file, g_doc2, sizeof g_doc2);
    docs[0] = (bo_package_doc){.name = "报价单.pdf", .data = (const uint8_t *)"%PDF-1.7 price", .len = 14};
    docs[1] = (bo_package_doc){.name = "technical.bin", .path = file};
    bo_package_spec s = {.oid = "op-2026-001", .uscc = ST_USCC, .form = FORM, .n_form = 4,
                         .docs = docs, .n_docs = 2, .sign_cert_der = g_sign.der,
                         .sign_cert_len = g_sign.len};
    return s;
}

typedef struct collect {
    bo_buf doc[2];
    int ends;
} collect;

static bo_err collect_doc(void *ud, size_t i, const uint8_t *p, size_t n)
{
    collect *c = ud;
    if (n == 0) {
        c->ends++;
        return BO_E_OK;
    }
    return bo_buf_append(&c->doc[i], p, n);
}

static void round_trip(void **state)
{
    bo_package_doc docs[2];
    char *file = st_path(g_dir, "doc2.bin");
    char *pkg = st_path(g_dir, "rt.pkg");
    bo_package_spec s = spec_with(docs, file);
    char detail[256] = "";
    assert_int_equal(bo_package_write_file(&s, g_sign.key, pkg, detail, sizeof detail), BO_E_OK);
    char *partial = st_path(g_dir, "rt.pkg.partial");
    assert_true(st_exists(pkg));
    assert_false(st_exists(partial));
    free(partial);

    bo_err e = BO_E_OK;
    bo_package_reader *r = bo_package_open(pkg, &e, detail, sizeof detail);
    assert_non_null(r);
    assert_int_equal(bo_package_verify(r, g_sign.der, g_sign.len), BO_E_OK);
    assert_int_equal(bo_package_verify(r, g_other.der, g_other.len), BO_E_PACKAGE_SIGNATURE);
    assert_string_equal(bo_package_oid(r), "op-2026-001");
    assert_string_equal(bo_package_uscc(r), ST_USCC);
    uint8_t fpr[32];
    bo_cert_fpr(g_sign.der, g_sign.len, fpr);
    assert_memory_equal(bo_package_sign_fpr(r), fpr, 32);
    /* the form comes back sorted by key */
    assert_int_equal(bo_package_form_count(r), 4);
    const char *keys[] = {"duration", "pm", "price", "quality"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(bo_package_form_at(r, i)->key, keys[i]);
    assert_null(bo_package_form_at(r, 4));
    assert_string_equal(bo_package_form_get(r, "price"), "1234567.89");
    assert_string_equal(bo_package_form_get(r, "pm"), "张三");
    assert_null(bo_package_form_get(r, "deposit"));
    assert_int_equal(bo_package_doc_count(r), 2);
    const char *name;
    uint64_t size;
    const uint8_t *sha;
    assert_true(bo_package_doc_at(r, 1, &name, &size, &sha));
    assert_string_equal(name, "technical.bin");
    assert_int_equal(size, sizeof g_doc2);
    uint8_t want[32];
    bo_sha256(g_doc2, sizeof g_doc2, want);
    assert_memory_equal(sha, want, 32);
    assert_false(bo_package_doc_at(r, 2, NULL, NULL, NULL));

    collect c = {0};
    bo_buf_init(&c.doc[0], 1 << 20);
    bo_buf_init(&c.doc[1], 1 << 20);
    assert_int_equal(bo_package_read_docs(r, collect_doc, &c, detail, sizeof detail), BO_E_OK);
    assert_int_equal(c.ends, 2);
    assert_int_equal(c.doc[0].len, 14);
    assert_memory_equal(c.doc[0].data, "%PDF-1.7 price", 14);
    assert_int_equal(c.doc[1].len, sizeof g_doc2);
    assert_memory_equal(c.doc[1].data, g_doc2, sizeof g_doc2);
    /* only once */
    assert_int_equal(bo_package_read_docs(r, NULL, NULL, NULL, 0), BO_E_INVALID_ARG);
    bo_buf_cleanup(&c.doc[0]);
    bo_buf_cleanup(&c.doc[1]);

    /* The manifest signature is a plain bo_key_sign over the manifest bytes. */
    bo_bytes m = bo_package_manifest(r), sig = bo_package_signature(r);
    assert_int_equal(bo_sig_verify(g_sign.der, g_sign.len, "package", m.p, m.len, sig.p, sig.len),
                     BO_E_OK);
    /* canonical: a map of six keys, "docs" first */
    assert_int_equal(m.p[0], 0x86);
    assert_memory_equal(m.p + 1, "\xa4" "docs", 5);
    bo_package_close(r);

    /* what is emitted is exactly what bo_package_size announced (ECDSA signatures vary in
     * length, so this holds per prepared package, not across packages) */
    for (int i = 0; i < 4; i++) {
        bo_package *p = bo_package_prepare(&s, g_sign.key, &e, NULL, 0);
        assert_non_null(p);
        bo_buf out;
        bo_buf_init(&out, 1 << 20);
        assert_int_equal(bo_package_emit(p, st_buf_write, &out, NULL, 0), BO_E_OK);
        assert_int_equal(bo_package_size(p), out.len);
        bo_buf_cleanup(&out);
        bo_package_free(p);
    }
    free(file);
    free(pkg);
}

static bo_package_reader *open_mem(const uint8_t *p, size_t n, bo_mem_reader *m, bo_err *e)
{
    *m = (bo_mem_reader){p, n, 0};
    return bo_package_open_read(bo_mem_read, m, e, NULL, 0);
}

/* Every damage is refused with its code; the signature is checked separately. */
static void damaged(void **state)
{
    bo_package_doc docs[2];
    char *file = st_path(g_dir, "doc2b.bin");
    char *pkg = st_path(g_dir, "dmg.pkg");
    bo_package_spec s = spec_with(docs, file);
    assert_int_equal(bo_package_write_file(&s, g_sign.key, pkg, NULL, 0), BO_E_OK);
    size_t n;
    uint8_t *orig = st_slurp(pkg, &n);
    uint8_t *b = malloc(n + 1);
    size_t mlen = ((size_t)orig[8] << 24) | ((size_t)orig[9] << 16) | ((size_t)orig[10] << 8) |
                  orig[11];
    size_t slen = ((size_t)orig[12 + mlen] << 8) | orig[13 + mlen];
    size_t docs_at = 14 + mlen + slen;
    bo_mem_reader m;
    bo_err e = BO_E_OK;

    /* magic, version */
    memcpy(b, orig, n);
    b[0] ^= 1;
    assert_null(open_mem(b, n, &m, &e));
    assert_int_equal(e, BO_E_PACKAGE_MALFORMED);
    memcpy(b, orig, n);
    b[7] = 2;
    assert_null(open_mem(b, n, &m, &e));
    assert_int_equal(e, BO_E_PACKAGE_MALFORMED);
    /* truncated head at every length */
    for (size_t cut = 0; cut < docs_at; cut += (cut < 40 ? 1 : 97)) {
        assert_null(open_mem(orig, cut, &m, &e));
        assert_int_equal(e, BO_E_PACKAGE_MALFORMED);
    }
    /* a flipped manifest byte: malformed or a bad signature, never accepted */
    for (size_t i = 12; i < 12 + mlen; i += 7) {
        memcpy(b, orig, n);
        b[i] ^= 0x20;
        bo_package_reader *r = open_mem(b, n, &m, &e);
        if (r) {
            assert_int_equal(bo_package_verify(r, g_sign.der, g_sign.len), BO_E_PACKAGE_SIGNATURE);
            bo_package_close(r);
        } else {
            assert_int_equal(e, BO_E_PACKAGE_MALFORMED);
        }
    }
    /* a flipped signature byte */
    memcpy(b, orig, n);
    b[14 + mlen + slen / 2] ^= 1;
    bo_package_reader *r = open_mem(b, n, &m, &e);
    assert_non_null(r);
    assert_int_equal(bo_package_verify(r, g_sign.der, g_sign.len), BO_E_PACKAGE_SIGNATURE);
    bo_package_close(r);
    /* a flipped document byte: the signature holds, the digest does not */
    memcpy(b, orig, n);
    b[docs_at + 20] ^= 1;
    r = open_mem(b, n, &m, &e);
    assert_non_null(r);
    assert_int_equal(bo_package_verify(r, g_sign.der, g_sign.len), BO_E_OK);
    char detail[256] = "";
    assert_int_equal(bo_package_read_docs(r, NULL, NULL, detail, sizeof detail),
                     BO_E_PACKAGE_DIGEST);
    assert_non_null(strstr(detail, "technical.bin"));
    bo_package_close(r);
    /* short documents, and a byte too many */
    r = open_mem(orig, n - 1, &m, &e);
    assert_non_null(r);
    assert_int_equal(bo_package_read_docs(r, NULL, NULL, NULL, 0), BO_E_PACKAGE_MALFORMED);
    bo_package_close(r);
    memcpy(b, orig, n);
    b[n] = 0;
    r = open_mem(b, n + 1, &m, &e);
    assert_non_null(r);
    assert_int_equal(bo_package_read_docs(r, NULL, NULL, NULL, 0), BO_E_PACKAGE_MALFORMED);
    bo_package_close(r);
    /* the intact bytes pass */
    r = open_mem(orig, n, &m, &e);
    assert_non_null(r);
    assert_int_equal(bo_package_read_docs(r, NULL, NULL, NULL, 0), BO_E_OK);
    bo_package_close(r);
    free(b);
    free(orig);
    free(file);
    free(pkg);
}

/* A manifest that means the same but is not canonical is refused: here "oid" written as a
 * str8 instead of a fixstr (the signature is not even looked at). */
static void non_canonical(void **state)
{
    bo_package_doc docs[2];
    char *file = st_path(g_dir, "doc2c.bin");
    bo_package_spec s = spec_with(docs, file);
    s.n_docs = 1;
    bo_package *p = NULL;
    bo_err e = BO_E_OK;
    assert_non_null(p = bo_package_prepare(&s, g_sign.key, &e, NULL, 0));
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    assert_int_equal(bo_package_emit(p, st_buf_write, &out, NULL, 0), BO_E_OK);
    bo_package_free(p);
    uint8_t *key = memmem(out.data, out.len, "\xa3oid", 4);
    assert_non_null(key);
    size_t at = (size_t)(key - out.data);
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    assert_int_equal(bo_buf_append(&b, out.data, at), BO_E_OK);
    assert_int_equal(bo_buf_append(&b, "\xd9\x03oid", 5), BO_E_OK);
    assert_int_equal(bo_buf_append(&b, out.data + at + 4, out.len - at - 4), BO_E_OK);
    size_t mlen = ((size_t)b.data[8] << 24 | (size_t)b.data[9] << 16 | (size_t)b.data[10] << 8 |
                   b.data[11]) + 1;
    b.data[8] = (uint8_t)(mlen >> 24);
    b.data[9] = (uint8_t)(mlen >> 16);
    b.data[10] = (uint8_t)(mlen >> 8);
    b.data[11] = (uint8_t)mlen;
    bo_mem_reader m;
    char detail[256] = "";
    m = (bo_mem_reader){b.data, b.len, 0};
    assert_null(bo_package_open_read(bo_mem_read, &m, &e, detail, sizeof detail));
    assert_int_equal(e, BO_E_PACKAGE_MALFORMED);
    assert_non_null(strstr(detail, "manifest"));
    bo_buf_cleanup(&b);
    bo_buf_cleanup(&out);
    free(file);
}

static void bad_specs(void **state)
{
    bo_package_doc docs[2];
    char *file = st_path(g_dir, "doc2d.bin");
    bo_package_spec good = spec_with(docs, file);
    bo_err e = BO_E_OK;
    char detail[256];
    struct {
        const char *what;
        bo_package_spec s;
        const bo_key *key;
        bo_err want;
    } cases[16];
    size_t nc = 0;
    bo_package_field dup[] = {{"price", "1"}, {"price", "2"}};
    bo_package_field badkey[] = {{"Price", "1"}};
    bo_package_field badval[] = {{"price", "\xff"}};
    bo_package_doc baddoc[] = {{.name = "a/b", .data = (const uint8_t *)"x", .len = 1}};
    bo_package_doc dupdoc[] = {{.name = "a", .data = (const uint8_t *)"x", .len = 1},
                               {.name = "a", .data = (const uint8_t *)"y", .len = 1}};
    bo_package_doc missing[] = {{.name = "gone", .path = "/nonexistent/bo-seal-test"}};
    bo_package_field many[BO_PACKAGE_FORM_MAX + 1];
    char keys[BO_PACKAGE_FORM_MAX + 1][8];
    for (size_t i = 0; i <= BO_PACKAGE_FORM_MAX; i++) {
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        many[i] = (bo_package_field){keys[i], "v"};
    }
#define CASE(w, field, val, k, code)                                                               \
    do {                                                                                           \
        cases[nc].what = w;                                                                        \
        cases[nc].s = good;                                                                        \
        cases[nc].s.field = val;                                                                   \
        cases[nc].key = k;                                                                         \
        cases[nc].want = code;                                                                     \
        nc++;                                                                                      \
    } while (0)
    CASE("bad oid", oid, "has space", g_sign.key, BO_E_INVALID_ARG);
    CASE("bad uscc", uscc, "91350100M000100Y44", g_sign.key, BO_E_INVALID_ARG);
    CASE("dup key", form, dup, g_sign.key, BO_E_INVALID_ARG);
    CASE("bad key", form, badkey, g_sign.key, BO_E_INVALID_ARG);
    CASE("bad value", form, badval, g_sign.key, BO_E_INVALID_ARG);
    CASE("bad name", docs, baddoc, g_sign.key, BO_E_INVALID_ARG);
    CASE("missing file", docs, missing, g_sign.key, BO_E_IO);
    CASE("other key", oid, "op-1", g_other.key, BO_E_INVALID_ARG);
    CASE("too many fields", form, many, g_sign.key, BO_E_TOO_MANY);
    cases[3].s.n_form = 1;
    cases[4].s.n_form = 1;
    cases[2].s.n_form = 2;
    cases[5].s.n_docs = 1;
    cases[6].s.n_docs = 1;
    cases[8].s.n_form = BO_PACKAGE_FORM_MAX + 1;
    CASE("dup doc", docs, dupdoc, g_sign.key, BO_E_INVALID_ARG);
    cases[nc - 1].s.n_docs = 2;
#undef CASE
    for (size_t i = 0; i < nc; i++) {
        bo_package *p = bo_package_prepare(&cases[i].s, cases[i].key, &e, detail, sizeof detail);
        if (p || e != cases[i].want)
            fail_msg("%s: got %s, want %s", cases[i].what, bo_err_name(e),
                     bo_err_name(cases[i].want));
    }
    free(file);
}

/* A document that changes between the hashing pass and the copy is caught. */
static void changed_document(void **state)
{
    bo_package_doc docs[2];
    char *file = st_path(g_dir, "doc2e.bin");
    bo_package_spec s = spec_with(docs, file);
    bo_err e = BO_E_OK;
    bo_package *p = bo_package_prepare(&s, g_sign.key, &e, NULL, 0);
    assert_non_null(p);
    g_doc2[5] ^= 1;
    st_spit(file, g_doc2, sizeof g_doc2);
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    char detail[256] = "";
    assert_int_equal(bo_package_emit(p, st_buf_write, &out, detail, sizeof detail),
                     BO_E_PACKAGE_DIGEST);
    assert_non_null(strstr(detail, "technical.bin"));
    bo_buf_cleanup(&out);
    bo_package_free(p);
    free(file);
}

/* No documents and an empty form are fine (a form-only bid). */
static void minimal(void **state)
{
    bo_package_spec s = {.oid = "o", .uscc = ST_USCC, .sign_cert_der = g_sign.der,
                         .sign_cert_len = g_sign.len};
    bo_err e = BO_E_OK;
    bo_package *p = bo_package_prepare(&s, g_sign.key, &e, NULL, 0);
    assert_non_null(p);
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    assert_int_equal(bo_package_emit(p, st_buf_write, &out, NULL, 0), BO_E_OK);
    assert_int_equal(out.len, bo_package_size(p));
    bo_package_free(p);
    bo_mem_reader m;
    bo_package_reader *r = open_mem(out.data, out.len, &m, &e);
    assert_non_null(r);
    assert_int_equal(bo_package_verify(r, g_sign.der, g_sign.len), BO_E_OK);
    assert_int_equal(bo_package_form_count(r), 0);
    assert_int_equal(bo_package_doc_count(r), 0);
    assert_int_equal(bo_package_read_docs(r, NULL, NULL, NULL, 0), BO_E_OK);
    bo_package_close(r);
    bo_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),       cmocka_unit_test(damaged),
        cmocka_unit_test(non_canonical),    cmocka_unit_test(bad_specs),
        cmocka_unit_test(changed_document), cmocka_unit_test(minimal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
