package io.nvsentinel.exporter.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Arrays;
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
    Keytool.genkeypair(ca, PASSWORD, "ca", "CN=nvsentinel-test-ca", "-ext", "bc:c");
    Keytool.onStore(
        "-exportcert", ca, PASSWORD, "ca", "-rfc", "-file", tls.caCertificate().toString());
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

  /**
   * The client directory again, with the key as cert-manager writes an RSA key by default: PKCS#1
   * PEM ({@code BEGIN RSA PRIVATE KEY}).
   */
  public Path clientDirectoryWithPkcs1Key() throws IOException {
    Path pkcs1 = directory.resolve("client-certs-pkcs1");
    Files.createDirectories(pkcs1);
    for (String file : List.of("ca.crt", "tls.crt")) {
      Files.copy(
          clientDirectory().resolve(file),
          pkcs1.resolve(file),
          StandardCopyOption.REPLACE_EXISTING);
    }
    String pkcs8 =
        Files.readString(clientDirectory().resolve("tls.key"), StandardCharsets.US_ASCII);
    byte[] der =
        Base64.getMimeDecoder()
            .decode(
                pkcs8
                    .replace("-----BEGIN PRIVATE KEY-----", "")
                    .replace("-----END PRIVATE KEY-----", ""));
    Path key = pkcs1.resolve("tls.key");
    Files.writeString(key, pkcs1Pem(der), StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    return pkcs1;
  }

  /** An RSA key given as PKCS#8 DER, written as PKCS#1 PEM ({@code BEGIN RSA PRIVATE KEY}). */
  public static String pkcs1Pem(byte[] pkcs8) {
    return Keytool.pem("RSA PRIVATE KEY", pkcs1(pkcs8));
  }

  /**
   * The RSA key inside a PKCS#8 {@code PrivateKeyInfo}: {@code SEQUENCE { INTEGER version, SEQUENCE
   * algorithm, OCTET STRING key }}, the key being the PKCS#1 {@code RSAPrivateKey}.
   */
  private static byte[] pkcs1(byte[] pkcs8) {
    int[] at = {0};
    element(pkcs8, at, 0x30, false); // into the PrivateKeyInfo
    element(pkcs8, at, 0x02, true); // over the version
    element(pkcs8, at, 0x30, true); // over the algorithm
    int length = element(pkcs8, at, 0x04, false);
    return Arrays.copyOfRange(pkcs8, at[0], at[0] + length);
  }

  /** Reads a DER tag and length at {@code at}; moves past the value too when {@code skip}. */
  private static int element(byte[] der, int[] at, int tag, boolean skip) {
    if ((der[at[0]++] & 0xff) != tag) {
      throw new IllegalArgumentException("not a PKCS#8 key: expected tag " + tag);
    }
    int length = der[at[0]++] & 0xff;
    if (length > 0x80) {
      int bytes = length - 0x80;
      length = 0;
      for (int i = 0; i < bytes; i++) {
        length = (length << 8) | (der[at[0]++] & 0xff);
      }
    }
    if (skip) {
      at[0] += length;
    }
    return length;
  }

  private void issue(Path ca, String name, String subject, String san, String usage)
      throws IOException, InterruptedException {
    Path store = directory.resolve(name + ".p12");
    Path request = directory.resolve(name + ".csr");
    Path certificate = directory.resolve(name + ".crt");
    Keytool.genkeypair(store, PASSWORD, name, subject);
    Keytool.onStore("-certreq", store, PASSWORD, name, "-file", request.toString());
    List<String> sign =
        new ArrayList<>(
            List.of(
                "-rfc",
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
    Keytool.onStore("-gencert", ca, PASSWORD, "ca", sign.toArray(String[]::new));
    writeKey(store, name, directory.resolve(name + ".key"));
  }

  /** The private key as unencrypted PKCS#8 PEM, readable by its owner only, as libpq demands. */
  private static void writeKey(Path store, String alias, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(store)) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(in, PASSWORD.toCharArray());
      byte[] key = keys.getKey(alias, PASSWORD.toCharArray()).getEncoded();
      Files.writeString(file, Keytool.pem("PRIVATE KEY", key), StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot read the key of " + alias + " from " + store, e);
    }
  }
}
