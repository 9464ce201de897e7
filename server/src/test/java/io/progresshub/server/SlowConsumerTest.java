package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading. Its socket receive buffer is shrunk and every state is padded with
 * 32 KiB of metadata, so ~19 MB of events overrun every kernel buffer (a few MB on loopback) and
 * reach the server's own outbound queue whatever the machine.
 */
class SlowConsumerTest {
  private static final int RECEIVE_BUFFER = 4096;
  private static final int EVENTS = 600;
  private static final Map<String, Object> PADDING = Map.of("padding", "x".repeat(32 * 1024));

  private static RawWsClient slowReader(TestServer server, String job) {
    RawWsClient client =
        RawWsClient.connect(
            server.port(),
            "/ws/" + job + "?token=" + server.token("alice", Role.SUBSCRIBER),
            RECEIVE_BUFFER);
    client.next("connection_established");
    client.next("subscribed");
    client.next("progress");
    return client;
  }

  @Test
  void readerThatFallsBehindGetsConflatedTicksButEveryTransitionAndTheFinalState() {
    try (TestServer server = TestServer.start()) {
      String job = server.newJob("alice");
      server.publishDirect(job, JobUpdate.builder().metadata(PADDING).build());
      try (RawWsClient client = slowReader(server, job)) {
        List<Long> transitions = new ArrayList<>();
        int ticks = 0;
        for (int i = 0; i < EVENTS; i++) {
          double progress = i * 99.0 / EVENTS;
          if (i % 50 == 0) {
            transitions.add(
                server
                    .publishDirect(
                        job, JobUpdate.builder().stage("stage-" + i).progress(progress).build())
                    .seq());
          } else {
            server.publishDirect(job, JobUpdate.builder().progress(progress).build());
            ticks++;
          }
        }
        long done =
            server
                .publishDirect(
                    job,
                    JobUpdate.builder()
                        .status(JobStatus.COMPLETED)
                        .result(Map.of("ok", true))
                        .build())
                .seq();
        transitions.add(done);

        // Now read everything the server kept for us.
        List<JsonNode> received = new ArrayList<>();
        JsonNode message;
        do {
          message = client.next("progress");
          received.add(message);
        } while (message.path("seq").asLong() != done);

        List<Long> seqs = received.stream().map(m -> m.path("seq").asLong()).toList();
        assertThat(seqs).isSorted().doesNotHaveDuplicates().containsAll(transitions);
        long receivedTicks = seqs.stream().filter(seq -> !transitions.contains(seq)).count();
        assertThat(receivedTicks).as("ticks delivered of %s published", ticks).isLessThan(ticks);
        JsonNode last = received.get(received.size() - 1);
        assertThat(last.path("status").asText()).isEqualTo("completed");
        assertThat(last.path("result").path("ok").asBoolean()).isTrue();
      }
    }
  }

  @Test
  void readerPastTheOutboundLimitGetsEveryStateQueuedBeforeItThenClose4008() {
    try (TestServer server =
        TestServer.withLimits(TestServer.Limits.defaults().maxOutboundBytes(256 * 1024))) {
      String job = server.newJob("alice");
      server.publishDirect(job, JobUpdate.builder().metadata(PADDING).build());
      try (RawWsClient client = slowReader(server, job)) {
        // Stage changes are never conflated: they pile up until the limit trips.
        for (int i = 0; i < EVENTS; i++) {
          server.publishDirect(
              job, JobUpdate.builder().stage("stage-" + i).progress(i / 10.0).build());
        }
        RawWsClient.Closed closed = client.readUntilClose();
        assertThat(closed.code()).isEqualTo(4008);
        assertThat(closed.reason()).contains("slow consumer");
        List<Long> seqs = closed.messages().stream().map(m -> m.path("seq").asLong()).toList();
        // Contiguous from the first state after subscribing: nothing dropped or reordered
        // before the close.
        assertThat(seqs).isNotEmpty().first().isEqualTo(3L);
        assertThat(seqs).isSorted().doesNotHaveDuplicates().hasSize((int) (seqs.getLast() - 2));
        assertThat(seqs.getLast())
            .as("closed before everything was delivered")
            .isLessThan(server.hub.get(job).seq());
      }
    }
  }
}
