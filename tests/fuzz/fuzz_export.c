/* Fuzz target for the exporters of the record (docs/transcript.md): on any input, JSON, OCDS
 * and HTML either refuse, writing nothing, or write a document (JSON that ends with a
 * newline, HTML that ends its html element). Seeds: the records of corpus/oprecord. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int f = BO_EXPORT_RECORD; f <= BO_EXPORT_HTML; f++) {
        bo_buf out;
        bo_buf_init(&out, 64u << 20);
        char detail[256] = "";
        bo_err err = bo_export_render((bo_export_format)f, data, size, NULL, &out, detail,
                                      sizeof(detail));
        if (err && (out.len || !detail[0]) && err != BO_E_NOMEM)
            abort();
        if (!err) {
            static const char end[] = "</html>\n";
            if (!out.len || out.data[out.len - 1] != '\n')
                abort();
            if (f == BO_EXPORT_HTML &&
                (out.len < sizeof(end) ||
                 memcmp(out.data + out.len - (sizeof(end) - 1), end, sizeof(end) - 1)))
                abort();
        }
        bo_buf_cleanup(&out);
    }
    return 0;
}
