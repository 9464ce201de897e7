package io.progresshub.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the HS256 secret comes from: the configured one ({@code PROGRESS_HUB_JWT_SECRET} or {@code
 * jwt-secret} in the config file), else {@code <data-dir>/jwt-secret}, which {@code serve} creates
 * on first start with 32 random bytes, base64url-encoded, readable by its owner only.
 *
 * <p>The key is the UTF-8 bytes of the secret text, wherever it comes from, so the file's content
 * can be copied into {@code PROGRESS_HUB_JWT_SECRET} (or into another service that signs tokens)
 * and yields the same key.
 */
final class JwtSecrets {

  static final String FILE_NAME = "jwt-secret";

  private static final Logger LOG = LoggerFactory.getLogger(JwtSecrets.class);
  private static final int GENERATED_BYTES = 32;
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  /**
   * A secret and where it came from.
   *
   * @param text the secret; its UTF-8 bytes are the HMAC key
   * @param source for the log, e.g. {@code data/jwt-secret}; never the secret itself
   */
  record Secret(String text, String source) {

    byte[] key() {
      return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "Secret[from " + source + "]"; // never print the secret
    }
  }

  private JwtSecrets() {}

  static Path file(Path dataDir) {
    return dataDir.resolve(FILE_NAME);
  }

  /** The configured secret, else the data directory's; empty if neither exists. */
  static Optional<Secret> load(Settings settings) {
    if (settings.jwtSecret().isPresent()) {
      return Optional.of(new Secret(settings.jwtSecret().get(), "the configuration"));
    }
    return readFile(file(settings.dataDir()));
  }

  /** Like {@link #load}, but creates the data directory's secret if there is none yet. */
  static Secret loadOrCreate(Settings settings) {
    return load(settings).orElseGet(() -> create(file(settings.dataDir())));
  }

  private static Optional<Secret> readFile(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new SettingsException(file + ": the JWT secret cannot be read: " + e, e);
    }
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes < SettingsLoader.MIN_SECRET_BYTES) {
      throw new SettingsException(
          file
              + ": the JWT secret is "
              + bytes
              + " bytes (expected: at least "
              + SettingsLoader.MIN_SECRET_BYTES
              + "). Delete the file to have a new one generated; tokens issued before stop working.");
    }
    warnIfOthersCanRead(file);
    return Optional.of(new Secret(text, file.toString()));
  }

  /**
   * Writes a new secret to {@code file}. The file appears complete or not at all (written aside,
   * then hard-linked into place), so two servers starting at once agree on one secret.
   */
  private static Secret create(Path file) {
    byte[] random = new byte[GENERATED_BYTES];
    new SecureRandom().nextBytes(random);
    String text = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Path dir = file.toAbsolutePath().getParent();
    Path temp = null;
    try {
      Files.createDirectories(dir);
      temp = createOwnerOnly(dir);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8)));
        channel.force(true);
      }
      try {
        Files.createLink(file, temp);
      } catch (FileAlreadyExistsException e) {
        return readFile(file).orElseThrow(() -> e); // another process won the race: use its secret
      } catch (UnsupportedOperationException e) {
        Files.move(temp, file); // a file system without hard links; fails if the file exists
      }
    } catch (IOException e) {
      throw new SettingsException(
          file + ": cannot store a new JWT secret (set PROGRESS_HUB_JWT_SECRET instead): " + e, e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          LOG.warn("Could not delete {}: {}", temp, e.toString());
        }
      }
    }
    LOG.info("Generated a new JWT secret in {} (readable by its owner only)", file);
    return new Secret(text, file + " (new)");
  }

  private static Path createOwnerOnly(Path dir) throws IOException {
    try {
      return Files.createTempFile(
          dir, "." + FILE_NAME, ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (UnsupportedOperationException e) {
      return Files.createTempFile(dir, "." + FILE_NAME, ".tmp"); // not a POSIX file system
    }
  }

  private static void warnIfOthersCanRead(Path file) {
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      if (!OWNER_ONLY.containsAll(permissions)) {
        LOG.warn(
            "{} is {}: anyone who can read it can sign tokens; run: chmod 600 {}",
            file,
            PosixFilePermissions.toString(permissions),
            file);
      }
    } catch (UnsupportedOperationException | IOException e) {
      // not a POSIX file system: nothing to check
    }
  }
}
