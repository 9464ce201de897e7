# shellcheck shell=bash
# What a node:test suite that runs against real progress-hub servers needs, shared by
# clients/js/test.sh and dashboard/test.sh. Source it from the suite's directory, after setting
# `repo` (the repository root) and defining `say`.

# node_modules from package-lock.json: npm writes node_modules/.package-lock.json after an install,
# so a lock file newer than it means the dependencies changed since.
ensure_node_modules() {
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# Chromium, for the browser tests.
ensure_chromium() {
  if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
    say "no chromium: installing the test dependencies"
    "$repo/scripts/install-test-deps.sh"
  fi
}

# The server: ./progress-hub builds cli/target/progress-hub.jar when it is missing or stale.
ensure_server() {
  export PROGRESS_HUB=${PROGRESS_HUB:-$repo/progress-hub}
  "$PROGRESS_HUB" version >/dev/null
}

# Runs test/*.test.mjs with a JUnit report at target/test-reports/TEST-<name>.xml, flattened into
# one <testsuite> with every case so that ./run-tests counts them all, and a summary line that
# starts with <label>. Returns node's exit status.
run_node_tests() {
  local name=$1 label=$2 report status=0
  mkdir -p target/test-reports
  report=target/test-reports/TEST-$name.xml
  rm -f "$report"
  say "node --test"
  node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=junit --test-reporter-destination="$report" \
    test/*.test.mjs || status=$?
  if [[ -s "$report" ]]; then
    node "$repo/clients/js/test/flatten-junit.mjs" "$report" "$name" "$label"
  fi
  return "$status"
}
