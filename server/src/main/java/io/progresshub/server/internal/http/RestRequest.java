package io.progresshub.server.internal.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.progresshub.core.Principal;
import io.progresshub.protocol.ErrorCode;
import io.progresshub.server.internal.ApiException;
import io.progresshub.server.internal.HttpResponses;
import io.progresshub.server.internal.QueryParams;
import java.util.Map;
import java.util.Optional;

/**
 * One matched REST request as a handler sees it: who calls, the path's parameters, the query and
 * the body, detached from Netty's reference-counted buffers.
 */
final class RestRequest {
  private final Optional<Principal> caller;
  private final Map<String, String> params;
  private final QueryStringDecoder uri;
  private final byte[] body;
  private final boolean isJson;
  private final Optional<String> token;
  private final Optional<String> lastEventId;
  private final HttpHeaders headers;
  private final HttpResponses.Target target;

  RestRequest(
      Optional<Principal> caller,
      Map<String, String> params,
      QueryStringDecoder uri,
      byte[] body,
      boolean isJson,
      Optional<String> token,
      Optional<String> lastEventId,
      HttpHeaders headers,
      HttpResponses.Target target) {
    this.caller = caller;
    this.params = Map.copyOf(params);
    this.uri = uri;
    this.body = body;
    this.isJson = isJson;
    this.token = token;
    this.lastEventId = lastEventId;
    this.headers = headers;
    this.target = target;
  }

  /**
   * The authenticated caller.
   *
   * @throws IllegalStateException on an open route, which has none
   */
  Principal caller() {
    return caller.orElseThrow(() -> new IllegalStateException("an open route has no caller"));
  }

  /** The path parameter {@code {name}} of the route's pattern, already checked. */
  String param(String name) {
    String value = params.get(name);
    if (value == null) {
      throw new IllegalArgumentException("param: '" + name + "' (expected: one of " + params + ")");
    }
    return value;
  }

  /** The caller, when a valid token came; on an any-caller row there may be none. */
  Optional<Principal> callerIfAny() {
    return caller;
  }

  /** The request's headers. */
  HttpHeaders headers() {
    return headers;
  }

  QueryParams query() {
    return QueryParams.of(uri);
  }

  /** The request's query as Netty decoded it, for {@link SseStream}. */
  QueryStringDecoder uri() {
    return uri;
  }

  /**
   * The body, which must be declared JSON (or not declared at all).
   *
   * @throws ApiException {@code unsupported_media_type} for any other declared type
   */
  byte[] jsonBody() {
    if (!isJson) {
      throw new ApiException(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    }
    return body;
  }

  Optional<String> token() {
    return token;
  }

  Optional<String> lastEventId() {
    return lastEventId;
  }

  /** Where the answer goes; only a handler that answers by itself ({@link Reply#sent}) uses it. */
  HttpResponses.Target target() {
    return target;
  }
}
