package io.progresshub.protocol;

import java.util.Objects;

/**
 * Every REST error answer, {@code {"error": "human text", "code": "machine_code"}}; the HTTP status
 * is {@link ErrorCode#httpStatus()}.
 */
public record ErrorBody(String error, ErrorCode code) implements RestBody {

  public ErrorBody {
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(code, "code");
  }
}
