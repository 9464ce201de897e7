package io.progresshub.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One Lua script of this package's resources, run by its SHA-1 ({@code EVALSHA}). A server that
 * does not know it (restarted, or {@code SCRIPT FLUSH}) answers {@code NOSCRIPT}; the call is then
 * sent once more with the script's text ({@code EVAL}), which also loads it for the next calls.
 */
final class RedisScript {

  private static final System.Logger LOG = System.getLogger(RedisScript.class.getName());

  private final String name;
  private final String text;
  private final String sha;
  private final ScriptOutputType output;

  private RedisScript(String name, String text, ScriptOutputType output) {
    this.name = name;
    this.text = text;
    this.sha = sha1(text);
    this.output = output;
  }

  static RedisScript load(String name, ScriptOutputType output) {
    try (InputStream in = RedisScript.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing script resource " + name);
      }
      return new RedisScript(name, new String(in.readAllBytes(), StandardCharsets.UTF_8), output);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read script " + name, e);
    }
  }

  String name() {
    return name;
  }

  /**
   * Loads the script into the server's cache (every master's, on a cluster) ahead of its first use,
   * if it can: a node that cannot be reached now (a dead master still listed in a cluster) loads it
   * on the first call instead, through {@code NOSCRIPT}.
   */
  void preload(RedisClusterAsyncCommands<String, String> redis, Duration timeout) {
    try {
      redis.scriptLoad(text).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "script {0} not loaded ahead: {1}; the first call loads it",
          name,
          e.getMessage());
    }
  }

  /** Runs the script; the future completes on a Lettuce I/O thread. */
  <T> CompletableFuture<T> run(
      RedisClusterAsyncCommands<String, String> redis, String[] keys, String... args) {
    CompletableFuture<T> byDigest = redis.<T>evalsha(sha, output, keys, args).toCompletableFuture();
    return byDigest
        .handle(
            (result, failure) -> {
              if (failure != null && unwrap(failure) instanceof RedisNoScriptException) {
                return redis.<T>eval(text, output, keys, args).toCompletableFuture();
              }
              return byDigest;
            })
        .thenCompose(future -> future);
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  private static String sha1(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing from this JDK", e);
    }
  }
}
