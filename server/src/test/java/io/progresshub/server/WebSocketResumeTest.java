package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.Role;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Reconnect and resume with {@code since}: no state change lost, no seq twice. */
class WebSocketResumeTest {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static String token() {
    return server.token("alice", Role.SUBSCRIBER);
  }

  private static long publish(String job, JobUpdate update) {
    return server.publishDirect(job, update).seq();
  }

  private static JobUpdate progress(double value) {
    return JobUpdate.builder().progress(value).build();
  }

  private static JobUpdate stage(String stage, double value) {
    return JobUpdate.builder().stage(stage).progress(value).build();
  }

  private static List<Long> seqs(List<JsonNode> messages) {
    return messages.stream().map(m -> m.path("seq").asLong()).toList();
  }

  @Test
  void aResumeAtTheCurrentSeqGetsSubscribedAndNothingItHasAlready() {
    String job = server.newJob("alice");
    long current = publish(job, stage("download", 10));
    for (String path :
        List.of("/ws/" + job + "?since=" + current + "&token=" + token(), "/ws?token=" + token())) {
      try (WsClient client = server.connect(path)) {
        client.next("connection_established");
        if (path.startsWith("/ws?")) {
          client.send(
              "{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"since\":" + current + "}");
        }
        JsonNode subscribed = client.next("subscribed");
        assertThat(subscribed.path("seq").asLong()).isEqualTo(current);
        assertThat(subscribed.path("recovered").asBoolean()).isTrue();
        client.send("{\"type\":\"ping\",\"id\":\"after\"}");
        assertThat(client.next().path("type").asText())
            .as("the state at its since is not sent again")
            .isEqualTo("pong");
      }
    }
  }

  @Test
  void reconnectWithSinceReplaysEveryMissedTransitionInOrderEndingWithTheCurrentState() {
    String job = server.newJob("alice");
    long lastSeen;
    try (WsClient client = server.connect("/ws/" + job + "?token=" + token())) {
      client.next("connection_established");
      client.next("subscribed");
      client.next("progress");
      publish(job, stage("download", 10));
      lastSeen = publish(job, progress(20));
      assertThat(client.until(m -> m.path("seq").asLong() == lastSeen)).isNotEmpty();
    } // the client drops here

    List<Long> transitions = new ArrayList<>();
    publish(job, progress(30));
    transitions.add(publish(job, stage("transcribe", 40)));
    publish(job, progress(50));
    publish(job, progress(60));
    transitions.add(publish(job, stage("encode", 70)));
    long current = publish(job, progress(90));

    try (WsClient client =
        server.connect("/ws/" + job + "?since=" + lastSeen + "&token=" + token())) {
      client.next("connection_established");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("recovered").asBoolean()).isTrue();
      assertThat(subscribed.path("seq").asLong()).isEqualTo(current);
      assertThat(subscribed.path("status").asText()).isEqualTo("in_progress");

      List<JsonNode> replayed = client.until(m -> m.path("seq").asLong() == current);
      List<Long> seqs = seqs(replayed);
      assertThat(seqs).allMatch(seq -> seq > lastSeen).isSorted().doesNotHaveDuplicates();
      assertThat(seqs).containsAll(transitions);
      assertThat(replayed).allMatch(m -> m.path("type").asText().equals("progress"));
      assertThat(replayed).allMatch(m -> m.path("replay").asBoolean());
      JsonNode last = replayed.get(replayed.size() - 1);
      assertThat(last.path("progress").asDouble()).isEqualTo(90.0);
      assertThat(last.path("stage").asText()).isEqualTo("encode");

      long done = publish(job, JobUpdate.builder().status(JobStatus.COMPLETED).build());
      JsonNode live = client.next("progress");
      assertThat(live.path("seq").asLong()).isEqualTo(done);
      assertThat(live.has("replay")).isFalse();
    }
  }

  @Test
  void resumeOnTheMultiplexedEndpointAfterTheJobFinishedMatchesTheSampleSession() {
    String job = server.newJob("alice");
    publish(job, stage("transcribe", 40));
    for (int i = 0; i < 4; i++) {
      publish(job, progress(50 + i));
    }
    long lastSeen = server.hub.get(job).seq();
    long done =
        publish(
            job,
            JobUpdate.builder()
                .status(JobStatus.COMPLETED)
                .result(Map.of("captions", "s3://captions"))
                .build());
    try (WsClient client = server.connect("/ws?token=" + token())) {
      client.next("connection_established");
      client.send(
          "{\"type\":\"subscribe\",\"job_id\":\""
              + job
              + "\",\"since\":"
              + lastSeen
              + ",\"id\":\"s2\"}");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("status").asText()).isEqualTo("completed");
      assertThat(subscribed.path("seq").asLong()).isEqualTo(done);
      assertThat(subscribed.path("recovered").asBoolean()).isTrue();
      assertThat(subscribed.path("id").asText()).isEqualTo("s2");
      JsonNode last = client.next("progress");
      assertThat(last.path("seq").asLong()).isEqualTo(done);
      assertThat(last.path("status").asText()).isEqualTo("completed");
      assertThat(last.path("result").path("captions").asText()).isEqualTo("s3://captions");
      assertThat(last.path("replay").asBoolean()).isTrue();
      client.assertOpen(); // and nothing else: seq 7 is not sent twice
    }
  }

  @Test
  void subscribingAfterTheJobFinishedYieldsTheTerminalStateAtOnce() {
    String completed = server.newJob("alice");
    publish(completed, progress(10));
    publish(
        completed,
        JobUpdate.builder().status(JobStatus.COMPLETED).result(Map.of("pages", 12)).build());
    String failed = server.newJob("alice");
    publish(failed, JobUpdate.builder().status(JobStatus.FAILED).error("out of memory").build());

    try (WsClient client = server.connect("/ws/" + completed + "?token=" + token())) {
      client.next("connection_established");
      assertThat(client.next("subscribed").path("status").asText()).isEqualTo("completed");
      JsonNode state = client.next("progress");
      assertThat(state.path("status").asText()).isEqualTo("completed");
      assertThat(state.path("result").path("pages").asInt()).isEqualTo(12);
    }
    try (WsClient client = server.connect("/ws?token=" + token())) {
      client.next("connection_established");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + failed + "\"}");
      assertThat(client.next("subscribed").path("status").asText()).isEqualTo("failed");
      JsonNode state = client.next("progress");
      assertThat(state.path("status").asText()).isEqualTo("failed");
      assertThat(state.path("error").asText()).isEqualTo("out of memory");
    }
  }

  @Test
  void sinceAheadOfTheServerGetsTheCurrentStateWithRecoveredFalse() {
    String job = server.newJob("alice");
    publish(job, progress(10));
    try (WsClient client = server.connect("/ws/" + job + "?since=999&token=" + token())) {
      client.next("connection_established");
      JsonNode subscribed = client.next("subscribed");
      assertThat(subscribed.path("recovered").asBoolean()).isFalse();
      assertThat(client.next("progress").path("seq").asLong()).isEqualTo(2);
    }
  }

  @Test
  void everyTransitionReachesAClientThatKeepsDroppingExactlyOnce() {
    String job = server.newJob("alice");
    Set<Long> transitions = new HashSet<>();
    List<Long> seen = new ArrayList<>();
    long since = 0;
    for (int round = 0; round < 5; round++) {
      try (WsClient client =
          server.connect("/ws/" + job + "?since=" + since + "&token=" + token())) {
        client.next("connection_established");
        long current = client.next("subscribed").path("seq").asLong();
        List<JsonNode> caughtUp = client.until(m -> m.path("seq").asLong() == current);
        seen.addAll(seqs(caughtUp));
        // Live events while connected; the client drops after the first of them.
        transitions.add(publish(job, stage("round-" + round, round * 10)));
        long tick = publish(job, progress(round * 10 + 5));
        JsonNode live = client.next("progress");
        seen.add(live.path("seq").asLong());
        since = live.path("seq").asLong();
        assertThat(since).isLessThan(tick);
      }
      // Missed while disconnected.
      transitions.add(publish(job, stage("gap-" + round, round * 10 + 6)));
      publish(job, progress(round * 10 + 7));
    }
    long done = publish(job, JobUpdate.builder().status(JobStatus.COMPLETED).build());
    transitions.add(done);
    try (WsClient client = server.connect("/ws/" + job + "?since=" + since + "&token=" + token())) {
      client.next("connection_established");
      client.next("subscribed");
      seen.addAll(seqs(client.until(m -> m.path("seq").asLong() == done)));
    }
    assertThat(seen).doesNotHaveDuplicates().isSorted();
    assertThat(seen).containsAll(transitions);
    Job finalState = server.hub.get(job);
    assertThat(seen.get(seen.size() - 1)).isEqualTo(finalState.seq());
  }
}
