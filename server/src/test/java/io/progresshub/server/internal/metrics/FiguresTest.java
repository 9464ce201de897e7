package io.progresshub.server.internal.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FiguresTest {

  @Test
  void ratesArePerSecondBetweenTwoSnapshots() {
    Figures earlier = new Figures(1_000_000_000L, 100, 1_000, 1, 2, 0);
    Figures later = new Figures(3_000_000_000L, 160, 1_600, 1, 2, 5);
    assertThat(later.ratesSince(earlier)).isEqualTo(new Figures.Rates(30, 300));
  }

  @Test
  void noTimeBetweenSnapshotsIsNoRate() {
    Figures now = new Figures(5, 100, 1_000, 1, 2, 0);
    assertThat(now.ratesSince(now)).isEqualTo(Figures.Rates.ZERO);
  }
}
