/* Fuzz target for transcripts read back from outside (`bidopen verify`, docs/transcript.md):
 * bo_transcript_parse must either refuse or give a transcript that writes back and parses
 * again to the same events; its public form must parse; bo_verify must run to the end on
 * whatever parses or not, reporting at least one finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/transcript.h"
#include "bo/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *ud, const bo_verify_finding *f)
{
    if (!f->msg || !f->msg[0] || !f->check)
        abort();
    (*(unsigned *)ud)++;
}

static const bo_event *get(void *ud, size_t i)
{
    return &((const bo_transcript *)ud)->events[i].ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bo_transcript *t = NULL;
    if (bo_transcript_parse(data, size, &t, NULL, 0) == BO_E_OK) {
        bool withheld = false;
        for (size_t i = 0; i < t->n_events; i++)
            withheld |= t->events[i].withheld;
        bo_buf out;
        bo_buf_init(&out, BO_TRANSCRIPT_MAX_BYTES);
        if (!withheld) {
            /* written back (full) and read again: the same events */
            bo_transcript *u = NULL;
            if (bo_transcript_build(t->oid, BO_TRANSCRIPT_FULL, &t->server, t->n_events, get, t,
                                    &out) != BO_E_OK ||
                bo_transcript_parse(out.data, out.len, &u, NULL, 0) != BO_E_OK ||
                u->n_events != t->n_events)
                abort();
            for (size_t i = 0; i < t->n_events; i++)
                if (memcmp(u->events[i].ev.hash, t->events[i].ev.hash, 32) ||
                    u->events[i].ev.body_len != t->events[i].ev.body_len ||
                    memcmp(u->events[i].body_hash, t->events[i].body_hash, 32))
                    abort();
            bo_transcript_free(u);
        }
        bo_buf_reset(&out);
        bo_transcript *p = NULL;
        if (bo_transcript_redact(data, size, &out, NULL, 0) != BO_E_OK ||
            bo_transcript_parse(out.data, out.len, &p, NULL, 0) != BO_E_OK ||
            p->kind != BO_TRANSCRIPT_PUBLIC || p->n_events != t->n_events)
            abort();
        bo_transcript_free(p);
        bo_buf_cleanup(&out);
        bo_transcript_free(t);
    }
    unsigned n = 0;
    bo_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.report = count;
    o.ud = &n;
    bo_verify_summary sum;
    if (bo_verify(data, size, &o, &sum) != BO_E_OK || !n)
        abort();
    return 0;
}
