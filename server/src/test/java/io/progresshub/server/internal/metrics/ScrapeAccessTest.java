package io.progresshub.server.internal.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.progresshub.server.MetricsConfig.Access;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * The address rule of {@code /metrics}: all of 127/8 and ::1 are loopback, a proxied one is not.
 */
class ScrapeAccessTest {
  private static final HttpHeaders NONE = EmptyHttpHeaders.INSTANCE;

  private static InetSocketAddress peer(String address) {
    return new InetSocketAddress(address, 40_000);
  }

  @Test
  void openOnLoopbackOpensToEveryLoopbackAddressOnly() {
    for (String loopback : new String[] {"127.0.0.1", "127.0.0.2", "127.255.0.9", "::1"}) {
      assertThat(ScrapeAccess.openWithoutToken(Access.OPEN_ON_LOOPBACK, peer(loopback), NONE))
          .as(loopback)
          .isTrue();
    }
    for (String remote : new String[] {"10.0.0.1", "192.168.1.20", "203.0.113.7", "2001:db8::1"}) {
      assertThat(ScrapeAccess.openWithoutToken(Access.OPEN_ON_LOOPBACK, peer(remote), NONE))
          .as(remote)
          .isFalse();
    }
  }

  @Test
  void aRequestAProxyForwardedIsNotLoopbackWhateverItsPeer() {
    for (String header : new String[] {"X-Forwarded-For", "Forwarded", "X-Real-IP"}) {
      HttpHeaders forwarded = new DefaultHttpHeaders().set(header, "203.0.113.7");
      assertThat(
              ScrapeAccess.openWithoutToken(Access.OPEN_ON_LOOPBACK, peer("127.0.0.1"), forwarded))
          .as(header)
          .isFalse();
    }
  }

  @Test
  void openIsOpenToAllAndTokenAndOffToNone() {
    assertThat(ScrapeAccess.openWithoutToken(Access.OPEN, peer("203.0.113.7"), NONE)).isTrue();
    assertThat(ScrapeAccess.openWithoutToken(Access.TOKEN, peer("127.0.0.1"), NONE)).isFalse();
    assertThat(ScrapeAccess.openWithoutToken(Access.OFF, peer("127.0.0.1"), NONE)).isFalse();
  }
}
