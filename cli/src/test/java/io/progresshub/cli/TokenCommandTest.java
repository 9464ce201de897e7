package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwtTokens;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokenCommandTest {

  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(Map<String, String> env, String... args) {
    CommandLine commandLine = Main.commandLine(env);
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    return commandLine.execute(args);
  }

  /** The secret serve would have generated on its first start. */
  private JwtTokens serverTokens() {
    Settings settings =
        new SettingsLoader(Map.of(Setting.DATA_DIR, dir.toString()), Map.of(), ConfigFile.none())
            .load();
    byte[] key = JwtSecrets.loadOrCreate(settings).key();
    return new JwtTokens(key, Optional.empty(), Clock.systemUTC());
  }

  @Test
  void printsATokenTheServerAccepts() {
    JwtTokens server = serverTokens();

    int exit =
        run(
            Map.of(),
            "token",
            "--sub",
            "alice",
            "--role",
            "publisher",
            "--jobs",
            "job-1,job-2",
            "--data-dir",
            dir.toString());

    assertThat(exit).isZero();
    Principal principal = server.verify(out.toString().strip());
    assertThat(principal)
        .isEqualTo(new Principal("alice", Role.PUBLISHER, Set.of("job-1", "job-2")));
  }

  @Test
  void defaultsToASubscriberTokenValidForOneHour() {
    JwtTokens server = serverTokens();

    assertThat(run(Map.of(), "token", "--sub", "bob", "--data-dir", dir.toString())).isZero();

    String token = out.toString().strip();
    assertThat(server.verify(token)).isEqualTo(new Principal("bob", Role.SUBSCRIBER, Set.of()));
    assertThat(JwtTokens.unverifiedExpiry(token).orElseThrow())
        .isBetween(
            Instant.now().plus(Duration.ofMinutes(59)), Instant.now().plus(Duration.ofHours(1)));
  }

  @Test
  void honoursTheTtl() {
    serverTokens();

    assertThat(run(Map.of(), "token", "--sub", "bob", "--ttl", "7d", "--data-dir", dir.toString()))
        .isZero();

    assertThat(JwtTokens.unverifiedExpiry(out.toString().strip()).orElseThrow())
        .isAfter(Instant.now().plus(Duration.ofDays(7)).minusSeconds(60));
  }

  @Test
  void signsWithTheSecretFromTheEnvironment() {
    String secret = "environment-secret-environment-secret";
    Map<String, String> env =
        Map.of("PROGRESS_HUB_JWT_SECRET", secret, "PROGRESS_HUB_DATA_DIR", dir.toString());

    assertThat(run(env, "token", "--sub", "carol", "--role", "admin")).isZero();

    JwtTokens server = new JwtTokens(secret.getBytes(), Optional.empty(), Clock.systemUTC());
    assertThat(server.verify(out.toString().strip()).role()).isEqualTo(Role.ADMIN);
    assertThat(dir.resolve("jwt-secret")).doesNotExist();
  }

  @Test
  void carriesTheIssuerAndAudienceServeRequires() {
    String secret = "environment-secret-environment-secret";
    Map<String, String> env =
        Map.of(
            "PROGRESS_HUB_JWT_SECRET", secret,
            "PROGRESS_HUB_JWT_ISSUER", "https://hub.example.com/",
            "PROGRESS_HUB_JWT_AUDIENCE", "progress-hub");

    assertThat(run(env, "token", "--sub", "carol", "--data-dir", dir.toString())).isZero();

    AuthConfig strict =
        AuthConfig.hs256(secret.getBytes())
            .withIssuer(Optional.of("https://hub.example.com/"))
            .withAudience(Optional.of("progress-hub"));
    assertThat(new JwtTokens(strict, Clock.systemUTC()).verify(out.toString().strip()).subject())
        .isEqualTo("carol");
  }

  @Test
  void withoutAnySecretExplainsHowToGetOne() {
    int exit = run(Map.of(), "token", "--sub", "alice", "--data-dir", dir.toString());

    assertThat(exit).isEqualTo(2);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString())
        .contains("no JWT secret yet")
        .contains("PROGRESS_HUB_JWT_SECRET")
        .contains(dir.resolve("jwt-secret").toString());
  }

  @Test
  void unknownRoleIsAUsageError() {
    serverTokens();

    int exit = run(Map.of(), "token", "--sub", "a", "--role", "root", "--data-dir", dir.toString());

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("\"root\" (expected: subscriber, publisher or admin)");
  }

  @Test
  void badTtlAndJobIdAreUsageErrors() {
    serverTokens();

    assertThat(run(Map.of(), "token", "--sub", "a", "--ttl", "10", "--data-dir", dir.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--ttl").contains("\"10\"");
    assertThat(
            run(Map.of(), "token", "--sub", "a", "--jobs", "bad id", "--data-dir", dir.toString()))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--jobs: \"bad id\"");
  }
}
