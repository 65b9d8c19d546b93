#!/bin/sh
# Every command's --help exits 0 and prints its usage; usage errors exit 1; a local error
# (unreadable key or tender) exits 5 before any connection is tried. No server is needed.
b=$1
fail=0
check() { # expected-rc description command...
    want=$1; what=$2; shift 2
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: $what: exit $rc, want $want"; echo "$out" | head -5; fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
pass=0
for c in "" "pki init" "host create" "host watch" "host pause" "host resume" "host fail" \
         "bidder" "site" "observe" "operator blacklist add" "operator blacklist remove" \
         "operator blacklist replace" "operator blacklist list" "list" "version"; do
    # shellcheck disable=SC2086
    check 0 "bidopen $c --help" $b $c --help
    # shellcheck disable=SC2086
    out=$($b $c --help)
    case "$out" in *"usage: bidopen"*) ;; *) echo "FAIL: bidopen $c --help prints no usage"; fail=$((fail + 1)) ;; esac
done
check 1 "unknown command" $b frobnicate
check 1 "unknown option" $b observe --oid T --server wss://localhost:1/ws --frob
check 1 "missing --oid" $b site --server wss://localhost:1/ws --cert c --key k
check 1 "bad --until" $b observe --oid T --server wss://localhost:1/ws --until later
check 5 "unreadable key" $b bidder --oid T --server wss://localhost:1/ws --cert /nonexistent.pem --key /nonexistent.key
check 5 "unreadable tender" $b host create --tender /nonexistent.json --server wss://localhost:1/ws --cert c --key k
tmp=$(mktemp)
echo '{"title":"t","deadline":"+1h","colour":"red"}' > "$tmp"
check 1 "invalid tender" $b host create --tender "$tmp" --server wss://localhost:1/ws --cert c --key k
rm -f "$tmp"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
