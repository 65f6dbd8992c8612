package io.nvsentinel.exporter.devstack;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;

/**
 * How the {@link ReferenceSink} misbehaves when told to: scripted answers, outages, random
 * failures, resets, stalls, delays, and a handler that crashes on particular payloads. Every
 * setting applies to valid requests only (the token and the event's shape are checked first).
 * Thread-safe.
 */
public final class SinkFaults {

  /** A status and its {@code Retry-After} in seconds (negative for none). */
  record Scripted(int status, int retryAfterSeconds, String reason) {}

  private record Choke(Predicate<JsonNode> which, int status) {}

  private volatile int batchesRefusedWith;
  private final AtomicInteger scriptedFailures = new AtomicInteger();
  private final AtomicInteger scriptedStatus = new AtomicInteger(503);
  private final AtomicLong acceptBudget = new AtomicLong(Long.MAX_VALUE);
  private final AtomicReference<Double> failureShare = new AtomicReference<>(0.0);
  private final AtomicReference<Double> resetShare = new AtomicReference<>(0.0);
  private final AtomicReference<Double> stallShare = new AtomicReference<>(0.0);
  private final AtomicInteger retryAfterSeconds = new AtomicInteger(-1);
  private final AtomicReference<Function<JsonNode, Duration>> delay =
      new AtomicReference<>(event -> Duration.ZERO);
  private final List<Choke> chokes = new CopyOnWriteArrayList<>();

  /**
   * Answers the next {@code count} valid requests with {@code status} instead of accepting them.
   */
  public void failNext(int count, int status) {
    scriptedStatus.set(status);
    scriptedFailures.set(count);
  }

  /**
   * Accepts at most {@code limit} more events, then answers every valid request with a 503 until
   * told otherwise ({@code Long.MAX_VALUE} lifts the limit).
   */
  public void acceptAtMost(long limit) {
    acceptBudget.set(limit);
  }

  /** Answers this share (0..1) of valid requests with a 503. */
  public void failShare(double share) {
    failureShare.set(share);
  }

  /** Closes the connection of this share (0..1) of valid requests without answering them. */
  public void resetShare(double share) {
    resetShare.set(share);
  }

  /**
   * Answers this share (0..1) of valid requests with {@code 202} and a {@code Content-Length}, then
   * sends no body: a peer that stalls after its headers.
   */
  public void stallShare(double share) {
    stallShare.set(share);
  }

  /** Adds {@code Retry-After: seconds} to the scripted failures; negative for none. */
  public void retryAfter(int seconds) {
    retryAfterSeconds.set(seconds);
  }

  /** Waits this long before answering each request. */
  public void delay(Duration wait) {
    delay.set(event -> wait);
  }

  /** Waits as long as {@code wait} says for each request's event (null when not JSON). */
  public void delay(Function<JsonNode, Duration> wait) {
    delay.set(wait);
  }

  /**
   * A handler that crashes on particular payloads: every event {@code which} matches is answered
   * with {@code status}, every time, whatever else is set.
   */
  public void chokeOn(Predicate<JsonNode> which, int status) {
    chokes.add(new Choke(which, status));
  }

  /** Applies {@code failShare=0.3&delayMs=50}, the demo page's query; other keys are ignored. */
  void apply(String query) {
    for (String pair : (query == null ? "" : query).split("&")) {
      String[] kv = pair.split("=", 2);
      if (kv.length == 2 && kv[0].equals("failShare")) {
        failShare(Double.parseDouble(kv[1]));
      } else if (kv.length == 2 && kv[0].equals("delayMs")) {
        delay(Duration.ofMillis(Long.parseLong(kv[1])));
      }
    }
  }

  /** Whether to close this request's connection unanswered; {@code dice} is uniform in [0, 1). */
  boolean reset(double dice) {
    return dice < resetShare.get();
  }

  /** Whether to stall this request after its headers; {@code dice} as for {@link #reset}. */
  boolean stall(double dice) {
    return dice >= resetShare.get() && dice < resetShare.get() + stallShare.get();
  }

  /**
   * Answers the batch format with {@code status} (415, or 400 as NVSentinel's mock sink does), as a
   * sink that takes one event per request; 0 takes it again.
   */
  public void refuseBatches(int status) {
    batchesRefusedWith = status;
  }

  int batchesRefusedWith() {
    return batchesRefusedWith;
  }

  Duration delayFor(JsonNode event) {
    return delay.get().apply(event);
  }

  /** The failure to answer a valid request for {@code event} with; {@code null} to accept it. */
  Scripted failure(JsonNode event) {
    for (Choke choke : chokes) {
      if (choke.which().test(event)) {
        return new Scripted(choke.status(), -1, "the handler crashed on this payload");
      }
    }
    if (scriptedFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return new Scripted(scriptedStatus.get(), retryAfterSeconds.get(), "scripted failure");
    }
    if (acceptBudget.getAndUpdate(n -> n == Long.MAX_VALUE ? n : Math.max(0, n - 1)) == 0) {
      return new Scripted(503, -1, "accept budget used up");
    }
    if (ThreadLocalRandom.current().nextDouble() < failureShare.get()) {
      return new Scripted(503, -1, "random failure");
    }
    return null;
  }
}
