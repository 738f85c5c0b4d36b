# shellcheck shell=bash
# Shared Maven helpers. Source after jdk.sh.

cairn_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

cairn_mvn() { # runs Maven in the project root, batch mode, no download progress
  command -v mvn >/dev/null 2>&1 || {
    echo "error: Maven (mvn) is not installed; on Debian: apt-get install maven" >&2
    exit 1
  }
  # Maven 3.8 on JDK 24+ warns about its own use of sun.misc.Unsafe (guava); that noise is not ours.
  (cd "$cairn_root" && MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn -B -ntp "$@")
}

cairn_ensure_installed() { # installs the modules (and what they need) unless their jars are newer than every source
  local stale=0 module jar
  for module in "$@"; do
    jar=$(ls -t "$cairn_root/$module"/target/*.jar 2>/dev/null | head -n 1 || true)
    # A module is stale when any Cairn source or POM changed after its jar: cheap, and never misses a dependency.
    if [ -z "$jar" ] || [ -n "$(find "$cairn_root" -path "$cairn_root/.git" -prune -o \( -path '*/src/*' -o -name pom.xml \) \
        -newer "$jar" -type f -print -quit 2>/dev/null)" ]; then
      stale=1
    fi
  done
  if [ "$stale" = 1 ]; then
    echo "building $* ..." >&2
    cairn_mvn -q -DskipTests -pl "$(IFS=,; echo "$*")" -am install >&2 || { echo "error: build failed" >&2; exit 1; }
  fi
}
