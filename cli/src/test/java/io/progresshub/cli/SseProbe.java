package io.progresshub.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One open Server-Sent Events stream, read line by line on a background thread. {@link #end}
 * completes normally when the server ends the stream properly (the last chunk), and exceptionally
 * when the connection breaks.
 */
final class SseProbe implements AutoCloseable {

  final List<String> lines = new CopyOnWriteArrayList<>();
  final CompletableFuture<Void> end = new CompletableFuture<>();
  private final HttpResponse<InputStream> response;

  private SseProbe(HttpResponse<InputStream> response) {
    this.response = response;
    Thread.ofPlatform().daemon(true).name("sse-reader").start(this::read);
  }

  static SseProbe open(HttpClient http, URI uri, String token) {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .header("Authorization", "Bearer " + token)
            .header("Accept", "text/event-stream")
            .GET()
            .build();
    HttpResponse<InputStream> response =
        http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
            .orTimeout(30, TimeUnit.SECONDS)
            .join();
    return new SseProbe(response);
  }

  int status() {
    return response.statusCode();
  }

  String contentType() {
    return response.headers().firstValue("Content-Type").orElse("");
  }

  /** Whether an event with this {@code id:} (the job's seq) has arrived. */
  boolean hasEventId(long seq) {
    return lines.contains("id: " + seq) || lines.contains("id:" + seq);
  }

  private void read() {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lines.add(line);
      }
      end.complete(null);
    } catch (IOException e) {
      end.completeExceptionally(e);
    }
  }

  /**
   * Waits for the end of the stream: empty if the server ended it properly, else why it broke.
   * Fails if the stream is still open after {@code timeout}.
   */
  Optional<Throwable> awaitEnd(Duration timeout) {
    try {
      end.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return Optional.empty();
    } catch (TimeoutException e) {
      throw new AssertionError("the SSE stream was still open after " + timeout + ": " + lines, e);
    } catch (ExecutionException e) {
      return Optional.of(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    try {
      response.body().close();
    } catch (IOException e) {
      // already gone
    }
  }
}
