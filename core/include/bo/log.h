/* bidopen: structured logs, one JSON object per line.
 *
 * Fields: ts (RFC 3339 UTC, ms), level, comp (component), msg, and when given
 * oid (opening), conn (connection id), code (E_... wire code). Never pass a
 * secret, a key, a signature blob or bid content to the logger.
 *
 * The sink and the minimum level are set once at start-up by main() and not
 * changed afterwards; they are the one piece of process-wide state.
 */
#ifndef BO_LOG_H
#define BO_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "bo/err.h"

typedef enum bo_log_level {
    BO_LOG_DEBUG = 0,
    BO_LOG_INFO = 1,
    BO_LOG_WARN = 2,
    BO_LOG_ERROR = 3,
} bo_log_level;

/** Where to log and from which level. Call once before any thread logs.
 * Ownership: the FILE stays the caller's. Context: start-up only. */
void bo_log_setup(FILE *sink, bo_log_level min_level);

/** Parse "debug"/"info"/"warn"/"error". Errors: BO_E_INVALID_ARG. */
bo_err bo_log_level_parse(const char *s, bo_log_level *out);

/** Whether a level would be written (to skip expensive formatting). */
int bo_log_enabled(bo_log_level level);

/** Write one line. oid may be NULL; conn 0 means none; code BO_E_OK means none.
 * Context: any thread (one fwrite per line). */
void bo_log(bo_log_level level, const char *comp, const char *oid, uint64_t conn, bo_err code,
            const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define BO_LOGD(comp, ...) bo_log(BO_LOG_DEBUG, comp, NULL, 0, BO_E_OK, __VA_ARGS__)
#define BO_LOGI(comp, ...) bo_log(BO_LOG_INFO, comp, NULL, 0, BO_E_OK, __VA_ARGS__)
#define BO_LOGW(comp, ...) bo_log(BO_LOG_WARN, comp, NULL, 0, BO_E_OK, __VA_ARGS__)
#define BO_LOGE(comp, ...) bo_log(BO_LOG_ERROR, comp, NULL, 0, BO_E_OK, __VA_ARGS__)

#endif
