package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class CommitWindowTest {

  @Test
  void theCommittedPositionNeverMovesBackwardsWhenWorkersFinishAtOnce() throws Exception {
    int events = 20_000;
    CommitWindow<Long> window = new CommitWindow<>(events);
    List<Long> sequences = new ArrayList<>();
    for (long i = 0; i < events; i++) {
      sequences.add(window.register(i, 0));
    }
    Collections.shuffle(sequences);
    AtomicBoolean backwards = new AtomicBoolean();
    AtomicBoolean done = new AtomicBoolean();
    Thread observer =
        new Thread(
            () -> {
              long seen = -1;
              while (!done.get()) {
                Long now = window.committed();
                if (now != null) {
                  if (now < seen) {
                    backwards.set(true);
                  }
                  seen = now;
                }
              }
            });
    observer.start();
    ExecutorService workers = Executors.newFixedThreadPool(8);
    for (long sequence : sequences) {
      workers.execute(() -> window.finish(sequence));
    }
    workers.shutdown();
    assertThat(workers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    done.set(true);
    observer.join();

    assertThat(backwards).isFalse();
    assertThat(window.committed()).isEqualTo(events - 1L);
    assertThat(window.inFlight()).isZero();
  }
}
