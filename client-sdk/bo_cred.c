#include "bo/cred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo/cert.h"

struct bo_cred {
    bo_key *key;
    bo_blob_list chain;
    bo_blob_list enc;
};

static bo_cred *fail(bo_cred *c, bo_err *err, bo_err e)
{
    bo_cred_free(c);
    *err = e;
    return NULL;
}

bo_cred *bo_cred_load(const bo_cred_files *f, bo_err *err, char *detail, size_t n)
{
    if (detail && n)
        detail[0] = 0;
    bo_cred *c = calloc(1, sizeof(*c));
    if (!c)
        return fail(NULL, err, BO_E_NOMEM);
    bo_err e = BO_E_OK;
    if (f->p12) {
        c->key = bo_key_load_p12(f->p12, f->pass, &c->chain, &e, detail, n);
        if (!c->key) {
            if (detail && n && !detail[0])
                snprintf(detail, n, "%s: %s", f->p12, bo_strerror(e));
            return fail(c, err, e);
        }
    } else {
        if (!f->cert) {
            if (detail && n)
                snprintf(detail, n, "no certificate: give --cert (and --key) or --p12");
            return fail(c, err, BO_E_INVALID_ARG);
        }
        e = bo_pem_chain_load(f->cert, &c->chain);
        if (e) {
            if (detail && n)
                snprintf(detail, n, "%s: %s", f->cert, bo_strerror(e));
            return fail(c, err, e);
        }
        const char *kf = f->key ? f->key : f->cert;
        c->key = bo_key_load(kf, f->pass, &e, detail, n);
        if (!c->key) {
            char why[200];
            snprintf(why, sizeof(why), "%s", detail && n && detail[0] ? detail : bo_strerror(e));
            if (detail && n)
                snprintf(detail, n, "%s: %s", kf, why);
            return fail(c, err, e);
        }
    }
    if (c->chain.list.n == 0) {
        if (detail && n)
            snprintf(detail, n, "no certificate in the signing chain");
        return fail(c, err, BO_E_INVALID_ARG);
    }
    e = bo_key_matches_cert(c->key, c->chain.list.v[0].p, c->chain.list.v[0].len);
    if (e) {
        if (detail && n)
            snprintf(detail, n, "the private key does not belong to the signing certificate");
        return fail(c, err, e == BO_E_NOT_FOUND ? BO_E_INVALID_ARG : e);
    }
    if (f->enc_cert) {
        e = bo_pem_chain_load(f->enc_cert, &c->enc);
        if (e) {
            if (detail && n)
                snprintf(detail, n, "%s: %s", f->enc_cert, bo_strerror(e));
            return fail(c, err, e);
        }
    }
    *err = BO_E_OK;
    return c;
}

void bo_cred_free(bo_cred *c)
{
    if (!c)
        return;
    bo_key_free(c->key);
    bo_blob_list_cleanup(&c->chain);
    bo_blob_list_cleanup(&c->enc);
    free(c);
}

const bo_key *bo_cred_key(const bo_cred *c)
{
    return c->key;
}

bo_bytes_list bo_cred_chain(const bo_cred *c)
{
    return c->chain.list;
}

bo_bytes_list bo_cred_enc_chain(const bo_cred *c)
{
    return c->enc.list;
}
