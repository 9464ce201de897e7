package io.progresshub.server.internal;

import io.netty.util.AttributeKey;

/** How a long-lived channel says goodbye on graceful shutdown (close 1001, end of stream). */
public final class Shutdown {
  public static final AttributeKey<Runnable> KEY = AttributeKey.valueOf("progress-hub.shutdown");

  private Shutdown() {}
}
