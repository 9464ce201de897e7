package io.progresshub.server.internal.http;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.spi.JobQuery;
import io.progresshub.protocol.BroadcastRequest;
import io.progresshub.protocol.ConnectionList;
import io.progresshub.protocol.Delivered;
import io.progresshub.protocol.Disconnected;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.protocol.WireCodec;
import io.progresshub.server.internal.ApiException;
import io.progresshub.server.internal.Connection;
import io.progresshub.server.internal.Connections;
import io.progresshub.server.internal.QueryParams;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.Text;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The admin API over this node's open connections: who is connected and watching what, forced
 * disconnects (one connection, or all of a user's), and messages to a job's watchers. Admins only.
 *
 * <p>A connection's subscriptions live on its event loop, so each is asked there ({@link
 * Connections#ask}); a listing is a snapshot that may lag a connection opening or closing.
 */
final class ConnectionsResource {
  private static final int DEFAULT_PAGE = 100;

  /** How long an admin request waits for the event loops' answers. */
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  /** The longest reason a disconnect passes on: a close frame's reason has 123 bytes. */
  private static final int MAX_REASON = 100;

  private final ServerContext context;
  private final RestJson json;
  private final WireCodec codec;
  private final Clock clock;

  ConnectionsResource(ServerContext context, RestJson json, WireCodec codec, Clock clock) {
    this.context = context;
    this.json = json;
    this.codec = codec;
    this.clock = clock;
  }

  /** {@code GET /api/connections?user=&job=&offset=&limit=}: oldest first. */
  Reply list(RestRequest request) {
    Permissions.requireAdmin(request.caller());
    QueryParams query = request.query();
    Optional<String> user = query.get("user");
    Optional<String> job = query.get("job");
    int offset = query.nonNegativeInt("offset", 0);
    int limit = query.nonNegativeInt("limit", DEFAULT_PAGE);
    if (limit < 1 || limit > JobQuery.MAX_LIMIT) {
      throw HubException.invalid("limit: " + limit + " (expected: 1-" + JobQuery.MAX_LIMIT + ")");
    }
    List<ConnectionList.Entry> matching =
        context
            .connections()
            .ask(
                connection -> {
                  if (user.isPresent() && !user.equals(connection.user())) {
                    return null;
                  }
                  List<String> jobs = connection.watching().stream().sorted().toList();
                  if (job.isPresent() && !jobs.contains(job.get())) {
                    return null;
                  }
                  return entry(connection, jobs);
                },
                ASK_TIMEOUT)
            .stream()
            .sorted(
                Comparator.comparing(ConnectionList.Entry::connectedAt)
                    .thenComparing(ConnectionList.Entry::id))
            .toList();
    int from = Math.min(offset, matching.size());
    int to = Math.min(from + limit, matching.size());
    return Reply.ok(new ConnectionList(matching.subList(from, to), matching.size(), offset, limit));
  }

  private static ConnectionList.Entry entry(Connection connection, List<String> jobs) {
    return new ConnectionList.Entry(
        connection.id(),
        connection.user(),
        connection.role().map(role -> role.wireName()),
        connection.transport().wireName(),
        connection.remoteAddress(),
        connection.openedAt(),
        jobs);
  }

  /** {@code DELETE /api/connections/{connection}?reason=}: 404 when no such connection is open. */
  Reply disconnect(RestRequest request) {
    Permissions.requireAdmin(request.caller());
    String id = request.param("connection");
    Connection connection =
        context
            .connections()
            .find(id)
            .orElseThrow(
                () ->
                    new ApiException(
                        ErrorCode.CONNECTION_NOT_FOUND,
                        "no open connection " + Text.abbreviate(id)));
    connection.disconnect(reason(request));
    return Reply.ok(new Disconnected(1));
  }

  /** {@code DELETE /api/users/{user}/connections?reason=}: every connection of that user. */
  Reply disconnectUser(RestRequest request) {
    Permissions.requireAdmin(request.caller());
    Optional<String> user = Optional.of(request.param("user"));
    String reason = reason(request);
    long disconnected =
        context
            .connections()
            .ask(
                connection -> {
                  if (!user.equals(connection.user())) {
                    return null;
                  }
                  connection.disconnect(reason);
                  return connection;
                },
                ASK_TIMEOUT)
            .size();
    return Reply.ok(new Disconnected(disconnected));
  }

  /**
   * {@code POST /api/jobs/{id}/broadcast}: {@code data} to every connection of this node watching
   * the job, but {@code exclude}. The message carries the job's status and seq, like every message
   * with a {@code job_id}.
   */
  Reply broadcast(RestRequest request) {
    Permissions.requireAdmin(request.caller());
    Job job = context.hub().get(request.param("id"));
    BroadcastRequest body = json.broadcast(request.jsonBody());
    byte[] message =
        codec.encode(
            new ServerMessage.Broadcast(
                job.id(), job.status().wireName(), job.seq(), body.data(), clock.instant()));
    long delivered =
        context
            .connections()
            .ask(
                connection -> {
                  if (body.exclude().filter(connection.id()::equals).isPresent()) {
                    return null;
                  }
                  return connection.broadcast(job.id(), message) ? connection : null;
                },
                ASK_TIMEOUT)
            .size();
    return Reply.ok(new Delivered(delivered));
  }

  private static String reason(RestRequest request) {
    String reason = request.query().get("reason").orElse("no reason given");
    // Printable ASCII only, and short: it ends up in a close frame and in the client's logs.
    String printable = reason.replaceAll("[^\\x20-\\x7e]", "?");
    return printable.length() > MAX_REASON ? printable.substring(0, MAX_REASON) : printable;
  }
}
