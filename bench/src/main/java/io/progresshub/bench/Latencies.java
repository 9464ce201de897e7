package io.progresshub.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Latency histograms in microseconds (1 us to 1 h, 3 significant digits) and their summaries. */
final class Latencies {
  private Latencies() {}

  static Histogram histogram() {
    return new Histogram(3_600_000_000L, 3);
  }

  /** Records {@code nanos} (clamped to the histogram's range). */
  static void record(Histogram h, long nanos) {
    long micros = Math.max(1, nanos / 1000);
    h.recordValue(Math.min(micros, h.getHighestTrackableValue()));
  }

  /** The histogram as base64 text, to pass it between generator processes. */
  static String encode(Histogram h) {
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int length = h.encodeIntoCompressedByteBuffer(buffer);
    return java.util.Base64.getEncoder()
        .encodeToString(java.util.Arrays.copyOf(buffer.array(), length));
  }

  static Histogram decode(String base64) {
    try {
      return Histogram.decodeFromCompressedByteBuffer(
          java.nio.ByteBuffer.wrap(java.util.Base64.getDecoder().decode(base64)), 0);
    } catch (java.util.zip.DataFormatException e) {
      throw new IllegalArgumentException("not an encoded histogram", e);
    }
  }

  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  /** {count, p50, p90, p99, p99.9, max, mean} in milliseconds. */
  static Map<String, Object> summary(Histogram h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", h.getTotalCount());
    m.put("p50_ms", round(ms(h, 50)));
    m.put("p90_ms", round(ms(h, 90)));
    m.put("p99_ms", round(ms(h, 99)));
    m.put("p999_ms", round(ms(h, 99.9)));
    m.put("max_ms", round(h.getTotalCount() == 0 ? Double.NaN : h.getMaxValue() / 1000.0));
    m.put("mean_ms", round(h.getTotalCount() == 0 ? Double.NaN : h.getMean() / 1000.0));
    return m;
  }

  static Object round(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return null;
    }
    double scale = Math.abs(v) >= 100 ? 10 : Math.abs(v) >= 1 ? 1000 : 100000;
    return Math.round(v * scale) / scale;
  }
}
