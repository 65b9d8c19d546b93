/* bidopen: the tender definition an opening is created from (docs/protocol.md §5). */
#include <string.h>

#include "bo/tender.h"

bool bo_oid_valid(const char *oid)
{
    if (!oid)
        return false;
    size_t n = strlen(oid);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = oid[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}
