package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.event.Samples;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * An export that can be neither delivered nor set aside (the dead-letter store is down too) is
 * tried again, said so with the event's id, and the checkpoint waits for it.
 */
class UnaccountedExportTest {

  LiveStack stack;
  ReferenceSink sink;
  RunnerHarness harness;
  ChangeStreamRunner runner;
  final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  final Logger logger = (Logger) LoggerFactory.getLogger(AccountedExport.class);

  @BeforeEach
  void setUp() throws Exception {
    stack = new LiveStack();
    sink = stack.sink;
    harness = stack.harness;
    // after the issuer: starting a Spring application resets the logging configuration
    lines.start();
    logger.addAppender(lines);
  }

  @AfterEach
  void tearDown() throws Exception {
    logger.detachAppender(lines);
    runner.halt();
    stack.close();
  }

  @Test
  void itIsTriedAgainWithItsIdInTheLogAndCommittedOnlyOnceAccountedFor() {
    AtomicInteger calls = new AtomicInteger();
    runner =
        harness.runner(
            RunnerHarness.live(2, 8),
            UnaryOperator.identity(),
            event -> {},
            export ->
                change -> {
                  if (calls.incrementAndGet() <= 2) {
                    throw new IllegalStateException("dead-letter store unreachable");
                  }
                  return export.apply(change);
                });
    runner.start();
    await().atMost(Duration.ofSeconds(20)).until(runner::streamOpen);
    BsonDocument doc = Samples.good().get(0);
    harness.insert(List.of(doc));
    String eventId = harness.eventId(doc.get("_id"));

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> sink.deliveriesOf("nvsentinel://test-cluster/healthevents", eventId) == 1);
    assertThat(calls.get()).isEqualTo(3);
    assertThat(lines.list)
        .filteredOn(line -> line.getLevel() == Level.ERROR)
        .hasSize(2)
        .allSatisfy(
            line ->
                assertThat(line.getFormattedMessage())
                    .contains("event " + eventId)
                    .contains("could be neither delivered nor set aside")
                    .contains("dead-letter store unreachable"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> harness.checkpoints.load("test-client").map(Checkpoint::position).isPresent());
  }
}
