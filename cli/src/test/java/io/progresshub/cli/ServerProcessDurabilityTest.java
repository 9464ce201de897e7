package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash a producer must be able to trust the server through: events that the producer saw
 * acknowledged over HTTP survive {@code kill -9} of the real {@code progress-hub serve} process,
 * and a new process on the same data directory restores every job, its history and its event ids.
 *
 * <p>Each job has one producer, so its event {@code i} gets seq {@code i + 1} (creation is seq 1).
 * Event {@code i} sets stage {@code stage-(i / 5)}: every fifth event (and the first, which starts
 * the job) is a transition that history must keep; the others are ticks it may compact.
 */
class ServerProcessDurabilityTest {

  private static final int JOBS = 3;
  private static final int STAGE_EVERY = 5;

  /** Acknowledgements to see before the kill: many group commits, and well inside the bounds. */
  private static final int ACKS_BEFORE_KILL = 600;

  private static final int MAX_EVENTS_PER_JOB = 5_000;
  private static final Duration MAX_PRODUCING = Duration.ofSeconds(120);

  @TempDir Path dir;

  private final List<ServerProcess> servers = new ArrayList<>();
  private final String publisher = ServerProcess.token("worker", Role.PUBLISHER);

  /** One acknowledged publish, as the producer saw it. */
  record Ack(String jobId, int index, long seq, String status, String stage) {}

  @AfterEach
  void stopServers() {
    servers.forEach(ServerProcess::close);
  }

  @Test
  void everyAcknowledgedEventSurvivesKillMinus9AndARestartRestoresJobsAndHistory()
      throws Exception {
    ServerProcess first = start();
    List<String> jobIds = new ArrayList<>();
    for (int j = 0; j < JOBS; j++) {
      String id = "crash-job-" + j;
      first.call("POST", "/api/jobs", publisher, "{\"id\":\"" + id + "\",\"type\":\"crash\"}", 201);
      jobIds.add(id);
    }

    // ---- produce as fast as acknowledgements come back, and kill -9 in the middle of it
    Map<String, List<Ack>> acks = new ConcurrentHashMap<>();
    Map<String, Integer> unanswered = new ConcurrentHashMap<>(); // job -> event index in flight
    List<String> unexpected = new CopyOnWriteArrayList<>();
    AtomicInteger ackCount = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    long deadline = System.nanoTime() + MAX_PRODUCING.toNanos();
    List<Thread> producers = new ArrayList<>();
    for (String jobId : jobIds) {
      List<Ack> jobAcks = new CopyOnWriteArrayList<>();
      acks.put(jobId, jobAcks);
      producers.add(
          Thread.ofPlatform()
              .name("producer-" + jobId)
              .start(
                  () -> {
                    for (int i = 1; i <= MAX_EVENTS_PER_JOB; i++) {
                      if (stop.get()) {
                        unanswered.put(jobId, i); // killed between two events: i is unsent
                        return;
                      }
                      if (System.nanoTime() > deadline) {
                        unexpected.add(jobId + ": out of time at event " + i);
                        return;
                      }
                      HttpResponse<String> response;
                      try {
                        response =
                            first.post(
                                "/api/jobs/" + jobId + "/events",
                                Optional.of(publisher),
                                eventBody(jobId, i));
                      } catch (IOException e) {
                        unanswered.put(jobId, i); // the server died: a producer would retry i
                        return;
                      }
                      if (response.statusCode() != 200) {
                        unexpected.add(jobId + " event " + i + ": " + response.body());
                        return;
                      }
                      JsonNode job = ServerProcess.parse(response.body());
                      jobAcks.add(
                          new Ack(
                              jobId,
                              i,
                              job.path("seq").asLong(),
                              job.path("status").asText(),
                              job.path("stage").asText()));
                      ackCount.incrementAndGet();
                    }
                    unexpected.add(jobId + ": ran out of events before the kill");
                  }));
    }
    int exitCode;
    try {
      await("acknowledged events before the kill")
          .atMost(MAX_PRODUCING)
          .pollInterval(Duration.ofMillis(20))
          .failFast("a producer stopped: " + unexpected, () -> !unexpected.isEmpty())
          .until(() -> ackCount.get() >= ACKS_BEFORE_KILL);
      exitCode = first.kill();
    } finally {
      stop.set(true);
      first.close();
      for (Thread producer : producers) {
        producer.join(Duration.ofSeconds(60));
      }
    }
    assertThat(exitCode).as("exit code of kill -9 (128 + SIGKILL)").isEqualTo(137);
    assertThat(producers).noneMatch(Thread::isAlive);
    assertThat(unexpected).as("every producer was cut off mid-stream by the kill").isEmpty();
    assertThat(unanswered).as("each producer had an event in flight").containsOnlyKeys(jobIds);

    for (List<Ack> jobAcks : acks.values()) {
      for (Ack ack : jobAcks) {
        assertThat(ack.seq()).as("seq of %s", ack).isEqualTo(ack.index() + 1L);
        assertThat(ack.status()).isEqualTo("in_progress");
        assertThat(ack.stage()).isEqualTo(expectedStage(ack.seq()));
      }
    }
    System.out.printf(
        "kill -9 after %d acknowledged events: %s%n",
        ackCount.get(),
        acks.entrySet().stream()
            .map(e -> e.getKey() + " up to seq " + maxSeq(e.getValue()))
            .toList());

    // ---- a new process on the same data directory
    ServerProcess second = start();
    for (String jobId : jobIds) {
      List<Ack> jobAcks = acks.get(jobId);
      long ackedSeq = maxSeq(jobAcks);

      JsonNode job = second.call("GET", "/api/jobs/" + jobId, publisher, null, 200);
      long seq = job.path("seq").asLong();
      // The event in flight may have committed without its answer arriving; nothing else may.
      assertThat(seq).as("seq of %s after the restart", jobId).isBetween(ackedSeq, ackedSeq + 1);
      assertThat(job.path("status").asText()).isEqualTo("in_progress");
      assertThat(job.path("stage").asText()).isEqualTo(expectedStage(seq));

      List<JsonNode> history = history(second, jobId);
      List<Long> seqs = history.stream().map(e -> e.path("seq").asLong()).toList();
      assertThat(seqs).as("history seqs of %s", jobId).isSorted().doesNotHaveDuplicates();
      assertThat(seqs).first().isEqualTo(1L);
      assertThat(seqs).last().isEqualTo(seq);
      for (long s = 1; s <= seq; s++) {
        if (isTransition(s)) {
          assertThat(seqs).as("transition seq %d of %s", s, jobId).contains(s);
        }
      }
      for (JsonNode entry : history) {
        long s = entry.path("seq").asLong();
        assertThat(entry.path("job_id").asText()).isEqualTo(jobId);
        assertThat(entry.path("status").asText()).isEqualTo(s == 1 ? "pending" : "in_progress");
        assertThat(entry.path("stage").isNull() ? null : entry.path("stage").asText())
            .as("stage of seq %d of %s", s, jobId)
            .isEqualTo(expectedStage(s));
      }

      // A retry of any acknowledged event gets its original answer and changes nothing.
      for (Ack ack : jobAcks) {
        JsonNode retried =
            second.call(
                "POST",
                "/api/jobs/" + jobId + "/events",
                publisher,
                eventBody(jobId, ack.index()),
                200);
        assertThat(retried.path("seq").asLong()).as("retry of %s", ack).isEqualTo(ack.seq());
        assertThat(retried.path("stage").asText()).isEqualTo(ack.stage());
      }
      assertThat(
              second.call("GET", "/api/jobs/" + jobId, publisher, null, 200).path("seq").asLong())
          .as("seq of %s after retrying every acknowledged event", jobId)
          .isEqualTo(seq);
    }

    // ---- a watcher resumes after the restart, then sees the producers carry on
    String jobId = jobIds.getFirst();
    long current =
        second.call("GET", "/api/jobs/" + jobId, publisher, null, 200).path("seq").asLong();
    long since = Math.max(0, current - 3L * STAGE_EVERY);
    try (WsProbe watcher =
        WsProbe.connect(
            second.http, second.ws("/ws/" + jobId + "?token=" + publisher + "&since=" + since))) {
      watcher.next("connection_established");
      JsonNode subscribed = watcher.next("subscribed");
      assertThat(subscribed.path("job_id").asText()).isEqualTo(jobId);
      assertThat(subscribed.path("seq").asLong()).isEqualTo(current);
      assertThat(subscribed.path("recovered").asBoolean()).as("recovered: %s", subscribed).isTrue();
      List<JsonNode> replay =
          watcher.until(m -> m.path("seq").asLong() == current, 3 * STAGE_EVERY + 1);
      List<Long> replayed = new ArrayList<>();
      for (JsonNode message : replay) {
        assertThat(message.path("type").asText()).isEqualTo("progress");
        assertThat(message.path("replay").asBoolean()).as("replay flag of %s", message).isTrue();
        replayed.add(message.path("seq").asLong());
      }
      assertThat(replayed).isSorted().doesNotHaveDuplicates().allMatch(s -> s > since);
      Set<Long> transitions = new TreeSet<>();
      for (long s = since + 1; s <= current; s++) {
        if (isTransition(s)) {
          transitions.add(s);
        }
      }
      assertThat(replayed).as("replay after since=%d", since).containsAll(transitions);

      // The producer retries the event that got no answer: it lands exactly once, either way.
      int inFlight = unanswered.get(jobId);
      JsonNode retried =
          second.call(
              "POST", "/api/jobs/" + jobId + "/events", publisher, eventBody(jobId, inFlight), 200);
      long ackedSeq = maxSeq(acks.get(jobId));
      assertThat(retried.path("seq").asLong())
          .as("retry of the unanswered event %d", inFlight)
          .isEqualTo(ackedSeq + 1);
      JsonNode next =
          second.call(
              "POST",
              "/api/jobs/" + jobId + "/events",
              publisher,
              eventBody(jobId, inFlight + 1),
              200);
      assertThat(next.path("seq").asLong()).isEqualTo(ackedSeq + 2);

      List<JsonNode> live = watcher.until(m -> m.path("seq").asLong() == ackedSeq + 2, 3);
      for (JsonNode message : live) {
        assertThat(message.path("type").asText()).isEqualTo("progress");
        assertThat(message.path("replay").asBoolean()).isFalse();
        assertThat(message.path("seq").asLong()).isGreaterThan(current);
      }
    }
  }

  private ServerProcess start() {
    ServerProcess server = ServerProcess.start(dir);
    servers.add(server);
    return server;
  }

  private static String eventBody(String jobId, int index) {
    double progress = Math.min(99.0, index * 100.0 / MAX_EVENTS_PER_JOB);
    return "{\"event_id\":\""
        + jobId
        + "-e"
        + index
        + "\",\"progress\":"
        + progress
        + ",\"stage\":\"stage-"
        + index / STAGE_EVERY
        + "\",\"message\":\"event "
        + index
        + "\"}";
  }

  /** The stage after seq {@code seq}: none at creation, then that of event {@code seq - 1}. */
  private static String expectedStage(long seq) {
    return seq == 1 ? null : "stage-" + (seq - 1) / STAGE_EVERY;
  }

  /** Creation, the first event (it starts the job) and every stage change. */
  private static boolean isTransition(long seq) {
    long index = seq - 1;
    return seq == 1 || index == 1 || index % STAGE_EVERY == 0;
  }

  private static long maxSeq(List<Ack> acks) {
    return acks.stream().mapToLong(Ack::seq).max().orElse(1);
  }

  /** The whole history, a page at a time. */
  private List<JsonNode> history(ServerProcess server, String jobId) {
    List<JsonNode> entries = new ArrayList<>();
    long since = 0;
    for (int page = 0; page < 100; page++) {
      JsonNode answer =
          server.call(
              "GET",
              "/api/jobs/" + jobId + "/events?since=" + since + "&limit=1000",
              publisher,
              null,
              200);
      JsonNode events = answer.path("events");
      if (events.isEmpty()) {
        return entries;
      }
      events.forEach(entries::add);
      since = events.get(events.size() - 1).path("seq").asLong();
    }
    throw new AssertionError("history of " + jobId + " has more than 100 pages");
  }
}
