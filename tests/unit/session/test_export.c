/* Tests for the exports of the record (session/bo_export.c): the record as JSON (every
 * member, times in the tender's offset and in ms, binary as hex, the record's hash), the
 * OCDS release package (bids extension: statistics, details with statuses and exact
 * amounts; bidOpening), the printable HTML (every section, escaping, Chinese), all
 * deterministic; a revoked bid (撤销) in each; bad records refused. Every OCDS package (a
 * closed opening, one with a revoked bid, a failed one) passes the schema's rules
 * (tests/support/bo_ocds.c), and each rule refuses a package broken where it looks. With BO_EXPORT_PRINT=1
 * (ctest: test_session_export_print, label browser) chromium prints the HTML to PDF;
 * BO_EXPORT_KEEP=DIR keeps the PDF, the HTML and a PNG of the first screen to look at. */
#include "opening_fx.h"

#include <jansson.h>
#include <sys/wait.h>

#include "bo/export.h"
#include "bo/hex.h"
#include "bo_ocds.h"

static ofx *F, *R, *X; /* a closed opening; one with bidder 2 revoked (撤销); a failed one */

static int setup(void **state)
{
    F = ofx_new(NULL);
    ofx_opts o = {.revoke_b2 = true};
    R = ofx_new(&o);
    ofx_opts x = {.fail = true};
    X = ofx_new(&x);
    return 0;
}

static int teardown(void **state)
{
    ofx_free(F);
    ofx_free(R);
    ofx_free(X);
    return 0;
}

/* The package passes the OCDS 1.1 schema's rules with the bids extension. */
static void expect_ocds_valid(const json_t *pkg)
{
    char why[1024];
    if (!bo_ocds_check(pkg, why, sizeof(why)))
        fail_msg("the OCDS export breaks the schema: %s", why);
}

static void meta_of(const ofx *f, bo_export_meta *m)
{
    const bo_event *last = &f->log.v[f->log.n - 1];
    assert_int_equal(last->kind, BO_EV_HEAD_SIGNED);
    assert_int_equal(bo_export_meta_from_head(last, m), BO_E_OK);
}

static json_t *render_json(const ofx *f, bo_export_format fmt, bo_buf *out)
{
    bo_buf rec;
    bo_buf_init(&rec, 16u << 20);
    ofx_record(f, &rec);
    bo_export_meta m;
    meta_of(f, &m);
    char detail[256] = "";
    bo_err err = bo_export_render(fmt, rec.data, rec.len, &m, out, detail, sizeof(detail));
    if (err)
        fail_msg("%s: %s", bo_err_name(err), detail);
    /* deterministic */
    bo_buf again;
    bo_buf_init(&again, 16u << 20);
    assert_int_equal(bo_export_render(fmt, rec.data, rec.len, &m, &again, NULL, 0), BO_E_OK);
    assert_int_equal(again.len, out->len);
    assert_memory_equal(again.data, out->data, out->len);
    bo_buf_cleanup(&again);
    bo_buf_cleanup(&rec);
    if (fmt == BO_EXPORT_HTML)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)out->data, out->len, 0, &je);
    if (!j)
        fail_msg("not JSON: %s at line %d", je.text, je.line);
    assert_int_equal(out->data[out->len - 1], '\n');
    return j;
}

static const char *jstr(json_t *j, const char *path)
{
    /* path: "a.b.0.c" */
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = j;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
        if (json_is_array(cur))
            cur = json_array_get(cur, (size_t)atoi(tok));
        else
            cur = json_object_get(cur, tok);
    }
    if (!cur)
        fail_msg("%s: missing", path);
    if (!json_is_string(cur))
        fail_msg("%s: not a string", path);
    return json_string_value(cur);
}

static json_int_t jint(json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = j;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
        if (json_is_array(cur))
            cur = json_array_get(cur, (size_t)atoi(tok));
        else
            cur = json_object_get(cur, tok);
    }
    if (!cur || !json_is_integer(cur))
        fail_msg("%s: missing or not an integer", path);
    return json_integer_value(cur);
}

/* The record's bid of a USCC in the JSON. */
static json_t *json_bid(json_t *bids, const char *uscc)
{
    for (size_t i = 0; i < json_array_size(bids); i++) {
        json_t *b = json_array_get(bids, i);
        if (!strcmp(json_string_value(json_object_get(b, "uscc")), uscc))
            return b;
    }
    fail_msg("no bid of %s", uscc);
    return NULL;
}

static void record_json(void **state)
{
    bo_buf out, rec;
    bo_buf_init(&out, 16u << 20);
    bo_buf_init(&rec, 16u << 20);
    json_t *j = render_json(F, BO_EXPORT_RECORD, &out);
    ofx_record(F, &rec);
    uint8_t h[32];
    char hex[65];
    bo_sha256(rec.data, rec.len, h);
    assert_string_equal(jstr(j, "record_sha256"), bo_hex_encode(h, 32, hex));
    uint8_t closed[32];
    assert_true(bo_session_closed_hash(F->s, closed));
    assert_memory_equal(closed, h, 32); /* what opening_closed carries */
    assert_string_equal(jstr(j, "oid"), OFX_OID);
    assert_string_equal(jstr(j, "phase"), "closed");
    assert_string_equal(jstr(j, "tender.title"), "城关镇道路改造工程施工");
    /* times: RFC 3339 in the tender's offset (+08:00), and ms */
    assert_string_equal(jstr(j, "tender.deadline"), "2027-01-15T18:00:00+08:00");
    assert_int_equal(jint(j, "tender.deadline_ms"), OFX_DEADLINE);
    assert_string_equal(jstr(j, "timeline.0.at"), "2027-01-15T16:00:00+08:00");
    assert_string_equal(jstr(j, "confirmation.ends_at"), "2027-01-15T18:40:06.030+08:00");
    /* decimals as strings, binary as hex, every bid */
    json_t *bids = json_object_get(j, "bids");
    assert_int_equal(json_array_size(bids), 3);
    json_t *b0 = json_bid(bids, F->bid[0].a.uscc);
    assert_string_equal(json_string_value(json_object_get(json_object_get(b0, "fields"), "price")),
                        "1234567.89");
    assert_string_equal(json_string_value(json_object_get(b0, "org")), OFX_ORGS[0]);
    assert_int_equal(strlen(json_string_value(json_object_get(b0, "commit"))), 64);
    assert_string_equal(jstr(j, "benchmark.coefficient"), jstr(j, "draws.0.value"));
    assert_string_equal(jstr(j, "objections.0.text"), OFX_OBJECTION);
    assert_string_equal(jstr(j, "objections.0.answer.text"), OFX_ANSWER);
    assert_int_equal(strlen(jstr(j, "host_fpr")), 64);
    /* keys sorted */
    const char *p = (const char *)out.data;
    assert_true(strstr(p, "\"benchmark\"") < strstr(p, "\"bids\""));
    assert_true(strstr(p, "\"tender\"") < strstr(p, "\"timeline\""));
    json_decref(j);
    bo_buf_cleanup(&out);
    bo_buf_cleanup(&rec);
}

static json_t *stat_of(json_t *stats, const char *measure)
{
    for (size_t i = 0; i < json_array_size(stats); i++) {
        json_t *s = json_array_get(stats, i);
        if (!strcmp(json_string_value(json_object_get(s, "measure")), measure))
            return s;
    }
    fail_msg("no statistic %s", measure);
    return NULL;
}

static json_t *detail_of(json_t *details, const char *uscc)
{
    for (size_t i = 0; i < json_array_size(details); i++) {
        json_t *d = json_array_get(details, i);
        json_t *t = json_array_get(json_object_get(d, "tenderers"), 0);
        json_t *id = json_object_get(json_object_get(t, "identifier"), "id");
        if (!strcmp(json_string_value(id), uscc))
            return d;
    }
    fail_msg("no bid detail of %s", uscc);
    return NULL;
}

static void ocds_package(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 16u << 20);
    json_t *j = render_json(F, BO_EXPORT_OCDS, &out);
    expect_ocds_valid(j);
    assert_string_equal(jstr(j, "version"), "1.1");
    json_t *ext = json_object_get(j, "extensions");
    assert_true(json_array_size(ext) >= 2);
    assert_non_null(strstr(json_string_value(json_array_get(ext, 0)), "ocds_bid_extension"));
    json_t *rel = json_array_get(json_object_get(j, "releases"), 0);
    assert_string_equal(jstr(rel, "ocid"), "ocds-bidopen-" OFX_OID);
    assert_string_equal(jstr(rel, "tender.id"), OFX_OID);
    assert_string_equal(jstr(rel, "tender.title"), "城关镇道路改造工程施工");
    assert_string_equal(jstr(rel, "tender.bidOpening.date"), "2027-01-15T18:00:00+08:00");
    assert_non_null(strstr(jstr(rel, "tender.bidOpening.description"), "record SHA-256"));
    assert_string_equal(jstr(rel, "tender.lots.0.title"), "一标段");
    assert_string_equal(jstr(rel, "buyer.name"), "某县交通运输局");
    assert_null(json_object_get(rel, "awards"));
    json_t *bids = json_object_get(rel, "bids");
    json_t *stats = json_object_get(bids, "statistics");
    assert_int_equal(json_integer_value(json_object_get(stat_of(stats, "bids"), "value")), 3);
    assert_int_equal(json_integer_value(json_object_get(stat_of(stats, "validBids"), "value")), 3);
    assert_int_equal(json_integer_value(json_object_get(stat_of(stats, "bidders"), "value")), 3);
    json_t *lo = json_object_get(stat_of(stats, "lowestValidBidValue"), "value");
    json_t *hi = json_object_get(stat_of(stats, "highestValidBidValue"), "value");
    assert_true(json_is_number(lo) && json_is_number(hi));
    assert_true(json_number_value(lo) == 1200000.0);
    assert_true(json_number_value(hi) == 1300000.0);
    assert_string_equal(jstr(stat_of(stats, "lowestValidBidValue"), "currency"), "CNY");
    json_t *details = json_object_get(bids, "details");
    assert_int_equal(json_array_size(details), 3);
    json_t *d0 = detail_of(details, F->bid[0].a.uscc);
    assert_string_equal(jstr(d0, "status"), "valid");
    assert_string_equal(jstr(d0, "tenderers.0.identifier.scheme"), "CN-USCC");
    assert_string_equal(jstr(d0, "tenderers.0.name"), OFX_ORGS[0]);
    assert_string_equal(jstr(d0, "value.currency"), "CNY");
    /* the amount is the exact decimal as a JSON number, not a rounded double */
    assert_non_null(strstr((const char *)out.data, "\"amount\": 1234567.89"));
    assert_non_null(strstr((const char *)out.data, "\"amount\": 1200000,"));
    assert_string_equal(jstr(d0, "openingForm.2.value"), "张三");
    assert_int_equal(jint(d0, "durationInDays"), 180);
    /* the bids in announcement order: the order draw's */
    bo_buf rec;
    bo_buf_init(&rec, 16u << 20);
    ofx_record(F, &rec);
    json_decref(j);
    bo_buf_cleanup(&out);
    bo_buf_cleanup(&rec);
}

static void ocds_revoked(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 16u << 20);
    json_t *j = render_json(R, BO_EXPORT_OCDS, &out);
    expect_ocds_valid(j);
    json_t *rel = json_array_get(json_object_get(j, "releases"), 0);
    json_t *bids = json_object_get(rel, "bids");
    json_t *stats = json_object_get(bids, "statistics");
    assert_int_equal(json_integer_value(json_object_get(stat_of(stats, "bids"), "value")), 3);
    assert_int_equal(json_integer_value(json_object_get(stat_of(stats, "validBids"), "value")), 2);
    json_t *d2 = detail_of(json_object_get(bids, "details"), R->bid[2].a.uscc);
    assert_string_equal(jstr(d2, "status"), "withdrawn");
    assert_non_null(strstr(jstr(d2, "statusDetails"), "撤销"));
    assert_non_null(strstr(jstr(d2, "description"), "PIN"));
    assert_null(json_object_get(d2, "value"));
    json_decref(j);
    bo_buf_cleanup(&out);
}

/* A failed opening (流标 while decrypting): a cancellation, the tender unsuccessful with the
 * reason, the bids not decrypted pending, no amounts, no price statistics. */
static void ocds_failed(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 16u << 20);
    json_t *j = render_json(X, BO_EXPORT_OCDS, &out);
    expect_ocds_valid(j);
    json_t *rel = json_array_get(json_object_get(j, "releases"), 0);
    assert_string_equal(jstr(rel, "tag.0"), "tenderCancellation");
    assert_string_equal(jstr(rel, "tender.status"), "unsuccessful");
    assert_non_null(strstr(jstr(rel, "tender.bidOpening.description"), OFX_FAIL_REASON));
    json_t *bids = json_object_get(rel, "bids");
    json_t *details = json_object_get(bids, "details");
    assert_int_equal(json_array_size(details), 3);
    for (int i = 1; i < 3; i++) {
        json_t *d = detail_of(details, X->bid[i].a.uscc);
        assert_string_equal(jstr(d, "status"), "pending");
        assert_null(json_object_get(d, "value"));
    }
    json_t *stats = json_object_get(bids, "statistics");
    assert_int_equal(json_integer_value(json_object_get(stat_of(stats, "bids"), "value")), 3);
    for (size_t i = 0; i < json_array_size(stats); i++)
        assert_null(strstr(jstr(json_array_get(stats, i), "measure"), "Value"));
    json_decref(j);
    bo_buf_cleanup(&out);
}

/* The node at a path ("releases.0.tender.lots.0"); NULL when there is none. */
static json_t *node_at(json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = j;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok))
                                 : json_object_get(cur, tok);
    return cur;
}

/* Sets the member at path to the JSON text v ("@path": a copy of that node of j), or
 * removes it when v is NULL; an array's index one past its end appends. */
static void mutate(json_t *j, const char *path, const char *v)
{
    char parent[256];
    snprintf(parent, sizeof(parent), "%s", path);
    char *dot = strrchr(parent, '.');
    const char *last = dot ? dot + 1 : parent;
    json_t *p = dot ? (*dot = 0, node_at(j, parent)) : j;
    if (!p)
        fail_msg("%s: no parent", path);
    json_t *nv = NULL;
    if (v && v[0] == '@') {
        json_t *src = node_at(j, v + 1);
        if (!src)
            fail_msg("%s: no node", v);
        nv = json_deep_copy(src);
    } else if (v) {
        json_error_t je;
        nv = json_loads(v, JSON_DECODE_ANY, &je);
        if (!nv)
            fail_msg("%s: not JSON: %s", v, je.text);
    }
    if (json_is_array(p)) {
        size_t i = (size_t)atoi(last);
        if (!nv)
            assert_int_equal(json_array_remove(p, i), 0);
        else if (i == json_array_size(p))
            assert_int_equal(json_array_append_new(p, nv), 0);
        else
            assert_int_equal(json_array_set_new(p, i, nv), 0);
    } else if (!nv) {
        assert_int_equal(json_object_del(p, last), 0);
    } else {
        assert_int_equal(json_object_set_new(p, last, nv), 0);
    }
}

/* Each rule of the validator refuses a package broken where it looks, with a sentence that
 * begins with the path (and so the validator cannot pass everything). */
static void ocds_schema_rules(void **state)
{
    static const struct {
        const char *path, *value, *says;
    } cases[] = {
        /* the package's required members, version, uri, extensions */
        {"publisher", NULL, "publisher: is missing: the schema requires it"},
        {"publisher.name", NULL, "publisher.name: is missing: the schema requires it"},
        {"releases", "[]", "releases: is empty; the schema wants at least one release"},
        {"releases.1", "@releases.0",
         "releases[1]: is the same as releases[0]: the schema wants unique releases"},
        {"version", "\"1.2\"", "version: \"1.2\" is not 1.1"},
        {"uri", "\"the opening of T-2027.001\"",
         "uri: \"the opening of T-2027.001\" is not a URI (RFC 3986)"},
        {"extensions.0", "\"ocds_bid_extension\"",
         "extensions[0]: \"ocds_bid_extension\" is not the URL of an extension's "
         "extension.json"},
        {"extensions.0", NULL,
         "releases[0].bids: the release has bids, but the package's extensions do not "
         "declare ocds_bid_extension"},
        {"extensions.2", NULL,
         "releases[0].tender.lots: the tender has lots, but the package's extensions do not "
         "declare ocds_lots_extension"},
        /* the release's required members and closed codelists */
        {"releases.0.ocid", NULL, "releases[0].ocid: is missing: the schema requires it"},
        {"releases.0.id", "\"\"", "releases[0].id: is an empty string"},
        {"releases.0.tag", NULL, "releases[0].tag: is missing: the schema requires it"},
        {"releases.0.tag", "[]", "releases[0].tag: is empty"},
        {"releases.0.tag.0", "\"opening\"",
         "releases[0].tag[0]: \"opening\" is not in the closed releaseTag codelist"},
        {"releases.0.initiationType", "\"auction\"",
         "releases[0].initiationType: \"auction\" is not in the closed initiationType "
         "codelist (tender)"},
        {"releases.0.tender.status", "\"closed\"",
         "releases[0].tender.status: \"closed\" is not in the closed tenderStatus codelist"},
        {"releases.0.parties.0.roles.0", "\"owner\"",
         "releases[0].parties[0].roles[0]: \"owner\" is not in the closed partyRole codelist"},
        {"releases.0.bids.details.0.status", "\"accepted\"",
         "releases[0].bids.details[0].status: \"accepted\" is not in the closed bidStatus "
         "codelist (invited, pending, valid, disqualified, withdrawn)"},
        {"releases.0.bids.details.0.value.currency", "\"RMB1\"",
         "releases[0].bids.details[0].value.currency: \"RMB1\" is not a code of the closed "
         "currency codelist"},
        /* types, and null where the schema does not allow it */
        {"releases.0.tender.numberOfTenderers", "\"3\"",
         "releases[0].tender.numberOfTenderers: is a string; the schema wants an integer or "
         "null"},
        {"releases.0.parties", "null",
         "releases[0].parties: is null; the schema wants an array"},
        {"releases.0.tender.id", "null",
         "releases[0].tender.id: is null; the schema wants a string or an integer"},
        {"releases.0.tender.bidOpening", "\"2027-01-15\"",
         "releases[0].tender.bidOpening: is a string; the schema wants an object"},
        {"releases.0.language", "[\"zh\"]",
         "releases[0].language: is an array; the schema wants a string or null"},
        /* date-times */
        {"releases.0.date", "\"2027-02-30T10:00:00+08:00\"",
         "releases[0].date: \"2027-02-30T10:00:00+08:00\" is not a date-time (RFC 3339"},
        {"publishedDate", "\"2027-01-15 18:00:00\"",
         "publishedDate: \"2027-01-15 18:00:00\" is not a date-time"},
        {"releases.0.tender.tenderPeriod.endDate", "\"2027-01-15T18:00:00\"",
         "releases[0].tender.tenderPeriod.endDate: \"2027-01-15T18:00:00\" is not a "
         "date-time"},
        {"releases.0.bids.statistics.0.date", "\"2027-01-15T24:00:00Z\"",
         "releases[0].bids.statistics[0].date: \"2027-01-15T24:00:00Z\" is not a date-time"},
        /* organization references */
        {"releases.0.buyer.id", "\"nobody\"",
         "releases[0].buyer.id: \"nobody\" is not the id of any of releases[0].parties"},
        {"releases.0.buyer.name", NULL,
         "releases[0].buyer.name: is missing: OCDS 1.1 references an organization by its id "
         "and name"},
        {"releases.0.bids.details.1.tenderers.0.name", "\"别的公司\"",
         "releases[0].bids.details[1].tenderers[0].name: \"别的公司\" is not the name of the "
         "party it references"},
        {"releases.0.tender.procuringEntity", "@releases.0.buyer",
         "releases[0].tender.procuringEntity: references releases[0].parties[0] (buyer), which "
         "does not have the role procuringEntity"},
        {"releases.0.bids.details.0.tenderers.0", "\"甲建设集团有限公司\"",
         "releases[0].bids.details[0].tenderers[0]: is a string; the schema wants an object "
         "(OrganizationReference)"},
        /* Value */
        {"releases.0.bids.details.0.value.amount", "\"1234567.89\"",
         "releases[0].bids.details[0].value.amount: is a string; the schema wants a number"},
        {"releases.0.bids.details.0.value.currency", NULL,
         "releases[0].bids.details[0].value.currency: is missing: an amount needs its "
         "currency"},
        /* bids.statistics */
        {"releases.0.bids.statistics.0.value", NULL,
         "releases[0].bids.statistics[0].value: is missing: the schema requires it"},
        {"releases.0.bids.statistics.0.value", "3.5",
         "releases[0].bids.statistics[0].value: bids is a count: the extension wants it as a "
         "non-negative integer"},
        {"releases.0.bids.statistics.4.currency", NULL,
         "releases[0].bids.statistics[4].value: lowestValidBidValue is an amount of money: its "
         "currency is missing"},
        {"releases.0.bids.statistics.0.relatedLot", "\"2\"",
         "releases[0].bids.statistics[0].relatedLot: \"2\" is not the id of any of "
         "releases[0].tender.lots"},
        {"releases.0.bids.statistics.0.measure", NULL,
         "releases[0].bids.statistics[0].measure: is missing"},
        /* bids.details */
        {"releases.0.bids.details.0.id", NULL,
         "releases[0].bids.details[0].id: is missing: the schema requires it"},
        {"releases.0.bids.details.2.relatedLots.0", "\"2\"",
         "releases[0].bids.details[2].relatedLots[0]: \"2\" is not the id of any of "
         "releases[0].tender.lots"},
        {"releases.0.bids.details.0.envelopeSha256", "\"XYZ\"",
         "releases[0].bids.details[0].envelopeSha256: \"XYZ\" is not a SHA-256"},
        /* unique ids */
        {"releases.0.parties.3.id", "@releases.0.parties.2.id",
         "releases[0].parties[3].id: CN-USCC-"},
        {"releases.0.bids.details.1.id", "@releases.0.bids.details.0.id",
         "releases[0].bids.details[1].id: " OFX_OID "-"},
        {"releases.0.tender.lots.1", "@releases.0.tender.lots.0",
         "releases[0].tender.lots[1].id: 1 is also the id of releases[0].tender.lots[0]: the "
         "ids of lots must be unique"},
        {"releases.0.bids.statistics.1.id", "\"1\"",
         "releases[0].bids.statistics[1].id: 1 is also the id of releases[0].bids.statistics[0]"},
    };
    bo_buf out;
    bo_buf_init(&out, 16u << 20);
    json_t *good = render_json(F, BO_EXPORT_OCDS, &out);
    expect_ocds_valid(good);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = json_deep_copy(good);
        mutate(j, cases[i].path, cases[i].value);
        char why[1024];
        if (bo_ocds_check(j, why, sizeof(why)))
            fail_msg("%s = %s passes", cases[i].path, cases[i].value ? cases[i].value : "(none)");
        if (strncmp(why, cases[i].says, strlen(cases[i].says)))
            fail_msg("%s = %s:\n  says     %s\n  expected %s...", cases[i].path,
                     cases[i].value ? cases[i].value : "(none)", why, cases[i].says);
        json_decref(j);
    }
    /* the unique-id sentences in full */
    json_t *j = json_deep_copy(good);
    mutate(j, "releases.0.parties.3.id", "@releases.0.parties.2.id");
    char why[1024], want[1024];
    assert_false(bo_ocds_check(j, why, sizeof(why)));
    snprintf(want, sizeof(want),
             "releases[0].parties[3].id: %s is also the id of releases[0].parties[2]: the ids "
             "of parties must be unique",
             jstr(j, "releases.0.parties.2.id"));
    assert_string_equal(why, want);
    json_decref(j);
    /* not a package at all; a short buffer is cut, still a string */
    assert_false(bo_ocds_check(NULL, why, sizeof(why)));
    assert_string_equal(why, "the package: is nothing; a release package is an object");
    j = json_deep_copy(good);
    mutate(j, "releases.0.ocid", NULL);
    assert_false(bo_ocds_check(j, why, 12));
    assert_string_equal(why, "releases[0]");
    assert_false(bo_ocds_check(j, NULL, 0));
    json_decref(j);
    json_decref(good);
    bo_buf_cleanup(&out);
}

static void expect_in(const bo_buf *b, const char *s)
{
    if (!memmem(b->data, b->len, s, strlen(s)))
        fail_msg("the document lacks \"%s\"", s);
}

/* Print the HTML with chromium (when installed): a PDF and a PNG. */
static void print_with_chromium(const bo_buf *html, const char *name)
{
    if (!getenv("BO_EXPORT_PRINT") && !getenv("BO_EXPORT_KEEP"))
        return; /* ctest runs the printing as test_session_export_print (label browser) */
    if (system("command -v chromium >/dev/null 2>&1") != 0) {
        print_message("chromium is not installed: the document is not printed\n");
        return;
    }
    const char *keep = getenv("BO_EXPORT_KEEP");
    char dir[256], path[512], cmd[4096];
    snprintf(dir, sizeof(dir), "%s", keep ? keep : "/tmp/bo-export-XXXXXX");
    if (keep)
        mkdir(dir, 0755);
    else
        assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%s.html", dir, name);
    ofx_write(path, html);
    /* a PDF always; a PNG of the first screen too when the files are kept, to look at */
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && timeout 90 chromium --headless --no-sandbox --disable-gpu "
             "--no-pdf-header-footer --print-to-pdf='%s/%s.pdf' 'file://%s' >/dev/null 2>&1%s",
             dir, dir, name, path,
             keep ? " && timeout 90 chromium --headless --no-sandbox --disable-gpu "
                    "--hide-scrollbars --window-size=900,1300 --screenshot=record.png "
                    "\"file://$PWD/record.html\" >/dev/null 2>&1"
                  : "");
    int rc = system(cmd);
    if (rc != 0) {
        print_message("chromium could not print %s (exit %d)\n", path, rc);
    } else {
        char pdf[600];
        snprintf(pdf, sizeof(pdf), "%s/%s.pdf", dir, name);
        FILE *fp = fopen(pdf, "rb");
        assert_non_null(fp);
        char head[5] = "";
        assert_int_equal(fread(head, 1, 4, fp), 4);
        fclose(fp);
        assert_memory_equal(head, "%PDF", 4);
        print_message("printed %s/%s.pdf\n", dir, name);
    }
    if (!keep) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            print_message("could not remove %s\n", dir);
    }
}

static void html_document(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 16u << 20);
    render_json(F, BO_EXPORT_HTML, &out);
    expect_in(&out, "<!DOCTYPE html>");
    expect_in(&out, "<html lang=\"zh-CN\">");
    expect_in(&out, "<meta charset=\"utf-8\">");
    expect_in(&out, "Noto Serif CJK SC");
    expect_in(&out, "SimSun");
    expect_in(&out, "size:A4");
    expect_in(&out, "开标记录");
    expect_in(&out, "Bid opening record");
    expect_in(&out, "城关镇道路改造工程施工");
    expect_in(&out, "某县交通运输局");
    expect_in(&out, "2027-01-15 18:00:00+08:00");
    for (int i = 0; i < 3; i++) {
        expect_in(&out, OFX_ORGS[i]);
        expect_in(&out, F->bid[i].a.uscc);
        expect_in(&out, OFX_PRICES[i]);
        expect_in(&out, OFX_PMS[i]);
    }
    expect_in(&out, "投标报价（元）");
    expect_in(&out, "下浮系数");
    expect_in(&out, "唱标顺序");
    expect_in(&out, "5e5e5e5e5e5e5e5e"); /* the seed */
    expect_in(&out, "评标基准价");
    expect_in(&out, "已确认");
    expect_in(&out, "视为认可");
    expect_in(&out, "提出异议");
    expect_in(&out, "&lt;唱错&gt;了 &amp; 请复核"); /* escaped */
    expect_in(&out, OFX_ANSWER);
    expect_in(&out, "招标人（盖章）");
    expect_in(&out, "招标代理机构（盖章）");
    expect_in(&out, "监督人（签字）");
    char hex[65];
    expect_in(&out, bo_hex_encode(F->server_fpr, 32, hex)); /* the server key */
    uint8_t closed[32];
    assert_true(bo_session_closed_hash(F->s, closed));
    expect_in(&out, bo_hex_encode(closed, 32, hex)); /* the record's hash */
    assert_null(memmem(out.data, out.len, "<唱错>", strlen("<唱错>")));
    /* bids in announcement order: the order draw's first comes first in the table */
    print_with_chromium(&out, "record");
    bo_buf_cleanup(&out);
}

static void html_revoked(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 16u << 20);
    render_json(R, BO_EXPORT_HTML, &out);
    expect_in(&out, "撤销");
    expect_in(&out, "投标人CA锁PIN码锁定");
    bo_buf_cleanup(&out);
}

static void refusals(void **state)
{
    bo_buf out;
    bo_buf_init(&out, 1 << 20);
    char detail[256];
    static const uint8_t not_map[] = {0x91, 0x01};
    for (int f = BO_EXPORT_RECORD; f <= BO_EXPORT_HTML; f++) {
        detail[0] = 0;
        assert_int_not_equal(bo_export_render((bo_export_format)f, not_map, sizeof(not_map),
                                              NULL, &out, detail, sizeof(detail)),
                             BO_E_OK);
        assert_true(detail[0]);
        assert_int_equal(out.len, 0);
    }
    /* a map that is not a record */
    bo_buf m;
    bo_buf_init(&m, 64);
    bo_err err;
    bo_mpmap *mm = bo_mpmap_new(&err);
    bo_mpmap_u64(mm, "v", 2);
    bo_mpmap_finish(mm, &m);
    bo_mpmap_free(mm);
    assert_int_equal(bo_export_html(m.data, m.len, NULL, &out, detail, sizeof(detail)),
                     BO_E_BAD_FIELD);
    assert_int_equal(bo_export_render(BO_EXPORT_TRANSCRIPT, m.data, m.len, NULL, &out, NULL, 0),
                     BO_E_INVALID_ARG);
    /* names */
    bo_export_format f;
    assert_int_equal(bo_export_format_parse("transcript_public", &f), BO_E_OK);
    assert_int_equal(f, BO_EXPORT_TRANSCRIPT_PUBLIC);
    assert_int_equal(bo_export_format_parse("pdf", &f), BO_E_BAD_FIELD);
    assert_string_equal(bo_export_mime(BO_EXPORT_HTML), "text/html; charset=utf-8");
    assert_string_equal(bo_export_suffix(BO_EXPORT_OCDS), ".ocds.json");
    bo_buf_cleanup(&m);
    bo_buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_json),   cmocka_unit_test(ocds_package),
        cmocka_unit_test(ocds_revoked),  cmocka_unit_test(ocds_failed),
        cmocka_unit_test(ocds_schema_rules), cmocka_unit_test(html_document),
        cmocka_unit_test(html_revoked),  cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
