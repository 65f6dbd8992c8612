package io.nvsentinel.exporter.store.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.util.Arrays;
import org.springframework.boot.ssl.pem.PemContent;

/**
 * The client certificate's key as the PostgreSQL JDBC driver can read it. The driver reads PKCS#8
 * keys only; cert-manager writes RSA keys as PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) unless told
 * otherwise, and so does Helm's {@code genPrivateKey}, and libpq (NVSentinel's Go components) reads
 * both. Such a key, or an EC key in its SEC1 form, is written again as PKCS#8 into a file of the
 * exporter's own, readable by it only, and written anew whenever the mounted key changes, so a
 * rotated certificate applies to the next connection. A PKCS#8 key is handed over as it is.
 */
final class PostgresClientKey {

  private final Path mounted;
  private final Path converted;
  private byte[] convertedFrom;

  private PostgresClientKey(Path mounted, Path converted) {
    this.mounted = mounted;
    this.converted = converted;
  }

  /** For the key at {@code mounted}; the converted copy goes under {@code workDirectory}. */
  static PostgresClientKey of(Path mounted, Path workDirectory) {
    return new PostgresClientKey(mounted, workDirectory.resolve("postgresql-client-key.pk8"));
  }

  /** For the key at {@code mounted}, its converted copy in a new private temporary directory. */
  static PostgresClientKey of(Path mounted) {
    try {
      return of(
          mounted,
          Files.createTempDirectory(
              "event-exporter-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a directory for the PostgreSQL client key", e);
    }
  }

  /**
   * The file to give the driver, current with the mounted key.
   *
   * @throws IllegalStateException when the mounted key is PKCS#1 or SEC1 but cannot be read
   */
  synchronized Path current() {
    byte[] pem;
    try {
      pem = Files.readAllBytes(mounted);
    } catch (IOException unreadable) {
      return mounted; // the driver says what is wrong with it
    }
    String text = new String(pem, StandardCharsets.US_ASCII);
    if (!text.contains("-----BEGIN RSA PRIVATE KEY-----")
        && !text.contains("-----BEGIN EC PRIVATE KEY-----")) {
      return mounted;
    }
    if (!Arrays.equals(pem, convertedFrom)) {
      write(PemContent.of(text).getPrivateKey());
      convertedFrom = pem;
    }
    return converted;
  }

  private void write(PrivateKey key) {
    if (key == null) {
      throw new IllegalStateException(
          "exporter.datastore.postgresql.sslkey " + mounted + " holds no private key");
    }
    try {
      Path next = Files.createTempFile(converted.getParent(), "key", ".pk8");
      Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rw-------"));
      Files.write(next, key.getEncoded());
      Files.move(
          next, converted, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the PKCS#8 form of exporter.datastore.postgresql.sslkey " + mounted, e);
    }
  }
}
