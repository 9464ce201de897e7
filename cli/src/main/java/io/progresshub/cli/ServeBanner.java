package io.progresshub.cli;

import java.util.Optional;

/** What {@code serve} tells the operator: the banner once it listens, the insecure-mode warning. */
final class ServeBanner {

  private ServeBanner() {}

  /**
   * What serve prints on stdout once it listens: where to connect, the dashboard, and how to get a
   * token. The dashboard link carries a token only when serve was given one to show (on a terminal,
   * see {@link DashboardLink}): stdout that is not a terminal ends up in service logs, where an
   * admin token would be anyone's.
   *
   * @param mintCommand the command that prints an admin token; empty when auth is off
   * @param dashboardToken a short-lived admin token for the dashboard link, if any
   */
  static String banner(
      HubAddress address, Optional<String> mintCommand, Optional<String> dashboardToken) {
    String http = address.httpUrl();
    StringBuilder text = new StringBuilder();
    text.append("progress-hub ").append(Version.current()).append(" is ready\n");
    text.append("  HTTP:      ").append(http).append('\n');
    text.append("  WebSocket: ").append(address.webSocketUrl()).append('\n');
    if (dashboardToken.isPresent()) {
      text.append("  Dashboard: ")
          .append(http)
          .append("/#token=")
          .append(dashboardToken.get())
          .append("  (signed in as admin for ")
          .append(DashboardLink.TOKEN_TTL.toHours())
          .append("h)\n");
    } else if (mintCommand.isPresent()) {
      text.append("  Dashboard: ").append(http).append("/  (sign in with an admin token)\n");
    } else {
      text.append("  Dashboard: ").append(http).append("/\n");
    }
    if (address.allInterfaces()) {
      text.append("  (listening on all interfaces, ").append(address.host()).append(")\n");
    }
    if (mintCommand.isPresent()) {
      text.append("  An admin token, valid 1h: ").append(mintCommand.get()).append('\n');
      text.append("  Try: curl -H \"Authorization: Bearer $(")
          .append(mintCommand.get())
          .append(")\" ")
          .append(http)
          .append("/api/jobs\n");
    } else {
      text.append("  Try: curl ").append(http).append("/api/jobs\n");
    }
    return text.toString();
  }

  /**
   * How to get an admin token with the server's secret: {@code token} with the same data directory
   * and config file as given to serve.
   */
  static String mintCommand(Optional<String> dataDir, Optional<String> config) {
    StringBuilder command = new StringBuilder("progress-hub token --sub admin --role admin");
    dataDir.ifPresent(dir -> command.append(" --data-dir ").append(dir));
    config.ifPresent(file -> command.append(" --config ").append(file));
    return command.toString();
  }

  /** What serve prints on stderr before it starts without authentication. */
  static String insecureWarning(Settings settings) {
    String line = "*".repeat(78) + "\n";
    StringBuilder text = new StringBuilder();
    text.append(line);
    text.append("WARNING: AUTHENTICATION IS OFF (--insecure-no-auth).\n");
    text.append("Anyone who can reach this server can read every job, publish to, cancel and\n");
    text.append(
        "delete any job, and use the admin endpoints. Use it on a development machine only.\n");
    if (!isLoopback(settings.host())) {
      text.append("This server listens on ")
          .append(settings.host())
          .append(", which is reachable from other machines.\n");
    }
    text.append(line);
    return text.toString();
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost")
        || host.startsWith("127.")
        || host.equals("::1")
        || host.equals("[::1]");
  }
}
