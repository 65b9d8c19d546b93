/* bidopen-server: the staff roster: which certificates may act as operator, host,
 * supervisor or site. A JSON file: [{"role": "host", "name": "...", "fpr": "<sha256 hex>"}]. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bo/hex.h"
#include "bo_server_internal.h"

bo_err bo__staff_load(bo_srv *srv, const char *path, char *detail, size_t n)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(detail, n, "staff roster %s: line %d: %s", path, jerr.line, jerr.text);
        return BO_E_CONFIG;
    }
    bo_err err = BO_E_OK;
    if (!json_is_array(root)) {
        snprintf(detail, n, "staff roster %s: expected a JSON array of entries", path);
        err = BO_E_CONFIG;
        goto out;
    }
    size_t count = json_array_size(root);
    bo_staff_entry *v = calloc(count ? count : 1, sizeof(*v));
    if (!v) {
        err = BO_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *e = json_array_get(root, i);
        const char *role = json_string_value(json_object_get(e, "role"));
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *fpr = json_string_value(json_object_get(e, "fpr"));
        bo_role r;
        if (!role || bo_role_parse(role, &r) || r == BO_ROLE_BIDDER || r == BO_ROLE_OBSERVER) {
            snprintf(detail, n, "staff roster %s: entry %zu: role must be operator, host, "
                                "supervisor or site", path, i);
            err = BO_E_CONFIG;
        } else if (!name || !*name || strlen(name) >= sizeof(v[i].name)) {
            snprintf(detail, n, "staff roster %s: entry %zu: name missing or too long", path, i);
            err = BO_E_CONFIG;
        } else if (!fpr || bo_hex_decode(fpr, strlen(fpr), v[i].fpr, 32)) {
            snprintf(detail, n, "staff roster %s: entry %zu: fpr must be 64 hex digits "
                                "(SHA-256 of the certificate DER)", path, i);
            err = BO_E_CONFIG;
        }
        if (err) {
            free(v);
            goto out;
        }
        v[i].role = r;
        snprintf(v[i].name, sizeof(v[i].name), "%s", name);
    }
    free(srv->staff);
    srv->staff = v;
    srv->n_staff = count;
out:
    json_decref(root);
    return err;
}

const bo_staff_entry *bo__staff_find(const bo_srv *srv, const uint8_t fpr[32], bo_role role)
{
    for (size_t i = 0; i < srv->n_staff; i++)
        if (srv->staff[i].role == role && memcmp(srv->staff[i].fpr, fpr, 32) == 0)
            return &srv->staff[i];
    return NULL;
}
