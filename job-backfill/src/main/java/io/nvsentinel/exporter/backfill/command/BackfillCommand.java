package io.nvsentinel.exporter.backfill.command;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The commands of the job's command line, as they are typed. */
enum BackfillCommand {
  /** The default: the planned windows (see {@code RunPlanner}). */
  RUN("run"),
  /** Every window with its status, unfinished first. */
  LIST("list"),
  /** Resume every failed, stopped or abandoned window. */
  RERUN_FAILED("rerun-failed"),
  /** Send dead letters again ({@code --limit=N}, 10,000 by default). */
  REDRIVE_DEAD_LETTERS("redrive-dead-letters");

  static final String OPTIONS =
      "[--window-start=ISO-8601] [--window-end=ISO-8601] [--force] [--limit=N]";

  private final String word;

  BackfillCommand(String word) {
    this.word = word;
  }

  static Optional<BackfillCommand> named(String word) {
    return Arrays.stream(values()).filter(c -> c.word.equals(word)).findFirst();
  }

  static String usage() {
    return "usage: backfill ["
        + Arrays.stream(values()).map(c -> c.word).collect(Collectors.joining("|"))
        + "] "
        + OPTIONS;
  }

  @Override
  public String toString() {
    return word;
  }
}
