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

/**
 * The durable embedded {@link JobStore}: one SQLite file, {@code <dataDir>/progress-hub.db}, in WAL
 * mode.
 *
 * <h2>Threads</h2>
 *
 * <p>Thread-safe. One platform daemon thread, {@value #WRITER_THREAD_NAME}, owns the only write
 * connection. {@link #append} and {@link #delete} never block: they put the write on an unbounded
 * queue and return a future. The writer takes everything queued (up to 512 writes), applies it in
 * one transaction and commits once (group commit), then completes the futures <em>on the writer
 * thread</em>, in queue order. Callbacks on those futures should be quick and must not wait for
 * another write of this store (that would wait for the writer thread itself). {@link
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
 * batches. A write the database refuses on its own (such as an event whose seq is not after the
 * stored one) fails alone: each write runs under a savepoint.
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

  /** How long a statement waits for a lock held by another process (an operator's sqlite3). */
  static final Duration BUSY_TIMEOUT = Duration.ofSeconds(10);

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
  private final WriteStatements writes;
  private final Reader[] readers;
  private final Thread writerThread;

  private final LinkedBlockingQueue<Write> queue = new LinkedBlockingQueue<>();

  /** Guards {@link #closed} against {@link #submit}: nothing is queued after the stop marker. */
  private final Object admission = new Object();

  private volatile boolean closed;

  private final DataDirectoryLock directoryLock;

  private SqliteJobStore(
      Path file, DataDirectoryLock directoryLock, Connection writer, Reader[] readers)
      throws SQLException {
    this.file = file;
    this.directoryLock = directoryLock;
    this.writer = writer;
    this.writes = new WriteStatements(writer);
    this.readers = readers;
    this.writerThread =
        Thread.ofPlatform().name(WRITER_THREAD_NAME).daemon(true).unstarted(this::runWriter);
    writerThread.start();
  }

  /**
   * Opens (or creates) {@code <dataDir>/progress-hub.db}, creating the directory if missing.
   *
   * @throws HubException {@code store_unavailable} if the directory or database cannot be opened,
   *     or the file was written by a newer release
   */
  public static SqliteJobStore open(Path dataDir) {
    return open(dataDir, Synchronous.FULL);
  }

  static SqliteJobStore open(Path dataDir, Synchronous synchronous) {
    return open(dataDir, synchronous, BUSY_TIMEOUT);
  }

  static SqliteJobStore open(Path dataDir, Synchronous synchronous, Duration busyTimeout) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(synchronous, "synchronous");
    Objects.requireNonNull(busyTimeout, "busyTimeout");
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw HubException.unavailable("cannot create data directory " + dataDir + ": " + e, e);
    }
    Path file = dataDir.resolve(FILE_NAME);
    DataDirectoryLock lock = DataDirectoryLock.acquire(dataDir);
    List<Connection> opened = new ArrayList<>();
    try {
      Connection writer = connect(file, synchronous, busyTimeout, false);
      opened.add(writer);
      requireWal(writer, file);
      Schema.migrate(writer, file);
      writer.setAutoCommit(false);
      Reader[] readers = new Reader[READ_CONNECTIONS];
      for (int i = 0; i < readers.length; i++) {
        Connection connection = connect(file, synchronous, busyTimeout, true);
        opened.add(connection);
        readers[i] = new Reader(connection);
      }
      return new SqliteJobStore(file, lock, writer, readers);
    } catch (SQLException | RuntimeException e) {
      for (Connection connection : opened) {
        closeQuietly(connection);
      }
      lock.close();
      if (e instanceof HubException hubException) {
        throw hubException;
      }
      throw HubException.unavailable("cannot open " + file + ": " + e.getMessage(), e);
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
    synchronized (admission) {
      if (!closed) {
        queue.add(write);
        return;
      }
    }
    write.fail(closedError());
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
    List<Runnable> completions = new ArrayList<>(batch.size());
    try {
      for (Write write : batch) {
        completions.add(applyIsolated(write));
      }
      writer.commit();
    } catch (Throwable e) {
      rollbackQuietly();
      HubException failure =
          HubException.unavailable(
              "could not commit " + batch.size() + " writes to " + file + ": " + e.getMessage(), e);
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
      update.setLong(7, job.seq());
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
      return HubException.unavailable(
          "job "
              + job.id()
              + ": event seq "
              + job.seq()
              + " (expected: after the stored seq "
              + rows.getLong(1)
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

  private void rollbackQuietly() {
    try {
      writer.rollback();
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.WARNING, "rollback failed on " + file, e);
    }
  }

  private void shutDownWriter() {
    try {
      writes.close();
      writer.setAutoCommit(true);
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
    config.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, busyTimeout.toMillis()));
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
      // "seq < ?" refuses an event that would take the job back in time.
      updateJob =
          prepare(
              connection,
              "UPDATE jobs SET status = ?, seq = ?, updated_at = ?, finished_at = ?, state = ?"
                  + " WHERE id = ? AND seq < ?");
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

  @FunctionalInterface
  private interface SqlFunction<T, R> {
    R apply(T input) throws SQLException;
  }
}
