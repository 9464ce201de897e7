package io.progresshub.server.internal.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The live figures: totals, store commit percentiles and rates, with or without Prometheus. */
class ServerMetersTest {

  @Test
  void figuresCountPublishesAndGiveTheStoreCommitPercentilesAndQueue() {
    try (ServerMeters meters = new ServerMeters(false, () -> 7)) {
      for (int millis = 1; millis <= 100; millis++) {
        meters.eventStored(millis % 10 == 0, TimeUnit.MILLISECONDS.toNanos(millis));
      }
      Figures figures = meters.figures();
      assertThat(figures.publishes()).isEqualTo(100);
      assertThat(figures.deliveries()).isZero(); // no server bound: nothing written
      assertThat(figures.storeCommitP50Ms()).isCloseTo(50, within(5.0));
      assertThat(figures.storeCommitP99Ms()).isCloseTo(99, within(8.0));
      assertThat(figures.storePendingWrites()).isEqualTo(7);
      assertThat(meters.scrapable()).isFalse();
    }
  }

  @Test
  void ratesAreZeroAtFirstThenPerSecondSinceTheEarlierCall() {
    try (ServerMeters meters = new ServerMeters(true, () -> 0)) {
      assertThat(meters.rates()).isEqualTo(Figures.Rates.ZERO);
      for (int i = 0; i < 10; i++) {
        meters.eventStored(false, 1_000);
      }
      Figures.Rates rates = meters.rates();
      assertThat(rates.publishesPerSecond()).isPositive();
      assertThat(rates.deliveriesPerSecond()).isZero();
    }
  }
}
