package io.nvsentinel.exporter.delivery;

/** What to do while the sink cannot take any event (an outage, a wrong setting). */
public enum WhenSinkUnavailable {
  /**
   * Keep the event and try it again every {@code min(maxBackoff, 30s)}, and at once when the sink
   * recovers: the live stream pauses rather than turn an outage into dead letters.
   */
  HOLD,
  /**
   * Throw {@link DeliveryExhaustedException}: a backfill chunk fails and is rerun later, instead of
   * dead-lettering a whole window while the sink is down.
   */
  FAIL
}
