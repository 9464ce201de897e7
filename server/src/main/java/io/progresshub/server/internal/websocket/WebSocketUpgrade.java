package io.progresshub.server.internal.websocket;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketServerCompressionHandler;
import io.progresshub.core.HubException;
import io.progresshub.core.Principal;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.LimitsConfig;
import io.progresshub.server.WebSocketConfig;
import io.progresshub.server.auth.Authenticator;
import io.progresshub.server.internal.AccessLogHandler;
import io.progresshub.server.internal.ConnectionLimiter;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.QueryParams;
import io.progresshub.server.internal.RequestTimeoutHandler;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.ServerInitializer;
import io.progresshub.server.internal.Text;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Turns an HTTP upgrade request on {@code /ws}, {@code /ws/{jobId}}, {@code /progress/ws/{jobId}}
 * or {@code /ws/monitor} into a WebSocket session: reads the token and {@code since}, then installs
 * Netty's handshake, compression and frame handling followed by a {@link WebSocketSession}. Token
 * and job problems are reported after the handshake, as an {@code error} message and a close code,
 * because browsers cannot see the HTTP status of a refused handshake.
 */
public final class WebSocketUpgrade {
  /**
   * How the connection was opened, as the session needs to know it: refused (told after the
   * upgrade, where a browser can see it), authenticated by the handshake's token, or waiting for an
   * {@code auth} message.
   */
  sealed interface Handshake {
    /** The job of a single-job endpoint. */
    Optional<String> jobId();

    /** Where a single-job endpoint resumes. */
    OptionalLong since();

    record Refused(ErrorCode code, String message, Optional<String> jobId, OptionalLong since)
        implements Handshake {}

    record Authenticated(
        Principal principal, Optional<String> token, Optional<String> jobId, OptionalLong since)
        implements Handshake {}

    record AwaitingAuth(Optional<String> jobId, OptionalLong since) implements Handshake {}
  }

  private final ServerContext context;

  public WebSocketUpgrade(ServerContext context) {
    this.context = context;
  }

  /**
   * Upgrades, or refuses before the upgrade (404, 429 when full). A {@code refusal} from the
   * connection limits is told after the upgrade (close 4429), where a browser can see it.
   */
  public void upgrade(
      ChannelHandlerContext ctx,
      FullHttpRequest request,
      QueryStringDecoder query,
      Optional<ConnectionLimiter.Refusal> refusal) {
    HttpResponses.Target target = new HttpResponses.Target(ctx, false, null);
    String path = query.path();
    Optional<String> jobId;
    boolean monitor = path.equals("/ws/monitor");
    if (path.equals("/ws") || monitor) {
      jobId = Optional.empty();
    } else if (path.startsWith("/ws/")) {
      jobId = Optional.of(path.substring("/ws/".length()));
    } else if (path.startsWith("/progress/ws/")) {
      jobId = Optional.of(path.substring("/progress/ws/".length()));
    } else {
      HttpResponses.error(
          target, ErrorCode.NOT_FOUND, "no WebSocket endpoint at " + Text.abbreviate(path));
      return;
    }
    if (!context.limiter().tryAcquireTotal()) {
      context.meters().connectionRefused(ServerMeters.ConnectionLimit.MAX_CONNECTIONS);
      HttpResponses.error(target, ErrorCode.TOO_MANY_CONNECTIONS, "too many open connections");
      return;
    }

    Optional<String> badRequest = Optional.empty();
    OptionalLong since = OptionalLong.empty();
    Optional<String> rawSince = QueryParams.of(query).get("since");
    if (rawSince.isPresent()) {
      since = QueryParams.parseNonNegative(rawSince.get());
      if (since.isEmpty()) {
        badRequest =
            Optional.of("since: '" + Text.abbreviate(rawSince.get()) + "' (expected: a seq >= 0)");
      }
    }
    Optional<String> token = Authenticator.token(request, query);
    Optional<Principal> principal = Optional.empty();
    Optional<HubException> authFailure = Optional.empty();
    try {
      principal = context.authenticator().authenticate(token);
    } catch (HubException e) {
      authFailure = Optional.of(e);
    }

    Handshake handshake;
    if (refusal.isPresent()) {
      handshake =
          new Handshake.Refused(refusal.get().code(), refusal.get().message(), jobId, since);
    } else if (badRequest.isPresent()) {
      handshake = new Handshake.Refused(ErrorCode.INVALID_REQUEST, badRequest.get(), jobId, since);
    } else if (authFailure.isPresent()) {
      handshake =
          new Handshake.Refused(
              ErrorCode.UNAUTHORIZED, authFailure.get().getMessage(), jobId, since);
    } else if (principal.isPresent()) {
      handshake = new Handshake.Authenticated(principal.get(), token, jobId, since);
    } else {
      handshake = new Handshake.AwaitingAuth(jobId, since);
    }
    boolean installed =
        handshake(
            ctx,
            request,
            query.rawPath(),
            context.config().limits(),
            context.config().webSocket(),
            new WebSocketSession(context, handshake, monitor));
    if (!installed) {
      context.limiter().releaseTotal(); // else the session releases it when the channel closes
    }
    ctx.pipeline().remove(ctx.handler());
  }

  /**
   * Answers the upgrade {@code request} read by the handler of {@code ctx} and turns the channel
   * into a WebSocket ending in {@code session}, which gets a {@link
   * WebSocketServerProtocolHandler.HandshakeComplete} event once the handshake is done. The caller
   * removes its own handler afterwards. Returns false if the request was refused (426 or 400) and
   * {@code session} was never installed. The one place the WebSocket chain is chosen, so a test
   * server that swaps only {@code session} (the Autobahn conformance echo server) runs what
   * production runs.
   *
   * <p>Without compression the channel gets the lean {@link WebSocketFrameCodec}: two handlers per
   * connection. A client that offers permessage-deflate, when compression is on, gets Netty's full
   * chain ({@link #addDeflateChain}), which can inflate and deflate messages.
   */
  public static boolean handshake(
      ChannelHandlerContext ctx,
      FullHttpRequest request,
      String rawPath,
      LimitsConfig limits,
      WebSocketConfig webSocket,
      ChannelHandler session) {
    if (webSocket.compression() && offersDeflate(request)) {
      RequestTimeoutHandler.removeFrom(ctx.pipeline());
      if (ctx.pipeline().get(AccessLogHandler.NAME) != null) {
        ctx.pipeline().remove(AccessLogHandler.NAME); // the lean path drops it with the rest
      }
      addDeflateChain(ctx.pipeline(), ctx.name(), rawPath, limits, session);
      ctx.fireChannelRead(request.retain());
      return true;
    }
    HttpHeaders headers = request.headers();
    String version = headers.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
    if (!"13".equals(version)) {
      FullHttpResponse refused =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.UPGRADE_REQUIRED);
      refused.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
      refused.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
      ctx.writeAndFlush(refused).addListener(ChannelFutureListener.CLOSE);
      return false;
    }
    String key = headers.get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
    if (key == null || key.isBlank()) {
      HttpResponses.error(
          new HttpResponses.Target(ctx, false, null),
          ErrorCode.INVALID_REQUEST,
          "Sec-WebSocket-Key is missing");
      return false;
    }
    ChannelPipeline pipeline = ctx.pipeline();
    pipeline.addAfter(
        ctx.name(),
        "ws-codec",
        new WebSocketFrameCodec(limits.maxFrameBytes(), limits.frameTimeout()));
    pipeline.addAfter("ws-codec", "ws-session", session);
    // The HTTP handlers go, the HTTP codec first: bytes it still holds flow on to ws-codec. TLS
    // stays: it carries the WebSocket too.
    pipeline.remove(HttpServerCodec.class);
    for (String name : pipeline.names()) {
      ChannelHandler handler = pipeline.get(name);
      if (handler != null
          && handler != ctx.handler()
          && !name.equals(ServerInitializer.TLS)
          && !name.equals("ws-codec")
          && !name.equals("ws-session")) {
        pipeline.remove(handler);
      }
    }
    // Flushed after the session has opened: its first message then leaves in the same write.
    ctx.channel()
        .write(
            Unpooled.wrappedBuffer(
                ("HTTP/1.1 101 Switching Protocols\r\n"
                        + "upgrade: websocket\r\n"
                        + "connection: upgrade\r\n"
                        + "sec-websocket-accept: "
                        + accept(key.trim())
                        + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
    pipeline.fireUserEventTriggered(
        new WebSocketServerProtocolHandler.HandshakeComplete(request.uri(), headers, null));
    ctx.channel().flush();
    return true;
  }

  private static boolean offersDeflate(FullHttpRequest request) {
    String extensions = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
    return extensions != null && extensions.toLowerCase(Locale.ROOT).contains("permessage-deflate");
  }

  /** The Sec-WebSocket-Accept answer to {@code key} (RFC 6455 section 4.2.2). */
  static String accept(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] digest =
          sha1.digest(
              (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-1", e);
    }
  }

  /**
   * Installs Netty's WebSocket chain after the handler named {@code after}: permessage-deflate with
   * bounded inflation, the RSV-bit check, Netty's handshake and frame handling (64 KiB frames by
   * default, strict masking, UTF-8 validation, close-frame echo), a bounded message aggregator,
   * then {@code session}.
   */
  private static void addDeflateChain(
      ChannelPipeline pipeline,
      String after,
      String rawPath,
      LimitsConfig limits,
      ChannelHandler session) {
    // Bounded inflation: a tiny compressed frame must not expand into a huge buffer.
    pipeline.addAfter(
        after, "ws-compression", new WebSocketServerCompressionHandler(limits.maxFrameBytes()));
    after = "ws-compression";
    // Before the protocol handler and after where the deflate decoder will go (next to
    // ws-compression, once the handshake has negotiated it).
    pipeline.addAfter(after, "ws-reserved-bits", new ReservedBitsCheck());
    after = "ws-reserved-bits";
    pipeline.addAfter(after, "ws-pongs", new PongCoalescer());
    after = "ws-pongs";
    WebSocketServerProtocolConfig protocol =
        WebSocketServerProtocolConfig.newBuilder()
            // The raw path: Netty matches it against the undecoded request URI, so a decoded path
            // with an escape (job%3A1) would never match and the upgrade would hang unanswered.
            .websocketPath(rawPath)
            .checkStartsWith(true)
            // The session answers close frames: it knows whether it sent one already (Netty would
            // answer the client's echo of ours with a second close frame).
            .handleCloseFrames(false)
            // No automatic "1000 Bye" when the channel is closed without a close frame: on a
            // protocol violation Netty's decoder has already sent 1002/1007 (or, for a malformed
            // close frame, nothing, failing the connection), and a later 1000 would be a second
            // close frame, or the wrong code, for a client that broke RFC 6455. Sessions that close
            // on purpose send their own close frame.
            .sendCloseFrame(null)
            .dropPongFrames(true)
            .handshakeTimeoutMillis(limits.handshakeTimeout().toMillis())
            .forceCloseTimeoutMillis(2_000)
            .decoderConfig(
                WebSocketDecoderConfig.newBuilder()
                    .maxFramePayloadLength(limits.maxFrameBytes())
                    .allowExtensions(true)
                    .allowMaskMismatch(false)
                    .withUTF8Validator(true)
                    .closeOnProtocolViolation(true)
                    .build())
            .build();
    pipeline.addAfter(after, "ws-protocol", new WebSocketServerProtocolHandler(protocol));
    pipeline.addAfter(
        "ws-protocol", "ws-aggregator", new WebSocketFrameAggregator(limits.maxFrameBytes()));
    pipeline.addAfter("ws-aggregator", "ws-session", session);
  }
}
