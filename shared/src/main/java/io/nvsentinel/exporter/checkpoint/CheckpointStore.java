package io.nvsentinel.exporter.checkpoint;

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

  /** Where the backfill of {@code client} must end, once its live exporter has started. */
  default Optional<Instant> backfillCutoff(String client) {
    return load(client).map(Checkpoint::backfillCutoff);
  }
}
