package io.nvsentinel.exporter.store.mongo;

import com.mongodb.MongoException;
import com.mongodb.MongoServerException;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import java.util.Set;

/** The driver's failures of the change stream as the exporter's own. */
final class MongoFailures {

  /** Server errors that mean the stored token can no longer be resumed from. */
  static final Set<Integer> UNUSABLE_TOKEN_CODES = Set.of(9, 260, 280, 286);

  private MongoFailures() {}

  static RuntimeException translate(MongoException e) {
    if (e instanceof MongoServerException server
        && UNUSABLE_TOKEN_CODES.contains(server.getCode())) {
      return new ChangeHistoryLostException(
          "resume token unusable (server error " + server.getCode() + "): " + server.getMessage());
    }
    return new DatastoreUnavailableException("reading the MongoDB change stream failed", e);
  }
}
