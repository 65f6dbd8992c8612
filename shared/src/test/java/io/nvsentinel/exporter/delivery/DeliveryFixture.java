package io.nvsentinel.exporter.delivery;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.store.mongo.MongoDeadLetterStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.BsonString;

/** An embedded MongoDB for dead letters, a secret file, metrics and sample events. */
public final class DeliveryFixture implements AutoCloseable {

  final EmbeddedMongo mongo = EmbeddedMongo.start();
  public final MongoClient client = MongoClients.create(mongo.connectionString());
  final MeterRegistry meters;
  final TestProperties config = new TestProperties();
  private final Path secretFile;

  public DeliveryFixture() {
    this(new SimpleMeterRegistry());
  }

  DeliveryFixture(MeterRegistry meters) {
    this.meters = meters;
    try {
      secretFile = Files.createTempFile("oidc-client-secret", "");
      Files.writeString(secretFile, "devstack-secret");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    config.secretFile = secretFile;
    config.mongoUri = mongo.connectionString();
  }

  public DeadLetterStore deadLetters() {
    return new MongoDeadLetterStore(client, config.build().deadLetter(), meters, Clock.systemUTC());
  }

  EventDeliverer deliverer() {
    ExporterProperties properties = config.build();
    return EventDeliverer.create(
        properties,
        ClientSecret.resolve(properties.oidc(), name -> null),
        deadLetters(),
        meters,
        Clock.systemUTC());
  }

  List<OutgoingEvent> events() {
    HealthEventDecoder decoder = new HealthEventDecoder(65_536, meters);
    CloudEventMapper mapper = new CloudEventMapper(config.build(), Clock.systemUTC());
    return Samples.good().stream()
        .map(doc -> mapper.map(((DecodeResult.Decoded) decoder.decode(doc)).event()))
        .toList();
  }

  OutgoingEvent event() {
    return events().get(0);
  }

  OutgoingEvent eventWithId(String id) {
    HealthEventDecoder decoder = new HealthEventDecoder(65_536, meters);
    CloudEventMapper mapper = new CloudEventMapper(config.build(), Clock.systemUTC());
    BsonDocument doc = Samples.good().get(0).clone();
    doc.put("_id", new BsonString(id));
    return mapper.map(((DecodeResult.Decoded) decoder.decode(doc)).event());
  }

  double count(String name, String... tags) {
    var counter = meters.find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  @Override
  public void close() throws IOException {
    client.close();
    mongo.close();
    Files.deleteIfExists(secretFile);
  }
}
