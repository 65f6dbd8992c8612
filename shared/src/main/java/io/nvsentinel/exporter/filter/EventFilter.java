package io.nvsentinel.exporter.filter;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.event.HealthEvent;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code exporter.filter.expression}: a CEL expression over the health event that decides whether
 * it is exported, with the replaced exporter's contract, so an operator's expression means the same
 * here. {@code event} is a map of string to dynamic values, so a bare field read is not a boolean:
 * the expression must compare ({@code event.isFatal == true}). An empty expression exports
 * everything.
 *
 * <p>The filter fails open: an expression that cannot be evaluated for an event exports it and
 * counts {@code health_events_exporter_filter_errors_total}, because dropping events on a filter
 * bug is silent loss, while an extra event is noise a sink tolerates. A dropped event counts {@code
 * health_events_exporter_events_filtered_total}. Thread-safe.
 */
public final class EventFilter {

  private static final Logger log = LoggerFactory.getLogger(EventFilter.class);

  static final String KEY = "exporter.filter.expression";

  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          // has(), all(), exists(), map(), filter(): in every cel-go environment, so here too
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("event", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .build();
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  /** What the filter made of one event. */
  public enum Verdict {
    EXPORT,
    DROP,
    /** The expression failed for this event; it is exported. */
    EXPORT_ON_ERROR;

    public boolean exported() {
      return this != DROP;
    }
  }

  private final String expression;
  private final CelRuntime.Program program;
  private final Counter filtered;
  private final Counter errors;
  private final AtomicLong errorCount = new AtomicLong();

  private EventFilter(String expression, CelRuntime.Program program, MeterRegistry meters) {
    this.expression = expression;
    this.program = program;
    this.filtered =
        Counter.builder(ExporterMetric.EVENTS_FILTERED.meterName())
            .description("Events the filter expression dropped; they count as exported")
            .register(meters);
    this.errors =
        Counter.builder(ExporterMetric.FILTER_ERRORS.meterName())
            .description("Events the filter expression could not be evaluated for; exported")
            .register(meters);
  }

  /**
   * The filter of {@code expression}; blank exports everything.
   *
   * @throws IllegalArgumentException with {@link #problem}'s message when it does not compile
   */
  public static EventFilter compile(String expression, MeterRegistry meters) {
    String text = expression == null ? "" : expression.strip();
    if (text.isEmpty()) {
      return new EventFilter("", null, meters);
    }
    try {
      return new EventFilter(text, RUNTIME.createProgram(check(text)), meters);
    } catch (CelValidationException | CelEvaluationException e) {
      throw new IllegalArgumentException(message(text, firstLine(e.getMessage())), e);
    }
  }

  /**
   * Why {@code expression} cannot be a filter, as one line naming the key, the expression and the
   * form that works; empty when it can.
   */
  public static Optional<String> problem(String expression) {
    String text = expression == null ? "" : expression.strip();
    if (text.isEmpty()) {
      return Optional.empty();
    }
    try {
      RUNTIME.createProgram(check(text));
      return Optional.empty();
    } catch (CelValidationException | CelEvaluationException e) {
      return Optional.of(message(text, firstLine(e.getMessage())));
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
  }

  private static CelAbstractSyntaxTree check(String text) throws CelValidationException {
    CelValidationResult result = COMPILER.compile(text);
    CelAbstractSyntaxTree ast = result.getAst();
    if (!ast.getResultType().equals(SimpleType.BOOL)) {
      throw new IllegalArgumentException(
          message(
              text,
              "it yields "
                  + ast.getResultType().name()
                  + ", not a boolean (a bare field read is untyped: compare it)"));
    }
    return ast;
  }

  private static String message(String expression, String why) {
    return KEY
        + " '"
        + expression
        + "' cannot be used: "
        + why
        + "; write a boolean expression over event, e.g. event.isFatal == true,"
        + " '45' in event.errorCode or event.recommendedAction != 'NONE'";
  }

  private static String firstLine(String text) {
    String line = text == null ? "" : text.strip().lines().findFirst().orElse("");
    return line.replaceFirst("^ERROR: <input>:", "at ");
  }

  /** Whether an expression is set; without one every event is exported. */
  public boolean active() {
    return program != null;
  }

  public String expression() {
    return expression;
  }

  /** Decides for {@code event}, counting drops and errors. */
  public Verdict evaluate(HealthEvent event) {
    if (program == null) {
      return Verdict.EXPORT;
    }
    Object result;
    try {
      result = program.eval(Map.of("event", variables(event)));
    } catch (CelEvaluationException | RuntimeException e) {
      return failedOpen(event, e.getMessage());
    }
    if (result instanceof Boolean matched) {
      if (!matched) {
        filtered.increment();
        return Verdict.DROP;
      }
      return Verdict.EXPORT;
    }
    return failedOpen(event, "the expression yielded " + result + ", not a boolean");
  }

  private Verdict failedOpen(HealthEvent event, String why) {
    errors.increment();
    long count = errorCount.incrementAndGet();
    // the first error says what is wrong; a metric counts the rest, so a broken filter cannot flood
    // the log at 3 a.m.
    if (count == 1 || count % 1000 == 0) {
      log.warn(
          "{} failed for an event of {} on {} ({} so far), exporting it: {}",
          KEY,
          event.checkName(),
          event.nodeName(),
          count,
          firstLine(why));
    }
    return Verdict.EXPORT_ON_ERROR;
  }

  /** The fields an expression sees, named and typed as the replaced exporter binds them. */
  static Map<String, Object> variables(HealthEvent event) {
    Map<String, Object> fields = new HashMap<>(16);
    fields.put("agent", event.agent());
    fields.put("checkName", event.checkName());
    fields.put("componentClass", event.componentClass());
    fields.put("errorCode", event.errorCode());
    fields.put("isFatal", event.isFatal());
    fields.put("isHealthy", event.isHealthy());
    fields.put("recommendedAction", event.recommendedAction());
    fields.put("nodeName", event.nodeName());
    fields.put("metadata", event.metadata() == null ? Map.of() : event.metadata());
    fields.put("message", event.message());
    return fields;
  }
}
