package io.progresshub.core.spi;

import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Durable home of jobs and their history.
 *
 * <p>Contract, checked for every implementation by {@code JobStoreContract}:
 *
 * <ul>
 *   <li>Thread-safe. Reads block the caller briefly and see every append whose future completed.
 *   <li>{@link #append} never blocks on I/O: it returns a future that completes once the event is
 *       durable (a crash after that loses nothing). Futures complete in the order {@code append}
 *       was called, so callbacks registered on them observe events in order.
 *   <li>The event with seq 1 creates the job and fails with {@code job_exists} if the id is taken.
 *   <li>Compare-and-append: the store, not a writer's memory, decides which event gets a seq, so
 *       that several hubs may share it. An event with seq {@code n > 1} lands only if the stored
 *       seq of its job is exactly {@code n - 1} and, when the event names the state it was {@link
 *       StoredEvent#builtOn() built on}, the stored state equals that one ({@link Job#equals}: a
 *       state read back from the store matches the one appended). Otherwise it leaves no trace and
 *       fails with
 *       <ul>
 *         <li>{@code stale_seq} when another writer got there first: the stored seq is already
 *             {@code n} or more, or it is {@code n - 1} but holds another state than {@code
 *             builtOn}. The writer reloads the job and applies its change again.
 *         <li>{@code store_unavailable} when the stored seq is below {@code n - 1}: the event was
 *             built on one that never landed.
 *         <li>{@code job_not_found} when the job is gone.
 *       </ul>
 *       A hub serializes its own appends per job and pipelines them: event {@code n + 1} is built
 *       on {@code n} before {@code n} is durable, and names {@code n} as {@code builtOn}. So when
 *       {@code n} fails, {@code n + 1} (and every later one queued behind it) fails too, whether
 *       the seq was left at {@code n - 1} or another writer took it: else {@code n}'s changes would
 *       become durable inside {@code n + 1} after {@code n}'s producer was told it failed, or
 *       overwrite what the other writer stored as {@code n}.
 *   <li>History keeps every transition and the latest progress tick; when a tick is appended, the
 *       previous tick of the job may be dropped. Entries come back in {@code seq} order.
 *   <li>After {@link #close} pending appends are flushed; further calls fail.
 * </ul>
 */
public interface JobStore extends AutoCloseable {

  /** Makes {@code event} durable; completes exceptionally with a {@code HubException}. */
  CompletableFuture<Void> append(StoredEvent event);

  /** The job's latest durable state. */
  Optional<Job> find(String jobId);

  /** History entries with {@code seq > afterSeq}, oldest first, at most {@code limit}. */
  List<Job> history(String jobId, long afterSeq, int limit);

  /** The state that the event with this producer {@code event_id} produced, if it was accepted. */
  Optional<Job> findByEventId(String jobId, String eventId);

  /** Jobs matching the query, newest first. */
  JobPage list(JobQuery query);

  /** How many jobs there are in each status. */
  Map<JobStatus, Long> countByStatus();

  /** Deletes the job and its history; completes with whether it existed. */
  CompletableFuture<Boolean> delete(String jobId);

  /** Deletes finished jobs whose {@code finishedAt} is before {@code cutoff}; returns their ids. */
  List<String> deleteFinishedBefore(Instant cutoff);

  /** Flushes pending appends and releases resources. */
  @Override
  void close();
}
