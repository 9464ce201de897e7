package io.progresshub.cli;

import io.lettuce.core.RedisURI;
import io.progresshub.core.JobIds;
import io.progresshub.core.JobLimits;
import io.progresshub.redis.RedisSettings;
import io.progresshub.server.AccessLogConfig;
import io.progresshub.server.AddressLimits;
import io.progresshub.server.LimitsConfig;
import io.progresshub.server.MetricsConfig;
import io.progresshub.server.NetworkConfig;
import io.progresshub.server.Rate;
import io.progresshub.server.TlsConfig;
import io.progresshub.server.WebSocketConfig;
import io.progresshub.server.auth.JwksConfig;
import io.progresshub.store.sqlite.SqliteJobStore;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Merges the sources of {@link Settings}: flags, then environment variables, then the config file,
 * then defaults. Each value is checked once, here; a bad one is a {@link SettingsException} that
 * names where it came from, the value and what was expected.
 *
 * <p>Empty environment variables and empty file values count as unset (container tooling often sets
 * variables to ""); an empty flag is an error.
 */
final class SettingsLoader {

  static final int MIN_SECRET_BYTES = io.progresshub.server.auth.AuthConfig.MIN_SECRET_BYTES;

  /** Below this a heartbeat costs more than it tells: pings would dominate an idle server. */
  static final Duration MIN_HEARTBEAT_INTERVAL = Duration.ofSeconds(1);

  /** A stop that takes longer than this is not a drain but a hang. */
  static final Duration MAX_DRAIN_DELAY = Duration.ofMinutes(10);

  static final int MAX_REDIS_PREFIX_LENGTH = 64;

  /**
   * Below this a Redis across a network fails commands that are merely slow; above it producers
   * wait that long for a 503 while Redis is away.
   */
  static final Duration MIN_REDIS_TIMEOUT = Duration.ofMillis(100);

  static final Duration MAX_REDIS_TIMEOUT = Duration.ofSeconds(60);

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%\\[\\]-]+");

  /**
   * How a limit is read, and how its default is shown in {@code --help}.
   *
   * @param parser checks and converts a given value
   * @param format the default as it would be given, e.g. {@code 64KiB} or {@code 10s}
   */
  private record Kind<T>(Function<Raw, T> parser, Function<T, String> format) {}

  private static final Kind<Integer> POSITIVE =
      new Kind<>(SettingsLoader::positive, value -> Integer.toString(value));
  private static final Kind<Integer> SIZE = new Kind<>(SettingsLoader::size, Sizes::format);
  private static final Kind<Duration> TIMEOUT =
      new Kind<>(SettingsLoader::timeout, Durations::format);
  private static final Kind<Double> PER_SECOND =
      new Kind<>(SettingsLoader::perSecond, SettingsLoader::number);
  private static final Kind<List<String>> PROXIES =
      new Kind<>(
          SettingsLoader::proxies,
          proxies -> proxies.isEmpty() ? "none" : String.join(",", proxies));

  private final Map<Setting, String> flags;
  private final Map<String, String> env;
  private final ConfigFile file;

  /** The default of each limit read so far, as {@code --help} shows it. */
  private final Map<Setting, String> defaultTexts = new EnumMap<>(Setting.class);

  /**
   * @param flags values given on the command line, by setting
   * @param env the process environment
   * @param file the config file, or {@link ConfigFile#none()}
   */
  SettingsLoader(Map<Setting, String> flags, Map<String, String> env, ConfigFile file) {
    this.flags = flags.isEmpty() ? Map.of() : new EnumMap<>(flags);
    this.env = Map.copyOf(env);
    this.file = file;
  }

  /**
   * A loader over the flags, the environment and the config file they name ({@code --config}, else
   * {@code PROGRESS_HUB_CONFIG}), which is read here.
   */
  static SettingsLoader fromSources(
      Map<Setting, String> flags, Optional<String> configFlag, Map<String, String> env) {
    return new SettingsLoader(flags, env, configFile(configFlag, env));
  }

  static ConfigFile configFile(Optional<String> configFlag, Map<String, String> env) {
    Optional<Raw> path =
        configFlag
            .map(value -> new Raw(value, "--config"))
            .or(
                () ->
                    nonBlank(env.get(Setting.CONFIG_ENV)).map(v -> new Raw(v, Setting.CONFIG_ENV)));
    return path.map(raw -> ConfigFile.read(toPath(raw))).orElseGet(ConfigFile::none);
  }

  Settings load() {
    return new Settings(
        get(Setting.HOST, SettingsLoader::host, Settings.DEFAULT_HOST),
        get(Setting.PORT, SettingsLoader::port, Settings.DEFAULT_PORT),
        get(Setting.DATA_DIR, SettingsLoader::toPath, Settings.DEFAULT_DATA_DIR),
        raw(Setting.JWT_SECRET).map(SettingsLoader::secret),
        get(Setting.ALLOWED_ORIGINS, SettingsLoader::origins, List.of()),
        get(Setting.RETENTION, SettingsLoader::retention, Settings.DEFAULT_RETENTION),
        get(
            Setting.HEARTBEAT_INTERVAL,
            SettingsLoader::heartbeat,
            Settings.DEFAULT_HEARTBEAT_INTERVAL),
        get(Setting.MONITOR_INTERVAL, SettingsLoader::heartbeat, Settings.DEFAULT_MONITOR_INTERVAL),
        get(Setting.DRAIN_SPREAD, SettingsLoader::drainSpread, Settings.DEFAULT_DRAIN_SPREAD),
        get(Setting.DRAIN_DELAY, SettingsLoader::drainDelay, Settings.DEFAULT_DRAIN_DELAY),
        limits(),
        addresses(),
        hubLimits(),
        get(Setting.INSECURE_NO_AUTH, SettingsLoader::bool, false),
        get(Setting.TRANSPORT, SettingsLoader::transport, NetworkConfig.Transport.AUTO),
        get(Setting.WS_COMPRESSION, SettingsLoader::bool, WebSocketConfig.defaults().compression()),
        tls(),
        new Settings.Jwt(
            raw(Setting.JWKS_URL).map(SettingsLoader::jwksUrl),
            raw(Setting.JWT_ISSUER)
                .map(raw -> claim(raw, "an issuer such as https://id.example.com/")),
            raw(Setting.JWT_AUDIENCE).map(raw -> claim(raw, "an audience such as progress-hub"))),
        get(Setting.METRICS, SettingsLoader::metrics, MetricsConfig.defaults()),
        get(Setting.LOG_FORMAT, SettingsLoader::accessLog, AccessLogConfig.defaults()),
        redis());
  }

  /**
   * The Redis settings, all of them with a URL or none. The others alone are refused rather than
   * ignored: a node meant to join a deployment would otherwise run alone on its SQLite file, its
   * clients seeing none of the other nodes' jobs, with nothing in the log to say why.
   */
  private Optional<Settings.Redis> redis() {
    Optional<Raw> url = raw(Setting.REDIS_URL);
    if (url.isEmpty()) {
      for (Setting onlyWithUrl :
          List.of(
              Setting.REDIS_PREFIX,
              Setting.REDIS_TIMEOUT,
              Setting.REDIS_REPLICAS,
              Setting.NODE_ID)) {
        Optional<Raw> given = raw(onlyWithUrl);
        if (given.isPresent()) {
          throw new SettingsException(
              given.get().origin()
                  + " is set but no Redis URL is (expected: --redis-url, PROGRESS_HUB_REDIS_URL"
                  + " or redis-url in the config file too; without Redis this node shares"
                  + " nothing and the setting would do nothing)");
        }
      }
      return Optional.empty();
    }
    return Optional.of(
        new Settings.Redis(
            redisUrl(url.get()),
            get(Setting.REDIS_PREFIX, SettingsLoader::redisPrefix, Settings.DEFAULT_REDIS_PREFIX),
            get(
                Setting.REDIS_TIMEOUT,
                SettingsLoader::redisTimeout,
                Settings.DEFAULT_REDIS_TIMEOUT),
            get(Setting.REDIS_REPLICAS, SettingsLoader::redisReplicas, 0),
            raw(Setting.NODE_ID).map(SettingsLoader::nodeId)));
  }

  /** Not echoed when wrong: the URL may hold the Redis password, and errors end up in logs. */
  private static String redisUrl(Raw raw) {
    String url = raw.value().strip();
    try {
      RedisURI.create(url);
      return url;
    } catch (RuntimeException e) {
      throw new SettingsException(
          raw.origin()
              + ": value not shown (expected: a Redis URL such as redis://redis.internal:6379/0"
              + ", rediss://:password@redis.internal:6380"
              + " or redis-sentinel://sentinel-1:26379,sentinel-2:26379/0#mymaster)");
    }
  }

  /**
   * The Redis engine keeps a deployment's keys in one hash tag, {@code {prefix}}, so that a cluster
   * can run its scripts: a brace would end the tag early, and whitespace in a key name is an
   * operator's trap in every Redis tool.
   */
  private static String redisPrefix(Raw raw) {
    String prefix = raw.value().strip();
    boolean valid = !prefix.isEmpty() && prefix.length() <= MAX_REDIS_PREFIX_LENGTH;
    for (int i = 0; valid && i < prefix.length(); i++) {
      char c = prefix.charAt(i);
      valid = c != '{' && c != '}' && !Character.isWhitespace(c) && !Character.isISOControl(c);
    }
    if (!valid) {
      throw raw.invalid(
          "1-" + MAX_REDIS_PREFIX_LENGTH + " characters without {, } or spaces, such as staging:");
    }
    return prefix;
  }

  private static Duration redisTimeout(Raw raw) {
    return Durations.parse(raw.value())
        .filter(d -> d.compareTo(MIN_REDIS_TIMEOUT) >= 0 && d.compareTo(MAX_REDIS_TIMEOUT) <= 0)
        .orElseThrow(() -> raw.invalid(Durations.EXPECTED + ", from 100ms to 60s"));
  }

  private static int redisReplicas(Raw raw) {
    return integer(
        raw,
        0,
        RedisSettings.MAX_REPLICAS,
        "a whole number from 0 to " + RedisSettings.MAX_REPLICAS + " (replicas to wait for)");
  }

  /** It travels inside every broadcast, between separators: the job id rules keep it parseable. */
  private static String nodeId(Raw raw) {
    String id = raw.value().strip();
    if (!JobIds.isValid(id)) {
      throw raw.invalid("1-128 characters of [A-Za-z0-9._:-], such as web-1");
    }
    return id;
  }

  /** Both files or neither: a certificate without its key cannot serve. */
  private Optional<TlsConfig> tls() {
    Optional<Raw> cert = raw(Setting.TLS_CERT);
    Optional<Raw> key = raw(Setting.TLS_KEY);
    if (cert.isPresent() != key.isPresent()) {
      Raw given = cert.orElseGet(key::get);
      Setting missing = cert.isPresent() ? Setting.TLS_KEY : Setting.TLS_CERT;
      throw new SettingsException(
          given.origin()
              + " is set but "
              + missing.flag().orElseThrow()
              + " is not (expected: both the PEM certificate chain and its private key)");
    }
    // The files are read, and checked, when the server starts.
    return cert.map(c -> new TlsConfig(toPath(c), toPath(key.get())));
  }

  private LimitsConfig limits() {
    LimitsConfig d = LimitsConfig.defaults();
    return LimitsConfig.builder()
        .maxConnections(limit(Setting.MAX_CONNECTIONS, POSITIVE, d.maxConnections()))
        .maxConnectionsPerUser(
            limit(Setting.MAX_CONNECTIONS_PER_USER, POSITIVE, d.maxConnectionsPerUser()))
        .maxHttpConnections(limit(Setting.MAX_HTTP_CONNECTIONS, POSITIVE, d.maxHttpConnections()))
        .maxSubscriptionsPerConnection(
            limit(
                Setting.MAX_SUBSCRIPTIONS_PER_CONNECTION,
                POSITIVE,
                d.maxSubscriptionsPerConnection()))
        .maxPendingCommands(limit(Setting.MAX_PENDING_COMMANDS, POSITIVE, d.maxPendingCommands()))
        .commandRate(rate(Setting.COMMAND_RATE, Setting.COMMAND_BURST, d.commandRate()))
        .publishRate(rate(Setting.PUBLISH_RATE, Setting.PUBLISH_BURST, d.publishRate()))
        .maxFrameBytes(limit(Setting.MAX_FRAME_BYTES, SIZE, d.maxFrameBytes()))
        .frameTimeout(limit(Setting.FRAME_TIMEOUT, TIMEOUT, d.frameTimeout()))
        .maxBodyBytes(limit(Setting.MAX_BODY_BYTES, SIZE, d.maxBodyBytes()))
        .handshakeTimeout(limit(Setting.HANDSHAKE_TIMEOUT, TIMEOUT, d.handshakeTimeout()))
        .maxOutboundBytes(limit(Setting.MAX_OUTBOUND_BYTES, SIZE, d.maxOutboundBytes()))
        .stallTimeout(limit(Setting.STALL_TIMEOUT, TIMEOUT, d.stallTimeout()))
        .build();
  }

  private Settings.HubLimits hubLimits() {
    return new Settings.HubLimits(
        limit(Setting.MAX_REPLAY, POSITIVE, Settings.DEFAULT_MAX_REPLAY),
        new JobLimits(
            limit(Setting.MAX_METADATA_KEYS, POSITIVE, JobLimits.DEFAULT.maxMetadataKeys()),
            limit(Setting.MAX_JOB_STATE_BYTES, SIZE, JobLimits.DEFAULT.maxStateBytes())),
        limit(Setting.STORE_QUEUE, POSITIVE, SqliteJobStore.DEFAULT_MAX_PENDING_WRITES),
        limit(Setting.STORE_BUSY_TIMEOUT, TIMEOUT, SqliteJobStore.DEFAULT_BUSY_TIMEOUT));
  }

  private AddressLimits addresses() {
    AddressLimits d = AddressLimits.defaults();
    return new AddressLimits(
        limit(Setting.MAX_CONNECTIONS_PER_ADDRESS, POSITIVE, d.maxConnectionsPerAddress()),
        rate(Setting.CONNECT_RATE, Setting.CONNECT_BURST, d.connectRate()),
        limit(Setting.TRUSTED_PROXIES, PROXIES, d.trustedProxies()));
  }

  /** A rate from its two settings, each over its default. */
  private Rate rate(Setting perSecond, Setting burst, Rate defaults) {
    return new Rate(
        limit(perSecond, PER_SECOND, defaults.perSecond()),
        limit(burst, POSITIVE, defaults.burst()));
  }

  /**
   * The default of a limit, as its flag's help shows it: the value {@link #load} falls back to when
   * no source gives one.
   */
  static String defaultText(Setting setting) {
    String text = DefaultTexts.OF_LIMITS.get(setting);
    if (text == null) {
      throw new IllegalArgumentException(setting + " is not a limit");
    }
    return text;
  }

  /** The defaults {@link #limit} saw while loading from no source at all. */
  private static final class DefaultTexts {
    static final Map<Setting, String> OF_LIMITS;

    static {
      SettingsLoader nothingGiven = new SettingsLoader(Map.of(), Map.of(), ConfigFile.none());
      nothingGiven.load();
      OF_LIMITS = Map.copyOf(nothingGiven.defaultTexts);
    }
  }

  private static String number(double value) {
    return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
  }

  /** A value as given, with where it was given, e.g. {@code PROGRESS_HUB_PORT}. */
  record Raw(String value, String origin) {

    SettingsException invalid(String expected) {
      return new SettingsException(origin + ": \"" + value + "\" (expected: " + expected + ")");
    }
  }

  /** The value with the highest precedence, if any source gives one. */
  Optional<Raw> raw(Setting setting) {
    String flag = flags.get(setting);
    if (flag != null) {
      return Optional.of(new Raw(flag, setting.flag().orElse(setting.key())));
    }
    Optional<String> fromEnv = nonBlank(env.get(setting.env()));
    if (fromEnv.isPresent()) {
      return Optional.of(new Raw(fromEnv.get(), setting.env()));
    }
    return file.value(setting)
        .flatMap(SettingsLoader::nonBlank)
        .map(value -> new Raw(value, setting.key() + " in config file " + file.name()));
  }

  private <T> T get(Setting setting, Function<Raw, T> parser, T defaultValue) {
    return raw(setting).map(parser).orElse(defaultValue);
  }

  /** A limit's value; its default is noted for {@link #defaultText}. */
  private <T> T limit(Setting setting, Kind<T> kind, T defaultValue) {
    defaultTexts.put(setting, kind.format().apply(defaultValue));
    return get(setting, kind.parser(), defaultValue);
  }

  private static Optional<String> nonBlank(String value) {
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
  }

  // ---------------------------------------------------------------- parsers

  private static String host(Raw raw) {
    String host = raw.value().strip();
    if (!HOST.matcher(host).matches()) {
      throw raw.invalid("a host name or IP address to bind, such as 127.0.0.1 or 0.0.0.0");
    }
    return host;
  }

  private static int port(Raw raw) {
    return integer(raw, 0, 65535, "a port number from 0 to 65535 (0 picks a free port)");
  }

  private static NetworkConfig.Transport transport(Raw raw) {
    return NetworkConfig.Transport.fromWireName(raw.value().strip().toLowerCase(Locale.ROOT))
        .orElseThrow(() -> raw.invalid("auto, epoll, io_uring or nio"));
  }

  private static MetricsConfig metrics(Raw raw) {
    try {
      return new MetricsConfig(
          MetricsConfig.Access.of(raw.value().strip().toLowerCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw raw.invalid("open-on-loopback, open, token or off");
    }
  }

  private static AccessLogConfig accessLog(Raw raw) {
    try {
      return new AccessLogConfig(
          AccessLogConfig.Format.of(raw.value().strip().toLowerCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw raw.invalid("plain or json");
    }
  }

  /** A required claim value: blank would make every token fail the check. */
  private static String claim(Raw raw, String expected) {
    String value = raw.value().strip();
    if (value.isEmpty()) {
      throw raw.invalid(expected);
    }
    return value;
  }

  private static int positive(Raw raw) {
    return integer(raw, 1, Integer.MAX_VALUE, "a whole number greater than 0");
  }

  private static double perSecond(Raw raw) {
    String text = raw.value().strip();
    if (text.endsWith("/s")) {
      text = text.substring(0, text.length() - 2).strip();
    }
    try {
      double value = Double.parseDouble(text);
      if (value >= 0 && value <= 1e9) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw raw.invalid("a number per second such as 20 or 0.5, or 0 for no limit");
  }

  private static int size(Raw raw) {
    return Sizes.parse(raw.value())
        .orElseThrow(() -> raw.invalid(Sizes.EXPECTED + ", greater than 0"));
  }

  private static Duration timeout(Raw raw) {
    return Durations.parse(raw.value())
        .filter(Duration::isPositive)
        .orElseThrow(() -> raw.invalid(Durations.EXPECTED + ", greater than 0"));
  }

  private static List<String> proxies(Raw raw) {
    List<String> proxies = new ArrayList<>();
    for (String part : raw.value().split(",")) {
      if (!part.isBlank()) {
        proxies.add(part.strip());
      }
    }
    try {
      return new AddressLimits(1, Rate.UNLIMITED, proxies).trustedProxies();
    } catch (IllegalArgumentException e) {
      throw raw.invalid("comma-separated IP addresses or CIDR blocks such as 10.0.0.0/8");
    }
  }

  private static int integer(Raw raw, int min, int max, String expected) {
    try {
      int value = Integer.parseInt(raw.value().strip());
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw raw.invalid(expected);
  }

  static Path toPath(Raw raw) {
    if (raw.value().isBlank()) {
      throw raw.invalid("a directory path");
    }
    try {
      return Path.of(raw.value().strip());
    } catch (InvalidPathException e) {
      throw raw.invalid("a valid path (" + e.getReason() + ")");
    }
  }

  private static URI jwksUrl(Raw raw) {
    try {
      URI url = new URI(raw.value().strip());
      new JwksConfig(url); // checks it
      return url;
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw raw.invalid(
          "the identity provider's JWKS URL, such as https://id.example.com/jwks.json");
    }
  }

  /** The secret is never echoed: error messages end up in logs. */
  private static String secret(Raw raw) {
    String secret = raw.value().strip();
    int bytes = secret.getBytes(StandardCharsets.UTF_8).length;
    if (bytes < MIN_SECRET_BYTES) {
      throw new SettingsException(
          raw.origin()
              + ": "
              + bytes
              + " bytes, value not shown (expected: at least "
              + MIN_SECRET_BYTES
              + " bytes, e.g. the output of `openssl rand -base64 32`)");
    }
    return secret;
  }

  private static List<String> origins(Raw raw) {
    List<String> origins = new ArrayList<>();
    for (String part : raw.value().split(",")) {
      String origin = part.strip();
      if (origin.isEmpty()) {
        continue;
      }
      origins.add(origin(raw, origin));
    }
    return origins;
  }

  /**
   * A browser origin, {@code scheme://host[:port]}, lower-cased as browsers send it; or {@code *}.
   */
  private static String origin(Raw raw, String origin) {
    String expected =
        "comma-separated origins such as https://app.example.com or http://localhost:3000"
            + " (scheme://host[:port], no path), or *; bad origin: \""
            + origin
            + "\"";
    if (origin.equals("*")) {
      return origin;
    }
    String trimmed = origin.endsWith("/") ? origin.substring(0, origin.length() - 1) : origin;
    try {
      URI uri = new URI(trimmed);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      boolean valid =
          (scheme.equals("http") || scheme.equals("https"))
              && uri.getHost() != null
              && uri.getRawUserInfo() == null
              && (uri.getRawPath() == null || uri.getRawPath().isEmpty())
              && uri.getRawQuery() == null
              && uri.getRawFragment() == null;
      if (valid) {
        return scheme
            + "://"
            + uri.getHost().toLowerCase(Locale.ROOT)
            + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    throw raw.invalid(expected);
  }

  private static Duration retention(Raw raw) {
    return Durations.parse(raw.value())
        .filter(d -> d.isPositive())
        .orElseThrow(() -> raw.invalid(Durations.EXPECTED + ", greater than 0"));
  }

  /** A heartbeat's or the monitor's interval: at least a second. */
  private static Duration heartbeat(Raw raw) {
    return Durations.parse(raw.value())
        .filter(d -> d.compareTo(MIN_HEARTBEAT_INTERVAL) >= 0)
        .orElseThrow(() -> raw.invalid(Durations.EXPECTED + ", at least 1s"));
  }

  private static Duration drainSpread(Raw raw) {
    return Durations.parse(raw.value())
        .or(() -> raw.value().strip().equals("0") ? Optional.of(Duration.ZERO) : Optional.empty())
        .orElseThrow(() -> raw.invalid(Durations.EXPECTED + ", or 0 for no wait"));
  }

  private static Duration drainDelay(Raw raw) {
    return Durations.parse(raw.value())
        .or(() -> raw.value().strip().equals("0") ? Optional.of(Duration.ZERO) : Optional.empty())
        .filter(d -> d.compareTo(MAX_DRAIN_DELAY) <= 0)
        .orElseThrow(() -> raw.invalid(Durations.EXPECTED + ", from 0 to 10m"));
  }

  private static boolean bool(Raw raw) {
    return switch (raw.value().strip().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw raw.invalid("true or false");
    };
  }
}
