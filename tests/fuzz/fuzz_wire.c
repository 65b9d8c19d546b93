/* Fuzz target for the wire codec: every input is decoded in both directions; what decodes
 * is re-encoded, decoded again and must give the same bytes. The input also goes through
 * bo_mp_parse and bo_mp_canonical. Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const bo_msg *m, const bo_wire_caps *caps, bool from_client)
{
    bo_buf a, b;
    bo_buf_init(&a, caps->frame);
    bo_buf_init(&b, caps->frame);
    if (bo_wire_encode(&a, m) != BO_E_OK)
        abort(); /* what decodes must encode */
    bo_msg *again = NULL;
    if (bo_wire_decode(a.data, a.len, caps, from_client, &again, NULL, NULL, 0) != BO_E_OK)
        abort(); /* canonical output of a decoded message must decode */
    if (bo_wire_encode(&b, again) != BO_E_OK || a.len != b.len ||
        memcmp(a.data, b.data, a.len) != 0)
        abort(); /* and be a fixed point */
    bo_msg_free(again);
    bo_buf_cleanup(&a);
    bo_buf_cleanup(&b);
}

static void canonical(const uint8_t *data, size_t size)
{
    msgpack_zone *z;
    msgpack_object o;
    if (bo_mp_parse(data, size, &z, &o) != BO_E_OK)
        return;
    bo_buf out;
    bo_buf_init(&out, size + 64);
    if (bo_mp_canonical(&out, &o) == BO_E_OK && out.len > size)
        abort(); /* canonical is never longer than the input */
    bo_buf_cleanup(&out);
    msgpack_zone_free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bo_wire_caps caps;
    bo_wire_caps_default(&caps);
    for (int dir = 0; dir < 2; dir++) {
        bo_msg *m = NULL;
        uint64_t id;
        char detail[64];
        bo_err err = bo_wire_decode(data, size, &caps, dir == 1, &m, &id, detail, sizeof(detail));
        if (err == BO_E_OK)
            round_trip(m, &caps, dir == 1);
        else if (m)
            abort();
        bo_msg_free(m);
    }
    canonical(data, size);
    return 0;
}
