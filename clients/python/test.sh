#!/usr/bin/env bash
# Tests the Python client against real progress-hub servers.
#
#   clients/python/test.sh [pytest arguments]
#
# Installs what is missing (Debian packages, with apt-get when root), makes a venv under
# target/venv that sees the system's websockets and pytest, installs the package from this
# checkout, and runs pytest with a JUnit report in target/test-reports/.
# The server: $PROGRESS_HUB if set, else the checkout's progress-hub script (builds the jar).
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
cd "$here"
python=/usr/bin/python3

missing=()
for pkg in python3-websockets python3-pytest python3-venv python3-wheel; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "clients/python: installing ${missing[*]}" >&2
    apt-get install -y -q "${missing[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; }
  else
    echo "clients/python: missing Debian packages: ${missing[*]}" >&2
    echo "  install them first: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

venv=target/venv
if [[ ! -x $venv/bin/python ]]; then
  "$python" -m venv --system-site-packages "$venv"
fi
"$venv/bin/pip" install -q --no-build-isolation --no-index --no-deps --force-reinstall . >&2
rm -rf build ./*.egg-info

export PROGRESS_HUB=${PROGRESS_HUB:-$(readlink -f ../../progress-hub)}
if [[ $PROGRESS_HUB != *.jar ]]; then
  "$PROGRESS_HUB" version >/dev/null # builds the jar now if it is stale, not inside a test
fi

mkdir -p target/test-reports
# Run from tests/ with the installed package: the checkout's copy is not on sys.path.
cd tests
exec "../$venv/bin/python" -m pytest -q -p no:cacheprovider \
  --junitxml=../target/test-reports/TEST-clients-python.xml "$@"
