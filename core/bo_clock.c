#include "bo/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bo_time_ms bo_clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (bo_time_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bo_clock_mono_ms(void)
{
    return bo_clock_mono_ns() / 1000000;
}

int64_t bo_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

char *bo_time_format_rfc3339(bo_time_ms t, char *out, size_t n)
{
    time_t secs = (time_t)floor_div(t, 1000);
    int ms = (int)(t - (int64_t)secs * 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return out;
}

char *bo_time_format_local(bo_time_ms t, int offset_min, char *out, size_t n)
{
    time_t secs = (time_t)floor_div(t + (int64_t)offset_min * 60000, 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int off = offset_min < 0 ? -offset_min : offset_min;
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, offset_min < 0 ? '-' : '+', off / 60,
             off % 60);
    return out;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bo_err bo_time_parse_rfc3339(const char *s, bo_time_ms *out)
{
    int Y, M, D, h, m, sec;
    size_t len = s ? strlen(s) : 0;
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return BO_E_BAD_FIELD;
    if (!digits(s, 4, &Y) || !digits(s + 5, 2, &M) || !digits(s + 8, 2, &D) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &m) || !digits(s + 17, 2, &sec))
        return BO_E_BAD_FIELD;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
        return BO_E_BAD_FIELD;
    int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M == 2 && D == 29 && !leap)
        return BO_E_BAD_FIELD;
    if (sec == 60)
        sec = 59;
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (nd < 3)
                ms = ms * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0 || nd > 9)
            return BO_E_BAD_FIELD;
        for (; nd < 3; nd++)
            ms *= 10;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (strlen(p) != 6 || p[3] != ':' || !digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) ||
            oh > 23 || om > 59)
            return BO_E_BAD_FIELD;
        offset = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return BO_E_BAD_FIELD;
    }
    if (*p != 0)
        return BO_E_BAD_FIELD;
    int64_t days = days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t secs = days * 86400 + h * 3600 + m * 60 + sec - (int64_t)offset * 60;
    *out = secs * 1000 + ms;
    return BO_E_OK;
}

char *bo_duration_format(int64_t ms, char *out, size_t n)
{
    if (ms < 0)
        ms = 0;
    int64_t s = (ms + 999) / 1000;
    if (s >= 3600)
        snprintf(out, n, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(out, n, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    return out;
}
