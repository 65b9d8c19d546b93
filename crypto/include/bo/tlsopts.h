/* bidopen: TLS settings shared by the server and the client (the one place that names
 * OpenSSL's option bits, so libwebsockets users need not). */
#ifndef BO_TLSOPTS_H
#define BO_TLSOPTS_H

/** SSL_OP_* bits that refuse everything below TLS 1.2 and renegotiation. */
long bo_tls_options_min12(void);

/** TLS 1.2 cipher list: forward-secret AEAD suites only. */
const char *bo_tls12_ciphers(void);

#endif
