package io.progresshub.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.progresshub.core.HubException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/** Lettuce clients as the store and the broker need them, and Redis failures as hub errors. */
final class RedisConnections {

  /** What a producer refused for an unreachable Redis is told to wait before it retries. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  /**
   * Longest wait between two reconnect attempts. Lettuce's default grows to 30 s, which would keep
   * a node answering 503 for up to 30 s after Redis came back.
   */
  static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);

  private RedisConnections() {}

  /** A Lettuce client with threads of its own, shut down together. */
  record Client(RedisClient redis, ClientResources resources) {
    /** Closes the connections, then stops the client's threads; waits at most about 2 s each. */
    void shutdown() {
      redis.shutdown(0, 2, TimeUnit.SECONDS);
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  /**
   * A client whose commands fail within the settings' timeout, and at once while disconnected,
   * instead of queueing until Redis is back: a caller is answered {@code store_unavailable}
   * quickly, never left hanging. It reconnects by itself.
   *
   * @param replay whether commands in flight when the connection dropped are sent again after it
   *     comes back: never for the store (an append its caller was told failed must not land later),
   *     always for the broker's subscriptions
   */
  static Client client(RedisSettings settings, boolean replay) {
    RedisURI uri = RedisURI.create(settings.uri());
    uri.setTimeout(settings.commandTimeout());
    // Two connections at most per client: a few threads are enough, whatever the core count.
    ClientResources resources =
        DefaultClientResources.builder()
            .ioThreadPoolSize(2)
            .computationThreadPoolSize(2)
            .reconnectDelay(
                Delay.exponential(
                    Duration.ofMillis(10), MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS))
            .build();
    RedisClient client = RedisClient.create(resources, uri);
    ClientOptions.Builder options =
        ClientOptions.builder()
            .autoReconnect(true)
            .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()))
            .socketOptions(
                SocketOptions.builder().connectTimeout(settings.commandTimeout()).build());
    if (!replay) {
      options
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .replayFilter(command -> true);
    }
    client.setOptions(options.build());
    return new Client(client, resources);
  }

  /** A Redis failure (timeout, connection lost or refused) as {@code store_unavailable}. */
  static HubException unavailable(String what, Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof HubException hubException) {
      return hubException;
    }
    return HubException.unavailable(
        what
            + ": Redis failed or did not answer in time ("
            + cause.getClass().getSimpleName()
            + ": "
            + cause.getMessage()
            + ")",
        cause,
        RETRY_AFTER);
  }
}
