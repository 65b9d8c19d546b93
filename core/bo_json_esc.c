#include "bo/json_esc.h"

#include <string.h>

#include "bo/utf8.h"

bo_err bo_json_esc_append(bo_buf *b, const char *s)
{
    return bo_json_esc_append_n(b, s, strlen(s));
}

bo_err bo_json_esc_append_n(bo_buf *b, const char *s, size_t n)
{
    bo_err err = bo_buf_append(b, "\"", 1);
    size_t i = 0;
    while (!err && i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            err = bo_buf_append(b, e, 2);
            i++;
        } else if (c < 0x20) {
            err = bo_buf_appendf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            err = bo_buf_append(b, &s[i], 1);
            i++;
        } else {
            size_t len = bo_utf8_seq_len((const unsigned char *)s + i, n - i);
            if (len == 0) {
                err = bo_buf_append_str(b, "\xEF\xBF\xBD");
                i++;
            } else {
                err = bo_buf_append(b, &s[i], len);
                i += len;
            }
        }
    }
    if (!err)
        err = bo_buf_append(b, "\"", 1);
    return err;
}
