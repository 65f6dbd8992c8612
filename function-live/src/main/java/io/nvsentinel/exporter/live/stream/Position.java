package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.checkpoint.StreamPosition;
import java.time.Instant;

/** Where the stream is after an event, and that event's cluster time (server time). */
record Position(StreamPosition position, Instant clusterTime) {}
