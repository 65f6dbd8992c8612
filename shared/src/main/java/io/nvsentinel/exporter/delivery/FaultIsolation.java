package io.nvsentinel.exporter.delivery;

import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.delivery.SinkAttempts.Attempts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whose fault it is when an event keeps failing: the sink's, for every event (an outage), or the
 * event's own (a payload the sink chokes on, answered with a 500 every time). The evidence for a
 * refused payload is the sink taking another event between two failures of this one; for an outage,
 * another event failing too. When nothing else was sent while this one failed, a probe finds out:
 * the event the sink accepted last, sent again under its own id — a duplicate the sink recognises
 * by {@code source}+{@code id}, as it must any. Thread-safe.
 */
final class FaultIsolation {

  /** What the evidence says. */
  enum Verdict {
    /** The sink took another event since this one's previous attempt: it refuses this payload. */
    PAYLOAD,
    /** The probe was taken just now: this event gets one more attempt, which decides. */
    CONFIRM,
    /** Another event failed too: the sink takes nothing now. */
    OUTAGE,
    /**
     * Nothing else could be sent (no event accepted yet since start): the event waits, without
     * stopping others, until the next acceptance or failure of another event decides.
     */
    UNDECIDED
  }

  private static final Logger log = LoggerFactory.getLogger(FaultIsolation.class);

  private final SinkAvailability availability;
  private final SinkAttempts sink;

  FaultIsolation(SinkAvailability availability, SinkAttempts sink) {
    this.availability = availability;
    this.sink = sink;
  }

  /**
   * The verdict on {@code parcel} (an event, or a batch), whose last attempt (of {@code attempts})
   * failed retryably.
   */
  Verdict judge(Parcel parcel, Attempts attempts) {
    if (availability.acceptedSince(attempts.previousStartNanos)) {
      return Verdict.PAYLOAD;
    }
    Parcel accepted = availability.lastAccepted();
    if (accepted == null || accepted.id().equals(parcel.id())) {
      return availability.undecided(parcel.id()) ? Verdict.OUTAGE : Verdict.UNDECIDED;
    }
    if (availability.probeFailedSince(attempts.lastStartNanos)) {
      return Verdict.OUTAGE; // another held event probed after this one failed, in vain
    }
    long sent = System.nanoTime();
    try {
      sink.send(accepted, new Attempts(Span.NOOP));
      log.info("probe: the sink took event {} again (a duplicate, same id)", accepted.id());
      return Verdict.CONFIRM;
    } catch (DeliveryFailure failure) {
      log.info(
          "probe: the sink did not take event {} either: {}", accepted.id(), failure.getMessage());
      availability.probeFailed(sent);
      return Verdict.OUTAGE;
    }
  }
}
