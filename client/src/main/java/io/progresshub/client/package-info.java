/**
 * The Java client (Java 17+): {@link io.progresshub.client.ProgressPublisher} publishes a job's
 * lifecycle over REST, with an {@code event_id} on every event so a retry never applies it twice;
 * {@link io.progresshub.client.ProgressSubscriber} watches jobs over one WebSocket, resumes with
 * {@code since} after any reconnect and obeys the close codes. It shares the wire types of the
 * {@code protocol} module with the server.
 */
package io.progresshub.client;
