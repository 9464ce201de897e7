/**
 * Not API: may change or go at any time. The server's meters ({@link
 * io.progresshub.server.internal.metrics.ServerMeters}): Micrometer counters, timers and gauges
 * named {@code progress_hub_*}, the live {@link io.progresshub.server.internal.metrics.Figures}
 * that the stats endpoint and the monitor stream read, and who may scrape them.
 */
package io.progresshub.server.internal.metrics;
