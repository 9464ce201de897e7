/**
 * Not API: may change or go at any time. What the transports share: the pipeline setup and first
 * request dispatch, the registry of open {@link io.progresshub.server.internal.Connections}, the
 * per-connection subscription core ({@link io.progresshub.server.internal.JobSubscriptions}) and
 * outbox, job access rules, limits, and the one table from errors to the wire ({@link
 * io.progresshub.server.internal.WireErrors}). The {@code websocket} and {@code http} packages
 * build on this one and never on each other.
 */
package io.progresshub.server.internal;
