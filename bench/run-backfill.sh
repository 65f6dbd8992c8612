#!/usr/bin/env bash
# Backfill throughput (unthrottled) and rate-limit accuracy, embedded MongoDB -> loopback sink.
# Usage: bench/run-backfill.sh [unthrottled-events] [rate] [seconds]   (default: 50000 1000 30)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl bench -am install -DskipTests -Dspotless.check.skip=true
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
exec java -Xmx2g -Dsun.net.httpserver.maxIdleConnections=1024 \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  io.nvsentinel.exporter.bench.BackfillBenchmark "$@"
