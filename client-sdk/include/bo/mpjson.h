/* bidopen client: msgpack objects as JSON text (the CLI's --json output).
 *
 * Maps become objects (a key that is not a string is written as the JSON text of the key,
 * quoted), arrays arrays, bin and ext lower-case hex strings, nil null, booleans and
 * integers as themselves, floats with 17 significant digits (NaN and infinities as null).
 * Strings are escaped; invalid UTF-8 becomes U+FFFD, so the output is always valid JSON.
 */
#ifndef BO_MPJSON_H
#define BO_MPJSON_H

#include <msgpack.h>

#include "bo/buf.h"

#define BO_MPJSON_MAX_DEPTH 32

/** Append o as compact JSON (no spaces, no newline) to out.
 * Errors: BO_E_TOO_DEEP (nesting beyond BO_MPJSON_MAX_DEPTH), those of bo_buf_append; on
 * error out may hold a partial text. Ownership: nothing is kept. Context: any thread. */
bo_err bo_mpjson_append(bo_buf *out, const msgpack_object *o);

#endif
