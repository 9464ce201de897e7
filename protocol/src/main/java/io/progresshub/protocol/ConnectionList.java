package io.progresshub.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to {@code GET /api/connections}: one page of this node's open connections, oldest
 * first.
 *
 * @param total how many connections matched the filters, on every page
 */
public record ConnectionList(List<Entry> connections, long total, int offset, int limit)
    implements RestBody {

  public ConnectionList {
    connections = List.copyOf(connections);
  }

  /**
   * One open connection.
   *
   * @param id the id its client was told in {@code connection_established}
   * @param user the token's subject, once authenticated
   * @param role the token's role, once authenticated
   * @param transport {@code websocket}, {@code sse} or {@code monitor}
   * @param remoteAddress the client's address as the server sees it (a proxy's, behind one)
   * @param jobs the jobs it watches
   */
  public record Entry(
      String id,
      Optional<String> user,
      Optional<String> role,
      String transport,
      String remoteAddress,
      Instant connectedAt,
      List<String> jobs) {

    public Entry {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(transport, "transport");
      Objects.requireNonNull(remoteAddress, "remoteAddress");
      Objects.requireNonNull(connectedAt, "connectedAt");
      jobs = List.copyOf(jobs);
    }
  }
}
