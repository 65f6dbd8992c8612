package io.nvsentinel.exporter.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An exporter application in a JVM of its own, as a pod runs it, on this JVM's class path: its log
 * in a file, and the signals an orchestrator or a failing node sends (SIGTERM, SIGKILL, SIGSTOP,
 * SIGCONT).
 */
public final class ExporterProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final Path log;

  private ExporterProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code mainClass} with {@code settings} as arguments, quick to start (C1 only, as tests
   * want); its output goes to a log file.
   */
  public static ExporterProcess start(
      String name, String mainClass, Map<String, String> settings, Path dir) throws IOException {
    return start(name, List.of("-XX:TieredStopAtLevel=1"), mainClass, settings, dir);
  }

  /** The same with the JVM options given. */
  public static ExporterProcess start(
      String name,
      List<String> jvmOptions,
      String mainClass,
      Map<String, String> settings,
      Path dir)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.add("--logging.structured.format.console=");
    command.addAll(List.of(StackSettings.arguments(settings)));
    Path log = dir.resolve(name + ".log");
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new ExporterProcess(name, process, log);
  }

  public String name() {
    return name;
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** Everything it logged so far. */
  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** When it logged the last line containing {@code text}, from the line's leading timestamp. */
  public Optional<Instant> loggedAt(String text) {
    return log()
        .lines()
        .filter(line -> line.contains(text))
        .reduce((first, second) -> second)
        .map(line -> Instant.parse(line.substring(0, line.indexOf(' '))));
  }

  /**
   * Whether a live exporter under a lease leads now, from its log: it last logged becoming the
   * leader after it last logged stopping being it.
   */
  public boolean leading() {
    if (!alive()) {
      return false;
    }
    Instant became = loggedAt("became the leader").orElse(null);
    Instant stopped = loggedAt("stopped being the leader").orElse(null);
    return became != null && (stopped == null || became.isAfter(stopped));
  }

  /** SIGTERM, as Kubernetes stops a pod; waits until it exited. */
  public int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    return process.exitValue();
  }

  /** SIGKILL, as a node that dies. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  /** SIGSTOP: frozen as by a long pause, its sockets left open. */
  public void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  public void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    int exit =
        new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid()))
            .inheritIO()
            .start()
            .waitFor();
    if (exit != 0) {
      throw new IOException("kill -" + signal + " " + process.pid() + " exited with " + exit);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      signalQuietly("CONT");
      process.destroyForcibly().waitFor();
    }
  }

  private void signalQuietly(String signal) {
    try {
      signal(signal);
    } catch (IOException | InterruptedException | RuntimeException e) {
      // it is being killed anyway
    }
  }
}
