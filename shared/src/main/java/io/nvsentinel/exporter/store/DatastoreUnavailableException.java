package io.nvsentinel.exporter.store;

/** The datastore could not be read now; the runner reconnects after a pause. */
public final class DatastoreUnavailableException extends RuntimeException {

  public DatastoreUnavailableException(String message, Throwable cause) {
    super(message + ": " + cause.getMessage(), cause);
  }
}
