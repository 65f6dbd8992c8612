package io.nvsentinel.exporter.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * The OIDC client secret, read from the environment variable named by {@code
 * exporter.oidc.clientSecretEnv} when set, else from the mounted file. Its {@code toString} never
 * reveals the value.
 */
public final class ClientSecret {

  private final String value;
  private final String origin;
  private final Path file;

  private ClientSecret(String value, String origin, Path file) {
    this.value = value;
    this.origin = origin;
    this.file = file;
  }

  /**
   * Resolves the secret at start-up; {@link #reread()} picks up a rotated one later.
   *
   * @throws IllegalStateException when no secret can be read
   */
  public static ClientSecret resolve(ExporterProperties.Oidc oidc, Function<String, String> env) {
    String envName = oidc.clientSecretEnv();
    if (envName != null && !envName.isBlank()) {
      String fromEnv = env.apply(envName);
      if (fromEnv != null && !fromEnv.isBlank()) {
        return new ClientSecret(fromEnv.strip(), "environment variable " + envName, null);
      }
    }
    Path file = oidc.clientSecretFile();
    try {
      return new ClientSecret(
          Files.readString(file, StandardCharsets.UTF_8).strip(), "file " + file, file);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot read the OIDC client secret from '" + file + "': " + problemReading(file), e);
    }
  }

  /** Why {@code file} cannot serve as a secret, or {@code null} when it can. */
  static String problemReading(Path file) {
    if (file == null) {
      return "no file configured";
    }
    if (!Files.exists(file)) {
      return "no such file";
    }
    if (!Files.isRegularFile(file)) {
      return "not a regular file";
    }
    if (!Files.isReadable(file)) {
      return "permission denied";
    }
    try {
      if (Files.readString(file, StandardCharsets.UTF_8).isBlank()) {
        return "the file is empty";
      }
    } catch (IOException e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    return null;
  }

  public String value() {
    return value;
  }

  /**
   * The secret as its source holds it now: the file is read again (Kubernetes replaces a mounted
   * secret in place when it is rotated). While the file is missing or empty — mid-rotation, say —
   * the secret stays what it was. An environment variable cannot change, so it is returned as is.
   */
  public ClientSecret reread() {
    if (file == null) {
      return this;
    }
    try {
      String now = Files.readString(file, StandardCharsets.UTF_8).strip();
      return now.isEmpty() || now.equals(value) ? this : new ClientSecret(now, origin, file);
    } catch (IOException | RuntimeException e) {
      return this;
    }
  }

  /** Where the secret came from, for logs. */
  public String origin() {
    return origin;
  }

  @Override
  public String toString() {
    return "ClientSecret[from " + origin + ", value hidden]";
  }
}
