/* Fuzz target for event storage records: what decodes must encode to the very same bytes
 * (records are canonical) and to a wire frame; then, re-chained as the first event of an
 * opening, it goes through bo_session_fold (which must either refuse it or accept it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/event.h"
#include "bo/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int with_oid = 0; with_oid < 2; with_oid++) {
        bo_event ev;
        if (bo_event_decode_record(with_oid ? "o1" : NULL, data, size, &ev) != BO_E_OK)
            continue;
        bo_buf b;
        bo_buf_init(&b, 8u << 20);
        if (bo_event_encode_record(&ev, &b) != BO_E_OK || b.len != size ||
            memcmp(b.data, data, size))
            abort();
        bo_buf_reset(&b);
        if (bo_event_encode_wire("o1", &ev, BO_STREAM_ALL, &b) != BO_E_OK)
            abort();
        bo_buf_cleanup(&b);
        ev.seq = 1;
        memset(ev.prev_hash, 0, 32);
        bo_event_compute_hash("o1", &ev, ev.hash);
        bo_session *s = bo_session_new("o1", NULL);
        if (s && bo_session_fold(s, &ev) == BO_E_OK && bo_session_seq(s) != 1)
            abort();
        bo_session_free(s);
        bo_event_cleanup(&ev);
    }
    return 0;
}
