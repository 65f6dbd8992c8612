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

  /** The MongoDB error as a lost history, or {@code null} when it means something else. */
  static ChangeHistoryLostException of(MongoServerException e) {
    if (!UNUSABLE_TOKEN_CODES.contains(e.getCode())) {
      return null;
    }
    return new ChangeHistoryLostException(
        "resume token unusable (server error " + e.getCode() + "): " + e.getMessage());
  }
}
