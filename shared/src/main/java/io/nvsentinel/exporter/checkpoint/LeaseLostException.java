package io.nvsentinel.exporter.checkpoint;

/** A write conditional on a lease found that another term holds it now: nothing was written. */
public final class LeaseLostException extends RuntimeException {

  public LeaseLostException(Lease lease, String what) {
    super(
        what
            + " refused: lease epoch "
            + lease.epoch()
            + " of '"
            + lease.holder()
            + "' for client '"
            + lease.client()
            + "' is no longer the current one");
  }
}
