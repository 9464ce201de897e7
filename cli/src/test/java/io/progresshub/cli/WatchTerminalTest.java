package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Role;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code watch} on a real terminal: the command runs in a pseudo-terminal made by {@code script}
 * (util-linux), as a user at a shell would run it.
 */
@EnabledOnOs(OS.LINUX)
class WatchTerminalTest {

  @Test
  void onATerminalWatchDrawsABarPerJobInPlace(@TempDir Path dir) throws Exception {
    try (ServerProcess server = ServerProcess.start(dir)) {
      String url = "http://127.0.0.1:" + server.port();
      String token = ServerProcess.token("admin", Role.ADMIN);
      Map<String, String> env = Map.of("PROGRESS_HUB_URL", url, "PROGRESS_HUB_TOKEN", token);
      String id = ClientCommandsTest.run(env, "create").out().strip();
      ClientCommandsTest.run(env, "publish", id, "--progress", "50", "--stage", "encode");
      ClientCommandsTest.run(env, "publish", id, "--status", "completed");

      List<String> java = new ArrayList<>();
      java.add(ProcessHandle.current().info().command().orElse("java"));
      java.add("--enable-native-access=ALL-UNNAMED");
      java.add("-cp");
      java.add(System.getProperty("java.class.path"));
      java.add(Main.class.getName());
      java.addAll(List.of("watch", id, "--url", url, "--token", token));
      String command = java.stream().map(arg -> "'" + arg + "'").collect(Collectors.joining(" "));
      Path typescript = dir.resolve("typescript");
      Process process =
          new ProcessBuilder("script", "-qfec", command, typescript.toString())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("script.out").toFile())
              .start();

      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String screen = Files.readString(typescript, StandardCharsets.UTF_8);
      assertThat(process.exitValue()).as(screen).isZero();
      assertThat(screen).containsPattern(id + " \\[#{10,}\\] 100%");
      assertThat(screen).contains("\033[2K"); // lines are redrawn in place
    }
  }
}
