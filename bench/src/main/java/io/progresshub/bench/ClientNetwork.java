package io.progresshub.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The generator's network side: ONE event loop (the generator is pinned to one core; one thread
 * means no locks anywhere in the scenario state), epoll, and client sockets bound round-robin to
 * 127.0.0.1..127.0.0.N so that the ~28k ephemeral ports of one source address are no limit.
 */
final class ClientNetwork implements AutoCloseable {

  final String host;
  final int port;
  final boolean epoll;
  private final EventLoopGroup group;
  final EventLoop loop;
  private final int sources;
  private int nextSource;

  ClientNetwork(String host, int port, int sources) {
    if (!host.startsWith("127.")) {
      throw new IllegalArgumentException("the bench only talks to 127.0.0.0/8, not " + host);
    }
    this.host = host;
    this.port = port;
    this.sources = Math.max(1, Math.min(sources, 254));
    this.epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("bench-io", true), io);
    this.loop = group.next();
  }

  /** A bootstrap for one client socket from the next source address. */
  Bootstrap bootstrap() {
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(8192, 16384))
            .remoteAddress(host, port);
    if (epoll) {
      // Pick the port at connect time, per destination: each source address then offers the whole
      // ephemeral range to this one server port.
      b.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
    }
    int source = 1 + (nextSource++ % sources);
    b.localAddress(new InetSocketAddress("127.0.0." + source, 0));
    return b;
  }

  /** Runs {@code task} on the event loop and waits for its result. */
  <T> T call(Callable<T> task) {
    try {
      return loop.submit(task).get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("event loop task timed out", e);
    }
  }

  void run(Runnable task) {
    call(
        () -> {
          task.run();
          return null;
        });
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
