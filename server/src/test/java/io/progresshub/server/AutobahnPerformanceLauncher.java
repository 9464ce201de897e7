package io.progresshub.server;

import java.util.List;

/**
 * The {@code mainClass} of the opt-in Autobahn performance run (profile {@code
 * autobahn-performance} in server/pom.xml, cases 9.*): {@link AutobahnEchoLauncher} with the
 * message limit raised to 16 MiB, the largest message those cases send. Under the default 64 KiB
 * limit nearly every 9.* case would only measure how fast an oversized message is refused.
 *
 * <p>This class uses the JDK only, so that it loads cleanly in the plugin's class loader.
 */
public final class AutobahnPerformanceLauncher {
  static final int MAX_MESSAGE_BYTES = 16 << 20;

  private AutobahnPerformanceLauncher() {}

  /** {@code args[0]}: the port the plugin's fuzzing client will connect to. */
  public static void main(String[] args) throws Exception {
    AutobahnEchoLauncher.run(
        args,
        List.of(
            "-D" + AutobahnEchoServer.MAX_MESSAGE_BYTES_PROPERTY + "=" + MAX_MESSAGE_BYTES,
            "-Xmx1g"));
  }
}
