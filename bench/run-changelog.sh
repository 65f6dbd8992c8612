#!/usr/bin/env bash
# How fast the live exporter reads a backlog of NVSentinel's PostgreSQL change log (after a restart
# or a long pause), with the application's poll wait and batch, against a real PostgreSQL.
# Usage: bench/run-changelog.sh [backlog-events] [updates]  (default: 20000; "updates": each event
# is also updated once, as NVSentinel's components update it)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl bench -am install -DskipTests -Dspotless.check.skip=true
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
exec java -Xmx1g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  io.nvsentinel.exporter.bench.ChangelogBenchmark "$@"
