package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dashboard's files: served without a token with their types, validators and security headers,
 * and nothing else: no directory, no path outside them, no other method.
 */
class DashboardResourcesTest {
  private static final Path REPO = Path.of(System.getProperty("basedir", ".")).resolve("..");

  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static final RestClient rest = new RestClient(server);

  /** One request exactly as written: no client library normalizes {@code ..} away. */
  private static RawHttp.Response raw(String method, String path, Map<String, String> headers) {
    try (RawHttp http = RawHttp.open(server.port())) {
      return http.write(RawHttp.request(method, path, headers)).readResponse();
    }
  }

  @Test
  void theRootIsThePageWithoutAToken() throws Exception {
    RestClient.Reply page = rest.get("/").send();

    assertThat(page.status()).isEqualTo(200);
    assertThat(page.header("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(page.body())
        .isEqualTo(Files.readString(REPO.resolve("dashboard/src/index.html")))
        .contains("<script type=\"module\" src=\"/dashboard/app.js\">");
  }

  @Test
  void scriptsStylesAndTheClientModuleHaveTheirTypes() throws Exception {
    assertThat(rest.get("/dashboard/app.js").send().header("Content-Type"))
        .hasValue("text/javascript; charset=utf-8");
    assertThat(rest.get("/dashboard/style.css").send().header("Content-Type"))
        .hasValue("text/css; charset=utf-8");
    RestClient.Reply client = rest.get("/dashboard/client/index.js").send();
    assertThat(client.status()).isEqualTo(200);
    assertThat(client.header("Content-Type")).hasValue("text/javascript; charset=utf-8");
    assertThat(client.body())
        .as("the JavaScript client, as it is in clients/js")
        .isEqualTo(Files.readString(REPO.resolve("clients/js/index.js"), StandardCharsets.UTF_8));
  }

  @Test
  void everyFileCarriesTheSecurityHeaders() {
    for (String path : List.of("/", "/dashboard/app.js", "/dashboard/style.css")) {
      RestClient.Reply reply = rest.get(path).send();
      String policy = reply.header("Content-Security-Policy").orElseThrow();
      assertThat(policy)
          .as(path)
          .contains("default-src 'self'")
          .contains("script-src 'self';")
          .contains("style-src 'self';")
          .contains("connect-src 'self' ws://127.0.0.1:" + server.port() + ";")
          .contains("frame-ancestors 'none'")
          .doesNotContain("unsafe-inline")
          .doesNotContain("unsafe-eval");
      assertThat(reply.header("X-Content-Type-Options")).hasValue("nosniff");
      assertThat(reply.header("Referrer-Policy")).hasValue("no-referrer");
    }
  }

  @Test
  void aHostHeaderThatCouldAddDirectivesLeavesOnlySelf() {
    RawHttp.Response reply = raw("GET", "/", Map.of("X-Ignored", "1"));
    assertThat(reply.head().header("content-security-policy").orElseThrow())
        .contains("ws://127.0.0.1;");

    try (RawHttp http = RawHttp.open(server.port())) {
      RawHttp.Response injected =
          http.write("GET / HTTP/1.1\r\nHost: a; script-src *\r\n\r\n").readResponse();
      assertThat(injected.status()).isEqualTo(200);
      assertThat(injected.head().header("content-security-policy").orElseThrow())
          .contains("connect-src 'self';")
          .doesNotContain("script-src *");
    }
  }

  @Test
  void anUnchangedFileIsAnswered304ToItsEtag() {
    RestClient.Reply first = rest.get("/dashboard/app.js").send();
    String etag = first.header("ETag").orElseThrow();
    assertThat(first.header("Cache-Control")).hasValue("no-cache");

    RestClient.Reply again = rest.get("/dashboard/app.js").header("If-None-Match", etag).send();

    assertThat(again.status()).isEqualTo(304);
    assertThat(again.body()).isEmpty();
    assertThat(rest.get("/dashboard/app.js").header("If-None-Match", "\"other\"").send().status())
        .isEqualTo(200);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/dashboard/../pom.xml",
        "/dashboard/%2e%2e/pom.xml",
        "/dashboard/%2E%2E/%2E%2E/etc/passwd",
        "/dashboard/..%2f..%2fpom.xml",
        "/dashboard/client/../../../clients/js/package.json",
        "/dashboard/",
        "/dashboard",
        "/dashboard/client",
        "/dashboard/client/",
        "/dashboard/nope.js",
        "/dashboard/App.js",
        "/index.html",
        "/dashboard/io/progresshub/server/ProgressHubServer.class",
      })
  void pathsOutsideTheFilesAre404(String path) {
    RawHttp.Response reply = raw("GET", path, Map.of());

    assertThat(reply.status()).as(path).isEqualTo(404);
    assertThat(reply.body()).as(path).doesNotContain("<html").doesNotContain("progress-hub-parent");
  }

  @Test
  void onlyGetAndHeadAreServed() {
    RestClient.Reply post = rest.post("/").json("{}").send();
    assertThat(post.status()).isEqualTo(405);
    assertThat(post.header("Allow")).hasValue("GET, HEAD");

    try (RawHttp http = RawHttp.open(server.port())) {
      RawHttp.Head head =
          http.write(RawHttp.request("HEAD", "/dashboard/app.js", Map.of())).readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-type")).hasValue("text/javascript; charset=utf-8");
    }
  }

  @Test
  void theApiStillNeedsItsToken() {
    assertThat(rest.get("/api/jobs").send().status()).isEqualTo(401);
  }
}
