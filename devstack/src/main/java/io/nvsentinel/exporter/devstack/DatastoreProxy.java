package io.nvsentinel.exporter.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback in front of the embedded MongoDB, so a datastore outage can be played for
 * real: {@link #cut()} drops every connection and refuses new ones until {@link #restore()}. The
 * server and its data stay up meanwhile, as they would behind a broken network.
 */
public final class DatastoreProxy implements AutoCloseable {

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile boolean cut;

  public DatastoreProxy(EmbeddedMongo mongo) throws IOException {
    this(address(mongo));
  }

  /** In front of any TCP server, such as a PostgreSQL's {@code localhost:port}. */
  public DatastoreProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "datastore-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static InetSocketAddress address(EmbeddedMongo mongo) {
    String address = mongo.connectionString().substring("mongodb://".length());
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(
        address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  /** The port the proxy listens on, on loopback. */
  public int port() {
    return listener.getLocalPort();
  }

  /** The connection string through the proxy. */
  public String connectionString() {
    return "mongodb://127.0.0.1:" + listener.getLocalPort() + "/?serverSelectionTimeoutMS=2000";
  }

  /** Drops every connection and refuses new ones. */
  public void cut() {
    cut = true;
    for (Socket socket : open) {
      closeQuietly(socket);
    }
  }

  public void restore() {
    cut = false;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        if (cut) {
          client.close();
          continue;
        }
        Socket server = new Socket(target.getAddress(), target.getPort());
        open.add(client);
        open.add(server);
        pipe(client, server);
        pipe(server, client);
      } catch (IOException e) {
        if (listener.isClosed()) {
          return;
        }
      }
    }
  }

  private void pipe(Socket from, Socket to) {
    Thread thread =
        new Thread(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
              } catch (IOException closed) {
                // one side went away: so does the other
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
              }
            },
            "datastore-proxy-pipe");
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    cut();
  }
}
