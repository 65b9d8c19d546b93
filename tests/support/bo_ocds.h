/* bidopen tests: the OCDS export checked against the OCDS 1.1 release package schema and
 * the extensions it declares (bids, bid opening, lots), field by field (docs/transcript.md
 * §3). The schema files are not shipped: this is the schema's rules, written out for what
 * a release package may hold, plus the references the standard asks for:
 *
 *   - the package: uri (a URI), version "1.1", publishedDate, publisher.name, releases (at
 *     least one, no two alike), extensions (URLs of extension.json files, and the bids,
 *     bid-opening and lots extensions declared when their fields are used);
 *   - each release: ocid, id, date, tag (closed releaseTag codelist), initiationType
 *     ("tender"), and the type of every member the schema defines (string, number, integer,
 *     boolean, array, object, and null only where the schema allows it);
 *   - date-times as RFC 3339; closed codelists: releaseTag, initiationType, tenderStatus,
 *     method, procurementCategory, bidStatus, currency (an ISO 4217 code: three capital
 *     letters), and partyRole (open in OCDS 1.1, checked all the same: the export uses its
 *     codes only);
 *   - organizations: each party with an id, unique; each reference (buyer,
 *     procuringEntity, tenderers) with its id and name, naming a party of that name which
 *     has the role the reference implies;
 *   - Value {amount number, currency}; bids.statistics (id, measure, value; counts as
 *     non-negative integers, money with its currency, relatedLot a lot); bids.details (id,
 *     status, tenderers, value, relatedLots); ids unique in parties, lots, statistics and
 *     details; bidopen's own members of a bid (docs/transcript.md §3) of their types.
 *
 * Context: any thread; no allocation beyond jansson's lookups. */
#ifndef BO_OCDS_H
#define BO_OCDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/** true when package is a valid OCDS 1.1 release package as described above; else false,
 * with the first violation in why (n bytes, NUL-terminated, truncated if need be) as one
 * sentence that begins with its JSON path, e.g.
 * `releases[0].bids.details[1].status: "accepted" is not in the closed bidStatus codelist
 * (invited, pending, valid, disqualified, withdrawn)`. why may be NULL when n is 0.
 * Ownership: borrows package. */
bool bo_ocds_check(const json_t *package, char *why, size_t n);

#endif
