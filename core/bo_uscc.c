#include "bo/uscc.h"

#include <string.h>

static const char CHARSET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY"; /* 31 characters */
static const int WEIGHTS[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* Value of a charset character, -1 for anything else (lower case included: codes are printed
 * in upper case and a certificate carrying lower case is not what the CA issued). */
static int char_value(char c)
{
    if (c == '\0')
        return -1;
    const char *p = strchr(CHARSET, c);
    return p ? (int)(p - CHARSET) : -1;
}

/* Check character for 17 characters, or '\0' if one is outside the charset. */
static char check_char(const char *s)
{
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        int v = char_value(s[i]);
        if (v < 0)
            return '\0';
        sum += v * WEIGHTS[i];
    }
    int c = 31 - sum % 31;
    return CHARSET[c == 31 ? 0 : c];
}

bool bo_uscc_valid(const char *s)
{
    if (!s || strnlen(s, BO_USCC_LEN + 1) != BO_USCC_LEN)
        return false;
    char c = check_char(s);
    return c != '\0' && c == s[17];
}

bo_err bo_uscc_complete(const char *first17, char out[BO_USCC_LEN + 1])
{
    out[0] = '\0';
    if (!first17 || strnlen(first17, 18) != 17)
        return BO_E_INVALID_ARG;
    char c = check_char(first17);
    if (c == '\0')
        return BO_E_INVALID_ARG;
    memcpy(out, first17, 17);
    out[17] = c;
    out[18] = '\0';
    return BO_E_OK;
}
