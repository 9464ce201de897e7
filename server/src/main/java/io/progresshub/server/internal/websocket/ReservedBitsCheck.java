package io.progresshub.server.internal.websocket;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * Fails the connection with 1002 when a frame has RSV bits that no negotiated extension explains
 * (RFC 6455 section 5.2). Netty's decoder cannot check this for us: permessage-deflate needs it to
 * allow RSV bits before the handshake says whether the client negotiated compression. Sits after
 * the deflate decoder, which clears RSV1 on the frames it inflates, so any bit still set here is
 * unexplained.
 */
public final class ReservedBitsCheck extends ChannelInboundHandlerAdapter {
  private boolean failed;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    if (failed) {
      ReferenceCountUtil.release(message); // already failing: drop what was read after
      return;
    }
    if (message instanceof WebSocketFrame frame && frame.rsv() != 0) {
      failed = true;
      frame.release();
      ctx.writeAndFlush(
              new CloseWebSocketFrame(
                  WebSocketCloseStatus.PROTOCOL_ERROR, "RSV bits set, no extension negotiated"))
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    ctx.fireChannelRead(message);
  }
}
