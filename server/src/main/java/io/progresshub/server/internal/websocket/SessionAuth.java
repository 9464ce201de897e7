package io.progresshub.server.internal.websocket;

import io.netty.util.concurrent.ScheduledFuture;
import io.progresshub.core.HubException;
import io.progresshub.core.Principal;
import io.progresshub.protocol.ClientMessage;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.ServerMessage;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Who a WebSocket connection is: its caller once authenticated (by the handshake's token or a first
 * {@code auth} message), its place in the per-user connection count, and its token's expiry, after
 * which the connection is closed with 4401 unless a refreshed token came in time. Event loop only,
 * but for {@link #principal()}.
 */
final class SessionAuth {
  private final WebSocketSession session;
  private volatile Principal principal;
  private boolean countedUser;
  private long tokenExpiresAtMillis; // 0: no expiry
  private ScheduledFuture<?> deadline; // for a first auth, or the token's expiry

  SessionAuth(WebSocketSession session) {
    this.session = session;
  }

  /** The caller, or null before authentication. Read from any thread. */
  Principal principal() {
    return principal;
  }

  /** No token in the handshake: the client has a little while to send an {@code auth} message. */
  void awaitFirstAuth() {
    deadline =
        session
            .channel()
            .eventLoop()
            .schedule(
                () ->
                    session.fail(
                        ErrorCode.AUTH_REQUIRED, "no auth message in time", Optional.empty()),
                session.context().config().limits().handshakeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
  }

  /**
   * An {@code auth} message: the first authenticates the connection, later ones refresh the token
   * (for the same user). Returns true when it authenticated the connection for the first time.
   */
  boolean onAuth(ClientMessage.Auth auth) {
    Principal verified;
    try {
      verified = session.context().authenticator().verify(auth.token());
    } catch (HubException e) {
      if (principal == null) {
        session.fail(ErrorCode.UNAUTHORIZED, e.getMessage(), auth.requestId());
      } else {
        // keep the current token
        session.error(ErrorCode.UNAUTHORIZED, e.getMessage(), auth.requestId());
      }
      return false;
    }
    Principal current = principal;
    if (current != null && !current.subject().equals(verified.subject())) {
      session.error(
          ErrorCode.FORBIDDEN, "a refreshed token must be for the same user", auth.requestId());
      return false;
    }
    return accept(verified, Optional.of(auth.token()), auth.requestId(), true) && current == null;
  }

  /**
   * Records the caller; answers {@code authenticated} when {@code reply} (asked by message).
   * Returns false when the connection is being closed instead (too many for this user).
   */
  boolean accept(
      Principal verified, Optional<String> token, Optional<String> requestId, boolean reply) {
    cancelDeadline();
    if (!countedUser) {
      if (!session.context().limiter().tryAcquireUser(verified.subject())) {
        session.context().meters().connectionRefused(ServerMeters.ConnectionLimit.PER_USER);
        session.fail(
            ErrorCode.TOO_MANY_CONNECTIONS, "too many connections for this user", requestId);
        return false;
      }
      countedUser = true;
    }
    principal = verified;
    Optional<Instant> expiry = token.flatMap(session.context().authenticator()::expiry);
    tokenExpiresAtMillis = expiry.map(at -> Math.max(1, at.toEpochMilli())).orElse(0L);
    watchExpiry();
    if (reply) {
      session.send(
          new ServerMessage.Authenticated(
              verified.subject(), verified.role().wireName(), expiry, requestId));
    }
    return true;
  }

  /**
   * Once per heartbeat: arms an exact timer for the token's expiry once it is nearer than the next
   * heartbeat (with a second to spare); until then each heartbeat looks again.
   */
  void watchExpiry() {
    if (tokenExpiresAtMillis == 0 || deadline != null) {
      return;
    }
    long left = tokenExpiresAtMillis - System.currentTimeMillis();
    if (left > session.context().config().webSocket().heartbeatInterval().toMillis() + 1000) {
      return; // a later beat arms it
    }
    deadline =
        session
            .channel()
            .eventLoop()
            .schedule(
                () -> session.fail(ErrorCode.UNAUTHORIZED, "token expired", Optional.empty()),
                Math.max(0, left),
                TimeUnit.MILLISECONDS);
  }

  /** The connection has gone: no timer left, and the user's count given back. */
  void release() {
    cancelDeadline();
    Principal current = principal;
    if (countedUser && current != null) {
      session.context().limiter().releaseUser(current.subject());
    }
  }

  private void cancelDeadline() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }
}
