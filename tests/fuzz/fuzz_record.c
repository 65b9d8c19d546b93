/* Fuzz target for event storage records: what decodes must encode to the very same bytes
 * (records are canonical) and to a wire frame; then, re-chained, it goes through
 * bo_session_fold as the first event of an opening, and as the next event of three
 * openings of fuzz_opening.h: one decrypting, where every kind of protocol.md §10 has a
 * state to be checked against, one announcing and one whose confirmation window is open
 * (the kinds of §11). Fold must either refuse it, leaving the state as it was, or accept it;
 * then every view's snapshot, the record and the accessors must work. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bo/event.h"
#include "bo/session.h"
#include "fuzz_opening.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void look(const bo_session *s)
{
    static const bo_view views[] = {
        {BO_ROLE_OBSERVER, NULL, NULL},
        {BO_ROLE_HOST, (const uint8_t *)"\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a"
                                        "\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a\x1a"
                                        "\x1a\x1a\x1a\x1a\x1a\x1a",
         NULL},
        {BO_ROLE_BIDDER, NULL, "91350100M000100Y43"},
        {BO_ROLE_BIDDER, NULL, "91350100M000100Y45"},
        {BO_ROLE_SUPERVISOR, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
        bo_buf b;
        bo_buf_init(&b, 8u << 20);
        if (bo_session_snapshot(s, &views[i], FZ_ENDS, &b) != BO_E_OK)
            abort();
        bo_buf_cleanup(&b);
    }
    bo_bid_view v;
    for (int i = 0; i < 3; i++)
        if (bo_session_bid(s, fz_uscc[i], &v) && v.req[0] &&
            !bo_session_find_request(s, v.req, NULL))
            abort();
    char due[3][19];
    bo_session_decrypt_due(s, BO_CMD_SIGNIN, fz_uscc[2], due, 3);
    bo_session_decrypt_progress(s, NULL, NULL, NULL, NULL);
    bo_session_next_timer(s);
    bo_buf b;
    bo_buf_init(&b, 8u << 20);
    if (bo_session_record(s, &b) != BO_E_OK)
        abort();
    bo_buf_cleanup(&b);
    uint8_t h[32];
    bo_session_confirm_hash(s, h);
    bo_session_closed_hash(s, h);
    bo_session_announce_progress(s, NULL, NULL);
    bo_session_objections_answered(s);
    bo_session_confirm_window_open(s, FZ_CLOSES);
}

/* As the next event of an opening that setup brings somewhere. */
static void fold_next(bo_event *ev, void (*setup)(fz_opening *o, bo_event_list *log))
{
    fz_opening o;
    setup(&o, NULL);
    uint64_t seq = bo_session_seq(o.s);
    uint8_t head[32];
    memcpy(head, bo_session_head(o.s), 32);
    ev->seq = seq + 1;
    memcpy(ev->prev_hash, head, 32);
    bo_event_compute_hash("o1", ev, ev->hash);
    if (bo_session_fold(o.s, ev) == BO_E_OK) {
        if (bo_session_seq(o.s) != seq + 1)
            abort();
    } else if (bo_session_seq(o.s) != seq || memcmp(bo_session_head(o.s), head, 32)) {
        abort();
    }
    look(o.s);
    bo_session_free(o.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int with_oid = 0; with_oid < 2; with_oid++) {
        bo_event ev;
        if (bo_event_decode_record(with_oid ? "o1" : NULL, data, size, &ev) != BO_E_OK)
            continue;
        bo_buf b;
        bo_buf_init(&b, 8u << 20);
        if (bo_event_encode_record(&ev, &b) != BO_E_OK || b.len != size ||
            memcmp(b.data, data, size))
            abort();
        bo_buf_reset(&b);
        if (bo_event_encode_wire("o1", &ev, BO_STREAM_ALL, &b) != BO_E_OK)
            abort();
        bo_buf_cleanup(&b);
        ev.seq = 1;
        memset(ev.prev_hash, 0, 32);
        bo_event_compute_hash("o1", &ev, ev.hash);
        bo_session *s = bo_session_new("o1", NULL);
        if (s && bo_session_fold(s, &ev) == BO_E_OK && bo_session_seq(s) != 1)
            abort();
        bo_session_free(s);
        if (!with_oid) { /* the hash is rebuilt: any record will do */
            fold_next(&ev, fz_decrypting);
            fold_next(&ev, fz_announcing);
            fold_next(&ev, fz_confirming);
        }
        bo_event_cleanup(&ev);
    }
    return 0;
}
