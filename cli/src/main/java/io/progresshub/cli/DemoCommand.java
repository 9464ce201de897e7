package io.progresshub.cli;

import io.progresshub.client.HubApiException;
import io.progresshub.client.ProgressHubException;
import io.progresshub.client.ProgressPublisher;
import io.progresshub.protocol.CreateJobRequest;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.protocol.PublishRequest;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code progress-hub demo}: runs a few simulated multi-stage jobs against a running server, so
 * that a newcomer can watch live progress. Prints the job ids and the {@code watch} command first.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = {
      "Run simulated multi-stage jobs against a running server (needs a publisher token), print"
          + " their ids and a watch command, and publish their progress until they finish.",
      "Exit status: 0 done, 1 refused, 3 connection or auth error."
    },
    sortOptions = false)
final class DemoCommand implements Callable<Integer> {
  private static final List<String> STAGES = List.of("download", "transcode", "analyse", "upload");

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Mixin HubClientOptions hub;

  @Option(names = "--jobs", paramLabel = "N", description = "How many jobs (default: 3).")
  int jobs = 3;

  @Option(
      names = "--tick",
      paramLabel = "MILLIS",
      description = "Time between two progress events of a job (default: 400).")
  long tickMillis = 400;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    ProgressPublisher publisher = hub.publisher(main.env());
    List<String> ids = new ArrayList<>();
    try {
      for (int i = 0; i < jobs; i++) {
        ids.add(
            publisher
                .create(
                    CreateJobRequest.builder()
                        .type("demo")
                        .metadata(Map.of("demo", true))
                        .message("waiting to start")
                        .build())
                .id());
      }
    } catch (ProgressHubException e) {
      return HubClientOptions.report(e, spec.commandLine().getErr());
    }
    ids.forEach(out::println);
    out.println();
    out.println("Watch them with:");
    out.println("  progress-hub watch " + String.join(" ", ids));
    out.flush();
    ExecutorService workers = Executors.newFixedThreadPool(Math.max(1, jobs));
    try {
      List<CompletableFuture<Void>> runs = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        String id = ids.get(i);
        int speed = i + 1; // jobs of different lengths, so that they finish one after another
        runs.add(CompletableFuture.runAsync(() -> run(publisher, id, speed), workers));
      }
      CompletableFuture.allOf(runs.toArray(new CompletableFuture<?>[0])).join();
      out.println("All demo jobs finished.");
      out.flush();
      return HubClientOptions.OK;
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof ProgressHubException) {
        return HubClientOptions.report(
            (ProgressHubException) e.getCause(), spec.commandLine().getErr());
      }
      throw e;
    } finally {
      workers.shutdownNow();
    }
  }

  /** One simulated job: each stage from 0 to its share of 100 %, in steps of 5 % per tick. */
  private void run(ProgressPublisher publisher, String id, int slowness) {
    try {
      double progress = 0;
      double perStage = 100.0 / STAGES.size();
      for (int stage = 0; stage < STAGES.size(); stage++) {
        int steps = 2 + slowness;
        for (int step = 1; step <= steps; step++) {
          progress = perStage * stage + perStage * step / steps;
          publisher.publish(
              id,
              PublishRequest.builder()
                  .progress(Math.min(99, progress))
                  .stage(STAGES.get(stage))
                  .message("step " + step + "/" + steps)
                  .build());
          Thread.sleep(tickMillis);
        }
      }
      publisher.complete(id, Map.of("demo", "ok"));
    } catch (HubApiException e) {
      if (e.errorCode() != ErrorCode.JOB_CANCELLED) {
        throw e; // a cancel from a watcher ends that job quietly
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
