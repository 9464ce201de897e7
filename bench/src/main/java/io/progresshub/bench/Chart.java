package io.progresshub.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * The latency-versus-load chart: publish-to-receive latency (p99 solid, p50 dashed, log scale)
 * against delivered messages per second, one colour per server, from the throughput scenario. Plain
 * Java2D in headless mode.
 */
final class Chart {
  private static final int W = 1000;
  private static final int H = 620;
  private static final int LEFT = 90;
  private static final int RIGHT = 200;
  private static final int TOP = 60;
  private static final int BOTTOM = 70;
  private static final Color[] COLORS = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)
  };

  private Chart() {}

  record Point(double x, double p50, double p99) {}

  record Series(String server, List<Point> points) {}

  /** Writes the chart; false (and no file) when there is no throughput data. */
  static boolean latencyVersusLoad(List<Map<String, Object>> runs, Path file) throws IOException {
    List<Series> series = new ArrayList<>();
    for (String server : ReportCommand.servers(runs)) {
      Map<String, Object> run = ReportCommand.byServer(runs, "throughput").get(server);
      if (run == null || !(run.get("rows") instanceof List<?> rows)) {
        continue;
      }
      List<Point> points = new ArrayList<>();
      for (Object o : rows) {
        if (o instanceof Map<?, ?> row
            && row.get("deliveries_per_s") instanceof Number x
            && row.get("p50_ms") instanceof Number p50
            && row.get("p99_ms") instanceof Number p99) {
          points.add(new Point(x.doubleValue(), p50.doubleValue(), p99.doubleValue()));
        }
      }
      if (!points.isEmpty()) {
        series.add(new Series(server, points));
      }
    }
    if (series.isEmpty()) {
      return false;
    }
    System.setProperty("java.awt.headless", "true");
    write(series, file);
    return true;
  }

  static void write(List<Series> series, Path file) throws IOException {
    double maxX = 0;
    double minY = Double.MAX_VALUE;
    double maxY = 0;
    for (Series s : series) {
      for (Point p : s.points()) {
        maxX = Math.max(maxX, p.x());
        minY = Math.min(minY, Math.max(0.01, p.p50()));
        maxY = Math.max(maxY, p.p99());
      }
    }
    maxX = niceCeil(maxX * 1.05);
    double logMin = Math.floor(Math.log10(Math.max(0.01, minY)));
    double logMax = Math.ceil(Math.log10(Math.max(maxY, Math.pow(10, logMin + 1))));
    if (logMax <= logMin) {
      logMax = logMin + 1;
    }

    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    int plotW = W - LEFT - RIGHT;
    int plotH = H - TOP - BOTTOM;

    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
    g.setColor(Color.BLACK);
    g.drawString("Publish-to-receive latency versus load", LEFT, 32);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));

    // Grid and ticks.
    FontMetrics fm = g.getFontMetrics();
    for (int i = 0; i <= 5; i++) {
      double x = maxX * i / 5;
      int px = LEFT + (int) Math.round(plotW * i / 5.0);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(px, TOP, px, TOP + plotH);
      g.setColor(Color.DARK_GRAY);
      String label = String.format(Locale.ROOT, "%,.0f", x);
      g.drawString(label, px - fm.stringWidth(label) / 2, TOP + plotH + 20);
    }
    for (double e = logMin; e <= logMax + 1e-9; e++) {
      int py = yPixel(Math.pow(10, e), logMin, logMax, plotH);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(LEFT, py, LEFT + plotW, py);
      g.setColor(Color.DARK_GRAY);
      String label = msLabel(Math.pow(10, e));
      g.drawString(label, LEFT - 10 - fm.stringWidth(label), py + 5);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, plotW, plotH);
    String xLabel = "delivered messages per second (all subscribers)";
    g.drawString(xLabel, LEFT + plotW / 2 - fm.stringWidth(xLabel) / 2, H - 22);
    Graphics2D rotated = (Graphics2D) g.create();
    rotated.rotate(-Math.PI / 2);
    String yLabel = "latency, ms (log scale)";
    rotated.drawString(yLabel, -(TOP + plotH / 2) - fm.stringWidth(yLabel) / 2, 24);
    rotated.dispose();

    Stroke solid = new BasicStroke(2.5f);
    Stroke dashed =
        new BasicStroke(
            1.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {7f, 5f}, 0f);
    int legendY = TOP + 10;
    for (int si = 0; si < series.size(); si++) {
      Series s = series.get(si);
      Color c = COLORS[si % COLORS.length];
      g.setColor(c);
      for (int pass = 0; pass < 2; pass++) {
        g.setStroke(pass == 0 ? solid : dashed);
        int prevX = -1;
        int prevY = -1;
        for (Point p : s.points()) {
          int px = LEFT + (int) Math.round(plotW * p.x() / maxX);
          int py = yPixel(pass == 0 ? p.p99() : p.p50(), logMin, logMax, plotH);
          if (prevX >= 0) {
            g.drawLine(prevX, prevY, px, py);
          }
          g.fillOval(px - 4, py - 4, 8, 8);
          prevX = px;
          prevY = py;
        }
      }
      // Legend.
      int lx = LEFT + plotW + 20;
      g.setStroke(solid);
      g.drawLine(lx, legendY, lx + 30, legendY);
      g.setColor(Color.BLACK);
      g.drawString(s.server() + " p99", lx + 38, legendY + 5);
      legendY += 22;
      g.setColor(c);
      g.setStroke(dashed);
      g.drawLine(lx, legendY, lx + 30, legendY);
      g.setColor(Color.BLACK);
      g.drawString(s.server() + " p50", lx + 38, legendY + 5);
      legendY += 32;
    }
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static int yPixel(double ms, double logMin, double logMax, int plotH) {
    double v = Math.log10(Math.max(ms, Math.pow(10, logMin)));
    return TOP + (int) Math.round(plotH * (1 - (v - logMin) / (logMax - logMin)));
  }

  private static String msLabel(double ms) {
    if (ms >= 1) {
      return String.format(Locale.ROOT, "%,.0f", ms);
    }
    return String.format(Locale.ROOT, "%s", ms >= 0.1 ? "0.1" : ms >= 0.01 ? "0.01" : "0.001");
  }

  private static double niceCeil(double v) {
    if (v <= 0) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double step : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
      if (step * mag >= v) {
        return step * mag;
      }
    }
    return 10 * mag;
  }
}
