package io.progresshub.server.internal.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;

/**
 * Answers pings for Netty's WebSocket chain (the permessage-deflate connections), before Netty's
 * protocol handler would: while the client does not read what we send, only the latest ping is
 * kept, and answered once it reads again (RFC 6455 section 5.5.3 allows it). Netty answers every
 * ping at once, so a client that floods pings and never reads would queue a pong per ping. The lean
 * chain's {@link WebSocketFrameCodec} does the same on its own.
 */
public final class PongCoalescer extends ChannelInboundHandlerAdapter {
  private ByteBuf pending;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    if (!(message instanceof PingWebSocketFrame ping)) {
      ctx.fireChannelRead(message);
      return;
    }
    ByteBuf payload = ping.content().retain();
    ping.release();
    if (pending == null && ctx.channel().isWritable()) {
      ctx.writeAndFlush(new PongWebSocketFrame(payload), ctx.voidPromise());
    } else {
      release();
      pending = payload;
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (pending != null && ctx.channel().isWritable()) {
      ByteBuf payload = pending;
      pending = null;
      ctx.writeAndFlush(new PongWebSocketFrame(payload), ctx.voidPromise());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    release();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  private void release() {
    if (pending != null) {
      pending.release();
      pending = null;
    }
  }
}
