package io.progresshub.store.sqlite;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/** Small helpers shared by the store, its writer and its readers. */
final class Sqlite {

  /** SQLite's primary result codes the store tells apart. */
  static final int SQLITE_BUSY = SQLiteErrorCode.SQLITE_BUSY.code;

  static final int SQLITE_READONLY = SQLiteErrorCode.SQLITE_READONLY.code;
  static final int SQLITE_CORRUPT = SQLiteErrorCode.SQLITE_CORRUPT.code;
  static final int SQLITE_NOTADB = SQLiteErrorCode.SQLITE_NOTADB.code;

  private static final System.Logger LOG = System.getLogger(Sqlite.class.getName());

  private Sqlite() {}

  /** SQLite's primary result code of {@code e}, or -1 if it is not from SQLite. */
  static int code(SQLException e) {
    return e instanceof SQLiteException sqlite ? sqlite.getResultCode().code & 0xff : -1;
  }

  /** Messages go into one log line and one error answer. */
  static String oneLine(String message) {
    return message == null ? "" : message.replaceAll("\\s*\\R\\s*", " ").strip();
  }

  /** Whole milliseconds, rounded up, at most {@link Integer#MAX_VALUE}. */
  static int millis(Duration duration) {
    long millis = (duration.toNanos() + 999_999) / 1_000_000;
    return (int) Math.min(Integer.MAX_VALUE, millis);
  }

  static void setNullableLong(PreparedStatement statement, int index, Long value)
      throws SQLException {
    if (value == null) {
      statement.setNull(index, Types.INTEGER);
    } else {
      statement.setLong(index, value);
    }
  }

  static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.log(System.Logger.Level.DEBUG, "close failed", e);
    }
  }

  /** A step of JDBC work that may throw {@link SQLException}. */
  @FunctionalInterface
  interface SqlFunction<T, R> {
    R apply(T input) throws SQLException;
  }
}
