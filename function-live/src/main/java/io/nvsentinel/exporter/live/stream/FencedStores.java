package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.checkpoint.Lease;
import io.nvsentinel.exporter.checkpoint.LeaseLostException;
import io.nvsentinel.exporter.checkpoint.ReplacedExporterPosition;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The checkpoints and gap windows as one leadership term sees them: every write that moves the
 * position is conditional on the term's lease epoch. A checkpoint is saved in one write with the
 * epoch check ({@link CheckpointStore#save(Checkpoint, Lease)}); a gap window is recorded only
 * after a renewal of the lease succeeded just before (a gap recorded by a term that ended a moment
 * earlier costs only events exported twice, under the same ids).
 */
final class FencedStores {

  private FencedStores() {}

  /** {@code lost} is told when a write finds another term holding the lease. */
  static CheckpointStore checkpoints(CheckpointStore store, Lease lease, Runnable lost) {
    return new CheckpointStore() {
      @Override
      public String location() {
        return store.location();
      }

      @Override
      public Optional<Checkpoint> load(String client) {
        return store.load(client);
      }

      @Override
      public Optional<ReplacedExporterPosition> replacedExporterPosition(String client) {
        return store.replacedExporterPosition(client);
      }

      @Override
      public Optional<ReplacedExporterPosition> replacedExporterPositionPast(Checkpoint ours) {
        return store.replacedExporterPositionPast(ours);
      }

      @Override
      public void save(Checkpoint checkpoint) {
        try {
          store.save(checkpoint, lease);
        } catch (LeaseLostException e) {
          lost.run();
          throw e;
        }
      }

      @Override
      public void save(Checkpoint checkpoint, Lease other) {
        store.save(checkpoint, other);
      }

      @Override
      public Optional<Lease> acquireLease(
          String client, String holder, Duration duration, Instant now) {
        return store.acquireLease(client, holder, duration, now);
      }

      @Override
      public Optional<Lease> renewLease(Lease term, Duration duration, Instant now) {
        return store.renewLease(term, duration, now);
      }

      @Override
      public void releaseLease(Lease term) {
        store.releaseLease(term);
      }
    };
  }

  static GapWindowStore gaps(
      GapWindowStore gaps,
      CheckpointStore leases,
      Lease lease,
      Duration duration,
      Clock clock,
      Runnable lost) {
    return new GapWindowStore() {
      @Override
      public GapWindow record(
          String client,
          GapWindow.Kind kind,
          Instant start,
          Instant end,
          String reason,
          Instant now) {
        if (leases.renewLease(lease, duration, clock.instant()).isEmpty()) {
          lost.run();
          throw new LeaseLostException(lease, "recording a gap window");
        }
        return gaps.record(client, kind, start, end, reason, now);
      }

      @Override
      public List<GapWindow> all() {
        return gaps.all();
      }

      @Override
      public void markDone(String id, Instant now) {
        gaps.markDone(id, now);
      }
    };
  }
}
