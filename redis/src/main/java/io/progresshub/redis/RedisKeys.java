package io.progresshub.redis;

import java.time.Instant;

/**
 * The names of every key and channel, under one prefix. The Lua scripts build the per-status,
 * per-owner and per-type index names the same way from the prefix they are given.
 *
 * <p>The prefix is a hash tag ({@code {progress-hub:}job:<id>}): every key and shard channel of a
 * deployment hashes to one slot, so on a Redis Cluster a script may touch a job and the indexes at
 * once, and publish to the job's channel from the shard that holds them.
 *
 * <p>Index members are {@code <19-digit epoch nanos>:<job id>} in sorted sets whose scores are all
 * 0: Redis orders equal scores by member bytes, so a set reads in time order, ties broken by id, to
 * the nanosecond (a score, a double, would round it).
 */
final class RedisKeys {

  private final String prefix;

  /**
   * @param keyPrefix the deployment's prefix, without braces ({@link RedisSettings} checks)
   */
  RedisKeys(String keyPrefix) {
    this.prefix = "{" + keyPrefix + "}";
  }

  /** What every name starts with: the hash-tagged key prefix. */
  String prefix() {
    return prefix;
  }

  /** Hash: the job's latest state and the fields its indexes and the seq check need. */
  String job(String jobId) {
    return prefix + "job:" + jobId;
  }

  /** Sorted set: the retained states, scored by seq. */
  String history(String jobId) {
    return prefix + "history:" + jobId;
  }

  /** Hash: producer event id to the state that event produced. */
  String eventIds(String jobId) {
    return prefix + "event-ids:" + jobId;
  }

  /** Index of every job by creation time. */
  String jobs() {
    return prefix + "jobs";
  }

  /** Index of finished jobs by finish time. */
  String finished() {
    return prefix + "finished";
  }

  String status(String wireName) {
    return prefix + "status:" + wireName;
  }

  String owner(String owner) {
    return prefix + "owner:" + owner;
  }

  String type(String type) {
    return prefix + "type:" + type;
  }

  /** Shard channel of one job's ticks and stage changes. */
  String jobChannel(String jobId) {
    return prefix + "job-events:" + jobId;
  }

  /** The job id of a {@link #jobChannel}, or null for another channel. */
  String jobOfChannel(String channel) {
    String start = prefix + "job-events:";
    return channel.startsWith(start) ? channel.substring(start.length()) : null;
  }

  /**
   * Stream of what went out on the {@link #lifecycleChannel}, each entry's id heading its message
   * there: a node that lost its subscription reads what it missed from here.
   */
  String lifecycleLog() {
    return prefix + "lifecycle-log";
  }

  /** Entries the {@link #lifecycleLog} keeps, about: Redis trims it in whole nodes. */
  static final String LIFECYCLE_LOG_LENGTH = "10000";

  /** Channel every node listens to: creations, status changes, removals. */
  String lifecycleChannel() {
    return prefix + "lifecycle";
  }

  /** An index member: the instant as zero-padded epoch nanos, then the id. */
  static String member(Instant at, String jobId) {
    return timeBound(at) + ":" + jobId;
  }

  /** The time part of a member; instants outside 1970-2262 saturate, keeping their order. */
  static String timeBound(Instant at) {
    long nanos;
    try {
      nanos = Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000_000L), at.getNano());
    } catch (ArithmeticException e) {
      nanos = at.getEpochSecond() < 0 ? 0 : Long.MAX_VALUE;
    }
    return String.format("%019d", Math.max(0, nanos));
  }
}
