#!/usr/bin/env bash
# Self-check of the benchmark reference servers: starts each on a free port (--port 0), runs
# check-client.js against it (create, WebSocket subscribe, 3 events -> seqs 2,3,4, batch, since),
# stops it with SIGTERM and expects exit code 0. Exits non-zero on the first failure.
set -uo pipefail
cd "$(dirname "$0")"
BUN=$(./install.sh) || exit 1
NODE=${NODE:-node}
tmp=$(mktemp -d); pid=
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

check() { # name, command...
  local name=$1; shift
  "$@" --port 0 --host 127.0.0.1 >"$tmp/$name.out" 2>"$tmp/$name.err" & pid=$!
  local port= i
  for i in $(seq 100); do
    port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$tmp/$name.out")
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then echo "$name: did not print 'listening <port>'"; cat "$tmp/$name.err"; return 1; fi
  if ! "$NODE" check-client.js "http://127.0.0.1:$port"; then echo "$name: FAILED"; cat "$tmp/$name.err"; return 1; fi
  kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=
  if [[ $rc -ne 0 ]]; then echo "$name: exit code $rc after SIGTERM"; return 1; fi
  echo "$name (port $port): ok"
}

check bun "$BUN" bun-server.js || exit 1
check node-ws "$NODE" node-ws-server.js || exit 1
echo "all reference servers ok"
