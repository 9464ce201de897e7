package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ServeBannerTest {

  @Test
  void bannerShowsWhereToConnectAndHowToMintATokenToTryWith() {
    String mint = "progress-hub token --sub admin --role admin";
    String banner =
        ServeBanner.banner(
            new HubAddress("127.0.0.1", 8080, false), Optional.of(mint), Optional.empty());

    assertThat(banner)
        .contains("http://127.0.0.1:8080")
        .contains("ws://127.0.0.1:8080/ws")
        .contains("valid 1h: " + mint)
        .contains(
            "curl -H \"Authorization: Bearer $(" + mint + ")\" http://127.0.0.1:8080/api/jobs")
        .contains("Dashboard: http://127.0.0.1:8080/  (sign in with an admin token)")
        .doesNotContain("#token=");
  }

  @Test
  void theDashboardLinkCarriesTheTokenItIsGivenInItsFragment() {
    String banner =
        ServeBanner.banner(
            new HubAddress("127.0.0.1", 8080, false),
            Optional.of("progress-hub token --sub admin --role admin"),
            Optional.of("eyJ.header.sig"));

    assertThat(banner)
        .contains("Dashboard: http://127.0.0.1:8080/#token=eyJ.header.sig  (signed in as admin")
        .doesNotContain("?token=");
  }

  @Test
  void bannerWithTlsShowsHttpsAndWssUrls() {
    String banner =
        ServeBanner.banner(
            new HubAddress("127.0.0.1", 8443, true),
            Optional.of("progress-hub token"),
            Optional.empty());

    assertThat(banner).contains("https://127.0.0.1:8443").contains("wss://127.0.0.1:8443/ws");
  }

  @Test
  void bannerForAWildcardBindUsesLocalhostInUrls() {
    String banner =
        ServeBanner.banner(
            new HubAddress("0.0.0.0", 9000, false), Optional.empty(), Optional.empty());

    assertThat(banner)
        .contains("http://localhost:9000")
        .contains("all interfaces")
        .doesNotContain("Bearer");
  }

  @Test
  void insecureWarningIsLoudAndMentionsExposure() {
    Settings settings =
        new SettingsLoader(Map.of(Setting.HOST, "0.0.0.0"), Map.of(), ConfigFile.none()).load();

    String warning = ServeBanner.insecureWarning(settings);

    assertThat(warning.lines()).hasSizeGreaterThanOrEqualTo(5);
    assertThat(warning).contains("WARNING").contains("read every job").contains("0.0.0.0");
  }

  @Test
  void theMintCommandNamesTheDataDirectoryAndConfigFileServeWasGiven() {
    assertThat(ServeBanner.mintCommand(Optional.empty(), Optional.empty()))
        .isEqualTo("progress-hub token --sub admin --role admin");
    assertThat(ServeBanner.mintCommand(Optional.of("/var/hub"), Optional.of("hub.properties")))
        .isEqualTo(
            "progress-hub token --sub admin --role admin --data-dir /var/hub"
                + " --config hub.properties");
  }

  @Test
  void urlsBracketIpv6LiteralsAndUseLocalhostForAWildcardBind() {
    assertThat(new HubAddress("::1", 80, false).httpUrl()).isEqualTo("http://[::1]:80");
    assertThat(new HubAddress("[::1]", 80, true).webSocketUrl()).isEqualTo("wss://[::1]:80/ws");
    assertThat(new HubAddress("::", 80, false).httpUrl()).isEqualTo("http://localhost:80");
    assertThat(new HubAddress("::", 80, false).allInterfaces()).isTrue();
    assertThat(new HubAddress("127.0.0.1", 80, false).allInterfaces()).isFalse();
  }
}
