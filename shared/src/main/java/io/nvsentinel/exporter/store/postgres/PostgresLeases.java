package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.checkpoint.Lease;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The lease of the live exporters as a row of {@code event_exporter_leases}: one per client, its
 * holder, its epoch (grown by every take) and when it runs out. {@link PostgresCheckpointStore}
 * checks the epoch in the transaction that writes a checkpoint under the lease.
 */
final class PostgresLeases {

  private final PostgresConnections db;

  PostgresLeases(PostgresConnections db) {
    this.db = db;
  }

  Optional<Lease> acquire(String client, String holder, Duration duration, Instant now) {
    Instant expiresAt = now.plus(duration);
    return db.with(
        "taking the lease",
        connection -> {
          try (PreparedStatement create =
              connection.prepareStatement(
                  "INSERT INTO event_exporter_leases (client_name, holder, epoch, expires_at)"
                      + " VALUES (?, NULL, 0, TIMESTAMPTZ 'epoch') ON CONFLICT DO NOTHING")) {
            create.setString(1, client);
            create.executeUpdate();
          }
          try (PreparedStatement take =
              connection.prepareStatement(
                  "UPDATE event_exporter_leases SET holder = ?, epoch = epoch + 1,"
                      + " expires_at = ? WHERE client_name = ?"
                      + " AND (holder IS NULL OR expires_at < ? OR holder = ?) RETURNING epoch")) {
            take.setString(1, holder);
            take.setTimestamp(2, Timestamp.from(expiresAt));
            take.setString(3, client);
            take.setTimestamp(4, Timestamp.from(now));
            take.setString(5, holder);
            try (ResultSet row = take.executeQuery()) {
              return row.next()
                  ? Optional.of(new Lease(client, holder, row.getLong(1), expiresAt))
                  : Optional.<Lease>empty();
            }
          }
        });
  }

  Optional<Lease> renew(Lease lease, Duration duration, Instant now) {
    Instant expiresAt = now.plus(duration);
    return extend(lease, expiresAt, "renewing the lease") == 0
        ? Optional.empty()
        : Optional.of(lease.renewedUntil(expiresAt));
  }

  void release(Lease lease) {
    extend(lease, Instant.EPOCH, "releasing the lease");
  }

  private int extend(Lease lease, Instant expiresAt, String what) {
    return db.with(
        what,
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE event_exporter_leases SET expires_at = ?"
                      + " WHERE client_name = ? AND epoch = ?")) {
            update.setTimestamp(1, Timestamp.from(expiresAt));
            update.setString(2, lease.client());
            update.setLong(3, lease.epoch());
            return update.executeUpdate();
          }
        });
  }
}
