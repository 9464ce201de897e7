package io.progresshub.redis;

import io.progresshub.core.JobIds;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where one node finds Redis and how it names itself there; shared by its {@link RedisJobStore} and
 * {@link RedisBroker}, which must be given the same settings (the broker recognizes the events the
 * store's script broadcast for this node by its {@link #nodeId}).
 *
 * @param uri a Lettuce Redis URI, such as {@code redis://127.0.0.1:6379/0}
 * @param keyPrefix prepended to every key and channel (as a hash tag, {@code {prefix}}), so that
 *     several deployments (or tests) may share one server; 1-64 characters, no braces or spaces
 * @param nodeId names this node in what it broadcasts; unique within the deployment
 * @param commandTimeout how long one command (and the connect) may take before it fails with {@code
 *     store_unavailable}
 * @param replicas how many replicas must hold an event before it is acknowledged ({@code WAIT}); 0
 *     acknowledges once the master has it, which a failover may lose
 */
public record RedisSettings(
    String uri, String keyPrefix, String nodeId, Duration commandTimeout, int replicas) {

  /** Default of {@link Builder#keyPrefix}. */
  public static final String DEFAULT_KEY_PREFIX = "progress-hub:";

  private static final Pattern KEY_PREFIX = Pattern.compile("[^{}\\s\\p{Cntrl}]{1,64}");

  /** Most replicas an append may wait for. */
  public static final int MAX_REPLICAS = 16;

  /** Default of {@link Builder#commandTimeout}. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);

  public RedisSettings {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    Objects.requireNonNull(commandTimeout, "commandTimeout");
    if (!KEY_PREFIX.matcher(keyPrefix).matches()) {
      // Braces would end the hash tag that keeps a deployment's keys in one cluster slot.
      throw new IllegalArgumentException(
          "keyPrefix: "
              + keyPrefix
              + " (expected: 1-64 characters, no braces, spaces or control characters)");
    }
    if (!JobIds.isValid(nodeId)) {
      // It travels inside every broadcast, between separators.
      throw new IllegalArgumentException(
          "nodeId: " + nodeId + " (expected: 1-128 characters of [A-Za-z0-9._:-])");
    }
    if (replicas < 0 || replicas > MAX_REPLICAS) {
      throw new IllegalArgumentException(
          "replicas: " + replicas + " (expected: 0-" + MAX_REPLICAS + ")");
    }
    if (commandTimeout.isNegative() || commandTimeout.isZero()) {
      throw new IllegalArgumentException("commandTimeout: " + commandTimeout + " (expected: > 0)");
    }
  }

  /** The URI without its credentials, for messages and logs. */
  public String address() {
    return uri.replaceFirst("//[^/@]*@", "//");
  }

  /** Without the URI's credentials: settings end up in logs. */
  @Override
  public String toString() {
    return "RedisSettings[uri="
        + address()
        + ", keyPrefix="
        + keyPrefix
        + ", nodeId="
        + nodeId
        + ", commandTimeout="
        + commandTimeout
        + ", replicas="
        + replicas
        + "]";
  }

  /** Settings for the server at {@code uri}, with the defaults and a random node id. */
  public static Builder builder(String uri) {
    return new Builder(uri);
  }

  /**
   * Builds {@link RedisSettings}. Defaults: key prefix {@value #DEFAULT_KEY_PREFIX}, a random node
   * id, command timeout 2 s, no replicas waited for.
   */
  public static final class Builder {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String uri;
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private String nodeId = "node-" + Long.toString(RANDOM.nextLong() & Long.MAX_VALUE, 36);
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private int replicas;

    private Builder(String uri) {
      this.uri = Objects.requireNonNull(uri, "uri");
    }

    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
      return this;
    }

    public Builder nodeId(String nodeId) {
      this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
      return this;
    }

    public Builder commandTimeout(Duration commandTimeout) {
      this.commandTimeout = Objects.requireNonNull(commandTimeout, "commandTimeout");
      return this;
    }

    /**
     * How many replicas must have an event before it is acknowledged (default 0): with 1 or more, a
     * failover to an up-to-date replica loses no acknowledged event, at the cost of a round trip to
     * the replicas per append. An append they do not confirm within half the command timeout fails
     * with {@code store_unavailable}; it may have landed, and a retry with its {@code event_id}
     * gets its result.
     */
    public Builder replicas(int replicas) {
      this.replicas = replicas;
      return this;
    }

    public RedisSettings build() {
      return new RedisSettings(uri, keyPrefix, nodeId, commandTimeout, replicas);
    }
  }
}
