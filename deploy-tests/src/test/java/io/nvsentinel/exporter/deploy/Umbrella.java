package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.nvsentinel.exporter.NVSentinelEnvironmentPostProcessor;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.SelfSignedCertificate;
import io.nvsentinel.exporter.live.config.LiveProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.io.ByteArrayResource;

/**
 * The chart as the {@code event-exporter} subchart of a test umbrella that reproduces NVSentinel's
 * contract (src/test/resources/umbrella), rendered, and its pods bound as the applications would
 * bind them: the environment Kubernetes would give them, the files it would mount.
 */
final class Umbrella {

  static final Path UMBRELLA = Path.of("src", "test", "resources", "umbrella").toAbsolutePath();

  /** NVSentinel's values files for other stores, as far as they reach this chart. */
  static final Path VALUES =
      Path.of("src", "test", "resources", "umbrella-values").toAbsolutePath();

  private final Path tmp;

  /** The last rendering. */
  Manifests manifests;

  Umbrella(Path tmp) {
    this.tmp = tmp;
  }

  /** The test umbrella as it is, rendered. */
  Manifests render() throws IOException {
    return render("nvsentinel", template -> {});
  }

  PodTemplateSpec livePod() {
    return manifests.one(Deployment.class).getSpec().getTemplate();
  }

  /** The test umbrella with one value set, rendered. */
  Manifests render(String name, String key, String value) throws IOException {
    return render(name, template -> template.set(key, value));
  }

  /** The test umbrella with one of NVSentinel's values files (as transcribed), rendered. */
  Manifests renderWith(String valuesFile) throws IOException {
    return render(
        valuesFile, template -> template.withValuesFile(VALUES.resolve(valuesFile + ".yaml")));
  }

  Manifests render(String name, Consumer<TemplateCommand> settings) throws IOException {
    Path umbrella = tmp.resolve(name);
    HelmChartTest.copy(UMBRELLA, umbrella);
    HelmChartTest.copy(HelmChartTest.CHART, umbrella.resolve("charts").resolve("event-exporter"));
    TemplateCommand template =
        new Helm(umbrella).template().withName("nvsentinel").withNamespace("nvsentinel");
    settings.accept(template);
    manifests = Manifests.parse(template.call());
    return manifests;
  }

  static String appVersion() throws IOException {
    return Files.readAllLines(HelmChartTest.CHART.resolve("Chart.yaml")).stream()
        .filter(line -> line.startsWith("appVersion:"))
        .map(line -> line.substring("appVersion:".length()).strip().replace("\"", ""))
        .findFirst()
        .orElseThrow();
  }

  /** A pod's configuration as its applications would bind it. */
  static final class BoundPod {
    ExporterProperties properties;
    LiveProperties live;
    String tracingExport;
    String tracingEndpoint;
    String tracingTransport;

    /** The certificate files mounted, as the pod sees them. */
    List<String> mounted;

    final Path root;

    BoundPod(Path root) {
      this.root = root;
    }

    /** A file's path as the pod sees it. */
    String inPod(Path file) {
      return "/" + root.relativize(file).toString().replace('\\', '/');
    }
  }

  /**
   * Binds a rendered pod: its environment as Kubernetes assembles it (envFrom in order, then env),
   * its ConfigMap at /config, its client-certificate Secret written where it is mounted — below a
   * directory standing for the pod's file system root.
   */
  BoundPod bind(PodSpec pod) throws Exception {
    Container container = pod.getContainers().get(0);
    BoundPod bound = new BoundPod(Files.createTempDirectory(tmp, "pod-root"));
    Map<String, String> environment = env(container);
    environment.replaceAll(
        (name, value) -> value.startsWith("/etc/ssl/") ? bound.root + value : value);
    bound.mounted = writeMountedSecret(pod, container, bound.root);
    ConfigMap config =
        manifests.all(ConfigMap.class).stream()
            .filter(c -> c.getData().containsKey("application.yaml"))
            .findFirst()
            .orElseThrow();
    var file =
        new YamlPropertySourceLoader()
            .load(
                "file [/config/application.yaml]",
                new ByteArrayResource(
                    config.getData().get("application.yaml").getBytes(StandardCharsets.UTF_8)))
            .get(0);
    Path secret = Files.writeString(tmp.resolve("oidc-client-secret"), "s3cret");
    HelmChartTest.applications(secret, file)
        .withInitializer(
            ctx ->
                new NVSentinelEnvironmentPostProcessor(environment::get)
                    .postProcessEnvironment(ctx.getEnvironment(), null))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              bound.properties = context.getBean(ExporterProperties.class);
              bound.live = context.getBean(LiveProperties.class);
              var settings = context.getEnvironment();
              bound.tracingExport = settings.getProperty("management.tracing.export.enabled");
              bound.tracingEndpoint =
                  settings.getProperty("management.opentelemetry.tracing.export.otlp.endpoint");
              bound.tracingTransport =
                  settings.getProperty("management.opentelemetry.tracing.export.otlp.transport");
            });
    return bound;
  }

  /** The container's environment: envFrom sources in order (a later one wins), then env. */
  Map<String, String> env(Container container) {
    Map<String, String> env = new LinkedHashMap<>();
    container
        .getEnvFrom()
        .forEach(
            from -> {
              if (from.getConfigMapRef() != null) {
                manifests.all(ConfigMap.class).stream()
                    .filter(c -> c.getMetadata().getName().equals(from.getConfigMapRef().getName()))
                    .forEach(c -> env.putAll(c.getData()));
              }
              if (from.getSecretRef() != null) {
                env.putAll(secretData(from.getSecretRef().getName()));
              }
            });
    for (EnvVar var : container.getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      }
    }
    return env;
  }

  Map<String, String> secretData(String name) {
    Map<String, String> data = new LinkedHashMap<>();
    manifests.all(Secret.class).stream()
        .filter(s -> s.getMetadata().getName().equals(name))
        .forEach(
            s -> {
              if (s.getStringData() != null) {
                data.putAll(s.getStringData());
              }
              if (s.getData() != null) {
                s.getData()
                    .forEach(
                        (k, v) ->
                            data.put(
                                k,
                                new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
              }
            });
    return data;
  }

  /**
   * Writes the client-certificate Secret where the pod mounts it, each key under the name the
   * volume's items give it (the key's own without items), and returns the files as the pod sees
   * them. The PEM contents are a generated certificate (the test umbrella's Secrets hold
   * placeholders); names and places are the Secrets' and the chart's.
   */
  List<String> writeMountedSecret(PodSpec pod, Container container, Path root) throws Exception {
    Path keys = Files.createTempDirectory(tmp, "certificate");
    SelfSignedCertificate certificate = SelfSignedCertificate.create(keys);
    Path key = certificate.writeKeyPem(keys.resolve("key.pem"));
    List<String> written = new ArrayList<>();
    for (VolumeMount mount : container.getVolumeMounts()) {
      for (Volume volume : pod.getVolumes()) {
        if (!volume.getName().equals(mount.getName())
            || volume.getSecret() == null
            || !mount.getMountPath().startsWith("/etc/ssl/")) {
          continue;
        }
        Map<String, String> paths = new LinkedHashMap<>();
        secretData(volume.getSecret().getSecretName()).keySet().forEach(k -> paths.put(k, k));
        if (volume.getSecret().getItems() != null && !volume.getSecret().getItems().isEmpty()) {
          paths.clear();
          volume.getSecret().getItems().forEach(item -> paths.put(item.getKey(), item.getPath()));
        }
        for (Map.Entry<String, String> file : paths.entrySet()) {
          assertThat(secretData(volume.getSecret().getSecretName()))
              .as("the Secret holds the key the volume names")
              .containsKey(file.getKey());
          String inPod = mount.getMountPath() + "/" + file.getValue();
          Path target = root.resolve(inPod.substring(1));
          Files.createDirectories(target.getParent());
          Files.copy(file.getValue().equals("tls.key") ? key : certificate.pem(), target);
          written.add(inPod);
        }
      }
    }
    return written;
  }
}
