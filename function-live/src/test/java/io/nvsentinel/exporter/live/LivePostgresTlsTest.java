package io.nvsentinel.exporter.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.devstack.PostgresTls;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The live exporter on a PostgreSQL that admits its user only over TLS with a client certificate,
 * configured as NVSentinel's umbrella chart configures it: {@code DATASTORE_*} variables and the
 * client-certificate Secret mounted at {@code POSTGRESQL_CLIENT_CERT_MOUNT_PATH}.
 */
class LivePostgresTlsTest {

  @TempDir static Path tmp;
  static PostgresTls tls;
  static EmbeddedPostgresStore store;
  static TokenIssuer issuer;
  static ReferenceSink sink;

  @BeforeAll
  static void start() throws Exception {
    tls = PostgresTls.create(tmp.resolve("tls"), EmbeddedPostgresStore.EXPORTER_USER);
    store = EmbeddedPostgresStore.startWithTls(tmp.resolve("pg"), tls);
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    sink = ReferenceSink.start(0, issuer, "events:write");
  }

  @AfterAll
  static void stop() throws Exception {
    sink.close();
    issuer.close();
    store.close();
  }

  ConfigurableApplicationContext start(Map<String, String> environment) throws Exception {
    Map<String, String> properties =
        StackSettings.exporter("tls-cluster", sink, issuer, issuer.writeClientSecret(tmp));
    properties.put("exporter.live.metricsPort", "0");
    properties.put("logging.structured.format.console", "");
    properties.put("DATASTORE_PROVIDER", "postgresql");
    properties.put("DATASTORE_HOST", "localhost");
    properties.put("DATASTORE_PORT", String.valueOf(store.port()));
    properties.put("DATASTORE_DATABASE", store.database());
    properties.put("DATASTORE_USERNAME", EmbeddedPostgresStore.EXPORTER_USER);
    properties.put("POSTGRESQL_CLIENT_CERT_MOUNT_PATH", tls.clientDirectory().toString());
    properties.putAll(environment);
    return LiveExporterApplication.application().run(StackSettings.arguments(properties));
  }

  @Test
  void itReadsTheStoreOverTlsWithItsClientCertificateVerifyingTheServer() throws Exception {
    try (ConfigurableApplicationContext app = start(Map.of("DATASTORE_SSLMODE", "verify-full"))) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        UUID row = store.insert("node-" + i, EmbeddedPostgresStore.document("node-" + i, "TLS"));
        ids.add(EventIds.of(store.database(), "health_events", new BsonString(row.toString())));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(sink.distinct())
                      .extracting(ReferenceSink.Received::id)
                      .containsAll(ids));
      assertThat(
              query(
                  "SELECT s.ssl || ' ' || s.client_dn FROM pg_stat_ssl s"
                      + " JOIN pg_stat_activity a ON a.pid = s.pid"
                      + " WHERE a.usename = 'exporter'"))
          .as("every connection of the exporter: TLS, with its client certificate")
          .isNotEmpty()
          .allMatch(row -> row.equals("true /CN=exporter"));
    }
  }

  /**
   * cert-manager writes an RSA key as PKCS#1 unless told otherwise, and the JDBC driver reads only
   * PKCS#8: the exporter hands it the key in that form.
   */
  @Test
  void aPkcs1KeyAsCertManagerWritesItIsRead() throws Exception {
    Path pkcs1 = tls.clientDirectoryWithPkcs1Key();
    assertThat(Files.readString(pkcs1.resolve("tls.key"))).startsWith("-----BEGIN RSA PRIVATE KEY");
    try (ConfigurableApplicationContext app =
        start(
            Map.of(
                "DATASTORE_SSLMODE",
                "verify-full",
                "POSTGRESQL_CLIENT_CERT_MOUNT_PATH",
                pkcs1.toString()))) {
      UUID row = store.insert("node-k", EmbeddedPostgresStore.document("node-k", "PKCS#1 key"));
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(sink.distinct())
                      .extracting(ReferenceSink.Received::id)
                      .contains(
                          EventIds.of(
                              store.database(), "health_events", new BsonString(row.toString()))));
    }
  }

  @Test
  void aServerItsCaDidNotSignIsRefusedAndStartUpSaysWhy() throws Exception {
    // a certificate the server's does not chain to: the client's own
    Path otherRoot = tls.clientDirectory().resolve("tls.crt");
    assertThatThrownBy(
            () ->
                start(
                        Map.of(
                            "DATASTORE_SSLMODE",
                            "verify-full",
                            "DATASTORE_SSLROOTCERT",
                            otherRoot.toString()))
                    .close())
        .hasStackTraceContaining("in PostgreSQL at localhost:" + store.port())
        .hasStackTraceContaining("PKIX path");
  }

  private static List<String> query(String sql) throws Exception {
    List<String> values = new ArrayList<>();
    try (Connection connection = store.connect();
        ResultSet rows = connection.createStatement().executeQuery(sql)) {
      while (rows.next()) {
        values.add(rows.getString(1));
      }
    }
    return values;
  }
}
