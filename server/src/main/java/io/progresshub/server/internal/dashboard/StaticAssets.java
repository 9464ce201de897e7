package io.progresshub.server.internal.dashboard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The files under one classpath directory, read once at start-up and kept in memory. Only the files
 * found there at start-up can be served, each by its exact relative name: no request path reaches
 * the file system or the class loader, so {@code ..} or an encoded {@code %2e%2e} can only miss.
 */
final class StaticAssets {

  /**
   * One file.
   *
   * @param etag a strong validator: a digest of the content, quoted (RFC 9110)
   */
  record Asset(byte[] body, String contentType, String etag) {}

  /** Content types by extension; files of any other type are not served. */
  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "svg", "image/svg+xml",
          "png", "image/png");

  private final Map<String, Asset> assets;

  private StaticAssets(Map<String, Asset> assets) {
    this.assets = Map.copyOf(assets);
  }

  /** The files under {@code directory} on the class path; none if it is not there. */
  static StaticAssets fromClasspath(String directory, String marker) {
    URL found = StaticAssets.class.getClassLoader().getResource(directory + "/" + marker);
    if (found == null) {
      return new StaticAssets(Map.of());
    }
    try {
      URI uri = found.toURI();
      if ("jar".equals(uri.getScheme())) {
        try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
          return fromDirectory(jar.getPath("/" + directory));
        } catch (FileSystemAlreadyExistsException e) {
          return fromDirectory(FileSystems.getFileSystem(uri).getPath("/" + directory));
        }
      }
      return fromDirectory(Path.of(uri).getParent());
    } catch (URISyntaxException | IOException e) {
      throw new UncheckedIOException(new IOException("cannot read " + found, e));
    }
  }

  static StaticAssets fromDirectory(Path root) throws IOException {
    Map<String, Asset> assets = new HashMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String name = root.relativize(file).toString().replace('\\', '/');
        Optional<String> type = contentType(name);
        if (type.isPresent()) {
          byte[] body = Files.readAllBytes(file);
          assets.put(name, new Asset(body, type.get(), etag(body)));
        }
      }
    }
    return new StaticAssets(assets);
  }

  /** The file at {@code name} relative to the directory, e.g. {@code client/index.js}. */
  Optional<Asset> get(String name) {
    return Optional.ofNullable(assets.get(name));
  }

  boolean isEmpty() {
    return assets.isEmpty();
  }

  private static Optional<String> contentType(String name) {
    int dot = name.lastIndexOf('.');
    return dot < 0
        ? Optional.empty()
        : Optional.ofNullable(TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT)));
  }

  private static String etag(byte[] body) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
      return "\""
          + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 16))
          + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always there", e);
    }
  }
}
