package io.nvsentinel.exporter.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nvsentinel.exporter.devstack.PostgresTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostgresClientKeyTest {

  @TempDir Path dir;

  static byte[] newRsaKey() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair().getPrivate().getEncoded();
  }

  @Test
  void aPkcs8KeyIsHandedOverAsItIs() throws Exception {
    Path mounted = dir.resolve("tls.key");
    Files.writeString(mounted, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    assertThat(PostgresClientKey.of(mounted, dir).current()).isEqualTo(mounted);
  }

  @Test
  void aPkcs1KeyIsGivenToTheDriverAsPkcs8ReadableByItsOwnerOnlyAndFollowsARotation()
      throws Exception {
    Path mounted = dir.resolve("tls.key");
    byte[] first = newRsaKey();
    Files.writeString(mounted, PostgresTls.pkcs1Pem(first));
    Path work = Files.createDirectories(dir.resolve("work"));
    PostgresClientKey key = PostgresClientKey.of(mounted, work);

    Path given = key.current();
    assertThat(given).isNotEqualTo(mounted).startsWith(work);
    assertThat(Files.getPosixFilePermissions(given))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.readAllBytes(given)).isEqualTo(first);

    byte[] rotated = newRsaKey();
    Files.writeString(mounted, PostgresTls.pkcs1Pem(rotated));
    assertThat(Files.readAllBytes(key.current()))
        .as("the rotated key, for the next connection")
        .isEqualTo(rotated);
  }

  @Test
  void aPkcs1FileWithoutAKeyIsRefused() throws Exception {
    Path mounted = dir.resolve("broken.key");
    Files.writeString(
        mounted, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(() -> PostgresClientKey.of(mounted, dir).current())
        .isInstanceOf(IllegalStateException.class);
  }
}
