package io.progresshub.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A real crash: a child JVM appends events, the test SIGKILLs it mid-stream, reopens the file and
 * finds every event whose future had completed. Run with both {@code synchronous} modes: a {@code
 * kill -9} leaves the OS page cache intact, so NORMAL passes too; only FULL also covers power loss,
 * which a test cannot stage.
 */
class SqliteDurabilityTest {

  private static final Pattern ACK = Pattern.compile("(job-\\d+) (\\d+) ok");

  /** Acknowledgements to see before the kill: enough that many batches are behind us. */
  private static final int ACKS_BEFORE_KILL = 3_000;

  private static final long MAX_EVENTS = 5_000_000;
  private static final long MAX_MILLIS = 60_000;

  @TempDir Path dataDir;

  @ParameterizedTest
  @EnumSource(SqliteJobStore.Synchronous.class)
  void everyAcknowledgedEventSurvivesKillMinus9(SqliteJobStore.Synchronous synchronous)
      throws Exception {
    Path storeDir = dataDir.resolve("data");
    Path stderr = dataDir.resolve("child-stderr.txt");
    Process child =
        new ProcessBuilder(childCommand(storeDir, synchronous))
            .redirectError(stderr.toFile())
            .start();
    child.getOutputStream().close();
    LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = Thread.ofPlatform().daemon(true).start(() -> readLines(child, lines));

    Map<String, Long> acked = new HashMap<>();
    int acks = 0;
    boolean finishedOnItsOwn = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try {
      while (acks < ACKS_BEFORE_KILL && !finishedOnItsOwn) {
        String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        assertThat(line).as("child output within 60 s; its stderr:%n%s", read(stderr)).isNotNull();
        if (line.equals("done") || line.equals("<eof>")) {
          finishedOnItsOwn = true;
        } else {
          acks += record(line, acked);
        }
      }
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close, no final checkpoint
      child.waitFor(30, TimeUnit.SECONDS);
    }
    reader.join(TimeUnit.SECONDS.toMillis(30));
    // Lines already in the pipe were printed before the kill: they are acknowledged too.
    List<String> rest = new ArrayList<>();
    lines.drainTo(rest);
    for (String line : rest) {
      acks += record(line, acked);
    }

    assertThat(finishedOnItsOwn).as("the child was killed mid-stream, not at its end").isFalse();
    assertThat(acked).hasSize(AppendUntilKilled.JOBS);
    System.out.printf(
        "kill -9 with synchronous=%s after %d acknowledged events: %s%n", synchronous, acks, acked);

    try (SqliteJobStore reopened = SqliteJobStore.open(storeDir)) {
      for (Map.Entry<String, Long> entry : acked.entrySet()) {
        String jobId = entry.getKey();
        long ackedSeq = entry.getValue();
        Job latest = reopened.find(jobId).orElseThrow();
        assertThat(latest.seq()).as("latest seq of %s", jobId).isGreaterThanOrEqualTo(ackedSeq);
        assertThat(latest.stage()).isEqualTo(AppendUntilKilled.expectedStage(latest.seq()));

        List<Job> history = reopened.history(jobId, 0, Integer.MAX_VALUE);
        List<Long> seqs = history.stream().map(Job::seq).toList();
        assertThat(seqs).isSorted().doesNotHaveDuplicates();
        assertThat(history.getLast()).isEqualTo(latest);
        for (long seq = 1; seq <= ackedSeq; seq++) {
          if (AppendUntilKilled.isTransition(seq)) {
            assertThat(seqs).as("transition %d of %s", seq, jobId).contains(seq);
          }
        }
        for (Job job : history) {
          assertThat(job.stage()).isEqualTo(AppendUntilKilled.expectedStage(job.seq()));
          assertThat(job.status())
              .isEqualTo(job.seq() == 1 ? JobStatus.PENDING : JobStatus.IN_PROGRESS);
        }
        for (long seq = 2; seq <= ackedSeq; seq++) {
          assertThat(reopened.findByEventId(jobId, "e-" + seq).map(Job::seq))
              .as("event id e-%d of %s", seq, jobId)
              .contains(seq);
        }
      }
    }
  }

  private static List<String> childCommand(Path storeDir, SqliteJobStore.Synchronous synchronous) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    String jvmArgs = System.getProperty("progresshub.test.jvm.args", "").strip();
    if (!jvmArgs.isEmpty()) {
      command.addAll(List.of(jvmArgs.split("\\s+")));
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(AppendUntilKilled.class.getName());
    command.add(storeDir.toString());
    command.add(synchronous.name());
    command.add(String.valueOf(MAX_EVENTS));
    command.add(String.valueOf(MAX_MILLIS));
    return command;
  }

  /** Adds an acknowledgement to {@code acked}; 1 if the line is one, else 0. */
  private static int record(String line, Map<String, Long> acked) {
    Matcher ack = ACK.matcher(line);
    if (!ack.matches()) {
      // A line cut short by the kill, or the end marker: not an acknowledgement.
      assertThat(line).doesNotStartWith("failed");
      return 0;
    }
    acked.merge(ack.group(1), Long.parseLong(ack.group(2)), Math::max);
    return 1;
  }

  private static void readLines(Process child, LinkedBlockingQueue<String> lines) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lines.add(line);
      }
    } catch (IOException e) {
      // The pipe breaks when the child is killed: everything before it was read.
    }
    lines.add("<eof>");
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file) : "";
  }
}
