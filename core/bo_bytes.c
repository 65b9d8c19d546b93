#include "bo/bytes.h"

#include <stdlib.h>
#include <string.h>

bo_err bo_blob_list_push(bo_blob_list *l, const void *p, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return BO_E_NOMEM;
    if (len)
        memcpy(copy, p, len);
    bo_bytes *v = realloc(l->list.v, (l->list.n + 1) * sizeof(*v));
    if (!v) {
        free(copy);
        return BO_E_NOMEM;
    }
    v[l->list.n].p = copy;
    v[l->list.n].len = len;
    l->list.v = v;
    l->list.n++;
    return BO_E_OK;
}

void bo_blob_list_cleanup(bo_blob_list *l)
{
    for (size_t i = 0; i < l->list.n; i++)
        free((void *)l->list.v[i].p);
    free(l->list.v);
    l->list.v = NULL;
    l->list.n = 0;
}
