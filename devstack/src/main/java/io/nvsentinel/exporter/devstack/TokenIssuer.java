package io.nvsentinel.exporter.devstack;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.context.ConfigurationPropertiesAutoConfiguration;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration;
import org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration;
import org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration;
import org.springframework.boot.security.oauth2.server.authorization.autoconfigure.servlet.OAuth2AuthorizationServerAutoConfiguration;
import org.springframework.boot.security.oauth2.server.authorization.autoconfigure.servlet.OAuth2AuthorizationServerJwtAutoConfiguration;
import org.springframework.boot.tomcat.autoconfigure.servlet.TomcatServletWebServerAutoConfiguration;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.webmvc.autoconfigure.DispatcherServletAutoConfiguration;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;

/**
 * A real OAuth 2.0 authorization server (Spring Authorization Server) that issues signed JWT access
 * tokens to one client through the client-credentials grant. Its JWKS lets a sink verify them.
 */
public final class TokenIssuer implements AutoCloseable {

  /** Who may ask for tokens, for which scope, and how long a token lives. */
  public record Settings(
      String clientId, String clientSecret, String scope, Duration tokenLifetime, int port) {

    /** The client of the operator documentation, with a five-minute token. */
    public static Settings defaults() {
      return new Settings(
          "nvsentinel-exporter", "devstack-secret", "events:write", Duration.ofMinutes(5), 0);
    }

    public Settings withTokenLifetime(Duration lifetime) {
      return new Settings(clientId, clientSecret, scope, lifetime, port);
    }

    public Settings withPort(int newPort) {
      return new Settings(clientId, clientSecret, scope, tokenLifetime, newPort);
    }
  }

  private final ConfigurableApplicationContext context;
  private final Settings settings;
  private final String baseUrl;

  private TokenIssuer(ConfigurableApplicationContext context, Settings settings) {
    this.context = context;
    this.settings = settings;
    int port = ((WebServerApplicationContext) context).getWebServer().getPort();
    this.baseUrl = "http://127.0.0.1:" + port;
  }

  public static TokenIssuer start(Settings settings) {
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(IssuerApplication.class)
            .web(WebApplicationType.SERVLET)
            // arguments, not default properties: they must win over any application.yml of the
            // application under test that shares the class path, which the issuer does not read
            .run(
                "--spring.config.name=devstack-token-issuer",
                "--server.port=" + settings.port(),
                "--server.address=127.0.0.1",
                "--spring.main.banner-mode=off",
                "--spring.jmx.enabled=false",
                "--logging.structured.format.console=",
                "--logging.level.root=WARN",
                "--devstack.issuer.client-id=" + settings.clientId(),
                "--devstack.issuer.client-secret=" + settings.clientSecret(),
                "--devstack.issuer.scope=" + settings.scope(),
                "--devstack.issuer.token-lifetime=" + settings.tokenLifetime().toMillis() + "ms");
    return new TokenIssuer(context, settings);
  }

  public Settings settings() {
    return settings;
  }

  /**
   * Writes the client's secret to {@code oidc-client-secret} in the directory, for {@code
   * exporter.oidc.clientSecretFile}, as an operator mounts it.
   */
  public Path writeClientSecret(Path dir) throws IOException {
    return Files.writeString(dir.resolve("oidc-client-secret"), settings.clientSecret());
  }

  /** The token endpoint, for {@code exporter.oidc.tokenUrl}. */
  public String tokenUrl() {
    return baseUrl + "/oauth2/token";
  }

  /** The key set that verifies the tokens. */
  public String jwksUrl() {
    return baseUrl + "/oauth2/jwks";
  }

  /**
   * Answers every token request with {@code status} and the OAuth error {@code error} until {@link
   * #restore()}: 401 {@code invalid_client} is a revoked client, 503 an identity provider down.
   */
  public void refuse(int status, String error) {
    IssuerApplication app = context.getBean(IssuerApplication.class);
    app.refusalError = error;
    app.refusalStatus = status;
  }

  /** Issues tokens again. */
  public void restore() {
    context.getBean(IssuerApplication.class).refusalStatus = 0;
  }

  /** How many token requests reached the token endpoint. */
  public int tokenRequests() {
    return context.getBean(IssuerApplication.class).tokenRequests.get();
  }

  @Override
  public void close() {
    context.close();
  }

  /**
   * Names exactly the auto-configuration an authorization server needs, so that whatever else is on
   * the class path (the exporter itself, in tests) stays out of the issuer.
   */
  @SpringBootConfiguration
  @ImportAutoConfiguration({
    PropertyPlaceholderAutoConfiguration.class,
    ConfigurationPropertiesAutoConfiguration.class,
    TomcatServletWebServerAutoConfiguration.class,
    DispatcherServletAutoConfiguration.class,
    WebMvcAutoConfiguration.class,
    HttpMessageConvertersAutoConfiguration.class,
    JacksonAutoConfiguration.class,
    SecurityAutoConfiguration.class,
    SecurityFilterAutoConfiguration.class,
    ServletWebSecurityAutoConfiguration.class,
    OAuth2AuthorizationServerAutoConfiguration.class,
    OAuth2AuthorizationServerJwtAutoConfiguration.class
  })
  static class IssuerApplication {

    final AtomicInteger tokenRequests = new AtomicInteger();
    volatile int refusalStatus;
    volatile String refusalError;

    @Bean
    RegisteredClientRepository registeredClients(Environment env) {
      RegisteredClient client =
          RegisteredClient.withId(UUID.randomUUID().toString())
              .clientId(env.getRequiredProperty("devstack.issuer.client-id"))
              .clientSecret("{noop}" + env.getRequiredProperty("devstack.issuer.client-secret"))
              .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
              .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
              .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
              .scope(env.getRequiredProperty("devstack.issuer.scope"))
              .tokenSettings(
                  TokenSettings.builder()
                      .accessTokenTimeToLive(
                          env.getRequiredProperty("devstack.issuer.token-lifetime", Duration.class))
                      .build())
              .build();
      return new InMemoryRegisteredClientRepository(client);
    }

    /** Runs before Spring Security, whose token endpoint answers without passing the request on. */
    @Bean
    FilterRegistrationBean<Filter> tokenRequestCounter() {
      Filter counter =
          (request, response, chain) -> {
            if (request instanceof HttpServletRequest http
                && http.getRequestURI().equals("/oauth2/token")) {
              tokenRequests.incrementAndGet();
              int refusal = refusalStatus;
              if (refusal != 0) {
                var answer = (HttpServletResponse) response;
                answer.setStatus(refusal);
                answer.setContentType("application/json");
                answer.getWriter().write("{\"error\":\"" + refusalError + "\"}");
                return;
              }
            }
            chain.doFilter(request, response);
          };
      FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>(counter);
      registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
      return registration;
    }
  }
}
