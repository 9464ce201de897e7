package io.progresshub.redis;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import io.progresshub.store.json.JobJson;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A {@link JobStore} on one Redis server, which several nodes may share: the seq check, the new
 * state, its history entry, its event id, the list indexes and the broadcast to the other nodes are
 * one Lua script ({@code append.lua}), so two nodes appending to one job never leave a gap or a
 * duplicate, and every node hears of an event exactly when it became visible. Deletes and retention
 * broadcast their removals the same way, from their scripts. See {@code docs/architecture.md},
 * section "Redis", for the keys and channels.
 *
 * <p>Thread-safe. {@link #append} and {@link #delete} never block: the command is sent at once and
 * the future completes, in call order, on this store's completion thread, once Redis answered. An
 * answered append is as durable as the server's {@code appendfsync} makes it ({@code always}: on
 * disk), on the master; replication is asynchronous, so a failover may lose it unless {@link
 * RedisSettings#replicas} replicas confirmed it first ({@code WAIT}). Reads are synchronous
 * commands.
 *
 * <p>Redis unreachable: every call fails with {@code store_unavailable} (and a retry-after hint)
 * within the {@linkplain RedisSettings#commandTimeout command timeout}, at once while the client
 * knows it is disconnected; it reconnects by itself. Commands in flight when the connection drops
 * are not sent again after it comes back, so an append its caller was told failed does not land
 * later; one that reached Redis before the drop may have landed (a producer's retry with its {@code
 * event_id} then gets the original result).
 *
 * <p>Costs: an append is one round trip, O(log N) in Redis for the indexes. A listing with one
 * filter or none reads its index, O(log N + limit); with several filters or an id search it walks
 * the smallest matching index inside one script, O(N) in that index (10,000 jobs: a few ms of Redis
 * time, which blocks other commands meanwhile). Needs Redis 7: standalone, through Sentinel, or a
 * Redis Cluster, where every key shares one hash tag and so one shard ({@link RedisKeys}).
 */
public final class RedisJobStore implements JobStore {

  private static final RedisScript APPEND = RedisScript.load("append.lua", ScriptOutputType.MULTI);
  private static final RedisScript DELETE =
      RedisScript.load("delete.lua", ScriptOutputType.INTEGER);
  private static final RedisScript EXPIRE = RedisScript.load("expire.lua", ScriptOutputType.MULTI);
  private static final RedisScript LIST = RedisScript.load("list.lua", ScriptOutputType.MULTI);

  /** Jobs deleted by one retention script: bounds how long it holds up the server. */
  static final int EXPIRE_BATCH = 500;

  /** Name of the thread that completes append and delete futures. */
  public static final String COMPLETION_THREAD_NAME = "progress-hub-redis-store";

  private final RedisSettings settings;
  private final RedisKeys keys;
  private final RedisConnections.Client client;
  private final RedisConnections.Commands commands;
  private final StatefulConnection<String, String> connection;
  private final RedisClusterAsyncCommands<String, String> async;
  private final RedisClusterCommands<String, String> sync;
  private final ExecutorService completions;
  private volatile Thread completionThread;

  /** Guards {@link #tail} and {@link #closed} against each other: sending order is chain order. */
  private final Object order = new Object();

  /** The future of the latest append or delete; the next completes after it. */
  private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

  private volatile boolean closed;

  private RedisJobStore(
      RedisSettings settings, RedisConnections.Client client, RedisConnections.Commands c) {
    this.settings = settings;
    this.keys = new RedisKeys(settings.keyPrefix());
    this.client = client;
    this.commands = c;
    this.connection = c.connection();
    this.async = c.async();
    this.sync = c.sync();
    this.completions =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, COMPLETION_THREAD_NAME);
              thread.setDaemon(true);
              completionThread = thread;
              return thread;
            });
  }

  /**
   * Connects to the server of {@code settings} and loads the scripts.
   *
   * @throws HubException {@code store_unavailable} if Redis cannot be reached in time
   */
  public static RedisJobStore open(RedisSettings settings) {
    Objects.requireNonNull(settings, "settings");
    RedisConnections.Client client;
    try {
      client = RedisConnections.client(settings, false);
    } catch (RuntimeException e) {
      throw RedisConnections.unavailable("cannot open the store at " + settings.address(), e);
    }
    try {
      RedisConnections.Commands connection = client.connect();
      // Reachable and answering, or open fails now rather than at the first append.
      connection.sync().ping();
      for (RedisScript script : List.of(APPEND, DELETE, EXPIRE, LIST)) {
        script.preload(connection.async(), settings.commandTimeout());
      }
      RedisJobStore store = new RedisJobStore(settings, client, connection);
      client.onMasterSwitch(() -> RedisConnections.reconnect(connection.async()));
      return store;
    } catch (RuntimeException e) {
      client.shutdown();
      throw RedisConnections.unavailable("cannot open the store at " + settings.address(), e);
    }
  }

  /** Whether the settings' URI named a Redis Cluster (asked of the server when opening). */
  public boolean cluster() {
    return client.cluster();
  }

  /** The settings this store was opened with. */
  public RedisSettings settings() {
    return settings;
  }

  @Override
  public CompletableFuture<Void> append(StoredEvent event) {
    Objects.requireNonNull(event, "event");
    String state = null;
    String builtOnState = null;
    HubException rejected = null;
    try {
      state = JobJson.SORTED.write(event.job());
      if (event.builtOn().isPresent()) {
        builtOnState = JobJson.SORTED.write(event.builtOn().get());
      }
    } catch (IOException | RuntimeException e) {
      rejected =
          HubException.invalid(
              "job " + event.job().id() + ": state cannot be stored as JSON: " + e.getMessage());
    }
    synchronized (order) {
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
      CompletableFuture<Void> sent =
          rejected != null
              ? CompletableFuture.failedFuture(rejected)
              : send(event, state, builtOnState, true);
      return inOrder(sent);
    }
  }

  /**
   * Runs the append script. An event built on a state whose text differs from the stored one may
   * still be built on an equal state (read back from elsewhere): compared as jobs, and if equal the
   * event is sent once more naming the stored text.
   */
  private CompletableFuture<Void> send(
      StoredEvent event, String state, String builtOnState, boolean mayRetry) {
    Job job = event.job();
    String id = job.id();
    String[] scriptKeys = {
      keys.job(id),
      keys.history(id),
      keys.eventIds(id),
      keys.jobs(),
      keys.finished(),
      keys.lifecycleLog()
    };
    CompletableFuture<List<Object>> reply;
    try {
      RedisClusterAsyncCommands<String, String> writer =
          settings.replicas() == 0 ? async : commands.master(keys.job(id));
      reply =
          APPEND.run(
              writer,
              scriptKeys,
              Long.toString(job.seq()),
              state,
              event.transition() ? "1" : "0",
              event.eventId().orElse(""),
              builtOnState == null ? "" : builtOnState,
              job.status().wireName(),
              job.owner(),
              job.type(),
              RedisKeys.member(job.createdAt(), id),
              job.finishedAt().map(at -> RedisKeys.member(at, id)).orElse(""),
              keys.prefix(),
              settings.nodeId(),
              keys.jobChannel(id),
              keys.lifecycleChannel(),
              job.isTerminal() ? "1" : "0",
              RedisKeys.LIFECYCLE_LOG_LENGTH);
      if (settings.replicas() > 0) {
        reply = reply.thenCompose(answer -> replicated(writer, answer, job));
      }
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(RedisConnections.unavailable("append to job " + id, e));
    }
    return reply
        .handle(
            (answer, failure) -> {
              if (failure != null) {
                return CompletableFuture.<Void>failedFuture(
                    RedisConnections.unavailable(
                        "append to job " + id + " seq " + job.seq(), failure));
              }
              return switch ((String) answer.get(0)) {
                case "ok" -> CompletableFuture.<Void>completedFuture(null);
                case "exists" -> CompletableFuture.<Void>failedFuture(HubException.jobExists(id));
                case "gone" -> CompletableFuture.<Void>failedFuture(HubException.jobNotFound(id));
                case "out_of_order" ->
                    CompletableFuture.<Void>failedFuture(event.outOfOrder((Long) answer.get(1)));
                case "built_on" -> {
                  String stored = (String) answer.get(1);
                  if (mayRetry
                      && JobJson.SORTED.read(stored).equals(event.builtOn().orElseThrow())) {
                    yield send(event, state, stored, false);
                  }
                  yield CompletableFuture.<Void>failedFuture(event.builtOnOther());
                }
                default ->
                    CompletableFuture.<Void>failedFuture(
                        HubException.unavailable("append script answered " + answer, null));
              };
            })
        .thenCompose(Function.identity());
  }

  /**
   * The script's answer once the replicas asked for hold what it wrote ({@code WAIT}, sent after it
   * on the same connection, so it covers the write whether it went by digest or by text).
   */
  private CompletableFuture<List<Object>> replicated(
      RedisClusterAsyncCommands<String, String> writer, List<Object> answer, Job job) {
    if (!"ok".equals(answer.get(0))) {
      return CompletableFuture.completedFuture(answer);
    }
    int wanted = settings.replicas();
    // Half the command timeout on the server, so that it answers before the client gives up.
    long waitMillis = Math.max(1, settings.commandTimeout().toMillis() / 2);
    return writer
        .waitForReplication(wanted, waitMillis)
        .toCompletableFuture()
        .thenApply(
            reached -> {
              if (reached < wanted) {
                throw HubException.unavailable(
                    "job "
                        + job.id()
                        + " seq "
                        + job.seq()
                        + " is written on the Redis master but only "
                        + reached
                        + " of the "
                        + wanted
                        + " replicas asked for confirmed it in time; a retry with the same"
                        + " event_id gets its result",
                    null,
                    RedisConnections.RETRY_AFTER);
              }
              return answer;
            });
  }

  @Override
  public CompletableFuture<Boolean> delete(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    synchronized (order) {
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
      CompletableFuture<Boolean> sent;
      try {
        sent =
            DELETE
                .<Long>run(
                    async,
                    new String[] {
                      keys.job(jobId),
                      keys.history(jobId),
                      keys.eventIds(jobId),
                      keys.jobs(),
                      keys.finished(),
                      keys.lifecycleLog()
                    },
                    keys.prefix(),
                    jobId,
                    settings.nodeId(),
                    keys.lifecycleChannel(),
                    RedisKeys.LIFECYCLE_LOG_LENGTH)
                .thenApply(existed -> existed == 1L);
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      return inOrder(
          sent.exceptionallyCompose(
              failure ->
                  CompletableFuture.failedFuture(
                      RedisConnections.unavailable("delete job " + jobId, failure))));
    }
  }

  /** Deletes in batches of {@value #EXPIRE_BATCH}, one script each, until none is left. */
  @Override
  public List<String> deleteFinishedBefore(Instant cutoff) {
    Objects.requireNonNull(cutoff, "cutoff");
    String bound = RedisKeys.timeBound(cutoff);
    List<String> deleted = new ArrayList<>();
    while (true) {
      List<Object> batch =
          call(
              "finished jobs",
              EXPIRE,
              new String[] {keys.finished(), keys.jobs(), keys.lifecycleLog()},
              bound,
              Integer.toString(EXPIRE_BATCH),
              keys.prefix(),
              settings.nodeId(),
              keys.lifecycleChannel(),
              RedisKeys.LIFECYCLE_LOG_LENGTH);
      for (Object id : batch) {
        deleted.add((String) id);
      }
      if (batch.size() < EXPIRE_BATCH) {
        return deleted;
      }
    }
  }

  @Override
  public Optional<Job> find(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    return read(
        "job " + jobId,
        redis ->
            Optional.ofNullable(redis.hget(keys.job(jobId), "state")).map(JobJson.SORTED::read));
  }

  @Override
  public List<Job> history(String jobId, long afterSeq, int limit) {
    Objects.requireNonNull(jobId, "jobId");
    if (limit <= 0) {
      return List.of();
    }
    return read(
        "history of job " + jobId,
        redis ->
            redis
                .zrangebyscore(
                    keys.history(jobId),
                    Range.from(Range.Boundary.excluding(afterSeq), Range.Boundary.unbounded()),
                    Limit.create(0, limit))
                .stream()
                .map(JobJson.SORTED::read)
                .toList());
  }

  @Override
  public Optional<Job> findByEventId(String jobId, String eventId) {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(eventId, "eventId");
    return read(
        "event " + eventId + " of job " + jobId,
        redis ->
            Optional.ofNullable(redis.hget(keys.eventIds(jobId), eventId))
                .map(JobJson.SORTED::read));
  }

  @Override
  public JobPage list(JobQuery query) {
    Objects.requireNonNull(query, "query");
    List<String> indexes = new ArrayList<>(3);
    query.status().ifPresent(status -> indexes.add(keys.status(status.wireName())));
    query.owner().ifPresent(owner -> indexes.add(keys.owner(owner)));
    query.type().ifPresent(type -> indexes.add(keys.type(type)));
    if (indexes.isEmpty()) {
      indexes.add(keys.jobs());
    }
    List<Object> reply =
        call(
            "job list",
            LIST,
            indexes.toArray(String[]::new),
            Integer.toString(query.offset()),
            Integer.toString(query.limit()),
            query.status().map(JobStatus::wireName).orElse(""),
            query.owner().orElse(""),
            query.type().orElse(""),
            query.idContains().orElse(""),
            keys.prefix());
    List<Job> jobs = new ArrayList<>(reply.size() - 1);
    for (Object state : reply.subList(1, reply.size())) {
      jobs.add(JobJson.SORTED.read((String) state));
    }
    return new JobPage(jobs, (Long) reply.get(0));
  }

  @Override
  public Map<JobStatus, Long> countByStatus() {
    return read(
        "job counts",
        redis -> {
          Map<JobStatus, CompletableFuture<Long>> sizes = new EnumMap<>(JobStatus.class);
          for (JobStatus status : JobStatus.values()) {
            sizes.put(status, async.zcard(keys.status(status.wireName())).toCompletableFuture());
          }
          Map<JobStatus, Long> counts = new EnumMap<>(JobStatus.class);
          sizes.forEach(
              (status, size) -> {
                long count = size.join();
                if (count > 0) {
                  counts.put(status, count);
                }
              });
          return counts;
        });
  }

  /**
   * Stops accepting calls, waits (up to twice the command timeout) for the appends and deletes sent
   * to be answered, then disconnects. Later calls fail with {@code store_unavailable}.
   */
  @Override
  public void close() {
    CompletableFuture<?> last;
    synchronized (order) {
      if (closed) {
        return;
      }
      closed = true;
      last = tail;
    }
    if (Thread.currentThread() != completionThread) {
      try {
        last.handle((ignored, failure) -> null)
            .get(settings.commandTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // Their callers hear of it from the futures; closing goes on.
      }
    }
    connection.close();
    client.shutdown();
    completions.shutdown();
  }

  /**
   * The future that completes like {@code sent}, after the one returned before it, on the
   * completion thread: futures complete in call order, and their callbacks may read this store (a
   * callback on a Lettuce I/O thread waiting for a reply on that thread would never get it).
   */
  private <T> CompletableFuture<T> inOrder(CompletableFuture<T> sent) {
    CompletableFuture<T> out = new CompletableFuture<>();
    CompletableFuture<?> before = tail;
    tail = out;
    sent.whenComplete(
        (value, failure) ->
            before.whenCompleteAsync(
                (ignored, earlier) -> {
                  if (failure == null) {
                    out.complete(value);
                  } else {
                    out.completeExceptionally(unwrap(failure));
                  }
                },
                completions));
    return out;
  }

  private <T> T read(String what, Function<RedisClusterCommands<String, String>, T> query) {
    if (closed) {
      throw closedError();
    }
    try {
      return query.apply(sync);
    } catch (HubException e) {
      throw e;
    } catch (RuntimeException e) {
      throw RedisConnections.unavailable("cannot read " + what, e);
    }
  }

  /** Runs a script and waits for its answer. */
  private <T> T call(String what, RedisScript script, String[] scriptKeys, String... args) {
    return read(
        what,
        redis -> {
          try {
            return script
                .<T>run(async, scriptKeys, args)
                .get(settings.commandTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RedisConnections.unavailable("interrupted reading " + what, e);
          } catch (ExecutionException | TimeoutException e) {
            throw RedisConnections.unavailable(
                "cannot read " + what, e instanceof ExecutionException ? e.getCause() : e);
          }
        });
  }

  private HubException closedError() {
    return HubException.unavailable("store is closed: " + settings.address(), null);
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
