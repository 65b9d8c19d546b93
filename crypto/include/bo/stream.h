/* bidopen: byte streams for sealed bids (packages, envelopes, plaintext), so that multi-GB
 * bids are written and read in constant memory. */
#ifndef BO_STREAM_H
#define BO_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "bo/err.h"

/* Takes n bytes (n > 0). Returns BO_E_OK or an error that stops the producer, which then
 * returns that same error. */
typedef bo_err (*bo_write_fn)(void *ud, const uint8_t *p, size_t n);

/* Reads up to cap bytes into p and sets *got; *got == 0 with BO_E_OK means end of stream.
 * An error stops the consumer, which returns that same error. */
typedef bo_err (*bo_read_fn)(void *ud, uint8_t *p, size_t cap, size_t *got);

/* Progress of a long operation: done of total bytes (total 0 when unknown). Called from the
 * thread doing the work, at most about once per MiB and once at the end. */
typedef void (*bo_progress_fn)(void *ud, uint64_t done, uint64_t total);

/* A memory source for bo_read_fn (tests, fuzzing, small envelopes held in memory). */
typedef struct bo_mem_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
} bo_mem_reader;

/** bo_read_fn over a bo_mem_reader (ud). Never fails. Context: any thread. */
bo_err bo_mem_read(void *ud, uint8_t *p, size_t cap, size_t *got);

#endif
