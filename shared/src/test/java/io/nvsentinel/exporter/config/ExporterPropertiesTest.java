package io.nvsentinel.exporter.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.validation.BeanPropertyBindingResult;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

class ExporterPropertiesTest {

  @TempDir Path tmp;
  private Path secret;

  @BeforeEach
  void writeSecret() throws IOException {
    secret = Files.writeString(tmp.resolve("oidc-client-secret"), "s3cret\n");
  }

  /** The documented sink/OIDC/metadata sections, plus one documented example on top. */
  private ApplicationContextRunner runner(String... examples) {
    ApplicationContextRunner runner =
        new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ExporterPropertiesAutoConfiguration.class))
            .withPropertyValues(
                "exporter.oidc.clientSecretFile=" + secret, "exporter.oidc.clientSecretEnv=");
    for (String example : List.of(examples)) {
      runner =
          runner.withInitializer(
              ctx -> ctx.getEnvironment().getPropertySources().addFirst(yaml(example)));
    }
    return runner.withInitializer(
        ctx -> ctx.getEnvironment().getPropertySources().addLast(yaml("documented-defaults")));
  }

  private static PropertySource<?> yaml(String name) {
    try {
      return new YamlPropertySourceLoader()
          .load(name, new ClassPathResource("examples/" + name + ".yml"))
          .get(0);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void documentedSectionsBindWithTheDocumentedDefaults() {
    runner()
        .run(
            context -> {
              ExporterProperties p = context.getBean(ExporterProperties.class);
              assertThat(p.cluster()).isEqualTo("my-cluster");
              assertThat(p.metadata()).containsEntry("environment", "production");
              assertThat(p.sink().endpoint()).isEqualTo("https://events.example.com/api/v1/events");
              assertThat(p.oidc().tokenUrl()).isEqualTo("https://auth.example.com/oauth2/token");
              assertThat(p.oidc().clientId()).isEqualTo("nvsentinel-exporter");
              assertThat(p.oidc().scope()).isEqualTo("events:write");
              DocumentedDefaults.assertHeldBy(p);
              assertThat(p.datastore().database()).isEqualTo("HealthEventsDatabase");
            });
  }

  @Test
  void theCheckpointAndDeadLettersLiveWhereTheDatastoreContractPutsNVSentinelsPositions() {
    runner()
        .withPropertyValues(
            "exporter.datastore.database=ClusterEvents",
            "exporter.datastore.tokenCollection=Tokens")
        .run(
            context -> {
              ExporterProperties p = context.getBean(ExporterProperties.class);
              assertThat(p.resumeToken().database()).isEqualTo("ClusterEvents");
              assertThat(p.resumeToken().collection()).isEqualTo("Tokens");
              assertThat(p.deadLetter().database()).isEqualTo("ClusterEvents");
            });
    runner()
        .run(
            context -> {
              ExporterProperties p = context.getBean(ExporterProperties.class);
              assertThat(p.datastore().tokenCollection()).isEqualTo("ResumeTokens");
              assertThat(p.resumeToken().collection()).isEqualTo("ResumeTokens");
              assertThat(p.deadLetter().database()).isEqualTo("HealthEventsDatabase");
            });
  }

  @Test
  void anExplicitCheckpointLocationWinsAndIsNamedAsApartFromTheContract() {
    runner()
        .withPropertyValues(
            "exporter.resumeToken.database=nvsentinel",
            "exporter.resumeToken.collection=resumetokens")
        .run(
            context -> {
              ExporterProperties p = context.getBean(ExporterProperties.class);
              assertThat(p.resumeToken().database()).isEqualTo("nvsentinel");
              assertThat(p.resumeToken().collection()).isEqualTo("resumetokens");
              assertThat(p.checkpointApartFromContract())
                  .hasValueSatisfying(
                      warning ->
                          assertThat(warning)
                              .contains("nvsentinel.resumetokens")
                              .contains("HealthEventsDatabase.ResumeTokens"));
            });
    runner()
        .run(
            context ->
                assertThat(context.getBean(ExporterProperties.class).checkpointApartFromContract())
                    .isEmpty());
  }

  @Test
  void aKeyNoApplicationReadsStopsStartUpNamingItItsSourceAndTheLikelyFix() {
    runner()
        .withPropertyValues(
            "exporter.sink.endpiont=https://events.example.com",
            "exporter.backfill.maxEvent=10",
            "exporter.filterz.expression=true")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .rootCause()
                  .message()
                  .contains("exporter.sink.endpiont")
                  .contains("did you mean exporter.sink.endpoint?")
                  .contains("exporter.backfill.maxEvent (from test)")
                  .contains("did you mean exporter.backfill.maxEvents?")
                  .contains("exporter.filterz.expression")
                  .contains("is not a setting of this exporter")
                  .contains("from test");
            });
  }

  @Test
  void everyKeyOfBothApplicationsAndTheRelaxedFormsAreKnown() {
    runner()
        .withPropertyValues(
            "exporter.live.workers=4",
            "exporter.live.operation-types[0]=insert",
            "exporter.backfill.waitForCutoff=10m",
            "exporter.backfill.job-repository-path=/tmp/jobs",
            "exporter.workers=4",
            "exporter.metadata.any-key-at-all=x",
            "exporter.datastore.tokenCollection=ResumeTokens",
            "exporter.dead-letter.collection=dead")
        .run(context -> assertThat(context).hasNotFailed());
  }

  @Test
  void kubernetesServiceLinksOfServicesNamedExporterAnythingAreNoSettings() {
    var environment = new org.springframework.core.env.StandardEnvironment();
    environment
        .getPropertySources()
        .addFirst(
            new org.springframework.core.env.SystemEnvironmentPropertySource(
                "systemEnvironment",
                Map.of(
                    "EXPORTER_PORT", "tcp://10.0.0.1:80",
                    "EXPORTER_SERVICE_HOST", "10.0.0.1",
                    "EXPORTER_PORT_80_TCP_ADDR", "10.0.0.1",
                    "EXPORTER_SINK_SERVICE_HOST", "10.0.0.2",
                    "EXPORTER_SINK_SERVICE_PORT_HTTPS", "443",
                    "EXPORTER_SINK_PORT", "tcp://10.0.0.2:443",
                    "EXPORTER_SINK_PORT_443_TCP_PROTO", "tcp",
                    "EXPORTER_SINK_ENDPOINT", "https://events.example.com",
                    "EXPORTER_SINK_ENDPONT", "https://events.example.com")));

    assertThat(new ExporterKeys().unknown(environment))
        .singleElement()
        .asString()
        .contains("EXPORTER_SINK_ENDPONT (exporter.sink.endpont) (from systemEnvironment)")
        .contains("did you mean exporter.sink.endpoint?");
  }

  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void bindingStartsWithoutAPostProcessorWarning(CapturedOutput output) {
    runner().run(context -> assertThat(context).hasNotFailed());

    // every application printed this twice on every start; a newcomer took it for a fault
    assertThat(output)
        .doesNotContain("is not eligible for getting processed by all BeanPostProcessors");
  }

  @Test
  void secretFileDefaultsToTheMountedKubernetesSecret() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ExporterPropertiesAutoConfiguration.class))
        .run(
            context ->
                assertThat(context.getStartupFailure())
                    .rootCause()
                    .hasMessageContaining("/var/secrets/oidc-client-secret"));
  }

  @Test
  void conservativeBackfillExampleBinds() {
    runner("conservative-backfill")
        .run(
            context ->
                assertThat(context.getBean(ExporterProperties.class).backfill())
                    .isEqualTo(
                        new ExporterProperties.Backfill(
                            true, Duration.ofDays(7), 10_000, 100, 100)));
  }

  @Test
  void aggressiveBackfillExampleBinds() {
    runner("aggressive-backfill")
        .run(
            context ->
                assertThat(context.getBean(ExporterProperties.class).backfill())
                    .isEqualTo(
                        new ExporterProperties.Backfill(
                            true, Duration.ofDays(90), 5_000_000, 1000, 5000)));
  }

  @Test
  void disabledBackfillExampleBindsAndKeepsTheOtherDefaults() {
    runner("disabled-backfill")
        .run(
            context ->
                assertThat(context.getBean(ExporterProperties.class).backfill())
                    .isEqualTo(
                        new ExporterProperties.Backfill(
                            false, Duration.ofHours(720), 1_000_000, 500, 1000)));
  }

  @Test
  void fastRetriesExampleBinds() {
    runner("fast-retries")
        .run(
            context ->
                assertThat(context.getBean(ExporterProperties.class).failureHandling())
                    .isEqualTo(
                        new ExporterProperties.FailureHandling(
                            10, Duration.ofMillis(100), Duration.ofSeconds(10), 1.5)));
  }

  @Test
  void conservativeRetriesExampleBinds() {
    runner("conservative-retries")
        .run(
            context ->
                assertThat(context.getBean(ExporterProperties.class).failureHandling())
                    .isEqualTo(
                        new ExporterProperties.FailureHandling(
                            30, Duration.ofSeconds(5), Duration.ofMinutes(15), 2.5)));
  }

  @Test
  void customMetadataExampleBindsEveryField() {
    runner("custom-metadata")
        .run(
            context ->
                assertThat(context.getBean(ExporterProperties.class).metadata())
                    .containsAllEntriesOf(
                        Map.of(
                            "cluster", "prod-us-west-2",
                            "environment", "production",
                            "region", "us-west-2",
                            "datacenter", "dc01",
                            "tenant", "acme-corp")));
  }

  @Test
  void compositeGoDurationsBind() {
    runner()
        .withPropertyValues(
            "exporter.backfill.maxAge=1h30m",
            "exporter.failureHandling.initialBackoff=1.5s",
            "exporter.failureHandling.maxBackoff=2h45m30s")
        .run(
            context -> {
              ExporterProperties p = context.getBean(ExporterProperties.class);
              assertThat(p.backfill().maxAge()).isEqualTo(Duration.ofMinutes(90));
              assertThat(p.failureHandling().initialBackoff()).isEqualTo(Duration.ofMillis(1500));
              assertThat(p.failureHandling().maxBackoff())
                  .isEqualTo(Duration.ofHours(2).plusMinutes(45).plusSeconds(30));
            });
  }

  @ParameterizedTest(name = "{0}={1} is refused")
  @CsvSource(
      delimiter = '|',
      value = {
        "metadata.cluster         | ''         | metadata  | exporter.metadata.cluster is required",
        "sink.endpoint            | ftp://x    | sink.endpoint | must be an http(s) URL with a host, got 'ftp://x'",
        "sink.endpoint            | ''         | sink.endpoint | exporter.sink.endpoint is required",
        "oidc.tokenUrl            | not a url  | oidc.tokenUrl | must be an http(s) URL with a host, got 'not a url'",
        "oidc.clientId            | ''         | oidc.clientId | exporter.oidc.clientId is required",
        "oidc.scope               | ''         | oidc.scope | exporter.oidc.scope is required",
        "backfill.rateLimit       | -5         | backfill.rateLimit | got -5",
        "backfill.batchSize       | 0          | backfill.batchSize | must be at least 1 event per chunk, got 0",
        "backfill.maxEvents       | 0          | backfill.maxEvents | must be at least 1, got 0",
        "backfill.maxAge          | 0s         | backfill.maxAge | must be a positive duration, got '0s'",
        "failureHandling.maxBackoff | 500ms    | failureHandling.maxBackoff | maxBackoff (500ms) must not be shorter than exporter.failureHandling.initialBackoff (1s)",
        "failureHandling.backoffMultiplier | 0.5 | failureHandling.backoffMultiplier | must be at least 1.0",
        "failureHandling.maxRetries | -1       | failureHandling.maxRetries | got -1",
        "sink.timeout             | -30s       | sink.timeout | must be a positive duration, got '-30s'",
        "filter.expression        | event.isFatal | filter.expression | exporter.filter.expression 'event.isFatal' cannot be used: it yields dyn, not a boolean",
        "filter.expression        | event.isFatal == | filter.expression | exporter.filter.expression 'event.isFatal ==' cannot be used: at 1:",
        "filter.expression        | events.isFatal == true | filter.expression | undeclared reference to 'events'",
      })
  void invalidValueStopsStartUpNamingKeyValueAndFix(
      String key, String value, String field, String message) {
    runner()
        .withPropertyValues("exporter." + key + "=" + value)
        .run(
            context -> {
              List<FieldError> errors = validationErrors(context);
              assertThat(errors).extracting(FieldError::getField).containsExactly(field);
              assertThat(errors.get(0).getDefaultMessage()).contains(message);
            });
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    runner()
        .withPropertyValues(
            "exporter.metadata.cluster=",
            "exporter.backfill.batchSize=0",
            "exporter.backfill.rateLimit=-1",
            "exporter.failureHandling.backoffMultiplier=0.9")
        .run(
            context ->
                assertThat(validationErrors(context))
                    .extracting(FieldError::getField)
                    .containsExactlyInAnyOrder(
                        "metadata",
                        "backfill.batchSize",
                        "backfill.rateLimit",
                        "failureHandling.backoffMultiplier"));
  }

  @ParameterizedTest(name = "{0}={1} names the value and the accepted forms")
  @CsvSource({
    "sink.timeout, thirty seconds",
    "backfill.maxAge, 30 days",
    "failureHandling.initialBackoff, 1h30",
  })
  void unparseableDurationStopsStartUp(String key, String value) {
    runner()
        .withPropertyValues("exporter." + key + "=" + value)
        .run(
            context -> {
              assertThat(context.getStartupFailure())
                  .hasRootCauseInstanceOf(IllegalArgumentException.class)
                  .rootCause()
                  .hasMessageContaining("'" + value + "' is not a duration")
                  .hasMessageContaining("1h30m");
              BindException bind = findCause(context.getStartupFailure(), BindException.class);
              assertThat(bind.getProperty().getName().toString())
                  .isEqualTo("exporter." + kebab(key));
            });
  }

  @Test
  void unreadableSecretFileStopsStartUpNamingFileAndFix() {
    runner()
        .withPropertyValues("exporter.oidc.clientSecretFile=" + tmp.resolve("missing"))
        .run(
            context -> {
              List<FieldError> errors = validationErrors(context);
              assertThat(errors)
                  .extracting(FieldError::getField)
                  .containsExactly("oidc.clientSecretFile");
              assertThat(errors.get(0).getDefaultMessage())
                  .contains(tmp.resolve("missing").toString())
                  .contains("no such file")
                  .contains("oidc-client-secret");
            });
  }

  @Test
  void emptySecretFileIsRefused() throws IOException {
    Path empty = Files.writeString(tmp.resolve("empty"), "  \n");
    runner()
        .withPropertyValues("exporter.oidc.clientSecretFile=" + empty)
        .run(
            context ->
                assertThat(validationErrors(context).get(0).getDefaultMessage())
                    .contains("the file is empty"));
  }

  @Test
  void secretFromTheEnvironmentNeedsNoFile() {
    ExporterPropertiesValidator validator =
        new ExporterPropertiesValidator(name -> name.equals("MY_SECRET") ? "from-env" : null, null);
    ExporterProperties.Oidc oidc =
        new ExporterProperties.Oidc(
            "https://idp/token", "id", "scope", false, tmp.resolve("missing"), "MY_SECRET", null);
    assertThat(
            ClientSecret.resolve(oidc, name -> name.equals("MY_SECRET") ? "from-env" : null)
                .value())
        .isEqualTo("from-env");
    BeanPropertyBindingResult errors = new BeanPropertyBindingResult(properties(oidc), "exporter");
    validator.validate(properties(oidc), errors);
    assertThat(errors.getAllErrors()).isEmpty();
  }

  @Test
  void thePostgresqlStoreNeedsAUserAndSaysWhereItComesFrom() {
    ExporterProperties.Datastore postgres =
        new ExporterProperties.Datastore(
            "mongodb://unused",
            "HealthEventsDatabase",
            "HealthEvents",
            "ResumeTokens",
            null,
            null,
            null,
            ExporterProperties.Provider.POSTGRESQL,
            new ExporterProperties.Postgresql(
                "db", 5432, "nvsentinel", " ", "pw", "require", null, null, null),
            "event-exporter",
            null);
    ExporterProperties p = withDatastore(postgres);
    FieldError e = onlyFieldError(p);
    assertThat(e.getField()).isEqualTo("datastore.postgresql.username");
    assertThat(e.getDefaultMessage()).contains("DATASTORE_USERNAME");
    assertThat(postgres.postgresql().toString()).doesNotContain("pw");
    assertThat(postgres.eventDatabase()).isEqualTo("nvsentinel");
    assertThat(postgres.eventCollection()).isEqualTo("health_events");
  }

  @Test
  void x509WithoutAClientCertificateIsRefusedWithoutRepeatingTheUri() {
    ExporterProperties p =
        withDatastore(
            TestProperties.mongoDatastore(
                "mongodb://user:pw@db/?authMechanism=MONGODB-X509&authSource=$external", null));
    FieldError e = onlyFieldError(p);
    assertThat(e.getField()).isEqualTo("datastore.certFile");
    assertThat(e.getDefaultMessage())
        .contains("MONGODB_CLIENT_CERT_MOUNT_PATH")
        .doesNotContain("pw");
  }

  @Test
  void tlsOffWithAUriAskingForTlsIsRefusedNamingBoth() {
    ExporterProperties p =
        withDatastore(
            TestProperties.mongoDatastore("mongodb://user:pw@db/?replicaSet=rs0&tls=true", false));
    FieldError e = onlyFieldError(p);
    assertThat(e.getField()).isEqualTo("datastore.tls");
    assertThat(e.getDefaultMessage())
        .contains("MONGODB_TLS_ENABLED")
        .contains("exporter.datastore.uri")
        .doesNotContain("pw");
  }

  @Test
  void secretNeverAppearsInToString() {
    ExporterProperties.Oidc oidc =
        new ExporterProperties.Oidc("https://idp/token", "id", "scope", false, secret, "", null);
    ClientSecret resolved = ClientSecret.resolve(oidc, name -> null);
    assertThat(resolved.value()).isEqualTo("s3cret");
    assertThat(resolved.toString()).doesNotContain("s3cret").contains(secret.toString());
  }

  private ExporterProperties.Oidc oidcWithSecretFile() {
    return new ExporterProperties.Oidc("https://idp/token", "id", "scope", false, secret, "", null);
  }

  /** The one field error the start-up validation finds in {@code p}. */
  private static FieldError onlyFieldError(ExporterProperties p) {
    BeanPropertyBindingResult errors = new BeanPropertyBindingResult(p, "exporter");
    new ExporterPropertiesValidator(name -> null, null).validate(p, errors);
    assertThat(errors.getFieldErrors()).hasSize(1);
    return errors.getFieldErrors().get(0);
  }

  private ExporterProperties withDatastore(ExporterProperties.Datastore datastore) {
    ExporterProperties p = properties(oidcWithSecretFile());
    return new ExporterProperties(
        p.metadata(),
        p.sink(),
        p.oidc(),
        p.backfill(),
        p.failureHandling(),
        p.resumeToken(),
        datastore,
        p.deadLetter(),
        p.filter(),
        p.maxMessageLength());
  }

  private static ExporterProperties properties(ExporterProperties.Oidc oidc) {
    return new ExporterProperties(
        Map.of("cluster", "c"),
        new ExporterProperties.Sink(
            "https://sink/events",
            Duration.ofSeconds(1),
            false,
            null,
            true,
            false,
            ExporterProperties.Batch.OFF),
        oidc,
        new ExporterProperties.Backfill(true, Duration.ofHours(1), 1, 1, 0),
        new ExporterProperties.FailureHandling(1, Duration.ofSeconds(1), Duration.ofSeconds(2), 2),
        new ExporterProperties.ResumeToken("db", "tokens", "gaps", "event-exporter"),
        TestProperties.mongoDatastore("mongodb://localhost", "db", "events", null),
        new ExporterProperties.DeadLetter("db", "dead"),
        new ExporterProperties.Filter(""),
        0);
  }

  private static String kebab(String key) {
    return key.replaceAll("([A-Z])", "-$1").toLowerCase();
  }

  private static List<FieldError> validationErrors(AssertableApplicationContext context) {
    assertThat(context).hasFailed();
    BindValidationException validation =
        findCause(context.getStartupFailure(), BindValidationException.class);
    List<ObjectError> all = validation.getValidationErrors().getAllErrors();
    assertThat(all).allMatch(FieldError.class::isInstance);
    return all.stream().map(FieldError.class::cast).toList();
  }

  private static <T extends Throwable> T findCause(Throwable failure, Class<T> type) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + failure);
  }
}
