package io.nvsentinel.exporter.backfill.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.store.mongo.MongoDeadLetterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.infrastructure.item.Chunk;

/** The writer applies the rate limiter to every event of a chunk it delivers. */
class DeliveringWriterTest {

  @TempDir Path dir;

  @Test
  void everyDeliveredEventTakesAToken() throws Exception {
    try (TokenIssuer issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
        ReferenceSink sink = ReferenceSink.start(0, issuer, "events:write");
        EmbeddedMongo mongo = EmbeddedMongo.start();
        var client = MongoClients.create(mongo.connectionString())) {
      Delivery delivery = new Delivery(issuer, sink, client);
      EventDeliverer deliverer = delivery.deliverer;
      List<OutgoingEvent> events = delivery.events;

      RateLimiterTest.FakeTime time = new RateLimiterTest.FakeTime();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        new DeliveringWriter(
                deliverer,
                new RateLimiter(10, time, time),
                pool,
                Duration.ofMinutes(1),
                1,
                new SimpleMeterRegistry())
            .write(new Chunk<>(events));
      } finally {
        pool.shutdownNow();
      }

      assertThat(sink.distinct()).hasSize(40);
      // one token each: the first (a tenth of a second's worth) at once, 39 more at 10 per second
      assertThat(time.nanos.get()).isEqualTo(3_900_000_000L);
    }
  }

  @Test
  void batchedDeliverySendsTheChunkInRequestsOfBatchEventsAndStillTakesATokenPerEvent()
      throws Exception {
    try (TokenIssuer issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
        ReferenceSink sink = ReferenceSink.start(0, issuer, "events:write");
        EmbeddedMongo mongo = EmbeddedMongo.start();
        var client = MongoClients.create(mongo.connectionString())) {
      Delivery delivery = new Delivery(issuer, sink, client);
      RateLimiterTest.FakeTime time = new RateLimiterTest.FakeTime();
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        new DeliveringWriter(
                delivery.deliverer,
                new RateLimiter(10, time, time),
                pool,
                Duration.ofMinutes(1),
                15,
                new SimpleMeterRegistry())
            .write(new Chunk<>(delivery.events));
      } finally {
        pool.shutdownNow();
      }

      assertThat(sink.distinct()).hasSize(40);
      assertThat(sink.acceptedRequests()).as("15 + 15 + 10").isEqualTo(3);
      assertThat(time.nanos.get()).isEqualTo(3_900_000_000L);
    }
  }

  @Test
  void aDeliveryThatOutlivesItsBoundFailsTheChunkInsteadOfWaitingForever() throws Exception {
    try (TokenIssuer issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
        ReferenceSink sink = ReferenceSink.start(0, issuer, "events:write");
        EmbeddedMongo mongo = EmbeddedMongo.start();
        var client = MongoClients.create(mongo.connectionString())) {
      Delivery delivery = new Delivery(issuer, sink, client);
      sink.faults().delay(Duration.ofSeconds(4));
      ExecutorService pool = Executors.newFixedThreadPool(2);
      long start = System.nanoTime();
      try {
        DeliveringWriter writer =
            new DeliveringWriter(
                delivery.deliverer,
                new RateLimiter(0),
                pool,
                Duration.ofMillis(500),
                1,
                new SimpleMeterRegistry());
        assertThatThrownBy(() -> writer.write(new Chunk<>(delivery.events.subList(0, 1))))
            .hasMessageContaining("did not end within");
      } finally {
        pool.shutdownNow();
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
  }

  /** A deliverer to the sink, and the sample events mapped for it. */
  private final class Delivery {
    final EventDeliverer deliverer;
    final List<OutgoingEvent> events;

    Delivery(TokenIssuer issuer, ReferenceSink sink, MongoClient client) throws IOException {
      TestProperties config = new TestProperties();
      config.sinkEndpoint = sink.endpoint();
      config.tokenUrl = issuer.tokenUrl();
      config.secretFile = issuer.writeClientSecret(dir);
      ExporterProperties properties = config.build();
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      DeadLetterStore deadLetters =
          new MongoDeadLetterStore(client, properties.deadLetter(), meters, Clock.systemUTC());
      deliverer =
          EventDeliverer.create(
              properties,
              ClientSecret.resolve(properties.oidc(), n -> null),
              deadLetters,
              meters,
              Clock.systemUTC());
      HealthEventDecoder decoder = new HealthEventDecoder(65_536, meters);
      CloudEventMapper mapper = new CloudEventMapper(properties, Clock.systemUTC());
      events =
          Samples.good().stream()
              .map(d -> mapper.map(((DecodeResult.Decoded) decoder.decode(d)).event()))
              .toList();
    }
  }
}
