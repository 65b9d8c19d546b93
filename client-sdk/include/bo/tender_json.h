/* bidopen client: a tender written as JSON (what people edit) turned into the canonical
 * msgpack map that `create` carries (docs/protocol.md §5).
 *
 * The JSON object has the keys of §5 and of §11 (announce_order, draws, benchmark: decimals
 * such as draw values and a fixed coefficient are JSON strings, "0.95"). Times (checkin_at,
 * deadline) may be written as
 * integers (ms since the epoch), RFC 3339 strings ("2026-11-27T10:00:00+08:00") or times
 * relative to now ("+90s", "+5m", "+2h", "+1d", "+1500ms": handy for demos); host_fpr is
 * 64 hex digits. Every rule the client can check is checked here, so a typo is reported
 * before connecting; the server checks everything again.
 */
#ifndef BO_TENDER_JSON_H
#define BO_TENDER_JSON_H

#include <stddef.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/err.h"

#define BO_TENDER_JSON_MAX 1048576 /* bytes of JSON accepted */

/** Convert tender JSON to canonical msgpack (sorted keys, shortest integers, absent keys
 * omitted, defaults not filled in), appended to out. now is the server time that relative
 * times count from and that the deadline must follow.
 * Errors: BO_E_BAD_TENDER with detail naming the key and the rule, e.g.
 * "deadline: must be after checkin_at" or "(json) line 3: ..."; BO_E_TOO_BIG (input over
 * BO_TENDER_JSON_MAX, or out's cap); BO_E_NOMEM. Nothing is appended on error.
 * Ownership: nothing is kept. Context: any thread. */
bo_err bo_tender_json_to_mp(const char *json, size_t len, bo_time_ms now, bo_buf *out,
                            char *detail, size_t detail_len);

/** Parse one time as written in a tender: RFC 3339, or "+<n><unit>" with unit ms, s, m, h or
 * d added to now. Errors: BO_E_BAD_FIELD. Context: any thread. */
bo_err bo_tender_json_time(const char *s, bo_time_ms now, bo_time_ms *out);

#endif
