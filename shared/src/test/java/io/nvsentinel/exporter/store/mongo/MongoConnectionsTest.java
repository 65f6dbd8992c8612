package io.nvsentinel.exporter.store.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.AuthenticationMechanism;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoTimeoutException;
import com.mongodb.client.MongoClient;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.datastore.DatastoreEnvironment;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TLS to the datastore from PEM files, as the Helm deployment mounts them. */
class MongoConnectionsTest {

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
    return datastore(uri, ca, cert, key);
  }

  static ExporterProperties.Datastore datastore(String uri, Path ca, Path cert, Path key) {
    return datastore(uri, ca, cert, key, "event-exporter", null);
  }

  static ExporterProperties.Datastore datastore(
      String uri, Path ca, Path cert, Path key, String appName, Boolean tls) {
    return new ExporterProperties.Datastore(
        uri,
        "HealthEventsDatabase",
        "HealthEvents",
        "ResumeTokens",
        ca,
        cert,
        key,
        null,
        null,
        appName,
        tls);
  }

  @Test
  void aCaFileMakesTheServerCertificateTrusted() {
    try (MongoClient client = MongoConnections.open(datastore(certificate.pem(), null, null))) {
      Document pong = client.getDatabase("admin").runCommand(new Document("ping", 1));
      assertThat(pong.get("ok")).isIn(1, 1.0);
    }
  }

  @Test
  void theFilesFromNVSentinelsEnvironmentGiveTrustedTlsAndX509() throws Exception {
    Path key = certificate.writeKeyPem(dir.resolve("client.key"));
    Map<String, String> env =
        Map.of(
            "MONGODB_CA_CERT_PATH", certificate.pem().toString(),
            "MONGODB_CLIENT_CERT_PATH", certificate.pem().toString(),
            "MONGODB_CLIENT_KEY_PATH", key.toString());
    Map<String, Object> settings = DatastoreEnvironment.settings(env::get);
    ExporterProperties.Datastore datastore =
        datastore(
            Path.of((String) settings.get("exporter.datastore.caFile")),
            Path.of((String) settings.get("exporter.datastore.certFile")),
            Path.of((String) settings.get("exporter.datastore.keyFile")));
    // mongo-java-server cannot authenticate X.509: the CA alone shows the server is trusted
    try (MongoClient client = MongoConnections.open(datastore(datastore.caFile(), null, null))) {
      Document pong = client.getDatabase("admin").runCommand(new Document("ping", 1));
      assertThat(pong.get("ok")).isIn(1, 1.0);
    }
    MongoClientSettings withCertificate = MongoConnections.settings(datastore);
    assertThat(withCertificate.getSslSettings().isEnabled()).isTrue();
    assertThat(withCertificate.getCredential().getAuthenticationMechanism())
        .isEqualTo(AuthenticationMechanism.MONGODB_X509);
  }

  @Test
  void withoutTheCaTheServerIsNotTrusted() {
    // TLS is on (a client certificate is configured) but the self-signed server is not trusted
    assertThatThrownBy(
            () -> {
              Path key = certificate.writeKeyPem(dir.resolve("client2.key"));
              try (MongoClient client =
                  MongoConnections.open(datastore(null, certificate.pem(), key))) {
                client.getDatabase("admin").runCommand(new Document("ping", 1));
              }
            })
        .isInstanceOf(MongoTimeoutException.class)
        .hasMessageContaining("PKIX");
  }

  @Test
  void aCertificateWithoutItsKeyIsAClearError() {
    assertThatThrownBy(() -> MongoConnections.open(datastore(null, certificate.pem(), null)))
        .hasMessageContaining("must be given together")
        .hasMessageContaining("certFile=" + certificate.pem());
  }

  @Test
  void noFilesMeansNoTls() {
    assertThat(MongoConnections.settings(datastore(null, null, null)).getSslSettings().isEnabled())
        .isFalse();
  }

  // mongo-java-server cannot check X.509; what the driver is told to send is what matters here
  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        // asking for it
        "mongodb://mongodb-headless.nvsentinel.svc.cluster.local:27017/"
            + "?replicaSet=rs0&tls=true&authMechanism=MONGODB-X509&authSource=$external",
        // the umbrella chart's URI names no mechanism; NVSentinel's components use the certificate
        "mongodb://mongodb-headless.nvsentinel.svc.cluster.local:27017/?replicaSet=rs0&tls=true"
      })
  void aClientCertificateAuthenticatesWithX509UnlessTheUriNamesACredential(String uri)
      throws Exception {
    Path key = certificate.writeKeyPem(dir.resolve("x509-" + uri.length() + ".key"));

    MongoClientSettings settings =
        MongoConnections.settings(datastore(uri, certificate.pem(), certificate.pem(), key));

    assertThat(settings.getCredential().getAuthenticationMechanism())
        .isEqualTo(AuthenticationMechanism.MONGODB_X509);
    assertThat(settings.getCredential().getSource()).isEqualTo("$external");
    assertThat(settings.getSslSettings().isEnabled()).isTrue();
    assertThat(settings.getSslSettings().getContext()).isNotNull();
  }

  @Test
  void aCredentialInTheUriIsKeptBesideAClientCertificate() throws Exception {
    Path key = certificate.writeKeyPem(dir.resolve("scram.key"));
    ExporterProperties.Datastore scram =
        datastore(
            "mongodb://exporter:pw@db.example:27017/?tls=true&authSource=admin",
            certificate.pem(),
            certificate.pem(),
            key);

    assertThat(MongoConnections.settings(scram).getCredential().getUserName())
        .isEqualTo("exporter");
    assertThat(MongoConnections.settings(scram).getCredential().getAuthenticationMechanism())
        .isNotEqualTo(AuthenticationMechanism.MONGODB_X509);
  }

  @Test
  void withoutAClientCertificateThereIsNoCredential() {
    assertThat(MongoConnections.settings(datastore(certificate.pem(), null, null)).getCredential())
        .isNull();
  }

  static ExporterProperties.Datastore withTls(String uri, String appName, Boolean tls, Path ca) {
    return datastore(uri, ca, null, null, appName, tls);
  }

  /** NVSentinel's APP_NAME names the connections, as its store client does; the URI's wins. */
  @Test
  void theAppNameFromTheEnvironmentNamesTheConnectionsUnlessTheUriDoes() {
    assertThat(
            MongoConnections.settings(withTls("mongodb://db/", "event-exporter", null, null))
                .getApplicationName())
        .isEqualTo("event-exporter");
    assertThat(
            MongoConnections.settings(
                    withTls("mongodb://db/?appName=mine", "event-exporter", null, null))
                .getApplicationName())
        .isEqualTo("mine");
  }

  /** MONGODB_TLS_ENABLED as NVSentinel's umbrella sets it from global.datastore.tls.enabled. */
  @Test
  void tlsEnabledFalseTurnsTlsOffAndLeavesTheMountedFilesUnused() {
    MongoClientSettings off =
        MongoConnections.settings(withTls("mongodb://db/", null, false, certificate.pem()));
    assertThat(off.getSslSettings().isEnabled()).isFalse();
    assertThat(off.getSslSettings().getContext()).isNull();
    MongoClientSettings on = MongoConnections.settings(withTls("mongodb://db/", null, true, null));
    assertThat(on.getSslSettings().isEnabled()).as("on without any file").isTrue();
    MongoClientSettings unset =
        MongoConnections.settings(withTls("mongodb://db/", null, null, null));
    assertThat(unset.getSslSettings().isEnabled()).isFalse();
  }
}
