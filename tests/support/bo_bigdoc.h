/* Integration tests with big bids: documents generated on the fly (never stored as files),
 * fed to the package writer through a FIFO, and the resident memory of a process sampled
 * from /proc while it works. Everything here is for tests only. */
#ifndef BO_BIGDOC_H
#define BO_BIGDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- a reproducible pseudo-random stream ---- */

/** Fill p with bytes [off, off+n) of the stream of seed: byte o is byte (o % 8) (little
 * endian) of splitmix64(seed + (o / 8) * golden), so any piece can be made again on its own
 * (to compare what a reader gets with what was written). Pure. */
void bo_bd_fill(uint64_t seed, uint64_t off, uint8_t *p, size_t n);

/** SHA-256 of the first size bytes of the stream, computed here (no file). Aborts on an
 * internal error. */
void bo_bd_sha256(uint64_t seed, uint64_t size, uint8_t out[32]);

/* ---- a document made on the fly ---- */

/* A FIFO at a path that delivers the stream (size bytes) to each of `passes` readers in
 * turn: bo_package_prepare reads a document once to hash it and bo_package_emit once more
 * to copy it, so a package of a "1 GiB file" needs no such file. A thread of its own writes;
 * each pass gets a fresh FIFO at the path (made before the previous pass ends), so a reader
 * never gets two passes in one. */
typedef struct bo_bd_fifo bo_bd_fifo;

/** mkfifo(path) and start the writer thread. Aborts the test on failure.
 * Ownership: bo_bd_fifo_finish. Context: any thread. */
bo_bd_fifo *bo_bd_fifo_start(const char *path, uint64_t size, uint64_t seed, unsigned passes);

/** Wait for the writer (unblocking it if a reader never came: the writer then stops),
 * remove the FIFO, and return how many passes were written completely; sha_out (may be
 * NULL; room for `passes` digests) gets the SHA-256 of each complete pass as written.
 * Frees f. Context: the thread that started it. */
unsigned bo_bd_fifo_finish(bo_bd_fifo *f, uint8_t (*sha_out)[32]);

/* ---- resident memory of a process (Linux /proc) ---- */

typedef struct bo_bd_mem {
    uint64_t rss_kb;  /* VmRSS */
    uint64_t hwm_kb;  /* VmHWM: the peak since start or the last bo_bd_mem_reset_peak */
    uint64_t anon_kb; /* RssAnon */
    uint64_t file_kb; /* RssFile */
} bo_bd_mem;

/** Read /proc/<pid>/status. Returns false if the process is gone or a field is missing. */
bool bo_bd_mem_read(pid_t pid, bo_bd_mem *out);

/** Reset the kernel's peak (VmHWM) of pid to its current RSS (write "5" to
 * /proc/<pid>/clear_refs; the process must be ours). Returns false if that failed. */
bool bo_bd_mem_reset_peak(pid_t pid);

#define BO_BD_PHASES 8

/* A thread that samples VmRSS of pid at a fixed interval and keeps the peak (and RssAnon,
 * RssFile at that moment) per phase, a number the test sets as it goes. */
typedef struct bo_bd_sampler bo_bd_sampler;

typedef struct bo_bd_phase_stat {
    unsigned samples;
    bo_bd_mem peak; /* the sample with the largest VmRSS in this phase */
} bo_bd_phase_stat;

/** Start sampling every interval_ms, in phase 0. Aborts the test on failure.
 * Ownership: bo_bd_sampler_stop. Context: any thread. */
bo_bd_sampler *bo_bd_sampler_start(pid_t pid, unsigned interval_ms);

/** The phase the next samples belong to (0 .. BO_BD_PHASES-1). Context: any thread. */
void bo_bd_sampler_phase(bo_bd_sampler *s, unsigned phase);

/** Stop, copy the per-phase statistics into out (BO_BD_PHASES entries) and free s.
 * Context: the thread that started it. */
void bo_bd_sampler_stop(bo_bd_sampler *s, bo_bd_phase_stat out[BO_BD_PHASES]);

/* ---- disk ---- */

/** Bytes available to us on the file system holding dir (statvfs f_bavail); 0 on error. */
uint64_t bo_bd_disk_free(const char *dir);

#endif
