package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.progresshub.server.internal.LoopWrites;
import io.progresshub.server.internal.Outbox;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The per-loop write queue: bounded, by making producers wait for a loop that falls behind. */
class LoopWritesTest {

  @Test
  void producersWaitWhileTheLoopIsFarBehindAndGoOnOnceItCatchesUp() throws Exception {
    DefaultEventLoop loop = new DefaultEventLoop();
    CountDownLatch release = new CountDownLatch(1);
    try {
      loop.execute(
          () -> {
            try {
              release.await(); // a loop that is stuck behind something else
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
      LoopWrites writes = new LoopWrites(loop, 2_000);
      EmbeddedChannel channel = new EmbeddedChannel();
      channel.close(); // the loop only drains: messages for a closed channel are released
      Outbox outbox = Outbox.webSocket(channel, LimitsConfig.defaults(), () -> {}, writes);
      AtomicInteger added = new AtomicInteger();
      Thread producer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; i < 20_000; i++) {
                      outbox.send(null, false, Unpooled.buffer(1));
                      added.incrementAndGet();
                    }
                  });
      Thread.sleep(1_500);
      assertThat(added.get()).as("messages queued for a stuck loop after 1.5 s").isLessThan(6_000);
      release.countDown();
      assertThat(producer.join(Duration.ofSeconds(20))).isTrue();
      assertThat(added.get()).isEqualTo(20_000);
    } finally {
      release.countDown();
      loop.shutdownGracefully().syncUninterruptibly();
    }
  }
}
