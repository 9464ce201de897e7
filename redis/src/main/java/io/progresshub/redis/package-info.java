/**
 * Several nodes on one Redis server: {@link io.progresshub.redis.RedisJobStore}, a {@link
 * io.progresshub.core.spi.JobStore} whose every append is one Lua script (seq check, history,
 * indexes and the broadcast together), and {@link io.progresshub.redis.RedisBroker}, a {@link
 * io.progresshub.core.spi.Broker} over Redis pub/sub that sends a node only the jobs it watches
 * plus every job's lifecycle. Both pass the same contract suites as the embedded store and broker.
 */
package io.progresshub.redis;
