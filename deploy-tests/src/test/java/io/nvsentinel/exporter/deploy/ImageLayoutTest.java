package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the images run, run here without a container engine: {@code image/prepare.sh} extracts the
 * live exporter's jar and trains the JVM's cache exactly as the Dockerfile does, and {@code
 * image/run.sh}, the images' entry point, starts it with {@code image/jvm.options} and the cache
 * until it is ready against a datastore. The cache is required to load, so a training run that
 * produced an archive the JVM would silently refuse fails here.
 */
class ImageLayoutTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void thePreparedApplicationStartsFromItsTrainedCacheWithTheImagesOptions(@TempDir Path dir)
      throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path app = dir.resolve("app");
    Process prepare =
        new ProcessBuilder(
                "bash",
                ROOT.resolve("image/prepare.sh").toString(),
                execJar("function-live").toString(),
                app.toString(),
                java.toString())
            .redirectErrorStream(true)
            .start();
    String prepared = new String(prepare.getInputStream().readAllBytes());
    assertThat(prepare.waitFor()).as(prepared).isZero();
    boolean aot = Runtime.version().feature() >= 25;
    Path cache = app.resolve(aot ? "app.aot" : "app.jsa");
    assertThat(cache).isNotEmptyFile();
    assertThat(app.resolve("app.jar")).isRegularFile();
    try (Stream<Path> libs = Files.list(app.resolve("lib"))) {
      assertThat(libs.map(p -> p.getFileName().toString()))
          .anyMatch(name -> name.startsWith("spring-boot-4"))
          .anyMatch(name -> name.startsWith("shared-"))
          .as("the live pod runs no web server")
          .noneMatch(name -> name.startsWith("tomcat-embed-core"));
    }
    Path secret = Files.writeString(dir.resolve("secret"), "s3cr3t");
    int port = freePort();
    try (EmbeddedMongo mongo = EmbeddedMongo.start()) {
      ProcessBuilder run =
          new ProcessBuilder(
                  List.of(
                      app.resolve("run.sh").toString(),
                      "--exporter.live.metricsPort=" + port,
                      "--exporter.metadata.cluster=image-test",
                      "--exporter.sink.endpoint=http://127.0.0.1:9/events",
                      "--exporter.oidc.tokenUrl=http://127.0.0.1:9/token",
                      "--exporter.oidc.clientId=image-test",
                      "--exporter.oidc.scope=events:write",
                      "--exporter.oidc.clientSecretFile=" + secret,
                      "--exporter.datastore.uri=" + mongo.connectionString()))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("run.log").toFile());
      run.environment().put("JAVA", java.toString());
      // the cache must be used, not merely be there: refuse to start without it
      run.environment().put("JAVA_OPTS", aot ? "-XX:AOTMode=on" : "-Xshare:on");
      Process exporter = run.start();
      try {
        assertThat(awaitReady(exporter, port)).as(() -> log(dir.resolve("run.log"))).isTrue();
        assertThat(log(dir.resolve("run.log")))
            .doesNotContain("Unable to use shared archive")
            .doesNotContain("Unable to map");
      } finally {
        exporter.destroy();
        exporter.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void theDockerfileRunsThoseStepsAndTheJvmEndsOnOutOfMemory() throws IOException {
    String dockerfile = Files.readString(ROOT.resolve("image/Dockerfile"));
    assertThat(dockerfile)
        .contains("RUN ./prepare.sh --train /app java")
        .contains("COPY image/prepare.sh image/run.sh image/jvm.options ./")
        .contains("USER 10001:10001");
    assertThat(dockerfile.lines().filter(line -> line.startsWith("ENTRYPOINT")))
        .containsExactly("ENTRYPOINT [\"/app/run.sh\"]");
    assertThat(Files.readAllLines(ROOT.resolve("image/jvm.options")))
        .contains("-XX:+ExitOnOutOfMemoryError");
  }

  private static boolean awaitReady(Process exporter, int port) {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest readyz =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(2))
            .build();
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptionsInstanceOf(IOException.class)
        .until(
            () ->
                !exporter.isAlive()
                    || http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode()
                        == 200);
    return exporter.isAlive();
  }

  private static Path execJar(String module) throws IOException {
    try (Stream<Path> files = Files.list(ROOT.resolve(module).resolve("target"))) {
      return files
          .filter(p -> p.getFileName().toString().endsWith("-exec.jar"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("build " + module + " first"));
    }
  }

  private static String log(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
