package io.nvsentinel.exporter.live.changestream;

import com.mongodb.MongoServerException;
import java.util.Set;

/**
 * The stream cannot continue from the stored position: the history after it is gone (MongoDB's
 * oplog rolled past the resume token, or PostgreSQL's change log was pruned past the position). The
 * runner records the interval as a gap window for the backfill and restarts from now.
 */
public final class ChangeHistoryLostException extends RuntimeException {

  /** MongoDB server errors that mean the stored token can no longer be resumed from. */
  static final Set<Integer> UNUSABLE_TOKEN_CODES = Set.of(9, 260, 280, 286);

  public ChangeHistoryLostException(String reason) {
    super(reason);
  }

  /**
   * The failure as a lost history: itself, or a MongoDB error that means the token is unusable;
   * {@code null} for any other failure.
   */
  static ChangeHistoryLostException of(RuntimeException e) {
    if (e instanceof ChangeHistoryLostException lost) {
      return lost;
    }
    if (e instanceof MongoServerException server
        && UNUSABLE_TOKEN_CODES.contains(server.getCode())) {
      return new ChangeHistoryLostException(
          "resume token unusable (server error " + server.getCode() + "): " + server.getMessage());
    }
    return null;
  }
}
