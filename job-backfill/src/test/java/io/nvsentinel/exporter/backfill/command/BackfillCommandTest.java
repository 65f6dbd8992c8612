package io.nvsentinel.exporter.backfill.command;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BackfillCommandTest {

  @Test
  void everyCommandIsFoundByTheWordAnOperatorTypes() {
    assertThat(BackfillCommand.named("run")).contains(BackfillCommand.RUN);
    assertThat(BackfillCommand.named("list")).contains(BackfillCommand.LIST);
    assertThat(BackfillCommand.named("rerun-failed")).contains(BackfillCommand.RERUN_FAILED);
    assertThat(BackfillCommand.named("redrive-dead-letters"))
        .contains(BackfillCommand.REDRIVE_DEAD_LETTERS);
    assertThat(BackfillCommand.named("RUN")).isEmpty();
    assertThat(BackfillCommand.named("rerun_failed")).isEmpty();
  }

  @Test
  void theUsageNamesEveryCommand() {
    assertThat(BackfillCommand.usage())
        .startsWith("usage: backfill [run|list|rerun-failed|redrive-dead-letters] ")
        .contains("--window-start=ISO-8601");
  }
}
