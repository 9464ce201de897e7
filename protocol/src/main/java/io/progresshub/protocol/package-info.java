/**
 * The wire format, shared by the server and Java clients: the WebSocket messages of protocol v1
 * ({@link io.progresshub.protocol.ClientMessage}, {@link io.progresshub.protocol.ServerMessage}),
 * their codec, the error codes ({@link io.progresshub.protocol.ErrorCode}) and the close codes
 * ({@link io.progresshub.protocol.CloseCode}). {@code docs/protocol.md} is the specification.
 */
package io.progresshub.protocol;
