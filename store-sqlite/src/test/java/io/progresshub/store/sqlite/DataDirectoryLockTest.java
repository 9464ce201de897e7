package io.progresshub.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.progresshub.core.HubException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirectoryLockTest {

  @Test
  void aSecondStoreOnTheSameDirectoryIsRefusedUntilTheFirstCloses(@TempDir Path dir) {
    SqliteJobStore first = SqliteJobStore.open(dir);
    assertThatThrownBy(() -> SqliteJobStore.open(dir))
        .isInstanceOf(HubException.class)
        .hasMessageContaining("in use by another progress-hub")
        .extracting(e -> ((HubException) e).code())
        .isEqualTo("store_unavailable");
    first.close();

    try (SqliteJobStore second = SqliteJobStore.open(dir)) {
      assertThat(second.find("anything")).isEmpty();
    }
  }
}
