package io.progresshub.server.internal.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.progresshub.protocol.RestBody;

/** What a handler answers; {@link RestApi} writes it. */
sealed interface Reply {

  static Reply ok(RestBody body) {
    return new WithBody(HttpResponseStatus.OK, body);
  }

  static Reply created(RestBody body) {
    return new WithBody(HttpResponseStatus.CREATED, body);
  }

  static Reply noContent() {
    return new Empty(HttpResponseStatus.NO_CONTENT);
  }

  /** The handler answered by itself (a stream writes its own head). */
  static Reply sent() {
    return Sent.SENT;
  }

  /** A JSON body. */
  record WithBody(HttpResponseStatus status, RestBody body) implements Reply {}

  /** A status without a body. */
  record Empty(HttpResponseStatus status) implements Reply {}

  /** Nothing left to write. */
  enum Sent implements Reply {
    SENT
  }
}
