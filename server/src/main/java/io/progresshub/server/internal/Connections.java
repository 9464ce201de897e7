package io.progresshub.server.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

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

  /** Asks every open connection to end gracefully ({@link Connection#goAway}). */
  public void goingAway() {
    open.forEach(Connection::goAway);
  }

  /** Closes every open connection at once, without a goodbye. */
  public void closeAll() {
    open.forEach(connection -> connection.channel().close());
  }
}
