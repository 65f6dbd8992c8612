package io.nvsentinel.exporter.datastore;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.nio.file.Path;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;

/**
 * Opens the MongoDB client for the datastore: the connection string as given, plus TLS from PEM
 * files — a CA to trust and an optional X.509 client certificate and key — when configured.
 */
public final class DatastoreClients {

  static final String CA_ENV = "MONGODB_CA_CERT_PATH";
  static final String CERT_ENV = "MONGODB_CLIENT_CERT_PATH";
  static final String KEY_ENV = "MONGODB_CLIENT_KEY_PATH";

  private DatastoreClients() {}

  public static MongoClient open(
      ExporterProperties.Datastore datastore, Function<String, String> env) {
    return MongoClients.create(settings(datastore, env));
  }

  static MongoClientSettings settings(
      ExporterProperties.Datastore datastore, Function<String, String> env) {
    MongoClientSettings.Builder builder =
        MongoClientSettings.builder().applyConnectionString(new ConnectionString(datastore.uri()));
    Path ca = orEnv(datastore.caFile(), env, CA_ENV);
    Path cert = orEnv(datastore.certFile(), env, CERT_ENV);
    Path key = orEnv(datastore.keyFile(), env, KEY_ENV);
    if (ca != null || cert != null) {
      SSLContext context = sslContext(ca, cert, key);
      builder.applyToSslSettings(ssl -> ssl.enabled(true).context(context));
    }
    return builder.build();
  }

  private static SSLContext sslContext(Path ca, Path cert, Path key) {
    if ((cert == null) != (key == null)) {
      throw new IllegalStateException(
          "exporter.datastore.certFile and exporter.datastore.keyFile (or "
              + CERT_ENV
              + " and "
              + KEY_ENV
              + ") must be given together, got certFile="
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

  private static Path orEnv(Path configured, Function<String, String> env, String name) {
    if (configured != null) {
      return configured;
    }
    String value = env.apply(name);
    return value == null || value.isBlank() ? null : Path.of(value.strip());
  }
}
