package io.nvsentinel.exporter.store;

/**
 * The stream cannot continue from the stored position: the history after it is gone (MongoDB's
 * oplog rolled past the resume token, or PostgreSQL's change log was pruned past the position). The
 * runner records the interval as a gap window for the backfill and restarts from now.
 */
public final class ChangeHistoryLostException extends RuntimeException {

  public ChangeHistoryLostException(String reason) {
    super(reason);
  }
}
