package io.progresshub.cli;

import io.progresshub.client.ProgressHubException;
import io.progresshub.protocol.CreateJobRequest;
import io.progresshub.protocol.JobResource;
import io.progresshub.protocol.RestCodec;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code progress-hub create}: creates a job and prints its id. */
@Command(
    name = "create",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Create a job and print its id (the job as JSON with --json).",
      "Exit status: 0 created, 1 refused, 3 connection or auth error."
    },
    sortOptions = false)
final class CreateCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Mixin HubClientOptions hub;

  @Option(names = "--id", paramLabel = "ID", description = "The job id (default: generated).")
  String id;

  @Option(names = "--type", paramLabel = "TYPE", description = "The job type.")
  String type;

  @Option(names = "--owner", paramLabel = "USER", description = "Owner (default: the caller).")
  String owner;

  @Option(names = "--stage", paramLabel = "STAGE", description = "The first stage.")
  String stage;

  @Option(names = "--message", paramLabel = "TEXT", description = "A first message.")
  String message;

  @Option(
      names = "--metadata",
      paramLabel = "KEY=VALUE",
      description = "Metadata entries (string values); repeat for more.")
  Map<String, String> metadata = new LinkedHashMap<>();

  @Option(names = "--json", description = "Print the created job as JSON.")
  boolean json;

  @Override
  public Integer call() {
    CreateJobRequest.Builder request = CreateJobRequest.builder();
    if (id != null) {
      request.id(id);
    }
    if (type != null) {
      request.type(type);
    }
    if (owner != null) {
      request.owner(owner);
    }
    if (stage != null) {
      request.stage(stage);
    }
    if (message != null) {
      request.message(message);
    }
    if (!metadata.isEmpty()) {
      request.metadata(new LinkedHashMap<>(metadata));
    }
    try {
      JobResource job = hub.publisher(main.env()).create(request.build());
      spec.commandLine().getOut().println(json ? jsonOf(job) : job.id());
      spec.commandLine().getOut().flush();
      return HubClientOptions.OK;
    } catch (ProgressHubException e) {
      return HubClientOptions.report(e, spec.commandLine().getErr());
    }
  }

  static String jsonOf(JobResource job) {
    return new String(RestCodec.encode(job), StandardCharsets.UTF_8);
  }
}
