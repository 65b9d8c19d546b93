#include "bo/log.h"

#include <stdarg.h>
#include <string.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/json_esc.h"

static FILE *log_sink;
static bo_log_level log_min = BO_LOG_INFO;

void bo_log_setup(FILE *sink, bo_log_level min_level)
{
    log_sink = sink;
    log_min = min_level;
}

bo_err bo_log_level_parse(const char *s, bo_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *out = (bo_log_level)i;
            return BO_E_OK;
        }
    return BO_E_INVALID_ARG;
}

int bo_log_enabled(bo_log_level level)
{
    return level >= log_min;
}

void bo_log(bo_log_level level, const char *comp, const char *oid, uint64_t conn, bo_err code,
            const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < log_min)
        return;
    FILE *out = log_sink ? log_sink : stderr;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    char ts[40];
    bo_time_format_rfc3339(bo_clock_now_ms(), ts, sizeof(ts));
    bo_buf b;
    bo_buf_init(&b, 8192);
    bo_buf_appendf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"comp\":", ts, names[level & 3]);
    bo_json_esc_append(&b, comp ? comp : "-");
    if (oid) {
        bo_buf_append_str(&b, ",\"oid\":");
        bo_json_esc_append(&b, oid);
    }
    if (conn)
        bo_buf_appendf(&b, ",\"conn\":%llu", (unsigned long long)conn);
    if (code != BO_E_OK) {
        bo_buf_append_str(&b, ",\"code\":");
        bo_json_esc_append(&b, bo_err_name(code));
    }
    bo_buf_append_str(&b, ",\"msg\":");
    bo_json_esc_append(&b, msg);
    bo_buf_append_str(&b, "}\n");
    if (b.data) {
        fwrite(b.data, 1, b.len, out);
        fflush(out);
    }
    bo_buf_cleanup(&b);
}
