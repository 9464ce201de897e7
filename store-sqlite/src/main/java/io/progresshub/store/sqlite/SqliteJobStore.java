package io.progresshub.store.sqlite;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.core.spi.JobStore;
import io.progresshub.core.spi.StoredEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * The durable embedded {@link JobStore}: one SQLite file, {@code <dataDir>/progress-hub.db}, in WAL
 * mode.
 *
 * <h2>Threads</h2>
 *
 * <p>Thread-safe. One platform daemon thread, {@value #WRITER_THREAD_NAME}, owns the only write
 * connection. {@link #append} and {@link #delete} never block: they put the write on a queue and
 * return a future. The queue is bounded ({@link Builder#maxPendingWrites}, default {@value
 * #DEFAULT_MAX_PENDING_WRITES}): when the disk falls that far behind, a write fails at once with
 * {@code store_unavailable} and a {@link HubException#retryAfter() retry-after} hint, so producers
 * back off instead of the heap growing. The writer takes everything queued (up to 512 writes),
 * applies it in one transaction and commits once (group commit), then completes the futures <em>on
 * the writer thread</em>, in queue order. Callbacks on those futures should be quick and must not
 * wait for another write of this store (that would wait for the writer thread itself). {@link
 * #deleteFinishedBefore} goes through the same queue and waits for its batch.
 *
 * <p>Reads use two read-only connections of their own and block the caller for the query only; in
 * WAL mode they run alongside the writer and see every commit made before they start, so a read
 * sees every append whose future has completed.
 *
 * <h2>Durability</h2>
 *
 * <p>A future completes only after the transaction holding its write committed with {@code
 * synchronous=FULL}: the WAL is fsynced at every commit, so an acknowledged event survives a {@code
 * kill -9} of the JVM and also a power loss or kernel crash.
 *
 * <p>Why not {@code NORMAL}: in WAL mode it skips the fsync at commit, and the committed frames sit
 * in the OS page cache. That is enough for a {@code kill -9}, which leaves the page cache intact
 * (measured: {@code SqliteDurabilityTest} SIGKILLs a writing JVM and finds every acknowledged event
 * in both modes), but a power loss can take back the last commits after their producers were
 * answered, and the design promises "durable before the producer is answered". What FULL costs,
 * measured on the 2-CPU development VM: a lone append waits about 0.6-1.7 ms for its fsync (NORMAL:
 * about 0.15 ms); under load group commit spreads one fsync over a whole batch, and 50,000
 * pipelined appends to 100 jobs ran at about 15,000-20,000 per second (NORMAL: 25,000-30,000).
 *
 * <p>A failed batch fails its futures with {@code store_unavailable}; the writer goes on with later
 * batches. A write the database refuses on its own fails alone: each write runs under a savepoint.
 * An event lands only on the seq right before it (the {@link JobStore} contract), so when one event
 * of a job fails, the events of that job queued behind it fail too: none of its changes becomes
 * durable inside a later event, and the history has no gap.
 *
 * <h2>Faults</h2>
 *
 * <ul>
 *   <li>Another process holding the write lock (an operator's {@code sqlite3} in a transaction):
 *       each batch takes the lock first ({@code BEGIN IMMEDIATE}) and waits for it at most {@link
 *       Builder#busyTimeout} (default 10 s), counted from when the lock was first found taken; once
 *       that has run out, batches fail at once until the lock is free again. So the writer stalls
 *       for one busy timeout in all, not one per statement, and every queued write gets its {@code
 *       store_unavailable} (with a retry-after hint) within it.
 *   <li>Disk full, I/O errors: the transaction is rolled back and its writes fail; nothing of a
 *       failed write is kept, and writes land again once space is back.
 *   <li>{@link #open} refuses a database file it cannot write (SQLite would quietly open it read
 *       only) and, by default, a file that {@code PRAGMA quick_check} finds damaged.
 * </ul>
 *
 * <h2>Ordering and history</h2>
 *
 * <p>Futures complete in the order the calls entered the queue. An event with seq 1 creates its job
 * and fails with {@code job_exists} if the id is taken; a later event for a job that is gone fails
 * with {@code job_not_found}. When a progress tick (a non-transition event) is appended, the job's
 * previous tick is deleted in the same transaction; transitions stay until the job is deleted. The
 * state each producer {@code event_id} produced is kept apart from the history, so a retry of a
 * compacted tick is still answered with its original result.
 *
 * <h2>Close</h2>
 *
 * <p>{@link #close} stops accepting writes, lets the writer commit everything queued, checkpoints
 * the WAL into the database file and closes the connections. Later calls fail with {@code
 * store_unavailable}: appends and deletes with a failed future, reads by throwing.
 */
public final class SqliteJobStore implements JobStore {

  /** The database file inside the data directory. */
  public static final String FILE_NAME = "progress-hub.db";

  /** Name of the thread that does every write. */
  public static final String WRITER_THREAD_NAME = "progress-hub-sqlite-writer";

  /**
   * Most writes committed in one transaction; bounds the latency a batch adds to its last write.
   */
  static final int MAX_BATCH = 512;

  private static final int READ_CONNECTIONS = 2;

  /** Default of {@link Builder#busyTimeout}. */
  public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(10);

  /** Default of {@link Builder#maxPendingWrites}: about a second of writes at full speed. */
  public static final int DEFAULT_MAX_PENDING_WRITES = 10_000;

  /**
   * What a write refused for a full queue or a held lock tells its producer to wait: long enough
   * for the writer to drain a few batches, short enough not to stall a worker.
   */
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  /** SQLite's primary result codes the store tells apart. */
  private static final int SQLITE_BUSY = SQLiteErrorCode.SQLITE_BUSY.code;

  private static final int SQLITE_READONLY = SQLiteErrorCode.SQLITE_READONLY.code;
  private static final int SQLITE_CORRUPT = SQLiteErrorCode.SQLITE_CORRUPT.code;
  private static final int SQLITE_NOTADB = SQLiteErrorCode.SQLITE_NOTADB.code;

  private static final System.Logger LOG = System.getLogger(SqliteJobStore.class.getName());

  /** SQLite's {@code synchronous} setting for the write connection. */
  enum Synchronous {
    /** fsync the WAL at every commit: survives power loss. The default. */
    FULL,
    /** No fsync at commit: survives a crash of the process, not of the machine. */
    NORMAL
  }

  private final Path file;
  private final Connection writer;

  /**
   * Writer thread only. Prepared again after a failed write: sqlite-jdbc finalizes a statement that
   * fails with anything but BUSY, LOCKED or CONSTRAINT (disk full, I/O error), and a finalized
   * statement fails every later use ("statement is not executing"), so one full disk would break
   * the store for good.
   */
  private WriteStatements writes;

  /** Writer thread only: preparing them again failed; try before the next batch. */
  private boolean writesBroken;

  private final Reader[] readers;
  private final Thread writerThread;

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

  private final DataDirectoryLock directoryLock;

  private SqliteJobStore(
      Builder options,
      Path file,
      DataDirectoryLock directoryLock,
      Connection writer,
      Reader[] readers)
      throws SQLException {
    this.file = file;
    this.directoryLock = directoryLock;
    this.writer = writer;
    this.writes = new WriteStatements(writer);
    this.readers = readers;
    this.maxPendingWrites = options.maxPendingWrites;
    this.busyTimeoutNanos = options.busyTimeout.toNanos();
    this.appliedBusyTimeoutMillis = millis(options.busyTimeout);
    this.writerThread =
        Thread.ofPlatform().name(WRITER_THREAD_NAME).daemon(true).unstarted(this::runWriter);
    writerThread.start();
  }

  /**
   * Opens (or creates) {@code <dataDir>/progress-hub.db} with the default options, creating the
   * directory if missing.
   *
   * @throws HubException {@code store_unavailable} if the directory or database cannot be opened or
   *     written, the file is damaged, or it was written by a newer release
   */
  public static SqliteJobStore open(Path dataDir) {
    return builder(dataDir).open();
  }

  /** Options for the store in {@code dataDir}; {@link Builder#open()} opens it. */
  public static Builder builder(Path dataDir) {
    return new Builder(dataDir);
  }

  static SqliteJobStore open(Path dataDir, Synchronous synchronous) {
    return builder(dataDir).synchronous(synchronous).open();
  }

  static SqliteJobStore open(Path dataDir, Synchronous synchronous, Duration busyTimeout) {
    return builder(dataDir).synchronous(synchronous).busyTimeout(busyTimeout).open();
  }

  private static SqliteJobStore open(Builder options) {
    Path dataDir = options.dataDir;
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw HubException.unavailable("cannot create data directory " + dataDir + ": " + e, e);
    }
    Path file = dataDir.resolve(FILE_NAME);
    DataDirectoryLock lock = DataDirectoryLock.acquire(dataDir);
    List<Connection> opened = new ArrayList<>();
    try {
      Connection writer = connect(file, options.synchronous, options.busyTimeout, false);
      opened.add(writer);
      requireWritable(writer, file);
      requireWal(writer, file);
      if (options.quickCheck) {
        requireIntact(writer, file);
      }
      Schema.migrate(writer, file);
      Reader[] readers = new Reader[READ_CONNECTIONS];
      for (int i = 0; i < readers.length; i++) {
        Connection connection = connect(file, options.synchronous, options.busyTimeout, true);
        opened.add(connection);
        readers[i] = new Reader(connection);
      }
      return new SqliteJobStore(options, file, lock, writer, readers);
    } catch (SQLException | RuntimeException e) {
      for (Connection connection : opened) {
        closeQuietly(connection);
      }
      lock.close();
      if (e instanceof HubException hubException) {
        throw hubException;
      }
      if (e instanceof SQLException sql
          && (code(sql) == SQLITE_CORRUPT || code(sql) == SQLITE_NOTADB)) {
        throw damaged(file, oneLine(e.getMessage()), e);
      }
      throw HubException.unavailable("cannot open " + file + ": " + oneLine(e.getMessage()), e);
    }
  }

  /** The database file. */
  public Path file() {
    return file;
  }

  // ---------------------------------------------------------------- writes

  @Override
  public CompletableFuture<Void> append(StoredEvent event) {
    Objects.requireNonNull(event, "event");
    CompletableFuture<Void> done = new CompletableFuture<>();
    String state = null;
    HubException rejected = null;
    try {
      // Serialized here, on the caller's thread, to keep the writer thread on I/O.
      state = JobJson.write(event.job());
    } catch (IOException | RuntimeException e) {
      rejected =
          HubException.invalid(
              "job " + event.job().id() + ": state cannot be stored as JSON: " + e.getMessage());
    }
    submit(new Append(event, state, rejected, done));
    return done;
  }

  @Override
  public CompletableFuture<Boolean> delete(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    submit(new Delete(jobId, done));
    return done;
  }

  @Override
  public List<String> deleteFinishedBefore(Instant cutoff) {
    Objects.requireNonNull(cutoff, "cutoff");
    CompletableFuture<List<String>> done = new CompletableFuture<>();
    Expire expire = new Expire(Schema.nanos(cutoff), done);
    if (Thread.currentThread() == writerThread) {
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
                RETRY_AFTER);
      } else {
        queue.add(write);
        return;
      }
    }
    write.fail(refused);
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Optional<Job> find(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    return read(
        "job " + jobId,
        reader -> {
          PreparedStatement query = reader.prepare("SELECT state FROM jobs WHERE id = ?");
          query.setString(1, jobId);
          return single(query);
        });
  }

  @Override
  public List<Job> history(String jobId, long afterSeq, int limit) {
    Objects.requireNonNull(jobId, "jobId");
    if (limit <= 0) {
      return List.of();
    }
    return read(
        "history of job " + jobId,
        reader -> {
          PreparedStatement query =
              reader.prepare(
                  "SELECT state FROM events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?");
          query.setString(1, jobId);
          query.setLong(2, afterSeq);
          query.setInt(3, limit);
          List<Job> jobs = new ArrayList<>();
          try (ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
              jobs.add(JobJson.read(rows.getString(1)));
            }
          }
          return jobs;
        });
  }

  @Override
  public Optional<Job> findByEventId(String jobId, String eventId) {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(eventId, "eventId");
    return read(
        "event " + eventId + " of job " + jobId,
        reader -> {
          PreparedStatement query =
              reader.prepare("SELECT state FROM event_ids WHERE job_id = ? AND event_id = ?");
          query.setString(1, jobId);
          query.setString(2, eventId);
          return single(query);
        });
  }

  @Override
  public JobPage list(JobQuery query) {
    Objects.requireNonNull(query, "query");
    List<String> filters = new ArrayList<>(3);
    List<String> values = new ArrayList<>(3);
    query
        .status()
        .ifPresent(
            status -> {
              filters.add("status = ?");
              values.add(status.wireName());
            });
    query
        .owner()
        .ifPresent(
            owner -> {
              filters.add("owner = ?");
              values.add(owner);
            });
    query
        .type()
        .ifPresent(
            type -> {
              filters.add("type = ?");
              values.add(type);
            });
    String where = filters.isEmpty() ? "" : " WHERE " + String.join(" AND ", filters);
    return read(
        "job list",
        reader -> {
          // Page and total from one snapshot: a read transaction around both queries. The page
          // walks an index in order; the total counts an index without reading any state.
          reader.connection.setAutoCommit(false);
          try {
            PreparedStatement page =
                reader.prepare(
                    "SELECT state FROM jobs"
                        + where
                        + " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?");
            int index = bind(page, values);
            page.setInt(index, query.limit());
            page.setInt(index + 1, query.offset());
            List<Job> jobs = new ArrayList<>();
            try (ResultSet rows = page.executeQuery()) {
              while (rows.next()) {
                jobs.add(JobJson.read(rows.getString(1)));
              }
            }
            PreparedStatement count = reader.prepare("SELECT COUNT(*) FROM jobs" + where);
            bind(count, values);
            long total;
            try (ResultSet rows = count.executeQuery()) {
              total = rows.next() ? rows.getLong(1) : 0;
            }
            return new JobPage(jobs, total);
          } finally {
            reader.connection.setAutoCommit(true);
          }
        });
  }

  @Override
  public Map<JobStatus, Long> countByStatus() {
    return read(
        "job counts",
        reader -> {
          PreparedStatement query =
              reader.prepare("SELECT status, COUNT(*) FROM jobs GROUP BY status");
          Map<JobStatus, Long> counts = new EnumMap<>(JobStatus.class);
          try (ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
              String status = rows.getString(1);
              JobStatus parsed =
                  JobStatus.fromWireName(status)
                      .orElseThrow(
                          () -> HubException.unavailable("unknown stored status: " + status, null));
              counts.put(parsed, rows.getLong(2));
            }
          }
          return counts;
        });
  }

  private static Optional<Job> single(PreparedStatement query) throws SQLException {
    try (ResultSet rows = query.executeQuery()) {
      return rows.next() ? Optional.of(JobJson.read(rows.getString(1))) : Optional.empty();
    }
  }

  private static int bind(PreparedStatement statement, List<String> values) throws SQLException {
    int index = 1;
    for (String value : values) {
      statement.setString(index++, value);
    }
    return index;
  }

  private <T> T read(String what, SqlFunction<Reader, T> query) {
    if (closed) {
      throw closedError();
    }
    Reader reader = acquire();
    try {
      if (reader.closed) {
        throw closedError();
      }
      return query.apply(reader);
    } catch (SQLException e) {
      throw HubException.unavailable(
          "cannot read " + what + " from " + file + ": " + e.getMessage(), e);
    } finally {
      reader.lock.unlock();
    }
  }

  /** A free read connection, else waits for one. */
  private Reader acquire() {
    for (Reader reader : readers) {
      if (reader.lock.tryLock()) {
        return reader;
      }
    }
    Reader reader = readers[(int) (Thread.currentThread().threadId() % readers.length)];
    reader.lock.lock();
    return reader;
  }

  // ---------------------------------------------------------------- close

  @Override
  public void close() {
    synchronized (admission) {
      if (!closed) {
        closed = true;
        queue.add(Stop.INSTANCE);
      }
    }
    for (Reader reader : readers) {
      reader.close();
    }
    if (Thread.currentThread() == writerThread) {
      directoryLock.close();
      return; // the writer stops after the batch it is completing
    }
    boolean interrupted = false;
    while (writerThread.isAlive()) {
      try {
        writerThread.join();
      } catch (InterruptedException e) {
        // Close promises a flush: finish it, then restore the interrupt.
        interrupted = true;
      }
    }
    directoryLock.close();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private HubException closedError() {
    return HubException.unavailable("store is closed: " + file, null);
  }

  // ---------------------------------------------------------------- the writer thread

  private void runWriter() {
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
    shutDownWriter();
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
      writer.unwrap(SQLiteConnection.class).setBusyTimeout(budgetMillis);
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
          RETRY_AFTER);
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
      PreparedStatement update = writes.updateJob;
      update.setString(1, job.status().wireName());
      update.setLong(2, job.seq());
      update.setLong(3, Schema.nanos(job.updatedAt()));
      setNullableLong(update, 4, finishedAt);
      update.setString(5, state);
      update.setString(6, job.id());
      update.setLong(7, job.seq() - 1);
      if (update.executeUpdate() == 0) {
        HubException refused = refusedUpdate(job);
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

  /** Why an event with seq > 1 found no row to update. */
  private HubException refusedUpdate(Job job) throws SQLException {
    writes.findSeq.setString(1, job.id());
    try (ResultSet rows = writes.findSeq.executeQuery()) {
      if (!rows.next()) {
        return HubException.jobNotFound(job.id());
      }
      long stored = rows.getLong(1);
      return HubException.unavailable(
          "job "
              + job.id()
              + ": event seq "
              + job.seq()
              + " (expected: "
              + (stored + 1)
              + ", right after the stored seq "
              + stored
              + ")",
          null);
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
    try (Statement statement = writer.createStatement()) {
      statement.execute(sql);
    }
  }

  private void renewWrites() throws SQLException {
    writesBroken = true;
    writes.close();
    writes = new WriteStatements(writer);
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

  private void shutDownWriter() {
    try {
      writes.close();
      try (Statement statement = writer.createStatement()) {
        // Fold the WAL into the database so the file is complete on its own.
        statement.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.WARNING, "final checkpoint failed on " + file, e);
    } finally {
      closeQuietly(writer);
    }
  }

  // ---------------------------------------------------------------- connections

  private static Connection connect(
      Path file, Synchronous synchronous, Duration busyTimeout, boolean readOnly)
      throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setBusyTimeout(millis(busyTimeout));
    if (readOnly) {
      config.setReadOnly(true);
    } else {
      config.setJournalMode(SQLiteConfig.JournalMode.WAL);
      config.setSynchronous(
          synchronous == Synchronous.FULL
              ? SQLiteConfig.SynchronousMode.FULL
              : SQLiteConfig.SynchronousMode.NORMAL);
      // After a checkpoint, shrink a WAL that a burst made large.
      config.setJournalSizeLimit(64 * 1024 * 1024);
    }
    return config.createConnection("jdbc:sqlite:" + file);
  }

  /** WAL is what lets reads run beside the writer; some file systems cannot do it. */
  private static void requireWal(Connection connection, Path file) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("PRAGMA journal_mode")) {
      String mode = rows.next() ? rows.getString(1) : "unknown";
      if (!"wal".equalsIgnoreCase(mode)) {
        throw HubException.unavailable(
            file + ": journal mode " + mode + " (expected: wal; is it on a network file system?)",
            null);
      }
    }
  }

  /**
   * SQLite opens a file it may not write read-only without a word, and the first write fails much
   * later: find out now, with a write that is rolled back.
   */
  private static void requireWritable(Connection connection, Path file) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("BEGIN IMMEDIATE");
      try {
        statement.execute("PRAGMA user_version = " + Schema.version(connection));
      } catch (SQLException e) {
        if (code(e) == SQLITE_READONLY) {
          throw HubException.unavailable(
              file
                  + " is read-only ("
                  + oneLine(e.getMessage())
                  + "): progress-hub must write its database; check the file's owner, mode,"
                  + " attributes (lsattr) and mount",
              e);
        }
        throw e;
      } finally {
        statement.execute("ROLLBACK");
      }
    }
  }

  /**
   * Damage inside the file otherwise surfaces only when a read or write touches the broken page, as
   * 503s long after start. quick_check reads every page once: measured on the development VM, a 240
   * MB file took 0.8 s with the file in the page cache and 6.4 s from disk.
   */
  private static void requireIntact(Connection connection, Path file) throws SQLException {
    List<String> problems = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("PRAGMA quick_check(3)")) {
      while (rows.next()) {
        problems.add(oneLine(rows.getString(1)));
      }
    }
    if (!problems.equals(List.of("ok"))) {
      throw damaged(file, "PRAGMA quick_check: " + String.join("; ", problems), null);
    }
  }

  private static HubException damaged(Path file, String finding, Throwable cause) {
    return HubException.unavailable(
        file
            + " is damaged ("
            + finding
            + "); restore it from a backup, or save what is readable with: sqlite3 "
            + file
            + " .recover",
        cause);
  }

  /** SQLite's primary result code of {@code e}, or -1 if it is not from SQLite. */
  private static int code(SQLException e) {
    return e instanceof SQLiteException sqlite ? sqlite.getResultCode().code & 0xff : -1;
  }

  /** Messages go into one log line and one error answer. */
  private static String oneLine(String message) {
    return message == null ? "" : message.replaceAll("\\s*\\R\\s*", " ").strip();
  }

  private static int millis(Duration duration) {
    long millis = (duration.toNanos() + 999_999) / 1_000_000;
    return (int) Math.min(Integer.MAX_VALUE, millis);
  }

  private static void setNullableLong(PreparedStatement statement, int index, Long value)
      throws SQLException {
    if (value == null) {
      statement.setNull(index, java.sql.Types.INTEGER);
    } else {
      statement.setLong(index, value);
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.log(System.Logger.Level.DEBUG, "close failed", e);
    }
  }

  // ---------------------------------------------------------------- writes and statements

  /** One queued write; completed by the writer thread. */
  private sealed interface Write permits Append, Delete, Expire, Stop {
    void fail(HubException failure);
  }

  /** {@code state} is the job as JSON, or {@code rejected} says why it could not be serialized. */
  private record Append(
      StoredEvent event, String state, HubException rejected, CompletableFuture<Void> done)
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
    final PreparedStatement findSeq;
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
      // "seq = ?" (the event's seq - 1) refuses a stale event, and one built on an event that
      // failed: that one's changes must not become durable inside it.
      updateJob =
          prepare(
              connection,
              "UPDATE jobs SET status = ?, seq = ?, updated_at = ?, finished_at = ?, state = ?"
                  + " WHERE id = ? AND seq = ?");
      findSeq = prepare(connection, "SELECT seq FROM jobs WHERE id = ?");
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

  /** One read connection with its statements; used by one thread at a time, under its lock. */
  private static final class Reader {
    final ReentrantLock lock = new ReentrantLock();
    private final Connection connection;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    boolean closed;

    Reader(Connection connection) {
      this.connection = connection;
    }

    PreparedStatement prepare(String sql) throws SQLException {
      PreparedStatement statement = statements.get(sql);
      if (statement == null) {
        statement = connection.prepareStatement(sql);
        statements.put(sql, statement);
      }
      return statement;
    }

    /** Waits for a read in progress, then closes. */
    void close() {
      lock.lock();
      try {
        if (closed) {
          return;
        }
        closed = true;
        for (PreparedStatement statement : statements.values()) {
          closeQuietly(statement);
        }
        closeQuietly(connection);
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Options of a {@link SqliteJobStore}. Defaults: busy timeout 10 s, at most {@value
   * SqliteJobStore#DEFAULT_MAX_PENDING_WRITES} pending writes, {@code quick_check} at open, {@code
   * synchronous=FULL}.
   */
  public static final class Builder {
    private final Path dataDir;
    private Synchronous synchronous = Synchronous.FULL;
    private Duration busyTimeout = DEFAULT_BUSY_TIMEOUT;
    private int maxPendingWrites = DEFAULT_MAX_PENDING_WRITES;
    private boolean quickCheck = true;

    private Builder(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
    }

    /**
     * How long writes wait in all for a write lock that another process holds (an operator's {@code
     * sqlite3}, a backup tool) before they fail with {@code store_unavailable}; later writes fail
     * at once until the lock is free. Default 10 s.
     */
    public Builder busyTimeout(Duration busyTimeout) {
      Objects.requireNonNull(busyTimeout, "busyTimeout");
      if (busyTimeout.isNegative()) {
        throw new IllegalArgumentException("busyTimeout: " + busyTimeout + " (expected: >= 0)");
      }
      this.busyTimeout = busyTimeout;
      return this;
    }

    /**
     * Most writes waiting for the writer thread; beyond it writes fail at once with {@code
     * store_unavailable} and a retry-after hint. Bounds the heap when the disk is slower than the
     * producers. Default {@value SqliteJobStore#DEFAULT_MAX_PENDING_WRITES}.
     */
    public Builder maxPendingWrites(int maxPendingWrites) {
      if (maxPendingWrites < 1) {
        throw new IllegalArgumentException(
            "maxPendingWrites: " + maxPendingWrites + " (expected: >= 1)");
      }
      this.maxPendingWrites = maxPendingWrites;
      return this;
    }

    /**
     * Whether {@link #open()} runs {@code PRAGMA quick_check} and refuses a damaged file. It reads
     * the whole file once; turn it off only for very large files whose start time matters more.
     * Default true.
     */
    public Builder quickCheck(boolean quickCheck) {
      this.quickCheck = quickCheck;
      return this;
    }

    Builder synchronous(Synchronous synchronous) {
      this.synchronous = Objects.requireNonNull(synchronous, "synchronous");
      return this;
    }

    /**
     * Opens (or creates) {@code <dataDir>/progress-hub.db}, creating the directory if missing.
     *
     * @throws HubException {@code store_unavailable} if the directory or database cannot be opened
     *     or written, the file is damaged, or it was written by a newer release
     */
    public SqliteJobStore open() {
      return SqliteJobStore.open(this);
    }
  }

  @FunctionalInterface
  private interface SqlFunction<T, R> {
    R apply(T input) throws SQLException;
  }
}
