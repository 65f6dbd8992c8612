#!/usr/bin/env bash
# Lays an application out as its image runs it, in one place for both images, their test and the
# footprint benchmark: extracts the executable jar into plain jars (app.jar beside lib/), then
# trains the JVM on a start-up that stops once the application context is refreshed (Spring's
# spring.context.exit=onRefresh), with the options the image runs with. Java 25 and later write an
# ahead-of-time cache (app.aot), earlier ones a class-data archive (app.jsa); image/run.sh uses
# whichever is there. Nothing is contacted: the training configuration points at a closed port.
# Usage: image/prepare.sh <exec-jar> <destination> [java]   (extract, then train)
#        image/prepare.sh --train <destination> [java]      (train an extracted application)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "$1" = "--train" ]; then
  dest=$2
  java=${3:-java}
else
  dest=$2
  java=${3:-java}
  "$java" -Djarmode=tools -jar "$1" extract --application-filename app.jar --destination "$dest" >/dev/null
fi
if [ "$here" != "$(cd "$dest" && pwd)" ]; then
  cp "$here/jvm.options" "$here/run.sh" "$dest/"
fi
chmod 0755 "$dest/run.sh"

feature=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ "$feature" -ge 25 ]; then
  train=(-XX:AOTCacheOutput=app.aot -Xlog:aot=error)
else
  train=(-XX:ArchiveClassesAtExit=app.jsa -Xlog:cds=error)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf 'training' >"$scratch/secret"
cd "$dest"
if ! "$java" @jvm.options "${train[@]}" -Dspring.context.exit=onRefresh -jar app.jar \
  --exporter.metadata.cluster=training \
  --exporter.sink.endpoint=http://127.0.0.1:9/events \
  --exporter.oidc.tokenUrl=http://127.0.0.1:9/token \
  --exporter.oidc.clientId=training \
  --exporter.oidc.scope=training \
  --exporter.oidc.clientSecretFile="$scratch/secret" \
  --exporter.datastore.uri='mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=1' \
  --exporter.backfill.jobRepositoryPath="$scratch/jobs" \
  --management.tracing.export.enabled=false \
  >"$scratch/training.log" 2>&1; then
  cat "$scratch/training.log" >&2
  echo "prepare.sh: the training run in $dest failed (its log is above)" >&2
  exit 1
fi
ls app.aot app.jsa 2>/dev/null || true
