package io.progresshub.cli;

import io.progresshub.client.ProgressHubException;
import io.progresshub.protocol.JobResource;
import io.progresshub.protocol.PublishRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code progress-hub publish JOB}: publishes one event for a job. */
@Command(
    name = "publish",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Publish one event for a job and print its new state.",
      "Exit status: 0 published, 1 refused (e.g. the job was cancelled), 3 connection or auth"
          + " error."
    },
    sortOptions = false)
final class PublishCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Mixin HubClientOptions hub;

  @Parameters(index = "0", paramLabel = "JOB", description = "The job id.")
  String job;

  @Option(names = "--progress", paramLabel = "N", description = "Progress, 0-100.")
  Double progress;

  @Option(names = "--stage", paramLabel = "STAGE", description = "The stage name.")
  String stage;

  @Option(names = "--message", paramLabel = "TEXT", description = "A message.")
  String message;

  @Option(
      names = "--status",
      paramLabel = "STATUS",
      description = "queued, in_progress, completed, failed or cancelled.")
  String status;

  @Option(names = "--result", paramLabel = "TEXT", description = "The result (with completed).")
  String result;

  @Option(names = "--error", paramLabel = "TEXT", description = "The error (with failed).")
  String error;

  @Option(
      names = "--event-id",
      paramLabel = "ID",
      description = "Makes the publish idempotent (default: a random one).")
  String eventId;

  @Option(names = "--json", description = "Print the job as JSON.")
  boolean json;

  @Override
  public Integer call() {
    PublishRequest.Builder event = PublishRequest.builder();
    if (progress != null) {
      event.progress(progress);
    }
    if (stage != null) {
      event.stage(stage);
    }
    if (message != null) {
      event.message(message);
    }
    if (status != null) {
      event.status(status);
    }
    if (result != null) {
      event.result(result);
    }
    if (error != null) {
      event.error(error);
    }
    if (eventId != null) {
      event.eventId(eventId);
    }
    try {
      JobResource updated = hub.publisher(main.env()).publish(job, event.build());
      spec.commandLine()
          .getOut()
          .println(json ? CreateCommand.jsonOf(updated) : JobsCommand.line(updated));
      spec.commandLine().getOut().flush();
      return HubClientOptions.OK;
    } catch (ProgressHubException e) {
      return HubClientOptions.report(e, spec.commandLine().getErr());
    }
  }
}
