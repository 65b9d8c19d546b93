#include "bo/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

struct bo_sha256_ctx {
    EVP_MD_CTX *md;
};

void bo_sha256(const void *data, size_t len, uint8_t out[BO_SHA256_LEN])
{
    unsigned int n = BO_SHA256_LEN;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

bo_sha256_ctx *bo_sha256_new(bo_err *err)
{
    bo_sha256_ctx *c = OPENSSL_zalloc(sizeof(*c));
    if (!c || !(c->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
        bo_sha256_free(c);
        *err = BO_E_NOMEM;
        return NULL;
    }
    return c;
}

void bo_sha256_update(bo_sha256_ctx *ctx, const void *data, size_t len)
{
    EVP_DigestUpdate(ctx->md, data, len);
}

void bo_sha256_final(bo_sha256_ctx *ctx, uint8_t out[BO_SHA256_LEN])
{
    unsigned int n = BO_SHA256_LEN;
    EVP_DigestFinal_ex(ctx->md, out, &n);
}

void bo_sha256_reset(bo_sha256_ctx *ctx)
{
    EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL);
}

void bo_sha256_free(bo_sha256_ctx *ctx)
{
    if (!ctx)
        return;
    EVP_MD_CTX_free(ctx->md);
    OPENSSL_free(ctx);
}

bo_err bo_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[BO_SHA256_LEN])
{
    unsigned int n = BO_SHA256_LEN;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n))
        return BO_E_INTERNAL;
    return BO_E_OK;
}

bo_err bo_random_bytes(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? BO_E_OK : BO_E_INTERNAL;
}

int bo_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
