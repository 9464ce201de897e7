package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import io.progresshub.server.JwtTokens;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator sees on a first {@code progress-hub serve}, against the real process. */
class ServeProcessTest {

  @TempDir Path dir;

  private final List<ServerProcess> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(ServerProcess::close);
  }

  @Test
  void firstStartWithoutASecretGeneratesOneAndPrintsAnAdminTokenThatKeepsWorkingAfterARestart()
      throws Exception {
    ServerProcess first = start(Map.of());

    String token =
        first.bannerToken().orElseThrow(() -> new AssertionError("no admin token\n" + first));
    Path secretFile = first.dataDir.resolve("jwt-secret");
    assertThat(secretFile).exists();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secretFile)))
        .isEqualTo("rw-------");
    String secret = Files.readString(secretFile).strip();
    Principal admin =
        new JwtTokens(secret.getBytes(StandardCharsets.UTF_8), Optional.empty(), Clock.systemUTC())
            .verify(token);
    assertThat(admin.role()).isEqualTo(Role.ADMIN);
    assertThat(first.stdout())
        .anyMatch(line -> line.contains("curl -H \"Authorization: Bearer " + token + "\""));

    first.call("POST", "/api/jobs", token, "{\"id\":\"job-first\"}", 201);
    HttpResponse<String> anonymous =
        first.post("/api/jobs", Optional.empty(), "{\"id\":\"job-anonymous\"}");
    assertThat(anonymous.statusCode()).isEqualTo(401);

    first.terminate();
    assertThat(first.awaitExit(Duration.ofSeconds(60))).isZero();

    ServerProcess second = start(Map.of());
    assertThat(Files.readString(secretFile).strip()).as("the secret is kept").isEqualTo(secret);
    assertThat(second.call("GET", "/api/jobs/job-first", token, null, 200).path("owner").asText())
        .isEqualTo("admin");
  }

  @Test
  void insecureNoAuthWarnsOnStderrAndServesWithoutAToken() throws Exception {
    ServerProcess server = start(Map.of(), "--insecure-no-auth");

    assertThat(String.join("\n", server.stderr()))
        .contains("WARNING: AUTHENTICATION IS OFF (--insecure-no-auth).")
        .contains("read every job");
    assertThat(server.bannerToken()).isEmpty();
    assertThat(server.stdout()).noneMatch(line -> line.contains("Bearer"));
    assertThat(server.dataDir.resolve("jwt-secret")).doesNotExist();

    HttpResponse<String> created =
        server.post("/api/jobs", Optional.empty(), "{\"id\":\"job-open\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> published =
        server.post("/api/jobs/job-open/events", Optional.empty(), "{\"progress\":30}");
    assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
    assertThat(ServerProcess.parse(published.body()).path("seq").asLong()).isEqualTo(2);
  }

  private ServerProcess start(Map<String, String> env, String... args) {
    ServerProcess server = ServerProcess.start(dir, env, args);
    servers.add(server);
    return server;
  }
}
