package io.nvsentinel.exporter.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * What the lease beside the checkpoint promises on any datastore: one holder at a time, a greater
 * epoch for every term, and no checkpoint written by a term that ended. Subclasses give the store.
 */
public abstract class LeaseContract {

  protected static final String CLIENT = "event-exporter";
  static final Duration LEASE = Duration.ofSeconds(6);
  protected static final Instant T = Instant.parse("2026-12-06T12:00:00Z");

  /** A store with no checkpoint and no lease for {@link #CLIENT}. */
  protected abstract CheckpointStore store();

  /** A position of the store's own making. */
  protected abstract io.nvsentinel.exporter.checkpoint.StreamPosition position(int n);

  Checkpoint checkpoint(int n, Instant at) {
    return Checkpoint.firstStart(CLIENT, T.minusSeconds(5), T, T).advancedTo(position(n), at, at);
  }

  @Test
  void oneHolderAtATimeAndEveryTermHasAGreaterEpoch() {
    CheckpointStore store = store();
    Lease a = store.acquireLease(CLIENT, "a", LEASE, T).orElseThrow();
    assertThat(store.acquireLease(CLIENT, "b", LEASE, T.plusSeconds(1))).isEmpty();
    assertThat(store.renewLease(a, LEASE, T.plusSeconds(2))).isPresent();
    // renewed at T+2: still held at T+7, run out at T+9
    assertThat(store.acquireLease(CLIENT, "b", LEASE, T.plusSeconds(7))).isEmpty();
    Lease b = store.acquireLease(CLIENT, "b", LEASE, T.plusSeconds(9)).orElseThrow();
    assertThat(b.epoch()).isGreaterThan(a.epoch());
    assertThat(store.renewLease(a, LEASE, T.plusSeconds(9))).as("a's term is over").isEmpty();
  }

  @Test
  void aTermThatEndedCannotMoveThePosition() {
    CheckpointStore store = store();
    Lease a = store.acquireLease(CLIENT, "a", LEASE, T).orElseThrow();
    store.save(checkpoint(1, T), a);
    Lease b = store.acquireLease(CLIENT, "b", LEASE, T.plusSeconds(10)).orElseThrow();
    store.save(checkpoint(2, T.plusSeconds(10)), b);

    assertThatThrownBy(() -> store.save(checkpoint(1, T.plusSeconds(11)), a))
        .isInstanceOf(LeaseLostException.class)
        .hasMessageContaining("epoch " + a.epoch());
    assertThat(store.load(CLIENT).orElseThrow().position()).isEqualTo(position(2));
  }

  @Test
  void aReleasedLeaseIsTakenAtOnceAndTheSameHolderTakesItsOwnBack() {
    CheckpointStore store = store();
    Lease a = store.acquireLease(CLIENT, "a", LEASE, T).orElseThrow();
    store.releaseLease(a);
    Lease b = store.acquireLease(CLIENT, "b", LEASE, T.plusMillis(1)).orElseThrow();
    // the same pod name again (a restarted container) does not wait out its own lease
    Lease again = store.acquireLease(CLIENT, "b", LEASE, T.plusMillis(2)).orElseThrow();
    assertThat(again.epoch()).isGreaterThan(b.epoch());
    assertThat(store.renewLease(b, LEASE, T.plusMillis(3))).isEmpty();
  }

  @Test
  void aLeaseAloneIsNoCheckpointAndNoPositionOfTheReplacedExporter() {
    CheckpointStore store = store();
    store.acquireLease(CLIENT, "a", LEASE, T).orElseThrow();
    assertThat(store.load(CLIENT)).isEmpty();
    assertThat(store.replacedExporterPosition(CLIENT)).isEmpty();
  }
}
