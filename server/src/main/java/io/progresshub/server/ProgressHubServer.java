package io.progresshub.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.util.NettyRuntime;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.progresshub.core.Hub;
import io.progresshub.protocol.RestCodec;
import io.progresshub.protocol.WireCodec;
import io.progresshub.server.auth.Authenticator;
import io.progresshub.server.internal.AccessLog;
import io.progresshub.server.internal.ConnectionLimiter;
import io.progresshub.server.internal.Connections;
import io.progresshub.server.internal.JobEncodings;
import io.progresshub.server.internal.LoopWrites;
import io.progresshub.server.internal.MonitorFeed;
import io.progresshub.server.internal.OriginPolicy;
import io.progresshub.server.internal.Readiness;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.ServerInitializer;
import io.progresshub.server.internal.TlsCertificates;
import io.progresshub.server.internal.http.RestJson;
import io.progresshub.server.internal.metrics.ServerMeters;
import io.progresshub.server.internal.websocket.HeartbeatWheels;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network face of a {@link Hub}: WebSocket, SSE and REST on one port, on Netty event loops (one
 * per core, epoll where available).
 *
 * <pre>{@code
 * try (Hub hub = Hub.builder().store(store).build();
 *     ProgressHubServer server = ProgressHubServer.start(config, hub)) {
 *   server.awaitShutdown();
 * }
 * }</pre>
 */
public final class ProgressHubServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressHubServer.class);

  private final ServerConfig config;
  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final ServerContext context;
  private final ExecutorService blocking;
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile boolean closing;

  private ProgressHubServer(
      ServerConfig config,
      EventLoopGroup group,
      Channel serverChannel,
      ServerContext context,
      ExecutorService blocking) {
    this.config = config;
    this.group = group;
    this.serverChannel = serverChannel;
    this.context = context;
    this.blocking = blocking;
  }

  /**
   * Binds and starts serving; returns once the port is open. The server's metrics are made as
   * {@code config} says, and the hub reports its events to them from now on.
   */
  public static ProgressHubServer start(ServerConfig config, Hub hub) {
    return start(config, hub, PrometheusHubMetrics.create(config.metrics()));
  }

  /**
   * Binds and starts serving with {@code metrics} (e.g. one made with the store's queue gauge);
   * returns once the port is open. The hub reports its events to them from now on, once even if it
   * was built with them.
   */
  public static ProgressHubServer start(
      ServerConfig config, Hub hub, PrometheusHubMetrics metrics) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(hub, "hub");
    Objects.requireNonNull(metrics, "metrics");
    ServerMeters meters = metrics.meters();
    hub.reportTo(metrics);
    // Before anything is started: a bad certificate or key fails here, with nothing to undo.
    Optional<TlsCertificates> tls = config.network().tls().map(TlsCertificates::load);
    NetworkConfig.Transport transport = transport(config.network().transport());
    IoHandlerFactory io =
        switch (transport) {
          case EPOLL -> EpollIoHandler.newFactory();
          case IO_URING -> IoUringIoHandler.newFactory();
          default -> NioIoHandler.newFactory();
        };
    Class<? extends ServerChannel> channelType =
        switch (transport) {
          case EPOLL -> EpollServerSocketChannel.class;
          case IO_URING -> IoUringServerSocketChannel.class;
          default -> NioServerSocketChannel.class;
        };
    // One event loop per core: the loops never block (hub calls that may wait run on virtual
    // threads), so more loops than cores would only add context switches.
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(
            NettyRuntime.availableProcessors(),
            new DefaultThreadFactory("progress-hub-io", true),
            io);
    ExecutorService blocking =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("progress-hub-request-", 0).factory());
    Connections connections = new Connections();
    WireCodec codec = new WireCodec(config.limits().maxJsonDepth());
    ServerContext context =
        new ServerContext(
            hub,
            config,
            new Authenticator(config.auth(), meters::authFailed),
            new OriginPolicy(config.network().allowedOrigins()),
            new ConnectionLimiter(config.limits(), config.addresses()),
            new JobEncodings(codec),
            new RestJson(new RestCodec(config.limits().maxJsonDepth())),
            blocking,
            connections,
            new HeartbeatWheels(config.webSocket().heartbeatInterval()),
            new LoopWrites.PerLoop(meters::sampleWrite),
            meters,
            new AccessLog(config.accessLog()),
            new MonitorFeed(
                hub,
                connections,
                meters::figures,
                codec,
                Clock.systemUTC(),
                config.webSocket().monitorInterval()),
            new Readiness());
    meters.bind(context, group);
    try {
      Channel channel =
          new ServerBootstrap()
              .group(group)
              .channel(channelType)
              .option(ChannelOption.SO_BACKLOG, 4096)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              // One allocator for all connections (each still gets its own small read handle).
              .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator())
              .childOption(
                  ChannelOption.WRITE_BUFFER_WATER_MARK,
                  new WriteBufferWaterMark(32 * 1024, 64 * 1024))
              .childHandler(new ServerInitializer(context, tls))
              .bind(new InetSocketAddress(config.network().host(), config.network().port()))
              .syncUninterruptibly()
              .channel();
      tls.ifPresent(certificates -> watchForRenewals(certificates, group, blocking));
      LOG.info(
          "progress-hub listening on {} ({}{})",
          channel.localAddress(),
          transport.wireName(),
          tls.map(t -> ", TLS via " + t.provider()).orElse(""));
      return new ProgressHubServer(config, group, channel, context, blocking);
    } catch (Exception e) { // bind failures arrive as undeclared checked IOExceptions
      context.monitor().close();
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      blocking.shutdownNow();
      meters.close();
      throw e;
    }
  }

  /**
   * Polls the certificate files for changes. The check is two {@code stat} calls; a rebuild reads
   * and parses the files, so it runs off the event loops.
   */
  private static void watchForRenewals(
      TlsCertificates tls, EventLoopGroup group, ExecutorService blocking) {
    long interval = tls.config().reloadInterval().toMillis();
    group
        .next()
        .scheduleWithFixedDelay(
            () -> {
              try {
                blocking.execute(tls::reloadIfChanged);
              } catch (RejectedExecutionException shuttingDown) {
                // the event loops stop next, and this task with them
              }
            },
            interval,
            interval,
            TimeUnit.MILLISECONDS);
  }

  /** The transport to use: the one asked for, or for {@code auto} epoll where it works. */
  private static NetworkConfig.Transport transport(NetworkConfig.Transport requested) {
    return switch (requested) {
      case AUTO ->
          Epoll.isAvailable() ? NetworkConfig.Transport.EPOLL : NetworkConfig.Transport.NIO;
      case EPOLL -> {
        Epoll.ensureAvailability();
        yield requested;
      }
      case IO_URING -> {
        IoUring.ensureAvailability();
        yield requested;
      }
      case NIO -> requested;
    };
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Blocks until {@link #close} has finished. */
  public void awaitShutdown() throws InterruptedException {
    closed.await();
  }

  /**
   * Stops being ready: {@code GET /ready} answers 503 from now on, so that a load balancer sends
   * new clients elsewhere, while everything else is served as before until {@link #close}. For
   * rolling restarts: drain, wait for the balancer to notice, then close.
   */
  public void drain() {
    context.readiness().drain();
  }

  /**
   * Graceful shutdown: stop accepting, close WebSockets with 1001, end SSE streams, wait up to the
   * grace period for them to go, then stop the event loops. Does not close the hub: its owner does,
   * which flushes the store.
   */
  @Override
  public void close() {
    if (closing) {
      awaitQuietly();
      return;
    }
    closing = true;
    drain();
    try {
      serverChannel.close().syncUninterruptibly();
      Connections connections = context.connections();
      connections.goingAway(config.network().drainSpread());
      Duration grace = config.network().shutdownGrace();
      long deadline = System.nanoTime() + grace.toNanos();
      while (!connections.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      if (!connections.isEmpty()) {
        LOG.warn("{} connections still open after {}; closing them", connections.size(), grace);
        connections.closeAll();
        long closeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (!connections.isEmpty() && System.nanoTime() < closeDeadline) {
          Thread.sleep(10);
        }
      }
      blocking.shutdown();
      blocking.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      context.monitor().close();
      context.encodings().close();
      context.meters().close();
      LOG.info("progress-hub stopped");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closed.countDown();
    }
  }

  private void awaitQuietly() {
    try {
      closed.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
