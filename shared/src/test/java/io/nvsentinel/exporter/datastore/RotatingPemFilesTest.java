package io.nvsentinel.exporter.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.delivery.SelfSignedCertificate;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NVSentinel rotates the datastore client certificate in place; new connections present the new one
 * without a restart. Checked with real TLS handshakes against a server that requires a client
 * certificate and reports the one it got.
 */
class RotatingPemFilesTest {

  @TempDir Path dir;
  SelfSignedCertificate first;
  SelfSignedCertificate second;
  Path mount;
  SSLServerSocket server;
  final BlockingQueue<Certificate> presented = new LinkedBlockingQueue<>();

  @BeforeEach
  void start() throws Exception {
    first = SelfSignedCertificate.create(Files.createDirectories(dir.resolve("first")));
    second = SelfSignedCertificate.create(Files.createDirectories(dir.resolve("second")));
    mount = Files.createDirectories(dir.resolve("mongo-client"));
    install(first, Instant.now().minusSeconds(60));

    KeyStore identity = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(first.keystore())) {
      identity.load(in, first.password().toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(identity, first.password().toCharArray());
    KeyStore clients = KeyStore.getInstance("PKCS12");
    clients.load(null, null);
    clients.setCertificateEntry("first", certificate(first));
    clients.setCertificateEntry("second", certificate(second));
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(clients);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
    server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0);
    server.setNeedClientAuth(true);
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try (SSLSocket socket = (SSLSocket) server.accept()) {
                  socket.startHandshake();
                  presented.add(socket.getSession().getPeerCertificates()[0]);
                } catch (Exception e) {
                  // a refused handshake or the server closing
                }
              }
            });
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  void install(SelfSignedCertificate certificate, Instant modified) throws Exception {
    Path cert = mount.resolve("tls.crt");
    Path key = mount.resolve("tls.key");
    Files.copy(certificate.pem(), cert, StandardCopyOption.REPLACE_EXISTING);
    certificate.writeKeyPem(dir.resolve("key.tmp"));
    Files.move(dir.resolve("key.tmp"), key, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(cert, FileTime.from(modified));
    Files.setLastModifiedTime(key, FileTime.from(modified));
  }

  static Certificate certificate(SelfSignedCertificate c) throws Exception {
    try (InputStream in = Files.newInputStream(c.pem())) {
      return CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  Certificate connect(SSLContext client) throws Exception {
    try (SSLSocket socket =
        (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", server.getLocalPort())) {
      socket.startHandshake();
    }
    return presented.poll(10, TimeUnit.SECONDS);
  }

  @Test
  void aRotatedClientCertificateIsPresentedByTheNextConnection() throws Exception {
    SSLContext client =
        new RotatingPemFiles(first.pem(), mount.resolve("tls.crt"), mount.resolve("tls.key"))
            .sslContext();
    assertThat(connect(client)).isEqualTo(certificate(first));

    install(second, Instant.now());

    assertThat(connect(client)).isEqualTo(certificate(second));
  }

  @Test
  void aRotationCaughtHalfWayKeepsTheLastGoodCertificate() throws Exception {
    SSLContext client =
        new RotatingPemFiles(first.pem(), mount.resolve("tls.crt"), mount.resolve("tls.key"))
            .sslContext();
    assertThat(connect(client)).isEqualTo(certificate(first));

    // the new certificate is there, its key not yet
    Files.writeString(mount.resolve("tls.key"), "not a key yet");
    Files.setLastModifiedTime(mount.resolve("tls.key"), FileTime.from(Instant.now()));

    assertThat(connect(client)).isEqualTo(certificate(first));
  }
}
