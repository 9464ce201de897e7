package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.progresshub.core.Principal;
import io.progresshub.core.Role;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwtTokens;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
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

  /** The token's header and claims, read as any JWT library would, without trusting it. */
  private static List<JsonNode> decode(String token) throws Exception {
    String[] parts = token.split("\\.");
    assertThat(parts).as("header.payload.signature").hasSize(3);
    ObjectMapper json = new ObjectMapper();
    Base64.Decoder base64 = Base64.getUrlDecoder();
    return List.of(
        json.readTree(new String(base64.decode(parts[0]), StandardCharsets.UTF_8)),
        json.readTree(new String(base64.decode(parts[1]), StandardCharsets.UTF_8)));
  }

  @Test
  void thePrintedTokenCarriesTheSubjectRoleJobsAndLifetimeAsked() throws Exception {
    serverTokens();
    long before = Instant.now().getEpochSecond();

    int exit =
        run(
            Map.of(),
            "token",
            "--sub",
            "viewer-3",
            "--role",
            "subscriber",
            "--jobs",
            "job-1,job-2",
            "--ttl",
            "90m",
            "--data-dir",
            dir.toString());

    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString()).endsWith("\n").hasLineCount(1);
    List<JsonNode> decoded = decode(out.toString().strip());
    assertThat(decoded.get(0).path("alg").asText()).isEqualTo("HS256");
    JsonNode claims = decoded.get(1);
    assertThat(claims.path("sub").asText()).isEqualTo("viewer-3");
    assertThat(claims.path("role").asText()).isEqualTo("subscriber");
    assertThat(claims.path("jobs").isArray()).isTrue();
    assertThat(claims.path("jobs").toString()).isEqualTo("[\"job-1\",\"job-2\"]");
    long iat = claims.path("iat").asLong();
    assertThat(iat).isBetween(before, Instant.now().getEpochSecond());
    assertThat(claims.path("exp").asLong() - iat).isEqualTo(90 * 60);
  }

  @Test
  void anAdminTokenWithoutJobsHasNoJobsClaim() throws Exception {
    serverTokens();

    assertThat(
            run(
                Map.of(),
                "token",
                "--sub",
                "ops",
                "--role",
                "ADMIN",
                "--ttl",
                "PT2H",
                "--data-dir",
                dir.toString()))
        .isZero();

    JsonNode claims = decode(out.toString().strip()).get(1);
    assertThat(claims.path("role").asText()).isEqualTo("admin");
    assertThat(claims.has("jobs")).isFalse();
    assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(7200);
  }

  @Test
  void aLifetimeUnderOneSecondOrOverAYearIsAUsageError() {
    serverTokens();

    for (String ttl : List.of("500ms", "0s", "-1h", "366d", "PT0S")) {
      err.getBuffer().setLength(0);
      int exit = run(Map.of(), "token", "--sub", "a", "--ttl", ttl, "--data-dir", dir.toString());

      assertThat(exit).as(ttl).isEqualTo(2);
      assertThat(err.toString())
          .as(ttl)
          .contains("Invalid value for option '--ttl': \"" + ttl + "\"", "from 1s to 365d");
    }
    assertThat(out.toString()).isEmpty();
    assertThat(run(Map.of(), "token", "--sub", "a", "--ttl", "365d", "--data-dir", dir.toString()))
        .isZero();
  }

  @Test
  void helpNamesEveryOptionWithWhatItSets() {
    assertThat(run(Map.of(), "token", "--help")).isZero();

    assertThat(out.toString())
        .contains(
            "--sub=USER",
            "sub claim",
            "--role=ROLE",
            "subscriber (default",
            "publisher",
            "admin",
            "--jobs=ID[,ID...]",
            "jobs claim",
            "--ttl=DURATION",
            "from 1s to 365d",
            "--data-dir=DIR",
            "--config=FILE",
            "PROGRESS_HUB_JWT_SECRET",
            "Exit status");
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
