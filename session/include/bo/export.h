/* bidopen: exports of the opening record (开标记录, docs/protocol.md §11): JSON, an OCDS
 * release package with the bids and bid-opening extensions, and a printable HTML document
 * to sign and file. The server's `export` request and `bidopen host export` both use them;
 * transcripts are written by bo/transcript.h. docs/transcript.md describes every format.
 *
 * Every exporter reads the record's canonical msgpack (bo_session_record) alone: the
 * record is self-contained. Output is deterministic: the same record (and meta) gives the
 * same bytes.
 */
#ifndef BO_EXPORT_H
#define BO_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/buf.h"
#include "bo/bytes.h"
#include "bo/clock.h"
#include "bo/err.h"
#include "bo/event.h"

#define BO_EXPORT_RECORD_MAX (16u << 20) /* a record read by the exporters */

typedef enum bo_export_format {
    BO_EXPORT_RECORD = 1,         /* "record": the record as JSON */
    BO_EXPORT_OCDS,               /* "ocds": OCDS 1.1 release package */
    BO_EXPORT_HTML,               /* "html": the printable document */
    BO_EXPORT_TRANSCRIPT,         /* "transcript": the whole log (bo/transcript.h) */
    BO_EXPORT_TRANSCRIPT_PUBLIC,  /* "transcript_public": private bodies by their hash */
} bo_export_format;

/** The wire name ("record", "ocds", "html", "transcript", "transcript_public"); NULL for
 * other values. Context: any thread. */
const char *bo_export_format_name(bo_export_format f);
/** Parse a wire name. Errors: BO_E_BAD_FIELD. Context: any thread. */
bo_err bo_export_format_parse(const char *s, bo_export_format *out);
/** The MIME type: application/json, text/html; charset=utf-8, or the transcript's. */
const char *bo_export_mime(bo_export_format f);
/** A file name suffix: ".json", ".ocds.json", ".html", ".transcript", ".public.transcript". */
const char *bo_export_suffix(bo_export_format f);

/* What the record does not say but the documents show: the server's signature over the
 * chain head (the last head_signed event, which follows opening_closed). All optional. */
typedef struct bo_export_meta {
    bool has_head;
    uint64_t head_seq;      /* the event the signature covers */
    uint8_t head_hash[32];
    bo_time_ms head_ts;
    uint8_t key_fpr[32];    /* the server key's fingerprint (head_signed.key_fpr) */
    bo_bytes head_sig;
} bo_export_meta;

/** Fill meta from a head_signed event (its body is borrowed: meta->head_sig points into
 * it). Errors: BO_E_INVALID_ARG (another kind, or a body without its members).
 * Context: any thread. */
bo_err bo_export_meta_from_head(const bo_event *head_signed, bo_export_meta *meta);

/** The record as JSON (UTF-8, 2-space indentation, keys sorted, ends with a newline): the
 * record's members with binary values as lower-case hex, decimals as the strings they are,
 * and every time both as RFC 3339 in the tender's offset and in ms: "at" and "at_ms",
 * "deadline" and "deadline_ms", ...; plus "record_sha256", the hash opening_closed carries
 * once closed. Errors: BO_E_BAD_FIELD (not a record), BO_E_MALFORMED, BO_E_TOO_BIG,
 * BO_E_NOMEM; detail (may be NULL) says what. Ownership: out is the caller's.
 * Context: any thread. */
bo_err bo_export_record_json(const uint8_t *record, size_t len, bo_buf *out, char *detail,
                             size_t detail_len);

/** An OCDS 1.1 release package (https://standard.open-contracting.org/1.1/) with one release
 * (ocid "ocds-bidopen-<oid>") using the bids extension (bids.statistics: bids, validBids,
 * bidders, disqualifiedBidders, lowestValidBidValue, highestValidBidValue, benchmarkPrice;
 * bids.details: one Bid per opened bid with status valid, disqualified, withdrawn (撤销 and
 * 撤回, told apart in statusDetails) or pending, tenderers with the USCC as identifier
 * (scheme CN-USCC), value with the price as an exact JSON number, the opening form) and the
 * bid-opening extension (tender.bidOpening). No awards. meta may be NULL.
 * Errors, ownership and context as bo_export_record_json. */
bo_err bo_export_ocds(const uint8_t *record, size_t len, const bo_export_meta *meta,
                      bo_buf *out, char *detail, size_t detail_len);

/** The printable document (HTML5, UTF-8, lang zh-CN, print CSS for A4): title, the tender,
 * every opened bid in announcement order with every announced field, draws with their seed,
 * the benchmark price with its inputs, objections and answers, confirmations (已确认 /
 * 视为认可), the chain head, the record hash and the server's signature, and a block for
 * the tenderer, the agency and the supervisor to sign on paper. meta may be NULL.
 * Errors, ownership and context as bo_export_record_json. */
bo_err bo_export_html(const uint8_t *record, size_t len, const bo_export_meta *meta,
                      bo_buf *out, char *detail, size_t detail_len);

/** One of the record's formats (BO_EXPORT_RECORD, _OCDS, _HTML) by its enum.
 * Errors: BO_E_INVALID_ARG for a transcript format; else as above. */
bo_err bo_export_render(bo_export_format f, const uint8_t *record, size_t len,
                        const bo_export_meta *meta, bo_buf *out, char *detail,
                        size_t detail_len);

#endif
