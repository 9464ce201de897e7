package io.progresshub.store.sqlite;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Real faults of the file system for store tests: a small tmpfs that fills up, a file this process
 * may not write. Each returns empty when the machine does not allow it, so the test can skip with
 * an assumption instead of passing without the fault.
 */
final class OsFaults {
  private OsFaults() {}

  /** A tmpfs of {@code size} (such as {@code 2m}) mounted on {@code dir}; needs root. */
  static Optional<AutoCloseable> smallTmpfs(Path dir, String size)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    if (!run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())) {
      return Optional.empty();
    }
    return Optional.of(
        () -> {
          if (!run("umount", dir.toString())) {
            run("umount", "-l", dir.toString());
          }
        });
  }

  /**
   * Makes {@code file} read-only for this process, and says how, or empty if nothing worked. A mode
   * of 0444 stops an ordinary user; root ignores modes, so as root the file also gets the immutable
   * attribute ({@code chattr +i}), which root's writes obey too. The closeable undoes it.
   */
  static Optional<ReadOnly> readOnly(Path file) throws IOException, InterruptedException {
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    if (!canWrite(file)) {
      return Optional.of(
          new ReadOnly(
              "mode 0444",
              () ->
                  Files.setPosixFilePermissions(
                      file, PosixFilePermissions.fromString("rw-r--r--"))));
    }
    if (run("chattr", "+i", file.toString()) && !canWrite(file)) {
      return Optional.of(
          new ReadOnly(
              "chattr +i (root ignores mode 0444)",
              () -> {
                run("chattr", "-i", file.toString());
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
              }));
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    return Optional.empty();
  }

  /** A file made read-only, {@code how}, until closed. */
  record ReadOnly(String how, AutoCloseable undo) implements AutoCloseable {
    @Override
    public void close() throws Exception {
      undo.close();
    }
  }

  /** Fills the file system of {@code file} by writing it until the disk is full. */
  static void fill(Path file) throws IOException {
    byte[] chunk = new byte[16 * 1024];
    try (var out = Files.newOutputStream(file)) {
      while (true) {
        out.write(chunk);
        out.flush();
      }
    } catch (IOException full) {
      // No space left: what we wanted. A last partial chunk may have landed.
    }
    // Small writes may still fit into what the last chunk left.
    try (var out = Files.newOutputStream(file, StandardOpenOption.APPEND)) {
      while (true) {
        out.write(new byte[512]);
        out.flush();
      }
    } catch (IOException full) {
      // now full to the block
    }
  }

  private static boolean canWrite(Path file) {
    try (FileChannel ignored = FileChannel.open(file, StandardOpenOption.WRITE)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean run(String... command) throws IOException, InterruptedException {
    Process process;
    try {
      process =
          new ProcessBuilder(List.of(command))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
    } catch (IOException notInstalled) {
      return false;
    }
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return false;
    }
    return process.exitValue() == 0;
  }
}
