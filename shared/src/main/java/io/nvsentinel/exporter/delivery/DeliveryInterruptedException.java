package io.nvsentinel.exporter.delivery;

/**
 * Delivery stopped because the thread was interrupted (shutdown). The event was neither delivered
 * nor dead-lettered, so its position must not be committed.
 */
public final class DeliveryInterruptedException extends RuntimeException {

  DeliveryInterruptedException(String eventId, Throwable cause) {
    super("delivery of " + eventId + " was interrupted before it ended", cause);
  }
}
