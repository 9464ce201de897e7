package io.progresshub.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The end-of-scenario correctness check: every job is completed, and every subscriber must end with
 * the job's terminal state at the seq the server acknowledged, having seen every stage transition
 * and no seq twice or out of order.
 */
final class Verify {
  private Verify() {}

  /**
   * Completes every job, waits (bounded) for the terminal states, and counts what is missing. A
   * closed connection counts as done: nothing more will reach it.
   */
  static Map<String, Object> completeAndCheck(
      ScenarioContext ctx, Jobs jobs, List<WsConn> conns, double timeoutSeconds) {
    return completeAndCheck(ctx, jobs, conns, timeoutSeconds, false);
  }

  /**
   * As {@link #completeAndCheck(ScenarioContext, Jobs, List, double)}; with {@code reconnecting}
   * the scenario reconnects closed connections itself, so only a terminal state counts as done (a
   * connection cut off late is merely between two sockets).
   */
  static Map<String, Object> completeAndCheck(
      ScenarioContext ctx,
      Jobs jobs,
      List<WsConn> conns,
      double timeoutSeconds,
      boolean reconnecting) {
    ctx.net.run(
        () -> {
          long t = System.nanoTime();
          for (int j = 0; j < jobs.count(); j++) {
            jobs.complete(j, t);
          }
        });
    OpenLoop.awaitAnswered(jobs, 30);
    Map<String, Integer> index = new java.util.HashMap<>();
    for (int j = 0; j < jobs.count(); j++) {
      index.put(jobs.ids[j], j);
    }
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    while (System.nanoTime() < deadline) {
      boolean all =
          ctx.net.call(
              () ->
                  conns.stream()
                      .allMatch(c -> c.terminal || (!reconnecting && c.state == WsConn.CLOSED)));
      if (all) {
        break;
      }
      Clients.sleep(20);
    }
    return ctx.net.call(
        () -> {
          long finalOk = 0;
          long lost = 0;
          long outOfOrder = 0;
          long resent = 0;
          long gaps = 0;
          long received = 0;
          long closed = 0;
          for (WsConn c : conns) {
            int j = index.get(c.jobId);
            if (c.terminal && c.terminalSeq == jobs.lastSeq[j]) {
              finalOk++;
            }
            // Stages the subscriber never reached count as lost transitions too.
            long missingTail = Math.max(0, jobs.stage[j] - c.lastStage);
            lost += c.lostTransitions + (jobs.events[j] > 1 ? missingTail : 0);
            outOfOrder += c.outOfOrder;
            resent += c.resentOnResume;
            gaps += c.gaps;
            received += c.received;
            if (c.state == WsConn.CLOSED) {
              closed++;
            }
          }
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("subscribers", (long) conns.size());
          m.put("subscribers_with_final_state", finalOk);
          m.put("lost_transitions", lost);
          m.put("out_of_order", outOfOrder);
          m.put("resent_on_resume", resent);
          m.put("conflated_or_skipped_seqs", gaps);
          m.put("messages_received", received);
          m.put("closed_early", closed);
          m.put("publish_accepted", jobs.accepted);
          m.put("publish_rejected", jobs.rejected);
          m.put("publish_failed", jobs.failed);
          if (jobs.firstError != null) {
            m.put("first_publish_error", jobs.firstError);
          }
          m.put("protocol_errors", ctx.clients.errors);
          m.put("fragmented_frames", ctx.clients.fragmented);
          return m;
        });
  }

  /** Whether the check map says nothing was lost. */
  static boolean clean(Map<String, Object> check) {
    return ((Number) check.get("lost_transitions")).longValue() == 0
        && ((Number) check.get("out_of_order")).longValue() == 0
        && ((Number) check.get("subscribers_with_final_state")).longValue()
            == ((Number) check.get("subscribers")).longValue();
  }
}
