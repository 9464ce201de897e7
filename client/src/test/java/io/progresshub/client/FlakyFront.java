package io.progresshub.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP front for a real server that misbehaves on cue, for retry tests: the next requests can be
 * answered with a status of its own (e.g. 503 with Retry-After), or passed on and then have their
 * answer lost (the connection closed before any response), as a network failure would.
 */
final class FlakyFront implements AutoCloseable {
  /** What to do with one request. */
  sealed interface Fault {}

  record Answer(int status, String retryAfter) implements Fault {}

  record LoseAnswer() implements Fault {}

  private final HttpServer server;
  private final HttpClient http = HttpClient.newHttpClient();
  private final URI target;
  private final Deque<Fault> faults = new ArrayDeque<>();
  final AtomicInteger requests = new AtomicInteger();

  FlakyFront(URI target) throws IOException {
    this.target = target;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  synchronized void next(List<Fault> next) {
    faults.addAll(next);
  }

  private synchronized Fault nextFault() {
    return faults.poll();
  }

  private void handle(HttpExchange exchange) throws IOException {
    requests.incrementAndGet();
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readAllBytes();
    }
    Fault fault = nextFault();
    if (fault instanceof Answer answer) {
      exchange.getResponseHeaders().add("Retry-After", answer.retryAfter());
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      byte[] error = "{\"error\":\"busy\",\"code\":\"store_unavailable\"}".getBytes();
      exchange.sendResponseHeaders(answer.status(), error.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(error);
      }
      return;
    }
    HttpResponse<byte[]> response;
    try {
      HttpRequest.Builder forward =
          HttpRequest.newBuilder(target.resolve(exchange.getRequestURI().toString()))
              .method(
                  exchange.getRequestMethod(),
                  body.length == 0
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(body));
      for (String header : List.of("Authorization", "Content-Type")) {
        String value = exchange.getRequestHeaders().getFirst(header);
        if (value != null) {
          forward.header(header, value);
        }
      }
      response = http.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    if (fault instanceof LoseAnswer) {
      // The server applied the request; its answer never reaches the client.
      exchange.close();
      return;
    }
    response
        .headers()
        .firstValue("Content-Type")
        .ifPresent(value -> exchange.getResponseHeaders().add("Content-Type", value));
    exchange.sendResponseHeaders(
        response.statusCode(), response.body().length == 0 ? -1 : response.body().length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(response.body());
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
