/**
 * The benchmark's load generator: starts progress-hub and the reference servers (Bun, Node + ws)
 * under the same CPU pinning, drives each scenario against them over loopback, and writes the
 * side-by-side results. It talks to the servers only over the network, as a client would.
 */
package io.progresshub.bench;
