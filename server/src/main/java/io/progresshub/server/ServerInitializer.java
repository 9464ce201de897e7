package io.progresshub.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.time.Duration;

/**
 * Every connection starts as HTTP: request timeout, codec, a bounded aggregator, then the router.
 * The router rebuilds the pipeline for WebSockets; SSE streams keep it.
 */
final class ServerInitializer extends ChannelInitializer<SocketChannel> {
  /** How long a keep-alive HTTP connection may sit idle between requests. */
  private static final Duration KEEP_ALIVE_IDLE = Duration.ofSeconds(60);

  private static final int MAX_INITIAL_LINE = 8192;
  private static final int MAX_HEADER_SIZE = 16384;

  private final ServerContext context;
  private final HttpRouter router;

  ServerInitializer(ServerContext context) {
    this.context = context;
    this.router = new HttpRouter(context);
  }

  @Override
  protected void initChannel(SocketChannel channel) {
    LimitsConfig limits = context.config().limits();
    ChannelPipeline pipeline = channel.pipeline();
    pipeline.addLast(new RequestTimeoutHandler(limits.handshakeTimeout(), KEEP_ALIVE_IDLE));
    pipeline.addLast("http-codec", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, 8192));
    // Bodies over the limit get 413 from the aggregator before any of it is buffered.
    pipeline.addLast("http-aggregator", new HttpObjectAggregator(limits.maxBodyBytes()));
    pipeline.addLast("router", router);
  }
}
