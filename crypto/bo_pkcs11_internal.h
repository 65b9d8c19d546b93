/* bidopen crypto/: PKCS#11 keys through the libp11 ENGINE (not a public header). */
#ifndef BO_PKCS11_INTERNAL_H
#define BO_PKCS11_INTERNAL_H

#include <stddef.h>

#include "bo/err.h"
#include "bo/sign.h"

/* Load a private key named by a PKCS#11 URI (RFC 7512) through the libp11 ENGINE "pkcs11"
 * (Debian: libengine-pkcs11-openssl), for when no PKCS#11 provider serves OSSL_STORE.
 * The query attributes module-path (the PKCS#11 module; default: p11-kit-proxy, which loads
 * every registered module) and pin-value are taken here; pass (if not NULL) is the PIN and
 * wins over pin-value. The engine is process-wide in OpenSSL: the first load fixes the
 * module. Errors: NULL with *err = BO_E_UNSUPPORTED (no engine), BO_E_INVALID_ARG (no such
 * key, wrong PIN, bad URI), BO_E_UNSUPPORTED_KEY, BO_E_NOMEM; detail gets a sentence. */
bo_key *bo__pkcs11_engine_key(const char *uri, const char *pass, bo_err *err, char *detail,
                              size_t n);

#endif
