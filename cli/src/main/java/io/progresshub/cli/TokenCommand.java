package io.progresshub.cli;

import io.progresshub.core.JobIds;
import io.progresshub.core.Role;
import io.progresshub.server.auth.AuthConfig;
import io.progresshub.server.auth.JwtTokens;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code progress-hub token}: prints a token signed with the server's secret, found the way {@code
 * serve} finds it (environment, config file, then {@code <data-dir>/jwt-secret}).
 */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Print a signed access token (JWT) for a user, and nothing else on standard output:"
          + " TOKEN=$(progress-hub token --sub alice).",
      "It is signed with the server's secret, found as serve finds it:"
          + " $PROGRESS_HUB_JWT_SECRET, jwt-secret in the config file, else <data-dir>/jwt-secret;"
          + " with the jwt-issuer and jwt-audience settings when set.",
      "Exit status: 0 printed, 2 bad usage or no secret yet."
    },
    sortOptions = false)
final class TokenCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  /** The longest lifetime: a leaked token must not stay good for years. */
  static final Duration MAX_TTL = Duration.ofDays(365);

  @Option(
      names = "--sub",
      required = true,
      paramLabel = "USER",
      description = "The user (sub claim); a subscriber may watch the jobs this user owns.")
  String subject;

  @Option(
      names = "--role",
      paramLabel = "ROLE",
      converter = RoleConverter.class,
      description =
          "role claim: subscriber (default: watches its own jobs and those in --jobs), publisher"
              + " (creates, publishes to and watches any job) or admin (everything).")
  Role role = Role.SUBSCRIBER;

  @Option(
      names = "--jobs",
      split = ",",
      paramLabel = "ID",
      description =
          "jobs claim: job ids a subscriber may also watch (and cancel), comma-separated.")
  List<String> jobs = new ArrayList<>();

  @Option(
      names = "--ttl",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Lifetime, from 1s to 365d: 30m, 1h (default), 7d, ISO-8601 PT2H... The token's exp"
              + " is now plus this.")
  Duration ttl = Duration.ofHours(1);

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Data directory holding jwt-secret (default: $PROGRESS_HUB_DATA_DIR, else ./data).")
  String dataDir;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Config file (properties) with jwt-secret, jwt-issuer, jwt-audience, data-dir.")
  String config;

  @Override
  public Integer call() {
    if (subject.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--sub: must not be blank");
    }
    for (String job : jobs) {
      if (!JobIds.isValid(job)) {
        throw new ParameterException(
            spec.commandLine(),
            "--jobs: \"" + job + "\" (expected: job ids of 1-128 characters [A-Za-z0-9._:-])");
      }
    }
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    if (dataDir != null) {
      flags.put(Setting.DATA_DIR, dataDir);
    }
    Settings settings =
        SettingsLoader.fromSources(flags, Optional.ofNullable(config), main.env()).load();
    JwtSecrets.Secret secret =
        JwtSecrets.load(settings)
            .orElseThrow(
                () ->
                    new SettingsException(
                        "no JWT secret yet: set PROGRESS_HUB_JWT_SECRET or jwt-secret in the config"
                            + " file, or start `progress-hub serve --data-dir "
                            + settings.dataDir()
                            + "` once to generate "
                            + JwtSecrets.file(settings.dataDir())));
    // With the issuer and audience serve requires, so the token passes its checks.
    AuthConfig auth =
        AuthConfig.hs256(secret.key())
            .withIssuer(settings.jwt().issuer())
            .withAudience(settings.jwt().audience());
    String token = new JwtTokens(auth, Clock.systemUTC()).issue(subject, role, jobs, ttl);
    spec.commandLine().getOut().println(token);
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** Roles by their wire names, as tokens carry them. */
  static final class RoleConverter implements ITypeConverter<Role> {
    @Override
    public Role convert(String value) {
      return Role.fromWireName(value.strip().toLowerCase(Locale.ROOT))
          .orElseThrow(
              () ->
                  new TypeConversionException(
                      "\"" + value + "\" (expected: subscriber, publisher or admin)"));
    }
  }

  /**
   * Lifetimes as {@link Durations} reads them, of whole seconds (exp has no finer unit: a shorter
   * token would be born expired) up to {@link #MAX_TTL}.
   */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Durations.parse(value)
          .filter(ttl -> ttl.compareTo(Duration.ofSeconds(1)) >= 0 && ttl.compareTo(MAX_TTL) <= 0)
          .orElseThrow(
              () ->
                  new TypeConversionException(
                      "\""
                          + value
                          + "\" (expected: "
                          + Durations.EXPECTED
                          + ", from 1s to "
                          + Durations.format(MAX_TTL)
                          + ")"));
    }
  }
}
