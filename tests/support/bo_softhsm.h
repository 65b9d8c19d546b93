/* SoftHSM2 tokens for tests (tests/unit/crypto/test_pkcs11.c, tests/integration/test_token.c):
 * a token of the test's own in a directory of its own (SOFTHSM2_CONF, set for this process
 * and the commands it runs), key pairs generated inside it (pkcs11-tool) and certificate
 * requests signed by it through the libp11 engine (`openssl req -engine pkcs11`), i.e. the
 * private keys never exist outside the token.
 *
 * The commands' output goes to DIR/softhsm.log (DIR as given to bo_softhsm_token), printed to
 * stderr when one fails. Context: the test's thread; each call blocks for its command. */
#ifndef BO_SOFTHSM_H
#define BO_SOFTHSM_H

/** NULL when SoftHSM2 (its module and softhsm2-util), pkcs11-tool (opensc) and the pkcs11
 * engine (libengine-pkcs11-openssl) are installed; else why not, for a skip message. */
const char *bo_softhsm_missing(void);

/** The path of libsofthsm2.so, or NULL when it is not installed. */
const char *bo_softhsm_module(void);

/** In dir (which must exist): DIR/tokens, DIR/softhsm2.conf, SOFTHSM2_CONF set to it, and a
 * token labelled label with the user PIN pin and the SO PIN so_pin. Returns 0, or the failed
 * command's exit status. */
int bo_softhsm_token(const char *dir, const char *label, const char *pin, const char *so_pin);

/** A key pair generated in the token (key_type as pkcs11-tool takes it: "rsa:2048",
 * "EC:prime256v1"), with CKA_ID id (hex) and CKA_LABEL object. Returns 0 or an exit status. */
int bo_softhsm_keypair(const char *label, const char *pin, const char *key_type, const char *id,
                       const char *object);

/** A PKCS#10 request for subj (openssl's "/C=CN/O=.../CN=..." form, UTF-8) signed by the
 * token's private key object, written to csr_out (PEM). Returns 0 or an exit status. */
int bo_softhsm_csr(const char *label, const char *pin, const char *object, const char *subj,
                   const char *csr_out);

#endif
