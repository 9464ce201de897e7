package io.progresshub.server.internal;

import io.netty.channel.Channel;
import java.time.Instant;
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
    SSE
  }

  /** The id the client is told, e.g. {@code c-1f2e3d4c5b6a}; unique within this server. */
  String id();

  Transport transport();

  Channel channel();

  /** When the connection was opened. */
  Instant openedAt();

  /** The authenticated user, once known. */
  Optional<String> user();

  /** The jobs it watches now (a snapshot; read from any thread, it may lag a little). */
  Set<String> watching();

  /**
   * Ends the connection gracefully after what is already queued: close 1001 for a WebSocket, the
   * end of the stream for SSE. Safe from any thread.
   */
  void goAway();
}
