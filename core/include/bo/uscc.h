/* bidopen: the unified social credit code (统一社会信用代码, GB 32100-2015).
 *
 * 18 characters from 0123456789ABCDEFGHJKLMNPQRTUWXY (no I, O, S, V, Z); the last one is a
 * check character over the first 17 with weights 3^i mod 31. Pure, no I/O.
 */
#ifndef BO_USCC_H
#define BO_USCC_H

#include <stdbool.h>

#include "bo/err.h"

#define BO_USCC_LEN 18

/** Whether s is exactly 18 characters of the GB 32100 charset (upper case) with the right
 * check character. NULL is not valid. Context: any thread. */
bool bo_uscc_valid(const char *s);

/** Compute the check character for the first 17 characters and write the full code (18
 * characters and a NUL) into out. Errors: BO_E_INVALID_ARG if first17 is NULL, not exactly 17
 * characters long or has a character outside the charset (out is then ""). Context: any thread. */
bo_err bo_uscc_complete(const char *first17, char out[BO_USCC_LEN + 1]);

#endif
