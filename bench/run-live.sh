#!/usr/bin/env bash
# Live path throughput and latency: embedded MongoDB inserts -> change stream -> loopback sink.
# Usage: bench/run-live.sh [burst-events] [rate-per-second] [seconds] [workers]  (default: 20000 1000 10 8)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl bench -am install -DskipTests -Dspotless.check.skip=true
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
exec java -Xmx2g -Dsun.net.httpserver.maxIdleConnections=1024 \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  io.nvsentinel.exporter.bench.LiveBenchmark "$@"
