package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.InMemoryJobStore;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.Role;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import io.progresshub.protocol.CloseCode;
import io.progresshub.server.internal.websocket.WebSocketSession;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What one hostile WebSocket client can make the server spend, each attack against a real server
 * over a real socket: the server must bound the memory and CPU it gives one connection, answer with
 * the documented error or close code, and keep every ordering promise while it does.
 */
class WebSocketAttackTest {

  // ------------------------------------------------------------------ ping flood

  @Test
  void aPingFloodFromAClientThatNeverReadsIsClosedWithinSecondsAndIsNotReadMeanwhile() {
    try (TestServer server =
            TestServer.withLimits(
                TestServer.Limits.defaults().stallTimeout(Duration.ofSeconds(1)));
        RawWsClient client =
            RawWsClient.connect(
                server.port(), "/ws?token=" + server.token("mallory", Role.SUBSCRIBER), 4096)) {
      floodWithPingsUntilClosed(client);
    }
  }

  @Test
  void aPingFloodOnACompressedConnectionIsAnsweredWithOnlyTheLatestPongAndClosedWithinSeconds() {
    try (TestServer server =
            TestServer.start(
                config ->
                    TestServer.compression()
                        .apply(config)
                        .withLimits(
                            config.limits().toBuilder()
                                .stallTimeout(Duration.ofSeconds(1))
                                .build()));
        RawWsClient client =
            RawWsClient.connect(
                server.port(),
                "/ws?token=" + server.token("mallory", Role.SUBSCRIBER),
                4096,
                Map.of("Sec-WebSocket-Extensions", "permessage-deflate"))) {
      floodWithPingsUntilClosed(client);
    }
  }

  /**
   * Writes pings (100-byte payloads) until the server cuts the client off, never reading a byte,
   * and checks that it was cut off within seconds and could not send more than the kernel buffers
   * hold: the server stops reading once the client stops reading its pongs.
   */
  private static void floodWithPingsUntilClosed(RawWsClient client) {
    byte[] ping = RawWsClient.encode(RawWsClient.PING, true, new byte[100]);
    byte[] burst = new byte[ping.length * 100];
    for (int i = 0; i < 100; i++) {
      System.arraycopy(ping, 0, burst, i * ping.length, ping.length);
    }
    AtomicLong sent = new AtomicLong();
    long started = System.nanoTime();
    Thread flood =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    while (System.nanoTime() - started < TimeUnit.SECONDS.toNanos(20)) {
                      client.sendRaw(burst);
                      sent.addAndGet(burst.length);
                    }
                  } catch (UncheckedIOException closedByServer) {
                    // what the test waits for
                  }
                });
    boolean ended;
    try {
      ended = flood.join(Duration.ofSeconds(20));
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
    client.close(); // unblocks a write the server never drained
    assertThat(ended).as("the server closed the flooding connection within 20 s").isTrue();
    assertThat(seconds).as("seconds until closed").isLessThanOrEqualTo(10);
    assertThat(sent.get()).as("bytes of pings the server let in").isLessThan(64L << 20);
  }

  // ------------------------------------------------------------------ trickled frames

  @Test
  void aFrameTrickledOneByteAtATimeIsClosedWith1008AtTheFrameTimeout() throws Exception {
    try (TestServer server =
            TestServer.withLimits(
                TestServer.Limits.defaults().frameTimeout(Duration.ofMillis(800)));
        RawWsClient client = server.raw("/ws?token=" + server.token("mallory", Role.SUBSCRIBER))) {
      client.noDelay();
      client.next("connection_established");
      byte[] frame =
          RawWsClient.encode(RawWsClient.TEXT, true, "x".repeat(64 * 1024 - 100).getBytes());
      long started = System.nanoTime();
      Thread trickle =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (byte b : frame) {
                        client.sendRaw(new byte[] {b});
                        Thread.sleep(1);
                      }
                    } catch (UncheckedIOException | InterruptedException closed) {
                      // the server gave up on it
                    }
                  });
      RawWsClient.Closed closed = client.readUntilClose();
      trickle.interrupt();
      assertThat(closed.code()).isEqualTo(CloseCode.POLICY_VIOLATION.code());
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
          .as("ms until closed")
          .isLessThan(5_000);
    }
  }

  @Test
  void aFragmentedMessageLeftUnfinishedIsClosedWith1008AtTheFrameTimeout() {
    try (TestServer server =
            TestServer.withLimits(
                TestServer.Limits.defaults().frameTimeout(Duration.ofMillis(500)));
        RawWsClient client = server.raw("/ws?token=" + server.token("mallory", Role.SUBSCRIBER))) {
      client.next("connection_established");
      client.sendFrame(RawWsClient.TEXT, false, "{\"type\":".getBytes(StandardCharsets.UTF_8));
      for (int i = 0; i < 1000; i++) {
        client.sendFrame(0x0, false, new byte[0]); // empty continuations: never the end
      }
      assertThat(client.readUntilClose().code()).isEqualTo(CloseCode.POLICY_VIOLATION.code());
    }
  }

  @Test
  void aFrameSplitOverManyReadsWithinTheTimeoutIsServed() throws Exception {
    try (TestServer server = TestServer.start();
        RawWsClient client = server.raw("/ws?token=" + server.token("alice", Role.SUBSCRIBER))) {
      client.noDelay();
      client.next("connection_established");
      String ping = "{\"type\":\"ping\",\"id\":\"" + "p".repeat(2000) + "\"}";
      byte[] frame = RawWsClient.encode(RawWsClient.TEXT, true, ping.getBytes());
      for (int i = 0; i < frame.length; i += 97) { // the header itself split too
        client.sendRaw(java.util.Arrays.copyOfRange(frame, i, Math.min(frame.length, i + 97)));
        Thread.sleep(1);
      }
      assertThat(client.next("pong").path("id").asText()).startsWith("ppp");
    }
  }

  // ------------------------------------------------------------------ subscribe storms

  @Test
  void twoThousandResubscribesInOneWriteRunAtMostThePendingLimitOfReplaysAndEndIn4429() {
    SlowHistoryStore store = new SlowHistoryStore();
    try (TestServer server =
        TestServer.start(
            store,
            config ->
                config.withLimits(
                    config.limits().toBuilder()
                        .maxPendingCommands(4)
                        .commandRate(new Rate(100, 200))
                        .build()))) {
      String job = server.newJob("alice");
      for (int i = 0; i < 3000; i++) {
        server.publishDirect(job, JobUpdate.builder().stage("stage-" + i).build());
      }
      try (RawWsClient client = server.raw("/ws?token=" + server.token("alice", Role.SUBSCRIBER))) {
        client.next("connection_established");
        String subscribe = "{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"since\":0}";
        client.sendTextsInOneWrite(Collections.nCopies(2000, subscribe));
        RawWsClient.Closed closed = client.readUntilClose();
        assertThat(closed.code()).isEqualTo(CloseCode.RATE_LIMITED.code());
        assertThat(closed.messages())
            .filteredOn(m -> m.path("code").asText().equals("rate_limited"))
            .isNotEmpty();
        assertThat(closed.messages())
            .filteredOn(m -> m.path("type").asText().equals("subscribed"))
            .as("subscriptions answered: at most the command burst")
            .hasSizeLessThanOrEqualTo(200);
      }
      assertThat(store.maxConcurrentHistoryReads.get())
          .as("replays read from the store at once for one connection")
          .isLessThanOrEqualTo(4);
    }
  }

  @Test
  void aReplayManyTimesTheOutboundLimitIsStreamedAtTheReadersPaceWithoutA4008() {
    try (TestServer server =
        TestServer.withLimits(TestServer.Limits.defaults().maxOutboundBytes(256 * 1024))) {
      String job = server.newJob("alice");
      Map<String, Object> padding = Map.of("padding", "x".repeat(8 * 1024));
      for (int i = 0; i < 600; i++) {
        server.publishDirect(job, JobUpdate.builder().stage("s" + i).metadata(padding).build());
      }
      long last = server.hub.get(job).seq();
      // About 5 MB of replay, 20 times the outbound limit, to a reader with a 4 KiB window.
      try (RawWsClient client =
          RawWsClient.connect(
              server.port(),
              "/ws/" + job + "?since=0&token=" + server.token("alice", Role.SUBSCRIBER),
              4096)) {
        client.next("connection_established");
        client.next("subscribed");
        long seq = 0;
        int read = 0;
        while (seq < last) {
          JsonNode message = client.next();
          assertThat(message.path("type").asText()).as("message %s", message).isEqualTo("progress");
          assertThat(message.path("seq").asLong()).isGreaterThan(seq);
          seq = message.path("seq").asLong();
          if (++read % 20 == 0) {
            Thread.sleep(5); // a slow reader: the replay must wait for it, not pile up
          }
        }
        assertThat(read).as("replayed states").isGreaterThanOrEqualTo(600);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void unsubscribeRightAfterSubscribeLeavesNothingAboutTheJobAfterUnsubscribed() {
    try (TestServer server = TestServer.start()) {
      String job = server.newJob("alice");
      for (int i = 0; i < 1500; i++) {
        server.publishDirect(job, JobUpdate.builder().stage("stage-" + i).build());
      }
      Job current = server.hub.get(job);
      for (int attempt = 0; attempt < 20; attempt++) {
        try (RawWsClient client =
            server.raw("/ws?token=" + server.token("alice", Role.SUBSCRIBER))) {
          client.next("connection_established");
          client.sendTextsInOneWrite(
              List.of(
                  "{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"since\":0,\"id\":\"s\"}",
                  "{\"type\":\"unsubscribe\",\"job_id\":\"" + job + "\",\"id\":\"u\"}"));
          JsonNode message;
          do {
            message = client.next();
          } while (!message.path("type").asText().equals("unsubscribed"));
          assertThat(message.path("id").asText()).isEqualTo("u");
          assertThat(message.path("seq").asLong())
              .as("unsubscribed carries the job's real seq")
              .isEqualTo(current.seq());
          assertThat(message.path("status").asText()).isEqualTo(current.status().wireName());
          client.sendText("{\"type\":\"ping\",\"id\":\"after\"}");
          List<JsonNode> after = new ArrayList<>();
          while (!(message = client.next()).path("type").asText().equals("pong")) {
            after.add(message);
          }
          assertThat(after).as("messages after unsubscribed (attempt %s)", attempt).isEmpty();
        }
      }
    }
  }

  @Test
  void resubscribesInOneWriteNeverRepeatOrRewindASeqWithinOneSubscription() {
    try (TestServer server = TestServer.start()) {
      String job = server.newJob("alice");
      for (int i = 0; i < 1500; i++) {
        server.publishDirect(job, JobUpdate.builder().stage("stage-" + i).build());
      }
      long last = server.hub.get(job).seq();
      for (int attempt = 0; attempt < 10; attempt++) {
        try (RawWsClient client =
            server.raw("/ws?token=" + server.token("alice", Role.SUBSCRIBER))) {
          client.next("connection_established");
          String subscribe =
              "{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"since\":0,\"id\":\"s%d\"}";
          client.sendTextsInOneWrite(
              List.of(subscribe.formatted(1), subscribe.formatted(2), subscribe.formatted(3)));
          // Each subscription's seqs only go up; the last one (s3) reaches the current state.
          long previous = -1;
          String segment = "";
          while (!(segment.equals("s3") && previous == last)) {
            JsonNode message = client.next();
            String type = message.path("type").asText();
            if (type.equals("subscribed")) {
              assertThat(segment)
                  .as("subscriptions in request order")
                  .isLessThan(message.path("id").asText());
              segment = message.path("id").asText();
              previous = -1;
            } else if (type.equals("progress")) {
              long seq = message.path("seq").asLong();
              assertThat(seq).as("seq after %s in %s", previous, segment).isGreaterThan(previous);
              previous = seq;
            }
          }
        }
      }
    }
  }

  @Test
  void aClientIgnoringRateLimitedIsClosedWith4429() {
    try (TestServer server =
            TestServer.withLimits(TestServer.Limits.defaults().commandRate(new Rate(5, 5)));
        RawWsClient client = server.raw("/ws?token=" + server.token("alice", Role.SUBSCRIBER))) {
      client.next("connection_established");
      client.sendTextsInOneWrite(Collections.nCopies(50, "{\"type\":\"ping\"}"));
      RawWsClient.Closed closed = client.readUntilClose();
      assertThat(closed.code()).isEqualTo(CloseCode.RATE_LIMITED.code());
      assertThat(closed.messages())
          .filteredOn(m -> m.path("type").asText().equals("pong"))
          .hasSize(5);
      assertThat(closed.messages())
          .filteredOn(m -> m.path("code").asText().equals("rate_limited"))
          .hasSize(WebSocketSession.MAX_REFUSED_COMMANDS);
    }
  }

  @Test
  void aClientWithinTheCommandRateIsNeverRefused() throws Exception {
    try (TestServer server =
            TestServer.withLimits(TestServer.Limits.defaults().commandRate(new Rate(50, 10)));
        RawWsClient client = server.raw("/ws?token=" + server.token("alice", Role.SUBSCRIBER))) {
      client.next("connection_established");
      for (int i = 0; i < 30; i++) {
        client.sendText("{\"type\":\"ping\",\"id\":\"" + i + "\"}");
        assertThat(client.next("pong").path("id").asText()).isEqualTo(Integer.toString(i));
        Thread.sleep(25); // 40 a second: under the rate
      }
    }
  }

  // ------------------------------------------------------------------ probing

  @Test
  void aSubscriberGetsTheSameAnswerForAnotherUsersJobAsForAnUnknownOne() {
    try (TestServer server = TestServer.start()) {
      String bobs = server.newJob("bob");
      String unknown = "no-such-job-" + System.nanoTime();
      String alice = server.token("alice", Role.SUBSCRIBER);
      try (RawWsClient client = server.raw("/ws?token=" + alice)) {
        client.next("connection_established");
        List<JsonNode> answers = new ArrayList<>();
        for (String job : List.of(bobs, unknown)) {
          client.sendText("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"id\":\"x\"}");
          answers.add(client.next("error"));
          client.sendText("{\"type\":\"cancel\",\"job_id\":\"" + job + "\",\"id\":\"x\"}");
          answers.add(client.next("error"));
        }
        assertThat(answers.get(0).path("code").asText()).isEqualTo("job_not_found");
        assertThat(answers.get(0).path("code")).isEqualTo(answers.get(2).path("code"));
        assertThat(answers.get(1).path("code")).isEqualTo(answers.get(3).path("code"));
        assertThat(answers.get(0).path("error").asText().replace(bobs, "?"))
            .isEqualTo(answers.get(2).path("error").asText().replace(unknown, "?"));
      }
      for (String prefix : List.of("/ws/", "/progress/ws/")) {
        int[] codes = new int[2];
        int i = 0;
        for (String job : List.of(bobs, unknown)) {
          try (RawWsClient client = server.raw(prefix + job + "?token=" + alice)) {
            codes[i++] = client.readUntilClose().code();
          }
        }
        assertThat(codes[0]).isEqualTo(CloseCode.JOB_NOT_FOUND.code()).isEqualTo(codes[1]);
      }
    }
  }

  /** An in-memory store whose history reads take a little while, and that counts them. */
  private static final class SlowHistoryStore implements JobStore {
    private final InMemoryJobStore delegate = new InMemoryJobStore();
    private final AtomicInteger concurrentHistoryReads = new AtomicInteger();
    final AtomicInteger maxConcurrentHistoryReads = new AtomicInteger();

    @Override
    public List<Job> history(String jobId, long afterSeq, int limit) {
      maxConcurrentHistoryReads.accumulateAndGet(
          concurrentHistoryReads.incrementAndGet(), Math::max);
      try {
        Thread.sleep(5);
        return delegate.history(jobId, afterSeq, limit);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        concurrentHistoryReads.decrementAndGet();
      }
    }

    @Override
    public CompletableFuture<Void> append(StoredEvent event) {
      return delegate.append(event);
    }

    @Override
    public Optional<Job> find(String jobId) {
      return delegate.find(jobId);
    }

    @Override
    public Optional<Job> findByEventId(String jobId, String eventId) {
      return delegate.findByEventId(jobId, eventId);
    }

    @Override
    public JobPage list(JobQuery query) {
      return delegate.list(query);
    }

    @Override
    public Map<JobStatus, Long> countByStatus() {
      return delegate.countByStatus();
    }

    @Override
    public CompletableFuture<Boolean> delete(String jobId) {
      return delegate.delete(jobId);
    }

    @Override
    public List<String> deleteFinishedBefore(Instant cutoff) {
      return delegate.deleteFinishedBefore(cutoff);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
