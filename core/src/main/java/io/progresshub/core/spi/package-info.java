/**
 * The service-provider interfaces the hub runs on: {@link io.progresshub.core.spi.JobStore} (the
 * durable state and history of jobs) and {@link io.progresshub.core.spi.Broker} (events between
 * nodes). Each interface states its contract, and each contract has a test suite in the core
 * test-jar that every implementation extends.
 */
package io.progresshub.core.spi;
