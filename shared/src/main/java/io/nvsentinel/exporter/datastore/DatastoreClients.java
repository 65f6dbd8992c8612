package io.nvsentinel.exporter.datastore;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;

/**
 * Opens the MongoDB client for the datastore: the connection string as given (X.509 authentication
 * when it asks for {@code authMechanism=MONGODB-X509}), plus TLS from PEM files — a CA to trust and
 * an optional client certificate and key — when configured. NVSentinel's environment variables for
 * these files arrive as settings ({@link DatastoreEnvironment}).
 */
public final class DatastoreClients {

  private DatastoreClients() {}

  public static MongoClient open(ExporterProperties.Datastore datastore) {
    return MongoClients.create(settings(datastore));
  }

  static MongoClientSettings settings(ExporterProperties.Datastore datastore) {
    MongoClientSettings.Builder builder =
        MongoClientSettings.builder().applyConnectionString(new ConnectionString(datastore.uri()));
    Path ca = datastore.caFile();
    Path cert = datastore.certFile();
    Path key = datastore.keyFile();
    if (ca != null || cert != null) {
      SSLContext context = sslContext(ca, cert, key);
      builder.applyToSslSettings(ssl -> ssl.enabled(true).context(context));
    }
    return builder.build();
  }

  private static SSLContext sslContext(Path ca, Path cert, Path key) {
    if ((cert == null) != (key == null)) {
      throw new IllegalStateException(
          "exporter.datastore.certFile and exporter.datastore.keyFile (or MONGODB_CLIENT_CERT_PATH"
              + " and MONGODB_CLIENT_KEY_PATH) must be given together, got certFile="
              + cert
              + " keyFile="
              + key);
    }
    PemSslStoreDetails trust = ca == null ? null : PemSslStoreDetails.forCertificates(location(ca));
    PemSslStoreDetails identity =
        cert == null
            ? null
            : PemSslStoreDetails.forCertificates(location(cert)).withPrivateKey(location(key));
    return SslBundle.of(new PemSslStoreBundle(identity, trust)).createSslContext();
  }

  private static String location(Path file) {
    return "file:" + file.toAbsolutePath();
  }
}
