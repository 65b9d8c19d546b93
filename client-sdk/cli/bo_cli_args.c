#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo_cli.h"

#define COMMON                                                                                \
    "Connection options:\n"                                                                   \
    "  --server URL      server to connect to, wss://host:port/ws (repeat for fallbacks)\n"   \
    "  --ca FILE         CA certificate(s) that issued the server's TLS certificate (PEM)\n" \
    "  --cert FILE       your signing certificate chain (PEM, leaf first)\n"                  \
    "  --key FILE        your private key (PEM or DER; default: from --cert)\n"               \
    "  --pass PASS       password of the key or of the PKCS#12 file\n"                        \
    "  --p12 FILE        key and signing chain from a PKCS#12 file instead of --cert/--key\n" \
    "  --enc-cert FILE   your encryption certificate chain (bidders, PEM)\n"                  \
    "  --role ROLE       authenticate as ROLE instead of the command's own\n"                 \
    "  --json            one JSON object per line for every event, snapshot, presence,\n"     \
    "                    reply and state change (for programs)\n"                             \
    "  --timeout SEC     give up after SEC seconds (exit 4)\n"                                \
    "  --retries N       failed connection attempts in a row before giving up (exit 3)\n"    \
    "  --quiet           print only results and errors\n"                                     \
    "  --help            this text\n"

#define EXITS                                                                                 \
    "Exit codes: 0 done, 1 usage error, 2 refused by the server (E_ code printed),\n"        \
    "3 could not connect or connection lost beyond retries, 4 timed out, 5 local error.\n"

static const char overview[] =
    "usage: bidopen COMMAND [options]   (bidopen COMMAND --help for details)\n"
    "\n"
    "Remote bid opening (不见面开标) client.\n"
    "\n"
    "Commands:\n"
    "  pki init DIR                     write a throwaway demo PKI into DIR\n"
    "  host create --tender FILE.json   create an opening, print its oid [--watch]\n"
    "  host watch --oid OID             the live feed, who is online, the countdown\n"
    "  host pause|resume|fail --oid OID [--reason TEXT]\n"
    "  bidder --oid OID [--register] [--signin] [--decrypt --enc-key KEY] [--watch]\n"
    "                   [--until PHASE]\n"
    "  seal --oid OID --form K=V ... --doc FILE ... --enc-cert ENC --out BID.cms\n"
    "                                   build and seal a bid (local, no server)\n"
    "  bidder submit --oid OID --bid BID.cms   upload a sealed bid (resumable)\n"
    "  bidder receipt --oid OID         fetch and verify the receipt (回执)\n"
    "  bidder preflight --oid OID --enc-key KEY   check the key opens your bid (local)\n"
    "  host decrypt-start --oid OID [--window SECONDS]\n"
    "  host extend --oid OID --seconds N --reason TEXT\n"
    "  host classify --oid OID --uscc X --outcome revoked|withdrawn --reason TEXT\n"
    "  host announce --oid OID [--all]  announce the next bid (唱标), or every one left\n"
    "  host draw --oid OID --draw ID    make the tender's draw (verifiable)\n"
    "  host benchmark --oid OID         compute the benchmark price (评标基准价)\n"
    "  host confirm-open --oid OID [--window SECONDS]   open the record for confirmation\n"
    "  host answer --oid OID --objection N --text TEXT   answer an objection (signed)\n"
    "  host close --oid OID             close the opening; prints the record's hash\n"
    "  bidder confirm --oid OID         show the record and sign it (确认)\n"
    "  bidder object --oid OID --text TEXT   raise an objection (异议, signed)\n"
    "  message --oid OID --text TEXT    a public message (host, supervisor, site, bidder)\n"
    "  host export --oid OID --format F --out FILE | --all DIR\n"
    "                                   the record (JSON, OCDS, HTML) or the transcript\n"
    "  verify TRANSCRIPT --trust DIR    check a transcript offline (local, no server)\n"
    "  site --oid OID                   a remote hall's live view (county halls)\n"
    "  observe --oid OID                the public view, no certificate\n"
    "  operator blacklist add|remove|replace|list [--file FILE.json] [--uscc X ...]\n"
    "  list                             the openings on the server\n"
    "  version                          print the version\n"
    "\n" EXITS;

static const char u_pki[] =
    "usage: bidopen pki init DIR\n"
    "\n"
    "Write a throwaway PKI for demos and tests into DIR: CAs, the server's TLS certificate,\n"
    "staff and site certificates, bidders with signing and encryption certificates (the\n"
    "layout is described in crypto/README.md). Never use these keys for real openings.\n"
    "\n" EXITS;

static const char u_create[] =
    "usage: bidopen host create --tender FILE.json [--watch] [options]\n"
    "\n"
    "Create an opening from a tender (docs/protocol.md §5) and print its oid. Times may be\n"
    "RFC 3339 (\"2026-11-27T10:00:00+08:00\"), ms since the epoch, or relative to the\n"
    "server's clock (\"+90s\", \"+5m\", \"+2h\", \"+1d\"). host_fpr is 64 hex digits.\n"
    "  --tender FILE     the tender (JSON)\n"
    "  --watch           then watch the opening (as host watch)\n"
    "\n" COMMON "\n" EXITS;

static const char u_watch[] =
    "usage: bidopen host watch --oid OID [--until PHASE] [options]\n"
    "\n"
    "Join an opening as its host and show the live feed, presence (who is online, the sites'\n"
    "round trips) and the countdown in server time. Reconnects and resumes by itself.\n"
    "  --oid OID         the opening\n"
    "  --until PHASE     exit 0 once the opening is in PHASE (or later)\n"
    "\n" COMMON "\n" EXITS;

static const char u_pause[] =
    "usage: bidopen host pause --oid OID --reason TEXT [options]\n"
    "\n"
    "Pause the opening (after the deadline only: the bid deadline itself cannot be paused).\n"
    "\n" COMMON "\n" EXITS;

static const char u_resume[] = "usage: bidopen host resume --oid OID [options]\n"
                               "\n"
                               "Resume a paused opening.\n"
                               "\n" COMMON "\n" EXITS;

static const char u_fail[] =
    "usage: bidopen host fail --oid OID --reason TEXT [options]\n"
    "\n"
    "Declare the opening failed (流标), e.g. for lack of quorum. Host or operator.\n"
    "\n" COMMON "\n" EXITS;

static const char u_bidder[] =
    "usage: bidopen bidder --oid OID [--register] [--signin] [--decrypt --enc-key KEY]\n"
    "                      [--confirm | --object TEXT] [--watch] [--until PHASE]\n"
    "\n"
    "Connect as a bidder (signing chain, key and --enc-cert), join the opening, register if\n"
    "asked, sign in (签到) as soon as the phase allows (waiting through 'scheduled' with a\n"
    "countdown), then exit once the requested steps are done, or watch.\n"
    "  --oid OID         the opening\n"
    "  --register        register for the opening (needs --enc-cert)\n"
    "  --signin          sign in when sign-in opens\n"
    "  --decrypt         answer the opening's decryption request (远程解密) with --enc-key;\n"
    "                    waits for it, exits once the bid is opened (or watches on)\n"
    "  --enc-key KEY     the encryption key: PEM/DER file, PKCS#12, or a pkcs11: URI\n"
    "  --enc-pass PASS   its password or PIN\n"
    "  --record FILE     a bid record (BID.cms.json) besides those in --store\n"
    "  --store DIR       the bid store (default $BIDOPEN_BIDS or ~/.bidopen/bids)\n"
    "  --confirm         when the record opens for confirmation, show it and sign it (确认)\n"
    "  --object TEXT     then instead raise this objection (异议), signed\n"
    "  --watch           keep watching after the steps are done\n"
    "  --until PHASE     after the steps, watch until the opening reaches PHASE\n"
    "Phases: scheduled checkin awaiting_open decrypting announcing confirming closed failed\n"
    "\n"
    "Also: bidopen bidder submit|receipt|preflight|confirm|object (bidopen bidder submit\n"
    "--help).\n"
    "\n" COMMON "\n" EXITS;

static const char u_seal[] =
    "usage: bidopen seal --oid OID --form KEY=VALUE ... [--doc FILE ...] --cert SIGN\n"
    "                    [--key SIGN_KEY | --p12 FILE] --enc-cert ENC --out BID.cms\n"
    "                    [--cbc] [--rsa-pkcs1] [--uscc X] [--package-only]\n"
    "\n"
    "Build the bid package (the opening form and the documents, signed with your signing\n"
    "key) and seal it to your encryption certificate: a CMS envelope, AES-256-GCM\n"
    "(AuthEnvelopedData) by default. Local: nothing is sent. Prints the envelope's SHA-256\n"
    "and the key commitment, and writes the bid record next to it (BID.cms.json), which\n"
    "'bidder submit' reads.\n"
    "  --oid OID         the opening (bound into the package and the commitment)\n"
    "  --form KEY=VALUE  a field of the opening form, e.g. price=1234567.89 (repeat)\n"
    "  --doc FILE        a document to enclose (repeat; the file name is kept)\n"
    "  --enc-cert ENC    your encryption certificate (RSA or EC P-256)\n"
    "  --out BID.cms     the sealed bid to write\n"
    "  --cbc             EnvelopedData with AES-256-CBC instead of GCM (compatibility)\n"
    "  --rsa-pkcs1       RSA key transport with PKCS#1 v1.5 instead of OAEP (old tokens)\n"
    "  --uscc X          your USCC (default: read from the signing certificate)\n"
    "  --package-only    write only the signed package to --out (to seal it with another\n"
    "                    tool, e.g. openssl cms -encrypt -binary -stream -aes-256-gcm)\n"
    "  --cert, --key, --pass, --p12: your signing credentials; --quiet, --json as below\n"
    "\n" EXITS;

static const char u_submit[] =
    "usage: bidopen bidder submit --oid OID --bid BID.cms [--record BID.cms.json]\n"
    "                             [--enc-key KEY] [options]\n"
    "\n"
    "Upload a sealed bid before the deadline, with a progress bar on a terminal. Resumable:\n"
    "after a dropped connection it goes on by itself; after Ctrl-C, run it again and it\n"
    "continues where the server stopped. Prints the verified receipt (回执) and keeps it\n"
    "with the bid's record in the store.\n"
    "  --bid BID.cms     the sealed bid\n"
    "  --record FILE     its record (default BID.cms.json, written by bidopen seal)\n"
    "  --enc-key KEY     for a bid sealed by another tool (no record): your encryption key,\n"
    "                    to compute the key commitment (PEM/DER, PKCS#12, pkcs11: URI)\n"
    "  --enc-pass PASS   its password or PIN\n"
    "  --store DIR       the bid store (default $BIDOPEN_BIDS or ~/.bidopen/bids)\n"
    "\n" COMMON "\n" EXITS;

static const char u_receipt[] =
    "usage: bidopen bidder receipt --oid OID [options]\n"
    "\n"
    "Fetch your current receipt (回执) from the server, verify its signature with the\n"
    "server's key and compare it with your local record.\n"
    "  --store DIR       the bid store (default $BIDOPEN_BIDS or ~/.bidopen/bids)\n"
    "\n" COMMON "\n" EXITS;

static const char u_preflight[] =
    "usage: bidopen bidder preflight --oid OID --enc-key KEY [--enc-pass PASS]\n"
    "                                [--enc-cert ENC] [--record FILE] [--store DIR]\n"
    "\n"
    "Before the opening, check locally that your key opens your sealed bid: the key\n"
    "belongs to the certificate the bid was sealed to (a renewed certificate is named),\n"
    "it recovers the bid's key and that key matches the commitment. Nothing is sent; no\n"
    "server is needed. Exit 0 when ready, 5 otherwise.\n"
    "  --enc-key KEY     the encryption key: PEM/DER file, PKCS#12, or a pkcs11: URI\n"
    "  --enc-cert ENC    the encryption certificate you hold now (to name it if renewed)\n"
    "  --record FILE     check this record instead of the store's\n"
    "  --cert FILE       only the bids of this signing certificate's USCC\n"
    "\n" EXITS;

static const char u_decrypt_start[] =
    "usage: bidopen host decrypt-start --oid OID [--window SECONDS] [options]\n"
    "\n"
    "Start remote decryption (远程解密): every signed-in bidder with a bid gets a request;\n"
    "the window is the tender's unless --window (60..86400 s) is given. Prints its end.\n"
    "\n" COMMON "\n" EXITS;

static const char u_extend[] =
    "usage: bidopen host extend --oid OID --seconds N --reason TEXT [options]\n"
    "\n"
    "Extend the decryption window once by N seconds (60..86400), with a reason.\n"
    "\n" COMMON "\n" EXITS;

static const char u_classify[] =
    "usage: bidopen host classify --oid OID --uscc X --outcome revoked|withdrawn\n"
    "                             --reason TEXT [options]\n"
    "\n"
    "After the window, classify a bid that was not decrypted: revoked (撤销, the bidder\n"
    "caused it) or withdrawn (撤回, it did not), with a reason. The bidder's signed\n"
    "diagnostics (decrypt_diagnostic events in host watch) are the evidence.\n"
    "\n" COMMON "\n" EXITS;

static const char u_announce[] =
    "usage: bidopen host announce --oid OID [--all] [options]\n"
    "\n"
    "Announce (唱标) the next bid in the tender's order, or with --all every bid that is\n"
    "left. Every participant sees each bid's number, bidder, status and opening form; this\n"
    "prints them and the table as it stands.\n"
    "  --all             every bid that remains\n"
    "\n" COMMON "\n" EXITS;

static const char u_draw[] =
    "usage: bidopen host draw --oid OID --draw ID [options]\n"
    "\n"
    "Make one of the tender's draws (a coefficient, or the announcement order). The result\n"
    "is verifiable: the server reveals the seed it committed to when the opening was\n"
    "created and the inputs (the bidders' own signatures); this prints both.\n"
    "  --draw ID         the draw's id in the tender\n"
    "\n" COMMON "\n" EXITS;

static const char u_benchmark[] =
    "usage: bidopen host benchmark --oid OID [options]\n"
    "\n"
    "Compute the benchmark price (评标基准价) with the tender's formula once every bid is\n"
    "announced (and its coefficient drawn); prints the price and its inputs.\n"
    "\n" COMMON "\n" EXITS;

static const char u_confirm_open[] =
    "usage: bidopen host confirm-open --oid OID [--window SECONDS] [options]\n"
    "\n"
    "Open the record for confirmation: bidders confirm it or object within the window\n"
    "(60..86400 s, the server's default 600 s). Prints the record hash they sign.\n"
    "\n" COMMON "\n" EXITS;

static const char u_answer[] =
    "usage: bidopen host answer --oid OID --objection N --text TEXT [options]\n"
    "\n"
    "Answer objection N (1..2000 characters), signed with your key; the answer is public.\n"
    "\n" COMMON "\n" EXITS;

static const char u_close[] =
    "usage: bidopen host close --oid OID [options]\n"
    "\n"
    "Close the opening once every objection is answered and the confirmation window is over\n"
    "(or every bidder with a valid bid confirmed). Prints the final record's hash.\n"
    "\n" COMMON "\n" EXITS;

static const char u_bconfirm[] =
    "usage: bidopen bidder confirm --oid OID [options]\n"
    "\n"
    "Show the opening record as announced (every bid, the draws, the benchmark price) and\n"
    "the record hash, then sign the hash (确认). Waits for the confirmation window if it has\n"
    "not opened yet. Exit 2 if the window is over.\n"
    "\n" COMMON "\n" EXITS;

static const char u_bobject[] =
    "usage: bidopen bidder object --oid OID --text TEXT [options]\n"
    "\n"
    "Raise an objection (异议, 1..1000 characters) to the record, signed together with the\n"
    "record hash; the host must answer it before closing. Waits for the window like\n"
    "bidder confirm. At most 5 per bidder; not after confirming.\n"
    "\n" COMMON "\n" EXITS;

static const char u_message[] =
    "usage: bidopen message --oid OID --text TEXT [--role ROLE] [options]\n"
    "\n"
    "Send a public message (1..300 characters, one every 5 seconds) to everyone in the\n"
    "opening. The host, supervisors, sites and, after the deadline, bidders whose bid is\n"
    "opened may send. The role is --role, else bidder with --enc-cert, else host.\n"
    "\n" COMMON "\n" EXITS;

static const char u_site[] =
    "usage: bidopen site --oid OID [--until PHASE] [options]\n"
    "\n"
    "The live view of a remote hall (分会场): phase, a big countdown in server time, counts\n"
    "when visible, the bidder list once public, and the feed. Reconnects by itself and says\n"
    "so on screen.\n"
    "\n" COMMON "\n" EXITS;

static const char u_observe[] =
    "usage: bidopen observe --oid OID [--until PHASE] [options]\n"
    "\n"
    "The public view of an opening; needs no certificate.\n"
    "\n" COMMON "\n" EXITS;

static const char u_bl[] =
    "usage: bidopen operator blacklist add|replace [--file FILE.json | --uscc X --name N\n"
    "                                                --reason R [--source S]]\n"
    "       bidopen operator blacklist remove [--file FILE.json | --uscc X ...]\n"
    "       bidopen operator blacklist list\n"
    "\n"
    "Manage the credit blacklist (失信主体). FILE.json holds [{uscc, name, reason, source?}]\n"
    "(or {\"entries\": [...]}); for remove, a list of USCCs or of entries.\n"
    "\n" COMMON "\n" EXITS;

static const char u_list[] = "usage: bidopen list [options]\n"
                             "\n"
                             "List the openings on the server (oid, title, lot, phase, "
                             "deadline).\n"
                             "\n" COMMON "\n" EXITS;

static const char u_version[] = "usage: bidopen version\n";

static const char u_export[] =
    "usage: bidopen host export --oid OID --format FORMAT --out FILE [options]\n"
    "       bidopen host export --oid OID --all DIR [options]\n"
    "\n"
    "Download an export of the opening (docs/transcript.md) through the server and write\n"
    "it to FILE, or every format into DIR as OID.json, OID.ocds.json, OID.html,\n"
    "OID.public.transcript and OID.transcript. The host, supervisors and operators\n"
    "(--role) get every format; anyone (--role observer) the record's and the public\n"
    "transcript once the opening is closed or failed.\n"
    "  --oid OID         the opening\n"
    "  --format FORMAT   record (JSON), ocds (OCDS release package), html (the printable\n"
    "                    record), transcript (the whole log) or transcript_public\n"
    "  --out FILE        where to write it\n"
    "  --all DIR         every format into DIR (created if missing)\n"
    "\n" COMMON "\n" EXITS;

static const char u_verify[] =
    "usage: bidopen verify TRANSCRIPT [--trust DIR] [--server-key FPR] [--host-cert FILE]\n"
    "                      [--require-crl] [--uscc-attr ATTR] [--json] [--quiet]\n"
    "\n"
    "Check a transcript offline (docs/transcript.md): the hash chain, the server's\n"
    "signatures, every participant's signature and certificate at the time of each event,\n"
    "then replay the log with the server's own state machine and recompute the draws, the\n"
    "benchmark price and the record. One line per finding: ERROR, UNCHECKED or ok.\n"
    "  --trust DIR       the CAs and CRLs to check certificates against\n"
    "  --server-key FPR  the server key's fingerprint (64 hex digits, server_key's key_fpr)\n"
    "  --host-cert FILE  the host's signing certificate (PEM): checks its answers\n"
    "  --require-crl     a certificate's CA must have a current CRL in DIR\n"
    "  --uscc-attr ATTR  where certificates carry the USCC (default serialNumber)\n"
    "  --json            one JSON object per finding, then a summary\n"
    "  --quiet           only the errors and the summary\n"
    "\n"
    "Exit codes: 0 nothing is wrong, 2 something is (one ERROR line each), 1 usage error,\n"
    "5 the transcript or the trust store cannot be read.\n";

const char *bo_cli_usage(bo_cli_cmd cmd)
{
    switch (cmd) {
    case BO_CMD_PKI_INIT:
        return u_pki;
    case BO_CMD_HOST_CREATE:
        return u_create;
    case BO_CMD_HOST_WATCH:
        return u_watch;
    case BO_CMD_HOST_PAUSE:
        return u_pause;
    case BO_CMD_HOST_RESUME:
        return u_resume;
    case BO_CMD_HOST_FAIL:
        return u_fail;
    case BO_CMD_BIDDER:
        return u_bidder;
    case BO_CMD_SITE:
        return u_site;
    case BO_CMD_OBSERVE:
        return u_observe;
    case BO_CMD_BL_ADD:
    case BO_CMD_BL_REMOVE:
    case BO_CMD_BL_REPLACE:
    case BO_CMD_BL_LIST:
        return u_bl;
    case BO_CMD_LIST:
        return u_list;
    case BO_CMD_VERSION:
        return u_version;
    case BO_CMD_SEAL:
        return u_seal;
    case BO_CMD_BIDDER_SUBMIT:
        return u_submit;
    case BO_CMD_BIDDER_RECEIPT:
        return u_receipt;
    case BO_CMD_BIDDER_PREFLIGHT:
        return u_preflight;
    case BO_CMD_HOST_DECRYPT_START:
        return u_decrypt_start;
    case BO_CMD_HOST_EXTEND:
        return u_extend;
    case BO_CMD_HOST_CLASSIFY:
        return u_classify;
    case BO_CMD_HOST_EXPORT:
        return u_export;
    case BO_CMD_VERIFY:
        return u_verify;
    case BO_CMD_HOST_ANNOUNCE:
        return u_announce;
    case BO_CMD_HOST_DRAW:
        return u_draw;
    case BO_CMD_HOST_BENCHMARK:
        return u_benchmark;
    case BO_CMD_HOST_CONFIRM_OPEN:
        return u_confirm_open;
    case BO_CMD_HOST_ANSWER:
        return u_answer;
    case BO_CMD_HOST_CLOSE:
        return u_close;
    case BO_CMD_BIDDER_CONFIRM:
        return u_bconfirm;
    case BO_CMD_BIDDER_OBJECT:
        return u_bobject;
    case BO_CMD_MESSAGE:
        return u_message;
    default:
        return overview;
    }
}

static const char *const cmd_names[] = {
    [BO_CMD_NONE] = "",
    [BO_CMD_HELP] = "help",
    [BO_CMD_VERSION] = "version",
    [BO_CMD_PKI_INIT] = "pki init",
    [BO_CMD_HOST_CREATE] = "host create",
    [BO_CMD_HOST_WATCH] = "host watch",
    [BO_CMD_HOST_PAUSE] = "host pause",
    [BO_CMD_HOST_RESUME] = "host resume",
    [BO_CMD_HOST_FAIL] = "host fail",
    [BO_CMD_BIDDER] = "bidder",
    [BO_CMD_SITE] = "site",
    [BO_CMD_OBSERVE] = "observe",
    [BO_CMD_BL_ADD] = "operator blacklist add",
    [BO_CMD_BL_REMOVE] = "operator blacklist remove",
    [BO_CMD_BL_REPLACE] = "operator blacklist replace",
    [BO_CMD_BL_LIST] = "operator blacklist list",
    [BO_CMD_LIST] = "list",
    [BO_CMD_SEAL] = "seal",
    [BO_CMD_BIDDER_SUBMIT] = "bidder submit",
    [BO_CMD_BIDDER_RECEIPT] = "bidder receipt",
    [BO_CMD_BIDDER_PREFLIGHT] = "bidder preflight",
    [BO_CMD_HOST_DECRYPT_START] = "host decrypt-start",
    [BO_CMD_HOST_EXTEND] = "host extend",
    [BO_CMD_HOST_CLASSIFY] = "host classify",
    [BO_CMD_HOST_EXPORT] = "host export",
    [BO_CMD_VERIFY] = "verify",
    [BO_CMD_HOST_ANNOUNCE] = "host announce",
    [BO_CMD_HOST_DRAW] = "host draw",
    [BO_CMD_HOST_BENCHMARK] = "host benchmark",
    [BO_CMD_HOST_CONFIRM_OPEN] = "host confirm-open",
    [BO_CMD_HOST_ANSWER] = "host answer",
    [BO_CMD_HOST_CLOSE] = "host close",
    [BO_CMD_BIDDER_CONFIRM] = "bidder confirm",
    [BO_CMD_BIDDER_OBJECT] = "bidder object",
    [BO_CMD_MESSAGE] = "message",
};

const char *bo_cli_cmd_name(bo_cli_cmd cmd)
{
    if ((unsigned)cmd < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[cmd])
        return cmd_names[cmd];
    return "?";
}

bool bo_cli_phase_known(const char *p)
{
    static const char *const phases[] = {"scheduled",  "checkin",    "awaiting_open",
                                         "decrypting", "announcing", "confirming",
                                         "closed",     "failed"};
    for (size_t i = 0; p && i < sizeof(phases) / sizeof(phases[0]); i++)
        if (strcmp(p, phases[i]) == 0)
            return true;
    return false;
}

/* Options and the commands that accept them (beyond the common ones). */
enum { F_COMMON = 1, F_OID = 2, F_TENDER = 4, F_WATCH = 8, F_REASON = 16, F_BIDDER = 32,
       F_UNTIL = 64, F_BL = 128, F_SEAL = 256, F_BID = 512, F_ENCKEY = 1024, F_STORE = 2048,
       F_DECRYPT = 4096, F_WINDOW = 8192, F_SECONDS = 16384, F_CLASSIFY = 32768,
       F_CRED = 65536, /* --cert/--key/--pass/--p12/--enc-cert without a connection */
       F_ALL = 1 << 17, F_DRAW = 1 << 18, F_ANSWER = 1 << 19, F_TEXT = 1 << 20,
       F_CONFIRM = 1 << 21 /* bidder --confirm / --object */ };

/* host export and verify (bo_cli_export.c) */
#define F_EXPORT (1u << 24)
#define F_VERIFY (1u << 25)

static unsigned cmd_flags(bo_cli_cmd c)
{
    switch (c) {
    case BO_CMD_HOST_EXPORT:
        return F_COMMON | F_OID | F_EXPORT;
    case BO_CMD_VERIFY:
        return F_VERIFY;
    case BO_CMD_HOST_CREATE:
        return F_COMMON | F_TENDER | F_WATCH | F_UNTIL;
    case BO_CMD_HOST_WATCH:
    case BO_CMD_SITE:
    case BO_CMD_OBSERVE:
        return F_COMMON | F_OID | F_UNTIL;
    case BO_CMD_HOST_PAUSE:
    case BO_CMD_HOST_FAIL:
        return F_COMMON | F_OID | F_REASON;
    case BO_CMD_HOST_RESUME:
        return F_COMMON | F_OID;
    case BO_CMD_BIDDER:
        return F_COMMON | F_OID | F_BIDDER | F_WATCH | F_UNTIL | F_DECRYPT | F_ENCKEY | F_STORE |
               F_CONFIRM;
    case BO_CMD_HOST_ANNOUNCE:
        return F_COMMON | F_OID | F_ALL;
    case BO_CMD_HOST_DRAW:
        return F_COMMON | F_OID | F_DRAW;
    case BO_CMD_HOST_BENCHMARK:
    case BO_CMD_HOST_CLOSE:
    case BO_CMD_BIDDER_CONFIRM:
        return F_COMMON | F_OID;
    case BO_CMD_HOST_CONFIRM_OPEN:
        return F_COMMON | F_OID | F_WINDOW;
    case BO_CMD_HOST_ANSWER:
        return F_COMMON | F_OID | F_ANSWER | F_TEXT;
    case BO_CMD_BIDDER_OBJECT:
    case BO_CMD_MESSAGE:
        return F_COMMON | F_OID | F_TEXT;
    case BO_CMD_SEAL:
        return F_CRED | F_OID | F_SEAL;
    case BO_CMD_BIDDER_SUBMIT:
        return F_COMMON | F_OID | F_BID | F_ENCKEY | F_STORE;
    case BO_CMD_BIDDER_RECEIPT:
        return F_COMMON | F_OID | F_STORE;
    case BO_CMD_BIDDER_PREFLIGHT:
        return F_CRED | F_OID | F_ENCKEY | F_STORE;
    case BO_CMD_HOST_DECRYPT_START:
        return F_COMMON | F_OID | F_WINDOW;
    case BO_CMD_HOST_EXTEND:
        return F_COMMON | F_OID | F_SECONDS | F_REASON;
    case BO_CMD_HOST_CLASSIFY:
        return F_COMMON | F_OID | F_CLASSIFY | F_REASON;
    case BO_CMD_BL_ADD:
    case BO_CMD_BL_REPLACE:
    case BO_CMD_BL_REMOVE:
        return F_COMMON | F_BL | F_REASON;
    case BO_CMD_BL_LIST:
    case BO_CMD_LIST:
        return F_COMMON;
    default:
        return 0;
    }
}

static int usage_err(bo_buf *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_err(bo_buf *msg, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    bo_buf_reset(msg);
    bo_buf_append_str(msg, line);
    return BO_EXIT_USAGE;
}

/* Find the command from the leading words; *used = words consumed. */
static bo_cli_cmd find_cmd(int argc, char *const *argv, int *used, bo_buf *msg, int *rc)
{
    *rc = BO_EXIT_OK;
    const char *w0 = argc > 1 ? argv[1] : NULL, *w1 = argc > 2 ? argv[2] : NULL;
    const char *w2 = argc > 3 ? argv[3] : NULL;
    *used = 1;
    if (!w0 || strcmp(w0, "--help") == 0 || strcmp(w0, "-h") == 0 || strcmp(w0, "help") == 0)
        return BO_CMD_HELP;
    *used = 2;
    if (strcmp(w0, "version") == 0 || strcmp(w0, "--version") == 0)
        return BO_CMD_VERSION;
    if (strcmp(w0, "seal") == 0)
        return BO_CMD_SEAL;
    if (strcmp(w0, "verify") == 0)
        return BO_CMD_VERIFY;
    if (strcmp(w0, "bidder") == 0) {
        static const struct {
            const char *w;
            bo_cli_cmd c;
        } sub[] = {{"submit", BO_CMD_BIDDER_SUBMIT},
                   {"receipt", BO_CMD_BIDDER_RECEIPT},
                   {"preflight", BO_CMD_BIDDER_PREFLIGHT},
                   {"confirm", BO_CMD_BIDDER_CONFIRM},
                   {"object", BO_CMD_BIDDER_OBJECT}};
        for (size_t i = 0; w1 && i < sizeof(sub) / sizeof(sub[0]); i++)
            if (strcmp(w1, sub[i].w) == 0) {
                *used = 3;
                return sub[i].c;
            }
        return BO_CMD_BIDDER;
    }
    if (strcmp(w0, "site") == 0)
        return BO_CMD_SITE;
    if (strcmp(w0, "observe") == 0)
        return BO_CMD_OBSERVE;
    if (strcmp(w0, "list") == 0)
        return BO_CMD_LIST;
    if (strcmp(w0, "message") == 0)
        return BO_CMD_MESSAGE;
    if (strcmp(w0, "pki") == 0) {
        if (w1 && strcmp(w1, "init") == 0) {
            *used = 3;
            return BO_CMD_PKI_INIT;
        }
        if (w1 && (strcmp(w1, "--help") == 0 || strcmp(w1, "-h") == 0))
            return BO_CMD_PKI_INIT;
        *rc = usage_err(msg, "pki: expected 'init DIR', got '%s'", w1 ? w1 : "nothing");
        return BO_CMD_NONE;
    }
    if (strcmp(w0, "host") == 0) {
        static const struct {
            const char *w;
            bo_cli_cmd c;
        } sub[] = {{"create", BO_CMD_HOST_CREATE}, {"watch", BO_CMD_HOST_WATCH},
                   {"pause", BO_CMD_HOST_PAUSE},   {"resume", BO_CMD_HOST_RESUME},
                   {"fail", BO_CMD_HOST_FAIL},     {"decrypt-start", BO_CMD_HOST_DECRYPT_START},
                   {"extend", BO_CMD_HOST_EXTEND}, {"classify", BO_CMD_HOST_CLASSIFY},
                   {"announce", BO_CMD_HOST_ANNOUNCE}, {"draw", BO_CMD_HOST_DRAW},
                   {"benchmark", BO_CMD_HOST_BENCHMARK},
                   {"confirm-open", BO_CMD_HOST_CONFIRM_OPEN},
                   {"answer", BO_CMD_HOST_ANSWER}, {"close", BO_CMD_HOST_CLOSE},
                   {"export", BO_CMD_HOST_EXPORT}};
        for (size_t i = 0; w1 && i < sizeof(sub) / sizeof(sub[0]); i++)
            if (strcmp(w1, sub[i].w) == 0) {
                *used = 3;
                return sub[i].c;
            }
        if (w1 && (strcmp(w1, "--help") == 0 || strcmp(w1, "-h") == 0))
            return BO_CMD_HELP;
        *rc = usage_err(msg,
                        "host: expected create, watch, pause, resume, fail, decrypt-start, "
                        "extend, classify, announce, draw, benchmark, confirm-open, answer, "
                        "close or export, got '%s'",
                        w1 ? w1 : "nothing");
        return BO_CMD_NONE;
    }
    if (strcmp(w0, "operator") == 0) {
        if (!w1 || strcmp(w1, "blacklist") != 0) {
            if (w1 && (strcmp(w1, "--help") == 0 || strcmp(w1, "-h") == 0))
                return BO_CMD_BL_LIST; /* the blacklist usage is the operator's */
            *rc = usage_err(msg, "operator: expected 'blacklist', got '%s'",
                            w1 ? w1 : "nothing");
            return BO_CMD_NONE;
        }
        static const struct {
            const char *w;
            bo_cli_cmd c;
        } sub[] = {{"add", BO_CMD_BL_ADD},
                   {"remove", BO_CMD_BL_REMOVE},
                   {"replace", BO_CMD_BL_REPLACE},
                   {"list", BO_CMD_BL_LIST}};
        for (size_t i = 0; w2 && i < sizeof(sub) / sizeof(sub[0]); i++)
            if (strcmp(w2, sub[i].w) == 0) {
                *used = 4;
                return sub[i].c;
            }
        if (w2 && (strcmp(w2, "--help") == 0 || strcmp(w2, "-h") == 0)) {
            *used = 3;
            return BO_CMD_BL_LIST;
        }
        *rc = usage_err(msg, "operator blacklist: expected add, remove, replace or list, got '%s'",
                        w2 ? w2 : "nothing");
        return BO_CMD_NONE;
    }
    *rc = usage_err(msg, "unknown command '%s' (bidopen --help lists them)", w0);
    return BO_CMD_NONE;
}

int bo_cli_parse(int argc, char *const *argv, bo_cli_opts *o, bo_buf *msg)
{
    memset(o, 0, sizeof(*o));
    o->retries = -1;
    int rc, i;
    o->cmd = find_cmd(argc, argv, &i, msg, &rc);
    if (rc)
        return rc;
    if (o->cmd == BO_CMD_HELP) {
        o->help = true;
        return BO_EXIT_OK;
    }
    unsigned fl = cmd_flags(o->cmd);
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
            return BO_EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (o->cmd == BO_CMD_VERIFY && !o->transcript) {
                o->transcript = a;
                continue;
            }
            if (o->cmd == BO_CMD_PKI_INIT && !o->dir) {
                o->dir = a;
                continue;
            }
            return usage_err(msg, "unexpected argument '%s'", a);
        }
        /* --name=value or --name value */
        char name[32];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof(name))
            return usage_err(msg, "unknown option '%s'", a);
        memcpy(name, a, nl);
        name[nl] = 0;
        const char *val = eq ? eq + 1 : NULL;

        static const struct {
            const char *name;
            unsigned need; /* F_*: any of them */
            bool flag;
        } opts[] = {
            {"--server", F_COMMON, false}, {"--ca", F_COMMON, false},
            {"--cert", F_COMMON | F_CRED, false},   {"--key", F_COMMON | F_CRED, false},
            {"--pass", F_COMMON | F_CRED, false},   {"--p12", F_COMMON | F_CRED, false},
            {"--enc-cert", F_COMMON | F_CRED, false}, {"--role", F_COMMON, false},
            {"--json", F_COMMON | F_CRED | F_VERIFY, true},
            {"--quiet", F_COMMON | F_CRED | F_VERIFY, true},
            {"--format", F_EXPORT, false},  {"--all", F_EXPORT, false},
            {"--trust", F_VERIFY, false},   {"--server-key", F_VERIFY, false},
            {"--host-cert", F_VERIFY, false}, {"--require-crl", F_VERIFY, true},
            {"--uscc-attr", F_VERIFY, false},
            {"--timeout", F_COMMON, false}, {"--retries", F_COMMON, false},
            {"--oid", F_OID, false},       {"--tender", F_TENDER, false},
            {"--watch", F_WATCH, true},    {"--reason", F_REASON, false},
            {"--register", F_BIDDER, true}, {"--signin", F_BIDDER, true},
            {"--until", F_UNTIL, false},   {"--file", F_BL, false},
            {"--uscc", F_BL | F_CLASSIFY | F_SEAL, false},
            {"--name", F_BL, false},
            {"--source", F_BL, false},
            {"--form", F_SEAL, false},     {"--doc", F_SEAL, false},
            {"--out", F_SEAL | F_EXPORT, false},      {"--cbc", F_SEAL, true},
            {"--rsa-pkcs1", F_SEAL, true}, {"--package-only", F_SEAL, true},
            {"--bid", F_BID, false},       {"--record", F_BID | F_DECRYPT | F_ENCKEY, false},
            {"--enc-key", F_ENCKEY, false}, {"--enc-pass", F_ENCKEY, false},
            {"--store", F_STORE | F_SEAL, false}, {"--decrypt", F_DECRYPT, true},
            {"--window", F_WINDOW, false}, {"--seconds", F_SECONDS, false},
            {"--outcome", F_CLASSIFY, false},
            {"--all", F_ALL, true},        {"--draw", F_DRAW, false},
            {"--objection", F_ANSWER, false}, {"--text", F_TEXT, false},
            {"--confirm", F_CONFIRM, true}, {"--object", F_CONFIRM, false},
        };
        size_t k = 0;
        while (k < sizeof(opts) / sizeof(opts[0]) && strcmp(opts[k].name, name) != 0)
            k++;
        if (k == sizeof(opts) / sizeof(opts[0]))
            return usage_err(msg, "unknown option '%s'", name);
        /* a name two commands use differently (--all: announce's flag, export's DIR): the
         * entry of this command */
        for (size_t j = k + 1; !(fl & opts[k].need) && j < sizeof(opts) / sizeof(opts[0]); j++)
            if (strcmp(opts[j].name, name) == 0 && (fl & opts[j].need))
                k = j;
        if (!(fl & opts[k].need)) {
            bo_buf_reset(msg);
            bo_buf_appendf(msg, "option %s does not apply to '%s'", name,
                           bo_cli_cmd_name(o->cmd));
            return BO_EXIT_USAGE;
        }
        if (opts[k].flag) {
            if (val)
                return usage_err(msg, "option %s takes no value", name);
        } else if (!val) {
            if (i + 1 >= argc)
                return usage_err(msg, "option %s needs a value", name);
            val = argv[++i];
        }
        if (strcmp(name, "--server") == 0) {
            if (o->n_servers == BO_CLI_MAX_SERVERS)
                return usage_err(msg, "at most 16 --server options");
            if (strncmp(val, "wss://", 6) != 0 && strncmp(val, "ws://", 5) != 0)
                return usage_err(msg, "--server wants wss://host:port/ws, not '%s'", val);
            o->servers[o->n_servers++] = val;
        } else if (strcmp(name, "--ca") == 0) {
            o->ca = val;
        } else if (strcmp(name, "--cert") == 0) {
            o->cert = val;
        } else if (strcmp(name, "--key") == 0) {
            o->key = val;
        } else if (strcmp(name, "--pass") == 0) {
            o->pass = val;
        } else if (strcmp(name, "--p12") == 0) {
            o->p12 = val;
        } else if (strcmp(name, "--enc-cert") == 0) {
            o->enc_cert = val;
        } else if (strcmp(name, "--role") == 0) {
            static const char *const roles[] = {"operator", "host", "supervisor",
                                                "bidder",   "site", "observer"};
            bool ok = false;
            for (size_t r = 0; r < 6; r++)
                ok |= strcmp(val, roles[r]) == 0;
            if (!ok)
                return usage_err(msg, "--role: unknown role '%s'", val);
            o->role = val;
        } else if (strcmp(name, "--json") == 0) {
            o->json = true;
        } else if (strcmp(name, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(name, "--timeout") == 0) {
            char *end;
            double t = strtod(val, &end);
            if (end == val || *end || !(t > 0) || t > 31536000)
                return usage_err(msg, "--timeout wants a number of seconds, not '%s'", val);
            o->timeout_s = t;
        } else if (strcmp(name, "--retries") == 0) {
            char *end;
            long n = strtol(val, &end, 10);
            if (end == val || *end || n < 0 || n > 1000000)
                return usage_err(msg, "--retries wants a number >= 0, not '%s'", val);
            o->retries = (int)n;
        } else if (strcmp(name, "--oid") == 0) {
            o->oid = val;
        } else if (strcmp(name, "--tender") == 0) {
            o->tender = val;
        } else if (strcmp(name, "--watch") == 0) {
            o->watch = true;
        } else if (strcmp(name, "--reason") == 0) {
            if (!*val)
                return usage_err(msg, "--reason must not be empty");
            o->reason = val;
        } else if (strcmp(name, "--register") == 0) {
            o->do_register = true;
        } else if (strcmp(name, "--signin") == 0) {
            o->do_signin = true;
        } else if (strcmp(name, "--until") == 0) {
            if (!bo_cli_phase_known(val))
                return usage_err(msg, "--until: unknown phase '%s'", val);
            o->until = val;
        } else if (strcmp(name, "--file") == 0) {
            o->file = val;
        } else if (strcmp(name, "--uscc") == 0) {
            if (o->n_usccs == BO_CLI_MAX_USCCS)
                return usage_err(msg, "too many --uscc options (use --file)");
            o->usccs[o->n_usccs++] = val;
        } else if (strcmp(name, "--name") == 0) {
            o->name = val;
        } else if (strcmp(name, "--source") == 0) {
            o->source = val;
        } else if (strcmp(name, "--form") == 0) {
            const char *eqv = strchr(val, '=');
            if (!eqv || eqv == val)
                return usage_err(msg, "--form wants KEY=VALUE, not '%s'", val);
            if (o->n_forms == BO_CLI_MAX_FORMS)
                return usage_err(msg, "at most %d --form fields", BO_CLI_MAX_FORMS);
            o->forms[o->n_forms++] = val;
        } else if (strcmp(name, "--doc") == 0) {
            if (o->n_docs == BO_CLI_MAX_DOCS)
                return usage_err(msg, "at most %d --doc files", BO_CLI_MAX_DOCS);
            o->docs[o->n_docs++] = val;
        } else if (strcmp(name, "--out") == 0) {
            o->out = val;
        } else if (strcmp(name, "--format") == 0) {
            static const char *const formats[] = {"record", "ocds", "html", "transcript",
                                                  "transcript_public"};
            bool ok = false;
            for (size_t f = 0; f < 5; f++)
                ok |= strcmp(val, formats[f]) == 0;
            if (!ok)
                return usage_err(msg, "--format: record, ocds, html, transcript or "
                                      "transcript_public, not '%s'", val);
            o->format = val;
        } else if (strcmp(name, "--all") == 0 && o->cmd == BO_CMD_HOST_EXPORT) {
            o->all_dir = val;
        } else if (strcmp(name, "--trust") == 0) {
            o->trust = val;
        } else if (strcmp(name, "--server-key") == 0) {
            o->server_key = val;
        } else if (strcmp(name, "--host-cert") == 0) {
            o->host_cert = val;
        } else if (strcmp(name, "--require-crl") == 0) {
            o->require_crl = true;
        } else if (strcmp(name, "--uscc-attr") == 0) {
            o->uscc_attr = val;
        } else if (strcmp(name, "--cbc") == 0) {
            o->cbc = true;
        } else if (strcmp(name, "--rsa-pkcs1") == 0) {
            o->rsa_pkcs1 = true;
        } else if (strcmp(name, "--package-only") == 0) {
            o->package_only = true;
        } else if (strcmp(name, "--bid") == 0) {
            o->bid = val;
        } else if (strcmp(name, "--record") == 0) {
            o->record = val;
        } else if (strcmp(name, "--enc-key") == 0) {
            o->enc_key = val;
        } else if (strcmp(name, "--enc-pass") == 0) {
            o->enc_pass = val;
        } else if (strcmp(name, "--store") == 0) {
            o->store = val;
        } else if (strcmp(name, "--decrypt") == 0) {
            o->decrypt = true;
        } else if (strcmp(name, "--window") == 0 || strcmp(name, "--seconds") == 0) {
            char *end;
            long v = strtol(val, &end, 10);
            if (end == val || *end || v < 60 || v > 86400)
                return usage_err(msg, "%s wants 60 to 86400 seconds, not '%s'", name, val);
            if (name[2] == 'w')
                o->window_s = (unsigned)v;
            else
                o->seconds = (unsigned)v;
        } else if (strcmp(name, "--all") == 0) {
            o->all = true;
        } else if (strcmp(name, "--draw") == 0) {
            size_t n = strlen(val);
            if (n < 1 || n > 32 || strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
                return usage_err(msg, "--draw wants the draw's id ([a-z0-9_]{1,32}), not '%s'",
                                 val);
            o->draw_id = val;
        } else if (strcmp(name, "--objection") == 0) {
            char *end;
            unsigned long long n = strtoull(val, &end, 10);
            if (end == val || *end || val[0] == '-' || n < 1 || n > 1000000)
                return usage_err(msg, "--objection wants the objection's number (1, 2, ...), "
                                      "not '%s'",
                                 val);
            o->objection = n;
        } else if (strcmp(name, "--text") == 0 || strcmp(name, "--object") == 0) {
            if (!*val)
                return usage_err(msg, "%s must not be empty", name);
            if (name[3] == 'e')
                o->text = val;
            else
                o->object_text = val;
        } else if (strcmp(name, "--confirm") == 0) {
            o->confirm = true;
        } else if (strcmp(name, "--outcome") == 0) {
            if (strcmp(val, "revoked") != 0 && strcmp(val, "withdrawn") != 0)
                return usage_err(msg, "--outcome is revoked (撤销) or withdrawn (撤回), not '%s'",
                                 val);
            o->outcome = val;
        }
    }

    /* what each command requires */
    switch (o->cmd) {
    case BO_CMD_VERIFY:
        if (!o->transcript)
            return usage_err(msg, "verify: give the transcript file");
        if (o->server_key && strlen(o->server_key) != 64)
            return usage_err(msg, "--server-key wants 64 hexadecimal digits");
        return BO_EXIT_OK;
    case BO_CMD_HOST_EXPORT:
        if (!o->oid)
            return usage_err(msg, "host export: --oid is required");
        if (!o->all_dir == !(o->format || o->out))
            return usage_err(msg, "host export: give --format and --out, or --all DIR");
        if (!o->all_dir && (!o->format || !o->out))
            return usage_err(msg, "host export: --format and --out go together");
        break;
    case BO_CMD_PKI_INIT:
        if (!o->dir)
            return usage_err(msg, "pki init: give the directory to write");
        return BO_EXIT_OK;
    case BO_CMD_VERSION:
        return BO_EXIT_OK;
    case BO_CMD_HOST_CREATE:
        if (!o->tender)
            return usage_err(msg, "host create: --tender FILE.json is required");
        break;
    case BO_CMD_HOST_PAUSE:
    case BO_CMD_HOST_FAIL:
        if (!o->reason)
            return usage_err(msg, "%s: --reason is required", bo_cli_cmd_name(o->cmd));
        /* fallthrough */
    case BO_CMD_HOST_WATCH:
    case BO_CMD_HOST_RESUME:
    case BO_CMD_BIDDER:
    case BO_CMD_SITE:
    case BO_CMD_OBSERVE:
        if (!o->oid)
            return usage_err(msg, "%s: --oid is required", bo_cli_cmd_name(o->cmd));
        break;
    case BO_CMD_BL_ADD:
    case BO_CMD_BL_REPLACE:
        if (o->file && (o->n_usccs || o->name || o->reason || o->source))
            return usage_err(msg, "give either --file or --uscc/--name/--reason");
        if (!o->file && (o->n_usccs != 1 || !o->name || !o->reason))
            return usage_err(msg, "give --file FILE.json, or one --uscc with --name and "
                                  "--reason");
        break;
    case BO_CMD_BL_REMOVE:
        if (!o->file == !o->n_usccs || o->name || o->reason || o->source)
            return usage_err(msg, "give either --file FILE.json or --uscc (repeatable)");
        break;
    case BO_CMD_SEAL:
        if (!o->oid)
            return usage_err(msg, "seal: --oid is required");
        if (!o->out)
            return usage_err(msg, "seal: --out FILE is required");
        if (!o->cert && !o->p12)
            return usage_err(msg, "seal: the signing certificate is required (--cert and "
                                  "--key, or --p12)");
        if (!o->enc_cert && !o->package_only)
            return usage_err(msg, "seal: --enc-cert (the certificate to seal to) is required");
        if (o->n_usccs > 1)
            return usage_err(msg, "seal: one --uscc at most");
        if (o->p12 && (o->cert || o->key))
            return usage_err(msg, "give either --p12 or --cert/--key, not both");
        return BO_EXIT_OK;
    case BO_CMD_BIDDER_PREFLIGHT:
        if (!o->oid)
            return usage_err(msg, "bidder preflight: --oid is required");
        if (!o->enc_key)
            return usage_err(msg, "bidder preflight: --enc-key (file or pkcs11: URI) is "
                                  "required");
        return BO_EXIT_OK;
    case BO_CMD_BIDDER_SUBMIT:
        if (!o->oid)
            return usage_err(msg, "bidder submit: --oid is required");
        if (!o->bid)
            return usage_err(msg, "bidder submit: --bid BID.cms is required");
        if (!o->enc_cert)
            return usage_err(msg, "bidder submit: --enc-cert is required (the certificate the "
                                  "bid is sealed to)");
        break;
    case BO_CMD_BIDDER_RECEIPT:
    case BO_CMD_HOST_DECRYPT_START:
        if (!o->oid)
            return usage_err(msg, "%s: --oid is required", bo_cli_cmd_name(o->cmd));
        break;
    case BO_CMD_HOST_EXTEND:
        if (!o->oid || !o->seconds || !o->reason)
            return usage_err(msg, "host extend: --oid, --seconds and --reason are required");
        break;
    case BO_CMD_HOST_CLASSIFY:
        if (!o->oid || o->n_usccs != 1 || !o->outcome || !o->reason)
            return usage_err(msg, "host classify: --oid, one --uscc, --outcome and --reason are "
                                  "required");
        break;
    case BO_CMD_HOST_ANNOUNCE:
    case BO_CMD_HOST_BENCHMARK:
    case BO_CMD_HOST_CONFIRM_OPEN:
    case BO_CMD_HOST_CLOSE:
    case BO_CMD_BIDDER_CONFIRM:
        if (!o->oid)
            return usage_err(msg, "%s: --oid is required", bo_cli_cmd_name(o->cmd));
        if (o->cmd == BO_CMD_BIDDER_CONFIRM)
            o->confirm = true;
        break;
    case BO_CMD_HOST_DRAW:
        if (!o->oid || !o->draw_id)
            return usage_err(msg, "host draw: --oid and --draw ID are required");
        break;
    case BO_CMD_HOST_ANSWER:
        if (!o->oid || !o->objection || !o->text)
            return usage_err(msg, "host answer: --oid, --objection N and --text are required");
        break;
    case BO_CMD_BIDDER_OBJECT:
    case BO_CMD_MESSAGE:
        if (!o->oid || !o->text)
            return usage_err(msg, "%s: --oid and --text are required", bo_cli_cmd_name(o->cmd));
        if (o->cmd == BO_CMD_BIDDER_OBJECT)
            o->object_text = o->text;
        break;
    default:
        break;
    }
    if (o->cmd == BO_CMD_BIDDER && o->decrypt && !o->enc_key)
        return usage_err(msg, "bidder --decrypt needs --enc-key (file or pkcs11: URI)");
    if (o->cmd == BO_CMD_BIDDER && !o->decrypt && (o->enc_key || o->enc_pass || o->record))
        return usage_err(msg, "--enc-key, --enc-pass and --record go with --decrypt");
    if (o->cmd == BO_CMD_BIDDER && o->confirm && o->object_text)
        return usage_err(msg, "bidder: give --confirm or --object, not both");
    if (o->n_servers == 0)
        return usage_err(msg, "%s: --server wss://host:port/ws is required",
                         bo_cli_cmd_name(o->cmd));
    if (o->p12 && (o->cert || o->key))
        return usage_err(msg, "give either --p12 or --cert/--key, not both");
    if (o->key && !o->cert)
        return usage_err(msg, "--key needs --cert (the signing chain)");
    bool observer = o->cmd == BO_CMD_OBSERVE || (o->role && strcmp(o->role, "observer") == 0);
    bool needs_cert = !observer && o->cmd != BO_CMD_LIST;
    if (needs_cert && !o->cert && !o->p12)
        return usage_err(msg, "%s: a certificate is required (--cert and --key, or --p12)",
                         bo_cli_cmd_name(o->cmd));
    if (o->do_register && !o->enc_cert && !o->p12)
        return usage_err(msg, "bidder --register needs --enc-cert");
    if (o->do_register && !o->enc_cert)
        return usage_err(msg, "bidder --register needs --enc-cert");
    return BO_EXIT_OK;
}
