package io.progresshub.protocol;

/**
 * The answer to the admin API's disconnects ({@code DELETE /api/connections/{id}}, {@code DELETE
 * /api/users/{sub}/connections}): {@code {"disconnected": n}}, how many connections were told to
 * close.
 */
public record Disconnected(long disconnected) implements RestBody {}
