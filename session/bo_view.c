/* bidopen: who sees what: the streams of a view and the snapshot (docs/protocol.md §7). */
#include <string.h>

#include "bo/session.h"

const char *bo_stream_name(bo_stream st)
{
    switch (st) {
    case BO_STREAM_PUB:
        return "pub";
    case BO_STREAM_STAFF:
        return "staff";
    case BO_STREAM_BIDDER:
        return "b";
    case BO_STREAM_ALL:
        return "all";
    default:
        return NULL;
    }
}
