package io.progresshub.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.progresshub.protocol.CloseCode;
import io.progresshub.server.internal.websocket.WebSocketSession;
import io.progresshub.server.internal.websocket.WebSocketUpgrade;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * WebSocket echo server for the Autobahn fuzzing client: every text and binary message comes back
 * unchanged. Each connection runs the production WebSocket chain ({@link
 * WebSocketUpgrade#handshake}) with the default limits; only the final handler differs, echoing
 * instead of speaking protocol v1 (which would answer Autobahn's messages with {@code error}
 * replies and close binary ones with 1003).
 *
 * <p>Usage: {@code AutobahnEchoServer [port [host]]} (defaults 9001 on loopback). The build starts
 * it through {@link AutobahnEchoLauncher}. It exits when its parent process does, so a killed build
 * leaves no server behind.
 */
public final class AutobahnEchoServer {
  /**
   * Set (in bytes) to raise the frame and message limit above the default 64 KiB, as the
   * performance cases (9.*, messages up to 16 MiB) need; see {@link AutobahnPerformanceLauncher}.
   */
  static final String MAX_MESSAGE_BYTES_PROPERTY = "progresshub.autobahn.max-message-bytes";

  private static final LimitsConfig LIMITS = limits(Integer.getInteger(MAX_MESSAGE_BYTES_PROPERTY));
  private static final WebSocketConfig WEB_SOCKET = WebSocketConfig.defaults();

  private AutobahnEchoServer() {}

  public static void main(String[] args) throws InterruptedException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 9001;
    InetAddress host = args.length > 1 ? resolve(args[1]) : InetAddress.getLoopbackAddress();
    // Orphaned (the build was killed): go too, rather than hold a port on the CI runner.
    ProcessHandle.current()
        .parent()
        .ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));

    // Same transport choice as ProgressHubServer.
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            0,
            new DefaultThreadFactory("autobahn-echo", true),
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    try {
      Channel server =
          new ServerBootstrap()
              .group(group)
              .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                      channel
                          .pipeline()
                          .addLast("http-codec", new HttpServerCodec())
                          .addLast(
                              "http-aggregator", new HttpObjectAggregator(LIMITS.maxBodyBytes()))
                          .addLast("upgrade", new Upgrade());
                    }
                  })
              .bind(new InetSocketAddress(host, port))
              .sync()
              .channel();
      System.out.println(
          "Autobahn echo server on ws:/"
              + server.localAddress()
              + (epoll ? " (epoll)" : " (nio)")
              + ", messages up to "
              + LIMITS.maxFrameBytes()
              + " bytes");
      server.closeFuture().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  /** The default limits, or the defaults with another frame and message limit. */
  private static LimitsConfig limits(Integer maxMessageBytes) {
    if (maxMessageBytes == null) {
      return LimitsConfig.defaults();
    }
    return LimitsConfig.builder().maxFrameBytes(maxMessageBytes).build();
  }

  private static InetAddress resolve(String host) {
    try {
      return InetAddress.getByName(host);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("host: '" + host + "' (expected: a resolvable address)");
    }
  }

  /** Turns the upgrade request into a WebSocket, the way {@link WebSocketUpgrade} does. */
  private static final class Upgrade extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String path = new QueryStringDecoder(request.uri()).path();
      WebSocketUpgrade.handshake(ctx, request, path, LIMITS, WEB_SOCKET, new Echo());
      ctx.pipeline().remove(this);
    }
  }

  /**
   * Writes every complete message back. Errors are handled as {@link WebSocketSession} handles
   * them: an oversized message gets close code 1009; for corrupt frames Netty has already sent the
   * close frame (1002 / 1007), so the connection is dropped.
   */
  private static final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
      if (message instanceof TextWebSocketFrame || message instanceof BinaryWebSocketFrame) {
        ctx.writeAndFlush(message);
      } else {
        ReferenceCountUtil.release(message);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof TooLongFrameException) {
        ctx.writeAndFlush(
            new CloseWebSocketFrame(
                new WebSocketCloseStatus(
                    CloseCode.MESSAGE_TOO_BIG.code(),
                    "message larger than " + LIMITS.maxFrameBytes() + " bytes")));
      } else {
        ctx.close();
      }
    }
  }
}
