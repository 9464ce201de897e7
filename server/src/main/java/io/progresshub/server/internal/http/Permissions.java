package io.progresshub.server.internal.http;

import io.progresshub.core.HubException;
import io.progresshub.core.Principal;
import io.progresshub.server.internal.ServerContext;
import io.progresshub.server.internal.Text;
import io.progresshub.server.internal.metrics.ServerMeters;
import java.time.Duration;

/** The role and rate checks REST resources make of their caller. */
final class Permissions {
  private final ServerContext context;

  Permissions(ServerContext context) {
    this.context = context;
  }

  static void requirePublisher(Principal caller) {
    if (!caller.canPublish()) {
      throw HubException.forbidden("this needs the publisher or admin role");
    }
  }

  static void requireAdmin(Principal caller) {
    if (!caller.isAdmin()) {
      throw HubException.forbidden("this needs the admin role");
    }
  }

  /**
   * Takes {@code events} from the caller's publish allowance, or refuses with 429 and {@code
   * Retry-After}: one runaway producer must not fill the store's queue for all.
   */
  void requireWithinPublishRate(Principal caller, int events) {
    long wait = context.limiter().tryPublish(caller.subject(), events);
    if (wait > 0) {
      context.meters().rateLimited(ServerMeters.RateLimit.PUBLISH_RATE);
      throw new HubException(
          HubException.Code.RATE_LIMITED,
          "too many events from "
              + Text.abbreviate(caller.subject())
              + " (expected: at most "
              + context.config().limits().publishRate()
              + ")",
          null,
          Duration.ofNanos(wait));
    }
  }
}
