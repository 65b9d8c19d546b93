#!/bin/sh
# The browser test as ctest runs it: build the hall screen (scripts/web-build), install
# playwright-core as pinned by package-lock.json (it never downloads a browser: the test
# uses Debian's chromium), then run the driver.  run.sh REPO TEST_HALL_BINARY
set -eu
repo=$1
bin=$2
"$repo/scripts/web-build"
cd "$repo/tests/browser"
stamp=node_modules/.bidopen-lockfile
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
[ -x "${BO_CHROMIUM:-/usr/bin/chromium}" ] || {
  echo "run.sh: no chromium (apt-get install chromium; scripts/deps does it)" >&2
  exit 1
}
exec "$bin" "$repo/web/dist" "$repo/tests/browser/hall.mjs"
