/* Fuzz target for the bid package reader (what the server reads from a decrypted bid): the
 * head (magic, caps, canonical manifest), the signature check against the fixture's
 * certificate (the seed corpus is signed with its key), the form accessors and the streamed
 * documents with their digests. Invariants: every accessor agrees with the counts, and a
 * package that opens has a manifest of at most BO_PACKAGE_MANIFEST_MAX bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/package.h"
#include "envelope_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bo_err doc(void *ud, size_t i, const uint8_t *p, size_t n)
{
    size_t *count = ud;
    if (i >= *count)
        abort();
    (void)p;
    (void)n;
    return BO_E_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fx f;
    static int ready;
    if (!ready) {
        if (fx_init(&f) != 0)
            abort();
        ready = 1;
    }
    bo_mem_reader m = {data, size, 0};
    bo_err e = BO_E_OK;
    bo_package_reader *r = bo_package_open_read(bo_mem_read, &m, &e, NULL, 0);
    if (!r) {
        if (e == BO_E_OK)
            abort();
        return 0;
    }
    bo_bytes man = bo_package_manifest(r);
    if (man.len == 0 || man.len > BO_PACKAGE_MANIFEST_MAX)
        abort();
    (void)bo_package_verify(r, f.cert, f.cert_len);
    size_t nf = bo_package_form_count(r);
    for (size_t i = 0; i < nf; i++) {
        const bo_package_field *fl = bo_package_form_at(r, i);
        if (!fl || bo_package_form_get(r, fl->key) != fl->value)
            abort();
    }
    if (bo_package_form_at(r, nf))
        abort();
    size_t nd = bo_package_doc_count(r);
    for (size_t i = 0; i < nd; i++) {
        const char *name;
        uint64_t sz;
        const uint8_t *h;
        if (!bo_package_doc_at(r, i, &name, &sz, &h) || !name || !h)
            abort();
    }
    if (bo_package_doc_at(r, nd, NULL, NULL, NULL) || strlen(bo_package_uscc(r)) != 18)
        abort();
    (void)bo_package_read_docs(r, doc, &nd, NULL, 0);
    bo_package_close(r);
    return 0;
}
