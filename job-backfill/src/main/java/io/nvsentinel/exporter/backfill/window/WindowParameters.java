package io.nvsentinel.exporter.backfill.window;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;

/**
 * How a window is written into a job instance's identifying parameters and read back. The names are
 * stored in every job repository, so they never change: one window is one job instance, and the
 * same parameters resume it.
 */
public final class WindowParameters {

  static final String START = "windowStart";
  static final String END = "windowEnd";
  static final String MAX_EVENTS = "maxEvents";
  static final String GAP_WINDOW = "gapWindowId";
  static final String FORCED_AT = "forcedAt";

  private WindowParameters() {}

  /**
   * The parameters of a run of the window; a forced run ({@code forcedAt} not {@code null}) is a
   * new job instance, so a completed window can be exported again.
   */
  public static JobParameters of(BackfillWindow window, Instant forcedAt) {
    JobParametersBuilder builder =
        new JobParametersBuilder()
            .addString(START, window.start().toString())
            .addString(END, window.end().toString())
            .addLong(MAX_EVENTS, window.maxEvents());
    if (window.gapWindowId() != null) {
      builder.addString(GAP_WINDOW, window.gapWindowId());
    }
    if (forcedAt != null) {
      builder.addString(FORCED_AT, forcedAt.toString());
    }
    return builder.toJobParameters();
  }

  /** The window a job instance exports. */
  public static BackfillWindow window(JobParameters parameters) {
    return new BackfillWindow(
        Instant.parse(parameters.getString(START)),
        Instant.parse(parameters.getString(END)),
        parameters.getLong(MAX_EVENTS),
        parameters.getString(GAP_WINDOW));
  }

  /** The window of the running job, from its parameters as step-scoped beans receive them. */
  public static BackfillWindow window(Map<String, Object> parameters) {
    return new BackfillWindow(
        Instant.parse((String) parameters.get(START)),
        Instant.parse((String) parameters.get(END)),
        (Long) parameters.get(MAX_EVENTS),
        (String) parameters.get(GAP_WINDOW));
  }

  /** The pending window (gap or remainder) a job instance reruns, if it reruns one. */
  public static Optional<String> gapWindowId(JobParameters parameters) {
    return Optional.ofNullable(parameters.getString(GAP_WINDOW));
  }

  /** {@code [start, end)} as stored, readable even for a window that no longer validates. */
  public static String range(JobParameters parameters) {
    return "[" + parameters.getString(START) + ", " + parameters.getString(END) + ")";
  }
}
