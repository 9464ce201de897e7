package io.progresshub.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Encodes server messages to JSON and decodes client commands, for protocol v1. Thread-safe.
 *
 * <p>Encoding uses Jackson's streaming generator: fields in a fixed order, no reflection on the hot
 * path. Decoding is strict: UTF-8 only, bounded nesting depth, unknown fields ignored, a clear
 * {@link ProtocolException} for anything else.
 */
public final class WireCodec {

  private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT;

  private final ObjectMapper mapper;
  private final JsonFactory factory;

  /**
   * @param maxDepth deepest JSON nesting a client may send; guards the parser's stack and CPU
   */
  public WireCodec(int maxDepth) {
    if (maxDepth < 2) {
      throw new IllegalArgumentException("maxDepth: " + maxDepth + " (expected: >= 2)");
    }
    this.factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNestingDepth(maxDepth)
                    .maxStringLength(1 << 20)
                    .maxNumberLength(100)
                    .build())
            .build();
    this.mapper = JsonMapper.builder(factory).build();
  }

  /** The mapper used for plain JSON values (metadata, result), with this codec's limits. */
  public ObjectMapper mapper() {
    return mapper;
  }

  /** ISO-8601 UTC with millisecond precision, e.g. {@code 2026-01-31T12:00:00.123Z}. */
  public static String timestamp(Instant instant) {
    return ISO.format(instant.truncatedTo(ChronoUnit.MILLIS));
  }

  // ------------------------------------------------------------------ encoding

  public byte[] encode(ServerMessage message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator json = mapper.createGenerator(out)) {
      write(json, message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private void write(JsonGenerator json, ServerMessage message) throws IOException {
    json.writeStartObject();
    if (message instanceof ServerMessage.Progress progress) {
      json.writeStringField("type", "progress");
      writeState(json, progress.state());
      if (progress.replay()) {
        json.writeBooleanField("replay", true);
      }
    } else if (message instanceof ServerMessage.ConnectionEstablished hello) {
      json.writeStringField("type", "connection_established");
      json.writeStringField("connection_id", hello.connectionId());
      json.writeNumberField("heartbeat_interval", hello.heartbeatIntervalSeconds());
      json.writeStringField("timestamp", timestamp(hello.timestamp()));
    } else if (message instanceof ServerMessage.Subscribed subscribed) {
      json.writeStringField("type", "subscribed");
      writeJobRef(json, subscribed.jobId(), subscribed.status(), subscribed.seq());
      json.writeBooleanField("recovered", subscribed.recovered());
      writeId(json, subscribed.requestId());
    } else if (message instanceof ServerMessage.Unsubscribed unsubscribed) {
      json.writeStringField("type", "unsubscribed");
      writeJobRef(json, unsubscribed.jobId(), unsubscribed.status(), unsubscribed.seq());
      writeId(json, unsubscribed.requestId());
    } else if (message instanceof ServerMessage.Cancelled cancelled) {
      json.writeStringField("type", "cancelled");
      writeJobRef(json, cancelled.jobId(), cancelled.status(), cancelled.seq());
      writeId(json, cancelled.requestId());
    } else if (message instanceof ServerMessage.Pong pong) {
      json.writeStringField("type", "pong");
      writeId(json, pong.requestId());
      json.writeStringField("timestamp", timestamp(pong.timestamp()));
    } else if (message instanceof ServerMessage.Heartbeat heartbeat) {
      json.writeStringField("type", "heartbeat");
      json.writeNumberField("sequence", heartbeat.sequence());
      json.writeStringField("timestamp", timestamp(heartbeat.timestamp()));
    } else if (message instanceof ServerMessage.Authenticated authenticated) {
      json.writeStringField("type", "authenticated");
      json.writeStringField("sub", authenticated.subject());
      json.writeStringField("role", authenticated.role());
      if (authenticated.expiresAt().isPresent()) {
        json.writeStringField("expires_at", timestamp(authenticated.expiresAt().get()));
      }
      writeId(json, authenticated.requestId());
    } else if (message instanceof ServerMessage.Error error) {
      json.writeStringField("type", "error");
      json.writeStringField("code", error.code().wireName());
      json.writeStringField("error", error.message());
      writeId(json, error.requestId());
    } else if (message instanceof ServerMessage.Broadcast broadcast) {
      json.writeStringField("type", "broadcast");
      writeJobRef(json, broadcast.jobId(), broadcast.status(), broadcast.seq());
      json.writeFieldName("data");
      json.writeObject(broadcast.data());
      json.writeStringField("timestamp", timestamp(broadcast.timestamp()));
    } else if (message instanceof ServerMessage.SystemStatus status) {
      writeSystemStatus(json, status);
    } else if (message instanceof ServerMessage.JobChanged changed) {
      json.writeStringField("type", changed.created() ? "job_created" : "job_status");
      writeJobRef(json, changed.jobId(), changed.status(), changed.seq());
      json.writeStringField("owner", changed.owner());
      json.writeStringField("job_type", changed.jobType());
      json.writeNumberField("progress", changed.progress());
      writeOptional(json, "stage", changed.stage());
      json.writeStringField("timestamp", timestamp(changed.timestamp()));
    }
    json.writeEndObject();
  }

  private static void writeSystemStatus(JsonGenerator json, ServerMessage.SystemStatus status)
      throws IOException {
    json.writeStringField("type", "system_status");
    json.writeStringField("timestamp", timestamp(status.timestamp()));
    json.writeObjectFieldStart("jobs");
    for (Map.Entry<String, Long> count : status.jobsByStatus().entrySet()) {
      json.writeNumberField(count.getKey(), count.getValue());
    }
    json.writeEndObject();
    json.writeNumberField("connections", status.connections());
    json.writeNumberField("subscriptions", status.subscriptions());
    json.writeNumberField("watched_jobs", status.watchedJobs());
    json.writeNumberField("publishes_per_second", round(status.publishesPerSecond()));
    json.writeNumberField("deliveries_per_second", round(status.deliveriesPerSecond()));
    json.writeNumberField("store_pending_writes", status.storePendingWrites());
    json.writeNumberField("store_commit_ms_p99", round(status.storeCommitMillisP99()));
  }

  /** Rates and latencies to two decimals: more digits only say how noisy the sample was. */
  static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }

  private static void writeJobRef(JsonGenerator json, String jobId, String status, long seq)
      throws IOException {
    json.writeStringField("job_id", jobId);
    json.writeStringField("status", status);
    json.writeNumberField("seq", seq);
  }

  /**
   * The fields of a job state, shared by progress messages, SSE events and history entries ({@link
   * RestCodec}).
   */
  static void writeState(JsonGenerator json, JobState state) throws IOException {
    json.writeStringField("job_id", state.jobId());
    json.writeNumberField("seq", state.seq());
    json.writeStringField("status", state.status());
    json.writeNumberField("progress", state.progress());
    writeOptional(json, "stage", state.stage());
    writeOptional(json, "message", state.message());
    writeOptional(json, "eta_seconds", state.etaSeconds());
    writeOptional(json, "elapsed_seconds", state.elapsedSeconds());
    json.writeStringField("timestamp", timestamp(state.timestamp()));
    json.writeFieldName("metadata");
    json.writeObject(state.metadata());
    if (state.result().isPresent()) {
      json.writeFieldName("result");
      json.writeObject(state.result().get());
    }
    if (state.error().isPresent()) {
      json.writeStringField("error", state.error().get());
    }
  }

  private static void writeOptional(JsonGenerator json, String name, Optional<String> value)
      throws IOException {
    if (value.isPresent()) {
      json.writeStringField(name, value.get());
    } else {
      json.writeNullField(name);
    }
  }

  private static void writeOptional(JsonGenerator json, String name, OptionalDouble value)
      throws IOException {
    if (value.isPresent()) {
      json.writeNumberField(name, value.getAsDouble());
    } else {
      json.writeNullField(name);
    }
  }

  private static void writeId(JsonGenerator json, Optional<String> id) throws IOException {
    if (id.isPresent()) {
      json.writeStringField("id", id.get());
    }
  }

  // ------------------------------------------------------------------ decoding

  /**
   * Decodes one client command from a text frame's bytes.
   *
   * @throws ProtocolException {@code invalid_json}, {@code unknown_type}, {@code missing_field} or
   *     {@code invalid_request}, echoing the command's {@code id} when it could be read
   */
  public ClientMessage decode(byte[] utf8) {
    String text;
    try {
      // Strict decoding first: Jackson's own charset sniffing can throw non-JSON exceptions.
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(utf8))
              .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, "message is not valid UTF-8", Optional.empty());
    }
    return decode(text);
  }

  /** Decodes one client command from text; see {@link #decode(byte[])}. */
  public ClientMessage decode(String text) {
    JsonNode root;
    try (JsonParser parser = mapper.createParser(text)) {
      root = mapper.readTree(parser);
      if (root != null && parser.nextToken() != null) {
        throw new ProtocolException(
            ErrorCode.INVALID_JSON, "trailing data after the JSON object", Optional.empty());
      }
    } catch (StreamConstraintsException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, "message nests too deep or is too large", Optional.empty());
    } catch (IOException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, "message is not valid JSON", Optional.empty());
    }
    if (root == null || !root.isObject()) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, "message must be a JSON object", Optional.empty());
    }
    Optional<String> id = optionalId(root);
    JsonNode typeNode = root.get("type");
    if (typeNode == null || typeNode.isNull()) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "missing field: type", id);
    }
    if (!typeNode.isTextual()) {
      throw new ProtocolException(ErrorCode.INVALID_REQUEST, "type must be a string", id);
    }
    String type = typeNode.asText();
    return switch (type) {
      // subscribe_task / task_id: the spelling of an older client family we keep working.
      case "subscribe", "subscribe_task" ->
          new ClientMessage.Subscribe(jobId(root, id), since(root, id), id);
      case "unsubscribe", "unsubscribe_task" -> new ClientMessage.Unsubscribe(jobId(root, id), id);
      case "ping" -> new ClientMessage.Ping(id);
      case "auth" -> new ClientMessage.Auth(requiredText(root, "token", id), id);
      case "cancel" -> new ClientMessage.Cancel(jobId(root, id), id);
      default ->
          throw new ProtocolException(
              ErrorCode.UNKNOWN_TYPE,
              "unknown message type: '"
                  + abbreviate(type)
                  + "' (expected: subscribe, unsubscribe, ping, auth or cancel)",
              id);
    };
  }

  private static Optional<String> optionalId(JsonNode root) {
    JsonNode id = root.get("id");
    if (id == null || id.isNull()) {
      return Optional.empty();
    }
    if (id.isTextual() || id.isNumber()) {
      return Optional.of(abbreviate(id.asText()));
    }
    return Optional.empty();
  }

  private static String jobId(JsonNode root, Optional<String> id) {
    if (root.hasNonNull("job_id")) {
      return requiredText(root, "job_id", id);
    }
    if (root.hasNonNull("task_id")) {
      return requiredText(root, "task_id", id);
    }
    throw new ProtocolException(ErrorCode.MISSING_FIELD, "missing field: job_id", id);
  }

  private static String requiredText(JsonNode root, String field, Optional<String> id) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "missing field: " + field, id);
    }
    if (!node.isTextual()) {
      throw new ProtocolException(ErrorCode.INVALID_REQUEST, field + " must be a string", id);
    }
    return node.asText();
  }

  private static OptionalLong since(JsonNode root, Optional<String> id) {
    JsonNode node = root.get("since");
    if (node == null || node.isNull()) {
      return OptionalLong.empty();
    }
    if (!node.canConvertToLong() || !node.isIntegralNumber() || node.asLong() < 0) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          "since: " + abbreviate(node.toString()) + " (expected: a seq >= 0)",
          id);
    }
    return OptionalLong.of(node.asLong());
  }

  /** A value short enough to quote in an error message. */
  static String abbreviate(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }
}
