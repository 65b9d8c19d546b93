#!/bin/sh
# The README's first command, scripts/demo, run against the build under test (no apt, no
# build): the whole opening, sealed bids and remote decryption included, must go as planned
# (exit 0), the summary must say so, and nothing may be left running. Then a demo that fails after the server started must still
# stop everything, and the option errors must have their exit codes.
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
  n_in=$(grep -c '^      signed in; ' "$sum")
  [ "$n_in" -eq 5 ] || fail "summary: $n_in of 5 bidders signed in"
  # RSA and P-256 encryption certificates receive sealed bids (b1, b2, b5), SM2 not yet
  n_open=$(grep -c '; bid sealed, submitted, opened remotely: price ' "$sum")
  [ "$n_open" -eq 3 ] || fail "summary: $n_open bids opened remotely, expected 3"
  for code in E_BLACKLISTED E_CERT_EXPIRED E_CERT_REVOKED E_CERT_UNKNOWN_ISSUER; do
    grep -qE "exit 2  $code +\(expected $code\)" "$sum" || fail "summary: no refusal $code"
  done
else
  fail "no summary at $sum"
fi
grep -q '"code":"E_BLACKLISTED"' "$tmp/run/logs/server.log" 2>/dev/null ||
  fail "the server's log has no E_BLACKLISTED interception"
[ "$took" -lt 110 ] || fail "the demo took $took s (budget: under 2 minutes)"
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
