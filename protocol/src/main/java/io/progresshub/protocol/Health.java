package io.progresshub.protocol;

import java.util.Objects;

/** The answer to {@code GET /health}: {@code {"status": "ok"}}. */
public record Health(String status) implements RestBody {

  /** A server that answers at all. */
  public static final Health OK = new Health("ok");

  public Health {
    Objects.requireNonNull(status, "status");
  }
}
