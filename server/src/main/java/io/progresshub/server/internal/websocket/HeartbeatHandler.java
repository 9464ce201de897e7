package io.progresshub.server.internal.websocket;

import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A channel handler that a {@link HeartbeatWheel} visits once per heartbeat interval. The wheel's
 * links live in the handler's own fields, so being on a wheel costs a connection no list node.
 */
abstract class HeartbeatHandler extends ChannelInboundHandlerAdapter {
  // Owned by the wheel the handler is on (event loop only).
  HeartbeatHandler previous;
  HeartbeatHandler next;
  int slot = -1;

  /** Called on the event loop once per interval, {@code tick} being the wheel's clock. */
  abstract void beat(long tick);
}
