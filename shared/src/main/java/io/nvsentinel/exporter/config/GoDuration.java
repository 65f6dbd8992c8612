package io.nvsentinel.exporter.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses durations as operators write them for the Go exporter ({@code 720h}, {@code 1h30m}, {@code
 * 1.5h}, {@code 100ms}) and as Spring users write them ({@code PT30S}, {@code 2d}, a bare number of
 * milliseconds).
 */
public final class GoDuration {

  static final String ALLOWED =
      "use Go syntax such as 30s, 100ms, 5m, 720h, 1h30m or 1.5h (units ns, us, ms, s, m, h, d),"
          + " an ISO-8601 duration such as PT30S, or a whole number of milliseconds";

  private static final Pattern SEGMENT = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)([a-zµμ]+)");
  private static final Map<String, BigDecimal> NANOS_PER_UNIT =
      Map.of(
          "ns", BigDecimal.ONE,
          "us", BigDecimal.valueOf(1_000L),
          "µs", BigDecimal.valueOf(1_000L),
          "μs", BigDecimal.valueOf(1_000L),
          "ms", BigDecimal.valueOf(1_000_000L),
          "s", BigDecimal.valueOf(1_000_000_000L),
          "m", BigDecimal.valueOf(60_000_000_000L),
          "h", BigDecimal.valueOf(3_600_000_000_000L),
          "d", BigDecimal.valueOf(86_400_000_000_000L));

  private GoDuration() {}

  /**
   * Parses {@code text} into a duration.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw invalid(text);
    }
    String value = text.strip();
    if (value.matches("\\d+")) {
      return Duration.ofMillis(Long.parseLong(value));
    }
    String upper = value.toUpperCase(Locale.ROOT);
    if (upper.startsWith("P") || upper.startsWith("-P") || upper.startsWith("+P")) {
      try {
        return Duration.parse(value);
      } catch (DateTimeParseException e) {
        throw invalid(text);
      }
    }
    boolean negative = value.startsWith("-");
    if (negative || value.startsWith("+")) {
      value = value.substring(1);
    }
    Matcher matcher = SEGMENT.matcher(value);
    BigDecimal nanos = BigDecimal.ZERO;
    int position = 0;
    while (position < value.length()) {
      if (!matcher.find(position) || matcher.start() != position) {
        throw invalid(text);
      }
      BigDecimal perUnit = NANOS_PER_UNIT.get(matcher.group(2));
      if (perUnit == null) {
        throw invalid(text);
      }
      nanos = nanos.add(new BigDecimal(matcher.group(1)).multiply(perUnit));
      position = matcher.end();
    }
    Duration duration = Duration.ofNanos(nanos.longValueExact());
    return negative ? duration.negated() : duration;
  }

  /**
   * Formats a duration the way the operator documentation writes it ({@code 1h30m}, {@code 100ms}).
   */
  public static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    StringBuilder out = new StringBuilder(duration.isNegative() ? "-" : "");
    Duration rest = duration.abs();
    if (rest.getSeconds() == 0 && rest.getNano() % 1_000_000 == 0) {
      return out.append(rest.toMillis()).append("ms").toString();
    }
    long hours = rest.toHours();
    if (hours > 0) {
      out.append(hours).append('h');
      rest = rest.minusHours(hours);
    }
    long minutes = rest.toMinutes();
    if (minutes > 0) {
      out.append(minutes).append('m');
      rest = rest.minusMinutes(minutes);
    }
    if (!rest.isZero()) {
      BigDecimal seconds =
          BigDecimal.valueOf(rest.getSeconds())
              .add(BigDecimal.valueOf(rest.getNano(), 9))
              .stripTrailingZeros();
      out.append(seconds.toPlainString()).append('s');
    }
    return out.toString();
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("'" + text + "' is not a duration: " + ALLOWED);
  }
}
