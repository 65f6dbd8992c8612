package io.nvsentinel.exporter.datastore;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;

/**
 * TLS material from PEM files that NVSentinel rotates in place (its certificate Secret is updated
 * and the kubelet swaps the mounted files): the CA and the client certificate and key are read
 * again when a file's modification time changes, checked at each new connection's handshake. A set
 * of files that cannot be read (a rotation half done) keeps the last good material and is tried
 * again at the next handshake. Connections already open keep what they were opened with.
 */
public final class RotatingPemFiles {

  private static final Logger log = LoggerFactory.getLogger(RotatingPemFiles.class);

  private final Path ca;
  private final Path cert;
  private final Path key;
  private List<Long> stamps;
  private X509KeyManager keys;
  private X509TrustManager trust;

  public RotatingPemFiles(Path ca, Path cert, Path key) {
    this.ca = ca;
    this.cert = cert;
    this.key = key;
    this.stamps = stamps();
    load();
  }

  /** An SSL context whose handshakes use the files' current contents. */
  public SSLContext sslContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          cert == null ? null : new KeyManager[] {new Keys()},
          ca == null ? null : new TrustManager[] {new Trust()},
          null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot set up TLS to the datastore: " + e.getMessage(), e);
    }
  }

  private synchronized void refresh() {
    List<Long> now = stamps();
    if (now.equals(stamps)) {
      return;
    }
    try {
      load();
      stamps = now;
      log.info("datastore TLS files changed; new connections use them ({}, {}, {})", ca, cert, key);
    } catch (RuntimeException e) {
      log.warn(
          "datastore TLS files changed but cannot be read yet ({}); keeping the previous ones",
          e.getMessage());
    }
  }

  private void load() {
    try {
      PemSslStoreDetails trustDetails =
          ca == null ? null : PemSslStoreDetails.forCertificates(location(ca));
      PemSslStoreDetails identity =
          cert == null
              ? null
              : PemSslStoreDetails.forCertificates(location(cert)).withPrivateKey(location(key));
      PemSslStoreBundle bundle = new PemSslStoreBundle(identity, trustDetails);
      if (cert != null) {
        KeyManagerFactory factory =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(bundle.getKeyStore(), null);
        keys = (X509KeyManager) factory.getKeyManagers()[0];
      }
      if (ca != null) {
        TrustManagerFactory factory =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) bundle.getTrustStore());
        trust = (X509TrustManager) factory.getTrustManagers()[0];
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private List<Long> stamps() {
    List<Long> stamps = new ArrayList<>();
    for (Path file : new Path[] {ca, cert, key}) {
      try {
        stamps.add(file == null ? 0L : Files.getLastModifiedTime(file).toMillis());
      } catch (IOException e) {
        stamps.add(-1L);
      }
    }
    return stamps;
  }

  private static String location(Path file) {
    return "file:" + Objects.requireNonNull(file).toAbsolutePath();
  }

  private final class Keys extends X509ExtendedKeyManager {

    private X509KeyManager current() {
      refresh();
      return keys;
    }

    @Override
    public String chooseClientAlias(String[] types, Principal[] issuers, Socket socket) {
      return current().chooseClientAlias(types, issuers, socket);
    }

    @Override
    public String chooseEngineClientAlias(String[] types, Principal[] issuers, SSLEngine engine) {
      X509KeyManager current = current();
      return current instanceof X509ExtendedKeyManager extended
          ? extended.chooseEngineClientAlias(types, issuers, engine)
          : current.chooseClientAlias(types, issuers, null);
    }

    @Override
    public String chooseServerAlias(String type, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public String[] getClientAliases(String type, Principal[] issuers) {
      return keys.getClientAliases(type, issuers);
    }

    @Override
    public String[] getServerAliases(String type, Principal[] issuers) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return keys.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return keys.getPrivateKey(alias);
    }
  }

  private final class Trust extends X509ExtendedTrustManager {

    private X509TrustManager current() {
      refresh();
      return trust;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(current(), chain, authType, socket, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(current(), chain, authType, null, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      current().checkServerTrusted(chain, authType);
    }

    private static void check(
        X509TrustManager trust,
        X509Certificate[] chain,
        String authType,
        Socket socket,
        SSLEngine engine)
        throws CertificateException {
      if (trust instanceof X509ExtendedTrustManager extended) {
        if (engine != null) {
          extended.checkServerTrusted(chain, authType, engine);
        } else {
          extended.checkServerTrusted(chain, authType, socket);
        }
      } else {
        trust.checkServerTrusted(chain, authType);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("the datastore client does not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("the datastore client does not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("the datastore client does not accept clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return trust.getAcceptedIssuers();
    }
  }
}
