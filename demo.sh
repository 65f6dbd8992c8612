#!/usr/bin/env bash
# The one-command demo: builds what it needs, then runs the whole exporter on the local stack
# (embedded MongoDB, a real token issuer, the verifying reference sink with its live page at
# http://127.0.0.1:8090/). Options are passed on, e.g. ./demo.sh --exit --seconds=10
set -euo pipefail
cd "$(dirname "$0")"
./mvnw -B -q -pl demo -am install -DskipTests -Dspotless.check.skip=true
exec java -jar demo/target/demo-*-exec.jar "$@"
