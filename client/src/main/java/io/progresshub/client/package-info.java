/**
 * The Java client of progress-hub: {@link io.progresshub.client.ProgressPublisher} for workers that
 * publish over REST, {@link io.progresshub.client.ProgressSubscriber} for programs that watch jobs
 * over one multiplexed WebSocket. Built for Java 17; needs only the protocol module and {@code
 * java.net.http}.
 */
package io.progresshub.client;
