package io.nvsentinel.exporter.delivery;

import io.nvsentinel.exporter.devstack.Keytool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;

/** A self-signed certificate for 127.0.0.1 and localhost, made with the JDK's keytool. */
public record SelfSignedCertificate(Path keystore, String password, Path pem) {

  public static SelfSignedCertificate create(Path dir) throws IOException, InterruptedException {
    Path keystore = dir.resolve("sink.p12");
    Path pem = dir.resolve("sink-ca.pem");
    String password = "changeit";
    Keytool.genkeypair(
        keystore, password, "sink", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1");
    Keytool.onStore("-exportcert", keystore, password, "sink", "-rfc", "-file", pem.toString());
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
    return Files.writeString(
        file, Keytool.pem("PRIVATE KEY", entry().getPrivateKey().getEncoded()));
  }
}
