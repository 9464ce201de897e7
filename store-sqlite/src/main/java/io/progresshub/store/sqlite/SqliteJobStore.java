package io.progresshub.store.sqlite;

import static io.progresshub.store.sqlite.Sqlite.SQLITE_CORRUPT;
import static io.progresshub.store.sqlite.Sqlite.SQLITE_NOTADB;
import static io.progresshub.store.sqlite.Sqlite.SQLITE_READONLY;
import static io.progresshub.store.sqlite.Sqlite.closeQuietly;
import static io.progresshub.store.sqlite.Sqlite.code;
import static io.progresshub.store.sqlite.Sqlite.millis;
import static io.progresshub.store.sqlite.Sqlite.oneLine;

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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.sqlite.SQLiteConfig;

/**
 * The durable embedded {@link JobStore}: one SQLite file, {@code <dataDir>/progress-hub.db}, in WAL
 * mode, written by one process at a time (the data directory is locked).
 *
 * <p>Thread-safe. {@link #append} and {@link #delete} never block: they queue the write for the one
 * writer thread ({@link SqliteWriter}), which commits everything queued in one transaction (group
 * commit) and then completes the futures <em>on the writer thread</em>, in queue order. Callbacks
 * on those futures should be quick and must not wait for another write of this store. The queue is
 * bounded ({@link Builder#maxPendingWrites}): past it, a write fails at once with {@code
 * store_unavailable} and a {@link HubException#retryAfter() retry-after} hint. Reads ({@link
 * SqliteReaders}) use read-only connections of their own, run beside the writer, and see every
 * append whose future has completed.
 *
 * <p>Guarantees:
 *
 * <ul>
 *   <li>A future completes only after the transaction holding its write committed with {@code
 *       synchronous=FULL}: an acknowledged event survives a {@code kill -9} and a power loss.
 *   <li>Everything the {@link JobStore} contract asks: an event lands only right after the seq it
 *       was built on, or fails and leaves no trace; a failed write fails alone (each write runs
 *       under a savepoint), and the events of its job queued behind it fail too.
 *   <li>Another process holding the write lock makes writes wait at most {@link
 *       Builder#busyTimeout} in all, then fail with {@code store_unavailable} and a retry-after
 *       hint until the lock is free; a full disk or an I/O error fails the batch, keeps nothing of
 *       it, and later writes land again once the disk recovers.
 *   <li>{@link #open} refuses a file it cannot write and, by default, a damaged one.
 *   <li>{@link #close} commits everything queued, checkpoints the WAL into the database file and
 *       closes the connections; later calls fail with {@code store_unavailable}.
 * </ul>
 *
 * <p>What {@code synchronous=FULL}, group commit and the open-time check cost is measured in {@code
 * docs/performance.md}, section "SQLite store".
 */
public final class SqliteJobStore implements JobStore {

  /** The database file inside the data directory. */
  public static final String FILE_NAME = "progress-hub.db";

  /** Name of the thread that does every write. */
  public static final String WRITER_THREAD_NAME = "progress-hub-sqlite-writer";

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

  /** SQLite's {@code synchronous} setting for the write connection. */
  enum Synchronous {
    /** fsync the WAL at every commit: survives power loss. The default. */
    FULL,
    /**
     * No fsync at commit: survives a crash of the process, not of the machine. In WAL mode the
     * committed frames sit in the OS page cache, which a {@code kill -9} leaves intact but a power
     * loss does not: the last commits could be taken back after their producers were answered.
     */
    NORMAL
  }

  private final Path file;
  private final DataDirectoryLock directoryLock;
  private final SqliteWriter writer;
  private final SqliteReaders readers;

  private SqliteJobStore(
      Path file, DataDirectoryLock directoryLock, SqliteWriter writer, SqliteReaders readers) {
    this.file = file;
    this.directoryLock = directoryLock;
    this.writer = writer;
    this.readers = readers;
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
      List<Connection> readOnly = new ArrayList<>(READ_CONNECTIONS);
      for (int i = 0; i < READ_CONNECTIONS; i++) {
        Connection connection = connect(file, options.synchronous, options.busyTimeout, true);
        opened.add(connection);
        readOnly.add(connection);
      }
      SqliteWriter writes =
          new SqliteWriter(file, writer, options.maxPendingWrites, options.busyTimeout);
      return new SqliteJobStore(file, lock, writes, new SqliteReaders(file, readOnly));
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

  /**
   * How many writes wait for the writer thread now (at most {@link Builder#maxPendingWrites}): a
   * gauge for metrics.
   */
  public int pendingWrites() {
    return writer.pendingWrites();
  }

  @Override
  public CompletableFuture<Void> append(StoredEvent event) {
    return writer.append(event);
  }

  @Override
  public CompletableFuture<Boolean> delete(String jobId) {
    return writer.delete(jobId);
  }

  /** Goes through the writer's queue and waits for its batch. */
  @Override
  public List<String> deleteFinishedBefore(Instant cutoff) {
    return writer.deleteFinishedBefore(cutoff);
  }

  @Override
  public Optional<Job> find(String jobId) {
    return readers.find(jobId);
  }

  @Override
  public List<Job> history(String jobId, long afterSeq, int limit) {
    return readers.history(jobId, afterSeq, limit);
  }

  @Override
  public Optional<Job> findByEventId(String jobId, String eventId) {
    return readers.findByEventId(jobId, eventId);
  }

  @Override
  public JobPage list(JobQuery query) {
    return readers.list(query);
  }

  @Override
  public Map<JobStatus, Long> countByStatus() {
    return readers.countByStatus();
  }

  /**
   * Stops accepting writes, lets the writer commit everything queued, checkpoints the WAL, closes
   * the connections and unlocks the data directory. Later calls fail with {@code
   * store_unavailable}: appends and deletes with a failed future, reads by throwing.
   */
  @Override
  public void close() {
    writer.close();
    readers.close();
    directoryLock.close();
  }

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
}
