package io.progresshub.cli;

import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
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
 * {@code progress-hub serve}: the store (SQLite, or Redis with {@code --redis-url}), the hub and
 * the server, until SIGTERM or SIGINT. Every option can also come from the environment or a config
 * file; see docs/configuration.md.
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

  // The options below declare the flags of the settings and their help, in the order --help shows
  // them. flags() reads their values by the Setting table's flag names, as it does those of the
  // limits, which declareLimitOptions() adds; only --data-dir and --config are read here directly.

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
      names = "--monitor-interval",
      paramLabel = "DURATION",
      description = "How often /ws/monitor gets a system_status (2s).")
  String monitorInterval;

  @Option(
      names = "--drain-spread",
      paramLabel = "DURATION",
      description =
          "At shutdown, tell each client to wait a random time below this before reconnecting"
              + " (5s; 0 for no wait).")
  String drainSpread;

  @Option(
      names = "--drain-delay",
      paramLabel = "DURATION",
      description =
          "On SIGTERM, answer /ready with 503 for this long while still serving, before closing"
              + " (0s): the time a load balancer needs to notice.")
  String drainDelay;

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

  @Option(
      names = "--metrics",
      paramLabel = "ACCESS",
      description =
          "GET /metrics: open-on-loopback (no token from this host), open, token (admin) or off.")
  String metrics;

  @Option(
      names = "--log-format",
      paramLabel = "FORMAT",
      description = "Access log lines (logger progress-hub.access): plain or json.")
  String logFormat;

  @Option(
      names = "--redis-url",
      paramLabel = "URL",
      description =
          "Keep jobs in this Redis and share them with the other nodes on it, instead of the"
              + " data directory's SQLite file. A password belongs in PROGRESS_HUB_REDIS_URL.")
  String redisUrl;

  @Option(
      names = "--redis-prefix",
      paramLabel = "PREFIX",
      description =
          "Prefix of this deployment's Redis keys and channels (progress-hub:), so that several"
              + " share one Redis. Only with --redis-url.")
  String redisPrefix;

  @Option(
      names = "--redis-timeout",
      paramLabel = "DURATION",
      description =
          "Longest a Redis command or connect may take before producers get 503 (2s)."
              + " Only with --redis-url.")
  String redisTimeout;

  @Option(
      names = "--redis-replicas",
      paramLabel = "N",
      description =
          "Acknowledge an event only once N Redis replicas hold it (0), so that a failover loses"
              + " no acknowledged event. Only with --redis-url.")
  String redisReplicas;

  @Option(
      names = "--node-id",
      paramLabel = "ID",
      description =
          "This node's name in what it broadcasts and in its log (random). Only with --redis-url.")
  String nodeId;

  @Override
  public Integer call() throws Exception {
    Settings settings =
        SettingsLoader.fromSources(flags(spec), Optional.ofNullable(config), main.env()).load();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (settings.insecureNoAuth()) {
      err.print(ServeBanner.insecureWarning(settings));
      err.flush();
    }
    RunningHub hub;
    try {
      hub = HubLauncher.start(settings);
    } catch (HubLauncher.StartFailure e) {
      return startFailed(err, e);
    }
    try (hub) { // when the server stops by itself, this still closes the hub
      hub.closeOnSignals();
      Optional<String> mintCommand =
          hub.authEnabled()
              ? Optional.of(
                  ServeBanner.mintCommand(
                      Optional.ofNullable(dataDir), Optional.ofNullable(config)))
              : Optional.empty();
      Optional<String> dashboardToken =
          DashboardLink.adminToken(hub.settings(), DashboardLink.onTerminal());
      out.print(ServeBanner.banner(hub.address(), mintCommand, dashboardToken));
      out.flush();
      hub.awaitShutdown();
    }
    return 0;
  }

  /**
   * A start-up failure the operator can act on (port taken, data directory in use): one line on
   * stderr like a bad setting, since a stack trace would bury the reason; the trace at debug level.
   */
  private static int startFailed(PrintWriter err, HubLauncher.StartFailure e) {
    err.println("progress-hub: error: " + e.getMessage());
    err.flush();
    LOG.debug("serve could not start", e);
    return CommandLine.ExitCode.SOFTWARE;
  }

  /**
   * The settings given as flags, read from the options by the {@link Setting} table's flag names:
   * the annotated fields above and the options {@link #declareLimitOptions} adds alike.
   */
  static Map<Setting, String> flags(CommandSpec serve) {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    for (Setting setting : Setting.values()) {
      if (setting.flag().isEmpty()) {
        continue;
      }
      OptionSpec option = serve.findOption(setting.flag().get());
      if (option == null) {
        throw new IllegalStateException(setting.flag().get() + " is not an option of serve");
      }
      Object value = option.getValue();
      if (value instanceof List<?> values) { // repeatable, e.g. --allowed-origin
        if (!values.isEmpty()) {
          flags.put(setting, values.stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
      } else if (value != null) {
        flags.put(setting, value.toString());
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
}
