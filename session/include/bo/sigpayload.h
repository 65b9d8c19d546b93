/* bidopen: the canonical payloads that participants and the server sign
 * (docs/protocol.md §2). Each appends canonical msgpack to out; the signature itself is
 * made over "bidopen/sig/v1" 0x00 ctx 0x00 payload by crypto/ (bo_key_sign, bo_sig_verify).
 * Errors: those of bo_buf_append. Context: any thread. */
#ifndef BO_SIGPAYLOAD_H
#define BO_SIGPAYLOAD_H

#include <stdint.h>

#include <stddef.h>

#include "bo/buf.h"
#include "bo/clock.h"
#include "bo/err.h"

#define BO_CTX_AUTH "auth"
#define BO_CTX_REGISTER "register"
#define BO_CTX_SIGNIN "signin"
#define BO_CTX_HEAD "head"
#define BO_CTX_RECEIPT "receipt"
#define BO_CTX_DECRYPT_REQUEST "decrypt_request"
#define BO_CTX_DECRYPT_RESPONSE "decrypt_response"
#define BO_CTX_DECRYPT_DIAG "decrypt_diag"
#define BO_CTX_CONFIRM "confirm"
#define BO_CTX_OBJECTION "objection"
#define BO_CTX_ANSWER "answer"

/** [nonce(bin 32), role(str), time(int)] */
bo_err bo_sigpayload_auth(bo_buf *out, const uint8_t nonce[32], const char *role, int64_t time);

/** [oid, uscc, sign_fpr(bin 32), enc_fpr(bin 32), nonce(bin 32)] */
bo_err bo_sigpayload_register(bo_buf *out, const char *oid, const char *uscc,
                              const uint8_t sign_fpr[32], const uint8_t enc_fpr[32],
                              const uint8_t nonce[32]);

/** [oid, uscc, nonce(bin 32)] */
bo_err bo_sigpayload_signin(bo_buf *out, const char *oid, const char *uscc,
                            const uint8_t nonce[32]);

/** Receipt (server): [oid, uscc, hash(bin 32), size, commit(bin 32), ts] */
bo_err bo_sigpayload_receipt(bo_buf *out, const char *oid, const char *uscc,
                             const uint8_t hash[32], uint64_t size, const uint8_t commit[32],
                             int64_t ts);

/** Decryption request (server): [oid, uscc, req, bid(bin 32), ri_hash(bin 32),
 * server_pub(bin 32), ends_at] */
bo_err bo_sigpayload_decrypt_request(bo_buf *out, const char *oid, const char *uscc,
                                     const char *req, const uint8_t bid[32],
                                     const uint8_t ri_hash[32], const uint8_t server_pub[32],
                                     int64_t ends_at);

/** Decryption response (bidder): [oid, uscc, req, bid(bin 32), client_pub(bin 32), wrapped] */
bo_err bo_sigpayload_decrypt_response(bo_buf *out, const char *oid, const char *uscc,
                                      const char *req, const uint8_t bid[32],
                                      const uint8_t client_pub[32], const uint8_t *wrapped,
                                      size_t wrapped_len);

/** Decryption diagnostics (bidder): [oid, uscc, req, stage, error, cert_fpr(bin 32)] */
bo_err bo_sigpayload_decrypt_diag(bo_buf *out, const char *oid, const char *uscc,
                                  const char *req, const char *stage, const char *error,
                                  const uint8_t cert_fpr[32]);

/** Confirmation of the opening record (bidder): [oid, uscc, record_hash(bin 32)] */
bo_err bo_sigpayload_confirm(bo_buf *out, const char *oid, const char *uscc,
                             const uint8_t record_hash[32]);

/** Objection (bidder): [oid, uscc, record_hash(bin 32), text]; record_hash is the one the
 * confirmation window opened with (confirmation_opened.record_hash). */
bo_err bo_sigpayload_objection(bo_buf *out, const char *oid, const char *uscc,
                               const uint8_t record_hash[32], const char *text);

/** Answer to objection n (the host): [oid, n(uint), text] */
bo_err bo_sigpayload_answer(bo_buf *out, const char *oid, uint64_t n, const char *text);

/** The hash of an opening record (docs/protocol.md §11): SHA-256 over its canonical msgpack.
 * The record given (e.g. read back from an export) is parsed within generous caps (16 MiB,
 * depth 8) and re-encoded canonically first, so any encoding of the same record gives the
 * same hash. Errors: BO_E_BAD_FIELD (not a map, floats, duplicate keys, text that is not
 * UTF-8), BO_E_MALFORMED, BO_E_TOO_BIG, BO_E_TOO_DEEP, BO_E_TOO_MANY, BO_E_NOMEM.
 * Context: any thread. */
bo_err bo_sigpayload_record_hash(const uint8_t *record_mp, size_t len, uint8_t out[32]);

#endif
