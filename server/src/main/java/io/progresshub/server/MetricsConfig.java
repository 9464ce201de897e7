package io.progresshub.server;

import java.util.Locale;
import java.util.Objects;

/**
 * Who may read the Prometheus metrics at {@code GET /metrics}, or whether they exist at all.
 *
 * @param access {@link Access#OPEN_ON_LOOPBACK} by default
 */
public record MetricsConfig(Access access) {

  /** Who may scrape {@code /metrics}. */
  public enum Access {
    /** No metrics: no registry is kept and {@code /metrics} answers 404. */
    OFF,
    /**
     * Requests from a loopback address (127.0.0.0/8, ::1) without a proxy's forwarding header need
     * no token; any other needs an admin token. The default: a scraper on the same host works
     * without setup, and the figures (job types, rates) are not shown to the network.
     */
    OPEN_ON_LOOPBACK,
    /** Anyone who can reach the port. */
    OPEN,
    /** Admin token always. */
    TOKEN;

    /** The setting's value, e.g. {@code open-on-loopback}. */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The access named {@code value} ({@code off}, {@code open-on-loopback}, {@code open}, {@code
     * token}).
     *
     * @throws IllegalArgumentException for any other value
     */
    public static Access of(String value) {
      for (Access access : values()) {
        if (access.wireName().equals(value)) {
          return access;
        }
      }
      throw new IllegalArgumentException(
          "metrics: '" + value + "' (expected: off, open-on-loopback, open or token)");
    }
  }

  public MetricsConfig {
    Objects.requireNonNull(access, "access");
  }

  public static MetricsConfig defaults() {
    return new MetricsConfig(Access.OPEN_ON_LOOPBACK);
  }

  public boolean enabled() {
    return access != Access.OFF;
  }
}
