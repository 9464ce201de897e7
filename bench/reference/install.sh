#!/usr/bin/env bash
# Installs the reference servers' dependencies (bun, ws; pinned in package-lock.json) for the
# progress-hub benchmark. Idempotent: runs `npm ci` only when node_modules is missing or older than
# the lockfile, and is silent otherwise. Prints on stdout the path of a bun binary that was checked
# to run (so callers can do BUN=$(bench/reference/install.sh)); npm's output goes to stderr.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json \
      || ! -d node_modules/ws || ! -d node_modules/bun ]]; then
  npm ci --no-audit --no-fund >&2
fi

# Bun's postinstall moves the binary of @oven/bun-<os>-<arch> into node_modules/bun/bin/bun.exe
# (which .bin/bun links to). If install scripts were skipped, the optional package still holds it.
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=aarch64 ;; *) arch=$(uname -m) ;; esac
for bun in "$here/node_modules/.bin/bun" "$here/node_modules/@oven/bun-linux-$arch/bin/bun"; do
  if [[ -x "$bun" ]] && "$bun" --version >/dev/null 2>&1; then
    readlink -f "$bun"
    exit 0
  fi
done
echo "install.sh: no working bun binary under $here/node_modules" >&2
exit 1
