package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.ssl.SslProvider;
import io.progresshub.core.Role;
import io.progresshub.server.internal.TlsCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS, WSS and SSE over TLS on the server's own port, from PEM files that may change. */
class TlsTest {
  @TempDir Path dir;

  private TestServer server;
  private HttpClient https;

  @AfterEach
  void stop() {
    if (https != null) {
      https.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  private TestCertificates.Pem startWithTls(Duration reloadInterval) {
    TestCertificates.Pem pem = TestCertificates.generate(dir, "first");
    TlsConfig tls = new TlsConfig(pem.cert(), pem.key(), reloadInterval);
    server = TestServer.start(config -> config.withNetwork(config.network().withTls(tls)));
    https = client(pem);
    return pem;
  }

  private static HttpClient client(TestCertificates.Pem trusted) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .sslContext(trusted.trustingIt())
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  private URI url(String scheme, String pathAndQuery) {
    return URI.create(scheme + "://127.0.0.1:" + server.port() + pathAndQuery);
  }

  private HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(url("https", path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + token);
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", "application/json");
      request.method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return https.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String newJob(String owner) throws Exception {
    String id = "tls-" + System.nanoTime();
    HttpResponse<String> created =
        send(
            "POST",
            "/api/jobs",
            server.publisher(),
            "{\"id\":\"" + id + "\",\"owner\":\"" + owner + "\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return id;
  }

  private void publish(String job, String json) throws Exception {
    HttpResponse<String> published =
        send("POST", "/api/jobs/" + job + "/events", server.publisher(), json);
    assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
  }

  /** The certificate the server presents to a new connection (trusting any, to see it). */
  private X509Certificate presented(TestCertificates.Pem trusted) throws IOException {
    try (SSLSocket socket =
        (SSLSocket) trusted.trustingIt().getSocketFactory().createSocket("127.0.0.1", port())) {
      socket.setSoTimeout(10_000);
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }

  private int port() {
    return server.port();
  }

  @Test
  void restOverHttpsCreatesPublishesAndReadsAJob() throws Exception {
    startWithTls(TlsConfig.DEFAULT_RELOAD_INTERVAL);

    HttpResponse<String> created =
        send("POST", "/api/jobs", server.publisher(), "{\"id\":\"tls-rest\",\"owner\":\"alice\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(
            send("POST", "/api/jobs/tls-rest/events", server.publisher(), "{\"progress\":40}")
                .statusCode())
        .isEqualTo(200);
    HttpResponse<String> read =
        send("GET", "/api/jobs/tls-rest", server.token("alice", Role.SUBSCRIBER), null);

    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(RestClient.JSON.readTree(read.body()).path("progress").asDouble()).isEqualTo(40.0);
    assertThat(read.sslSession())
        .hasValueSatisfying(
            session -> assertThat(session.getProtocol()).isIn("TLSv1.3", "TLSv1.2"));
  }

  @Test
  void plainHttpOnTheTlsPortGetsNoAnswer() {
    startWithTls(TlsConfig.DEFAULT_RELOAD_INTERVAL);
    HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    try {
      assertThatThrownBy(
              () ->
                  plain.send(
                      HttpRequest.newBuilder(url("http", "/health"))
                          .timeout(Duration.ofSeconds(10))
                          .build(),
                      HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
    } finally {
      plain.shutdownNow();
    }
  }

  @Test
  void webSocketOverTlsReceivesLiveProgress() throws Exception {
    startWithTls(TlsConfig.DEFAULT_RELOAD_INTERVAL);
    String job = newJob("alice");
    String token = server.token("alice", Role.SUBSCRIBER);

    try (WsClient client =
        WsClient.connect(https, url("wss", "/ws/" + job + "?token=" + token), Map.of())) {
      client.next("connection_established");
      client.next("subscribed");
      client.next("progress");
      publish(job, "{\"progress\":55,\"stage\":\"encode\"}");

      JsonNode live = client.next("progress");
      assertThat(live.path("progress").asDouble()).isEqualTo(55.0);
      assertThat(live.path("stage").asText()).isEqualTo("encode");
      client.assertOpen();
    }
  }

  @Test
  void sseOverTlsStreamsTheCurrentStateThenLiveEvents() throws Exception {
    startWithTls(TlsConfig.DEFAULT_RELOAD_INTERVAL);
    String job = newJob("alice");
    String token = server.token("alice", Role.SUBSCRIBER);

    HttpResponse<Stream<String>> response =
        https.send(
            HttpRequest.newBuilder(url("https", "/api/jobs/" + job + "/stream?token=" + token))
                .header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/event-stream"));
    try (Stream<String> lines = response.body()) {
      Iterator<String> events = lines.filter(line -> line.startsWith("data:")).iterator();
      assertThat(RestClient.JSON.readTree(events.next().substring(5)).path("seq").asLong())
          .isEqualTo(1);
      publish(job, "{\"progress\":70}");
      JsonNode live = RestClient.JSON.readTree(events.next().substring(5));
      assertThat(live.path("seq").asLong()).isEqualTo(2);
      assertThat(live.path("progress").asDouble()).isEqualTo(70.0);
    }
  }

  @Test
  void tls11IsRefusedWhileTls12AndTls13AreServed() {
    startWithTls(TlsConfig.DEFAULT_RELOAD_INTERVAL);
    String target = "127.0.0.1:" + port();

    for (String version : new String[] {"-tls1_2", "-tls1_3"}) {
      TestCertificates.Result served =
          TestCertificates.run("s_client", version, "-connect", target, "-brief");
      assertThat(served.exitCode()).as("%s: %s", version, served.output()).isZero();
    }
    // SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all; the server must be the one that says no.
    TestCertificates.Result old =
        TestCertificates.run(
            "s_client", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-connect", target, "-brief");
    assertThat(old.exitCode()).as(old.output()).isNotZero();
    assertThat(old.output()).containsIgnoringCase("alert protocol version");
  }

  @Test
  void aReplacedCertificateIsServedToNewConnectionsWhileOpenOnesKeepWorking() throws Exception {
    TestCertificates.Pem live = startWithTls(Duration.ofMillis(200));
    TestCertificates.Pem next = TestCertificates.generate(dir, "second");
    assertThat(presented(live).getSubjectX500Principal().getName()).isEqualTo("CN=first");
    String token = server.token("alice", Role.SUBSCRIBER);

    try (WsClient open = WsClient.connect(https, url("wss", "/ws?token=" + token), Map.of())) {
      open.next("connection_established");
      TestCertificates.replace(live, next);

      await()
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptions() // the old certificate fails the handshake: not trusted by next's
          .untilAsserted(
              () ->
                  assertThat(presented(next).getSubjectX500Principal().getName())
                      .isEqualTo("CN=second"));
      open.assertOpen();
      HttpClient trustingTheNewOne = client(next);
      try {
        assertThat(
                trustingTheNewOne
                    .send(
                        HttpRequest.newBuilder(url("https", "/health")).build(),
                        HttpResponse.BodyHandlers.ofString())
                    .statusCode())
            .isEqualTo(200);
      } finally {
        trustingTheNewOne.shutdownNow();
      }
    }
  }

  @Test
  void aKeyThatDoesNotMatchTheCertificateIsRefusedAtStartAndIgnoredOnReload() throws Exception {
    TestCertificates.Pem first = TestCertificates.generate(dir, "first");
    TestCertificates.Pem other = TestCertificates.generate(dir, "other");

    assertThatThrownBy(() -> TlsCertificates.load(new TlsConfig(first.cert(), other.key())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not match");

    TestCertificates.Pem live = startWithTls(Duration.ofMillis(100));
    // Half a renewal: a new key beside the old certificate. The old pair keeps being served.
    Files.copy(other.key(), live.key(), StandardCopyOption.REPLACE_EXISTING);
    await()
        .during(Duration.ofMillis(600))
        .atMost(Duration.ofSeconds(5))
        .until(() -> presented(live).getSubjectX500Principal().getName().equals("CN=first"));
    assertThat(send("GET", "/health", server.publisher(), null).statusCode()).isEqualTo(200);
  }

  @Test
  void boringSslServesWhereItsNativeLoads() {
    assumeTrue(System.getProperty("os.arch").equals("amd64"), "the native is for Linux x86_64");
    TestCertificates.Pem pem = TestCertificates.generate(dir, "first");

    assertThat(TlsCertificates.load(new TlsConfig(pem.cert(), pem.key())).provider())
        .isEqualTo(SslProvider.OPENSSL);
  }

  @Test
  void aPkcs1KeyIsRefusedWithHowToConvertIt() throws Exception {
    TestCertificates.Pem pem = TestCertificates.generate(dir, "first");
    Path pkcs1 = dir.resolve("rsa.key");
    TestCertificates.run("genrsa", "-traditional", "-out", pkcs1.toString(), "2048");

    assertThatThrownBy(() -> TlsCertificates.load(new TlsConfig(pem.cert(), pkcs1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }
}
