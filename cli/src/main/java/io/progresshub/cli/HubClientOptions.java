package io.progresshub.cli;

import io.progresshub.client.HubApiException;
import io.progresshub.client.HubConnectionException;
import io.progresshub.client.ProgressHubException;
import io.progresshub.client.ProgressPublisher;
import io.progresshub.client.ProgressSubscriber;
import io.progresshub.protocol.ErrorCode;
import java.io.PrintWriter;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --url} and {@code --token} of the client commands, defaulting to {@code PROGRESS_HUB_URL}
 * and {@code PROGRESS_HUB_TOKEN}, and the exit statuses they share.
 */
final class HubClientOptions {
  /** The job completed, or the command did what it was asked. */
  static final int OK = 0;

  /** The job failed, or the server refused the request. */
  static final int FAILED = 1;

  /** The job was cancelled ({@code watch}). */
  static final int CANCELLED = 2;

  /** The server could not be reached, or refused the token. */
  static final int CONNECTION_ERROR = 3;

  static final String DEFAULT_URL = "http://localhost:8080";

  @Option(
      names = "--url",
      paramLabel = "URL",
      description = "The server (default: $PROGRESS_HUB_URL, else " + DEFAULT_URL + ").")
  String url;

  @Option(
      names = "--token",
      paramLabel = "JWT",
      description = "Access token (default: $PROGRESS_HUB_TOKEN; none for --insecure-no-auth).")
  String token;

  URI url(Map<String, String> env) {
    String value = url != null ? url : env.getOrDefault("PROGRESS_HUB_URL", DEFAULT_URL);
    return URI.create(value);
  }

  Optional<String> token(Map<String, String> env) {
    return Optional.ofNullable(token != null ? token : env.get("PROGRESS_HUB_TOKEN"))
        .filter(value -> !value.isBlank());
  }

  ProgressPublisher publisher(Map<String, String> env) {
    ProgressPublisher.Builder builder = ProgressPublisher.builder(url(env)).maxAttempts(3);
    token(env).ifPresent(builder::token);
    return builder.build();
  }

  ProgressSubscriber.Builder subscriber(Map<String, String> env) {
    ProgressSubscriber.Builder builder = ProgressSubscriber.builder(url(env));
    token(env).ifPresent(builder::token);
    return builder;
  }

  /** Prints why {@code error} happened and answers the exit status for it. */
  static int report(ProgressHubException error, PrintWriter err) {
    err.println("progress-hub: error: " + error.getMessage());
    err.flush();
    if (error instanceof HubConnectionException) {
      return CONNECTION_ERROR;
    }
    if (error instanceof HubApiException
        && ((HubApiException) error).errorCode() == ErrorCode.UNAUTHORIZED) {
      return CONNECTION_ERROR;
    }
    return FAILED;
  }
}
