/* bidopen: append a string as a JSON string literal (quotes and escapes included).
 * Invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid JSON. */
#ifndef BO_JSON_ESC_H
#define BO_JSON_ESC_H

#include <stddef.h>

#include "bo/buf.h"

/** Errors: those of bo_buf_append. */
bo_err bo_json_esc_append(bo_buf *b, const char *s);

/** Same for a byte range that need not be NUL-terminated. */
bo_err bo_json_esc_append_n(bo_buf *b, const char *s, size_t n);

#endif
