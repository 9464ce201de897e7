package io.progresshub.store.sqlite;

import io.progresshub.core.Job;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.core.spi.StoredEvent;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Optional;
import java.util.concurrent.Semaphore;

/**
 * The child JVM of {@link SqliteDurabilityTest}: appends events to a few jobs as fast as the store
 * takes them and prints {@code <jobId> <seq> ok} for each one whose future completed, until it is
 * killed or reaches its bounds.
 *
 * <p>Every job follows one deterministic script, so the parent knows what each seq must hold:
 * {@link #expectedStage}, event id {@code e-<seq>}, and {@link #isTransition}.
 *
 * <p>Arguments: data directory, synchronous mode ({@code FULL} or {@code NORMAL}), most events,
 * most milliseconds.
 */
final class AppendUntilKilled {

  static final int JOBS = 4;

  /** Bounds the events in flight, as a hub's producers would. */
  private static final int IN_FLIGHT = 256;

  private AppendUntilKilled() {}

  static String jobId(int index) {
    return "job-" + index;
  }

  /** Seq 1 creates the job, seq 2 starts it, every tenth seq changes stage, the rest are ticks. */
  static boolean isTransition(long seq) {
    return seq <= 2 || seq % 10 == 0;
  }

  static Optional<String> expectedStage(long seq) {
    return seq < 10 ? Optional.empty() : Optional.of("stage-" + (seq / 10 * 10));
  }

  public static void main(String[] args) throws Exception {
    Path dataDir = Path.of(args[0]);
    SqliteJobStore.Synchronous synchronous = SqliteJobStore.Synchronous.valueOf(args[1]);
    long maxEvents = Long.parseLong(args[2]);
    long deadline = System.nanoTime() + Long.parseLong(args[3]) * 1_000_000L;
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

    SqliteJobStore store = SqliteJobStore.open(dataDir, synchronous);
    Job[] jobs = new Job[JOBS];
    for (int j = 0; j < JOBS; j++) {
      NewJob request =
          NewJob.builder().owner("durability").type("test").metadata(new HashMap<>()).build();
      jobs[j] = JobRules.created(request, jobId(j), Instant.now());
      store.append(new StoredEvent(jobs[j], true, Optional.empty())).join();
      out.println(jobId(j) + " 1 ok");
    }
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    long appended = 0;
    while (appended < maxEvents && System.nanoTime() < deadline) {
      for (int j = 0; j < JOBS; j++) {
        Job previous = jobs[j];
        long seq = previous.seq() + 1;
        JobUpdate.Builder update = JobUpdate.builder().eventId("e-" + seq);
        if (seq > 2 && seq % 10 == 0) {
          update.stage(expectedStage(seq).orElseThrow());
        } else {
          update.progress((seq % 10_000) / 100.0);
        }
        Job next = JobRules.apply(previous, update.build(), Instant.now());
        jobs[j] = next;
        inFlight.acquire();
        String line = next.id() + " " + next.seq() + " ok";
        store
            .append(
                new StoredEvent(
                    next, JobRules.isTransition(previous, next), Optional.of("e-" + seq)))
            .whenComplete(
                (ignored, failure) -> {
                  inFlight.release();
                  if (failure == null) {
                    out.println(line);
                  } else {
                    out.println("failed " + line + " " + failure);
                  }
                });
        appended++;
      }
    }
    store.close();
    out.println("done");
  }
}
