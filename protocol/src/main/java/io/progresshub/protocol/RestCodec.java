package io.progresshub.protocol;

/**
 * Reads and writes the JSON bodies of the REST API (docs/api.md), for the server and for Java
 * clients alike. Thread-safe.
 *
 * <p>Writing needs no settings and follows the documented field order, byte for byte what the
 * server has always sent. Reading is bounded like {@link WireCodec}'s (nesting depth, string and
 * number sizes) and answers anything it cannot read with a {@link ProtocolException} ({@code
 * invalid_json}, {@code invalid_request} or {@code missing_field}) whose message names the field,
 * the bad value and what was expected. Request bodies are read strictly (an unknown field is
 * refused); response bodies tolerate fields they do not know.
 */
public final class RestCodec {
  private final RestDecoder decoder;

  /**
   * @param maxDepth the deepest JSON nesting to read; a client reading a server's answers needs a
   *     few levels more than the server accepts in a request (a list nests jobs in an array)
   */
  public RestCodec(int maxDepth) {
    this.decoder = new RestDecoder(new WireCodec(maxDepth).mapper());
  }

  /** The body as UTF-8 JSON. */
  public static byte[] encode(RestBody body) {
    return RestEncoder.encode(body);
  }

  /**
   * Reads a body of the given type.
   *
   * @throws ProtocolException if {@code body} is not a valid {@code type}
   */
  public <T extends RestBody> T decode(byte[] body, Class<T> type) {
    return decoder.decode(body, type);
  }
}
