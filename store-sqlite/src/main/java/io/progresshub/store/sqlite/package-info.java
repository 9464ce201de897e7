/**
 * The embedded default store: {@link io.progresshub.store.sqlite.SqliteJobStore}, a {@link
 * io.progresshub.core.spi.JobStore} on SQLite in WAL mode, with one writer thread that commits in
 * groups and a pool of readers. It passes the same contract suite as every other store.
 */
package io.progresshub.store.sqlite;
