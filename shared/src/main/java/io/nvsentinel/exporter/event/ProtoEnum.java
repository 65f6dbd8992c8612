package io.nvsentinel.exporter.event;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The two enums of a health event, exactly as NVSentinel's {@code
 * data-models/protobufs/health_event.proto} declares them. A value goes on the wire by its name, as
 * the Go exporter writes it ({@code event.RecommendedAction.String()}); a number the enum does not
 * declare prints as its digits, as Go prints an unknown protobuf enum value.
 */
public enum ProtoEnum {
  RECOMMENDED_ACTION(
      "recommendedAction",
      Map.of(
          "NONE", 0,
          "COMPONENT_RESET", 2,
          "CONTACT_SUPPORT", 5,
          "RUN_FIELDDIAG", 6,
          "RESTART_VM", 15,
          "RESTART_BM", 24,
          "REPLACE_VM", 25,
          "RUN_DCGMEUD", 26,
          "CUSTOM", 27,
          "UNKNOWN", 99)),
  PROCESSING_STRATEGY(
      "processingStrategy",
      Map.of(
          "UNSPECIFIED", 0,
          "EXECUTE_REMEDIATION", 1,
          "STORE_ONLY", 2,
          "STORE_AND_ANALYSE", 3));

  /**
   * What a value no reading can make sense of (an unknown name, a boolean, a number beyond 32 bits)
   * is exported as, for either enum, with a decode warning.
   */
  public static final String UNREADABLE = "UNKNOWN";

  private final String field;
  private final Map<String, Integer> numbers;
  private final Map<Integer, String> names = new TreeMap<>();

  ProtoEnum(String field, Map<String, Integer> numbers) {
    this.field = field;
    this.numbers = numbers;
    numbers.forEach((name, number) -> names.put(number, name));
  }

  /** The field of the health event that holds this enum. */
  public String field() {
    return field;
  }

  /** The name of the value with {@code number}; its digits when the enum declares none. */
  public String nameOf(int number) {
    String name = names.get(number);
    return name != null ? name : Integer.toString(number);
  }

  /** Whether the enum declares {@code number}. */
  public boolean declares(int number) {
    return names.containsKey(number);
  }

  /** The name of the enum's zero value, what Go holds when the field is not set. */
  public String unset() {
    return names.get(0);
  }

  /** The declared name matching {@code name} regardless of case and surrounding space. */
  public Optional<String> canonical(String name) {
    String upper = name.strip().toUpperCase(Locale.ROOT);
    return numbers.containsKey(upper) ? Optional.of(upper) : Optional.empty();
  }
}
