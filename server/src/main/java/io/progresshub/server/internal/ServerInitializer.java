package io.progresshub.server.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.flow.FlowControlHandler;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.LimitsConfig;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.time.Duration;
import java.util.Optional;

/**
 * Every connection starts as HTTP: TLS when configured, request timeout, codec, a bounded
 * aggregator, then the router. The router rebuilds the pipeline for WebSockets (keeping TLS); SSE
 * streams keep it.
 */
public final class ServerInitializer extends ChannelInitializer<SocketChannel> {
  /** How long a keep-alive HTTP connection may sit idle between requests. */
  private static final Duration KEEP_ALIVE_IDLE = Duration.ofSeconds(60);

  private static final int MAX_INITIAL_LINE = 8192;

  /** The largest piece of a body the HTTP codec hands on at once (the aggregator joins them). */
  private static final int MAX_CHUNK_SIZE = 8192;

  private static final int MAX_HEADER_SIZE = 16384;

  /** The name of the TLS handler, first in the pipeline of every connection when TLS is on. */
  public static final String TLS = "tls";

  private final ServerContext context;
  private final HttpRouter router;
  private final Optional<TlsCertificates> tls;

  public ServerInitializer(ServerContext context, Optional<TlsCertificates> tls) {
    this.context = context;
    this.router = new HttpRouter(context);
    this.tls = tls;
  }

  @Override
  protected void initChannel(SocketChannel channel) {
    if (!context.limiter().tryOpen(channel)) {
      context.meters().connectionRefused(ServerMeters.ConnectionLimit.ACCEPT);
      // Over a hard cap: drop it before it costs a handler, a buffer or a timer.
      channel.config().setOption(ChannelOption.SO_LINGER, 0);
      channel.close();
      return;
    }
    LimitsConfig limits = context.config().limits();
    ChannelPipeline pipeline = channel.pipeline();
    if (tls.isPresent()) {
      // Its handshake counts against the request timeout that the next handler starts.
      pipeline.addLast(TLS, tls.get().newHandler(channel.alloc(), limits.handshakeTimeout()));
    }
    pipeline.addLast(new RequestTimeoutHandler(limits.handshakeTimeout(), KEEP_ALIVE_IDLE));
    pipeline.addLast(
        "http-codec", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, MAX_CHUNK_SIZE));
    if (context.accessLog().enabled()) {
      pipeline.addLast(AccessLogHandler.NAME, new AccessLogHandler(context.accessLog()));
    }
    // Bodies over the limit get 413 from the aggregator before any of it is buffered.
    pipeline.addLast("http-aggregator", new BodyAggregator(limits.maxBodyBytes()));
    // Hands the router one request at a time once it turns auto-read off (see RestApi), so answers
    // leave in request order and a pipelining client cannot start unbounded concurrent work.
    pipeline.addLast("http-flow", new FlowControlHandler());
    pipeline.addLast("router", router);
  }

  /** Netty's aggregator, but an oversized body gets our JSON error, not an empty 413. */
  private static final class BodyAggregator extends HttpObjectAggregator {
    BodyAggregator(int maxBodyBytes) {
      super(maxBodyBytes);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized)
        throws Exception {
      if (!(oversized instanceof HttpRequest)) {
        super.handleOversizedMessage(ctx, oversized);
        return;
      }
      // As Netty does: once body bytes were aggregated the rest cannot be skipped reliably, so
      // close; a request refused on its Content-Length alone keeps its connection.
      boolean keepAlive =
          !(oversized instanceof FullHttpMessage)
              && (HttpUtil.is100ContinueExpected(oversized) || HttpUtil.isKeepAlive(oversized));
      HttpResponses.error(
          new HttpResponses.Target(ctx, keepAlive, null),
          ErrorCode.PAYLOAD_TOO_LARGE,
          "request body too large (expected: at most " + maxContentLength() + " bytes)");
    }
  }
}
