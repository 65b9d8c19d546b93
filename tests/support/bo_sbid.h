/* Integration tests: sealed-bid bidders. A bidder's files and organisation code, bidders
 * with certificates of a test CA of their own, its client, sealing its bid package,
 * submitting it (bo_client_submit_ex), and its responder during the decryption with what it
 * heard counted. Failures fail the running cmocka test (fail_msg), except bo_sbid_seal_try. */
#ifndef BO_SBID_H
#define BO_SBID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bo/package.h"
#include "bo/pki.h"
#include "bo/responder.h"
#include "bo/seal.h"
#include "bo_itest.h"

typedef struct bo_sbid {
    const char *name;
    char sign_cert[800], sign_key[800], enc_cert[800], enc_key[800];
    char uscc[19];
    const char *store; /* the bid-record store of its submissions and responder */
    tc *t;             /* its client (bo_sbid_release frees it) */
    bo_key *key;       /* the encryption key bo_sbid_attach loaded from enc_key */
    bo_responder *resp;
    /* the last bo_sbid_seal */
    uint8_t commit[32], env_sha[32];
    /* the last submission */
    bool done, verified; /* verified: a receipt came and verified */
    bo_err err;
    char code[48], msg[400];
    uint64_t progress; /* bytes the server holds */
    /* the responder since bo_sbid_attach: bo_responder_status by kind */
    unsigned requests, sent, opened, refused, failed, ignored;
    bo_stage stage;         /* of the last failure */
    char last_refusal[400]; /* code and message of the last refusal */
    char why[700];          /* code and message of the last failure, refusal or ignored request */
} bo_sbid;

/** Write n bytes to path (fails the test on error). */
void bo_sbid_write_file(const char *path, const void *p, size_t n);

/** Issue a leaf of ca for organisation org (its uscc) and person, with usage BO_PKI_SIGN or
 * BO_PKI_ENC: <dir>/<what>-key.pem (0600) and <dir>/<what>-cert.pem. */
void bo_sbid_issue(bo_pki_ca *ca, const char *dir, const char *what, bo_keyalg alg,
                   unsigned usage, const char *org, const char *person, const char *uscc);

/** A bo_world_up_prep hook: a CA of its own ("ZJCA X", P-256) with its CRL in <pki>/trust
 * (ca-x.pem, ca-x.crl), and two bidders it issued, with encryption certificates that can
 * receive sealed bids (the demo PKI has three): <pki>/bidders/x1-rsa (RSA) and x2-p256. */
void bo_sbid_prep_x(const char *pki, void *ud);

/** A bidder of index.json by name (b1-rsa, ...): its files and uscc. Clears b first. */
void bo_sbid_init_index(bo_sbid *b, bo_world *w, const char *name, const char *store);
/** A bidder whose files are <dir>/{sign,enc}-{cert,key}.pem (e.g. one of bo_sbid_prep_x):
 * the uscc from its signing certificate. Clears b first. */
void bo_sbid_init_dir(bo_sbid *b, const char *name, const char *dir, const char *store);

/** Its client for oid with its signing and encryption certificates, to urls (NULL: the
 * world's server). Not started. */
tc *bo_sbid_tc(bo_world *w, const bo_sbid *b, const char *const *urls, size_t n_urls,
               const char *oid);

/** Load a key file without a passphrase (fails the test, naming it, when it cannot). */
bo_key *bo_sbid_load_key(const char *path);

/* What goes into a bid package: the form, the letter 投标函.txt (a short text) and, if doc
 * is set, technical.bin read from doc (a file, or a FIFO that bo_bigdoc feeds). */
typedef struct bo_sbid_bid {
    const char *oid;
    const bo_package_field *form;
    size_t n_form;
    const char *doc;
    bool no_letter;            /* technical.bin alone */
    bo_seal_cipher cipher;     /* 0: AES-256-GCM */
    bo_seal_rsa rsa_padding;   /* 0: RSA-OAEP-SHA256 */
} bo_sbid_bid;

/** Seal bid for the bidder uscc: to the encryption certificate in enc_cert, signed with the
 * key in sign_key (its certificate: sign_cert), into out. res (the caller cleans it up with
 * bo_seal_result_cleanup, also on error) and detail tell how it went. Does not fail the
 * test. */
bo_err bo_sbid_seal_with(const char *sign_cert, const char *sign_key, const char *enc_cert,
                         const char *uscc, const bo_sbid_bid *bid, const char *out,
                         bo_seal_result *res, char *detail, size_t detail_len);
/** Same, with b's files and uscc. */
bo_err bo_sbid_seal_try(const bo_sbid *b, const bo_sbid_bid *bid, const char *out,
                        bo_seal_result *res, char *detail, size_t detail_len);
/** Same, failing the test on error; b->commit and b->env_sha are the sealed bid's. */
void bo_sbid_seal(bo_sbid *b, const bo_sbid_bid *bid, const char *out);

/** Start submitting env (its key commitment: commit) for oid over b->t into b->store;
 * b->done, err, code, msg, verified and progress follow it. */
void bo_sbid_submit_start(bo_sbid *b, const char *oid, const char *env,
                          const uint8_t commit[32]);
/** Start, and run the loop until it ends (at most timeout_ms): fails the test unless it
 * succeeded with a verified receipt. Returns the milliseconds it took. */
int64_t bo_sbid_submit(bo_world *w, bo_sbid *b, const char *oid, const char *env,
                       const uint8_t commit[32], int64_t timeout_ms);
/** Run the loop until the n submissions started end (at most timeout_ms), then fail the test
 * on the first that did not succeed (and, with receipts, whose receipt did not verify). */
void bo_sbid_wait_submitted(bo_world *w, bo_sbid *v, size_t n, int64_t timeout_ms,
                            bool receipts);

/** Attach a responder to b->t: key, or (NULL) b->enc_key, loaded once into b->key; it
 * answers decrypt requests from b->store. Clears the counters. */
void bo_sbid_attach(bo_sbid *b, const bo_key *key);
/** Free b's responder (its jobs end in the loop: run it a little after). */
void bo_sbid_detach(bo_sbid *b);
/** A bo_client_run_until condition: b's responder heard its bid opened, a failure or a
 * refusal. */
bool bo_sbid_settled(void *b);
/** Run the loop until each of the n responders heard its bid opened (at most timeout_ms). */
bo_err bo_sbid_wait_opened(bo_world *w, bo_sbid *v, size_t n, int timeout_ms);
/** The responders' counters, one line a bidder, on stderr (when something did not open). */
void bo_sbid_print(const bo_sbid *v, size_t n);

/** The end of the bidders: responders first (their jobs end in the loop, run 200 ms), then
 * the clients and the keys; every pointer NULL after. */
void bo_sbid_release(bo_world *w, bo_sbid *v, size_t n);

#endif
