package io.nvsentinel.exporter.sink;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for one outbound endpoint: verified against the JVM trust store plus an optional CA bundle,
 * or — only when an operator asks for it — not verified at all, and then said loudly.
 */
final class TlsContexts {

  private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

  private TlsContexts() {}

  /**
   * @param what the key prefix the settings came from, e.g. {@code exporter.sink}
   * @param url the endpoint, for the warning
   */
  static SSLContext forEndpoint(String what, String url, boolean insecureSkipVerify, Path caFile) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      if (insecureSkipVerify) {
        log.warn(
            "TLS verification for {} is DISABLED ({}.insecureSkipVerify=true): the certificate and"
                + " host name of {} are not checked, so anyone on the network path can read or"
                + " forge this traffic. Use only for testing.",
            url,
            what,
            url);
        context.init(null, new TrustManager[] {new TrustingEverything()}, null);
      } else {
        context.init(null, trustManagers(caFile), null);
      }
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(
          "cannot set up TLS for " + what + " (" + url + "): " + e.getMessage(), e);
    }
  }

  private static TrustManager[] trustManagers(Path caFile)
      throws GeneralSecurityException, IOException {
    TrustManagerFactory jvm =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    jvm.init((KeyStore) null);
    if (caFile == null) {
      return jvm.getTrustManagers();
    }
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    int n = 0;
    for (TrustManager manager : jvm.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        for (X509Certificate issuer : x509.getAcceptedIssuers()) {
          store.setCertificateEntry("jvm-" + n++, issuer);
        }
      }
    }
    try (InputStream in = Files.newInputStream(caFile)) {
      for (Certificate certificate :
          CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-file-" + n++, certificate);
      }
    }
    TrustManagerFactory combined =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    combined.init(store);
    return combined.getTrustManagers();
  }

  /** Accepts every certificate and, being an extended manager, skips host-name checks too. */
  private static final class TrustingEverything extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
