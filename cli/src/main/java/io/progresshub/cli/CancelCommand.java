package io.progresshub.cli;

import io.progresshub.client.ProgressHubException;
import io.progresshub.protocol.JobResource;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code progress-hub cancel JOB}: cancels a job. */
@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Cancel a job; its worker learns of it from its next publish.",
      "Exit status: 0 cancelled, 1 refused (e.g. already finished), 3 connection or auth error."
    })
final class CancelCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Mixin HubClientOptions hub;

  @Parameters(index = "0", paramLabel = "JOB", description = "The job id.")
  String job;

  @Override
  public Integer call() {
    try {
      JobResource cancelled = hub.publisher(main.env()).cancel(job);
      spec.commandLine().getOut().println(JobsCommand.line(cancelled));
      spec.commandLine().getOut().flush();
      return HubClientOptions.OK;
    } catch (ProgressHubException e) {
      return HubClientOptions.report(e, spec.commandLine().getErr());
    }
  }
}
