/* bidopen: exact decimal numbers for money (docs/protocol.md §11).
 *
 * A bo_decimal is v / 10^scale with a 128-bit v, so prices, their sums and the benchmark
 * price are computed without floating point. Values written by people (the opening form, a
 * tender's coefficients) have the syntax
 *
 *     -?[0-9]{1,18}(\.[0-9]{1,6})?
 *
 * (at most 18 digits before the point and 6 after it, counted as written); the scale of a
 * parsed value is the number of digits written after the point, so "1.50" has scale 2.
 * Arithmetic keeps |v| < 10^38 and scale <= BO_DECIMAL_MAX_SCALE; beyond that it refuses
 * with BO_E_TOO_BIG rather than lose a digit. Rounding happens only where asked for.
 */
#ifndef BO_DECIMAL_H
#define BO_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

#define BO_DECIMAL_INT_DIGITS 18  /* digits before the point in the written syntax */
#define BO_DECIMAL_FRAC_DIGITS 6  /* digits after the point in the written syntax */
#define BO_DECIMAL_MAX_SCALE 18   /* of a computed value */
#define BO_DECIMAL_STR_MAX 48     /* bytes that hold any bo_decimal as text, NUL included */
#define BO_DECIMAL_TEXT_MAX 26    /* characters of the longest written decimal */

typedef struct bo_decimal {
    __int128 v;     /* the value is v / 10^scale; |v| < 10^38 */
    unsigned scale; /* 0 .. BO_DECIMAL_MAX_SCALE */
} bo_decimal;

/* How to round (docs/protocol.md §11, benchmark.rounding). For negative values half_up
 * rounds a tie away from zero (-2.5 -> -3) and down truncates toward zero (-2.59 -> -2.5). */
typedef enum bo_rounding {
    BO_ROUND_HALF_UP = 1, /* "half_up": 四舍五入 */
    BO_ROUND_HALF_EVEN,   /* "half_even": a tie goes to the even neighbour */
    BO_ROUND_DOWN,        /* "down": toward zero (截尾) */
} bo_rounding;

/** "half_up", "half_even", "down"; NULL for other values. Context: any thread. */
const char *bo_rounding_name(bo_rounding r);

/** Parse a rounding name. Errors: BO_E_BAD_FIELD. Context: any thread. */
bo_err bo_rounding_parse(const char *s, bo_rounding *out);

/** Parse the written syntax above from s[0..len) (no NUL needed, none allowed). "-0" is zero.
 * Errors: BO_E_BAD_FIELD (anything else: empty, "+1", ".5", "5.", "1e3", spaces, 19 digits
 * before or 7 after the point). Context: any thread. */
bo_err bo_decimal_parse(const char *s, size_t len, bo_decimal *out);

/** Whether s[0..len) has the written syntax. Context: any thread. */
bool bo_decimal_valid(const char *s, size_t len);

/** An integer as a decimal of scale 0. Context: any thread. */
bo_decimal bo_decimal_from_int(int64_t v);

/** The text of d with exactly d->scale digits after the point (none and no point for scale
 * 0), "-" for negative values, no leading zeros but one "0" before the point: 1.50 -> "1.50",
 * -0.5 -> "-0.5". Errors: BO_E_INVALID_ARG (a scale over BO_DECIMAL_MAX_SCALE or |v| out of
 * range), BO_E_TOO_BIG (n too small; BO_DECIMAL_STR_MAX always suffices). Context: any
 * thread. */
bo_err bo_decimal_format(const bo_decimal *d, char *buf, size_t n);

/** d with the trailing zeros of its fraction removed (the smallest scale that keeps it):
 * 1.500 -> 1.5, 2.00 -> 2. Context: any thread. */
bo_decimal bo_decimal_normalize(const bo_decimal *d);

/** The canonical text: bo_decimal_format of bo_decimal_normalize(d) ("0950.500" parses
 * and prints as "950.5", "-0.00" as "0"). Errors as bo_decimal_format. Context: any thread. */
bo_err bo_decimal_canonical(const bo_decimal *d, char *buf, size_t n);

/** -1, 0 or 1 as a < b, a == b, a > b, by value (1.5 == 1.50). Context: any thread. */
int bo_decimal_cmp(const bo_decimal *a, const bo_decimal *b);

/** Exact a + b with the larger scale. Errors: BO_E_TOO_BIG. Context: any thread. */
bo_err bo_decimal_add(const bo_decimal *a, const bo_decimal *b, bo_decimal *out);

/** Exact a * b; the scale is a's plus b's (trailing zeros dropped when that exceeds
 * BO_DECIMAL_MAX_SCALE). Errors: BO_E_TOO_BIG. Context: any thread. */
bo_err bo_decimal_mul(const bo_decimal *a, const bo_decimal *b, bo_decimal *out);

/** a / d rounded to places digits after the point by r, computed exactly (the remainder
 * decides the rounding): 2 / 3 to 2 places half_up -> 0.67, down -> 0.66.
 * Errors: BO_E_INVALID_ARG (d == 0, places over BO_DECIMAL_MAX_SCALE, unknown r),
 * BO_E_TOO_BIG. Context: any thread. */
bo_err bo_decimal_div_int(const bo_decimal *a, int64_t d, unsigned places, bo_rounding r,
                          bo_decimal *out);

/** a rounded to places digits after the point by r; the result has scale places (2.5 to 2
 * places is 2.50). Errors as bo_decimal_div_int. Context: any thread. */
bo_err bo_decimal_round(const bo_decimal *a, unsigned places, bo_rounding r, bo_decimal *out);

#endif
