package io.nvsentinel.exporter.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The JDK's keytool, for the certificates of tests and the local stack; and PEM text. */
public final class Keytool {

  private Keytool() {}

  /** Runs keytool with {@code args}; fails with its output when it fails. */
  public static void run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException("keytool " + args[0] + " failed: " + output);
    }
  }

  /** Runs {@code command} on {@code alias} of the key store {@code store}, then {@code more}. */
  public static void onStore(
      String command, Path store, String password, String alias, String... more)
      throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                command, "-alias", alias, "-keystore", store.toString(), "-storepass", password));
    args.addAll(List.of(more));
    run(args.toArray(String[]::new));
  }

  /**
   * A 2048-bit RSA key pair under {@code alias} in the PKCS#12 store {@code store}, with a
   * certificate for {@code subject} valid two days, signed by itself; {@code more} adds options
   * such as {@code -ext}.
   */
  public static void genkeypair(
      Path store, String password, String alias, String subject, String... more)
      throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                subject,
                "-storetype",
                "PKCS12",
                "-keypass",
                password));
    args.addAll(List.of(more));
    onStore("-genkeypair", store, password, alias, args.toArray(String[]::new));
  }

  /** {@code der} as PEM text of {@code type} ({@code PRIVATE KEY}, {@code RSA PRIVATE KEY}, …). */
  public static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
