package io.nvsentinel.exporter.delivery;

import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import java.util.List;

/**
 * What one POST carries: one event in structured mode, or several in the CloudEvents JSON batch
 * format ({@code application/cloudevents-batch+json}, an array of structured-mode events), each
 * keeping its own id. The sink takes or refuses a parcel as a whole. A "batch" of one event goes in
 * structured mode, which every CloudEvents HTTP receiver takes: so the halves of a refused batch
 * end in single events even at a sink that takes no batch at all.
 *
 * @param id the event's id, or for a batch its first event's id and how many follow (for logs)
 * @param span the span the delivery's spans hang below: the event's, or the batch's first event's
 */
record Parcel(
    String id, byte[] body, String contentType, List<OutgoingEvent> events, boolean batch) {

  static Parcel of(OutgoingEvent event) {
    return new Parcel(
        event.id(), event.json(), CloudEventMapper.CONTENT_TYPE, List.of(event), false);
  }

  static Parcel batch(List<OutgoingEvent> events) {
    if (events.size() == 1) {
      return of(events.get(0));
    }
    int length = events.size() + 1;
    for (OutgoingEvent event : events) {
      length += event.json().length;
    }
    byte[] body = new byte[length];
    int at = 0;
    for (OutgoingEvent event : events) {
      body[at] = (byte) (at == 0 ? '[' : ',');
      at++;
      System.arraycopy(event.json(), 0, body, at, event.json().length);
      at += event.json().length;
    }
    body[at] = ']';
    String id = events.get(0).id() + " and " + (events.size() - 1) + " more";
    return new Parcel(id, body, CloudEventMapper.BATCH_CONTENT_TYPE, List.copyOf(events), true);
  }

  Span span() {
    return events.get(0).span();
  }

  int size() {
    return events.size();
  }

  /**
   * What a probe sends again after this parcel was accepted: the parcel itself for one event, its
   * last event alone for a batch, so a probe duplicates one event.
   */
  Parcel probe() {
    return batch ? of(events.get(events.size() - 1)) : this;
  }

  /** The first or second half of a batch, to find the event the sink refuses. */
  List<Parcel> halves() {
    int middle = events.size() / 2;
    return List.of(batch(events.subList(0, middle)), batch(events.subList(middle, events.size())));
  }
}
