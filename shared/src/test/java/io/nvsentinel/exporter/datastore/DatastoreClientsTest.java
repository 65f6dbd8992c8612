package io.nvsentinel.exporter.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoTimeoutException;
import com.mongodb.client.MongoClient;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.SelfSignedCertificate;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS to the datastore from PEM files, as the Helm deployment mounts them. */
class DatastoreClientsTest {

  @TempDir static Path dir;
  static SelfSignedCertificate certificate;
  static MongoServer server;
  static String uri;

  @BeforeAll
  static void startTlsServer() throws Exception {
    certificate = SelfSignedCertificate.create(dir);
    KeyStore.PrivateKeyEntry entry = certificate.entry();
    server = new MongoServer(new MemoryBackend());
    server.enableSsl(entry.getPrivateKey(), null, (X509Certificate) entry.getCertificate());
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    uri =
        "mongodb://127.0.0.1:"
            + server.getLocalAddress().getPort()
            + "/?serverSelectionTimeoutMS=2000&connectTimeoutMS=2000";
  }

  @AfterAll
  static void stop() {
    server.shutdownNow();
  }

  static ExporterProperties.Datastore datastore(Path ca, Path cert, Path key) {
    return new ExporterProperties.Datastore(uri, "nvsentinel", "HealthEvents", ca, cert, key);
  }

  @Test
  void aCaFileMakesTheServerCertificateTrusted() {
    try (MongoClient client =
        DatastoreClients.open(datastore(certificate.pem(), null, null), name -> null)) {
      Document pong = client.getDatabase("admin").runCommand(new Document("ping", 1));
      assertThat(pong.get("ok")).isIn(1, 1.0);
    }
  }

  @Test
  void theFilesComeFromTheEnvironmentVariablesOfTheHelmChartWeReplace() throws Exception {
    Path key = certificate.writeKeyPem(dir.resolve("client.key"));
    Map<String, String> env =
        Map.of(
            "MONGODB_CA_CERT_PATH", certificate.pem().toString(),
            "MONGODB_CLIENT_CERT_PATH", certificate.pem().toString(),
            "MONGODB_CLIENT_KEY_PATH", key.toString());
    try (MongoClient client = DatastoreClients.open(datastore(null, null, null), env::get)) {
      Document pong = client.getDatabase("admin").runCommand(new Document("ping", 1));
      assertThat(pong.get("ok")).isIn(1, 1.0);
    }
    assertThat(
            DatastoreClients.settings(datastore(null, null, null), env::get)
                .getSslSettings()
                .isEnabled())
        .isTrue();
  }

  @Test
  void withoutTheCaTheServerIsNotTrusted() {
    // TLS is on (a client certificate is configured) but the self-signed server is not trusted
    assertThatThrownBy(
            () -> {
              Path key = certificate.writeKeyPem(dir.resolve("client2.key"));
              try (MongoClient client =
                  DatastoreClients.open(datastore(null, certificate.pem(), key), name -> null)) {
                client.getDatabase("admin").runCommand(new Document("ping", 1));
              }
            })
        .isInstanceOf(MongoTimeoutException.class)
        .hasMessageContaining("PKIX");
  }

  @Test
  void aCertificateWithoutItsKeyIsAClearError() {
    assertThatThrownBy(
            () -> DatastoreClients.open(datastore(null, certificate.pem(), null), name -> null))
        .hasMessageContaining("must be given together")
        .hasMessageContaining("certFile=" + certificate.pem());
  }

  @Test
  void noFilesMeansNoTls() {
    assertThat(
            DatastoreClients.settings(datastore(null, null, null), name -> null)
                .getSslSettings()
                .isEnabled())
        .isFalse();
  }
}
