package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What an operator sees on a first {@code progress-hub serve}, against the real process. */
class ServeProcessTest {
  private static final Pattern JWT =
      Pattern.compile("eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

  @TempDir Path dir;

  private final List<ServerProcess> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(ServerProcess::close);
  }

  @Test
  void serveNeverPrintsATokenButTheAdminTokenCommandItPrintsWorksAndKeepsWorkingAfterARestart()
      throws Exception {
    ServerProcess first = start(Map.of());

    List<String> printed = new ArrayList<>(first.stdout());
    printed.addAll(first.stderr());
    assertThat(printed)
        .as("stdout and the log end up in service logs: no token of any lifetime in them")
        .noneMatch(line -> JWT.matcher(line).find());
    Path secretFile = first.dataDir.resolve("jwt-secret");
    assertThat(secretFile).exists();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secretFile)))
        .isEqualTo("rw-------");

    String token = mint(first);
    String secret = Files.readString(secretFile).strip();
    JwtTokens serverSide =
        new JwtTokens(secret.getBytes(StandardCharsets.UTF_8), Optional.empty(), Clock.systemUTC());
    assertThat(serverSide.verify(token).role()).isEqualTo(Role.ADMIN);
    assertThat(JwtTokens.unverifiedExpiry(token).orElseThrow())
        .isBefore(Instant.now().plus(Duration.ofHours(1)).plusSeconds(5));

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

  /** Runs the {@code progress-hub token ...} command the banner shows, as an operator would. */
  private static String mint(ServerProcess server) {
    String line =
        server.stdout().stream()
            .filter(l -> l.contains("An admin token"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no admin token command\n" + server));
    Matcher command = Pattern.compile("progress-hub (token .*)$").matcher(line);
    assertThat(command.find()).as(line).isTrue();
    StringWriter out = new StringWriter();
    CommandLine cli = Main.commandLine(Map.of());
    cli.setOut(new PrintWriter(out, true));
    assertThat(cli.execute(command.group(1).split(" "))).isZero();
    return out.toString().strip();
  }

  @Test
  void metricsAreOpenOnLoopbackAndJsonLogFormatWritesBareJsonAccessLines() throws Exception {
    ServerProcess server = start(Map.of(), "--log-format", "json");

    HttpResponse<String> metrics = server.get("/metrics", Optional.empty());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(metrics.body())
        .contains("progress_hub_store_pending_writes ")
        .contains("progress_hub_events_stored_total{kind=\"transition\"}");

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(server.stderr())
                    .anySatisfy(
                        line -> {
                          JsonNode entry = ServerProcess.parse(line);
                          assertThat(entry.path("event").asText()).isEqualTo("request");
                          assertThat(entry.path("path").asText()).isEqualTo("/metrics");
                          assertThat(entry.path("status").asInt()).isEqualTo(200);
                        }));
  }

  @Test
  void metricsTokenWantsAnAdminTokenFromLoopbackToo() throws Exception {
    ServerProcess server =
        start(
            Map.of(
                "PROGRESS_HUB_METRICS", "token", "PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET));

    assertThat(server.get("/metrics", Optional.empty()).statusCode()).isEqualTo(401);
    String admin = ServerProcess.token("ops", Role.ADMIN);
    assertThat(server.get("/metrics", Optional.of(admin)).statusCode()).isEqualTo(200);
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

  @Test
  void tlsCertAndKeyFromTheEnvironmentServeHttpsAndWssAtTheUrlsTheBannerPrints() throws Exception {
    Path cert = dir.resolve("hub.crt");
    Path key = dir.resolve("hub.key");
    selfSigned(cert, key);
    ServerProcess server =
        ServerProcess.launch(
            dir,
            Map.of(
                "PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET,
                "PROGRESS_HUB_TLS_CERT", cert.toString(),
                "PROGRESS_HUB_TLS_KEY", key.toString()));
    servers.add(server);
    Pattern https = Pattern.compile("\\s*HTTP:\\s+https://127\\.0\\.0\\.1:(\\d+)");
    await()
        .atMost(ServerProcess.STARTUP)
        .failFast("the server exited", () -> !server.process.isAlive())
        .until(() -> server.stdout().stream().anyMatch(line -> https.matcher(line).matches()));
    int port =
        server.stdout().stream()
            .map(https::matcher)
            .filter(Matcher::matches)
            .map(m -> Integer.parseInt(m.group(1)))
            .findFirst()
            .orElseThrow();
    assertThat(server.stdout()).anyMatch(line -> line.contains("wss://127.0.0.1:" + port + "/ws"));

    HttpClient client = HttpClient.newBuilder().sslContext(trusting(cert)).build();
    try {
      HttpResponse<String> jobs =
          client.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/api/jobs"))
                  .header("Authorization", "Bearer " + ServerProcess.token("ops", Role.ADMIN))
                  .timeout(ServerProcess.HTTP_TIMEOUT)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(jobs.statusCode()).as(jobs.body()).isEqualTo(200);
    } finally {
      client.shutdownNow();
    }
  }

  @Test
  void aTlsKeyThatIsNotTheCertificatesStopsServeWithOneLineNamingIt() throws Exception {
    Path cert = dir.resolve("hub.crt");
    Path key = dir.resolve("hub.key");
    selfSigned(cert, dir.resolve("unused.key"));
    selfSigned(dir.resolve("other.crt"), key);

    ServerProcess server =
        ServerProcess.launch(
            dir,
            Map.of("PROGRESS_HUB_JWT_SECRET", ServerProcess.SECRET),
            "--tls-cert",
            cert.toString(),
            "--tls-key",
            key.toString());
    servers.add(server);

    assertThat(server.awaitExit(ServerProcess.STARTUP)).isNotZero();
    assertThat(server.stderr())
        .anyMatch(
            line ->
                line.startsWith("progress-hub: error: TLS private key " + key)
                    && line.contains("does not match"));
    assertThat(String.join("\n", server.stderr())).doesNotContain("\tat ");
  }

  private static void selfSigned(Path cert, Path key) throws Exception {
    Process openssl =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(openssl.waitFor()).as(output).isZero();
  }

  private static SSLContext trusting(Path cert) throws Exception {
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    try (InputStream in = Files.newInputStream(cert)) {
      trusted.setCertificateEntry(
          "hub", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  private ServerProcess start(Map<String, String> env, String... args) {
    ServerProcess server = ServerProcess.start(dir, env, args);
    servers.add(server);
    return server;
  }
}
