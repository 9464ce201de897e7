package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

  @Test
  void closesServerThenHubExactlyOnceEvenWhenOneFails() {
    List<String> closed = new ArrayList<>();
    GracefulShutdown shutdown =
        new GracefulShutdown()
            .then(
                "server",
                () -> {
                  closed.add("server");
                  throw new IllegalStateException(
                      "simulated close failure (expected by this test)");
                })
            .then("hub", () -> closed.add("hub"));

    shutdown.run();
    shutdown.run(); // the signal handler and the shutdown hook may both call it

    assertThat(closed).containsExactly("server", "hub");
  }
}
