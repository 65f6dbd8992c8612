#!/usr/bin/env bash
# Start-up, memory, CPU per event, low-rate latency and slow-sink throughput of both applications,
# each run as its own process the way the images run it: extracted and trained by image/prepare.sh,
# started by image/run.sh with image/jvm.options, under the chart's default container limits
# (1 CPU, 1 GiB) through a cgroup. The datastore and the sink run in the benchmark's process.
# The image's rows are also run on NVSentinel's PostgreSQL store (FOOTPRINT_STORE=postgresql).
# FOOTPRINT_ROWS chooses the configurations (default "plain cache image"; the slow-sink, bare-client
# and PostgreSQL rows come with "image").
# Usage: bench/run-footprint.sh [load-seconds] [java-home...]
#   (default: 120 s at 1,000 events/s; Java 17 and every Temurin 25 under /usr/lib/jvm)
set -euo pipefail
cd "$(dirname "$0")/.."
load=${1:-120}
shift || true
jdks=("$@")
if [ ${#jdks[@]} -eq 0 ]; then
  for home in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64; do
    [ -x "$home/bin/java" ] && jdks+=("$home")
  done
fi

./mvnw -B -q -pl bench -am install -DskipTests -Dspotless.check.skip=true
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
classpath="$PWD/bench/target/classes:$(cat bench/target/classpath.txt)"
out=bench/target/footprint
mkdir -p "$out"

# The chart's default limits, as a container gets them: a cgroup with a CPU quota of one core and a
# memory limit of 1 GiB (cgroup v2 or v1). Where none can be made, the JVM is told the same sizes.
limits=none
cg=/sys/fs/cgroup
if [ -f $cg/cgroup.controllers ] && mkdir -p $cg/bench-footprint 2>/dev/null &&
  echo "+cpu +memory" >$cg/cgroup.subtree_control 2>/dev/null &&
  echo "100000 100000" >$cg/bench-footprint/cpu.max 2>/dev/null &&
  echo 1073741824 >$cg/bench-footprint/memory.max 2>/dev/null; then
  limits="cgroup v2"
  join="echo \$\$ >$cg/bench-footprint/cgroup.procs"
  export FOOTPRINT_CPU_STAT=$cg/bench-footprint/cpu.stat
elif mkdir -p $cg/cpu/bench-footprint $cg/memory/bench-footprint 2>/dev/null &&
  echo 100000 >$cg/cpu/bench-footprint/cpu.cfs_quota_us 2>/dev/null &&
  echo 1073741824 >$cg/memory/bench-footprint/memory.limit_in_bytes 2>/dev/null; then
  limits="cgroup v1"
  join="echo \$\$ >$cg/cpu/bench-footprint/cgroup.procs; echo \$\$ >$cg/memory/bench-footprint/cgroup.procs"
  export FOOTPRINT_CPU_STAT=$cg/cpu/bench-footprint/cpu.stat
else
  limits="none possible here: -XX:ActiveProcessorCount=1 -XX:MaxRAM=1g instead"
  join="export JAVA_TOOL_OPTIONS='-XX:ActiveProcessorCount=1 -XX:MaxRAM=1g'"
fi
# limited <dir> <command...>: runs the command in <dir> under those limits
limited=(bash -c "cd \"\$1\" && shift && $join && exec \"\$@\"" limited)

bench() { # bench <scenario> <label> <jdk> <dir> <command...>
  local scenario=$1 label=$2 jdk=$3 dir=$4
  shift 4
  java -Xmx1g -Dsun.net.httpserver.maxIdleConnections=1024 -cp "$classpath" \
    io.nvsentinel.exporter.bench.FootprintBenchmark "$scenario" "$label" "$jdk" "$load" \
    -- "${limited[@]}" "$dir" "$@" | tee -a "$out/rows.txt" | grep '^ROW' || true
}

: >"$out/rows.txt"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);" \
  "limits: $limits; load: 1,000 events/s for $load s"
for jdk in "${jdks[@]}"; do
  java=$jdk/bin/java
  version=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p')
  for app in function-live job-backfill; do
    dir=$PWD/$out/$(basename "$jdk")/$app
    rm -rf "$dir"
    start=$(date +%s.%N)
    image/prepare.sh "$(ls "$app"/target/"$app"-*-exec.jar)" "$dir" "$java" >/dev/null
    printf 'prepared %s for Java %s in %.1f s\n' "$app" "$version" "$(echo "$(date +%s.%N) - $start" | bc)"
  done
  cache=$([ -f "$PWD/$out/$(basename "$jdk")/function-live/app.aot" ] && echo "AOT cache" || echo "CDS archive")
  flag=$([ "$cache" = "AOT cache" ] && echo "-XX:AOTCache=app.aot" || echo "-XX:SharedArchiveFile=app.jsa")
  for row in ${FOOTPRINT_ROWS:-plain cache image}; do
    label="Java $version, $row"
    case $row in
      plain) cmd=("$java" -XX:+ExitOnOutOfMemoryError -jar app.jar) label="Java $version, plain JVM" ;;
      cache) cmd=("$java" -XX:+ExitOnOutOfMemoryError "$flag" -jar app.jar) label="Java $version, $cache" ;;
      image) cmd=(env "JAVA=$java" ./run.sh) label="Java $version, $cache + image/jvm.options" ;;
    esac
    bench live "$label" "$jdk" "$out/$(basename "$jdk")/function-live" "${cmd[@]}"
    bench backfill "$label" "$jdk" "$out/$(basename "$jdk")/job-backfill" "${cmd[@]}"
  done
  case " ${FOOTPRINT_ROWS:-image} " in *" image "*) ;; *) continue ;; esac
  # the same image on NVSentinel's PostgreSQL store (a real PostgreSQL, in processes of its own)
  FOOTPRINT_STORE=postgresql bench live "Java $version, $cache + image/jvm.options, PostgreSQL" "$jdk" "$out/$(basename "$jdk")/function-live" env "JAVA=$java" ./run.sh
  FOOTPRINT_STORE=postgresql bench backfill "Java $version, $cache + image/jvm.options, PostgreSQL" "$jdk" "$out/$(basename "$jdk")/job-backfill" env "JAVA=$java" ./run.sh
  bench slow-live "Java $version, image" "$jdk" "$out/$(basename "$jdk")/function-live" env "JAVA=$java" ./run.sh
  bench slow-backfill "Java $version, image" "$jdk" "$out/$(basename "$jdk")/job-backfill" env "JAVA=$java" ./run.sh
  bench slow-live-batched "Java $version, image" "$jdk" "$out/$(basename "$jdk")/function-live" env "JAVA=$java" ./run.sh
  bench slow-backfill-batched "Java $version, image" "$jdk" "$out/$(basename "$jdk")/job-backfill" env "JAVA=$java" ./run.sh
  bench bare-live "Java $version" "$jdk" "$PWD" "$java" -cp "$classpath" io.nvsentinel.exporter.bench.BareClient
  # the same client with the images' JVM options (C1 only, SerialGC), like for like with the rows above
  bench bare-live "Java $version, image/jvm.options" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.BareClient
  # the floor: a reader that exports nothing, with the images' options, on both stores
  bench floor "Java $version, MongoDB" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.FloorReader
  FOOTPRINT_STORE=postgresql bench floor "Java $version, PostgreSQL" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.FloorReader
  FOOTPRINT_STORE=postgresql FOOTPRINT_FLOOR=postgresql-plain bench floor "Java $version, PostgreSQL, one query per wake-up" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.FloorReader
  bench floor-backfill "Java $version, MongoDB" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.FloorReader
  FOOTPRINT_STORE=postgresql bench floor-backfill "Java $version, PostgreSQL" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.FloorReader
  # ... and reading with the decoding and mapping every backfill does before it posts
  FOOTPRINT_FLOOR=mapped bench floor-backfill "Java $version, MongoDB, decoded and mapped" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.FloorReader
  FOOTPRINT_STORE=postgresql FOOTPRINT_FLOOR=mapped bench floor-backfill "Java $version, PostgreSQL, decoded and mapped" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.FloorReader
  bench bare-backfill "Java $version" "$jdk" "$PWD" "$java" -cp "$classpath" io.nvsentinel.exporter.bench.BareClient
  bench bare-backfill "Java $version, image/jvm.options" "$jdk" "$PWD" "$java" @image/jvm.options -cp "$classpath" io.nvsentinel.exporter.bench.BareClient
done
echo "rows: $out/rows.txt"
