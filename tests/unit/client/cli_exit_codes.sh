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
         "operator blacklist replace" "operator blacklist list" "list" "version" \
         "seal" "bidder submit" "bidder receipt" "bidder preflight" "host decrypt-start" \
         "host extend" "host classify" "host export" "verify"; do
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

# verify is local: an unreadable transcript is 5, one that is not a transcript 2
check 5 "verify: unreadable transcript" $b verify /nonexistent.transcript
tmp=$(mktemp)
printf 'not a transcript' > "$tmp"
check 2 "verify: not a transcript" $b verify "$tmp"
check 5 "verify: unreadable trust store" $b verify "$tmp" --trust /nonexistent-dir
rm -f "$tmp"

# sealing and the pre-flight are local: a throwaway PKI, no server
d=$(mktemp -d)
check 5 "seal: unreadable certificate" $b seal --oid T --form price=1 --cert /nonexistent.pem \
    --enc-cert /nonexistent.pem --out "$d/x.cms"
check 5 "preflight: no record" $b bidder preflight --oid T --enc-key /nonexistent.pem --store "$d/none"
if $b pki init "$d/pki" >/dev/null 2>&1; then
    r=$d/pki/bidders/renewed
    echo "投标函" > "$d/letter.txt"
    check 0 "seal" $b seal --oid T-1 --form price=1234.5 --form duration=90 --doc "$d/letter.txt" \
        --cert "$r/sign-cert.pem" --key "$r/sign-key.pem" --enc-cert "$r/enc-cert.pem" \
        --out "$d/bid.cms" --quiet
    [ -s "$d/bid.cms" ] && [ -s "$d/bid.cms.json" ] || { echo "FAIL: seal wrote no bid or record"; fail=$((fail + 1)); }
    check 0 "preflight: the sealed-to key" $b bidder preflight --oid T-1 --record "$d/bid.cms.json" \
        --enc-key "$r/enc-key.pem" --quiet
    check 5 "preflight: the renewed key" $b bidder preflight --oid T-1 --record "$d/bid.cms.json" \
        --enc-key "$r/enc2-key.pem" --enc-cert "$r/enc2-cert.pem"
    out=$($b bidder preflight --oid T-1 --record "$d/bid.cms.json" --enc-key "$r/enc2-key.pem" \
          --enc-cert "$r/enc2-cert.pem" 2>&1)
    case "$out" in *"certificate renewed"*) pass=$((pass + 1)) ;;
        *) echo "FAIL: preflight does not say the certificate was renewed: $out"; fail=$((fail + 1)) ;; esac
    check 5 "submit: unreadable bid" $b bidder submit --oid T-1 --bid "$d/none.cms" \
        --server wss://localhost:1/ws --cert "$r/sign-cert.pem" --key "$r/sign-key.pem" \
        --enc-cert "$r/enc-cert.pem"
    check 1 "submit: no record, no --enc-key" $b bidder submit --oid T-1 --bid "$d/letter.txt" \
        --server wss://localhost:1/ws --cert "$r/sign-cert.pem" --key "$r/sign-key.pem" \
        --enc-cert "$r/enc-cert.pem"
    check 1 "submit: a record for another opening" $b bidder submit --oid T-2 --bid "$d/bid.cms" \
        --server wss://localhost:1/ws --cert "$r/sign-cert.pem" --key "$r/sign-key.pem" \
        --enc-cert "$r/enc-cert.pem"
    check 0 "seal: to an SM2 encryption certificate" $b seal --oid T-1 --form price=1 \
        --cert "$d/pki/bidders/b3-sm2/sign-cert.pem" --key "$d/pki/bidders/b3-sm2/sign-key.pem" \
        --enc-cert "$d/pki/bidders/b3-sm2/enc-cert.pem" --out "$d/sm2.cms" --quiet
    check 1 "seal: an Ed25519 certificate cannot receive a sealed bid" $b seal --oid T-1 \
        --form price=1 --cert "$d/pki/bidders/b3-sm2/sign-cert.pem" \
        --key "$d/pki/bidders/b3-sm2/sign-key.pem" --enc-cert "$d/pki/server/sign-cert.pem" \
        --out "$d/ed.cms"
else
    echo "FAIL: pki init"; fail=$((fail + 1))
fi
rm -rf "$d"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
