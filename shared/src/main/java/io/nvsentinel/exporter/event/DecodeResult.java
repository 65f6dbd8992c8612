package io.nvsentinel.exporter.event;

import org.bson.BsonValue;

/** The outcome of decoding one datastore document: an event to export, or a reason not to. */
public sealed interface DecodeResult {

  /** The document's {@code _id}, or {@code null} if it has none. */
  BsonValue documentId();

  /** The document decoded, possibly with repairs listed in its warnings. */
  record Decoded(StoredHealthEvent event) implements DecodeResult {
    @Override
    public BsonValue documentId() {
      return event.id();
    }
  }

  /** The document holds no usable health event; {@code reason} says why. */
  record Rejected(BsonValue documentId, String reason) implements DecodeResult {}
}
