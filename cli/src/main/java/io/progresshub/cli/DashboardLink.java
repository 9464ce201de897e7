package io.progresshub.cli;

import io.progresshub.core.Role;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwtTokens;
import java.io.Console;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The dashboard link that {@code serve} prints: with a short-lived admin token in its fragment
 * ({@code /#token=...}, which the page reads and then removes from the address bar) when an
 * operator reads it on a terminal; without one otherwise, since stdout that is not a terminal ends
 * up in service logs, where a token would be anyone's.
 */
final class DashboardLink {

  /** How long the printed token lasts: enough to open the page, not a standing credential. */
  static final Duration TOKEN_TTL = Duration.ofHours(1);

  private DashboardLink() {}

  /**
   * An admin token for the link, signed with serve's secret: only when auth is on and stdout is a
   * terminal.
   */
  static Optional<String> adminToken(Settings settings, boolean onTerminal) {
    if (settings.insecureNoAuth() || !onTerminal) {
      return Optional.empty();
    }
    return JwtSecrets.load(settings)
        .map(
            secret ->
                new JwtTokens(
                        settings.jwt().applyTo(AuthConfig.hs256(secret.key())), Clock.systemUTC())
                    .issue("admin", Role.ADMIN, List.of(), TOKEN_TTL));
  }

  /**
   * Whether this process talks to a terminal. Up to Java 21 {@link System#console} is null unless
   * stdin and stdout are one; from Java 22 it is there anyway and {@code Console.isTerminal()} says
   * (called by name: the code compiles for Java 21).
   */
  static boolean onTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException before22) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }
}
