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
          "MONGODB_CLIENT_KEY_PATH", "exporter.datastore.keyFile");

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
    String mount = value(env, CERT_MOUNT);
    if (mount != null) {
      MOUNTED_FILES.forEach(
          (key, file) -> {
            Path path = Path.of(mount).resolve(file);
            if (Files.isRegularFile(path)) {
              settings.put(key, path.toString());
            }
          });
    }
    VARIABLES.forEach(
        (variable, key) -> {
          String value = value(env, variable);
          if (value != null) {
            settings.put(key, value);
          }
        });
    return settings;
  }

  private static String value(Function<String, String> env, String name) {
    String value = env.apply(name);
    return value == null || value.isBlank() ? null : value.strip();
  }
}
