package io.progresshub.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.Hub;
import io.progresshub.core.Job;
import io.progresshub.core.JobLifecycle;
import io.progresshub.core.JobStatus;
import io.progresshub.core.NewJob;
import io.progresshub.core.Subscriber;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Embed it in a JVM application" example, run as written, plus a restart. */
class EmbeddingExampleTest {

  @Test
  void readmeEmbeddingExampleWorksAndSurvivesARestart(@TempDir Path data) {
    List<String> printed = new CopyOnWriteArrayList<>();
    try (Hub hub = Hub.builder().store(SqliteJobStore.open(data)).build()) {
      Job job = hub.create(NewJob.builder().id("job-123").type("captions").build());
      hub.subscribe(
          job.id(),
          OptionalLong.empty(),
          new Subscriber() {
            @Override
            public void onSubscribed(Job current, boolean recovered) {}

            @Override
            public void onJob(Job state, boolean replay, boolean transition) {
              printed.add(state.status() + " " + state.progress());
            }
          });
      JobLifecycle lifecycle = hub.lifecycle(job.id());
      lifecycle.markStarted();
      lifecycle.markProgress(40, "chunk 4/10");
      lifecycle.markCompleted(Map.of("captions", "s3://bucket/job-123.vtt"));

      await()
          .untilAsserted(
              () ->
                  assertThat(printed)
                      .containsExactly(
                          "PENDING 0.0", "IN_PROGRESS 0.0", "IN_PROGRESS 40.0", "COMPLETED 100.0"));
    }

    try (Hub restarted = Hub.builder().store(SqliteJobStore.open(data)).build()) {
      Job job = restarted.get("job-123");
      assertThat(job.status()).isEqualTo(JobStatus.COMPLETED);
      assertThat(job.result()).contains(Map.of("captions", "s3://bucket/job-123.vtt"));
      assertThat(restarted.history("job-123", 0, 100))
          .extracting(Job::seq)
          .containsExactly(1L, 2L, 3L, 4L);
    }
  }
}
