#!/bin/sh
# The images' entry point: the JVM options measured for the chart's default resources
# (jvm.options), the cache trained when the image was built, then JAVA_OPTS, which come last and
# so win. JAVA names another java binary (the footprint benchmark uses it).
cd "$(dirname "$0")"
cache=
if [ -f app.aot ]; then
  cache=-XX:AOTCache=app.aot
elif [ -f app.jsa ]; then
  cache=-XX:SharedArchiveFile=app.jsa
fi
# shellcheck disable=SC2086 # JAVA_OPTS holds separate options
exec "${JAVA:-java}" @jvm.options $cache ${JAVA_OPTS:-} -jar app.jar "$@"
