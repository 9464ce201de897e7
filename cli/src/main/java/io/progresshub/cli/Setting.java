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
  MAX_CONNECTIONS("max-connections", "--max-connections"),
  TRANSPORT("transport", "--transport"),
  WS_COMPRESSION("ws-compression", "--ws-compression"),
  INSECURE_NO_AUTH("insecure-no-auth", "--insecure-no-auth"),
  TLS_CERT("tls-cert", "--tls-cert"),
  TLS_KEY("tls-key", "--tls-key"),
  JWKS_URL("jwks-url", "--jwks-url"),
  JWT_ISSUER("jwt-issuer", "--jwt-issuer"),
  JWT_AUDIENCE("jwt-audience", "--jwt-audience");

  /** Environment variable that names the config file (after {@code --config}). */
  static final String CONFIG_ENV = "PROGRESS_HUB_CONFIG";

  private final String key;
  private final String flag;

  Setting(String key, String flag) {
    this.key = key;
    this.flag = flag;
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
