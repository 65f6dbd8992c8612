package io.nvsentinel.exporter.live.changestream;

import java.time.Instant;
import org.bson.BsonDocument;

/** Where the stream is: the token after an event, and that event's cluster time (server time). */
record Position(BsonDocument token, Instant clusterTime) {}
