package io.nvsentinel.exporter.sink;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.converter.FormHttpMessageConverter;
import org.springframework.http.converter.StringHttpMessageConverter;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.oauth2.client.AuthorizedClientServiceOAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.ClientCredentialsOAuth2AuthorizedClientProvider;
import org.springframework.security.oauth2.client.InMemoryOAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.OAuth2AuthorizeRequest;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClient;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.endpoint.RestClientClientCredentialsTokenResponseClient;
import org.springframework.security.oauth2.client.http.OAuth2ErrorResponseErrorHandler;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2AuthorizationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.http.converter.OAuth2AccessTokenResponseHttpMessageConverter;
import org.springframework.web.client.RestClient;

/**
 * OAuth 2.0 client credentials for the sink, done by Spring Security's authorized-client manager:
 * the token is fetched from {@code exporter.oidc.tokenUrl}, cached until {@value
 * #REFRESH_BEFORE_EXPIRY_SECONDS} seconds before it expires, and then fetched again. The client
 * secret is read again at most every {@value #SECRET_CHECK_SECONDS} seconds and after every failed
 * token request, so a rotated Kubernetes secret is used without a restart.
 */
public final class SinkAuthorization {

  private static final Logger log = LoggerFactory.getLogger(SinkAuthorization.class);

  static final String REGISTRATION_ID = "nvsentinel-sink";
  static final long REFRESH_BEFORE_EXPIRY_SECONDS = 30;
  static final String TOKEN_ERRORS_METRIC = ExporterMetric.TOKEN_REFRESH_ERRORS.meterName();
  static final long SECRET_CHECK_SECONDS = 10;

  /** The exporter is a machine: every token belongs to this one principal. */
  private static final Authentication PRINCIPAL =
      new AnonymousAuthenticationToken(
          "exporter", "event-exporter", AuthorityUtils.createAuthorityList("ROLE_EXPORTER"));

  private final OAuth2AuthorizedClientService tokens;
  private final OAuth2AuthorizedClientManager manager;
  private final OAuth2AuthorizeRequest request =
      OAuth2AuthorizeRequest.withClientRegistrationId(REGISTRATION_ID).principal(PRINCIPAL).build();
  private final Counter errors;
  private final String tokenUrl;
  private final ExporterProperties.Oidc oidc;
  private volatile ClientSecret secret;
  private volatile ClientRegistration registration;
  private volatile long nextSecretCheckNanos;

  /** The token and when to stop handing it out without asking the manager ({@code nanoTime}). */
  private record Cached(String token, long refreshAtNanos) {}

  private volatile Cached cached;

  /** Bumped by every invalidation: a token fetched before one is not cached after it. */
  private final AtomicLong invalidations = new AtomicLong();

  public SinkAuthorization(
      ExporterProperties.Oidc oidc, ClientSecret secret, Duration timeout, MeterRegistry meters) {
    this.tokenUrl = oidc.tokenUrl();
    this.oidc = oidc;
    this.secret = secret;
    this.registration = registration(secret);
    this.nextSecretCheckNanos = System.nanoTime() + SECRET_CHECK_SECONDS * 1_000_000_000L;
    this.errors =
        Counter.builder(TOKEN_ERRORS_METRIC)
            .description("Failed attempts to obtain an access token from the token endpoint")
            .register(meters);
    // looked up on every token request, so a rotated secret takes effect
    ClientRegistrationRepository registrations =
        id -> REGISTRATION_ID.equals(id) ? this.registration : null;
    this.tokens = new InMemoryOAuth2AuthorizedClientService(registrations);

    RestClientClientCredentialsTokenResponseClient tokenClient =
        new RestClientClientCredentialsTokenResponseClient();
    tokenClient.setRestClient(
        RestClient.builder()
            .requestFactory(
                HttpTransport.requestFactory(
                    "exporter.oidc",
                    oidc.tokenUrl(),
                    timeout,
                    oidc.insecureSkipVerify(),
                    oidc.caFile()))
            .messageConverters(
                List.of(
                    new FormHttpMessageConverter(),
                    new StringHttpMessageConverter(),
                    new OAuth2AccessTokenResponseHttpMessageConverter()))
            .defaultStatusHandler(new OAuth2ErrorResponseErrorHandler())
            .build());
    ClientCredentialsOAuth2AuthorizedClientProvider provider =
        new ClientCredentialsOAuth2AuthorizedClientProvider();
    provider.setAccessTokenResponseClient(tokenClient);
    provider.setClockSkew(Duration.ofSeconds(REFRESH_BEFORE_EXPIRY_SECONDS));
    AuthorizedClientServiceOAuth2AuthorizedClientManager serviceManager =
        new AuthorizedClientServiceOAuth2AuthorizedClientManager(registrations, tokens);
    serviceManager.setAuthorizedClientProvider(provider);
    this.manager = serviceManager;
  }

  /**
   * The current access token, fetched when none is cached or the cached one is about to expire.
   *
   * @throws OAuth2AuthorizationException when the token endpoint gives none; counted
   */
  public String accessToken() {
    if (System.nanoTime() - nextSecretCheckNanos > 0) {
      picksUpARotatedSecret();
    }
    Cached current = cached;
    if (current != null && current.refreshAtNanos() - System.nanoTime() > 0) {
      // the token the manager would return: asking it costs a fiftieth of an event's CPU
      return current.token();
    }
    long generation = invalidations.get();
    try {
      OAuth2AuthorizedClient client = manager.authorize(request);
      if (client == null) {
        throw new OAuth2AuthorizationException(
            new OAuth2Error("no_token", "the token endpoint gave no access token", null));
      }
      OAuth2AccessToken token = client.getAccessToken();
      if (token.getExpiresAt() != null) {
        // the manager's own refresh point: REFRESH_BEFORE_EXPIRY_SECONDS before expiry
        long left =
            Duration.between(Instant.now(), token.getExpiresAt())
                .minusSeconds(REFRESH_BEFORE_EXPIRY_SECONDS)
                .toNanos();
        Cached fresh =
            left > 0 ? new Cached(token.getTokenValue(), System.nanoTime() + left) : null;
        synchronized (invalidations) {
          if (invalidations.get() == generation) {
            cached = fresh;
          }
        }
      }
      return token.getTokenValue();
    } catch (OAuth2AuthorizationException | IllegalArgumentException e) {
      errors.increment();
      picksUpARotatedSecret();
      throw e instanceof OAuth2AuthorizationException oauth
          ? oauth
          : new OAuth2AuthorizationException(
              new OAuth2Error("invalid_token_response", e.getMessage(), null), e);
    }
  }

  private ClientRegistration registration(ClientSecret secret) {
    return ClientRegistration.withRegistrationId(REGISTRATION_ID)
        .clientId(oidc.clientId())
        .clientSecret(secret.value())
        .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
        .scope(List.of(oidc.scope().split("[\\s,]+")))
        .tokenUri(oidc.tokenUrl())
        .build();
  }

  /** Reads the secret again; when it changed, the next token is requested with the new one. */
  private void picksUpARotatedSecret() {
    nextSecretCheckNanos = System.nanoTime() + SECRET_CHECK_SECONDS * 1_000_000_000L;
    ClientSecret now = secret.reread();
    if (now != secret) {
      synchronized (this) {
        secret = now;
        registration = registration(now);
        invalidate();
      }
      log.info("the OIDC client secret in {} changed; using the new one", now.origin());
    }
  }

  public String tokenUrl() {
    return tokenUrl;
  }

  /** Forgets the cached token, so the next request fetches a new one. */
  public void invalidate() {
    synchronized (invalidations) {
      invalidations.incrementAndGet();
      cached = null;
    }
    tokens.removeAuthorizedClient(REGISTRATION_ID, PRINCIPAL.getName());
  }
}
