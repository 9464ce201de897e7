package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub {@code serve} runs, started in this JVM. */
class HubLauncherTest {

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @AfterEach
  void closeClient() {
    http.close();
  }

  private Settings settings(Map<String, String> env, String... flagPairs) {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.HOST, "127.0.0.1");
    flags.put(Setting.PORT, "0");
    flags.put(Setting.DATA_DIR, dir.resolve("data").toString());
    for (int i = 0; i < flagPairs.length; i += 2) {
      flags.put(Setting.ofKey(flagPairs[i]).orElseThrow(), flagPairs[i + 1]);
    }
    return new SettingsLoader(flags, env, ConfigFile.none()).load();
  }

  private Settings settings() {
    return settings(Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET));
  }

  private int get(URI uri) throws IOException, InterruptedException {
    return http.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void startsOnAFreePortAtTheAddressItReportsAndCloseReleasesPortAndDataDirectory()
      throws Exception {
    Settings settings = settings();
    int port;
    try (RunningHub hub = HubLauncher.start(settings)) {
      port = hub.port();
      assertThat(hub.port()).isPositive();
      assertThat(hub.address()).isEqualTo(new HubAddress("127.0.0.1", hub.port(), false));
      assertThat(hub.authEnabled()).isTrue();
      URI health = URI.create(hub.address().httpUrl() + "/health");
      assertThat(get(health)).isEqualTo(200);
      assertThat(get(URI.create(hub.address().httpUrl() + "/api/jobs"))).isEqualTo(401);
      assertThat(JwtSecrets.file(settings.dataDir())).as("the configured secret").doesNotExist();
    }
    // Released: the port can be bound again. (A connect to a port nobody listens on in the
    // ephemeral range can, rarely, connect the client to itself, so a refused connect is no proof.)
    try (ServerSocket rebound = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(rebound.getLocalPort()).isEqualTo(port);
    }
    try (RunningHub again = HubLauncher.start(settings)) {
      assertThat(again.port()).isPositive();
    }
  }

  @Test
  void aRedisNobodyListensOnIsAStartFailureNamingItWithoutItsPassword() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    Settings settings =
        settings(
            Map.of(
                "PROGRESS_HUB_JWT_SECRET",
                ServerProcess.SECRET,
                "PROGRESS_HUB_REDIS_URL",
                "redis://:secret-pw@127.0.0.1:" + closedPort));

    long started = System.nanoTime();
    assertThatThrownBy(() -> HubLauncher.start(settings))
        .isInstanceOf(HubLauncher.StartFailure.class)
        .hasMessageContaining("127.0.0.1:" + closedPort)
        .hasMessageNotContaining("secret-pw");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void withoutAConfiguredSecretTheFirstStartGeneratesOneInTheDataDirectory() throws Exception {
    Settings settings = settings(Map.of());
    try (RunningHub hub = HubLauncher.start(settings)) {
      assertThat(hub.authEnabled()).isTrue();
    }
    assertThat(JwtSecrets.file(settings.dataDir())).exists();
  }

  @Test
  void insecureNoAuthServesWithoutATokenAndWritesNoSecret() throws Exception {
    Settings settings = settings(Map.of(), "insecure-no-auth", "true");
    try (RunningHub hub = HubLauncher.start(settings)) {
      assertThat(hub.authEnabled()).isFalse();
      assertThat(get(URI.create(hub.address().httpUrl() + "/api/jobs"))).isEqualTo(200);
    }
    assertThat(JwtSecrets.file(settings.dataDir())).doesNotExist();
  }

  @Test
  void aDataDirectoryInUseIsAStartFailureThatNamesIt() throws Exception {
    Settings settings = settings();
    try (RunningHub first = HubLauncher.start(settings)) {
      assertThatThrownBy(() -> HubLauncher.start(settings))
          .isInstanceOf(HubLauncher.StartFailure.class)
          .hasMessage(
              "data directory "
                  + settings.dataDir().toAbsolutePath()
                  + " is in use by another progress-hub");
      assertThat(get(URI.create(first.address().httpUrl() + "/health"))).isEqualTo(200);
    }
  }

  @Test
  void aTakenPortIsAStartFailureThatNamesTheAddressAndReleasesTheDataDirectory() throws Exception {
    try (RunningHub first = HubLauncher.start(settings())) {
      Path otherDir = dir.resolve("other");
      Settings taken =
          settings(
              Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
              "port",
              String.valueOf(first.port()),
              "data-dir",
              otherDir.toString());

      assertThatThrownBy(() -> HubLauncher.start(taken))
          .isInstanceOf(HubLauncher.StartFailure.class)
          .hasMessageStartingWith("cannot listen on 127.0.0.1:" + first.port() + ": ");

      // The store it opened before the bind failed was closed: its data directory is free.
      try (RunningHub other = HubLauncher.start(settings(taken, "port", "0"))) {
        assertThat(other.port()).isNotEqualTo(first.port());
      }
    }
  }

  private Settings settings(Settings base, String key, String value) {
    return settings(
        Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
        "data-dir",
        base.dataDir().toString(),
        key,
        value);
  }
}
