package io.nvsentinel.exporter.bench;

import java.io.DataInputStream;
import java.io.EOFException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The baseline of the footprint benchmark's CPU figure, run in a process of its own like the
 * exporter: a bare JDK HttpClient posting pre-serialized CloudEvents with the exporter's headers,
 * at a fixed rate or as fast as {@code concurrency} threads can. It reports the CPU time its own
 * process spent on the measured events, after a warm-up. Usage: {@code BareClient <endpoint>
 * <bodies-file> <rate per second, 0 for unthrottled> <events> <warm-up events> <concurrency>}.
 */
public final class BareClient {

  public static void main(String[] args) throws Exception {
    URI endpoint = URI.create(args[0]);
    List<byte[]> bodies = read(Path.of(args[1]));
    int rate = Integer.parseInt(args[2]);
    int events = Integer.parseInt(args[3]);
    int warmUp = Integer.parseInt(args[4]);
    int concurrency = Integer.parseInt(args[5]);
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    AtomicInteger failed = new AtomicInteger();
    Runnable[] post = new Runnable[1];
    AtomicInteger next = new AtomicInteger();
    post[0] =
        () -> {
          byte[] body = bodies.get(next.getAndIncrement() % bodies.size());
          HttpRequest request =
              HttpRequest.newBuilder(endpoint)
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/cloudevents+json")
                  .header("Authorization", "Bearer bench")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                  .build();
          try {
            if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() != 202) {
              failed.incrementAndGet();
            }
          } catch (Exception e) {
            failed.incrementAndGet();
          }
        };
    send(post[0], warmUp, rate, concurrency);
    long cpuBefore = cpuNanos();
    send(post[0], events, rate, concurrency);
    long cpu = cpuNanos() - cpuBefore;
    System.out.printf("cpu-ms=%d events=%d failed=%d%n", cpu / 1_000_000, events, failed.get());
  }

  /** Sends {@code count} posts, paced at {@code rate} per second or unthrottled when 0. */
  private static void send(Runnable post, int count, int rate, int concurrency)
      throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    if (rate > 0) {
      ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
      AtomicInteger submitted = new AtomicInteger();
      pacer.scheduleAtFixedRate(
          () -> {
            if (submitted.getAndIncrement() < count) {
              pool.execute(post);
            }
          },
          0,
          1_000_000_000L / rate,
          TimeUnit.NANOSECONDS);
      while (submitted.get() < count) {
        Thread.sleep(10);
      }
      pacer.shutdownNow();
    } else {
      AtomicInteger left = new AtomicInteger(count);
      for (int t = 0; t < concurrency; t++) {
        pool.execute(
            () -> {
              while (left.getAndDecrement() > 0) {
                post.run();
              }
            });
      }
    }
    pool.shutdown();
    pool.awaitTermination(1, TimeUnit.HOURS);
  }

  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
  }

  private static List<byte[]> read(Path file) throws Exception {
    List<byte[]> bodies = new ArrayList<>();
    try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
      while (true) {
        int length;
        try {
          length = in.readInt();
        } catch (EOFException end) {
          return bodies;
        }
        bodies.add(in.readNBytes(length));
      }
    }
  }
}
