package io.nvsentinel.exporter.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The metrics table of docs/operations.md and the meters the exporter registers are the same
 * contract.
 */
class ExporterMetricTest {

  static final Pattern ROW = Pattern.compile("^\\| `([a-z_]+)` \\| (.*?) \\|");
  static final Pattern LABEL = Pattern.compile("`([a-z_]+)`");

  @Test
  void readmeListsEveryMetricWithItsLabelsAndNothingElse() throws Exception {
    String readme = Files.readString(Path.of("..", "docs", "operations.md"));
    String table =
        readme.substring(
            readme.indexOf("## Metrics"),
            readme.indexOf("\n## ", readme.indexOf("## Metrics") + 1));
    Map<String, List<String>> documented = new TreeMap<>();
    for (String line : table.lines().toList()) {
      Matcher row = ROW.matcher(line);
      if (row.find()) {
        // the label names, before any " = " that lists their values
        Matcher label = LABEL.matcher(row.group(2).split(" = ")[0]);
        List<String> labels = new ArrayList<>();
        while (label.find()) {
          labels.add(label.group(1));
        }
        documented.put(row.group(1), labels);
      }
    }

    Map<String, List<String>> registered =
        Arrays.stream(ExporterMetric.values())
            .collect(
                Collectors.toMap(
                    ExporterMetric::prometheusName,
                    ExporterMetric::labels,
                    (a, b) -> a,
                    TreeMap::new));

    assertThat(documented).isEqualTo(registered);
  }
}
