/**
 * Not API: may change or go at any time. The HTTP side: the REST API and Server-Sent Event streams.
 * It builds on {@code server.internal} and does not use the WebSocket package.
 */
package io.progresshub.server.internal.http;
