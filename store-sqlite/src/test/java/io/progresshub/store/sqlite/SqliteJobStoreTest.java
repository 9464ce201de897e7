package io.progresshub.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobStatus;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.JobStoreContract;
import io.progresshub.core.spi.StoredEvent;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteJobStoreTest extends JobStoreContract {

  @TempDir Path dataDir;

  @Override
  protected JobStore newStore() {
    return SqliteJobStore.open(dataDir);
  }

  @Override
  protected Optional<JobStore> reopen(JobStore closed) {
    return Optional.of(SqliteJobStore.open(dataDir));
  }

  @Test
  void opensItsFileInTheDataDirectoryAndCreatesMissingDirectories() {
    Path nested = dataDir.resolve("a/b/c");

    try (SqliteJobStore nestedStore = SqliteJobStore.open(nested)) {
      assertThat(nestedStore.file()).isEqualTo(nested.resolve("progress-hub.db"));
      assertThat(nestedStore.file()).exists();
    }
  }

  @Test
  void databaseIsInWalModeAndRecordsItsSchemaVersion() throws SQLException {
    appendAll(created("job-1"));

    try (Connection connection = jdbc(dataDir);
        Statement statement = connection.createStatement()) {
      assertThat(query(statement, "PRAGMA journal_mode")).isEqualTo("wal");
      assertThat(query(statement, "PRAGMA user_version")).isEqualTo(String.valueOf(Schema.VERSION));
    }
  }

  @Test
  void openingAFileFromANewerReleaseFailsWithAClearError() throws SQLException {
    store.close();
    try (Connection connection = jdbc(dataDir);
        Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA user_version = 99");
    }

    assertThatThrownBy(() -> SqliteJobStore.open(dataDir))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("store_unavailable"))
        .hasMessageContaining("schema version 99")
        .hasMessageContaining("newer progress-hub");
  }

  @Test
  void timestampsComeBackExactToTheNanosecond() {
    Instant created = Instant.parse("2026-03-01T09:00:00.123456789Z");
    Instant started = Instant.parse("2026-03-01T09:00:01.000000001Z");
    Job job = created("job-1");
    job =
        new Job(
            job.id(),
            job.owner(),
            job.type(),
            job.status(),
            1,
            0,
            Optional.empty(),
            Optional.empty(),
            Map.of(),
            Optional.empty(),
            Optional.empty(),
            created,
            created,
            Optional.empty(),
            Optional.empty(),
            OptionalDouble.empty(),
            0);
    Job running = JobRules.apply(job, update().progress(1.0 / 3).build(), started);
    appendAll(job, running);

    store.close();
    try (JobStore reopened = SqliteJobStore.open(dataDir)) {
      assertThat(reopened.find("job-1")).contains(running);
      assertThat(reopened.find("job-1").orElseThrow().startedAt()).contains(started);
      assertThat(reopened.history("job-1", 0, 10)).containsExactly(job, running);
    }
  }

  @Test
  void jobsCreatedInTheSameMillisecondListInCreationOrder() {
    Instant base = Instant.parse("2026-03-01T09:00:00Z");
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Job template = created("job-" + (3 - i)); // ids run against creation order
      jobs.add(
          new Job(
              template.id(),
              template.owner(),
              template.type(),
              template.status(),
              1,
              0,
              Optional.empty(),
              Optional.empty(),
              Map.of(),
              Optional.empty(),
              Optional.empty(),
              base.plusNanos(1000L * i),
              base.plusNanos(1000L * i),
              Optional.empty(),
              Optional.empty(),
              OptionalDouble.empty(),
              0));
    }
    appendAll(jobs.toArray(Job[]::new));

    assertThat(store.list(JobQuery.all()).jobs())
        .containsExactly(jobs.get(2), jobs.get(1), jobs.get(0));
  }

  @Test
  void anEventTheStoreRefusesFailsAloneAndTheRestOfItsBatchLands() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().progress(10));
    Job s3 = next(s2, update().progress(20));
    Job s4 = next(s3, update().progress(30));
    Job other = created("job-2");
    appendAll(s1, s2);

    // Queued together, so very likely one batch: the event that skips seq 3 (built on one that
    // never landed) fails, its neighbours commit.
    CompletableFuture<Void> stale = store.append(new StoredEvent(s4, true, Optional.empty()));
    CompletableFuture<Void> good = store.append(event(s2, s3, Optional.empty()));
    CompletableFuture<Void> alsoGood = store.append(first(other));

    assertThat(failureOf(stale))
        .isInstanceOfSatisfying(
            HubException.class, e -> assertThat(e.code()).isEqualTo("store_unavailable"))
        .hasMessageContaining("seq 2");
    await(good);
    await(alsoGood);
    assertThat(store.find("job-1")).contains(s3);
    assertThat(store.history("job-1", 0, 10)).containsExactly(s1, s2, s3);
    assertThat(store.find("job-2")).contains(other);
  }

  @Test
  void whileAnotherProcessHoldsTheWriteLockAppendsFailAsUnavailableThenRecover()
      throws SQLException {
    Path lockedDir = dataDir.resolve("locked");
    try (SqliteJobStore locked =
        SqliteJobStore.open(lockedDir, SqliteJobStore.Synchronous.FULL, Duration.ofMillis(200))) {
      Job s1 = created("job-1");
      Job s2 = next(s1, update().progress(10));
      await(locked.append(first(s1)));

      CompletableFuture<Void> refused;
      try (Connection other = jdbc(lockedDir);
          Statement statement = other.createStatement()) {
        statement.execute("BEGIN IMMEDIATE");
        refused = locked.append(event(s1, s2, Optional.empty()));

        assertThat(failureOf(refused))
            .isInstanceOfSatisfying(
                HubException.class, e -> assertThat(e.code()).isEqualTo("store_unavailable"));
        // Reads go on beside a writer in WAL mode.
        assertThat(locked.find("job-1")).contains(s1);
        statement.execute("ROLLBACK");
      }

      // The lock is gone: the retried event lands.
      await(locked.append(event(s1, s2, Optional.empty())));
      assertThat(locked.find("job-1")).contains(s2);
    }
  }

  @Test
  void writesRunOnOneDaemonPlatformThreadThatCloseStops() {
    appendAll(created("job-1"));

    assertThat(writerThreads())
        .singleElement()
        .satisfies(
            thread -> {
              assertThat(thread.isDaemon()).isTrue();
              assertThat(thread.isVirtual()).isFalse();
            });

    store.close();

    assertThat(writerThreads()).isEmpty();
  }

  private static List<Thread> writerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().equals(SqliteJobStore.WRITER_THREAD_NAME))
        .toList();
  }

  @Test
  void retentionFromACompletionCallbackDoesNotWaitForItself() {
    Job s1 = created("job-1");
    Job s2 = next(s1, update().status(JobStatus.CANCELLED));
    Instant later = tick();
    appendAll(s1);

    List<String> expired =
        store
            .append(event(s1, s2, Optional.empty()))
            .thenApply(ignored -> store.deleteFinishedBefore(later))
            .orTimeout(10, TimeUnit.SECONDS)
            .join();

    assertThat(expired).containsExactly("job-1");
    assertThat(store.find("job-1")).isEmpty();
  }

  @Test
  void largeGroupCommitFromSeveralThreadsLandsAndCompletesInCallOrder() throws Exception {
    int threads = 4;
    int jobsPerThread = 25;
    int eventsPerJob = 100;
    List<String> completed = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long began;
    try {
      List<Future<List<String>>> calledPerThread = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        calledPerThread.add(
            pool.submit(
                () -> {
                  List<Job> latest = new ArrayList<>();
                  for (int j = 0; j < jobsPerThread; j++) {
                    latest.add(created("t" + thread + "-job-" + j));
                  }
                  List<String> called = new ArrayList<>();
                  start.await();
                  for (int i = 0; i < eventsPerJob; i++) {
                    for (int j = 0; j < jobsPerThread; j++) {
                      Job previous = latest.get(j);
                      Job job =
                          i == 0
                              ? previous
                              : next(
                                  previous,
                                  i % 25 == 0
                                      ? update().stage("stage-" + i)
                                      : update().progress(i).eventId("ev-" + i));
                      latest.set(j, job);
                      StoredEvent event =
                          i == 0
                              ? first(job)
                              : event(previous, job, Optional.of(job.id() + "/" + i));
                      String key = job.id() + "#" + job.seq();
                      called.add(key);
                      store.append(event).thenRun(() -> completed.add(key));
                    }
                  }
                  return called;
                }));
      }
      began = System.nanoTime();
      start.countDown();
      List<List<String>> called = new ArrayList<>();
      for (Future<List<String>> each : calledPerThread) {
        called.add(each.get(60, TimeUnit.SECONDS));
      }
      int total = threads * jobsPerThread * eventsPerJob;
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> completed.size() == total);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
      System.out.printf(
          "sqlite group commit: %d appends from %d threads in %d ms (%.0f/s)%n",
          total, threads, millis, total * 1000.0 / Math.max(1, millis));

      assertThat(completed).hasSize(total);
      // Each thread's appends completed in the order that thread made them.
      for (int t = 0; t < threads; t++) {
        String prefix = "t" + t + "-";
        assertThat(completed.stream().filter(key -> key.startsWith(prefix)).toList())
            .containsExactlyElementsOf(called.get(t));
      }
      for (int t = 0; t < threads; t++) {
        for (int j = 0; j < jobsPerThread; j++) {
          String id = "t" + t + "-job-" + j;
          Job job = store.find(id).orElseThrow();
          assertThat(job.seq()).isEqualTo(eventsPerJob);
          assertThat(store.history(id, 0, 1000))
              .extracting(Job::seq)
              .containsExactly(1L, 2L, 26L, 51L, 76L, 100L);
          // A compacted tick's event id still answers with the state it produced.
          assertThat(store.findByEventId(id, id + "/49").orElseThrow().seq()).isEqualTo(50);
        }
      }
      assertThat(store.list(JobQuery.all()).total()).isEqualTo(threads * jobsPerThread);
    } finally {
      pool.shutdownNow();
    }
  }

  private static Connection jdbc(Path dataDir) throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("progress-hub.db"));
  }

  private static String query(Statement statement, String sql) throws SQLException {
    try (ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getString(1);
    }
  }
}
