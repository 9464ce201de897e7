package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.progresshub.core.HubException;
import io.progresshub.protocol.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package rules that keep the architecture visible, checked on the sources: the WebSocket and
 * HTTP internals never use each other, core stays free of infrastructure, the public packages do
 * not lean on the internal ones beyond assembling the server, and error codes come only from their
 * enums.
 */
class PackageLayoutTest {
  private static final Path REPO = Path.of(System.getProperty("basedir", ".")).resolve("..");
  private static final Path SERVER = REPO.resolve("server/src/main/java/io/progresshub/server");

  @Test
  void theWebSocketInternalsDoNotUseTheHttpInternals() {
    assertThat(usesOf(SERVER.resolve("internal/websocket"), "io.progresshub.server.internal.http"))
        .isEmpty();
  }

  @Test
  void theHttpInternalsDoNotUseTheWebSocketInternals() {
    assertThat(usesOf(SERVER.resolve("internal/http"), "io.progresshub.server.internal.websocket"))
        .isEmpty();
  }

  @Test
  void theAuthPackageDoesNotUseTheInternals() {
    assertThat(usesOf(SERVER.resolve("auth"), "io.progresshub.server.internal")).isEmpty();
  }

  @Test
  void coreUsesNoInfrastructure() {
    Path core = REPO.resolve("core/src/main/java");
    for (String infrastructure :
        List.of("io.netty", "java.sql", "com.fasterxml", "org.slf4j", "io.lettuce", "redis")) {
      assertThat(usesOf(core, infrastructure)).as(infrastructure).isEmpty();
    }
  }

  @Test
  void everyPackageSaysWhatLivesThereAndTheInternalOnesSayTheyAreNotApi() throws IOException {
    List<Path> packages = new ArrayList<>();
    for (String module :
        List.of(
            "protocol",
            "core",
            "store-json",
            "store-sqlite",
            "redis",
            "server",
            "client",
            "cli",
            "bench")) {
      try (Stream<Path> files = Files.walk(REPO.resolve(module).resolve("src/main/java"))) {
        files
            .filter(file -> file.toString().endsWith(".java"))
            .map(Path::getParent)
            .distinct()
            .forEach(packages::add);
      }
    }
    assertThat(packages).hasSizeGreaterThanOrEqualTo(10);
    for (Path directory : packages) {
      Path info = directory.resolve("package-info.java");
      assertThat(info).as("package-info of %s", directory).exists();
      if (directory.toString().contains("/internal")) {
        assertThat(Files.readString(info)).as("%s", info).contains("Not API");
      }
    }
  }

  @Test
  void noErrorCodeIsWrittenAsAStringInMainSources() {
    List<String> found = new ArrayList<>();
    List<String> codes = new ArrayList<>();
    for (ErrorCode code : ErrorCode.values()) {
      codes.add(code.wireName());
    }
    for (HubException.Code code : HubException.Code.values()) {
      codes.add(code.wireName());
    }
    for (String module :
        List.of(
            "protocol", "core", "store-json", "store-sqlite", "redis", "server", "client", "cli")) {
      for (Path file : javaFiles(REPO.resolve(module).resolve("src/main/java"))) {
        String source = read(file);
        for (String code : codes) {
          if (source.contains("\"" + code + "\"")) {
            found.add(REPO.relativize(file) + ": \"" + code + "\"");
          }
        }
      }
    }
    assertThat(found).isEmpty();
  }

  /** Files under {@code directory} that import or name anything in {@code prefix}. */
  private static List<String> usesOf(Path directory, String prefix) {
    Pattern use = Pattern.compile("\\b" + Pattern.quote(prefix) + "\\b");
    List<String> found = new ArrayList<>();
    for (Path file : javaFiles(directory)) {
      String source = read(file);
      if (use.matcher(source).find()) {
        found.add(REPO.relativize(file).toString());
      }
    }
    return found;
  }

  private static List<Path> javaFiles(Path directory) {
    assertThat(directory).isDirectory();
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(file -> file.toString().endsWith(".java")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
