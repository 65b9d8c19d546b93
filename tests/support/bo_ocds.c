/* bidopen tests: an OCDS 1.1 release package checked field by field (bo_ocds.h).
 *
 * Each object kind is a table of the members the schema defines: the JSON types allowed
 * (null only where the schema says ["...", "null"]), whether it is required, and a check of
 * its value (a codelist, a date-time, a nested object, the items of an array). Members the
 * schema does not define are allowed, as in OCDS, except bidopen's own members of a bid,
 * whose types docs/transcript.md gives. The first violation stops the walk. */
#include "bo_ocds.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ context ---- */

typedef struct ck {
    char *why;
    size_t n;
    bool failed;
    char path[512];
    size_t len;
    char rel[512];            /* "releases[i]", for what references point at */
    const json_t *exts;       /* the package's extensions */
    const json_t *parties;    /* the release's parties */
    const json_t *lots;       /* the release's tender.lots */
} ck;

static bool bad(ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool bad(ck *c, const char *fmt, ...)
{
    if (c->failed)
        return false;
    c->failed = true;
    if (!c->why || !c->n)
        return false;
    int k = snprintf(c->why, c->n, "%s: ", c->len ? c->path : "the package");
    if (k < 0 || (size_t)k >= c->n)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why + k, c->n - (size_t)k, fmt, ap);
    va_end(ap);
    return false;
}

/* Path components: each returns the length to go back to. */
static size_t at_key(ck *c, const char *key)
{
    size_t old = c->len;
    int k = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "", key);
    if (k > 0)
        c->len = c->len + (size_t)k < sizeof(c->path) ? c->len + (size_t)k : sizeof(c->path) - 1;
    return old;
}

static size_t at_idx(ck *c, size_t i)
{
    size_t old = c->len;
    int k = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);
    if (k > 0)
        c->len = c->len + (size_t)k < sizeof(c->path) ? c->len + (size_t)k : sizeof(c->path) - 1;
    return old;
}

static void back(ck *c, size_t old)
{
    c->len = old;
    c->path[old] = 0;
}

/* ------------------------------------------------------------------- types ---- */

enum {
    J_STR = 1,
    J_INT = 2,
    J_NUM = 4, /* any number, integers too */
    J_BOOL = 8,
    J_ARR = 16,
    J_OBJ = 32,
    J_NULL = 64,
};

enum {
    F_REQ = 1,      /* required */
    F_NONEMPTY = 2, /* a string of at least one character (minLength 1) */
};

typedef bool (*check_fn)(ck *c, const json_t *v);

typedef struct field {
    const char *key;
    unsigned types, flags;
    check_fn check;   /* run on a value that is not null */
    const char *need; /* why it is required when the schema does not require it */
} field;

static bool type_ok(const json_t *v, unsigned t)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return t & J_STR;
    case JSON_INTEGER:
        return t & (J_INT | J_NUM);
    case JSON_REAL: {
        double d = json_real_value(v);
        return (t & J_NUM) || ((t & J_INT) && d > -9e18 && d < 9e18 && d == (double)(long long)d);
    }
    case JSON_TRUE:
    case JSON_FALSE:
        return t & J_BOOL;
    case JSON_ARRAY:
        return t & J_ARR;
    case JSON_OBJECT:
        return t & J_OBJ;
    case JSON_NULL:
        return t & J_NULL;
    }
    return false;
}

static const char *what_is(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_ARRAY:
        return "an array";
    case JSON_OBJECT:
        return "an object";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static void wanted(unsigned t, char *out, size_t n)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{J_STR, "a string"},   {J_INT, "an integer"}, {J_NUM, "a number"},
                 {J_BOOL, "a boolean"}, {J_ARR, "an array"},   {J_OBJ, "an object"},
                 {J_NULL, "null"}};
    out[0] = 0;
    size_t k = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (t & names[i].bit) {
            int w = snprintf(out + k, n - k, "%s%s", k ? " or " : "", names[i].name);
            if (w < 0 || (size_t)w >= n - k)
                return;
            k += (size_t)w;
        }
}

static bool check_members(ck *c, const json_t *o, const field *f, size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        const json_t *v = json_object_get(o, f[i].key);
        size_t old = at_key(c, f[i].key);
        bool ok = true;
        char want[96];
        if (!v) {
            if (f[i].flags & F_REQ)
                ok = bad(c, "is missing: %s", f[i].need ? f[i].need : "the schema requires it");
        } else if (!type_ok(v, f[i].types)) {
            wanted(f[i].types, want, sizeof(want));
            ok = bad(c, "is %s; the schema wants %s", what_is(v), want);
        } else if ((f[i].flags & F_NONEMPTY) && json_is_string(v) && !json_string_length(v)) {
            ok = bad(c, "is an empty string; the schema wants at least one character");
        } else if (!json_is_null(v) && f[i].check) {
            ok = f[i].check(c, v);
        }
        back(c, old);
        if (!ok)
            return false;
    }
    return true;
}

#define MEMBERS(c, o, table) check_members(c, o, table, sizeof(table) / sizeof(table[0]))

static bool each(ck *c, const json_t *a, check_fn one)
{
    for (size_t i = 0; i < json_array_size(a); i++) {
        size_t old = at_idx(c, i);
        bool ok = one(c, json_array_get(a, i));
        back(c, old);
        if (!ok)
            return false;
    }
    return true;
}

/* An item must be an object (arrays of objects the schema defines but we do not look
 * into: documents, milestones, items, ...). */
static bool an_object(ck *c, const json_t *v)
{
    return json_is_object(v) ? true : bad(c, "is %s; the schema wants an object", what_is(v));
}

static bool a_string(ck *c, const json_t *v)
{
    return json_is_string(v) ? true : bad(c, "is %s; the schema wants a string", what_is(v));
}

static bool objects(ck *c, const json_t *a)
{
    return each(c, a, an_object);
}

static bool strings(ck *c, const json_t *a)
{
    return each(c, a, a_string);
}

/* No two items with the same id (the items are objects with a string id by now). */
static bool unique_ids(ck *c, const json_t *a, const char *what)
{
    for (size_t i = 1; i < json_array_size(a); i++) {
        const json_t *id = json_object_get(json_array_get(a, i), "id");
        for (size_t j = 0; id && j < i; j++) {
            if (!json_equal(id, json_object_get(json_array_get(a, j), "id")))
                continue;
            char other[600];
            snprintf(other, sizeof(other), "%s[%zu]", c->path, j);
            size_t old = at_idx(c, i), o2 = at_key(c, "id");
            bad(c, "%s is also the id of %s: the ids of %s must be unique",
                json_is_string(id) ? json_string_value(id) : "(this id)", other, what);
            back(c, o2);
            back(c, old);
            return false;
        }
    }
    return true;
}

/* --------------------------------------------------------------- codelists ---- */

static bool in_codelist(ck *c, const json_t *v, const char *name, const char *const *codes)
{
    if (!json_is_string(v))
        return bad(c, "is %s; the %s codelist's codes are strings", what_is(v), name);
    const char *s = json_string_value(v);
    for (size_t i = 0; codes[i]; i++)
        if (!strcmp(s, codes[i]))
            return true;
    char list[512] = "";
    size_t k = 0;
    for (size_t i = 0; codes[i] && k < sizeof(list); i++) {
        int w = snprintf(list + k, sizeof(list) - k, "%s%s", i ? ", " : "", codes[i]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
    return bad(c, "\"%s\" is not in the closed %s codelist (%s)", s, name, list);
}

#define CODELIST(fn, name, ...)                                                              \
    static bool fn(ck *c, const json_t *v)                                                   \
    {                                                                                        \
        static const char *const codes[] = {__VA_ARGS__, NULL};                              \
        return in_codelist(c, v, name, codes);                                               \
    }

CODELIST(release_tag, "releaseTag", "planning", "planningUpdate", "tender", "tenderAmendment",
         "tenderUpdate", "tenderCancellation", "award", "awardUpdate", "awardCancellation",
         "contract", "contractUpdate", "contractAmendment", "implementation",
         "implementationUpdate", "contractTermination", "compiled")
CODELIST(initiation_type, "initiationType", "tender")
CODELIST(tender_status, "tenderStatus", "planning", "planned", "active", "cancelled",
         "unsuccessful", "complete", "withdrawn")
CODELIST(method, "method", "open", "selective", "limited", "direct")
CODELIST(procurement_category, "procurementCategory", "goods", "works", "services")
CODELIST(bid_status, "bidStatus", "invited", "pending", "valid", "disqualified", "withdrawn")
CODELIST(party_role, "partyRole", "buyer", "procuringEntity", "supplier", "tenderer", "funder",
         "enquirer", "payer", "payee", "reviewBody", "interestedParty")

static bool currency(ck *c, const json_t *v)
{
    const char *s = json_string_value(v);
    bool ok = s && strlen(s) == 3;
    for (int i = 0; ok && i < 3; i++)
        ok = s[i] >= 'A' && s[i] <= 'Z';
    return ok ? true
              : bad(c, "\"%s\" is not a code of the closed currency codelist (ISO 4217: three "
                       "capital letters)",
                    s ? s : "");
}

static bool tags(ck *c, const json_t *v)
{
    if (!json_array_size(v))
        return bad(c, "is empty; the schema wants at least one releaseTag");
    return each(c, v, release_tag);
}

static bool party_roles(ck *c, const json_t *v)
{
    return each(c, v, party_role);
}

/* ------------------------------------------------------- formats: date-time ---- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 §5.6 date-time: full-date "T" partial-time [frac] (Z / ±hh:mm). */
static bool rfc3339(const char *s)
{
    int y, mo, d, h, mi, sec;
    size_t n = strlen(s);
    if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 60)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if ((*p == 'Z' || *p == 'z') && !p[1])
        return true;
    int oh, om;
    return (*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) && p[3] == ':' &&
           digits(p + 4, 2, &om) && oh <= 23 && om <= 59;
}

static bool date_time(ck *c, const json_t *v)
{
    return rfc3339(json_string_value(v))
               ? true
               : bad(c, "\"%s\" is not a date-time (RFC 3339, e.g. 2027-01-15T18:00:00+08:00)",
                     json_string_value(v));
}

/* ------------------------------------------------------------ formats: URI ---- */

/* RFC 3986 URI: scheme ":" then only characters a URI may hold (percent-escapes whole). */
static bool uri_ok(const char *s)
{
    const char *p = s;
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
        return false;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
           *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p++ != ':' || !*p)
        return false;
    for (; *p; p++) {
        if (*p == '%') {
            for (int i = 1; i <= 2; i++)
                if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                    return false;
            p += 2;
            continue;
        }
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("-._~:/?#[]@!$&'()*+,;=", *p)))
            return false;
    }
    return true;
}

static bool uri(ck *c, const json_t *v)
{
    return uri_ok(json_string_value(v))
               ? true
               : bad(c, "\"%s\" is not a URI (RFC 3986)", json_string_value(v));
}

static bool extension_url(ck *c, const json_t *v)
{
    if (!json_is_string(v))
        return bad(c, "is %s; the schema wants a string (a URI)", what_is(v));
    const char *s = json_string_value(v);
    size_t n = strlen(s), k = strlen("/extension.json");
    if (!uri_ok(s) || (strncmp(s, "https://", 8) && strncmp(s, "http://", 7)) || n <= k ||
        strcmp(s + n - k, "/extension.json"))
        return bad(c, "\"%s\" is not the URL of an extension's extension.json", s);
    return true;
}

static bool extension_urls(ck *c, const json_t *v)
{
    return each(c, v, extension_url);
}

/* The package declares the extension named repo (its extension.json URL names it). */
static bool declares(ck *c, const char *repo, const char *why)
{
    char needle[80];
    snprintf(needle, sizeof(needle), "/%s/", repo);
    for (size_t i = 0; i < json_array_size(c->exts); i++) {
        const char *u = json_string_value(json_array_get(c->exts, i));
        if (u && strstr(u, needle))
            return true;
    }
    return bad(c, "%s, but the package's extensions do not declare %s", why, repo);
}

/* ----------------------------------------------------------------- objects ---- */

static bool identifier(ck *c, const json_t *v)
{
    static const field f[] = {
        {"scheme", J_STR | J_NULL, 0, NULL, NULL},
        {"id", J_STR | J_INT | J_NULL, 0, NULL, NULL},
        {"legalName", J_STR | J_NULL, 0, NULL, NULL},
        {"uri", J_STR | J_NULL, 0, uri, NULL},
    };
    return MEMBERS(c, v, f);
}

static bool identifiers(ck *c, const json_t *v)
{
    return each(c, v, identifier);
}

static bool period(ck *c, const json_t *v)
{
    static const field f[] = {
        {"startDate", J_STR | J_NULL, 0, date_time, NULL},
        {"endDate", J_STR | J_NULL, 0, date_time, NULL},
        {"maxExtentDate", J_STR | J_NULL, 0, date_time, NULL},
        {"durationInDays", J_INT | J_NULL, 0, NULL, NULL},
    };
    return MEMBERS(c, v, f);
}

/* Value: the schema allows either member null; an amount means nothing without its currency
 * (and the export always writes both), so both are asked for. */
static bool value(ck *c, const json_t *v)
{
    static const field f[] = {
        {"amount", J_NUM, F_REQ, NULL, "a value gives its amount"},
        {"currency", J_STR, F_REQ, currency, "an amount needs its currency"},
    };
    return MEMBERS(c, v, f);
}

static bool organization(ck *c, const json_t *v)
{
    /* id: not required by the 1.1 schema, but references (and merging) need it */
    static const field f[] = {
        {"id", J_STR, F_REQ | F_NONEMPTY, NULL, "a party needs an id for references to it"},
        {"name", J_STR | J_NULL, 0, NULL, NULL},
        {"identifier", J_OBJ, 0, identifier, NULL},
        {"additionalIdentifiers", J_ARR, 0, identifiers, NULL},
        {"address", J_OBJ, 0, NULL, NULL},
        {"contactPoint", J_OBJ, 0, NULL, NULL},
        {"roles", J_ARR | J_NULL, 0, party_roles, NULL},
        {"details", J_OBJ | J_NULL, 0, NULL, NULL},
    };
    if (!json_is_object(v))
        return bad(c, "is %s; the schema wants an object (Organization)", what_is(v));
    return MEMBERS(c, v, f);
}

static bool parties(ck *c, const json_t *v)
{
    return each(c, v, organization) && unique_ids(c, v, "parties");
}

/* An OrganizationReference: id and name (as OCDS 1.1 references organizations), naming a
 * party of the same name that has the role the reference implies. */
static bool org_ref(ck *c, const json_t *v, const char *role)
{
    static const field f[] = {
        {"id", J_STR | J_INT, F_REQ | F_NONEMPTY, NULL,
         "OCDS 1.1 references an organization by its id and name"},
        {"name", J_STR, F_REQ | F_NONEMPTY, NULL,
         "OCDS 1.1 references an organization by its id and name"},
        {"identifier", J_OBJ, 0, identifier, NULL},
        {"additionalIdentifiers", J_ARR, 0, identifiers, NULL},
        {"address", J_OBJ, 0, NULL, NULL},
        {"contactPoint", J_OBJ, 0, NULL, NULL},
    };
    if (!json_is_object(v))
        return bad(c, "is %s; the schema wants an object (OrganizationReference)", what_is(v));
    if (!MEMBERS(c, v, f))
        return false;
    const json_t *id = json_object_get(v, "id");
    const char *name = json_string_value(json_object_get(v, "name"));
    char ids[64];
    if (json_is_string(id))
        snprintf(ids, sizeof(ids), "%s", json_string_value(id));
    else
        snprintf(ids, sizeof(ids), "%lld", (long long)json_integer_value(id));
    for (size_t i = 0; i < json_array_size(c->parties); i++) {
        const json_t *p = json_array_get(c->parties, i);
        const json_t *pid = json_object_get(p, "id");
        if (!json_is_string(pid) || strcmp(json_string_value(pid), ids))
            continue;
        const char *pname = json_string_value(json_object_get(p, "name"));
        if (!pname || strcmp(pname, name)) {
            size_t old = at_key(c, "name");
            bad(c, "\"%s\" is not the name of the party it references (%s.parties[%zu]: %s%s%s)",
                name, c->rel, i, pname ? "\"" : "", pname ? pname : "no name",
                pname ? "\"" : "");
            back(c, old);
            return false;
        }
        const json_t *roles = json_object_get(p, "roles");
        for (size_t k = 0; k < json_array_size(roles); k++) {
            const char *r = json_string_value(json_array_get(roles, k));
            if (r && !strcmp(r, role))
                return true;
        }
        return bad(c, "references %s.parties[%zu] (%s), which does not have the role %s", c->rel,
                   i, ids, role);
    }
    size_t old = at_key(c, "id");
    bad(c, "\"%s\" is not the id of any of %s.parties: an organization reference must name a "
           "party",
        ids, c->rel);
    back(c, old);
    return false;
}

static bool ref_buyer(ck *c, const json_t *v)
{
    return org_ref(c, v, "buyer");
}

static bool ref_procuring(ck *c, const json_t *v)
{
    return org_ref(c, v, "procuringEntity");
}

static bool ref_tenderer(ck *c, const json_t *v)
{
    return org_ref(c, v, "tenderer");
}

static bool tenderers(ck *c, const json_t *v)
{
    return each(c, v, ref_tenderer);
}

/* A lot's id, as statistics' relatedLot and bids' relatedLots give it. */
static bool lot_ref(ck *c, const json_t *v)
{
    if (!json_is_string(v))
        return bad(c, "is %s; the schema wants a string (a lot's id)", what_is(v));
    for (size_t i = 0; i < json_array_size(c->lots); i++) {
        const json_t *id = json_object_get(json_array_get(c->lots, i), "id");
        if (json_is_string(id) && !strcmp(json_string_value(id), json_string_value(v)))
            return true;
    }
    return bad(c, "\"%s\" is not the id of any of %s.tender.lots", json_string_value(v), c->rel);
}

static bool lot_refs(ck *c, const json_t *v)
{
    return each(c, v, lot_ref);
}

static bool lot(ck *c, const json_t *v)
{
    static const field f[] = {
        {"id", J_STR, F_REQ | F_NONEMPTY, NULL, "a lot needs an id for references to it"},
        {"title", J_STR | J_NULL, 0, NULL, NULL},
        {"description", J_STR | J_NULL, 0, NULL, NULL},
        {"status", J_STR | J_NULL, 0, tender_status, NULL},
        {"value", J_OBJ, 0, value, NULL},
        {"contractPeriod", J_OBJ, 0, period, NULL},
    };
    if (!json_is_object(v))
        return bad(c, "is %s; the schema wants an object (Lot)", what_is(v));
    return MEMBERS(c, v, f);
}

static bool lots(ck *c, const json_t *v)
{
    return each(c, v, lot) && unique_ids(c, v, "lots");
}

static bool bid_opening(ck *c, const json_t *v)
{
    static const field f[] = {
        {"date", J_STR | J_NULL, 0, date_time, NULL},
        {"description", J_STR | J_NULL, 0, NULL, NULL},
        {"location", J_OBJ, 0, NULL, NULL},
        {"address", J_OBJ, 0, NULL, NULL},
    };
    return MEMBERS(c, v, f);
}

static bool tender(ck *c, const json_t *v)
{
    static const field f[] = {
        {"id", J_STR | J_INT, F_REQ | F_NONEMPTY, NULL, NULL},
        {"title", J_STR | J_NULL, 0, NULL, NULL},
        {"description", J_STR | J_NULL, 0, NULL, NULL},
        {"status", J_STR | J_NULL, 0, tender_status, NULL},
        {"procuringEntity", J_OBJ, 0, ref_procuring, NULL},
        {"items", J_ARR, 0, objects, NULL},
        {"value", J_OBJ, 0, value, NULL},
        {"minValue", J_OBJ, 0, value, NULL},
        {"procurementMethod", J_STR | J_NULL, 0, method, NULL},
        {"procurementMethodDetails", J_STR | J_NULL, 0, NULL, NULL},
        {"procurementMethodRationale", J_STR | J_NULL, 0, NULL, NULL},
        {"mainProcurementCategory", J_STR | J_NULL, 0, procurement_category, NULL},
        {"additionalProcurementCategories", J_ARR | J_NULL, 0, strings, NULL},
        {"awardCriteria", J_STR | J_NULL, 0, NULL, NULL},
        {"awardCriteriaDetails", J_STR | J_NULL, 0, NULL, NULL},
        {"submissionMethod", J_ARR | J_NULL, 0, strings, NULL},
        {"submissionMethodDetails", J_STR | J_NULL, 0, NULL, NULL},
        {"tenderPeriod", J_OBJ, 0, period, NULL},
        {"enquiryPeriod", J_OBJ, 0, period, NULL},
        {"hasEnquiries", J_BOOL | J_NULL, 0, NULL, NULL},
        {"eligibilityCriteria", J_STR | J_NULL, 0, NULL, NULL},
        {"awardPeriod", J_OBJ, 0, period, NULL},
        {"contractPeriod", J_OBJ, 0, period, NULL},
        {"numberOfTenderers", J_INT | J_NULL, 0, NULL, NULL},
        {"tenderers", J_ARR, 0, tenderers, NULL},
        {"documents", J_ARR, 0, objects, NULL},
        {"milestones", J_ARR, 0, objects, NULL},
        {"amendments", J_ARR, 0, objects, NULL},
        {"lots", J_ARR, 0, lots, NULL},              /* lots extension */
        {"bidOpening", J_OBJ, 0, bid_opening, NULL}, /* bid opening extension */
    };
    if (!MEMBERS(c, v, f))
        return false;
    size_t old;
    bool ok = true;
    if (json_object_get(v, "lots")) {
        old = at_key(c, "lots");
        ok = declares(c, "ocds_lots_extension", "the tender has lots");
        back(c, old);
    }
    if (ok && json_object_get(v, "bidOpening")) {
        old = at_key(c, "bidOpening");
        ok = declares(c, "ocds_bidOpening_extension", "the tender has a bid opening");
        back(c, old);
    }
    return ok;
}

/* bidStatistics codes that count (to be given as integers). */
static bool is_count(const char *m)
{
    static const char *const counts[] = {
        "requests", "bids", "validBids", "bidders", "qualifiedBidders",
        "disqualifiedBidders", "electronicBids", "smeBids", "foreignBids",
        "foreignBidsFromEU", "foreignBidsFromNonEU", "tendersAbnormallyLow", NULL};
    for (size_t i = 0; counts[i]; i++)
        if (!strcmp(m, counts[i]))
            return true;
    return false;
}

static bool statistic(ck *c, const json_t *v)
{
    static const field f[] = {
        {"id", J_STR, F_REQ | F_NONEMPTY, NULL, NULL},
        {"measure", J_STR, F_REQ | F_NONEMPTY, NULL, NULL}, /* open codelist (bidStatistics) */
        {"date", J_STR | J_NULL, 0, date_time, NULL},
        {"value", J_NUM, F_REQ, NULL, NULL},
        {"valueGross", J_NUM | J_NULL, 0, NULL, NULL},
        {"currency", J_STR | J_NULL, 0, currency, NULL},
        {"notes", J_STR | J_NULL, 0, NULL, NULL},
        {"relatedLot", J_STR | J_NULL, 0, lot_ref, NULL},
    };
    if (!json_is_object(v))
        return bad(c, "is %s; the schema wants an object (BidsStatistic)", what_is(v));
    if (!MEMBERS(c, v, f))
        return false;
    const char *m = json_string_value(json_object_get(v, "measure"));
    const json_t *x = json_object_get(v, "value");
    size_t old = at_key(c, "value");
    bool ok = true;
    if (is_count(m) && (!json_is_integer(x) || json_integer_value(x) < 0))
        ok = bad(c, "%s is a count: the extension wants it as a non-negative integer", m);
    else if ((strstr(m, "Value") || strstr(m, "Price")) &&
             !json_is_string(json_object_get(v, "currency")))
        ok = bad(c, "%s is an amount of money: its currency is missing", m);
    back(c, old);
    return ok;
}

static bool statistics(ck *c, const json_t *v)
{
    return each(c, v, statistic) && unique_ids(c, v, "bids.statistics");
}

static bool hex64(ck *c, const json_t *v)
{
    const char *s = json_string_value(v);
    bool ok = strlen(s) == 64;
    for (size_t i = 0; ok && i < 64; i++)
        ok = strchr("0123456789abcdef", s[i]) != NULL;
    return ok ? true : bad(c, "\"%s\" is not a SHA-256 in lower-case hex", s);
}

static bool form_item(ck *c, const json_t *v)
{
    static const field f[] = {
        {"key", J_STR, F_REQ | F_NONEMPTY, NULL, "docs/transcript.md §3 says so"},
        {"label", J_STR, F_REQ, NULL, "docs/transcript.md §3 says so"},
        {"type", J_STR, F_REQ | F_NONEMPTY, NULL, "docs/transcript.md §3 says so"},
        {"value", J_STR, F_REQ, NULL, "docs/transcript.md §3 says so"},
    };
    if (!json_is_object(v))
        return bad(c, "is %s; an opening form's field is an object", what_is(v));
    return MEMBERS(c, v, f);
}

static bool opening_form(ck *c, const json_t *v)
{
    return each(c, v, form_item);
}

static bool bid(ck *c, const json_t *v)
{
    static const field f[] = {
        {"id", J_STR, F_REQ | F_NONEMPTY, NULL, NULL},
        {"date", J_STR | J_NULL, 0, date_time, NULL},
        {"status", J_STR | J_NULL, 0, bid_status, NULL},
        {"tenderers", J_ARR, 0, tenderers, NULL},
        {"value", J_OBJ, 0, value, NULL},
        {"documents", J_ARR, 0, objects, NULL},
        {"relatedLots", J_ARR | J_NULL, 0, lot_refs, NULL}, /* lots extension */
        /* bidopen's own (docs/transcript.md §3) */
        {"statusDetails", J_STR, 0, NULL, NULL},
        {"description", J_STR | J_NULL, 0, NULL, NULL},
        {"announcementNumber", J_INT, 0, NULL, NULL},
        {"openingForm", J_ARR, 0, opening_form, NULL},
        {"durationInDays", J_INT, 0, NULL, NULL},
        {"envelopeSha256", J_STR, 0, hex64, NULL},
    };
    if (!json_is_object(v))
        return bad(c, "is %s; the schema wants an object (Bid)", what_is(v));
    return MEMBERS(c, v, f);
}

static bool details(ck *c, const json_t *v)
{
    return each(c, v, bid) && unique_ids(c, v, "bids.details");
}

static bool bids(ck *c, const json_t *v)
{
    static const field f[] = {
        {"statistics", J_ARR, 0, statistics, NULL},
        {"details", J_ARR, 0, details, NULL},
    };
    return declares(c, "ocds_bid_extension", "the release has bids") && MEMBERS(c, v, f);
}

static bool release(ck *c, const json_t *v)
{
    static const field f[] = {
        {"ocid", J_STR, F_REQ | F_NONEMPTY, NULL, NULL},
        {"id", J_STR, F_REQ | F_NONEMPTY, NULL, NULL},
        {"date", J_STR, F_REQ, date_time, NULL},
        {"tag", J_ARR, F_REQ, tags, NULL},
        {"initiationType", J_STR, F_REQ, initiation_type, NULL},
        {"parties", J_ARR, 0, parties, NULL},
        {"buyer", J_OBJ, 0, ref_buyer, NULL},
        {"planning", J_OBJ, 0, NULL, NULL},
        {"tender", J_OBJ, 0, tender, NULL},
        {"awards", J_ARR, 0, objects, NULL},
        {"contracts", J_ARR, 0, objects, NULL},
        {"language", J_STR | J_NULL, 0, NULL, NULL},
        {"relatedProcesses", J_ARR, 0, objects, NULL},
        {"bids", J_OBJ, 0, bids, NULL}, /* bids extension */
    };
    if (!json_is_object(v))
        return bad(c, "is %s; the schema wants an object (a release)", what_is(v));
    snprintf(c->rel, sizeof(c->rel), "%s", c->path);
    const json_t *p = json_object_get(v, "parties");
    c->parties = json_is_array(p) ? p : NULL;
    const json_t *l = json_object_get(json_object_get(v, "tender"), "lots");
    c->lots = json_is_array(l) ? l : NULL;
    return MEMBERS(c, v, f);
}

static bool releases(ck *c, const json_t *v)
{
    if (!json_array_size(v))
        return bad(c, "is empty; the schema wants at least one release");
    if (!each(c, v, release))
        return false;
    for (size_t i = 1; i < json_array_size(v); i++)
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(v, i), json_array_get(v, j))) {
                size_t old = at_idx(c, i);
                bad(c, "is the same as releases[%zu]: the schema wants unique releases", j);
                back(c, old);
                return false;
            }
    return true;
}

static bool version(ck *c, const json_t *v)
{
    return !strcmp(json_string_value(v), "1.1")
               ? true
               : bad(c, "\"%s\" is not 1.1, the version these rules are", json_string_value(v));
}

static bool publisher(ck *c, const json_t *v)
{
    static const field f[] = {
        {"name", J_STR, F_REQ, NULL, NULL},
        {"scheme", J_STR | J_NULL, 0, NULL, NULL},
        {"uid", J_STR | J_NULL, 0, NULL, NULL},
        {"uri", J_STR | J_NULL, 0, uri, NULL},
    };
    return MEMBERS(c, v, f);
}

bool bo_ocds_check(const json_t *package, char *why, size_t n)
{
    ck c;
    memset(&c, 0, sizeof(c));
    c.why = why;
    c.n = n;
    if (why && n)
        why[0] = 0;
    if (!json_is_object(package))
        return bad(&c, "is %s; a release package is an object",
                   package ? what_is(package) : "nothing");
    static const field f[] = {
        {"uri", J_STR, F_REQ, uri, NULL},
        {"version", J_STR, F_REQ, version, NULL},
        {"extensions", J_ARR, 0, extension_urls, NULL},
        {"publishedDate", J_STR, F_REQ, date_time, NULL},
        {"publisher", J_OBJ, F_REQ, publisher, NULL},
        {"license", J_STR | J_NULL, 0, uri, NULL},
        {"publicationPolicy", J_STR | J_NULL, 0, uri, NULL},
        {"releases", J_ARR, F_REQ, releases, NULL},
    };
    const json_t *e = json_object_get(package, "extensions");
    c.exts = json_is_array(e) ? e : NULL;
    return MEMBERS(&c, package, f);
}
