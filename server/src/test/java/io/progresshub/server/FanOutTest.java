package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** One job, a thousand watchers: every one of them sees every transition, in order. */
class FanOutTest {
  private static final int CONNECTIONS = 1_000;
  private static final int STAGES = 10;

  @Test
  void thousandSubscribersOfOneJobAllGetEveryTransitionInOrder() {
    try (TestServer server = TestServer.start()) {
      String job = server.newJob("owner");
      List<WsClient> clients = new ArrayList<>(CONNECTIONS);
      try {
        // Connect in batches so the handshakes do not all queue on two cores at once.
        for (int batch = 0; batch < CONNECTIONS; batch += 100) {
          List<CompletableFuture<WsClient>> pending = new ArrayList<>();
          for (int i = batch; i < batch + 100; i++) {
            String token = server.token("viewer-" + (i % 20), Role.PUBLISHER);
            pending.add(
                WsClient.connectAsync(server.http, server.ws("/ws?token=" + token), Map.of()));
          }
          for (CompletableFuture<WsClient> future : pending) {
            clients.add(future.orTimeout(30, TimeUnit.SECONDS).join());
          }
        }
        for (WsClient client : clients) {
          client.send("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\"}");
        }
        for (WsClient client : clients) {
          client.next("connection_established");
          assertThat(client.next("subscribed").path("seq").asLong()).isEqualTo(1);
          assertThat(client.next("progress").path("seq").asLong()).isEqualTo(1);
        }

        List<Long> transitions = new ArrayList<>();
        for (int stage = 0; stage < STAGES; stage++) {
          transitions.add(
              server
                  .publishDirect(
                      job, JobUpdate.builder().stage("stage-" + stage).progress(stage * 10).build())
                  .seq());
          server.publishDirect(job, JobUpdate.builder().progress(stage * 10 + 5).build());
        }
        long done =
            server
                .publishDirect(job, JobUpdate.builder().status(JobStatus.COMPLETED).build())
                .seq();
        transitions.add(done);

        for (WsClient client : clients) {
          List<Long> seqs =
              client.until(m -> m.path("seq").asLong() == done).stream()
                  .map(m -> m.path("seq").asLong())
                  .toList();
          assertThat(seqs).isSorted().doesNotHaveDuplicates().containsAll(transitions);
        }
      } finally {
        clients.forEach(WsClient::close);
      }
    }
  }
}
