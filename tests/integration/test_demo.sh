#!/bin/sh
# The README's first command, scripts/demo, run against the build under test (no apt, no
# build): the whole opening must go as planned (exit 0) and the summary say so: five sealed
# bids (RSA, P-256 and SM2 recipients, one key in a SoftHSM2 token) opened remotely,
# announced, the draw and the benchmark price, every bidder's confirmation after one
# objection was answered, the close with its record hash; the exports must be in the folder
# the summary names, `bidopen verify` must pass on the exported transcript (run here again)
# and fail on a copy with one price changed; nothing may be left running. Then a demo that
# fails after the server started must still stop everything, and the option errors must
# have their exit codes.
#   usage: test_demo.sh REPO_DIR SERVER_BIN BIDOPEN_BIN
# BO_KEEP_TMP=1 keeps the work folders (PKI, logs, data).
set -u
repo=$1
export BO_SERVER_BIN="$2" BO_BIDOPEN_BIN="$3" BO_DEMO_SKIP_BUILD=1
unset BO_DEMO_DIR BO_BUILD_DIR
demo=$repo/scripts/demo

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bo-demo-XXXXXX") || exit 1
fails=0
fail() {
  echo "test_demo: FAIL: $*"
  fails=$((fails + 1))
}
left_behind() { # processes whose command line names the work folder (server, redis-server)
  pgrep -af -- "$tmp/" || true
}

# 1. the demo itself
start=$(date +%s)
"$demo" --dir "$tmp/run"
rc=$?
took=$(($(date +%s) - start))
echo "test_demo: scripts/demo exited $rc after $took s"
[ "$rc" -eq 0 ] || fail "scripts/demo exited $rc, expected 0"
sum=$tmp/run/summary.txt
if [ -r "$sum" ]; then
  n_in=$(grep -c '^      signed in' "$sum")
  [ "$n_in" -eq 5 ] || fail "summary: $n_in of 5 bidders signed in"
  # RSA, P-256 and SM2 encryption certificates receive sealed bids
  n_open=$(grep -c '; bid sealed, submitted, opened remotely: price ' "$sum")
  [ "$n_open" -eq 5 ] || fail "summary: $n_open bids opened remotely, expected 5"
  grep -q '^  b2-p256 .*encryption key in the SoftHSM2 token)$' "$sum" ||
    fail "summary: b2-p256's key is not said to be in the token"
  for code in E_BLACKLISTED E_CERT_EXPIRED E_CERT_REVOKED E_CERT_UNKNOWN_ISSUER; do
    grep -qE "exit 2  $code +\(expected $code\)" "$sum" || fail "summary: no refusal $code"
  done
  n_ann=$(grep -c '^      唱标 announced #[1-5]; ' "$sum")
  [ "$n_ann" -eq 5 ] || fail "summary: $n_ann of 5 bids announced"
  n_conf=$(grep -c '; .*confirmed the record$' "$sum")
  [ "$n_conf" -eq 5 ] || fail "summary: $n_conf of 5 bidders confirmed"
  grep -q '^      唱标 announced #[1-5]; objected (#1, answered by the host), then confirmed the record$' "$sum" ||
    fail "summary: no objection answered"
  grep -qE '^draw k1 \(下浮系数\): 0\.9[5-9], redone by hand' "$sum" || fail "summary: no draw k1"
  grep -qE '^benchmark price \(评标基准价\): [0-9]+\.[0-9]{2} = .*, the same by hand$' "$sum" ||
    fail "summary: no benchmark price"
  hash=$(sed -n 's/^closed; the record hash (开标记录哈希): \([0-9a-f]\{64\}\)$/\1/p' "$sum")
  [ -n "$hash" ] || fail "summary: the opening was not closed with a record hash"
  grep -q '^bidopen verify, full transcript: PASSED ([0-9]* events, 0 errors, 0 unchecked; same record hash)$' "$sum" ||
    fail "summary: bidopen verify did not pass on the full transcript"
  grep -q '^bidopen verify, public transcript: PASSED' "$sum" ||
    fail "summary: bidopen verify did not pass on the public transcript"
  # the exports, where the summary says
  ex=$(sed -n 's/^exports: \(.*\)\/$/\1/p' "$sum")
  [ "$ex" = "$tmp/run/exports" ] || fail "summary: the exports are in '$ex', not $tmp/run/exports"
  oid=$(sed -n 's/^opening \([^ ]*\) .*/\1/p' "$sum" | head -n 1)
  for f in "$oid.json" "$oid.ocds.json" "$oid.html" "$oid.public.transcript" "$oid.transcript"; do
    [ -s "$ex/$f" ] || fail "no export $ex/$f"
  done
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1], encoding="utf-8")); sys.exit(r["record_sha256"] != sys.argv[2] or r["phase"] != "closed")' \
    "$ex/$oid.json" "$hash" || fail "the exported record is not the closed record $hash"
  grep -q '开标记录' "$ex/$oid.html" || fail "the printable record has no title"
  # bidopen verify, here again: passes on the transcript, fails on one changed price
  pki=$tmp/run/pki
  fpr=$(openssl x509 -in "$pki/server/sign-cert.pem" -outform DER | sha256sum | cut -c1-64)
  vargs="--trust $pki/trust --server-key $fpr --host-cert $pki/staff/host-cert.pem"
  # shellcheck disable=SC2086 # vargs: paths without spaces (mktemp)
  "$BO_BIDOPEN_BIN" verify "$ex/$oid.transcript" $vargs --quiet >"$tmp/verify.out" 2>&1 ||
    fail "bidopen verify on the exported transcript: exit $? ($(tail -n 3 "$tmp/verify.out"))"
  grep -q "verified full transcript of [0-9]* events: 0 errors, 0 unchecked; record SHA-256 $hash" \
    "$tmp/verify.out" || fail "bidopen verify: $(tail -n 1 "$tmp/verify.out")"
  python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); n = b.count(b"12876500.00"); open(sys.argv[2], "wb").write(b.replace(b"12876500.00", b"12876599.00")); sys.exit(n == 0)' \
    "$ex/$oid.transcript" "$tmp/tampered.transcript" || fail "b1-rsa's price is not in the transcript"
  # shellcheck disable=SC2086
  "$BO_BIDOPEN_BIN" verify "$tmp/tampered.transcript" $vargs --quiet >"$tmp/tampered.out" 2>&1
  rc=$?
  if [ "$rc" -ne 2 ] || ! grep -q '^ERROR' "$tmp/tampered.out"; then
    fail "bidopen verify on a transcript with a changed price: exit $rc, expected 2 with an ERROR"
  fi
  # the token: the key file is gone, the bid was opened by the token
  [ ! -e "$pki/bidders/b2-p256/enc-key.pem" ] || fail "b2-p256's key file was not removed"
  grep -q 'Access: *sensitive' "$tmp/run/logs/token.log" || fail "the token's key is not sensitive"
  grep -q '^解密成功 your bid' "$tmp/run/logs/b2-p256.log" ||
    fail "b2-p256 did not open its bid with the token's key"
else
  fail "no summary at $sum"
fi
grep -q '"code":"E_BLACKLISTED"' "$tmp/run/logs/server.log" 2>/dev/null ||
  fail "the server's log has no E_BLACKLISTED interception"
# about two minutes once built; a slow machine gets a later deadline (up to 150 s)
[ "$took" -lt 150 ] || fail "the demo took $took s (budget: under 150 s)"
left=$(left_behind)
[ -z "$left" ] || fail "left running after the demo: $left"

# 2. a demo that fails once the server runs (a deadline too close) stops the server and
# its redis-server, and says why
printf '{"title": "too soon", "checkin_at": "+1s", "deadline": "+3s"}\n' >"$tmp/soon.json"
"$demo" --dir "$tmp/soon" --tender "$tmp/soon.json" >"$tmp/soon.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "a demo with a 3 s deadline exited $rc, expected 1"
grep -q "needs a later deadline" "$tmp/soon.out" || fail "the too-close deadline was not named"
grep -q 'shutting down' "$tmp/soon/logs/server.log" 2>/dev/null ||
  fail "the server of the failed demo was not shut down by signal"
left=$(left_behind)
[ -z "$left" ] || fail "left running after the failed demo: $left"

# 3. options
"$demo" --help >/dev/null || fail "--help did not exit 0"
"$demo" --no-such-option >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "an unknown option exited $rc, expected 2"
"$demo" --dir "$tmp/run" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "a work folder in use exited $rc, expected 2"
"$demo" --dir "$tmp/short" --deadline 5 >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "--deadline 5 exited $rc, expected 2"

# 4. docs/operations.md's option table and contrib/bidopen-server.conf.sample name every
# option of `bidopen-server --help`, with its default (the sample shows an example path
# where the default is computed, like <data>/vault)
"$BO_SERVER_BIN" --help | sed -n 's/^  --\([a-z-]*\)[^ ]* .*/\1/p' >"$tmp/opts" ||
  fail "bidopen-server --help failed"
[ "$(wc -l <"$tmp/opts")" -ge 20 ] || fail "bidopen-server --help lists too few options"
ops=$repo/docs/operations.md
sample=$repo/contrib/bidopen-server.conf.sample
while read -r name; do
  def=$("$BO_SERVER_BIN" --help | grep -E "^  --${name}[ =\[]" | sed -n 's/.* (default \(.*\))$/\1/p')
  row=$(grep -E "^\| \`--${name}[ =\`\[]" "$ops" | head -n 1)
  if [ -z "$row" ]; then
    fail "docs/operations.md: no row for --$name in the options table (bidopen-server --help has it)"
  elif [ -n "$def" ] && ! printf '%s' "$row" | grep -qF "\`$def\`"; then
    fail "docs/operations.md: --$name does not show its default $def"
  fi
  case $name in config | check-config | help | version) continue ;; esac
  line=$(grep -E "^# $name =" "$sample" | head -n 1)
  if [ -z "$line" ]; then
    fail "contrib/bidopen-server.conf.sample: no line '# $name = ...' (bidopen-server --help has it)"
  elif [ -n "$def" ] && [ "${def#<}" = "$def" ] && [ "$line" != "# $name = $def" ]; then
    fail "contrib/bidopen-server.conf.sample: '$line' is not the default '$def'"
  fi
done <"$tmp/opts"

# 5. docs/operations.md lists every metric the demo's server reported on /metrics
if [ -s "$tmp/run/logs/metrics.txt" ]; then
  sed -n 's/^# HELP \([a-z_]*\) .*/\1/p' "$tmp/run/logs/metrics.txt" >"$tmp/metrics"
  [ -s "$tmp/metrics" ] || fail "the demo's metrics.txt names no metric"
  while read -r m; do
    grep -q "^| \`${m}[{\`]" "$ops" ||
      fail "docs/operations.md: metric $m is not in the metrics table (/metrics has it)"
  done <"$tmp/metrics"
fi

if [ "$fails" -eq 0 ]; then
  if [ -n "${BO_KEEP_TMP:-}" ]; then echo "test_demo: kept $tmp"; else rm -rf "$tmp"; fi
  echo "test_demo: ok"
  exit 0
fi
echo "test_demo: $fails failure(s); work folders kept in $tmp"
exit 1
