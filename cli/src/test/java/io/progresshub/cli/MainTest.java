package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(Map<String, String> env, String... args) {
    CommandLine commandLine = Main.commandLine(env);
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    return commandLine.execute(args);
  }

  @Test
  void versionPrintsTheProjectVersion() {
    assertThat(run(Map.of(), "version")).isZero();
    assertThat(out.toString()).startsWith("progress-hub ").doesNotContain("unknown");
    assertThat(out.toString().strip()).isEqualTo("progress-hub " + Version.current());
  }

  @Test
  void helpListsTheCommands() {
    assertThat(run(Map.of(), "--help")).isZero();
    assertThat(out.toString()).contains("serve").contains("token").contains("version");
  }

  @Test
  void noCommandIsAUsageError() {
    assertThat(run(Map.of())).isEqualTo(2);
    assertThat(err.toString()).contains("Missing command");
  }

  @Test
  void serveWithABadSettingExitsWith2AndSaysWhy(@TempDir Path dir) {
    int exit =
        run(Map.of("PROGRESS_HUB_RETENTION", "a while"), "serve", "--data-dir", dir.toString());

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString())
        .contains("progress-hub: error: PROGRESS_HUB_RETENTION: \"a while\" (expected: ");
    assertThat(dir).isEmptyDirectory(); // nothing was started or written
  }

  @Test
  void serveRejectsAFlagValueBeforeTouchingAnything(@TempDir Path dir) {
    assertThat(run(Map.of(), "serve", "--port", "99999", "--data-dir", dir.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--port: \"99999\"");
  }

  @Test
  void bannerShowsWhereToConnectAndHowToMintATokenToTryWith() {
    String mint = "progress-hub token --sub admin --role admin";
    String banner = ServeCommand.banner("127.0.0.1", 8080, false, Optional.of(mint));

    assertThat(banner)
        .contains("http://127.0.0.1:8080")
        .contains("ws://127.0.0.1:8080/ws")
        .contains("valid 1h: " + mint)
        .contains(
            "curl -H \"Authorization: Bearer $(" + mint + ")\" http://127.0.0.1:8080/api/jobs");
  }

  @Test
  void bannerWithTlsShowsHttpsAndWssUrls() {
    String banner = ServeCommand.banner("127.0.0.1", 8443, true, Optional.of("progress-hub token"));

    assertThat(banner).contains("https://127.0.0.1:8443").contains("wss://127.0.0.1:8443/ws");
  }

  @Test
  void bannerForAWildcardBindUsesLocalhostInUrls() {
    String banner = ServeCommand.banner("0.0.0.0", 9000, false, Optional.empty());

    assertThat(banner)
        .contains("http://localhost:9000")
        .contains("all interfaces")
        .doesNotContain("Bearer");
  }

  @Test
  void insecureWarningIsLoudAndMentionsExposure() {
    Settings settings =
        new SettingsLoader(Map.of(Setting.HOST, "0.0.0.0"), Map.of(), ConfigFile.none()).load();

    String warning = ServeCommand.insecureWarning(settings);

    assertThat(warning.lines()).hasSizeGreaterThanOrEqualTo(5);
    assertThat(warning).contains("WARNING").contains("read every job").contains("0.0.0.0");
  }
}
