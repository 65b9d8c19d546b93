/* bidopen: the one list of errors.
 *
 * Every fallible function returns a bo_err. The X-macro below generates the
 * enum, bo_strerror(), bo_err_name() (the stable wire code "E_..."), and
 * docs/errors.md (tools/errdoc). Numbers are stable: never renumber, never
 * reuse; append new codes at the end of their group with a fresh number.
 */
#ifndef BO_ERR_H
#define BO_ERR_H

/* XX(NAME, number, group, "what the user reads") */
#define BO_ERR_MAP(XX)                                                                             \
    XX(OK, 0, "general", "success")                                                                \
    XX(INTERNAL, 1, "general", "internal error; the server log has details")                       \
    XX(NOMEM, 2, "general", "out of memory")                                                       \
    XX(INVALID_ARG, 3, "general", "invalid argument")                                              \
    XX(IO, 4, "general", "input/output error")                                                     \
    XX(CANCELED, 5, "general", "operation canceled (shutdown or connection closed)")               \
    XX(TIMEOUT, 6, "general", "operation timed out")                                               \
    XX(NOT_FOUND, 7, "general", "not found")                                                       \
    XX(EXISTS, 8, "general", "already exists")                                                     \
    XX(UNSUPPORTED, 9, "general", "not supported")                                                 \
    XX(CONFIG, 10, "general", "invalid configuration")                                             \
    XX(SHUTTING_DOWN, 11, "general", "the server is shutting down; reconnect to another node")     \
                                                                                                   \
    XX(TOO_BIG, 100, "input", "a size limit was exceeded")                                         \
    XX(TOO_DEEP, 101, "input", "message nested too deeply")                                        \
    XX(TOO_MANY, 102, "input", "too many elements in a message")                                   \
    XX(MALFORMED, 103, "input", "malformed message (not valid msgpack or not a map)")              \
    XX(UNKNOWN_TYPE, 104, "input", "unknown message type")                                         \
    XX(UNKNOWN_FIELD, 105, "input", "unknown field in message")                                    \
    XX(MISSING_FIELD, 106, "input", "a required field is missing")                                 \
    XX(BAD_FIELD, 107, "input", "a field has the wrong type or an invalid value")                  \
    XX(RATE_LIMITED, 108, "input", "too many messages; slow down")                                 \
    XX(BAD_TENDER, 109, "input", "the tender definition is invalid")                               \
    XX(DUPLICATE_ID, 110, "input", "a request with this id is already in progress")                \
                                                                                                   \
    XX(UNAUTHENTICATED, 200, "auth", "authenticate first")                                         \
    XX(AUTH_FAILED, 201, "auth", "authentication signature does not verify")                       \
    XX(AUTH_TIMEOUT, 202, "auth", "authentication took too long")                                  \
    XX(STALE_NONCE, 203, "auth", "the signed nonce or time is not the one this connection got")    \
    XX(ALREADY_AUTHENTICATED, 204, "auth", "this connection is already authenticated")             \
    XX(UNKNOWN_STAFF, 205, "auth", "certificate is not on the staff roster for this role")         \
    XX(FORBIDDEN, 206, "auth", "your role may not do this")                                        \
    XX(NOT_HOST, 207, "auth", "only this opening's host may do this")                              \
    XX(BAD_SIGNATURE, 208, "auth", "signature does not verify")                                    \
    XX(BAD_TOKEN, 209, "auth", "the access token is invalid or expired")                           \
                                                                                                   \
    XX(CERT_EXPIRED, 300, "identity", "certificate has expired")                                   \
    XX(CERT_NOT_YET_VALID, 301, "identity", "certificate is not yet valid")                        \
    XX(CERT_REVOKED, 302, "identity", "certificate has been revoked")                              \
    XX(CERT_UNKNOWN_ISSUER, 303, "identity", "certificate was not issued by a trusted CA")         \
    XX(CERT_KEY_USAGE, 304, "identity", "certificate key usage does not allow this use")           \
    XX(CERT_BAD_USCC, 305, "identity",                                                             \
       "certificate carries no valid unified social credit code (GB 32100 check failed)")          \
    XX(CERT_USCC_MISMATCH, 306, "identity",                                                        \
       "signing and encryption certificates name different organisations")                         \
    XX(CERT_INVALID, 307, "identity", "certificate or chain is invalid")                           \
    XX(CRL_UNAVAILABLE, 308, "identity", "no current revocation list for the issuing CA")          \
    XX(BLACKLISTED, 309, "identity", "the organisation is on the credit blacklist")                \
    XX(NOT_REGISTERED, 310, "identity", "not registered as a bidder for this opening")             \
    XX(UNSUPPORTED_KEY, 311, "identity", "unsupported key type or curve")                          \
                                                                                                   \
    XX(PHASE, 400, "opening", "not allowed in the opening's current phase")                        \
    XX(PAUSED, 401, "opening", "the opening is paused")                                            \
    XX(DEADLINE_PASSED, 402, "opening", "the bid deadline has passed")                             \
    XX(QUORUM, 403, "opening", "fewer valid bids than the tender's minimum: only failing is allowed") \
    XX(NOT_SIGNED_IN, 404, "opening", "sign in first")                                             \
    XX(CONFLICT, 405, "opening", "the opening changed concurrently; retry")                        \
    XX(RESUME_GAP, 406, "opening", "too far behind to replay; reload the snapshot")                \
    XX(ALREADY_DONE, 407, "opening", "this was already done")                                      \
    XX(OBJECTION_PENDING, 408, "opening", "an objection has not been answered yet")                \
                                                                                                   \
    XX(STORE_UNAVAILABLE, 500, "store", "store unavailable; nothing was changed, retry shortly")   \
    XX(STORE, 501, "store", "the store refused the operation")                                     \
    XX(LAGGING, 502, "store", "connection fell too far behind; reconnect and resume")              \
    XX(STORE_PENDING, 503, "store",                                                                \
       "the store stopped answering while this was being written; it is kept and will be "        \
       "written exactly once when the store is back (watch the events; do not send it again)")    \
    XX(VAULT_FULL, 504, "store",                                                                   \
       "the bid vault's disk is full: nothing of this upload was kept; submit it again later")     \
                                                                                                   \
    XX(ENVELOPE_MALFORMED, 600, "sealed", "the sealed bid is not a CMS envelope bidopen accepts")  \
    XX(ENVELOPE_TRUNCATED, 601, "sealed", "the sealed bid is truncated")                           \
    XX(ENVELOPE_CIPHER, 602, "sealed", "the sealed bid uses an algorithm bidopen does not accept") \
    XX(RECIPIENT_MISMATCH, 603, "sealed",                                                          \
       "the bid is not sealed to the bidder's registered encryption certificate")                  \
    XX(TAG_MISMATCH, 604, "sealed",                                                                \
       "the bid does not decrypt: tag or padding check failed (wrong key or damaged bid)")         \
    XX(CEK_INVALID, 605, "sealed", "the content-encryption key has the wrong length")              \
    XX(COMMITMENT_MISMATCH, 606, "sealed",                                                         \
       "the content-encryption key does not match the bid's key commitment")                       \
    XX(PACKAGE_SIGNATURE, 607, "sealed",                                                           \
       "the bid package's signature does not verify with the bidder's signing certificate")        \
    XX(PACKAGE_MALFORMED, 608, "sealed", "the bid package inside the envelope is malformed")       \
    XX(PACKAGE_DIGEST, 609, "sealed", "a document in the bid package does not match its digest")   \
    XX(UNWRAP_FAILED, 610, "sealed", "cannot recover the bid's key with this private key")         \
    XX(NOT_MY_ENVELOPE, 611, "sealed",                                                             \
       "this client did not submit that envelope; it refuses to unwrap it")                        \
    XX(TOO_EARLY, 612, "sealed", "the opening has not started; the client refuses to unwrap yet")  \
    XX(HANDOFF_FAILED, 613, "sealed",                                                              \
       "the key handoff does not authenticate (other opening, bid, recipient or key)")

typedef enum bo_err {
#define BO__ERR_ENUM(name, num, group, msg) BO_E_##name = num,
    BO_ERR_MAP(BO__ERR_ENUM)
#undef BO__ERR_ENUM
} bo_err;

/** The human sentence for an error. Never NULL ("unknown error" for values not in the list).
 * Context: any thread. */
const char *bo_strerror(bo_err err);

/** The stable wire code, e.g. "E_CERT_EXPIRED" ("OK" for BO_E_OK, "E_UNKNOWN" otherwise).
 * Context: any thread. */
const char *bo_err_name(bo_err err);

/** The group an error belongs to ("general", "input", ...). Context: any thread. */
const char *bo_err_group(bo_err err);

/** Parse a wire code back into a bo_err.
 * Returns BO_E_OK and fills *out, or BO_E_NOT_FOUND. Context: any thread. */
bo_err bo_err_from_name(const char *name, bo_err *out);

/** Iterate the list (for docs generation and tests): returns the i-th error, false past the end. */
int bo_err_at(unsigned i, bo_err *out);

#endif
