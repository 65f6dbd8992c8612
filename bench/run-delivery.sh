#!/usr/bin/env bash
# Delivery throughput: exporter vs. a bare JDK HttpClient, to a loopback sink.
# Usage: bench/run-delivery.sh [seconds-per-run] [concurrency...]   (default: 10 1 8 64)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl bench -am install -DskipTests -Dspotless.check.skip=true
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
exec java -Xmx1g -Dsun.net.httpserver.maxIdleConnections=1024 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dlogging.level.root=WARN \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  io.nvsentinel.exporter.bench.DeliveryBenchmark "${@:-10}"
