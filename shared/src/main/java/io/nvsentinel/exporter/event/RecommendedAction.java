package io.nvsentinel.exporter.event;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The recommended action of a health event. Stored as its enum name by current writers and as the
 * number by older ones; exported as the number. Numbers we do not know are kept as they are.
 */
public record RecommendedAction(int code) {

  private static final Map<String, Integer> CODES =
      Map.of(
          "NONE", 0,
          "COMPONENT_RESET", 2,
          "CONTACT_SUPPORT", 5,
          "RUN_FIELDDIAG", 6,
          "RESTART_VM", 15,
          "RESTART_BM", 24,
          "REPLACE_VM", 25,
          "RUN_DCGMEUD", 26,
          "RESTART_APP", 39,
          "UNKNOWN", 99);

  public static final RecommendedAction NONE = new RecommendedAction(0);
  public static final RecommendedAction UNKNOWN = new RecommendedAction(99);

  /**
   * The enum name, as NVSentinel's Go code spells it ({@code NONE}, {@code RESTART_VM}); a number
   * we do not know is its decimal digits, as Go prints an unknown protobuf enum value.
   */
  public String name() {
    return CODES.entrySet().stream()
        .filter(e -> e.getValue() == code)
        .map(Map.Entry::getKey)
        .findFirst()
        .orElse(Integer.toString(code));
  }

  /** The action with this enum name, ignoring case, if it is one we know. */
  public static Optional<RecommendedAction> byName(String name) {
    Integer code = CODES.get(name.strip().toUpperCase(Locale.ROOT));
    return code == null ? Optional.empty() : Optional.of(new RecommendedAction(code));
  }
}
