package io.nvsentinel.exporter.delivery;

/**
 * The sink could take no event (retries ran out for every event, or a setting is wrong) and the
 * caller asked to fail rather than hold: the event is still undelivered, and no dead letter was
 * written.
 */
public final class DeliveryExhaustedException extends RuntimeException {

  DeliveryExhaustedException(String eventId, int attempts, DeliveryFailure last) {
    super(
        "event " + eventId + " not delivered after " + attempts + " attempts: " + last.getMessage(),
        last);
  }
}
