package io.progresshub.core;

import java.util.Locale;
import java.util.Optional;

/** What a caller may do. Each role includes the rights of the ones before it. */
public enum Role {
  /** Watches (and cancels) jobs it owns or that its token lists. */
  SUBSCRIBER,
  /** Creates, publishes to, reads and watches any job. */
  PUBLISHER,
  /** Everything, including the admin endpoints. */
  ADMIN;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Role> fromWireName(String name) {
    for (Role role : values()) {
      if (role.wireName().equals(name)) {
        return Optional.of(role);
      }
    }
    return Optional.empty();
  }
}
