package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;

/**
 * One term of one live exporter as the only one that reads and exports for {@code client}: the
 * holder, the term's epoch (greater than every earlier term's) and when the lease runs out unless
 * renewed. Every write that moves the position is conditional on the epoch, so a holder that lost
 * the lease — paused, partitioned — cannot move it.
 */
public record Lease(String client, String holder, long epoch, Instant expiresAt) {

  /** The same term, renewed until {@code expiresAt}. */
  public Lease renewedUntil(Instant expiresAt) {
    return new Lease(client, holder, epoch, expiresAt);
  }
}
