#!/usr/bin/env bash
# Installs what the seed-client tests (SeedClientsTest) and the Redis tests need, when it is missing:
#   - Debian packages: chromium (the browser), python3-websockets (for /usr/bin/python3),
#     redis-server (the redis module's tests start one of their own) and nginx (NginxClusterTest
#     runs docs/nginx/progress-hub.conf in front of serve processes; its service is not used);
#   - npm packages of server/src/test/js (playwright-core, pinned in its package-lock.json).
# Idempotent and quiet when everything is already present. Needs root only for apt-get.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js_dir="$root/server/src/test/js"

say() { printf 'install-test-deps: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
apt_missing=()
[[ -x /usr/bin/chromium ]] || apt_missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || [[ -x /usr/bin/redis-server ]] || apt_missing+=(redis-server)
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null 2>&1 || apt_missing+=(nginx)
if ! /usr/bin/python3 -c 'import websockets' >/dev/null 2>&1; then
  apt_missing+=(python3-websockets)
fi

if ((${#apt_missing[@]} > 0)); then
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
      sudo_cmd=(sudo -n)
    else
      say "missing Debian packages: ${apt_missing[*]}"
      say "run as root: apt-get install -y --no-install-recommends ${apt_missing[*]}"
      exit 1
    fi
  else
    sudo_cmd=()
  fi
  needs_update=false
  for pkg in "${apt_missing[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      needs_update=true
    fi
  done
  if $needs_update; then
    say "apt-get update"
    "${sudo_cmd[@]}" apt-get update -qq
  fi
  say "apt-get install ${apt_missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${apt_missing[@]}" >/dev/null
fi

# --- npm packages (browser driver) -------------------------------------------------------------
if ! command -v npm >/dev/null 2>&1; then
  say "npm not found (Node.js 20+ with npm is needed for the browser test)"
  exit 1
fi

npm_up_to_date() {
  # node_modules/.package-lock.json is written by npm after a successful install; it matches the
  # lock file when nothing changed since.
  [[ -f "$js_dir/node_modules/playwright-core/package.json" ]] || return 1
  [[ -f "$js_dir/node_modules/.package-lock.json" ]] || return 1
  [[ ! "$js_dir/package-lock.json" -nt "$js_dir/node_modules/.package-lock.json" ]] || return 1
  local want have
  want="$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' \
    "$js_dir/package-lock.json")"
  have="$(node -p 'require(process.argv[1]).version' \
    "$js_dir/node_modules/playwright-core/package.json")"
  [[ "$want" == "$have" ]]
}

if ! npm_up_to_date; then
  say "npm ci in server/src/test/js"
  (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2> >(grep -v 'nodedir' >&2))
fi
