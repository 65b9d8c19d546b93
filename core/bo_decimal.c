/* bidopen: exact decimal numbers (v / 10^scale, 128-bit v). Every operation checks that the
 * result stays below 10^38 in magnitude, so no step can silently wrap. */
#include "bo/decimal.h"

#include <string.h>

typedef __int128 i128;
typedef unsigned __int128 u128;

#define P38_DIGITS 38

/* 10^k for k <= 38. */
static i128 p10(unsigned k)
{
    i128 p = 1;
    while (k--)
        p *= 10;
    return p;
}

/* Whether |v| < 10^38: every bo_decimal keeps this. */
static bool in_range(i128 v)
{
    i128 lim = p10(P38_DIGITS);
    return v < lim && v > -lim;
}

/* v * 10^k, false on leaving the range. */
static bool scale_up(i128 v, unsigned k, i128 *out)
{
    if (k > P38_DIGITS)
        return v == 0 ? (*out = 0, true) : false;
    i128 r;
    if (__builtin_mul_overflow(v, p10(k), &r) || !in_range(r))
        return false;
    *out = r;
    return true;
}

static bool decimal_ok(const bo_decimal *d)
{
    return d->scale <= BO_DECIMAL_MAX_SCALE && in_range(d->v);
}

/* ------------------------------------------------------------------ names ---- */

const char *bo_rounding_name(bo_rounding r)
{
    switch (r) {
    case BO_ROUND_HALF_UP:
        return "half_up";
    case BO_ROUND_HALF_EVEN:
        return "half_even";
    case BO_ROUND_DOWN:
        return "down";
    default:
        return NULL;
    }
}

bo_err bo_rounding_parse(const char *s, bo_rounding *out)
{
    for (int r = BO_ROUND_HALF_UP; s && r <= BO_ROUND_DOWN; r++)
        if (!strcmp(s, bo_rounding_name((bo_rounding)r))) {
            *out = (bo_rounding)r;
            return BO_E_OK;
        }
    return BO_E_BAD_FIELD;
}

/* ------------------------------------------------------------------- text ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bo_err bo_decimal_parse(const char *s, size_t len, bo_decimal *out)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    bool neg = false;
    i128 v = 0;
    if (!s)
        return BO_E_BAD_FIELD;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    for (; i < len && is_digit(s[i]); i++, int_digits++)
        v = v * 10 + (s[i] - '0'); /* at most 24 digits in all: no overflow */
    if (int_digits < 1 || int_digits > BO_DECIMAL_INT_DIGITS)
        return BO_E_BAD_FIELD;
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit(s[i]); i++, frac_digits++) {
            if (frac_digits == BO_DECIMAL_FRAC_DIGITS)
                return BO_E_BAD_FIELD;
            v = v * 10 + (s[i] - '0');
        }
        if (frac_digits < 1)
            return BO_E_BAD_FIELD;
    }
    if (i != len)
        return BO_E_BAD_FIELD;
    out->v = neg ? -v : v;
    out->scale = (unsigned)frac_digits;
    return BO_E_OK;
}

bool bo_decimal_valid(const char *s, size_t len)
{
    bo_decimal d;
    return bo_decimal_parse(s, len, &d) == BO_E_OK;
}

bo_decimal bo_decimal_from_int(int64_t v)
{
    bo_decimal d = {v, 0};
    return d;
}

bo_err bo_decimal_format(const bo_decimal *d, char *buf, size_t n)
{
    if (!decimal_ok(d))
        return BO_E_INVALID_ARG;
    char digits[P38_DIGITS + 2];
    size_t nd = 0;
    u128 m = d->v < 0 ? (u128)(-d->v) : (u128)d->v;
    do {
        digits[nd++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m);
    while (nd < d->scale + 1) /* at least one digit before the point */
        digits[nd++] = '0';
    size_t need = (d->v < 0) + nd + (d->scale ? 1 : 0) + 1;
    if (!buf || n < need)
        return BO_E_TOO_BIG;
    size_t k = 0;
    if (d->v < 0)
        buf[k++] = '-';
    for (size_t i = nd; i-- > 0;) {
        buf[k++] = digits[i];
        if (i == d->scale && i)
            buf[k++] = '.';
    }
    buf[k] = 0;
    return BO_E_OK;
}

bo_decimal bo_decimal_normalize(const bo_decimal *d)
{
    bo_decimal r = *d;
    if (r.v == 0)
        r.scale = 0;
    while (r.scale && r.v % 10 == 0) {
        r.v /= 10;
        r.scale--;
    }
    return r;
}

bo_err bo_decimal_canonical(const bo_decimal *d, char *buf, size_t n)
{
    bo_decimal r = bo_decimal_normalize(d);
    return bo_decimal_format(&r, buf, n);
}

/* ------------------------------------------------------------ arithmetic ---- */

int bo_decimal_cmp(const bo_decimal *a, const bo_decimal *b)
{
    bo_decimal x = bo_decimal_normalize(a), y = bo_decimal_normalize(b);
    i128 xv = x.v, yv = y.v;
    /* bring both to the larger scale; a value that leaves the range there is larger in
     * magnitude than any other, so its sign decides */
    if (x.scale < y.scale && !scale_up(x.v, y.scale - x.scale, &xv))
        return x.v < 0 ? -1 : 1;
    if (y.scale < x.scale && !scale_up(y.v, x.scale - y.scale, &yv))
        return y.v < 0 ? 1 : -1;
    return xv < yv ? -1 : xv > yv;
}

bo_err bo_decimal_add(const bo_decimal *a, const bo_decimal *b, bo_decimal *out)
{
    if (!decimal_ok(a) || !decimal_ok(b))
        return BO_E_INVALID_ARG;
    unsigned sc = a->scale > b->scale ? a->scale : b->scale;
    i128 x, y, s;
    if (!scale_up(a->v, sc - a->scale, &x) || !scale_up(b->v, sc - b->scale, &y) ||
        __builtin_add_overflow(x, y, &s) || !in_range(s))
        return BO_E_TOO_BIG;
    out->v = s;
    out->scale = sc;
    return BO_E_OK;
}

bo_err bo_decimal_mul(const bo_decimal *a, const bo_decimal *b, bo_decimal *out)
{
    if (!decimal_ok(a) || !decimal_ok(b))
        return BO_E_INVALID_ARG;
    i128 p;
    if (__builtin_mul_overflow(a->v, b->v, &p) || !in_range(p))
        return BO_E_TOO_BIG;
    bo_decimal r = {p, a->scale + b->scale};
    if (r.scale > BO_DECIMAL_MAX_SCALE)
        r = bo_decimal_normalize(&r);
    if (r.scale > BO_DECIMAL_MAX_SCALE)
        return BO_E_TOO_BIG;
    *out = r;
    return BO_E_OK;
}

/* round(n / d) for d > 0, by r; n may be negative. */
static i128 div_round(i128 n, i128 d, bo_rounding r)
{
    u128 mag = n < 0 ? (u128)(-n) : (u128)n;
    u128 q = mag / (u128)d, rem = mag % (u128)d;
    u128 twice = rem * 2; /* rem < d < 2^126: no overflow */
    bool up = false;
    if (r == BO_ROUND_HALF_UP)
        up = twice >= (u128)d;
    else if (r == BO_ROUND_HALF_EVEN)
        up = twice > (u128)d || (twice == (u128)d && (q & 1));
    if (up)
        q++;
    return n < 0 ? -(i128)q : (i128)q;
}

bo_err bo_decimal_div_int(const bo_decimal *a, int64_t d, unsigned places, bo_rounding r,
                          bo_decimal *out)
{
    if (!decimal_ok(a) || d == 0 || places > BO_DECIMAL_MAX_SCALE || !bo_rounding_name(r))
        return BO_E_INVALID_ARG;
    /* a / d at places = (a.v * 10^places) / (d * 10^a.scale), with the powers cancelled */
    i128 num = a->v, den = d;
    if (places >= a->scale) {
        if (!scale_up(num, places - a->scale, &num))
            return BO_E_TOO_BIG;
    } else {
        den *= p10(a->scale - places); /* |d| < 2^63, 10^18 < 2^60: fits */
    }
    if (den < 0) {
        den = -den;
        num = -num;
    }
    i128 q = div_round(num, den, r);
    if (!in_range(q))
        return BO_E_TOO_BIG;
    out->v = q;
    out->scale = places;
    return BO_E_OK;
}

bo_err bo_decimal_round(const bo_decimal *a, unsigned places, bo_rounding r, bo_decimal *out)
{
    return bo_decimal_div_int(a, 1, places, r, out);
}
