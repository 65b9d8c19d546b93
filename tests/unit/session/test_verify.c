/* Tests for the offline verifier (session/bo_verify.c): a clean opening verifies, full and
 * public; then each tampering is reported exactly: which check, which event and what it
 * says, and nothing else is called wrong. The tamperings: a changed price in bid_form and in
 * bid_announced, a dropped event, reordered events, a forged confirmation, a forged signed
 * head, a wrong seed, a changed benchmark price, a truncated log, another server key; each
 * as a careless forger (the chain breaks) and, where it matters, as a dishonest server that
 * rebuilds the chain and signs it again (the replay and the recomputations catch it). */
#include "opening_fx.h"

#include "bo/verify.h"

static ofx *F; /* a clean closed opening */

#define MAX_FINDINGS 256

typedef struct finding {
    bo_verify_level level;
    char check[24];
    uint64_t seq;
    char msg[1024];
} finding;

typedef struct findings {
    finding v[MAX_FINDINGS];
    size_t n;
    bo_verify_summary sum;
} findings;

static void collect(void *ud, const bo_verify_finding *f)
{
    findings *fs = ud;
    assert_non_null(f->msg);
    assert_true(f->msg[0]);
    assert_true(f->seq == 0 || f->kind != NULL || f->level != BO_VERIFY_PASSED);
    if (fs->n == MAX_FINDINGS)
        return;
    finding *x = &fs->v[fs->n++];
    x->level = f->level;
    snprintf(x->check, sizeof(x->check), "%s", f->check);
    x->seq = f->seq;
    snprintf(x->msg, sizeof(x->msg), "%s", f->msg);
}

static void dump(const findings *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        print_message("  %-9s %-12s %3llu  %s\n", bo_verify_level_name(fs->v[i].level),
                      fs->v[i].check, (unsigned long long)fs->v[i].seq, fs->v[i].msg);
}

typedef struct vopts {
    bool no_trust;
    bool host_cert;
    const uint8_t *expect_key;
} vopts;

static void verify_bytes(const bo_buf *t, const vopts *vo, findings *fs)
{
    memset(fs, 0, sizeof(*fs));
    bo_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.trust = vo && vo->no_trust ? NULL : F->trust;
    o.server_key_fpr = vo ? vo->expect_key : NULL;
    if (!vo || vo->host_cert)
        o.host_cert = F->host.sign.list.v[0];
    o.report = collect;
    o.ud = fs;
    assert_int_equal(bo_verify(t->data, t->len, &o, &fs->sum), BO_E_OK);
    if (getenv("BO_VERIFY_DUMP")) /* to read the findings */
        dump(fs);
}

static void verify_log(const bo_event_list *log, bo_transcript_kind kind, const vopts *vo,
                       findings *fs)
{
    bo_buf t;
    bo_buf_init(&t, 64u << 20);
    ofx_transcript_of(F, log, kind, &t);
    verify_bytes(&t, vo, fs);
    bo_buf_cleanup(&t);
}

/* One expected error: its check, its event, and words its message must contain. */
typedef struct want {
    const char *check;
    uint64_t seq;
    const char *says;
} want;

/* The errors are exactly these (in any order). */
static void expect_errors(const findings *fs, const want *w, size_t n)
{
    bool seen[16] = {false};
    bool bad = false;
    for (size_t i = 0; i < fs->n; i++) {
        const finding *f = &fs->v[i];
        if (f->level != BO_VERIFY_ERROR)
            continue;
        bool matched = false;
        for (size_t k = 0; k < n && !matched; k++)
            if (!seen[k] && !strcmp(f->check, w[k].check) && f->seq == w[k].seq &&
                strstr(f->msg, w[k].says))
                matched = seen[k] = true;
        if (!matched) {
            print_message("unexpected error: %s event %llu: %s\n", f->check,
                          (unsigned long long)f->seq, f->msg);
            bad = true;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (!seen[k]) {
            print_message("missing error: %s event %llu saying \"%s\"\n", w[k].check,
                          (unsigned long long)w[k].seq, w[k].says);
            bad = true;
        }
    if (bad) {
        dump(fs);
        fail_msg("the findings are not the expected ones");
    }
    assert_int_equal(fs->sum.errors, n);
}

static bool has(const findings *fs, bo_verify_level l, const char *check, const char *says)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i].level == l && !strcmp(fs->v[i].check, check) && strstr(fs->v[i].msg, says))
            return true;
    return false;
}

static int setup(void **state)
{
    F = ofx_new(NULL);
    return 0;
}

static int teardown(void **state)
{
    ofx_free(F);
    return 0;
}

/* ------------------------------------------------------------------ clean ---- */

static void clean_full(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    vopts vo = {.host_cert = true, .expect_key = F->server_fpr};
    verify_log(&F->log, BO_TRANSCRIPT_FULL, &vo, fs);
    expect_errors(fs, NULL, 0);
    assert_int_equal(fs->sum.unchecked, 0);
    assert_true(fs->sum.replayed);
    assert_true(fs->sum.closed);
    assert_true(fs->sum.has_record);
    bo_buf rec;
    bo_buf_init(&rec, 16u << 20);
    ofx_record(F, &rec);
    uint8_t h[32];
    bo_sha256(rec.data, rec.len, h);
    assert_memory_equal(fs->sum.record_hash, h, 32);
    bo_buf_cleanup(&rec);
    assert_string_equal(fs->sum.oid, OFX_OID);
    assert_int_equal(fs->sum.events, F->log.n);
    /* 3 registrations, 3 sign-ins, 1 diagnostics, 3 responses, 1 confirmation, 1 objection,
     * 1 answer */
    assert_int_equal(fs->sum.participant_sigs, 13);
    assert_true(fs->sum.server_sigs >= 3 + 3 + 5); /* receipts, requests, heads */
    assert_true(has(fs, BO_VERIFY_PASSED, "chain", "whole"));
    assert_true(has(fs, BO_VERIFY_PASSED, "head", "the last covers event"));
    assert_true(has(fs, BO_VERIFY_PASSED, "signature", "certificates valid"));
    assert_true(has(fs, BO_VERIFY_PASSED, "replay", "replays all"));
    assert_true(has(fs, BO_VERIFY_PASSED, "record", "record_hash of opening_closed"));
    assert_true(has(fs, BO_VERIFY_PASSED, "server", "trusted"));
    free(fs);
}

static void clean_public(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    verify_log(&F->log, BO_TRANSCRIPT_PUBLIC, NULL, fs);
    expect_errors(fs, NULL, 0);
    assert_false(fs->sum.replayed);
    assert_true(fs->sum.closed); /* opening_closed is public */
    /* what a public transcript cannot show is said */
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "signature", "public transcript"));
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "record", "not recomputed"));
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "head", "withheld"));
    /* and what it can is recomputed */
    assert_true(has(fs, BO_VERIFY_PASSED, "draw", "draws 2 "));
    assert_true(has(fs, BO_VERIFY_PASSED, "draw", "benchmark prices 1"));
    assert_true(has(fs, BO_VERIFY_PASSED, "chain", "whole"));
    free(fs);
}

static void without_trust_and_host(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    vopts vo = {.no_trust = true};
    verify_log(&F->log, BO_TRANSCRIPT_FULL, &vo, fs);
    expect_errors(fs, NULL, 0);
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "certificate", "not checked against a trust"));
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "signature", "--host-cert"));
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "server", "no trust store"));
    free(fs);
}

static void another_server_key(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    uint8_t other[32];
    memset(other, 0x77, 32);
    vopts vo = {.host_cert = true, .expect_key = other};
    verify_log(&F->log, BO_TRANSCRIPT_FULL, &vo, fs);
    want w[] = {{"server", 0, "not the expected key"}};
    expect_errors(fs, w, 1);
    free(fs);
}

static void not_a_transcript(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_buf b;
    bo_buf_init(&b, 64);
    bo_buf_append(&b, "\x82\xa1v", 3);
    verify_bytes(&b, NULL, fs);
    want w[] = {{"transcript", 0, "cannot be read"}};
    expect_errors(fs, w, 1);
    bo_buf_cleanup(&b);
    free(fs);
}

/* -------------------------------------------------------- careless forger ---- */

/* bidder 0's price in its opening form, changed after the fact */
static void changed_form_price(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_set_str(bo_tamper_at(&l, F->seq_form[0]), "form.price", "1000000.00");
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"chain", F->seq_form[0], "does not match its hash"},
                {"announcement", F->seq_announced[0], "fields.price is \"1234567.89\""}};
    expect_errors(fs, w, 2);
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "replay", "not replayed"));
    bo_event_list_cleanup(&l);
    free(fs);
}

/* the price announced for bidder 0, changed after the fact */
static void changed_announced_price(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_set_str(bo_tamper_at(&l, F->seq_announced[0]), "fields.price", "1000000.00");
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"chain", F->seq_announced[0], "does not match its hash"},
                {"announcement", F->seq_announced[0], "\"1000000.00\""},
                {"benchmark", F->seq_bench, "announced bids give: value is \""}};
    expect_errors(fs, w, 3);
    bo_event_list_cleanup(&l);
    free(fs);
}

static void dropped_event(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_drop(&l, F->seq_confirm);
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"chain", F->seq_confirm, "is missing"}};
    expect_errors(fs, w, 1);
    bo_event_list_cleanup(&l);
    free(fs);
}

static void reordered_events(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    /* the objection and its answer swap places in the file */
    size_t a = 0;
    while (l.v[a].seq != F->seq_objection)
        a++;
    assert_int_equal(l.v[a + 1].seq, F->seq_answer);
    bo_event tmp = l.v[a];
    l.v[a] = l.v[a + 1];
    l.v[a + 1] = tmp;
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"chain", F->seq_objection, "out of order"}};
    expect_errors(fs, w, 1);
    assert_true(fs->sum.replayed); /* by seq, the log is whole */
    bo_event_list_cleanup(&l);
    free(fs);
}

static void truncated_log(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_drop(&l, l.v[l.n - 1].seq); /* the close's signed head */
    bo_tamper_drop(&l, l.v[l.n - 1].seq); /* phase_changed to closed */
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"head", F->seq_closed, "no server signature covers the close"}};
    expect_errors(fs, w, 1);
    bo_event_list_cleanup(&l);
    free(fs);
}

/* A transcript taken while the opening runs: nothing wrong; what no head covers yet is said. */
static void running_opening(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    while (l.v[l.n - 1].seq > F->seq_announced[0])
        bo_tamper_drop(&l, l.v[l.n - 1].seq);
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    expect_errors(fs, NULL, 0);
    assert_true(fs->sum.replayed);
    assert_false(fs->sum.closed);
    assert_true(fs->sum.has_record);
    assert_true(has(fs, BO_VERIFY_PASSED, "record", "not closed"));
    assert_true(has(fs, BO_VERIFY_UNCHECKED, "head", "no server signature covers them"));
    bo_event_list_cleanup(&l);
    free(fs);
}

/* ---------------------------------------------------------- forged at source ---- */

static void forged_confirmation(void **state)
{
    ofx_opts o = {.forge_confirm = true};
    ofx *g = ofx_new(&o);
    ofx *keep = F;
    F = g;
    findings *fs = malloc(sizeof(*fs));
    verify_log(&g->log, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"signature", g->seq_confirm, "the confirmation of"}};
    expect_errors(fs, w, 1);
    assert_true(has(fs, BO_VERIFY_ERROR, "signature", "forged or altered"));
    assert_true(has(fs, BO_VERIFY_ERROR, "signature", g->bid[0].a.uscc));
    free(fs);
    F = keep;
    ofx_free(g);
}

static void forged_head(void **state)
{
    ofx_opts o = {.forge_head = 4};
    ofx *g = ofx_new(&o);
    ofx *keep = F;
    F = g;
    uint64_t head = 0;
    int k = 0;
    for (size_t i = 0; i < g->log.n && !head; i++)
        if (g->log.v[i].kind == BO_EV_HEAD_SIGNED && ++k == 4)
            head = g->log.v[i].seq;
    findings *fs = malloc(sizeof(*fs));
    verify_log(&g->log, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"head", head, "does not verify with the server key"}};
    expect_errors(fs, w, 1);
    free(fs);
    F = keep;
    ofx_free(g);
}

/* ----------------------------------------------------- dishonest server ---- */

static void wrong_seed(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    uint8_t seed[32];
    memset(seed, 0x42, 32);
    bo_tamper_set_bin(bo_tamper_at(&l, F->seq_draw_k), "seed", seed, 32);
    ofx_rechain(F, &l, F->seq_draw_k, true);
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"replay", F->seq_draw_k, "not the one the server committed to"}};
    expect_errors(fs, w, 1);
    /* the same in public */
    verify_log(&l, BO_TRANSCRIPT_PUBLIC, NULL, fs);
    want p[] = {{"draw", F->seq_draw_k, "not the one the server committed to"}};
    expect_errors(fs, p, 1);
    bo_event_list_cleanup(&l);
    free(fs);
}

static void changed_benchmark(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_set_str(bo_tamper_at(&l, F->seq_bench), "value", "1197000.00");
    ofx_rechain(F, &l, F->seq_bench, true);
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"replay", F->seq_bench, "value is \"1197000.00\" in the log; recomputed"}};
    expect_errors(fs, w, 1);
    verify_log(&l, BO_TRANSCRIPT_PUBLIC, NULL, fs);
    want p[] = {{"benchmark", F->seq_bench, "value is \"1197000.00\" in the log; recomputed"}};
    expect_errors(fs, p, 1);
    bo_event_list_cleanup(&l);
    free(fs);
}

/* The server changes the announced price and signs the rebuilt chain. */
static void resigned_announced_price(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_set_str(bo_tamper_at(&l, F->seq_announced[0]), "fields.price", "1000000.00");
    ofx_rechain(F, &l, F->seq_announced[0], true);
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"replay", F->seq_announced[0], "fields.price is \"1000000.00\" in the log; "
                                                "recomputed \"1234567.89\""},
                {"benchmark", F->seq_bench, "not what the announced bids give: value is"}};
    expect_errors(fs, w, 2);
    bo_event_list_cleanup(&l);
    free(fs);
}

/* The same without the server's key: the rebuilt chain holds, the signed heads do not. */
static void rechained_without_key(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_set_str(bo_tamper_at(&l, F->seq_form[0]), "form.price", "1000000.00");
    ofx_rechain(F, &l, F->seq_form[0], false);
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    /* every signed head after the change, and the replay at the announcement */
    want w[16];
    size_t n = 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].kind == BO_EV_HEAD_SIGNED && l.v[i].seq > F->seq_form[0])
            w[n++] = (want){"head", l.v[i].seq, "the log was changed up to there"};
    w[n++] = (want){"head", F->seq_closed, "no server signature covers the close"};
    w[n++] = (want){"replay", F->seq_announced[0], "recomputed \"1000000.00\""};
    assert_true(n >= 4);
    expect_errors(fs, w, n);
    bo_event_list_cleanup(&l);
    free(fs);
}

/* Events renumbered after one was dropped, the chain rebuilt and signed again: what the
 * dropped event did shows (bidder 0 is now deemed to accept instead of confirmed). */
static void dropped_and_resigned(void **state)
{
    findings *fs = malloc(sizeof(*fs));
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_drop(&l, F->seq_confirm);
    ofx_rechain(F, &l, F->seq_confirm, true);
    verify_log(&l, BO_TRANSCRIPT_FULL, NULL, fs);
    want w[] = {{"replay", F->seq_wclosed - 1, "deemed"}};
    expect_errors(fs, w, 1);
    bo_event_list_cleanup(&l);
    free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_full),
        cmocka_unit_test(clean_public),
        cmocka_unit_test(without_trust_and_host),
        cmocka_unit_test(another_server_key),
        cmocka_unit_test(not_a_transcript),
        cmocka_unit_test(changed_form_price),
        cmocka_unit_test(changed_announced_price),
        cmocka_unit_test(dropped_event),
        cmocka_unit_test(reordered_events),
        cmocka_unit_test(truncated_log),
        cmocka_unit_test(running_opening),
        cmocka_unit_test(forged_confirmation),
        cmocka_unit_test(forged_head),
        cmocka_unit_test(wrong_seed),
        cmocka_unit_test(changed_benchmark),
        cmocka_unit_test(resigned_announced_price),
        cmocka_unit_test(rechained_without_key),
        cmocka_unit_test(dropped_and_resigned),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
