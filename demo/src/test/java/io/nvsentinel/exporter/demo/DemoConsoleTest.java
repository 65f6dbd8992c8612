package io.nvsentinel.exporter.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class DemoConsoleTest {

  @TempDir Path dir;

  @Test
  void theTerminalShowsOnlyTheDemosLinesAndTheFileGetsEverythingElse() throws Exception {
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream terminal = new ByteArrayOutputStream();
    System.setOut(new PrintStream(terminal, true, StandardCharsets.UTF_8));
    Path log = dir.resolve("demo.log");
    try (DemoConsole console = DemoConsole.divertTo(log)) {
      console.terminal().println("[demo] stack up");
      System.out.println("an embedded server's chatter");
      System.err.println("a stack trace");
      LoggerFactory.getLogger("org.mongodb.driver.client").warn("a driver settings dump");
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }

    assertThat(terminal.toString(StandardCharsets.UTF_8)).isEqualTo("[demo] stack up\n");
    assertThat(Files.readString(log))
        .contains("an embedded server's chatter")
        .contains("a stack trace")
        .contains("a driver settings dump")
        .doesNotContain("[demo] stack up");
  }

  @Test
  void verboseLeavesTheStreamsAlone() {
    PrintStream before = System.out;
    try (DemoConsole console = DemoConsole.verbose()) {
      assertThat(System.out).isSameAs(before);
      assertThat(console.terminal()).isSameAs(before);
      assertThat(console.logFile()).isNull();
    }
    assertThat(System.out).isSameAs(before);
  }
}
