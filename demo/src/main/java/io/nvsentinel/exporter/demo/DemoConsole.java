package io.nvsentinel.exporter.demo;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Keeps the terminal for the demo's own lines. Everything else the process prints — the
 * applications' logs, the embedded servers' chatter, stack traces — goes to a log file, unless the
 * demo runs with {@code --verbose}. Logback's console appender writes to whatever {@code
 * System.out} is at the time, so diverting the stream diverts the logs too, before and after each
 * Spring application configures its logging.
 */
final class DemoConsole implements AutoCloseable {

  private final PrintStream terminal;
  private final PrintStream diverted;
  private final Path logFile;

  private DemoConsole(PrintStream terminal, PrintStream diverted, Path logFile) {
    this.terminal = terminal;
    this.diverted = diverted;
    this.logFile = logFile;
  }

  /** Leaves the streams as they are: the applications' output stays on the terminal. */
  static DemoConsole verbose() {
    return new DemoConsole(System.out, null, null);
  }

  /** Sends {@code System.out} and {@code System.err} to the file (appending). */
  static DemoConsole divertTo(Path logFile) throws IOException {
    PrintStream terminal = System.out;
    PrintStream file =
        new PrintStream(new FileOutputStream(logFile.toFile(), true), true, StandardCharsets.UTF_8);
    System.setOut(file);
    System.setErr(file);
    return new DemoConsole(terminal, file, logFile);
  }

  /** Where the demo's own lines go. */
  PrintStream terminal() {
    return terminal;
  }

  /** The file holding the applications' output, or {@code null} when it stays on the terminal. */
  Path logFile() {
    return logFile;
  }

  @Override
  public void close() {
    if (diverted != null) {
      System.setOut(terminal);
      System.setErr(terminal);
      diverted.close();
    }
  }
}
