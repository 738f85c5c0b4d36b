# shellcheck shell=bash
# Shared JDK lookup for every script in scripts/ (source it; do not copy it).
# Order: $JAVA_HOME if it is 25 or newer; /usr/lib/jvm/temurin-25-jdk-amd64; any /usr/lib/jvm/* that is 25 or newer.
# 25, not 22 (the final FFM API): the build compiles with --release 25, so no older javac can build it.
# On success JAVA_HOME is exported and $JAVA_HOME/bin leads PATH; otherwise the script stops with a clear message.

cairn_java_major() { # $1 = a JDK home; prints its feature version, or nothing
  local v
  [ -x "$1/bin/java" ] || return 0
  v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  printf '%s' "$v"
}

cairn_jdk_ok() { # $1 = a JDK home; true when it has java and javac of version 25 or newer
  local major
  [ -x "$1/bin/javac" ] || return 1
  major=$(cairn_java_major "$1")
  [ -n "$major" ] && [ "$major" -ge 25 ]
}

cairn_find_jdk() {
  local candidate
  if [ -n "${JAVA_HOME:-}" ] && cairn_jdk_ok "$JAVA_HOME"; then
    candidate=$JAVA_HOME
  elif cairn_jdk_ok /usr/lib/jvm/temurin-25-jdk-amd64; then
    candidate=/usr/lib/jvm/temurin-25-jdk-amd64
  else
    candidate=""
    for dir in /usr/lib/jvm/*; do
      if [ -d "$dir" ] && cairn_jdk_ok "$dir"; then candidate=$dir; break; fi
    done
  fi
  if [ -z "$candidate" ]; then
    echo "error: Cairn needs a JDK 25 or newer and none was found." >&2
    echo "       Looked at \$JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm/temurin-25-jdk-amd64 and /usr/lib/jvm/*." >&2
    echo "       Install one (e.g. Temurin 25 from https://adoptium.net) and set JAVA_HOME to it." >&2
    exit 1
  fi
  export JAVA_HOME=$candidate
  export PATH="$JAVA_HOME/bin:$PATH"
}

cairn_find_jdk
