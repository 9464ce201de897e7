package io.progresshub.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.core.spi.StoredEvent;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite store under faults of its environment, with real files and processes. */
class SqliteStoreFaultsTest {

  private static final Duration PATIENCE = Duration.ofSeconds(30);

  /** SQLite's default page size, which the store keeps. */
  private static final int PAGE_SIZE = 4096;

  @TempDir Path dataDir;

  private Instant now = Instant.parse("2026-03-01T09:00:00Z");

  @Test
  void aWriteAfterAFailedWriteOfTheSameJobFailsTooSoNoSeqGapAppears() throws Exception {
    try (SqliteJobStore store = open(Duration.ofSeconds(5))) {
      Job s1 = created("job-1");
      Job s2 = next(s1, JobUpdate.builder().stage("download"));
      Job s3 = next(s2, JobUpdate.builder().stage("transcribe").metadata(unwritable()));
      // Built on s3 but writable again: it drops the key s3 could not store.
      Job s4 = next(s3, JobUpdate.builder().stage("encode").metadata(without("opaque")));
      await(store.append(event(s1)));
      await(store.append(event(s2)));

      CompletableFuture<Void> third = store.append(event(s3));
      CompletableFuture<Void> fourth = store.append(event(s4));

      assertThat(failureOf(third)).isInstanceOf(HubException.class);
      assertUnavailable(fourth);
      assertThat(store.find("job-1")).contains(s2);
      assertThat(store.history("job-1", 0, 10)).containsExactly(s1, s2);
    }
  }

  @Test
  void aWriteThatFailedBehindAnExternalWriteLockTakesTheQueuedWritesOfItsJobWithIt()
      throws Exception {
    try (SqliteJobStore store = open(Duration.ofMillis(300))) {
      Job s1 = created("job-1");
      Job s2 = next(s1, JobUpdate.builder().stage("download"));
      Job s3 = next(s2, JobUpdate.builder().stage("transcribe"));
      Job s4 = next(s3, JobUpdate.builder().stage("encode"));
      await(store.append(event(s1)));
      await(store.append(event(s2)));

      CompletableFuture<Void> third;
      CompletableFuture<Void> fourth;
      try (ExternalWriteLock lock = ExternalWriteLock.hold(store.file())) {
        third = store.append(event(s3, "e3"));
        // Let the writer take seq 3 alone and wait for the lock, as a producer's next event
        // arrives while the previous one is being written.
        Thread.sleep(100);
        fourth = store.append(event(s4, "e4"));
        assertUnavailable(third);
      } // released: seq 4 may reach the database now, but must not land without seq 3

      assertUnavailable(fourth);
      assertThat(store.find("job-1")).contains(s2);
      assertThat(store.findByEventId("job-1", "e4")).isEmpty();
      // Retried in order, both land once.
      await(store.append(event(s3, "e3")));
      await(store.append(event(s4, "e4")));
      assertThat(store.history("job-1", 0, 10)).containsExactly(s1, s2, s3, s4);
    }
  }

  @Test
  void fiftyWritesQueuedBehindAnExternalWriteLockFailWithinOneBusyTimeoutAndWritesRecover()
      throws Exception {
    Duration busyTimeout = Duration.ofMillis(500);
    try (SqliteJobStore store = open(busyTimeout)) {
      await(store.append(event(created("warm-up"))));
      List<CompletableFuture<Void>> queued = new ArrayList<>();
      AtomicLong lastAnswered = new AtomicLong();
      long began;
      try (ExternalWriteLock lock = ExternalWriteLock.hold(store.file())) {
        began = System.nanoTime();
        for (int i = 0; i < 50; i++) {
          CompletableFuture<Void> write = store.append(event(created("job-" + i)));
          // When the store answered, not when this thread got round to looking.
          write.whenComplete(
              (ignored, failure) -> lastAnswered.accumulateAndGet(System.nanoTime(), Math::max));
          queued.add(write);
        }
        for (CompletableFuture<Void> write : queued) {
          assertUnavailable(write);
        }
        System.out.printf(
            "50 writes behind %s holding the write lock: all refused %d ms after the first"
                + " (busy timeout %d ms)%n",
            lock.isProcess() ? "a sqlite3 process" : "another connection",
            TimeUnit.NANOSECONDS.toMillis(lastAnswered.get() - began),
            busyTimeout.toMillis());
      }
      long stalled = lastAnswered.get() - began;

      assertThat(Duration.ofNanos(stalled)).isLessThan(busyTimeout.multipliedBy(2));
      // The lock is gone: the next writes land at once.
      List<CompletableFuture<Void>> retried = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        retried.add(store.append(event(created("job-" + i))));
      }
      for (CompletableFuture<Void> write : retried) {
        await(write);
      }
      assertThat(store.find("job-49")).isPresent();
    }
  }

  @Test
  void aFullWriteQueueFailsWritesAtOnceWithARetryAfterHint() throws Exception {
    Path data = dataDir.resolve("data");
    try (SqliteJobStore store =
        SqliteJobStore.builder(data)
            .busyTimeout(Duration.ofSeconds(5))
            .maxPendingWrites(10)
            .open()) {
      await(store.append(event(created("warm-up"))));
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      List<Integer> refusedAtOnce = new ArrayList<>();
      try (ExternalWriteLock lock = ExternalWriteLock.hold(store.file())) {
        // The writer takes the first writes and waits for the lock: the queue fills up behind it.
        for (int i = 0; i < 200; i++) {
          CompletableFuture<Void> write = store.append(event(created("job-" + i)));
          writes.add(write);
          if (write.isCompletedExceptionally()) {
            refusedAtOnce.add(i);
          }
        }
      }

      assertThat(refusedAtOnce).hasSizeGreaterThanOrEqualTo(200 - 2 * 10 - 1);
      for (int i : refusedAtOnce) {
        assertThat(failureOf(writes.get(i)))
            .isInstanceOfSatisfying(
                HubException.class,
                e -> {
                  assertThat(e.code()).isEqualTo("store_unavailable");
                  assertThat(e.retryAfter()).contains(SqliteJobStore.RETRY_AFTER);
                });
        assertThat(store.find("job-" + i)).isEmpty();
      }
      // The lock is gone: what was queued lands, and new writes are taken again.
      for (int i = 0; i < writes.size(); i++) {
        if (!refusedAtOnce.contains(i)) {
          await(writes.get(i));
        }
      }
      await(store.append(event(created("job-" + refusedAtOnce.get(0)))));
    }
  }

  @Test
  void aFullDiskFailsWritesAsUnavailableLosesNothingAcknowledgedAndRecoversWhenSpaceReturns()
      throws Exception {
    Path mountPoint = dataDir.resolve("small-disk");
    Optional<AutoCloseable> tmpfs = OsFaults.smallTmpfs(mountPoint, "2m");
    assumeTrue(tmpfs.isPresent(), "mounting a tmpfs needs root");
    try (AutoCloseable unmount = tmpfs.get()) {
      Path data = mountPoint.resolve("data");
      Path filler = mountPoint.resolve("filler");
      int jobs = 4;
      List<Job> acknowledged = new ArrayList<>(); // latest acknowledged state per job
      List<List<Job>> history = new ArrayList<>(); // every acknowledged state per job
      int failures = 0;
      try (SqliteJobStore store = SqliteJobStore.builder(data).open()) {
        for (int j = 0; j < jobs; j++) {
          Job job = created("job-" + j);
          await(store.append(event(job)));
          acknowledged.add(job);
          history.add(new ArrayList<>(List.of(job)));
        }
        OsFaults.fill(filler);

        // Producers go on: each event follows the job's last acknowledged one, as a producer
        // retrying after a 503 would send it.
        String padding = "x".repeat(2000);
        for (int round = 0; round < 2_000 && failures < 40; round++) {
          for (int j = 0; j < jobs; j++) {
            Job next =
                next(
                    acknowledged.get(j),
                    JobUpdate.builder().stage("round-" + round).message(padding));
            Throwable failure = outcome(store.append(event(next, "r" + round)));
            if (failure == null) {
              acknowledged.set(j, next);
              history.get(j).add(next);
            } else {
              failures++;
              assertThat(failure)
                  .isInstanceOfSatisfying(
                      HubException.class, e -> assertThat(e.code()).isEqualTo("store_unavailable"));
            }
          }
        }
        assertThat(failures).as("writes refused while the disk is full").isGreaterThan(0);
        for (int j = 0; j < jobs; j++) {
          assertThat(store.find("job-" + j)).contains(acknowledged.get(j));
        }

        Files.delete(filler);
        for (int j = 0; j < jobs; j++) {
          Job next = next(acknowledged.get(j), JobUpdate.builder().stage("space-is-back"));
          await(store.append(event(next, "back")));
          acknowledged.set(j, next);
          history.get(j).add(next);
        }
      }

      try (SqliteJobStore reopened = SqliteJobStore.builder(data).open()) {
        for (int j = 0; j < jobs; j++) {
          assertThat(reopened.find("job-" + j)).contains(acknowledged.get(j));
          // Every acknowledged state, and nothing that was refused.
          assertThat(reopened.history("job-" + j, 0, 10_000))
              .containsExactlyElementsOf(history.get(j));
        }
      }
      System.out.printf(
          "full 2 MiB tmpfs: %d writes refused as store_unavailable, %d acknowledged, all kept%n",
          failures, history.stream().mapToInt(List::size).sum());
    }
  }

  @Test
  void aReadOnlyDatabaseFileRefusesToOpenWithAOneLineReason() throws Exception {
    Path data = dataDir.resolve("data");
    Job job = created("job-1");
    try (SqliteJobStore store = SqliteJobStore.builder(data).open()) {
      await(store.append(event(job)));
    }
    Path file = data.resolve(SqliteJobStore.FILE_NAME);

    Optional<OsFaults.ReadOnly> readOnly = OsFaults.readOnly(file);
    assumeTrue(readOnly.isPresent(), "neither mode 0444 nor chattr +i stops this process");
    try (OsFaults.ReadOnly made = readOnly.get()) {
      System.out.println("database file made read-only with " + made.how());
      assertThatThrownBy(() -> SqliteJobStore.builder(data).open())
          .isInstanceOfSatisfying(
              HubException.class,
              e -> {
                assertThat(e.code()).isEqualTo("store_unavailable");
                assertThat(e.getMessage())
                    .contains(file.toString())
                    .contains("read-only")
                    .doesNotContain("\n");
              });
    }

    try (SqliteJobStore store = SqliteJobStore.builder(data).open()) {
      assertThat(store.find("job-1")).contains(job);
    }
  }

  @Test
  void aCorruptPageIsFoundAtOpenWithAClearMessage() throws Exception {
    Path data = dataDir.resolve("data");
    String padding = "y".repeat(500);
    try (SqliteJobStore store = SqliteJobStore.builder(data).open()) {
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        writes.add(
            store.append(
                event(
                    JobRules.created(
                        NewJob.builder().message(padding + i).build(), "job-" + i, tick()))));
      }
      for (CompletableFuture<Void> write : writes) {
        await(write);
      }
    } // close() folds the WAL into the file: every page is in the database file now
    Path file = data.resolve(SqliteJobStore.FILE_NAME);
    long pages = Files.size(file) / PAGE_SIZE;
    assertThat(pages).isGreaterThan(20);

    // Overwrite a page in the middle of the file with bytes that are no b-tree page.
    byte[] garbage = new byte[PAGE_SIZE];
    java.util.Arrays.fill(garbage, (byte) 0x5a);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(garbage), (pages / 2) * PAGE_SIZE);
    }

    assertThatThrownBy(() -> SqliteJobStore.builder(data).open())
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.code()).isEqualTo("store_unavailable");
              assertThat(e.getMessage())
                  .contains(file.toString())
                  .contains("is damaged")
                  .contains("quick_check")
                  .contains(".recover")
                  .doesNotContain("\n");
            });
    // The refusal left nothing locked behind: the next attempt gets the same answer.
    assertThatThrownBy(() -> SqliteJobStore.builder(data).open()).hasMessageContaining("damaged");
  }

  // ---------------------------------------------------------------- fixtures

  private SqliteJobStore open(Duration busyTimeout) {
    return SqliteJobStore.open(
        dataDir.resolve("data"), SqliteJobStore.Synchronous.FULL, busyTimeout);
  }

  private Job created(String id) {
    return JobRules.created(NewJob.builder().build(), id, tick());
  }

  private Job next(Job previous, JobUpdate.Builder update) {
    return JobRules.apply(previous, update.build(), tick());
  }

  private Instant tick() {
    now = now.plusMillis(1);
    return now;
  }

  private static StoredEvent event(Job job) {
    return new StoredEvent(job, true, Optional.empty());
  }

  private static StoredEvent event(Job job, String eventId) {
    return new StoredEvent(job, true, Optional.of(eventId));
  }

  /** Metadata that cannot be written as JSON: the store refuses the event on its own. */
  private static Map<String, Object> unwritable() {
    return Map.of("opaque", new Object());
  }

  private static Map<String, Object> without(String key) {
    Map<String, Object> removal = new HashMap<>();
    removal.put(key, null);
    return removal;
  }

  private static void await(CompletableFuture<?> future) throws Exception {
    future.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static Throwable failureOf(CompletableFuture<?> future) throws Exception {
    try {
      future.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected the write to fail, but it landed");
  }

  /** The failure the future completed with, or null if it completed normally. */
  private static Throwable outcome(CompletableFuture<?> future) throws Exception {
    try {
      future.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  private static void assertUnavailable(CompletableFuture<?> future) throws Exception {
    assertThat(failureOf(future))
        .isInstanceOfSatisfying(
            HubException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(HubException.Kind.UNAVAILABLE);
              assertThat(e.code()).isEqualTo("store_unavailable");
            });
  }
}
