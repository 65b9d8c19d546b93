#include "bo/err.h"

#include <string.h>

typedef struct {
    bo_err err;
    const char *name;
    const char *group;
    const char *msg;
} err_row;

static const err_row rows[] = {
#define BO__ERR_ROW(name, num, group, msg) {BO_E_##name, (num) == 0 ? "OK" : "E_" #name, group, msg},
    BO_ERR_MAP(BO__ERR_ROW)
#undef BO__ERR_ROW
};

static const err_row *find(bo_err err)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].err == err)
            return &rows[i];
    return NULL;
}

const char *bo_strerror(bo_err err)
{
    const err_row *r = find(err);
    return r ? r->msg : "unknown error";
}

const char *bo_err_name(bo_err err)
{
    const err_row *r = find(err);
    return r ? r->name : "E_UNKNOWN";
}

const char *bo_err_group(bo_err err)
{
    const err_row *r = find(err);
    return r ? r->group : "general";
}

bo_err bo_err_from_name(const char *name, bo_err *out)
{
    for (size_t i = 0; name && i < sizeof(rows) / sizeof(rows[0]); i++)
        if (strcmp(rows[i].name, name) == 0) {
            *out = rows[i].err;
            return BO_E_OK;
        }
    return BO_E_NOT_FOUND;
}

int bo_err_at(unsigned i, bo_err *out)
{
    if (i >= sizeof(rows) / sizeof(rows[0]))
        return 0;
    *out = rows[i].err;
    return 1;
}
