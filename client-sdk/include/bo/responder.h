/* bidopen client: remote decryption on the bidder's side (docs/protocol.md §10, "Opening";
 * docs/sealed-bids.md §5), and the pre-flight check.
 *
 * A bo_responder attached to a bidder's client answers every decrypt_request of its private
 * stream (and the one a snapshot carries in me.req after a reconnect) by itself:
 *
 *   1. the request names this bidder and this opening, its signature verifies with the
 *      server's key (server_key), the opening is decrypting (decryption_started seen, or the
 *      snapshot's phase), and its envelope hash and RecipientInfo are those of a bid this
 *      client recorded when it submitted (bo/bidstore.h; bo_handoff_check_request): a
 *      request that fails these gets no answer at all;
 *   2. on the libuv worker pool: the key must be the one the bid was sealed to (a renewed
 *      certificate is diagnosed as such, naming both certificates), the CEK is unwrapped
 *      (bo_cek_unwrap) and checked against the recorded key commitment, re-wrapped for the
 *      server's ephemeral key (bo_handoff_client_wrap, bound to oid, request id, envelope
 *      hash and RecipientInfo) and the response signed (ctx "decrypt_response");
 *   3. decrypt_response is sent; or, when the client cannot decrypt, decrypt_failed with
 *      signed diagnostics: stage token | cert | unwrap | other, a sentence, and the
 *      fingerprint of the encryption certificate this client holds. Every failure that
 *      involves the private key reads the same ("unwrap"), so the client is no padding
 *      oracle.
 *
 * bo_preflight runs steps 2's checks locally, any time before the opening, and sends
 * nothing.
 */
#ifndef BO_RESPONDER_H
#define BO_RESPONDER_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/bidstore.h"
#include "bo/client.h"
#include "bo/clock.h"
#include "bo/err.h"
#include "bo/secret.h"
#include "bo/sign.h"
#include "bo/submit.h"

#define BO_RESPONDER_ERROR_MAX 200u /* characters of decrypt_failed.error */

/* Where a decryption failed (decrypt_failed.stage). */
typedef enum bo_stage {
    BO_STAGE_OK = 0,
    BO_STAGE_TOKEN,  /* "token": the key store or token failed (the key could not be loaded) */
    BO_STAGE_CERT,   /* "cert": the key is not the one the bid was sealed to (renewed or
                        wrong certificate) */
    BO_STAGE_UNWRAP, /* "unwrap": the key did not recover the bid's key (uniform) */
    BO_STAGE_OTHER,  /* "other" */
} bo_stage;

/** "token", "cert", "unwrap", "other"; "ok" for BO_STAGE_OK. Never NULL. Pure. */
const char *bo_stage_name(bo_stage s);

/* ------------------------------------------------------- requests (pure) ---- */

/* A decrypt_request body: {uscc, req, bid, ri, server_pub, ends_at, sig}. */
typedef struct bo_responder_request {
    char uscc[19];
    char req[33];          /* 32 lowercase hex characters */
    uint8_t bid[32];       /* the envelope hash */
    uint8_t ri[BO_BIDSTORE_RI_MAX];
    size_t ri_len;
    uint8_t server_pub[32];
    int64_t ends_at;
    uint8_t sig[BO_SIG_MAX];
    size_t sig_len;
} bo_responder_request;

/** Parse a decrypt_request body (an event body or the snapshot's me.req).
 * Errors: BO_E_MALFORMED (detail names the field), BO_E_TOO_BIG (ri over the cap). Pure. */
bo_err bo_responder_request_parse(const msgpack_object *body, bo_responder_request *out,
                                  char *detail, size_t n);

/** Everything to check before any unwrap: the request is for uscc (else BO_E_FORBIDDEN),
 * its signature (ctx "decrypt_request" over [oid, uscc, req, bid, SHA-256(ri), server_pub,
 * ends_at]) verifies with the server's key (else BO_E_BAD_SIGNATURE), and
 * bo_handoff_check_request passes against recs: started_at is when the opening started
 * decrypting (server time; 0: not yet) (BO_E_TOO_EARLY), and one record has this oid,
 * envelope hash and RecipientInfo hash (BO_E_NOT_MY_ENVELOPE). *idx gets that record.
 * detail gets a sentence. Context: any thread. */
bo_err bo_responder_check(const bo_responder_request *r, const char *oid, const char *uscc,
                          const bo_server_key *key, const bo_bid_record *recs, size_t n_recs,
                          bo_time_ms started_at, bo_time_ms now, size_t *idx, char *detail,
                          size_t n);

/* ------------------------------------------------------- unwrapping ---- */

/* What the local checks found (bo_responder_unwrap, bo_preflight). */
typedef struct bo_preflight_result {
    bo_stage stage;      /* BO_STAGE_OK: the key recovers the bid's key and it matches */
    bo_err err;          /* BO_E_OK, or why */
    char msg[600];       /* a sentence for people (also when OK) */
    char wire[BO_RESPONDER_ERROR_MAX + 1]; /* the same, at most 200 characters, for
                                              decrypt_failed.error */
    /* the certificate the bid was sealed to, and the one held now (if given) */
    char sealed_serial[65];
    bo_time_ms sealed_not_after;
    char held_serial[65];
    bo_time_ms held_not_after;
    bool renewed; /* the key belongs to the held certificate, which is not the sealed one */
} bo_preflight_result;

/** Recover the CEK of a recorded bid with key: the key must belong to the certificate the
 * bid was sealed to (rec->enc_cert), else stage CERT with a message naming that certificate
 * and, when held_cert (the encryption certificate the bidder holds now; may be NULL) is
 * another one, that one too ("certificate renewed: ..."). Then bo_cek_unwrap and the key
 * commitment check: any failure there is stage UNWRAP with one uniform message. key NULL:
 * stage TOKEN (key_error, may be NULL, says why).
 * Returns the stage; *cek (may be NULL: check only) gets the CEK on BO_STAGE_OK.
 * Ownership: *cek is the caller's (bo_secret_free). Context: any thread (a token may
 * block). */
bo_stage bo_responder_unwrap(const bo_bid_record *rec, const bo_key *key, const char *key_error,
                             const uint8_t *held_cert, size_t held_len, bo_secret **cek,
                             bo_preflight_result *out);

/** Pre-flight (days before the opening): the key recovers the bid's key and it matches the
 * commitment; the key is wiped at once and nothing is sent. enc_cert (may be NULL) is the
 * encryption certificate the bidder holds now.
 * Errors: out->err (BO_E_OK when ready). Context: any thread (a token may block). */
bo_err bo_preflight(const bo_bid_record *rec, const bo_key *enc_key, const uint8_t *enc_cert,
                    size_t enc_cert_len, bo_preflight_result *out);

/* ------------------------------------------------------------ the responder ---- */

typedef enum bo_responder_what {
    BO_RESP_REQUEST = 1, /* a request arrived (req, bid) */
    BO_RESP_IGNORED,     /* it is not answered: err and msg say why (bad signature, not a
                            bid of ours, another bidder's, malformed) */
    BO_RESP_WAITING,     /* it waits: the opening has not started decrypting here yet */
    BO_RESP_SENT,        /* decrypt_response sent: the server is opening the bid */
    BO_RESP_OPENED,      /* the server opened the bid (or it was already open) */
    BO_RESP_REFUSED,     /* the server refused the response: code, msg */
    BO_RESP_FAILED,      /* this client cannot decrypt: stage, msg (for people); the signed
                            diagnostics went to the server (err: how they were received) */
} bo_responder_what;

typedef struct bo_responder_status {
    bo_responder_what what;
    const char *req;        /* the request id */
    const uint8_t *bid;     /* 32 bytes: the envelope hash (NULL when unknown) */
    bo_err err;
    const char *code;       /* the server's code, or NULL */
    const char *msg;        /* a sentence, or NULL */
    bo_stage stage;         /* BO_RESP_FAILED */
    const bo_preflight_result *diag; /* BO_RESP_FAILED: the details (serials), else NULL */
} bo_responder_status;

typedef struct bo_responder_opts {
    const bo_key *enc_key;     /* the encryption key (file, PKCS#12 or pkcs11:); NULL: it
                                  could not be loaded, every request is answered with
                                  decrypt_failed stage "token" and key_error */
    const char *key_error;     /* why enc_key is NULL (copied) */
    const uint8_t *enc_cert;   /* the encryption certificate held now; NULL: the client's
                                  enc_chain[0] (copied) */
    size_t enc_cert_len;
    const char *store_dir;     /* the bid store; NULL: the default directory */
    const bo_bid_record *records; /* more records (e.g. from a sidecar), copied */
    size_t n_records;
    void (*on_status)(void *ud, const bo_responder_status *st); /* may be NULL */
    void *ud;
} bo_responder_opts;

typedef struct bo_responder bo_responder;

/** Attach a responder to a bidder's client. Create it before bo_client_start (it needs the
 * join's snapshot: a responder made later makes the client rejoin once, resuming from its
 * cursors). It answers requests until freed.
 * Errors: NULL with *err = BO_E_INVALID_ARG (not a bidder client, no oid to join),
 * BO_E_EXISTS (the client has one), BO_E_NOMEM.
 * Ownership: bo_responder_free. The keys (enc_key, the client's signing key) must stay
 * valid until the loop has run after bo_responder_free (a job on the worker pool may still
 * use them). Context: loop thread. */
bo_responder *bo_responder_new(bo_client *c, const bo_responder_opts *o, bo_err *err);

/** Detach and free (at once, or when the job in flight returns). No status callback runs
 * afterwards. Accepts NULL. Context: loop thread. */
void bo_responder_free(bo_responder *r);

/* Counts since creation. */
typedef struct bo_responder_stats {
    unsigned requests; /* distinct requests seen */
    unsigned sent;     /* decrypt_response sent */
    unsigned opened;   /* bids the server opened */
    unsigned refused;  /* responses the server refused */
    unsigned failed;   /* decrypt_failed sent */
    unsigned ignored;  /* requests not answered */
} bo_responder_stats;

/** Context: loop thread. */
void bo_responder_get_stats(const bo_responder *r, bo_responder_stats *out);

#endif
