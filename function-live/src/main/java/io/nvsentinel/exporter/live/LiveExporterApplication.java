package io.nvsentinel.exporter.live;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The live exporter: health-event changes in, CloudEvents delivered out. */
@SpringBootApplication
public class LiveExporterApplication {

  public static void main(String[] args) {
    SpringApplication.run(LiveExporterApplication.class, args);
  }
}
