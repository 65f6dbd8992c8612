package io.nvsentinel.exporter.delivery;

/** How the delivery of one event ended. Either way the event is accounted for. */
public sealed interface DeliveryOutcome {

  /** The CloudEvent id. */
  String eventId();

  /** How many POSTs it took, including the immediate re-send after a 401. */
  int attempts();

  /** {@code delivered} or {@code dead-lettered}, as logs, answers and spans say it. */
  default String label() {
    return this instanceof Delivered ? "delivered" : "dead-lettered";
  }

  /** The sink acknowledged the event with a 2xx {@code status}. */
  record Delivered(String eventId, int attempts, int status) implements DeliveryOutcome {}

  /** The event was set aside in the dead-letter collection with {@code reason}. */
  record DeadLettered(String eventId, int attempts, String reason) implements DeliveryOutcome {}
}
