/**
 * {@link io.progresshub.store.json.JobJson}: a {@link io.progresshub.core.Job} snapshot as one JSON
 * text, the form the durable stores keep jobs in (the SQLite file, Redis) and the Redis broker
 * carries them in. One module, so that the stores share one reading of a stored job.
 */
package io.progresshub.store.json;
