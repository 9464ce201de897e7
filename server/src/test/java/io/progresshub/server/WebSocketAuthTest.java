package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.progresshub.core.NewJob;
import io.progresshub.core.Role;
import io.progresshub.server.auth.JwtTokens;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** docs/security.md on the WebSocket side: tokens, first-message auth, job access. */
class WebSocketAuthTest {
  private static final String BOBS_SECRET = "bob's private notes";
  @RegisterExtension static final TestServer server = TestServer.perClass();

  private static String token(String user) {
    return server.token(user, Role.SUBSCRIBER);
  }

  /** A job of bob's whose state holds things no one else may read. */
  private static String bobsJob() {
    String job = "job-bob-" + System.nanoTime();
    server.hub.create(
        NewJob.builder()
            .id(job)
            .owner("bob")
            .message(BOBS_SECRET)
            .metadata(Map.of("notes", BOBS_SECRET))
            .build());
    return job;
  }

  private static void assertNoJobData(List<JsonNode> messages) {
    for (JsonNode message : messages) {
      assertThat(message.has("job_id")).as("job data in %s", message).isFalse();
      assertThat(message.has("status")).as("job data in %s", message).isFalse();
      assertThat(message.has("progress")).as("job data in %s", message).isFalse();
      assertThat(message.toString()).doesNotContain(BOBS_SECRET);
      assertThat(message.path("type").asText()).isIn("connection_established", "error");
    }
  }

  /** Reads every message up to the close, which must come; returns them and checks the code. */
  private static List<JsonNode> messagesUntilClose(WsClient client, int expectedCode) {
    assertThat(client.awaitClose()).isEqualTo(expectedCode);
    List<JsonNode> messages = new ArrayList<>();
    client.messages.drainTo(messages);
    return messages;
  }

  // ------------------------------------------------------------------ where the token comes from

  @Test
  void tokenInTheQueryIsAccepted() {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws/" + job + "?token=" + token("alice"))) {
      client.next("connection_established");
      assertThat(client.next("subscribed").path("job_id").asText()).isEqualTo(job);
    }
  }

  @Test
  void tokenInTheAuthorizationHeaderIsAccepted() {
    String job = server.newJob("alice");
    try (WsClient client =
        server.connect("/ws/" + job, Map.of("Authorization", "Bearer " + token("alice")))) {
      client.next("connection_established");
      assertThat(client.next("subscribed").path("job_id").asText()).isEqualTo(job);
    }
  }

  @Test
  void firstMessageAuthIsAnsweredWithAuthenticatedThenTheJobIsServed() {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws/" + job)) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + token("alice") + "\",\"id\":\"a1\"}");
      JsonNode authenticated = client.next("authenticated");
      assertThat(authenticated.path("sub").asText()).isEqualTo("alice");
      assertThat(authenticated.path("role").asText()).isEqualTo("subscriber");
      assertThat(Instant.parse(authenticated.path("expires_at").asText())).isAfter(Instant.now());
      assertThat(authenticated.path("id").asText()).isEqualTo("a1");
      assertThat(client.next("subscribed").path("job_id").asText()).isEqualTo(job);
      assertThat(client.next("progress").path("job_id").asText()).isEqualTo(job);
    }
  }

  @Test
  void firstMessageAuthOnTheMultiplexedEndpointThenSubscribeBySendingAMessage() {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws")) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + token("alice") + "\"}");
      assertThat(client.next("authenticated").path("sub").asText()).isEqualTo("alice");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"id\":\"s1\"}");
      assertThat(client.next("subscribed").path("id").asText()).isEqualTo("s1");
    }
  }

  @Test
  void commandsBeforeAuthAreRefusedWithAuthRequiredAndAuthStillWorksAfter() {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws")) {
      client.next("connection_established");
      for (String type : List.of("subscribe", "unsubscribe", "cancel")) {
        client.send(
            "{\"type\":\"" + type + "\",\"job_id\":\"" + job + "\",\"id\":\"" + type + "\"}");
        JsonNode error = client.next("error");
        assertThat(error.path("code").asText()).isEqualTo("auth_required");
        assertThat(error.path("id").asText()).isEqualTo(type);
      }
      client.send("{\"type\":\"auth\",\"token\":\"" + token("alice") + "\",\"id\":\"a1\"}");
      client.next("authenticated");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"id\":\"s1\"}");
      assertThat(client.next("subscribed").path("id").asText()).isEqualTo("s1");
    }
    assertThat(server.hub.get(job).status().wireName()).isEqualTo("pending");
  }

  @Test
  void noAuthMessageInTimeClosesWith4401() {
    try (TestServer quick =
            TestServer.withLimits(
                TestServer.Limits.defaults().handshakeTimeout(Duration.ofSeconds(1)));
        WsClient client = quick.connect("/ws")) {
      client.next("connection_established");
      assertThat(client.next("error").path("code").asText()).isEqualTo("auth_required");
      assertThat(client.awaitClose()).isEqualTo(4401);
    }
  }

  @Test
  void authMessageWithABadTokenClosesWith4401() {
    try (WsClient client = server.connect("/ws")) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"not-a-token\",\"id\":\"a1\"}");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("unauthorized");
      assertThat(error.path("id").asText()).isEqualTo("a1");
      assertThat(client.awaitClose()).isEqualTo(4401);
    }
  }

  // ------------------------------------------------------------------ forged and stale tokens

  static Stream<Arguments> badTokens() {
    long exp = Instant.now().plus(Duration.ofHours(1)).getEpochSecond();
    String claims = "{\"sub\":\"alice\",\"role\":\"admin\",\"exp\":" + exp + "}";
    JwtTokens otherSecret =
        new JwtTokens(
            "another-secret-another-secret-another!".getBytes(StandardCharsets.UTF_8),
            Optional.empty(),
            Clock.systemUTC());
    String valid = server.token("alice", Role.SUBSCRIBER);
    String[] parts = valid.split("\\.");
    return Stream.of(
        Arguments.of(
            "expired",
            server.tokens.issue("alice", Role.SUBSCRIBER, List.of(), Duration.ofMinutes(-5))),
        Arguments.of(
            "signed with another secret",
            otherSecret.issue("alice", Role.ADMIN, List.of(), Duration.ofHours(1))),
        Arguments.of("HS512 with the same secret", hmacToken("HS512", "HmacSHA512", claims)),
        Arguments.of("HS384 with the same secret", hmacToken("HS384", "HmacSHA384", claims)),
        Arguments.of("alg none", b64("{\"alg\":\"none\"}") + "." + b64(claims) + "."),
        Arguments.of(
            "alg None", b64("{\"alg\":\"None\",\"typ\":\"JWT\"}") + "." + b64(claims) + "."),
        Arguments.of(
            "HS256 header, no signature", b64("{\"alg\":\"HS256\"}") + "." + b64(claims) + "."),
        Arguments.of(
            "claims swapped under a valid signature",
            parts[0] + "." + b64(claims) + "." + parts[2]),
        Arguments.of(
            "no exp", hmacToken("HS256", "HmacSHA256", "{\"sub\":\"alice\",\"role\":\"admin\"}")),
        Arguments.of(
            "unknown role",
            hmacToken(
                "HS256",
                "HmacSHA256",
                "{\"sub\":\"alice\",\"role\":\"root\",\"exp\":" + exp + "}")),
        Arguments.of(
            "no sub", hmacToken("HS256", "HmacSHA256", "{\"role\":\"admin\",\"exp\":" + exp + "}")),
        Arguments.of("garbage", "not.a.token"));
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** A token signed by hand with {@code javaAlgorithm} and the server's own secret. */
  private static String hmacToken(String alg, String javaAlgorithm, String claims) {
    String input = b64("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}") + "." + b64(claims);
    try {
      Mac mac = Mac.getInstance(javaAlgorithm);
      mac.init(new SecretKeySpec(TestServer.SECRET, javaAlgorithm));
      byte[] signature = mac.doFinal(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("badTokens")
  void badTokenInTheHandshakeGetsUnauthorizedAndClose4401WithoutJobData(String why, String token) {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws/" + job + "?token=" + token)) {
      List<JsonNode> messages = messagesUntilClose(client, 4401);
      assertThat(messages)
          .extracting(m -> m.path("type").asText())
          .containsExactly("connection_established", "error");
      assertThat(messages.get(1).path("code").asText()).isEqualTo("unauthorized");
    }
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("badTokens")
  void badTokenInTheAuthMessageGetsUnauthorizedAndClose4401(String why, String token) {
    try (WsClient client = server.connect("/ws")) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + token + "\",\"id\":\"a1\"}");
      List<JsonNode> messages = messagesUntilClose(client, 4401);
      assertThat(messages).extracting(m -> m.path("type").asText()).containsExactly("error");
      assertThat(messages.get(0).path("code").asText()).isEqualTo("unauthorized");
    }
  }

  @Test
  void expiredTokenInTheAuthorizationHeaderClosesWith4401() {
    String expired =
        server.tokens.issue("alice", Role.SUBSCRIBER, List.of(), Duration.ofMinutes(-5));
    try (WsClient client = server.connect("/ws", Map.of("Authorization", "Bearer " + expired))) {
      client.next("connection_established");
      assertThat(client.next("error").path("code").asText()).isEqualTo("unauthorized");
      assertThat(client.awaitClose()).isEqualTo(4401);
    }
  }

  @Test
  void connectionIsClosedWith4401WhenItsTokenExpires() {
    // Accepted for 2 s more: its exp passed, but not by the allowed clock skew.
    Duration ttl = Duration.ofSeconds(2).minus(JwtTokens.CLOCK_SKEW);
    String shortLived = server.tokens.issue("alice", Role.SUBSCRIBER, List.of(), ttl);
    try (WsClient client = server.connect("/ws?token=" + shortLived)) {
      client.next("connection_established");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("unauthorized");
      assertThat(error.path("error").asText()).contains("expired");
      assertThat(client.awaitClose()).isEqualTo(4401);
    }
  }

  // ------------------------------------------------------------------ who may watch what

  @Test
  void anotherUsersJobIsAnsweredLikeAnUnknownJobWithoutAnyOfItsData() {
    String bobs = bobsJob();
    String mine = server.newJob("alice");
    try (WsClient client = server.connect("/ws?token=" + token("alice"))) {
      client.next("connection_established");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + bobs + "\",\"since\":0,\"id\":\"f1\"}");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("job_not_found");
      assertThat(error.path("id").asText()).isEqualTo("f1");
      assertNoJobData(List.of(error));

      // Bob's job moves, then alice's: alice sees only her own.
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + mine + "\",\"id\":\"s1\"}");
      client.next("subscribed");
      client.next("progress");
      server.publish(bobs, "{\"progress\":10,\"message\":\"" + BOBS_SECRET + "\"}");
      server.publish(mine, "{\"progress\":10}");
      JsonNode next = client.next("progress");
      assertThat(next.path("job_id").asText()).isEqualTo(mine);
      assertThat(next.toString()).doesNotContain(BOBS_SECRET);
    }
  }

  @Test
  void anotherUsersJobOnASingleJobEndpointIsClosed4404LikeAnUnknownJobWithoutItsData() {
    String bobs = bobsJob();
    for (String path :
        List.of("/ws/" + bobs + "?since=0&token=", "/progress/ws/" + bobs + "?token=")) {
      try (WsClient client = server.connect(path + token("alice"))) {
        List<JsonNode> messages = messagesUntilClose(client, 4404);
        assertThat(messages)
            .extracting(m -> m.path("type").asText())
            .containsExactly("connection_established", "error");
        assertThat(messages.get(1).path("code").asText()).isEqualTo("job_not_found");
        assertNoJobData(messages);
      }
    }
  }

  @Test
  void anotherUsersJobAfterFirstMessageAuthIsClosed4404LikeAnUnknownJob() {
    String bobs = bobsJob();
    try (WsClient client = server.connect("/ws/" + bobs)) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + token("alice") + "\"}");
      client.next("authenticated");
      List<JsonNode> messages = messagesUntilClose(client, 4404);
      assertThat(messages).extracting(m -> m.path("type").asText()).containsExactly("error");
      assertNoJobData(messages);
    }
  }

  @Test
  void jobsClaimGrantsAccessToTheListedJobOnly() {
    String bobs = bobsJob();
    String other = bobsJob();
    String carol = server.token("carol", Role.SUBSCRIBER, bobs);
    try (WsClient client = server.connect("/ws?token=" + carol)) {
      client.next("connection_established");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + bobs + "\",\"id\":\"s1\"}");
      assertThat(client.next("subscribed").path("job_id").asText()).isEqualTo(bobs);
      assertThat(client.next("progress").path("message").asText()).isEqualTo(BOBS_SECRET);
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + other + "\",\"id\":\"s2\"}");
      assertThat(client.next("error").path("code").asText()).isEqualTo("job_not_found");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Role.class,
      names = {"PUBLISHER", "ADMIN"})
  void publishersAndAdminsMayWatchAnyJob(Role role) {
    String bobs = bobsJob();
    try (WsClient client =
        server.connect("/ws/" + bobs + "?token=" + server.token("staff", role))) {
      client.next("connection_established");
      assertThat(client.next("subscribed").path("job_id").asText()).isEqualTo(bobs);
      assertThat(client.next("progress").path("job_id").asText()).isEqualTo(bobs);
    }
  }

  // ------------------------------------------------------------------ token refresh

  @Test
  void tokenRefreshForTheSameUserIsAcceptedAndTheConnectionKeepsServing() {
    String job = server.newJob("alice");
    try (WsClient client = server.connect("/ws/" + job + "?token=" + token("alice"))) {
      client.next("connection_established");
      client.next("subscribed");
      client.next("progress");
      client.send("{\"type\":\"auth\",\"token\":\"" + token("alice") + "\",\"id\":\"r1\"}");
      JsonNode refreshed = client.next("authenticated");
      assertThat(refreshed.path("sub").asText()).isEqualTo("alice");
      assertThat(refreshed.path("id").asText()).isEqualTo("r1");
      server.publish(job, "{\"progress\":10}");
      assertThat(client.next("progress").path("seq").asLong()).isEqualTo(2);
    }
  }

  @Test
  void tokenRefreshWithoutAnIdIsAnsweredToo() {
    try (WsClient client = server.connect("/ws?token=" + token("alice"))) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + token("alice") + "\"}");
      JsonNode refreshed = client.next("authenticated");
      assertThat(refreshed.path("sub").asText()).isEqualTo("alice");
      assertThat(refreshed.has("id")).isFalse();
    }
  }

  @Test
  void tokenRefreshForAnotherUserIsForbiddenAndTheConnectionKeepsItsUser() {
    String bobs = bobsJob();
    String mine = server.newJob("alice");
    try (WsClient client = server.connect("/ws?token=" + token("alice"))) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + token("bob") + "\",\"id\":\"r2\"}");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("forbidden");
      assertThat(error.path("id").asText()).isEqualTo("r2");

      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + bobs + "\",\"id\":\"s1\"}");
      assertThat(client.next("error").path("code").asText()).isEqualTo("job_not_found");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + mine + "\",\"id\":\"s2\"}");
      assertThat(client.next("subscribed").path("id").asText()).isEqualTo("s2");
    }
  }

  @Test
  void failedTokenRefreshKeepsTheConnectionAndItsCurrentToken() {
    String job = server.newJob("alice");
    String expired =
        server.tokens.issue("alice", Role.SUBSCRIBER, List.of(), Duration.ofMinutes(-5));
    try (WsClient client = server.connect("/ws?token=" + token("alice"))) {
      client.next("connection_established");
      client.send("{\"type\":\"auth\",\"token\":\"" + expired + "\",\"id\":\"r3\"}");
      JsonNode error = client.next("error");
      assertThat(error.path("code").asText()).isEqualTo("unauthorized");
      assertThat(error.path("id").asText()).isEqualTo("r3");
      client.send("{\"type\":\"subscribe\",\"job_id\":\"" + job + "\",\"id\":\"s1\"}");
      assertThat(client.next("subscribed").path("id").asText()).isEqualTo("s1");
    }
  }
}
