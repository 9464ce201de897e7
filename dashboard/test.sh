#!/usr/bin/env bash
# The dashboard's browser tests: node:test suites that start real progress-hub servers (the jar)
# and drive the page in Chromium (playwright-core and Debian's /usr/bin/chromium).
#
#   dashboard/test.sh                        # builds the server jar when needed
#   PROGRESS_HUB=/path/to/progress-hub dashboard/test.sh
#
# Writes JUnit XML to target/test-reports/TEST-dashboard.xml (counted by ./run-tests) and
# screenshots to target/screenshots/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$here"

say() { printf 'dashboard: %s\n' "$*" >&2; }

# --- node_modules, from package-lock.json -------------------------------------------------------
# npm writes node_modules/.package-lock.json after an install; a lock file newer than it means
# the dependencies changed since.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- Chromium -----------------------------------------------------------------------------------
if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
  say "no chromium: installing the test dependencies"
  "$repo/scripts/install-test-deps.sh"
fi

# --- the server ---------------------------------------------------------------------------------
# ../progress-hub builds cli/target/progress-hub.jar when it is missing or stale (the jar holds
# the page: a change under src/ needs a new jar).
export PROGRESS_HUB=${PROGRESS_HUB:-$repo/progress-hub}
"$PROGRESS_HUB" version >/dev/null

mkdir -p target/test-reports target/screenshots
report=target/test-reports/TEST-dashboard.xml
rm -f "$report"
say "node --test"
status=0
node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination="$report" \
  test/*.test.mjs || status=$?
# One <testsuite> with every case, so that ./run-tests counts them all.
if [[ -s "$report" ]]; then
  # the JS client suite's flattener: one <testsuite> with every case
  node ../clients/js/test/flatten-junit.mjs "$report" dashboard dashboard
fi
exit "$status"
