package io.nvsentinel.exporter.store.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.datastore.DatastoreEnvironment;
import io.nvsentinel.exporter.datastore.RotatingPemFiles;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/**
 * Opens the MongoDB client for the datastore: the connection string as given, plus TLS from PEM
 * files — a CA to trust and an optional client certificate and key — when configured. With a client
 * certificate, authentication is X.509 ({@code $external}) unless the URI names a credential of its
 * own, as NVSentinel's components authenticate to its MongoDB. NVSentinel's environment variables
 * for these files arrive as settings ({@link DatastoreEnvironment}), as do {@code APP_NAME} (the
 * name the server sees, unless the URI gives one) and {@code MONGODB_TLS_ENABLED} ({@code false}
 * turns TLS off and the files unused; a URI asking for TLS then stops start-up).
 */
public final class MongoConnections {

  private MongoConnections() {}

  public static MongoClient open(ExporterProperties.Datastore datastore) {
    return MongoClients.create(settings(datastore));
  }

  /** What the client is configured with, without connecting. */
  public static MongoClientSettings settings(ExporterProperties.Datastore datastore) {
    ConnectionString uri = new ConnectionString(datastore.uri());
    MongoClientSettings.Builder builder = MongoClientSettings.builder().applyConnectionString(uri);
    if (uri.getApplicationName() == null && datastore.appName() != null) {
      builder.applicationName(datastore.appName());
    }
    if (Boolean.FALSE.equals(datastore.tls())) {
      // NVSentinel's global.datastore.tls.enabled: false, for a store without TLS: no files used
      return builder.applyToSslSettings(ssl -> ssl.enabled(false)).build();
    }
    if (Boolean.TRUE.equals(datastore.tls())) {
      builder.applyToSslSettings(ssl -> ssl.enabled(true));
    }
    Path ca = datastore.caFile();
    Path cert = datastore.certFile();
    Path key = datastore.keyFile();
    if (ca != null || cert != null) {
      SSLContext context = sslContext(ca, cert, key);
      builder.applyToSslSettings(ssl -> ssl.enabled(true).context(context));
    }
    if (cert != null && uri.getCredential() == null) {
      // as NVSentinel's own clients do: a client certificate and no credential in the URI is X.509
      builder.credential(MongoCredential.createMongoX509Credential());
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
    return new RotatingPemFiles(ca, cert, key).sslContext();
  }
}
