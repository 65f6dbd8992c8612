package io.nvsentinel.exporter.checkpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Where the live exporter keeps its position and the backfill cutoff, in the datastore beside the
 * positions of NVSentinel's other components; the backfill job reads the cutoff from here.
 */
public interface CheckpointStore {

  /** Where the checkpoints are, for log lines. */
  String location();

  /** This exporter's checkpoint for {@code client}. */
  Optional<Checkpoint> load(String client);

  /** The replaced exporter's position for {@code client}, where this exporter has none. */
  Optional<ReplacedExporterPosition> replacedExporterPosition(String client);

  /**
   * The replaced exporter's position where it lies past {@code ours}: after a roll-back to it and
   * forward again, it may have run on and exported beyond this exporter's checkpoint. Empty where
   * the two positions are one (MongoDB keeps both in one document).
   */
  default Optional<ReplacedExporterPosition> replacedExporterPositionPast(Checkpoint ours) {
    return Optional.empty();
  }

  void save(Checkpoint checkpoint);

  /**
   * Saves {@code checkpoint} only while {@code lease} is the current term, in the same atomic write
   * (and with it the replaced exporter's form of the position).
   *
   * @throws LeaseLostException when another term holds the lease; nothing was written
   */
  void save(Checkpoint checkpoint, Lease lease);

  /**
   * Takes the lease of {@code client} for {@code holder} until {@code now + duration}, when nobody
   * holds it, it ran out, or {@code holder} held it last (a restarted process of the same name);
   * every take starts a new term with a greater epoch. Empty when another holder's lease runs.
   */
  Optional<Lease> acquireLease(String client, String holder, Duration duration, Instant now);

  /** Extends the term until {@code now + duration}; empty when another term holds the lease. */
  Optional<Lease> renewLease(Lease lease, Duration duration, Instant now);

  /** Ends the term at once, so another holder can take the lease without waiting it out. */
  void releaseLease(Lease lease);

  /** Where the backfill of {@code client} must end, once its live exporter has started. */
  default Optional<Instant> backfillCutoff(String client) {
    return load(client).map(Checkpoint::backfillCutoff);
  }
}
