package io.nvsentinel.exporter.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.NVSentinelEnvironmentPostProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.support.SpringFactoriesLoader;

class DatastoreEnvironmentTest {

  @TempDir Path dir;

  @Test
  void nvsentinelsDatastoreConfigMapAndUriSecretBecomeTheDatastoreSettings() {
    Map<String, String> env =
        Map.of(
            "MONGODB_URI",
                "mongodb://mongodb-headless.nvsentinel.svc.cluster.local:27017/?tls=true",
            "MONGODB_DATABASE_NAME", "HealthEventsDatabase",
            "MONGODB_COLLECTION_NAME", "HealthEvents",
            "MONGODB_TOKEN_COLLECTION_NAME", "ResumeTokens",
            "MONGODB_TLS_ENABLED", "true",
            "APP_NAME", "event-exporter");

    assertThat(DatastoreEnvironment.settings(env::get))
        .containsEntry("exporter.datastore.tls", "true")
        .containsEntry("exporter.datastore.appName", "event-exporter")
        .containsEntry(
            "exporter.datastore.uri",
            "mongodb://mongodb-headless.nvsentinel.svc.cluster.local:27017/?tls=true")
        .containsEntry("exporter.datastore.database", "HealthEventsDatabase")
        .containsEntry("exporter.datastore.collection", "HealthEvents")
        .containsEntry("exporter.datastore.tokenCollection", "ResumeTokens");
  }

  @Test
  void nvsentinelsPostgresqlEnvironmentBecomesThePostgresqlSettings() throws Exception {
    Path mount = Files.createDirectories(dir.resolve("client-certs"));
    Files.writeString(mount.resolve("ca.crt"), "ca");
    Files.writeString(mount.resolve("tls.crt"), "cert");
    Map<String, String> env =
        Map.of(
            "DATASTORE_PROVIDER", "postgresql",
            "DATASTORE_HOST", "nvsentinel-postgresql.nvsentinel.svc.cluster.local",
            "DATASTORE_PORT", "5432",
            "DATASTORE_DATABASE", "nvsentinel",
            "DATASTORE_USERNAME", "postgresql",
            "DATASTORE_PASSWORD", "s3cr3t",
            "DATASTORE_SSLMODE", "verify-full",
            "POSTGRESQL_CLIENT_CERT_MOUNT_PATH", mount.toString());

    assertThat(DatastoreEnvironment.settings(env::get))
        .containsEntry("exporter.datastore.provider", "postgresql")
        .containsEntry(
            "exporter.datastore.postgresql.host",
            "nvsentinel-postgresql.nvsentinel.svc.cluster.local")
        .containsEntry("exporter.datastore.postgresql.port", "5432")
        .containsEntry("exporter.datastore.postgresql.database", "nvsentinel")
        .containsEntry("exporter.datastore.postgresql.username", "postgresql")
        .containsEntry("exporter.datastore.postgresql.password", "s3cr3t")
        .containsEntry("exporter.datastore.postgresql.sslmode", "verify-full")
        .containsEntry(
            "exporter.datastore.postgresql.sslrootcert", mount.resolve("ca.crt").toString())
        .containsEntry("exporter.datastore.postgresql.sslcert", mount.resolve("tls.crt").toString())
        .doesNotContainKey("exporter.datastore.postgresql.sslkey");
  }

  @Test
  void theMountedCertificateDirectoryGivesTheFilesUnlessAVariableNamesOne() throws Exception {
    Path mount = Files.createDirectories(dir.resolve("mongo-client"));
    Files.writeString(mount.resolve("ca.crt"), "ca");
    Files.writeString(mount.resolve("tls.crt"), "cert");
    Files.writeString(mount.resolve("tls.key"), "key");
    Path ownCa = Files.writeString(dir.resolve("own-ca.pem"), "other ca");

    Map<String, Object> fromMount =
        DatastoreEnvironment.settings(
            Map.of("MONGODB_CLIENT_CERT_MOUNT_PATH", mount.toString())::get);
    Map<String, Object> withOwnCa =
        DatastoreEnvironment.settings(
            Map.of(
                    "MONGODB_CLIENT_CERT_MOUNT_PATH", mount.toString(),
                    "MONGODB_CA_CERT_PATH", ownCa.toString())
                ::get);

    assertThat(fromMount)
        .containsEntry("exporter.datastore.caFile", mount.resolve("ca.crt").toString())
        .containsEntry("exporter.datastore.certFile", mount.resolve("tls.crt").toString())
        .containsEntry("exporter.datastore.keyFile", mount.resolve("tls.key").toString());
    assertThat(withOwnCa)
        .containsEntry("exporter.datastore.caFile", ownCa.toString())
        .containsEntry("exporter.datastore.certFile", mount.resolve("tls.crt").toString());
  }

  @Test
  void anEmptyEnvironmentGivesNothingAndBlankValuesCountAsUnset() {
    assertThat(DatastoreEnvironment.settings(name -> null)).isEmpty();
    assertThat(DatastoreEnvironment.settings(Map.of("MONGODB_URI", "  ")::get)).isEmpty();
  }

  @Test
  void everyExporterKeyAnOperatorSetsWinsAndTheEnvironmentWinsOverTheBuiltInDefaults() {
    StandardEnvironment environment = new StandardEnvironment();
    environment
        .getPropertySources()
        .addFirst(
            new MapPropertySource(
                "operator", Map.of("exporter.datastore.database", "chosen-by-operator")));
    environment
        .getPropertySources()
        .addLast(
            new MapPropertySource(
                "defaultProperties",
                Map.of(
                    "exporter.datastore.collection", "built-in",
                    "exporter.datastore.uri", "mongodb://localhost:27017")));

    new NVSentinelEnvironmentPostProcessor(
            Map.of(
                    "MONGODB_DATABASE_NAME", "HealthEventsDatabase",
                    "MONGODB_COLLECTION_NAME", "HealthEvents")
                ::get)
        .postProcessEnvironment(environment, null);

    assertThat(environment.getProperty("exporter.datastore.database"))
        .isEqualTo("chosen-by-operator");
    assertThat(environment.getProperty("exporter.datastore.collection")).isEqualTo("HealthEvents");
    assertThat(environment.getProperty("exporter.datastore.uri"))
        .isEqualTo("mongodb://localhost:27017");
  }

  @Test
  void everySpringApplicationWithTheCoreAppliesIt() {
    // Spring Boot's own post-processors want constructor arguments; only ours matters here
    assertThat(
            SpringFactoriesLoader.forDefaultResourceLocation()
                .load(
                    EnvironmentPostProcessor.class,
                    null,
                    SpringFactoriesLoader.FailureHandler.handleMessage((message, failure) -> {})))
        .hasAtLeastOneElementOfType(NVSentinelEnvironmentPostProcessor.class);
  }
}
