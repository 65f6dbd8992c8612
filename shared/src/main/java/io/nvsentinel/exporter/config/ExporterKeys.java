package io.nvsentinel.exporter.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Every key under {@code exporter.} that one of the two applications reads — they share one
 * ConfigMap, so each knows the other's keys too. Anything else set under {@code exporter.} is a
 * typo or a key of another tool, and must not pass silently.
 */
public final class ExporterKeys {

  /**
   * The applications' own keys beside the shared contract, by section. Each application's tests
   * hold its properties class to this list.
   */
  public static final Map<String, Set<String>> APPLICATION_KEYS =
      Map.of(
          "exporter.live",
          Set.of(
              "workers",
              "maxInFlight",
              "operationTypes",
              "tokenFlushEvents",
              "tokenFlushInterval",
              "shutdownTimeout",
              "startOverlap",
              "stuckAfter",
              "httpTrigger",
              "httpTriggerPort",
              "httpTriggerTokenFile",
              "metricsPort"),
          "exporter.live.lease",
          Set.of("enabled", "duration", "renewInterval", "retryInterval", "holder"),
          "exporter.backfill",
          Set.of(
              "concurrency",
              "waitForCutoff",
              "abandonedAfter",
              "progressInterval",
              "jobRepositoryPath",
              "stopTimeout"));

  /** The replaced exporter's name for {@code exporter.live.workers}. */
  static final String WORKERS = "exporter.workers";

  /**
   * Variables Kubernetes gives every pod for each Service of its namespace whose name starts with
   * {@code exporter} ({@code exporter}, {@code exporter-sink}, …): not settings. {@code
   * <NAME>_PORT} alone is told apart by its value, a URL such as {@code tcp://10.0.0.1:80}.
   */
  private static final Pattern SERVICE_LINK =
      Pattern.compile(
          "EXPORTER(_\\w+)?(_SERVICE_HOST|_SERVICE_PORT(_\\w+)?|_PORT_\\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)");

  private static final Pattern SERVICE_PORT_URL = Pattern.compile("(tcp|udp|sctp)://.+");

  /** Known keys in their uniform form (lower case, no dashes), to their documented spelling. */
  private final Map<String, String> known = new LinkedHashMap<>();

  /** Keys below which anything goes (maps such as {@code exporter.metadata}). */
  private final List<String> openPrefixes = new ArrayList<>();

  ExporterKeys() {
    collect("exporter", ExporterProperties.class);
    APPLICATION_KEYS.forEach((section, keys) -> keys.forEach(key -> add(section + "." + key)));
    add(WORKERS);
  }

  private static boolean serviceLink(String variable, Object value) {
    return SERVICE_LINK.matcher(variable).matches()
        || (variable.endsWith("_PORT")
            && value != null
            && SERVICE_PORT_URL.matcher(value.toString()).matches());
  }

  /** One line per key set under {@code exporter.} that no application reads, naming its source. */
  List<String> unknown(ConfigurableEnvironment environment) {
    List<String> problems = new ArrayList<>();
    for (PropertySource<?> source : environment.getPropertySources()) {
      if (source instanceof SystemEnvironmentPropertySource variables) {
        for (String variable : variables.getPropertyNames()) {
          String key = variableKey(variable);
          if (key != null
              && !isKnown(uniform(key))
              && !serviceLink(variable, variables.getProperty(variable))) {
            problems.add(problem(variable + " (" + key + ")", source.getName(), key));
          }
        }
      } else if (source instanceof EnumerablePropertySource<?> settings) {
        for (String key : settings.getPropertyNames()) {
          if (key.regionMatches(true, 0, "exporter.", 0, 9) && !isKnown(uniform(key))) {
            problems.add(problem(key, source.getName(), key));
          }
        }
      }
    }
    return problems.stream().distinct().toList();
  }

  /** The key an environment variable binds to, as relaxed binding reads it; else null. */
  private static String variableKey(String variable) {
    if (!variable.startsWith("EXPORTER_")) {
      return null;
    }
    return Arrays.stream(variable.toLowerCase(Locale.ROOT).split("_"))
        .filter(part -> !part.isEmpty() && !part.chars().allMatch(Character::isDigit))
        .collect(Collectors.joining("."));
  }

  private boolean isKnown(String uniform) {
    return known.containsKey(uniform)
        || openPrefixes.stream().anyMatch(prefix -> uniform.startsWith(prefix + "."));
  }

  private String problem(String what, String source, String name) {
    String suggestion = nearest(uniform(name));
    return what
        + " (from "
        + source
        + ") is not a setting of this exporter: "
        + (suggestion != null
            ? "did you mean " + suggestion + "?"
            : "remove it, or correct it to a key of the configuration reference (docs/configuration.md)");
  }

  /** The known key closest to {@code uniform}, when a typo away. */
  private String nearest(String uniform) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (Map.Entry<String, String> key : known.entrySet()) {
      int distance = distance(uniform, key.getKey());
      if (distance < bestDistance) {
        bestDistance = distance;
        best = key.getValue();
      }
    }
    return bestDistance <= Math.max(2, uniform.length() / 8) ? best : null;
  }

  private void collect(String prefix, Class<?> type) {
    for (RecordComponent component : type.getRecordComponents()) {
      String key = prefix + "." + component.getName();
      Class<?> value = component.getType();
      if (value.isRecord()) {
        collect(key, value);
      } else if (Map.class.isAssignableFrom(value)) {
        add(key);
        openPrefixes.add(uniform(key));
      } else {
        add(key);
      }
    }
  }

  private void add(String key) {
    known.put(uniform(key), key);
  }

  /** Relaxed binding's equivalence: case, dashes and list indices do not matter. */
  static String uniform(String name) {
    return name.replaceAll("\\[[^]]*]", "").replace("-", "").toLowerCase(Locale.ROOT);
  }

  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
