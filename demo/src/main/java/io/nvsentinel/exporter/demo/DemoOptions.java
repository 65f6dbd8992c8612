package io.nvsentinel.exporter.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What to run.
 *
 * @param livePort the live exporter's metrics and probe port ({@code --live-port}; 0 picks one)
 * @param filter {@code exporter.filter.expression} for both applications; empty exports all
 * @param store where the events are stored: {@code mongodb} or {@code postgresql}
 */
public record DemoOptions(
    int history,
    int rate,
    int seconds,
    int outageSeconds,
    int sinkPort,
    int livePort,
    boolean exit,
    String filter,
    String store,
    Path workDir) {

  /**
   * {@code --history=N} stored events (2000), {@code --rate=N} new events per second (20), {@code
   * --seconds=N} of new events (30), {@code --outage-seconds=N} the sink fails in the middle of the
   * live phase (0), {@code --filter=EXPR} the {@code exporter.filter.expression} of both
   * applications (none), {@code --store=mongodb|postgresql} the datastore (mongodb), {@code
   * --sink-port=N} (8090), {@code --exit} exit after the summary; {@code --verbose} (read by {@link
   * Demo#main}) the applications' logs on the terminal rather than in {@code demo.log} of the
   * demo's work directory.
   */
  static DemoOptions parse(String[] args) throws Exception {
    Map<String, String> given = new HashMap<>();
    for (String arg : args) {
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      given.put(kv[0], kv.length == 2 ? kv[1] : "true");
    }
    return new DemoOptions(
        Integer.parseInt(given.getOrDefault("history", "2000")),
        Integer.parseInt(given.getOrDefault("rate", "20")),
        Integer.parseInt(given.getOrDefault("seconds", "30")),
        Integer.parseInt(given.getOrDefault("outage-seconds", "0")),
        Integer.parseInt(given.getOrDefault("sink-port", "8090")),
        Integer.parseInt(given.getOrDefault("live-port", "0")),
        given.containsKey("exit"),
        given.getOrDefault("filter", ""),
        given.getOrDefault("store", "mongodb"),
        Files.createTempDirectory("nvsentinel-exporter-demo"));
  }
}
