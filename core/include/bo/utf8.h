/* bidopen: UTF-8 validation (strict: no overlongs, no surrogates, max U+10FFFF). */
#ifndef BO_UTF8_H
#define BO_UTF8_H

#include <stddef.h>

/** Length of the valid UTF-8 sequence starting at p (1..4), or 0 if it is invalid. */
size_t bo_utf8_seq_len(const unsigned char *p, size_t avail);

/** 1 if the whole range is valid UTF-8 without NUL bytes, else 0. */
int bo_utf8_valid(const char *s, size_t n);

/** Number of code points in a valid UTF-8 range (call bo_utf8_valid first). */
size_t bo_utf8_count(const char *s, size_t n);

#endif
