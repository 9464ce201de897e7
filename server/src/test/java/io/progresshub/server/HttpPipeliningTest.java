package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTP/1.1 keep-alive: several requests on one connection are answered in the order sent. */
class HttpPipeliningTest {
  private static final int PAIRS = 20;
  @RegisterExtension static final TestServer server = TestServer.perClass();

  @Test
  void pipelinedRequestsAreAnsweredInOrder() {
    String id = server.createJob("pipelined", "alice");
    String publish = "{\"progress\":10}";
    String token = server.publisher();
    StringBuilder requests = new StringBuilder();
    for (int i = 0; i < PAIRS; i++) {
      requests.append(
          RawHttp.request(
                  "POST",
                  "/api/jobs/" + id + "/events",
                  Map.of(
                      "Authorization",
                      "Bearer " + token,
                      "Content-Type",
                      "application/json",
                      "Content-Length",
                      Integer.toString(publish.length())))
              + publish);
      requests.append(RawHttp.request("GET", "/health", Map.of()));
    }

    try (RawHttp http = RawHttp.open(server.port())) {
      http.write(requests.toString());
      for (int i = 0; i < PAIRS; i++) {
        RawHttp.Response published = http.readResponse();
        assertThat(published.body()).as("answer %s", 2 * i).contains("\"seq\":" + (i + 2));
        RawHttp.Response health = http.readResponse();
        assertThat(health.body()).as("answer %s", 2 * i + 1).isEqualTo("{\"status\":\"ok\"}");
      }
    }
  }

  @Test
  void sequentialRequestsShareOneConnection() {
    try (RawHttp http = RawHttp.open(server.port())) {
      for (int i = 0; i < 3; i++) {
        http.write(RawHttp.request("GET", "/health", Map.of()));
        RawHttp.Response response = http.readResponse();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.head().header("connection")).hasValue("keep-alive");
      }
    }
  }
}
