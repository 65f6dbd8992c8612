package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;

/** An embedded MongoDB, a real token issuer and a verifying sink, with a runner harness on them. */
final class LiveStack implements AutoCloseable {

  final EmbeddedMongo mongo = EmbeddedMongo.start();
  final TokenIssuer issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
  final ReferenceSink sink;
  final RunnerHarness harness;

  LiveStack() throws Exception {
    sink = ReferenceSink.start(0, issuer, "events:write");
    harness =
        new RunnerHarness(
            mongo.connectionString(),
            sink.endpoint(),
            issuer.tokenUrl(),
            issuer.settings().clientSecret());
  }

  @Override
  public void close() throws Exception {
    harness.close();
    sink.close();
    issuer.close();
    mongo.close();
  }
}
