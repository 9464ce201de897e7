package io.progresshub.store.sqlite;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.spi.JobPage;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.store.json.JobJson;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The store's reads, on a small pool of read-only connections of their own. In WAL mode they run
 * alongside the writer and see every commit made before they start, so a read sees every append
 * whose future has completed. A read blocks its caller for the query only (and, when every
 * connection is busy, until one is free). Thread-safe; after {@link #close} every read fails with
 * {@code store_unavailable}.
 */
final class SqliteReaders implements AutoCloseable {

  private final Path file;
  private final Reader[] readers;
  private volatile boolean closed;

  /** Takes over {@code connections}, which must be read-only connections to {@code file}. */
  SqliteReaders(Path file, List<Connection> connections) {
    this.file = file;
    this.readers = connections.stream().map(Reader::new).toArray(Reader[]::new);
  }

  Optional<Job> find(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    return read(
        "job " + jobId,
        reader -> {
          PreparedStatement query = reader.prepare("SELECT state FROM jobs WHERE id = ?");
          query.setString(1, jobId);
          return single(query);
        });
  }

  List<Job> history(String jobId, long afterSeq, int limit) {
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
              jobs.add(JobJson.AS_GIVEN.read(rows.getString(1)));
            }
          }
          return jobs;
        });
  }

  Optional<Job> findByEventId(String jobId, String eventId) {
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

  JobPage list(JobQuery query) {
    Objects.requireNonNull(query, "query");
    List<String> filters = new ArrayList<>(4);
    List<String> values = new ArrayList<>(4);
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
    query
        .idContains()
        .ifPresent(
            text -> {
              // instr, not LIKE: ids may hold '_', which LIKE would read as a wildcard
              filters.add("instr(lower(id), ?) > 0");
              values.add(text);
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
                jobs.add(JobJson.AS_GIVEN.read(rows.getString(1)));
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

  Map<JobStatus, Long> countByStatus() {
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

  /** Waits for the reads in progress, then closes every connection; later reads fail. */
  @Override
  public void close() {
    closed = true;
    for (Reader reader : readers) {
      reader.close();
    }
  }

  private static Optional<Job> single(PreparedStatement query) throws SQLException {
    try (ResultSet rows = query.executeQuery()) {
      return rows.next() ? Optional.of(JobJson.AS_GIVEN.read(rows.getString(1))) : Optional.empty();
    }
  }

  private static int bind(PreparedStatement statement, List<String> values) throws SQLException {
    int index = 1;
    for (String value : values) {
      statement.setString(index++, value);
    }
    return index;
  }

  private <T> T read(String what, Sqlite.SqlFunction<Reader, T> query) {
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

  private HubException closedError() {
    return HubException.unavailable("store is closed: " + file, null);
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

  /** One read connection with its statements; used by one thread at a time, under its lock. */
  private static final class Reader {
    final ReentrantLock lock = new ReentrantLock();
    final Connection connection;
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
          Sqlite.closeQuietly(statement);
        }
        Sqlite.closeQuietly(connection);
      } finally {
        lock.unlock();
      }
    }
  }
}
