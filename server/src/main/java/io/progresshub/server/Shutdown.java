package io.progresshub.server;

import io.netty.util.AttributeKey;

/** How a long-lived channel says goodbye on graceful shutdown (close 1001, end of stream). */
final class Shutdown {
  static final AttributeKey<Runnable> KEY = AttributeKey.valueOf("progress-hub.shutdown");

  private Shutdown() {}
}
