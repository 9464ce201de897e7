package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

class ServeCommandTest {

  /** The serve command after parsing {@code progress-hub serve args...}. */
  private static CommandSpec serve(String... args) {
    CommandLine main = Main.commandLine(Map.of());
    main.parseArgs(Stream.concat(Stream.of("serve"), Stream.of(args)).toArray(String[]::new));
    return main.getSubcommands().get("serve").getCommandSpec();
  }

  @Test
  void everySettingWithAFlagIsAnOptionOfServe() {
    CommandSpec serve = serve();
    for (Setting setting : Setting.values()) {
      setting.flag().ifPresent(flag -> assertThat(serve.findOption(flag)).as(flag).isNotNull());
    }
    assertThat(ServeCommand.flags(serve)).as("nothing given").isEmpty();
  }

  @Test
  void theFlagsGivenReachTheirSettingsAnnotatedOrDeclaredFromTheTable() {
    Map<Setting, String> flags =
        ServeCommand.flags(
            serve(
                "--host",
                "0.0.0.0",
                "--allowed-origin",
                "https://a.test",
                "--allowed-origin",
                "https://b.test",
                "--insecure-no-auth",
                "--ws-compression=false",
                "--max-replay",
                "5",
                "--redis-url",
                "redis://a.test",
                "--redis-prefix",
                "staging:",
                "--redis-timeout",
                "5s",
                "--node-id",
                "web-1",
                "--config",
                "ignored.properties"));

    assertThat(flags)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                Setting.HOST, "0.0.0.0",
                Setting.ALLOWED_ORIGINS, "https://a.test,https://b.test",
                Setting.INSECURE_NO_AUTH, "true",
                Setting.WS_COMPRESSION, "false",
                Setting.MAX_REPLAY, "5",
                Setting.REDIS_URL, "redis://a.test",
                Setting.REDIS_PREFIX, "staging:",
                Setting.REDIS_TIMEOUT, "5s",
                Setting.NODE_ID, "web-1"));
  }
}
