# shellcheck shell=bash
# Sourceable: the JVM flags progress-hub runs with, in one place, so that the launcher
# (./progress-hub) and the benchmark (bench/run) cannot drift apart: the bench measures what ships.
#
#   source scripts/lib/jdk.sh && source scripts/lib/jvm.sh && find_jdk
#   mapfile -t flags < <(server_jvm_flags "$JAVA_HOME")
#   "$JAVA_HOME/bin/java" "${flags[@]}" -jar cli/target/progress-hub.jar serve
#
# Needs jdk_major from scripts/lib/jdk.sh.

# Prints the flags for a server on the JDK at $1 (default $JAVA_HOME), one per line: the defaults,
# then the words of $PROGRESS_HUB_JAVA_OPTS (the JVM takes the last occurrence of an option, so
# those can also override a default).
server_jvm_flags() {
  local home=${1:-${JAVA_HOME:-}} major extra
  # Kept minimal on purpose: performance work tunes these by measurement (bench/), not guess.
  echo --enable-native-access=ALL-UNNAMED
  # Compact object headers (JEP 519, a product flag from JDK 25) shrink every object by 4 bytes:
  # many small per-connection objects make this worth having where it is available.
  # A small fixed young generation: the server's garbage is short-lived (per message, per request),
  # and a default-sized one (a third of the initial heap) adds ~85 MB of resident memory that the
  # bench counted against every connection. Measured with bench idle: 10k idle connections 251 MB
  # RSS (3.7 KiB per connection) by default, 166 MB (2.4 KiB) with this; CPU per delivered message
  # in the latency scenario unchanged within noise.
  echo -Xmn24m
  major=$(jdk_major "$home") || major=0
  if ((major >= 25)); then
    echo -XX:+UseCompactObjectHeaders
  fi
  # Split on blanks and newlines like an unquoted expansion, but without expanding globs.
  read -r -d '' -a extra <<<"${PROGRESS_HUB_JAVA_OPTS:-}" || true
  if ((${#extra[@]})); then
    printf '%s\n' "${extra[@]}"
  fi
}
