/* Fuzz target for the streaming envelope reader and what hangs off it: inspection
 * (bo_envelope_info_read), recipient matching and the client unwrap of every RecipientInfo
 * found (with the fixture's key, which the seed corpus is sealed to), streaming decryption
 * with the fixture's CEK, and, when the tag verifies, the bid package reader on the plaintext.
 * Invariants: inspection and decryption agree on the structure; a decryption that succeeds
 * produced exactly the plaintext length the content implies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/buf.h"
#include "bo/cek.h"
#include "bo/envelope.h"
#include "bo/package.h"
#include "envelope_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bo_err to_buf(void *ud, const uint8_t *p, size_t n)
{
    return bo_buf_append(ud, p, n);
}

static bo_err package_doc(void *ud, size_t i, const uint8_t *p, size_t n)
{
    (void)ud;
    (void)i;
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
    bo_envelope_info info;
    bo_err ie = bo_envelope_info_read(bo_mem_read, &m, size, &info, NULL, 0);
    if (ie == BO_E_OK) {
        if (info.n_ri == 0 || info.n_ri > BO_ENVELOPE_MAX_RI || info.size != size)
            abort();
        for (size_t i = 0; i < info.n_ri; i++) {
            const bo_bytes *ri = &info.ri[i].der;
            if (bo_envelope_recipient_matches(ri->p, ri->len, f.cert, f.cert_len) == BO_E_OK) {
                bo_secret *cek = NULL;
                bo_err e = bo_cek_unwrap(ri->p, ri->len, f.key, f.cert, f.cert_len, &cek);
                if ((e == BO_E_OK) != (cek != NULL))
                    abort();
                bo_secret_free(cek);
            }
        }
    } else if (info.n_ri != 0) {
        abort(); /* an error leaves the info empty */
    }

    bo_buf pt;
    bo_buf_init(&pt, 1u << 20);
    m.pos = 0;
    bo_envelope_info info2;
    bo_err de = bo_envelope_decrypt_stream(bo_mem_read, &m, size, f.cek, to_buf, &pt, NULL,
                                           &info2, NULL, 0);
    /* A structure the inspection refused cannot decrypt (the sink's cap aside). */
    if (de == BO_E_OK && ie != BO_E_OK)
        abort();
    if (de == BO_E_OK) {
        /* GCM: as long as the ciphertext; CBC: 1..16 bytes of padding less */
        uint64_t ct = info2.content_len;
        if (info2.cipher == BO_ENVELOPE_AES256_GCM && pt.len != ct)
            abort();
        if (info2.cipher == BO_ENVELOPE_AES256_CBC && (pt.len >= ct || pt.len + 16 < ct))
            abort();
        if (memcmp(info2.sha256, info.sha256, 32) != 0)
            abort();
        bo_envelope_info_cleanup(&info2);
        /* the plaintext of a genuine envelope is a bid package */
        bo_mem_reader pm = {pt.data ? pt.data : (const uint8_t *)"", pt.len, 0};
        bo_err pe = BO_E_OK;
        bo_package_reader *r = bo_package_open_read(bo_mem_read, &pm, &pe, NULL, 0);
        if (r) {
            (void)bo_package_verify(r, f.cert, f.cert_len);
            for (size_t i = 0; i < bo_package_form_count(r); i++)
                if (!bo_package_form_at(r, i))
                    abort();
            (void)bo_package_read_docs(r, package_doc, NULL, NULL, 0);
            bo_package_close(r);
        }
    }
    if (ie == BO_E_OK)
        bo_envelope_info_cleanup(&info);
    bo_buf_cleanup_wipe(&pt);
    return 0;
}
