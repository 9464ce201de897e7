package io.progresshub.bench;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Keep-alive HTTP/1.1 connections for publishers, one request in flight per connection (no
 * pipelining), requests queued per connection in order. A request's {@code affinity} picks its
 * connection, so all events of one job travel one connection and reach the server in publish order.
 * Event loop only; futures complete on the loop.
 */
final class HttpPool {
  record Response(int status, byte[] body) {}

  private final ClientNetwork net;
  private final String authorization;
  private final Conn[] conns;
  private int outstanding;

  HttpPool(ClientNetwork net, int size, String token) {
    this.net = net;
    this.authorization = token == null ? null : "Bearer " + token;
    this.conns = new Conn[size];
    for (int i = 0; i < size; i++) {
      conns[i] = new Conn();
    }
  }

  int size() {
    return conns.length;
  }

  /** Requests sent or queued and not answered yet. */
  int outstanding() {
    return outstanding;
  }

  CompletableFuture<Response> send(int affinity, HttpMethod method, String path, byte[] body) {
    Req req = new Req(method, path, body, new CompletableFuture<>());
    outstanding++;
    req.future.whenComplete((r, e) -> outstanding--);
    conns[Math.floorMod(affinity, conns.length)].enqueue(req);
    return req.future;
  }

  void close() {
    net.run(
        () -> {
          for (Conn c : conns) {
            if (c.channel != null) {
              c.channel.close();
            }
          }
        });
  }

  private record Req(
      HttpMethod method, String path, byte[] body, CompletableFuture<Response> future) {}

  private final class Conn extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final ArrayDeque<Req> queue = new ArrayDeque<>();
    private Channel channel;
    private boolean connecting;
    private Req inFlight;

    Conn() {
      super(true);
    }

    @Override
    public boolean isSharable() {
      return true; // reconnects add this handler to a new channel; one channel at a time
    }

    void enqueue(Req req) {
      queue.add(req);
      next();
    }

    private void next() {
      if (inFlight != null || queue.isEmpty()) {
        return;
      }
      if (channel == null || !channel.isActive()) {
        connect();
        return;
      }
      inFlight = queue.poll();
      FullHttpRequest request =
          new DefaultFullHttpRequest(
              HttpVersion.HTTP_1_1,
              inFlight.method(),
              inFlight.path(),
              Unpooled.wrappedBuffer(inFlight.body()));
      request.headers().set(HttpHeaderNames.HOST, net.host + ":" + net.port);
      request.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
      request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, inFlight.body().length);
      if (authorization != null) {
        request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
      }
      channel.writeAndFlush(request);
    }

    private void connect() {
      if (connecting) {
        return;
      }
      connecting = true;
      net.bootstrap()
          .handler(
              new io.netty.channel.ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                  ch.pipeline()
                      .addLast(new HttpClientCodec())
                      .addLast(new HttpObjectAggregator(4 * 1024 * 1024))
                      .addLast(Conn.this);
                }
              })
          .connect()
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    connecting = false;
                    if (f.isSuccess()) {
                      channel = f.channel();
                      next();
                    } else {
                      // Fail what is queued rather than retry forever.
                      IOException failure = new IOException("connect failed", f.cause());
                      while (!queue.isEmpty()) {
                        queue.poll().future().completeExceptionally(failure);
                      }
                    }
                  });
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      Req done = inFlight;
      inFlight = null;
      if (done != null) {
        done.future()
            .complete(
                new Response(response.status().code(), ByteBufUtil.getBytes(response.content())));
      }
      next();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (ctx.channel() == channel) {
        channel = null;
        Req lost = inFlight;
        inFlight = null;
        if (lost != null) {
          lost.future().completeExceptionally(new IOException("connection closed"));
        }
        next(); // reconnects if more is queued
      }
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
