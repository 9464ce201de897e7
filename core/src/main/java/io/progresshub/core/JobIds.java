package io.progresshub.core;

import java.util.UUID;

/** Job id rules: 1-128 characters of {@code [A-Za-z0-9._:-]}. */
public final class JobIds {
  public static final int MAX_LENGTH = 128;

  private JobIds() {}

  public static boolean isValid(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == ':'
              || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Returns {@code id} or throws an {@code invalid_job_id} error that shows what was expected. */
  public static String check(String id) {
    if (!isValid(id)) {
      throw invalid(id);
    }
    return id;
  }

  /** The {@code invalid_job_id} error for {@code id}, saying what was expected. */
  public static HubException invalid(String id) {
    return new HubException(
        HubException.Code.INVALID_JOB_ID,
        "job id: "
            + describe(id)
            + " (expected: 1-"
            + MAX_LENGTH
            + " characters of [A-Za-z0-9._:-])");
  }

  public static String generate() {
    return "job-" + UUID.randomUUID();
  }

  private static String describe(String id) {
    if (id == null) {
      return "missing";
    }
    return id.length() > 40 ? "'" + id.substring(0, 40) + "...'" : "'" + id + "'";
  }
}
