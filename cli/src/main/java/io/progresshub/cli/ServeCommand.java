package io.progresshub.cli;

import io.progresshub.core.Hub;
import io.progresshub.core.HubException;
import io.progresshub.core.spi.JobStore;
import io.progresshub.server.ProgressHubServer;
import io.progresshub.server.ServerConfig;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.store.sqlite.SqliteJobStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code progress-hub serve}: the SQLite store, the hub and the server, until SIGTERM or SIGINT.
 * Every option can also come from the environment or a config file; see docs/configuration.md.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Run the progress server.",
    sortOptions = false,
    footer = {
      "",
      "Every option can also be set by an environment variable",
      "(PROGRESS_HUB_PORT, ...) or a config file key (port, ...).",
      "Precedence: option > environment > config file > default.",
      "The JWT secret comes from PROGRESS_HUB_JWT_SECRET, the config file's",
      "jwt-secret, or <data-dir>/jwt-secret (generated on first start).",
      "See docs/configuration.md."
    })
final class ServeCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Option(names = "--host", paramLabel = "HOST", description = "Address to bind (127.0.0.1).")
  String host;

  @Option(names = "--port", paramLabel = "PORT", description = "TCP port (8080; 0 = any free).")
  String port;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Store and generated secret (./data).")
  String dataDir;

  @Option(names = "--config", paramLabel = "FILE", description = "Config file (properties).")
  String config;

  @Option(
      names = "--insecure-no-auth",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description = "DEVELOPMENT ONLY: no authentication; anyone can read and publish every job.")
  String insecureNoAuth;

  @Option(
      names = "--allowed-origin",
      paramLabel = "ORIGIN",
      description = "Browser origin allowed to connect (repeatable).")
  List<String> allowedOrigins;

  @Option(
      names = "--retention",
      paramLabel = "DURATION",
      description = "How long finished jobs are kept (24h): 30m, 24h, 7d, P7D...")
  String retention;

  @Option(
      names = "--heartbeat-interval",
      paramLabel = "DURATION",
      description = "WebSocket heartbeat interval (25s).")
  String heartbeatInterval;

  @Option(
      names = "--ws-compression",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description = "Offer permessage-deflate to WebSocket clients that ask (off).")
  String webSocketCompression;

  @Option(
      names = "--transport",
      paramLabel = "ENGINE",
      description = "Socket I/O engine: auto (epoll where available), epoll, io_uring or nio.")
  String transport;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      description = "Open WebSockets and SSE streams in total (100000).")
  String maxConnections;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description = "PEM certificate chain: serve HTTPS and WSS (with --tls-key).")
  String tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM (PKCS#8) private key.")
  String tlsKey;

  @Option(
      names = "--jwks-url",
      paramLabel = "URL",
      description = "Also accept RS256/ES256 tokens signed by this JWKS's keys.")
  String jwksUrl;

  @Option(names = "--jwt-issuer", paramLabel = "ISS", description = "Required token iss.")
  String jwtIssuer;

  @Option(names = "--jwt-audience", paramLabel = "AUD", description = "Required token aud.")
  String jwtAudience;

  @Override
  public Integer call() throws Exception {
    Settings settings =
        SettingsLoader.fromSources(flags(), Optional.ofNullable(config), main.env()).load();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();

    AuthConfig auth;
    if (settings.insecureNoAuth()) {
      err.print(insecureWarning(settings));
      err.flush();
      auth = AuthConfig.disabled();
    } else {
      JwtSecrets.Secret secret = JwtSecrets.loadOrCreate(settings);
      LOG.info("JWT secret from {}", secret.source());
      auth = settings.jwt().applyTo(AuthConfig.hs256(secret.key()));
    }
    ServerConfig config = settings.serverConfig(auth);

    LOG.info(
        "Data directory {}, finished jobs kept {}",
        settings.dataDir().toAbsolutePath().normalize(),
        Durations.format(settings.retention()));
    JobStore store;
    try {
      store =
          SqliteJobStore.builder(settings.dataDir())
              .maxPendingWrites(settings.hub().storeQueue())
              .busyTimeout(settings.hub().storeBusyTimeout())
              .open();
    } catch (HubException e) {
      return startFailed(err, e.getMessage(), e); // e.g. another server holds the data directory
    }
    Hub hub;
    try {
      hub =
          Hub.builder()
              .store(store)
              .retention(settings.retention())
              .maxReplay(settings.hub().maxReplay())
              .maxMetadataKeys(settings.hub().job().maxMetadataKeys())
              .maxJobStateBytes(settings.hub().job().maxStateBytes())
              .build();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    ProgressHubServer server;
    try {
      server = ProgressHubServer.start(config, hub);
    } catch (Exception e) { // Netty rethrows a bind failure, a checked IOException, unchecked
      hub.close();
      if (e instanceof IOException) {
        String address = settings.host() + ":" + settings.port();
        return startFailed(err, "cannot listen on " + address + ": " + e.getMessage(), e);
      }
      if (e instanceof IllegalArgumentException && settings.tls().isPresent()) {
        return startFailed(err, e.getMessage(), e); // the certificate or key: names the file
      }
      throw e;
    }
    GracefulShutdown shutdown = new GracefulShutdown().then("server", server).then("hub", hub);
    shutdown.install();

    out.print(
        banner(
            settings.host(),
            server.port(),
            settings.tls().isPresent(),
            settings.insecureNoAuth() ? Optional.empty() : Optional.of(mintCommand())));
    out.flush();

    server.awaitShutdown();
    shutdown.run(); // the server stopped by itself: still close the hub
    return 0;
  }

  /**
   * A start-up failure the operator can act on (port taken, data directory in use): one line on
   * stderr like a bad setting, since a stack trace would bury the reason; the trace at debug level.
   */
  private static int startFailed(PrintWriter err, String message, Exception e) {
    err.println("progress-hub: error: " + message);
    err.flush();
    LOG.debug("serve could not start", e);
    return CommandLine.ExitCode.SOFTWARE;
  }

  private Map<Setting, String> flags() {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    putIfSet(flags, Setting.HOST, host);
    putIfSet(flags, Setting.PORT, port);
    putIfSet(flags, Setting.DATA_DIR, dataDir);
    putIfSet(flags, Setting.INSECURE_NO_AUTH, insecureNoAuth);
    if (allowedOrigins != null && !allowedOrigins.isEmpty()) {
      flags.put(Setting.ALLOWED_ORIGINS, String.join(",", allowedOrigins));
    }
    putIfSet(flags, Setting.RETENTION, retention);
    putIfSet(flags, Setting.HEARTBEAT_INTERVAL, heartbeatInterval);
    putIfSet(flags, Setting.MAX_CONNECTIONS, maxConnections);
    putIfSet(flags, Setting.TRANSPORT, transport);
    putIfSet(flags, Setting.WS_COMPRESSION, webSocketCompression);
    putIfSet(flags, Setting.TLS_CERT, tlsCert);
    putIfSet(flags, Setting.TLS_KEY, tlsKey);
    putIfSet(flags, Setting.JWKS_URL, jwksUrl);
    putIfSet(flags, Setting.JWT_ISSUER, jwtIssuer);
    putIfSet(flags, Setting.JWT_AUDIENCE, jwtAudience);
    for (Setting setting : Setting.values()) {
      if (setting.declaredHere()) {
        OptionSpec option = spec.findOption(setting.flag().orElseThrow());
        putIfSet(flags, setting, option == null ? null : option.getValue());
      }
    }
    return flags;
  }

  /**
   * Declares the flags of the limits from the {@link Setting} table, each with its default: one row
   * there is one flag, one environment variable and one config key.
   */
  static void declareLimitOptions(CommandSpec serve) {
    for (Setting setting : Setting.values()) {
      if (setting.declaredHere()) {
        serve.addOption(
            OptionSpec.builder(setting.flag().orElseThrow())
                .paramLabel(setting.paramLabel())
                .type(String.class)
                .description(
                    setting.description() + " (" + SettingsLoader.defaultText(setting) + ").")
                .build());
      }
    }
  }

  /** How to get an admin token with this server's secret (the same data directory and config). */
  private String mintCommand() {
    StringBuilder command = new StringBuilder("progress-hub token --sub admin --role admin");
    if (dataDir != null) {
      command.append(" --data-dir ").append(dataDir);
    }
    if (config != null) {
      command.append(" --config ").append(config);
    }
    return command.toString();
  }

  private static void putIfSet(Map<Setting, String> flags, Setting setting, String value) {
    if (value != null) {
      flags.put(setting, value);
    }
  }

  /**
   * What serve prints on stdout once it listens: where to connect, and how to get a token. It
   * prints no token: stdout ends up in service logs, where a long-lived admin token would be
   * anyone's.
   */
  static String banner(String host, int port, boolean tls, Optional<String> mintCommand) {
    String http = (tls ? "https://" : "http://") + urlHost(host) + ":" + port;
    String ws = (tls ? "wss://" : "ws://") + urlHost(host) + ":" + port + "/ws";
    StringBuilder text = new StringBuilder();
    text.append("progress-hub ").append(Version.current()).append(" is ready\n");
    text.append("  HTTP:      ").append(http).append('\n');
    text.append("  WebSocket: ").append(ws).append('\n');
    if (isWildcard(host)) {
      text.append("  (listening on all interfaces, ").append(host).append(")\n");
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

  private static String urlHost(String host) {
    if (isWildcard(host)) {
      return "localhost";
    }
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost")
        || host.startsWith("127.")
        || host.equals("::1")
        || host.equals("[::1]");
  }
}
