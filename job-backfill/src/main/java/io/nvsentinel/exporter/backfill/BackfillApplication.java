package io.nvsentinel.exporter.backfill;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The backfill job: exports the stored history of health events over a time window. */
@SpringBootApplication
public class BackfillApplication {

  public static void main(String[] args) {
    System.exit(SpringApplication.exit(SpringApplication.run(BackfillApplication.class, args)));
  }
}
