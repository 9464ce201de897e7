# shellcheck shell=bash
# Sourceable: finds a JDK >= 21 and exports JAVA_HOME to it.
#
#   source scripts/lib/jdk.sh && find_jdk
#
# Order: $JAVA_HOME if it is new enough; else the newest JDK >= 21 under /usr/lib/jvm, /opt/java and
# ~/.sdkman/candidates/java; else `java` on PATH. The machines this project runs on have an older
# default `java` (17) next to a newer Temurin, so the order matters.

PROGRESS_HUB_MIN_JAVA=21

# Prints the feature version (17, 21, 25, ...) of the JDK at $1, or nothing if it is not a JDK.
jdk_major() {
  local home=$1 version=""
  [[ -x "$home/bin/java" && -x "$home/bin/javac" ]] || return 1
  if [[ -r "$home/release" ]]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [[ -z "$version" ]]; then
    # No release file (unusual layouts): ask the JVM itself.
    version=$("$home/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = //p')
  fi
  version=${version#1.} # 1.8 -> 8
  version=${version%%[.+-]*}
  [[ "$version" =~ ^[0-9]+$ ]] || return 1
  echo "$version"
}

# Succeeds if $1 is a JDK home of version >= 21.
_jdk_ok() {
  local major
  major=$(jdk_major "$1") || return 1
  ((major >= PROGRESS_HUB_MIN_JAVA))
}

# Prints the newest JDK >= 21 among the directories under the given roots.
_jdk_newest_under() {
  local root home major best="" best_major=0
  for root in "$@"; do
    [[ -d "$root" ]] || continue
    for home in "$root"/*; do
      [[ -d "$home" && ! -L "$home" ]] || continue # symlinks (e.g. "current") duplicate real dirs
      major=$(jdk_major "$home") || continue
      if ((major >= PROGRESS_HUB_MIN_JAVA && major > best_major)); then
        best=$home
        best_major=$major
      fi
    done
  done
  [[ -n "$best" ]] && echo "$best"
}

# Installs a JDK >= 21 from the distribution's packages, only as root and only when the distribution
# offers one (Debian 12 does not: its newest is 17). Set PROGRESS_HUB_NO_JDK_INSTALL=1 to forbid it.
_jdk_try_install() {
  [[ "${PROGRESS_HUB_NO_JDK_INSTALL:-0}" != 1 && "$(id -u)" == 0 ]] || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  local pkg candidate
  echo "progress-hub: no JDK >= $PROGRESS_HUB_MIN_JAVA found; looking for one in the apt repositories..." >&2
  apt-get update -qq >/dev/null 2>&1 || true
  for pkg in openjdk-25-jdk-headless openjdk-21-jdk-headless; do
    candidate=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if [[ -n "$candidate" && "$candidate" != "(none)" ]]; then
      echo "progress-hub: installing $pkg $candidate (apt-get install -y $pkg)" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 || return 1
      return 0
    fi
  done
  echo "progress-hub: the apt repositories offer no JDK >= $PROGRESS_HUB_MIN_JAVA" >&2
  return 1
}

_jdk_search() {
  local home
  if [[ -n "${JAVA_HOME:-}" ]] && _jdk_ok "$JAVA_HOME"; then
    echo "$JAVA_HOME"
    return 0
  fi
  if home=$(_jdk_newest_under /usr/lib/jvm /opt/java "$HOME/.sdkman/candidates/java"); then
    echo "$home"
    return 0
  fi
  if command -v java >/dev/null 2>&1; then
    home=$(readlink -f "$(command -v java)")
    home=${home%/bin/java}
    if _jdk_ok "$home"; then
      echo "$home"
      return 0
    fi
  fi
  return 1
}

# Exports JAVA_HOME to a JDK >= 21 and puts its bin first on PATH; returns 1 with a message if none.
find_jdk() {
  local home
  if ! home=$(_jdk_search); then
    if _jdk_try_install; then
      home=$(_jdk_search) || home=""
    fi
  fi
  if [[ -z "$home" ]]; then
    cat >&2 <<MSG
progress-hub: error: no JDK >= $PROGRESS_HUB_MIN_JAVA found.
  Looked at: JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm, /opt/java, ~/.sdkman/candidates/java,
  and \`java\` on PATH ($(command -v java >/dev/null 2>&1 && java -version 2>&1 | head -n 1 || echo none)).
  Install a JDK $PROGRESS_HUB_MIN_JAVA or newer, for example:
    - on Debian 13 / Ubuntu 24.04:  sudo apt-get install openjdk-21-jdk-headless
    - on Debian 12 (which packages only 17): Eclipse Temurin 21+ from Adoptium's apt repository,
      or \`sdk install java 21-tem\` with SDKMAN!
  then run again, or point JAVA_HOME at it.
MSG
    return 1
  fi
  export JAVA_HOME=$home
  export PATH="$JAVA_HOME/bin:$PATH"
}
