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

# shellcheck source=../scripts/lib/node-suite.sh
source "$repo/scripts/lib/node-suite.sh"
ensure_node_modules
ensure_chromium
# The jar holds the page: a change under src/ needs a new jar, which ../progress-hub builds.
ensure_server

mkdir -p target/screenshots
status=0
run_node_tests dashboard dashboard || status=$?
exit "$status"
