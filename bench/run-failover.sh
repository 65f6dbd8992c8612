#!/usr/bin/env bash
# Failover (SIGKILL) and hand-off (SIGTERM) of the live exporter at the default lease: two
# application processes against the embedded MongoDB, events inserted without pause.
# Usage: bench/run-failover.sh [runs] [events-per-second]  (default: 5 50)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl bench -am install -DskipTests -Dspotless.check.skip=true
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
exec java -Xmx1g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  io.nvsentinel.exporter.bench.FailoverBenchmark "$@"
