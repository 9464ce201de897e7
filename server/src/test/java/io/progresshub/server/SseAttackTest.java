package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.JobUpdate;
import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Server-Sent Event streams under load, past their token, and from a client that stops reading. */
class SseAttackTest {

  @Test
  void threeHundredSseStreamsOpenedUnderLoadAllStartWithTheirHeaders() throws Exception {
    try (TestServer server = TestServer.start()) {
      String job = server.newJob("alice");
      String token = server.token("alice", Role.SUBSCRIBER);
      AtomicBoolean publishing = new AtomicBoolean(true);
      // Ticks keep every event loop's write queue busy while the streams start.
      Thread publisher =
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; publishing.get() && i < 100_000; i++) {
                      server.publishDirect(job, JobUpdate.builder().progress(i % 100).build());
                      try {
                        Thread.sleep(1);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
      List<String> firstLines = new ArrayList<>();
      try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int round = 0; round < 3; round++) {
          List<Future<String>> opened = new ArrayList<>();
          List<RawHttp> connections = new ArrayList<>();
          for (int i = 0; i < 100; i++) {
            RawHttp connection = RawHttp.open(server.port());
            connections.add(connection);
            opened.add(
                clients.submit(
                    () -> {
                      connection.write(
                          RawHttp.request(
                              "GET",
                              "/api/jobs/" + job + "/stream?token=" + token,
                              java.util.Map.of("Accept", "text/event-stream")));
                      return connection.readLine() + " / " + connection.readLine();
                    }));
          }
          for (Future<String> line : opened) {
            firstLines.add(line.get(30, TimeUnit.SECONDS));
          }
          connections.forEach(RawHttp::close);
        }
      } finally {
        publishing.set(false);
        publisher.join(Duration.ofSeconds(10));
      }
      assertThat(firstLines)
          .hasSize(300)
          .allSatisfy(line -> assertThat(line).startsWith("HTTP/1.1 200 OK / "));
    }
  }

  @Test
  void anSseStreamEndsWithAnUnauthorizedEventWhenItsTokenExpires() {
    try (TestServer server = TestServer.start()) {
      String job = server.newJob("alice");
      // Accepted for 2 s more: its exp passed, but not by the allowed clock skew.
      Duration ttl = Duration.ofSeconds(2).minus(JwtTokens.CLOCK_SKEW);
      String shortLived = server.tokens.issue("alice", Role.SUBSCRIBER, List.of(), ttl);
      AtomicBoolean publishing = new AtomicBoolean(true);
      Thread publisher =
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; publishing.get() && i < 200; i++) {
                      server.publishDirect(job, JobUpdate.builder().progress(i % 100).build());
                      try {
                        Thread.sleep(200);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
      try (SseClient stream =
          SseClient.open(server.port(), "/api/jobs/" + job + "/stream?token=" + shortLived)) {
        assertThat(stream.status()).isEqualTo(200);
        long started = System.nanoTime();
        List<SseClient.Event> events = stream.eventsUntilEnd();
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        assertThat(seconds).as("seconds the stream lasted").isLessThanOrEqualTo(5);
        assertThat(events)
            .last()
            .satisfies(
                last -> {
                  assertThat(last.event()).isEqualTo("error");
                  assertThat(last.data()).contains("\"code\":\"unauthorized\"");
                });
        assertThat(events).filteredOn(e -> !e.event().equals("error")).isNotEmpty();
      } finally {
        publishing.set(false);
        publisher.interrupt();
      }
    }
  }

  @Test
  void anSseClientThatStopsReadingIsCutOffAtTheStallTimeout() throws Exception {
    try (TestServer server =
        TestServer.withLimits(TestServer.Limits.defaults().stallTimeout(Duration.ofSeconds(1)))) {
      String job = server.newJob("alice");
      java.net.Socket socket = new java.net.Socket();
      socket.setReceiveBufferSize(4096);
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()));
      try (socket) {
        socket
            .getOutputStream()
            .write(
                RawHttp.request(
                        "GET",
                        "/api/jobs/"
                            + job
                            + "/stream?token="
                            + server.token("alice", Role.SUBSCRIBER),
                        java.util.Map.of())
                    .getBytes());
        // Ticks big enough to fill every buffer between us quickly; the client never reads.
        java.util.Map<String, Object> padding = java.util.Map.of("pad", "x".repeat(16 * 1024));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server.hub.stats().subscriptions() == 0 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        int published = 0;
        while (server.hub.stats().subscriptions() > 0 && System.nanoTime() < deadline) {
          server.publishDirect(
              job, JobUpdate.builder().progress(published++ % 100).metadata(padding).build());
          Thread.sleep(2);
        }
        assertThat(server.hub.stats().subscriptions())
            .as("the stalled stream was closed (after %s events)", published)
            .isZero();
      }
    }
  }
}
