package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.mongodb.MongoSocketOpenException;
import com.mongodb.MongoSocketReadException;
import com.mongodb.ServerAddress;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.AvailabilityState;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;

/** What the runner tells the probes: ready while the stream is open, live unless stuck. */
class RunnerProbesTest {

  EmbeddedMongo mongo;
  RunnerHarness harness;
  ChangeStreamRunner runner;
  final List<AvailabilityState> states = new CopyOnWriteArrayList<>();
  final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void setUp() throws Exception {
    mongo = EmbeddedMongo.start();
    harness =
        new RunnerHarness(
            mongo.connectionString(), "http://127.0.0.1:1/sink", "http://127.0.0.1:1/token", "s");
  }

  @AfterEach
  void tearDown() throws Exception {
    release.countDown();
    runner.halt();
    harness.close();
    mongo.close();
  }

  ChangeStreamRunner start(UnaryOperator<ChangeSource> source, Duration stuckAfter) {
    LiveProperties live =
        new LiveProperties(
            2,
            8,
            List.of("insert"),
            10,
            Duration.ofMillis(100),
            Duration.ofSeconds(1),
            Duration.ZERO,
            stuckAfter,
            false,
            8081,
            null,
            0);
    runner =
        harness.runner(
            live,
            source,
            event -> {
              if (event instanceof AvailabilityChangeEvent<?> change) {
                states.add(change.getState());
              }
            });
    runner.start();
    return runner;
  }

  @Test
  void readyOnlyWhileTheStreamIsOpen() {
    start(
        source ->
            (resumeAfter, startAt) -> {
              throw unavailable(
                  new MongoSocketOpenException("no route to MongoDB", new ServerAddress()));
            },
        Duration.ofMinutes(2));
    await().atMost(Duration.ofSeconds(5)).until(() -> states.contains(LivenessState.CORRECT));
    assertThat(states).doesNotContain(ReadinessState.ACCEPTING_TRAFFIC);
    assertThat(runner.streamOpen()).isFalse();
  }

  @Test
  void aDatastoreOutageLongerThanStuckAfterKeepsThePodAliveButNotReady() {
    start(
        source ->
            (resumeAfter, startAt) -> {
              throw unavailable(
                  new MongoSocketOpenException("no route to MongoDB", new ServerAddress()));
            },
        Duration.ofSeconds(1));
    // reconnect pauses grow past stuckAfter (0.5 s, 1 s, 2 s, 4 s ...); the reader is not stuck
    await().pollDelay(Duration.ofSeconds(5)).until(() -> true);
    assertThat(states).contains(LivenessState.CORRECT).doesNotContain(LivenessState.BROKEN);
    assertThat(states).doesNotContain(ReadinessState.ACCEPTING_TRAFFIC);
  }

  @Test
  void readyOnceOpenAndNotReadyWhenTheStreamBreaks() {
    start(
        source ->
            (resumeAfter, startAt) ->
                new ChangeSource.Cursor() {
                  int polls;

                  @Override
                  public ChangeEvent tryNext() {
                    if (++polls > 3) {
                      throw unavailable(
                          new MongoSocketReadException("connection reset", new ServerAddress()));
                    }
                    return null;
                  }

                  @Override
                  public void close() {}
                },
        Duration.ofMinutes(2));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                states.indexOf(ReadinessState.REFUSING_TRAFFIC)
                        > states.indexOf(ReadinessState.ACCEPTING_TRAFFIC)
                    && states.contains(ReadinessState.ACCEPTING_TRAFFIC));
  }

  @Test
  void aReaderThatMakesNoProgressFailsLiveness() {
    start(
        source ->
            (resumeAfter, startAt) ->
                new ChangeSource.Cursor() {
                  @Override
                  public ChangeEvent tryNext() {
                    try {
                      release.await(); // stuck, as a hung driver call would be
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    return null;
                  }

                  @Override
                  public void close() {}
                },
        Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> states.contains(LivenessState.BROKEN));
  }

  /** A broken connection as the MongoDB store reports it. */
  static DatastoreUnavailableException unavailable(RuntimeException cause) {
    return new DatastoreUnavailableException("reading the MongoDB change stream failed", cause);
  }
}
