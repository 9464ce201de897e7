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

# shellcheck source=../../scripts/lib/node-suite.sh
source "$repo/scripts/lib/node-suite.sh"
ensure_node_modules
ensure_chromium
ensure_server

say "tsc --noEmit"
node_modules/.bin/tsc --noEmit -p tsconfig.json

status=0
run_node_tests clients-js clients/js || status=$?
exit "$status"
