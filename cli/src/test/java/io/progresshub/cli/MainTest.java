package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
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
  void serveRefusesANodeIdWithoutARedisUrlBeforeTouchingAnything(@TempDir Path dir) {
    assertThat(run(Map.of(), "serve", "--node-id", "web-1", "--data-dir", dir.toString()))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("progress-hub: error: --node-id is set but no Redis URL is (expected: ");
    assertThat(dir).isEmptyDirectory();
  }
}
