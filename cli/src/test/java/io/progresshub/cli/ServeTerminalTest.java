package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} on a real terminal (a pseudo-terminal made by {@code script}, as an operator at a
 * shell runs it) prints a dashboard link that signs its reader in; piped, it prints none (see
 * {@link ServeProcessTest}).
 */
@EnabledOnOs(OS.LINUX)
class ServeTerminalTest {
  private static final Pattern LINK =
      Pattern.compile("Dashboard: (http://127\\.0\\.0\\.1:(\\d+))/#token=(eyJ[\\w.-]+)");

  @Test
  void onATerminalServePrintsADashboardLinkWithAShortLivedAdminToken(@TempDir Path dir)
      throws Exception {
    List<String> java = new ArrayList<>();
    java.add(ProcessHandle.current().info().command().orElse("java"));
    java.add("-Dlogback.configurationFile=logback.xml");
    java.add("-cp");
    java.add(System.getProperty("java.class.path"));
    java.add(Main.class.getName());
    java.addAll(List.of("serve", "--port", "0", "--data-dir", dir.resolve("data").toString()));
    String command = java.stream().map(arg -> "'" + arg + "'").collect(Collectors.joining(" "));
    Path typescript = dir.resolve("typescript");
    ProcessBuilder builder =
        new ProcessBuilder("script", "-qfec", command, typescript.toString())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("script.out").toFile());
    builder.environment().keySet().removeIf(key -> key.startsWith("PROGRESS_HUB_"));
    Process process = builder.start();
    try {
      String screen =
          await()
              .atMost(ServerProcess.STARTUP)
              .pollInterval(Duration.ofMillis(200))
              .until(
                  () -> read(typescript), text -> LINK.matcher(text).find() || !process.isAlive());
      Matcher link = LINK.matcher(screen);
      assertThat(link.find()).as(screen).isTrue();
      String token = link.group(3);

      String secret = Files.readString(dir.resolve("data/jwt-secret")).strip();
      JwtTokens serverSide =
          new JwtTokens(
              secret.getBytes(StandardCharsets.UTF_8), Optional.empty(), Clock.systemUTC());
      assertThat(serverSide.verify(token).role()).isEqualTo(Role.ADMIN);
      assertThat(JwtTokens.unverifiedExpiry(token).orElseThrow())
          .isBefore(Instant.now().plus(Duration.ofHours(1)).plusSeconds(5));

      HttpResponse<String> stats =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(link.group(1) + "/api/stats"))
                      .header("Authorization", "Bearer " + token)
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(stats.statusCode()).as(stats.body()).isEqualTo(200);
      HttpResponse<String> page =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(link.group(1) + "/")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("progress-hub dashboard");
    } finally {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      process.waitFor();
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
