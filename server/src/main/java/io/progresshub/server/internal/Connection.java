package io.progresshub.server.internal;

import io.netty.channel.Channel;
import io.progresshub.core.Role;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * One open client connection as the server sees it, whatever its transport: what {@link
 * Connections} lists and shuts down. Implemented by the WebSocket session and the SSE stream.
 */
public interface Connection {

  /** The transports a connection can use. */
  enum Transport {
    WEBSOCKET,
    SSE,
    /** A WebSocket on {@code /ws/monitor}, which also gets the hub's system messages. */
    MONITOR;

    /** As the admin API names it: {@code websocket}, {@code sse}, {@code monitor}. */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The id the client is told, e.g. {@code c-1f2e3d4c5b6a}; unique within this server. */
  String id();

  Transport transport();

  Channel channel();

  /** When the connection was opened. */
  Instant openedAt();

  /** The authenticated user, once known. */
  Optional<String> user();

  /** The authenticated caller's role, once known. */
  Optional<Role> role();

  /** The client's IP address as this server sees it (a proxy's, behind one). */
  default String remoteAddress() {
    SocketAddress remote = channel().remoteAddress();
    return remote instanceof InetSocketAddress inet
        ? inet.getAddress().getHostAddress()
        : String.valueOf(remote);
  }

  /** The jobs it watches now (a snapshot; read from any thread, it may lag a little). */
  Set<String> watching();

  /**
   * Ends the connection gracefully after what is already queued: close 1001 for a WebSocket, the
   * end of the stream for SSE, each asking the client to wait {@code retryAfter} before it
   * reconnects. Safe from any thread.
   */
  void goAway(Duration retryAfter);

  /**
   * Ends the connection at an administrator's request, telling the client why: an {@code error}
   * ({@code forbidden}) then close 4403 for a WebSocket, an error event and the end of the stream
   * for SSE. Safe from any thread.
   */
  void disconnect(String reason);

  /**
   * Sends an administrator's message about a job to this client, if it watches the job (SSE: as a
   * {@code broadcast} event). Safe from any thread.
   *
   * @param message the {@code broadcast} message's JSON
   * @return whether it was sent
   */
  boolean broadcast(String jobId, byte[] message);
}
