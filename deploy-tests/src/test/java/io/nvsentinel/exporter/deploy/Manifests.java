package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rendered manifests, parsed with the fabric8 Kubernetes model. Strictly: a field the model does
 * not know (a typo, a wrong indentation) ends up in a resource's additional properties, and that
 * fails the test.
 */
final class Manifests {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  final List<HasMetadata> resources = new ArrayList<>();

  static Manifests parse(String yaml) {
    Manifests manifests = new Manifests();
    if (yaml == null) {
      return manifests; // Helm renders nothing at all
    }
    for (String document : yaml.split("(?m)^---\\s*$")) {
      if (document.lines().allMatch(line -> line.isBlank() || line.strip().startsWith("#"))) {
        continue;
      }
      Object parsed = SERIALIZATION.unmarshal(document);
      assertThat(parsed).as(document).isInstanceOf(HasMetadata.class);
      HasMetadata resource = (HasMetadata) parsed;
      if (!(resource instanceof GenericKubernetesResource)) {
        assertStrict(
            resource,
            resource.getKind() + "/" + resource.getMetadata().getName(),
            new IdentityHashMap<>());
      }
      manifests.resources.add(resource);
    }
    return manifests;
  }

  <T extends HasMetadata> T one(Class<T> type) {
    List<T> all = all(type);
    assertThat(all).as("one " + type.getSimpleName()).hasSize(1);
    return all.get(0);
  }

  /** The live exporter's pod. */
  PodSpec livePod() {
    return one(Deployment.class).getSpec().getTemplate().getSpec();
  }

  /** The install-time backfill Job's pod. */
  PodSpec backfillPod() {
    return one(Job.class).getSpec().getTemplate().getSpec();
  }

  /** The pod of the CronJob named {@code name}. */
  PodSpec cronPod(String name) {
    return named(CronJob.class, name).getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
  }

  /** The one resource of {@code type} named {@code name}. */
  <T extends HasMetadata> T named(Class<T> type, String name) {
    return all(type).stream()
        .filter(r -> r.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " named " + name));
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).toList();
  }

  Optional<HasMetadata> kind(String kind) {
    return resources.stream().filter(r -> kind.equals(r.getKind())).findFirst();
  }

  private static void assertStrict(Object model, String path, Map<Object, Boolean> seen) {
    if (model == null || seen.put(model, true) != null) {
      return;
    }
    if (model instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        assertStrict(item, path + "[" + i++ + "]", seen);
      }
      return;
    }
    if (model instanceof Map<?, ?> map) {
      map.forEach((k, v) -> assertStrict(v, path + "." + k, seen));
      return;
    }
    if (!(model instanceof KubernetesResource)) {
      return;
    }
    for (Method getter : model.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || !getter.getName().startsWith("get")
          || getter.getName().equals("getClass")) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(model);
      } catch (ReflectiveOperationException e) {
        continue;
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        assertThat((Map<?, ?>) value)
            .as("fields the Kubernetes model does not know at " + path)
            .isNullOrEmpty();
      } else {
        assertStrict(value, path + "." + getter.getName().substring(3), seen);
      }
    }
  }
}
