package io.nvsentinel.exporter.delivery;

import io.cloudevents.CloudEvent;
import io.cloudevents.jackson.JsonFormat;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends dead letters again, with the ids they had, and removes those the sink now accepts. Run by
 * the operator (the backfill job's {@code redrive-dead-letters}) and by the live exporter for the
 * {@code exhausted} ones whenever the sink recovers. Undecodable documents stay: their data needs
 * fixing first. It stops at the first event the sink cannot take, leaving the rest for next time.
 */
public final class DeadLetterRedrive {

  private static final Logger log = LoggerFactory.getLogger(DeadLetterRedrive.class);
  private static final JsonFormat FORMAT = new JsonFormat();

  private final EventDeliverer deliverer;
  private final DeadLetterStore deadLetters;

  public DeadLetterRedrive(EventDeliverer deliverer, DeadLetterStore deadLetters) {
    this.deliverer = deliverer;
    this.deadLetters = deadLetters;
  }

  /** What a re-drive did. */
  public record Report(int delivered, int failedAgain, int skippedUndecodable) {}

  /** Re-drives up to {@code limit} dead letters of every kind. */
  public Report redrive(int limit) {
    return redrive(deadLetters.list(limit));
  }

  /** Re-drives up to {@code limit} dead letters of {@code kind}. */
  public Report redrive(int limit, DeadLetter.Kind kind) {
    return redrive(deadLetters.list(limit, kind));
  }

  private Report redrive(List<DeadLetter> letters) {
    int delivered = 0;
    int failedAgain = 0;
    int skipped = 0;
    for (DeadLetter letter : letters) {
      if (letter.cloudEvent() == null) {
        skipped++;
        continue;
      }
      byte[] json = letter.cloudEvent().getBytes(StandardCharsets.UTF_8);
      CloudEvent cloudEvent = FORMAT.deserialize(json);
      OutgoingEvent event = new OutgoingEvent(cloudEvent, json, letter.documentId());
      try {
        DeliveryOutcome outcome = deliverer.deliver(event, WhenSinkUnavailable.FAIL);
        if (outcome instanceof DeliveryOutcome.Delivered) {
          deadLetters.remove(letter.id());
          delivered++;
        } else {
          failedAgain++;
        }
      } catch (DeliveryExhaustedException sinkDown) {
        log.warn("re-drive stopped: {}", sinkDown.getMessage());
        failedAgain++;
        break;
      }
    }
    if (delivered + failedAgain > 0) {
      log.info(
          "re-drove dead letters: {} delivered, {} failed again, {} undecodable left for fixing",
          delivered,
          failedAgain,
          skipped);
    }
    return new Report(delivered, failedAgain, skipped);
  }
}
