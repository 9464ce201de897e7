package io.progresshub.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP proxy whose open connections can be frozen: they stay open but carry nothing more, like a
 * connection behind a NAT that dropped its mapping. Connections made afterwards work.
 */
final class FreezingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final List<Pipe> pipes = new CopyOnWriteArrayList<>();

  FreezingProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon().start(this::accept);
  }

  int port() {
    return listener.getLocalPort();
  }

  void freezeOpenConnections() {
    for (Pipe pipe : pipes) {
      pipe.frozen.set(true);
    }
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        Pipe pipe = new Pipe(client, server);
        pipes.add(pipe);
        Thread.ofPlatform().daemon().start(() -> pipe.copy(client, server));
        Thread.ofPlatform().daemon().start(() -> pipe.copy(server, client));
      } catch (IOException e) {
        return;
      }
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Pipe pipe : pipes) {
      pipe.close();
    }
  }

  private static final class Pipe {
    final AtomicBoolean frozen = new AtomicBoolean();
    final Socket client;
    final Socket server;

    Pipe(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void copy(Socket from, Socket to) {
      byte[] buffer = new byte[8192];
      try (InputStream in = from.getInputStream()) {
        OutputStream out = to.getOutputStream();
        int read;
        while ((read = in.read(buffer)) >= 0) {
          if (!frozen.get()) {
            out.write(buffer, 0, read);
            out.flush();
          }
        }
      } catch (IOException e) {
        close();
      }
    }

    void close() {
      try {
        client.close();
        server.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
