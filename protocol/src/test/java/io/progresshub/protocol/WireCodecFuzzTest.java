package io.progresshub.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Fuzzes the decoder of client commands, the first code that touches every WebSocket text message.
 * Whatever the bytes, the only exception allowed out is {@link ProtocolException} (the session
 * answers it with an {@code error} message and keeps the connection), a decoded command is
 * well-formed, and nothing nested deeper than the limit is ever accepted.
 *
 * <p>The normal build runs the inputs under {@code WireCodecFuzzTestInputs/}; {@code JAZZER_FUZZ=1}
 * fuzzes (docs/fuzzing.md).
 */
class WireCodecFuzzTest {
  /** The server's default ({@code LimitsConfig.maxJsonDepth}). */
  private static final int MAX_DEPTH = 32;

  private static final Set<ErrorCode> DECODE_ERRORS =
      EnumSet.of(
          ErrorCode.INVALID_JSON,
          ErrorCode.UNKNOWN_TYPE,
          ErrorCode.MISSING_FIELD,
          ErrorCode.INVALID_REQUEST);

  private static final WireCodec CODEC = new WireCodec(MAX_DEPTH);

  /** Measures nesting without a depth limit, to check the codec's limit independently. */
  private static final JsonFactory UNLIMITED =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build())
          .build();

  @FuzzTest
  void decodeThrowsOnlyProtocolExceptions(byte[] input) {
    Outcome fromBytes = decode(() -> CODEC.decode(input));
    Optional<String> text = strictUtf8(input);
    if (text.isEmpty()) {
      assertThat(fromBytes.error())
          .as("bytes that are not UTF-8 must be refused")
          .isPresent()
          .get()
          .extracting(ProtocolException::code)
          .isEqualTo(ErrorCode.INVALID_JSON);
      return;
    }
    // The two entry points (bytes from a frame, text from the SDK) must agree.
    Outcome fromText = decode(() -> CODEC.decode(text.get()));
    assertThat(fromText.message()).isEqualTo(fromBytes.message());
    assertThat(fromText.error().map(ProtocolException::code))
        .isEqualTo(fromBytes.error().map(ProtocolException::code));

    if (fromBytes.message().isPresent()) {
      assertThat(depth(text.get()))
          .as("nesting depth of an accepted command")
          .isLessThanOrEqualTo(MAX_DEPTH);
      checkWellFormed(fromBytes.message().get());
    }
  }

  private record Outcome(Optional<ClientMessage> message, Optional<ProtocolException> error) {}

  /** Runs one decode; any exception other than ProtocolException propagates and fails the test. */
  private static Outcome decode(java.util.function.Supplier<ClientMessage> decode) {
    try {
      ClientMessage message = decode.get();
      assertThat(message).isNotNull();
      return new Outcome(Optional.of(message), Optional.empty());
    } catch (ProtocolException e) {
      assertThat(DECODE_ERRORS).contains(e.code());
      assertThat(e.getMessage()).isNotBlank();
      assertThat(e.requestId()).isNotNull();
      e.requestId().ifPresent(id -> assertThat(id.length()).isLessThanOrEqualTo(67));
      return new Outcome(Optional.empty(), Optional.of(e));
    }
  }

  private static void checkWellFormed(ClientMessage message) {
    assertThat(message.requestId()).isNotNull();
    message.requestId().ifPresent(id -> assertThat(id.length()).isLessThanOrEqualTo(67));
    if (message instanceof ClientMessage.Subscribe subscribe) {
      assertThat(subscribe.jobId()).isNotNull();
      if (subscribe.since().isPresent()) {
        assertThat(subscribe.since().getAsLong()).isNotNegative();
      }
    } else if (message instanceof ClientMessage.Unsubscribe unsubscribe) {
      assertThat(unsubscribe.jobId()).isNotNull();
    } else if (message instanceof ClientMessage.Cancel cancel) {
      assertThat(cancel.jobId()).isNotNull();
    } else if (message instanceof ClientMessage.Auth auth) {
      assertThat(auth.token()).isNotNull();
    } else {
      assertThat(message).isInstanceOf(ClientMessage.Ping.class);
    }
  }

  private static Optional<String> strictUtf8(byte[] input) {
    try {
      return Optional.of(
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(input))
              .toString());
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
  }

  /** The deepest nesting of objects and arrays in a JSON text the codec has accepted. */
  private static int depth(String json) {
    int depth = 0;
    int max = 0;
    try (JsonParser parser = UNLIMITED.createParser(json)) {
      for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
        if (token.isStructStart()) {
          max = Math.max(max, ++depth);
        } else if (token.isStructEnd()) {
          depth--;
        }
      }
    } catch (IOException e) {
      throw new AssertionError("the codec accepted JSON that does not parse: " + json, e);
    }
    return max;
  }
}
