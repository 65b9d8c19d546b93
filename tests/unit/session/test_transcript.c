/* Tests for the transcript (session/bo_transcript.c, docs/transcript.md): a whole opening
 * written and read back event for event, the public transcript withholding exactly the
 * private bodies while its chain still verifies, redaction equal to a public build, and
 * the parser's refusals (caps, version, members, a bad event named). */
#include "opening_fx.h"

#include "bo/wire.h"

static ofx *F;

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

static void full_round_trip(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 64u << 20);
    ofx_transcript_of(F, &F->log, BO_TRANSCRIPT_FULL, &b);
    bo_transcript *t;
    char detail[256];
    assert_int_equal(bo_transcript_parse(b.data, b.len, &t, detail, sizeof(detail)), BO_E_OK);
    assert_int_equal(t->v, 1);
    assert_string_equal(t->oid, OFX_OID);
    assert_int_equal(t->kind, BO_TRANSCRIPT_FULL);
    assert_memory_equal(t->server.key_fpr, F->server_fpr, 32);
    assert_int_equal(t->server.cert.len, F->server_cert.list.v[0].len);
    assert_memory_equal(t->server.cert.p, F->server_cert.list.v[0].p, t->server.cert.len);
    assert_int_equal(t->server.spki.len, F->server_spki.len);
    assert_int_equal(t->n_events, F->log.n);
    for (size_t i = 0; i < t->n_events; i++) {
        const bo_event *a = &t->events[i].ev, *e = &F->log.v[i];
        assert_false(t->events[i].withheld);
        assert_int_equal(a->seq, e->seq);
        assert_int_equal(a->ts, e->ts);
        assert_int_equal(a->kind, e->kind);
        assert_int_equal(a->aud, e->aud);
        assert_string_equal(a->aud_uscc, e->aud_uscc);
        assert_memory_equal(a->hash, e->hash, 32);
        assert_memory_equal(a->prev_hash, e->prev_hash, 32);
        assert_int_equal(a->body_len, e->body_len);
        assert_memory_equal(a->body, e->body, e->body_len);
    }
    /* the file is canonical: re-encoding it changes nothing */
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(b.data, b.len, &z, &o), BO_E_OK);
    bo_buf c;
    bo_buf_init(&c, 64u << 20);
    assert_int_equal(bo_mp_canonical(&c, &o), BO_E_OK);
    assert_int_equal(c.len, b.len);
    assert_memory_equal(c.data, b.data, b.len);
    msgpack_zone_free(z);
    bo_buf_cleanup(&c);
    bo_transcript_free(t);
    bo_buf_cleanup(&b);
}

static void public_withholds_private_bodies(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 64u << 20);
    ofx_transcript_of(F, &F->log, BO_TRANSCRIPT_PUBLIC, &b);
    bo_transcript *t;
    char detail[256] = "";
    bo_err err = bo_transcript_parse(b.data, b.len, &t, detail, sizeof(detail));
    if (err)
        fail_msg("%s: %s", bo_err_name(err), detail);
    assert_int_equal(t->kind, BO_TRANSCRIPT_PUBLIC);
    assert_int_equal(t->n_events, F->log.n);
    size_t withheld = 0, kept = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        const bo_transcript_event *te = &t->events[i];
        const bo_event *e = &F->log.v[i];
        uint8_t bh[32], h[32];
        bo_sha256(e->body, e->body_len, bh);
        assert_memory_equal(te->body_hash, bh, 32);
        if (e->aud == BO_AUD_PUB) {
            assert_false(te->withheld);
            assert_memory_equal(te->ev.body, e->body, e->body_len);
            kept++;
        } else {
            assert_true(te->withheld);
            assert_null(te->ev.body);
            withheld++;
        }
        /* the chain verifies from the body hash alone */
        bo_event_chain_hash(OFX_OID, &te->ev, te->body_hash, h);
        assert_memory_equal(h, e->hash, 32);
    }
    assert_true(withheld >= 10); /* registrations, submissions, requests, forms, ... */
    assert_true(kept >= 20);
    /* no private byte leaks: the forms' texts and the certificates are not in the file */
    assert_null(memmem(b.data, b.len, F->bid[0].sign.list.v[0].p, F->bid[0].sign.list.v[0].len));
    bo_transcript_free(t);
    bo_buf_cleanup(&b);
}

static void redact_equals_public_build(void **state)
{
    bo_buf full, pub, red, red2;
    bo_buf_init(&full, 64u << 20);
    bo_buf_init(&pub, 64u << 20);
    bo_buf_init(&red, 64u << 20);
    bo_buf_init(&red2, 64u << 20);
    ofx_transcript_of(F, &F->log, BO_TRANSCRIPT_FULL, &full);
    ofx_transcript_of(F, &F->log, BO_TRANSCRIPT_PUBLIC, &pub);
    assert_int_equal(bo_transcript_redact(full.data, full.len, &red, NULL, 0), BO_E_OK);
    assert_int_equal(red.len, pub.len);
    assert_memory_equal(red.data, pub.data, pub.len);
    /* redacting a public transcript changes nothing */
    assert_int_equal(bo_transcript_redact(pub.data, pub.len, &red2, NULL, 0), BO_E_OK);
    assert_int_equal(red2.len, pub.len);
    assert_memory_equal(red2.data, pub.data, pub.len);
    bo_buf_cleanup(&full);
    bo_buf_cleanup(&pub);
    bo_buf_cleanup(&red);
    bo_buf_cleanup(&red2);
}

static void expect_refused(const uint8_t *p, size_t n, bo_err want, const char *mention)
{
    bo_transcript *t = (bo_transcript *)1;
    char detail[256] = "";
    bo_err err = bo_transcript_parse(p, n, &t, detail, sizeof(detail));
    if (err != want)
        fail_msg("want %s, got %s (%s)", bo_err_name(want), bo_err_name(err), detail);
    assert_null(t);
    if (mention && !strstr(detail, mention))
        fail_msg("detail \"%s\" does not mention \"%s\"", detail, mention);
}

/* The transcript with top-level member key set to val. */
static void with_member(const bo_buf *b, const char *key, const bo_buf *val, bo_buf *out)
{
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(b->data, b->len, &z, &o), BO_E_OK);
    bo_tamper_rebuild(&o, key, val, out);
    msgpack_zone_free(z);
}

static void parse_refusals(void **state)
{
    bo_buf b, v, x;
    bo_buf_init(&b, 64u << 20);
    bo_buf_init(&v, 1 << 20);
    bo_buf_init(&x, 64u << 20);
    ofx_transcript_of(F, &F->log, BO_TRANSCRIPT_FULL, &b);
    /* truncated, trailing byte, not a map */
    expect_refused(b.data, b.len - 1, BO_E_MALFORMED, NULL);
    bo_buf_append(&x, b.data, b.len);
    bo_buf_append(&x, "\xc0", 1);
    expect_refused(x.data, x.len, BO_E_MALFORMED, NULL);
    expect_refused((const uint8_t *)"\x91\x01", 2, BO_E_MALFORMED, "not a transcript");
    /* another version */
    bo_mp_u64(&v, 2);
    bo_buf_reset(&x);
    with_member(&b, "v", &v, &x);
    expect_refused(x.data, x.len, BO_E_BAD_FIELD, "v:");
    /* another kind */
    bo_buf_reset(&v);
    bo_mp_str(&v, "partial", 7);
    bo_buf_reset(&x);
    with_member(&b, "kind", &v, &x);
    expect_refused(x.data, x.len, BO_E_BAD_FIELD, "kind");
    /* a bad event is named by its seq and position */
    msgpack_zone *z;
    msgpack_object o;
    assert_int_equal(bo_mp_parse(b.data, b.len, &z, &o), BO_E_OK);
    const msgpack_object *evs = bo_mpo_get(&o, "events");
    bo_buf_reset(&v);
    bo_mp_array_header(&v, evs->via.array.size);
    for (uint32_t i = 0; i < evs->via.array.size; i++) {
        if (i == 4) {
            bo_buf one;
            bo_buf_init(&one, 1 << 20);
            bo_buf k;
            bo_buf_init(&k, 64);
            bo_mp_str(&k, "no_such_kind", 12);
            bo_tamper_rebuild(&evs->via.array.ptr[i], "kind", &k, &one);
            bo_buf_append(&v, one.data, one.len);
            bo_buf_cleanup(&one);
            bo_buf_cleanup(&k);
        } else {
            bo_mp_canonical(&v, &evs->via.array.ptr[i]);
        }
    }
    msgpack_zone_free(z);
    bo_buf_reset(&x);
    with_member(&b, "events", &v, &x);
    expect_refused(x.data, x.len, BO_E_BAD_FIELD, "event 5 (position 4): kind");
    bo_buf_cleanup(&b);
    bo_buf_cleanup(&v);
    bo_buf_cleanup(&x);
}

static void build_refusals(void **state)
{
    bo_buf b;
    bo_buf_init(&b, 1 << 20);
    bo_transcript_server s = ofx_server(F);
    assert_int_equal(bo_transcript_build_list("bad oid!", BO_TRANSCRIPT_FULL, &s, &F->log, &b),
                     BO_E_INVALID_ARG);
    assert_int_equal(bo_transcript_build_list(OFX_OID, (bo_transcript_kind)7, &s, &F->log, &b),
                     BO_E_INVALID_ARG);
    s.spki.len = 0;
    assert_int_equal(bo_transcript_build_list(OFX_OID, BO_TRANSCRIPT_FULL, &s, &F->log, &b),
                     BO_E_INVALID_ARG);
    assert_int_equal(b.len, 0);
    /* out's cap: nothing half-written */
    bo_buf small;
    bo_buf_init(&small, 1000);
    s = ofx_server(F);
    assert_int_equal(bo_transcript_build_list(OFX_OID, BO_TRANSCRIPT_FULL, &s, &F->log, &small),
                     BO_E_TOO_BIG);
    assert_int_equal(small.len, 0);
    bo_buf_cleanup(&small);
    bo_buf_cleanup(&b);
}

/* Seeds for fuzz_transcript when BO_TRANSCRIPT_CORPUS names a directory. */
static void write_corpus(void **state)
{
    const char *dir = getenv("BO_TRANSCRIPT_CORPUS");
    if (!dir)
        return;
    bo_buf b;
    bo_buf_init(&b, 64u << 20);
    char path[512];
    ofx_transcript_of(F, &F->log, BO_TRANSCRIPT_FULL, &b);
    snprintf(path, sizeof(path), "%s/valid-full", dir);
    ofx_write(path, &b);
    bo_buf half = {b.data, b.len / 2, b.alloc, b.cap};
    snprintf(path, sizeof(path), "%s/bad-truncated", dir);
    ofx_write(path, &half);
    bo_buf_reset(&b);
    ofx_transcript_of(F, &F->log, BO_TRANSCRIPT_PUBLIC, &b);
    snprintf(path, sizeof(path), "%s/valid-public", dir);
    ofx_write(path, &b);
    /* a changed price (the chain breaks), and a log cut before the close */
    bo_event_list l;
    ofx_copy_log(F, &l);
    bo_tamper_set_str(bo_tamper_at(&l, F->seq_form[0]), "form.price", "1.00");
    bo_buf_reset(&b);
    ofx_transcript_of(F, &l, BO_TRANSCRIPT_FULL, &b);
    snprintf(path, sizeof(path), "%s/tampered-price", dir);
    ofx_write(path, &b);
    bo_event_list_cleanup(&l);
    ofx_copy_log(F, &l);
    while (l.n > 20)
        bo_tamper_drop(&l, l.v[l.n - 1].seq);
    bo_buf_reset(&b);
    ofx_transcript_of(F, &l, BO_TRANSCRIPT_FULL, &b);
    snprintf(path, sizeof(path), "%s/valid-running", dir);
    ofx_write(path, &b);
    bo_event_list_cleanup(&l);
    bo_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_round_trip),
        cmocka_unit_test(public_withholds_private_bodies),
        cmocka_unit_test(redact_equals_public_build),
        cmocka_unit_test(parse_refusals),
        cmocka_unit_test(build_refusals),
        cmocka_unit_test(write_corpus),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
