package io.progresshub.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AttributeKey;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.AddressLimits;
import io.progresshub.server.LimitsConfig;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts connections so that no client, user or address can take every file descriptor of the
 * process: every socket in total and per client address (from the moment it is accepted), plain
 * HTTP connections in total, long-lived ones (WebSockets, SSE streams) in total and per user, and
 * new connections per address per second. Thread-safe.
 *
 * <p>A socket over a hard cap is closed at once, before it costs anything more. A connection over
 * the connect rate is kept just long enough to answer its first request with {@code 429} and {@code
 * Retry-After} (or, for a WebSocket, with close code 4429 after the upgrade, since a browser cannot
 * see the status of a refused handshake).
 *
 * <p>Behind a trusted proxy the peer is the proxy: the client's address then comes from {@code
 * X-Forwarded-For} on the connection's first request, and the per-address limits apply to it there.
 */
public final class ConnectionLimiter {
  /** A refusal to tell the client: its code, its text and when to try again. */
  public record Refusal(ErrorCode code, String message, Duration retryAfter) {
    /** As the error REST answers with ({@code Retry-After} included). */
    ApiException asException() {
      return new ApiException(code, message, retryAfter);
    }
  }

  /** Per-connection state, only for connections that need it (limited, or via a proxy). */
  private static final class Admission {
    Refusal refusal; // answered to the first request
    InetAddress client; // the client behind a trusted proxy, once counted
    boolean admitted;
  }

  private static final AttributeKey<Admission> ADMISSION =
      AttributeKey.valueOf(ConnectionLimiter.class, "admission");

  /** Buckets of addresses not seen for a while are forgotten past this many. */
  private static final int MAX_TRACKED_ADDRESSES = 100_000;

  private final int maxTotal;
  private final int maxPerUser;
  private final int maxHttp;
  private final int maxPerAddress;
  private final List<AddressBlock> trustedProxies;
  private final RateLimiter connects;
  private final RateLimiter publishes;

  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<String, AtomicInteger> perUser = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> perAddress =
      new ConcurrentHashMap<>();
  private final ChannelFutureListener onClose = this::closed;

  public ConnectionLimiter(LimitsConfig limits, AddressLimits addresses) {
    this.maxTotal = limits.maxConnections();
    this.maxPerUser = limits.maxConnectionsPerUser();
    this.maxHttp = limits.maxHttpConnections();
    this.maxPerAddress = addresses.maxConnectionsPerAddress();
    this.trustedProxies = addresses.trustedProxies().stream().map(AddressBlock::parse).toList();
    this.connects = new RateLimiter(addresses.connectRate(), MAX_TRACKED_ADDRESSES);
    this.publishes = new RateLimiter(limits.publishRate(), MAX_TRACKED_ADDRESSES);
  }

  // ------------------------------------------------------------------ every socket

  /**
   * A socket was accepted: counts it, or returns false if it must be closed at once (over the
   * plain-HTTP cap or its address's cap). Once counted, it is released when the channel closes.
   */
  public boolean tryOpen(Channel channel) {
    InetAddress peer = address(channel.remoteAddress());
    boolean proxied = peer != null && isTrustedProxy(peer);
    if (open.incrementAndGet() - total.get() > maxHttp) {
      open.decrementAndGet();
      return false;
    }
    if (peer != null && !proxied) {
      InetAddress key = addressKey(peer);
      if (!tryAcquireAddress(key)) {
        open.decrementAndGet();
        return false;
      }
      long wait = connects.tryAcquire(key);
      if (wait > 0) {
        admission(channel).refusal = tooFast(wait);
      }
    }
    channel.closeFuture().addListener(onClose);
    return true;
  }

  /**
   * Called for each request: the refusal its connection earned, if any. The first request of a
   * connection from a trusted proxy counts the client named by {@code X-Forwarded-For}.
   */
  public Optional<Refusal> admit(Channel channel, HttpRequest request) {
    Admission admission = channel.attr(ADMISSION).get();
    InetAddress peer = null;
    if (admission == null) {
      peer = address(channel.remoteAddress());
      if (peer == null || !isTrustedProxy(peer)) {
        return Optional.empty(); // the common case: counted at accept, nothing to say
      }
      admission = admission(channel);
    }
    if (!admission.admitted) {
      admission.admitted = true;
      if (admission.refusal == null && peer != null) {
        InetAddress client = addressKey(clientBehindProxy(peer, request));
        if (!tryAcquireAddress(client)) {
          admission.refusal =
              new Refusal(
                  ErrorCode.TOO_MANY_CONNECTIONS,
                  "too many connections from your address",
                  Duration.ofSeconds(1));
        } else {
          admission.client = client;
          long wait = connects.tryAcquire(client);
          if (wait > 0) {
            admission.refusal = tooFast(wait);
          }
        }
      }
    }
    return Optional.ofNullable(admission.refusal);
  }

  private static Refusal tooFast(long waitNanos) {
    return new Refusal(
        ErrorCode.RATE_LIMITED,
        "too many new connections from your address",
        Duration.ofNanos(waitNanos));
  }

  private void closed(ChannelFuture future) {
    Channel channel = future.channel();
    open.decrementAndGet();
    Admission admission = channel.attr(ADMISSION).get();
    if (admission != null && admission.client != null) {
      releaseAddress(admission.client);
      return;
    }
    InetAddress peer = address(channel.remoteAddress());
    if (peer != null && !isTrustedProxy(peer)) {
      releaseAddress(addressKey(peer));
    }
  }

  private static Admission admission(Channel channel) {
    Admission admission = channel.attr(ADMISSION).get();
    if (admission == null) {
      admission = new Admission();
      channel.attr(ADMISSION).set(admission);
    }
    return admission;
  }

  private boolean tryAcquireAddress(InetAddress key) {
    return tryAcquire(perAddress, key, maxPerAddress);
  }

  private void releaseAddress(InetAddress key) {
    release(perAddress, key);
  }

  public boolean isTrustedProxy(InetAddress peer) {
    for (AddressBlock block : trustedProxies) {
      if (block.contains(peer)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The client of a request that came through trusted proxy {@code peer}: the nearest address in
   * {@code X-Forwarded-For} that is not itself a trusted proxy; the peer when there is none. Only
   * the entries our own proxies appended are believed, so a client cannot pick its address.
   */
  public InetAddress clientBehindProxy(InetAddress peer, HttpRequest request) {
    List<String> headers = request.headers().getAll("X-Forwarded-For");
    InetAddress client = peer;
    for (int h = headers.size() - 1; h >= 0; h--) {
      String[] hops = headers.get(h).split(",");
      for (int i = hops.length - 1; i >= 0; i--) {
        byte[] bytes = AddressBlock.literal(hops[i].strip());
        if (bytes == null) {
          return client; // garbage: stop believing at the first entry we cannot read
        }
        try {
          client = InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
          return peer;
        }
        if (!isTrustedProxy(client)) {
          return client;
        }
      }
    }
    return client;
  }

  /** The key an address is counted under: the address itself, or its /64 for IPv6. */
  public static InetAddress addressKey(InetAddress address) {
    if (address instanceof Inet6Address) {
      byte[] bytes = Arrays.copyOf(address.getAddress(), 16);
      Arrays.fill(bytes, 8, 16, (byte) 0); // one host usually owns a whole /64
      try {
        return InetAddress.getByAddress(bytes);
      } catch (UnknownHostException e) {
        return address;
      }
    }
    return address;
  }

  private static InetAddress address(SocketAddress address) {
    return address instanceof InetSocketAddress inet ? inet.getAddress() : null;
  }

  // ------------------------------------------------------------------ long-lived connections

  public boolean tryAcquireTotal() {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return false;
    }
    return true;
  }

  public void releaseTotal() {
    total.decrementAndGet();
  }

  public boolean tryAcquireUser(String subject) {
    return tryAcquire(perUser, subject, maxPerUser);
  }

  public void releaseUser(String subject) {
    release(perUser, subject);
  }

  /** Open sockets of every kind. */
  public int open() {
    return open.get();
  }

  // ------------------------------------------------------------------ publishes

  /**
   * Takes {@code events} publishes from {@code subject}'s allowance: 0 if allowed, else the
   * nanoseconds to wait.
   */
  public long tryPublish(String subject, int events) {
    return publishes.tryAcquire(subject, events);
  }

  private static <K> boolean tryAcquire(
      ConcurrentHashMap<K, AtomicInteger> counts, K key, int max) {
    boolean[] ok = {true};
    counts.compute(
        key,
        (k, count) -> {
          AtomicInteger value = count != null ? count : new AtomicInteger();
          if (value.get() >= max) {
            ok[0] = false;
          } else {
            value.incrementAndGet();
          }
          return value.get() == 0 ? null : value;
        });
    return ok[0];
  }

  private static <K> void release(ConcurrentHashMap<K, AtomicInteger> counts, K key) {
    counts.computeIfPresent(key, (k, count) -> count.decrementAndGet() <= 0 ? null : count);
  }
}
