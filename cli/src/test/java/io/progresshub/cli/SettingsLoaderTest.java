package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.progresshub.server.ServerConfig;
import io.progresshub.server.auth.AuthConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class SettingsLoaderTest {

  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  private static Settings load(Map<Setting, String> flags, Map<String, String> env, String file) {
    ConfigFile config =
        file == null ? ConfigFile.none() : ConfigFile.parse("test.properties", file);
    return new SettingsLoader(flags, env, config).load();
  }

  private static Map<Setting, String> flags(Setting setting, String value) {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(setting, value);
    return flags;
  }

  @Test
  void defaultsApplyWhenNothingIsGiven() {
    Settings settings = load(Map.of(), Map.of(), null);

    assertThat(settings.host()).isEqualTo("127.0.0.1");
    assertThat(settings.port()).isEqualTo(8080);
    assertThat(settings.dataDir()).isEqualTo(Path.of("data"));
    assertThat(settings.jwtSecret()).isEmpty();
    assertThat(settings.allowedOrigins()).isEmpty();
    assertThat(settings.retention()).isEqualTo(Duration.ofHours(24));
    assertThat(settings.heartbeatInterval()).isEqualTo(Duration.ofSeconds(25));
    assertThat(settings.limits().maxConnections()).isEqualTo(100_000);
    assertThat(settings.insecureNoAuth()).isFalse();
  }

  @Test
  void flagBeatsEnvironmentBeatsFileBeatsDefault() {
    String file = "port=1111\nretention=1h\nheartbeat-interval=5s\nmax-connections=10\n";
    Map<String, String> env =
        Map.of(
            "PROGRESS_HUB_PORT",
            "2222",
            "PROGRESS_HUB_RETENTION",
            "2h",
            "PROGRESS_HUB_HEARTBEAT_INTERVAL",
            "6s");
    Map<Setting, String> flags = flags(Setting.PORT, "3333");
    flags.put(Setting.RETENTION, "3h");

    Settings settings = load(flags, env, file);

    assertThat(settings.port()).isEqualTo(3333); // flag over env and file
    assertThat(settings.retention()).isEqualTo(Duration.ofHours(3));
    assertThat(settings.heartbeatInterval()).isEqualTo(Duration.ofSeconds(6)); // env over file
    assertThat(settings.limits().maxConnections()).isEqualTo(10); // file over default
    assertThat(settings.host()).isEqualTo("127.0.0.1"); // default
  }

  @ParameterizedTest
  @EnumSource(
      value = Setting.class,
      // The TLS files only come as a pair; the Redis settings only with a Redis URL (tested below).
      names = {
        "JWT_SECRET",
        "TLS_CERT",
        "TLS_KEY",
        "REDIS_PREFIX",
        "REDIS_TIMEOUT",
        "REDIS_REPLICAS",
        "NODE_ID"
      },
      mode = EnumSource.Mode.EXCLUDE)
  void everySettingHasAFlagAnEnvironmentVariableAndAFileKeyInThatOrder(Setting setting) {
    String[] values = sampleValues(setting);
    String file = setting.key() + "=" + values[0];
    Map<String, String> env = Map.of(setting.env(), values[1]);

    Settings fromFile = load(Map.of(), Map.of(), file);
    Settings fromEnv = load(Map.of(), env, file);
    Settings fromFlag = load(flags(setting, values[2]), env, file);

    assertThat(fromFile).isNotEqualTo(load(Map.of(), Map.of(), null));
    assertThat(fromEnv).isNotEqualTo(fromFile);
    assertThat(fromFlag).isNotEqualTo(fromEnv);
    assertThat(fromFlag).isEqualTo(load(flags(setting, values[2]), Map.of(), null));
    assertThat(fromEnv).isEqualTo(load(Map.of(), env, null));
  }

  /** Three distinct non-default values: for the file, the environment and the flag. */
  private static String[] sampleValues(Setting setting) {
    return switch (setting) {
      case HOST -> new String[] {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
      case PORT -> new String[] {"1", "2", "3"};
      case DATA_DIR -> new String[] {"/a", "/b", "/c"};
      case JWT_SECRET -> throw new IllegalArgumentException();
      case ALLOWED_ORIGINS -> new String[] {"https://a.test", "https://b.test", "https://c.test"};
      case RETENTION -> new String[] {"1h", "2h", "3h"};
      case HEARTBEAT_INTERVAL, MONITOR_INTERVAL -> new String[] {"1s", "2s", "3s"};
      case DRAIN_SPREAD -> new String[] {"0", "2s", "1500ms"};
      case DRAIN_DELAY -> new String[] {"1s", "2s", "1500ms"};
      case MAX_CONNECTIONS -> new String[] {"1", "2", "3"};
      case INSECURE_NO_AUTH -> new String[] {"true", "false", "true"};
      case TRANSPORT -> new String[] {"nio", "io_uring", "epoll"};
      case WS_COMPRESSION -> new String[] {"true", "false", "true"};
      case METRICS -> new String[] {"open", "token", "off"};
      case LOG_FORMAT -> new String[] {"json", "plain", "json"};
      case MAX_CONNECTIONS_PER_USER,
          MAX_CONNECTIONS_PER_ADDRESS,
          MAX_HTTP_CONNECTIONS,
          CONNECT_BURST,
          MAX_SUBSCRIPTIONS_PER_CONNECTION,
          MAX_PENDING_COMMANDS,
          COMMAND_BURST,
          PUBLISH_BURST,
          MAX_REPLAY,
          MAX_METADATA_KEYS,
          STORE_QUEUE ->
          new String[] {"7", "8", "9"};
      case CONNECT_RATE, COMMAND_RATE, PUBLISH_RATE -> new String[] {"0", "0.5", "12/s"};
      case TRUSTED_PROXIES -> new String[] {"10.0.0.1", "10.0.0.0/8", "fd00::/8,127.0.0.1"};
      case MAX_FRAME_BYTES, MAX_BODY_BYTES, MAX_OUTBOUND_BYTES, MAX_JOB_STATE_BYTES ->
          new String[] {"1000", "64KiB", "2m"};
      case FRAME_TIMEOUT, HANDSHAKE_TIMEOUT, STALL_TIMEOUT, STORE_BUSY_TIMEOUT ->
          new String[] {"1s", "2s", "500ms"};
      case TLS_CERT, TLS_KEY, REDIS_PREFIX, REDIS_TIMEOUT, REDIS_REPLICAS, NODE_ID ->
          throw new IllegalArgumentException();
      case JWKS_URL ->
          new String[] {"https://a.test/jwks", "https://b.test/jwks", "http://c.test:8081/jwks"};
      case JWT_ISSUER -> new String[] {"https://a.test/", "https://b.test/", "c"};
      case JWT_AUDIENCE -> new String[] {"a", "b", "c"};
      case REDIS_URL ->
          new String[] {"redis://a.test:6379", "redis://b.test:6380/1", "rediss://:pw@c.test"};
    };
  }

  @Test
  void aRedisUrlThatIsNotOneIsRefusedWithoutShowingItsPassword() {
    assertThatThrownBy(
            () -> load(flags(Setting.REDIS_URL, "http://user:secret-pw@a.test"), Map.of(), null))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("--redis-url")
        .hasMessageNotContaining("secret-pw");
  }

  @Test
  void redisSettingsComeFromFlagEnvironmentOrFileBesideTheUrl() {
    Map<String, String> env =
        Map.of(
            "PROGRESS_HUB_REDIS_URL", "redis://a.test:6379",
            "PROGRESS_HUB_REDIS_PREFIX", "staging:",
            "PROGRESS_HUB_NODE_ID", "web-env");
    String file =
        "redis-prefix=ignored:\nredis-timeout=500ms\nnode-id=web-file\nredis-replicas=2\n";

    Settings.Redis redis = load(flags(Setting.NODE_ID, "web-1"), env, file).redis().orElseThrow();

    assertThat(redis.url()).isEqualTo("redis://a.test:6379");
    assertThat(redis.keyPrefix()).isEqualTo("staging:"); // environment over file
    assertThat(redis.commandTimeout()).isEqualTo(Duration.ofMillis(500)); // file over default
    assertThat(redis.nodeId()).contains("web-1"); // flag over environment
    assertThat(redis.engine().keyPrefix()).isEqualTo("staging:");
    assertThat(redis.engine().nodeId()).isEqualTo("web-1");
    assertThat(redis.engine().commandTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(redis.engine().replicas()).isEqualTo(2);
  }

  @Test
  void redisSettingsDefaultToTheEnginesWithARandomNodeId() {
    Settings.Redis redis =
        load(flags(Setting.REDIS_URL, "redis://a.test"), Map.of(), null).redis().orElseThrow();

    assertThat(redis.keyPrefix()).isEqualTo("progress-hub:");
    assertThat(redis.commandTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(redis.nodeId()).isEmpty();
    assertThat(redis.engine().replicas()).isZero();
    assertThat(redis.engine().nodeId()).isNotEqualTo(redis.engine().nodeId()).isNotBlank();
    assertThat(load(Map.of(), Map.of(), null).redis()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--redis-prefix  | staging:",
        "--redis-timeout | 5s",
        "--redis-replicas | 1",
        "--node-id       | web-1",
      })
  void aRedisSettingWithoutARedisUrlIsRefusedRatherThanIgnored(String flag, String value) {
    Setting setting = Setting.ofKey(flag.substring(2)).orElseThrow();

    assertThatThrownBy(() -> load(flags(setting, value), Map.of(), null))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith(flag + " is set but no Redis URL is")
        .hasMessageContaining("--redis-url");
    assertThatThrownBy(() -> load(Map.of(), Map.of(setting.env(), value), null))
        .hasMessageStartingWith(setting.env() + " is set but no Redis URL is");
    assertThatThrownBy(() -> load(Map.of(), Map.of(), setting.key() + "=" + value))
        .hasMessageStartingWith(setting.key() + " in config file test.properties is set");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "PROGRESS_HUB_REDIS_PREFIX  | a{b}:        | without {, } or spaces",
        "PROGRESS_HUB_REDIS_PREFIX  | }            | without {, } or spaces",
        "PROGRESS_HUB_REDIS_PREFIX  | my app:      | without {, } or spaces",
        "PROGRESS_HUB_REDIS_PREFIX  | a\tb         | without {, } or spaces",
        "PROGRESS_HUB_REDIS_TIMEOUT | 50ms         | from 100ms to 60s",
        "PROGRESS_HUB_REDIS_TIMEOUT | 61s          | from 100ms to 60s",
        "PROGRESS_HUB_REDIS_TIMEOUT | 2            | a duration such as 30s",
        "PROGRESS_HUB_REDIS_REPLICAS | -1          | from 0 to 16",
        "PROGRESS_HUB_REDIS_REPLICAS | 17          | from 0 to 16",
        "PROGRESS_HUB_REDIS_REPLICAS | one         | from 0 to 16",
        "PROGRESS_HUB_NODE_ID       | web 1        | [A-Za-z0-9._:-]",
        "PROGRESS_HUB_NODE_ID       | web/1        | [A-Za-z0-9._:-]",
      })
  void badRedisValueErrorNamesTheVariableTheValueAndWhatWasExpected(
      String variable, String value, String expected) {
    Map<String, String> env = Map.of("PROGRESS_HUB_REDIS_URL", "redis://a.test", variable, value);

    assertThatThrownBy(() -> load(Map.of(), env, null))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith(variable + ": \"" + value + "\" (expected: ")
        .hasMessageContaining(expected);
  }

  @Test
  void redisPrefixAndNodeIdAreBoundedInLengthAndTheTimeoutInsideItsRange() {
    Map<Setting, String> longest = flags(Setting.REDIS_URL, "redis://a.test");
    longest.put(Setting.REDIS_PREFIX, "p".repeat(64));
    longest.put(Setting.NODE_ID, "n".repeat(128));
    longest.put(Setting.REDIS_TIMEOUT, "60s");
    assertThat(load(longest, Map.of(), null).redis()).isPresent();

    Map<Setting, String> shortest = flags(Setting.REDIS_URL, "redis://a.test");
    shortest.put(Setting.REDIS_TIMEOUT, "100ms");
    assertThat(load(shortest, Map.of(), null).redis().orElseThrow().commandTimeout())
        .isEqualTo(Duration.ofMillis(100));

    for (Map.Entry<Setting, String> tooLong :
        Map.of(Setting.REDIS_PREFIX, "p".repeat(65), Setting.NODE_ID, "n".repeat(129)).entrySet()) {
      Map<Setting, String> given = flags(Setting.REDIS_URL, "redis://a.test");
      given.put(tooLong.getKey(), tooLong.getValue());
      assertThatThrownBy(() -> load(given, Map.of(), null))
          .as(tooLong.getKey().toString())
          .isInstanceOf(SettingsException.class)
          .hasMessageStartingWith(tooLong.getKey().flag().orElseThrow() + ": ");
    }
    Map<Setting, String> empty = flags(Setting.REDIS_URL, "redis://a.test");
    empty.put(Setting.REDIS_PREFIX, "");
    assertThatThrownBy(() -> load(empty, Map.of(), null))
        .hasMessageStartingWith("--redis-prefix: \"\" (expected: 1-64 characters");
  }

  @Test
  void aSentinelUrlIsAccepted() {
    String url = "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/0#mymaster";
    assertThat(load(flags(Setting.REDIS_URL, url), Map.of(), null).redis().orElseThrow().url())
        .isEqualTo(url);
  }

  @Test
  void redisSettingsDoNotShowThePasswordWhenPrinted() {
    Settings settings =
        load(flags(Setting.REDIS_URL, "redis://:secret-pw@a.test:6379"), Map.of(), null);
    assertThat(settings.toString()).contains("redis://a.test:6379").doesNotContain("secret-pw");
  }

  @Test
  void tlsCertificateAndKeyAreSetTogetherFromAnySource() {
    Settings settings =
        load(
            flags(Setting.TLS_CERT, "/etc/hub/cert.pem"),
            Map.of("PROGRESS_HUB_TLS_KEY", "/etc/hub/key.pem"),
            "tls-cert=/ignored.pem\n");

    assertThat(settings.tls())
        .hasValueSatisfying(
            tls -> {
              assertThat(tls.certificateChain()).isEqualTo(Path.of("/etc/hub/cert.pem"));
              assertThat(tls.privateKey()).isEqualTo(Path.of("/etc/hub/key.pem"));
            });
    assertThat(settings.serverConfig(AuthConfig.hs256(SECRET.getBytes())).network().tls())
        .isEqualTo(settings.tls());
    assertThat(load(Map.of(), Map.of(), null).tls()).isEmpty();
  }

  @Test
  void aTlsCertificateWithoutItsKeyIsRefusedNamingBoth() {
    assertThatThrownBy(() -> load(Map.of(), Map.of("PROGRESS_HUB_TLS_CERT", "/c.pem"), null))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("PROGRESS_HUB_TLS_CERT")
        .hasMessageContaining("--tls-key");
    assertThatThrownBy(() -> load(Map.of(), Map.of(), "tls-key=/k.pem"))
        .hasMessageContaining("--tls-cert");
  }

  @Test
  void aJwksUrlMustBeHttpOrHttps() {
    assertThatThrownBy(() -> load(flags(Setting.JWKS_URL, "file:///etc/passwd"), Map.of(), null))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith("--jwks-url: \"file:///etc/passwd\" (expected: ");
  }

  @Test
  void jwtSecretComesFromEnvironmentOverFile() {
    String other = SECRET.replace('0', 'x');
    Settings settings =
        load(Map.of(), Map.of("PROGRESS_HUB_JWT_SECRET", SECRET), "jwt-secret=" + other);
    assertThat(settings.jwtSecret()).contains(SECRET);
    assertThat(load(Map.of(), Map.of(), "jwt-secret=" + other).jwtSecret()).contains(other);
  }

  @Test
  void blankEnvironmentVariablesAndFileValuesCountAsUnset() {
    Settings settings =
        load(
            Map.of(), Map.of("PROGRESS_HUB_PORT", " ", "PROGRESS_HUB_HOST", ""), "port=9\nhost=\n");
    assertThat(settings.port()).isEqualTo(9);
    assertThat(settings.host()).isEqualTo("127.0.0.1");
  }

  @Test
  void allowedOriginsAreCommaSeparatedAndNormalized() {
    Settings settings =
        load(
            Map.of(),
            Map.of(
                "PROGRESS_HUB_ALLOWED_ORIGINS",
                "https://App.Example.com/, http://localhost:3000,,*"),
            null);
    assertThat(settings.allowedOrigins())
        .containsExactly("https://app.example.com", "http://localhost:3000", "*");
  }

  @Test
  void insecureNoAuthAcceptsCommonBooleanWords() {
    assertThat(
            load(Map.of(), Map.of("PROGRESS_HUB_INSECURE_NO_AUTH", "YES"), null).insecureNoAuth())
        .isTrue();
    assertThat(load(Map.of(), Map.of("PROGRESS_HUB_INSECURE_NO_AUTH", "0"), null).insecureNoAuth())
        .isFalse();
    // --insecure-no-auth=false on the command line overrides the environment
    assertThat(
            load(
                    flags(Setting.INSECURE_NO_AUTH, "false"),
                    Map.of("PROGRESS_HUB_INSECURE_NO_AUTH", "true"),
                    null)
                .insecureNoAuth())
        .isFalse();
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "PROGRESS_HUB_HOST               | bad host     | a host name or IP address",
        "PROGRESS_HUB_PORT               | http         | a port number from 0 to 65535",
        "PROGRESS_HUB_PORT               | 65536        | a port number from 0 to 65535",
        "PROGRESS_HUB_PORT               | -1           | a port number from 0 to 65535",
        "PROGRESS_HUB_DATA_DIR           | a\u0000b     | a valid path",
        "PROGRESS_HUB_ALLOWED_ORIGINS    | example.com  | scheme://host[:port]",
        "PROGRESS_HUB_ALLOWED_ORIGINS    | https://a.test/app | scheme://host[:port]",
        "PROGRESS_HUB_ALLOWED_ORIGINS    | ftp://a.test | scheme://host[:port]",
        "PROGRESS_HUB_RETENTION          | forever      | a duration such as 30s",
        "PROGRESS_HUB_RETENTION          | 24           | a duration such as 30s",
        "PROGRESS_HUB_RETENTION          | 0s           | greater than 0",
        "PROGRESS_HUB_HEARTBEAT_INTERVAL | 500ms        | at least 1s",
        "PROGRESS_HUB_HEARTBEAT_INTERVAL | soon         | a duration such as 30s",
        "PROGRESS_HUB_MONITOR_INTERVAL   | 10ms         | at least 1s",
        "PROGRESS_HUB_DRAIN_SPREAD       | -1s          | or 0 for no wait",
        "PROGRESS_HUB_DRAIN_DELAY        | 1h           | from 0 to 10m",
        "PROGRESS_HUB_MAX_CONNECTIONS    | 0            | a whole number greater than 0",
        "PROGRESS_HUB_MAX_CONNECTIONS    | lots         | a whole number greater than 0",
        "PROGRESS_HUB_INSECURE_NO_AUTH   | maybe        | true or false",
        "PROGRESS_HUB_TRANSPORT          | kqueue       | auto, epoll, io_uring or nio",
        "PROGRESS_HUB_WS_COMPRESSION     | gzip         | true or false",
        "PROGRESS_HUB_METRICS            | public       | open-on-loopback, open, token or off",
        "PROGRESS_HUB_LOG_FORMAT         | xml          | plain or json",
        "PROGRESS_HUB_CONNECT_RATE       | -1           | a number per second",
        "PROGRESS_HUB_COMMAND_BURST      | 0            | a whole number greater than 0",
        "PROGRESS_HUB_MAX_FRAME_BYTES    | 0            | a size in bytes",
        "PROGRESS_HUB_MAX_BODY_BYTES     | 3TiB         | a size in bytes",
        "PROGRESS_HUB_STALL_TIMEOUT      | 10           | a duration such as 30s",
        "PROGRESS_HUB_TRUSTED_PROXIES    | proxy.local  | IP addresses or CIDR blocks",
        "PROGRESS_HUB_TRUSTED_PROXIES    | 10.0.0.0/33  | IP addresses or CIDR blocks",
      })
  void badValueErrorNamesTheVariableTheValueAndWhatWasExpected(
      String variable, String value, String expected) {
    assertThatThrownBy(() -> load(Map.of(), Map.of(variable, value), null))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith(variable + ": \"" + value + "\" (expected: ")
        .hasMessageContaining(expected);
  }

  @Test
  void anEmptyIssuerOrAudienceFlagIsRefusedRatherThanRefusingEveryToken() {
    assertThatThrownBy(() -> load(flags(Setting.JWT_ISSUER, " "), Map.of(), null))
        .hasMessageStartingWith("--jwt-issuer: \" \" (expected: an issuer");
    assertThatThrownBy(() -> load(flags(Setting.JWT_AUDIENCE, ""), Map.of(), null))
        .hasMessageStartingWith("--jwt-audience: \"\" (expected: an audience");
  }

  @Test
  void limitsComeFromTheirSettingsAndReachTheServerConfig() {
    Settings settings =
        load(
            flags(Setting.COMMAND_RATE, "5"),
            Map.of("PROGRESS_HUB_MAX_FRAME_BYTES", "16KiB", "PROGRESS_HUB_CONNECT_RATE", "0"),
            "trusted-proxies = 10.0.0.0/8\nstall-timeout = 3s\nmax-job-state-bytes = 8k\n");
    ServerConfig config = settings.serverConfig(AuthConfig.hs256(SECRET.getBytes()));
    assertThat(config.limits().commandRate().perSecond()).isEqualTo(5);
    assertThat(config.limits().maxFrameBytes()).isEqualTo(16 * 1024);
    assertThat(config.limits().stallTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(config.addresses().connectRate().unlimited()).isTrue();
    assertThat(config.addresses().trustedProxies()).containsExactly("10.0.0.0/8");
    assertThat(settings.hub().job().maxStateBytes()).isEqualTo(8 * 1024);
  }

  @Test
  void badValueErrorNamesTheFlagOrTheConfigFileKey() {
    assertThatThrownBy(() -> load(flags(Setting.PORT, "x"), Map.of(), null))
        .hasMessageStartingWith("--port: \"x\" (expected: ");
    assertThatThrownBy(() -> load(Map.of(), Map.of(), "retention=never"))
        .hasMessageStartingWith("retention in config file test.properties: \"never\" (expected: ");
  }

  @Test
  void shortSecretIsRefusedWithoutShowingIt() {
    assertThatThrownBy(() -> load(Map.of(), Map.of("PROGRESS_HUB_JWT_SECRET", "hunter2"), null))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith("PROGRESS_HUB_JWT_SECRET: 7 bytes")
        .hasMessageContaining("at least 32 bytes")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void unknownConfigFileKeyIsAnError() {
    assertThatThrownBy(() -> load(Map.of(), Map.of(), "prot=9000"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("unknown key \"prot\"")
        .hasMessageContaining("host, port, data-dir");
  }

  @Test
  void configFileIsNamedByFlagElseEnvironment(@TempDir Path dir) throws Exception {
    Path fromFlag = Files.writeString(dir.resolve("flag.properties"), "port=1001\n");
    Path fromEnv = Files.writeString(dir.resolve("env.properties"), "port=1002\n");
    Map<String, String> env = Map.of("PROGRESS_HUB_CONFIG", fromEnv.toString());

    assertThat(
            SettingsLoader.fromSources(Map.of(), Optional.of(fromFlag.toString()), env)
                .load()
                .port())
        .isEqualTo(1001);
    assertThat(SettingsLoader.fromSources(Map.of(), Optional.empty(), env).load().port())
        .isEqualTo(1002);
  }

  @Test
  void missingConfigFileIsAnError(@TempDir Path dir) {
    Path missing = dir.resolve("nope.properties");
    assertThatThrownBy(
            () -> SettingsLoader.fromSources(Map.of(), Optional.of(missing.toString()), Map.of()))
        .isInstanceOf(SettingsException.class)
        .hasMessage("config file " + missing + ": no such file");
  }

  @Test
  void serverConfigCarriesTheSettings() {
    Map<Setting, String> flags = flags(Setting.HOST, "0.0.0.0");
    flags.put(Setting.PORT, "0");
    flags.put(Setting.ALLOWED_ORIGINS, "https://a.test");
    flags.put(Setting.HEARTBEAT_INTERVAL, "10s");
    flags.put(Setting.MONITOR_INTERVAL, "5s");
    flags.put(Setting.MAX_CONNECTIONS, "50");
    flags.put(Setting.DRAIN_SPREAD, "2s");

    ServerConfig config =
        load(flags, Map.of(), null).serverConfig(AuthConfig.hs256(SECRET.getBytes()));

    assertThat(config.network().host()).isEqualTo("0.0.0.0");
    assertThat(config.network().port()).isZero();
    assertThat(config.network().allowedOrigins()).isEqualTo(List.of("https://a.test"));
    assertThat(config.webSocket().heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.webSocket().monitorInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.limits().maxConnections()).isEqualTo(50);
    assertThat(config.network().drainSpread()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.auth().enabled()).isTrue();
  }

  @Test
  void everyLimitShowsTheDefaultTheLoaderFallsBackTo() {
    for (Setting setting : Setting.values()) {
      if (setting.declaredHere()) {
        assertThat(SettingsLoader.defaultText(setting)).as(setting.key()).isNotBlank();
      }
    }
    assertThat(SettingsLoader.defaultText(Setting.MAX_FRAME_BYTES)).isEqualTo("64KiB");
    assertThat(SettingsLoader.defaultText(Setting.STALL_TIMEOUT)).isEqualTo("10s");
    assertThat(SettingsLoader.defaultText(Setting.CONNECT_RATE)).isEqualTo("20");
    assertThat(SettingsLoader.defaultText(Setting.TRUSTED_PROXIES)).isEqualTo("none");
    assertThat(SettingsLoader.defaultText(Setting.STORE_QUEUE)).isEqualTo("10000");
    assertThatThrownBy(() -> SettingsLoader.defaultText(Setting.HOST))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
