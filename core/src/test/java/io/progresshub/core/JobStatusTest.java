package io.progresshub.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class JobStatusTest {

  /** The status machine of docs/protocol.md, one row per current status; Y = allowed. */
  @ParameterizedTest(name = "{0} -> pending {1}, queued {2}, in_progress {3}, completed {4}, ...")
  @CsvSource({
    // from,     pending, queued, in_progress, completed, failed, cancelled
    "pending,     Y,       Y,      Y,           N,         Y,      Y",
    "queued,      N,       Y,      Y,           N,         Y,      Y",
    "in_progress, N,       N,      Y,           Y,         Y,      Y",
    "completed,   N,       N,      N,           N,         N,      N",
    "failed,      N,       N,      N,           N,         N,      N",
    "cancelled,   N,       N,      N,           N,         N,      N",
  })
  void transitionsFollowTheStatusMachine(
      String from,
      char pending,
      char queued,
      char inProgress,
      char completed,
      char failed,
      char cancelled) {
    JobStatus current = JobStatus.fromWireName(from).orElseThrow();
    char[] row = {pending, queued, inProgress, completed, failed, cancelled};
    for (JobStatus next : JobStatus.values()) {
      boolean expected = row[next.ordinal()] == 'Y';
      assertThat(current.canMoveTo(next))
          .as("%s -> %s", current.wireName(), next.wireName())
          .isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = JobStatus.class,
      names = {"COMPLETED", "FAILED", "CANCELLED"})
  void terminalStatusIsFinal(JobStatus terminal) {
    assertThat(terminal.isTerminal()).isTrue();
    for (JobStatus next : JobStatus.values()) {
      assertThat(terminal.canMoveTo(next)).as("%s -> %s", terminal, next).isFalse();
    }
  }

  @Test
  void onlyCompletedFailedAndCancelledAreTerminal() {
    EnumSet<JobStatus> terminal = EnumSet.noneOf(JobStatus.class);
    for (JobStatus status : JobStatus.values()) {
      if (status.isTerminal()) {
        terminal.add(status);
      }
    }
    assertThat(terminal)
        .containsExactlyInAnyOrder(JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED);
  }

  @ParameterizedTest
  @EnumSource(JobStatus.class)
  void wireNameRoundTrips(JobStatus status) {
    assertThat(JobStatus.fromWireName(status.wireName())).contains(status);
  }

  @Test
  void wireNamesAreLowerCaseWithUnderscores() {
    assertThat(JobStatus.values())
        .extracting(JobStatus::wireName)
        .containsExactly("pending", "queued", "in_progress", "completed", "failed", "cancelled");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "IN_PROGRESS", "In_Progress", "in-progress", "running", "done"})
  void unknownWireNameIsEmpty(String name) {
    assertThat(JobStatus.fromWireName(name)).isEmpty();
  }

  @Test
  void missingWireNameIsEmpty() {
    assertThat(JobStatus.fromWireName(null)).isEmpty();
  }
}
