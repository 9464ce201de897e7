package io.progresshub.protocol;

/**
 * The answer to {@code POST /api/jobs/{id}/broadcast}: {@code {"delivered": n}}, how many
 * connections the message was handed to.
 */
public record Delivered(long delivered) implements RestBody {}
