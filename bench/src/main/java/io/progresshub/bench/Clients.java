package io.progresshub.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * The WebSocket clients of a scenario, their shared scratch space and their connection pacing (at
 * most {@code concurrency} handshakes in flight, so that opening 19k connections measures the
 * server and not the listen backlog). Event loop only, except the waiting helpers.
 */
final class Clients {

  /** What a scenario does with what the clients see. */
  interface Listener {
    default void onSubscribed(WsConn conn) {}

    void onProgress(WsConn conn, MessageScan msg, long nowNanos);

    default void onClosed(WsConn conn) {}

    /** Ignores everything. */
    Listener NONE = (conn, msg, now) -> {};
  }

  final ClientNetwork net;
  final Auth auth;
  final String path = "/ws/";
  final MessageScan msg = new MessageScan();
  final List<WsConn> all = new ArrayList<>();
  Listener listener = Listener.NONE;
  long errors;
  long fragmented;
  private byte[] scratch = new byte[8192];
  private final ArrayDeque<WsConn> queue = new ArrayDeque<>();
  private final java.util.Set<WsConn> pacing = new java.util.HashSet<>();
  private int concurrency = 500;
  private final Map<String, Integer> failures = new TreeMap<>();

  Clients(ClientNetwork net, Auth auth) {
    this.net = net;
    this.auth = auth;
  }

  byte[] scratch(int len) {
    if (scratch.length < len) {
      scratch = new byte[Math.max(len, scratch.length * 2)];
    }
    return scratch;
  }

  /** New connection objects (not connected yet), one per job id given. */
  List<WsConn> create(List<String> jobIds) {
    List<WsConn> created = new ArrayList<>(jobIds.size());
    for (String jobId : jobIds) {
      WsConn conn = new WsConn(this, all.size(), jobId);
      all.add(conn);
      created.add(conn);
    }
    return created;
  }

  /**
   * Opens subscribers: makes {@code listener} the clients' listener (before the first message
   * arrives), connects {@code conns} with at most {@code connect.concurrency} handshakes in flight,
   * and waits until each is subscribed or closed, for at most {@code connect.timeout-seconds}.
   * Returns how many are subscribed and open.
   */
  int subscribe(List<WsConn> conns, Listener listener, Params params) {
    this.listener = listener;
    connect(conns, params.i("connect.concurrency"));
    return awaitSubscribed(conns, params.d("connect.timeout-seconds"));
  }

  /** Sums a per-connection counter ({@code c -> c.lostTransitions}) over {@code conns}. */
  long sum(List<WsConn> conns, ToLongFunction<WsConn> counter) {
    return net.call(() -> conns.stream().mapToLong(counter).sum());
  }

  /** Connects {@code conns}, at most {@code concurrency} handshakes at a time (0: all at once). */
  void connect(List<WsConn> conns, int concurrency) {
    net.run(
        () -> {
          this.concurrency = concurrency <= 0 ? Integer.MAX_VALUE : concurrency;
          queue.addAll(conns);
          pump();
        });
  }

  private void pump() {
    while (pacing.size() < concurrency && !queue.isEmpty()) {
      WsConn conn = queue.poll();
      pacing.add(conn);
      conn.connect();
    }
  }

  private void settled(WsConn conn) {
    if (pacing.remove(conn)) {
      pump();
    }
  }

  void onOpen(WsConn conn) {}

  void onSubscribed(WsConn conn) {
    settled(conn);
    listener.onSubscribed(conn);
  }

  void onProgress(WsConn conn, MessageScan m, long now) {
    listener.onProgress(conn, m, now);
  }

  void onClosed(WsConn conn) {
    settled(conn);
    if (conn.failure != null) {
      failures.merge(summary(conn.failure), 1, Integer::sum);
    } else if (conn.closeCode > 0 && conn.closeCode != 1000) {
      failures.merge("closed by server with " + conn.closeCode, 1, Integer::sum);
    }
    listener.onClosed(conn);
  }

  private static String summary(String failure) {
    String s = failure.replaceAll("[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+:[0-9]+", "ADDR");
    return s.length() > 120 ? s.substring(0, 120) : s;
  }

  /**
   * Waits until every connection in {@code conns} is subscribed or closed; returns how many are
   * subscribed and open. Bounded by {@code timeoutSeconds}.
   */
  int awaitSubscribed(List<WsConn> conns, double timeoutSeconds) {
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    while (true) {
      int[] counts =
          net.call(
              () -> {
                int ok = 0;
                int done = 0;
                for (WsConn c : conns) {
                  if (c.state == WsConn.CLOSED) {
                    done++;
                  } else if (c.subscribed && c.state == WsConn.OPEN) {
                    ok++;
                    done++;
                  }
                }
                return new int[] {ok, done};
              });
      if (counts[1] == conns.size() || System.nanoTime() > deadline) {
        return counts[0];
      }
      sleep(20);
    }
  }

  /** Closes {@code conns} (close frame 1000) and waits up to 30 s for the sockets to go. */
  void closeAll(List<WsConn> conns) {
    net.run(
        () -> {
          queue.removeAll(conns);
          conns.forEach(WsConn::close);
        });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      boolean done = net.call(() -> conns.stream().allMatch(c -> c.channel == null));
      if (done) {
        break;
      }
      sleep(50);
    }
    net.run(() -> conns.forEach(WsConn::drop));
  }

  Map<String, Integer> failures() {
    return net.call(() -> new TreeMap<>(failures));
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
