package io.progresshub.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The client's side of protocol v1, the mirror of {@link WireCodec}: encodes commands and decodes
 * server messages. Thread-safe.
 *
 * <p>Decoding tolerates fields it does not know, so that a client keeps working when a server adds
 * one; a message whose {@code type} it does not know is answered with {@link Optional#empty()}
 * rather than an exception, for the same reason.
 */
public final class ClientCodec {
  private final ObjectMapper mapper;
  private final RestDecoder states;

  /**
   * @param maxDepth the deepest JSON nesting to read; job metadata may nest a few levels
   */
  public ClientCodec(int maxDepth) {
    this.mapper = new WireCodec(maxDepth).mapper();
    this.states = new RestDecoder(mapper);
  }

  /** The command as a text frame's content. */
  public String encode(ClientMessage message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (JsonGenerator json = mapper.createGenerator(out)) {
      json.writeStartObject();
      if (message instanceof ClientMessage.Subscribe subscribe) {
        json.writeStringField("type", "subscribe");
        json.writeStringField("job_id", subscribe.jobId());
        if (subscribe.since().isPresent()) {
          json.writeNumberField("since", subscribe.since().getAsLong());
        }
      } else if (message instanceof ClientMessage.Unsubscribe unsubscribe) {
        json.writeStringField("type", "unsubscribe");
        json.writeStringField("job_id", unsubscribe.jobId());
      } else if (message instanceof ClientMessage.Ping) {
        json.writeStringField("type", "ping");
      } else if (message instanceof ClientMessage.Auth auth) {
        json.writeStringField("type", "auth");
        json.writeStringField("token", auth.token());
      } else if (message instanceof ClientMessage.Cancel cancel) {
        json.writeStringField("type", "cancel");
        json.writeStringField("job_id", cancel.jobId());
      }
      if (message.requestId().isPresent()) {
        json.writeStringField("id", message.requestId().get());
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /**
   * Decodes one server message.
   *
   * @return empty for a message type this codec does not know
   * @throws ProtocolException if {@code text} is not a valid server message
   */
  public Optional<ServerMessage> decode(String text) {
    JsonNode root;
    try {
      root = mapper.readTree(text);
    } catch (IOException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, "server message is not valid JSON", Optional.empty());
    }
    if (!(root instanceof ObjectNode message)) {
      throw new ProtocolException(
          ErrorCode.INVALID_JSON, "server message must be a JSON object", Optional.empty());
    }
    Optional<String> id = text(message, "id");
    String type = required(message, "type");
    ServerMessage decoded =
        switch (type) {
          case "progress" ->
              new ServerMessage.Progress(
                  states.state(message), message.path("replay").asBoolean(false));
          case "connection_established" ->
              new ServerMessage.ConnectionEstablished(
                  required(message, "connection_id"),
                  message.path("heartbeat_interval").asLong(0),
                  instant(message, "timestamp"));
          case "subscribed" ->
              new ServerMessage.Subscribed(
                  required(message, "job_id"),
                  required(message, "status"),
                  message.path("seq").asLong(0),
                  message.path("recovered").asBoolean(false),
                  id);
          case "unsubscribed" ->
              new ServerMessage.Unsubscribed(
                  required(message, "job_id"),
                  required(message, "status"),
                  message.path("seq").asLong(0),
                  id);
          case "cancelled" ->
              new ServerMessage.Cancelled(
                  required(message, "job_id"),
                  required(message, "status"),
                  message.path("seq").asLong(0),
                  id);
          case "pong" -> new ServerMessage.Pong(id, instant(message, "timestamp"));
          case "heartbeat" ->
              new ServerMessage.Heartbeat(
                  message.path("sequence").asLong(0), instant(message, "timestamp"));
          case "authenticated" ->
              new ServerMessage.Authenticated(
                  required(message, "sub"),
                  required(message, "role"),
                  text(message, "expires_at").map(ClientCodec::parseInstant),
                  id);
          case "error" ->
              new ServerMessage.Error(
                  ErrorCode.fromWireName(required(message, "code"))
                      .orElse(ErrorCode.INTERNAL_ERROR),
                  text(message, "error").orElse(""),
                  id);
          case "broadcast" ->
              new ServerMessage.Broadcast(
                  required(message, "job_id"),
                  required(message, "status"),
                  message.path("seq").asLong(0),
                  value(message, "data"),
                  instant(message, "timestamp"));
          default -> null;
        };
    return Optional.ofNullable(decoded);
  }

  private static Optional<String> text(ObjectNode message, String field) {
    JsonNode node = message.get(field);
    return node == null || node.isNull() ? Optional.empty() : Optional.of(node.asText());
  }

  /** Any JSON value but {@code null}, as plain Java values (maps, lists, strings, numbers). */
  private Object value(ObjectNode message, String field) {
    JsonNode node = message.get(field);
    if (node == null || node.isNull()) {
      throw new ProtocolException(
          ErrorCode.MISSING_FIELD, "missing field: " + field, Optional.empty());
    }
    return mapper.convertValue(node, Object.class);
  }

  private static String required(ObjectNode message, String field) {
    return text(message, field)
        .orElseThrow(
            () ->
                new ProtocolException(
                    ErrorCode.MISSING_FIELD, "missing field: " + field, Optional.empty()));
  }

  private static Instant instant(ObjectNode message, String field) {
    return parseInstant(required(message, field));
  }

  private static Instant parseInstant(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new ProtocolException(
          ErrorCode.INVALID_REQUEST,
          "'" + WireCodec.abbreviate(text) + "' (expected: an ISO-8601 UTC timestamp)",
          Optional.empty());
    }
  }
}
