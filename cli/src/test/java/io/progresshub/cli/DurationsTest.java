package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource({
    "500ms, PT0.5S",
    "30s, PT30S",
    "15m, PT15M",
    "24h, PT24H",
    "7d, PT168H",
    "1h30m, PT1H30M",
    "1d12h, PT36H",
    "24H, PT24H",
    "' 2m ', PT2M",
    "PT24H, PT24H",
    "pt90s, PT1M30S",
    "P7D, PT168H",
    "P1DT1H, PT25H",
  })
  void readsUnitSuffixesAndIso8601(String text, String iso) {
    assertThat(Durations.parse(text)).contains(Duration.parse(iso));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "10",
        "h",
        "1.5h",
        "-5m",
        "5 m",
        "1x",
        "1h 30m",
        "P",
        "PT",
        "99999999999999999999d"
      })
  void rejectsWhatIsNotADuration(String text) {
    assertThat(Durations.parse(text)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"2d", "7d", "23h", "1h30m", "500ms", "1d2h3m4s5ms"})
  void formatsTheWayItReads(String text) {
    assertThat(Durations.format(Durations.parse(text).orElseThrow())).isEqualTo(text);
  }
}
