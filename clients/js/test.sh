#!/usr/bin/env bash
# The JavaScript client's test suite: type-checks the declarations with tsc, then runs the
# node:test suites against real progress-hub servers (and Chromium for the browser tests).
#
#   clients/js/test.sh                       # builds the server jar when needed
#   PROGRESS_HUB=/path/to/progress-hub clients/js/test.sh
#
# Writes JUnit XML to target/test-reports/TEST-clients-js.xml (counted by ./run-tests).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$here"

say() { printf 'clients/js: %s\n' "$*" >&2; }

# --- node_modules, from package-lock.json -------------------------------------------------------
# npm writes node_modules/.package-lock.json after an install; a lock file newer than it means
# the dependencies changed since.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- Chromium, for the browser tests ------------------------------------------------------------
if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
  say "no chromium: installing the test dependencies"
  "$repo/scripts/install-test-deps.sh"
fi

# --- the server ---------------------------------------------------------------------------------
# ../../progress-hub builds cli/target/progress-hub.jar when it is missing or stale.
export PROGRESS_HUB=${PROGRESS_HUB:-$repo/progress-hub}
"$PROGRESS_HUB" version >/dev/null

# --- types and tests ----------------------------------------------------------------------------
say "tsc --noEmit"
node_modules/.bin/tsc --noEmit -p tsconfig.json

mkdir -p target/test-reports
rm -f target/test-reports/TEST-clients-js.xml
say "node --test"
report=target/test-reports/TEST-clients-js.xml
status=0
node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination="$report" \
  test/*.test.mjs || status=$?
# One <testsuite> with every case, so that ./run-tests counts them all.
if [[ -s "$report" ]]; then
  node test/flatten-junit.mjs "$report" clients-js
fi
exit "$status"
