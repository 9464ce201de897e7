/**
 * The job model and the hub, free of infrastructure: jobs and their lifecycle rules ({@code
 * JobRules}, pure functions of state, event and time), the {@link io.progresshub.core.Hub} that
 * producers publish to and subscribers watch, and the in-memory store and broker. No network, no
 * database, no JSON library: those live behind the SPIs in {@link io.progresshub.core.spi}.
 */
package io.progresshub.core;
