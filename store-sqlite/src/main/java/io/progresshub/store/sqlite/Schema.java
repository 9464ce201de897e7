package io.progresshub.store.sqlite;

import io.progresshub.core.HubException;
import io.progresshub.store.json.JobJson;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;

/**
 * The tables of {@code progress-hub.db} and their version, kept in {@code PRAGMA user_version} so
 * that a later release can migrate an older file step by step.
 *
 * <p>Instants in columns are epoch nanoseconds (exact, and ordered like the instants); the {@code
 * state} columns hold the full job snapshot as JSON ({@link JobJson}).
 */
final class Schema {

  /** The version this code writes. 0 is an empty file. */
  static final int VERSION = 1;

  private static final String[] V1 = {
    """
    CREATE TABLE jobs (
      id          TEXT    NOT NULL PRIMARY KEY,
      owner       TEXT    NOT NULL,
      type        TEXT    NOT NULL,
      status      TEXT    NOT NULL,
      seq         INTEGER NOT NULL,
      created_at  INTEGER NOT NULL,
      updated_at  INTEGER NOT NULL,
      finished_at INTEGER,
      state       TEXT    NOT NULL
    )""",
    // Listing is newest first, optionally filtered by one or more of status, owner, type.
    "CREATE INDEX jobs_by_created ON jobs (created_at, id)",
    "CREATE INDEX jobs_by_status ON jobs (status, created_at, id)",
    "CREATE INDEX jobs_by_owner ON jobs (owner, created_at, id)",
    "CREATE INDEX jobs_by_type ON jobs (type, created_at, id)",
    // Retention deletes by finish time; running jobs are not in this index at all.
    "CREATE INDEX jobs_by_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL",
    """
    CREATE TABLE events (
      job_id     TEXT    NOT NULL,
      seq        INTEGER NOT NULL,
      transition INTEGER NOT NULL,
      event_id   TEXT,
      state      TEXT    NOT NULL,
      PRIMARY KEY (job_id, seq)
    )""",
    // Compaction finds the job's previous tick without scanning its transitions.
    "CREATE INDEX events_ticks ON events (job_id) WHERE transition = 0",
    // Producer event ids outlive the compaction of the tick they produced: a retry of a compacted
    // tick must still get its original result.
    """
    CREATE TABLE event_ids (
      job_id   TEXT    NOT NULL,
      event_id TEXT    NOT NULL,
      seq      INTEGER NOT NULL,
      state    TEXT    NOT NULL,
      PRIMARY KEY (job_id, event_id)
    )""",
  };

  private Schema() {}

  /** Brings the database to {@link #VERSION}; refuses a file written by a newer release. */
  static void migrate(Connection connection, Path file) throws SQLException {
    int version = version(connection);
    if (version > VERSION) {
      throw HubException.unavailable(
          file
              + ": schema version "
              + version
              + " (expected: at most "
              + VERSION
              + "); it was written by a newer progress-hub",
          null);
    }
    if (version == VERSION) {
      return;
    }
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (Statement statement = connection.createStatement()) {
      if (version < 1) {
        for (String sql : V1) {
          statement.execute(sql);
        }
      }
      // Later versions add their steps here: if (version < 2) { ... }
      statement.execute("PRAGMA user_version = " + VERSION);
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /**
   * An instant as epoch nanoseconds: exact and ordered like the instants. Instants beyond the years
   * 1677-2262 saturate; they keep their order against every realistic timestamp.
   */
  static long nanos(Instant instant) {
    try {
      return Math.addExact(
          Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
    } catch (ArithmeticException e) {
      return instant.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  static int version(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("PRAGMA user_version")) {
      return rows.next() ? rows.getInt(1) : 0;
    }
  }
}
