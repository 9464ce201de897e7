package io.progresshub.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * REST calls against a {@link TestServer} with the JDK's HTTP client: {@code
 * rest.post("/api/jobs").token(t).json("{...}").send()} answers a {@link Reply} whose body is
 * parsed as JSON on demand.
 */
final class RestClient {
  static final ObjectMapper JSON = new ObjectMapper();

  private final TestServer server;
  private final HttpClient http;

  RestClient(TestServer server) {
    this.server = server;
    this.http = server.http;
  }

  Call get(String path) {
    return new Call("GET", path);
  }

  Call post(String path) {
    return new Call("POST", path);
  }

  Call delete(String path) {
    return new Call("DELETE", path);
  }

  Call call(String method, String path) {
    return new Call(method, path);
  }

  /** One request being put together; {@link #send} makes it. */
  final class Call {
    private final String method;
    private final String path;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private byte[] body;

    private Call(String method, String path) {
      this.method = method;
      this.path = path;
    }

    Call token(String token) {
      return header("Authorization", "Bearer " + token);
    }

    Call header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    /** A JSON body with {@code Content-Type: application/json}. */
    Call json(String json) {
      headers.putIfAbsent("Content-Type", "application/json");
      return body(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    Call body(byte[] bytes) {
      this.body = bytes;
      return this;
    }

    Reply send() {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(server.http(path))
              .timeout(Duration.ofSeconds(10))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(body));
      headers.forEach(request::header);
      try {
        HttpResponse<String> response =
            http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response.headers(), response.body());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** An HTTP answer. */
  record Reply(int status, HttpHeaders headers, String body) {

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (status " + status + "): " + body, e);
      }
    }

    /** The {@code code} of an error body. */
    String code() {
      return json().path("code").asText();
    }

    Optional<String> header(String name) {
      return headers.firstValue(name);
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }
}
