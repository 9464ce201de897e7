package io.progresshub.cli;

import io.progresshub.client.JobQuery;
import io.progresshub.client.ProgressHubException;
import io.progresshub.protocol.JobListPage;
import io.progresshub.protocol.JobResource;
import io.progresshub.protocol.RestCodec;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code progress-hub jobs}: lists jobs, newest first. */
@Command(
    name = "jobs",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "List jobs, newest first: one line each (the API's page as JSON with --json).",
      "Exit status: 0 listed, 1 refused, 3 connection or auth error."
    },
    sortOptions = false)
final class JobsCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Mixin HubClientOptions hub;

  @Option(names = "--status", paramLabel = "STATUS", description = "Only jobs in this status.")
  String status;

  @Option(names = "--owner", paramLabel = "USER", description = "Only this user's jobs.")
  String owner;

  @Option(names = "--type", paramLabel = "TYPE", description = "Only jobs of this type.")
  String type;

  @Option(names = "--limit", paramLabel = "N", description = "At most N jobs, 1-1000 (100).")
  int limit = 100;

  @Option(names = "--offset", paramLabel = "N", description = "Skip the first N (0).")
  int offset;

  @Option(names = "--json", description = "Print the page as JSON.")
  boolean json;

  @Override
  public Integer call() {
    JobQuery query = JobQuery.ALL.withPage(offset, limit);
    if (status != null) {
      query = query.withStatus(status);
    }
    if (owner != null) {
      query = query.withOwner(owner);
    }
    if (type != null) {
      query = query.withType(type);
    }
    PrintWriter out = spec.commandLine().getOut();
    try {
      JobListPage page = hub.publisher(main.env()).list(query);
      if (json) {
        out.println(new String(RestCodec.encode(page), StandardCharsets.UTF_8));
      } else {
        for (JobResource job : page.jobs()) {
          out.println(line(job));
        }
      }
      out.flush();
      return HubClientOptions.OK;
    } catch (ProgressHubException e) {
      return HubClientOptions.report(e, spec.commandLine().getErr());
    }
  }

  /** E.g. {@code job-42 in_progress 40% captions transcribe}. */
  static String line(JobResource job) {
    return String.join(
            "  ",
            job.id(),
            job.status(),
            String.format(Locale.ROOT, "%.0f%%", job.progress()),
            job.type(),
            job.stage().orElse("-"),
            job.message().orElse(""))
        .strip();
  }
}
