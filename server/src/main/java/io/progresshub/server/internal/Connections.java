package io.progresshub.server.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Every open client connection of one server, whatever its transport: graceful shutdown ends them
 * through it, and stats (and whatever lists or counts connections) read it. A connection adds
 * itself once it is established and removes itself when its channel closes.
 */
public final class Connections {
  private final Set<Connection> open = ConcurrentHashMap.newKeySet();

  /** A fresh connection id: 48 random bits, so ids are not guessable and hardly ever repeat. */
  public static long newId() {
    return ThreadLocalRandom.current().nextLong() & 0xffffffffffffL;
  }

  /** The id as clients see it. */
  public static String format(long id) {
    return "c-" + Long.toHexString(id);
  }

  public void add(Connection connection) {
    open.add(connection);
  }

  public void remove(Connection connection) {
    open.remove(connection);
  }

  /** How many connections are open (may lag a little behind connections opening or closing). */
  public int size() {
    return open.size();
  }

  public boolean isEmpty() {
    return open.isEmpty();
  }

  /** Runs {@code action} for each open connection, on the calling thread. */
  public void forEach(Consumer<Connection> action) {
    open.forEach(action);
  }

  /** The open connection with this id, if any; a scan, for the admin API, not for hot paths. */
  public Optional<Connection> find(String id) {
    for (Connection connection : open) {
      if (connection.id().equals(id)) {
        return Optional.of(connection);
      }
    }
    return Optional.empty();
  }

  /**
   * Asks each open connection {@code question} on its own event loop, where its state lives, and
   * gathers the answers that are not null, in no particular order. A connection that closes or does
   * not answer within {@code timeout} is left out. For the admin API, not for hot paths.
   */
  public <T> List<T> ask(Function<Connection, T> question, Duration timeout) {
    List<Future<T>> asked = new ArrayList<>(open.size());
    for (Connection connection : open) {
      try {
        asked.add(connection.channel().eventLoop().submit(() -> question.apply(connection)));
      } catch (RejectedExecutionException loopGone) {
        // shutting down: the connection goes with its loop
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    List<T> answers = new ArrayList<>(asked.size());
    for (Future<T> answer : asked) {
      try {
        T value = answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (value != null) {
          answers.add(value);
        }
      } catch (ExecutionException | TimeoutException e) {
        answer.cancel(false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return answers;
  }

  /**
   * Asks every open connection to end gracefully ({@link Connection#goAway}), each with its own
   * random reconnect delay below {@code spread}: the clients of a node that stops would otherwise
   * all reconnect to the remaining nodes in the same instant.
   */
  public void goingAway(Duration spread) {
    long spreadMillis = spread.toMillis();
    open.forEach(
        connection ->
            connection.goAway(
                Duration.ofMillis(
                    spreadMillis <= 0 ? 0 : ThreadLocalRandom.current().nextLong(spreadMillis))));
  }

  /** Closes every open connection at once, without a goodbye. */
  public void closeAll() {
    open.forEach(connection -> connection.channel().close());
  }
}
