package io.nvsentinel.exporter.delivery;

/** Retries ran out and the caller asked not to dead-letter: the event is still undelivered. */
public final class DeliveryExhaustedException extends RuntimeException {

  DeliveryExhaustedException(String eventId, int attempts, DeliveryFailure last) {
    super(
        "event " + eventId + " not delivered after " + attempts + " attempts: " + last.getMessage(),
        last);
  }
}
