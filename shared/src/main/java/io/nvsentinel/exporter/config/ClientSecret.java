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

  private ClientSecret(String value, String origin) {
    this.value = value;
    this.origin = origin;
  }

  /** Resolves the secret; the file is read on each call so a rotated secret is picked up. */
  public static ClientSecret resolve(ExporterProperties.Oidc oidc, Function<String, String> env) {
    String envName = oidc.clientSecretEnv();
    if (envName != null && !envName.isBlank()) {
      String fromEnv = env.apply(envName);
      if (fromEnv != null && !fromEnv.isBlank()) {
        return new ClientSecret(fromEnv.strip(), "environment variable " + envName);
      }
    }
    Path file = oidc.clientSecretFile();
    try {
      return new ClientSecret(
          Files.readString(file, StandardCharsets.UTF_8).strip(), "file " + file);
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

  /** Where the secret came from, for logs. */
  public String origin() {
    return origin;
  }

  @Override
  public String toString() {
    return "ClientSecret[from " + origin + ", value hidden]";
  }
}
