package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.AuthenticationMechanism;
import com.mongodb.MongoClientSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.store.mongo.MongoConnections;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart as the {@code event-exporter} subchart of a test umbrella that reproduces NVSentinel's
 * contract (src/test/resources/umbrella): the rendered pods, with the environment Kubernetes would
 * give them and the files it would mount, bound by the applications' own configuration classes.
 */
class NVSentinelUmbrellaTest {

  static final String MOUNT = "/etc/ssl/mongo-client";
  static final String PG_MOUNT = "/etc/ssl/client-certs";

  @TempDir Path tmp;
  Umbrella umbrella;

  @BeforeEach
  void render() throws IOException {
    umbrella = new Umbrella(tmp);
    umbrella.render();
  }

  @Test
  void theLiveExporterReadsNVSentinelsDatastoreAsItsComponentsDo() throws Exception {
    Umbrella.BoundPod pod = umbrella.bind(umbrella.livePod().getSpec());

    ExporterProperties.Datastore datastore = pod.properties.datastore();
    // the URI Secret of an external MongoDB comes after the ConfigMap, so its URI wins
    assertThat(datastore.uri())
        .isEqualTo(
            "mongodb://mongodb-0.example.net:27017,mongodb-1.example.net:27017/?replicaSet=rs0&tls=true");
    assertThat(datastore.database()).isEqualTo("HealthEventsDatabase");
    assertThat(datastore.collection()).isEqualTo("HealthEvents");
    assertThat(datastore.tokenCollection()).isEqualTo("ResumeTokens");
    assertThat(pod.properties.resumeToken().database()).isEqualTo("HealthEventsDatabase");
    assertThat(pod.properties.resumeToken().collection()).isEqualTo("ResumeTokens");
    assertThat(pod.properties.resumeToken().clientName()).isEqualTo("event-exporter");
    assertThat(pod.inPod(datastore.caFile())).isEqualTo(MOUNT + "/ca.crt");
    assertThat(pod.inPod(datastore.certFile())).isEqualTo(MOUNT + "/tls.crt");
    assertThat(pod.inPod(datastore.keyFile())).isEqualTo(MOUNT + "/tls.key");
    // mutual TLS and X.509, as NVSentinel's MongoDB requires of its components
    MongoClientSettings client = MongoConnections.settings(datastore);
    assertThat(client.getSslSettings().isEnabled()).isTrue();
    assertThat(client.getCredential().getAuthenticationMechanism())
        .isEqualTo(AuthenticationMechanism.MONGODB_X509);
    assertThat(pod.mounted)
        .containsExactlyInAnyOrder(MOUNT + "/ca.crt", MOUNT + "/tls.crt", MOUNT + "/tls.key");
    assertThat(datastore.appName())
        .as("APP_NAME, as NVSentinel's components")
        .isEqualTo("event-exporter");
    assertThat(client.getApplicationName()).isEqualTo("event-exporter");
    assertThat(datastore.tls()).as("MONGODB_TLS_ENABLED of the datastore ConfigMap").isTrue();
    assertThat(pod.live.workers()).as("exporter.workers").isEqualTo(10);
    assertThat(pod.live.metricsPort()).isEqualTo(2112);
  }

  @Test
  void theBackfillJobReadsTheSameDatastore() throws Exception {
    Umbrella.BoundPod pod = umbrella.bind(umbrella.manifests.backfillPod());

    assertThat(pod.properties.datastore().database()).isEqualTo("HealthEventsDatabase");
    assertThat(pod.properties.resumeToken().collection()).isEqualTo("ResumeTokens");
    assertThat(pod.inPod(pod.properties.datastore().certFile())).isEqualTo(MOUNT + "/tls.crt");
  }

  @Test
  void theUmbrellasPodMonitorFindsThePortItScrapesAndItsNetworkPolicyAdmitsIt() {
    PodTemplateSpec pod = umbrella.livePod();
    GenericKubernetesResource monitor =
        (GenericKubernetesResource) umbrella.manifests.kind("PodMonitor").orElseThrow();
    Map<String, String> selector = monitor.get("spec", "selector", "matchLabels");
    List<Map<String, Object>> endpoints = monitor.get("spec", "podMetricsEndpoints");

    assertThat(pod.getMetadata().getLabels()).containsAllEntriesOf(selector);
    String portName = (String) endpoints.get(0).get("port");
    assertThat(endpoints.get(0)).containsEntry("path", "/metrics");
    ContainerPort port =
        pod.getSpec().getContainers().get(0).getPorts().stream()
            .filter(p -> portName.equals(p.getName()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no container port named " + portName));
    assertThat(port.getContainerPort()).isEqualTo(2112);

    NetworkPolicy policy = umbrella.manifests.one(NetworkPolicy.class);
    assertThat(pod.getMetadata().getLabels())
        .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(
            policy.getSpec().getIngress().stream()
                .flatMap(rule -> rule.getPorts().stream())
                .map(NetworkPolicyPort::getPort)
                .map(p -> p.getIntVal()))
        .contains(port.getContainerPort());
  }

  @Test
  void theUmbrellasGlobalValuesApplyToBothPods() throws IOException {
    for (PodSpec pod : List.of(umbrella.livePod().getSpec(), umbrella.manifests.backfillPod())) {
      Container container = pod.getContainers().get(0);
      assertThat(container.getImage())
          .as("global.image.tag names an NVSentinel release, not one of this image")
          .doesNotEndWith(":v0.9.0")
          .endsWith(":" + Umbrella.appVersion());
      assertThat(pod.getImagePullSecrets()).extracting("name").containsExactly("nvcr-pull");
      assertThat(pod.getNodeSelector()).containsEntry("node-role.kubernetes.io/system", "true");
      assertThat(pod.getTolerations()).extracting("key").containsExactly("dedicated");
      assertThat(pod.getAffinity().getNodeAffinity()).isNotNull();
      assertThat(umbrella.env(container))
          .containsEntry("OTEL_EXPORTER_OTLP_ENDPOINT", "otel-collector.monitoring:4317")
          .containsEntry("OTEL_EXPORTER_OTLP_INSECURE", "true");
      // no EXPORTER_* variables from a Service that happens to be named "exporter"
      assertThat(pod.getEnableServiceLinks()).isFalse();
    }
  }

  @Test
  void theUmbrellasTracingReachesBothApplicationsAsAnOtlpGrpcExporter() throws Exception {
    for (PodSpec pod : List.of(umbrella.livePod().getSpec(), umbrella.manifests.backfillPod())) {
      Umbrella.BoundPod bound = umbrella.bind(pod);
      assertThat(bound.tracingExport).isEqualTo("true");
      assertThat(bound.tracingTransport).as("the Go exporter's protocol").isEqualTo("grpc");
      assertThat(bound.tracingEndpoint)
          .as("global.tracing.insecure: plain text to the collector")
          .isEqualTo("http://otel-collector.monitoring:4317");
    }
  }

  @Test
  void onPostgresqlBothApplicationsReadNVSentinelsPostgresqlEnvironmentAndCertificates()
      throws Exception {
    umbrella.render("postgres", "global.datastore.provider", "postgresql");

    for (PodSpec pod : List.of(umbrella.livePod().getSpec(), umbrella.manifests.backfillPod())) {
      assertThat(pod.getVolumes())
          .filteredOn(v -> v.getSecret() != null)
          .extracting(v -> v.getSecret().getSecretName())
          .contains("postgresql-client-cert")
          .doesNotContain("mongo-app-client-cert-secret");
      assertThat(umbrella.env(pod.getContainers().get(0)))
          .containsEntry("POSTGRESQL_CLIENT_CERT_MOUNT_PATH", PG_MOUNT)
          .doesNotContainKey("MONGODB_CLIENT_CERT_MOUNT_PATH");

      Umbrella.BoundPod bound = umbrella.bind(pod);
      ExporterProperties.Datastore datastore = bound.properties.datastore();
      ExporterProperties.Postgresql postgresql = datastore.postgresql();
      assertThat(datastore.provider()).isEqualTo(ExporterProperties.Provider.POSTGRESQL);
      assertThat(postgresql.host()).isEqualTo("nvsentinel-postgresql.nvsentinel.svc.cluster.local");
      assertThat(postgresql.port()).isEqualTo(5432);
      assertThat(postgresql.database()).isEqualTo("nvsentinel");
      assertThat(postgresql.username()).isEqualTo("postgresql");
      assertThat(postgresql.password()).as("from the datastore Secret").isEqualTo("pg-password");
      assertThat(postgresql.sslmode()).isEqualTo("verify-full");
      assertThat(bound.inPod(postgresql.sslrootcert())).isEqualTo(PG_MOUNT + "/ca.crt");
      assertThat(bound.inPod(postgresql.sslcert())).isEqualTo(PG_MOUNT + "/tls.crt");
      assertThat(bound.inPod(postgresql.sslkey())).isEqualTo(PG_MOUNT + "/tls.key");
      assertThat(datastore.eventCollection()).isEqualTo("health_events");
    }
  }

  @Test
  void anotherDatastoreProviderIsRefusedAtInstallNamingTheValue() throws IOException {
    assertThatThrownBy(() -> umbrella.render("other", "global.datastore.provider", "cassandra"))
        .hasMessageContaining("global.datastore.provider must be one of the following")
        .hasMessageContaining("\"mongodb\", \"postgresql\"");
  }
}
