package io.progresshub.server.internal.http;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The REST API as a table: each row a method, a path pattern such as {@code /api/jobs/{id}/events}
 * and the handler that serves it. What is not in the table follows from it: a path no row has is
 * 404 {@code not_found}, a path some row has with another method is 405 {@code method_not_allowed}
 * with {@code Allow}, and {@code HEAD} is served wherever {@code GET} is (without the body).
 *
 * <p>Paths are matched segment by segment after percent-decoding; empty segments do not count, so
 * {@code /api/jobs/} is {@code /api/jobs}.
 */
final class Routes {

  /** Serves one matched request. */
  @FunctionalInterface
  interface Handler {
    Reply handle(RestRequest request);
  }

  /**
   * One row of the table.
   *
   * @param open needs no token, and is served on the event loop, so it must not block
   * @param headless has no {@code HEAD}: a {@code GET} whose answer streams
   * @param anyCaller served off the event loop to callers with or without a token (a token given is
   *     checked); the handler decides who may have the answer
   */
  record Route(
      HttpMethod method,
      List<String> pattern,
      Handler handler,
      boolean open,
      boolean headless,
      boolean anyCaller) {

    boolean matches(List<String> path) {
      if (path.size() != pattern.size()) {
        return false;
      }
      for (int i = 0; i < path.size(); i++) {
        if (!isParam(pattern.get(i)) && !pattern.get(i).equals(path.get(i))) {
          return false;
        }
      }
      return true;
    }

    boolean serves(HttpMethod requested) {
      return method.equals(requested)
          || (requested.equals(HttpMethod.HEAD) && method.equals(HttpMethod.GET) && !headless);
    }
  }

  /**
   * Where a request's path and method lead.
   *
   * @param route the row that serves it; empty for 404 (no {@code allowed}) or 405
   * @param params the path's parameters by name, not yet checked
   * @param allowed the methods the path has, in table order; empty when no row has the path
   * @param open whether the answer needs no token: an open row's path, or a path outside every
   *     prefix that needs one (so that a caller without a token learns nothing of the API's paths)
   */
  record Match(
      Optional<Route> route, Map<String, String> params, List<HttpMethod> allowed, boolean open) {}

  private final List<Route> routes;
  private final Map<String, UnaryOperator<String>> paramChecks;
  private final Set<String> protectedPrefixes;

  private Routes(List<Route> routes, Map<String, UnaryOperator<String>> paramChecks) {
    this.routes = List.copyOf(routes);
    this.paramChecks = Map.copyOf(paramChecks);
    Set<String> prefixes = new LinkedHashSet<>();
    for (Route route : routes) {
      if (!route.open() && !route.anyCaller()) {
        prefixes.add(route.pattern().get(0));
      }
    }
    this.protectedPrefixes = Set.copyOf(prefixes);
  }

  static Builder builder() {
    return new Builder();
  }

  Match match(HttpMethod method, List<String> path) {
    Optional<Route> found = Optional.empty();
    Route first = null;
    List<HttpMethod> allowed = new ArrayList<>();
    boolean open = false;
    for (Route route : routes) {
      if (!route.matches(path)) {
        continue;
      }
      if (first == null) {
        first = route;
      }
      open |= route.open();
      allowed.add(route.method());
      if (route.method().equals(HttpMethod.GET) && !route.headless()) {
        allowed.add(HttpMethod.HEAD);
      }
      if (found.isEmpty() && route.serves(method)) {
        found = Optional.of(route);
      }
    }
    if (first == null) {
      boolean outsideTheApi = path.isEmpty() || !protectedPrefixes.contains(path.get(0));
      return new Match(Optional.empty(), Map.of(), List.of(), outsideTheApi);
    }
    Route params = found.orElse(first);
    return new Match(found, params(params.pattern(), path), List.copyOf(allowed), open);
  }

  /**
   * A match's path parameters, each through its check: a malformed job id is refused before the
   * method is, as it always was.
   */
  Map<String, String> checked(Match match) {
    Map<String, String> checked = new HashMap<>();
    match
        .params()
        .forEach(
            (name, value) ->
                checked.put(name, paramChecks.getOrDefault(name, v -> v).apply(value)));
    return checked;
  }

  private static Map<String, String> params(List<String> pattern, List<String> path) {
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < pattern.size(); i++) {
      if (isParam(pattern.get(i))) {
        params.put(pattern.get(i).substring(1, pattern.get(i).length() - 1), path.get(i));
      }
    }
    return params;
  }

  private static boolean isParam(String segment) {
    return segment.startsWith("{") && segment.endsWith("}");
  }

  /** A path's non-empty segments: {@code /api//jobs/} is {@code [api, jobs]}. */
  static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    for (String part : path.split("/")) {
      if (!part.isEmpty()) {
        segments.add(part);
      }
    }
    return segments;
  }

  /** Rows in the order they are tried; a path's methods are listed in this order too. */
  static final class Builder {
    private final List<Route> routes = new ArrayList<>();
    private final Map<String, UnaryOperator<String>> paramChecks = new HashMap<>();

    private Builder() {}

    /**
     * Checks every path parameter {@code {name}} with {@code check}, which answers the value to use
     * or throws the request's refusal.
     */
    Builder param(String name, UnaryOperator<String> check) {
      paramChecks.put(name, check);
      return this;
    }

    /** A row for callers with a token. */
    Builder route(HttpMethod method, String pattern, Handler handler) {
      return add(new Route(method, pattern(pattern), handler, false, false, false));
    }

    /**
     * A row for callers with or without a token, served off the event loop: the handler sees the
     * caller if a valid token came, and decides itself whom to answer.
     */
    Builder anyCaller(HttpMethod method, String pattern, Handler handler) {
      return add(new Route(method, pattern(pattern), handler, false, false, true));
    }

    /** A {@code GET} row whose answer streams, so has no {@code HEAD}. */
    Builder stream(String pattern, Handler handler) {
      return add(new Route(HttpMethod.GET, pattern(pattern), handler, false, true, false));
    }

    /**
     * A row that needs no token. It is served on the event loop, so its handler must answer at once
     * and never wait on the store.
     */
    Builder open(HttpMethod method, String pattern, Handler handler) {
      return add(new Route(method, pattern(pattern), handler, true, false, false));
    }

    private Builder add(Route route) {
      for (Route existing : routes) {
        if (existing.pattern().equals(route.pattern())
            && existing.method().equals(route.method())) {
          throw new IllegalArgumentException(
              "route: " + route.method() + " /" + String.join("/", route.pattern()) + " twice");
        }
      }
      routes.add(route);
      return this;
    }

    private static List<String> pattern(String pattern) {
      List<String> segments = segments(pattern);
      if (segments.isEmpty()) {
        throw new IllegalArgumentException("pattern: '" + pattern + "' (expected: a path)");
      }
      return segments;
    }

    Routes build() {
      return new Routes(routes, paramChecks);
    }
  }
}
