/**
 * The server's public API: {@link io.progresshub.server.ProgressHubServer} puts a hub on the
 * network (WebSocket, SSE and REST on one port), configured by {@link
 * io.progresshub.server.ServerConfig} and its parts (network, limits, WebSocket). Token settings
 * are in {@link io.progresshub.server.auth}; everything under {@code internal} is not API.
 */
package io.progresshub.server;
