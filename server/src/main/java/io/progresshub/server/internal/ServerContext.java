package io.progresshub.server.internal;

import io.progresshub.core.Hub;
import io.progresshub.server.ServerConfig;
import io.progresshub.server.auth.Authenticator;
import io.progresshub.server.internal.http.RestJson;
import io.progresshub.server.internal.metrics.ServerMeters;
import io.progresshub.server.internal.websocket.HeartbeatWheels;
import java.util.concurrent.ExecutorService;

/**
 * What every handler shares: the hub, the config and the server-wide helpers.
 *
 * @param blocking runs hub calls that may touch the store (virtual threads), off the event loops
 * @param connections every open client connection, whatever its transport
 * @param wheels the heartbeat wheel of each event loop: every open WebSocket session is on one
 * @param writes the queue of pending writes of each event loop
 * @param meters the server's metrics; {@code meters().figures()} gives live totals and rates
 * @param accessLog where requests and connections are logged
 * @param monitor the system stream of {@code /ws/monitor}
 * @param readiness whether the server takes new work ({@code /ready})
 */
public record ServerContext(
    Hub hub,
    ServerConfig config,
    Authenticator authenticator,
    OriginPolicy origins,
    ConnectionLimiter limiter,
    JobEncodings encodings,
    RestJson json,
    ExecutorService blocking,
    Connections connections,
    HeartbeatWheels wheels,
    LoopWrites.PerLoop writes,
    ServerMeters meters,
    AccessLog accessLog,
    MonitorFeed monitor,
    Readiness readiness) {}
