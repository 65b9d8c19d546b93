/* bidopen client: what people read. One formatter per event kind (a Chinese label and its
 * English gloss, e.g. "签到 signed in: 91350100M000100Y43 福建某建设有限公司"), the phase
 * names, countdowns in server time, presence and snapshot summaries.
 * Pure: every input is a parameter (server time included), so each line is testable.
 */
#ifndef BO_EVFMT_H
#define BO_EVFMT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "bo/buf.h"

/** "签到中 check-in" for "checkin", and so on; the name itself for an unknown phase.
 * Never NULL (NULL in gives "?"). Context: any thread. */
const char *bo_evfmt_phase_label(const char *phase);

/** "HH:MM:SS" of t in the display offset (minutes east of UTC). out holds >= 9 bytes.
 * Returns out. Context: any thread. */
char *bo_evfmt_clock(int64_t t, int tz_offset_min, char *out, size_t n);

/** The line(s) for one event, without a final newline: "[10:00:03 #12] <label>: <details>".
 * st is the stream ("pub", "staff", "b", "all"; NULL is pub), seq its position. Unknown kinds
 * print the body as JSON; missing body fields print as "?". bidders_revealed adds one line per
 * bidder; draw_result shows the seed and inputs in full (anyone can redo the draw);
 * benchmark_price one line per input; opening_closed the final record's hash in full.
 * Errors: those of bo_buf_append. Ownership: nothing is kept. Context: any thread. */
bo_err bo_evfmt_event(bo_buf *out, const char *kind, const msgpack_object *body, int64_t ts,
                      const char *st, uint64_t seq, int tz_offset_min);

/** The countdown line in server time, e.g. "距开标 opening in 1:02:03" (phase scheduled or
 * checkin, counting to checkin_at then deadline), "已暂停 paused", or the phase label once the
 * deadline passed. checkin_at 0 means none. Errors: those of bo_buf_append.
 * Context: any thread. */
bo_err bo_evfmt_countdown(bo_buf *out, const char *phase, bool paused, int64_t checkin_at,
                          int64_t deadline, int64_t server_now);

/** Decryption progress in server time, e.g. "解密 decrypted 3/5 · 剩余 time left 12:04"
 * (ends_at 0: no window yet; past it: "时限已过 window closed"; paused freezes it).
 * Errors: those of bo_buf_append. Context: any thread. */
bo_err bo_evfmt_decrypt_progress(bo_buf *out, unsigned bids, unsigned decrypted,
                                 unsigned classified, int64_t ends_at, bool paused,
                                 int64_t server_now);

/** One line for a presence push's data: who is online, sites' round trips, bidders.
 * Errors: those of bo_buf_append. Context: any thread. */
bo_err bo_evfmt_presence(bo_buf *out, const msgpack_object *data);

/** A few lines summarising a snapshot: title, phase, deadline, counts, bidders (when
 * present), decryption, and from the announcement on (docs/protocol.md §11) the
 * announcement table (bo_evfmt_bids_table), the draws, the benchmark price, the
 * confirmation window and the objections; without a final newline. Errors: those of
 * bo_buf_append. Context: any thread. */
bo_err bo_evfmt_snapshot(bo_buf *out, const msgpack_object *snap);

/** The display width of UTF-8 text on a terminal: East Asian wide and fullwidth characters
 * take 2 columns, combining marks 0, everything else 1. Context: any thread. */
size_t bo_evfmt_width(const char *s, size_t n);

/** The announcement table (唱标) as it stands: a title line ("唱标 announcement (3/5):" with
 * total > 0), a header and one line per announced bid in the order of its number: 序号 No.,
 * 投标人 bidder, 统一社会信用代码 USCC, 状态 status, then each field of the tender
 * ("投标报价 price", the tender's label with the key), and 备注 note (the form error) when a
 * row has one. Columns are aligned by display width (bo_evfmt_width), numbers right-aligned;
 * a field a row does not have shows "—". tender is the tender map (its fields); rows are maps
 * with the keys of bid_announced ({n, uscc, org, status, fields?, form_error?}; the
 * snapshot's bidders entries have them too): rows without n are skipped. No final newline.
 * Errors: those of bo_buf_append, BO_E_NOMEM. Ownership: nothing is kept.
 * Context: any thread. */
bo_err bo_evfmt_bids_table(bo_buf *out, const msgpack_object *tender,
                           const msgpack_object *const *rows, size_t n_rows, unsigned total);

/** The confirmation window in server time, e.g. "确认 confirmed 2/5 · 异议 objections 1
 * (待答复 unanswered 1) · 剩余 time left 08:12"; "确认时限已过 window closed" once
 * window_closed or past ends_at; paused freezes it ("已暂停 paused"). Errors: those of
 * bo_buf_append. Context: any thread. */
bo_err bo_evfmt_confirm_progress(bo_buf *out, unsigned confirmed, unsigned valid,
                                 unsigned objections, unsigned unanswered, int64_t ends_at,
                                 bool window_closed, bool paused, int64_t server_now);

#endif
