package io.progresshub.server.internal.http;

import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.protocol.BatchRequest;
import io.progresshub.protocol.BroadcastRequest;
import io.progresshub.protocol.CreateJobRequest;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.JobResource;
import io.progresshub.protocol.ProtocolException;
import io.progresshub.protocol.PublishRequest;
import io.progresshub.protocol.RestBody;
import io.progresshub.protocol.RestCodec;
import io.progresshub.server.internal.Text;
import java.util.Optional;

/**
 * Between the REST API's bodies ({@link RestCodec}'s records, shared with clients) and the hub's
 * types: jobs out as {@link JobResource}s, create and event requests in as {@link NewJob}s and
 * {@link JobUpdate}s. Input is checked here, once: the codec checks the JSON types, this class what
 * the hub needs beyond them (status names, text sizes, who may own a job), and every refusal is a
 * {@link HubException} that names the field, the bad value and what was expected.
 */
public final class RestJson {
  /** The longest text field; a bound on what one field may make the hub store and send. */
  private static final int MAX_TEXT = 4096;

  private final RestCodec codec;

  public RestJson(RestCodec codec) {
    this.codec = codec;
  }

  public JobResource resource(Job job) {
    return new JobResource(
        job.id(),
        job.owner(),
        job.type(),
        job.status().wireName(),
        job.seq(),
        job.progress(),
        job.stage(),
        job.message(),
        job.etaSeconds(),
        job.elapsedSeconds(),
        job.metadata(),
        job.result(),
        job.error(),
        job.createdAt(),
        job.updatedAt(),
        job.startedAt(),
        job.finishedAt());
  }

  /**
   * The job a {@code POST /api/jobs} body asks for.
   *
   * @param defaultOwner the caller, who owns the job unless the body names another owner
   * @param mayChooseOwner whether the caller may name another owner
   */
  public NewJob newJob(byte[] body, String defaultOwner, boolean mayChooseOwner) {
    CreateJobRequest request = decode(body, CreateJobRequest.class);
    NewJob.Builder builder = NewJob.builder().owner(defaultOwner);
    text("id", request.id()).ifPresent(builder::id);
    Optional<String> owner = text("owner", request.owner());
    if (owner.isPresent()) {
      if (!mayChooseOwner && !owner.get().equals(defaultOwner)) {
        throw HubException.forbidden(
            "only publishers and admins may create jobs for another owner");
      }
      builder.owner(owner.get());
    }
    text("type", request.type()).ifPresent(builder::type);
    status(request.status()).ifPresent(builder::status);
    text("stage", request.stage()).ifPresent(builder::stage);
    text("message", request.message()).ifPresent(builder::message);
    request.metadata().ifPresent(builder::metadata);
    return builder.build();
  }

  /** The event a {@code POST /api/jobs/{id}/events} body publishes. */
  public JobUpdate update(byte[] body) {
    return update(decode(body, PublishRequest.class));
  }

  /** The event of a publish request, from a body or from an entry of a batch. */
  public JobUpdate update(PublishRequest event) {
    JobUpdate.Builder builder = JobUpdate.builder();
    status(event.status()).ifPresent(builder::status);
    event.progress().ifPresent(builder::progress);
    text("stage", event.stage()).ifPresent(builder::stage);
    text("message", event.message()).ifPresent(builder::message);
    event.metadata().ifPresent(builder::metadata);
    event.result().ifPresent(builder::result);
    text("error", event.error()).ifPresent(builder::error);
    event.etaSeconds().ifPresent(builder::etaSeconds);
    text("event_id", event.eventId()).ifPresent(builder::eventId);
    return builder.build();
  }

  /** A {@code POST /api/events/batch} body; its entries are checked one by one as they are used. */
  public BroadcastRequest broadcast(byte[] body) {
    return decode(body, BroadcastRequest.class);
  }

  public BatchRequest batch(byte[] body) {
    return decode(body, BatchRequest.class);
  }

  /** The job id of a batch entry, checked like any text field. */
  public String jobId(BatchRequest.Event event) {
    return text("job_id", Optional.of(event.jobId())).orElseThrow();
  }

  private <T extends RestBody> T decode(byte[] body, Class<T> type) {
    try {
      return codec.decode(body, type);
    } catch (ProtocolException e) {
      throw refused(e);
    }
  }

  /** A request body's refusal, as the hub error it is answered with (the same wire code). */
  static HubException refused(ProtocolException e) {
    HubException.Code code =
        e.code() == ErrorCode.INVALID_JSON
            ? HubException.Code.INVALID_JSON
            : HubException.Code.INVALID_REQUEST;
    return new HubException(code, e.getMessage());
  }

  private static Optional<String> text(String field, Optional<String> value) {
    if (value.isPresent() && value.get().length() > MAX_TEXT) {
      throw HubException.invalid(
          field + ": " + value.get().length() + " characters (expected: at most " + MAX_TEXT + ")");
    }
    return value;
  }

  private static Optional<JobStatus> status(Optional<String> name) {
    return text("status", name)
        .map(
            wireName ->
                JobStatus.fromWireName(wireName)
                    .orElseThrow(
                        () ->
                            HubException.invalid(
                                "status: '"
                                    + Text.abbreviate(wireName)
                                    + "' (expected: pending, queued, in_progress, completed,"
                                    + " failed or cancelled)")));
  }
}
