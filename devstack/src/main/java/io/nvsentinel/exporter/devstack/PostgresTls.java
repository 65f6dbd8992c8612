package io.nvsentinel.exporter.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A certificate authority, a server certificate for localhost and a client certificate for the
 * PostgreSQL user, made with the JDK's keytool, laid out as NVSentinel mounts its client
 * certificate Secret: {@code ca.crt}, {@code tls.crt} and {@code tls.key} (PKCS#8 PEM, readable by
 * its owner only) in {@link #clientDirectory()}.
 */
public record PostgresTls(Path directory) {

  private static final String PASSWORD = "changeit";

  /** Makes the files under {@code directory}. */
  public static PostgresTls create(Path directory, String clientUser)
      throws IOException, InterruptedException {
    PostgresTls tls = new PostgresTls(directory);
    Files.createDirectories(tls.clientDirectory());
    Path ca = directory.resolve("ca.p12");
    genkeypair(ca, "ca", "CN=nvsentinel-test-ca", "-ext", "bc:c");
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "ca",
        "-keystore",
        ca.toString(),
        "-storepass",
        PASSWORD,
        "-file",
        tls.caCertificate().toString());
    tls.issue(ca, "server", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1", "serverAuth");
    tls.issue(ca, "client", "CN=" + clientUser, null, "clientAuth");
    Files.copy(tls.caCertificate(), tls.clientDirectory().resolve("ca.crt"));
    Files.move(directory.resolve("client.crt"), tls.clientDirectory().resolve("tls.crt"));
    Files.move(directory.resolve("client.key"), tls.clientDirectory().resolve("tls.key"));
    return tls;
  }

  public Path caCertificate() {
    return directory.resolve("ca.crt");
  }

  public Path serverCertificate() {
    return directory.resolve("server.crt");
  }

  public Path serverKey() {
    return directory.resolve("server.key");
  }

  /** What NVSentinel mounts at {@code POSTGRESQL_CLIENT_CERT_MOUNT_PATH}. */
  public Path clientDirectory() {
    return directory.resolve("client-certs");
  }

  private void issue(Path ca, String name, String subject, String san, String usage)
      throws IOException, InterruptedException {
    Path store = directory.resolve(name + ".p12");
    Path request = directory.resolve(name + ".csr");
    Path certificate = directory.resolve(name + ".crt");
    genkeypair(store, name, subject);
    keytool(
        "-certreq",
        "-alias",
        name,
        "-keystore",
        store.toString(),
        "-storepass",
        PASSWORD,
        "-file",
        request.toString());
    List<String> sign =
        new ArrayList<>(
            List.of(
                "-gencert",
                "-rfc",
                "-alias",
                "ca",
                "-keystore",
                ca.toString(),
                "-storepass",
                PASSWORD,
                "-validity",
                "2",
                "-infile",
                request.toString(),
                "-outfile",
                certificate.toString(),
                "-ext",
                "EKU=" + usage));
    if (san != null) {
      sign.addAll(List.of("-ext", san));
    }
    keytool(sign.toArray(String[]::new));
    writeKey(store, name, directory.resolve(name + ".key"));
  }

  private static void genkeypair(Path store, String alias, String subject, String... more)
      throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-genkeypair",
                "-alias",
                alias,
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
                "-keystore",
                store.toString(),
                "-storepass",
                PASSWORD,
                "-keypass",
                PASSWORD));
    args.addAll(List.of(more));
    keytool(args.toArray(String[]::new));
  }

  /** The private key as unencrypted PKCS#8 PEM, readable by its owner only, as libpq demands. */
  private static void writeKey(Path store, String alias, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(store)) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(in, PASSWORD.toCharArray());
      byte[] key = keys.getKey(alias, PASSWORD.toCharArray()).getEncoded();
      String pem =
          "-----BEGIN PRIVATE KEY-----\n"
              + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                  .encodeToString(key)
              + "\n-----END PRIVATE KEY-----\n";
      Files.writeString(file, pem, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot read the key of " + alias + " from " + store, e);
    }
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException("keytool " + args[0] + " failed: " + output);
    }
  }
}
