package io.nvsentinel.exporter.datastore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * How NVSentinel hands the datastore to its components — environment variables from its datastore
 * ConfigMap and URI Secret, client certificates mounted as a directory — read as {@code
 * exporter.datastore.*} settings. They rank below every {@code exporter.*} key an operator sets and
 * above the built-in defaults, so the exporter runs unchanged inside an NVSentinel installation and
 * standalone alike.
 */
public final class DatastoreEnvironment {

  /** The variables and the keys they stand for, in NVSentinel's names. */
  static final Map<String, String> VARIABLES =
      Map.of(
          "MONGODB_URI", "exporter.datastore.uri",
          "MONGODB_DATABASE_NAME", "exporter.datastore.database",
          "MONGODB_COLLECTION_NAME", "exporter.datastore.collection",
          "MONGODB_TOKEN_COLLECTION_NAME", "exporter.datastore.tokenCollection",
          "MONGODB_CA_CERT_PATH", "exporter.datastore.caFile",
          "MONGODB_CLIENT_CERT_PATH", "exporter.datastore.certFile",
          "MONGODB_CLIENT_KEY_PATH", "exporter.datastore.keyFile",
          "MONGODB_TLS_ENABLED", "exporter.datastore.tls",
          "APP_NAME", "exporter.datastore.appName");

  /** The PostgreSQL store's variables, as NVSentinel's datastore ConfigMap and Secret give them. */
  static final Map<String, String> POSTGRESQL_VARIABLES =
      Map.ofEntries(
          Map.entry("DATASTORE_PROVIDER", "exporter.datastore.provider"),
          Map.entry("DATASTORE_HOST", "exporter.datastore.postgresql.host"),
          Map.entry("DATASTORE_PORT", "exporter.datastore.postgresql.port"),
          Map.entry("DATASTORE_DATABASE", "exporter.datastore.postgresql.database"),
          Map.entry("DATASTORE_USERNAME", "exporter.datastore.postgresql.username"),
          Map.entry("DATASTORE_PASSWORD", "exporter.datastore.postgresql.password"),
          Map.entry("DATASTORE_SSLMODE", "exporter.datastore.postgresql.sslmode"),
          Map.entry("DATASTORE_SSLCERT", "exporter.datastore.postgresql.sslcert"),
          Map.entry("DATASTORE_SSLKEY", "exporter.datastore.postgresql.sslkey"),
          Map.entry("DATASTORE_SSLROOTCERT", "exporter.datastore.postgresql.sslrootcert"));

  /** The directory of the PostgreSQL client certificates, with the same three files in it. */
  static final String POSTGRESQL_CERT_MOUNT = "POSTGRESQL_CLIENT_CERT_MOUNT_PATH";

  private static final Map<String, String> POSTGRESQL_MOUNTED_FILES =
      Map.of(
          "exporter.datastore.postgresql.sslrootcert", "ca.crt",
          "exporter.datastore.postgresql.sslcert", "tls.crt",
          "exporter.datastore.postgresql.sslkey", "tls.key");

  /** The directory of NVSentinel's client-certificate Secret, with these files in it. */
  static final String CERT_MOUNT = "MONGODB_CLIENT_CERT_MOUNT_PATH";

  private static final Map<String, String> MOUNTED_FILES =
      Map.of(
          "exporter.datastore.caFile", "ca.crt",
          "exporter.datastore.certFile", "tls.crt",
          "exporter.datastore.keyFile", "tls.key");

  private DatastoreEnvironment() {}

  /**
   * The settings the environment gives. A file named by its own variable wins over the same file
   * found in the mounted directory; a file the directory does not hold is not set.
   */
  public static Map<String, Object> settings(Function<String, String> env) {
    Map<String, Object> settings = new LinkedHashMap<>();
    mounted(env, CERT_MOUNT, MOUNTED_FILES, settings);
    mounted(env, POSTGRESQL_CERT_MOUNT, POSTGRESQL_MOUNTED_FILES, settings);
    named(env, VARIABLES, settings);
    named(env, POSTGRESQL_VARIABLES, settings);
    return settings;
  }

  private static void mounted(
      Function<String, String> env,
      String mountVariable,
      Map<String, String> files,
      Map<String, Object> settings) {
    String mount = value(env, mountVariable);
    if (mount == null) {
      return;
    }
    files.forEach(
        (key, file) -> {
          Path path = Path.of(mount).resolve(file);
          if (Files.isRegularFile(path)) {
            settings.put(key, path.toString());
          }
        });
  }

  private static void named(
      Function<String, String> env, Map<String, String> variables, Map<String, Object> settings) {
    variables.forEach(
        (variable, key) -> {
          String value = value(env, variable);
          if (value != null) {
            settings.put(key, value);
          }
        });
  }

  private static String value(Function<String, String> env, String name) {
    String value = env.apply(name);
    return value == null || value.isBlank() ? null : value.strip();
  }
}
