package io.progresshub.store.sqlite;

import static io.progresshub.store.sqlite.Sqlite.SQLITE_BUSY;
import static io.progresshub.store.sqlite.Sqlite.closeQuietly;
import static io.progresshub.store.sqlite.Sqlite.code;
import static io.progresshub.store.sqlite.Sqlite.millis;
import static io.progresshub.store.sqlite.Sqlite.oneLine;
import static io.progresshub.store.sqlite.Sqlite.setNullableLong;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.spi.StoredEvent;
import io.progresshub.store.json.JobJson;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.sqlite.SQLiteConnection;

/**
 * The store's writes: one platform daemon thread, {@value SqliteJobStore#WRITER_THREAD_NAME}, owns
 * the only write connection. Callers queue a write and get a future; the thread takes everything
 * queued (up to {@value #MAX_BATCH} writes), applies it in one transaction, commits once (group
 * commit), then completes the futures on its own thread, in queue order.
 *
 * <p>Each write runs under a savepoint, so a write the database refuses fails alone; a batch that
 * cannot commit fails as a whole and the thread goes on with the next one. Only {@link #close}
 * stops the thread, after it committed everything queued before, so that the queue is always
 * flushed.
 */
final class SqliteWriter implements AutoCloseable {

  /**
   * Most writes committed in one transaction; bounds the latency a batch adds to its last write.
   */
  static final int MAX_BATCH = 512;

  private static final System.Logger LOG = System.getLogger(SqliteWriter.class.getName());

  private final Path file;
  private final Connection connection;

  /**
   * Writer thread only. Prepared again after a failed write: sqlite-jdbc finalizes a statement that
   * fails with anything but BUSY, LOCKED or CONSTRAINT (disk full, I/O error), and a finalized
   * statement fails every later use ("statement is not executing"), so one full disk would break
   * the store for good.
   */
  private WriteStatements writes;

  /** Writer thread only: preparing them again failed; try before the next batch. */
  private boolean writesBroken;

  private final Thread thread;

  /** Unbounded itself; {@link #submit} keeps it at {@link #maxPendingWrites} (plus the stop). */
  private final LinkedBlockingQueue<Write> queue = new LinkedBlockingQueue<>();

  private final int maxPendingWrites;
  private final long busyTimeoutNanos;

  /**
   * Writer thread only: when a batch first found the write lock held by someone else ({@link
   * System#nanoTime}), or -1 while the lock is ours to take.
   */
  private long lockWaitStarted = -1;

  /** Writer thread only: the busy timeout currently set on the write connection, in ms. */
  private int appliedBusyTimeoutMillis;

  /** Guards {@link #closed} against {@link #submit}: nothing is queued after the stop marker. */
  private final Object admission = new Object();

  private volatile boolean closed;

  /**
   * Takes over {@code connection}, the only write connection to {@code file}, and starts the writer
   * thread.
   *
   * @param busyTimeout how long batches wait in all for a write lock another process holds
   */
  SqliteWriter(Path file, Connection connection, int maxPendingWrites, Duration busyTimeout)
      throws SQLException {
    this.file = file;
    this.connection = connection;
    this.writes = new WriteStatements(connection);
    this.maxPendingWrites = maxPendingWrites;
    this.busyTimeoutNanos = busyTimeout.toNanos();
    this.appliedBusyTimeoutMillis = millis(busyTimeout);
    this.thread =
        Thread.ofPlatform()
            .name(SqliteJobStore.WRITER_THREAD_NAME)
            .daemon(true)
            .unstarted(this::run);
    thread.start();
  }

  /** How many writes wait for the writer thread. */
  int pendingWrites() {
    return queue.size();
  }

  /** Queues the event; see {@link SqliteJobStore#append}. */
  CompletableFuture<Void> append(StoredEvent event) {
    Objects.requireNonNull(event, "event");
    CompletableFuture<Void> done = new CompletableFuture<>();
    String state = null;
    String builtOnState = null;
    HubException rejected = null;
    try {
      // Serialized here, on the caller's thread, to keep the writer thread on I/O.
      state = JobJson.AS_GIVEN.write(event.job());
      if (event.builtOn().isPresent()) {
        builtOnState = JobJson.AS_GIVEN.write(event.builtOn().get());
      }
    } catch (IOException | RuntimeException e) {
      rejected =
          HubException.invalid(
              "job " + event.job().id() + ": state cannot be stored as JSON: " + e.getMessage());
    }
    submit(new Append(event, state, builtOnState, rejected, done));
    return done;
  }

  /** Queues the deletion of a job and its history; completes with whether it existed. */
  CompletableFuture<Boolean> delete(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    submit(new Delete(jobId, done));
    return done;
  }

  /** Deletes finished jobs older than {@code cutoff} in the queue's order, and waits for it. */
  List<String> deleteFinishedBefore(Instant cutoff) {
    Objects.requireNonNull(cutoff, "cutoff");
    CompletableFuture<List<String>> done = new CompletableFuture<>();
    Expire expire = new Expire(Schema.nanos(cutoff), done);
    if (Thread.currentThread() == thread) {
      // Called from a completion callback: waiting for the queue would wait for ourselves.
      if (closed) {
        throw closedError();
      }
      runBatch(List.of(expire));
    } else {
      submit(expire);
    }
    try {
      return done.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof HubException hubException
          ? hubException
          : HubException.unavailable("retention failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * Stops accepting writes and lets the thread commit everything queued, checkpoint the WAL and
   * close the connection; waits for that unless called on the writer thread itself (from a
   * completion callback), where the thread stops after the batch it is completing.
   */
  @Override
  public void close() {
    synchronized (admission) {
      if (!closed) {
        closed = true;
        queue.add(Stop.INSTANCE);
      }
    }
    if (Thread.currentThread() == thread) {
      return;
    }
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        // Close promises a flush: finish it, then restore the interrupt.
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void submit(Write write) {
    HubException refused;
    synchronized (admission) {
      if (closed) {
        refused = closedError();
      } else if (queue.size() >= maxPendingWrites) {
        // Fail fast rather than queue without bound: the producer backs off and retries.
        refused =
            HubException.unavailable(
                file + ": " + maxPendingWrites + " writes are already waiting for the disk",
                null,
                SqliteJobStore.RETRY_AFTER);
      } else {
        queue.add(write);
        return;
      }
    }
    write.fail(refused);
  }

  private HubException closedError() {
    return HubException.unavailable("store is closed: " + file, null);
  }

  private void run() {
    List<Write> batch = new ArrayList<>(MAX_BATCH);
    boolean stopping = false;
    while (!stopping) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        continue; // only close() stops the writer, so that the queue is always flushed
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      // Stop is the last write ever queued, so it can only be last in its batch.
      if (batch.getLast() == Stop.INSTANCE) {
        batch.removeLast();
        stopping = true;
      }
      if (!batch.isEmpty()) {
        runBatch(batch);
      }
      batch.clear();
    }
    shutDown();
  }

  /** Applies the writes in one transaction, commits, then completes them in order. */
  private void runBatch(List<Write> batch) {
    try {
      if (writesBroken) {
        renewWrites();
      }
      begin();
    } catch (SQLException e) {
      HubException failure = lockFailure(batch.size(), e);
      LOG.log(System.Logger.Level.WARNING, failure.getMessage());
      for (Write write : batch) {
        write.fail(failure);
      }
      return;
    }
    List<Runnable> completions = new ArrayList<>(batch.size());
    try {
      for (Write write : batch) {
        completions.add(applyIsolated(write));
      }
      execute("COMMIT");
    } catch (Throwable e) {
      rollbackQuietly();
      renewWritesQuietly();
      HubException failure =
          HubException.unavailable(
              "could not commit "
                  + batch.size()
                  + " writes to "
                  + file
                  + ": "
                  + oneLine(e.getMessage()),
              e);
      LOG.log(System.Logger.Level.WARNING, failure.getMessage(), e);
      for (Write write : batch) {
        write.fail(failure);
      }
      return;
    }
    for (Runnable completion : completions) {
      completion.run();
    }
  }

  /**
   * Starts the batch's transaction holding the write lock, so that no statement after it waits for
   * a lock: the whole batch waits once. While another process keeps the lock, the wait is counted
   * from when it was first found taken, so consecutive batches share one busy timeout.
   */
  private void begin() throws SQLException {
    long now = System.nanoTime();
    long budget =
        lockWaitStarted < 0
            ? busyTimeoutNanos
            : Math.max(0, busyTimeoutNanos - (now - lockWaitStarted));
    int budgetMillis = millis(Duration.ofNanos(budget));
    if (budgetMillis != appliedBusyTimeoutMillis) {
      connection.unwrap(SQLiteConnection.class).setBusyTimeout(budgetMillis);
      appliedBusyTimeoutMillis = budgetMillis;
    }
    try {
      execute("BEGIN IMMEDIATE");
      lockWaitStarted = -1;
    } catch (SQLException e) {
      if (code(e) == SQLITE_BUSY && lockWaitStarted < 0) {
        lockWaitStarted = now;
      }
      throw e;
    }
  }

  private HubException lockFailure(int writes, SQLException e) {
    if (code(e) == SQLITE_BUSY) {
      return HubException.unavailable(
          file
              + " is locked by another process: "
              + writes
              + " writes refused after waiting up to "
              + millis(Duration.ofNanos(busyTimeoutNanos))
              + " ms in all",
          e,
          SqliteJobStore.RETRY_AFTER);
    }
    return HubException.unavailable(
        "could not start writing " + writes + " writes to " + file + ": " + oneLine(e.getMessage()),
        e);
  }

  /**
   * Applies one write under a savepoint: if the database rejects it, only that write fails and the
   * rest of the batch still commits.
   */
  private Runnable applyIsolated(Write write) throws SQLException {
    writes.savepoint.executeUpdate();
    try {
      Runnable outcome = apply(write);
      writes.release.executeUpdate();
      return outcome;
    } catch (SQLException e) {
      renewWrites();
      // If SQLite rolled back the whole transaction (disk full, I/O error) this throws and the
      // batch fails as a whole.
      writes.rollbackToSavepoint.executeUpdate();
      writes.release.executeUpdate();
      HubException failure =
          HubException.unavailable("could not write to " + file + ": " + e.getMessage(), e);
      return () -> write.fail(failure);
    }
  }

  private Runnable apply(Write write) throws SQLException {
    return switch (write) {
      case Append append -> applyAppend(append);
      case Delete delete -> applyDelete(delete);
      case Expire expire -> applyExpire(expire);
      case Stop stop -> () -> {};
    };
  }

  private Runnable applyAppend(Append append) throws SQLException {
    if (append.rejected() != null) {
      return () -> append.done().completeExceptionally(append.rejected());
    }
    Job job = append.event().job();
    String state = append.state();
    Long finishedAt = job.finishedAt().map(Schema::nanos).orElse(null);
    if (job.seq() == 1) {
      PreparedStatement insert = writes.insertJob;
      insert.setString(1, job.id());
      insert.setString(2, job.owner());
      insert.setString(3, job.type());
      insert.setString(4, job.status().wireName());
      insert.setLong(5, job.seq());
      insert.setLong(6, Schema.nanos(job.createdAt()));
      insert.setLong(7, Schema.nanos(job.updatedAt()));
      setNullableLong(insert, 8, finishedAt);
      insert.setString(9, state);
      if (insert.executeUpdate() == 0) {
        HubException exists = HubException.jobExists(job.id());
        return () -> append.done().completeExceptionally(exists);
      }
    } else {
      HubException stale = refusedBuiltOn(append);
      if (stale != null) {
        return () -> append.done().completeExceptionally(stale);
      }
      PreparedStatement update = writes.updateJob;
      update.setString(1, job.status().wireName());
      update.setLong(2, job.seq());
      update.setLong(3, Schema.nanos(job.updatedAt()));
      setNullableLong(update, 4, finishedAt);
      update.setString(5, state);
      update.setString(6, job.id());
      update.setLong(7, job.seq() - 1);
      if (update.executeUpdate() == 0) {
        HubException refused = refusedUpdate(append.event());
        return () -> append.done().completeExceptionally(refused);
      }
    }
    if (!append.event().transition()) {
      writes.deleteTicks.setString(1, job.id());
      writes.deleteTicks.executeUpdate();
    }
    PreparedStatement insertEvent = writes.insertEvent;
    insertEvent.setString(1, job.id());
    insertEvent.setLong(2, job.seq());
    insertEvent.setInt(3, append.event().transition() ? 1 : 0);
    insertEvent.setString(4, append.event().eventId().orElse(null));
    insertEvent.setString(5, state);
    insertEvent.executeUpdate();
    if (append.event().eventId().isPresent()) {
      PreparedStatement insertEventId = writes.insertEventId;
      insertEventId.setString(1, job.id());
      insertEventId.setString(2, append.event().eventId().get());
      insertEventId.setLong(3, job.seq());
      insertEventId.setString(4, state);
      insertEventId.executeUpdate();
    }
    return () -> append.done().complete(null);
  }

  /**
   * Why an event built on a state not yet durable when it was built may not land, or null if it
   * may: the stored state must equal that one. The same text is the same state (the fast path, as
   * the state is normally the very one appended before); otherwise the stored state is read back,
   * since equal states may be written with their metadata keys in another order.
   */
  private HubException refusedBuiltOn(Append append) throws SQLException {
    Optional<Job> builtOn = append.event().builtOn();
    if (builtOn.isEmpty()) {
      return null;
    }
    Job job = append.event().job();
    writes.findState.setString(1, job.id());
    try (ResultSet rows = writes.findState.executeQuery()) {
      if (!rows.next() || rows.getLong(1) != job.seq() - 1) {
        return null; // the update finds no row, and refusedUpdate says why
      }
      String stored = rows.getString(2);
      if (stored.equals(append.builtOnState())
          || JobJson.AS_GIVEN.read(stored).equals(builtOn.get())) {
        return null;
      }
      return append.event().builtOnOther();
    }
  }

  /** Why an event with seq > 1 found no row to update. */
  private HubException refusedUpdate(StoredEvent event) throws SQLException {
    Job job = event.job();
    writes.findState.setString(1, job.id());
    try (ResultSet rows = writes.findState.executeQuery()) {
      if (!rows.next()) {
        return HubException.jobNotFound(job.id());
      }
      return event.outOfOrder(rows.getLong(1));
    }
  }

  private Runnable applyDelete(Delete delete) throws SQLException {
    boolean existed = deleteJob(delete.jobId());
    return () -> delete.done().complete(existed);
  }

  private boolean deleteJob(String jobId) throws SQLException {
    writes.deleteEvents.setString(1, jobId);
    writes.deleteEvents.executeUpdate();
    writes.deleteEventIds.setString(1, jobId);
    writes.deleteEventIds.executeUpdate();
    writes.deleteJob.setString(1, jobId);
    return writes.deleteJob.executeUpdate() > 0;
  }

  private Runnable applyExpire(Expire expire) throws SQLException {
    List<String> expired = new ArrayList<>();
    writes.findFinishedBefore.setLong(1, expire.cutoffNanos());
    try (ResultSet rows = writes.findFinishedBefore.executeQuery()) {
      while (rows.next()) {
        expired.add(rows.getString(1));
      }
    }
    if (!expired.isEmpty()) {
      for (PreparedStatement delete :
          List.of(
              writes.deleteEventsFinishedBefore,
              writes.deleteEventIdsFinishedBefore,
              writes.deleteJobsFinishedBefore)) {
        delete.setLong(1, expire.cutoffNanos());
        delete.executeUpdate();
      }
    }
    List<String> result = List.copyOf(expired);
    return () -> expire.done().complete(result);
  }

  /**
   * Transaction control on a statement of its own each time: it must work even right after an error
   * finalized the writer's prepared statements.
   */
  private void execute(String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private void renewWrites() throws SQLException {
    writesBroken = true;
    writes.close();
    writes = new WriteStatements(connection);
    writesBroken = false;
  }

  private void renewWritesQuietly() {
    try {
      renewWrites();
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot prepare the writes on " + file, e);
    }
  }

  private void rollbackQuietly() {
    try {
      execute("ROLLBACK");
    } catch (SQLException e) {
      // After some errors (disk full, I/O) SQLite has rolled the transaction back itself.
      LOG.log(System.Logger.Level.DEBUG, "rollback failed on " + file, e);
    }
  }

  private void shutDown() {
    try {
      writes.close();
      try (Statement statement = connection.createStatement()) {
        // Fold the WAL into the database so the file is complete on its own.
        statement.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.WARNING, "final checkpoint failed on " + file, e);
    } finally {
      closeQuietly(connection);
    }
  }

  /** One queued write; completed by the writer thread. */
  private sealed interface Write permits Append, Delete, Expire, Stop {
    void fail(HubException failure);
  }

  /**
   * {@code state} is the job as JSON and {@code builtOnState} the state it was built on (if the
   * event names one), or {@code rejected} says why they could not be serialized.
   */
  private record Append(
      StoredEvent event,
      String state,
      String builtOnState,
      HubException rejected,
      CompletableFuture<Void> done)
      implements Write {
    @Override
    public void fail(HubException failure) {
      done.completeExceptionally(failure);
    }
  }

  private record Delete(String jobId, CompletableFuture<Boolean> done) implements Write {
    @Override
    public void fail(HubException failure) {
      done.completeExceptionally(failure);
    }
  }

  private record Expire(long cutoffNanos, CompletableFuture<List<String>> done) implements Write {
    @Override
    public void fail(HubException failure) {
      done.completeExceptionally(failure);
    }
  }

  /** Queued by close(): the writer commits what came before it, then stops. */
  private enum Stop implements Write {
    INSTANCE;

    @Override
    public void fail(HubException failure) {}
  }

  /** The writer's prepared statements; used on the writer thread only. */
  private static final class WriteStatements implements AutoCloseable {
    final PreparedStatement savepoint;
    final PreparedStatement release;
    final PreparedStatement rollbackToSavepoint;
    final PreparedStatement insertJob;
    final PreparedStatement updateJob;
    final PreparedStatement findState;
    final PreparedStatement deleteTicks;
    final PreparedStatement insertEvent;
    final PreparedStatement insertEventId;
    final PreparedStatement deleteEvents;
    final PreparedStatement deleteEventIds;
    final PreparedStatement deleteJob;
    final PreparedStatement findFinishedBefore;
    final PreparedStatement deleteEventsFinishedBefore;
    final PreparedStatement deleteEventIdsFinishedBefore;
    final PreparedStatement deleteJobsFinishedBefore;
    private final List<PreparedStatement> all = new ArrayList<>();

    WriteStatements(Connection connection) throws SQLException {
      savepoint = prepare(connection, "SAVEPOINT write");
      release = prepare(connection, "RELEASE write");
      rollbackToSavepoint = prepare(connection, "ROLLBACK TO write");
      insertJob =
          prepare(
              connection,
              "INSERT INTO jobs (id, owner, type, status, seq, created_at, updated_at,"
                  + " finished_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                  + " ON CONFLICT (id) DO NOTHING");
      // "seq = ?" (the event's seq - 1) refuses an event whose seq another writer took, and one
      // built on an event that failed: that one's changes must not become durable inside it.
      updateJob =
          prepare(
              connection,
              "UPDATE jobs SET status = ?, seq = ?, updated_at = ?, finished_at = ?, state = ?"
                  + " WHERE id = ? AND seq = ?");
      findState = prepare(connection, "SELECT seq, state FROM jobs WHERE id = ?");
      deleteTicks = prepare(connection, "DELETE FROM events WHERE job_id = ? AND transition = 0");
      insertEvent =
          prepare(
              connection,
              "INSERT INTO events (job_id, seq, transition, event_id, state)"
                  + " VALUES (?, ?, ?, ?, ?)");
      // The first result of an event id is the one a retry must get.
      insertEventId =
          prepare(
              connection,
              "INSERT INTO event_ids (job_id, event_id, seq, state) VALUES (?, ?, ?, ?)"
                  + " ON CONFLICT (job_id, event_id) DO NOTHING");
      deleteEvents = prepare(connection, "DELETE FROM events WHERE job_id = ?");
      deleteEventIds = prepare(connection, "DELETE FROM event_ids WHERE job_id = ?");
      deleteJob = prepare(connection, "DELETE FROM jobs WHERE id = ?");
      findFinishedBefore = prepare(connection, "SELECT id FROM jobs WHERE finished_at < ?");
      deleteEventsFinishedBefore =
          prepare(
              connection,
              "DELETE FROM events WHERE job_id IN (SELECT id FROM jobs WHERE finished_at < ?)");
      deleteEventIdsFinishedBefore =
          prepare(
              connection,
              "DELETE FROM event_ids WHERE job_id IN (SELECT id FROM jobs WHERE finished_at < ?)");
      deleteJobsFinishedBefore = prepare(connection, "DELETE FROM jobs WHERE finished_at < ?");
    }

    private PreparedStatement prepare(Connection connection, String sql) throws SQLException {
      PreparedStatement statement = connection.prepareStatement(sql);
      all.add(statement);
      return statement;
    }

    @Override
    public void close() {
      for (PreparedStatement statement : all) {
        closeQuietly(statement);
      }
    }
  }
}
