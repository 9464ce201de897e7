package io.progresshub.cli;

import java.util.Optional;

/**
 * One setting of {@code progress-hub serve}, with its names in each source. Precedence: flag, then
 * environment variable, then config file key, then the default.
 */
enum Setting {
  HOST("host", "--host"),
  PORT("port", "--port"),
  DATA_DIR("data-dir", "--data-dir"),
  /** No flag on purpose: a secret on the command line is visible to every user in {@code ps}. */
  JWT_SECRET("jwt-secret", null),
  ALLOWED_ORIGINS("allowed-origins", "--allowed-origin"),
  RETENTION("retention", "--retention"),
  HEARTBEAT_INTERVAL("heartbeat-interval", "--heartbeat-interval"),
  MONITOR_INTERVAL("monitor-interval", "--monitor-interval"),
  DRAIN_SPREAD("drain-spread", "--drain-spread"),
  DRAIN_DELAY("drain-delay", "--drain-delay"),
  MAX_CONNECTIONS("max-connections", "--max-connections"),
  TRANSPORT("transport", "--transport"),
  WS_COMPRESSION("ws-compression", "--ws-compression"),
  INSECURE_NO_AUTH("insecure-no-auth", "--insecure-no-auth"),
  TLS_CERT("tls-cert", "--tls-cert"),
  TLS_KEY("tls-key", "--tls-key"),
  JWKS_URL("jwks-url", "--jwks-url"),
  JWT_ISSUER("jwt-issuer", "--jwt-issuer"),
  JWT_AUDIENCE("jwt-audience", "--jwt-audience"),
  METRICS("metrics", "--metrics"),
  LOG_FORMAT("log-format", "--log-format"),
  REDIS_URL("redis-url", "--redis-url"),
  // Only with REDIS_URL: given without it, they are refused (see SettingsLoader#redis).
  REDIS_PREFIX("redis-prefix", "--redis-prefix"),
  REDIS_TIMEOUT("redis-timeout", "--redis-timeout"),
  REDIS_REPLICAS("redis-replicas", "--redis-replicas"),
  NODE_ID("node-id", "--node-id"),

  // Limits: their flags are declared from this table (see ServeCommand), with these descriptions.
  MAX_CONNECTIONS_PER_USER("max-connections-per-user", "N", "WebSockets + SSE streams per user"),
  MAX_CONNECTIONS_PER_ADDRESS(
      "max-connections-per-address", "N", "Connections of every kind per client address"),
  MAX_HTTP_CONNECTIONS("max-http-connections", "N", "Plain HTTP connections in total"),
  CONNECT_RATE("connect-rate", "PER_SECOND", "New connections per address per second (0 = off)"),
  CONNECT_BURST("connect-burst", "N", "New connections per address at once"),
  TRUSTED_PROXIES(
      "trusted-proxies", "CIDRS", "Proxies whose X-Forwarded-For is believed (comma-separated)"),
  MAX_SUBSCRIPTIONS_PER_CONNECTION(
      "max-subscriptions-per-connection", "N", "Jobs one WebSocket may watch at once"),
  MAX_PENDING_COMMANDS(
      "max-pending-commands", "N", "Subscribe/cancel commands of one WebSocket in flight"),
  COMMAND_RATE("command-rate", "PER_SECOND", "Commands per WebSocket per second (0 = off)"),
  COMMAND_BURST("command-burst", "N", "Commands per WebSocket at once"),
  PUBLISH_RATE("publish-rate", "PER_SECOND", "Events per token subject per second (0 = off)"),
  PUBLISH_BURST("publish-burst", "N", "Events per token subject at once"),
  MAX_FRAME_BYTES("max-frame-bytes", "SIZE", "Largest WebSocket message from a client"),
  FRAME_TIMEOUT("frame-timeout", "DURATION", "Time to finish a WebSocket frame once begun"),
  MAX_BODY_BYTES("max-body-bytes", "SIZE", "Largest HTTP request body"),
  HANDSHAKE_TIMEOUT(
      "handshake-timeout", "DURATION", "Time to finish an HTTP request, or to send auth"),
  MAX_OUTBOUND_BYTES(
      "max-outbound-bytes", "SIZE", "Bytes queued for a slow connection before 4008"),
  STALL_TIMEOUT(
      "stall-timeout", "DURATION", "Time a connection may leave our writes unread before 4008"),
  MAX_REPLAY("max-replay", "N", "Most history entries replayed to one resuming subscriber"),
  MAX_METADATA_KEYS("max-metadata-keys", "N", "Metadata keys one job may hold"),
  MAX_JOB_STATE_BYTES(
      "max-job-state-bytes",
      "SIZE",
      "Bytes of metadata, result, error, message and stage of a job"),
  STORE_QUEUE("store-queue", "N", "Writes waiting for the store before producers get 503"),
  STORE_BUSY_TIMEOUT(
      "store-busy-timeout", "DURATION", "Longest wait for a write lock another process holds");

  /** Environment variable that names the config file (after {@code --config}). */
  static final String CONFIG_ENV = "PROGRESS_HUB_CONFIG";

  private final String key;
  private final String flag;
  private final String paramLabel;
  private final String description;

  Setting(String key, String flag) {
    this.key = key;
    this.flag = flag;
    this.paramLabel = null;
    this.description = null;
  }

  /** A limit: its flag is {@code --key}, declared from this table with this description. */
  Setting(String key, String paramLabel, String description) {
    this.key = key;
    this.flag = "--" + key;
    this.paramLabel = paramLabel;
    this.description = description;
  }

  /** Whether the flag is declared from this table rather than by an annotated field. */
  boolean declaredHere() {
    return description != null;
  }

  String paramLabel() {
    return paramLabel;
  }

  String description() {
    return description;
  }

  /** The config file key (kebab-case). */
  String key() {
    return key;
  }

  /** The environment variable, e.g. {@code PROGRESS_HUB_DATA_DIR}. */
  String env() {
    return "PROGRESS_HUB_" + name();
  }

  /** The command-line flag, if the setting has one. */
  Optional<String> flag() {
    return Optional.ofNullable(flag);
  }

  static Optional<Setting> ofKey(String key) {
    for (Setting setting : values()) {
      if (setting.key.equals(key)) {
        return Optional.of(setting);
      }
    }
    return Optional.empty();
  }
}
