package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.MongoClientSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.store.mongo.MongoConnections;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The points of NVSentinel's umbrella contract beyond its default installation: the names and sync
 * waves of the objects, and the MongoDB stores of its own values files (Atlas, DocumentDB, Cosmos
 * DB, a MongoDB without TLS, an external one with X.509) — the certificates each mounts, or none,
 * and the datastore settings the pods then bind.
 */
class NVSentinelStoresTest {

  @TempDir Path tmp;
  Umbrella umbrella;

  @BeforeEach
  void setUp() {
    umbrella = new Umbrella(tmp);
  }

  @Test
  void insideTheUmbrellaTheObjectsAreNamedAndOrderedAsNVSentinelsOwn() throws Exception {
    Manifests manifests = umbrella.render();
    Deployment deployment = manifests.one(Deployment.class);
    assertThat(deployment.getMetadata().getName())
        .as("NVSentinel's e2e test finds the Deployment by this name")
        .isEqualTo("event-exporter");
    assertThat(deployment.getMetadata().getAnnotations())
        .containsEntry("argocd.argoproj.io/sync-wave", "0");
    ConfigMap config =
        manifests.all(ConfigMap.class).stream()
            .filter(c -> c.getData().containsKey("application.yaml"))
            .findFirst()
            .orElseThrow();
    assertThat(config.getMetadata().getName()).isEqualTo("event-exporter");
    assertThat(config.getMetadata().getAnnotations())
        .containsEntry("argocd.argoproj.io/sync-wave", "-1");
    for (PodSpec pod : List.of(umbrella.livePod().getSpec(), manifests.backfillPod())) {
      assertThat(umbrella.env(pod.getContainers().get(0)))
          .containsEntry("APP_NAME", "event-exporter");
    }
  }

  /** Atlas and Cosmos DB: SCRAM over TLS with public CAs: no certificate is mounted at all. */
  @Test
  void atlasAndCosmosDbMountNoCertificateAndConnectOverTlsAsTheirUriSays() throws Exception {
    for (String values : List.of("atlas-gcp", "cosmosdb-test")) {
      umbrella.renderWith(values);
      for (PodSpec pod : List.of(umbrella.livePod().getSpec(), umbrella.manifests.backfillPod())) {
        assertThat(mongoCertVolume(pod)).as(values).isNull();
        assertThat(umbrella.env(pod.getContainers().get(0)))
            .as(values)
            .doesNotContainKey("MONGODB_CLIENT_CERT_MOUNT_PATH")
            .containsEntry("MONGODB_TLS_ENABLED", "true");
        Umbrella.BoundPod bound = umbrella.bind(pod);
        ExporterProperties.Datastore datastore = bound.properties.datastore();
        assertThat(bound.mounted).isEmpty();
        assertThat(datastore.caFile()).isNull();
        assertThat(datastore.certFile()).isNull();
        MongoClientSettings client = MongoConnections.settings(datastore);
        assertThat(client.getSslSettings().isEnabled()).isTrue();
        assertThat(client.getCredential()).as("SCRAM from the URI, none here").isNull();
      }
    }
  }

  /** DocumentDB: SCRAM over TLS with Amazon's CA from global.datastore.tls.caSecretName. */
  @Test
  void documentDbMountsItsCaAloneWhereNVSentinelsComponentsReadIt() throws Exception {
    umbrella.renderWith("aws-docdb");
    for (PodSpec pod : List.of(umbrella.livePod().getSpec(), umbrella.manifests.backfillPod())) {
      Volume volume = mongoCertVolume(pod);
      assertThat(volume.getSecret().getSecretName()).isEqualTo("docdb-ca");
      assertThat(volume.getSecret().getOptional()).isFalse();
      assertThat(volume.getSecret().getItems())
          .extracting(KeyToPath::getKey, KeyToPath::getPath)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("ca.crt", "ca.crt"));
      Umbrella.BoundPod bound = umbrella.bind(pod);
      assertThat(bound.mounted).containsExactly("/etc/ssl/mongo-ca/ca.crt");
      ExporterProperties.Datastore datastore = bound.properties.datastore();
      assertThat(bound.inPod(datastore.caFile())).isEqualTo("/etc/ssl/mongo-ca/ca.crt");
      assertThat(datastore.certFile()).isNull();
      MongoClientSettings client = MongoConnections.settings(datastore);
      assertThat(client.getSslSettings().isEnabled()).isTrue();
      assertThat(client.getCredential()).isNull();
    }
  }

  /** The in-cluster MongoDB without TLS: no mount, and TLS off as MONGODB_TLS_ENABLED says. */
  @Test
  void aMongodbWithoutTlsMountsNothingAndConnectsInPlainText() throws Exception {
    umbrella.renderWith("tls-disabled");
    PodSpec pod = umbrella.livePod().getSpec();
    assertThat(mongoCertVolume(pod)).isNull();
    assertThat(umbrella.env(pod.getContainers().get(0)))
        .containsEntry("MONGODB_TLS_ENABLED", "false");
    Umbrella.BoundPod bound = umbrella.bind(pod);
    ExporterProperties.Datastore datastore = bound.properties.datastore();
    assertThat(datastore.tls()).isFalse();
    assertThat(bound.mounted).isEmpty();
    assertThat(MongoConnections.settings(datastore).getSslSettings().isEnabled()).isFalse();
  }

  /**
   * An external MongoDB with X.509: its Secret, keys renamed as global.datastore.certificates says.
   */
  @Test
  void anExternalMongodbWithX509MountsItsClientCertificateUnderTheStandardNames() throws Exception {
    umbrella.renderWith("x509-external");
    PodSpec pod = umbrella.livePod().getSpec();
    Volume volume = mongoCertVolume(pod);
    assertThat(volume.getSecret().getSecretName()).isEqualTo("my-x509-client");
    assertThat(volume.getSecret().getOptional()).isFalse();
    assertThat(volume.getSecret().getItems())
        .extracting(KeyToPath::getKey, KeyToPath::getPath)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("client.pem", "tls.crt"),
            org.assertj.core.groups.Tuple.tuple("client.key", "tls.key"),
            org.assertj.core.groups.Tuple.tuple("root.pem", "ca.crt"));
    Umbrella.BoundPod bound = umbrella.bind(pod);
    ExporterProperties.Datastore datastore = bound.properties.datastore();
    assertThat(bound.inPod(datastore.certFile())).isEqualTo("/etc/ssl/mongo-client/tls.crt");
    assertThat(bound.inPod(datastore.keyFile())).isEqualTo("/etc/ssl/mongo-client/tls.key");
    assertThat(bound.inPod(datastore.caFile())).isEqualTo("/etc/ssl/mongo-client/ca.crt");
  }

  /** In-cluster, global.datastore.certificates.secretName names another Secret. */
  @Test
  void theInClusterCertificateSecretCanBeRenamedGlobally() throws Exception {
    umbrella.render(
        "renamed", t -> t.set("global.datastore.certificates.secretName", "my-own-certs"));
    Volume volume = mongoCertVolume(umbrella.livePod().getSpec());
    assertThat(volume.getSecret().getSecretName()).isEqualTo("my-own-certs");
    assertThat(volume.getSecret().getOptional()).as("as NVSentinel's in-cluster default").isTrue();
  }

  private static Volume mongoCertVolume(PodSpec pod) {
    Map<String, Volume> byName =
        pod.getVolumes().stream()
            .collect(java.util.stream.Collectors.toMap(Volume::getName, v -> v));
    boolean mounted =
        pod.getContainers().get(0).getVolumeMounts().stream()
            .anyMatch(m -> m.getName().equals("mongo-app-client-cert"));
    assertThat(mounted).isEqualTo(byName.containsKey("mongo-app-client-cert"));
    return byName.get("mongo-app-client-cert");
  }
}
