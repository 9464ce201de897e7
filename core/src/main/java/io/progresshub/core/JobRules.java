package io.progresshub.core;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The job model's rules: how an event changes a job. Pure functions of (state, event, time), so
 * every node and every store computes the same next state.
 */
public final class JobRules {

  private JobRules() {}

  /**
   * The first snapshot (seq 1) of a new job, within the {@link JobLimits#DEFAULT default} limits.
   */
  public static Job created(NewJob request, String id, Instant now) {
    return created(request, id, now, JobLimits.DEFAULT);
  }

  /**
   * The first snapshot (seq 1) of a new job.
   *
   * @throws HubException {@code payload_too_large} when its state breaks {@code limits}
   */
  public static Job created(NewJob request, String id, Instant now, JobLimits limits) {
    Job job = createdUnchecked(request, id, now);
    limits.check(null, job);
    return job;
  }

  private static Job createdUnchecked(NewJob request, String id, Instant now) {
    return new Job(
        id,
        request.owner(),
        request.type(),
        request.status(),
        1,
        0,
        request.stage(),
        request.message(),
        request.metadata(),
        Optional.empty(),
        Optional.empty(),
        now,
        now,
        Optional.empty(),
        Optional.empty(),
        OptionalDouble.empty(),
        0);
  }

  /**
   * The state after applying {@code update} to {@code current} at {@code now}, with the next seq.
   *
   * @throws HubException {@code CONFLICT} when the job is finished ({@code job_cancelled} if it was
   *     cancelled, else {@code job_finished}) or the status change is not allowed ({@code
   *     invalid_transition}); {@code INVALID} for a result without completion or an error without
   *     failure
   */
  public static Job apply(Job current, JobUpdate update, Instant now) {
    return apply(current, update, now, JobLimits.DEFAULT);
  }

  /**
   * Like {@link #apply(Job, JobUpdate, Instant)}, within {@code limits}.
   *
   * @throws HubException also {@code payload_too_large} ({@code LIMITED}) when the event would grow
   *     the job's state past {@code limits}
   */
  public static Job apply(Job current, JobUpdate update, Instant now, JobLimits limits) {
    Job next = applyUnchecked(current, update, now);
    if (update.metadata().isPresent()
        || update.result().isPresent()
        || update.error().isPresent()
        || update.message().isPresent()
        || update.stage().isPresent()
        || next.error().isPresent()) {
      limits.check(current, next); // a plain tick or status change cannot grow it
    }
    return next;
  }

  private static Job applyUnchecked(Job current, JobUpdate update, Instant now) {
    if (current.isTerminal()) {
      throw finishedError(current);
    }
    JobStatus status = current.status();
    if (update.status().isPresent()) {
      status = update.status().get();
    } else if (update.progress().isPresent()
        && (status == JobStatus.PENDING || status == JobStatus.QUEUED)) {
      // A progress tick on a job that was never started means the worker has started it.
      status = JobStatus.IN_PROGRESS;
    }
    if (!current.status().canMoveTo(status)) {
      throw new HubException(
          HubException.Code.INVALID_TRANSITION,
          "status: "
              + current.status().wireName()
              + " -> "
              + status.wireName()
              + " is not allowed for job "
              + current.id());
    }
    if (update.result().isPresent() && status != JobStatus.COMPLETED) {
      throw HubException.invalid("result: only allowed with status completed");
    }
    if (update.error().isPresent() && status != JobStatus.FAILED) {
      throw HubException.invalid("error: only allowed with status failed");
    }

    double progress = update.progress().orElse(current.progress());
    if (status == JobStatus.COMPLETED) {
      progress = 100; // a completed job is done, whatever the last tick said
    }
    Optional<Instant> startedAt = current.startedAt();
    double progressAtStart = current.progressAtStart();
    if (startedAt.isEmpty() && status == JobStatus.IN_PROGRESS) {
      startedAt = Optional.of(now);
      // A first tick that reports 40% says nothing about the rate; measure from there.
      progressAtStart = update.progress().isPresent() ? progress : current.progress();
    }
    Optional<Instant> finishedAt = status.isTerminal() ? Optional.of(now) : Optional.empty();

    Map<String, Object> metadata = current.metadata();
    if (update.metadata().isPresent()) {
      metadata = merge(metadata, update.metadata().get());
    }
    Optional<String> error = update.error();
    if (status == JobStatus.FAILED && error.isEmpty()) {
      error = Optional.of(update.message().orElse("failed"));
    }

    OptionalDouble eta =
        eta(status, progress, progressAtStart, startedAt, now, update.etaSeconds());
    return new Job(
        current.id(),
        current.owner(),
        current.type(),
        status,
        current.seq() + 1,
        progress,
        update.stage().isPresent() ? update.stage() : current.stage(),
        update.message().isPresent() ? update.message() : current.message(),
        metadata,
        update.result(),
        error,
        current.createdAt(),
        now,
        startedAt,
        finishedAt,
        eta,
        progressAtStart);
  }

  /**
   * Whether the step from {@code previous} to {@code next} must be kept in history: a status or
   * stage change, or the terminal event. Anything else is a progress tick that may be compacted.
   */
  public static boolean isTransition(Job previous, Job next) {
    return change(previous, next) != HubEvent.Change.TICK;
  }

  /** What {@code next} changed in {@code previous}: status, stage, or neither (a tick). */
  public static HubEvent.Change change(Job previous, Job next) {
    if (next.status() != previous.status() || next.isTerminal()) {
      return HubEvent.Change.STATUS;
    }
    return next.stage().equals(previous.stage()) ? HubEvent.Change.TICK : HubEvent.Change.STAGE;
  }

  /** The error a finished job answers to any further event. */
  public static HubException finishedError(Job job) {
    if (job.status() == JobStatus.CANCELLED) {
      return new HubException(
          HubException.Code.JOB_CANCELLED, "job " + job.id() + " was cancelled");
    }
    return new HubException(
        HubException.Code.JOB_FINISHED,
        "job " + job.id() + " already finished (" + job.status().wireName() + ")");
  }

  /** A copy of {@code map} without its top-level {@code null} values. */
  public static Map<String, Object> withoutNullValues(Map<String, Object> map) {
    // Not map.containsValue(null): immutable maps such as Map.of() throw on a null argument.
    Map<String, Object> copy = new HashMap<>();
    map.forEach(
        (key, value) -> {
          if (value != null) {
            copy.put(key, value);
          }
        });
    return Map.copyOf(copy);
  }

  private static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> patch) {
    Map<String, Object> merged = new HashMap<>(base);
    patch.forEach(
        (key, value) -> {
          if (value == null) {
            merged.remove(key);
          } else {
            merged.put(key, value);
          }
        });
    return Map.copyOf(merged);
  }

  /** The producer's ETA if it sent one, else extrapolated from the rate since the job started. */
  private static OptionalDouble eta(
      JobStatus status,
      double progress,
      double progressAtStart,
      Optional<Instant> startedAt,
      Instant now,
      OptionalDouble reported) {
    if (status == JobStatus.COMPLETED) {
      return OptionalDouble.of(0);
    }
    if (status.isTerminal()) {
      return OptionalDouble.empty();
    }
    if (reported.isPresent()) {
      return reported;
    }
    if (status != JobStatus.IN_PROGRESS || startedAt.isEmpty()) {
      return OptionalDouble.empty();
    }
    double done = progress - progressAtStart;
    double elapsed = Job.seconds(Duration.between(startedAt.get(), now));
    if (done <= 0 || elapsed <= 0 || progress >= 100) {
      return OptionalDouble.empty();
    }
    double remaining = elapsed * (100 - progress) / done;
    return OptionalDouble.of(Math.round(remaining * 10) / 10.0);
  }
}
