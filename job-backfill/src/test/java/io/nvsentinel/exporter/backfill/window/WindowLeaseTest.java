package io.nvsentinel.exporter.backfill.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.infrastructure.item.Chunk;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Two backfill processes sharing a job repository's database (H2 here), each with a clock the test
 * moves: a run whose lease is gone — taken by the other after a database blip longer than {@code
 * abandonedAfter}, or not renewed for that long — writes no further chunk.
 */
class WindowLeaseTest {

  static final Duration TTL = Duration.ofMinutes(10);

  final MovingClock clock = new MovingClock();
  JdbcDataSource database;
  JobExecution execution;
  String key;

  @BeforeEach
  void setUp() {
    database = new JdbcDataSource();
    database.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    JobParameters parameters =
        new JobParametersBuilder()
            .addString("windowStart", "2026-12-01T00:00:00Z")
            .toJobParameters();
    execution = new JobExecution(1L, new JobInstance(1L, "healthEventBackfill"), parameters);
    key = WindowLease.key(parameters);
  }

  WindowLease lease() {
    return new WindowLease(database, TTL, clock);
  }

  @Test
  void aRunHoldingItsLeaseWritesItsChunks() {
    WindowLease running = lease();
    running.beforeJob(execution);
    clock.advance(TTL.dividedBy(2));
    running.renew(key);
    clock.advance(TTL.dividedBy(2));

    running.beforeWrite(new Chunk<>());
    assertThat(running.held()).isTrue();
    running.afterJob(execution);
  }

  @Test
  void afterABlipLongerThanAbandonedAfterTheRunThatLostTheLeaseStops() {
    WindowLease first = lease();
    first.beforeJob(execution);
    // the database is out of reach for longer than the lease: no renewal gets through
    clock.advance(TTL.plusSeconds(1));
    assertThatThrownBy(() -> first.beforeWrite(new Chunk<>()))
        .isInstanceOf(WindowLease.LeaseLostException.class)
        .hasMessageContaining("could not be renewed within exporter.backfill.abandonedAfter");

    WindowLease second = lease();
    assertThat(second.tryAcquire(key)).as("the other pod takes the expired lease").isTrue();
    first.renew(key);

    assertThat(first.held()).isFalse();
    assertThatThrownBy(() -> first.beforeWrite(new Chunk<>()))
        .isInstanceOf(WindowLease.LeaseLostException.class)
        .hasMessageContaining("another process took it");
    assertThat(
            new JdbcTemplate(database)
                .queryForObject(
                    "SELECT OWNER FROM BACKFILL_WINDOW_LEASE WHERE WINDOW_KEY = ?",
                    String.class,
                    key))
        .as("the lease stays the other's")
        .isNotBlank();
    first.afterJob(execution);
    assertThat(second.heldByAnother(key)).isFalse();
  }

  @Test
  void aRunStartedWithoutItsLeaseWritesNothing() {
    WindowLease other = lease();
    assertThat(other.tryAcquire(key)).isTrue();
    WindowLease late = lease();
    late.beforeJob(execution);

    assertThatThrownBy(() -> late.beforeWrite(new Chunk<>()))
        .isInstanceOf(WindowLease.LeaseLostException.class);
    late.afterJob(execution);
  }

  static final class MovingClock extends Clock {
    private Instant now = Instant.parse("2026-12-06T12:00:00Z");

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
