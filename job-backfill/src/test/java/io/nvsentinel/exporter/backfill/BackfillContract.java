package io.nvsentinel.exporter.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.backfill.BackfillStack.Result;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.testkit.LocalStack;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.step.StepExecution;

/**
 * What the backfill job promises on any datastore: its windows, caps, gap windows, restarts, dead
 * letters and filter, against a real datastore, token issuer and verifying sink. Subclasses say
 * which datastore.
 */
abstract class BackfillContract {

  @RegisterExtension static final LocalStack tokens = LocalStack.issuer();
  // relative to today: the default window reaches back maxAge (720h) from now, and a fixed date
  // falls out of it a month later
  static final Instant T = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofDays(2));

  @TempDir Path dir;
  BackfillStack stack;

  /** A fresh datastore for one test. */
  abstract BackfillStore store() throws Exception;

  @BeforeEach
  void setUp() throws Exception {
    stack = new BackfillStack(tokens.tokens(), dir, store());
  }

  @AfterEach
  void tearDown() {
    stack.close();
  }

  Set<String> delivered() {
    return stack.sink.distinct().stream()
        .map(ReferenceSink.Received::id)
        .collect(Collectors.toSet());
  }

  long deadLetters() {
    return stack.store.deadLetters();
  }

  Set<String> ids(List<BsonDocument> docs) {
    return docs.stream().map(d -> stack.eventId(d.get("_id"))).collect(Collectors.toSet());
  }

  void storeCutoff(Instant cutoff) {
    stack.store.checkpoints().save(Checkpoint.firstStart("event-exporter", null, cutoff, cutoff));
  }

  @Test
  void theWindowIncludesItsStartAndExcludesItsEnd() {
    BsonDocument before = BackfillStack.event("before", T.minusMillis(1));
    BsonDocument atStart = BackfillStack.event("at-start", T);
    BsonDocument inside = BackfillStack.event("inside", T.plusSeconds(30));
    BsonDocument lastMilli = BackfillStack.event("last-milli", T.plusSeconds(60).minusMillis(1));
    BsonDocument atEnd = BackfillStack.event("at-end", T.plusSeconds(60));
    stack.insert(List.of(before, atStart, inside, lastMilli, atEnd));

    Result result =
        stack.backfill("run", "--window-start=" + T, "--window-end=" + T.plusSeconds(60));

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(List.of(atStart, inside, lastMilli)));
  }

  @Test
  void theDefaultWindowEndsAtTheLiveExportersCutoffAndReachesBackMaxAge() {
    storeCutoff(T);
    stack.properties.put("exporter.backfill.maxAge", "720h");
    BsonDocument tooOld =
        BackfillStack.event("too-old", T.minus(Duration.ofHours(720)).minusMillis(1));
    BsonDocument oldest = BackfillStack.event("oldest", T.minus(Duration.ofHours(720)));
    BsonDocument newest = BackfillStack.event("newest", T.minusMillis(1));
    BsonDocument live = BackfillStack.event("live", T);
    stack.insert(List.of(tooOld, oldest, newest, live));

    Result result = stack.backfill();

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(List.of(oldest, newest)));
  }

  @Test
  void maxEventsTakesTheOldestFirst() {
    List<BsonDocument> docs = stack.insertEvents("e", T, 10);
    stack.properties.put("exporter.backfill.maxEvents", "4");

    Result result = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(docs.subList(0, 4)));
  }

  @Test
  void aCappedWindowSaysSoAndTheRestIsExportedByTheNextRuns() {
    storeCutoff(T.plusSeconds(60));
    List<BsonDocument> docs = stack.insertEvents("e", T, 10);
    stack.properties.put("exporter.backfill.maxEvents", "4");

    Result first = stack.backfill();

    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(docs.subList(0, 4)));
    assertThat(first.executions().get(0).getExitStatus().getExitCode()).isEqualTo("CAPPED");
    assertThat(first.counter("health_events_exporter_backfill_windows_capped")).isEqualTo(1);
    GapWindowStore pending = stack.store.gaps();
    assertThat(pending.pending())
        .singleElement()
        .satisfies(
            rest -> {
              assertThat(rest.kind()).isEqualTo(GapWindow.Kind.REMAINDER);
              assertThat(rest.start()).isEqualTo(T.plusSeconds(4));
              assertThat(rest.end()).isEqualTo(T.plusSeconds(60));
            });
    Result list = stack.backfill("list");
    assertThat(list.out()).contains("capped: maxEvents (4) reached").contains("remainder ");

    // each later run exports at most maxEvents more, until nothing is left
    assertThat(stack.backfill().exitCode()).isZero();
    assertThat(delivered()).hasSize(8);
    assertThat(stack.backfill().exitCode()).isZero();
    assertThat(delivered()).isEqualTo(ids(docs));
    assertThat(pending.pending()).isEmpty();
    assertThat(stack.sink.duplicates()).isZero();
  }

  @Test
  void maxEventsNeverCapsAGapWindow() {
    storeCutoff(T);
    stack.properties.put("exporter.backfill.maxEvents", "3");
    Instant gapStart = T.plus(Duration.ofDays(1));
    List<BsonDocument> lost = stack.insertEvents("lost", gapStart, 10);
    stack
        .store
        .gaps()
        .record("event-exporter", gapStart, gapStart.plusSeconds(60), "history lost", T);

    Result result = stack.backfill();

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(lost));
  }

  @Test
  void aBackwardsGapWindowIsExportedAndBlocksNothing() {
    storeCutoff(T);
    Instant end = T.plus(Duration.ofDays(1));
    List<BsonDocument> lost = stack.insertEvents("lost", end.minusMillis(500), 1);
    GapWindowStore gaps = stack.store.gaps();
    gaps.record("event-exporter", end.plusSeconds(30), end, "clocks apart", T);

    Result result = stack.backfill();

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(lost));
    assertThat(gaps.pending()).isEmpty();
    assertThat(stack.backfill().exitCode()).isZero();
  }

  @Test
  void aSinkThatRefusesEveryEventFailsTheWindowWithTheSettingAndDeadLettersNothing() {
    List<BsonDocument> docs = stack.insertEvents("e", T, 30);
    stack.properties.put("exporter.backfill.batchSize", "10");
    stack.sink.faults().failNext(Integer.MAX_VALUE, 404);
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(60)};

    Result failed = stack.backfill(window);

    assertThat(failed.exitCode()).isEqualTo(1);
    assertThat(failed.err())
        .contains("the sink answered 404")
        .contains("check exporter.sink.endpoint");
    assertThat(failed.withStatus(BatchStatus.FAILED)).hasSize(1);
    assertThat(deadLetters()).isZero();

    stack.sink.faults().failNext(0, 404);
    Result fixed = stack.backfill(window);
    assertThat(fixed.exitCode()).as(fixed.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(docs));
  }

  /**
   * A sink whose handler crashes on one payload (a 500 to it every time): the chunk sends its
   * events, then waits on that one alone; it ends as a dead letter within its retry budget, the
   * rest are delivered, the window completes, and the gap window queued behind it runs.
   */
  @Test
  void aPayloadTheSinkChokesOnIsOneDeadLetterAndTheWindowAndThoseAfterItComplete() {
    stack.properties.put("exporter.backfill.batchSize", "10");
    storeCutoff(T.plusSeconds(3600));
    List<BsonDocument> docs = stack.insertEvents("e", T, 30);
    Instant gapStart = T.plus(Duration.ofDays(1));
    List<BsonDocument> lost = stack.insertEvents("lost", gapStart, 5);
    stack.store.gaps().record("event-exporter", gapStart, gapStart.plusSeconds(60), "lost", T);
    String poison = stack.eventId(docs.get(14).get("_id"));
    stack.sink.faults().chokeOn(event -> poison.equals(event.path("id").asString()), 500);

    Result result = stack.backfill();

    assertThat(result.exitCode()).as(result.err()).isZero();
    Set<String> expected = new HashSet<>(ids(docs));
    expected.addAll(ids(lost));
    expected.remove(poison);
    assertThat(delivered()).isEqualTo(expected);
    assertThat(deadLetters()).isEqualTo(1);
    assertThat(stack.store.gaps().pending()).isEmpty();
  }

  @Test
  void poisonValuesAreExportedRepairedAndNeverFailTheWindow() {
    int i = 0;
    for (BsonDocument poison : Samples.poison().values()) {
      BsonDocument doc = poison.clone();
      doc.put("createdAt", new BsonDateTime(T.plusSeconds(i++).toEpochMilli()));
      stack.insert(List.of(doc));
    }

    Result result = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(stack.sink.distinct()).hasSize(Samples.poison().size());
  }

  @Test
  void batchSizeIsTheChunkSize() {
    stack.insertEvents("e", T, 10);
    stack.properties.put("exporter.backfill.batchSize", "3");

    Result result = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));

    StepExecution step = result.executions().get(0).getStepExecutions().iterator().next();
    assertThat(step.getReadCount()).isEqualTo(10);
    assertThat(step.getWriteCount()).isEqualTo(10);
    // chunks of 3, 3, 3 and 1
    assertThat(step.getCommitCount()).isEqualTo(4);
  }

  @Test
  void aFailedWindowResumesAfterItsLastCommittedChunkAndSendsNothingTwice() {
    List<BsonDocument> docs = stack.insertEvents("e", T, 1000);
    stack.properties.put("exporter.backfill.batchSize", "50");
    stack.sink.faults().acceptAtMost(250);

    Result failed = stack.backfill();

    assertThat(failed.exitCode()).isEqualTo(1);
    assertThat(failed.err())
        .contains("backfill failed: window execution")
        .contains("FAILED")
        .contains("run the same command again");
    assertThat(failed.withStatus(BatchStatus.FAILED)).hasSize(1);
    assertThat(stack.sink.accepted()).hasSize(250);

    stack.sink.faults().acceptAtMost(Long.MAX_VALUE);
    Result resumed = stack.backfill();

    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(docs));
    assertThat(stack.sink.accepted()).as("every event exactly once").hasSize(1000);
    assertThat(stack.sink.duplicates()).isZero();
    assertThat(resumed.withStatus(BatchStatus.COMPLETED)).hasSize(1);
    assertThat(resumed.executions())
        .hasSize(2)
        .extracting(e -> e.getJobInstance().getId())
        .containsOnly(failed.executions().get(0).getJobInstance().getId());
  }

  @Test
  void theFilterAppliesToTheBackfillWhichCountsWhatItDroppedOnceAcrossARestart() {
    List<BsonDocument> docs = stack.insertEvents("e", T, 400);
    stack.properties.put("exporter.backfill.batchSize", "50");
    stack.properties.put("exporter.filter.expression", "event.recommendedAction != 'NONE'");
    List<BsonDocument> actionable =
        docs.stream()
            .filter(
                d ->
                    !new BsonString("NONE")
                        .equals(d.getDocument("healthevent").get("recommendedAction")))
            .toList();
    long dropped = docs.size() - actionable.size();
    assertThat(dropped).isPositive();
    stack.sink.faults().acceptAtMost(actionable.size() / 2);
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(400)};

    assertThat(stack.backfill(window).exitCode()).isEqualTo(1);
    stack.sink.faults().acceptAtMost(Long.MAX_VALUE);
    Result resumed = stack.backfill(window);

    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(actionable));
    assertThat(stack.sink.duplicates())
        .as("only the failed chunk is sent again, with the same ids")
        .isLessThanOrEqualTo(50);
    assertThat(stack.backfill("list").out())
        .as("the chunks rerun after the failure are not counted twice")
        .containsPattern("COMPLETED .* read=\\d+ filtered=" + dropped + "\\b");
    assertThat(deadLetters()).isZero();
  }

  @Test
  void aCompletedWindowRunsAgainOnlyWhenForced() {
    List<BsonDocument> docs = stack.insertEvents("e", T, 5);
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(60)};
    assertThat(stack.backfill(window).exitCode()).isZero();

    Result again = stack.backfill(window);
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err()).contains("was exported completely already").contains("--force");
    assertThat(stack.sink.accepted()).hasSize(5);

    Result forced =
        stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60), "--force");
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(stack.sink.duplicates()).as("same ids, recognisable").isEqualTo(5);
    assertThat(delivered()).isEqualTo(ids(docs));
  }

  @Test
  void aCronRunAfterTheDefaultWindowCompletedHasNothingToDo() {
    storeCutoff(T.plusSeconds(3600));
    stack.insertEvents("e", T, 5);
    assertThat(stack.backfill().exitCode()).isZero();
    Result second = stack.backfill();
    assertThat(second.exitCode()).isZero();
    assertThat(second.out()).contains("exported completely already; nothing to do");
    assertThat(stack.sink.accepted()).hasSize(5);
  }

  @Test
  void afterATakeoverFromTheGoExporterThereIsNoDefaultWindowButGivenWindowsAndGapsRun() {
    // the live exporter continued the Go exporter's position: no cutoff, the history was exported
    stack
        .store
        .checkpoints()
        .save(
            new Checkpoint(
                "event-exporter",
                stack.store.aTakenOverPosition(),
                null,
                null,
                T,
                T.plusSeconds(60),
                T.plusSeconds(60)));
    stack.properties.put("exporter.backfill.waitForCutoff", "10m");
    List<BsonDocument> docs = stack.insertEvents("e", T, 5);
    stack.store.gaps().record("event-exporter", T, T.plusSeconds(2), "lost", T.plusSeconds(60));

    Result run = stack.backfill();

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("took over from the replaced exporter at " + T.plusSeconds(60))
        .contains("--window-start and --window-end");
    assertThat(delivered()).as("the gap window only").isEqualTo(ids(docs.subList(0, 2)));
    // a window given with its start only ends where the live exporter took over
    Result given = stack.backfill("--window-start=" + T);
    assertThat(given.exitCode()).as(given.err()).isZero();
    assertThat(delivered()).isEqualTo(ids(docs));
  }

  @Test
  void malformedDocumentsBecomeDeadLettersAndTheJobCompletes() {
    int i = 0;
    List<BsonDocument> docs = new ArrayList<>();
    for (BsonDocument doc : Samples.malformed().values()) {
      BsonDocument copy = doc.clone();
      copy.put("createdAt", new BsonDateTime(T.plusSeconds(i++).toEpochMilli()));
      if (stack.store.holds(copy)) {
        docs.add(copy);
      }
    }
    stack.insert(docs);

    Result result = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));

    assertThat(result.exitCode()).as(result.err()).isZero();
    // all but the three without a health event
    assertThat(stack.sink.distinct()).hasSize(docs.size() - 3);
    assertThat(result.out()).contains("3 undecodable set aside");
    Result list = stack.backfill("list");
    assertThat(list.out()).contains("3 dead letters");
  }

  @Test
  void withoutTheCutoffTheJobWaitsABoundedTimeThenFailsClearly() {
    stack.properties.put("exporter.backfill.waitForCutoff", "2s");
    Result result = stack.backfill();
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.err())
        .contains("stored no backfill cutoff within PT2S")
        .contains("exporter.backfill.waitForCutoff");
  }

  @Test
  void theJobWaitsForTheCutoffToAppear() throws Exception {
    stack.properties.put("exporter.backfill.waitForCutoff", "30s");
    // an hour back from the cutoff holds these events; an hour back from "now" would not
    stack.properties.put("exporter.backfill.maxAge", "1h");
    List<BsonDocument> docs = stack.insertEvents("e", T, 3);
    var liveExporter = Executors.newSingleThreadScheduledExecutor();
    try {
      liveExporter.schedule(() -> storeCutoff(T.plusSeconds(10)), 2, TimeUnit.SECONDS);
      Result result = stack.backfill();
      assertThat(result.exitCode()).as(result.err()).isZero();
      assertThat(delivered()).isEqualTo(ids(docs));
    } finally {
      liveExporter.shutdownNow();
    }
  }

  @Test
  void gapWindowsRecordedByTheLiveExporterAreExportedAndMarkedDone() {
    storeCutoff(T.plusSeconds(3600));
    List<BsonDocument> early = stack.insertEvents("early", T, 3);
    Instant gapStart = T.plus(Duration.ofDays(2));
    List<BsonDocument> lost = stack.insertEvents("lost", gapStart, 4);
    GapWindowStore gaps = stack.store.gaps();
    GapWindow gap =
        gaps.record(
            "event-exporter", gapStart, gapStart.plusSeconds(60), "history lost", Instant.now());

    Result list = stack.backfill("list");
    assertThat(list.out()).contains("PENDING").contains("gap " + gap.id());

    Result result = stack.backfill();
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(delivered()).containsAll(ids(early)).containsAll(ids(lost));
    assertThat(gaps.pending()).isEmpty();
  }

  @Test
  void listShowsUnfinishedWindowsFirst() {
    stack.insertEvents("e", T, 20);
    assertThat(stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(5)).exitCode())
        .isZero();
    stack.sink.faults().acceptAtMost(0);
    assertThat(
            stack
                .backfill("--window-start=" + T.plusSeconds(5), "--window-end=" + T.plusSeconds(20))
                .exitCode())
        .isEqualTo(1);

    Result listed = stack.backfill("list");
    assertThat(
            listed
                .meters()
                .get("health_events_exporter_backfill_windows_unfinished")
                .gauge()
                .value())
        .as("the failed window is left to do")
        .isEqualTo(1);
    String[] lines =
        listed
            .out()
            .lines()
            .filter(l -> l.matches("^(FAILED|COMPLETED|PENDING|STOPPED).*"))
            .toArray(String[]::new);
    assertThat(lines[0])
        .startsWith("FAILED")
        .contains(T.plusSeconds(5).toString())
        .as("the reason an operator can act on")
        .contains("not delivered after 3 attempts: the sink answered 503");
    assertThat(lines[1]).startsWith("COMPLETED");

    stack.sink.faults().acceptAtMost(Long.MAX_VALUE);
    Result rerun = stack.backfill("rerun-failed");
    assertThat(rerun.exitCode()).as(rerun.err()).isZero();
    assertThat(stack.sink.distinct()).hasSize(20);
    assertThat(
            rerun
                .meters()
                .get("health_events_exporter_backfill_windows_unfinished")
                .gauge()
                .value())
        .as("the metrics the job pushes as it exits: no window left")
        .isZero();
  }

  @Test
  void deadLettersCanBeRedriven() {
    stack.insertEvents("e", T, 4);
    stack.sink.faults().failNext(2, 422);
    Result run = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));
    assertThat(run.exitCode()).isZero();
    assertThat(stack.sink.distinct()).hasSize(2);

    Result redrive = stack.backfill("redrive-dead-letters");
    assertThat(redrive.exitCode()).as(redrive.err()).isZero();
    assertThat(redrive.out()).contains("2 delivered, 0 failed again");
    assertThat(stack.sink.distinct()).hasSize(4);
  }
}
