package io.nvsentinel.exporter.delivery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** A self-signed certificate for 127.0.0.1 and localhost, made with the JDK's keytool. */
public record SelfSignedCertificate(Path keystore, String password, Path pem) {

  public static SelfSignedCertificate create(Path dir) throws IOException, InterruptedException {
    Path keystore = dir.resolve("sink.p12");
    Path pem = dir.resolve("sink-ca.pem");
    String password = "changeit";
    keytool(
        "-genkeypair",
        "-alias",
        "sink",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-dname",
        "CN=localhost",
        "-ext",
        "SAN=dns:localhost,ip:127.0.0.1",
        "-storetype",
        "PKCS12",
        "-keystore",
        keystore.toString(),
        "-storepass",
        password,
        "-keypass",
        password);
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "sink",
        "-keystore",
        keystore.toString(),
        "-storepass",
        password,
        "-file",
        pem.toString());
    return new SelfSignedCertificate(keystore, password, pem);
  }

  /** The key pair and certificate, as loaded from the keystore. */
  public KeyStore.PrivateKeyEntry entry() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(keystore)) {
      store.load(in, password.toCharArray());
    }
    return (KeyStore.PrivateKeyEntry)
        store.getEntry("sink", new KeyStore.PasswordProtection(password.toCharArray()));
  }

  /** Writes the private key as an unencrypted PKCS#8 PEM file. */
  public Path writeKeyPem(Path file) throws Exception {
    String base64 =
        Base64.getMimeEncoder(64, "\n".getBytes())
            .encodeToString(entry().getPrivateKey().getEncoded());
    return Files.writeString(
        file, "-----BEGIN PRIVATE KEY-----\n" + base64 + "\n-----END PRIVATE KEY-----\n");
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IOException("keytool failed: " + output);
    }
    if (!Files.exists(Path.of(args[args.length - 1])) && args[0].equals("-exportcert")) {
      throw new IOException("keytool wrote no certificate: " + output);
    }
  }
}
