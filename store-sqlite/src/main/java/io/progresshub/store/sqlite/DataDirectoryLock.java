package io.progresshub.store.sqlite;

import io.progresshub.core.HubException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on the data directory: two servers writing one database would each assign the
 * same seqs. The OS drops the lock when the process dies, so a {@code kill -9} leaves none behind.
 */
final class DataDirectoryLock implements AutoCloseable {
  static final String FILE_NAME = "progress-hub.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirectoryLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  static DataDirectoryLock acquire(Path dataDir) {
    Path file = dataDir.resolve(FILE_NAME);
    FileChannel channel = null;
    try {
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw inUse(dataDir);
      }
      return new DataDirectoryLock(channel, lock);
    } catch (OverlappingFileLockException e) {
      closeQuietly(channel);
      throw inUse(dataDir);
    } catch (IOException e) {
      closeQuietly(channel);
      throw HubException.unavailable("cannot lock data directory " + dataDir + ": " + e, e);
    } catch (HubException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException ignored) {
      // Closing the channel releases it as well.
    }
    closeQuietly(channel);
  }

  private static HubException inUse(Path dataDir) {
    return HubException.unavailable(
        "data directory " + dataDir.toAbsolutePath() + " is in use by another progress-hub", null);
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing more to release
      }
    }
  }
}
