package io.progresshub.protocol;

import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Reads REST bodies into their records. Requests are read strictly (an unknown field is refused, so
 * that a typo is not silently dropped); responses tolerate fields they do not know, so that a
 * client keeps working when a server adds one. Every refusal is a {@link ProtocolException} that
 * names the field, the bad value and what was expected.
 */
final class RestDecoder {
  private static final List<String> BATCH_FIELDS = List.of("events");

  private final ObjectMapper mapper;

  /** A body with anything after its JSON value is not valid JSON. */
  private final ObjectReader reader;

  RestDecoder(ObjectMapper mapper) {
    this.mapper = mapper;
    this.reader = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  <T extends RestBody> T decode(byte[] body, Class<T> type) {
    Object decoded;
    if (type == CreateJobRequest.class) {
      decoded = create(object(body, "request body"));
    } else if (type == PublishRequest.class) {
      decoded = publish(object(body, "request body"));
    } else if (type == BatchRequest.class) {
      decoded = batch(object(body, "request body"));
    } else if (type == BroadcastRequest.class) {
      decoded = broadcast(object(body, "request body"));
    } else {
      decoded = response(object(body, "response body"), type);
    }
    return type.cast(decoded);
  }

  private Object response(ObjectNode body, Class<?> type) {
    if (type == JobResource.class) {
      return job(body);
    } else if (type == JobListPage.class) {
      return jobList(body);
    } else if (type == HistoryPage.class) {
      return history(body);
    } else if (type == BatchResult.class) {
      return batchResult(body);
    } else if (type == ServerStats.class) {
      return stats(body);
    } else if (type == ErrorBody.class) {
      return new ErrorBody(required(body, "error"), errorCode(body, "code"));
    } else if (type == Health.class) {
      return new Health(required(body, "status"));
    } else if (type == ConnectionList.class) {
      return connections(body);
    } else if (type == Delivered.class) {
      return new Delivered(requiredLong(body, "delivered"));
    } else if (type == Disconnected.class) {
      return new Disconnected(requiredLong(body, "disconnected"));
    }
    throw new IllegalArgumentException("not a REST body: " + type);
  }

  /** The body as a JSON object, with the REST API's answers for anything else. */
  private ObjectNode object(byte[] body, String what) {
    if (body.length == 0) {
      throw invalid(what + " must be a JSON object");
    }
    JsonNode node;
    try {
      node = reader.readTree(body);
    } catch (StreamConstraintsException e) {
      throw invalid(what + " nests too deep or is too large");
    } catch (IOException | RuntimeException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, what + " is not valid JSON", Optional.empty());
    }
    if (!(node instanceof ObjectNode object)) {
      throw invalid(what + " must be a JSON object");
    }
    return object;
  }

  private CreateJobRequest create(ObjectNode body) {
    rejectUnknown(body, CreateJobRequest.FIELDS);
    return new CreateJobRequest(
        text(body, "id"),
        text(body, "type"),
        text(body, "owner"),
        text(body, "status"),
        text(body, "stage"),
        text(body, "message"),
        jsonObject(body, "metadata"));
  }

  private PublishRequest publish(ObjectNode body) {
    rejectUnknown(body, PublishRequest.FIELDS);
    Optional<String> status = text(body, "status");
    OptionalDouble progress = number(body, "progress");
    Optional<String> stage = text(body, "stage");
    Optional<String> message = text(body, "message");
    Optional<Map<String, Object>> metadata = jsonObject(body, "metadata");
    Optional<Object> result = value(body, "result");
    Optional<String> error = text(body, "error");
    OptionalDouble eta = number(body, "eta_seconds");
    Optional<String> eventId = text(body, "event_id");
    return new PublishRequest(
        status, progress, stage, message, metadata, result, error, eta, eventId);
  }

  private BroadcastRequest broadcast(ObjectNode body) {
    rejectUnknown(body, BroadcastRequest.FIELDS);
    return new BroadcastRequest(
        value(body, "data").orElseThrow(() -> missing("data")), text(body, "exclude"));
  }

  private ConnectionList connections(ObjectNode body) {
    List<ConnectionList.Entry> connections = new ArrayList<>();
    for (JsonNode node : array(body, "connections")) {
      ObjectNode connection = object(node, "connection");
      List<String> jobs = new ArrayList<>();
      for (JsonNode job : array(connection, "jobs")) {
        if (!job.isTextual()) {
          throw invalid("jobs: " + abbreviate(job.toString()) + " (expected: a job id)");
        }
        jobs.add(job.asText());
      }
      connections.add(
          new ConnectionList.Entry(
              required(connection, "id"),
              text(connection, "user"),
              text(connection, "role"),
              required(connection, "transport"),
              required(connection, "remote_address"),
              instant(connection, "connected_at").orElseThrow(() -> missing("connected_at")),
              jobs));
    }
    return new ConnectionList(
        connections,
        requiredLong(body, "total"),
        (int) requiredLong(body, "offset"),
        (int) requiredLong(body, "limit"));
  }

  private BatchRequest batch(ObjectNode body) {
    rejectUnknown(body, BATCH_FIELDS);
    JsonNode events = body.get("events");
    if (events == null || !events.isArray()) {
      throw invalid("events: expected an array of events");
    }
    List<BatchRequest.Entry> entries = new ArrayList<>(events.size());
    for (JsonNode entry : events) {
      entries.add(batchEntry(entry));
    }
    return new BatchRequest(entries);
  }

  /** One entry of a batch; one the server cannot read is answered alone, not the whole batch. */
  private BatchRequest.Entry batchEntry(JsonNode entry) {
    if (!(entry instanceof ObjectNode object)) {
      return unreadable(entry, Optional.empty(), "each event must be a JSON object");
    }
    Optional<String> jobId;
    try {
      jobId = text(object, "job_id");
    } catch (ProtocolException e) {
      return unreadable(entry, Optional.empty(), e.getMessage());
    }
    if (jobId.isEmpty()) {
      return unreadable(entry, Optional.empty(), "missing field: job_id");
    }
    ObjectNode fields = object.deepCopy();
    fields.remove("job_id");
    try {
      return new BatchRequest.Event(jobId.get(), publish(fields));
    } catch (ProtocolException e) {
      return unreadable(entry, jobId, e.getMessage());
    }
  }

  private BatchRequest.Unreadable unreadable(JsonNode entry, Optional<String> jobId, String error) {
    return new BatchRequest.Unreadable(
        Optional.ofNullable(mapper.convertValue(entry, Object.class)), jobId, error);
  }

  private JobResource job(JsonNode node) {
    ObjectNode job = object(node, "job");
    return new JobResource(
        required(job, "id"),
        required(job, "owner"),
        required(job, "type"),
        required(job, "status"),
        requiredLong(job, "seq"),
        requiredNumber(job, "progress"),
        text(job, "stage"),
        text(job, "message"),
        number(job, "eta_seconds"),
        number(job, "elapsed_seconds"),
        jsonObject(job, "metadata").orElseThrow(() -> missing("metadata")),
        value(job, "result"),
        text(job, "error"),
        instant(job, "created_at").orElseThrow(() -> missing("created_at")),
        instant(job, "updated_at").orElseThrow(() -> missing("updated_at")),
        instant(job, "started_at"),
        instant(job, "finished_at"));
  }

  private JobListPage jobList(ObjectNode body) {
    List<JobResource> jobs = new ArrayList<>();
    for (JsonNode job : array(body, "jobs")) {
      jobs.add(job(job));
    }
    return new JobListPage(
        jobs,
        requiredLong(body, "total"),
        (int) requiredLong(body, "offset"),
        (int) requiredLong(body, "limit"));
  }

  private HistoryPage history(ObjectNode body) {
    List<JobState> events = new ArrayList<>();
    for (JsonNode event : array(body, "events")) {
      events.add(state(object(event, "event")));
    }
    return new HistoryPage(required(body, "job_id"), events);
  }

  /** A job state as {@link WireCodec#writeState} writes it; {@link ClientCodec} reads it too. */
  JobState state(ObjectNode state) {
    return new JobState(
        required(state, "job_id"),
        requiredLong(state, "seq"),
        required(state, "status"),
        requiredNumber(state, "progress"),
        text(state, "stage"),
        text(state, "message"),
        number(state, "eta_seconds"),
        number(state, "elapsed_seconds"),
        instant(state, "timestamp").orElseThrow(() -> missing("timestamp")),
        jsonObject(state, "metadata").orElseThrow(() -> missing("metadata")),
        value(state, "result"),
        text(state, "error"));
  }

  private BatchResult batchResult(ObjectNode body) {
    List<BatchResult.Outcome> outcomes = new ArrayList<>();
    for (JsonNode node : array(body, "results")) {
      ObjectNode outcome = object(node, "result");
      JsonNode ok = outcome.get("ok");
      if (ok == null || !ok.isBoolean()) {
        throw invalid("ok: " + abbreviate(String.valueOf(ok)) + " (expected: true or false)");
      }
      if (ok.booleanValue()) {
        outcomes.add(
            new BatchResult.Accepted(
                required(outcome, "job_id"),
                requiredLong(outcome, "seq"),
                required(outcome, "status")));
      } else {
        outcomes.add(
            new BatchResult.Rejected(
                text(outcome, "job_id"), errorCode(outcome, "code"), required(outcome, "error")));
      }
    }
    return new BatchResult(outcomes);
  }

  private ServerStats stats(ObjectNode body) {
    ObjectNode jobs = object(body.get("jobs"), "jobs");
    Map<String, Long> byStatus = new LinkedHashMap<>();
    Iterator<String> names = jobs.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!name.equals("total")) {
        byStatus.put(name, requiredLong(jobs, name));
      }
    }
    ObjectNode connections = object(body.get("connections"), "connections");
    // rates and store came later: an older server's answer has neither
    ServerStats.Rates rates = ServerStats.Rates.NONE;
    if (body.get("rates") != null) {
      ObjectNode node = object(body.get("rates"), "rates");
      rates =
          new ServerStats.Rates(
              requiredNumber(node, "publishes_per_second"),
              requiredNumber(node, "deliveries_per_second"));
    }
    ServerStats.Store store = ServerStats.Store.NONE;
    if (body.get("store") != null) {
      ObjectNode node = object(body.get("store"), "store");
      store =
          new ServerStats.Store(
              requiredLong(node, "pending_writes"),
              requiredNumber(node, "commit_ms_p50"),
              requiredNumber(node, "commit_ms_p99"));
    }
    return new ServerStats(
        byStatus,
        new ServerStats.Connections(
            requiredLong(connections, "open"),
            requiredLong(connections, "subscriptions"),
            requiredLong(connections, "watched_jobs")),
        rates,
        store);
  }

  private static void rejectUnknown(ObjectNode body, Collection<String> known) {
    Iterator<String> names = body.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw invalid(
            "unknown field: '"
                + abbreviate(name)
                + "' (expected any of: "
                + String.join(", ", known.stream().sorted().toList())
                + ")");
      }
    }
  }

  private static Optional<String> text(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isTextual()) {
      throw invalid(field + ": " + abbreviate(node.toString()) + " (expected: a string)");
    }
    return Optional.of(node.asText());
  }

  private static OptionalDouble number(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return OptionalDouble.empty();
    }
    if (!node.isNumber()) {
      throw invalid(field + ": " + abbreviate(node.toString()) + " (expected: a number)");
    }
    return OptionalDouble.of(node.asDouble());
  }

  @SuppressWarnings("unchecked")
  private Optional<Map<String, Object>> jsonObject(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      throw invalid(field + ": " + abbreviate(node.toString()) + " (expected: a JSON object)");
    }
    return Optional.of(mapper.convertValue(node, Map.class));
  }

  /** Any JSON value but {@code null}, as plain Java values. */
  private Optional<Object> value(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    return Optional.of(mapper.convertValue(node, Object.class));
  }

  private static String required(ObjectNode body, String field) {
    return text(body, field).orElseThrow(() -> missing(field));
  }

  private static double requiredNumber(ObjectNode body, String field) {
    OptionalDouble value = number(body, field);
    if (value.isEmpty()) {
      throw missing(field);
    }
    return value.getAsDouble();
  }

  private static long requiredLong(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      throw missing(field);
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw invalid(field + ": " + abbreviate(node.toString()) + " (expected: a whole number)");
    }
    return node.asLong();
  }

  private static Optional<Instant> instant(ObjectNode body, String field) {
    Optional<String> text = text(body, field);
    try {
      return text.map(Instant::parse);
    } catch (DateTimeParseException e) {
      throw invalid(
          field + ": '" + abbreviate(text.get()) + "' (expected: an ISO-8601 UTC timestamp)");
    }
  }

  private static ErrorCode errorCode(ObjectNode body, String field) {
    String name = required(body, field);
    return ErrorCode.fromWireName(name)
        .orElseThrow(
            () -> invalid(field + ": '" + abbreviate(name) + "' (expected: an error code)"));
  }

  private static JsonNode array(ObjectNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      throw missing(field);
    }
    if (!node.isArray()) {
      throw invalid(field + ": " + abbreviate(node.toString()) + " (expected: an array)");
    }
    return node;
  }

  private static ObjectNode object(JsonNode node, String what) {
    if (node == null) {
      throw missing(what);
    }
    if (!(node instanceof ObjectNode object)) {
      throw invalid(what + ": " + abbreviate(node.toString()) + " (expected: a JSON object)");
    }
    return object;
  }

  private static ProtocolException missing(String field) {
    return new ProtocolException(
        ErrorCode.MISSING_FIELD, "missing field: " + field, Optional.empty());
  }

  private static ProtocolException invalid(String message) {
    return new ProtocolException(ErrorCode.INVALID_REQUEST, message, Optional.empty());
  }

  private static String abbreviate(String value) {
    return WireCodec.abbreviate(value);
  }
}
