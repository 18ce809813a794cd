#!/usr/bin/env bash
# Installs ElasticMQ (an SQS-compatible server on the JVM; Maven Central
# org.elasticmq:elasticmq-server_2.13) into the tool cache and prints the
# folder of its jars. `make bench` drains 20,000 messages through it in
# seconds where moto needs hours (moto stays the emulator for semantics tests).
# Needs Java 17+ and Maven (installed from Debian if missing). Cached: returns
# at once when the version is already there.
#
#   hack/elasticmq.sh        -> $HOME/.cache/eventplane/elasticmq/<version>/lib
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.7.1
DEST="${EVENTPLANE_CACHE:-$HOME/.cache/eventplane}/elasticmq/$VERSION"
if [[ -f "$DEST/.complete" ]]; then
  echo "$DEST/lib"
  exit 0
fi
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
fi
rm -rf "$DEST"
mvn -q -B -f hack/elasticmq/pom.xml -Delasticmq.version="$VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$DEST/lib" >&2
touch "$DEST/.complete"
echo "$DEST/lib"
