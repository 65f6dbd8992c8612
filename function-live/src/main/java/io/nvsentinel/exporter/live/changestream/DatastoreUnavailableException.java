package io.nvsentinel.exporter.live.changestream;

/** The datastore could not be read; the runner reconnects, as after a MongoDB error. */
public final class DatastoreUnavailableException extends RuntimeException {

  public DatastoreUnavailableException(String message, Throwable cause) {
    super(message + ": " + cause.getMessage(), cause);
  }
}
