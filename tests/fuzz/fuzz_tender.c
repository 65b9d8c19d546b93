/* Fuzz target for the tender parser: what parses must encode, decode as stored and encode
 * to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/tender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bo_tender *t = malloc(2 * sizeof(*t));
    if (!t)
        return 0;
    char detail[128];
    if (bo_tender_parse(data, size, 1700000000000, t, detail, sizeof(detail)) == BO_E_OK ||
        bo_tender_decode_stored(data, size, t) == BO_E_OK) {
        bo_buf a, b;
        bo_buf_init(&a, 1 << 20);
        bo_buf_init(&b, 1 << 20);
        if (bo_tender_encode(t, &a) != BO_E_OK)
            abort();
        if (bo_tender_decode_stored(a.data, a.len, t + 1) != BO_E_OK)
            abort();
        if (bo_tender_encode(t + 1, &b) != BO_E_OK || a.len != b.len ||
            memcmp(a.data, b.data, a.len))
            abort();
        bo_buf_cleanup(&a);
        bo_buf_cleanup(&b);
    }
    free(t);
    return 0;
}
