package io.nvsentinel.exporter.devstack;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Settings that point an exporter application at this stack, for tests and the demo. */
public final class StackSettings {

  /**
   * Auto-configuration that the token issuer's Spring Security brings onto a shared class path and
   * that an exporter application started beside it must not pick up.
   */
  public static final String NOT_THE_EXPORTERS =
      String.join(
          ",",
          "org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration",
          "org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration",
          "org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration",
          "org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration",
          "org.springframework.boot.security.autoconfigure.actuate.web.servlet.ManagementWebSecurityAutoConfiguration",
          "org.springframework.boot.security.oauth2.server.authorization.autoconfigure.servlet.OAuth2AuthorizationServerAutoConfiguration",
          "org.springframework.boot.security.oauth2.server.authorization.autoconfigure.servlet.OAuth2AuthorizationServerJwtAutoConfiguration");

  private StackSettings() {}

  /**
   * The exporter's required keys for this stack: cluster, sink, token issuer with its client and
   * secret file, datastore; fast retries.
   */
  public static Map<String, String> exporter(
      String cluster,
      ReferenceSink sink,
      TokenIssuer issuer,
      EmbeddedMongo mongo,
      Path secretFile) {
    Map<String, String> p = exporter(cluster, sink, issuer, secretFile);
    p.put("exporter.datastore.uri", mongo.connectionString());
    return p;
  }

  /** The same without a datastore, for one the caller sets. */
  public static Map<String, String> exporter(
      String cluster, ReferenceSink sink, TokenIssuer issuer, Path secretFile) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("spring.autoconfigure.exclude", NOT_THE_EXPORTERS);
    p.put("exporter.metadata.cluster", cluster);
    p.put("exporter.sink.endpoint", sink.endpoint());
    p.put("exporter.oidc.tokenUrl", issuer.tokenUrl());
    p.put("exporter.oidc.clientId", issuer.settings().clientId());
    p.put("exporter.oidc.scope", issuer.settings().scope());
    p.put("exporter.oidc.clientSecretFile", secretFile.toString());
    p.put("exporter.oidc.clientSecretEnv", "");
    return p;
  }

  /** {@code --key=value} arguments for a Spring Boot application. */
  public static String[] arguments(Map<String, String> properties) {
    return properties.entrySet().stream()
        .map(e -> "--" + e.getKey() + "=" + e.getValue())
        .toArray(String[]::new);
  }
}
