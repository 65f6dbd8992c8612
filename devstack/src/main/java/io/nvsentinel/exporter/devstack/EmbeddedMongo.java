package io.nvsentinel.exporter.devstack;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.net.InetSocketAddress;

/**
 * An in-JVM MongoDB wire-protocol server with an oplog, so the real driver can open change streams
 * against it. Data lives in memory and is gone when it is closed.
 */
public final class EmbeddedMongo implements AutoCloseable {

  private final MongoServer server;
  private final String connectionString;

  private EmbeddedMongo(MongoServer server, String connectionString) {
    this.server = server;
    this.connectionString = connectionString;
  }

  /** Starts on a free loopback port. */
  public static EmbeddedMongo start() {
    return start(0);
  }

  /** Starts on {@code port} of the loopback address; 0 picks a free one. */
  public static EmbeddedMongo start(int port) {
    MemoryBackend backend = new MemoryBackend();
    backend.enableOplog();
    MongoServer server = new MongoServer(backend);
    server.bind(new InetSocketAddress("127.0.0.1", port));
    InetSocketAddress address = server.getLocalAddress();
    return new EmbeddedMongo(
        server, "mongodb://" + address.getHostString() + ":" + address.getPort());
  }

  /** A connection string for the MongoDB driver. */
  public String connectionString() {
    return connectionString;
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
