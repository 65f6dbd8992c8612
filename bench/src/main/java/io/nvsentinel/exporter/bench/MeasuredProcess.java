package io.nvsentinel.exporter.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** An application process under measurement: its readiness, memory, CPU and heap. */
final class MeasuredProcess implements AutoCloseable {
  final Process process;
  final long startedAt = System.nanoTime();
  final int port;
  private final Path jdk;

  MeasuredProcess(List<String> line, Path log, int port, Path jdk) throws IOException {
    this.port = port;
    this.jdk = jdk;
    process =
        new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** The exporter's publish-duration histogram now, from {@code /metrics}. */
  PostDurations postDurations() throws Exception {
    HttpRequest metrics =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
    return PostDurations.of(
        HttpClient.newHttpClient().send(metrics, HttpResponse.BodyHandlers.ofString()).body());
  }

  /** Milliseconds from the process's start to its first 200 from {@code /readyz}. */
  long awaitReady() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest readyz =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(1))
            .build();
    long deadline = startedAt + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the exporter exited with " + process.exitValue());
      }
      try {
        if (http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return (System.nanoTime() - startedAt) / 1_000_000;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("not ready after 120 s");
  }

  /** Milliseconds from the process's start until the sink has {@code target} events. */
  long awaitDelivered(LoopbackSink sink, long target) throws InterruptedException {
    long deadline = startedAt + Duration.ofSeconds(120).toNanos();
    while (sink.received.get() < target) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no event delivered within 120 s");
      }
      Thread.sleep(1);
    }
    return (System.nanoTime() - startedAt) / 1_000_000;
  }

  void awaitExit() throws InterruptedException {
    if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
      throw new IllegalStateException("the job did not end cleanly");
    }
  }

  long rssMb() throws IOException {
    return status("VmRSS");
  }

  /** A size from {@code /proc/<pid>/status}, in MB. */
  long status(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    throw new IllegalStateException("no " + field);
  }

  /** User and system CPU time of the process so far. */
  long cpuMillis() {
    try {
      String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10; // 100 ticks/s
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Heap in use right after a full collection, from jcmd and jstat of the same JDK. */
  long heapAfterGcMb() throws Exception {
    run(jdk.resolve("bin/jcmd").toString(), String.valueOf(process.pid()), "GC.run");
    String[] lines =
        run(jdk.resolve("bin/jstat").toString(), "-gc", "" + process.pid()).split("\n");
    List<String> names = List.of(lines[0].trim().split("\\s+"));
    String[] values = lines[1].trim().split("\\s+");
    double used = 0;
    for (String column : List.of("S0U", "S1U", "EU", "OU")) {
      used += Double.parseDouble(values[names.indexOf(column)]);
    }
    return Math.round(used / 1024);
  }

  private static String run(String... line) throws Exception {
    Process tool = new ProcessBuilder(line).redirectErrorStream(true).start();
    String out = new String(tool.getInputStream().readAllBytes());
    if (tool.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", line) + ": " + out);
    }
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
