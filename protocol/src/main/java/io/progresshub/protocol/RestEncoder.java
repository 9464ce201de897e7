package io.progresshub.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Writes REST bodies with Jackson's streaming generator: fields in the documented order, absent
 * values as {@code null} where docs/api.md shows them and left out where it says they appear only
 * sometimes.
 */
final class RestEncoder {
  /** Writes the plain Java values of metadata and results; encoding needs no read limits. */
  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private RestEncoder() {}

  static byte[] encode(RestBody body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator json = MAPPER.createGenerator(out)) {
      write(json, body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void write(JsonGenerator json, RestBody body) throws IOException {
    if (body instanceof JobResource job) {
      writeJob(json, job);
    } else if (body instanceof JobListPage page) {
      json.writeStartObject();
      json.writeArrayFieldStart("jobs");
      for (JobResource job : page.jobs()) {
        writeJob(json, job);
      }
      json.writeEndArray();
      json.writeNumberField("total", page.total());
      json.writeNumberField("offset", page.offset());
      json.writeNumberField("limit", page.limit());
      json.writeEndObject();
    } else if (body instanceof HistoryPage history) {
      json.writeStartObject();
      json.writeStringField("job_id", history.jobId());
      json.writeArrayFieldStart("events");
      for (JobState state : history.events()) {
        json.writeStartObject();
        json.writeStringField("type", "progress");
        WireCodec.writeState(json, state);
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeEndObject();
    } else if (body instanceof BatchResult batch) {
      writeBatchResult(json, batch);
    } else if (body instanceof ServerStats stats) {
      writeStats(json, stats);
    } else if (body instanceof ErrorBody error) {
      json.writeStartObject();
      json.writeStringField("error", error.error());
      json.writeStringField("code", error.code().wireName());
      json.writeEndObject();
    } else if (body instanceof Health health) {
      json.writeStartObject();
      json.writeStringField("status", health.status());
      json.writeEndObject();
    } else if (body instanceof CreateJobRequest create) {
      json.writeStartObject();
      writePresent(json, "id", create.id());
      writePresent(json, "type", create.type());
      writePresent(json, "owner", create.owner());
      writePresent(json, "status", create.status());
      writePresent(json, "stage", create.stage());
      writePresent(json, "message", create.message());
      writePresent(json, "metadata", create.metadata());
      json.writeEndObject();
    } else if (body instanceof PublishRequest event) {
      json.writeStartObject();
      writePublishFields(json, event);
      json.writeEndObject();
    } else if (body instanceof BatchRequest batch) {
      writeBatchRequest(json, batch);
    } else if (body instanceof ConnectionList list) {
      writeConnections(json, list);
    } else if (body instanceof BroadcastRequest broadcast) {
      json.writeStartObject();
      json.writeFieldName("data");
      json.writeObject(broadcast.data());
      writePresent(json, "exclude", broadcast.exclude());
      json.writeEndObject();
    } else if (body instanceof Delivered delivered) {
      json.writeStartObject();
      json.writeNumberField("delivered", delivered.delivered());
      json.writeEndObject();
    } else if (body instanceof Disconnected disconnected) {
      json.writeStartObject();
      json.writeNumberField("disconnected", disconnected.disconnected());
      json.writeEndObject();
    }
  }

  private static void writeConnections(JsonGenerator json, ConnectionList list) throws IOException {
    json.writeStartObject();
    json.writeArrayFieldStart("connections");
    for (ConnectionList.Entry connection : list.connections()) {
      json.writeStartObject();
      json.writeStringField("id", connection.id());
      writeNullable(json, "user", connection.user());
      writeNullable(json, "role", connection.role());
      json.writeStringField("transport", connection.transport());
      json.writeStringField("remote_address", connection.remoteAddress());
      json.writeStringField("connected_at", WireCodec.timestamp(connection.connectedAt()));
      json.writeArrayFieldStart("jobs");
      for (String job : connection.jobs()) {
        json.writeString(job);
      }
      json.writeEndArray();
      json.writeNumberField("subscriptions", connection.jobs().size());
      json.writeEndObject();
    }
    json.writeEndArray();
    json.writeNumberField("total", list.total());
    json.writeNumberField("offset", list.offset());
    json.writeNumberField("limit", list.limit());
    json.writeEndObject();
  }

  private static void writeJob(JsonGenerator json, JobResource job) throws IOException {
    json.writeStartObject();
    json.writeStringField("id", job.id());
    json.writeStringField("owner", job.owner());
    json.writeStringField("type", job.type());
    json.writeStringField("status", job.status());
    json.writeNumberField("seq", job.seq());
    json.writeNumberField("progress", job.progress());
    writeNullable(json, "stage", job.stage());
    writeNullable(json, "message", job.message());
    writeNullable(json, "eta_seconds", job.etaSeconds());
    writeNullable(json, "elapsed_seconds", job.elapsedSeconds());
    json.writeFieldName("metadata");
    json.writeObject(job.metadata());
    writePresent(json, "result", job.result());
    writePresent(json, "error", job.error());
    json.writeStringField("created_at", WireCodec.timestamp(job.createdAt()));
    json.writeStringField("updated_at", WireCodec.timestamp(job.updatedAt()));
    writeNullable(json, "started_at", job.startedAt().map(WireCodec::timestamp));
    writeNullable(json, "finished_at", job.finishedAt().map(WireCodec::timestamp));
    json.writeEndObject();
  }

  private static void writePublishFields(JsonGenerator json, PublishRequest event)
      throws IOException {
    writePresent(json, "status", event.status());
    writePresent(json, "progress", event.progress());
    writePresent(json, "stage", event.stage());
    writePresent(json, "message", event.message());
    writePresent(json, "metadata", event.metadata());
    writePresent(json, "result", event.result());
    writePresent(json, "error", event.error());
    writePresent(json, "eta_seconds", event.etaSeconds());
    writePresent(json, "event_id", event.eventId());
  }

  private static void writeBatchRequest(JsonGenerator json, BatchRequest batch) throws IOException {
    json.writeStartObject();
    json.writeArrayFieldStart("events");
    for (BatchRequest.Entry entry : batch.events()) {
      if (entry instanceof BatchRequest.Event event) {
        json.writeStartObject();
        json.writeStringField("job_id", event.jobId());
        writePublishFields(json, event.event());
        json.writeEndObject();
      } else if (entry instanceof BatchRequest.Unreadable unreadable) {
        json.writeObject(unreadable.json().orElse(null));
      }
    }
    json.writeEndArray();
    json.writeEndObject();
  }

  private static void writeBatchResult(JsonGenerator json, BatchResult batch) throws IOException {
    json.writeStartObject();
    json.writeArrayFieldStart("results");
    for (BatchResult.Outcome outcome : batch.results()) {
      json.writeStartObject();
      if (outcome instanceof BatchResult.Accepted accepted) {
        json.writeStringField("job_id", accepted.jobId());
        json.writeBooleanField("ok", true);
        json.writeNumberField("seq", accepted.seq());
        json.writeStringField("status", accepted.status());
      } else if (outcome instanceof BatchResult.Rejected rejected) {
        writeNullable(json, "job_id", rejected.jobId());
        json.writeBooleanField("ok", false);
        json.writeStringField("code", rejected.code().wireName());
        json.writeStringField("error", rejected.error());
      }
      json.writeEndObject();
    }
    json.writeEndArray();
    json.writeNumberField("accepted", batch.accepted());
    json.writeNumberField("rejected", batch.rejected());
    json.writeEndObject();
  }

  private static void writeStats(JsonGenerator json, ServerStats stats) throws IOException {
    json.writeStartObject();
    json.writeObjectFieldStart("jobs");
    for (Map.Entry<String, Long> count : stats.jobsByStatus().entrySet()) {
      json.writeNumberField(count.getKey(), count.getValue());
    }
    json.writeNumberField("total", stats.totalJobs());
    json.writeEndObject();
    json.writeObjectFieldStart("connections");
    json.writeNumberField("open", stats.connections().open());
    json.writeNumberField("subscriptions", stats.connections().subscriptions());
    json.writeNumberField("watched_jobs", stats.connections().watchedJobs());
    json.writeEndObject();
    json.writeObjectFieldStart("rates");
    json.writeNumberField(
        "publishes_per_second", WireCodec.round(stats.rates().publishesPerSecond()));
    json.writeNumberField(
        "deliveries_per_second", WireCodec.round(stats.rates().deliveriesPerSecond()));
    json.writeEndObject();
    json.writeObjectFieldStart("store");
    json.writeNumberField("pending_writes", stats.store().pendingWrites());
    json.writeNumberField("commit_ms_p50", WireCodec.round(stats.store().commitMillisP50()));
    json.writeNumberField("commit_ms_p99", WireCodec.round(stats.store().commitMillisP99()));
    json.writeEndObject();
    json.writeEndObject();
  }

  /** A field that is always there: its value, or {@code null}. */
  private static void writeNullable(JsonGenerator json, String name, Optional<String> value)
      throws IOException {
    if (value.isPresent()) {
      json.writeStringField(name, value.get());
    } else {
      json.writeNullField(name);
    }
  }

  private static void writeNullable(JsonGenerator json, String name, OptionalDouble value)
      throws IOException {
    if (value.isPresent()) {
      json.writeNumberField(name, value.getAsDouble());
    } else {
      json.writeNullField(name);
    }
  }

  /** A field that is left out when absent; JSON values are written as they are. */
  private static void writePresent(JsonGenerator json, String name, Optional<?> value)
      throws IOException {
    if (value.isPresent()) {
      json.writeFieldName(name);
      json.writeObject(value.get());
    }
  }

  private static void writePresent(JsonGenerator json, String name, OptionalDouble value)
      throws IOException {
    if (value.isPresent()) {
      json.writeNumberField(name, value.getAsDouble());
    }
  }
}
