/**
 * Not API: may change or go at any time. The WebSocket side: the upgrade, the RFC 6455 frame codec
 * (which replaces Netty's handler chain for uncompressed connections), heartbeats on one wheel per
 * event loop, and the session that speaks protocol v1. It builds on {@code server.internal} and
 * does not use the HTTP package.
 */
package io.progresshub.server.internal.websocket;
