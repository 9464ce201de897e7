package io.progresshub.cli;

import java.util.Map;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code progress-hub} command. Exit status: 0 success, 1 failure, 2 bad usage or settings; the
 * client commands (watch, create, publish, jobs, cancel, demo) add 3 for a connection or auth
 * error, and watch answers 2 for a cancelled job and 3 for a job that does not exist (or was
 * deleted while watched).
 *
 * <p>The environment is passed in rather than read by each command, so tests can give their own.
 */
@Command(
    name = "progress-hub",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Real-time progress server for long-running jobs.",
    subcommands = {
      ServeCommand.class,
      TokenCommand.class,
      WatchCommand.class,
      CreateCommand.class,
      PublishCommand.class,
      JobsCommand.class,
      CancelCommand.class,
      DemoCommand.class,
      VersionCommand.class,
      HelpCommand.class
    })
public final class Main implements Runnable {

  private final Map<String, String> env;

  @Spec CommandSpec spec;

  Main(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  public static void main(String[] args) {
    System.exit(commandLine(System.getenv()).execute(args));
  }

  /** The command line, with {@code env} as the environment. */
  static CommandLine commandLine(Map<String, String> env) {
    CommandLine commandLine = new CommandLine(new Main(env));
    ServeCommand.declareLimitOptions(commandLine.getSubcommands().get("serve").getCommandSpec());
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parseResult) -> {
          if (e instanceof SettingsException) {
            cmd.getErr().println("progress-hub: error: " + e.getMessage());
            cmd.getErr().flush();
            return CommandLine.ExitCode.USAGE;
          }
          LoggerFactory.getLogger(Main.class).error("progress-hub failed", e);
          return CommandLine.ExitCode.SOFTWARE;
        });
    return commandLine;
  }

  Map<String, String> env() {
    return env;
  }

  @Override
  public void run() {
    throw new ParameterException(
        spec.commandLine(),
        "Missing command: serve, token, watch, create, publish, jobs, cancel, demo or version");
  }
}
