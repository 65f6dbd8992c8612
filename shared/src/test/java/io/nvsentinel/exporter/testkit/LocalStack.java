package io.nvsentinel.exporter.testkit;

import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import java.io.IOException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The world around the exporter for a test class, started and stopped by JUnit: a real token issuer
 * for the class, and on request a fresh verifying sink for each test (requiring the issuer's tokens
 * with scope {@code events:write}) and an embedded MongoDB for the class.
 *
 * <pre>{@code @RegisterExtension static final LocalStack stack = LocalStack.issuer().withSink();}
 * </pre>
 *
 * <p>The sink of a test closes after the test's own {@code @AfterEach} methods, so a runner halted
 * there never meets a closed sink.
 */
public final class LocalStack
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  private final boolean withSink;
  private final boolean withMongo;
  private TokenIssuer issuer;
  private ReferenceSink sink;
  private EmbeddedMongo mongo;

  /** Classes inside: a {@code @Nested} class runs within its outer class's stack. */
  private int depth;

  private LocalStack(boolean withSink, boolean withMongo) {
    this.withSink = withSink;
    this.withMongo = withMongo;
  }

  /** A token issuer for the class. */
  public static LocalStack issuer() {
    return new LocalStack(false, false);
  }

  /** And a fresh reference sink for every test. */
  public LocalStack withSink() {
    return new LocalStack(true, withMongo);
  }

  /** And an embedded MongoDB for the class. */
  public LocalStack withMongo() {
    return new LocalStack(withSink, true);
  }

  public TokenIssuer tokens() {
    return started(issuer, "the token issuer");
  }

  public ReferenceSink sink() {
    return started(sink, "the sink (LocalStack.withSink())");
  }

  public EmbeddedMongo mongo() {
    return started(mongo, "MongoDB (LocalStack.withMongo())");
  }

  private static <T> T started(T part, String what) {
    if (part == null) {
      throw new IllegalStateException(what + " is not started for this test");
    }
    return part;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (depth++ > 0) {
      return;
    }
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    if (withMongo) {
      mongo = EmbeddedMongo.start();
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    if (withSink) {
      sink = ReferenceSink.start(0, issuer, "events:write");
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (sink != null) {
      sink.close();
      sink = null;
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (--depth > 0) {
      return;
    }
    if (mongo != null) {
      mongo.close();
      mongo = null;
    }
    issuer.close();
    issuer = null;
  }
}
