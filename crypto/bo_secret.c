#include "bo/secret.h"

#include <string.h>

#include <openssl/crypto.h>

#define SECRET_MAX (1u << 20)

struct bo_secret {
    size_t len;
    uint8_t data[];
};

bo_secret *bo_secret_new(size_t len, bo_err *err)
{
    if (len > SECRET_MAX) {
        *err = BO_E_TOO_BIG;
        return NULL;
    }
    /* Falls back to ordinary (zeroed) memory when no secure heap was initialised. */
    bo_secret *s = OPENSSL_secure_zalloc(sizeof(*s) + len);
    if (!s) {
        *err = BO_E_NOMEM;
        return NULL;
    }
    s->len = len;
    return s;
}

bo_secret *bo_secret_from(const void *p, size_t len, bo_err *err)
{
    bo_secret *s = bo_secret_new(len, err);
    if (s && len)
        memcpy(s->data, p, len);
    return s;
}

uint8_t *bo_secret_data(bo_secret *s)
{
    return s->data;
}

const uint8_t *bo_secret_cdata(const bo_secret *s)
{
    return s->data;
}

size_t bo_secret_len(const bo_secret *s)
{
    return s->len;
}

bool bo_secret_equal(const bo_secret *a, const bo_secret *b)
{
    if (!a || !b)
        return a == b;
    if (a->len != b->len)
        return false;
    return CRYPTO_memcmp(a->data, b->data, a->len) == 0;
}

void bo_secret_free(bo_secret *s)
{
    if (!s)
        return;
    OPENSSL_secure_clear_free(s, sizeof(*s) + s->len);
}
