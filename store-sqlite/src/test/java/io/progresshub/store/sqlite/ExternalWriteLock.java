package io.progresshub.store.sqlite;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Another process holding the database's write lock, as an operator's {@code sqlite3} shell in the
 * middle of a transaction does. Uses the real {@code sqlite3} program when it is installed, else a
 * second JDBC connection (SQLite's locks are the same file locks either way).
 */
final class ExternalWriteLock implements AutoCloseable {

  private final Process process;
  private final Connection connection;

  private ExternalWriteLock(Process process, Connection connection) {
    this.process = process;
    this.connection = connection;
  }

  /** Takes the write lock on {@code database}; returns once it is held. */
  static ExternalWriteLock hold(Path database) throws IOException, SQLException {
    Optional<String> sqlite3 = sqlite3();
    if (sqlite3.isPresent()) {
      Process process =
          new ProcessBuilder(sqlite3.get(), database.toString()).redirectErrorStream(true).start();
      OutputStream in = process.getOutputStream();
      // Exit on any error, so that "locked" is printed only once BEGIN IMMEDIATE succeeded.
      in.write(
          ".bail on\n.timeout 10000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n"
              .getBytes(StandardCharsets.US_ASCII));
      in.flush();
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      StringBuilder seen = new StringBuilder();
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.equals("locked")) {
          return new ExternalWriteLock(process, null);
        }
        seen.append(line).append('\n');
      }
      process.destroyForcibly();
      throw new IllegalStateException("sqlite3 could not take the write lock: " + seen);
    }
    Connection connection = DriverManager.getConnection("jdbc:sqlite:" + database);
    try (Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA busy_timeout = 10000");
      statement.execute("BEGIN IMMEDIATE");
    }
    return new ExternalWriteLock(null, connection);
  }

  /** Whether a real separate process holds the lock (else a connection in this JVM). */
  boolean isProcess() {
    return process != null;
  }

  /** Releases the lock and waits for the other process to end. */
  @Override
  public void close() throws Exception {
    if (process != null) {
      try (OutputStream in = process.getOutputStream()) {
        in.write("ROLLBACK;\n.quit\n".getBytes(StandardCharsets.US_ASCII));
      } catch (IOException alreadyGone) {
        // it exited; its lock went with it
      }
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      return;
    }
    try (Statement statement = connection.createStatement()) {
      statement.execute("ROLLBACK");
    } finally {
      connection.close();
    }
  }

  private static Optional<String> sqlite3() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "sqlite3");
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate.toString());
      }
    }
    return Optional.empty();
  }
}
