/* bidopen: offline verification of an opening's transcript (docs/transcript.md,
 * `bidopen verify`). In this order:
 *
 *  1. the transcript and the server's key (against an expected key and the trust store);
 *  2. the hash chain: every event present once, in order, its content matching its hash and
 *     its prev_hash the hash of the event before (docs/protocol.md §7);
 *  3. the server's signatures over the chain head (head_signed), receipts (bid_submitted)
 *     and decryption requests;
 *  4. every participant signature the log records (registration, sign-in, decryption
 *     response and diagnostics, confirmation, objection, the host's answers) against the
 *     certificates the log carries, and those certificates against the trust store at the
 *     time of each event;
 *  5. a replay of the whole log through bo_session_fold, the server's own state machine,
 *     which rebuilds every computed body (announcements, draws, the benchmark price, the
 *     record hashes) and refuses any that differ; then the record is recomputed;
 *  6. where the replay cannot reach (a public transcript, or past the point where it
 *     stopped): the draws from the seed and the announced bids, the seed against its
 *     commitment, the benchmark price from the announced prices, and each announcement
 *     against the bid's opening form.
 *
 * Each finding names the event (its seq and kind) and says in one sentence what is wrong,
 * what could not be checked, or what was checked.
 */
#ifndef BO_VERIFY_H
#define BO_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/bytes.h"
#include "bo/err.h"
#include "bo/identity.h"
#include "bo/transcript.h"

typedef enum bo_verify_level {
    BO_VERIFY_PASSED = 0, /* a check was made and holds (one summary line per check) */
    BO_VERIFY_UNCHECKED,  /* something could not be checked, and why */
    BO_VERIFY_ERROR,      /* something is wrong */
} bo_verify_level;

/** "passed", "unchecked", "error". Context: any thread. */
const char *bo_verify_level_name(bo_verify_level l);

typedef struct bo_verify_finding {
    bo_verify_level level;
    /* "transcript", "server", "chain", "head", "signature", "certificate", "replay",
     * "record", "draw", "benchmark", "announcement" */
    const char *check;
    uint64_t seq;     /* the event concerned; 0 for the transcript as a whole */
    const char *kind; /* that event's kind, NULL when seq is 0 or the event is missing */
    const char *msg;  /* one sentence, UTF-8 */
} bo_verify_finding;

/** Receives each finding as it is made (the pointers are valid during the call only). */
typedef void (*bo_verify_report_fn)(void *ud, const bo_verify_finding *f);

typedef struct bo_verify_opts {
    /* CAs and CRLs; NULL: certificates are not checked (reported as unchecked). */
    const bo_trust *trust;
    /* The server key the verifier expects (SHA-256 of its certificate, or of its SPKI when
     * it has none: server_key's key_fpr); NULL: the transcript's own key is taken, and
     * that is reported as unchecked. */
    const uint8_t *server_key_fpr;
    /* The host's signing certificate (DER) to check the answers to objections with: the
     * log names the host by its fingerprint only. len 0: none. */
    bo_bytes host_cert;
    bo_verify_report_fn report;
    void *ud;
} bo_verify_opts;

typedef struct bo_verify_summary {
    unsigned errors, unchecked, passed; /* findings of each level */
    size_t events;
    char oid[65];
    bo_transcript_kind kind;       /* 0 when the transcript did not parse */
    unsigned server_sigs;          /* server signatures that verified */
    unsigned participant_sigs;     /* participant signatures that verified */
    bool replayed;                 /* the whole log went through bo_session_fold */
    bool has_record;               /* record_hash is the recomputed record's SHA-256 */
    uint8_t record_hash[32];
    bool closed;                   /* the log has its opening_closed (public or full) */
} bo_verify_summary;

/** Verify a transcript (bo/transcript.h bytes) and report every finding to o->report.
 * Returns BO_E_OK when verification ran, whatever it found (out->errors counts what is
 * wrong, a transcript that does not parse included).
 * Errors: BO_E_INVALID_ARG (no options or no report function), BO_E_NOMEM.
 * Ownership: out is the caller's. Context: any thread (CPU-bound: run it off a loop). */
bo_err bo_verify(const uint8_t *transcript, size_t len, const bo_verify_opts *o,
                 bo_verify_summary *out);

#endif
