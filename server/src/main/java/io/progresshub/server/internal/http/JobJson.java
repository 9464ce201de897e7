package io.progresshub.server.internal.http;

import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.protocol.WireCodec;
import io.progresshub.server.internal.Text;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The REST API's JSON: job resources out, create and event requests in. Input is validated here,
 * once, with errors that name the field, the bad value and what was expected.
 */
public final class JobJson {

  private static final Set<String> CREATE_FIELDS =
      Set.of("id", "owner", "type", "status", "stage", "message", "metadata");
  static final Set<String> EVENT_FIELDS =
      Set.of(
          "status",
          "progress",
          "stage",
          "message",
          "metadata",
          "result",
          "error",
          "eta_seconds",
          "event_id");
  private static final int MAX_TEXT = 4096;

  private final ObjectMapper mapper;

  /** Reads request bodies; a body with anything after its JSON value is not valid JSON. */
  private final ObjectReader bodyReader;

  public JobJson(WireCodec codec) {
    this.mapper = codec.mapper();
    this.bodyReader = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  ObjectMapper mapper() {
    return mapper;
  }

  // ------------------------------------------------------------------ out

  ObjectNode job(Job job) {
    ObjectNode node = mapper.createObjectNode();
    node.put("id", job.id());
    node.put("owner", job.owner());
    node.put("type", job.type());
    node.put("status", job.status().wireName());
    node.put("seq", job.seq());
    node.put("progress", job.progress());
    node.put("stage", job.stage().orElse(null));
    node.put("message", job.message().orElse(null));
    putDouble(node, "eta_seconds", job.etaSeconds());
    putDouble(node, "elapsed_seconds", job.elapsedSeconds());
    node.set("metadata", mapper.valueToTree(job.metadata()));
    job.result().ifPresent(result -> node.set("result", mapper.valueToTree(result)));
    job.error().ifPresent(error -> node.put("error", error));
    node.put("created_at", WireCodec.timestamp(job.createdAt()));
    node.put("updated_at", WireCodec.timestamp(job.updatedAt()));
    node.put("started_at", job.startedAt().map(WireCodec::timestamp).orElse(null));
    node.put("finished_at", job.finishedAt().map(WireCodec::timestamp).orElse(null));
    return node;
  }

  private static void putDouble(ObjectNode node, String name, java.util.OptionalDouble value) {
    if (value.isPresent()) {
      node.put(name, value.getAsDouble());
    } else {
      node.putNull(name);
    }
  }

  byte[] bytes(JsonNode node) {
    try {
      return mapper.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode JSON", e);
    }
  }

  // ------------------------------------------------------------------ in

  /** Parses a request body that must be a JSON object. */
  public ObjectNode object(byte[] body) {
    if (body.length == 0) {
      throw HubException.invalid("request body must be a JSON object");
    }
    JsonNode node;
    try {
      node = bodyReader.readTree(body);
    } catch (StreamConstraintsException e) {
      throw HubException.invalid("request body nests too deep or is too large");
    } catch (IOException | RuntimeException e) {
      throw new HubException(HubException.Code.INVALID_JSON, "request body is not valid JSON");
    }
    if (!(node instanceof ObjectNode object)) {
      throw HubException.invalid("request body must be a JSON object");
    }
    return object;
  }

  public NewJob newJob(ObjectNode body, String defaultOwner, boolean mayChooseOwner) {
    rejectUnknown(body, CREATE_FIELDS);
    NewJob.Builder builder = NewJob.builder().owner(defaultOwner);
    text(body, "id").ifPresent(builder::id);
    Optional<String> owner = text(body, "owner");
    if (owner.isPresent()) {
      if (!mayChooseOwner && !owner.get().equals(defaultOwner)) {
        throw HubException.forbidden(
            "only publishers and admins may create jobs for another owner");
      }
      builder.owner(owner.get());
    }
    text(body, "type").ifPresent(builder::type);
    text(body, "status").map(JobJson::status).ifPresent(builder::status);
    text(body, "stage").ifPresent(builder::stage);
    text(body, "message").ifPresent(builder::message);
    metadata(body).ifPresent(builder::metadata);
    return builder.build();
  }

  public JobUpdate update(ObjectNode body) {
    rejectUnknown(body, EVENT_FIELDS);
    JobUpdate.Builder builder = JobUpdate.builder();
    text(body, "status").map(JobJson::status).ifPresent(builder::status);
    number(body, "progress").ifPresent(builder::progress);
    text(body, "stage").ifPresent(builder::stage);
    text(body, "message").ifPresent(builder::message);
    metadata(body).ifPresent(builder::metadata);
    JsonNode result = body.get("result");
    if (result != null && !result.isNull()) {
      builder.result(mapper.convertValue(result, Object.class));
    }
    text(body, "error").ifPresent(builder::error);
    number(body, "eta_seconds").ifPresent(builder::etaSeconds);
    text(body, "event_id").ifPresent(builder::eventId);
    return builder.build();
  }

  static void rejectUnknown(ObjectNode body, Set<String> known) {
    Iterator<String> names = body.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw HubException.invalid(
            "unknown field: '"
                + abbreviate(name)
                + "' (expected any of: "
                + String.join(", ", known.stream().sorted().toList())
                + ")");
      }
    }
  }

  private static JobStatus status(String name) {
    return JobStatus.fromWireName(name)
        .orElseThrow(
            () ->
                HubException.invalid(
                    "status: '"
                        + abbreviate(name)
                        + "' (expected: pending, queued, in_progress, completed, failed or cancelled)"));
  }

  static Optional<String> text(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isTextual()) {
      throw HubException.invalid(
          field + ": " + abbreviate(node.toString()) + " (expected: a string)");
    }
    String value = node.asText();
    if (value.length() > MAX_TEXT) {
      throw HubException.invalid(
          field + ": " + value.length() + " characters (expected: at most " + MAX_TEXT + ")");
    }
    return Optional.of(value);
  }

  private static Optional<Double> number(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isNumber()) {
      throw HubException.invalid(
          field + ": " + abbreviate(node.toString()) + " (expected: a number)");
    }
    return Optional.of(node.asDouble());
  }

  @SuppressWarnings("unchecked")
  private Optional<Map<String, Object>> metadata(ObjectNode body) {
    JsonNode node = body.get("metadata");
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      throw HubException.invalid(
          "metadata: " + abbreviate(node.toString()) + " (expected: a JSON object)");
    }
    return Optional.of(mapper.convertValue(node, Map.class));
  }

  ObjectNode objectNode() {
    return mapper.createObjectNode();
  }

  public static String abbreviate(String value) {
    return Text.abbreviate(value);
  }
}
