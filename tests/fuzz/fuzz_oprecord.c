/* Fuzz target for opening records read back from outside (an export, a verifier's input):
 * bo_sigpayload_record_hash must either refuse or hash, and hash every encoding of the same
 * record alike; bo_record_confirmable must either refuse, leaving its output as it was, or
 * derive a record that hashes and that has no confirmation left to derive from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/session.h"
#include "bo/sigpayload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t h[32], again[32];
    if (bo_sigpayload_record_hash(data, size, h) == BO_E_OK) {
        /* the canonical form of the input hashes the same */
        msgpack_zone *z;
        msgpack_object o;
        bo_buf c;
        bo_buf_init(&c, 16u << 20);
        if (bo_mp_parse(data, size, &z, &o) != BO_E_OK || bo_mp_canonical(&c, &o) != BO_E_OK ||
            bo_sigpayload_record_hash(c.data, c.len, again) != BO_E_OK || memcmp(h, again, 32))
            abort();
        msgpack_zone_free(z);
        bo_buf_cleanup(&c);
    }
    bo_buf out;
    bo_buf_init(&out, 16u << 20);
    if (bo_buf_append(&out, "x", 1) != BO_E_OK)
        abort();
    if (bo_record_confirmable(data, size, &out) == BO_E_OK) {
        bo_buf twice;
        bo_buf_init(&twice, 16u << 20);
        if (bo_sigpayload_record_hash(out.data + 1, out.len - 1, h) != BO_E_OK ||
            bo_record_confirmable(out.data + 1, out.len - 1, &twice) != BO_E_BAD_FIELD ||
            twice.len)
            abort();
        bo_buf_cleanup(&twice);
    } else if (out.len != 1) {
        abort();
    }
    bo_buf_cleanup(&out);
    return 0;
}
