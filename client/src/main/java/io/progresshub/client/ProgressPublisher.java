package io.progresshub.client;

import io.progresshub.protocol.CreateJobRequest;
import io.progresshub.protocol.ErrorBody;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.JobListPage;
import io.progresshub.protocol.JobResource;
import io.progresshub.protocol.ProtocolException;
import io.progresshub.protocol.PublishRequest;
import io.progresshub.protocol.RestBody;
import io.progresshub.protocol.RestCodec;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Creates jobs and publishes their progress over the REST API (docs/api.md). Thread-safe; one per
 * worker process is enough.
 *
 * <p>Every request is retried with {@link Backoff} on a connection error, on 503 and on 429
 * (waiting the server's {@code Retry-After} when it gives one), up to {@code maxAttempts}. Retries
 * never apply an event twice: every event carries an {@code event_id} (a random one when the caller
 * gives none), and a create carries its id (a random one when the caller gives none), so a retry of
 * a request that did reach the server gets the first answer. Refusals throw {@link HubApiException}
 * with the server's {@link ErrorCode}; an unreachable server, after the last attempt, {@link
 * HubConnectionException}.
 *
 * <pre>{@code
 * ProgressPublisher hub = ProgressPublisher.builder(URI.create("http://localhost:8080"))
 *     .token(() -> System.getenv("PROGRESS_HUB_TOKEN")).build();
 * JobResource job = hub.create(CreateJobRequest.builder().type("captions").build());
 * hub.progress(job.id(), 40, "transcribe", "chunk 4/10");
 * hub.complete(job.id(), Map.of("captions", "s3://bucket/job.vtt"));
 * }</pre>
 */
public final class ProgressPublisher {
  /** Job ids the client generates: the server's alphabet, and unique without coordination. */
  private static final String GENERATED_ID_PREFIX = "job-";

  private static final int MAX_RESPONSE_DEPTH = 64;

  /** A server's Retry-After is honoured up to this, so that a bad header cannot park a worker. */
  private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(1);

  private final URI baseUrl;
  private final Optional<Supplier<String>> token;
  private final HttpClient http;
  private final Backoff backoff;
  private final int maxAttempts;
  private final Duration requestTimeout;
  private final RestCodec codec = new RestCodec(MAX_RESPONSE_DEPTH);

  private ProgressPublisher(Builder builder) {
    this.baseUrl = builder.baseUrl;
    this.token = Optional.ofNullable(builder.token);
    this.backoff = builder.backoff;
    this.maxAttempts = builder.maxAttempts;
    this.requestTimeout = builder.requestTimeout;
    this.http =
        builder.http != null
            ? builder.http
            : HttpClient.newBuilder().connectTimeout(builder.connectTimeout).build();
  }

  /**
   * @param baseUrl the server, e.g. {@code http://localhost:8080}
   */
  public static Builder builder(URI baseUrl) {
    return new Builder(baseUrl);
  }

  /** Creates a job with a generated id. */
  public JobResource create() {
    return create(CreateJobRequest.builder().build());
  }

  /**
   * Creates a job. Without an id in {@code request} one is generated here, so that a retried create
   * cannot make two jobs.
   *
   * @throws HubApiException {@code job_exists} if the id is taken by a job this client did not just
   *     create
   */
  public JobResource create(CreateJobRequest request) {
    CreateJobRequest withId =
        request.id().isPresent()
            ? request
            : new CreateJobRequest(
                Optional.of(GENERATED_ID_PREFIX + UUID.randomUUID()),
                request.type(),
                request.owner(),
                request.status(),
                request.stage(),
                request.message(),
                request.metadata());
    String id = withId.id().orElseThrow();
    Attempts attempts = new Attempts();
    try {
      return send("POST", "/api/jobs", Optional.of(withId), attempts, JobResource.class);
    } catch (HubApiException e) {
      // A retry of a create that reached the server the first time finds its own job.
      if (e.errorCode() == ErrorCode.JOB_EXISTS && attempts.retried) {
        return get(id).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  /**
   * Publishes one event and answers the job's new state. The event gets a random {@code event_id}
   * unless it has one.
   *
   * @throws HubApiException {@code job_cancelled} when the job was cancelled (stop working on it),
   *     {@code job_finished}, {@code invalid_transition}, {@code job_not_found}, ...
   */
  public JobResource publish(String jobId, PublishRequest event) {
    PublishRequest withId =
        event.eventId().isPresent()
            ? event
            : new PublishRequest(
                event.status(),
                event.progress(),
                event.stage(),
                event.message(),
                event.metadata(),
                event.result(),
                event.error(),
                event.etaSeconds(),
                Optional.of(UUID.randomUUID().toString()));
    return send(
        "POST", jobPath(jobId) + "/events", Optional.of(withId), new Attempts(), JobResource.class);
  }

  /** Publishes progress (0-100) with a stage and a message; either may be null. */
  public JobResource progress(String jobId, double percent, String stage, String message) {
    PublishRequest.Builder event = PublishRequest.builder().progress(percent);
    if (stage != null) {
      event.stage(stage);
    }
    if (message != null) {
      event.message(message);
    }
    return publish(jobId, event.build());
  }

  /** Moves the job to {@code status}, e.g. {@code in_progress}. */
  public JobResource status(String jobId, String status) {
    return publish(jobId, PublishRequest.builder().status(status).build());
  }

  /** Merges {@code metadata} into the job's; a null value removes its key. */
  public JobResource metadata(String jobId, Map<String, Object> metadata) {
    return publish(jobId, PublishRequest.builder().metadata(metadata).build());
  }

  /** Completes the job with a result (any JSON value as plain Java values). */
  public JobResource complete(String jobId, Object result) {
    return publish(
        jobId, PublishRequest.builder().status("completed").progress(100).result(result).build());
  }

  /** Fails the job with an error message. */
  public JobResource fail(String jobId, String error) {
    return publish(jobId, PublishRequest.builder().status("failed").error(error).build());
  }

  /**
   * Cancels the job. A retried cancel that had already reached the server answers the cancelled
   * job.
   */
  public JobResource cancel(String jobId) {
    Attempts attempts = new Attempts();
    try {
      return send(
          "POST", jobPath(jobId) + "/cancel", Optional.empty(), attempts, JobResource.class);
    } catch (HubApiException e) {
      if (e.errorCode() == ErrorCode.JOB_CANCELLED && attempts.retried) {
        return get(jobId).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  /** The job, or empty when there is no such job (or it is another user's). */
  public Optional<JobResource> get(String jobId) {
    try {
      return Optional.of(
          send("GET", jobPath(jobId), Optional.empty(), new Attempts(), JobResource.class));
    } catch (HubApiException e) {
      if (e.errorCode() == ErrorCode.JOB_NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** One page of jobs, newest first. */
  public JobListPage list(JobQuery query) {
    List<String> params = new ArrayList<>();
    query.status().ifPresent(value -> params.add("status=" + encode(value)));
    query.owner().ifPresent(value -> params.add("owner=" + encode(value)));
    query.type().ifPresent(value -> params.add("type=" + encode(value)));
    params.add("offset=" + query.offset());
    params.add("limit=" + query.limit());
    return send(
        "GET",
        "/api/jobs?" + String.join("&", params),
        Optional.empty(),
        new Attempts(),
        JobListPage.class);
  }

  private static String jobPath(String jobId) {
    Objects.requireNonNull(jobId, "jobId");
    return "/api/jobs/" + encode(jobId);
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** Whether a request was sent more than once: its first try may have reached the server. */
  private static final class Attempts {
    boolean retried;
  }

  private <T extends RestBody> T send(
      String method, String path, Optional<RestBody> body, Attempts attempts, Class<T> type) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(baseUrl.resolve(path))
            .timeout(requestTimeout)
            .header("Accept", "application/json")
            .method(
                method,
                body.map(b -> HttpRequest.BodyPublishers.ofByteArray(RestCodec.encode(b)))
                    .orElse(HttpRequest.BodyPublishers.noBody()));
    body.ifPresent(b -> request.header("Content-Type", "application/json"));
    for (int attempt = 0; ; attempt++) {
      token.ifPresent(t -> request.setHeader("Authorization", "Bearer " + t.get()));
      HttpResponse<byte[]> response;
      try {
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        if (attempt + 1 >= maxAttempts) {
          throw new HubConnectionException(
              method
                  + " "
                  + baseUrl.resolve(path)
                  + " failed after "
                  + (attempt + 1)
                  + " attempts: "
                  + e,
              e);
        }
        attempts.retried = true;
        pause(backoff.delay(attempt));
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HubConnectionException("interrupted", e);
      }
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        return decode(response, type);
      }
      if ((status == 503 || status == 429) && attempt + 1 < maxAttempts) {
        attempts.retried = true;
        pause(retryAfter(response).orElse(backoff.delay(attempt)));
        continue;
      }
      throw error(response);
    }
  }

  private <T extends RestBody> T decode(HttpResponse<byte[]> response, Class<T> type) {
    try {
      return codec.decode(response.body(), type);
    } catch (ProtocolException e) {
      throw new ProgressHubException(
          "unreadable answer from " + response.uri() + ": " + e.getMessage(),
          Optional.of(e.code()),
          e);
    }
  }

  private HubApiException error(HttpResponse<byte[]> response) {
    int status = response.statusCode();
    try {
      ErrorBody body = codec.decode(response.body(), ErrorBody.class);
      return new HubApiException(status, body.code(), body.error());
    } catch (ProtocolException e) {
      // Not our server's error shape (a proxy's page, say): keep the status at least.
      ErrorCode code = status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.INVALID_REQUEST;
      return new HubApiException(status, code, "HTTP " + status + " from " + response.uri());
    }
  }

  private static Optional<Duration> retryAfter(HttpResponse<?> response) {
    Optional<String> header = response.headers().firstValue("Retry-After");
    try {
      return header
          .map(value -> Duration.ofSeconds(Long.parseLong(value.trim())))
          .map(delay -> delay.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : delay);
    } catch (NumberFormatException e) {
      return Optional.empty(); // an HTTP date: rare from servers like ours; back off instead
    }
  }

  private static void pause(Duration delay) {
    try {
      Thread.sleep(delay.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HubConnectionException("interrupted while waiting to retry", e);
    }
  }

  /** Settings of a {@link ProgressPublisher}; each has the default its setter documents. */
  public static final class Builder {
    private final URI baseUrl;
    private Supplier<String> token;
    private Backoff backoff = Backoff.DEFAULT;
    private int maxAttempts = 5;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private HttpClient http;

    private Builder(URI baseUrl) {
      Objects.requireNonNull(baseUrl, "baseUrl");
      String scheme = baseUrl.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException(
            "baseUrl: " + baseUrl + " (expected: http:// or https://)");
      }
      this.baseUrl = baseUrl;
    }

    /**
     * A bearer token, asked for before each request so that a refreshed one is used. None by
     * default.
     */
    public Builder token(Supplier<String> token) {
      this.token = Objects.requireNonNull(token, "token");
      return this;
    }

    /** A fixed bearer token. */
    public Builder token(String token) {
      Objects.requireNonNull(token, "token");
      return token(() -> token);
    }

    /** Delays between retries; {@link Backoff#DEFAULT} by default. */
    public Builder backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** Tries per request, the first included; 5 by default, 1 for no retries. */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** 10 s by default. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
      return this;
    }

    /** How long one attempt may take; 30 s by default. */
    public Builder requestTimeout(Duration requestTimeout) {
      this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
      return this;
    }

    /** The HTTP client to use (its connect timeout then applies); a new one by default. */
    public Builder httpClient(HttpClient http) {
      this.http = Objects.requireNonNull(http, "http");
      return this;
    }

    public ProgressPublisher build() {
      return new ProgressPublisher(this);
    }
  }
}
