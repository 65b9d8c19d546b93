/* bidopen client: a participant's credentials, loaded from files: the private key, the
 * signing chain and, for bidders, the encryption chain (all DER, leaf first). crypto/ does
 * the parsing; this only puts the pieces together and checks that they belong together.
 */
#ifndef BO_CRED_H
#define BO_CRED_H

#include <stddef.h>

#include "bo/bytes.h"
#include "bo/err.h"
#include "bo/sign.h"

typedef struct bo_cred_files {
    const char *cert;     /* PEM signing chain, leaf first (ignored with p12) */
    const char *key;      /* private key file (PEM/DER, maybe encrypted); NULL: from cert */
    const char *pass;     /* password of the key or the PKCS#12 file; NULL: none */
    const char *p12;      /* PKCS#12 file with key and signing chain; NULL: use cert + key */
    const char *enc_cert; /* PEM encryption chain (bidders); NULL: none */
} bo_cred_files;

typedef struct bo_cred bo_cred;

/** Load and check: the key must match the signing certificate; the encryption chain, when
 * given, must parse. Errors: NULL with *err = BO_E_INVALID_ARG (nothing to load, no
 * certificate, key does not match the certificate, wrong password), BO_E_IO (unreadable
 * file), BO_E_CERT_INVALID, BO_E_TOO_BIG, BO_E_UNSUPPORTED_KEY, BO_E_NOMEM; detail gets a
 * sentence naming the file. Ownership: bo_cred_free. Context: any thread (file I/O). */
bo_cred *bo_cred_load(const bo_cred_files *f, bo_err *err, char *detail, size_t n);

/** Accepts NULL; the key is wiped. */
void bo_cred_free(bo_cred *c);

/** The pieces, valid until bo_cred_free. enc_chain has n == 0 when none was given. */
const bo_key *bo_cred_key(const bo_cred *c);
bo_bytes_list bo_cred_chain(const bo_cred *c);
bo_bytes_list bo_cred_enc_chain(const bo_cred *c);

#endif
