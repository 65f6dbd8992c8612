package io.nvsentinel.exporter.delivery;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.exactly;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static io.nvsentinel.exporter.delivery.WhenSinkUnavailable.FAIL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** TLS is verified unless an operator turns it off, and then the exporter says so. */
@ExtendWith(OutputCaptureExtension.class)
class SinkTlsTest {

  @TempDir static Path dir;
  static SelfSignedCertificate certificate;
  static WireMockServer server;

  DeliveryFixture fixture;

  @BeforeAll
  static void startHttpsServer() throws Exception {
    certificate = SelfSignedCertificate.create(dir);
    server =
        new WireMockServer(
            wireMockConfig()
                .dynamicPort()
                .dynamicHttpsPort()
                .keystorePath(certificate.keystore().toString())
                .keystoreType("PKCS12")
                .keystorePassword(certificate.password())
                .keyManagerPassword(certificate.password()));
    server.start();
    server.stubFor(
        post(urlEqualTo("/oauth2/token"))
            .willReturn(
                okJson("{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300}")));
    server.stubFor(post(urlEqualTo("/api/v1/events")).willReturn(aResponse().withStatus(202)));
  }

  @AfterAll
  static void stop() {
    server.stop();
  }

  @BeforeEach
  void setUp() {
    server.resetRequests();
    fixture = new DeliveryFixture();
    fixture.config.maxRetries = 0;
    fixture.config.tokenUrl = "http://127.0.0.1:" + server.port() + "/oauth2/token";
    fixture.config.sinkEndpoint = "https://127.0.0.1:" + server.httpsPort() + "/api/v1/events";
  }

  @AfterEach
  void tearDown() throws Exception {
    fixture.close();
  }

  @Test
  void aSelfSignedSinkIsRefusedWithVerificationOnNamingTheCertificateProblem() {
    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("cannot reach the sink over TLS")
        .hasMessageContaining("certification path")
        .hasMessageContaining("exporter.sink.caFile");
    server.verify(exactly(0), postRequestedFor(urlEqualTo("/api/v1/events")));
    assertThat(fixture.deadLetters().count()).as("a setting, not the event's fault").isZero();
  }

  @Test
  void aCaBundleMakesTheSelfSignedSinkTrustedWithVerificationOn() {
    fixture.config.sinkCaFile = certificate.pem();
    DeliveryOutcome outcome = fixture.deliverer().deliver(fixture.event());

    assertThat(outcome).isInstanceOf(DeliveryOutcome.Delivered.class);
    server.verify(exactly(1), postRequestedFor(urlEqualTo("/api/v1/events")));
  }

  @Test
  void theCaBundleDoesNotExcuseAWrongHostName() {
    fixture.config.sinkCaFile = certificate.pem();
    // the certificate names localhost and 127.0.0.1, not 127.0.0.2
    fixture.config.sinkEndpoint = "https://127.0.0.2:" + server.httpsPort() + "/api/v1/events";
    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("cannot reach the sink over TLS");
  }

  @Test
  void insecureSkipVerifyDeliversAndWarnsLoudly(CapturedOutput output) {
    fixture.config.sinkInsecure = true;
    DeliveryOutcome outcome = fixture.deliverer().deliver(fixture.event());

    assertThat(outcome).isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(output.getAll())
        .contains("TLS verification for " + fixture.config.sinkEndpoint + " is DISABLED")
        .contains("exporter.sink.insecureSkipVerify=true");
  }

  @Test
  void insecureSkipVerifyOfTheSinkDoesNotLoosenTheTokenEndpoint() {
    fixture.config.sinkInsecure = true;
    fixture.config.tokenUrl = "https://127.0.0.1:" + server.httpsPort() + "/oauth2/token";
    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), FAIL))
        .hasMessageContaining("cannot obtain an access token")
        .hasMessageContaining("exporter.oidc.caFile");
  }

  @Test
  void oidcInsecureSkipVerifyAppliesToTheTokenEndpoint(CapturedOutput output) {
    fixture.config.sinkInsecure = true;
    fixture.config.oidcInsecure = true;
    fixture.config.tokenUrl = "https://127.0.0.1:" + server.httpsPort() + "/oauth2/token";
    assertThat(fixture.deliverer().deliver(fixture.event()))
        .isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(output.getAll()).contains("exporter.oidc.insecureSkipVerify=true");
  }
}
